/*
 * ledger.c - the in-memory ledger, its file format, and the locked
 * load/commit cycle.
 *
 * The file, <state_dir>/ledger:
 *
 *   # vnic-bypass ledger v1
 *   # vnic state jobid since
 *   ens1f0:vf3 claimed 4711 1764162443
 *   eth2 dirty 4702 1764162400
 *
 * The first line names the format and its version.  Other lines starting
 * with '#' are comments.  Every other line is one vNIC that is not free:
 * its id, "claimed" or "dirty", the job (1..2^32-1) and the time the state
 * was entered (seconds since the epoch), separated by single spaces.  A
 * vNIC appears at most once.  The writer sorts the lines by id; the reader
 * accepts any order.  Anything else is refused with FILE:LINE, since a line
 * skipped would be a claim forgotten.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"
#include "ledger/ledger_int.h"

#define LEDGER_NAME "ledger"
#define LOCK_NAME "ledger.lock"
#define TMP_PREFIX "." LEDGER_NAME ".tmp."
#define HEADER_PREFIX "# vnic-bypass ledger v"
#define HEADER HEADER_PREFIX "1"
#define COLUMNS "# vnic state jobid since"
#define LINE_MAX_LEN 255
/* The longest line the writer produces: id, state, jobid, since. */
#define ENTRY_LINE_MAX (VNB_VNIC_ID_MAX + 8 + 11 + 21 + 1)
#define FILE_MAX ((size_t)VNB_LEDGER_MAX * (LINE_MAX_LEN + 1))
#define TIME_T_MAX ((uint64_t)(sizeof(time_t) == 8 ? INT64_MAX : INT32_MAX))

struct slot {
	struct vnb_ledger_entry e;
	unsigned line; /* where the file had it, for messages; 0 new */
};

struct vnb_ledger {
	int dirfd; /* state_dir; -1 in a snapshot */
	int lockfd; /* ledger.lock, flocked; -1 when not held */
	bool writable; /* from vnb_ledger_begin */
	bool changed; /* differs from the file */
	char path[PATH_MAX]; /* <state_dir>/ledger, for messages */
	struct slot *v; /* sorted by id, strcmp */
	size_t n, cap;
};

static const char *const state_names[] = {
    [VNB_VNIC_FREE] = "free",
    [VNB_VNIC_CLAIMED] = "claimed",
    [VNB_VNIC_DIRTY] = "dirty",
};

const char *vnb_vnic_state_name(enum vnb_vnic_state s)
{
	if ((unsigned)s >= VNB_ARRAY_SIZE(state_names))
		return NULL;
	return state_names[s];
}

bool vnb_ledger_vnic_valid(const char *s)
{
	size_t n;

	if (!s || !s[0] || s[0] == '.' || s[0] == '-' || s[0] == ':')
		return false;
	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (n >= VNB_VNIC_ID_MAX - 1)
			return false;
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '.' && c != '_' &&
		    c != '-' && c != ':')
			return false;
	}
	return true;
}

/* The index of vnic, or where it would go, in the sorted slots. */
static size_t lower_bound(const struct vnb_ledger *l, const char *vnic,
			  bool *found)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].e.vnic, vnic);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static int reserve(struct vnb_ledger *l, size_t want)
{
	size_t ncap = l->cap ? l->cap : 16;
	struct slot *nv;

	if (want <= l->cap)
		return 0;
	if (want > VNB_LEDGER_MAX) {
		errno = ENOSPC;
		return -1;
	}
	while (ncap < want)
		ncap *= 2;
	if (ncap > VNB_LEDGER_MAX)
		ncap = VNB_LEDGER_MAX;
	nv = realloc(l->v, ncap * sizeof(*nv));
	if (!nv)
		return -1;
	l->v = nv;
	l->cap = ncap;
	return 0;
}

size_t vnb_ledger_count(const struct vnb_ledger *l)
{
	return l ? l->n : 0;
}

const struct vnb_ledger_entry *vnb_ledger_at(const struct vnb_ledger *l,
					     size_t i)
{
	if (!l || i >= l->n)
		return NULL;
	return &l->v[i].e;
}

