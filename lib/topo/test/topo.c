#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/tap.h"
#include "common/util.h"
#include "topo/topo.h"

static int open_fixture(const char *name)
{
	const char *src = getenv("VNB_SRCDIR");
	char path[PATH_MAX];
	int fd;

	if (!src)
		bail_out("VNB_SRCDIR is not set (run through make check)");
	snprintf(path, sizeof(path), "%s/lib/topo/test/%s", src, name);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		bail_out("cannot open %s: %s", path, strerror(errno));
	return fd;
}

static void test_netdev_numa(void)
{
	static const struct {
		const char *ifname;
		int numa;
		const char *why;
	} t[] = {
	    {"eth0", 1, "through the class/net symlink"},
	    {"eth1", 0, "node 0"},
	    {"eth2", -1, "numa_node -1"},
	    {"eth3", -1, "garbage content"},
	    {"eth4", -1, "no numa_node file"},
	    {"eth5", -1, "out of range"},
	    {"eth6", -1, "trailing junk"},
	    {"veth0", -1, "virtual device without device/"},
	    {"nosuch", -1, "missing interface"},
	    {"../eth0", -1, "path traversal refused"},
	    {"", -1, "empty name"},
	};
	int fd = open_fixture("sysfs-basic");
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		errno = 1234;
		is_int(vnb_topo_netdev_numa(fd, t[i].ifname), t[i].numa,
		       "netdev_numa(%s): %s", t[i].ifname, t[i].why);
		is_int(errno, 1234, "netdev_numa(%s) keeps errno", t[i].ifname);
	}
	is_int(vnb_topo_netdev_numa(fd, NULL), -1, "netdev_numa(NULL)");
	is_int(vnb_topo_netdev_numa(-1, "eth0"), -1, "netdev_numa(fd -1)");
	close(fd);
}

static void test_pci_numa(void)
{
	int fd = open_fixture("sysfs-basic");

	is_int(vnb_topo_pci_numa(fd, "0000:00:02.0"), 1, "pci_numa 02.0");
	is_int(vnb_topo_pci_numa(fd, "0000:00:03.0"), 0, "pci_numa 03.0");
	is_int(vnb_topo_pci_numa(fd, "0000:00:04.0"), -1, "pci_numa -1");
	is_int(vnb_topo_pci_numa(fd, "0000:00:05.0"), -1, "pci_numa garbage");
	is_int(vnb_topo_pci_numa(fd, "0000:00:06.0"), -1, "pci_numa no file");
	is_int(vnb_topo_pci_numa(fd, "0000:00:09.0"), -1, "pci_numa missing");
	is_int(vnb_topo_pci_numa(fd, "0000:00:02.8"), -1,
	       "pci_numa bad function refused");
	is_int(vnb_topo_pci_numa(fd, "../../../etc"), -1,
	       "pci_numa traversal refused");
	is_int(vnb_topo_pci_numa(fd, "00:02.0"), -1, "pci_numa short refused");
	is_int(vnb_topo_pci_numa(fd, NULL), -1, "pci_numa NULL");
	close(fd);
}

static void test_load(void)
{
	vnb_error_t err = {""};
	struct vnb_topo *t;
	char path[PATH_MAX];

	t = vnb_topo_load_synthetic("pack:2 numa:1 core:2 pu:1", &err);
	ok(t != NULL, "synthetic topology loads: %s", err.text);
	vnb_topo_destroy(t);

	errno = 0;
	t = vnb_topo_load_synthetic("pack:2 nonsense:3", &err);
	ok(t == NULL && errno == EINVAL, "bad synthetic -> EINVAL");
	like(err.text, "pack:2 nonsense:3", "message names the description");

	errno = 0;
	t = vnb_topo_load_synthetic(NULL, &err);
	ok(t == NULL && errno == EINVAL, "NULL synthetic -> EINVAL");

	errno = 0;
	t = vnb_topo_load_xml("/nonexistent/topo.xml", &err);
	ok(t == NULL && errno != 0, "missing XML fails (errno %d)", errno);
	like(err.text, "/nonexistent/topo.xml", "message names the file");

	snprintf(path, sizeof(path), "%s/lib/topo/test/README",
		 getenv("VNB_SRCDIR"));
	errno = 0;
	t = vnb_topo_load_xml(path, &err);
	ok(t == NULL && errno != 0, "non-XML file fails (errno %d)", errno);

	err.text[0] = '\0';
	t = vnb_topo_load(&err);
	ok(t != NULL, "this machine's topology loads: %s", err.text);
	vnb_topo_destroy(t);

	errno = 42;
	vnb_topo_destroy(NULL);
	is_int(errno, 42, "destroy(NULL) keeps errno");
}

