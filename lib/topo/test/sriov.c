/*
 * Unit tests of vnb_topo_vf over a sysfs tree that the test builds in a
 * temporary directory as the kernel lays it out (relative symlinks from
 * class/net into devices/, netdevs below their PCI device, virtfn<N> links
 * between siblings), so that nothing with cycles is committed.
 */
#include "config.h" /* _GNU_SOURCE: nftw's FTW_PHYS with glibc */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/tap.h"
#include "common/util.h"
#include "topo/topo.h"

static char root[256];

/* mkdir -p root/path */
static void mk(const char *path)
{
	char p[PATH_MAX];
	size_t i, len;

	len = (size_t)snprintf(p, sizeof(p), "%s/%s", root, path);
	for (i = strlen(root) + 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			bail_out("mkdir %s: %s", p, strerror(errno));
		if (i < len)
			p[i] = '/';
	}
}

static void put(const char *path, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, path);
	f = fopen(p, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		bail_out("write %s: %s", p, strerror(errno));
}

static void ln(const char *target, const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, path);
	if (symlink(target, p) < 0)
		bail_out("symlink %s: %s", p, strerror(errno));
}

#define BUS "devices/pci0000:3a/0000:3a:00.0"

/* A PF with VFs, as "0000:3b:00.0" with netdev ens1f0 on NUMA node 1. */
static void pf(const char *pci, const char *ifname, const char *numa,
	       const char *total, const char *num)
{
	char d[128], p[256], t[256];

	snprintf(d, sizeof(d), BUS "/%s", pci);
	snprintf(p, sizeof(p), "%s/net/%s", d, ifname);
	mk(p);
	snprintf(p, sizeof(p), "%s/numa_node", d);
	put(p, numa);
	if (total) {
		snprintf(p, sizeof(p), "%s/sriov_totalvfs", d);
		put(p, total);
	}
	if (num) {
		snprintf(p, sizeof(p), "%s/sriov_numvfs", d);
		put(p, num);
	}
	snprintf(p, sizeof(p), "%s/net/%s/device", d, ifname);
	snprintf(t, sizeof(t), "../../../%s", pci);
	ln(t, p);
	snprintf(p, sizeof(p), "class/net/%s", ifname);
	snprintf(t, sizeof(t), "../../" BUS "/%s/net/%s", pci, ifname);
	ln(t, p);
}

/* VF n of the PF at pfpci: its PCI function, virtfn<n> and physfn links,
 * numa_node (NULL: none) and netdev (NULL: none). */
static void vf(const char *pfpci, int n, const char *pci, const char *numa,
	       const char *netdev)
{
	char d[128], p[256], t[256];

	snprintf(d, sizeof(d), BUS "/%s", pci);
	mk(d);
	snprintf(p, sizeof(p), "%s/physfn", d);
	snprintf(t, sizeof(t), "../%s", pfpci);
	ln(t, p);
	snprintf(p, sizeof(p), BUS "/%s/virtfn%d", pfpci, n);
	snprintf(t, sizeof(t), "../%s", pci);
	ln(t, p);
	if (numa) {
		snprintf(p, sizeof(p), "%s/numa_node", d);
		put(p, numa);
	}
	if (netdev) {
		snprintf(p, sizeof(p), "%s/net/%s", d, netdev);
		mk(p);
	}
}