const struct vnb_ledger_entry *vnb_ledger_find(const struct vnb_ledger *l,
					       const char *vnic)
{
	bool found;
	size_t i;

	if (!l || !vnic)
		return NULL;
	i = lower_bound(l, vnic, &found);
	return found ? &l->v[i].e : NULL;
}

void vnb_ledger_touch(struct vnb_ledger *l)
{
	l->changed = true;
}

const char *vnb_ledger_path(const struct vnb_ledger *l)
{
	return l->path;
}

int vnb_ledger_set(struct vnb_ledger *l, const char *vnic,
		   enum vnb_vnic_state state, uint32_t jobid)
{
	struct slot *s;
	bool found;
	size_t i;

	if (!l || !vnb_ledger_vnic_valid(vnic) || !vnb_vnic_state_name(state) ||
	    (state != VNB_VNIC_FREE && jobid == 0)) {
		errno = EINVAL;
		return -1;
	}
	if (!l->writable) {
		errno = EBADF;
		return -1;
	}
	i = lower_bound(l, vnic, &found);
	if (state == VNB_VNIC_FREE) {
		if (found) {
			memmove(&l->v[i], &l->v[i + 1],
				(l->n - i - 1) * sizeof(l->v[0]));
			l->n--;
			l->changed = true;
		}
		return 0;
	}
	if (found) {
		s = &l->v[i];
		if (s->e.state == state && s->e.jobid == jobid)
			return 0;
	} else {
		if (reserve(l, l->n + 1) < 0)
			return -1;
		memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(l->v[0]));
		l->n++;
		s = &l->v[i];
		memset(s, 0, sizeof(*s));
		memcpy(s->e.vnic, vnic, strlen(vnic) + 1);
	}
	s->e.state = state;
	s->e.jobid = jobid;
	s->e.since = time(NULL);
	l->changed = true;
	return 0;
}

/*
 * Parsing.
 */

static int slot_cmp(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	int c = strcmp(x->e.vnic, y->e.vnic);

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Copy the field [p, end) into out (size bytes with the NUL); false when it
 * does not fit. */
static bool field(const char *p, const char *end, char *out, size_t size)
{
	size_t len = (size_t)(end - p);

	if (len >= size)
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

/* A decimal number [p, end) in [min, max]: digits only, no sign, no
 * space.  vnb_parse_u64 would need a copy and strtoull's locale; this runs
 * for every line of every transaction. */
static bool parse_dec(const char *p, const char *end, uint64_t min,
		      uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (p == end || end - p > 20)
		return false;
	for (; p < end; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (d > 9 || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v < min)
		return false;
	*out = v;
	return true;
}

static int parse_entry(struct vnb_ledger *l, const char *p, const char *end,
		       unsigned line, vnb_error_t *err)
{
	const char *f[4], *fend[4];
	char id[VNB_VNIC_ID_MAX], state[16];
	uint64_t jobid, t;
	struct slot *s;
	size_t nf = 0;

	while (nf < 4) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));

		f[nf] = p;
		fend[nf] = sp ? sp : end;
		if (fend[nf] == f[nf])
			break;
		nf++;
		if (!sp)
			break;
		p = sp + 1;
	}
	if (nf != 4 || fend[3] != end) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "%s:%u: expected 'VNIC STATE JOBID SINCE' "
				     "separated by single spaces",
				     l->path, line);
	}
	if (!field(f[0], fend[0], id, sizeof(id)) ||
	    !vnb_ledger_vnic_valid(id)) {
		errno = EINVAL;
		return vnb_errprintf(
		    err, "%s:%u: '%.*s' is not a valid vNIC id", l->path, line,
		    (int)(fend[0] - f[0]), f[0]);
	}
	if (!field(f[1], fend[1], state, sizeof(state)) ||
	    (strcmp(state, "claimed") != 0 && strcmp(state, "dirty") != 0)) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "%s:%u: vNIC %s: unknown state '%.*s' "
				     "(a line is 'claimed' or 'dirty'; a free "
				     "vNIC has no line)",
				     l->path, line, id, (int)(fend[1] - f[1]),
				     f[1]);
	}
	if (!parse_dec(f[2], fend[2], 1, UINT32_MAX, &jobid)) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "%s:%u: vNIC %s: job id '%.*s' is not a "
				     "number from 1 to %u",
				     l->path, line, id, (int)(fend[2] - f[2]),
				     f[2], UINT32_MAX);
	}
	if (!parse_dec(f[3], fend[3], 0, TIME_T_MAX, &t)) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "%s:%u: vNIC %s: time '%.*s' is not a "
				     "number of seconds since the epoch",
				     l->path, line, id, (int)(fend[3] - f[3]),
				     f[3]);
	}
	if (reserve(l, l->n + 1) < 0) {
		if (errno == ENOSPC)
			return vnb_errprintf(err,
					     "%s:%u: more than %d vNICs listed",
					     l->path, line, VNB_LEDGER_MAX);
		return vnb_errprintf(err, "%s: out of memory", l->path);
	}
	s = &l->v[l->n++];
	memset(s, 0, sizeof(*s));
	memcpy(s->e.vnic, id, strlen(id) + 1);
	s->e.state = state[0] == 'c' ? VNB_VNIC_CLAIMED : VNB_VNIC_DIRTY;
	s->e.jobid = (uint32_t)jobid;
	s->e.since = (time_t)t;
	s->line = line;
	return 0;
}

