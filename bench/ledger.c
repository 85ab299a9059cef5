/*
 * bench/ledger.c - claim, release and scrubbed latency of the ledger with
 * 1, 8 and 64 racing claimer processes on a pool of 256 vNICs.
 *
 * Each row starts from a fresh state directory (under $TMPDIR, or /tmp, so
 * on the disk that fsync really reaches).  Each claimer loops: claim 1..4
 * vNICs for a new job, release the job, scrub each vNIC.  The vNICs that
 * the claimers cannot need (256 - 4 * claimers) are held by a background
 * job, so the ledger file is as large as a busy node's in every row.  The
 * floor row is the durable write alone: vnb_file_replace of the same file
 * from one process, which every transaction that changes something pays.
 *
 *   bench/ledger [-r ROUNDS]   (rounds per row, shared by the claimers)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "ledger/ledger.h"

#define POOL 256
#define MAXN 4
#define TARGET_US 1000.0

enum { OP_CLAIM, OP_RELEASE, OP_SCRUB, OP_COUNT };
static const char *const op_names[] = {"claim", "release", "scrubbed"};

struct samples {
	double *us;
	size_t n;
};

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return n ? v[i] : 0;
}

static void row(const char *op, const char *who, double *v, size_t n,
		double wall_us)
{
	qsort(v, n, sizeof(*v), cmp_double);
	printf("| %-8s | %-9s | %5zu | %9.0f | %8.0f | %10.0f |\n", op, who, n,
	       pct(v, n, 0.5), pct(v, n, 0.99),
	       wall_us > 0 ? (double)n * 1e6 / wall_us : 0);
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench/ledger: %s: %s\n", what, why);
	exit(1);
}

static void make_dir(char *buf, size_t size)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(buf, size, "%s/vnb-bench-ledger-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(buf))
		die("mkdtemp", strerror(errno));
}

static void remove_dir(const char *dir)
{
	static const char *const names[] = {"ledger", "ledger.lock", "floor"};
	char path[4200];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void claimer(const char *dir, char (*pool)[VNB_VNIC_ID_MAX], int c,
		    int rounds, int start_fd, double *out[OP_COUNT],
		    size_t *counts)
{
	char cand[POOL][VNB_VNIC_ID_MAX], got[MAXN][VNB_VNIC_ID_MAX];
	char rel[MAXN][VNB_VNIC_ID_MAX];
	vnb_error_t err;
	char go;
	int r, i;

	srand((unsigned)c * 7919u + 1);
	/* each claimer prefers another part of the pool, as NUMA would */
	for (i = 0; i < POOL; i++)
		memcpy(cand[i], pool[(i + c * MAXN) % POOL], VNB_VNIC_ID_MAX);
	if (read(start_fd, &go, 1) < 0)
		_exit(1);
	for (r = 0; r < rounds; r++) {
		uint32_t job = (uint32_t)(c + 1) * 100000u + (uint32_t)r + 1;
		size_t n = 1 + (size_t)(rand() % MAXN), count = 0, k;
		double t0 = now_us();

		if (vnb_ledger_claim(dir, job,
				     (const char(*)[VNB_VNIC_ID_MAX])cand, POOL,
				     n, got, &err) < 0)
			die("claim", err.text);
		out[OP_CLAIM][counts[OP_CLAIM]++] = now_us() - t0;
		t0 = now_us();
		if (vnb_ledger_release(dir, job, rel, MAXN, &count, &err) < 0)
			die("release", err.text);
		out[OP_RELEASE][counts[OP_RELEASE]++] = now_us() - t0;
		for (k = 0; k < count; k++) {
			t0 = now_us();
			if (vnb_ledger_scrubbed(dir, rel[k], job, &err) < 0)
				die("scrubbed", err.text);
			out[OP_SCRUB][counts[OP_SCRUB]++] = now_us() - t0;
		}
	}
	_exit(0);
}

