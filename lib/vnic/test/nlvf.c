/*
 * Unit tests of the sriov ops' rtnetlink messages, without a NIC or root:
 * the RTM_SETLINK request that set_vf sends is built and taken apart
 * attribute by attribute, for a request of its own and for what
 * vnb_vnic_program and vnb_vnic_scrub ask for; and an RTM_NEWLINK reply
 * built by hand is parsed by libnl and read back by vnb_vnic_vf_from_link.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "common/error.h"
#include "common/tap.h"
#include "common/util.h"
#include "vnic/nlvf.h"
#include "vnic/vnic.h"

static const uint8_t job_mac[6] = {0x02, 0x00, 0x00, 0x10, 0x00, 0x01};

/* What one IFLA_VF_INFO of a request says, and in which order. */
struct parsed {
	char ifname[32];
	int ifindex, family;
	int ninfo; /* IFLA_VF_INFO entries in IFLA_VFINFO_LIST */
	char order[64]; /* attribute names in the order they came */
	bool bad_size, other_vf;
	struct vnb_vf vf; /* fields: the attributes present */
	uint32_t index; /* the VF every attribute names */
};

static void add_name(struct parsed *p, const char *name)
{
	size_t len = strlen(p->order);

	snprintf(p->order + len, sizeof(p->order) - len, "%s%s", len ? " " : "",
		 name);
}

/* Check the VF index that starts each VF attribute's struct. */
static const void *vf_data(struct parsed *p, struct nlattr *a, size_t size)
{
	uint32_t vf;

	if ((size_t)nla_len(a) != size) {
		p->bad_size = true;
		return NULL;
	}
	memcpy(&vf, nla_data(a), sizeof(vf));
	if (p->ninfo == 1 && p->order[0] == '\0')
		p->index = vf;
	else if (vf != p->index)
		p->other_vf = true;
	return nla_data(a);
}

/* Take an RTM_SETLINK request apart; false when it is not one. */
static bool parse_request(struct nl_msg *msg, struct parsed *p)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1], *info, *a;
	struct ifinfomsg *ifi;
	int rem, rem2;

	memset(p, 0, sizeof(*p));
	if (h->nlmsg_type != RTM_SETLINK ||
	    (h->nlmsg_flags & (NLM_F_REQUEST | NLM_F_ACK)) !=
		(NLM_F_REQUEST | NLM_F_ACK) ||
	    nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return false;
	ifi = nlmsg_data(h);
	p->ifindex = ifi->ifi_index;
	p->family = ifi->ifi_family;
	if (tb[IFLA_IFNAME])
		snprintf(p->ifname, sizeof(p->ifname), "%s",
			 nla_get_string(tb[IFLA_IFNAME]));
	if (!tb[IFLA_VFINFO_LIST])
		return true;
	nla_for_each_nested(info, tb[IFLA_VFINFO_LIST], rem)
	{
		if (nla_type(info) != IFLA_VF_INFO)
			return false;
		p->ninfo++;
		nla_for_each_nested(a, info, rem2)
		{
			const struct ifla_vf_mac *m;
			const struct ifla_vf_vlan *v;
			const struct ifla_vf_spoofchk *s;
			const struct ifla_vf_link_state *l;
			const struct ifla_vf_trust *t;

			switch (nla_type(a)) {
			case IFLA_VF_MAC:
				if ((m = vf_data(p, a, sizeof(*m)))) {
					memcpy(p->vf.mac, m->mac, 6);
					p->vf.fields |= VNB_VF_MAC;
				}
				add_name(p, "mac");
				break;
			case IFLA_VF_VLAN:
				if ((v = vf_data(p, a, sizeof(*v)))) {
					p->vf.vlan = v->vlan;
					p->vf.qos = v->qos;
					p->vf.fields |= VNB_VF_VLAN;
				}
				add_name(p, "vlan");
				break;
			case IFLA_VF_SPOOFCHK:
				if ((s = vf_data(p, a, sizeof(*s)))) {
					p->vf.spoofchk = s->setting == 1;
					p->bad_size |= s->setting > 1;
					p->vf.fields |= VNB_VF_SPOOFCHK;
				}
				add_name(p, "spoofchk");
				break;
			case IFLA_VF_LINK_STATE:
				if ((l = vf_data(p, a, sizeof(*l)))) {
					p->vf.link =
					    (enum vnb_vf_link)l->link_state;
					p->vf.fields |= VNB_VF_LINK;
				}
				add_name(p, "state");
				break;
			case IFLA_VF_TRUST:
				if ((t = vf_data(p, a, sizeof(*t)))) {
					p->vf.trust = t->setting == 1;
					p->bad_size |= t->setting > 1;
					p->vf.fields |= VNB_VF_TRUST;
				}
				add_name(p, "trust");
				break;
			default:
				add_name(p, "other");
			}
		}
	}
	return true;
}

