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
#include "pool/pool.h"

/* A config built by hand: the YAML parser is another module's. */
static char lower_a[][VNB_IFNAME_MAX] = {"vnic0", "vnic1", "vnic2"};
static char lower_b[][VNB_IFNAME_MAX] = {"vnic3"};

static struct vnb_conf_pool pools[] = {
    {.name = "lower",
     .backend = VNB_BACKEND_MACVTAP,
     .devices = lower_a,
     .ndevices = 3},
    {.name = "vfs",
     .backend = VNB_BACKEND_SRIOV,
     .pf = "ens1f0",
     .vf_first = 2,
     .vf_last = 4},
    {.name = "more",
     .backend = VNB_BACKEND_MACVTAP,
     .devices = lower_b,
     .ndevices = 1},
};

static struct vnb_conf conf = {.pools = pools, .npools = 3};

static int open_fixture(void)
{
	const char *src = getenv("VNB_SRCDIR");
	char path[PATH_MAX];
	int fd;

	if (!src)
		bail_out("VNB_SRCDIR is not set (run through make check)");
	snprintf(path, sizeof(path), "%s/lib/pool/test/sysfs-node", src);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		bail_out("cannot open %s: %s", path, strerror(errno));
	return fd;
}

/* "id/ifname/vf/numa ..." of a list, for one comparison per case. */
static void fmt_list(const struct vnb_pool_vnic *v, size_t n, char *buf,
		     size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s/%s/%d/%d",
					i ? " " : "", v[i].id, v[i].ifname,
					v[i].vf, v[i].numa);
}

static void check_list(const struct vnb_conf_tenant *t, int fd,
		       const char *want, const char *why)
{
	struct vnb_pool_vnic *v = NULL;
	vnb_error_t err = {""};
	size_t n = 0;
	char got[512];

	if (vnb_pool_list(&conf, t, fd, &v, &n, &err) < 0) {
		ok(false, "%s: %s", why, err.text);
		return;
	}
	fmt_list(v, n, got, sizeof(got));
	is_str(got, want, "%s", why);
	free(v);
}

static void test_expand(void)
{
	struct vnb_conf_tenant all = {.name = "a", .pool = ""};
	struct vnb_conf_tenant vfs = {.name = "b", .pool = "vfs"};
	struct vnb_conf_tenant lower = {.name = "c", .pool = "lower"};
	struct vnb_pool_vnic *v = NULL;
	vnb_error_t err = {""};
	size_t n = 0;
	int fd = open_fixture();

	check_list(&all, fd,
		   "vnic0/vnic0/-1/0 vnic1/vnic1/-1/1 vnic2/vnic2/-1/-1 "
		   "ens1f0:vf2/ens1f0/2/1 ens1f0:vf3/ens1f0/3/1 "
		   "ens1f0:vf4/ens1f0/4/1 vnic3/vnic3/-1/-1",
		   "every pool, in config order, NUMA from sysfs");
	check_list(NULL, fd,
		   "vnic0/vnic0/-1/0 vnic1/vnic1/-1/1 vnic2/vnic2/-1/-1 "
		   "ens1f0:vf2/ens1f0/2/1 ens1f0:vf3/ens1f0/3/1 "
		   "ens1f0:vf4/ens1f0/4/1 vnic3/vnic3/-1/-1",
		   "no tenant: every pool");
	check_list(&vfs, fd,
		   "ens1f0:vf2/ens1f0/2/1 ens1f0:vf3/ens1f0/3/1 "
		   "ens1f0:vf4/ens1f0/4/1",
		   "sriov pool: one vNIC per VF, NUMA of the PF");
	check_list(&lower, -1,
		   "vnic0/vnic0/-1/-1 vnic1/vnic1/-1/-1 vnic2/vnic2/-1/-1",
		   "sysfs_fd -1: NUMA unknown");

	ok(vnb_pool_list(&conf, &vfs, -1, &v, &n, &err) == 0 && n == 3 &&
	       v[0].pool == &pools[1] && v[2].pool == &pools[1],
	   "entries point to their pool");
	free(v);
	close(fd);
}

