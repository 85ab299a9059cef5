/*
 * Integration test of the real netlink ops.  It needs root: it moves into a
 * network namespace of its own, makes a veth pair there, programs and
 * scrubs one end and reads it back, and sees VF requests to it refused
 * (a veth has no VFs).  The namespace, and the links with it,
 * go away when the test exits.  Without root it skips.
 */
#include "config.h" /* _GNU_SOURCE: unshare, setresuid */

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "common/error.h"
#include "common/tap.h"
#include "common/util.h"
#include "vnic/vnic.h"

static const struct vnb_vnic_ops *ops = &vnb_vnic_netlink_ops;

static struct vnb_conf_pool pool = {.name = "lower",
				    .backend = VNB_BACKEND_MACVTAP};
static struct vnb_conf_pool vfpool = {
    .name = "vfs", .backend = VNB_BACKEND_SRIOV, .pf = "vnbt0"};

static void make_veth(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int rc;

	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0)
		bail_out("cannot open rtnetlink");
	rc = rtnl_link_veth_add(sk, "vnbt0", "vnbt1", getpid());
	if (rc < 0)
		bail_out("cannot create veth vnbt0/vnbt1: %s", nl_geterror(rc));
	nl_socket_free(sk);
}

static bool link_is(void *ctx, const char *ifname, const uint8_t mac[6],
		    bool up)
{
	struct vnb_link l;
	vnb_error_t err = {""};

	if (ops->get(ctx, ifname, &l, &err) < 0) {
		diag("get %s: %s", ifname, err.text);
		return false;
	}
	return memcmp(l.mac, mac, 6) == 0 && l.up == up;
}

/* A veth has no VFs: the kernel refuses an RTM_SETLINK with
 * IFLA_VFINFO_LIST (EOPNOTSUPP), and reports no IFLA_NUM_VF. */
static void test_vf(void *ctx)
{
	struct vnb_pool_vnic v = {
	    .id = "vnbt0:vf0", .ifname = "vnbt0", .vf = 0, .pool = &vfpool};
	struct vnb_vf want = {.fields = VNB_VF_MAC | VNB_VF_VLAN |
					VNB_VF_SPOOFCHK | VNB_VF_LINK |
					VNB_VF_TRUST,
			      .vlan = 10,
			      .spoofchk = true};
	struct vnb_vnic_saved saved;
	struct vnb_link before;
	vnb_error_t err = {""};
	struct vnb_vf out;

	if (ops->get(ctx, "vnbt0", &before, &err) < 0)
		bail_out("get vnbt0: %s", err.text);
	vnb_vnic_mac(4242, 1, 1, want.mac, NULL);
	errno = 0;
	ok(ops->set_vf(ctx, "vnbt0", 0, &want, &err) == -1 &&
	       errno == EOPNOTSUPP,
	   "set_vf on a veth -> EOPNOTSUPP");
	like(err.text, "cannot set VF 0 (mac 02:", "message says what: %s",
	     err.text);
	like(err.text, "on vnbt0: not supported (vnbt0 is not an SR-IOV PF",
	     "names the PF and says why");
	errno = 0;
	ok(ops->get_vf(ctx, "vnbt0", 0, &out, &err) == -1 &&
	       errno == EOPNOTSUPP,
	   "get_vf on a veth -> EOPNOTSUPP");
	like(err.text, "vnbt0 reports no VFs: it is not an SR-IOV PF",
	     "message: %s", err.text);
	errno = 0;
	ok(vnb_vnic_program(ops, ctx, &v, want.mac, 10, &saved, &err) == -1 &&
	       errno == EOPNOTSUPP,
	   "program of a VF of a veth -> EOPNOTSUPP");
	like(err.text, "vnbt0", "message names the PF: %s", err.text);
	errno = 0;
	ok(vnb_vnic_scrub(ops, ctx, &v, NULL, &err) == -1 &&
	       errno == EOPNOTSUPP,
	   "scrub of it -> EOPNOTSUPP");
	ok(link_is(ctx, "vnbt0", before.mac, before.up), "vnbt0 is unchanged");
	errno = 0;
	ok(ops->set_vf(ctx, "nosuch0", 0, &want, &err) == -1 && errno == ENODEV,
	   "set_vf on a missing PF -> ENODEV");
	like(err.text, "nosuch0: no such interface", "message: %s", err.text);
	errno = 0;
	ok(ops->get_vf(ctx, "nosuch0", 0, &out, &err) == -1 && errno == ENODEV,
	   "get_vf on a missing PF -> ENODEV");
	errno = 0;
	ok(ops->set_vf(ctx, "vnbt0", -1, &want, &err) == -1 && errno == EINVAL,
	   "a negative VF -> EINVAL");
	want.fields = 0;
	errno = 0;
	ok(ops->set_vf(ctx, "vnbt0", 0, &want, &err) == -1 && errno == EINVAL,
	   "nothing to set -> EINVAL");
}

/* In a child that has dropped root: bringing the link up fails EPERM with
 * a message naming the interface and the capability.  Exit 0 when so. */
