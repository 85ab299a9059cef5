/*
 * pmix_fake.c - vnb_pmix_exchange against an in-memory PMIx: the job's
 * other ranks have published their addresses already, and each PMIx call
 * can be made to fail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tap.h"
#include "vnb/prov.h"

/* the exchange itself, with its static pmix_exchange_ops */
#include "vnb/pmix.c"

#define NS "fake.job.1"
#define MAXR 8

enum { F_INIT, F_PUT, F_COMMIT, F_FENCE, F_SIZE, F_NCALLS };

static struct {
	uint32_t size, me;
	char *kv[MAXR]; /* what each rank published under VNB_PMIX_KEY */
	pmix_status_t fail[F_NCALLS]; /* what each call returns instead */
	int ninit, nfinal;
} f;

static pmix_status_t fake_init(pmix_proc_t *me)
{
	if (f.fail[F_INIT])
		return f.fail[F_INIT];
	f.ninit++;
	PMIX_PROC_CONSTRUCT(me);
	PMIX_LOAD_PROCID(me, NS, f.me);
	return PMIX_SUCCESS;
}

static pmix_status_t fake_finalize(void)
{
	f.nfinal++;
	return PMIX_SUCCESS;
}

static pmix_status_t fake_put(const char *key, const char *val)
{
	if (f.fail[F_PUT])
		return f.fail[F_PUT];
	if (strcmp(key, VNB_PMIX_KEY) != 0)
		return PMIX_ERR_BAD_PARAM;
	free(f.kv[f.me]);
	f.kv[f.me] = strdup(val);
	return PMIX_SUCCESS;
}

static pmix_status_t fake_commit(void)
{
	return f.fail[F_COMMIT];
}

static pmix_status_t fake_fence(const char *nspace)
{
	return strcmp(nspace, NS) ? PMIX_ERR_BAD_PARAM : f.fail[F_FENCE];
}

static pmix_status_t fake_job_size(const char *nspace, uint32_t *size)
{
	if (f.fail[F_SIZE])
		return f.fail[F_SIZE];
	*size = f.size;
	return PMIX_SUCCESS;
}

static pmix_status_t fake_get(const char *nspace, uint32_t rank,
			      const char *key, char **val)
{
	if (rank >= MAXR || !f.kv[rank])
		return PMIX_ERR_NOT_FOUND;
	*val = strdup(f.kv[rank]);
	return *val ? PMIX_SUCCESS : PMIX_ERR_NOMEM;
}

static const struct pmix_ops fake_ops = {
    .init = fake_init,
    .finalize = fake_finalize,
    .put = fake_put,
    .commit = fake_commit,
    .fence = fake_fence,
    .job_size = fake_job_size,
    .get = fake_get,
};

static void reset(uint32_t size, uint32_t me)
{
	for (int i = 0; i < MAXR; i++) {
		free(f.kv[i]);
		f.kv[i] = NULL;
	}
	memset(&f, 0, sizeof(f));
	f.size = size;
	f.me = me;
	/* the other ranks: udp endpoints 10.0.0.(10+r):4791 */
	for (uint32_t r = 0; r < size && r < MAXR; r++) {
		char buf[128];

		if (r == me)
			continue;
		snprintf(buf, sizeof(buf),
			 "mac=02:00:00:00:00:%02x;vlan=0;q=%u;ip=10.0.0.%u;"
			 "port=4791",
			 r, r, 10 + r);
		f.kv[r] = strdup(buf);
	}
}

static void self_ep(struct vnb_ep *ep, uint32_t me)
{
	memset(ep, 0, sizeof(*ep));
	ep->self.mac[0] = 0x02;
	ep->self.mac[5] = (uint8_t)me;
	ep->self.queue = (uint16_t)me;
	ep->self.ip4 = htonl(0x0a00000a + me);
	ep->self.port = 4791;
}

static void test_good(void)
{
	struct vnb_ep ep;
	struct vnb_addr *peers = NULL;
	uint32_t n = 0, me = 99;
	vnb_error_t err = {{0}};
	int bad = 0;

	reset(4, 2);
	self_ep(&ep, 2);
	ok(pmix_exchange_ops(&fake_ops, &ep, &peers, &n, &me, &err) == 0,
	   "4 ranks: exchange works: %s", err.text);
	is_int(n, 4, "4 peers");
	is_int(me, 2, "this is rank 2");
	ok(f.kv[2] && strstr(f.kv[2], "ip=10.0.0.12") != NULL,
	   "published its own address: %s", f.kv[2] ? f.kv[2] : "(none)");
	for (uint32_t r = 0; peers && r < n; r++)
		if (peers[r].queue != r || peers[r].mac[5] != r ||
		    peers[r].ip4 != htonl(0x0a00000a + r) ||
		    peers[r].port != 4791)
			bad++;
	is_int(bad, 0, "the table is indexed by rank");
	ok(f.ninit == 1 && f.nfinal == 1, "one PMIx_Init, one PMIx_Finalize");
	free(peers);

	reset(1, 0);
	self_ep(&ep, 0);
	peers = NULL;
	ok(pmix_exchange_ops(&fake_ops, &ep, &peers, &n, &me, &err) == 0 &&
	       n == 1 && me == 0 && peers && peers[0].ip4 == htonl(0x0a00000a),
	   "a job of one rank gets its own address back");
	free(peers);
}

