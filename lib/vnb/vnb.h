/*
 * vnb.h - libvnb, the vnic-bypass data path.
 *
 * A process opens an endpoint: one queue set (send queue, receive queue,
 * completion queue) on one queue of a vNIC, in memory registered with the
 * NIC up front.  It sends raw L2 frames that the library builds (Ethernet,
 * 802.1Q when the VLAN is not 0, a 16-byte vnb header, the payload), and
 * receives into pre-posted buffers; send and receive completions arrive on
 * the completion queue.  Nothing on the data path allocates or makes a
 * socket call beyond the provider's ring kicks.
 *
 * Providers (chosen at open; "auto" takes the first that works, in this
 * order): xdp (AF_XDP through libxdp), packet (AF_PACKET with TPACKET_V2
 * rings), udp (kernel UDP sockets: the conventional path, for comparison
 * and as a last resort), shm (two processes on one node, shared-memory
 * rings).
 *
 * Errors: functions return -1 (or NULL) with errno set and, when the
 * caller passes a vnb_error_t, a one-line message for a person naming
 * what, where and what to do.  Data-path calls return counts.
 */
#ifndef VNB_H
#define VNB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VNB_API_VERSION 1

#ifndef VNB_ERROR_T_DEFINED
#define VNB_ERROR_T_DEFINED
typedef struct vnb_error {
	char text[512];
} vnb_error_t;
#endif

enum vnb_prov {
	VNB_PROV_AUTO = 0,
	VNB_PROV_XDP,
	VNB_PROV_PACKET,
	VNB_PROV_UDP,
	VNB_PROV_SHM,
};

/* "auto", "xdp", "packet", "udp", "shm"; NULL out of range. */
const char *vnb_prov_name(enum vnb_prov p);

/* The EtherType of vnb frames (IEEE 802 local experimental 1). */
#define VNB_ETHERTYPE 0x88B5
/* The vnb header that follows the Ethernet (and 802.1Q) header. */
#define VNB_HDR_LEN 16
#define VNB_HDR_VERSION 1

/* Where an endpoint is.  xdp/packet use mac, vlan and queue; udp adds ip4
 * and port; shm uses shm (a segment name) and queue. */
struct vnb_addr {
	uint8_t mac[6];
	uint16_t vlan; /* 0: untagged */
	uint16_t queue;
	uint16_t port; /* udp: host order */
	uint32_t ip4; /* udp: network order */
	char shm[32]; /* shm: NUL-terminated name */
};

/* Text form, for exchanging addresses (PMIx):
 * "mac=02:..;vlan=10;q=0[;ip=10.0.0.1;port=4791][;shm=NAME]".
 * format returns the length or -1 (ENOSPC); parse -1 with EINVAL. */
int vnb_addr_format(const struct vnb_addr *a, char *buf, size_t len);
int vnb_addr_parse(const char *s, struct vnb_addr *a, vnb_error_t *err);

struct vnb_ep_attr {
	const char *ifname; /* the interface; or NULL and by MAC: */
	uint8_t mac[6]; /*   the interface whose MAC this is */
	uint16_t queue; /* queue index on the interface */
	uint16_t vlan; /* 0: untagged */
	uint32_t job_tag; /* frames of another tag are dropped */
	enum vnb_prov prov; /* VNB_PROV_AUTO: best available */
	uint32_t frame_size; /* bytes per registered frame; 0: 2048 */
	uint32_t nframes; /* registered frames; 0: 4096 (half RX) */
	uint16_t udp_port; /* udp: port to bind; 0: 4791 + queue */
	const char *shm_name; /* shm: this endpoint's segment name */
	unsigned flags; /* VNB_EP_* */
};
#define VNB_EP_XDP_SKB 0x1 /* xdp: generic (skb) mode only */
#define VNB_EP_XDP_NATIVE 0x2 /* xdp: native (driver) mode only */

struct vnb_ep;

/* Open an endpoint.  On failure NULL with errno: ENODEV (no such
 * interface or MAC), EBUSY (the queue is taken), EPERM (missing
 * privilege: the message names the capability, e.g. CAP_NET_RAW for
 * packet, CAP_NET_ADMIN+CAP_BPF for xdp, and the provider that would work
 * instead), EPROTONOSUPPORT (the provider is not available here). */
struct vnb_ep *vnb_ep_open(const struct vnb_ep_attr *attr, vnb_error_t *err);

/* Open from a queue credential string (see vnb_cred_decode in the
 * project's lib/cred), with prov as the provider choice. */
struct vnb_ep *vnb_ep_open_cred(const char *cred, enum vnb_prov prov,
				vnb_error_t *err);

/* Accepts NULL; keeps errno. */
void vnb_ep_close(struct vnb_ep *ep);

