/*
 * prov_shm.c - the shm provider: processes on one node (or VM) exchange
 * frames over shared-memory rings.
 *
 * Each endpoint creates a POSIX shared-memory segment, "/NAME" with NAME
 * attr.shm_name (a leading '/' dropped) or "vnb-JJJJJJJJ-qQ" from the job
 * tag (hex) and queue; ep->self.shm is NAME.  The segment holds this
 * endpoint's receive ring: attr.nframes / 2 slots of attr.frame_size
 * bytes, which are its receive frames (ids [0, nframes/2), all posted at
 * open).  The ring is multi-producer, single-consumer (a bounded queue
 * with a sequence number per slot, after D. Vyukov): a sender claims a
 * slot by compare-and-swap on the tail, copies the frame in and publishes
 * it with a release store of the slot's sequence; the owner reads it
 * after an acquire load, and rx_post gives the slot back with another
 * release store.  The send frames (ids [nframes/2, nframes)) are private
 * memory; tx_post copies the frame into a slot of the peer named by
 * dst->shm, whose segment is opened and mapped on first use and cached in
 * a table of VNB_SHM_PEERS entries allocated at open (least recently used
 * evicted).  Nothing allocates on the data path.
 *
 * Contract choices (prov.h):
 * - A send completes when its frame is copied into the peer's ring; the
 *   completion comes back from the next tx_reap.
 * - tx_post fails, and puts the frame back in the free list, with EAGAIN
 *   when the peer's ring is full (the peer has not posted its frames
 *   back: receivers never drop, senders wait), ECONNREFUSED when no live
 *   segment has that name, EMSGSIZE when the frame exceeds the peer's
 *   frame size, EINVAL when dst names no segment.
 * - fd: a datagram socket bound to the abstract name "\0vnb-shm/NAME"
 *   (an eventfd could only be shared with SCM_RIGHTS).  A system call per
 *   send would cost more than the copy, so senders only wake a receiver
 *   that said it sleeps: fd() drains the socket, sets the segment's
 *   waiting word and returns the socket (readable at once if a frame is
 *   already there); a sender that publishes a frame and finds the word set
 *   clears it and sends one byte to that name.  So fd() arms one wake-up:
 *   vnb_wait calls it before each poll, and an event loop must call
 *   vnb_ep_fd again before each sleep.  Abstract names are per network
 *   namespace: across namespaces no wake-up arrives and vnb_wait sleeps to
 *   its timeout (frames still flow).
 * - Segments are created 0600: peers run as the same user.
 * - Close marks the segment closed and unlinks it; senders that mapped it
 *   see the mark and look the name up again on their next send.  After a
 *   crash the segment stays in /dev/shm with the dead owner's pid: opening
 *   the same name again (a restart) marks it closed, unlinks it and creates
 *   a fresh one.  A live owner makes that open fail with EBUSY.  (Pids are
 *   compared in the opener's pid namespace.)  A sender that dies between
 *   claiming a slot and publishing it stalls that ring; its owner must be
 *   restarted.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/error.h"
#include "vnb/prov.h"

#define VNB_SHM_PEERS 16
#define SHM_MAGIC 0x31306d6873626e76ULL /* "vnbshm01" */
#define SHM_VERSION 1
#define CACHELINE 64
#define HDR_SIZE 128 /* header and tail, then the slots */
#define SLOT_HDR 64 /* sequence and length, then the frame */

struct shm_hdr {
	_Atomic uint64_t magic; /* stored last, with release */
	uint32_t version;
	uint32_t nslots;
	uint32_t stride; /* bytes per slot */
	uint32_t frame_size;
	uint32_t owner_pid;
	_Atomic uint32_t closed;
	_Atomic uint32_t waiting; /* the owner sleeps: wake it */
	uint8_t pad1[CACHELINE - 36];
	_Atomic uint64_t tail; /* the producers' claim counter */
	uint8_t pad2[CACHELINE - 8];
};

struct shm_slot {
	_Atomic uint64_t seq;
	uint32_t len;
};

_Static_assert(sizeof(struct shm_hdr) == HDR_SIZE, "shm header layout");

struct shm_peer {
	char name[sizeof(((struct vnb_addr *)0)->shm)];
	struct sockaddr_un wake; /* its wake-up socket */
	socklen_t wake_len;
	struct shm_hdr *hdr; /* NULL: entry free */
	size_t len;
	uint64_t used; /* for least recently used eviction */
};

