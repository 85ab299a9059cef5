/*
 * topo.c - the node's topology through hwloc, and the ranking of devices by
 * closeness to a job's CPUs.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>

#include "topo/topo.h"

/* Largest CPU number a cpulist may name; keeps a typo such as "0-99999999"
 * from allocating a huge bitmap. */
#define CPU_MAX 1048575

struct vnb_topo {
	hwloc_topology_t hw;
};

enum source { SRC_SYSTEM, SRC_XML, SRC_SYNTHETIC };

static const char *source_name(enum source src)
{
	switch (src) {
	case SRC_XML:
		return "the hwloc XML file";
	case SRC_SYNTHETIC:
		return "the synthetic topology";
	default:
		return "this machine's topology";
	}
}

static struct vnb_topo *load(enum source src, const char *arg, vnb_error_t *err)
{
	struct vnb_topo *t = NULL;
	const char *what = source_name(src);
	int saved;

	if (src != SRC_SYSTEM && !arg) {
		errno = EINVAL;
		vnb_errprintf(err, "no topology file or description given");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		vnb_errprintf(err, "out of memory loading %s", what);
		return NULL;
	}
	if (hwloc_topology_init(&t->hw) < 0) {
		saved = errno;
		free(t);
		errno = saved;
		vnb_errprintf(err, "cannot initialise hwloc: %s",
			      strerror(errno));
		return NULL;
	}
	if (src == SRC_XML && hwloc_topology_set_xml(t->hw, arg) < 0) {
		vnb_errprintf(err, "cannot use %s %s: %s", what, arg,
			      strerror(errno));
		goto fail;
	}
	if (src == SRC_SYNTHETIC &&
	    hwloc_topology_set_synthetic(t->hw, arg) < 0) {
		errno = EINVAL;
		vnb_errprintf(err,
			      "bad synthetic topology '%s': write it as hwloc "
			      "does, e.g. 'pack:2 numa:1 core:4 pu:1'",
			      arg);
		goto fail;
	}
	if (hwloc_topology_load(t->hw) < 0) {
		if (errno == 0)
			errno = EINVAL;
		if (arg)
			vnb_errprintf(err, "cannot load %s %s: %s", what, arg,
				      strerror(errno));
		else
			vnb_errprintf(err, "cannot load %s: %s", what,
				      strerror(errno));
		goto fail;
	}
	return t;
fail:
	saved = errno;
	hwloc_topology_destroy(t->hw);
	free(t);
	errno = saved;
	return NULL;
}

struct vnb_topo *vnb_topo_load(vnb_error_t *err)
{
	return load(SRC_SYSTEM, NULL, err);
}

struct vnb_topo *vnb_topo_load_xml(const char *path, vnb_error_t *err)
{
	return load(SRC_XML, path, err);
}

struct vnb_topo *vnb_topo_load_synthetic(const char *desc, vnb_error_t *err)
{
	return load(SRC_SYNTHETIC, desc, err);
}

void vnb_topo_destroy(struct vnb_topo *t)
{
	int saved = errno;

	if (t) {
		hwloc_topology_destroy(t->hw);
		free(t);
	}
	errno = saved;
}

/* One number of a cpulist; advances *s. */
static int parse_cpu(const char **s, unsigned *out)
{
	unsigned long v = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > CPU_MAX)
			return -1;
		p++;
	}
	*s = p;
	*out = (unsigned)v;
	return 0;
}

/* A Linux cpulist ("0-3,8", one trailing newline allowed, as cpuset files
 * have it) into set.  Strict: no spaces, no empty items, no a-b with b < a.
 */
static int parse_cpulist(const char *s, hwloc_bitmap_t set)
{
	const char *p = s;

	if (!s)
		return -1;
	hwloc_bitmap_zero(set);
	for (;;) {
		unsigned a, b;

		if (parse_cpu(&p, &a) < 0)
			return -1;
		b = a;
		if (*p == '-') {
			p++;
			if (parse_cpu(&p, &b) < 0 || b < a)
				return -1;
		}
		if (hwloc_bitmap_set_range(set, a, (int)b) < 0)
			return -1;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\n')
			p++;
		return *p == '\0' ? 0 : -1;
	}
}

