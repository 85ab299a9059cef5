/*
 * pmix.c - the PMIx bootstrap: publish this endpoint's address, fence,
 * collect every rank's.
 *
 * PMIx is reached through a small ops table (struct pmix_ops) so that the
 * unit test can run the exchange against an in-memory fake; pmix_status_t
 * is translated into errno and a message here and nowhere else.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <pmix.h>

#include "common/error.h"
#include "vnb/vnb.h"
#include "vnb/vnb_pmix.h"

/* The PMIx calls the exchange makes, as in the PMIx client API. */
struct pmix_ops {
	pmix_status_t (*init)(pmix_proc_t *me);
	pmix_status_t (*finalize)(void);
	pmix_status_t (*put)(const char *key, const char *val);
	pmix_status_t (*commit)(void);
	/* a fence over the whole namespace, collecting data */
	pmix_status_t (*fence)(const char *nspace);
	/* PMIX_JOB_SIZE of nspace */
	pmix_status_t (*job_size)(const char *nspace, uint32_t *size);
	/* the string rank published under key; *val is the caller's */
	pmix_status_t (*get)(const char *nspace, uint32_t rank, const char *key,
			     char **val);
};

static pmix_status_t real_init(pmix_proc_t *me)
{
	return PMIx_Init(me, NULL, 0);
}

static pmix_status_t real_finalize(void)
{
	return PMIx_Finalize(NULL, 0);
}

static pmix_status_t real_put(const char *key, const char *val)
{
	pmix_value_t v;
	pmix_status_t rc;

	PMIX_VALUE_CONSTRUCT(&v);
	v.type = PMIX_STRING;
	v.data.string = (char *)val;
	rc = PMIx_Put(PMIX_GLOBAL, key, &v);
	/* v borrows val: nothing to destruct */
	return rc;
}

static pmix_status_t real_commit(void)
{
	return PMIx_Commit();
}

static pmix_status_t real_fence(const char *nspace)
{
	pmix_proc_t all;
	pmix_info_t info;
	bool collect = true;
	pmix_status_t rc;

	PMIX_PROC_CONSTRUCT(&all);
	PMIX_LOAD_PROCID(&all, nspace, PMIX_RANK_WILDCARD);
	PMIX_INFO_LOAD(&info, PMIX_COLLECT_DATA, &collect, PMIX_BOOL);
	rc = PMIx_Fence(&all, 1, &info, 1);
	PMIX_INFO_DESTRUCT(&info);
	return rc;
}

/* PMIx_Get of key for rank of nspace; *v is the caller's to release. */
static pmix_status_t get_value(const char *nspace, pmix_rank_t rank,
			       const char *key, pmix_value_t **v)
{
	pmix_proc_t p;

	PMIX_PROC_CONSTRUCT(&p);
	PMIX_LOAD_PROCID(&p, nspace, rank);
	return PMIx_Get(&p, key, NULL, 0, v);
}

static pmix_status_t real_job_size(const char *nspace, uint32_t *size)
{
	pmix_value_t *v = NULL;
	pmix_status_t rc;

	rc = get_value(nspace, PMIX_RANK_WILDCARD, PMIX_JOB_SIZE, &v);
	if (rc != PMIX_SUCCESS)
		return rc;
	if (v->type == PMIX_UINT32)
		*size = v->data.uint32;
	else
		rc = PMIX_ERR_TYPE_MISMATCH;
	PMIX_VALUE_RELEASE(v);
	return rc;
}

static pmix_status_t real_get(const char *nspace, uint32_t rank,
			      const char *key, char **val)
{
	pmix_value_t *v = NULL;
	pmix_status_t rc;

	rc = get_value(nspace, rank, key, &v);
	if (rc != PMIX_SUCCESS)
		return rc;
	if (v->type != PMIX_STRING || !v->data.string)
		rc = PMIX_ERR_TYPE_MISMATCH;
	else if (!(*val = strdup(v->data.string)))
		rc = PMIX_ERR_NOMEM;
	PMIX_VALUE_RELEASE(v);
	return rc;
}

static const struct pmix_ops pmix_real_ops = {
    .init = real_init,
    .finalize = real_finalize,
    .put = real_put,
    .commit = real_commit,
    .fence = real_fence,
    .job_size = real_job_size,
    .get = real_get,
};

/* The one translation of pmix_status_t into errno. */
static int pmix_errno(pmix_status_t rc)
{
	switch (rc) {
	case PMIX_ERR_NOT_FOUND:
		return ENOENT;
	case PMIX_ERR_TIMEOUT:
		return ETIMEDOUT;
	case PMIX_ERR_UNREACH:
	case PMIX_ERR_INIT:
		return ENOTCONN;
	case PMIX_ERR_LOST_CONNECTION:
	case PMIX_ERR_COMM_FAILURE:
		return ECONNRESET;
	case PMIX_ERR_NO_PERMISSIONS:
	case PMIX_ERR_INVALID_CRED:
		return EACCES;
	case PMIX_ERR_NOMEM:
	case PMIX_ERR_OUT_OF_RESOURCE:
		return ENOMEM;
	case PMIX_ERR_BAD_PARAM:
		return EINVAL;
	case PMIX_ERR_NOT_SUPPORTED:
		return ENOTSUP;
	case PMIX_ERR_TYPE_MISMATCH:
		return EPROTO;
	default:
		return EIO;
	}
}

