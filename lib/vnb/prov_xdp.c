/*
 * prov_xdp.c - the xdp provider: AF_XDP sockets through libxdp's xsk API.
 *
 * The registered frames are the UMEM: attr.nframes frames of
 * attr.frame_size bytes, mmap'ed (page-aligned) at open.  Frame ids
 * [0, nframes/2) receive and are all on the fill ring at open; ids
 * [nframes/2, nframes) send.  The TX ring holds every send frame, so
 * tx_post never finds it full.
 *
 * The XDP program (xdp/vnb_xdp.bpf.c) is embedded in the library as a byte
 * array generated at build time (xdp.inc) and loaded with libxdp.  It
 * sends vnb frames arriving on receive queue N to entry N of its XSKMAP,
 * where open puts the socket (the xsk socket is created with
 * INHIBIT_PROG_LOAD), and passes everything else to the kernel.
 * libxdp first tries its multi-program dispatcher; where the dispatcher
 * cannot load (BPF freplace refused, as on hosts without it) libxdp falls
 * back to one legacy program per interface: ep->mode then ends in
 * " legacy", and with the dispatcher in " dispatcher".  The environment
 * variable LIBXDP_SKIP_DISPATCHER=1 skips the attempt.
 *
 * Several endpoints on one interface (other queues, other processes):
 * with the dispatcher each endpoint attaches its own program instance and
 * detaches it at close.  With a legacy program, the first endpoint attaches
 * it and later ones find it (by its name) and use its XSKMAP; each records
 * its pid in the program's vnb_owner map under its queue, and the endpoint
 * that closes last (no live pid left) detaches the program.  An endpoint
 * that crashed leaves its pid: the next close on the interface sees it dead
 * and detaches.  Another XDP program already on the interface: EBUSY.
 * Attach and detach go through netlink in the calling thread's network
 * namespace: close an endpoint in the namespace it was opened in.
 *
 * Contract choices (prov.h):
 * - frame_size must be a power of two from 2048 to the page size (AF_XDP
 *   aligned chunks); EINVAL otherwise.  In copy mode the kernel puts a
 *   received frame XDP_PACKET_HEADROOM (256) bytes into its chunk, so
 *   frames longer than frame_size - 256 never arrive.
 * - open lowers ep->max_payload to what such a frame carries, and to
 *   the interface MTU less the vnb header.
 * - tx_post kicks the kernel with sendto(MSG_DONTWAIT) when the TX ring
 *   asks for a wakeup (always, in copy mode), except inside a batch
 *   (ep->tx_more), where tx_flush kicks once per 32 frames (the kernel's
 *   copy-mode budget per call); tx_reap kicks again while descriptors
 *   wait in the TX ring.  rx_next calls recvfrom(MSG_DONTWAIT)
 *   when the RX ring is empty and the fill ring asks for a wakeup.
 * - A failed tx_post puts the frame back in the free list.
 * - rx_post of a frame that rx_next did not hand out (or that is back
 *   already) is EINVAL: the kernel would fill it twice.
 * - libbpf and libxdp print through process-wide callbacks; open and close
 *   swap in a silent one while they run and restore the caller's after
 *   (not thread-safe against another thread setting them meanwhile).
 * - The memory of the UMEM is locked by the kernel: without CAP_IPC_LOCK,
 *   RLIMIT_MEMLOCK must cover nframes * frame_size.  The library never
 *   changes rlimits.
 */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "common/error.h"
#include "vnb/l2_if.h"
#include "vnb/prov.h"
#include "vnb/xdp_mode.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

/* The object xdp.inc embeds. */
extern VNB_HIDDEN const unsigned char vnbint_xdp_obj[];
extern VNB_HIDDEN const size_t vnbint_xdp_obj_len;

#define PROG_NAME "vnb_xdp_steer"
#define XSKS_MAP "vnb_xsks"
#define OWNER_MAP "vnb_owner"
#define MAX_QUEUES 256 /* the maps' size in vnb_xdp.bpf.c */
/* The previous socket's pool on a queue is released from a workqueue: a
 * bind right after a close can see EBUSY for a moment. */
#define BUSY_RETRY_MS 1500
#define BUSY_STEP_MS 50