/* The job's cpuset from a cpulist, checked against the topology. */
static hwloc_bitmap_t job_cpuset(const struct vnb_topo *t, const char *cpulist,
				 vnb_error_t *err)
{
	hwloc_const_bitmap_t all;
	hwloc_bitmap_t set;
	char have[128];

	if (!t) {
		errno = EINVAL;
		vnb_errprintf(err, "no topology given");
		return NULL;
	}
	set = hwloc_bitmap_alloc();
	if (!set) {
		errno = ENOMEM;
		vnb_errprintf(err, "out of memory");
		return NULL;
	}
	if (parse_cpulist(cpulist, set) < 0) {
		errno = EINVAL;
		vnb_errprintf(err,
			      "bad CPU list '%s': write it as Linux does, "
			      "e.g. '0-3,8'",
			      cpulist ? cpulist : "(null)");
		goto fail;
	}
	all = hwloc_topology_get_topology_cpuset(t->hw);
	if (!hwloc_bitmap_isincluded(set, all)) {
		hwloc_bitmap_list_snprintf(have, sizeof(have), all);
		errno = EINVAL;
		vnb_errprintf(err,
			      "CPU list '%s' names CPUs this node does not "
			      "have (it has %s)",
			      cpulist, have);
		goto fail;
	}
	return set;
fail:
	hwloc_bitmap_free(set);
	return NULL;
}

/* The OS indexes of the NUMA nodes whose CPUs meet the cpuset. */
static int cpuset_numa(const struct vnb_topo *t, hwloc_const_bitmap_t cpus,
		       hwloc_bitmap_t nodes)
{
	hwloc_obj_t o = NULL;

	hwloc_bitmap_zero(nodes);
	while ((o = hwloc_get_next_obj_by_type(t->hw, HWLOC_OBJ_NUMANODE, o))) {
		if (o->cpuset && hwloc_bitmap_intersects(o->cpuset, cpus) &&
		    hwloc_bitmap_set(nodes, o->os_index) < 0)
			return -1;
	}
	return 0;
}

/* The NUMA object with this OS index, or NULL. */
static hwloc_obj_t numa_obj(const struct vnb_topo *t, int os_index)
{
	if (os_index < 0)
		return NULL;
	return hwloc_get_numanode_obj_by_os_index(t->hw, (unsigned)os_index);
}

/* Position of obj in a distance matrix, or -1. */
static int dist_pos(const struct hwloc_distances_s *d, hwloc_obj_t obj)
{
	unsigned i;

	for (i = 0; i < d->nbobjs; i++)
		if (d->objs[i] == obj)
			return (int)i;
	return -1;
}

/* Latency from the nearest of the job's NUMA nodes to dev, or UINT64_MAX
 * when the matrix does not know. */
static uint64_t job_distance(const struct vnb_topo *t,
			     const struct hwloc_distances_s *d,
			     hwloc_const_bitmap_t jobnodes, hwloc_obj_t dev)
{
	uint64_t best = UINT64_MAX;
	int j = dist_pos(d, dev);
	unsigned os;

	if (j < 0)
		return best;
	hwloc_bitmap_foreach_begin(os, jobnodes)
	{
		int i = dist_pos(d, numa_obj(t, (int)os));

		if (i >= 0 &&
		    d->values[(unsigned)i * d->nbobjs + (unsigned)j] < best)
			best = d->values[(unsigned)i * d->nbobjs + (unsigned)j];
	}
	hwloc_bitmap_foreach_end();
	return best;
}

struct rank_key {
	int cls; /* 0 local, 1 unknown, 2 remote */
	uint64_t dist;
	size_t idx;
};

