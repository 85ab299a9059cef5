/*
 * netif.h - network interfaces seen through a /sys/class/net directory.
 */
#ifndef VNB_COMMON_NETIF_H
#define VNB_COMMON_NETIF_H

#include <stdint.h>

#define VNB_NETIF_NAMSIZ 16 /* IFNAMSIZ */

/* Find the interface whose MAC is mac among the entries of netdir (a
 * directory laid out like /sys/class/net: NAME/address).  When several
 * match (a VLAN or macvlan device shares its lower device's MAC), the one
 * without lower_* links wins, then the first name in byte order.  0 with
 * the name in ifname, or -1 with ENODEV. */
int vnb_ifname_by_mac(int netdir, const uint8_t mac[6],
		      char ifname[VNB_NETIF_NAMSIZ]);

#endif
