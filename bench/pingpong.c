/*
 * pingpong.c - libvnb against the paths it competes with: one table of
 * round-trip latency, message rate and bandwidth, every row measured in
 * the same run on a veth pair between two network namespaces (made by
 * bench/run-pingpong).  Targets: BENCHMARKS.md.
 *
 * Each row runs a server (namespace B, CPU 1) and a client (namespace A,
 * CPU 0) as two child processes; they trade addresses through the parent
 * and the client sends its measurements back.  A row that cannot run
 * here (provider not built, no privilege, message larger than a frame)
 * prints "n/a (reason)".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pingpong.h"
#include "vnb/vnb.h"

/* ---------------------------------------------------------------- setup */

static struct {
	long n; /* round trips per size, messages per stream */
	const char *ns_a, *ns_b, *if_a, *if_b, *ip_a, *ip_b;
	const char *only; /* run only rows whose name contains this */
	bool no_fi;
	bool no_batch; /* streams send message by message in every row */
} opt = {
    .n = 100000,
    .ns_a = "vnbppA",
    .ns_b = "vnbppB",
    .if_a = "vnbppa",
    .if_b = "vnbppb",
    .ip_a = "10.233.0.1",
    .ip_b = "10.233.0.2",
};

static const size_t sizes[] = {64, 1024, 8192};
#define NSIZES 3
#define WARMUP 2000
#define WINDOW 64 /* streaming: messages per acknowledgement */
#define CHUNK 16 /* streaming: windows per rate sample (1024 messages) */
#define UDP_PORT 7471

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A send that cannot go out for this long gives up (ETIMEDOUT). */
#define SEND_STALL_NS 2000000000u
static bool stalled(uint64_t deadline)
{
	if (now_ns() < deadline)
		return false;
	errno = ETIMEDOUT;
	return true;
}

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof(s), &s);
}

/* Enter network namespace ns and give this process its own /sys for it,
 * as "ip netns exec" does (sysfs shows the links of the namespace that
 * mounts it). */
static int enter_ns(const char *ns, char *why, size_t whylen)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    setns(fd, CLONE_NEWNET) < 0) {
		snprintf(why, whylen,
			 "namespace %s: %s (run bench/run-pingpong)", ns,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == 0 &&
	    umount2("/sys", MNT_DETACH) == 0)
		mount("sysfs", "/sys", "sysfs", 0, NULL);
	return 0;
}

/* ------------------------------------------------------- udp transport */

#define UDP_VLEN 32 /* messages per recvmmsg */

struct udp_tp {
	struct pp_tp tp;
	int fd;
	struct sockaddr_in peer;
	bool have_peer;
	/* the sendmmsg row: what one recvmmsg got, handed out one by one */
	uint8_t *rb; /* UDP_VLEN buffers of PP_MAXMSG */
	int rlen[UDP_VLEN];
	int rn, rhead;
};

static int udp_send(struct pp_tp *t, const void *buf, size_t len)
{
	struct udp_tp *u = (struct udp_tp *)t;

	for (;;) {
		ssize_t r =
		    sendto(u->fd, buf, len, 0, (struct sockaddr *)&u->peer,
			   sizeof(u->peer));
		if (r >= 0)
			return 0;
		if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
			return -1;
		if (stop)
			return -1;
	}
}

static int udp_recv(struct pp_tp *t, void *buf, size_t cap)
{
	struct udp_tp *u = (struct udp_tp *)t;
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t r = recvfrom(u->fd, buf, cap, t->blocking ? 0 : MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);

	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (!u->have_peer) { /* the server answers its client */
		u->peer = from;
		u->have_peer = true;
	}
	return (int)r;
}

/* The sendmmsg row: a window in one sendmmsg (as many calls as the
 * socket's buffer needs). */
static int udp_send_many(struct pp_tp *t, const void *const *bufs, size_t len,
			 int n)
{
	struct udp_tp *u = (struct udp_tp *)t;
	struct mmsghdr mm[PP_BATCH];
	struct iovec iov[PP_BATCH];
	int done = 0;

	if (n > PP_BATCH) {
		errno = EINVAL;
		return -1;
	}
	memset(mm, 0, sizeof(mm[0]) * (size_t)n);
	for (int i = 0; i < n; i++) {
		iov[i].iov_base = (void *)(uintptr_t)bufs[i];
		iov[i].iov_len = len;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &u->peer;
		mm[i].msg_hdr.msg_namelen = sizeof(u->peer);
	}
	while (done < n) {
		int k = sendmmsg(u->fd, mm + done, (unsigned)(n - done), 0);

		if (k > 0) {
			done += k;
			continue;
		}
		if (k < 0 && errno != EAGAIN && errno != ENOBUFS &&
		    errno != EINTR)
			return -1;
		if (stop)
			return -1;
	}
	return 0;
}

/* The sendmmsg row receives with recvmmsg, UDP_VLEN at a time, as libvnb
 * polls a batch of completions. */
