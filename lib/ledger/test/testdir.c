#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tap.h"
#include "ledger/test/testdir.h"

void testdir_make(char *buf, unsigned long size, const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(buf, size, "%s/vnb-ledger-%s-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", tag);
	if (!mkdtemp(buf))
		bail_out("mkdtemp %s: %s", buf, strerror(errno));
}

void testdir_remove(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	char path[4096];

	if (!dp)
		return;
	while ((d = readdir(dp))) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		unlink(path);
	}
	closedir(dp);
	rmdir(dir);
}

const char *testdir_slurp(const char *dir, const char *name)
{
	static char buf[65536];
	char path[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

void testdir_put(const char *dir, const char *name, const char *content)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0)
		bail_out("cannot write %s", path);
}

unsigned long testdir_inode(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) < 0 ? 0 : (unsigned long)st.st_ino;
}

int testdir_count(const char *dir, const char *prefix)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (!dp)
		return -1;
	while ((d = readdir(dp)))
		if (strncmp(d->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(dp);
	return n;
}

bool testdir_slow(void)
{
	const char *v = getenv("VNB_VALGRIND");
	const char *pre = getenv("LD_PRELOAD");

	return (v && *v && strcmp(v, "0") != 0) ||
	       (pre && strstr(pre, "valgrind"));
}

void testdir_ids(char (*ids)[VNB_VNIC_ID_MAX], int n, const char *prefix)
{
	int i;

	for (i = 0; i < n; i++)
		snprintf(ids[i], VNB_VNIC_ID_MAX, "%s%d", prefix, i);
}

static struct violations {
	atomic_ulong count;
	atomic_int taken;
	char first[512];
} * vio;

void *testdir_shared(unsigned long size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		bail_out("mmap: %s", strerror(errno));
	memset(p, 0, size);
	return p;
}

void testdir_violations_init(void)
{
	vio = testdir_shared(sizeof(*vio));
}

void testdir_violation(const char *fmt, ...)
{
	int expected = 0;
	va_list ap;

	atomic_fetch_add(&vio->count, 1);
	if (atomic_compare_exchange_strong(&vio->taken, &expected, 1)) {
		va_start(ap, fmt);
		vsnprintf(vio->first, sizeof(vio->first), fmt, ap);
		va_end(ap);
	}
}

unsigned long testdir_violations(void)
{
	return atomic_load(&vio->count);
}

const char *testdir_violation_first(void)
{
	return vio->first;
}
