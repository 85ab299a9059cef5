/*
 * plugin.h - state shared by the SPANK plugin's context files.
 *
 * vnic_bypass.c dispatches on spank_context(); submit.c serves srun,
 * sbatch and salloc; remote.c serves slurmstepd.
 */
#ifndef VNB_SPANK_PLUGIN_H
#define VNB_SPANK_PLUGIN_H

#include <stdbool.h>
#include <slurm/spank.h>

#include "conf/spec.h"
#include "spank/args.h"

/* The name of the job control variable; the prolog sees SPANK_ + this. */
#define VNB_JOB_ENV "VNIC_BYPASS"
/* The value is versioned: "v1:" followed by the normalized spec. */
#define VNB_JOB_ENV_PREFIX "v1:"

struct vnb_plugin {
	struct vnb_plugin_args args;
	bool given; /* --vnic-bypass was seen */
	char value[VNB_SPEC_MAX]; /* its argument, "" for a bare option */
	struct vnb_spec spec; /* parsed */
	char run_dir[4200]; /* slurmstepd: the job's VM files on this node */
	char refused[4608]; /* slurmstepd: why this step's tasks may not run */
};

extern struct vnb_plugin vnb_plugin;

/* srun, sbatch, salloc: validate and hand the spec to the prolog. */
int vnb_spank_submit(spank_t sp);

/* slurmstepd: tell the tasks which vNICs the prolog prepared. */
int vnb_spank_remote_user_init(spank_t sp);

/* slurmstepd: refuse the step's tasks.  The reason goes to the log and to
 * vnb_plugin.refused, and each task fails with it (exit code 1, the
 * reason on its stderr) before its program runs.  user_init itself must
 * succeed: slurmstepd fails the launch of a step whose user_init fails,
 * and srun then exits 0.  Returns 0, for user_init to return. */
int vnb_spank_refuse(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* slurmstepd: refuse a step with more tasks here than the VM has task
 * channels or the job has queue sets (after user_init; returns 0). */
int vnb_spank_remote_step_check(spank_t sp);

/* The forked task: become vnb-exec (returns only on failure). */
int vnb_spank_remote_task_init(spank_t sp);

#endif