static void test_empty(void)
{
	struct vnb_conf_pool p = {.name = "none",
				  .backend = VNB_BACKEND_MACVTAP};
	struct vnb_conf c = {.pools = &p, .npools = 1};
	struct vnb_conf c0 = {0};
	struct vnb_pool_vnic *v = (struct vnb_pool_vnic *)&c;
	vnb_error_t err = {""};
	size_t n = 99;

	ok(vnb_pool_list(&c, NULL, -1, &v, &n, &err) == 0 && v == NULL &&
	       n == 0,
	   "empty macvtap pool: no vNICs");
	n = 99;
	ok(vnb_pool_list(&c0, NULL, -1, &v, &n, &err) == 0 && v == NULL &&
	       n == 0,
	   "no pools at all: no vNICs");
}

/* A failing call sets errno, says why, and leaves *out and *n alone. */
static void check_fail(const struct vnb_conf *c,
		       const struct vnb_conf_tenant *t, int want_errno,
		       const char *want_text, const char *why)
{
	struct vnb_pool_vnic *v = (struct vnb_pool_vnic *)c;
	vnb_error_t err = {""};
	size_t n = 77;
	int rc;

	errno = 0;
	rc = vnb_pool_list(c, t, -1, &v, &n, &err);
	ok(rc == -1 && errno == want_errno, "%s -> %s", why,
	   strerror(want_errno));
	ok(v == (struct vnb_pool_vnic *)c && n == 77, "%s: outputs untouched",
	   why);
	like(err.text, want_text, "%s: message '%s'", why, err.text);
}

static void test_errors(void)
{
	struct vnb_conf_tenant missing = {.name = "acme", .pool = "gone"};
	char dup[][VNB_IFNAME_MAX] = {"vnic1"};
	char twice[][VNB_IFNAME_MAX] = {"vnic7", "vnic7"};
	char pfdev[][VNB_IFNAME_MAX] = {"ens1f0"};
	char bad[][VNB_IFNAME_MAX] = {"vnic0", "../etc"};
	struct vnb_conf_pool p[2];
	struct vnb_conf c = {.pools = p, .npools = 2};
	struct vnb_pool_vnic *v = NULL;
	vnb_error_t err = {""};
	size_t n;

	check_fail(&conf, &missing, ENOENT,
		   "tenant 'acme' uses pool 'gone', which the config does not "
		   "define (pools: lower, vfs, more)",
		   "tenant names a missing pool");

	p[0] = pools[0];
	p[1] = (struct vnb_conf_pool){.name = "dup",
				      .backend = VNB_BACKEND_MACVTAP,
				      .devices = dup,
				      .ndevices = 1};
	check_fail(&c, NULL, EINVAL, "device 'vnic1' is used twice",
		   "lower device in two pools");

	p[1] = (struct vnb_conf_pool){.name = "twice",
				      .backend = VNB_BACKEND_MACVTAP,
				      .devices = twice,
				      .ndevices = 2};
	check_fail(&c, NULL, EINVAL, "pool 'twice' lists device 'vnic7' twice",
		   "lower device twice in one pool");

	p[0] = pools[1];
	p[1] = (struct vnb_conf_pool){.name = "pf",
				      .backend = VNB_BACKEND_MACVTAP,
				      .devices = pfdev,
				      .ndevices = 1};
	check_fail(&c, NULL, EINVAL, "device 'ens1f0' is used twice",
		   "PF also a macvtap lower device");

	p[1] = pools[1];
	p[1].vf_first = 4;
	p[1].vf_last = 6;
	check_fail(&c, NULL, EINVAL, "device 'ens1f0' is used twice",
		   "overlapping VF ranges");

	p[1].vf_first = 5;
	ok(vnb_pool_list(&c, NULL, -1, &v, &n, &err) == 0 && n == 5 &&
	       strcmp(v[4].id, "ens1f0:vf6") == 0,
	   "disjoint VF ranges of one PF are fine: %s", err.text);
	free(v);

	p[1].vf_first = 7;
	p[1].vf_last = 6;
	check_fail(&c, NULL, EINVAL, "VF range 7-6", "empty VF range");
	p[1].vf_first = 0;
	p[1].vf_last = 70000;
	check_fail(&c, NULL, EINVAL, "VF range 0-70000", "huge VF range");

	p[1] = pools[1];
	p[1].pf[0] = '\0';
	check_fail(&c, NULL, EINVAL, "the PF '' is not a valid", "empty PF");

	p[1] = (struct vnb_conf_pool){.name = "bad",
				      .backend = VNB_BACKEND_MACVTAP,
				      .devices = bad,
				      .ndevices = 2};
	check_fail(&c, NULL, EINVAL, "device 1 '../etc'", "bad device name");

	p[1] = pools[0];
	p[1].backend = (enum vnb_backend)7;
	check_fail(&c, NULL, EINVAL, "unknown backend", "unknown backend");

	errno = 0;
	ok(vnb_pool_list(NULL, NULL, -1, &v, &n, &err) == -1 && errno == EINVAL,
	   "NULL conf -> EINVAL");
	errno = 0;
	ok(vnb_pool_list(&conf, NULL, -1, NULL, &n, NULL) == -1 &&
	       errno == EINVAL,
	   "NULL out -> EINVAL, err may be NULL");
}

