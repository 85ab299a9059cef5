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
};

extern struct vnb_plugin vnb_plugin;

/* srun, sbatch, salloc: validate and hand the spec to the prolog. */
int vnb_spank_submit(spank_t sp);

/* slurmstepd: tell the tasks which vNICs the prolog prepared. */
int vnb_spank_remote_user_init(spank_t sp);

/* slurmstepd: refuse a step with more tasks here than the VM has task
 * channels (after user_init). */
int vnb_spank_remote_step_check(spank_t sp);

/* The forked task: become vnb-exec (returns only on failure). */
int vnb_spank_remote_task_init(spank_t sp);

#endif