struct xdp_state {
	uint8_t *area; /* the UMEM: the registered frames */
	size_t area_len;
	uint32_t frame_size;
	uint32_t nframes;
	uint32_t nrx; /* receive frames: ids [0, nrx) */
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	int fd;
	uint32_t *tx_free; /* free send frame ids, a stack */
	uint32_t ntx_free;
	uint64_t *tx_ctx; /* per frame id */
	uint32_t tx_outstanding;
	uint8_t *rx_held; /* per receive frame: handed out by rx_next */
	/* the XDP program */
	int ifindex;
	struct bpf_object *obj; /* our instance, when we loaded one */
	struct xdp_program *prog;
	enum xdp_attach_mode attach_mode;
	bool legacy; /* one program on the interface, shared */
	uint32_t prog_id;
	int xsks_fd;
	int owner_fd;
	bool in_map; /* our socket is in the XSKMAP */
	bool owner_set; /* our pid is in vnb_owner */
};

/* libbpf and libxdp: silence while we run, then give the caller's
 * callbacks back. */
struct quiet {
	libbpf_print_fn_t bpf;
	libxdp_print_fn_t xdp;
};

static int quiet_bpf(enum libbpf_print_level l, const char *f, va_list ap)
{
	return 0;
}

static int quiet_xdp(enum libxdp_print_level l, const char *f, va_list ap)
{
	return 0;
}

static void quiet_begin(struct quiet *q)
{
	q->bpf = libbpf_set_print(quiet_bpf);
	q->xdp = libxdp_set_print(quiet_xdp);
}

static void quiet_end(const struct quiet *q)
{
	int saved = errno;

	libbpf_set_print(q->bpf);
	libxdp_set_print(q->xdp);
	errno = saved;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static const char *mode_name(enum xdp_attach_mode m)
{
	switch (m) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "skb";
	case XDP_MODE_HW:
		return "hw";
	default:
		return "unspec";
	}
}

/* A message for a failure of what (on ifname) with errno e, translated
 * once here: EPERM names the capabilities and the providers that would
 * work instead. */
static int fail(struct vnb_ep *ep, vnb_error_t *err, int e, const char *what)
{
	errno = e;
	if (e == EPERM || e == EACCES) {
		errno = EPERM;
		return vnb_errprintf(
		    err,
		    "%s on %s: permission denied: AF_XDP needs "
		    "CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF (or "
		    "CAP_SYS_ADMIN), "
		    "and CAP_IPC_LOCK or RLIMIT_MEMLOCK above the frame pool "
		    "(CAP_SYS_RESOURCE to raise it)",
		    what, ep->ifname);
	}
	if (e == EAFNOSUPPORT || e == EPROTONOSUPPORT) {
		errno = EPROTONOSUPPORT;
		return vnb_errprintf(err,
				     "%s on %s: this kernel has no AF_XDP "
				     "sockets (CONFIG_XDP_SOCKETS); use "
				     "provider=packet instead",
				     what, ep->ifname);
	}
	if (e == ENOBUFS || e == ENOMEM) {
		errno = ENOMEM;
		return vnb_errprintf(
		    err,
		    "%s on %s: cannot lock %u frames of %u bytes: raise "
		    "RLIMIT_MEMLOCK (ulimit -l) or grant CAP_IPC_LOCK, or ask "
		    "for fewer frames",
		    what, ep->ifname, ep->attr.nframes, ep->attr.frame_size);
	}
	return vnb_errprintf(err, "%s on %s: %s", what, ep->ifname,
			     strerror(e));
}

/* The fd of the map called name among the maps of program fd prog_fd. */
static int prog_map_fd(int prog_fd, const char *name)
{
	struct bpf_prog_info info;
	uint32_t ids[8], len = sizeof(info), i;

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 8;
	info.map_ids = (uint64_t)(uintptr_t)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
		return -1;
	for (i = 0; i < info.nr_map_ids && i < 8; i++) {
		struct bpf_map_info mi;
		uint32_t mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		if (bpf_obj_get_info_by_fd(fd, &mi, &mlen) == 0 &&
		    strcmp(mi.name, name) == 0)
			return fd;
		close(fd);
	}
	errno = ENOENT;
	return -1;
}

/* Use a legacy vnb program already attached to the interface.  1 when
 * one is (and its maps are now ours to use), 0 when nothing is attached
 * or a dispatcher is (we add our own program), -1 with EBUSY when another
 * program holds the interface or ours sits in another mode than forced. */
