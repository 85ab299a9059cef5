/*
 * crash.c - a writer is killed at random points; the ledger always loads
 * and holds either the last state committed or the one being written.
 *
 * The child commits states 0, 1, 2, ... in turn; state k is a pattern that
 * can be recognised (each vNIC free, claimed or dirty by a hash of k, for
 * job (k+1)*16+i).  Before committing k it records "writing k" in shared
 * memory, and "committed k" once the commit returned.  The parent SIGKILLs
 * it after a random delay, loads the ledger, and requires one of those
 * two states; the next child goes on from the state found.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/tap.h"
#include "ledger/ledger.h"
#include "ledger/test/testdir.h"

#define POOL 12

struct shared {
	atomic_int committed; /* -1: nothing yet (empty ledger) */
	atomic_int writing;
};

static struct shared *sh;
static char dir[256];
static char ids[POOL][VNB_VNIC_ID_MAX];

static enum vnb_vnic_state pattern(int k, int i, uint32_t *job)
{
	uint32_t h = (uint32_t)k * 2654435761u ^ (uint32_t)i * 40503u;

	h ^= h >> 13;
	*job = (uint32_t)(k + 1) * 16 + (uint32_t)i;
	if (k < 0)
		return VNB_VNIC_FREE;
	return (enum vnb_vnic_state)(h % 3);
}

static bool matches(const struct vnb_ledger *l, int k)
{
	size_t want = 0;
	int i;

	for (i = 0; i < POOL; i++) {
		const struct vnb_ledger_entry *e = vnb_ledger_find(l, ids[i]);
		uint32_t job;
		enum vnb_vnic_state s = pattern(k, i, &job);

		if (s == VNB_VNIC_FREE) {
			if (e)
				return false;
			continue;
		}
		want++;
		if (!e || e->state != s || e->jobid != job)
			return false;
	}
	return vnb_ledger_count(l) == want;
}

static void writer(void)
{
	vnb_error_t err;
	int k;

	for (k = atomic_load(&sh->committed) + 1;; k++) {
		struct vnb_ledger *l = vnb_ledger_begin(dir, &err);
		int i;

		if (!l)
			_exit(2);
		for (i = 0; i < POOL; i++) {
			uint32_t job;
			enum vnb_vnic_state s = pattern(k, i, &job);

			if (vnb_ledger_set(l, ids[i], s, job) < 0)
				_exit(3);
		}
		atomic_store(&sh->writing, k);
		if (vnb_ledger_commit(l, &err) < 0)
			_exit(4);
		atomic_store(&sh->committed, k);
		vnb_ledger_end(l);
	}
}

int main(void)
{
	int kills = testdir_slow() ? 15 : 300;
	int n, bad_load = 0, bad_state = 0, bad_exit = 0;
	int as_new = 0, with_tmp = 0, progress = 0;
	vnb_error_t err = {{0}};
	char firsterr[600] = "";
	struct vnb_ledger *l;

	sh = testdir_shared(sizeof(*sh));
	atomic_store(&sh->committed, -1);
	atomic_store(&sh->writing, -1);
	testdir_make(dir, sizeof(dir), "crash");
	testdir_ids(ids, POOL, "c");
	srand((unsigned)getpid());
	for (n = 0; n < kills; n++) {
		int status, c, w, before = atomic_load(&sh->committed);
		pid_t pid = fork();

		if (pid < 0)
			bail_out("fork: %s", strerror(errno));
		if (pid == 0)
			writer();
		/* up to a few commits' worth, often mid-write */
		usleep((useconds_t)(rand() % (testdir_slow() ? 60000 : 4000)));
		kill(pid, SIGKILL);
		if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status))
			bad_exit++;
		c = atomic_load(&sh->committed);
		w = atomic_load(&sh->writing);
		if (c > before)
			progress++;
		if (testdir_count(dir, ".ledger.tmp.") > 0)
			with_tmp++;
		l = vnb_ledger_read(dir, &err);
		if (!l) {
			if (!bad_load++)
				snprintf(firsterr, sizeof(firsterr),
					 "kill %d: %s", n, err.text);
			continue;
		}
		if (matches(l, c)) {
			atomic_store(&sh->writing, c);
		} else if (w > c && matches(l, w)) {
			atomic_store(&sh->committed, w);
			as_new++;
		} else if (!bad_state++) {
			snprintf(firsterr, sizeof(firsterr),
				 "kill %d: the ledger is neither state %d nor "
				 "%d",
				 n, c, w);
		}
		vnb_ledger_end(l);
	}
	is_int(bad_exit, 0, "%d writers were killed by SIGKILL", kills);
	is_int(bad_load, 0, "the ledger loaded after every kill");
	is_int(bad_state, 0,
	       "it always held the last committed state or the one written");
	if (bad_load || bad_state)
		diag("first failure: %s", firsterr);
	diag("%d kills: writer progressed in %d, new state found after %d "
	     "(killed between rename and return), temp file left in %d",
	     kills, progress, as_new, with_tmp);
	ok(atomic_load(&sh->committed) > 0, "the writers got somewhere");

	/* the next writer cleans the temporary files up */
	l = vnb_ledger_begin(dir, &err);
	ok(l && vnb_ledger_set(l, "c0", VNB_VNIC_CLAIMED, 1) == 0 &&
	       vnb_ledger_set(l, "c1", VNB_VNIC_CLAIMED, 99999) == 0 &&
	       vnb_ledger_commit(l, &err) == 0,
	   "a writer commits after the crashes: %s", err.text);
	vnb_ledger_end(l);
	is_int(testdir_count(dir, ".ledger.tmp."), 0,
	       "no temporary file is left");
	testdir_remove(dir);
	munmap(sh, sizeof(*sh));
	return done_testing();
}
