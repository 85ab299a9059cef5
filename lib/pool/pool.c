/*
 * pool.c - expanding the config's pools into the vNICs a node offers.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "pool/pool.h"
#include "topo/topo.h"

/* PCIe counts a PF's VFs in 16 bits. */
#define VF_MAX 65535

/* The pool named name, or NULL.  (Not vnb_conf_pool_find: the pool module
 * must not need the YAML parser to link.) */
static const struct vnb_conf_pool *find_pool(const struct vnb_conf *conf,
					     const char *name)
{
	size_t i;

	for (i = 0; i < conf->npools; i++)
		if (strcmp(conf->pools[i].name, name) == 0)
			return &conf->pools[i];
	return NULL;
}

/* "a, b, c" of the pool names, for a message. */
static void pool_names(const struct vnb_conf *conf, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	if (conf->npools == 0)
		snprintf(buf, len, "none");
	for (i = 0; i < conf->npools && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i ? ", " : "", conf->pools[i].name);
}

/* How many vNICs pool p holds; -1 with a message when it is malformed. */
static int pool_size(const struct vnb_conf_pool *p, size_t *n, vnb_error_t *err)
{
	size_t i;

	if (p->backend == VNB_BACKEND_MACVTAP) {
		if (p->ndevices > 0 && !p->devices) {
			errno = EINVAL;
			return vnb_errprintf(
			    err, "pool '%s' has no device list", p->name);
		}
		for (i = 0; i < p->ndevices; i++) {
			if (!vnb_name_valid(p->devices[i],
					    VNB_IFNAME_MAX - 1)) {
				errno = EINVAL;
				return vnb_errprintf(
				    err,
				    "pool '%s': device %zu '%.*s' is not a "
				    "valid interface name",
				    p->name, i, VNB_IFNAME_MAX, p->devices[i]);
			}
		}
		*n = p->ndevices;
		return 0;
	}
	if (p->backend != VNB_BACKEND_SRIOV) {
		errno = EINVAL;
		return vnb_errprintf(err, "pool '%s' has an unknown backend %d",
				     p->name, (int)p->backend);
	}
	if (!vnb_name_valid(p->pf, VNB_IFNAME_MAX - 1)) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "pool '%s': the PF '%.*s' is not a valid "
				     "interface name",
				     p->name, VNB_IFNAME_MAX, p->pf);
	}
	if (p->vf_last < p->vf_first || p->vf_last > VF_MAX) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "pool '%s': the VF range %u-%u is empty "
				     "or goes past VF %d",
				     p->name, p->vf_first, p->vf_last, VF_MAX);
	}
	*n = (size_t)(p->vf_last - p->vf_first) + 1;
	return 0;
}

/* Append pool p's vNICs at out[*k]. */
static void pool_expand(const struct vnb_conf_pool *p, int sysfs_fd,
			struct vnb_pool_vnic *out, size_t *k)
{
	size_t i;

	if (p->backend == VNB_BACKEND_MACVTAP) {
		for (i = 0; i < p->ndevices; i++) {
			struct vnb_pool_vnic *v = &out[(*k)++];

			snprintf(v->id, sizeof(v->id), "%s", p->devices[i]);
			snprintf(v->ifname, sizeof(v->ifname), "%s",
				 p->devices[i]);
			v->vf = -1;
			v->numa = vnb_topo_netdev_numa(sysfs_fd, v->ifname);
			v->pool = p;
		}
	} else {
		int numa = vnb_topo_netdev_numa(sysfs_fd, p->pf);
		struct vnb_topo_vf info;
		unsigned vf;

		for (vf = p->vf_first;; vf++) {
			struct vnb_pool_vnic *v = &out[(*k)++];

			snprintf(v->id, sizeof(v->id), "%s:vf%u", p->pf, vf);
			snprintf(v->ifname, sizeof(v->ifname), "%s", p->pf);
			v->vf = (int)vf;
			v->numa = numa;
			v->pool = p;
			if (sysfs_fd >= 0 &&
			    vnb_topo_vf(sysfs_fd, p->pf, (int)vf, &info,
					NULL) == 0) {
				memcpy(v->pci, info.pci, sizeof(v->pci));
				v->numa = info.numa;
			}
			if (vf == p->vf_last)
				break;
		}
	}
}