enum vnb_prov vnb_ep_prov(const struct vnb_ep *ep);
/* e.g. "xdp native", "xdp skb", "packet tpacket-v2", "udp", "shm" */
const char *vnb_ep_mode(const struct vnb_ep *ep);
void vnb_ep_addr(const struct vnb_ep *ep, struct vnb_addr *addr);
/* Largest payload one frame carries. */
size_t vnb_ep_max_payload(const struct vnb_ep *ep);
/* A file descriptor that polls readable when the endpoint may have
 * completions (for vnb_wait and event loops). */
int vnb_ep_fd(const struct vnb_ep *ep);

enum vnb_cqe_type {
	VNB_CQE_SEND = 1,
	VNB_CQE_RECV = 2,
};

struct vnb_cqe {
	uint64_t context; /* what post_send / post_recv was given */
	uint32_t type; /* enum vnb_cqe_type */
	int32_t status; /* 0, or -errno */
	/* recv only: */
	void *data; /* the payload, in a registered frame */
	uint32_t len; /* payload length */
	uint32_t frame; /* give it back with vnb_post_recv */
	uint16_t src_queue; /* the sender's queue */
	uint8_t src_mac[6]; /* xdp/packet: the sender's MAC */
	uint32_t seq; /* the sender's sequence number */
};

/* Send len bytes of payload to dst: the library copies them into a free
 * registered frame and writes the headers.  0, or -1 with EAGAIN (send
 * queue full: reap completions), EMSGSIZE (larger than
 * vnb_ep_max_payload; the message gives both numbers), EINVAL. */
int vnb_post_send(struct vnb_ep *ep, const struct vnb_addr *dst,
		  const void *buf, size_t len, uint64_t context);

/* One message of a batch (vnb_post_send_batch). */
struct vnb_msg {
	const void *buf;
	size_t len;
	uint64_t context;
};

/* Send msgs[0..n-1] to dst, each as vnb_post_send would, and hand them
 * to the kernel together: xdp and packet make one system call for the
 * batch (xdp in copy mode: one per 32 frames, the kernel's budget per
 * call) instead of one per frame; udp and shm send each at once.
 * Returns how many were queued, from the first, in order; each gets its
 * send completion.  Fewer than n when the send queue filled or msgs[count]
 * was too large (vnb_ep_error says so); -1 with errno (EAGAIN, EMSGSIZE,
 * EINVAL, as vnb_post_send) when the first could not be queued.  n = 0
 * returns 0. */
int vnb_post_send_batch(struct vnb_ep *ep, const struct vnb_addr *dst,
			const struct vnb_msg *msgs, int n);

/* Zero-copy send: the payload area of a free registered send frame, to
 * fill in place (*cap bytes at most), or NULL with EAGAIN when the send
 * queue is full.  The same frame is handed out until it is posted with
 * vnb_post_send_buf, which writes the headers in front of it. */
void *vnb_send_buf(struct vnb_ep *ep, size_t *cap);
int vnb_post_send_buf(struct vnb_ep *ep, const struct vnb_addr *dst, size_t len,
		      uint64_t context);

/* Send a whole frame the caller built, headers included (Ethernet, 802.1Q
 * and vnb header for xdp and packet; the vnb header for udp and shm, which
 * also need dst; xdp and packet accept dst NULL), copied as is.  EMSGSIZE
 * when it exceeds a registered frame. */
int vnb_post_send_frame(struct vnb_ep *ep, const struct vnb_addr *dst,
			const void *frame, size_t len, uint64_t context);

/* Post a receive buffer: a frame a receive completion handed out.  The
 * endpoint starts with half of its frames posted. */
int vnb_post_recv(struct vnb_ep *ep, uint32_t frame, uint64_t context);

/* Up to max completions into cqe; returns how many (0: none yet), -1 on
 * a fatal endpoint error.  Frames not for this endpoint (another job tag,
 * another queue, malformed) are dropped and counted here. */
int vnb_poll_cq(struct vnb_ep *ep, struct vnb_cqe *cqe, int max);

/* Block until a completion may be ready or timeout_ms passes (-1:
 * forever).  1 ready, 0 timeout, -1 error. */
int vnb_wait(struct vnb_ep *ep, int timeout_ms);

struct vnb_counters {
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_foreign_job; /* another job tag: dropped */
	uint64_t rx_foreign_queue; /* another destination queue: dropped */
	uint64_t rx_malformed; /* too short, bad version or length */
	uint64_t rx_no_buffer; /* no posted receive buffer: dropped */
	uint64_t tx_queue_full; /* post_send returned EAGAIN */
};
void vnb_ep_counters(const struct vnb_ep *ep, struct vnb_counters *c);

/* The message of the last data-path call on ep that failed with a reason
 * worth a sentence (EMSGSIZE names both sizes); "" if none.  The data path
 * takes no vnb_error_t, so it keeps its last message here. */
const char *vnb_ep_error(const struct vnb_ep *ep);

/* Test hook: drop received frames with probability ppm/1e6 from a
 * deterministic generator seeded with seed (loss-injection tests). */
