/*
 * topo.h - where a job's CPUs and a node's vNICs sit (hwloc, sysfs).
 *
 * sysfs is always read relative to a root directory fd (normally "/sys"),
 * so tests replay fixture trees; topologies for tests come from hwloc XML
 * or a synthetic description.
 */
#ifndef VNB_TOPO_TOPO_H
#define VNB_TOPO_TOPO_H

#include <stddef.h>

#include "common/error.h"

struct vnb_topo;

/* The running machine's topology.  The loaders return NULL with errno
 * (EINVAL for a bad description or file, ENOENT for a missing file, ...)
 * and a message naming what was given.  destroy accepts NULL and keeps
 * errno. */
struct vnb_topo *vnb_topo_load(vnb_error_t *err);
/* From an hwloc XML file (tests, or an admin's saved topology). */
struct vnb_topo *vnb_topo_load_xml(const char *path, vnb_error_t *err);
/* From an hwloc synthetic description, e.g. "pack:2 numa:1 core:4 pu:1". */
struct vnb_topo *vnb_topo_load_synthetic(const char *desc, vnb_error_t *err);
void vnb_topo_destroy(struct vnb_topo *t);

/* The NUMA node of a network interface: <sysfs>/class/net/<ifname>/device/
 * numa_node.  -1 when unknown (virtual device, no NUMA, value -1); never
 * an error, since an unknown locality only weakens the choice. */
int vnb_topo_netdev_numa(int sysfs_fd, const char *ifname);

/* The NUMA node of a PCI device by address "0000:3b:02.1". -1: unknown.
 * Both read a whole non-negative number; anything else is -1, and a name
 * or address that could leave the directory ("../x") is -1 too.  errno is
 * kept. */
int vnb_topo_pci_numa(int sysfs_fd, const char *pciaddr);

/* Order devices by closeness to the job's CPUs (a Linux cpulist such as
 * "0-3,8").  numa[i] is device i's NUMA node (-1 unknown).  order gets a
 * permutation of 0..n-1: devices on a NUMA node of the job's CPUs first,
 * then unknown ones, then the others by hwloc distance when known; stable
 * within a class.  -1 with EINVAL for a bad cpulist or CPUs that the
 * topology does not have.
 * A device on a NUMA node the topology lacks counts as unknown; remote
 * devices are ordered by the smallest latency from any of the job's NUMA
 * nodes.  A cpulist may end in one newline (as cpuset files do). */
int vnb_topo_rank(const struct vnb_topo *t, const char *cpulist,
		  const int *numa, size_t n, size_t *order, vnb_error_t *err);

/* The NUMA nodes that a cpulist covers, as a cpulist-style string such
 * as "0-1" (for the job record and, later, the guest NUMA layout).
 * EINVAL as for vnb_topo_rank, or for no buffer; ERANGE when buf is too
 * small (buf is then ""). */
int vnb_topo_cpus_numa(const struct vnb_topo *t, const char *cpulist, char *buf,
		       size_t len, vnb_error_t *err);

/* The job's CPUs of a cpulist, in ascending order, into cpus[] and the OS
 * index of each one's NUMA node into numa[] (-1 when the topology has no
 * NUMA node over it); at most max of them, *n says how many.  EINVAL as
 * for vnb_topo_rank; ERANGE when the list has more than max CPUs.  For
 * the VM's vCPU pinning and guest NUMA layout. */
int vnb_topo_cpus_expand(const struct vnb_topo *t, const char *cpulist,
			 unsigned *cpus, int *numa, size_t max, size_t *n,
			 vnb_error_t *err);

/* A PCI address "DDDD:BB:SS.F" and its NUL. */
#define VNB_PCI_ADDR_MAX 13

/* What sysfs says about one VF of a PF. */
struct vnb_topo_vf {
	char pci[VNB_PCI_ADDR_MAX]; /* the VF's PCI address, lower-case */
	char netdev[16]; /* the VF's own netdev, "" when it has none (bound
			    to vfio-pci or to no driver) */
	int numa; /* the VF's NUMA node, else the PF's; -1 unknown */
	unsigned totalvfs, numvfs; /* the PF's sriov_totalvfs, _numvfs */
};

/* VF vf of PF pf, from <sysfs>/class/net/<pf>/device/: sriov_totalvfs,
 * sriov_numvfs, and the symlink virtfn<vf> (whose last part is the VF's
 * PCI address), virtfn<vf>/numa_node and virtfn<vf>/net/<netdev>.
 * Errors, each with a message naming the PF:
 *   EINVAL      sysfs_fd < 0, a bad interface name, vf < 0, out NULL;
 *   ENODEV      no interface pf;
 *   EOPNOTSUPP  pf is not an SR-IOV PF (a virtual device, or no
 *               sriov_totalvfs: no SR-IOV capability, or it is off in the
 *               firmware);
 *   ERANGE      vf >= sriov_totalvfs, or vf >= sriov_numvfs (the message
 *               says what to write to sriov_numvfs); out->totalvfs and
 *               out->numvfs are filled even then;
 *   EIO         sysfs contradicts itself (virtfn<vf> missing although
 *               sriov_numvfs covers it, or not a PCI address). */
int vnb_topo_vf(int sysfs_fd, const char *pf, int vf, struct vnb_topo_vf *out,
		vnb_error_t *err);

#endif