static void test_request(void)
{
	struct vnb_vf want = {.fields = VNB_VF_MAC | VNB_VF_VLAN |
					VNB_VF_SPOOFCHK | VNB_VF_TRUST |
					VNB_VF_LINK,
			      .vlan = 10,
			      .qos = 3,
			      .spoofchk = true,
			      .trust = false,
			      .link = VNB_VF_LINK_AUTO};
	struct nl_msg *msg;
	struct parsed p;
	char buf[128];

	memcpy(want.mac, job_mac, 6);
	msg = vnb_vnic_vf_msg("ens1f0", 7, &want);
	if (!msg)
		bail_out("vnb_vnic_vf_msg: %s", strerror(errno));
	ok(parse_request(msg, &p), "an RTM_SETLINK request with an ack");
	is_str(p.ifname, "ens1f0", "IFLA_IFNAME names the PF");
	ok(p.ifindex == 0 && p.family == AF_UNSPEC,
	   "ifinfomsg: index 0 (by name), AF_UNSPEC");
	is_int(p.ninfo, 1, "one IFLA_VF_INFO in IFLA_VFINFO_LIST");
	is_str(p.order, "mac vlan spoofchk state trust",
	       "its attributes, in the kernel's order");
	ok(!p.bad_size && !p.other_vf, "each of full size");
	is_int(p.index, 7, "each names VF 7");
	ok(memcmp(p.vf.mac, job_mac, 6) == 0, "IFLA_VF_MAC: the MAC");
	ok(p.vf.vlan == 10 && p.vf.qos == 3, "IFLA_VF_VLAN: vlan 10 qos 3");
	ok(p.vf.spoofchk, "IFLA_VF_SPOOFCHK: setting 1");
	ok(!p.vf.trust, "IFLA_VF_TRUST: setting 0");
	is_int(p.vf.link, IFLA_VF_LINK_STATE_AUTO, "IFLA_VF_LINK_STATE: auto");
	nlmsg_free(msg);

	is_str(vnb_vnic_vf_format(&want, buf, sizeof(buf)),
	       "mac 02:00:00:10:00:01 vlan 10 qos 3 spoofchk on state auto "
	       "trust off",
	       "formatted as ip-link writes it");

	want.fields = VNB_VF_LINK;
	want.link = VNB_VF_LINK_DISABLE;
	msg = vnb_vnic_vf_msg("ens1f0", 0, &want);
	ok(msg && parse_request(msg, &p) && strcmp(p.order, "state") == 0 &&
	       p.vf.link == VNB_VF_LINK_DISABLE && p.index == 0,
	   "only the fields asked for: state disable of VF 0 (%s)", p.order);
	nlmsg_free(msg);
}

static void test_request_errors(void)
{
	static const struct {
		const char *pf;
		int vf;
		struct vnb_vf want;
		const char *why;
	} bad[] = {
	    {NULL, 0, {.fields = VNB_VF_MAC}, "no PF"},
	    {"../x", 0, {.fields = VNB_VF_MAC}, "bad PF name"},
	    {"ens1f0", -1, {.fields = VNB_VF_MAC}, "negative VF"},
	    {"ens1f0", 0, {.fields = 0}, "no field"},
	    {"ens1f0", 0, {.fields = 0x100}, "unknown field"},
	    {"ens1f0", 0, {.fields = VNB_VF_VLAN, .vlan = 4096}, "VLAN 4096"},
	    {"ens1f0", 0, {.fields = VNB_VF_VLAN, .qos = 8}, "qos 8"},
	    {"ens1f0",
	     0,
	     {.fields = VNB_VF_LINK, .link = (enum vnb_vf_link)3},
	     "link state 3"},
	};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(bad); i++) {
		errno = 0;
		ok(vnb_vnic_vf_msg(bad[i].pf, bad[i].vf, &bad[i].want) ==
			   NULL &&
		       errno == EINVAL,
		   "%s -> EINVAL", bad[i].why);
	}
	errno = 0;
	ok(vnb_vnic_vf_msg("ens1f0", 0, NULL) == NULL && errno == EINVAL,
	   "no settings -> EINVAL");
}