struct shm_state {
	struct shm_hdr *hdr; /* our segment */
	size_t len;
	char path[sizeof(((struct vnb_addr *)0)->shm) + 1]; /* "/NAME" */
	uint32_t nslots;
	uint64_t head; /* our next slot to read */
	uint64_t *rx_pos; /* per receive frame: its position, or NONE */
	uint32_t frame_size;
	uint32_t nframes;
	uint8_t *tx_area; /* send frames */
	uint32_t *tx_free;
	uint32_t ntx_free;
	uint64_t *tx_ctx; /* per send frame (index id - nslots) */
	uint32_t *done; /* completed send frame ids, a FIFO */
	uint32_t done_head, done_n;
	int wake_fd; /* our wake-up socket, also used to wake peers */
	struct sockaddr_un wake;
	socklen_t wake_len;
	struct shm_peer peers[VNB_SHM_PEERS];
	uint64_t clock;
	int last_peer;
};

#define NONE UINT64_MAX

static struct shm_slot *slot_at(struct shm_hdr *h, uint64_t pos)
{
	return (struct shm_slot *)((uint8_t *)h + HDR_SIZE +
				   (size_t)(pos % h->nslots) * h->stride);
}

static uint8_t *slot_data(struct shm_slot *sl)
{
	return (uint8_t *)sl + SLOT_HDR;
}

static size_t seg_len(uint32_t nslots, uint32_t stride)
{
	return HDR_SIZE + (size_t)nslots * stride;
}

static bool pid_alive(uint32_t pid)
{
	return pid != 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Map the segment at path, check that it is a live vnb ring.  NULL with
 * errno: ECONNREFUSED (missing, closed, not initialised), EPROTO (not a
 * vnb segment of this version). */
static struct shm_hdr *map_segment(const char *path, size_t *len)
{
	struct shm_hdr *h;
	struct stat st;
	int fd, e;

	fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0) {
		if (errno == ENOENT)
			errno = ECONNREFUSED;
		return NULL;
	}
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < HDR_SIZE) {
		close(fd);
		errno = ECONNREFUSED;
		return NULL;
	}
	h = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	e = errno;
	close(fd);
	if (h == MAP_FAILED) {
		errno = e;
		return NULL;
	}
	*len = (size_t)st.st_size;
	if (atomic_load_explicit(&h->magic, memory_order_acquire) !=
		SHM_MAGIC ||
	    atomic_load_explicit(&h->closed, memory_order_acquire)) {
		munmap(h, *len);
		errno = ECONNREFUSED;
		return NULL;
	}
	if (h->version != SHM_VERSION || h->nslots == 0 ||
	    h->stride < SLOT_HDR + h->frame_size ||
	    seg_len(h->nslots, h->stride) > *len) {
		munmap(h, *len);
		errno = EPROTO;
		return NULL;
	}
	return h;
}

/* The abstract socket address that wakes the owner of segment name. */
static socklen_t wake_addr(struct sockaddr_un *a, const char *name)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* sun_path[0] stays 0: the abstract namespace */
	n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "vnb-shm/%s",
		     name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   (size_t)n);
}

/* Our name: attr.shm_name, or one derived from job tag and queue. */
static int pick_name(struct vnb_ep *ep, struct shm_state *s, vnb_error_t *err)
{
	const char *n = ep->attr.shm_name;
	char derived[sizeof(ep->self.shm)];
	size_t len;

	if (n && *n == '/')
		n++;
	if (!n || !*n) {
		snprintf(derived, sizeof(derived), "vnb-%08x-q%u",
			 (unsigned)ep->attr.job_tag, (unsigned)ep->attr.queue);
		n = derived;
	}
	len = strlen(n);
	if (len >= sizeof(ep->self.shm) || strchr(n, '/')) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "segment name \"%s\": at most %zu "
				     "characters and no '/' after the first",
				     n, sizeof(ep->self.shm) - 1);
	}
	memcpy(ep->self.shm, n, len + 1);
	memcpy(ep->shm_name, n, len + 1);
	s->path[0] = '/';
	memcpy(s->path + 1, n, len + 1);
	return 0;
}

/* A segment with our name already exists: reclaim it when its owner is
 * gone (a crash), refuse when it lives. */