/* errno from rc, and a message naming the call, PMIx's reason, and what
 * to do; always -1. */
static int pmix_fail(vnb_error_t *err, pmix_status_t rc, const char *call,
		     const char *hint)
{
	errno = pmix_errno(rc);
	return vnb_errprintf(err, "vnb_pmix_exchange: %s failed: %s (%d)%s%s",
			     call, PMIx_Error_string(rc), (int)rc,
			     hint ? "; " : "", hint ? hint : "");
}

/* The exchange over ops; the unit test #includes this file to call it
 * with a fake. */
static int pmix_exchange_ops(const struct pmix_ops *ops, struct vnb_ep *ep,
			     struct vnb_addr **peers, uint32_t *npeers,
			     uint32_t *myrank, vnb_error_t *err)
{
	struct vnb_addr self, *tab = NULL;
	char mine[160], *val = NULL;
	pmix_proc_t me;
	pmix_status_t rc;
	uint32_t size = 0;
	int ret = -1, e;

	if (!ep || !peers || !npeers || !myrank) {
		errno = EINVAL;
		return vnb_errprintf(err, "vnb_pmix_exchange: NULL argument");
	}
	vnb_ep_addr(ep, &self);
	if (vnb_addr_format(&self, mine, sizeof(mine)) < 0) {
		errno = EINVAL;
		return vnb_errprintf(err, "vnb_pmix_exchange: the endpoint's "
					  "address does not format");
	}

	/* PMIx_Init and PMIx_Finalize are reference-counted: in a process
	 * that is already a client (MPI), the pair only hands back its name
	 * and leaves the connection as it was. */
	rc = ops->init(&me);
	if (rc != PMIX_SUCCESS) {
		/* a failed init leaves nothing to finalize */
		return pmix_fail(err, rc, "PMIx_Init",
				 "is the job launched by srun --mpi=pmix or "
				 "mpirun?");
	}
	if ((rc = ops->put(VNB_PMIX_KEY, mine)) != PMIX_SUCCESS) {
		pmix_fail(err, rc, "PMIx_Put(" VNB_PMIX_KEY ")", NULL);
		goto cleanup;
	}
	if ((rc = ops->commit()) != PMIX_SUCCESS) {
		pmix_fail(err, rc, "PMIx_Commit", NULL);
		goto cleanup;
	}
	if ((rc = ops->fence(me.nspace)) != PMIX_SUCCESS) {
		pmix_fail(err, rc, "PMIx_Fence",
			  "every rank of the job must call vnb_pmix_exchange");
		goto cleanup;
	}
	if ((rc = ops->job_size(me.nspace, &size)) != PMIX_SUCCESS) {
		pmix_fail(err, rc, "PMIx_Get(" PMIX_JOB_SIZE ")", NULL);
		goto cleanup;
	}
	if (size == 0 || me.rank >= size) {
		errno = EPROTO;
		vnb_errprintf(err,
			      "vnb_pmix_exchange: PMIx says the job has %u "
			      "ranks, and this is rank %u",
			      size, me.rank);
		goto cleanup;
	}
	if (!(tab = calloc(size, sizeof(*tab)))) {
		vnb_errprintf(err,
			      "vnb_pmix_exchange: no memory for %u "
			      "addresses",
			      size);
		goto cleanup;
	}
	for (uint32_t r = 0; r < size; r++) {
		vnb_error_t perr;

		if ((rc = ops->get(me.nspace, r, VNB_PMIX_KEY, &val)) !=
		    PMIX_SUCCESS) {
			errno = pmix_errno(rc);
			vnb_errprintf(err,
				      "vnb_pmix_exchange: PMIx_Get(rank %u, "
				      "%s) failed: %s (%d); every rank "
				      "must call vnb_pmix_exchange",
				      r, VNB_PMIX_KEY, PMIx_Error_string(rc),
				      (int)rc);
			goto cleanup;
		}
		perr.text[0] = '\0';
		if (vnb_addr_parse(val, &tab[r], &perr) < 0) {
			errno = EPROTO;
			vnb_errprintf(err,
				      "vnb_pmix_exchange: rank %u published "
				      "a bad address \"%.120s\": %.200s",
				      r, val, perr.text);
			goto cleanup;
		}
		free(val);
		val = NULL;
	}
	*peers = tab;
	*npeers = size;
	*myrank = me.rank;
	tab = NULL;
	ret = 0;
cleanup:
	e = errno;
	free(val);
	free(tab);
	ops->finalize();
	errno = e;
	return ret;
}

int vnb_pmix_exchange(struct vnb_ep *ep, struct vnb_addr **peers,
		      uint32_t *npeers, uint32_t *myrank, vnb_error_t *err)
{
	return pmix_exchange_ops(&pmix_real_ops, ep, peers, npeers, myrank,
				 err);
}