static int parse_header(struct vnb_ledger *l, const char *p, const char *end,
			vnb_error_t *err)
{
	size_t len = (size_t)(end - p), plen = strlen(HEADER_PREFIX);

	if (len == strlen(HEADER) && memcmp(p, HEADER, len) == 0)
		return 0;
	errno = EINVAL;
	if (len > plen && memcmp(p, HEADER_PREFIX, plen) == 0)
		return vnb_errprintf(err,
				     "%s:1: ledger format v%.*s is not "
				     "supported by this vnic-bypass (it reads "
				     "v1); upgrade vnic-bypass",
				     l->path,
				     (int)(len - plen > 20 ? 20 : len - plen),
				     p + plen);
	return vnb_errprintf(err,
			     "%s:1: not a vnic-bypass ledger (the first line "
			     "must be '%s')",
			     l->path, HEADER);
}

static int parse(struct vnb_ledger *l, const char *buf, size_t len,
		 vnb_error_t *err)
{
	const char *p = buf, *end = buf + len;
	unsigned line = 0;
	size_t i;

	if (len == 0) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "%s:1: empty file (the first line must be "
				     "'%s')",
				     l->path, HEADER);
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		line++;
		if (!nl) {
			errno = EINVAL;
			return vnb_errprintf(err,
					     "%s:%u: the last line has no "
					     "newline: the file is truncated",
					     l->path, line);
		}
		if (memchr(p, '\0', (size_t)(nl - p))) {
			errno = EINVAL;
			return vnb_errprintf(err, "%s:%u: NUL byte in line",
					     l->path, line);
		}
		if (nl - p > LINE_MAX_LEN) {
			errno = EINVAL;
			return vnb_errprintf(err,
					     "%s:%u: line longer than %d "
					     "characters",
					     l->path, line, LINE_MAX_LEN);
		}
		if (line == 1) {
			if (parse_header(l, p, nl, err) < 0)
				return -1;
		} else if (p == nl) {
			errno = EINVAL;
			return vnb_errprintf(err, "%s:%u: empty line", l->path,
					     line);
		} else if (*p != '#' && parse_entry(l, p, nl, line, err) < 0) {
			return -1;
		}
		p = nl + 1;
	}
	for (i = 1; i < l->n; i++)
		if (slot_cmp(&l->v[i - 1], &l->v[i]) > 0)
			break;
	if (i < l->n)
		qsort(l->v, l->n, sizeof(l->v[0]), slot_cmp);
	for (i = 1; i < l->n; i++) {
		if (strcmp(l->v[i - 1].e.vnic, l->v[i].e.vnic) == 0) {
			errno = EINVAL;
			return vnb_errprintf(err,
					     "%s:%u: vNIC %s is listed twice "
					     "(also at line %u)",
					     l->path, l->v[i].line,
					     l->v[i].e.vnic, l->v[i - 1].line);
		}
	}
	return 0;
}

