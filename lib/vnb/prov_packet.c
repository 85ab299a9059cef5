/*
 * prov_packet.c - the packet provider: AF_PACKET with mmap'ed TPACKET_V2
 * rings (V3 hands frames over per block or retire timer, which is useless
 * for latency).
 *
 * Registered memory is the two rings of one socket.  Frame ids 0..nrx-1
 * are the RX ring's slots, nrx..nframes-1 the TX ring's (nrx = nframes -
 * nframes / 2), so ids are unique over the endpoint.
 *
 * How this file reads the contract of prov.h (report changes to the
 * core):
 * - tx_frame peeks at the TX ring's next slot; the frame is taken by the
 *   tx_post that names it.  Calling tx_frame twice without tx_post returns
 *   the same frame; tx_post of any other id fails with EINVAL.  A slot is
 *   free again only once tx_reap has returned its context.
 * - open lowers ep->max_payload to what the interface's MTU carries;
 *   tx_post fails with EMSGSIZE when len exceeds the frame or the MTU
 *   plus the Ethernet (and 802.1Q) header, which the kernel would drop.
 *   A frame the kernel refuses anyway is dropped (PACKET_LOSS) and still
 *   completes.  Frames queued while the kick fails (link down, device
 *   queue full) stay queued; tx_reap kicks again.  Inside a batch
 *   (ep->tx_more) tx_post does not kick: tx_flush sends them all with
 *   one send().
 * - rx_post takes any frame rx_next handed out, in any order.  The kernel
 *   fills the RX ring strictly in order, so a frame held across a whole
 *   lap of the ring stalls reception at that slot (the kernel drops what
 *   arrives meanwhile, and the core's rx_no_buffer does not see it) until
 *   it is posted back.
 * - A vNIC in a tenant VLAN is the raw interface with attr.vlan: the core
 *   writes the 802.1Q tag into each frame, and no 802.1Q sub-interface is
 *   needed (kernels without CONFIG_VLAN_8021Q work).  The kernel moves a
 *   received tag into the ring's metadata and, for a socket bound to one
 *   EtherType, clears it before delivery; so the socket is bound to
 *   ETH_P_ALL, a classic BPF filter keeps only vnb frames of this VLAN
 *   (tagged with attr.vlan, or untagged when it is 0), and rx_next puts
 *   the tag back so that the core sees the frame as the wire had it.
 * - The queue index is not a hardware queue here: every endpoint on an
 *   interface sees all of its vnb frames and the core drops those for
 *   other queues.  Two endpoints on the same queue are not detected.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "vnb/l2_if.h"
#include "vnb/prov.h"

/* Where the TX ring wants the frame: after the header, without the
 * sockaddr_ll that only the RX ring carries. */
#define TX_DATA_OFF (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
/* Room before an RX frame's Ethernet header in a ring slot: the header,
 * the sockaddr_ll, padding to 16 bytes past it for the network header. */
#define RX_DATA_OFF                                                            \
	(TPACKET_ALIGN(TPACKET2_HDRLEN + 16) - ETH_HLEN + VLAN_TAG_LEN)
#define VLAN_TAG_LEN 4
#define MAX_BLOCK (128u * 1024) /* largest ring block we ask for */

struct ring {
	struct tpacket_req req;
	uint8_t **slot; /* slot i's tpacket2_hdr */
};

struct pkt {
	int fd;
	uint8_t *map;
	size_t map_len;
	uint32_t mtu;
	uint32_t max_len; /* longest frame the interface sends */
	uint32_t frame_size;
	struct ring rx, tx;
	uint32_t rx_cur; /* the slot the kernel fills next */
	uint8_t *rx_held; /* per RX slot: 1 while the core owns it */
	uint32_t tx_head; /* the next slot to fill */
	uint32_t tx_tail; /* the oldest slot posted and not reaped */
	uint32_t tx_busy; /* posted, not reaped */
	uint64_t *tx_ctx;
};

static uint32_t status_load(const struct tpacket2_hdr *h)
{
	return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
}

static void status_store(struct tpacket2_hdr *h, uint32_t v)
{
	__atomic_store_n(&h->tp_status, v, __ATOMIC_RELEASE);
}