static int reclaim(struct vnb_ep *ep, struct shm_state *s, vnb_error_t *err)
{
	struct shm_hdr *h;
	size_t len;
	uint32_t pid;

	h = map_segment(s->path, &len);
	if (h) {
		pid = h->owner_pid;
		if (pid_alive(pid)) {
			munmap(h, len);
			errno = EBUSY;
			return vnb_errprintf(err,
					     "segment %s is in use by "
					     "process %u; give this endpoint "
					     "another shm_name or queue",
					     s->path, (unsigned)pid);
		}
		/* Tell senders that still map it to look again. */
		atomic_store_explicit(&h->closed, 1, memory_order_release);
		munmap(h, len);
	}
	if (shm_unlink(s->path) < 0 && errno != ENOENT)
		return vnb_errprintf(err, "removing the stale segment %s: %s",
				     s->path, strerror(errno));
	return 0;
}

static int create_segment(struct vnb_ep *ep, struct shm_state *s,
			  vnb_error_t *err)
{
	uint32_t stride, i;
	int fd = -1, tries;

	stride = (SLOT_HDR + s->frame_size + CACHELINE - 1) &
		 ~(uint32_t)(CACHELINE - 1);
	s->len = seg_len(s->nslots, stride);
	for (tries = 0; tries < 2; tries++) {
		fd = shm_open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			      0600);
		if (fd >= 0 || errno != EEXIST)
			break;
		if (reclaim(ep, s, err) < 0)
			return -1;
	}
	if (fd < 0)
		return vnb_errprintf(err, "creating segment %s: %s", s->path,
				     strerror(errno));
	if (ftruncate(fd, (off_t)s->len) < 0) {
		vnb_errprintf(err, "sizing segment %s to %zu bytes: %s",
			      s->path, s->len, strerror(errno));
		goto fail;
	}
	s->hdr = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->hdr == MAP_FAILED) {
		s->hdr = NULL;
		vnb_errprintf(err, "mapping segment %s: %s", s->path,
			      strerror(errno));
		goto fail;
	}
	close(fd);
	s->hdr->version = SHM_VERSION;
	s->hdr->nslots = s->nslots;
	s->hdr->stride = stride;
	s->hdr->frame_size = s->frame_size;
	s->hdr->owner_pid = (uint32_t)getpid();
	atomic_init(&s->hdr->closed, 0);
	atomic_init(&s->hdr->tail, 0);
	for (i = 0; i < s->nslots; i++)
		atomic_init(&slot_at(s->hdr, i)->seq, i);
	atomic_store_explicit(&s->hdr->magic, SHM_MAGIC, memory_order_release);
	return 0;
fail:
	close(fd);
	shm_unlink(s->path);
	return -1;
}

static void drop_peer(struct shm_peer *p)
{
	if (p->hdr)
		munmap(p->hdr, p->len);
	p->hdr = NULL;
	p->name[0] = '\0';
}

static void teardown(struct shm_state *s)
{
	int i;

	for (i = 0; i < VNB_SHM_PEERS; i++)
		drop_peer(&s->peers[i]);
	if (s->hdr) {
		atomic_store_explicit(&s->hdr->closed, 1, memory_order_release);
		munmap(s->hdr, s->len);
		shm_unlink(s->path);
	}
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s->tx_area);
	free(s->tx_free);
	free(s->tx_ctx);
	free(s->done);
	free(s->rx_pos);
	free(s);
}

static int shm_open_ep(struct vnb_ep *ep, vnb_error_t *err)
{
	struct shm_state *s;
	uint32_t ntx, i;

	if (ep->attr.nframes < 2 || ep->attr.frame_size < VNB_HDR_LEN) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "%u frames of %u bytes: need at "
				     "least 2 frames of %d bytes",
				     ep->attr.nframes, ep->attr.frame_size,
				     VNB_HDR_LEN);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return vnb_errprintf(err, "out of memory");
	s->frame_size = ep->attr.frame_size;
	s->nframes = ep->attr.nframes;
	s->nslots = s->nframes / 2;
	ntx = s->nframes - s->nslots;
	s->last_peer = -1;
	s->wake_fd = -1;
	if (posix_memalign((void **)&s->tx_area, 4096,
			   (size_t)ntx * s->frame_size) != 0)
		s->tx_area = NULL;
	s->tx_free = calloc(ntx, sizeof(*s->tx_free));
	s->tx_ctx = calloc(ntx, sizeof(*s->tx_ctx));
	s->done = calloc(ntx, sizeof(*s->done));
	s->rx_pos = calloc(s->nslots, sizeof(*s->rx_pos));
	if (!s->tx_area || !s->tx_free || !s->tx_ctx || !s->done ||
	    !s->rx_pos) {
		teardown(s);
		errno = ENOMEM;
		return vnb_errprintf(err,
				     "out of memory for %u frames of %u "
				     "bytes",
				     ep->attr.nframes, ep->attr.frame_size);
	}
	for (i = 0; i < s->nslots; i++)
		s->rx_pos[i] = NONE;
	for (i = ntx; i > 0; i--)
		s->tx_free[s->ntx_free++] = s->nslots + i - 1;
	if (pick_name(ep, s, err) < 0 || create_segment(ep, s, err) < 0) {
		teardown(s);
		return -1;
	}
	s->wake_len = wake_addr(&s->wake, ep->self.shm);
	s->wake_fd =
	    socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->wake_fd < 0 ||
	    bind(s->wake_fd, (struct sockaddr *)&s->wake, s->wake_len) < 0) {
		vnb_errprintf(err,
			      "binding the wake-up socket of segment %s: %s",
			      s->path, strerror(errno));
		teardown(s);
		return -1;
	}
	if (ep->attr.ifname && ep->attr.ifname != ep->ifname)
		snprintf(ep->ifname, sizeof(ep->ifname), "%s", ep->attr.ifname);
	ep->self.queue = ep->attr.queue;
	snprintf(ep->mode, sizeof(ep->mode), "shm");
	ep->prov = s;
	return 0;
}