static int find_attached(struct vnb_ep *ep, struct xdp_state *s,
			 vnb_error_t *err)
{
	struct xdp_multiprog *mp;
	struct xdp_program *head;
	enum xdp_attach_mode m;
	const char *name;
	int rc = 0;

	mp = xdp_multiprog__get_from_ifindex(s->ifindex);
	if (!mp || libxdp_get_error(mp))
		return 0;
	head = xdp_multiprog__main_prog(mp);
	if (!head || !xdp_multiprog__is_legacy(mp))
		goto out;
	m = xdp_multiprog__attach_mode(mp);
	name = xdp_program__name(head) ? xdp_program__name(head) : "";
	if (strcmp(name, PROG_NAME) != 0) {
		errno = EBUSY;
		rc = vnb_errprintf(err,
				   "%s has another XDP program (%s) "
				   "attached in %s mode; detach it (ip link "
				   "set dev %s xdp off) or use provider=packet",
				   ep->ifname, name, mode_name(m), ep->ifname);
		goto out;
	}
	if (((ep->attr.flags & VNB_EP_XDP_NATIVE) && m != XDP_MODE_NATIVE) ||
	    ((ep->attr.flags & VNB_EP_XDP_SKB) && m != XDP_MODE_SKB)) {
		errno = EBUSY;
		rc = vnb_errprintf(err,
				   "%s already runs the vnb program in %s "
				   "mode for another endpoint; open this one "
				   "in that mode too",
				   ep->ifname, mode_name(m));
		goto out;
	}
	s->xsks_fd = prog_map_fd(xdp_program__fd(head), XSKS_MAP);
	s->owner_fd = prog_map_fd(xdp_program__fd(head), OWNER_MAP);
	if (s->xsks_fd < 0 || s->owner_fd < 0) {
		rc = fail(ep, err, errno,
			  "finding the maps of the attached "
			  "vnb program");
		goto out;
	}
	s->legacy = true;
	s->attach_mode = m;
	s->prog_id = xdp_program__id(head);
	rc = 1;
out:
	xdp_multiprog__close(mp);
	return rc;
}

static void unload(struct xdp_state *s)
{
	xdp_program__close(s->prog);
	s->prog = NULL;
	bpf_object__close(s->obj);
	s->obj = NULL;
}

/* Load our program instance and attach it in mode m: 0, or -errno. */
static int attach_mode(struct xdp_state *s, enum xdp_attach_mode m)
{
	DECLARE_LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "vnb_xdp");
	struct xdp_multiprog *mp;
	int rc;

	s->obj = bpf_object__open_mem(vnbint_xdp_obj, vnbint_xdp_obj_len, &oo);
	if (!s->obj || libbpf_get_error(s->obj)) {
		rc = s->obj ? (int)libbpf_get_error(s->obj) : -errno;
		s->obj = NULL;
		return rc ? rc : -EINVAL;
	}
	s->prog = xdp_program__from_bpf_obj(s->obj, "xdp");
	if (!s->prog || libxdp_get_error(s->prog)) {
		rc = s->prog ? (int)libxdp_get_error(s->prog) : -errno;
		s->prog = NULL;
		unload(s);
		return rc ? rc : -EINVAL;
	}
	rc = xdp_program__attach(s->prog, s->ifindex, m, 0);
	if (rc) {
		unload(s);
		return rc;
	}
	s->xsks_fd = bpf_object__find_map_fd_by_name(s->obj, XSKS_MAP);
	s->owner_fd = bpf_object__find_map_fd_by_name(s->obj, OWNER_MAP);
	if (s->xsks_fd < 0 || s->owner_fd < 0 ||
	    (s->xsks_fd = dup(s->xsks_fd)) < 0 ||
	    (s->owner_fd = dup(s->owner_fd)) < 0) {
		rc = -errno;
		xdp_program__detach(s->prog, s->ifindex, m, 0);
		if (s->xsks_fd >= 0)
			close(s->xsks_fd);
		s->xsks_fd = s->owner_fd = -1;
		unload(s);
		return rc ? rc : -ENOENT;
	}
	s->attach_mode = m;
	s->prog_id = xdp_program__id(s->prog);
	mp = xdp_multiprog__get_from_ifindex(s->ifindex);
	s->legacy = !mp || libxdp_get_error(mp) || xdp_multiprog__is_legacy(mp);
	if (mp && !libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	return 0;
}

/* Attach the program (or find it attached), in the modes the rule of
 * xdp_mode.h gives, first to last. */