static struct vnb_topo *load_xml(void)
{
	vnb_error_t err = {""};
	char path[PATH_MAX];
	struct vnb_topo *t;

	snprintf(path, sizeof(path), "%s/lib/topo/test/numa4.xml",
		 getenv("VNB_SRCDIR"));
	t = vnb_topo_load_xml(path, &err);
	if (!t)
		bail_out("cannot load %s: %s", path, err.text);
	return t;
}

static void fmt_order(const size_t *order, size_t n, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%zu",
					i ? " " : "", order[i]);
}

static void check_rank(const struct vnb_topo *t, const char *cpus,
		       const int *numa, size_t n, const char *want,
		       const char *why)
{
	vnb_error_t err = {""};
	size_t order[16];
	char got[64], shown[32];

	snprintf(shown, sizeof(shown), "%s", cpus);
	shown[strcspn(shown, "\n")] = '\0';

	if (vnb_topo_rank(t, cpus, numa, n, order, &err) < 0) {
		ok(false, "rank %s: %s", why, err.text);
		return;
	}
	fmt_order(order, n, got, sizeof(got));
	is_str(got, want, "rank cpus %s: %s", shown, why);
}

static void test_rank_synthetic(void)
{
	vnb_error_t err = {""};
	struct vnb_topo *t;
	const int numa[] = {1, -1, 0, 1, 7, 0};
	size_t order[6];

	t = vnb_topo_load_synthetic("pack:2 numa:1 core:2 pu:1", &err);
	if (!t)
		bail_out("synthetic: %s", err.text);
	/* PUs 0-1 on NUMA 0, 2-3 on NUMA 1.  Node 7 does not exist:
	 * unknown.  No distance matrix: remote ones keep their order. */
	check_rank(t, "0-1", numa, 6, "2 5 1 4 0 3", "NUMA 0 first");
	check_rank(t, "2", numa, 6, "0 3 1 4 2 5", "NUMA 1 first");
	check_rank(t, "1-2", numa, 6, "0 2 3 5 1 4", "both local, stable");
	check_rank(t, "3\n", numa, 6, "0 3 1 4 2 5", "trailing newline");
	check_rank(t, "0,3", numa, 6, "0 2 3 5 1 4", "single CPUs");
	check_rank(t, "0", numa, 0, "", "no devices");
	{
		char buf[16] = "";

		ok(vnb_topo_cpus_numa(t, "0-3", buf, sizeof(buf), &err) == 0,
		   "cpus_numa on the synthetic topology: %s", err.text);
		is_str(buf, "0-1", "pack:2 numa:1 gives two NUMA nodes");
	}

	static const char *bad[] = {"",	   "4",	 "0-4",	       "a",
				    "0-",  "-1", "1-0",	       "0,,1",
				    "0 1", "0,", "99999999999"};
	for (size_t i = 0; i < VNB_ARRAY_SIZE(bad); i++) {
		err.text[0] = '\0';
		errno = 0;
		ok(vnb_topo_rank(t, bad[i], numa, 6, order, &err) == -1 &&
		       errno == EINVAL,
		   "rank '%s' -> EINVAL", bad[i]);
		like(err.text, "CPU list", "message for '%s': %s", bad[i],
		     err.text);
	}
	errno = 0;
	ok(vnb_topo_rank(t, NULL, numa, 6, order, &err) == -1 &&
	       errno == EINVAL,
	   "rank NULL cpulist -> EINVAL");
	errno = 0;
	ok(vnb_topo_rank(NULL, "0", numa, 6, order, &err) == -1 &&
	       errno == EINVAL,
	   "rank NULL topology -> EINVAL");
	like(err.text, "topology", "message: %s", err.text);
	vnb_topo_destroy(t);
}