static void build(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/vnb-sriov-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		bail_out("mkdtemp %s: %s", root, strerror(errno));
	mk("class/net");
	/* ens1f0: 8 VFs possible, 5 enabled; VF 4 lost its virtfn link. */
	pf("0000:3b:00.0", "ens1f0", "1\n", "8\n", "5\n");
	vf("0000:3b:00.0", 0, "0000:3b:02.0", "1\n", "ens1f0v0");
	vf("0000:3b:00.0", 1, "0000:3b:02.1", NULL, NULL);
	vf("0000:3b:00.0", 2, "0000:3b:02.2", "-1\n", NULL);
	vf("0000:3b:00.0", 3, "0000:3B:02.3", "0\n", "eth7");
	/* ens2f0: SR-IOV capable, none enabled, unknown NUMA node. */
	pf("0000:3b:00.1", "ens2f0", "-1\n", "4\n", "0\n");
	/* eth9: a NIC without SR-IOV. */
	pf("0000:3b:00.2", "eth9", "0\n", NULL, NULL);
	/* ens3f0: a virtfn0 that points at no PCI address. */
	pf("0000:3b:00.3", "ens3f0", "0\n", "2\n", "2\n");
	ln("../nowhere", BUS "/0000:3b:00.3/virtfn0");
	/* veth0: virtual. */
	mk("devices/virtual/net/veth0");
	ln("../../devices/virtual/net/veth0", "class/net/veth0");
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void check_vf(int fd, const char *pfname, int n, const char *pci,
		     int numa, const char *netdev)
{
	struct vnb_topo_vf out;
	vnb_error_t err = {""};

	if (vnb_topo_vf(fd, pfname, n, &out, &err) < 0) {
		ok(false, "%s VF %d: %s", pfname, n, err.text);
		return;
	}
	ok(strcmp(out.pci, pci) == 0 && out.numa == numa &&
	       strcmp(out.netdev, netdev) == 0 && out.totalvfs == 8 &&
	       out.numvfs == 5,
	   "%s VF %d: %s numa %d netdev '%s' (got %s %d '%s')", pfname, n, pci,
	   numa, netdev, out.pci, out.numa, out.netdev);
}

static void check_err(int fd, const char *pfname, int n, int want_errno,
		      const char *want_text)
{
	struct vnb_topo_vf out;
	vnb_error_t err = {""};

	errno = 0;
	ok(vnb_topo_vf(fd, pfname, n, &out, &err) == -1 && errno == want_errno,
	   "%s VF %d -> %s", pfname ? pfname : "(null)", n,
	   strerror(want_errno));
	like(err.text, want_text, "message: %s", err.text);
}

int main(void)
{
	struct vnb_topo_vf out;
	int fd;

	build();
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		bail_out("open %s: %s", root, strerror(errno));

	check_vf(fd, "ens1f0", 0, "0000:3b:02.0", 1, "ens1f0v0");
	check_vf(fd, "ens1f0", 1, "0000:3b:02.1", 1, "");
	check_vf(fd, "ens1f0", 2, "0000:3b:02.2", 1, "");
	check_vf(fd, "ens1f0", 3, "0000:3b:02.3", 0, "eth7");

	check_err(fd, "nosuch0", 0, ENODEV, "no interface nosuch0");
	check_err(fd, "veth0", 0, EOPNOTSUPP, "veth0 is not an SR-IOV PF");
	check_err(fd, "eth9", 0, EOPNOTSUPP, "eth9 is not an SR-IOV PF");
	check_err(fd, "ens1f0", 5, ERANGE,
		  "PF ens1f0 has only 5 VFs enabled, so no VF 5; echo 0 > "
		  "/sys/class/net/ens1f0/device/sriov_numvfs, then echo 6 > "
		  "it");
	check_err(fd, "ens1f0", 8, ERANGE,
		  "PF ens1f0 supports only 8 VFs (sriov_totalvfs), so no VF 8");
	check_err(fd, "ens2f0", 1, ERANGE,
		  "PF ens2f0 has no VFs enabled, so no VF 1; echo 2 > "
		  "/sys/class/net/ens2f0/device/sriov_numvfs");
	check_err(fd, "ens1f0", 4, EIO,
		  "sysfs has no class/net/ens1f0/device/"
		  "virtfn4");
	check_err(fd, "ens3f0", 0, EIO, "points to '../nowhere', not to a PCI");
	check_err(fd, "../x", 0, EINVAL, "no sysfs, valid PF name");
	check_err(fd, "ens1f0", -1, EINVAL, "VF index");
	check_err(-1, "ens1f0", 0, EINVAL, "no sysfs");

	memset(&out, 0xff, sizeof(out));
	ok(vnb_topo_vf(fd, "ens1f0", 6, &out, NULL) == -1 && errno == ERANGE &&
	       out.totalvfs == 8 && out.numvfs == 5 && out.pci[0] == '\0',
	   "ERANGE still fills totalvfs and numvfs; err may be NULL");

	close(fd);
	if (nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		diag("cannot remove %s: %s", root, strerror(errno));
	return done_testing();
}
