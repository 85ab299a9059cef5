/*
 * board.c - group commit: one durable write for every transaction that
 * waits for the ledger lock.
 *
 * Every transaction that changes the ledger pays one vnb_file_replace
 * (two fsyncs), under the lock.  Alone that is the whole cost; with N
 * prologs racing, each would wait for N-1 writes.  So a transaction first
 * posts itself on the board, <state_dir>/ledger.board, a small shared file
 * of request slots, then waits for the ledger lock.  Whoever gets the lock
 * takes every request posted so far, applies them in order to the ledger
 * in memory, exactly as each would have applied itself, commits once, and
 * posts each result back before it unlocks.  A waiter that gets the lock
 * and finds its result there is done.
 *
 * - The ledger file and its lock are unchanged: every change is still made
 *   by one process holding the exclusive lock, and a result is posted only
 *   after the commit that made it durable.  If that commit fails, every
 *   request of the batch fails with its error, and the file is unchanged.
 * - A slot belongs to the process that holds an OFD lock on its byte
 *   (released by the kernel when the process dies), so a slot whose owner
 *   died is free again, and its request is not applied.
 * - The board takes no lock: each slot has one word, sequence number and
 *   state, changed by compare-and-swap.  The owner invalidates the word
 *   before it writes a request; the applier copies a request and then
 *   swaps the word to TAKEN only if it did not change meanwhile (a
 *   seqlock), so it never applies a request half written.  Waiters sleep
 *   on a futex that each batch bumps, and try the ledger lock without
 *   blocking when they wake, so that one whose result is posted does not
 *   queue behind the next batch.
 * - If the process applying a batch dies before it posts the results, each
 *   waiter gets the lock next and applies its own request again.  A claim
 *   or release that had been committed is then repeated, which gives the
 *   same result (a claim run twice gets its vNICs back); a scrubbed that
 *   had been committed reports ESTALE, "already free".
 * - Anything unexpected (no board, a board of another layout, all slots
 *   taken) means the caller runs its transaction alone, as before.
 */
#include "config.h" /* _GNU_SOURCE: F_OFD_SETLK */

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger_int.h"

#define BOARD_NAME "ledger.board"
#define BOARD_MAGIC "vnic-bypass board v1"
#define SLOTS 64
#define HDR_SIZE 4096
/* How long a waiter sleeps before it looks at the ledger lock again when
 * no batch ends: only when the lock is held by a transaction run alone, or
 * by a process that died. */
#define WAIT_NS 5000000

/* A slot's word: sequence number << 2 | state. */
enum slot_state { EMPTY = 0, POSTED, TAKEN, DONE };
#define WORD(seq, st) ((seq) << 2 | (uint64_t)(st))
#define STATE(w) ((enum slot_state)((w)&3))

struct board_hdr {
	char magic[24];
	uint32_t slots, slot_size;
	atomic_uint ready; /* set last by the process that made the board */
	atomic_uint gen; /* futex: bumped when a batch's results are posted */
	atomic_uint_least64_t next_seq;
	atomic_uint_least64_t word[SLOTS];
};

struct board_slot {
	struct vnb_ledger_req req;
	struct vnb_ledger_res res;
};

#define BOARD_SIZE (HDR_SIZE + SLOTS * sizeof(struct board_slot))

struct board {
	int fd;
	struct board_hdr *hdr;
	struct board_slot *slot;
};

/* One request taken into a batch. */
struct taken {
	int i;
	uint64_t seq;
	struct vnb_ledger_req req;
	struct vnb_ledger_res res;
};

/* The OFD lock that marks slot i as owned: take it (0, or -1 when another
 * process holds it), or test whether someone holds it (1 or 0). */
static int slot_lock(struct board *b, int i, int cmd)
{
	struct flock fl = {
	    .l_type = F_WRLCK,
	    .l_whence = SEEK_SET,
	    .l_start = i,
	    .l_len = 1,
	};

	if (fcntl(b->fd, cmd, &fl) < 0)
		return -1;
	return cmd == F_OFD_GETLK ? fl.l_type != F_UNLCK : 0;
}

static void board_close(struct board *b)
{
	if (b->hdr)
		munmap(b->hdr, BOARD_SIZE);
	if (b->fd >= 0)
		close(b->fd); /* drops the slot's OFD lock */
}

static bool board_valid(const struct board_hdr *h)
{
	return atomic_load_explicit(&h->ready, memory_order_acquire) == 1 &&
	       memcmp(h->magic, BOARD_MAGIC, sizeof(BOARD_MAGIC)) == 0 &&
	       h->slots == SLOTS && h->slot_size == sizeof(struct board_slot);
}