/* --- VFs: a sysfs tree built at run time in $TMPDIR --- */

static char root[256];

static void at(char *p, size_t len, const char *path)
{
	snprintf(p, len, "%s/%s", root, path);
}

static void mk(const char *path)
{
	char p[PATH_MAX];
	size_t i, len;

	at(p, sizeof(p), path);
	len = strlen(p);
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

	at(p, sizeof(p), path);
	f = fopen(p, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		bail_out("write %s: %s", p, strerror(errno));
}

static void ln(const char *target, const char *path)
{
	char p[PATH_MAX];

	at(p, sizeof(p), path);
	if (symlink(target, p) < 0)
		bail_out("symlink %s: %s", p, strerror(errno));
}

/* PF ifname (its device a plain directory, which openat treats alike)
 * with total and num VFs, NUMA node 1, and virtfn<i> for i < num pointing
 * at 0000:3b:02.<i>, whose numa_node is 0 for i == 3. */
static void pf(const char *ifname, const char *total, int num)
{
	char d[64], p[128], t[64];
	int i;

	snprintf(d, sizeof(d), "class/net/%s/device", ifname);
	mk(d);
	snprintf(p, sizeof(p), "%s/numa_node", d);
	put(p, "1\n");
	snprintf(p, sizeof(p), "%s/sriov_totalvfs", d);
	put(p, total);
	snprintf(p, sizeof(p), "%s/sriov_numvfs", d);
	snprintf(t, sizeof(t), "%d\n", num);
	put(p, t);
	for (i = 0; i < num; i++) {
		snprintf(p, sizeof(p), "%s/virtfn%d", d, i);
		snprintf(t, sizeof(t), "../0000:3b:02.%d", i);
		ln(t, p);
		snprintf(p, sizeof(p), "class/net/%s/0000:3b:02.%d", ifname, i);
		mk(p);
		if (i == 3) {
			snprintf(p, sizeof(p),
				 "class/net/%s/0000:3b:02.%d/numa_node", ifname,
				 i);
			put(p, "0\n");
		}
	}
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void check_info(const struct vnb_pool_vnic *v, int fd, int want_errno,
		       const char *want_text)
{
	struct vnb_topo_vf out;
	vnb_error_t err = {""};

	errno = 0;
	ok(vnb_pool_vf_info(v, fd, &out, &err) == -1 && errno == want_errno,
	   "vf_info %s -> %s", v->id, strerror(want_errno));
	like(err.text, want_text, "message: %s", err.text);
}

static void test_vfs(void)
{
	const char *tmp = getenv("TMPDIR");
	struct vnb_conf_pool p[4] = {
	    {.name = "vfs",
	     .backend = VNB_BACKEND_SRIOV,
	     .pf = "ens1f0",
	     .vf_first = 2,
	     .vf_last = 4},
	    {.name = "off",
	     .backend = VNB_BACKEND_SRIOV,
	     .pf = "ens2f0",
	     .vf_first = 0,
	     .vf_last = 4},
	    {.name = "small",
	     .backend = VNB_BACKEND_SRIOV,
	     .pf = "ens3f0",
	     .vf_first = 0,
	     .vf_last = 4},
	    {.name = "typo",
	     .backend = VNB_BACKEND_SRIOV,
	     .pf = "ens9f0",
	     .vf_first = 0,
	     .vf_last = 0},
	};
	struct vnb_conf c = {.pools = p, .npools = 4};
	struct vnb_conf_tenant vfs = {.name = "b", .pool = "vfs"};
	struct vnb_pool_vnic *v = NULL;
	struct vnb_topo_vf out;
	vnb_error_t err = {""};
	size_t n = 0, i;
	char got[512];
	int fd;

	snprintf(root, sizeof(root), "%s/vnb-pool-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		bail_out("mkdtemp %s: %s", root, strerror(errno));
	pf("ens1f0", "8\n", 4);
	pf("ens2f0", "8\n", 0);
	pf("ens3f0", "4\n", 2);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		bail_out("open %s: %s", root, strerror(errno));

	if (vnb_pool_list(&c, &vfs, fd, &v, &n, &err) < 0 || n != 3)
		bail_out("list of the VFs: %s", err.text);
	got[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got),
			 "%s%s/%d/%s", i ? " " : "", v[i].id, v[i].numa,
			 v[i].pci);
	is_str(got,
	       "ens1f0:vf2/1/0000:3b:02.2 ens1f0:vf3/0/0000:3b:02.3 "
	       "ens1f0:vf4/1/",
	       "VFs carry their PCI address and NUMA node; VF 4 is not "
	       "enabled: no address, the PF's node");
	ok(vnb_pool_vf_info(&v[1], fd, &out, &err) == 0 &&
	       strcmp(out.pci, "0000:3b:02.3") == 0 && out.numa == 0,
	   "vf_info of VF 3: %s", err.text);
	check_info(&v[2], fd, ERANGE,
		   "pool 'vfs' uses VFs 2-4 of ens1f0, which has only 4 "
		   "enabled; echo 0 > /sys/class/net/ens1f0/device/"
		   "sriov_numvfs, then echo 5 > it");
	free(v);

	ok(vnb_pool_list(&c, NULL, fd, &v, &n, &err) == 0 && n == 14,
	   "broken pools do not stop the listing: %s", err.text);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].id, "ens2f0:vf0") == 0)
			check_info(&v[i], fd, ERANGE,
				   "pool 'off' uses VFs 0-4 of ens2f0, which "
				   "has none enabled; echo 5 > "
				   "/sys/class/net/ens2f0/device/sriov_numvfs");
		if (strcmp(v[i].id, "ens3f0:vf4") == 0)
			check_info(&v[i], fd, ERANGE,
				   "pool 'small' uses VFs 0-4 of ens3f0, which "
				   "supports only 4 (sriov_totalvfs): shrink");
		if (strcmp(v[i].id, "ens9f0:vf0") == 0) {
			check_info(&v[i], fd, ENODEV,
				   "no interface ens9f0: is the PF name right "
				   "in pool 'typo'?");
			is_str(v[i].pci, "", "its pci is empty");
		}
	}
	free(v);

	check_info(
	    &(struct vnb_pool_vnic){
		.id = "vnic0", .ifname = "vnic0", .vf = -1, .pool = &pools[0]},
	    fd, EINVAL, "vnic0 is not a VF of an sriov pool");

	close(fd);
	if (nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		diag("cannot remove %s: %s", root, strerror(errno));
}

int main(void)
{
	test_expand();
	test_empty();
	test_errors();
	test_vfs();
	return done_testing();
}
