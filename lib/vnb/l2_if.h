/*
 * l2_if.h - inside libvnb: the interface look-ups that the packet and udp
 * providers share (index and MAC, first IPv4 address, MTU).
 * All of them work in the calling thread's network namespace.
 */
#ifndef VNB_L2_IF_H
#define VNB_L2_IF_H

#include <stdint.h>

#include "vnb/prov.h"

#define VNB_HIDDEN __attribute__((visibility("hidden")))

/* The interface ep->ifname (the core resolved it, by name or MAC): fill
 * ep->self.mac and return its index.  -1 with ENODEV and a message (the
 * core prefixes the provider's name). */
VNB_HIDDEN int vnb_l2_if_find(struct vnb_ep *ep, vnb_error_t *err);

/* The first IPv4 address of ifname (network order) into *ip4.  -1 with
 * EADDRNOTAVAIL when it has none. */
VNB_HIDDEN int vnb_l2_if_ip4(const char *ifname, uint32_t *ip4);

/* The MTU of ifname into *mtu.  -1 with errno from the ioctl. */
VNB_HIDDEN int vnb_l2_if_mtu(const char *ifname, uint32_t *mtu);

/* Lower ep->max_payload to what one frame of the interface's MTU carries
 * after the vnb header (a no-op when the MTU cannot be read). */
VNB_HIDDEN void vnb_l2_if_clamp_payload(struct vnb_ep *ep);

#endif
