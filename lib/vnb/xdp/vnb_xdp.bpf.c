/*
 * vnb_xdp.bpf.c - the XDP program of libvnb's xdp provider.
 *
 * Frames with the vnb EtherType (0x88B5), untagged or behind one 802.1Q
 * tag, that arrive on receive queue N go to the AF_XDP socket in entry N
 * of vnb_xsks; when no socket holds that entry the frame goes on to the
 * kernel (which drops an unknown EtherType).  Everything else (ARP, IP)
 * passes to the kernel, so the interface keeps working while the program
 * is attached.  Job tag and destination queue are checked in user space,
 * which counts what it drops.
 *
 * The library embeds this object (built by xdp.inc) and loads it with
 * libxdp; see prov_xdp.c.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define VNB_ETHERTYPE 0x88B5
#define VNB_MAX_QUEUES 256

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, VNB_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} vnb_xsks SEC(".maps");

/* The pid of the endpoint on each queue, so that user space knows when
 * the last endpoint of a shared program closes.  The program looks it up
 * only so that the map belongs to it (a loaded program keeps the maps its
 * code uses), where another process finds it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNB_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} vnb_owner SEC(".maps");

SEC("xdp")
int vnb_xdp_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__be16 proto;
	__u32 q;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		__be16 *inner = (void *)(eth + 1);

		/* TCI(2) then the encapsulated EtherType(2) */
		if ((void *)(inner + 2) > end)
			return XDP_PASS;
		proto = inner[1];
	}
	if (proto != bpf_htons(VNB_ETHERTYPE))
		return XDP_PASS;
	q = ctx->rx_queue_index;
	if (!bpf_map_lookup_elem(&vnb_owner, &q))
		return XDP_PASS; /* a queue beyond the maps */
	return bpf_redirect_map(&vnb_xsks, q, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
