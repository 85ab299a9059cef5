/*
 * mac.c - the MAC addresses vnic-bypass gives its vNICs.
 *
 * A locally administered unicast address has byte 0 = xxxxxx10: bit 0
 * (group) clear, bit 1 (local) set.  The six high bits of byte 0 and bytes
 * 1-5 carry 46 bits: job (26) | node index (14) | vNIC index (6).
 * Slurm never issues job 0, so that part of the space holds the scrub
 * addresses.
 */
#include <errno.h>
#include <stdint.h>

#include "vnic/vnic.h"

#define JOB_BITS 26
#define NODE_BITS 14
#define IDX_BITS 6

static void encode(uint64_t v, uint8_t mac[6])
{
	mac[0] = (uint8_t)(((v >> 40) & 0x3f) << 2 | 0x02);
	mac[1] = (uint8_t)(v >> 32);
	mac[2] = (uint8_t)(v >> 24);
	mac[3] = (uint8_t)(v >> 16);
	mac[4] = (uint8_t)(v >> 8);
	mac[5] = (uint8_t)v;
}

int vnb_vnic_mac(uint32_t jobid, uint32_t nodeidx, uint32_t idx, uint8_t mac[6],
		 vnb_error_t *err)
{
	if (jobid >= 1u << JOB_BITS || nodeidx >= 1u << NODE_BITS ||
	    idx >= 1u << IDX_BITS) {
		errno = ERANGE;
		return vnb_errprintf(err,
				     "cannot derive a MAC for job %u, node "
				     "index %u, vNIC %u: the limits are job < "
				     "%u, node index < %u, vNIC < %u",
				     jobid, nodeidx, idx, 1u << JOB_BITS,
				     1u << NODE_BITS, 1u << IDX_BITS);
	}
	if (!mac) {
		errno = EINVAL;
		return vnb_errprintf(err, "no MAC buffer given");
	}
	encode((uint64_t)jobid << (NODE_BITS + IDX_BITS) |
		   (uint64_t)nodeidx << IDX_BITS | idx,
	       mac);
	return 0;
}

void vnb_vnic_scrub_mac(const char *ifname, uint8_t mac[6])
{
	const unsigned char *p = (const unsigned char *)(ifname ? ifname : "");
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*p) {
		h ^= *p++;
		h *= 16777619u;
	}
	/* job 0; fold the hash into the 20 node|index bits */
	encode((h ^ (h >> 20)) & ((1u << (NODE_BITS + IDX_BITS)) - 1), mac);
}