static int attach(struct vnb_ep *ep, struct xdp_state *s, vnb_error_t *err)
{
	static const enum xdp_attach_mode xmode[] = {
	    [VNB_XDP_NATIVE] = XDP_MODE_NATIVE,
	    [VNB_XDP_SKB] = XDP_MODE_SKB,
	};
	struct vnb_xdp_facts facts;
	enum vnb_xdp_mode plan[2];
	const char *why = "";
	unsigned waited = 0;
	char what[160];
	int n, i, rc = 0;

	rc = find_attached(ep, s, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	memset(&facts, 0, sizeof(facts));
	if (!(ep->attr.flags & (VNB_EP_XDP_SKB | VNB_EP_XDP_NATIVE)))
		vnb_xdp_facts_query(s->ifindex, ep->ifname, &facts);
	n = vnb_xdp_mode_plan(&facts, ep->attr.flags, plan, &why);
	for (;;) {
		for (i = 0; i < n; i++) {
			rc = attach_mode(s, xmode[plan[i]]);
			if (rc == 0)
				return 0;
			if (rc == -EEXIST || rc == -EBUSY) {
				/* Another endpoint attached first, right
				 * now. */
				rc = find_attached(ep, s, err);
				if (rc != 0)
					return rc < 0 ? -1 : 0;
				rc = -EBUSY;
			}
			if (rc == -EPERM || rc == -EACCES)
				break;
		}
		/* EBUSY with no vnb program to be seen: another endpoint
		 * (a task of the same VM) is attaching it this moment */
		if (rc != -EBUSY || waited >= BUSY_RETRY_MS)
			break;
		sleep_ms(BUSY_STEP_MS);
		waited += BUSY_STEP_MS;
	}
	if (n == 1)
		snprintf(what, sizeof(what),
			 "attaching the XDP program in %s mode (%s)",
			 mode_name(xmode[plan[0]]), why);
	else
		snprintf(what, sizeof(what),
			 "attaching the XDP program in %s, then %s mode (%s)",
			 mode_name(xmode[plan[0]]), mode_name(xmode[plan[1]]),
			 why);
	return fail(ep, err, -rc, what);
}

/* Whether process pid lives (pids of this pid namespace). */
static bool pid_alive(uint32_t pid)
{
	return pid != 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Detach the program when we loaded a dispatcher instance, or when no
 * endpoint with a live pid is left on a legacy one. */
static void detach(struct xdp_state *s)
{
	struct xdp_multiprog *mp;
	struct xdp_program *head;
	uint32_t q, pid;

	if (!s->legacy) {
		if (s->prog)
			xdp_program__detach(s->prog, s->ifindex, s->attach_mode,
					    0);
		return;
	}
	if (s->owner_fd < 0)
		return;
	for (q = 0; q < MAX_QUEUES; q++)
		if (bpf_map_lookup_elem(s->owner_fd, &q, &pid) == 0 &&
		    pid_alive(pid))
			return;
	mp = xdp_multiprog__get_from_ifindex(s->ifindex);
	if (!mp || libxdp_get_error(mp))
		return;
	head = xdp_multiprog__main_prog(mp);
	if (head && xdp_multiprog__is_legacy(mp) &&
	    xdp_program__id(head) == s->prog_id)
		xdp_multiprog__detach(mp);
	xdp_multiprog__close(mp);
}

static void teardown(struct xdp_state *s, uint32_t queue)
{
	uint32_t zero = 0;

	if (s->in_map)
		bpf_map_delete_elem(s->xsks_fd, &queue);
	if (s->owner_set)
		bpf_map_update_elem(s->owner_fd, &queue, &zero, BPF_ANY);
	if (s->xsk)
		xsk_socket__delete(s->xsk);
	if (s->umem)
		xsk_umem__delete(s->umem);
	if (s->prog_id)
		detach(s);
	if (s->xsks_fd >= 0)
		close(s->xsks_fd);
	if (s->owner_fd >= 0)
		close(s->owner_fd);
	unload(s);
	if (s->area)
		munmap(s->area, s->area_len);
	free(s->tx_free);
	free(s->tx_ctx);
	free(s->rx_held);
	free(s);
}

static int check_geometry(struct vnb_ep *ep, vnb_error_t *err)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t fs = ep->attr.frame_size;

	if (fs < 2048 || (long)fs > page || (fs & (fs - 1)) != 0) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "frame_size %u: AF_XDP needs a power "
				     "of two from 2048 to %ld; ask for 2048 or "
				     "%ld",
				     fs, page, page);
	}
	if (ep->attr.nframes < 2) {
		errno = EINVAL;
		return vnb_errprintf(err, "nframes %u: at least 2",
				     ep->attr.nframes);
	}
	if (ep->attr.queue >= MAX_QUEUES) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "queue %u of %s: the vnb XDP "
				     "program steers queues 0 to %d only",
				     ep->attr.queue, ep->ifname,
				     MAX_QUEUES - 1);
	}
	return 0;
}

