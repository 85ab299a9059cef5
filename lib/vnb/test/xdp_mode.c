/*
 * The xdp provider's choice of attach mode (xdp_mode.h): the rule as a
 * table, and the parsers of the netlink replies it reads, on canned
 * messages.  No privilege, no interface.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "common/tap.h"
#include "common/util.h"
#include "vnb/vnb.h"
#include "vnb/xdp_mode.h"

#define N VNB_XDP_NATIVE
#define S VNB_XDP_SKB
#define ZC VNB_XDP_ACT_XSK_ZEROCOPY
#define BASIC VNB_XDP_ACT_BASIC

static void test_plan(void)
{
	static const struct {
		bool have;
		uint64_t features;
		const char *driver;
		unsigned flags;
		int n;
		enum vnb_xdp_mode first, second;
		const char *why;
	} t[] = {
	    /* forced: the facts do not matter */
	    {true, BASIC | ZC, "ice", VNB_EP_XDP_SKB, 1, S, 0,
	     "skb mode forced"},
	    {true, BASIC, "veth", VNB_EP_XDP_NATIVE, 1, N, 0,
	     "native mode forced"},
	    {false, 0, "", VNB_EP_XDP_NATIVE, 1, N, 0, "native mode forced"},
	    /* features reported */
	    {true, BASIC | 0x2 | ZC, "ice", 0, 2, N, S, "has AF_XDP zero copy"},
	    {true, ZC, "odd", 0, 2, N, S, "has AF_XDP zero copy"},
	    {true, BASIC | 0x2 | 0x20, "veth", 0, 2, S, N,
	     "has no AF_XDP zero copy"},
	    {true, BASIC | 0x2 | 0x4, "virtio_net", 0, 2, S, N,
	     "has no AF_XDP zero copy"},
	    /* features win over the name: virtio_net has zero copy since
	     * Linux 6.11 */
	    {true, BASIC | 0x2 | 0x4 | ZC, "virtio_net", 0, 2, N, S,
	     "has AF_XDP zero copy"},
	    {true, 0, "bridge", 0, 1, S, 0, "has no native XDP"},
	    /* no features: the driver's name */
	    {false, 0, "veth", 0, 2, S, N, "known to lack zero copy"},
	    {false, 0, "virtio_net", 0, 2, S, N, "known to lack zero copy"},
	    {false, 0, "tun", 0, 2, S, N, "known to lack zero copy"},
	    {false, 0, "mlx5_core", 0, 2, N, S, "not known to lack"},
	    {false, 0, "", 0, 2, N, S, "not known to lack"},
	    {false, 0, "veth2", 0, 2, N, S, "not known to lack"},
	};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		struct vnb_xdp_facts f;
		enum vnb_xdp_mode o[2] = {0, 0};
		const char *why = NULL;
		int n;

		memset(&f, 0, sizeof(f));
		f.have_features = t[i].have;
		f.features = t[i].features;
		snprintf(f.driver, sizeof(f.driver), "%s", t[i].driver);
		n = vnb_xdp_mode_plan(&f, t[i].flags, o, &why);
		ok(n == t[i].n && o[0] == t[i].first &&
		       (n == 1 || o[1] == t[i].second),
		   "case %zu (%s, features %#llx, flags %#x): %d modes, %s "
		   "first",
		   i, t[i].driver, (unsigned long long)t[i].features,
		   t[i].flags, n, o[0] == S ? "skb" : "native");
		like(why ? why : "", t[i].why, "case %zu: because %s", i,
		     why ? why : "(null)");
	}
}

/* A generic netlink message: header, genl header, one attribute. */
static size_t msg(uint8_t *buf, uint16_t nltype, uint16_t atype,
		  const void *data, uint16_t dlen)
{
	struct nlmsghdr nh = {0};
	struct genlmsghdr gh = {0};
	struct nlattr na = {0};
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(NLA_HDRLEN + dlen);

	memset(buf, 0, len);
	nh.nlmsg_len = (uint32_t)len;
	nh.nlmsg_type = nltype;
	memcpy(buf, &nh, sizeof(nh));
	memcpy(buf + NLMSG_HDRLEN, &gh, sizeof(gh));
	na.nla_len = (uint16_t)(NLA_HDRLEN + dlen);
	na.nla_type = atype;
	memcpy(buf + NLMSG_HDRLEN + GENL_HDRLEN, &na, sizeof(na));
	memcpy(buf + NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN, data, dlen);
	return len;
}

static void test_parse(void)
{
	uint8_t buf[256];
	uint64_t feat = 0x29, got = 0;
	uint16_t id = 0x1d, gid = 0;
	struct nlmsghdr eh = {0};
	struct nlmsgerr e = {0};
	size_t len;

	len = msg(buf, 0x10, CTRL_ATTR_FAMILY_ID, &id, sizeof(id));
	ok(vnb_genl_parse_family(buf, len, &gid) == 0 && gid == id,
	   "family id found (%#x)", gid);
	ok(vnb_genl_parse_family(buf, len - 1, &gid) < 0 && errno == EPROTO,
	   "a message longer than what was read: EPROTO");
	len = msg(buf, 0x10, CTRL_ATTR_FAMILY_NAME, "netdev", 7);
	ok(vnb_genl_parse_family(buf, len, &gid) < 0 && errno == EPROTO,
	   "no family id attribute: EPROTO");
	len = msg(buf, 0x1d, 3, &feat, sizeof(feat));
	ok(vnb_xdp_parse_dev(buf, len, &got) == 0 && got == feat,
	   "XDP features found (%#llx)", (unsigned long long)got);
	len = msg(buf, 0x1d, 3, &id, sizeof(id));
	ok(vnb_xdp_parse_dev(buf, len, &got) < 0 && errno == EPROTO,
	   "a features attribute too short for a u64: EPROTO");
	len = msg(buf, 0x1d, 4, &feat, sizeof(feat));
	ok(vnb_xdp_parse_dev(buf, len, &got) < 0 && errno == EPROTO,
	   "only another attribute: EPROTO");
	/* an attribute whose length runs past the message */
	len = msg(buf, 0x1d, 3, &feat, sizeof(feat));
	buf[NLMSG_HDRLEN + GENL_HDRLEN] = 200;
	ok(vnb_xdp_parse_dev(buf, len, &got) < 0 && errno == EPROTO,
	   "an attribute longer than the message: EPROTO");
	/* the kernel's answer to an unknown family */
	eh.nlmsg_len = NLMSG_LENGTH(sizeof(e));
	eh.nlmsg_type = NLMSG_ERROR;
	e.error = -ENOENT;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + NLMSG_HDRLEN, &e, sizeof(e));
	ok(vnb_genl_parse_family(buf, eh.nlmsg_len, &gid) < 0 &&
	       errno == ENOENT,
	   "a netlink error comes back as its errno");
	ok(vnb_xdp_parse_dev(buf, 3, &got) < 0 && errno == EPROTO,
	   "shorter than a netlink header: EPROTO");
}

int main(void)
{
	test_plan();
	test_parse();
	return done_testing();
}