/* Load the file below l->dirfd; a missing file is an empty ledger. */
static int load(struct vnb_ledger *l, int dirfd, vnb_error_t *err)
{
	size_t len = 0;
	char *buf;
	int rc;

	buf = vnb_file_read(dirfd, LEDGER_NAME, FILE_MAX, &len, err);
	if (!buf) {
		if (errno == ENOENT) {
			l->changed = true; /* the first commit creates it */
			return 0;
		}
		if (errno == EFBIG)
			return vnb_errprintf(err,
					     "%s is larger than %zu bytes: not "
					     "a ledger",
					     l->path, FILE_MAX);
		return vnb_errprintf(err, "cannot read %s: %s", l->path,
				     strerror(errno));
	}
	rc = parse(l, buf, len, err);
	free(buf);
	return rc;
}

/* Append s (len bytes) at *p. */
static void put(char **p, const char *s, size_t len)
{
	memcpy(*p, s, len);
	*p += len;
}

/* Append v in decimal at *p. */
static void put_dec(char **p, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(p, tmp + sizeof(tmp) - n, n);
}

/* The whole ledger as text into a buffer the caller frees.  By hand, not
 * snprintf: every commit formats every line, and printf was most of the
 * user time of a transaction. */
static char *format(const struct vnb_ledger *l, size_t *len)
{
	static const char head[] = HEADER "\n" COLUMNS "\n";
	size_t size = sizeof(head) + l->n * ENTRY_LINE_MAX, i;
	char *buf = malloc(size), *p = buf;

	if (!buf)
		return NULL;
	put(&p, head, sizeof(head) - 1);
	for (i = 0; i < l->n; i++) {
		const struct vnb_ledger_entry *e = &l->v[i].e;
		const char *state = vnb_vnic_state_name(e->state);

		put(&p, e->vnic, strlen(e->vnic));
		put(&p, " ", 1);
		put(&p, state, strlen(state));
		put(&p, " ", 1);
		put_dec(&p, e->jobid);
		put(&p, " ", 1);
		put_dec(&p, e->since < 0 ? 0 : (uint64_t)e->since);
		put(&p, "\n", 1);
	}
	*len = (size_t)(p - buf);
	return buf;
}

/*
 * The object and its lock.
 */

static struct vnb_ledger *ledger_new(const char *state_dir, bool writable,
				     vnb_error_t *err)
{
	struct vnb_ledger *l;

	if (!state_dir || !state_dir[0]) {
		errno = EINVAL;
		vnb_errprintf(err, "no state directory given");
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		vnb_errprintf(err, "out of memory");
		return NULL;
	}
	l->dirfd = -1;
	l->lockfd = -1;
	l->writable = writable;
	if (snprintf(l->path, sizeof(l->path), "%s/%s", state_dir,
		     LEDGER_NAME) >= (int)sizeof(l->path)) {
		free(l);
		errno = ENAMETOOLONG;
		vnb_errprintf(err, "%s: path too long", state_dir);
		return NULL;
	}
	return l;
}

static int lock(struct vnb_ledger *l, int op, vnb_error_t *err)
{
	while (flock(l->lockfd, op) < 0) {
		if (errno != EINTR)
			return vnb_errprintf(err, "cannot lock %s.lock: %s",
					     l->path, strerror(errno));
	}
	/* a writer killed before its rename left its temp file */
	if (op == LOCK_EX)
		vnb_file_sweep(l->dirfd, LEDGER_NAME);
	return 0;
}