/* What one frame carries: the interface sends and accepts MTU bytes after
 * the Ethernet header, and a received frame sits XDP_PACKET_HEADROOM into
 * its chunk. */
static void lower_max_payload(struct vnb_ep *ep, const struct xdp_state *s)
{
	uint32_t room = s->frame_size - XDP_PACKET_HEADROOM - ep->hdr_len;

	if (ep->max_payload > room)
		ep->max_payload = room;
	vnb_l2_if_clamp_payload(ep);
}

static int make_umem(struct vnb_ep *ep, struct xdp_state *s, vnb_error_t *err)
{
	struct xsk_umem_config uc;
	int rc;

	s->area_len = (size_t)s->nframes * s->frame_size;
	s->area = mmap(NULL, s->area_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->area == MAP_FAILED) {
		s->area = NULL;
		return fail(ep, err, errno, "allocating the frames");
	}
	memset(&uc, 0, sizeof(uc));
	uc.fill_size = pow2_at_least(s->nrx);
	uc.comp_size = pow2_at_least(s->nframes - s->nrx);
	uc.frame_size = s->frame_size;
	uc.frame_headroom = 0;
	rc = xsk_umem__create(&s->umem, s->area, s->area_len, &s->fq, &s->cq,
			      &uc);
	if (rc) {
		s->umem = NULL;
		return fail(ep, err, -rc, "registering the frames (UMEM)");
	}
	return 0;
}

static int make_socket(struct vnb_ep *ep, struct xdp_state *s, vnb_error_t *err)
{
	struct xsk_socket_config sc;
	struct xdp_options opts;
	socklen_t olen = sizeof(opts);
	unsigned waited = 0;
	int rc;

	memset(&sc, 0, sizeof(sc));
	sc.rx_size = pow2_at_least(s->nrx);
	sc.tx_size = pow2_at_least(s->nframes - s->nrx);
	sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
	sc.xdp_flags = s->attach_mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE
						      : XDP_FLAGS_DRV_MODE;
	/* No XDP_COPY/XDP_ZEROCOPY: the kernel takes zero copy when the
	 * driver has it, copy otherwise. */
	sc.bind_flags = XDP_USE_NEED_WAKEUP;
	for (;;) {
		rc = xsk_socket__create(&s->xsk, ep->ifname, ep->attr.queue,
					s->umem, &s->rx, &s->tx, &sc);
		if (rc != -EBUSY || waited >= BUSY_RETRY_MS)
			break;
		sleep_ms(BUSY_STEP_MS);
		waited += BUSY_STEP_MS;
	}
	if (rc == -EBUSY) {
		s->xsk = NULL;
		errno = EBUSY;
		return vnb_errprintf(err,
				     "queue %u of %s is taken by another "
				     "AF_XDP socket; open another queue, or "
				     "close the endpoint that holds it",
				     ep->attr.queue, ep->ifname);
	}
	if (rc) {
		s->xsk = NULL;
		return fail(ep, err, -rc, "creating the AF_XDP socket");
	}
	s->fd = xsk_socket__fd(s->xsk);
	memset(&opts, 0, sizeof(opts));
	if (getsockopt(s->fd, SOL_XDP, XDP_OPTIONS, &opts, &olen) < 0)
		opts.flags = 0;
	snprintf(ep->mode, sizeof(ep->mode), "xdp %s %s %s",
		 mode_name(s->attach_mode),
		 (opts.flags & XDP_OPTIONS_ZEROCOPY) ? "zerocopy" : "copy",
		 s->legacy ? "legacy" : "dispatcher");
	return 0;
}

