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

#ifdef __cplusplus
}
#endif

#endif