/* --- the requests that program and scrub make --- */

/* ops that build set_vf's request and keep it; get_vf reports cur. */
struct rec {
	struct vnb_vf cur;
	struct nl_msg *last;
	int sets;
};

static int rec_get(void *ctx, const char *ifname, struct vnb_link *l,
		   vnb_error_t *err)
{
	(void)ctx;
	(void)ifname;
	(void)l;
	errno = ENOSYS;
	return vnb_errprintf(err, "not for VFs");
}

static int rec_set_mac(void *ctx, const char *ifname, const uint8_t mac[6],
		       vnb_error_t *err)
{
	(void)mac;
	return rec_get(ctx, ifname, NULL, err);
}

static int rec_set_up(void *ctx, const char *ifname, bool up, vnb_error_t *err)
{
	(void)up;
	return rec_get(ctx, ifname, NULL, err);
}

static int rec_get_vf(void *ctx, const char *pf, int vf, struct vnb_vf *out,
		      vnb_error_t *err)
{
	struct rec *r = ctx;

	(void)pf;
	(void)vf;
	(void)err;
	*out = r->cur;
	return 0;
}

static int rec_set_vf(void *ctx, const char *pf, int vf,
		      const struct vnb_vf *want, vnb_error_t *err)
{
	struct rec *r = ctx;

	nlmsg_free(r->last);
	r->last = vnb_vnic_vf_msg(pf, vf, want);
	r->sets++;
	if (!r->last)
		return vnb_errprintf(err, "cannot build: %s", strerror(errno));
	return 0;
}

static const struct vnb_vnic_ops rec_ops = {
    .size = sizeof(struct vnb_vnic_ops),
    .get = rec_get,
    .set_mac = rec_set_mac,
    .set_up = rec_set_up,
    .set_vf = rec_set_vf,
    .get_vf = rec_get_vf,
};

static void test_program_request(void)
{
	static const uint8_t zero[6];
	struct vnb_conf_pool pool = {
	    .name = "vfs", .backend = VNB_BACKEND_SRIOV, .pf = "ens1f0"};
	struct vnb_pool_vnic v = {
	    .id = "ens1f0:vf5", .ifname = "ens1f0", .vf = 5, .pool = &pool};
	struct rec r = {.cur = {.fields = VNB_VF_MAC | VNB_VF_VLAN |
					  VNB_VF_SPOOFCHK | VNB_VF_TRUST |
					  VNB_VF_LINK,
				.trust = true,
				.link = VNB_VF_LINK_ENABLE}};
	struct vnb_vnic_saved saved;
	vnb_error_t err = {""};
	struct parsed p;

	ok(vnb_vnic_program(&rec_ops, &r, &v, job_mac, 100, &saved, &err) ==
		   0 &&
	       r.sets == 1,
	   "program: one request (%s)", err.text);
	ok(r.last && parse_request(r.last, &p), "program's request parses");
	is_str(p.ifname, "ens1f0", "to the PF by name");
	is_str(p.order, "mac vlan spoofchk state trust",
	       "MAC, VLAN, spoof check, link state, trust");
	ok(p.index == 5 && !p.other_vf && !p.bad_size, "all of VF 5");
	ok(memcmp(p.vf.mac, job_mac, 6) == 0, "IFLA_VF_MAC: the job's MAC");
	ok(p.vf.vlan == 100 && p.vf.qos == 0, "IFLA_VF_VLAN: vlan 100 qos 0");
	ok(p.vf.spoofchk, "IFLA_VF_SPOOFCHK: 1");
	ok(!p.vf.trust, "IFLA_VF_TRUST: 0");
	is_int(p.vf.link, IFLA_VF_LINK_STATE_AUTO, "IFLA_VF_LINK_STATE: auto");

	/* Scrub from the programmed state, with the saved state. */
	r.cur = p.vf;
	r.cur.fields |= VNB_VF_TRUST; /* the driver has it */
	ok(vnb_vnic_scrub(&rec_ops, &r, &v, &saved, &err) == 0 && r.sets == 2,
	   "scrub: one request (%s)", err.text);
	ok(r.last && parse_request(r.last, &p), "scrub's request parses");
	is_str(p.order, "mac vlan", "only what differs: MAC and VLAN");
	ok(memcmp(p.vf.mac, zero, 6) == 0 && p.vf.vlan == 0 && p.vf.qos == 0 &&
	       p.index == 5,
	   "IFLA_VF_MAC 00:00:00:00:00:00, IFLA_VF_VLAN 0 qos 0, VF 5");

	/* Scrub of a VF in any state, saved state lost: all of it. */
	r.cur.spoofchk = false;
	r.cur.trust = true;
	r.cur.link = VNB_VF_LINK_DISABLE;
	r.cur.vlan = 7;
	memcpy(r.cur.mac, job_mac, 6);
	ok(vnb_vnic_scrub(&rec_ops, &r, &v, NULL, &err) == 0 && r.last &&
	       parse_request(r.last, &p),
	   "scrub without saved state (%s)", err.text);
	is_str(p.order, "mac vlan spoofchk state trust", "every attribute");
	ok(memcmp(p.vf.mac, zero, 6) == 0 && p.vf.vlan == 0 && p.vf.spoofchk &&
	       !p.vf.trust && p.vf.link == VNB_VF_LINK_AUTO,
	   "MAC none, VLAN 0, spoofchk 1, trust 0, link auto");
	nlmsg_free(r.last);
}