/* A ring of n slots of at least need bytes: frames per block must divide
 * n (the kernel wants tp_frame_nr = frames per block x blocks) and blocks
 * are whole pages. */
static void ring_geometry(struct tpacket_req *req, uint32_t need, uint32_t n)
{
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
	uint32_t slot = TPACKET_ALIGN(need);
	uint32_t fpb = MAX_BLOCK / slot, block = 0;

	if (fpb > n)
		fpb = n;
	for (; fpb > 1; fpb--) {
		uint32_t s;

		if (n % fpb)
			continue;
		block = (fpb * slot + page - 1) / page * page;
		s = block / fpb & ~(uint32_t)(TPACKET_ALIGNMENT - 1);
		if (s >= slot && block / s == fpb) {
			slot = s;
			break;
		}
	}
	if (fpb <= 1) {
		fpb = 1;
		slot = (slot + page - 1) / page * page;
		block = slot;
	}
	req->tp_frame_size = slot;
	req->tp_block_size = block;
	req->tp_block_nr = n / fpb;
	req->tp_frame_nr = n;
}

static int ring_slots(struct ring *r, uint8_t *base)
{
	uint32_t fpb = r->req.tp_block_size / r->req.tp_frame_size, i;

	r->slot = calloc(r->req.tp_frame_nr, sizeof(*r->slot));
	if (!r->slot)
		return -1;
	for (i = 0; i < r->req.tp_frame_nr; i++)
		r->slot[i] = base + (size_t)(i / fpb) * r->req.tp_block_size +
			     (size_t)(i % fpb) * r->req.tp_frame_size;
	return 0;
}

/* Keep vnb frames of this VLAN that the interface received; the kernel's
 * own outgoing copies and everything else stay out of the ring. */
static int attach_filter(int fd, uint16_t vlan)
{
	enum {
		/* vlan != 0 */
		T_PKTTYPE,
		T_OUTGOING,
		T_META,
		T_METAJ,
		T_TAG,
		T_TAGMASK,
		T_TAGJ,
		T_PROTO,
		T_PROTOJ,
		T_INBAND,
		T_INBANDJ,
		T_ITAG,
		T_ITAGMASK,
		T_ITAGJ,
		T_IPROTO,
		T_IPROTOJ,
		T_ACCEPT,
		T_DROP,
		T_LEN,
	};
	enum {
		/* vlan == 0 */
		U_PKTTYPE,
		U_OUTGOING,
		U_META,
		U_METAJ,
		U_PROTO,
		U_PROTOJ,
		U_ACCEPT,
		U_DROP,
		U_LEN,
	};
#define J(here, target) ((uint8_t)((target) - (here)-1))
#define AD(x) (SKF_AD_OFF + (x))
	struct sock_filter tagged[T_LEN] = {
	    [T_PKTTYPE] =
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_PKTTYPE)),
	    [T_OUTGOING] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING,
				    J(T_OUTGOING, T_DROP), 0),
	    [T_META] =
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_VLAN_TAG_PRESENT)),
	    [T_METAJ] =
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, J(T_METAJ, T_INBAND), 0),
	    [T_TAG] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_VLAN_TAG)),
	    [T_TAGMASK] = BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x0fff),
	    [T_TAGJ] =
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, vlan, 0, J(T_TAGJ, T_DROP)),
	    [T_PROTO] = BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	    [T_PROTOJ] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VNB_ETHERTYPE,
				  J(T_PROTOJ, T_ACCEPT), J(T_PROTOJ, T_DROP)),
	    [T_INBAND] = BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	    [T_INBANDJ] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_8021Q, 0,
				   J(T_INBANDJ, T_DROP)),
	    [T_ITAG] = BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 14),
	    [T_ITAGMASK] = BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x0fff),
	    [T_ITAGJ] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, vlan, 0,
				 J(T_ITAGJ, T_DROP)),
	    [T_IPROTO] = BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 16),
	    [T_IPROTOJ] =
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VNB_ETHERTYPE,
			 J(T_IPROTOJ, T_ACCEPT), J(T_IPROTOJ, T_DROP)),
	    [T_ACCEPT] = BPF_STMT(BPF_RET | BPF_K, 0x40000),
	    [T_DROP] = BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_filter untagged[U_LEN] = {
	    [U_PKTTYPE] =
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_PKTTYPE)),
	    [U_OUTGOING] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING,
				    J(U_OUTGOING, U_DROP), 0),
	    [U_META] =
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_VLAN_TAG_PRESENT)),
	    [U_METAJ] =
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, J(U_METAJ, U_DROP)),
	    [U_PROTO] = BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	    [U_PROTOJ] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VNB_ETHERTYPE,
				  J(U_PROTOJ, U_ACCEPT), J(U_PROTOJ, U_DROP)),
	    [U_ACCEPT] = BPF_STMT(BPF_RET | BPF_K, 0x40000),
	    [U_DROP] = BPF_STMT(BPF_RET | BPF_K, 0),
	};