static int udp_recv_mmsg(struct pp_tp *t, void *buf, size_t cap)
{
	struct udp_tp *u = (struct udp_tp *)t;
	size_t len;

	if (!u->rn) {
		struct mmsghdr mm[UDP_VLEN];
		struct iovec iov[UDP_VLEN];
		struct sockaddr_in from = {0};
		int k;

		memset(mm, 0, sizeof(mm));
		for (int i = 0; i < UDP_VLEN; i++) {
			iov[i].iov_base = u->rb + (size_t)i * PP_MAXMSG;
			iov[i].iov_len = PP_MAXMSG;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		mm[0].msg_hdr.msg_name = &from;
		mm[0].msg_hdr.msg_namelen = sizeof(from);
		k = recvmmsg(u->fd, mm, UDP_VLEN, MSG_DONTWAIT, NULL);
		if (k <= 0)
			return k == 0 || errno == EAGAIN || errno == EINTR ? 0
									   : -1;
		if (!u->have_peer) { /* the server answers its client */
			u->peer = from;
			u->have_peer = true;
		}
		for (int i = 0; i < k; i++)
			u->rlen[i] = (int)mm[i].msg_len;
		u->rn = k;
		u->rhead = 0;
	}
	len = (size_t)u->rlen[u->rhead] < cap ? (size_t)u->rlen[u->rhead] : cap;
	memcpy(buf, u->rb + (size_t)u->rhead * PP_MAXMSG, len);
	u->rhead++;
	u->rn--;
	return (int)len;
}

static void udp_close(struct pp_tp *t)
{
	struct udp_tp *u = (struct udp_tp *)t;

	if (u) {
		close(u->fd);
		free(u->rb);
		free(u);
	}
}

static struct pp_tp *udp_open(const char *ip, bool blocking, bool mmsg,
			      char *why, size_t whylen)
{
	struct udp_tp *u = calloc(1, sizeof(*u));
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(UDP_PORT)};
	int big = 8 << 20;

	if (!u)
		return NULL;
	u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, ip, &sa.sin_addr);
	setsockopt(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(u->fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	if (u->fd < 0 || bind(u->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, whylen, "udp %s:%d: %s", ip, UDP_PORT,
			 strerror(errno));
		if (u->fd >= 0)
			close(u->fd);
		free(u);
		return NULL;
	}
	u->tp.send = udp_send;
	u->tp.recv = udp_recv;
	u->tp.close = udp_close;
	u->tp.max_msg = 65000;
	u->tp.blocking = blocking;
	snprintf(u->tp.mode, sizeof(u->tp.mode), "%s",
		 blocking ? "recvfrom"
		 : mmsg	  ? "busy recvmmsg, sendmmsg"
			  : "busy recvfrom");
	if (mmsg) {
		u->rb = malloc((size_t)UDP_VLEN * PP_MAXMSG);
		if (!u->rb) {
			snprintf(why, whylen, "no memory");
			udp_close(&u->tp);
			return NULL;
		}
		u->tp.recv = udp_recv_mmsg;
		u->tp.send_many = udp_send_many;
		u->tp.max_msg = PP_MAXMSG;
	}
	snprintf(u->tp.addr, sizeof(u->tp.addr), "%s", ip);
	return &u->tp;
}

static int udp_peer(struct pp_tp *t, const char *ip)
{
	struct udp_tp *u = (struct udp_tp *)t;

	u->peer.sin_family = AF_INET;
	u->peer.sin_port = htons(UDP_PORT);
	u->have_peer = true;
	return inet_pton(AF_INET, ip, &u->peer.sin_addr) == 1 ? 0 : -1;
}

/* ---------------------------------------------------- libvnb transport */

#define STASH 256

struct vnb_tp {
	struct pp_tp tp;
	struct vnb_ep *ep;
	struct vnb_addr peer;
	/* receive completions met while reaping sends */
	struct vnb_cqe stash[STASH];
	int nstash, head;
};

/* Poll a batch of completions, keeping the receives in the stash for
 * recv (sends need nothing); -1 on an endpoint error. */
static int vnbt_reap(struct vnb_tp *v)
{
	struct vnb_cqe c[32];
	int k = vnb_poll_cq(v->ep, c, 32);

	for (int i = 0; i < k; i++) {
		if (c[i].type != VNB_CQE_RECV)
			continue;
		if (v->nstash < STASH)
			v->stash[(v->head + v->nstash++) % STASH] = c[i];
		else /* nobody receives: drop it */
			vnb_post_recv(v->ep, c[i].frame, 0);
	}
	return k;
}

static int vnbt_send(struct pp_tp *t, const void *buf, size_t len)
{
	struct vnb_tp *v = (struct vnb_tp *)t;
	uint64_t deadline = 0;

	for (;;) {
		if (vnb_post_send(v->ep, &v->peer, buf, len, 0) == 0)
			return 0;
		/* the clock is read only once the send queue is full */
		if (!deadline)
			deadline = now_ns() + SEND_STALL_NS;
		if (errno != EAGAIN || stop || stalled(deadline))
			return -1;
		/* send queue full: reap */
		if (vnbt_reap(v) < 0)
			return -1;
	}
}

/* A window in one vnb_post_send_batch (one kick per 32 frames on xdp);
 * what does not fit waits for completions. */
static int vnbt_send_many(struct pp_tp *t, const void *const *bufs, size_t len,
			  int n)
{
	struct vnb_tp *v = (struct vnb_tp *)t;
	struct vnb_msg m[PP_BATCH];
	uint64_t deadline = 0;
	int i, done = 0;

	if (n > PP_BATCH) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		m[i].buf = bufs[i];
		m[i].len = len;
		m[i].context = 0;
	}
	while (done < n) {
		int k =
		    vnb_post_send_batch(v->ep, &v->peer, m + done, n - done);

		if (k > 0) {
			done += k;
			continue;
		}
		if (!deadline)
			deadline = now_ns() + SEND_STALL_NS;
		if ((k < 0 && errno != EAGAIN) || stop || stalled(deadline))
			return -1;
		if (vnbt_reap(v) < 0)
			return -1;
	}
	return 0;
}

static int vnbt_recv(struct pp_tp *t, void *buf, size_t cap)
{
	struct vnb_tp *v = (struct vnb_tp *)t;
	struct vnb_cqe *c;
	size_t len;

	if (!v->nstash && vnbt_reap(v) < 0)
		return -1;
	if (!v->nstash)
		return 0;
	c = &v->stash[v->head];
	v->head = (v->head + 1) % STASH;
	v->nstash--;
	len = c->len < cap ? c->len : cap;
	if (c->status == 0)
		memcpy(buf, c->data, len);
	vnb_post_recv(v->ep, c->frame, 0);
	return c->status == 0 ? (int)len : 0;
}

static void vnbt_close(struct pp_tp *t)
{
	struct vnb_tp *v = (struct vnb_tp *)t;

	if (v) {
		vnb_ep_close(v->ep);
		free(v);
	}
}

