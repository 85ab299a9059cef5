#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "agent/buf.h"

uint8_t *vnb_buf_reserve(struct vnb_buf *b, size_t n)
{
	size_t len = vnb_buf_len(b), cap;
	uint8_t *p;

	if (b->cap - b->end >= n)
		return b->p + b->end;
	if (b->start > 0) {
		memmove(b->p, b->p + b->start, len);
		b->start = 0;
		b->end = len;
		if (b->cap - b->end >= n)
			return b->p + b->end;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap - len < n) {
		if (cap > SIZE_MAX / 2) {
			errno = ENOMEM;
			return NULL;
		}
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p)
		return NULL;
	b->p = p;
	b->cap = cap;
	return b->p + b->end;
}

void vnb_buf_commit(struct vnb_buf *b, size_t n)
{
	b->end += n;
}

int vnb_buf_append(struct vnb_buf *b, const void *data, size_t n)
{
	uint8_t *p = vnb_buf_reserve(b, n);

	if (!p)
		return -1;
	if (n)
		memcpy(p, data, n);
	b->end += n;
	return 0;
}

void vnb_buf_consume(struct vnb_buf *b, size_t n)
{
	b->start += n;
	if (b->start == b->end)
		b->start = b->end = 0;
}

void vnb_buf_clear(struct vnb_buf *b)
{
	b->start = b->end = 0;
}

void vnb_buf_release(struct vnb_buf *b)
{
	int saved = errno;

	free(b->p);
	memset(b, 0, sizeof(*b));
	errno = saved;
}

ssize_t vnb_buf_flush(struct vnb_buf *b, int fd)
{
	size_t done = 0;

	while (vnb_buf_len(b) > 0) {
		ssize_t n = write(fd, vnb_buf_data(b), vnb_buf_len(b));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		vnb_buf_consume(b, (size_t)n);
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int vnb_write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			struct pollfd pfd = {fd, POLLOUT, 0};

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -1;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