#undef J
#undef AD
	struct sock_fprog prog;

	if (vlan) {
		prog.len = T_LEN;
		prog.filter = tagged;
	} else {
		prog.len = U_LEN;
		prog.filter = untagged;
	}
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			  sizeof(prog));
}

static void pkt_free(struct pkt *p)
{
	int saved = errno;

	if (!p)
		return;
	if (p->map)
		munmap(p->map, p->map_len);
	if (p->fd >= 0)
		close(p->fd);
	free(p->rx.slot);
	free(p->tx.slot);
	free(p->rx_held);
	free(p->tx_ctx);
	free(p);
	errno = saved;
}

static int setopt(int fd, int opt, int val)
{
	return setsockopt(fd, SOL_PACKET, opt, &val, sizeof(val));
}

static int pkt_open(struct vnb_ep *ep, vnb_error_t *err)
{
	const struct vnb_ep_attr *a = &ep->attr;
	struct sockaddr_ll sll;
	struct pkt *p = NULL;
	size_t rx_len;
	uint32_t nrx, ntx;
	int ifindex;

	if (a->nframes < 2 || a->frame_size < 64 || a->frame_size > 65536) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "%u frames of %u bytes: "
				     "need at least 2 frames of 64 to 65536 "
				     "bytes",
				     a->nframes, a->frame_size);
	}
	ifindex = vnb_l2_if_find(ep, err);
	if (ifindex < 0)
		return -1;
	nrx = a->nframes - a->nframes / 2;
	ntx = a->nframes / 2;

	p = calloc(1, sizeof(*p));
	if (!p)
		goto nomem;
	p->fd = -1;
	p->frame_size = a->frame_size;
	p->rx_held = calloc(nrx, 1);
	p->tx_ctx = calloc(ntx, sizeof(*p->tx_ctx));
	if (!p->rx_held || !p->tx_ctx)
		goto nomem;

	/* Protocol 0: nothing reaches the socket before bind, by which time
	 * the filter and the rings are in place. */
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		if (errno == EPERM || errno == EACCES) {
			pkt_free(p);
			errno = EPERM;
			return vnb_errprintf(
			    err, "%s",
			    "opening an AF_PACKET socket needs CAP_NET_RAW "
			    "(run as root or grant it)");
		}
		if (errno == EAFNOSUPPORT) {
			pkt_free(p);
			errno = EPROTONOSUPPORT;
			return vnb_errprintf(
			    err, "this kernel has no "
				 "AF_PACKET sockets (CONFIG_PACKET): choose "
				 "provider=udp");
		}
		goto syserr;
	}
	if (vnb_l2_if_mtu(ep->ifname, &p->mtu) < 0)
		goto syserr;
	if (setopt(p->fd, PACKET_VERSION, TPACKET_V2) < 0) {
		pkt_free(p);
		errno = EPROTONOSUPPORT;
		return vnb_errprintf(err,
				     "this kernel refuses "
				     "TPACKET_V2 rings: choose provider=udp");
	}
	/* A frame the kernel cannot send is dropped, not left blocking the
	 * ring; the qdisc is bypassed; our own frames are not looped back. */
	if (setopt(p->fd, PACKET_LOSS, 1) < 0)
		goto syserr;
	(void)setopt(p->fd, PACKET_QDISC_BYPASS, 1);
	(void)setopt(p->fd, PACKET_IGNORE_OUTGOING, 1);
	if (attach_filter(p->fd, a->vlan) < 0)
		goto syserr;

	ring_geometry(&p->rx.req, RX_DATA_OFF + a->frame_size, nrx);
	ring_geometry(&p->tx.req, TX_DATA_OFF + a->frame_size, ntx);
	if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &p->rx.req,
		       sizeof(p->rx.req)) < 0 ||
	    setsockopt(p->fd, SOL_PACKET, PACKET_TX_RING, &p->tx.req,
		       sizeof(p->tx.req)) < 0)
		goto ringerr;
	rx_len = (size_t)p->rx.req.tp_block_size * p->rx.req.tp_block_nr;
	p->map_len =
	    rx_len + (size_t)p->tx.req.tp_block_size * p->tx.req.tp_block_nr;
	p->map = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_POPULATE, p->fd, 0);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		goto ringerr;
	}
	if (ring_slots(&p->rx, p->map) < 0 ||
	    ring_slots(&p->tx, p->map + rx_len) < 0)
		goto nomem;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		if (errno == ENODEV || errno == ENXIO) {
			pkt_free(p);
			errno = ENODEV;
			return vnb_errprintf(err,
					     "interface '%s' "
					     "went away while opening: check "
					     "the vNIC (ip link)",
					     ep->ifname);
		}
		goto syserr;
	}

	/* The kernel sends and accepts mtu bytes after the Ethernet header
	 * (and the 802.1Q tag): lower the payload to what that carries. */
	vnb_l2_if_clamp_payload(ep);
	p->max_len = p->mtu + ETH_HLEN + (a->vlan ? VLAN_TAG_LEN : 0);
	ep->prov = p;
	snprintf(ep->mode, sizeof(ep->mode), "packet tpacket-v2");
	return 0;