/* One row set: claimers racing, `rounds` rounds shared among them. */
static void run(char (*pool)[VNB_VNIC_ID_MAX], int claimers, int total)
{
	int rounds = (total + claimers - 1) / claimers, c, op, fds[2];
	size_t per = (size_t)rounds * MAXN, bytes;
	char dir[4096], who[16];
	struct vnb_ledger *l;
	vnb_error_t err;
	double *shm, *v[OP_COUNT], t0, wall;
	size_t *counts, n[OP_COUNT] = {0};

	make_dir(dir, sizeof(dir));
	l = vnb_ledger_begin(dir, &err);
	if (!l)
		die("begin", err.text);
	for (c = claimers * MAXN; c < POOL; c++)
		if (vnb_ledger_set(l, pool[c], VNB_VNIC_CLAIMED, 1) < 0)
			die("set", strerror(errno));
	if (vnb_ledger_commit(l, &err) < 0)
		die("commit", err.text);
	vnb_ledger_end(l);

	/* per claimer: OP_COUNT arrays of `per` samples, then counts */
	bytes = (size_t)claimers *
		(OP_COUNT * per * sizeof(double) + OP_COUNT * sizeof(size_t));
	shm = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		die("mmap", strerror(errno));
	counts = (void *)(shm + (size_t)claimers * OP_COUNT * per);
	if (pipe(fds) < 0)
		die("pipe", strerror(errno));
	for (c = 0; c < claimers; c++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork", strerror(errno));
		if (pid == 0) {
			double *out[OP_COUNT];

			close(fds[1]);
			for (op = 0; op < OP_COUNT; op++)
				out[op] =
				    shm +
				    ((size_t)c * OP_COUNT + (size_t)op) * per;
			claimer(dir, pool, c, rounds, fds[0], out,
				counts + (size_t)c * OP_COUNT);
		}
	}
	close(fds[0]);
	t0 = now_us();
	close(fds[1]); /* go */
	for (c = 0; c < claimers; c++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			die("claimer", "failed");
	}
	wall = now_us() - t0;
	for (op = 0; op < OP_COUNT; op++) {
		v[op] = malloc((size_t)claimers * per * sizeof(double));
		if (!v[op])
			die("malloc", strerror(errno));
		for (c = 0; c < claimers; c++) {
			size_t k = counts[(size_t)c * OP_COUNT + (size_t)op];

			memcpy(v[op] + n[op],
			       shm + ((size_t)c * OP_COUNT + (size_t)op) * per,
			       k * sizeof(double));
			n[op] += k;
		}
	}
	snprintf(who, sizeof(who), "%d", claimers);
	for (op = 0; op < OP_COUNT; op++) {
		row(op_names[op], who, v[op], n[op], wall);
		free(v[op]);
	}
	munmap(shm, bytes);
	remove_dir(dir);
}

/* The durable write alone, of a ledger-sized file, from one process. */
static void floor_row(int total)
{
	char dir[4096], buf[POOL * 48];
	size_t len = 0;
	double *v = malloc((size_t)total * sizeof(double)), t0, wall;
	int i, dfd;

	if (!v)
		die("malloc", strerror(errno));
	make_dir(dir, sizeof(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		die("open", strerror(errno));
	for (i = 0; i < POOL; i++)
		len +=
		    (size_t)snprintf(buf + len, sizeof(buf) - len,
				     "ens1f0:vf%d claimed 1 1764162443\n", i);
	t0 = now_us();
	for (i = 0; i < total; i++) {
		double t = now_us();

		if (vnb_file_replace(dfd, "floor", buf, len, 0644, NULL) < 0)
			die("vnb_file_replace", strerror(errno));
		v[i] = now_us() - t;
	}
	wall = now_us() - t0;
	row("replace", "1 (floor)", v, (size_t)total, wall);
	close(dfd);
	free(v);
	remove_dir(dir);
}

int main(int argc, char **argv)
{
	static const int claimers[] = {1, 8, 64};
	char pool[POOL][VNB_VNIC_ID_MAX];
	int total = 512, opt, i;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt == 'r' && atoi(optarg) > 0) {
			total = atoi(optarg);
		} else {
			fprintf(stderr, "usage: %s [-r ROUNDS]\n", argv[0]);
			return 2;
		}
	}
	for (i = 0; i < POOL; i++)
		snprintf(pool[i], sizeof(pool[i]), "ens1f0:vf%d", i);
	printf("ledger, %d vNICs in the pool, %d rounds per claimer count; "
	       "target: median <= %.0f us\n\n",
	       POOL, total, TARGET_US);
	printf("| op       | claimers  |   ops | median us |   p99 us | "
	       "ops/s      |\n");
	printf("| -------- | --------- | ----: | --------: | -------: | "
	       "---------: |\n");
	floor_row(total);
	for (i = 0; i < 3; i++)
		run(pool, claimers[i], total);
	return 0;
}
