/*
 * sysfs.h - what sysfs.c and sriov.c share: reading sysfs attributes below
 * a root directory fd.  Internal to lib/topo.
 */
#ifndef VNB_TOPO_SYSFS_H
#define VNB_TOPO_SYSFS_H

#include <stdbool.h>

/* The whole number 0..max in a sysfs attribute below dirfd; -1 when the
 * file is missing (errno from openat) or holds anything else (EINVAL). */
long vnb_topo_read_uint(int dirfd, const char *path, long max);

/* Is s a PCI address "dddd:bb:dd.f" (hex, function 0-7)? */
bool vnb_topo_pci_shaped(const char *s);

#endif