static void shm_close(struct vnb_ep *ep)
{
	int saved = errno;

	if (ep->prov)
		teardown(ep->prov);
	ep->prov = NULL;
	errno = saved;
}

static uint8_t *shm_tx_frame(struct vnb_ep *ep, uint32_t *id)
{
	struct shm_state *s = ep->prov;

	/* Peek: the frame is taken by the tx_post that names it. */
	if (s->ntx_free == 0)
		return NULL;
	*id = s->tx_free[s->ntx_free - 1];
	return s->tx_area + (size_t)(*id - s->nslots) * s->frame_size;
}

/* The mapped segment of peer name, mapping it on first use. */
static struct shm_peer *peer(struct shm_state *s, const char *name)
{
	struct shm_peer *p, *victim = NULL;
	char path[sizeof(s->path)];
	size_t n = strnlen(name, sizeof(p->name));
	int i;

	if (n == 0 || n >= sizeof(p->name)) {
		errno = EINVAL;
		return NULL;
	}
	s->clock++;
	if (s->last_peer >= 0) {
		p = &s->peers[s->last_peer];
		if (p->hdr && strcmp(p->name, name) == 0)
			goto found;
	}
	for (i = 0; i < VNB_SHM_PEERS; i++) {
		p = &s->peers[i];
		if (p->hdr && strcmp(p->name, name) == 0) {
			s->last_peer = i;
			goto found;
		}
		if (!victim || !p->hdr ||
		    (victim->hdr && p->used < victim->used))
			victim = p;
	}
	p = victim;
	drop_peer(p);
	path[0] = '/';
	memcpy(path + 1, name, n + 1);
	p->hdr = map_segment(path, &p->len);
	if (!p->hdr)
		return NULL;
	memcpy(p->name, name, n + 1);
	p->wake_len = wake_addr(&p->wake, name);
	s->last_peer = (int)(p - s->peers);
found:
	/* The peer closed or was replaced: look its name up again. */
	if (atomic_load_explicit(&p->hdr->closed, memory_order_acquire)) {
		drop_peer(p);
		s->last_peer = -1;
		return peer(s, name);
	}
	p->used = s->clock;
	return p;
}

/* Copy len bytes into a free slot of h's ring: 0, or -1 with EAGAIN. */
static int ring_push(struct shm_hdr *h, const uint8_t *frame, uint32_t len)
{
	uint64_t pos = atomic_load_explicit(&h->tail, memory_order_relaxed);
	struct shm_slot *sl;

	for (;;) {
		int64_t diff;

		sl = slot_at(h, pos);
		diff = (int64_t)(atomic_load_explicit(&sl->seq,
						      memory_order_acquire) -
				 pos);
		if (diff == 0) {
			if (atomic_compare_exchange_weak_explicit(
				&h->tail, &pos, pos + 1, memory_order_relaxed,
				memory_order_relaxed))
				break;
		} else if (diff < 0) {
			errno = EAGAIN;
			return -1;
		} else {
			pos = atomic_load_explicit(&h->tail,
						   memory_order_relaxed);
		}
	}
	memcpy(slot_data(sl), frame, len);
	sl->len = len;
	atomic_store_explicit(&sl->seq, pos + 1, memory_order_release);
	return 0;
}