static void test_rank_distances(void)
{
	struct vnb_topo *t = load_xml();
	const int numa[] = {2, 3, 1, 0, -1, 2};

	/* From NUMA 0: 3 at 15, 1 at 20, 2 at 30. */
	check_rank(t, "0-1", numa, 6, "3 4 1 2 0 5", "by latency from 0");
	/* From NUMA 1: 2 at 15, 0 at 20, 3 at 30. */
	check_rank(t, "2-3", numa, 6, "2 4 0 5 3 1", "by latency from 1");
	/* From NUMA 0 and 3: 1 at min(20,30)=20, 2 at min(30,20)=20. */
	check_rank(t, "0,7", numa, 6, "1 3 4 0 2 5", "nearest of two nodes");
	vnb_topo_destroy(t);
}

static void test_cpus_numa(void)
{
	vnb_error_t err = {""};
	struct vnb_topo *t = load_xml();
	char buf[32];

	static const struct {
		const char *cpus, *want;
	} c[] = {
	    {"0", "0"},	    {"0-1", "0"},   {"0-3", "0-1"},
	    {"1,6", "0,3"}, {"0-7", "0-3"}, {"5", "2"},
	};
	for (size_t i = 0; i < VNB_ARRAY_SIZE(c); i++) {
		buf[0] = '\0';
		ok(vnb_topo_cpus_numa(t, c[i].cpus, buf, sizeof(buf), &err) ==
		       0,
		   "cpus_numa(%s) %s", c[i].cpus, err.text);
		is_str(buf, c[i].want, "cpus_numa(%s)", c[i].cpus);
	}
	errno = 0;
	ok(vnb_topo_cpus_numa(t, "0-7", buf, 3, &err) == -1 && errno == ERANGE,
	   "cpus_numa small buffer -> ERANGE");
	errno = 0;
	ok(vnb_topo_cpus_numa(t, "8", buf, sizeof(buf), &err) == -1 &&
	       errno == EINVAL,
	   "cpus_numa absent CPU -> EINVAL");
	like(err.text, "0-7", "message says which CPUs exist: %s", err.text);
	errno = 0;
	ok(vnb_topo_cpus_numa(t, "0", NULL, 0, &err) == -1 && errno == EINVAL,
	   "cpus_numa NULL buffer -> EINVAL");
	vnb_topo_destroy(t);
}

static void test_cpus_expand(void)
{
	vnb_error_t err = {""};
	struct vnb_topo *t = load_xml();
	unsigned cpus[8];
	int numa[8];
	size_t n = 0;

	ok(vnb_topo_cpus_expand(t, "1,6,2-3", cpus, numa, 8, &n, &err) == 0 &&
	       n == 4,
	   "cpus_expand: 4 CPUs %s", err.text);
	ok(cpus[0] == 1 && cpus[1] == 2 && cpus[2] == 3 && cpus[3] == 6,
	   "in ascending order");
	ok(numa[0] == 0 && numa[1] == 1 && numa[2] == 1 && numa[3] == 3,
	   "each with its NUMA node (%d %d %d %d)", numa[0], numa[1], numa[2],
	   numa[3]);
	errno = 0;
	ok(vnb_topo_cpus_expand(t, "0-7", cpus, numa, 4, &n, &err) == -1 &&
	       errno == ERANGE,
	   "more CPUs than room -> ERANGE");
	errno = 0;
	ok(vnb_topo_cpus_expand(t, "9", cpus, numa, 8, &n, &err) == -1 &&
	       errno == EINVAL,
	   "absent CPU -> EINVAL");
	vnb_topo_destroy(t);
}

int main(void)
{
	test_netdev_numa();
	test_pci_numa();
	test_load();
	test_rank_synthetic();
	test_rank_distances();
	test_cpus_numa();
	test_cpus_expand();
	return done_testing();
}
