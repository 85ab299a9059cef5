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

int main(void)
{
	test_expand();
	test_empty();
	test_errors();
	return done_testing();
}