/* Open an endpoint for a row; its address in text into addr (160 B). */
static struct vnb_ep *ep_open(enum vnb_prov prov, unsigned flags,
			      const char *ifname, const char *shm, char *addr,
			      char *why, size_t whylen)
{
	struct vnb_ep_attr a = {
	    .ifname = ifname,
	    .prov = prov,
	    .flags = flags,
	    .job_tag = 0x62656e63, /* "benc" */
	    .shm_name = shm,
	};
	vnb_error_t err = {{0}};
	struct vnb_addr self;
	struct vnb_ep *ep = vnb_ep_open(&a, &err);

	if (!ep) {
		snprintf(why, whylen, "%.190s",
			 err.text[0] ? err.text : strerror(errno));
		return NULL;
	}
	vnb_ep_addr(ep, &self);
	if (vnb_addr_format(&self, addr, 160) < 0) {
		snprintf(why, whylen, "vnb_addr_format: %s", strerror(errno));
		vnb_ep_close(ep);
		return NULL;
	}
	return ep;
}

static struct pp_tp *vnbt_open(enum vnb_prov prov, unsigned flags,
			       const char *ifname, const char *shm, char *why,
			       size_t whylen)
{
	struct vnb_tp *v = calloc(1, sizeof(*v));

	if (!v || !(v->ep = ep_open(prov, flags, ifname, shm, v->tp.addr, why,
				    whylen))) {
		free(v);
		return NULL;
	}
	v->tp.send = vnbt_send;
	v->tp.send_many = vnbt_send_many;
	v->tp.recv = vnbt_recv;
	v->tp.close = vnbt_close;
	v->tp.max_msg = vnb_ep_max_payload(v->ep);
	snprintf(v->tp.mode, sizeof(v->tp.mode), "%s", vnb_ep_mode(v->ep));
	return &v->tp;
}

static int vnbt_peer(struct pp_tp *t, const char *addr)
{
	struct vnb_tp *v = (struct vnb_tp *)t;
	vnb_error_t err = {{0}};

	return vnb_addr_parse(addr, &v->peer, &err);
}

/* ----------------------------------- libvnb reliable messages transport */

#define REL_SLOTS 256

/* vnb_rel_send borrows the buffer until the peer has it all: messages are
 * copied into slots, each reused once its send has completed. */
struct rel_tp {
	struct pp_tp tp;
	struct vnb_ep *ep;
	struct vnb_rel *rel;
	uint8_t (*slot)[PP_MAXMSG];
	bool busy[REL_SLOTS];
	uint32_t next;
};

static int relt_progress(struct rel_tp *r)
{
	uint64_t done[64];
	int k = vnb_rel_progress(r->rel, done, 64);

	for (int i = 0; i < k; i++)
		r->busy[done[i] % REL_SLOTS] = false;
	return k;
}

static int relt_send(struct pp_tp *t, const void *buf, size_t len)
{
	struct rel_tp *r = (struct rel_tp *)t;
	uint32_t s = r->next;
	uint64_t deadline = now_ns() + SEND_STALL_NS;

	while (r->busy[s])
		if (relt_progress(r) < 0 || stop || stalled(deadline))
			return -1;
	memcpy(r->slot[s], buf, len);
	while (vnb_rel_send(r->rel, 0, r->slot[s], len, s) < 0)
		if (errno != EAGAIN || relt_progress(r) < 0 || stop ||
		    stalled(deadline))
			return -1;
	r->busy[s] = true;
	r->next = (s + 1) % REL_SLOTS;
	return 0;
}

static int relt_recv(struct pp_tp *t, void *buf, size_t cap)
{
	struct rel_tp *r = (struct rel_tp *)t;
	size_t peer, len;
	int k;

	if ((k = vnb_rel_recv(r->rel, &peer, buf, cap, &len)) == 0) {
		if (relt_progress(r) < 0)
			return -1;
		k = vnb_rel_recv(r->rel, &peer, buf, cap, &len);
	}
	return k == 1 ? (int)len : k;
}

static void relt_close(struct pp_tp *t)
{
	struct rel_tp *r = (struct rel_tp *)t;

	if (r) {
		vnb_rel_destroy(r->rel);
		vnb_ep_close(r->ep);
		free(r->slot);
		free(r);
	}
}

static struct pp_tp *relt_open(enum vnb_prov prov, const char *ifname,
			       char *why, size_t whylen)
{
	struct rel_tp *r = calloc(1, sizeof(*r));

	if (!r || !(r->slot = calloc(REL_SLOTS, sizeof(*r->slot)))) {
		free(r);
		snprintf(why, whylen, "no memory");
		return NULL;
	}
	if (!(r->ep =
		  ep_open(prov, 0, ifname, NULL, r->tp.addr, why, whylen))) {
		relt_close(&r->tp);
		return NULL;
	}
	r->tp.send = relt_send;
	r->tp.recv = relt_recv;
	r->tp.close = relt_close;
	r->tp.max_msg = PP_MAXMSG;
	snprintf(r->tp.mode, sizeof(r->tp.mode), "%.40s, rel",
		 vnb_ep_mode(r->ep));
	return &r->tp;
}

/* The reliable layer is made once the peer's address is known. */
static int relt_peer(struct pp_tp *t, const char *addr)
{
	struct rel_tp *r = (struct rel_tp *)t;
	struct vnb_rel_attr ra = {.max_msg = PP_MAXMSG};
	struct vnb_addr peer;
	vnb_error_t err = {{0}};

	if (vnb_addr_parse(addr, &peer, &err) < 0)
		return -1;
	r->rel = vnb_rel_create(r->ep, &peer, 1, &ra, &err);
	return r->rel ? 0 : -1;
}

/* ------------------------------------------------------------ the rows */

enum kind { K_VNB, K_REL, K_UDP_BUSY, K_UDP_BLOCK, K_UDP_MMSG, K_XSK };

struct row {
	const char *name;
	enum kind kind;
	enum vnb_prov prov;
	bool same_ns; /* both ends in namespace A (shm) */
	unsigned flags; /* vnb_ep_attr.flags */
};

