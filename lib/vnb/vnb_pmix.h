/*
 * vnb_pmix.h - libvnb's PMIx bootstrap: every rank of a job learns every
 * other rank's endpoint address.
 *
 * Link with libvnb (pkg-config vnb); the job must run under a PMIx
 * server (srun --mpi=pmix, mpirun, prterun).
 */
#ifndef VNB_PMIX_H
#define VNB_PMIX_H

#include <stdint.h>

#include "vnb.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The PMIx key under which each rank publishes its address, in the text
 * form of vnb_addr_format. */
#define VNB_PMIX_KEY "vnb.addr"

/* Publish ep's address and collect every rank's: PMIx_Init (unless the
 * process is already a PMIx client), PMIx_Put(PMIX_GLOBAL, VNB_PMIX_KEY),
 * PMIx_Commit, PMIx_Fence over the whole namespace with PMIX_COLLECT_DATA,
 * then PMIx_Get of every rank's key (PMIX_JOB_SIZE ranks).  A fence: every
 * rank of the job must call it, once per exchange.
 *
 * On success *peers is a table of *npeers addresses indexed by rank (this
 * rank's own at *myrank); the caller frees it with free().  The PMIx
 * connection is left as it was found: when this call initialised PMIx it
 * finalises it before returning.
 *
 * Returns 0, or -1 with errno and a message in err, and *peers untouched:
 *   ENOTCONN     no PMIx server (not launched by srun --mpi=pmix or mpirun)
 *   ENOENT       a rank published no address (it is not using libvnb)
 *   EPROTO       a rank's address does not parse
 *   ETIMEDOUT, ECONNRESET, EACCES, ENOMEM, EIO
 *                the PMIx call that failed, and PMIx's reason, are named
 *   EINVAL       a NULL argument */
int vnb_pmix_exchange(struct vnb_ep *ep, struct vnb_addr **peers,
		      uint32_t *npeers, uint32_t *myrank, vnb_error_t *err);

/*
 * vnb_init: an endpoint that is ready to talk to every rank of the job.
 *
 * Inside a vnic-bypass job (srun --mpi=pmix --vnic-bypass) it takes no
 * arguments, vnb_init(NULL, NULL): it gets this task's queue credential
 * from its VM's PMIx server (key VNB_PMIX_CRED_KEY), opens that queue set
 * with the best provider (or VNB_SPEC's provider=), and exchanges
 * addresses with every rank (vnb_pmix_exchange: a fence).
 *
 * attr, when given, says otherwise: cred is a credential to open instead
 * (refused with EACCES when the VM's PMIx server gave this task another
 * one: a task opens no queue set but its own); ep is an endpoint's
 * attributes, for use outside a vnic-bypass job; prov overrides the
 * provider choice for a credential.  Without a PMIx server the world is
 * this process alone (size 1).
 *
 * NULL with errno and a message in err (which may be NULL):
 *   ENOSPC   this task has no queue set (the step runs more tasks on the
 *            node than the job has): the message has both numbers
 *   ENOENT   no credential and no attributes: not a vnic-bypass job
 *   EACCES   cred is not this task's
 *   and vnb_ep_open's and vnb_pmix_exchange's errors. */
#define VNB_PMIX_CRED_KEY "vnb.cred"

struct vnb_init_attr {
	const char *cred; /* a queue credential, or NULL */
	const struct vnb_ep_attr *ep; /* or an endpoint's attributes */
	enum vnb_prov prov; /* for a credential: VNB_PROV_AUTO: best */
};

struct vnb_world;

struct vnb_world *vnb_init(const struct vnb_init_attr *attr, vnb_error_t *err);
/* Closes the endpoint; accepts NULL. */
void vnb_world_destroy(struct vnb_world *w);
struct vnb_ep *vnb_world_ep(const struct vnb_world *w);
uint32_t vnb_world_rank(const struct vnb_world *w);
uint32_t vnb_world_size(const struct vnb_world *w);
/* rank's address (rank < size). */
const struct vnb_addr *vnb_world_peer(const struct vnb_world *w, uint32_t rank);
/* The credential the endpoint was opened with ("" for attributes). */
const char *vnb_world_cred(const struct vnb_world *w);

#ifdef __cplusplus
}
#endif

#endif
