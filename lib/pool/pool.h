/*
 * pool.h - the vNICs that a node offers a tenant, expanded from the config.
 */
#ifndef VNB_POOL_POOL_H
#define VNB_POOL_POOL_H

#include <stddef.h>

#include "common/error.h"
#include "conf/conf.h"
#include "topo/topo.h"

struct vnb_pool_vnic {
	char id[VNB_VNIC_ID_MAX]; /* ledger key: ifname, or "<pf>:vf<N>" */
	char ifname[VNB_IFNAME_MAX]; /* macvtap: the lower device; sriov: PF */
	int vf; /* sriov: VF index; macvtap: -1 */
	int numa; /* NUMA node, -1 unknown */
	const struct vnb_conf_pool *pool;
	/* sriov: the VF's PCI address "DDDD:BB:SS.F" (for the VM's
	 * <interface type='hostdev'>), "" when unknown: not read (sysfs_fd
	 * -1) or not found (vnb_pool_vf_info says why) */
	char pci[VNB_PCI_ADDR_MAX];
};

/* Expand the tenant's pools (or every pool when it names none) into *out
 * (caller frees), reading each device's NUMA node below sysfs_fd (-1: do
 * not read; numa stays -1), and each VF's PCI address and its own NUMA
 * node (the PF's when it has none).  A VF that sysfs does not show (PF
 * missing, too few VFs enabled, ...) is listed all the same, with pci ""
 * and the PF's NUMA node: one broken pool does not hide the others.  Order: pools and devices as in the config.
 * t may be NULL: every pool.  An empty result is *out NULL, *n 0.  The
 * entries point into conf (->pool): free them before conf.
 * Errors: ENOENT when the tenant's pool is not defined; EINVAL for a
 * malformed pool (bad interface name, empty or too large VF range) or a
 * device used twice (the same vNIC in two pools, or a macvtap lower
 * device that is also a PF or in another pool); ENOMEM.  On failure *out
 * and *n are left alone. */
int vnb_pool_list(const struct vnb_conf *conf, const struct vnb_conf_tenant *t,
		  int sysfs_fd, struct vnb_pool_vnic **out, size_t *n,
		  vnb_error_t *err);

/* The sysfs facts of an sriov vNIC v (from vnb_pool_list) into *out:
 * the VF's PCI address, NUMA node and netdev, see vnb_topo_vf.  Errors
 * as vnb_topo_vf (EINVAL also for a vNIC that is not a VF), with the
 * message in the pool's terms: "no interface X: is the PF name right in
 * pool 'Y'?", or, for too few VFs, what to write to sriov_numvfs for the
 * whole of the pool's VF range. */
int vnb_pool_vf_info(const struct vnb_pool_vnic *v, int sysfs_fd,
		     struct vnb_topo_vf *out, vnb_error_t *err);

#endif
