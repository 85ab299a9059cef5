/*
 * nlvf.h - the rtnetlink side of the sriov ops as pure functions: the
 * RTM_SETLINK request that sets a VF, and a VF's settings in a link that
 * the kernel reported.  Internal to lib/vnic; its tests build and parse
 * them without a NIC.
 */
#ifndef VNB_VNIC_NLVF_H
#define VNB_VNIC_NLVF_H

#include <netlink/msg.h>
#include <netlink/route/link.h>

#include "common/error.h"
#include "vnic/vnic.h"

/* The RTM_SETLINK request (NLM_F_REQUEST | NLM_F_ACK) that sets the fields
 * of want that want->fields names on VF vf of PF pf: an ifinfomsg of
 * family AF_UNSPEC and index 0, IFLA_IFNAME pf (the kernel finds the PF by
 * name), and IFLA_VFINFO_LIST holding one IFLA_VF_INFO with IFLA_VF_MAC,
 * IFLA_VF_VLAN (vlan, qos), IFLA_VF_SPOOFCHK, IFLA_VF_LINK_STATE and
 * IFLA_VF_TRUST, in that order, each carrying vf.  The caller frees it
 * with nlmsg_free.  NULL with errno: EINVAL (bad name, vf < 0, no field,
 * vlan > 4095 or qos > 7, unknown link state), ENOMEM. */
struct nl_msg *vnb_vnic_vf_msg(const char *pf, int vf,
			       const struct vnb_vf *want);

/* VF vf of link, which the kernel reported with RTEXT_FILTER_VF (as
 * rtnl_link_get_kernel asks), into *out.  pf names the link in messages.
 * Errors: EOPNOTSUPP (the link reports no VFs: not an SR-IOV PF; or its
 * driver does not list them), ERANGE (vf is not below the number of VFs
 * enabled; the message says how to enable more). */
int vnb_vnic_vf_from_link(struct rtnl_link *link, const char *pf, int vf,
			  struct vnb_vf *out, vnb_error_t *err);

/* "mac M vlan V qos Q spoofchk on|off state auto|enable|disable trust
 * on|off", of the fields that vf->fields names, as ip-link(8) writes
 * them, into buf.  Returns buf. */
char *vnb_vnic_vf_format(const struct vnb_vf *vf, char *buf, size_t len);

#endif
