#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

#include "common/util.h"
#include "job/job.h"

static int env_str(const char *name, char *buf, size_t len, int required,
		   vnb_error_t *err)
{
	const char *v = getenv(name);

	if (!v || !*v) {
		buf[0] = '\0';
		if (!required)
			return 0;
		errno = EINVAL;
		return vnb_errprintf(err,
				     "%s is not set; run this program as "
				     "Slurm's Prolog or Epilog",
				     name);
	}
	if (strlen(v) >= len) {
		errno = EINVAL;
		return vnb_errprintf(err, "%s is too long", name);
	}
	snprintf(buf, len, "%s", v);
	return 0;
}

static int env_u32(const char *name, uint64_t min, uint32_t *out,
		   vnb_error_t *err)
{
	const char *v = getenv(name);
	uint64_t n;

	if (!v || vnb_parse_u64(v, min, UINT32_MAX, &n) < 0) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "%s is %s; run this program as Slurm's "
				     "Prolog or Epilog",
				     name,
				     v ? "not a valid number" : "not set");
	}
	*out = (uint32_t)n;
	return 0;
}

static int node_index(const char *nodelist, const char *node, uint32_t *idx,
		      vnb_error_t *err)
{
	hostlist_t hl = slurm_hostlist_create(nodelist);
	int i;

	if (!hl) {
		errno = EINVAL;
		return vnb_errprintf(err, "SLURM_NODELIST '%s' is malformed",
				     nodelist);
	}
	i = slurm_hostlist_find(hl, node);
	slurm_hostlist_destroy(hl);
	if (i < 0) {
		errno = EINVAL;
		return vnb_errprintf(err, "node %s is not in SLURM_NODELIST %s",
				     node, nodelist);
	}
	*idx = (uint32_t)i;
	return 0;
}

static int query(struct vnb_job *job, vnb_error_t *err)
{
	job_info_msg_t *msg = NULL;
	slurm_job_info_t *ji;
	int rc = 0;

	if (slurm_load_job(&msg, job->jobid, SHOW_DETAIL) != SLURM_SUCCESS) {
		errno = EAGAIN;
		return vnb_errprintf(
		    err, "cannot ask slurmctld about job %u: %s", job->jobid,
		    slurm_strerror(slurm_get_errno()));
	}
	if (msg->record_count < 1) {
		slurm_free_job_info_msg(msg);
		errno = ENOENT;
		return vnb_errprintf(err, "slurmctld does not know job %u",
				     job->jobid);
	}
	ji = &msg->job_array[0];
	if (!getenv("SLURM_JOB_GID"))
		job->gid = ji->group_id;
	snprintf(job->account, sizeof(job->account), "%s",
		 ji->account ? ji->account : "");
	if (ji->job_resrcs && slurm_job_cpus_allocated_str_on_node(
				  job->cpus, sizeof(job->cpus), ji->job_resrcs,
				  job->node) != SLURM_SUCCESS)
		job->cpus[0] = '\0';
	slurm_free_job_info_msg(msg);
	return rc;
}

int vnb_job_from_env(struct vnb_job *job, int with_query, vnb_error_t *err)
{
	char nodelist[8192];

	memset(job, 0, sizeof(*job));
	if (env_u32("SLURM_JOB_ID", 1, &job->jobid, err) < 0 ||
	    env_u32("SLURM_JOB_UID", 0, &job->uid, err) < 0 ||
	    (getenv("SLURM_JOB_GID") &&
	     env_u32("SLURM_JOB_GID", 0, &job->gid, err) < 0) ||
	    env_str("SLURM_JOB_USER", job->user, sizeof(job->user), 0, err) <
		0 ||
	    env_str("SLURMD_NODENAME", job->node, sizeof(job->node), 1, err) <
		0 ||
	    env_str("SLURM_JOB_PARTITION", job->partition,
		    sizeof(job->partition), 0, err) < 0 ||
	    env_str("SLURM_JOB_ACCOUNT", job->account, sizeof(job->account), 0,
		    err) < 0 ||
	    env_str("SLURM_NODELIST", nodelist, sizeof(nodelist), 0, err) < 0)
		return -1;
	if (nodelist[0] &&
	    node_index(nodelist, job->node, &job->nodeidx, err) < 0)
		return -1;
	if (with_query && query(job, err) < 0)
		return -1;
	return 0;
}

enum vnb_job_liveness vnb_job_liveness(uint32_t jobid)
{
	job_info_msg_t *msg = NULL;
	enum vnb_job_liveness r;
	uint32_t state;

	if (slurm_load_job(&msg, jobid, SHOW_ALL) != SLURM_SUCCESS)
		return slurm_get_errno() == ESLURM_INVALID_JOB_ID
			   ? VNB_JOB_GONE
			   : VNB_JOB_UNKNOWN;
	if (msg->record_count < 1) {
		slurm_free_job_info_msg(msg);
		return VNB_JOB_GONE;
	}
	state = msg->job_array[0].job_state;
	slurm_free_job_info_msg(msg);
	if (state & JOB_COMPLETING)
		r = VNB_JOB_ALIVE;
	else if ((state & JOB_STATE_BASE) >= JOB_COMPLETE)
		r = VNB_JOB_GONE;
	else
		r = VNB_JOB_ALIVE;
	return r;
}
