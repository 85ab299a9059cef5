/*
 * pmixsrv.h - vnb-agent as the PMIx server of its guest (doc/vm.md, "PMIx in
 * the VM").
 *
 * Each step is one namespace, registered when the first of its local
 * tasks arrives (PMIX_JOB, then EXEC) and deregistered when the last one
 * ends.  Fences are relayed through the tasks' vnb-exec (FENCE, answered
 * by FENCE_DONE); an abort, and a task that ends after connecting without
 * PMIx_Finalize, become an ABORT for the host.  Messages for a channel are
 * posted to it (vnb_chan_post) from whatever thread libpmix calls us on.
 */
#ifndef VNB_AGENT_PMIXSRV_H
#define VNB_AGENT_PMIXSRV_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "proto/proto.h"

struct vnb_chan;

/*
 * The pure part: the layout of a step from PMIX_JOB's ppn ("0,1;2,3":
 * the ranks of each node, in node-id order).  node_of[r] and local_of[r]
 * (r < size, each array of size entries) get rank r's node and its index
 * there; *nnodes the number of nodes.  -1 with EINVAL and a message when
 * ppn is not a partition of 0..size-1 or names more than max_nodes nodes.
 */
int vnb_agent_ppn_parse(const char *ppn, uint32_t size, uint32_t max_nodes,
			uint32_t *node_of, uint32_t *local_of, uint32_t *nnodes,
			vnb_error_t *err);

/*
 * Make the task that runs on c a client of the step's namespace: start
 * the server (first call), register the namespace (first task of the
 * step), store the task's vnb.cred, register it and get its environment.
 * *env gets a NULL-terminated array of "NAME=VALUE" strings for the task
 * (free with vnb_agent_pmix_env_free); they replace every PMIX_* and
 * SLURM_PMIX* it inherited.  -1 with errno and a message.
 */
int vnb_agent_pmix_task_start(struct vnb_chan *c, const struct vnb_pmix_job *j,
			      uint32_t uid, uint32_t gid, char ***env,
			      vnb_error_t *err);
void vnb_agent_pmix_env_free(char **env);

/* The guest's virtio-net drops frames of a VLAN that no VLAN device
 * admits: give the vNIC of a credential with a VLAN one (IF.VID, with
 * the guest's ip, as root).  Nothing happens when it exists already. */
void vnb_agent_vlan_admit(const char *cred);

/* The agent ends: the server's files (its tmpdir) are removed. */
void vnb_agent_pmix_stop(void);

/* The task on c ended.  true when it had connected and not finalized:
 * the step must be aborted (the caller says ABORT to the host). */
bool vnb_agent_pmix_task_end(struct vnb_chan *c);

/* The host's FENCE_DONE for the fence f->seq of c's namespace. */
void vnb_agent_pmix_fence_done(struct vnb_chan *c, const struct vnb_fence *f);

#endif
