/*
 * netlink.c - the real vNIC ops: rtnetlink through libnl-route-3, in the
 * caller's network namespace.
 *
 * libnl reports failures as negative NLE_* codes; they are translated here,
 * once, into errno and a message naming the interface.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "common/util.h"
#include "vnic/nlvf.h"
#include "vnic/vnic.h"

struct nl_ctx {
	struct nl_sock *sk;
};

static int nl_to_errno(int nlerr)
{
	static const struct {
		int nle, err;
	} map[] = {
	    {NLE_INTR, EINTR},
	    {NLE_BAD_SOCK, EBADF},
	    {NLE_AGAIN, EAGAIN},
	    {NLE_NOMEM, ENOMEM},
	    {NLE_EXIST, EEXIST},
	    {NLE_INVAL, EINVAL},
	    {NLE_RANGE, ERANGE},
	    {NLE_MSGSIZE, EMSGSIZE},
	    {NLE_OPNOTSUPP, EOPNOTSUPP},
	    {NLE_AF_NOSUPPORT, EAFNOSUPPORT},
	    {NLE_OBJ_NOTFOUND, ENODEV},
	    {NLE_NOATTR, EINVAL},
	    {NLE_MISSING_ATTR, EINVAL},
	    {NLE_AF_MISMATCH, EAFNOSUPPORT},
	    {NLE_SEQ_MISMATCH, EPROTO},
	    {NLE_MSG_OVERFLOW, EMSGSIZE},
	    {NLE_MSG_TRUNC, EMSGSIZE},
	    {NLE_NOADDR, EADDRNOTAVAIL},
	    {NLE_SRCRT_NOSUPPORT, EOPNOTSUPP},
	    {NLE_MSG_TOOSHORT, EPROTO},
	    {NLE_MSGTYPE_NOSUPPORT, EOPNOTSUPP},
	    {NLE_OBJ_MISMATCH, EINVAL},
	    {NLE_NOCACHE, EINVAL},
	    {NLE_BUSY, EBUSY},
	    {NLE_PROTO_MISMATCH, EPROTONOSUPPORT},
	    {NLE_NOACCESS, EACCES},
	    {NLE_PERM, EPERM},
	    {NLE_PKTLOC_FILE, ENOENT},
	    {NLE_PARSE_ERR, EPROTO},
	    {NLE_NODEV, ENODEV},
	    {NLE_IMMUTABLE, EPERM},
	    {NLE_DUMP_INTR, EINTR},
	    {NLE_ATTRSIZE, EMSGSIZE},
	};
	size_t i;

	if (nlerr < 0)
		nlerr = -nlerr;
	for (i = 0; i < VNB_ARRAY_SIZE(map); i++)
		if (map[i].nle == nlerr)
			return map[i].err;
	return EIO;
}

/* The failure of one operation: errno from the libnl code, and a message
 * "cannot <what> <ifname>: <why>", with a hint for the usual causes. */
static int nl_fail(int nlerr, const char *what, const char *ifname,
		   vnb_error_t *err)
{
	int e = nl_to_errno(nlerr);

	switch (e) {
	case ENODEV:
		vnb_errprintf(err,
			      "cannot %s %s: no such interface in this network "
			      "namespace (check the pool's device names)",
			      what, ifname);
		break;
	case EPERM:
	case EACCES:
		vnb_errprintf(err,
			      "cannot %s %s: %s (this needs CAP_NET_ADMIN: "
			      "run as root)",
			      what, ifname, nl_geterror(nlerr));
		break;
	case EADDRNOTAVAIL:
		vnb_errprintf(err,
			      "cannot %s %s: the device refuses this address "
			      "(a vNIC MAC must be unicast)",
			      what, ifname);
		break;
	default:
		vnb_errprintf(err, "cannot %s %s: %s", what, ifname,
			      nl_geterror(nlerr));
	}
	errno = e;
	return -1;
}

static int check(void *ctx, const char *ifname, vnb_error_t *err)
{
	if (!ctx) {
		errno = EINVAL;
		return vnb_errprintf(err, "no netlink context (call "
					  "vnb_vnic_netlink_open first)");
	}
	if (!ifname || !vnb_name_valid(ifname, IFNAMSIZ - 1)) {
		errno = EINVAL;
		return vnb_errprintf(err, "'%s' is not a valid interface name",
				     ifname ? ifname : "(null)");
	}
	return 0;
}

static int nl_get(void *ctx, const char *ifname, struct vnb_link *out,
		  vnb_error_t *err)
{
	struct nl_ctx *c = ctx;
	struct rtnl_link *link = NULL;
	struct nl_addr *addr;
	int rc;

	if (check(ctx, ifname, err) < 0)
		return -1;
	rc = rtnl_link_get_kernel(c->sk, 0, ifname, &link);
	if (rc < 0)
		return nl_fail(rc, "read the link of", ifname, err);
	addr = rtnl_link_get_addr(link);
	if (!addr || nl_addr_get_len(addr) != 6) {
		rtnl_link_put(link);
		errno = EOPNOTSUPP;
		return vnb_errprintf(err,
				     "%s has no Ethernet address: a vNIC must "
				     "be an Ethernet device",
				     ifname);
	}
	memcpy(out->mac, nl_addr_get_binary_addr(addr), 6);
	out->up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
	rtnl_link_put(link);
	return 0;
}

/* Apply change to ifname; consumes nothing. */
static int nl_change(struct nl_ctx *c, const char *ifname,
		     struct rtnl_link *change, const char *what,
		     vnb_error_t *err)
{
	struct rtnl_link *orig = NULL;
	int rc;

	rc = rtnl_link_get_kernel(c->sk, 0, ifname, &orig);
	if (rc < 0)
		return nl_fail(rc, what, ifname, err);
	rc = rtnl_link_change(c->sk, orig, change, 0);
	rtnl_link_put(orig);
	if (rc < 0)
		return nl_fail(rc, what, ifname, err);
	return 0;
}

