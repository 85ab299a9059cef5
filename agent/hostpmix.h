/*
 * hostpmix.h - vnb-exec's side of PMIx in the VM: a client of Slurm's
 * PMIx server as the task's rank, which tells the agent who the task is
 * (PMIX_JOB), takes a queue set of the job for it, and relays the guest's
 * fences and aborts to Slurm (doc/vm.md, "PMIx in the VM").
 */
#ifndef VNB_AGENT_HOSTPMIX_H
#define VNB_AGENT_HOSTPMIX_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "proto/proto.h"

struct vnb_hostpmix;

/*
 * PMIx_Init as the task's rank (from the PMIX_* environment), learn the
 * step's layout, and take a free queue set of run_dir (qset.<i>, locked
 * through qset.<i>.lock from the task's local rank on; none when the
 * directory has no qset.0, and none, with j->nocred saying why, when the
 * step runs more tasks on this node than the job has queue sets).  j is
 * filled in; free it with vnb_proto_pmix_job_free.  NULL with errno and a
 * message:
 *   ENOTCONN  Slurm's PMIx server did not answer
 *   ENOSPC    the queue sets are all taken (by another step's tasks)
 *   EIO       another PMIx failure, named
 */
struct vnb_hostpmix *vnb_hostpmix_open(const char *run_dir,
				       struct vnb_pmix_job *j,
				       vnb_error_t *err);
/* PMIx_Finalize; NULL is fine. */
void vnb_hostpmix_close(struct vnb_hostpmix *h);

/* Readable when a fence started with vnb_hostpmix_fence is done. */
int vnb_hostpmix_fd(const struct vnb_hostpmix *h);

/* Start the agent's FENCE f (its data is copied) in Slurm. */
int vnb_hostpmix_fence(struct vnb_hostpmix *h, const struct vnb_fence *f,
		       vnb_error_t *err);
/* After vnb_hostpmix_fd was readable: the FENCE_DONE message for chan,
 * in *msg (malloc'ed) of *len bytes.  0, or -1 when nothing is done. */
int vnb_hostpmix_fence_done(struct vnb_hostpmix *h, uint32_t chan,
			    uint8_t **msg, size_t *len);

/* PMIx_Abort of the whole step in Slurm. */
void vnb_hostpmix_abort(struct vnb_hostpmix *h, int status, const char *text);

#endif
