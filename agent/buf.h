/*
 * buf.h - a byte queue for the agent and vnb-exec: bytes are appended at
 * the end and consumed from the start; it grows on demand.  Callers bound
 * what they queue (they stop reading their sources past a limit), so the
 * queue never grows past what they allow.
 *
 * The caller owns the struct (zero-initialised is an empty queue) and
 * releases its memory with vnb_buf_release().
 */
#ifndef VNB_AGENT_BUF_H
#define VNB_AGENT_BUF_H

#include <stddef.h>
#include <stdint.h>

struct vnb_buf {
	uint8_t *p;
	size_t start, end, cap; /* queued bytes are p[start..end) */
};

/* Room for n more bytes at the end: returns where to put them (then say
 * how many with vnb_buf_commit), or NULL with ENOMEM. */
uint8_t *vnb_buf_reserve(struct vnb_buf *b, size_t n);
void vnb_buf_commit(struct vnb_buf *b, size_t n);
/* Append n bytes; -1 with ENOMEM. */
int vnb_buf_append(struct vnb_buf *b, const void *data, size_t n);

static inline size_t vnb_buf_len(const struct vnb_buf *b)
{
	return b->end - b->start;
}

static inline const uint8_t *vnb_buf_data(const struct vnb_buf *b)
{
	return b->p + b->start;
}

void vnb_buf_consume(struct vnb_buf *b, size_t n);
/* Empty the queue, keeping its memory. */
void vnb_buf_clear(struct vnb_buf *b);
/* Free the memory; the queue is empty and usable again. */
void vnb_buf_release(struct vnb_buf *b);

/*
 * Write as much of the queue to fd as it takes without blocking (fd is
 * O_NONBLOCK, or poll said POLLOUT) and consume it.  Returns the number of
 * bytes written (0 when fd would block), or -1 with errno (EPIPE, ...).
 */
ssize_t vnb_buf_flush(struct vnb_buf *b, int fd);

/* Write all of data to fd, waiting in poll() when fd is non-blocking and
 * full, retrying on EINTR.  0, or -1 with errno. */
int vnb_write_all(int fd, const void *data, size_t len);

#endif
