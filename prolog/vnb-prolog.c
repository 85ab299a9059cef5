/*
 * vnb-prolog - Slurm Prolog (PrologFlags=Alloc): prepare this node for a
 * --vnic-bypass job.  A job without the option costs nothing.
 *
 * Usage: vnb-prolog [--config FILE]
 * Exit 0 on success; non-zero makes Slurm drain the node, so every user
 * mistake is caught at submit time and only a node problem fails here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "node/program.h"

int main(int argc, char **argv)
{
	const char *value = getenv("SPANK_VNIC_BYPASS");
	const char *config = NULL, *spec;
	struct vnb_program p;
	vnb_error_t err = {{0}};
	struct vnb_job job;
	int c, rc;

	if (!value)
		return 0; /* not a vnic-bypass job */
	c = vnb_program_options(argc, argv, "vnb-prolog", &config);
	if (c >= 0)
		return c;
	vnb_log_open("vnb-prolog", true);
	spec = vnb_program_spec(value, &err);
	if (!spec || vnb_job_from_env(&job, 1, &err) < 0) {
		vnb_log_err("prolog: %s", err.text);
		return 1;
	}
	if (vnb_program_open(&p, config,
			     VNB_PROGRAM_TOPO | VNB_PROGRAM_VM |
				 VNB_PROGRAM_BOOT,
			     &err) < 0) {
		vnb_log_err("prolog: job %u on %s: %s", job.jobid, job.node,
			    err.text);
		return 1;
	}
	rc = vnb_node_setup(&p.node, &job, spec, &err);
	if (rc < 0)
		vnb_log_err("prolog: job %u on %s: %s", job.jobid, job.node,
			    err.text);
	else
		vnb_log_info("prolog: job %u on %s: ready (%s)", job.jobid,
			     job.node, spec[0] ? spec : "defaults");
	vnb_program_close(&p);
	vnb_log_close();
	return rc < 0 ? 1 : 0;
}