static int rank_cmp(const void *a, const void *b)
{
	const struct rank_key *x = a, *y = b;

	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int vnb_topo_rank(const struct vnb_topo *t, const char *cpulist,
		  const int *numa, size_t n, size_t *order, vnb_error_t *err)
{
	struct hwloc_distances_s *dist = NULL;
	struct rank_key *keys = NULL;
	hwloc_bitmap_t cpus = NULL, nodes = NULL;
	unsigned nr = 1;
	size_t i;
	int rc = -1;

	if (n > 0 && (!numa || !order)) {
		errno = EINVAL;
		return vnb_errprintf(err, "no device NUMA list or order given");
	}
	cpus = job_cpuset(t, cpulist, err);
	if (!cpus)
		return -1;
	nodes = hwloc_bitmap_alloc();
	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!nodes || !keys || cpuset_numa(t, cpus, nodes) < 0) {
		errno = ENOMEM;
		vnb_errprintf(err, "out of memory ranking devices");
		goto out;
	}
	if (hwloc_distances_get_by_type(t->hw, HWLOC_OBJ_NUMANODE, &nr, &dist,
					HWLOC_DISTANCES_KIND_MEANS_LATENCY,
					0) < 0 ||
	    nr == 0)
		dist = NULL;
	for (i = 0; i < n; i++) {
		hwloc_obj_t obj = numa_obj(t, numa[i]);

		keys[i].idx = i;
		keys[i].dist = UINT64_MAX;
		if (!obj)
			keys[i].cls = 1;
		else if (hwloc_bitmap_isset(nodes, obj->os_index))
			keys[i].cls = 0;
		else {
			keys[i].cls = 2;
			if (dist)
				keys[i].dist =
				    job_distance(t, dist, nodes, obj);
		}
	}
	qsort(keys, n, sizeof(*keys), rank_cmp);
	for (i = 0; i < n; i++)
		order[i] = keys[i].idx;
	rc = 0;
out:
	if (dist)
		hwloc_distances_release(t->hw, dist);
	free(keys);
	hwloc_bitmap_free(nodes);
	hwloc_bitmap_free(cpus);
	return rc;
}

int vnb_topo_cpus_numa(const struct vnb_topo *t, const char *cpulist, char *buf,
		       size_t len, vnb_error_t *err)
{
	hwloc_bitmap_t cpus, nodes = NULL;
	int rc = -1, w;

	if (!buf || len == 0) {
		errno = EINVAL;
		return vnb_errprintf(err, "no buffer for the NUMA list");
	}
	cpus = job_cpuset(t, cpulist, err);
	if (!cpus)
		return -1;
	nodes = hwloc_bitmap_alloc();
	if (!nodes || cpuset_numa(t, cpus, nodes) < 0) {
		errno = ENOMEM;
		vnb_errprintf(err, "out of memory");
		goto out;
	}
	w = hwloc_bitmap_list_snprintf(buf, len, nodes);
	if (w < 0 || (size_t)w >= len) {
		buf[0] = '\0';
		errno = ERANGE;
		vnb_errprintf(err, "the NUMA list of CPUs '%s' needs %d bytes",
			      cpulist, w + 1);
		goto out;
	}
	rc = 0;
out:
	hwloc_bitmap_free(nodes);
	hwloc_bitmap_free(cpus);
	return rc;
}

int vnb_topo_cpus_expand(const struct vnb_topo *t, const char *cpulist,
			 unsigned *cpus, int *numa, size_t max, size_t *n,
			 vnb_error_t *err)
{
	hwloc_bitmap_t set = job_cpuset(t, cpulist, err);
	size_t k = 0;
	int cpu, rc = 0;

	if (!set)
		return -1;
	hwloc_bitmap_foreach_begin(cpu, set)
	{
		hwloc_obj_t o = NULL;

		if (k == max) {
			errno = ERANGE;
			rc = vnb_errprintf(err,
					   "CPU list '%s' has more than %zu "
					   "CPUs",
					   cpulist, max);
			break;
		}
		cpus[k] = (unsigned)cpu;
		numa[k] = -1;
		while ((o = hwloc_get_next_obj_by_type(t->hw,
						       HWLOC_OBJ_NUMANODE, o)))
			if (o->cpuset && hwloc_bitmap_isset(o->cpuset, cpu)) {
				numa[k] = (int)o->os_index;
				break;
			}
		k++;
	}
	hwloc_bitmap_foreach_end();
	hwloc_bitmap_free(set);
	if (rc == 0)
		*n = k;
	return rc;
}
