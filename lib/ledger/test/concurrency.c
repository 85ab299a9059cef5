/*
 * concurrency.c - processes race for the last vNICs of a small pool.
 *
 * Each of P processes runs rounds of claim -> check -> release -> scrubbed
 * for a fresh job, asking for 1..3 of 6 vNICs in a random preference
 * order, so that most rounds fight over the last free ones.  The proof of
 * exclusivity does not trust the ledger: a holder writes its job into a
 * per-vNIC owner slot in shared memory with compare-and-swap, 0 -> job
 * right after its claim returns and job -> 0 right before its release.
 * If two jobs ever held a vNIC at once, one of those swaps fails.  At the
 * end every vNIC must be free again: none was lost.
 */
#include <errno.h>
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

#define POOL 6
#define PROCS 8
#define MAXN 3

struct shared {
	atomic_uint owner[POOL];
	atomic_ulong claims, busy, reruns, errors;
};

static struct shared *sh;
static char dir[256];

static int index_of(const char *vnic)
{
	return vnic[0] == 'v' && vnic[1] >= '0' && vnic[1] < '0' + POOL &&
		       !vnic[2]
		   ? vnic[1] - '0'
		   : -1;
}

static void round_(unsigned p, unsigned r)
{
	char cand[POOL][VNB_VNIC_ID_MAX], got[MAXN][VNB_VNIC_ID_MAX];
	char again[MAXN][VNB_VNIC_ID_MAX], rel[POOL][VNB_VNIC_ID_MAX];
	uint32_t job = (p + 1) * 100000 + r + 1;
	size_t n = 1 + (size_t)(rand() % MAXN), count = 0, i;
	vnb_error_t err = {{0}};
	struct vnb_ledger *l;

	testdir_ids(cand, POOL, "v");
	for (i = POOL - 1; i > 0; i--) {
		size_t j = (size_t)rand() % (i + 1);
		char t[VNB_VNIC_ID_MAX];

		memcpy(t, cand[i], sizeof(t));
		memcpy(cand[i], cand[j], sizeof(t));
		memcpy(cand[j], t, sizeof(t));
	}
	if (vnb_ledger_claim(dir, job, (const char(*)[VNB_VNIC_ID_MAX])cand,
			     POOL, n, got, &err) < 0) {
		if (errno == EBUSY) {
			atomic_fetch_add(&sh->busy, 1);
			return;
		}
		atomic_fetch_add(&sh->errors, 1);
		testdir_violation("job %u: claim failed (%s): %s", job,
				  strerror(errno), err.text);
		return;
	}
	atomic_fetch_add(&sh->claims, 1);
	for (i = 0; i < n; i++) {
		int k = index_of(got[i]);
		unsigned expected = 0;

		if (k < 0) {
			testdir_violation(
			    "job %u: claim returned unknown vNIC %s", job,
			    got[i]);
			continue;
		}
		if (!atomic_compare_exchange_strong(&sh->owner[k], &expected,
						    job))
			testdir_violation("job %u got %s, which job %u holds",
					  job, got[i], expected);
	}
	/* the ledger agrees with what we hold */
	l = vnb_ledger_read(dir, &err);
	for (i = 0; l && i < n; i++) {
		const struct vnb_ledger_entry *e = vnb_ledger_find(l, got[i]);

		if (!e || e->state != VNB_VNIC_CLAIMED || e->jobid != job)
			testdir_violation("job %u: ledger has %s as job %u",
					  job, got[i], e ? e->jobid : 0);
	}
	if (!l)
		testdir_violation("job %u: read failed: %s", job, err.text);
	vnb_ledger_end(l);
	/* sometimes the prolog runs twice: same vNICs, same order */
	if (rand() % 8 == 0) {
		atomic_fetch_add(&sh->reruns, 1);
		if (vnb_ledger_claim(dir, job,
				     (const char(*)[VNB_VNIC_ID_MAX])cand, POOL,
				     n, again, &err) < 0 ||
		    memcmp(again, got, n * sizeof(got[0])) != 0) /* 0-filled */
			testdir_violation("job %u: rerun of claim differs: %s",
					  job, err.text);
	}
	if (rand() % 2)
		usleep((useconds_t)(rand() % 200));
	for (i = 0; i < n; i++) {
		int k = index_of(got[i]);
		unsigned expected = job;

		if (k >= 0 && !atomic_compare_exchange_strong(&sh->owner[k],
							      &expected, 0))
			testdir_violation(
			    "job %u: %s was taken by job %u meanwhile", job,
			    got[i], expected);
	}
	if (vnb_ledger_release(dir, job, rel, POOL, &count, &err) < 0 ||
	    count != n)
		testdir_violation("job %u: release gave %zu vNICs: %s", job,
				  count, err.text);
	for (i = 0; i < count && i < POOL; i++)
		if (vnb_ledger_scrubbed(dir, rel[i], job, &err) < 0)
			testdir_violation("job %u: scrubbed %s failed: %s", job,
					  rel[i], err.text);
}

int main(void)
{
	unsigned rounds = testdir_slow() ? 100 : 1000;
	vnb_error_t err = {{0}};
	struct vnb_ledger *l;
	unsigned p, r, lost = 0;
	int i, bad = 0;

	sh = testdir_shared(sizeof(*sh));
	testdir_violations_init();
	testdir_make(dir, sizeof(dir), "race");
	for (p = 0; p < PROCS; p++) {
		pid_t pid = fork();

		if (pid < 0)
			bail_out("fork: %s", strerror(errno));
		if (pid == 0) {
			srand(p * 7919 + (unsigned)getpid());
			for (r = 0; r < rounds; r++)
				round_(p, r);
			_exit(0);
		}
	}
	for (p = 0; p < PROCS; p++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			bad++;
	}
	is_int(bad, 0, "%d processes ran %u rounds each and exited cleanly",
	       PROCS, rounds);
	diag("claims %lu, EBUSY %lu, reruns %lu", atomic_load(&sh->claims),
	     atomic_load(&sh->busy), atomic_load(&sh->reruns));
	is_int((long long)(atomic_load(&sh->claims) + atomic_load(&sh->busy) +
			   atomic_load(&sh->errors)),
	       (long long)PROCS * rounds, "every round claimed or got EBUSY");
	is_int((long long)atomic_load(&sh->errors), 0,
	       "no claim failed otherwise");
	ok(atomic_load(&sh->claims) > 0, "some claims succeeded");
	if (!is_int((long long)testdir_violations(), 0,
		    "no vNIC was ever held by two jobs, ledger and holders "
		    "agreed"))
		diag("first violation: %s", testdir_violation_first());
	for (i = 0; i < POOL; i++)
		if (atomic_load(&sh->owner[i]) != 0)
			lost++;
	is_int(lost, 0, "every owner slot is empty");
	l = vnb_ledger_read(dir, &err);
	ok(l != NULL, "the ledger loads: %s", err.text);
	is_int((long long)vnb_ledger_count(l), 0, "no vNIC is lost: all free");
	vnb_ledger_end(l);
	testdir_remove(dir);
	munmap(sh, sizeof(*sh));
	return done_testing();
}
