/*
 * xdp_mode.c - the xdp provider's choice of attach mode (xdp_mode.h): the
 * rule as a pure function, and the thin shell that learns its inputs
 * (netdev generic netlink, ethtool).
 */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/sockios.h>

#include "vnb/vnb.h"
#include "vnb/xdp_mode.h"

/* linux/netdev.h (Linux 6.3), absent from older headers. */
#define NETDEV_FAMILY "netdev"
#define NETDEV_FAMILY_VER 1
#define NETDEV_CMD_DEV_GET_ 1
#define NETDEV_A_DEV_IFINDEX_ 1
#define NETDEV_A_DEV_XDP_FEATURES_ 3

/* Drivers that have native XDP but no AF_XDP zero copy, for kernels that
 * do not report XDP features: virtio_net gained zero copy in Linux 6.11,
 * long after the features were reported (6.3). */
static const char *const copy_only[] = {"veth", "virtio_net", "tun"};

int vnb_xdp_mode_plan(const struct vnb_xdp_facts *f, unsigned flags,
		      enum vnb_xdp_mode order[2], const char **why)
{
	const char *rule;
	bool skb_first = false;
	size_t i;

	if (flags & VNB_EP_XDP_SKB) {
		order[0] = VNB_XDP_SKB;
		rule = "skb mode forced";
		goto one;
	}
	if (flags & VNB_EP_XDP_NATIVE) {
		order[0] = VNB_XDP_NATIVE;
		rule = "native mode forced";
		goto one;
	}
	if (f->have_features) {
		if (f->features & VNB_XDP_ACT_XSK_ZEROCOPY) {
			rule = "the driver has AF_XDP zero copy";
		} else if (f->features & VNB_XDP_ACT_BASIC) {
			rule = "the driver has no AF_XDP zero copy";
			skb_first = true;
		} else {
			order[0] = VNB_XDP_SKB;
			rule = "the driver has no native XDP";
			goto one;
		}
	} else {
		rule = "the driver is not known to lack zero copy";
		for (i = 0; i < sizeof(copy_only) / sizeof(copy_only[0]); i++)
			if (strcmp(f->driver, copy_only[i]) == 0) {
				rule = "the driver is known to lack zero copy";
				skb_first = true;
			}
	}
	order[0] = skb_first ? VNB_XDP_SKB : VNB_XDP_NATIVE;
	order[1] = skb_first ? VNB_XDP_NATIVE : VNB_XDP_SKB;
	if (why)
		*why = rule;
	return 2;
one:
	if (why)
		*why = rule;
	return 1;
}

/* --- generic netlink, by hand: two requests, one reply each --- */

/* The first attribute of type type in [a, end), or NULL. */
static const struct nlattr *nla_find(const uint8_t *a, const uint8_t *end,
				     uint16_t type)
{
	while (end - a >= (ptrdiff_t)NLA_HDRLEN) {
		const struct nlattr *na =
		    (const struct nlattr *)(const void *)a;
		size_t step = NLA_ALIGN(na->nla_len);

		if (na->nla_len < NLA_HDRLEN || na->nla_len > end - a)
			return NULL;
		if ((na->nla_type & NLA_TYPE_MASK) == type)
			return na;
		if (step > (size_t)(end - a))
			return NULL;
		a += step;
	}
	return NULL;
}

/* The attributes of a generic netlink reply, or -1 with errno. */
static int genl_attrs(const void *msg, size_t len, const uint8_t **a,
		      const uint8_t **end)
{
	const struct nlmsghdr *nh = msg;
	size_t hl = NLMSG_HDRLEN + GENL_HDRLEN;

	if (len < NLMSG_HDRLEN || nh->nlmsg_len < NLMSG_HDRLEN ||
	    nh->nlmsg_len > len) {
		errno = EPROTO;
		return -1;
	}
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		errno = nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error
			    ? -e->error
			    : EPROTO;
		return -1;
	}
	if (nh->nlmsg_len < hl) {
		errno = EPROTO;
		return -1;
	}
	*a = (const uint8_t *)msg + hl;
	*end = (const uint8_t *)msg + nh->nlmsg_len;
	return 0;
}