/* --- reading a VF from the kernel's RTM_NEWLINK --- */

struct vf_in {
	uint32_t vf;
	uint8_t mac[6];
	uint32_t vlan, qos;
	int32_t spoofchk, trust; /* -1: the driver lacks it */
	uint32_t link;
};

/* An RTM_NEWLINK of PF ens1f0 as the kernel writes it with
 * RTEXT_FILTER_VF: IFLA_NUM_VF (num < 0: none) and an IFLA_VF_INFO per VF
 * with IFLA_VF_MAC, IFLA_VF_VLAN, IFLA_VF_VLAN_LIST, IFLA_VF_SPOOFCHK,
 * IFLA_VF_LINK_STATE, IFLA_VF_TRUST (nvf 0: no IFLA_VFINFO_LIST). */
static struct nl_msg *newlink(int num, const struct vf_in *vfs, size_t nvf)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = 4};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	struct nlattr *list, *info, *vl;
	size_t i;

	if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, "ens1f0") < 0)
		bail_out("cannot build RTM_NEWLINK");
	nlmsg_set_proto(msg, NETLINK_ROUTE);
	if (num >= 0)
		nla_put_u32(msg, IFLA_NUM_VF, (uint32_t)num);
	if (nvf == 0)
		return msg;
	list = nla_nest_start(msg, IFLA_VFINFO_LIST);
	for (i = 0; i < nvf; i++) {
		const struct vf_in *x = &vfs[i];
		struct ifla_vf_mac m = {.vf = x->vf};
		struct ifla_vf_vlan v = {x->vf, x->vlan, x->qos};
		struct ifla_vf_vlan_info vi = {.vf = x->vf,
					       .vlan = x->vlan,
					       .qos = x->qos,
					       .vlan_proto = htons(0x8100)};
		struct ifla_vf_spoofchk s = {x->vf, (uint32_t)x->spoofchk};
		struct ifla_vf_link_state l = {x->vf, x->link};
		struct ifla_vf_trust t = {x->vf, (uint32_t)x->trust};

		memcpy(m.mac, x->mac, 6);
		info = nla_nest_start(msg, IFLA_VF_INFO);
		nla_put(msg, IFLA_VF_MAC, sizeof(m), &m);
		nla_put(msg, IFLA_VF_VLAN, sizeof(v), &v);
		vl = nla_nest_start(msg, IFLA_VF_VLAN_LIST);
		nla_put(msg, IFLA_VF_VLAN_INFO, sizeof(vi), &vi);
		nla_nest_end(msg, vl);
		nla_put(msg, IFLA_VF_SPOOFCHK, sizeof(s), &s);
		nla_put(msg, IFLA_VF_LINK_STATE, sizeof(l), &l);
		nla_put(msg, IFLA_VF_TRUST, sizeof(t), &t);
		nla_nest_end(msg, info);
	}
	nla_nest_end(msg, list);
	return msg;
}

static void keep_link(struct nl_object *obj, void *arg)
{
	nl_object_get(obj);
	*(struct rtnl_link **)arg = (struct rtnl_link *)obj;
}

