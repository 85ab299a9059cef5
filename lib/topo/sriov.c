/*
 * sriov.c - a PF's VFs as sysfs shows them, read below a sysfs root
 * directory fd (as sysfs.c does), so that tests replay fixture trees.
 *
 * The kernel follows sysfs's relative symlinks (class/net/<pf> ->
 * ../../devices/..., device -> ../../../<pci>) while resolving a path
 * given to openat(2) or readlinkat(2); only the last link, virtfn<N>, is
 * read rather than followed: its last part is the VF's PCI address.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "topo/sysfs.h"
#include "topo/topo.h"

/* PCIe counts a PF's VFs in 16 bits. */
#define VF_MAX 65535

/* The first netdev in the directory path below dirfd, or "". */
static void first_netdev(int dirfd, const char *path, char *name, size_t len)
{
	struct dirent *de;
	DIR *d;
	int fd;

	name[0] = '\0';
	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] != '.' && vnb_name_valid(de->d_name, 15) &&
		    strlen(de->d_name) < len) {
			snprintf(name, len, "%s", de->d_name);
			break;
		}
	}
	closedir(d);
}

int vnb_topo_vf(int sysfs_fd, const char *pf, int vf, struct vnb_topo_vf *out,
		vnb_error_t *err)
{
	char path[96], link[256];
	const char *base;
	long total, num;
	ssize_t n;
	size_t i;
	int fd;

	if (sysfs_fd < 0 || !pf || !vnb_name_valid(pf, 15) || vf < 0 ||
	    vf > VF_MAX || !out) {
		errno = EINVAL;
		return vnb_errprintf(err, "no sysfs, valid PF name, VF index "
					  "or output given");
	}
	memset(out, 0, sizeof(*out));
	out->numa = -1;
	snprintf(path, sizeof(path), "class/net/%s", pf);
	fd = openat(sysfs_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		errno = ENODEV;
		return vnb_errprintf(err, "no interface %s (no %s in sysfs)",
				     pf, path);
	}
	close(fd);
	snprintf(path, sizeof(path), "class/net/%s/device/sriov_totalvfs", pf);
	total = vnb_topo_read_uint(sysfs_fd, path, VF_MAX);
	snprintf(path, sizeof(path), "class/net/%s/device/sriov_numvfs", pf);
	num = vnb_topo_read_uint(sysfs_fd, path, VF_MAX);
	if (total < 0 || num < 0) {
		errno = EOPNOTSUPP;
		return vnb_errprintf(err,
				     "%s is not an SR-IOV PF: it has no "
				     "device/sriov_totalvfs and sriov_numvfs "
				     "(a virtual device, a NIC without "
				     "SR-IOV, or SR-IOV off in its firmware)",
				     pf);
	}
	out->totalvfs = (unsigned)total;
	out->numvfs = (unsigned)num;
	if (vf >= total) {
		errno = ERANGE;
		return vnb_errprintf(err,
				     "PF %s supports only %ld VFs "
				     "(sriov_totalvfs), so no VF %d",
				     pf, total, vf);
	}
	if (vf >= num) {
		errno = ERANGE;
		if (num == 0)
			return vnb_errprintf(
			    err,
			    "PF %s has no VFs enabled, so no VF %d; echo %d > "
			    "/sys/class/net/%s/device/sriov_numvfs",
			    pf, vf, vf + 1, pf);
		return vnb_errprintf(
		    err,
		    "PF %s has only %ld VFs enabled, so no VF %d; echo 0 > "
		    "/sys/class/net/%s/device/sriov_numvfs, then echo %d > "
		    "it (with no VF in use)",
		    pf, num, vf, pf, vf + 1);
	}
	snprintf(path, sizeof(path), "class/net/%s/device/virtfn%d", pf, vf);
	n = readlinkat(sysfs_fd, path, link, sizeof(link) - 1);
	if (n < 0 || n == (ssize_t)sizeof(link) - 1) {
		errno = EIO;
		return vnb_errprintf(err,
				     "PF %s has %ld VFs enabled but sysfs has "
				     "no %s",
				     pf, num, path);
	}
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (!vnb_topo_pci_shaped(base)) {
		errno = EIO;
		return vnb_errprintf(
		    err, "%s points to '%s', not to a PCI address", path, link);
	}
	for (i = 0; base[i]; i++)
		out->pci[i] = (char)tolower((unsigned char)base[i]);
	snprintf(path, sizeof(path), "class/net/%s/device/virtfn%d/numa_node",
		 pf, vf);
	out->numa = (int)vnb_topo_read_uint(sysfs_fd, path, 65535);
	if (out->numa < 0)
		out->numa = vnb_topo_netdev_numa(sysfs_fd, pf);
	snprintf(path, sizeof(path), "class/net/%s/device/virtfn%d/net", pf,
		 vf);
	first_netdev(sysfs_fd, path, out->netdev, sizeof(out->netdev));
	return 0;
}