static int shm_tx_post(struct vnb_ep *ep, uint32_t id, uint32_t len,
		       const struct vnb_addr *dst, uint64_t ctx)
{
	struct shm_state *s = ep->prov;
	struct shm_peer *p;
	uint32_t ntx = s->nframes - s->nslots;
	int e;

	if (id < s->nslots || id >= s->nframes || s->ntx_free == 0 ||
	    s->tx_free[s->ntx_free - 1] != id) {
		errno = EINVAL;
		return -1;
	}
	if (!dst || len > s->frame_size) {
		e = dst ? EMSGSIZE : EINVAL;
		goto fail;
	}
	p = peer(s, dst->shm);
	if (!p) {
		e = errno;
		goto fail;
	}
	if (len > p->hdr->frame_size) {
		e = EMSGSIZE;
		goto fail;
	}
	if (ring_push(p->hdr,
		      s->tx_area + (size_t)(id - s->nslots) * s->frame_size,
		      len) < 0) {
		e = errno;
		goto fail;
	}
	s->ntx_free--;
	s->tx_ctx[id - s->nslots] = ctx;
	s->done[(s->done_head + s->done_n++) % ntx] = id;
	/* The frame's publication before the look at the waiting word; the
	 * owner sets the word before it looks at the ring (see shm_fd). */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&p->hdr->waiting, memory_order_relaxed) &&
	    atomic_exchange_explicit(&p->hdr->waiting, 0, memory_order_relaxed))
		(void)sendto(s->wake_fd, "", 1, MSG_DONTWAIT,
			     (struct sockaddr *)&p->wake, p->wake_len);
	return 0;
fail:
	errno = e;
	return -1;
}

static int shm_tx_reap(struct vnb_ep *ep, uint64_t *ctx, int max)
{
	struct shm_state *s = ep->prov;
	uint32_t ntx = s->nframes - s->nslots;
	int n = 0;

	while (n < max && s->done_n > 0) {
		uint32_t id = s->done[s->done_head];

		s->done_head = (s->done_head + 1) % ntx;
		s->done_n--;
		ctx[n++] = s->tx_ctx[id - s->nslots];
		s->tx_free[s->ntx_free++] = id;
	}
	return n;
}

static int shm_rx_next(struct vnb_ep *ep, uint8_t **data, uint32_t *len,
		       uint32_t *id)
{
	struct shm_state *s = ep->prov;
	struct shm_slot *sl = slot_at(s->hdr, s->head);
	uint32_t i = (uint32_t)(s->head % s->nslots);

	if (atomic_load_explicit(&sl->seq, memory_order_acquire) != s->head + 1)
		return 0;
	*data = slot_data(sl);
	*len = sl->len <= s->frame_size ? sl->len : s->frame_size;
	*id = i;
	s->rx_pos[i] = s->head++;
	return 1;
}

static int shm_rx_post(struct vnb_ep *ep, uint32_t id)
{
	struct shm_state *s = ep->prov;

	if (id >= s->nslots || s->rx_pos[id] == NONE) {
		errno = EINVAL;
		return -1;
	}
	atomic_store_explicit(&slot_at(s->hdr, id)->seq,
			      s->rx_pos[id] + s->nslots, memory_order_release);
	s->rx_pos[id] = NONE;
	return 0;
}

/* Arm one wake-up and return the socket it arrives on. */
static int shm_fd(const struct vnb_ep *ep)
{
	struct shm_state *s = ep->prov;
	char buf[64];

	if (!s) {
		errno = EINVAL;
		return -1;
	}
	while (recv(s->wake_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	atomic_store_explicit(&s->hdr->waiting, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&slot_at(s->hdr, s->head)->seq,
				 memory_order_acquire) == s->head + 1) {
		/* A frame is there already: be readable at once. */
		atomic_store_explicit(&s->hdr->waiting, 0,
				      memory_order_relaxed);
		(void)sendto(s->wake_fd, "", 1, MSG_DONTWAIT,
			     (struct sockaddr *)&s->wake, s->wake_len);
	}
	return s->wake_fd;
}

const struct vnb_prov_ops vnb_prov_shm = {
    .size = sizeof(struct vnb_prov_ops),
    .id = VNB_PROV_SHM,
    .l2 = false,
    .open = shm_open_ep,
    .close = shm_close,
    .tx_frame = shm_tx_frame,
    .tx_post = shm_tx_post,
    .tx_reap = shm_tx_reap,
    .rx_next = shm_rx_next,
    .rx_post = shm_rx_post,
    .fd = shm_fd,
};