static int nl_set_mac(void *ctx, const char *ifname, const uint8_t mac[6],
		      vnb_error_t *err)
{
	struct rtnl_link *change = NULL;
	struct nl_addr *addr = NULL;
	char what[64], macs[18];
	int rc = -1;

	if (check(ctx, ifname, err) < 0)
		return -1;
	change = rtnl_link_alloc();
	addr = nl_addr_build(AF_LLC, mac, 6);
	if (!change || !addr) {
		errno = ENOMEM;
		vnb_errprintf(err, "out of memory setting the MAC of %s",
			      ifname);
		goto out;
	}
	rtnl_link_set_addr(change, addr);
	vnb_mac_format(mac, macs);
	snprintf(what, sizeof(what), "set the MAC %s on", macs);
	rc = nl_change(ctx, ifname, change, what, err);
out:
	nl_addr_put(addr);
	rtnl_link_put(change);
	return rc;
}

static int nl_set_up(void *ctx, const char *ifname, bool up, vnb_error_t *err)
{
	struct rtnl_link *change = NULL;
	int rc;

	if (check(ctx, ifname, err) < 0)
		return -1;
	change = rtnl_link_alloc();
	if (!change) {
		errno = ENOMEM;
		return vnb_errprintf(err, "out of memory changing %s", ifname);
	}
	if (up)
		rtnl_link_set_flags(change, IFF_UP);
	else
		rtnl_link_unset_flags(change, IFF_UP);
	rc =
	    nl_change(ctx, ifname, change, up ? "bring up" : "bring down", err);
	rtnl_link_put(change);
	return rc;
}

static int check_vf(void *ctx, const char *pf, int vf, vnb_error_t *err)
{
	if (check(ctx, pf, err) < 0)
		return -1;
	if (vf < 0) {
		errno = EINVAL;
		return vnb_errprintf(err, "VF index %d of %s is negative", vf,
				     pf);
	}
	return 0;
}

static int nl_set_vf(void *ctx, const char *pf, int vf,
		     const struct vnb_vf *want, vnb_error_t *err)
{
	struct nl_ctx *c = ctx;
	struct nl_msg *msg;
	char what[160], desc[128];
	int rc;

	if (check_vf(ctx, pf, vf, err) < 0)
		return -1;
	msg = vnb_vnic_vf_msg(pf, vf, want);
	if (!msg) {
		if (errno == ENOMEM)
			return vnb_errprintf(err,
					     "out of memory setting VF %d of "
					     "%s",
					     vf, pf);
		return vnb_errprintf(err,
				     "nothing valid to set on VF %d of %s "
				     "(VLAN 0-4095, QoS 0-7)",
				     vf, pf);
	}
	vnb_vnic_vf_format(want, desc, sizeof(desc));
	snprintf(what, sizeof(what), "set VF %d (%s) on", vf, desc);
	rc = nl_send_auto(c->sk, msg);
	nlmsg_free(msg);
	if (rc >= 0)
		rc = nl_wait_for_ack(c->sk);
	if (rc >= 0)
		return 0;
	nl_fail(rc, what, pf, err);
	if (errno == EOPNOTSUPP) {
		vnb_errprintf(err,
			      "cannot %s %s: not supported (%s is not an "
			      "SR-IOV PF, or its driver lacks one of these VF "
			      "settings)",
			      what, pf, pf);
		errno = EOPNOTSUPP;
	}
	return -1;
}

static int nl_get_vf(void *ctx, const char *pf, int vf, struct vnb_vf *out,
		     vnb_error_t *err)
{
	struct nl_ctx *c = ctx;
	struct rtnl_link *link = NULL;
	int rc;

	if (check_vf(ctx, pf, vf, err) < 0)
		return -1;
	/* rtnl_link_get_kernel asks for the VFs (RTEXT_FILTER_VF). */
	rc = rtnl_link_get_kernel(c->sk, 0, pf, &link);
	if (rc < 0)
		return nl_fail(rc, "read the VFs of", pf, err);
	rc = vnb_vnic_vf_from_link(link, pf, vf, out, err);
	rtnl_link_put(link);
	return rc;
}

const struct vnb_vnic_ops vnb_vnic_netlink_ops = {
    .size = sizeof(struct vnb_vnic_ops),
    .get = nl_get,
    .set_mac = nl_set_mac,
    .set_up = nl_set_up,
    .set_vf = nl_set_vf,
    .get_vf = nl_get_vf,
};

void *vnb_vnic_netlink_open(vnb_error_t *err)
{
	struct nl_ctx *c;
	int rc;

	c = calloc(1, sizeof(*c));
	if (!c) {
		vnb_errprintf(err, "out of memory opening rtnetlink");
		return NULL;
	}
	c->sk = nl_socket_alloc();
	if (!c->sk) {
		free(c);
		errno = ENOMEM;
		vnb_errprintf(err, "out of memory opening rtnetlink");
		return NULL;
	}
	rc = nl_connect(c->sk, NETLINK_ROUTE);
	if (rc < 0) {
		nl_socket_free(c->sk);
		free(c);
		vnb_errprintf(err, "cannot open an rtnetlink socket: %s",
			      nl_geterror(rc));
		errno = nl_to_errno(rc);
		return NULL;
	}
	return c;
}

void vnb_vnic_netlink_close(void *ctx)
{
	struct nl_ctx *c = ctx;
	int saved = errno;

	if (c) {
		nl_close(c->sk);
		nl_socket_free(c->sk);
		free(c);
	}
	errno = saved;
}