/* Open and map the board; the first process makes it, under a flock. */
static int board_open(struct board *b, int dirfd)
{
	struct stat st;
	void *p;

	b->fd = openat(dirfd, BOARD_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (b->fd < 0 || fstat(b->fd, &st) < 0)
		return -1;
	if (st.st_size != (off_t)BOARD_SIZE) {
		while (flock(b->fd, LOCK_EX) < 0)
			if (errno != EINTR)
				return -1;
		if (fstat(b->fd, &st) < 0 ||
		    (st.st_size == 0 &&
		     ftruncate(b->fd, (off_t)BOARD_SIZE) < 0) ||
		    (st.st_size != 0 && st.st_size != (off_t)BOARD_SIZE))
			return -1; /* another layout: run alone */
	}
	p = mmap(NULL, BOARD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd,
		 0);
	if (p == MAP_FAILED)
		return -1;
	b->hdr = p;
	b->slot = (struct board_slot *)((char *)p + HDR_SIZE);
	if (board_valid(b->hdr))
		return 0;
	while (flock(b->fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -1;
	if (!board_valid(b->hdr) && b->hdr->magic[0] == '\0') {
		memcpy(b->hdr->magic, BOARD_MAGIC, sizeof(BOARD_MAGIC));
		b->hdr->slots = SLOTS;
		b->hdr->slot_size = sizeof(struct board_slot);
		atomic_store_explicit(&b->hdr->ready, 1, memory_order_release);
	}
	flock(b->fd, LOCK_UN);
	return board_valid(b->hdr) ? 0 : -1;
}

/* Post req in a free slot: its index, or -1. */
static int post(struct board *b, const struct vnb_ledger_req *req,
		uint64_t *seq)
{
	int i, k, start = (int)(getpid() % SLOTS);

	/* start at our own place, not where every racer tries first */
	for (k = 0; k < SLOTS; k++)
		if (slot_lock(b, i = (start + k) % SLOTS, F_OFD_SETLK) == 0)
			break;
	if (k == SLOTS)
		return -1;
	*seq = atomic_fetch_add(&b->hdr->next_seq, 1) + 1;
	/* invalidate first: an applier copying the old request now fails */
	atomic_store(&b->hdr->word[i], WORD(*seq, EMPTY));
	b->slot[i].req = *req;
	atomic_store_explicit(&b->hdr->word[i], WORD(*seq, POSTED),
			      memory_order_release);
	return i;
}

/* Our result, if it is posted: 1 and res filled. */
static int collect(struct board *b, int mine, uint64_t seq,
		   struct vnb_ledger_res *res)
{
	uint64_t w =
	    atomic_load_explicit(&b->hdr->word[mine], memory_order_acquire);

	if (w != WORD(seq, DONE))
		return 0;
	*res = b->slot[mine].res;
	atomic_store(&b->hdr->word[mine], WORD(seq, EMPTY));
	return 1;
}

/* Take ours and up to cap-1 other live posted requests into t, in the
 * order they were posted; how many.  Holding the ledger lock. */
static int take(struct board *b, int mine, struct taken *t, int cap)
{
	int i, k, n = 0;

	for (k = 0; k < SLOTS && n < cap; k++) {
		uint64_t w;

		i = (mine + k) % SLOTS; /* ours first */
		w = atomic_load_explicit(&b->hdr->word[i],
					 memory_order_acquire);

		if (STATE(w) != POSTED && STATE(w) != TAKEN)
			continue;
		if (i != mine && slot_lock(b, i, F_OFD_GETLK) != 1) {
			/* its owner is gone: drop it */
			atomic_compare_exchange_strong(&b->hdr->word[i], &w,
						       WORD(w >> 2, EMPTY));
			continue;
		}
		t[n].req = b->slot[i].req;
		atomic_thread_fence(memory_order_acquire);
		if (!atomic_compare_exchange_strong(&b->hdr->word[i], &w,
						    WORD(w >> 2, TAKEN)))
			continue; /* reposted while we copied */
		t[n].i = i;
		t[n].seq = w >> 2;
		n++;
	}
	for (i = 1; i < n; i++) {
		int j = i;

		while (j > 0 && t[j - 1].seq > t[j].seq) {
			struct taken x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
			j--;
		}
	}
	return n;
}

static void fail_all(struct taken *t, int n, const vnb_error_t *err, int err_no)
{
	int k;

	for (k = 0; k < n; k++) {
		if (t[k].res.rc < 0)
			continue; /* it changed nothing; its own error stands */
		t[k].res.rc = -1;
		t[k].res.err_no = err_no;
		t[k].res.err = *err;
		t[k].res.count = 0;
	}
}

/* Holding the ledger lock: apply the batch and commit it. */
static void apply_batch(struct vnb_ledger *l, struct taken *t, int n)
{
	vnb_error_t err = {{0}};
	int k;

	if (vnb_ledger_load(l, &err) < 0) {
		for (k = 0; k < n; k++)
			t[k].res.rc = 0;
		fail_all(t, n, &err, errno);
		return;
	}
	for (k = 0; k < n; k++)
		vnb_ledger_apply(l, &t[k].req, &t[k].res);
	if (vnb_ledger_commit(l, &err) < 0)
		fail_all(t, n, &err, errno);
}

/*
 * Wait until our result is posted (1, res filled) or the ledger lock is
 * ours (0).  Waiting on the lock itself would queue us behind the next
 * batch's commit even when ours is done, so we sleep on the board's
 * generation instead and try the lock without blocking.
 */
static int wait_turn(struct board *b, struct vnb_ledger *l, int mine,
		     uint64_t seq, struct vnb_ledger_res *res)
{
	const struct timespec ts = {.tv_sec = 0, .tv_nsec = WAIT_NS};

	for (;;) {
		unsigned gen = atomic_load(&b->hdr->gen);

		if (collect(b, mine, seq, res))
			return 1;
		if (vnb_ledger_trylock(l) == 0 || errno != EWOULDBLOCK)
			return 0; /* ours, or let the blocking lock report */
		syscall(SYS_futex, &b->hdr->gen, FUTEX_WAIT, gen, &ts, NULL, 0);
	}
}

/* The lock could not be had: withdraw the request, unless it was taken. */
static int withdraw(struct board *b, int mine, uint64_t seq,
		    struct vnb_ledger_res *res)
{
	uint64_t w = WORD(seq, POSTED);

	if (atomic_compare_exchange_strong(&b->hdr->word[mine], &w,
					   WORD(seq, EMPTY)))
		return -1; /* nothing done: run it alone */
	if (collect(b, mine, seq, res))
		return 0;
	res->rc = -1;
	res->err_no = EIO;
	vnb_errprintf(&res->err, "the outcome of this ledger request is "
				 "unknown: check with vnbctl ledger");
	return 0;
}

int vnb_ledger_board_run(const char *state_dir,
			 const struct vnb_ledger_req *req,
			 struct vnb_ledger_res *res)
{
	struct board b = {.fd = -1, .hdr = NULL, .slot = NULL};
	struct vnb_ledger *l = vnb_ledger_open(state_dir, NULL);
	struct taken *t = NULL;
	uint64_t seq = 0;
	int mine, n, k, rc = 0;

	if (!l)
		return -1;
	if (board_open(&b, vnb_ledger_dirfd(l)) < 0 ||
	    (mine = post(&b, req, &seq)) < 0) {
		rc = -1;
		goto out;
	}
	if (wait_turn(&b, l, mine, seq, res) == 1)
		goto out;
	if (vnb_ledger_lock(l, &res->err) < 0) {
		rc = withdraw(&b, mine, seq, res);
		goto out;
	}
	if (collect(&b, mine, seq, res))
		goto out;
	/* Room for what is posted now; what comes while we take waits for
	 * the next batch.  (Not SLOTS: a batch of one stays small.) */
	for (k = 0, n = 1; k < SLOTS; k++) {
		enum slot_state st = STATE(atomic_load(&b.hdr->word[k]));

		n += k != mine && (st == POSTED || st == TAKEN);
	}
	t = malloc((size_t)n * sizeof(*t));
	if (!t) {
		rc = withdraw(&b, mine, seq, res);
		goto out;
	}
	n = take(&b, mine, t, n);
	apply_batch(l, t, n);
	for (k = 0; k < n; k++) {
		int i = t[k].i;
		uint64_t w = WORD(t[k].seq, TAKEN);

		if (i == mine) {
			*res = t[k].res;
			atomic_store(&b.hdr->word[i], WORD(seq, EMPTY));
			continue;
		}
		b.slot[i].res = t[k].res;
		atomic_compare_exchange_strong_explicit(
		    &b.hdr->word[i], &w, WORD(t[k].seq, DONE),
		    memory_order_release, memory_order_relaxed);
	}
	atomic_fetch_add(&b.hdr->gen, 1);
	vnb_ledger_end(l); /* unlock before waking: the woken may need it */
	l = NULL;
	syscall(SYS_futex, &b.hdr->gen, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
out:
	vnb_ledger_end(l);
	board_close(&b);
	free(t);
	return rc;
}
