/*
 * xdp_mode.h - inside libvnb: which XDP attach mode the xdp provider
 * tries first when attr.flags force none.
 *
 * The rule (vnb_xdp_mode_plan, a pure function):
 * - VNB_EP_XDP_SKB or VNB_EP_XDP_NATIVE: that mode only.
 * - The kernel reports the interface's XDP features (netdev netlink
 *   family, Linux 6.3 and later):
 *   - AF_XDP zero copy (NETDEV_XDP_ACT_XSK_ZEROCOPY): native, then skb.
 *     Only native mode gives zero copy.
 *   - native XDP (NETDEV_XDP_ACT_BASIC) without zero copy, as veth and
 *     virtio_net before Linux 6.11: skb, then native.  A copy-mode
 *     socket copies every frame either way, and native mode on such a
 *     driver adds work (veth turns each skb into an xdp_buff and back):
 *     measured on veth, skb mode is 1.3 to 1.6 times faster.
 *   - no native XDP at all: skb only.
 * - No features (older kernels, as the Linux 6.1 guests): by the driver
 *   name from ethtool: a copy-only driver (veth, virtio_net, tun): skb,
 *   then native; any other or unknown driver: native, then skb (real NICs
 *   with native XDP mostly have zero copy too).
 */
#ifndef VNB_XDP_MODE_H
#define VNB_XDP_MODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef VNB_HIDDEN
#define VNB_HIDDEN __attribute__((visibility("hidden")))
#endif

enum vnb_xdp_mode {
	VNB_XDP_NATIVE = 1,
	VNB_XDP_SKB = 2,
};

/* NETDEV_XDP_ACT_* of linux/netdev.h (not in every libc's headers). */
#define VNB_XDP_ACT_BASIC 0x1u
#define VNB_XDP_ACT_XSK_ZEROCOPY 0x8u

/* What is known about an interface's XDP support. */
struct vnb_xdp_facts {
	bool have_features; /* the netdev netlink family answered */
	uint64_t features; /* its NETDEV_XDP_ACT_* bits */
	char driver[32]; /* ethtool's driver name; "" when unknown */
};

/* The modes to try, in order, into order[0..n-1]; returns n (1 or 2).
 * flags are vnb_ep_attr.flags (VNB_EP_XDP_SKB, VNB_EP_XDP_NATIVE; not
 * both).  *why (may be NULL) gets a static phrase naming the rule that
 * decided, for messages and tests. */
VNB_HIDDEN int vnb_xdp_mode_plan(const struct vnb_xdp_facts *f, unsigned flags,
				 enum vnb_xdp_mode order[2], const char **why);

/* Learn the facts about interface ifindex (ifname) in the calling
 * thread's network namespace: its XDP features from the netdev generic
 * netlink family, its driver from SIOCETHTOOL.  What cannot be learnt
 * stays unknown; it never fails. */
VNB_HIDDEN void vnb_xdp_facts_query(int ifindex, const char *ifname,
				    struct vnb_xdp_facts *f);

/* Pure parsers of the two generic netlink replies the query reads (one
 * netlink message of len bytes each).  0, or -1 with EPROTO (malformed,
 * attribute missing) or the error the kernel answered. */
VNB_HIDDEN int vnb_genl_parse_family(const void *msg, size_t len, uint16_t *id);
VNB_HIDDEN int vnb_xdp_parse_dev(const void *msg, size_t len,
				 uint64_t *features);

#endif