nomem:
	pkt_free(p);
	errno = ENOMEM;
	return vnb_errprintf(err, "out of memory");
ringerr:
	pkt_free(p);
	return vnb_errprintf(err,
			     "cannot set up the rings of %u "
			     "frames of %u bytes on '%s': %s: lower nframes "
			     "or frame_size",
			     a->nframes, a->frame_size, ep->ifname,
			     strerror(errno));
syserr:
	pkt_free(p);
	return vnb_errprintf(err, "AF_PACKET socket on '%s': %s", ep->ifname,
			     strerror(errno));
}

static void pkt_close(struct vnb_ep *ep)
{
	pkt_free(ep->prov);
	ep->prov = NULL;
}

static uint8_t *pkt_tx_frame(struct vnb_ep *ep, uint32_t *id)
{
	struct pkt *p = ep->prov;
	struct tpacket2_hdr *h;

	if (p->tx_busy == p->tx.req.tp_frame_nr)
		return NULL;
	h = (void *)p->tx.slot[p->tx_head];
	if (status_load(h) != TP_STATUS_AVAILABLE)
		return NULL;
	*id = p->rx.req.tp_frame_nr + p->tx_head;
	return (uint8_t *)h + TX_DATA_OFF;
}

static void kick(struct pkt *p)
{
	/* Errors leave the frames queued: tx_reap kicks again. */
	(void)send(p->fd, NULL, 0, MSG_DONTWAIT);
}

static int pkt_tx_post(struct vnb_ep *ep, uint32_t id, uint32_t len,
		       const struct vnb_addr *dst, uint64_t ctx)
{
	struct pkt *p = ep->prov;
	struct tpacket2_hdr *h;

	(void)dst;
	if (id != p->rx.req.tp_frame_nr + p->tx_head ||
	    p->tx_busy == p->tx.req.tp_frame_nr) {
		errno = EINVAL;
		return -1;
	}
	if (len > p->frame_size || len > p->max_len) {
		errno = EMSGSIZE;
		return -1;
	}
	h = (void *)p->tx.slot[p->tx_head];
	h->tp_len = len;
	h->tp_snaplen = len;
	p->tx_ctx[p->tx_head] = ctx;
	status_store(h, TP_STATUS_SEND_REQUEST);
	if (++p->tx_head == p->tx.req.tp_frame_nr)
		p->tx_head = 0;
	p->tx_busy++;
	if (!ep->tx_more)
		kick(p);
	return 0;
}

