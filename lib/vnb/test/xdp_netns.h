/*
 * xdp_netns.h - what the xdp provider tests add to l2_netns.h (the veth
 * pair between two private network namespaces): ping, a look at what
 * ip link shows attached, and a private bpffs.
 */
#ifndef VNB_TEST_XDP_NETNS_H
#define VNB_TEST_XDP_NETNS_H

#include <stdbool.h>

#include "vnb/test/l2_netns.h"

/* An ICMP echo from side to ip answered within two seconds. */
bool xn_ping(const struct l2_netns *n, int side, const char *ip);
/* Whether ifname in side has an XDP program attached (ip link show). */
bool xn_xdp_attached(const struct l2_netns *n, int side, const char *ifname);
/* A private bpffs at /sys/fs/bpf in a mount namespace of this process,
 * so that libxdp tries its dispatcher; false when it cannot. */
bool xn_bpffs(void);

#endif
