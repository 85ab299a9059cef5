/*
 * killrace.c - racers are killed in the middle of their transactions.
 *
 * Racing transactions go through the board, where one process applies and
 * commits the requests of all the others.  Here that process, or any
 * other, is SIGKILLed at random points and replaced, hundreds of times.
 * The survivors must never hang (the test would time out), never see an
 * error other than EBUSY (and ESTALE for a scrubbed whose applier died
 * after committing it), and always get back the same vNICs when they run
 * a claim again.  At the end the ledger loads, and cleaning up the jobs of
 * the killed racers, as an epilog would, leaves it empty: nothing is lost.
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

#define POOL 8
#define RACERS 6
#define MAXN 3

struct shared {
	atomic_int stop;
	atomic_ulong rounds, busy, stale;
};

static struct shared *sh;
static char dir[256];

static void racer(unsigned id)
{
	char cand[POOL][VNB_VNIC_ID_MAX], got[MAXN][VNB_VNIC_ID_MAX];
	char again[MAXN][VNB_VNIC_ID_MAX], rel[POOL][VNB_VNIC_ID_MAX];
	vnb_error_t err;
	uint32_t r;

	srand(id * 7919u + (unsigned)getpid());
	testdir_ids(cand, POOL, "k");
	for (r = 0; !atomic_load(&sh->stop); r++) {
		uint32_t job = id * 1000u + r % 1000u + 1;
		size_t n = 1 + (size_t)(rand() % MAXN), count = 0, i;

		if (vnb_ledger_claim(dir, job,
				     (const char(*)[VNB_VNIC_ID_MAX])cand, POOL,
				     n, got, &err) < 0) {
			if (errno == EBUSY)
				atomic_fetch_add(&sh->busy, 1);
			else
				testdir_violation("job %u: claim: %s", job,
						  err.text);
			continue;
		}
		if (vnb_ledger_claim(dir, job,
				     (const char(*)[VNB_VNIC_ID_MAX])cand, POOL,
				     n, again, &err) < 0 ||
		    memcmp(again, got, n * sizeof(got[0])) != 0)
			testdir_violation("job %u: claim run again differs: %s",
					  job, err.text);
		if (vnb_ledger_release(dir, job, rel, POOL, &count, &err) < 0 ||
		    count != n)
			testdir_violation("job %u: release: %zu vNICs: %s", job,
					  count, err.text);
		for (i = 0; i < count && i < POOL; i++) {
			if (vnb_ledger_scrubbed(dir, rel[i], job, &err) == 0)
				continue;
			if (errno == ESTALE)
				atomic_fetch_add(&sh->stale, 1);
			else
				testdir_violation("job %u: scrubbed %s: %s",
						  job, rel[i], err.text);
		}
		atomic_fetch_add(&sh->rounds, 1);
	}
	_exit(0);
}

/* Release and scrub what the racers for which dead(id) held, as the
 * epilog of a job whose prolog died does. */
static void cleanup(unsigned dead_id)
{
	vnb_error_t err = {{0}};
	struct vnb_ledger *l = vnb_ledger_read(dir, &err);
	size_t e;

	for (e = 0; l && e < vnb_ledger_count(l); e++) {
		const struct vnb_ledger_entry *en = vnb_ledger_at(l, e);

		if (dead_id && (en->jobid - 1) / 1000 != dead_id)
			continue;
		if (vnb_ledger_release(dir, en->jobid, NULL, 0, NULL, &err) <
			0 ||
		    (vnb_ledger_scrubbed(dir, en->vnic, en->jobid, &err) < 0 &&
		     errno != ESTALE))
			diag("cleanup of %s: %s", en->vnic, err.text);
	}
	vnb_ledger_end(l);
}

static pid_t spawn(unsigned id)
{
	pid_t pid = fork();

	if (pid < 0)
		bail_out("fork: %s", strerror(errno));
	if (pid == 0)
		racer(id);
	return pid;
}

int main(void)
{
	int kills = testdir_slow() ? 30 : 200;
	unsigned next_id = 1, i, ids[RACERS];
	pid_t pids[RACERS];
	vnb_error_t err = {{0}};
	struct vnb_ledger *l;
	int k, bad_exit = 0, killed = 0;
	size_t left;

	sh = testdir_shared(sizeof(*sh));
	testdir_violations_init();
	testdir_make(dir, sizeof(dir), "killrace");
	alarm(testdir_slow() ? 600 : 120); /* a hang fails the test */
	srand((unsigned)getpid());
	for (i = 0; i < RACERS; i++) {
		ids[i] = next_id++;
		pids[i] = spawn(ids[i]);
	}
	for (k = 0; k < kills; k++) {
		int status;

		i = (unsigned)rand() % RACERS;
		usleep((useconds_t)(rand() % (testdir_slow() ? 50000 : 3000)));
		kill(pids[i], SIGKILL);
		if (waitpid(pids[i], &status, 0) == pids[i] &&
		    WIFSIGNALED(status))
			killed++;
		cleanup(ids[i]);
		ids[i] = next_id++;
		pids[i] = spawn(ids[i]);
	}
	atomic_store(&sh->stop, 1);
	for (i = 0; i < RACERS; i++) {
		int status;

		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad_exit++;
	}
	is_int(killed, kills, "%d racers killed mid-way and replaced", kills);
	is_int(bad_exit, 0, "the last racers finished their round and exited");
	diag("rounds %lu, EBUSY %lu, ESTALE %lu", atomic_load(&sh->rounds),
	     atomic_load(&sh->busy), atomic_load(&sh->stale));
	ok(atomic_load(&sh->rounds) > 0, "racers got work done");
	if (!is_int((long long)testdir_violations(), 0,
		    "no survivor saw an unexpected error or a changed claim"))
		diag("first: %s", testdir_violation_first());

	l = vnb_ledger_read(dir, &err);
	ok(l != NULL, "the ledger loads: %s", err.text);
	vnb_ledger_end(l);
	/* what the killed racers still held (their transaction was applied
	 * after the cleanup that followed their death) */
	cleanup(0);
	l = vnb_ledger_read(dir, &err);
	left = l ? vnb_ledger_count(l) : 99;
	vnb_ledger_end(l);
	is_int((long long)left, 0, "after cleanup every vNIC is free");
	testdir_remove(dir);
	munmap(sh, sizeof(*sh));
	return done_testing();
}