static int by_device(const void *a, const void *b)
{
	const struct vnb_pool_vnic *x = *(const struct vnb_pool_vnic *const *)a;
	const struct vnb_pool_vnic *y = *(const struct vnb_pool_vnic *const *)b;
	int c = strcmp(x->ifname, y->ifname);

	if (c != 0)
		return c;
	if (x->vf != y->vf)
		return x->vf < y->vf ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Two entries that name the same vNIC, or a macvtap lower device that is
 * also a PF or another pool's lower device, would let two jobs program one
 * netdev: refuse.  Sorted by (ifname, vf), every clash has a neighbour:
 * a macvtap entry (vf -1) sorts first among its ifname. */
static int check_unique(const struct vnb_pool_vnic *v, size_t n,
			vnb_error_t *err)
{
	const struct vnb_pool_vnic **s;
	size_t i;

	if (n < 2)
		return 0;
	s = calloc(n, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return vnb_errprintf(err, "out of memory for %zu vNICs", n);
	}
	for (i = 0; i < n; i++)
		s[i] = &v[i];
	qsort(s, n, sizeof(*s), by_device);
	for (i = 1; i < n; i++) {
		const struct vnb_pool_vnic *a = s[i - 1], *b = s[i];

		if (strcmp(a->ifname, b->ifname) == 0 &&
		    (a->vf < 0 || a->vf == b->vf)) {
			free(s);
			errno = EINVAL;
			if (a->pool == b->pool)
				return vnb_errprintf(
				    err,
				    "pool '%s' lists device '%s' twice: "
				    "list each device once",
				    a->pool->name, a->ifname);
			return vnb_errprintf(
			    err,
			    "device '%s' is used twice (pools '%s' and "
			    "'%s'): list each device in one pool only",
			    a->ifname, a->pool->name, b->pool->name);
		}
	}
	free(s);
	return 0;
}

int vnb_pool_list(const struct vnb_conf *conf, const struct vnb_conf_tenant *t,
		  int sysfs_fd, struct vnb_pool_vnic **out, size_t *n,
		  vnb_error_t *err)
{
	const struct vnb_conf_pool *only = NULL;
	struct vnb_pool_vnic *v = NULL;
	size_t total = 0, k = 0, i;
	char names[256];

	if (!conf || !out || !n || (conf->npools > 0 && !conf->pools)) {
		errno = EINVAL;
		return vnb_errprintf(err, "no configuration or output given");
	}
	if (t && t->pool[0] != '\0') {
		only = find_pool(conf, t->pool);
		if (!only) {
			pool_names(conf, names, sizeof(names));
			errno = ENOENT;
			return vnb_errprintf(
			    err,
			    "tenant '%s' uses pool '%s', which "
			    "the config does not define "
			    "(pools: %s)",
			    t->name, t->pool, names);
		}
	}
	for (i = 0; i < conf->npools; i++) {
		const struct vnb_conf_pool *p = &conf->pools[i];
		size_t sz = 0;

		if (only && p != only)
			continue;
		if (pool_size(p, &sz, err) < 0)
			return -1;
		if (sz > SIZE_MAX / sizeof(*v) - total) {
			errno = EOVERFLOW;
			return vnb_errprintf(err, "pool '%s' is too large",
					     p->name);
		}
		total += sz;
	}
	if (total > 0) {
		v = calloc(total, sizeof(*v));
		if (!v) {
			errno = ENOMEM;
			return vnb_errprintf(err, "out of memory for %zu vNICs",
					     total);
		}
	}
	for (i = 0; i < conf->npools; i++) {
		if (!only || &conf->pools[i] == only)
			pool_expand(&conf->pools[i], sysfs_fd, v, &k);
	}
	if (check_unique(v, k, err) < 0) {
		int saved = errno;

		free(v);
		errno = saved;
		return -1;
	}
	*out = v;
	*n = k;
	return 0;
}

int vnb_pool_vf_info(const struct vnb_pool_vnic *v, int sysfs_fd,
		     struct vnb_topo_vf *out, vnb_error_t *err)
{
	const struct vnb_conf_pool *p;
	vnb_error_t e = {""};
	unsigned need;

	if (!v || v->vf < 0 || !v->pool ||
	    v->pool->backend != VNB_BACKEND_SRIOV) {
		errno = EINVAL;
		return vnb_errprintf(err, "%s is not a VF of an sriov pool",
				     v ? v->id : "(null)");
	}
	p = v->pool;
	if (vnb_topo_vf(sysfs_fd, v->ifname, v->vf, out, &e) == 0)
		return 0;
	need = p->vf_last + 1;
	switch (errno) {
	case ENODEV:
		return vnb_errprintf(err,
				     "no interface %s: is the PF name right "
				     "in pool '%s'?",
				     v->ifname, p->name);
	case ERANGE:
		if (out->totalvfs >= need && out->numvfs == 0)
			return vnb_errprintf(
			    err,
			    "pool '%s' uses VFs %u-%u of %s, which has none "
			    "enabled; echo %u > /sys/class/net/%s/device/"
			    "sriov_numvfs",
			    p->name, p->vf_first, p->vf_last, v->ifname, need,
			    v->ifname);
		if (out->totalvfs >= need && out->numvfs < need)
			return vnb_errprintf(
			    err,
			    "pool '%s' uses VFs %u-%u of %s, which has only "
			    "%u enabled; echo 0 > /sys/class/net/%s/device/"
			    "sriov_numvfs, then echo %u > it (with no VF in "
			    "use)",
			    p->name, p->vf_first, p->vf_last, v->ifname,
			    out->numvfs, v->ifname, need);
		if (out->totalvfs < need)
			return vnb_errprintf(
			    err,
			    "pool '%s' uses VFs %u-%u of %s, which supports "
			    "only %u (sriov_totalvfs): shrink the pool's VF "
			    "range",
			    p->name, p->vf_first, p->vf_last, v->ifname,
			    out->totalvfs);
		/* fall through */
	default:
		return vnb_errprintf(err, "pool '%s', vNIC %s: %s", p->name,
				     v->id, e.text);
	}
}