static int unprivileged_child(void)
{
	vnb_error_t err = {""};
	void *ctx;
	int rc;

	if (setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0)
		return 2;
	ctx = vnb_vnic_netlink_open(&err);
	if (!ctx)
		return 3;
	errno = 0;
	rc = ops->set_up(ctx, "vnbt0", true, &err);
	vnb_vnic_netlink_close(ctx);
	if (rc != -1 || errno != EPERM)
		return 4;
	if (!strstr(err.text, "vnbt0") || !strstr(err.text, "CAP_NET_ADMIN"))
		return 5;
	return 0;
}

int main(void)
{
	struct vnb_pool_vnic v = {
	    .id = "vnbt0", .ifname = "vnbt0", .vf = -1, .pool = &pool};
	struct vnb_pool_vnic gone = {
	    .id = "nosuch0", .ifname = "nosuch0", .vf = -1, .pool = &pool};
	const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
	uint8_t mac[6], scrub[6];
	struct vnb_vnic_saved saved, saved2;
	struct vnb_link before, l;
	vnb_error_t err = {""};
	void *ctx;
	pid_t pid;
	int status = 0;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		if (errno == EPERM) {
			printf("1..0 # SKIP needs root (unshare: %s)\n",
			       strerror(errno));
			return 0;
		}
		bail_out("unshare(CLONE_NEWNET): %s", strerror(errno));
	}
	make_veth();

	ctx = vnb_vnic_netlink_open(&err);
	if (!ctx)
		bail_out("vnb_vnic_netlink_open: %s", err.text);

	ok(ops->get(ctx, "vnbt0", &before, &err) == 0, "get vnbt0: %s",
	   err.text);
	ok(!before.up, "a new veth is down");

	vnb_vnic_mac(4242, 1, 0, mac, NULL);
	ok(vnb_vnic_program(ops, ctx, &v, mac, 0, &saved, &err) == 0,
	   "program vnbt0: %s", err.text);
	ok(link_is(ctx, "vnbt0", mac, true), "vnbt0 has the job MAC, is up");
	ok(memcmp(saved.mac, before.mac, 6) == 0 && !saved.was_up,
	   "saved its old MAC and state");

	ok(vnb_vnic_scrub(ops, ctx, &v, &saved, &err) == 0, "scrub: %s",
	   err.text);
	ok(link_is(ctx, "vnbt0", before.mac, false),
	   "vnbt0 has its old MAC back and is down");
	ok(vnb_vnic_scrub(ops, ctx, &v, &saved, &err) == 0 &&
	       link_is(ctx, "vnbt0", before.mac, false),
	   "scrub twice: same");

	/* Programmed while up (as a lower device an admin keeps up). */
	ok(ops->set_up(ctx, "vnbt0", true, &err) == 0, "set_up: %s", err.text);
	ok(vnb_vnic_program(ops, ctx, &v, mac, 0, &saved2, &err) == 0 &&
	       saved2.was_up && link_is(ctx, "vnbt0", mac, true),
	   "program of an up device: %s", err.text);

	vnb_vnic_scrub_mac("vnbt0", scrub);
	ok(vnb_vnic_scrub(ops, ctx, &v, NULL, &err) == 0 &&
	       link_is(ctx, "vnbt0", scrub, false),
	   "scrub without saved state: scrub MAC, down (%s)", err.text);

	ok(ops->get(ctx, "vnbt1", &l, &err) == 0 && !l.up,
	   "the peer was not touched");

	test_vf(ctx);

	errno = 0;
	err.text[0] = '\0';
	ok(ops->get(ctx, "nosuch0", &l, &err) == -1 && errno == ENODEV,
	   "get of a missing link -> ENODEV");
	like(err.text, "nosuch0", "message names it: %s", err.text);
	errno = 0;
	ok(vnb_vnic_program(ops, ctx, &gone, mac, 0, &saved, &err) == -1 &&
	       errno == ENODEV,
	   "program of a missing link -> ENODEV");
	errno = 0;
	ok(ops->set_mac(ctx, "vnbt0", mcast, &err) == -1 &&
	       errno == EADDRNOTAVAIL,
	   "a multicast MAC is refused -> EADDRNOTAVAIL");
	like(err.text, "vnbt0", "message names it: %s", err.text);
	ok(link_is(ctx, "vnbt0", scrub, false), "and nothing changed");
	errno = 0;
	ok(ops->set_up(ctx, "bad/name", true, &err) == -1 && errno == EINVAL,
	   "a bad interface name -> EINVAL");
	errno = 0;
	ok(ops->get(NULL, "vnbt0", &l, &err) == -1 && errno == EINVAL,
	   "no context -> EINVAL");

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		vnb_vnic_netlink_close(ctx); /* the parent's, copied */
		_exit(unprivileged_child());
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0,
	   "without CAP_NET_ADMIN: EPERM, message names the link and the "
	   "capability (child status %d)",
	   WIFEXITED(status) ? WEXITSTATUS(status) : -1);

	vnb_vnic_netlink_close(ctx);
	errno = 42;
	vnb_vnic_netlink_close(NULL);
	is_int(errno, 42, "close(NULL) keeps errno");
	return done_testing();
}