static int xdp_open(struct vnb_ep *ep, vnb_error_t *err)
{
	struct xdp_state *s;
	struct quiet q;
	uint32_t i, idx, pid = (uint32_t)getpid();
	int rc;

	s = calloc(1, sizeof(*s));
	if (!s)
		return vnb_errprintf(err, "out of memory");
	s->fd = -1;
	s->xsks_fd = -1;
	s->owner_fd = -1;
	s->frame_size = ep->attr.frame_size;
	s->nframes = ep->attr.nframes;
	s->nrx = s->nframes / 2;
	quiet_begin(&q);
	if (vnb_l2_if_find(ep, err) < 0)
		goto fail;
	s->ifindex = (int)if_nametoindex(ep->ifname);
	if (s->ifindex == 0) {
		fail(ep, err, ENODEV, "finding the interface index");
		goto fail;
	}
	if (check_geometry(ep, err) < 0)
		goto fail;
	lower_max_payload(ep, s);
	s->tx_free = calloc(s->nframes - s->nrx, sizeof(*s->tx_free));
	s->tx_ctx = calloc(s->nframes, sizeof(*s->tx_ctx));
	s->rx_held = calloc(s->nrx, sizeof(*s->rx_held));
	if (!s->tx_free || !s->tx_ctx || !s->rx_held) {
		fail(ep, err, ENOMEM, "allocating the frame tables");
		goto fail;
	}
	if (make_umem(ep, s, err) < 0 || attach(ep, s, err) < 0 ||
	    make_socket(ep, s, err) < 0)
		goto fail;
	rc = bpf_map_update_elem(s->owner_fd, &(uint32_t){ep->attr.queue}, &pid,
				 BPF_ANY);
	if (rc < 0) {
		fail(ep, err, errno, "recording this endpoint in vnb_owner");
		goto fail;
	}
	s->owner_set = true;
	rc = xsk_socket__update_xskmap(s->xsk, s->xsks_fd);
	if (rc) {
		fail(ep, err, -rc, "putting the socket into the XSKMAP");
		goto fail;
	}
	s->in_map = true;
	if (xsk_ring_prod__reserve(&s->fq, s->nrx, &idx) != s->nrx) {
		fail(ep, err, ENOBUFS, "filling the fill ring");
		goto fail;
	}
	for (i = 0; i < s->nrx; i++)
		*xsk_ring_prod__fill_addr(&s->fq, idx + i) =
		    (uint64_t)i * s->frame_size;
	xsk_ring_prod__submit(&s->fq, s->nrx);
	for (i = s->nframes; i > s->nrx; i--)
		s->tx_free[s->ntx_free++] = i - 1;
	ep->self.vlan = ep->attr.vlan;
	ep->self.queue = ep->attr.queue;
	ep->prov = s;
	quiet_end(&q);
	return 0;
fail:
	teardown(s, ep->attr.queue);
	quiet_end(&q);
	return -1;
}

static void xdp_close(struct vnb_ep *ep)
{
	struct xdp_state *s = ep->prov;
	struct quiet q;

	if (!s)
		return;
	quiet_begin(&q);
	teardown(s, ep->attr.queue);
	quiet_end(&q);
	ep->prov = NULL;
}

static void kick_tx(struct xdp_state *s)
{
	/* Copy mode transmits inside this call; EAGAIN, EBUSY, ENOBUFS and
	 * ENETDOWN leave the descriptors for the next kick. */
	(void)sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
}

static uint8_t *xdp_tx_frame(struct vnb_ep *ep, uint32_t *id)
{
	struct xdp_state *s = ep->prov;

	/* Peek: the frame is taken by the tx_post that names it. */
	if (s->ntx_free == 0)
		return NULL;
	*id = s->tx_free[s->ntx_free - 1];
	return s->area + (size_t)*id * s->frame_size;
}

static int xdp_tx_post(struct vnb_ep *ep, uint32_t id, uint32_t len,
		       const struct vnb_addr *dst, uint64_t ctx)
{
	struct xdp_state *s = ep->prov;
	struct xdp_desc *d;
	uint32_t idx;

	if (id < s->nrx || id >= s->nframes || s->ntx_free == 0 ||
	    s->tx_free[s->ntx_free - 1] != id) {
		errno = EINVAL;
		return -1;
	}
	if (len > s->frame_size ||
	    xsk_ring_prod__reserve(&s->tx, 1, &idx) != 1) {
		errno = len > s->frame_size ? EMSGSIZE : EAGAIN;
		return -1;
	}
	s->ntx_free--;
	d = xsk_ring_prod__tx_desc(&s->tx, idx);
	d->addr = (uint64_t)id * s->frame_size;
	d->len = len;
	s->tx_ctx[id] = ctx;
	xsk_ring_prod__submit(&s->tx, 1);
	s->tx_outstanding++;
	if (!ep->tx_more && xsk_ring_prod__needs_wakeup(&s->tx))
		kick_tx(s);
	return 0;
}