/* Each failure: -1, the errno, a message naming the call, *peers untouched
 * and PMIx finalised as often as it was initialised. */
static void check_fail(const char *what, int want_errno, const char *needle)
{
	struct vnb_ep ep;
	struct vnb_addr *peers = (struct vnb_addr *)&peers; /* a canary */
	struct vnb_addr *canary = peers;
	uint32_t n = 77, me = 77;
	vnb_error_t err = {{0}};
	int rc;

	self_ep(&ep, f.me);
	errno = 0;
	rc = pmix_exchange_ops(&fake_ops, &ep, &peers, &n, &me, &err);
	ok(rc == -1 && errno == want_errno, "%s: -1 with %s (got %d, %s)", what,
	   strerror(want_errno), rc, strerror(errno));
	like(err.text, needle, "%s: the message names it", what);
	ok(peers == canary && n == 77 && me == 77, "%s: no output", what);
	is_int(f.nfinal, f.ninit, "%s: PMIx finalised as often as initialised",
	       what);
}

static void test_failures(void)
{
	struct vnb_ep ep;
	struct vnb_addr *peers;
	uint32_t n, me;
	vnb_error_t err = {{0}};

	static const struct {
		const char *what;
		int call;
		pmix_status_t rc;
		int want_errno;
		const char *needle;
	} t[] = {
	    {"no PMIx server", F_INIT, PMIX_ERR_UNREACH, ENOTCONN,
	     "srun --mpi=pmix"},
	    {"put", F_PUT, PMIX_ERR_NOMEM, ENOMEM, "PMIx_Put"},
	    {"commit", F_COMMIT, PMIX_ERR_LOST_CONNECTION, ECONNRESET,
	     "PMIx_Commit"},
	    {"fence", F_FENCE, PMIX_ERR_TIMEOUT, ETIMEDOUT, "PMIx_Fence"},
	    {"job size", F_SIZE, PMIX_ERR_NOT_FOUND, ENOENT, "pmix.job.size"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		reset(4, 1);
		f.fail[t[i].call] = t[i].rc;
		check_fail(t[i].what, t[i].want_errno, t[i].needle);
	}

	reset(4, 1);
	f.size = 1; /* rank 1 of a job of 1 */
	check_fail("rank beyond the job size", EPROTO, "this is rank 1");

	reset(4, 1);
	free(f.kv[3]);
	f.kv[3] = NULL;
	check_fail("a rank published nothing", ENOENT, "rank 3");

	reset(4, 1);
	free(f.kv[0]);
	f.kv[0] = strdup("mac=zz;q=oops");
	check_fail("a rank published garbage", EPROTO, "rank 0 published");

	reset(4, 1);
	self_ep(&ep, 1);
	errno = 0;
	ok(pmix_exchange_ops(&fake_ops, &ep, NULL, &n, &me, &err) == -1 &&
	       errno == EINVAL,
	   "NULL peers: EINVAL");
	ok(pmix_exchange_ops(&fake_ops, NULL, &peers, &n, &me, NULL) == -1 &&
	       errno == EINVAL,
	   "NULL endpoint, NULL err: EINVAL");
	is_int(f.ninit, 0, "bad arguments never reach PMIx");
}

static void test_errno_table(void)
{
	static const struct {
		pmix_status_t rc;
		int e;
	} t[] = {
	    {PMIX_ERR_NOT_FOUND, ENOENT},
	    {PMIX_ERR_TIMEOUT, ETIMEDOUT},
	    {PMIX_ERR_UNREACH, ENOTCONN},
	    {PMIX_ERR_INIT, ENOTCONN},
	    {PMIX_ERR_LOST_CONNECTION, ECONNRESET},
	    {PMIX_ERR_NO_PERMISSIONS, EACCES},
	    {PMIX_ERR_NOMEM, ENOMEM},
	    {PMIX_ERR_BAD_PARAM, EINVAL},
	    {PMIX_ERR_TYPE_MISMATCH, EPROTO},
	    {PMIX_ERROR, EIO},
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (pmix_errno(t[i].rc) != t[i].e) {
			diag("pmix status %d: errno %d, want %d", (int)t[i].rc,
			     pmix_errno(t[i].rc), t[i].e);
			bad++;
		}
	is_int(bad, 0, "pmix_status_t to errno");
}

int main(void)
{
	test_good();
	test_failures();
	test_errno_table();
	reset(0, 0);
	return done_testing();
}