static const struct row rows[] = {
    {"libvnb xdp", K_VNB, VNB_PROV_XDP, false, 0},
    {"libvnb xdp, native mode", K_VNB, VNB_PROV_XDP, false, VNB_EP_XDP_NATIVE},
    {"libvnb packet", K_VNB, VNB_PROV_PACKET, false, 0},
    {"libvnb udp", K_VNB, VNB_PROV_UDP, false, 0},
    {"libvnb shm", K_VNB, VNB_PROV_SHM, true, 0},
    {"libvnb reliable over xdp", K_REL, VNB_PROV_XDP, false, 0},
    {"raw AF_XDP ring (floor)", K_XSK, 0, false, 0},
    {"UDP socket, busy-poll", K_UDP_BUSY, 0, false, 0},
    {"UDP socket, blocking", K_UDP_BLOCK, 0, false, 0},
    {"UDP socket, sendmmsg", K_UDP_MMSG, 0, false, 0},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* What a client measures: latency in ns per size, streams. */
struct result {
	char na[200]; /* non-empty: the whole row is n/a */
	char mode[48];
	struct {
		char na[120];
		double p50, p99; /* ns */
		long lost;
	} lat[NSIZES];
	struct {
		char na[120];
		double msgs_per_s, mb_per_s; /* median of chunks */
		double mean_per_s; /* over the whole stream */
		long sent, got, stalls;
	} bw[NSIZES];
};

/* One message: a small header, then filler up to its size. */
enum { M_PING = 1, M_DATA, M_ACK, M_FIN, M_FINACK };
struct mhdr {
	uint32_t type;
	uint32_t seq;
	uint64_t count;
};

static struct pp_tp *tp_open(const struct row *r, bool server, char *why,
			     size_t whylen)
{
	const char *ifname = server && !r->same_ns ? opt.if_b : opt.if_a;
	const char *ip = server && !r->same_ns ? opt.ip_b : opt.ip_a;

	switch (r->kind) {
	case K_VNB:
		return vnbt_open(r->prov, r->flags, ifname,
				 server ? "vnbpp-srv" : "vnbpp-cli", why,
				 whylen);
	case K_REL:
		return relt_open(r->prov, ifname, why, whylen);
	case K_UDP_BUSY:
	case K_UDP_BLOCK:
	case K_UDP_MMSG:
		return udp_open(ip, r->kind == K_UDP_BLOCK,
				r->kind == K_UDP_MMSG, why, whylen);
	case K_XSK:
		return pp_xsk_open(ifname, why, whylen);
	}
	return NULL;
}

static int tp_peer(const struct row *r, struct pp_tp *t, const char *addr)
{
	switch (r->kind) {
	case K_VNB:
		return vnbt_peer(t, addr);
	case K_REL:
		return relt_peer(t, addr);
	case K_UDP_BUSY:
	case K_UDP_BLOCK:
	case K_UDP_MMSG:
		return udp_peer(t, addr);
	case K_XSK:
		return pp_xsk_peer(t, addr);
	}
	return -1;
}

/* The server: echo pings, count data, acknowledge windows. */
static void serve(struct pp_tp *t)
{
	static uint8_t buf[PP_MAXMSG];
	struct mhdr h, a = {0};
	uint64_t count = 0;

	while (!stop) {
		int len = t->recv(t, buf, sizeof(buf));

		if (len < (int)sizeof(h))
			continue;
		memcpy(&h, buf, sizeof(h));
		switch (h.type) {
		case M_PING:
			t->send(t, buf, (size_t)len);
			break;
		case M_DATA:
			count++;
			if (h.seq % WINDOW == WINDOW - 1) {
				a.type = M_ACK;
				a.seq = h.seq;
				t->send(t, &a, sizeof(a));
			}
			break;
		case M_FIN:
			a.type = M_FINACK;
			a.seq = h.seq;
			a.count = count;
			t->send(t, &a, sizeof(a));
			count = 0;
			break;
		}
	}
}

/* Wait for a message of type (and seq) until deadline; its length, or
 * 0 at the deadline. */
static int wait_for(struct pp_tp *t, uint8_t *buf, uint32_t type, uint32_t seq,
		    uint64_t deadline)
{
	struct mhdr h;

	for (unsigned i = 0;; i++) {
		int len = t->recv(t, buf, PP_MAXMSG);

		if (len >= (int)sizeof(h)) {
			memcpy(&h, buf, sizeof(h));
			if (h.type == type && h.seq == seq)
				return len;
		} else if (len < 0) {
			return -1;
		}
		if ((i & 255) == 0 && now_ns() > deadline)
			return 0;
		if (stop)
			return -1;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double tv_ns(const struct timeval *a, const struct timeval *b)
{
	return ((double)(b->tv_sec - a->tv_sec) * 1e6 +
		(double)(b->tv_usec - a->tv_usec)) *
	       1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void measure_latency(struct pp_tp *t, size_t size, struct result *res,
			    int si)
{
	static uint8_t msg[PP_MAXMSG], buf[PP_MAXMSG];
	uint64_t *rtt = calloc((size_t)opt.n, sizeof(*rtt));
	struct mhdr h = {.type = M_PING};
	long got = 0, lost = 0;

	if (!rtt)
		return;
	memset(msg, 0xa5, size);
	for (long i = 0; i < opt.n + WARMUP && lost < 50; i++) {
		uint64_t t0, t1;
		int r;

		h.seq = (uint32_t)i;
		memcpy(msg, &h, sizeof(h));
		t0 = now_ns();
		if (t->send(t, msg, size) < 0) {
			snprintf(res->lat[si].na, sizeof(res->lat[si].na),
				 "n/a (send %ld: %s)", i + 1, strerror(errno));
			free(rtt);
			return;
		}
		r = wait_for(t, buf, M_PING, h.seq, t0 + 200000000u);
		t1 = now_ns();
		if (r < 0)
			break;
		if (r == 0) {
			lost++;
			continue;
		}
		if (i >= WARMUP)
			rtt[got++] = t1 - t0;
	}
	if (got < opt.n / 2) {
		snprintf(res->lat[si].na, sizeof(res->lat[si].na),
			 "n/a (%ld of %ld answered)", got, opt.n);
	} else {
		qsort(rtt, (size_t)got, sizeof(*rtt), cmp_u64);
		res->lat[si].p50 = (double)rtt[got / 2];
		res->lat[si].p99 = (double)rtt[(size_t)((double)got * 0.99)];
		res->lat[si].lost = lost;
	}
	free(rtt);
}

/* The messages of a window, filler written once per size. */
static uint8_t win[WINDOW][PP_MAXMSG];

/* Send messages first .. first + k - 1 of the stream: in one send_many
 * when the transport has it, else one send each. */
static int send_window(struct pp_tp *t, size_t size, long first, long k)
{
	const void *ptr[WINDOW];
	struct mhdr h = {.type = M_DATA};

	for (long j = 0; j < k; j++) {
		h.seq = (uint32_t)(first + j);
		memcpy(win[j], &h, sizeof(h));
		ptr[j] = win[j];
		if ((!t->send_many || opt.no_batch) &&
		    t->send(t, win[j], size) < 0)
			return -1;
	}
	return t->send_many && !opt.no_batch
		   ? t->send_many(t, ptr, size, (int)k)
		   : 0;
}

/* One sender streams n messages of size, WINDOW at a time, waiting for
 * the receiver's acknowledgement of each window (as osu_mbw_mr does);
 * rate = messages the receiver counted / time.  A transport with
 * send_many sends each window with it (libvnb: vnb_post_send_batch; the
 * floor: one kick per 32; UDP sendmmsg row: sendmmsg); the others send
 * message by message (UDP: one sendto each, the conventional path). */
static void measure_stream(struct pp_tp *t, size_t size, struct result *res,
			   int si)
{
	static uint8_t buf[PP_MAXMSG];
	struct mhdr h;
	uint64_t t0, t1, tc, got = 0;
	long sent = 0, stalls = 0, nwin = 0;
	struct rusage ru0, ru1;
	double *chunk =
	    calloc((size_t)(opt.n / (WINDOW * CHUNK) + 1), sizeof(*chunk));
	size_t nchunk = 0;
	int r = 0;

	if (!chunk) {
		snprintf(res->bw[si].na, sizeof(res->bw[si].na),
			 "n/a (memory)");
		return;
	}
	for (int j = 0; j < WINDOW; j++)
		memset(win[j], 0x5a, size);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = tc = now_ns();
	for (long i = 0; i < opt.n;) {
		long k = opt.n - i < WINDOW ? opt.n - i : WINDOW;

		if (send_window(t, size, i, k) < 0) {
			snprintf(res->bw[si].na, sizeof(res->bw[si].na),
				 "n/a (send %ld of %ld: %s)", i + 1, opt.n,
				 strerror(errno));
			free(chunk);
			return;
		}
		i += k;
		sent += k;
		if (k == WINDOW) {
			r = wait_for(t, buf, M_ACK, (uint32_t)(i - 1),
				     now_ns() + 20000000u);
			if (r < 0)
				break;
			stalls += r == 0;
			if (++nwin % CHUNK == 0) {
				uint64_t now = now_ns();

				chunk[nchunk++] = (double)(WINDOW * CHUNK) *
						  1e9 / (double)(now - tc);
				tc = now;
			}
		}
	}
	t1 = now_ns();
	getrusage(RUSAGE_SELF, &ru1);
	/* how many arrived */
	r = 0;
	for (uint32_t f = 0; f < 50 && r <= 0; f++) {
		struct mhdr fin = {.type = M_FIN, .seq = f};

		t->send(t, &fin, sizeof(fin));
		r = wait_for(t, buf, M_FINACK, f, now_ns() + 100000000u);
		if (r > 0) {
			memcpy(&h, buf, sizeof(h));
			got = h.count;
		}
	}
	if (r <= 0) {
		snprintf(res->bw[si].na, sizeof(res->bw[si].na),
			 "n/a (the receiver did not answer)");
		free(chunk);
		return;
	}
	res->bw[si].sent = sent;
	res->bw[si].stalls = stalls;
	res->bw[si].got = (long)got;
	res->bw[si].mean_per_s = (double)got * 1e9 / (double)(t1 - t0);
	/* The median chunk, scaled by the share that arrived: a chunk in
	 * which another process took the CPU does not count more than
	 * any other (the machine is shared). */
	if (nchunk) {
		qsort(chunk, nchunk, sizeof(*chunk), cmp_double);
		res->bw[si].msgs_per_s =
		    chunk[nchunk / 2] * (double)got / (double)(sent ? sent : 1);
	} else {
		res->bw[si].msgs_per_s = res->bw[si].mean_per_s;
	}
	res->bw[si].mb_per_s = res->bw[si].msgs_per_s * (double)size / 1e6;
	if (getenv("PINGPONG_DEBUG"))
		fprintf(stderr,
			"stream %zu B: sent %ld, got %lu, %ld stalls, mean "
			"%.0f/s, median of %zu chunks %.0f/s; sender CPU "
			"%.0f ns user, %.0f ns system per message\n",
			size, sent, (unsigned long)got, stalls,
			res->bw[si].mean_per_s, nchunk, res->bw[si].msgs_per_s,
			tv_ns(&ru0.ru_utime, &ru1.ru_utime) / (double)sent,
			tv_ns(&ru0.ru_stime, &ru1.ru_stime) / (double)sent);
	free(chunk);
}

static void client(struct pp_tp *t, struct result *res)
{
	for (int si = 0; si < NSIZES && !stop; si++) {
		if (sizes[si] > t->max_msg || sizes[si] > PP_MAXMSG) {
			snprintf(res->lat[si].na, sizeof(res->lat[si].na),
				 "n/a (max message %zu B)", t->max_msg);
			snprintf(res->bw[si].na, sizeof(res->bw[si].na), "%s",
				 res->lat[si].na);
			continue;
		}
		if (getenv("PINGPONG_DEBUG"))
			fprintf(stderr, "latency %zu B\n", sizes[si]);
		measure_latency(t, sizes[si], res, si);
		if (getenv("PINGPONG_DEBUG"))
			fprintf(stderr, "stream %zu B\n", sizes[si]);
		measure_stream(t, sizes[si], res, si);
	}
}

/* ----------------------------------------------------- process plumbing */

/* A child: enter its namespace, pin, open; tell the parent "OK addr" or
 * "NA reason"; read the peer's address; serve or measure. */
static void child(const struct row *r, bool server, int in, int out)
{
	char why[200] = "", line[256];
	const char *ns = server && !r->same_ns ? opt.ns_b : opt.ns_a;
	struct sigaction sa = {.sa_handler = on_term};
	struct result res;
	struct pp_tp *t = NULL;
	FILE *fin = fdopen(in, "r");
	ssize_t len;

	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: recv returns */
	if (!server) /* a client that hangs dies, and its row says so */
		alarm((unsigned)(120 + opt.n / 100));
	memset(&res, 0, sizeof(res));
	pin(server ? 1 : 0);
	if (enter_ns(ns, why, sizeof(why)) == 0)
		t = tp_open(r, server, why, sizeof(why));
	dprintf(out, "%s %s\n", t ? "OK" : "NA", t ? t->addr : why);
	if (!t)
		_exit(0);
	if (!fin || !fgets(line, sizeof(line), fin) || strncmp(line, "GO ", 3))
		_exit(0);
	line[strcspn(line, "\n")] = '\0';
	if (tp_peer(r, t, line + 3) < 0) {
		snprintf(res.na, sizeof(res.na),
			 "n/a (bad peer address %.100s)", line + 3);
	} else if (server) {
		serve(t);
	} else {
		snprintf(res.mode, sizeof(res.mode), "%s", t->mode);
		client(t, &res);
	}
	t->close(t);
	if (!server) {
		len = write(out, &res, sizeof(res));
		(void)len;
	}
	_exit(0);
}

struct proc {
	pid_t pid;
	int to, from; /* pipes to and from it */
	FILE *rd;
};

static int spawn(const struct row *r, bool server, struct proc *p)
{
	int a[2], b[2];

	if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		close(a[1]);
		close(b[0]);
		child(r, server, a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	p->to = a[1];
	p->from = b[0];
	p->rd = fdopen(p->from, "r");
	return 0;
}

/* Wait for pid at most secs; kill it after. */
static int wait_deadline(pid_t pid, int secs)
{
	int st = 0;

	for (int i = 0; i < secs * 20; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static void reap(struct proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		wait_deadline(p->pid, 5);
	}
	if (p->rd)
		fclose(p->rd);
	else if (p->from >= 0)
		close(p->from);
	close(p->to);
}

/* "OK addr" into addr, or the reason into why; 0 when OK. */
static int hello(struct proc *p, char *addr, size_t len, char *why,
		 size_t whylen)
{
	char line[256];

	if (!p->rd || !fgets(line, sizeof(line), p->rd)) {
		snprintf(why, whylen, "the process died at setup");
		return -1;
	}
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "OK ", 3) != 0) {
		snprintf(why, whylen, "%.190s", line + 3);
		return -1;
	}
	snprintf(addr, len, "%.150s", line + 3);
	return 0;
}

static void run_row(const struct row *r, struct result *res)
{
	struct proc s = {.to = -1, .from = -1}, c = {.to = -1, .from = -1};
	char sa[160], ca[160], why[200];

	memset(res, 0, sizeof(*res));
	if (spawn(r, true, &s) < 0 ||
	    hello(&s, sa, sizeof(sa), why, sizeof(why)) < 0) {
		snprintf(res->na, sizeof(res->na), "n/a (server: %.180s)", why);
		reap(&s);
		return;
	}
	if (spawn(r, false, &c) < 0 ||
	    hello(&c, ca, sizeof(ca), why, sizeof(why)) < 0) {
		snprintf(res->na, sizeof(res->na), "n/a (client: %.180s)", why);
		reap(&c);
		reap(&s);
		return;
	}
	dprintf(s.to, "GO %s\n", ca);
	dprintf(c.to, "GO %s\n", sa);
	if (fread(res, sizeof(*res), 1, c.rd) != 1)
		snprintf(res->na, sizeof(res->na),
			 "n/a (the client died or hung)");
	waitpid(c.pid, NULL, 0);
	c.pid = 0;
	reap(&c);
	reap(&s);
}

/* ------------------------------------------------------- fi_pingpong */

struct fi_row {
	const char *name, *prov, *ep;
	bool same_ns;
};

static const struct fi_row fi_rows[] = {
    {"libfabric udp dgram", "udp", "dgram", false},
    {"libfabric tcp msg", "tcp", "msg", false},
    {"libfabric ofi_rxd;udp rdm", "ofi_rxd;udp", "rdm", false},
    {"libfabric shm rdm", "shm", "rdm", true},
};
#define NFI (sizeof(fi_rows) / sizeof(fi_rows[0]))

/* fork: namespace, CPU, exec fi_pingpong; its stdout into *out. */
static pid_t fi_spawn(const struct fi_row *f, bool server, size_t size,
		      int *out)
{
	char sz[16], it[24];
	int p[2];
	pid_t pid;

	snprintf(sz, sizeof(sz), "%zu", size);
	snprintf(it, sizeof(it), "%ld", opt.n);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		char why[200];
		int devnull = open("/dev/null", O_RDWR);

		pin(server ? 1 : 0);
		if (enter_ns(server && !f->same_ns ? opt.ns_b : opt.ns_a, why,
			     sizeof(why)) < 0)
			_exit(127);
		dup2(p[1], 1);
		/* the client's errors explain an n/a cell */
		dup2(server ? devnull : p[1], 2);
		if (server)
			execlp("fi_pingpong", "fi_pingpong", "-p", f->prov,
			       "-e", f->ep, "-S", sz, "-I", it, (char *)NULL);
		else
			execlp("fi_pingpong", "fi_pingpong", "-p", f->prov,
			       "-e", f->ep, "-S", sz, "-I", it,
			       f->same_ns ? "127.0.0.1" : opt.ip_b,
			       (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

/* fi_pingpong's sizes: 64, 1k, 8k, 1m */
static size_t fi_size(const char *s)
{
	char *end;
	size_t v = (size_t)strtoul(s, &end, 10);

	return *end == 'k' ? v << 10 : *end == 'm' ? v << 20 : v;
}

/* The average one-way time fi_pingpong prints (usec/xfer), doubled: a
 * round trip.  Its columns: bytes #sent #ack total time MB/sec usec/xfer
 * Mxfers/sec. */
static void run_fi(const struct fi_row *f, size_t size, char *cell, size_t len,
		   double *rtt_ns)
{
	char buf[4096] = "", *l;
	int sout, cout, st;
	pid_t s, c;
	size_t got = 0;
	ssize_t r;

	*rtt_ns = 0;
	if ((s = fi_spawn(f, true, size, &sout)) < 0) {
		snprintf(cell, len, "n/a (fork)");
		return;
	}
	usleep(300000); /* the server listens on its control port */
	if ((c = fi_spawn(f, false, size, &cout)) < 0) {
		snprintf(cell, len, "n/a (fork)");
		kill(s, SIGKILL);
		waitpid(s, NULL, 0);
		close(sout);
		return;
	}
	while (got < sizeof(buf) - 1 &&
	       (r = read(cout, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	st = wait_deadline(c, 120);
	wait_deadline(s, 10);
	close(sout);
	close(cout);
	char *save = NULL, *last = NULL;

	for (l = strtok_r(buf, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char b[32], sent[32], ack[32], tot[32], tm[32];
		double mbs, us, mx;

		if (sscanf(l, "%31s %31s %31s %31s %31s %lf %lf %lf", b, sent,
			   ack, tot, tm, &mbs, &us, &mx) == 8 &&
		    fi_size(b) == size) {
			*rtt_ns = 2 * us * 1000;
			return;
		}
		last = l;
	}
	if (st == 127 << 8)
		snprintf(cell, len, "n/a (fi_pingpong: not installed)");
	else
		snprintf(cell, len, "n/a (fi_pingpong: %.80s)",
			 last ? last : "no output");
}

/* --------------------------------------------------------------- table */

static void cell_lat(const struct result *r, int si, char *out, size_t len)
{
	if (r->na[0])
		snprintf(out, len, "%.190s", si == 0 ? r->na : "");
	else if (r->lat[si].na[0])
		snprintf(out, len, "%s", r->lat[si].na);
	else
		snprintf(out, len, "%7.2f / %-7.2f", r->lat[si].p50 / 1000,
			 r->lat[si].p99 / 1000);
}

static void ratio(const char *what, double a, double b, double target,
		  bool at_least)
{
	if (a <= 0 || b <= 0) {
		printf("  %-44s n/a (a row is missing)\n", what);
		return;
	}
	double x = a / b;
	bool met = at_least ? x >= target : x <= target;

	printf("  %-44s %6.2fx   target %s %.2fx   %s\n", what, x,
	       at_least ? ">=" : "<=", target, met ? "met" : "NOT met");
}

/* The machine is shared: say how busy it was. */
static void print_load(const char *when)
{
	char l[128] = "";
	FILE *f = fopen("/proc/loadavg", "r");

	if (f && fgets(l, sizeof(l), f))
		printf("load average %s: %.14s (%ld CPUs)\n", when, l,
		       sysconf(_SC_NPROCESSORS_ONLN));
	if (f)
		fclose(f);
}

static const struct result *by_name(const struct result *res, const char *name)
{
	for (size_t i = 0; i < NROWS; i++)
		if (strcmp(rows[i].name, name) == 0)
			return &res[i];
	abort();
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pingpong [-n ITERS] [-r ROWS] [-F] [-1]\n"
		"  -n ITERS   round trips per size and messages per stream "
		"(default 100000)\n"
		"  -r TEXT    only the rows whose name contains TEXT\n"
		"  -F         leave out the fi_pingpong rows\n"
		"  -1         streams send one message at a time in every "
		"row (no batches)\n"
		"Run it through bench/run-pingpong, which makes the "
		"namespaces.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct result res[NROWS];
	double fi_rtt[NFI][NSIZES];
	char fi_cell[NFI][NSIZES][120];
	char cell[200], when[64];
	time_t now = time(NULL);
	int o;

	while ((o = getopt(argc, argv, "n:r:F1h")) != -1) {
		switch (o) {
		case 'n':
			opt.n = atol(optarg);
			if (opt.n < 100)
				usage();
			break;
		case 'r':
			opt.only = optarg;
			break;
		case 'F':
			opt.no_fi = true;
			break;
		case '1':
			opt.no_batch = true;
			break;
		default:
			usage();
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	printf("vnic-bypass bench/pingpong  %s  n=%ld per cell\n", when, opt.n);
	print_load("at the start");
	printf("veth %s (ns %s, %s) <-> %s (ns %s, %s); client CPU 0, server "
	       "CPU 1\n\n",
	       opt.if_a, opt.ns_a, opt.ip_a, opt.if_b, opt.ns_b, opt.ip_b);

	for (size_t i = 0; i < NROWS; i++) {
		if (opt.only && !strstr(rows[i].name, opt.only)) {
			snprintf(res[i].na, sizeof(res[i].na),
				 "n/a (not selected)");
			continue;
		}
		fprintf(stderr, "pingpong: %s...\n", rows[i].name);
		run_row(&rows[i], &res[i]);
	}
	for (size_t i = 0; i < NFI; i++)
		for (int si = 0; si < NSIZES; si++) {
			fi_cell[i][si][0] = '\0';
			fi_rtt[i][si] = 0;
			if (opt.no_fi ||
			    (opt.only && !strstr(fi_rows[i].name, opt.only))) {
				snprintf(fi_cell[i][si], sizeof(fi_cell[i][si]),
					 "n/a (not selected)");
				continue;
			}
			fprintf(stderr, "pingpong: %s %zu B...\n",
				fi_rows[i].name, sizes[si]);
			run_fi(&fi_rows[i], sizes[si], fi_cell[i][si],
			       sizeof(fi_cell[i][si]), &fi_rtt[i][si]);
		}

	printf("Round trip, us: p50 / p99 (libfabric rows: 2 x the mean "
	       "one-way time fi_pingpong prints; it gives no percentiles)\n");
	printf("%-28s %-30s %-20s %-20s %-20s\n", "row", "mode", "64 B",
	       "1 KiB", "8 KiB");
	for (size_t i = 0; i < NROWS; i++) {
		printf("%-28s %-30s", rows[i].name,
		       res[i].na[0] ? "-" : res[i].mode);
		for (int si = 0; si < NSIZES; si++) {
			cell_lat(&res[i], si, cell, sizeof(cell));
			printf(" %-20s", cell);
		}
		printf("\n");
	}
	for (size_t i = 0; i < NFI; i++) {
		printf("%-28s %-30s", fi_rows[i].name, "fi_pingpong, mean");
		for (int si = 0; si < NSIZES; si++) {
			if (fi_rtt[i][si] > 0)
				snprintf(cell, sizeof(cell), "%7.2f",
					 fi_rtt[i][si] / 1000);
			else
				snprintf(cell, sizeof(cell), "%s",
					 fi_cell[i][si]);
			printf(" %-20s", cell);
		}
		printf("\n");
	}

	printf("Sizes are payload bytes: libvnb adds its headers (Ethernet "
	       "and 16 B vnb on xdp/packet), the floor 14 B of Ethernet, UDP "
	       "28 B of IP and UDP.\n");
	printf("\nOne sender, windows of %d messages, one acknowledgement per "
	       "window: messages/s (MB/s) the receiver got: the median of "
	       "samples of %d messages, times the share that arrived.  %s\n",
	       WINDOW, WINDOW * CHUNK,
	       opt.no_batch
		   ? "-1: every row sends message by message (libvnb: "
		     "vnb_post_send; UDP: sendto)"
		   : "libvnb rows post a window with vnb_post_send_batch (one "
		     "kick per 32 frames), the floor likewise by hand; UDP "
		     "busy-poll and blocking: one sendto per message; UDP "
		     "sendmmsg: one sendmmsg per window, recvmmsg");
	printf("%-28s %-30s %-20s %-20s %-20s\n", "row", "", "64 B", "1 KiB",
	       "8 KiB");
	for (size_t i = 0; i < NROWS; i++) {
		printf("%-28s %-30s", rows[i].name, "");
		for (int si = 0; si < NSIZES; si++) {
			if (res[i].na[0])
				snprintf(cell, sizeof(cell), "%.190s",
					 si == 0 ? res[i].na : "");
			else if (res[i].bw[si].na[0])
				snprintf(cell, sizeof(cell), "%s",
					 res[i].bw[si].na);
			else
				snprintf(cell, sizeof(cell), "%.0f (%.0f)%s",
					 res[i].bw[si].msgs_per_s,
					 res[i].bw[si].mb_per_s,
					 res[i].bw[si].stalls ? "*" : "");
			printf(" %-20s", cell);
		}
		printf("\n");
	}
	for (size_t i = 0; i < NFI; i++)
		printf("%-28s %-30s %s\n", fi_rows[i].name, "",
		       "n/a (fi_pingpong only ping-pongs; fabtests' fi_msg_bw "
		       "is not packaged)");
	for (size_t i = 0; i < NROWS; i++)
		for (int si = 0; si < NSIZES; si++)
			if (!res[i].na[0] && !res[i].bw[si].na[0] &&
			    res[i].bw[si].stalls)
				printf("* %s, %zu B: %ld of %ld windows waited "
				       "20 ms for an acknowledgement (lost, or "
				       "the receiver was not scheduled)\n",
				       rows[i].name, sizes[si],
				       res[i].bw[si].stalls, opt.n / WINDOW);

	/* the targets (BENCHMARKS.md), on the 64 B column */
	const struct result *x = by_name(res, "libvnb xdp"),
			    *xnat = by_name(res, "libvnb xdp, native mode"),
			    *floor_ = by_name(res, "raw AF_XDP ring (floor)"),
			    *busy = by_name(res, "UDP socket, busy-poll"),
			    *blk = by_name(res, "UDP socket, blocking"),
			    *mmsg = by_name(res, "UDP socket, sendmmsg"),
			    *vshm = by_name(res, "libvnb shm"),
			    *rel = by_name(res, "libvnb reliable over xdp");
	double xp = x->na[0] || x->lat[0].na[0] ? 0 : x->lat[0].p50;
#define P50(r) ((r)->na[0] || (r)->lat[0].na[0] ? 0 : (r)->lat[0].p50)
#define RATE(r) ((r)->na[0] || (r)->bw[0].na[0] ? 0 : (r)->bw[0].msgs_per_s)
	printf("\n");
	print_load("at the end");
	printf("\nTargets (64 B, p50 ratios; measured in this run):\n");
	ratio("libvnb xdp / UDP busy-poll", xp, P50(busy), 0.5, false);
	ratio("libvnb xdp / UDP blocking", xp, P50(blk), 0.1, false);
	printf("  (libvnb xdp runs in %s; the floor in skb, copy)\n",
	       x->na[0] ? "-" : x->mode);
	ratio("libvnb xdp / raw AF_XDP floor", xp, P50(floor_), 1.15, false);
	ratio("libvnb reliable over xdp / ofi_rxd;udp", P50(rel), fi_rtt[2][0],
	      1.0 / 3, false);
	if (P50(rel) > 0)
		printf("  %-44s %6.2f us  target <= 7.00 us  %s\n",
		       "libvnb reliable over xdp, p50", P50(rel) / 1000,
		       P50(rel) <= 7000 ? "met" : "NOT met");
	else
		printf("  %-44s n/a (a row is missing)\n",
		       "libvnb reliable over xdp, p50");
	ratio("libvnb shm / libfabric shm", P50(vshm), fi_rtt[3][0], 1.0,
	      false);
	ratio("message rate: libvnb xdp / UDP busy-poll", RATE(x), RATE(busy),
	      3.0, true);
	ratio("message rate: libvnb xdp / UDP blocking", RATE(x), RATE(blk),
	      3.0, true);
	ratio("message rate: libvnb xdp / UDP sendmmsg", RATE(x), RATE(mmsg),
	      3.0, true);
	ratio("message rate: xdp native / UDP busy-poll", RATE(xnat),
	      RATE(busy), 3.0, true);
#define MEAN(r) ((r)->na[0] || (r)->bw[0].na[0] ? 0 : (r)->bw[0].mean_per_s)
	if (MEAN(x) > 0 && MEAN(busy) > 0)
		printf("  %-44s %6.2fx   (%.0f / %.0f messages per s)\n",
		       "rate, whole-stream means: xdp / UDP busy-poll",
		       MEAN(x) / MEAN(busy), MEAN(x), MEAN(busy));
	if (RATE(x) > 0 && RATE(floor_) > 0)
		printf("  %-44s %6.2fx   (no target: both batched)\n",
		       "message rate: libvnb xdp / raw AF_XDP floor",
		       RATE(x) / RATE(floor_));
	return 0;
}