/* After a batch: kick until the kernel has taken every descriptor of the
 * TX ring.  In copy mode one sendto sends at most 32 frames and answers
 * EAGAIN while more wait; EBUSY or ENOBUFS leave them to tx_reap's kick. */
static int xdp_tx_flush(struct vnb_ep *ep)
{
	struct xdp_state *s = ep->prov;
	uint32_t i, most = s->tx.size / 32 + 2;

	for (i = 0; i < most; i++) {
		if (xsk_prod_nb_free(&s->tx, s->tx.size) >= s->tx.size ||
		    !xsk_ring_prod__needs_wakeup(&s->tx))
			return 0;
		if (sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN)
			return -1;
	}
	return 0;
}

static int xdp_tx_reap(struct vnb_ep *ep, uint64_t *ctx, int max)
{
	struct xdp_state *s = ep->prov;
	uint32_t idx, n, i;

	if (max <= 0 || s->tx_outstanding == 0)
		return 0;
	n = xsk_ring_cons__peek(&s->cq, (uint32_t)max, &idx);
	for (i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&s->cq, idx + i);
		uint32_t id = (uint32_t)(addr / s->frame_size);

		ctx[i] = s->tx_ctx[id];
		s->tx_free[s->ntx_free++] = id;
	}
	if (n) {
		xsk_ring_cons__release(&s->cq, n);
		s->tx_outstanding -= n;
	}
	/* Descriptors still in the TX ring: the kernel stopped short (copy
	 * mode sends a batch per kick). */
	if (s->tx_outstanding &&
	    xsk_prod_nb_free(&s->tx, s->tx.size) < s->tx.size &&
	    xsk_ring_prod__needs_wakeup(&s->tx))
		kick_tx(s);
	return (int)n;
}

static int xdp_rx_next(struct vnb_ep *ep, uint8_t **data, uint32_t *len,
		       uint32_t *id)
{
	struct xdp_state *s = ep->prov;
	const struct xdp_desc *d;
	uint32_t idx;
	uint64_t addr;

	if (xsk_ring_cons__peek(&s->rx, 1, &idx) == 0) {
		if (xsk_ring_prod__needs_wakeup(&s->fq))
			(void)recvfrom(s->fd, NULL, 0, MSG_DONTWAIT, NULL,
				       NULL);
		return 0;
	}
	d = xsk_ring_cons__rx_desc(&s->rx, idx);
	addr = d->addr;
	*len = d->len;
	xsk_ring_cons__release(&s->rx, 1);
	*id = (uint32_t)(addr / s->frame_size);
	*data = s->area + addr;
	if (*id < s->nrx)
		s->rx_held[*id] = 1;
	return 1;
}

static int xdp_rx_post(struct vnb_ep *ep, uint32_t id)
{
	struct xdp_state *s = ep->prov;
	uint32_t idx;

	/* A frame given back twice would be filled twice at once. */
	if (id >= s->nrx || !s->rx_held[id]) {
		errno = EINVAL;
		return -1;
	}
	s->rx_held[id] = 0;
	/* The fill ring holds every receive frame: never full. */
	if (xsk_ring_prod__reserve(&s->fq, 1, &idx) != 1) {
		errno = ENOBUFS;
		return -1;
	}
	*xsk_ring_prod__fill_addr(&s->fq, idx) = (uint64_t)id * s->frame_size;
	xsk_ring_prod__submit(&s->fq, 1);
	return 0;
}

static int xdp_fd(const struct vnb_ep *ep)
{
	const struct xdp_state *s = ep->prov;

	return s ? s->fd : -1;
}

const struct vnb_prov_ops vnb_prov_xdp = {
    .size = sizeof(struct vnb_prov_ops),
    .id = VNB_PROV_XDP,
    .l2 = true,
    .open = xdp_open,
    .close = xdp_close,
    .tx_frame = xdp_tx_frame,
    .tx_post = xdp_tx_post,
    .tx_reap = xdp_tx_reap,
    .rx_next = xdp_rx_next,
    .rx_post = xdp_rx_post,
    .fd = xdp_fd,
    .tx_flush = xdp_tx_flush,
};