void vnb_ep_set_rx_loss(struct vnb_ep *ep, uint32_t ppm, uint64_t seed);

/* ------------------------------------------------------------------ */
/* Reliable messages (rel.c)                                            */
/* ------------------------------------------------------------------ */

/* Reliable, ordered messages of up to max_msg bytes between this
 * endpoint and a table of peers, over any provider.  Per peer and
 * direction: sequence numbers, cumulative and selective acks (sent alone
 * or on data frames), a window of frames in flight, retransmission when
 * an adaptive timeout expires (CLOCK_MONOTONIC, checked in
 * vnb_rel_progress: no threads, no signals), duplicates discarded.  A
 * message is cut into frames of vnb_ep_max_payload - 40 bytes and put
 * together again in order.  Everything is allocated by vnb_rel_create.
 *
 * The endpoint stays the caller's: close it after vnb_rel_destroy, and
 * while the rel object lives, use it only through the rel object (it
 * polls the endpoint's completion queue).  Every peer must use the same
 * provider, frame size and window.  A peer that never answers is retried
 * forever (backing off to 1 s): a dead peer means a failed job. */
struct vnb_rel;

struct vnb_rel_attr {
	size_t max_msg; /* largest message, either way; 0: 4 MiB */
	uint32_t window; /* frames in flight per peer, 1..1024; 0: 64 */
	uint32_t sq_depth; /* messages queued per peer, 1..65536; 0: 64 */
	uint32_t rto_us; /* first retransmit timeout; 0: 1000 */
	uint32_t rto_min_us; /* floor of the adaptive timeout; 0: 200 */
	uint32_t ack_delay_us; /* longest wait for a data frame back to
				* carry an ack; 0: 20 */
};

/* peers[0..npeers-1]: the addresses peers published (vnb_ep_addr); the
 * index is how calls below name a peer.  The table may include this
 * endpoint's own address (a PMIx exchange returns every rank), but
 * messages to it are refused.  NULL with errno EINVAL (bad attribute, two
 * peers with one address) or ENOMEM, and a message. */
struct vnb_rel *vnb_rel_create(struct vnb_ep *ep, const struct vnb_addr *peers,
			       size_t npeers, const struct vnb_rel_attr *attr,
			       vnb_error_t *err);

/* Accepts NULL; keeps errno.  Messages not yet acknowledged are dropped
 * without completions; the endpoint is not closed. */
void vnb_rel_destroy(struct vnb_rel *rel);

/* Queue len bytes (0 allowed) at buf for peer.  The buffer is the
 * caller's and must stay unchanged until vnb_rel_progress reports
 * context: the peer has then received all of it.  Frames go out at once
 * as far as the window allows.  0, or -1 with EAGAIN (sq_depth messages
 * already queued to this peer: progress), EMSGSIZE (len > max_msg),
 * EINVAL (bad peer, or the peer is this endpoint). */
int vnb_rel_send(struct vnb_rel *rel, size_t peer, const void *buf, size_t len,
		 uint64_t context);

/* Do the protocol's work: receive frames, process acks, send new frames
 * and retransmit overdue ones, send acks.  Writes the contexts of up to
 * max messages that their peers have now fully received into done (the
 * rest come with the next call), and returns how many; -1 with errno on
 * an endpoint error. */
int vnb_rel_progress(struct vnb_rel *rel, uint64_t *done, int max);

/* Take the next complete message, from any peer, in each peer's sending
 * order (peers served round robin): copy it into buf and set *peer and
 * *len.  1 when a message was taken, 0 when none is complete; -1 with
 * EMSGSIZE when cap is too small (*peer and *len tell which and how
 * large; the message stays), or EBADMSG when the peer sent a message
 * larger than this side's max_msg (it is discarded; *peer and *len
 * say which and how large).  It does not progress: call
 * vnb_rel_progress. */
int vnb_rel_recv(struct vnb_rel *rel, size_t *peer, void *buf, size_t cap,
		 size_t *len);

/* Sleep until the endpoint may have completions, a retransmission is
 * due, or timeout_ms passes (-1: no limit).  1 when there may be work
 * for vnb_rel_progress, 0 on timeout, -1 with errno. */
int vnb_rel_wait(struct vnb_rel *rel, int timeout_ms);

struct vnb_rel_counters {
	uint64_t msgs_sent; /* fully acknowledged */
	uint64_t msgs_recv; /* complete, in order */
	uint64_t data_frames; /* data frames sent, first time */
	uint64_t retransmits; /* data frames sent again */
	uint64_t acks_sent; /* standalone ack frames */
	uint64_t dup_frames; /* data received twice: dropped */
	uint64_t out_of_window; /* data beyond the window: dropped */
	uint64_t bad_frames; /* short, bad version or type, unknown peer */
};
void vnb_rel_counters(const struct vnb_rel *rel, struct vnb_rel_counters *c);

#ifdef __cplusplus
}
#endif

#endif
