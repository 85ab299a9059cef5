/*
 * vmpmix - a PMIx client for tests/rig/t0500-vm-pmix.t, run in the guests
 * by srun --mpi=pmix --vnic-bypass: reads its own vnb.cred and the job's
 * size, publishes "rank R on HOST", fences with data collection and reads
 * every other rank's value.  One line on stdout:
 *
 *   rank R ok: size N, cred CRED, peers "rank 0 on n1" ...
 *
 * or "rank R FAIL: what" and exit status 1.  VMPMIX_DIE=R: rank R exits
 * with status 3 just before the fence (the others then wait in it);
 * VMPMIX_FENCES=N: N fences (for timing), the time of each printed.
 */
#include <pmix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pmix_proc_t me;

static int fail(const char *what, pmix_status_t rc)
{
	printf("rank %u FAIL: %s: %s\n", me.rank, what, PMIx_Error_string(rc));
	fflush(stdout);
	return 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	pmix_value_t *v = NULL, val;
	pmix_proc_t wild, p;
	pmix_info_t info;
	pmix_status_t rc;
	char host[256] = "", mine[300], cred[256] = "", line[8192];
	const char *die = getenv("VMPMIX_DIE"), *nf = getenv("VMPMIX_FENCES");
	bool collect = true;
	uint32_t size, r;
	size_t len;
	int i, fences = nf ? atoi(nf) : 0;

	rc = PMIx_Init(&me, NULL, 0);
	if (rc != PMIX_SUCCESS) {
		printf("rank ? FAIL: PMIx_Init: %s\n", PMIx_Error_string(rc));
		return 1;
	}
	PMIX_LOAD_PROCID(&wild, me.nspace, PMIX_RANK_WILDCARD);
	rc = PMIx_Get(&wild, PMIX_JOB_SIZE, NULL, 0, &v);
	if (rc != PMIX_SUCCESS)
		return fail("PMIx_Get(job size)", rc);
	size = v->data.uint32;
	PMIX_VALUE_RELEASE(v);
	rc = PMIx_Get(&me, "vnb.cred", NULL, 0, &v);
	if (rc != PMIX_SUCCESS &&
	    PMIx_Get(&me, "vnb.cred.none", NULL, 0, &v) == PMIX_SUCCESS) {
		printf("rank %u FAIL: no vnb.cred: %s\n", me.rank,
		       v->data.string);
		return 1;
	}
	if (rc != PMIX_SUCCESS)
		return fail("PMIx_Get(vnb.cred)", rc);
	if (v->type == PMIX_STRING)
		snprintf(cred, sizeof(cred), "%s", v->data.string);
	PMIX_VALUE_RELEASE(v);
	gethostname(host, sizeof(host) - 1);
	snprintf(mine, sizeof(mine), "rank %u on %s", me.rank, host);
	PMIX_VALUE_LOAD(&val, mine, PMIX_STRING);
	rc = PMIx_Put(PMIX_GLOBAL, "vmpmix.who", &val);
	PMIX_VALUE_DESTRUCT(&val);
	if (rc == PMIX_SUCCESS)
		rc = PMIx_Commit();
	if (rc != PMIX_SUCCESS)
		return fail("PMIx_Put/Commit", rc);
	if (die && *die && (uint32_t)atoi(die) == me.rank) {
		printf("rank %u dies before the fence\n", me.rank);
		fflush(stdout);
		_exit(3);
	}
	PMIX_INFO_CONSTRUCT(&info);
	PMIX_INFO_LOAD(&info, PMIX_COLLECT_DATA, &collect, PMIX_BOOL);
	rc = PMIx_Fence(&wild, 1, &info, 1);
	if (rc != PMIX_SUCCESS)
		return fail("PMIx_Fence", rc);
	len = (size_t)snprintf(line, sizeof(line),
			       "rank %u ok: size %u, cred %s, peers", me.rank,
			       size, cred[0] ? cred : "(none)");
	for (r = 0; r < size; r++) {
		PMIX_LOAD_PROCID(&p, me.nspace, r);
		rc = PMIx_Get(&p, "vmpmix.who", NULL, 0, &v);
		if (rc != PMIX_SUCCESS)
			return fail("PMIx_Get(a peer's vmpmix.who)", rc);
		if (len < sizeof(line))
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						" \"%s\"", v->data.string);
		PMIX_VALUE_RELEASE(v);
	}
	for (i = 0; i < fences; i++) {
		double t0 = now();

		rc = PMIx_Fence(&wild, 1, &info, 1);
		if (rc != PMIX_SUCCESS)
			return fail("PMIx_Fence (loop)", rc);
		if (me.rank == 0)
			printf("fence %d: %.3f ms\n", i, (now() - t0) * 1e3);
	}
	PMIX_INFO_DESTRUCT(&info);
	printf("%s\n", line);
	fflush(stdout);
	rc = PMIx_Finalize(NULL, 0);
	return rc == PMIX_SUCCESS ? 0 : fail("PMIx_Finalize", rc);
}
