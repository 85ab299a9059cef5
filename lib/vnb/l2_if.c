/*
 * l2_if.c - interface look-ups for the packet and udp providers.
 */
#include "config.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "vnb/l2_if.h"

static int if_mac(const char *name, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd, rc;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (rc == 0)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return rc;
}

int vnb_l2_if_find(struct vnb_ep *ep, vnb_error_t *err)
{
	unsigned idx;

	if (!ep->ifname[0]) {
		errno = ENODEV;
		return vnb_errprintf(err, "%s",
				     "no interface given: set "
				     "attr.ifname, or attr.mac to the vNIC's "
				     "MAC");
	}
	idx = if_nametoindex(ep->ifname);
	if (idx == 0 || idx > INT32_MAX ||
	    if_mac(ep->ifname, ep->self.mac) < 0) {
		errno = ENODEV;
		return vnb_errprintf(err,
				     "no interface named '%s' in this network "
				     "namespace: check the vNIC's name (ip "
				     "link)",
				     ep->ifname);
	}
	return (int)idx;
}

int vnb_l2_if_ip4(const char *ifname, uint32_t *ip4)
{
	struct ifaddrs *ifa = NULL, *i;
	int rc = -1;

	if (getifaddrs(&ifa) < 0)
		return -1;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		*ip4 = ((const struct sockaddr_in *)(const void *)i->ifa_addr)
			   ->sin_addr.s_addr;
		rc = 0;
		break;
	}
	freeifaddrs(ifa);
	if (rc < 0)
		errno = EADDRNOTAVAIL;
	return rc;
}

int vnb_l2_if_mtu(const char *ifname, uint32_t *mtu)
{
	struct ifreq ifr;
	int fd, rc, saved;

	memset(&ifr, 0, sizeof(ifr));
	if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
		errno = ENODEV;
		return -1;
	}
	memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = ioctl(fd, SIOCGIFMTU, &ifr);
	saved = errno;
	close(fd);
	if (rc < 0) {
		errno = saved;
		return -1;
	}
	*mtu = (uint32_t)ifr.ifr_mtu;
	return 0;
}

void vnb_l2_if_clamp_payload(struct vnb_ep *ep)
{
	uint32_t mtu;

	if (vnb_l2_if_mtu(ep->ifname, &mtu) == 0 && mtu > VNB_HDR_LEN &&
	    ep->max_payload > mtu - VNB_HDR_LEN)
		ep->max_payload = mtu - VNB_HDR_LEN;
}
