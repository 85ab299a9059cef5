/*
 * vnb-epilog - Slurm Epilog: tear down what vnb-prolog set up for a job,
 * then reconcile what jobs Slurm no longer runs left behind.
 *
 * Usage: vnb-epilog [--config FILE]
 * Idempotent: safe twice, and after a prolog that died halfway.  Exit
 * non-zero only when a vNIC could not be scrubbed (it stays out of use, and
 * Slurm drains the node so that an admin looks).
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "node/program.h"

int main(int argc, char **argv)
{
	const char *config = NULL;
	struct vnb_program p;
	vnb_error_t err = {{0}};
	struct vnb_job job;
	size_t cleaned = 0;
	int c, rc;

	if (!getenv("SPANK_VNIC_BYPASS"))
		return 0; /* not a vnic-bypass job */
	c = vnb_program_options(argc, argv, "vnb-epilog", &config);
	if (c >= 0)
		return c;
	vnb_log_open("vnb-epilog", true);
	if (vnb_job_from_env(&job, 0, &err) < 0 ||
	    vnb_program_open(&p, config, VNB_PROGRAM_VM, &err) < 0) {
		vnb_log_err("epilog: %s", err.text);
		return 1;
	}
	rc = vnb_node_teardown(&p.node, job.jobid, &err);
	if (rc < 0)
		vnb_log_err("epilog: job %u on %s: %s", job.jobid, job.node,
			    err.text);
	if (vnb_node_reconcile(&p.node, vnb_job_liveness, job.jobid, &cleaned,
			       &err) < 0)
		vnb_log_err("epilog: reconcile on %s: %s", job.node, err.text);
	if (cleaned)
		vnb_log_info("epilog: reconciled %zu stale job(s) on %s",
			     cleaned, job.node);
	vnb_program_close(&p);
	vnb_log_close();
	return rc < 0 ? 1 : 0;
}