int vnb_genl_parse_family(const void *msg, size_t len, uint16_t *id)
{
	const struct nlattr *na;
	const uint8_t *a, *end;

	if (genl_attrs(msg, len, &a, &end) < 0)
		return -1;
	na = nla_find(a, end, CTRL_ATTR_FAMILY_ID);
	if (!na || na->nla_len < NLA_HDRLEN + sizeof(uint16_t)) {
		errno = EPROTO;
		return -1;
	}
	memcpy(id, (const uint8_t *)na + NLA_HDRLEN, sizeof(*id));
	return 0;
}

int vnb_xdp_parse_dev(const void *msg, size_t len, uint64_t *features)
{
	const struct nlattr *na;
	const uint8_t *a, *end;

	if (genl_attrs(msg, len, &a, &end) < 0)
		return -1;
	na = nla_find(a, end, NETDEV_A_DEV_XDP_FEATURES_);
	if (!na || na->nla_len < NLA_HDRLEN + sizeof(uint64_t)) {
		errno = EPROTO;
		return -1;
	}
	memcpy(features, (const uint8_t *)na + NLA_HDRLEN, sizeof(*features));
	return 0;
}

struct genl_req {
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	uint8_t attrs[64];
};

/* Append attribute type with len bytes of data to req. */
static void req_put(struct genl_req *req, uint16_t type, const void *data,
		    uint16_t len)
{
	struct nlattr *na =
	    (struct nlattr *)(void *)((uint8_t *)req + req->nh.nlmsg_len);

	na->nla_type = type;
	na->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((uint8_t *)na + NLA_HDRLEN, data, len);
	req->nh.nlmsg_len += NLA_ALIGN(na->nla_len);
}

/* Send req and read its one reply into buf: its length, or -1. */
static ssize_t genl_call(int fd, struct genl_req *req, void *buf, size_t cap)
{
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	ssize_t n;

	if (sendto(fd, req, req->nh.nlmsg_len, 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0)
		return -1;
	do {
		n = recv(fd, buf, cap, 0);
	} while (n < 0 && errno == EINTR);
	return n;
}

static void genl_init(struct genl_req *req, uint16_t type, uint8_t cmd,
		      uint8_t version, uint32_t seq)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req->nh.nlmsg_type = type;
	req->nh.nlmsg_flags = NLM_F_REQUEST;
	req->nh.nlmsg_seq = seq;
	req->gh.cmd = cmd;
	req->gh.version = version;
}

/* The netdev family's XDP features of ifindex: 0, or -1 (no family: an
 * older kernel). */
static int query_features(int ifindex, uint64_t *features)
{
	struct timeval tv = {1, 0};
	struct genl_req req;
	uint8_t buf[1024];
	uint32_t idx = (uint32_t)ifindex;
	uint16_t id;
	ssize_t n;
	int fd, rc = -1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	genl_init(&req, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 1);
	req_put(&req, CTRL_ATTR_FAMILY_NAME, NETDEV_FAMILY,
		sizeof(NETDEV_FAMILY));
	n = genl_call(fd, &req, buf, sizeof(buf));
	if (n <= 0 || vnb_genl_parse_family(buf, (size_t)n, &id) < 0)
		goto out;
	genl_init(&req, id, NETDEV_CMD_DEV_GET_, NETDEV_FAMILY_VER, 2);
	req_put(&req, NETDEV_A_DEV_IFINDEX_, &idx, sizeof(idx));
	n = genl_call(fd, &req, buf, sizeof(buf));
	if (n > 0 && vnb_xdp_parse_dev(buf, (size_t)n, features) == 0)
		rc = 0;
out:
	close(fd);
	return rc;
}

static void query_driver(const char *ifname, char *driver, size_t len)
{
	struct ethtool_drvinfo di;
	struct ifreq ifr;
	int fd;

	driver[0] = '\0';
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	memset(&di, 0, sizeof(di));
	memset(&ifr, 0, sizeof(ifr));
	di.cmd = ETHTOOL_GDRVINFO;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&di;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0)
		snprintf(driver, len, "%.*s", (int)sizeof(di.driver),
			 di.driver);
	close(fd);
}

void vnb_xdp_facts_query(int ifindex, const char *ifname,
			 struct vnb_xdp_facts *f)
{
	int e = errno;

	memset(f, 0, sizeof(*f));
	f->have_features = query_features(ifindex, &f->features) == 0;
	query_driver(ifname, f->driver, sizeof(f->driver));
	errno = e;
}
