#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int vnb_file_replace(int dirfd, const char *name, const void *buf, size_t len,
		     mode_t mode, vnb_error_t *err)
{
	char tmp[PATH_MAX];
	int fd = -1;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld", name, (long)getpid()) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return vnb_errprintf(err, "%s: name too long", name);
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return vnb_errprintf(err, "cannot create %s: %s", tmp,
				     strerror(errno));
	if (fchmod(fd, mode) < 0 || write_all(fd, buf, len) < 0 ||
	    fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail;
	if (fsync(dirfd) < 0)
		return vnb_errprintf(err, "cannot sync the directory of %s: %s",
				     name, strerror(errno));
	return 0;
fail : {
	int saved = errno;

	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return vnb_errprintf(err, "cannot write %s: %s", name, strerror(errno));
}
}

char *vnb_file_read(int dirfd, const char *name, size_t max, size_t *len,
		    vnb_error_t *err)
{
	char *buf = NULL;
	size_t size = 0, cap = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		vnb_errprintf(err, "cannot open %s: %s", name, strerror(errno));
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (size + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *nbuf;

			if (ncap > max + 1)
				ncap = max + 1;
			if (size + 1 >= ncap) {
				errno = EFBIG;
				vnb_errprintf(err,
					      "%s is larger than %zu bytes",
					      name, max);
				goto fail;
			}
			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				vnb_errprintf(err, "out of memory reading %s",
					      name);
				goto fail;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + size, cap - size - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			vnb_errprintf(err, "cannot read %s: %s", name,
				      strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		size += (size_t)n;
	}
	close(fd);
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return NULL;
	}
	buf[size] = '\0';
	if (len)
		*len = size;
	return buf;
fail : {
	int saved = errno;

	close(fd);
	free(buf);
	errno = saved;
	return NULL;
}
}

int vnb_mkdir_p(const char *path, mode_t mode, vnb_error_t *err)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return vnb_errprintf(err, "%s: path too long", path);
	}
	for (p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return vnb_errprintf(err,
						     "cannot create %s: %s",
						     buf, strerror(errno));
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int vnb_file_sweep(int dirfd, const char *name)
{
	char prefix[PATH_MAX];
	struct dirent *de;
	size_t plen;
	int fd, n = 0;
	DIR *d;

	if (snprintf(prefix, sizeof(prefix), ".%s.tmp.", name) >=
	    (int)sizeof(prefix))
		return 0;
	plen = strlen(prefix);
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		char *end;
		long pid;

		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		errno = 0;
		pid = strtol(de->d_name + plen, &end, 10);
		if (errno || *end || pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* its writer lives: not ours to touch */
		if (unlinkat(dirfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

unsigned vnb_file_count_seq(const char *dir, const char *prefix,
			    const char *suffix)
{
	char path[PATH_MAX];
	unsigned n = 0;

	for (;; n++) {
		int k = snprintf(path, sizeof(path), "%s/%s%u%s", dir, prefix,
				 n, suffix);

		if (k < 0 || (size_t)k >= sizeof(path) ||
		    access(path, F_OK) < 0)
			return n;
	}
}
