/*
 * job.h - what Slurm says about a job: the thin module over libslurm.
 *
 * The prolog trusts only slurmd's environment and slurmctld's answers,
 * never variables a user could set (SPANK_* carries the user's spec, which
 * is validated like any other user input).
 */
#ifndef VNB_JOB_JOB_H
#define VNB_JOB_JOB_H

#include <stdint.h>

#include "common/error.h"
#include "conf/conf.h"

struct vnb_job {
	uint32_t jobid;
	uint32_t uid;
	uint32_t gid; /* the job's primary group */
	char user[VNB_NAME_MAX]; /* the user's name, "" unknown */
	char node[VNB_NAME_MAX]; /* this node (SLURMD_NODENAME) */
	uint32_t nodeidx; /* its index in the job's node list */
	char partition[VNB_NAME_MAX];
	char account[VNB_NAME_MAX]; /* "" when none */
	char cpus[256]; /* the job's CPUs here, "" unknown */
};

/* Fill job from the prolog/epilog environment that slurmd sets
 * (SLURM_JOB_ID, SLURM_JOB_UID, SLURM_JOB_GID, SLURM_JOB_USER,
 * SLURMD_NODENAME, SLURM_JOB_PARTITION, SLURM_NODELIST) and, when query is
 * set, from slurmctld (account, the CPUs on this node, the group when the
 * environment lacks it).  -1 with errno and a message naming the variable. */
int vnb_job_from_env(struct vnb_job *job, int query, vnb_error_t *err);

enum vnb_job_liveness {
	VNB_JOB_UNKNOWN = -1, /* slurmctld did not answer: do nothing */
	VNB_JOB_GONE = 0, /* finished and done completing, or purged */
	VNB_JOB_ALIVE = 1, /* pending, configuring, running, completing */
};

enum vnb_job_liveness vnb_job_liveness(uint32_t jobid);

#endif