/* After a batch: one send() takes every frame of the TX ring. */
static int pkt_tx_flush(struct vnb_ep *ep)
{
	kick(ep->prov);
	return 0;
}

static int pkt_tx_reap(struct vnb_ep *ep, uint64_t *ctx, int max)
{
	struct pkt *p = ep->prov;
	bool kicked = false;
	int n = 0;

	while (n < max && p->tx_busy) {
		struct tpacket2_hdr *h = (void *)p->tx.slot[p->tx_tail];
		uint32_t st = status_load(h);

		if (st & TP_STATUS_SEND_REQUEST) {
			/* Still not taken by the kernel: the kick failed. */
			if (!kicked)
				kick(p);
			kicked = true;
			break;
		}
		if (st & TP_STATUS_SENDING)
			break;
		if (st != TP_STATUS_AVAILABLE)
			status_store(h, TP_STATUS_AVAILABLE);
		ctx[n++] = p->tx_ctx[p->tx_tail];
		if (++p->tx_tail == p->tx.req.tp_frame_nr)
			p->tx_tail = 0;
		p->tx_busy--;
	}
	return n;
}

static int pkt_rx_next(struct vnb_ep *ep, uint8_t **data, uint32_t *len,
		       uint32_t *id)
{
	struct pkt *p = ep->prov;
	uint32_t i = p->rx_cur, st, n;
	struct tpacket2_hdr *h;
	uint8_t *f;

	/* The kernel fills slots in order and waits at one we still hold. */
	if (p->rx_held[i])
		return 0;
	h = (void *)p->rx.slot[i];
	st = status_load(h);
	if (!(st & TP_STATUS_USER))
		return 0;
	f = (uint8_t *)h + h->tp_mac;
	n = h->tp_snaplen;
	if ((st & TP_STATUS_VLAN_VALID) && n >= 2 * ETH_ALEN &&
	    h->tp_mac >= TPACKET2_HDRLEN + VLAN_TAG_LEN) {
		uint16_t tpid = (st & TP_STATUS_VLAN_TPID_VALID)
				    ? h->tp_vlan_tpid
				    : ETH_P_8021Q;

		memmove(f - VLAN_TAG_LEN, f, 2 * ETH_ALEN);
		f -= VLAN_TAG_LEN;
		f[12] = (uint8_t)(tpid >> 8);
		f[13] = (uint8_t)tpid;
		f[14] = (uint8_t)(h->tp_vlan_tci >> 8);
		f[15] = (uint8_t)h->tp_vlan_tci;
		n += VLAN_TAG_LEN;
	}
	p->rx_held[i] = 1;
	if (++p->rx_cur == p->rx.req.tp_frame_nr)
		p->rx_cur = 0;
	*data = f;
	*len = n;
	*id = i;
	return 1;
}

static int pkt_rx_post(struct vnb_ep *ep, uint32_t id)
{
	struct pkt *p = ep->prov;

	if (id >= p->rx.req.tp_frame_nr || !p->rx_held[id]) {
		errno = EINVAL;
		return -1;
	}
	p->rx_held[id] = 0;
	status_store((void *)p->rx.slot[id], TP_STATUS_KERNEL);
	return 0;
}

static int pkt_fd(const struct vnb_ep *ep)
{
	const struct pkt *p = ep->prov;

	return p->fd;
}

const struct vnb_prov_ops vnb_prov_packet = {
    .size = sizeof(struct vnb_prov_ops),
    .id = VNB_PROV_PACKET,
    .l2 = true,
    .open = pkt_open,
    .close = pkt_close,
    .tx_frame = pkt_tx_frame,
    .tx_post = pkt_tx_post,
    .tx_reap = pkt_tx_reap,
    .rx_next = pkt_rx_next,
    .rx_post = pkt_rx_post,
    .fd = pkt_fd,
    .tx_flush = pkt_tx_flush,
};