/* Make the state directory and its entry in the parent durable. */
static int make_state_dir(const char *state_dir, vnb_error_t *err)
{
	char parent[PATH_MAX];
	int fd;

	if (vnb_mkdir_p(state_dir, 0755, err) < 0)
		return -1;
	snprintf(parent, sizeof(parent), "%s/..", state_dir);
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

void vnb_ledger_end(struct vnb_ledger *l)
{
	int saved = errno;

	if (l) {
		if (l->lockfd >= 0)
			close(l->lockfd); /* drops the flock */
		if (l->dirfd >= 0)
			close(l->dirfd);
		free(l->v);
		free(l);
	}
	errno = saved;
}

static int open_dir(const char *state_dir, bool create, vnb_error_t *err)
{
	int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && create) {
		if (make_state_dir(state_dir, err) < 0)
			return -1;
		fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		vnb_errprintf(err, "cannot open the state directory %s: %s",
			      state_dir, strerror(errno));
	return fd;
}

struct vnb_ledger *vnb_ledger_open(const char *state_dir, vnb_error_t *err)
{
	struct vnb_ledger *l = ledger_new(state_dir, true, err);

	if (!l)
		return NULL;
	l->dirfd = open_dir(state_dir, true, err);
	if (l->dirfd < 0)
		goto fail;
	l->lockfd =
	    openat(l->dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (l->lockfd < 0) {
		vnb_errprintf(err, "cannot open %s.lock: %s", l->path,
			      strerror(errno));
		goto fail;
	}
	return l;
fail:
	vnb_ledger_end(l);
	return NULL;
}

int vnb_ledger_lock(struct vnb_ledger *l, vnb_error_t *err)
{
	return lock(l, LOCK_EX, err);
}

int vnb_ledger_trylock(struct vnb_ledger *l)
{
	int rc;

	while ((rc = flock(l->lockfd, LOCK_EX | LOCK_NB)) < 0 && errno == EINTR)
		;
	if (rc == 0)
		vnb_file_sweep(l->dirfd, LEDGER_NAME);
	return rc;
}

int vnb_ledger_load(struct vnb_ledger *l, vnb_error_t *err)
{
	return load(l, l->dirfd, err);
}

int vnb_ledger_dirfd(const struct vnb_ledger *l)
{
	return l->dirfd;
}

int vnb_ledger_reserve(struct vnb_ledger *l, size_t more)
{
	return reserve(l, l->n + more);
}

struct vnb_ledger *vnb_ledger_begin(const char *state_dir, vnb_error_t *err)
{
	struct vnb_ledger *l = vnb_ledger_open(state_dir, err);

	if (l && (vnb_ledger_lock(l, err) < 0 || vnb_ledger_load(l, err) < 0)) {
		vnb_ledger_end(l);
		return NULL;
	}
	return l;
}

struct vnb_ledger *vnb_ledger_read(const char *state_dir, vnb_error_t *err)
{
	struct vnb_ledger *l = ledger_new(state_dir, false, err);
	int dirfd = -1;

	if (!l)
		return NULL;
	dirfd = open_dir(state_dir, false, err);
	if (dirfd < 0)
		goto fail;
	/* Without a lock file no transaction has ever run: the ledger is
	 * empty, or was put there by hand and is read as it is. */
	l->lockfd = openat(dirfd, LOCK_NAME, O_RDONLY | O_CLOEXEC);
	if (l->lockfd < 0 && errno != ENOENT) {
		vnb_errprintf(err, "cannot open %s.lock: %s", l->path,
			      strerror(errno));
		goto fail;
	}
	if (l->lockfd >= 0 && lock(l, LOCK_SH, err) < 0)
		goto fail;
	if (load(l, dirfd, err) < 0)
		goto fail;
	/* The snapshot is in memory: let writers go on at once. */
	if (l->lockfd >= 0)
		close(l->lockfd);
	l->lockfd = -1;
	close(dirfd);
	l->changed = false;
	return l;
fail:
	if (dirfd >= 0)
		close(dirfd);
	vnb_ledger_end(l);
	return NULL;
}

/* Remove temporary files that writers killed before their rename left.
 * Only writers holding the exclusive lock create them, and we hold it. */
static void remove_stale_tmp(int dirfd)
{
	int fd = dup(dirfd);
	struct dirent *d;
	DIR *dir;

	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((d = readdir(dir)))
		if (strncmp(d->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
			unlinkat(dirfd, d->d_name, 0);
	closedir(dir);
}

int vnb_ledger_commit(struct vnb_ledger *l, vnb_error_t *err)
{
	size_t len = 0;
	char *buf;
	int rc;

	if (!l) {
		errno = EINVAL;
		return vnb_errprintf(err, "no ledger to commit");
	}
	if (!l->writable) {
		errno = EBADF;
		return vnb_errprintf(err,
				     "%s: a snapshot from vnb_ledger_read "
				     "cannot be committed",
				     l->path);
	}
	if (!l->changed)
		return 0;
	buf = format(l, &len);
	if (!buf)
		return vnb_errprintf(err, "%s: out of memory", l->path);
	remove_stale_tmp(l->dirfd);
	rc = vnb_file_replace(l->dirfd, LEDGER_NAME, buf, len, 0644, err);
	free(buf);
	if (rc < 0)
		return vnb_errprefix(err, "%s", l->path);
	l->changed = false;
	return 0;
}
