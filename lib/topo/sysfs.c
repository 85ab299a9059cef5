/*
 * sysfs.c - NUMA locality of network and PCI devices, read below a sysfs
 * root directory fd.
 *
 * Paths are relative and opened with openat(2), so that the kernel follows
 * the relative symlinks of sysfs (class/net/<if> -> ../../devices/...) and
 * tests can replay a fixture tree.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "topo/sysfs.h"
#include "topo/topo.h"

/* Highest NUMA node number we believe (Linux MAX_NUMNODES is 1 << 10). */
#define NUMA_MAX 65535

long vnb_topo_read_uint(int dirfd, const char *path, long max)
{
	char buf[32], *end;
	ssize_t n;
	long v;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	do {
		n = read(fd, buf, sizeof(buf) - 1);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0) {
		errno = EINVAL;
		return -1;
	}
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	if (n == 0 || !isdigit((unsigned char)buf[0])) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\0' || v > max) {
		errno = EINVAL;
		return -1;
	}
	return v;
}

/* A NUMA node number in a sysfs attribute, or -1 ("-1", missing, bad). */
static int read_numa(int dirfd, const char *path)
{
	return (int)vnb_topo_read_uint(dirfd, path, NUMA_MAX);
}

int vnb_topo_netdev_numa(int sysfs_fd, const char *ifname)
{
	char path[64];
	int saved = errno;
	int numa = -1;

	if (sysfs_fd >= 0 && ifname && vnb_name_valid(ifname, 15)) {
		snprintf(path, sizeof(path), "class/net/%s/device/numa_node",
			 ifname);
		numa = read_numa(sysfs_fd, path);
	}
	errno = saved;
	return numa;
}

bool vnb_topo_pci_shaped(const char *s)
{
	static const char shape[] = "xxxx:xx:xx.x";
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'x' ? !isxdigit((unsigned char)s[i])
				    : s[i] != shape[i])
			return false;
	}
	return s[11] >= '0' && s[11] <= '7';
}

int vnb_topo_pci_numa(int sysfs_fd, const char *pciaddr)
{
	char path[64];
	int saved = errno;
	int numa = -1;

	if (sysfs_fd >= 0 && pciaddr && vnb_topo_pci_shaped(pciaddr)) {
		snprintf(path, sizeof(path), "bus/pci/devices/%s/numa_node",
			 pciaddr);
		numa = read_numa(sysfs_fd, path);
	}
	errno = saved;
	return numa;
}
