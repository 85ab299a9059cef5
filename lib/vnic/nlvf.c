/*
 * nlvf.c - the rtnetlink messages of the sriov ops, built and read
 * without a socket (netlink.c sends them).
 *
 * The request is built by hand rather than with rtnl_link_change: that
 * sends exactly the attributes set here, always IFLA_VF_VLAN and never
 * IFLA_VF_VLAN_LIST, and needs no look-up of the PF first.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/link/sriov.h>

#include "common/util.h"
#include "vnic/nlvf.h"

#define VF_FIELDS                                                              \
	(VNB_VF_MAC | VNB_VF_VLAN | VNB_VF_SPOOFCHK | VNB_VF_TRUST |           \
	 VNB_VF_LINK)

static bool vf_valid(const char *pf, int vf, const struct vnb_vf *want)
{
	if (!pf || !vnb_name_valid(pf, VNB_IFNAME_MAX - 1) || vf < 0 || !want)
		return false;
	if (want->fields == 0 || (want->fields & ~VF_FIELDS))
		return false;
	if ((want->fields & VNB_VF_VLAN) &&
	    (want->vlan > 4095 || want->qos > 7))
		return false;
	if ((want->fields & VNB_VF_LINK) && (unsigned)want->link > 2)
		return false;
	return true;
}

struct nl_msg *vnb_vnic_vf_msg(const char *pf, int vf,
			       const struct vnb_vf *want)
{
	struct ifinfomsg ifi;
	struct nl_msg *msg;
	struct nlattr *list, *info;
	uint32_t idx = (uint32_t)vf;

	if (!vf_valid(pf, vf, want)) {
		errno = EINVAL;
		return NULL;
	}
	msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg) {
		errno = ENOMEM;
		return NULL;
	}
	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_family = AF_UNSPEC;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, pf) < 0)
		goto fail;
	list = nla_nest_start(msg, IFLA_VFINFO_LIST);
	info = list ? nla_nest_start(msg, IFLA_VF_INFO) : NULL;
	if (!info)
		goto fail;
	if (want->fields & VNB_VF_MAC) {
		struct ifla_vf_mac m;

		memset(&m, 0, sizeof(m));
		m.vf = idx;
		memcpy(m.mac, want->mac, 6);
		if (nla_put(msg, IFLA_VF_MAC, sizeof(m), &m) < 0)
			goto fail;
	}
	if (want->fields & VNB_VF_VLAN) {
		struct ifla_vf_vlan v = {idx, want->vlan, want->qos};

		if (nla_put(msg, IFLA_VF_VLAN, sizeof(v), &v) < 0)
			goto fail;
	}
	if (want->fields & VNB_VF_SPOOFCHK) {
		struct ifla_vf_spoofchk s = {idx, want->spoofchk ? 1 : 0};

		if (nla_put(msg, IFLA_VF_SPOOFCHK, sizeof(s), &s) < 0)
			goto fail;
	}
	if (want->fields & VNB_VF_LINK) {
		struct ifla_vf_link_state l = {idx, (uint32_t)want->link};

		if (nla_put(msg, IFLA_VF_LINK_STATE, sizeof(l), &l) < 0)
			goto fail;
	}
	if (want->fields & VNB_VF_TRUST) {
		struct ifla_vf_trust t = {idx, want->trust ? 1 : 0};

		if (nla_put(msg, IFLA_VF_TRUST, sizeof(t), &t) < 0)
			goto fail;
	}
	nla_nest_end(msg, info);
	nla_nest_end(msg, list);
	return msg;
fail:
	nlmsg_free(msg);
	errno = ENOMEM;
	return NULL;
}

int vnb_vnic_vf_from_link(struct rtnl_link *link, const char *pf, int vf,
			  struct vnb_vf *out, vnb_error_t *err)
{
	struct rtnl_link_vf *v;
	struct nl_addr *addr = NULL;
	nl_vf_vlans_t *vlans = NULL;
	uint32_t num = 0, u = 0;

	if (!link || !pf || vf < 0 || !out) {
		errno = EINVAL;
		return vnb_errprintf(err, "no link, PF name, VF or output "
					  "given");
	}
	if (rtnl_link_get_num_vf(link, &num) < 0) {
		errno = EOPNOTSUPP;
		return vnb_errprintf(err,
				     "%s reports no VFs: it is not an SR-IOV "
				     "PF (is the PF name of the pool right?)",
				     pf);
	}
	if ((uint32_t)vf >= num) {
		errno = ERANGE;
		return vnb_errprintf(err,
				     "PF %s has only %u VFs enabled, so no VF "
				     "%d; echo %d > /sys/class/net/%s/device/"
				     "sriov_numvfs (at most sriov_totalvfs)",
				     pf, num, vf, vf + 1, pf);
	}
	if (!rtnl_link_has_vf_list(link)) {
		errno = EOPNOTSUPP;
		return vnb_errprintf(err,
				     "the driver of %s does not report the "
				     "settings of its VFs",
				     pf);
	}
	v = rtnl_link_vf_get(link, (uint32_t)vf);
	if (!v) {
		errno = ERANGE;
		return vnb_errprintf(err,
				     "PF %s has %u VFs enabled but does not "
				     "report VF %d",
				     pf, num, vf);
	}
	memset(out, 0, sizeof(*out));
	out->fields = VNB_VF_VLAN | VNB_VF_LINK;
	if (rtnl_link_vf_get_addr(v, &addr) == 0 && addr &&
	    nl_addr_get_len(addr) >= 6) {
		memcpy(out->mac, nl_addr_get_binary_addr(addr), 6);
		out->fields |= VNB_VF_MAC;
	}
	if (rtnl_link_vf_get_vlans(v, &vlans) == 0) {
		if (vlans->size > 0) {
			out->vlan = vlans->vlans[0].vf_vlan;
			out->qos = vlans->vlans[0].vf_vlan_qos;
		}
		rtnl_link_vf_vlan_put(vlans);
	}
	if (rtnl_link_vf_get_spoofchk(v, &u) == 0) {
		out->spoofchk = u != 0;
		out->fields |= VNB_VF_SPOOFCHK;
	}
	if (rtnl_link_vf_get_trust(v, &u) == 0) {
		out->trust = u != 0;
		out->fields |= VNB_VF_TRUST;
	}
	if (rtnl_link_vf_get_linkstate(v, &u) == 0 && u <= 2)
		out->link = (enum vnb_vf_link)u;
	rtnl_link_vf_put(v);
	return 0;
}

char *vnb_vnic_vf_format(const struct vnb_vf *vf, char *buf, size_t len)
{
	static const char *const state[] = {"auto", "enable", "disable"};
	size_t off = 0;
	char mac[18];

#define ADD(...)                                                               \
	do {                                                                   \
		if (off < len)                                                 \
			off += (size_t)snprintf(buf + off, len - off,          \
						__VA_ARGS__);                  \
	} while (0)
	if (len > 0)
		buf[0] = '\0';
	if (vf->fields & VNB_VF_MAC) {
		vnb_mac_format(vf->mac, mac);
		ADD("%smac %s", off ? " " : "", mac);
	}
	if (vf->fields & VNB_VF_VLAN)
		ADD("%svlan %u qos %u", off ? " " : "", vf->vlan, vf->qos);
	if (vf->fields & VNB_VF_SPOOFCHK)
		ADD("%sspoofchk %s", off ? " " : "",
		    vf->spoofchk ? "on" : "off");
	if (vf->fields & VNB_VF_LINK)
		ADD("%sstate %s", off ? " " : "",
		    (unsigned)vf->link <= 2 ? state[vf->link] : "?");
	if (vf->fields & VNB_VF_TRUST)
		ADD("%strust %s", off ? " " : "", vf->trust ? "on" : "off");
#undef ADD
	return buf;
}