static struct rtnl_link *parse_link(struct nl_msg *msg)
{
	struct rtnl_link *link = NULL;
	int rc = nl_msg_parse(msg, keep_link, &link);

	if (rc < 0 || !link)
		bail_out("libnl cannot parse the RTM_NEWLINK: %s",
			 nl_geterror(rc));
	nlmsg_free(msg);
	return link;
}

static void test_from_link(void)
{
	static const struct vf_in vfs[] = {
	    {0, {0}, 0, 0, 1, 0, IFLA_VF_LINK_STATE_AUTO},
	    {1,
	     {0x02, 0, 0, 0x10, 0, 1},
	     10,
	     3,
	     0,
	     1,
	     IFLA_VF_LINK_STATE_DISABLE},
	    {2, {0}, 0, 0, -1, -1, IFLA_VF_LINK_STATE_ENABLE},
	};
	struct rtnl_link *link = parse_link(newlink(3, vfs, 3));
	vnb_error_t err = {""};
	struct vnb_vf out;

	ok(vnb_vnic_vf_from_link(link, "ens1f0", 1, &out, &err) == 0,
	   "read VF 1: %s", err.text);
	is_int(out.fields,
	       VNB_VF_MAC | VNB_VF_VLAN | VNB_VF_SPOOFCHK | VNB_VF_TRUST |
		   VNB_VF_LINK,
	       "every field reported");
	ok(memcmp(out.mac, vfs[1].mac, 6) == 0 && out.vlan == 10 &&
	       out.qos == 3 && !out.spoofchk && out.trust &&
	       out.link == VNB_VF_LINK_DISABLE,
	   "its MAC, vlan 10 qos 3, spoofchk off, trust on, disabled");
	ok(vnb_vnic_vf_from_link(link, "ens1f0", 0, &out, &err) == 0 &&
	       out.vlan == 0 && out.spoofchk && !out.trust &&
	       out.link == VNB_VF_LINK_AUTO,
	   "VF 0: vlan 0, spoofchk on, trust off, auto");
	ok(vnb_vnic_vf_from_link(link, "ens1f0", 2, &out, &err) == 0 &&
	       out.fields == (VNB_VF_MAC | VNB_VF_VLAN | VNB_VF_LINK) &&
	       out.link == VNB_VF_LINK_ENABLE,
	   "VF 2: a driver without spoof check and trust (setting -1)");
	errno = 0;
	ok(vnb_vnic_vf_from_link(link, "ens1f0", 3, &out, &err) == -1 &&
	       errno == ERANGE,
	   "VF 3 of 3 -> ERANGE");
	like(err.text,
	     "PF ens1f0 has only 3 VFs enabled, so no VF 3; echo 4 > "
	     "/sys/class/net/ens1f0/device/sriov_numvfs",
	     "message says how to enable it: %s", err.text);
	rtnl_link_put(link);

	link = parse_link(newlink(-1, NULL, 0));
	errno = 0;
	ok(vnb_vnic_vf_from_link(link, "veth0", 0, &out, &err) == -1 &&
	       errno == EOPNOTSUPP,
	   "a link without IFLA_NUM_VF -> EOPNOTSUPP");
	like(err.text, "veth0 reports no VFs: it is not an SR-IOV PF",
	     "message: %s", err.text);
	rtnl_link_put(link);

	link = parse_link(newlink(0, NULL, 0));
	errno = 0;
	ok(vnb_vnic_vf_from_link(link, "ens1f0", 0, &out, &err) == -1 &&
	       errno == ERANGE,
	   "a PF with no VFs enabled -> ERANGE");
	like(err.text, "has only 0 VFs enabled", "message: %s", err.text);
	rtnl_link_put(link);

	link = parse_link(newlink(4, NULL, 0));
	errno = 0;
	ok(vnb_vnic_vf_from_link(link, "ens1f0", 1, &out, &err) == -1 &&
	       errno == EOPNOTSUPP,
	   "VFs but no IFLA_VFINFO_LIST -> EOPNOTSUPP");
	like(err.text, "driver of ens1f0 does not report", "message: %s",
	     err.text);
	errno = 0;
	ok(vnb_vnic_vf_from_link(NULL, "ens1f0", 1, &out, &err) == -1 &&
	       errno == EINVAL,
	   "no link -> EINVAL");
	rtnl_link_put(link);
}

int main(void)
{
	test_request();
	test_request_errors();
	test_program_request();
	test_from_link();
	return done_testing();
}
