/*
 * task.c - slurmstepd, in each forked task of a job step: the task becomes
 * vnb-exec, which has the job's VM run the task's argv, with its stdio,
 * signals and exit status relayed.  The batch script, the extern step and
 * salloc's interactive step stay on the host: they run srun, which the VM
 * does not have.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <slurm/slurm.h>

#include "common/fileio.h"
#include "spank/plugin.h"

/* Is this a step whose tasks run in the VM? */
static bool in_vm_step(spank_t sp)
{
	uint32_t stepid = 0;

	if (spank_get_item(sp, S_JOB_STEPID, &stepid) != ESPANK_SUCCESS)
		return false;
	return stepid < SLURM_MAX_NORMAL_STEP_ID;
}

int vnb_spank_remote_task_init(spank_t sp)
{
	char **argv = NULL, **env = NULL, **nargv;
	int argc = 0, i, n = 0;

	if (vnb_plugin.refused[0]) {
		/* the task's stderr: the user sees it beside srun's
		 * "exited with exit code 1" */
		fprintf(stderr, "vnic-bypass: %s\n", vnb_plugin.refused);
		return -1;
	}
	if (!in_vm_step(sp))
		return 0;
	if (spank_get_item(sp, S_JOB_ARGV, &argc, &argv) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ENV, &env) != ESPANK_SUCCESS) {
		slurm_error("vnic-bypass: cannot get the task's command and "
			    "environment from Slurm");
		return -1;
	}
	nargv = calloc((size_t)argc + 5, sizeof(*nargv));
	if (!nargv) {
		slurm_error("vnic-bypass: out of memory");
		return -1;
	}
	nargv[n++] = vnb_plugin.args.exec;
	nargv[n++] = "--run-dir";
	nargv[n++] = vnb_plugin.run_dir;
	nargv[n++] = "--";
	for (i = 0; i < argc; i++)
		nargv[n++] = argv[i];
	execve(vnb_plugin.args.exec, nargv, env);
	slurm_error("vnic-bypass: cannot run %s: %s; is vnic-bypass installed "
		    "on this node (or exec= in plugstack.conf right)?",
		    vnb_plugin.args.exec, strerror(errno));
	free(nargv);
	return -1;
}

int vnb_spank_refuse(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vnb_plugin.refused, sizeof(vnb_plugin.refused), fmt, ap);
	va_end(ap);
	slurm_error("vnic-bypass: %s", vnb_plugin.refused);
	return 0;
}

int vnb_spank_remote_step_check(spank_t sp)
{
	uint32_t ntasks = 0;
	unsigned nchan, nq;

	if (!in_vm_step(sp))
		return 0;
	if (spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &ntasks) !=
	    ESPANK_SUCCESS)
		return vnb_spank_refuse(
		    "cannot get the step's task count from Slurm");
	nchan = vnb_file_count_seq(vnb_plugin.run_dir, "task.", ".sock");
	nq = vnb_file_count_seq(vnb_plugin.run_dir, "qset.", "");
	if (nchan == 0)
		return vnb_spank_refuse("the job's VM has no task channel in "
					"%s; did the prolog boot it?",
					vnb_plugin.run_dir);
	if (ntasks > nchan)
		return vnb_spank_refuse(
		    "this step has %u tasks on this node but the job's VM has "
		    "%u task channels (one per CPU of the job here); ask for "
		    "fewer tasks per node or more CPUs",
		    ntasks, nchan);
	if (ntasks > nq) /* two tasks never share a queue set */
		return vnb_spank_refuse(
		    "this step has %u tasks on this node but the job has %u "
		    "queue sets here (vnics x queues); ask for more with "
		    "--vnic-bypass=vnics=N or run fewer tasks per node",
		    ntasks, nq);
	return 0;
}
