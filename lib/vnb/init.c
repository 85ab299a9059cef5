/*
 * init.c - vnb_init: this task's queue set from its VM's PMIx server,
 * opened and introduced to every rank (vnb_pmix.h).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pmix.h>

#include "common/error.h"
#include "common/util.h"
#include "cred/cred.h"
#include "vnb/vnb.h"
#include "vnb/vnb_pmix.h"

struct vnb_world {
	struct vnb_ep *ep;
	struct vnb_addr *peers;
	uint32_t size, rank;
	char cred[VNB_CRED_MAX];
};

/* A string key of this process from PMIx: 0, or -1 (NOT-FOUND etc.). */
static int get_str(const pmix_proc_t *me, const char *key, char *out,
		   size_t cap)
{
	pmix_value_t *v = NULL;
	pmix_status_t rc = PMIx_Get(me, key, NULL, 0, &v);
	int res = -1;

	if (rc == PMIX_SUCCESS && v->type == PMIX_STRING && v->data.string) {
		snprintf(out, cap, "%s", v->data.string);
		res = 0;
	}
	if (v)
		PMIX_VALUE_RELEASE(v);
	return res;
}

/* provider=NAME of the job's spec (VNB_SPEC, set by the SPANK plugin). */
static enum vnb_prov spec_prov(void)
{
	const char *s = getenv("VNB_SPEC"), *p;
	enum vnb_prov k;
	size_t n;

	if (!s || !(p = strstr(s, "provider=")))
		return VNB_PROV_AUTO;
	p += strlen("provider=");
	n = strcspn(p, ",");
	for (k = VNB_PROV_AUTO; vnb_prov_name(k); k++)
		if (strlen(vnb_prov_name(k)) == n &&
		    strncmp(vnb_prov_name(k), p, n) == 0)
			return k;
	return VNB_PROV_AUTO;
}

/* Is the credential given the one the VM's server gave this task? */
static int same_qset(const char *given, const char *mine, vnb_error_t *err)
{
	char gm[18], mm[18];
	struct vnb_cred g, m;

	if (vnb_cred_decode(given, &g, err) < 0)
		return -1;
	if (vnb_cred_decode(mine, &m, err) < 0)
		return -1;
	if (memcmp(g.mac, m.mac, 6) == 0 && g.vlan == m.vlan &&
	    g.queue == m.queue && g.job == m.job)
		return 0;
	errno = EACCES;
	vnb_mac_format(g.mac, gm);
	vnb_mac_format(m.mac, mm);
	return vnb_errprintf(err,
			     "vnb_init: the credential for job %u, vNIC %s, "
			     "queue %u is not this task's (its queue set is "
			     "job %u, vNIC %s, queue %u, from the VM's PMIx "
			     "server): a task opens its own queue set only",
			     g.job, gm, g.queue, m.job, mm, m.queue);
}

struct vnb_world *vnb_init(const struct vnb_init_attr *attr, vnb_error_t *err)
{
	struct vnb_init_attr none = {NULL, NULL, VNB_PROV_AUTO};
	struct vnb_world *w = calloc(1, sizeof(*w));
	char mine[VNB_CRED_MAX] = "", why[512] = "";
	bool inited = false, pmix = false;
	pmix_proc_t me;
	int e;

	if (!w) {
		errno = ENOMEM;
		vnb_errprintf(err, "vnb_init: out of memory");
		return NULL;
	}
	if (!attr)
		attr = &none;
	/* this task's credential, when a PMIx server is there */
	if (getenv("PMIX_NAMESPACE")) {
		if (PMIx_Initialized()) {
			pmix = true;
		} else if (PMIx_Init(&me, NULL, 0) == PMIX_SUCCESS) {
			pmix = inited = true;
		}
	}
	if (pmix) {
		pmix_proc_t self;

		if (!inited)
			PMIx_Init(&self, NULL, 0); /* reference counted */
		else
			self = me;
		if (get_str(&self, VNB_PMIX_CRED_KEY, mine, sizeof(mine)) < 0)
			get_str(&self, "vnb.cred.none", why, sizeof(why));
		if (!inited)
			PMIx_Finalize(NULL, 0);
	}
	if (attr->cred) {
		if (mine[0] && same_qset(attr->cred, mine, err) < 0)
			goto fail;
		snprintf(w->cred, sizeof(w->cred), "%s", attr->cred);
	} else if (!attr->ep) {
		if (!mine[0]) {
			errno = why[0] ? ENOSPC : ENOENT;
			if (why[0])
				vnb_errprintf(err, "vnb_init: no queue set: %s",
					      why);
			else
				vnb_errprintf(err,
					      "vnb_init: no queue credential "
					      "(%s): run in a vnic-bypass job "
					      "(srun --mpi=pmix --vnic-bypass) "
					      "or give a credential or an "
					      "endpoint's attributes",
					      pmix ? "the PMIx server gave no "
						     "vnb.cred"
						   : "no PMIx server");
			goto fail;
		}
		snprintf(w->cred, sizeof(w->cred), "%s", mine);
	}
	/* (two tasks attaching the XDP program to one vNIC at once: the
	 * xdp provider waits for the first) */
	if (w->cred[0])
		w->ep = vnb_ep_open_cred(
		    w->cred,
		    attr->prov != VNB_PROV_AUTO ? attr->prov : spec_prov(),
		    err);
	else
		w->ep = vnb_ep_open(attr->ep, err);
	if (!w->ep)
		goto fail;
	if (pmix) {
		if (vnb_pmix_exchange(w->ep, &w->peers, &w->size, &w->rank,
				      err) < 0)
			goto fail;
	} else {
		w->peers = calloc(1, sizeof(*w->peers));
		if (!w->peers) {
			errno = ENOMEM;
			vnb_errprintf(err, "vnb_init: out of memory");
			goto fail;
		}
		vnb_ep_addr(w->ep, &w->peers[0]);
		w->size = 1;
		w->rank = 0;
	}
	if (inited)
		PMIx_Finalize(NULL, 0);
	return w;
fail:
	e = errno;
	if (inited)
		PMIx_Finalize(NULL, 0);
	vnb_world_destroy(w);
	errno = e;
	return NULL;
}

void vnb_world_destroy(struct vnb_world *w)
{
	int e = errno;

	if (!w)
		return;
	vnb_ep_close(w->ep);
	free(w->peers);
	free(w);
	errno = e;
}

struct vnb_ep *vnb_world_ep(const struct vnb_world *w)
{
	return w->ep;
}

uint32_t vnb_world_rank(const struct vnb_world *w)
{
	return w->rank;
}

uint32_t vnb_world_size(const struct vnb_world *w)
{
	return w->size;
}

const struct vnb_addr *vnb_world_peer(const struct vnb_world *w, uint32_t rank)
{
	return rank < w->size ? &w->peers[rank] : NULL;
}

const char *vnb_world_cred(const struct vnb_world *w)
{
	return w->cred;
}
