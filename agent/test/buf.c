/*
 * buf.c - the byte queue of the agent and vnb-exec: growth, compaction,
 * consumption, and flushing into a pipe that fills up.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "agent/buf.h"
#include "common/tap.h"

int main(void)
{
	struct vnb_buf b = {0};
	uint8_t data[100000], got[100000], *p;
	size_t i, total = 0;
	ssize_t n;
	int pfd[2];

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	ok(vnb_buf_len(&b) == 0, "a zeroed queue is empty");
	ok(vnb_buf_append(&b, data, 10) == 0 && vnb_buf_len(&b) == 10 &&
	       memcmp(vnb_buf_data(&b), data, 10) == 0,
	   "append");
	ok(vnb_buf_append(&b, data + 10, sizeof(data) - 10) == 0 &&
	       vnb_buf_len(&b) == sizeof(data) &&
	       memcmp(vnb_buf_data(&b), data, sizeof(data)) == 0,
	   "it grows and keeps the bytes");
	vnb_buf_consume(&b, 99990);
	ok(vnb_buf_len(&b) == 10 &&
	       memcmp(vnb_buf_data(&b), data + 99990, 10) == 0,
	   "consume takes from the front");
	p = vnb_buf_reserve(&b, b.cap - 5);
	ok(p && b.start == 0 && memcmp(b.p, data + 99990, 10) == 0,
	   "reserve moves what is left to the front instead of growing");
	memcpy(p, "abc", 3);
	vnb_buf_commit(&b, 3);
	ok(vnb_buf_len(&b) == 13 &&
	       memcmp(vnb_buf_data(&b) + 10, "abc", 3) == 0,
	   "commit adds the reserved bytes");
	vnb_buf_consume(&b, 13);
	ok(vnb_buf_len(&b) == 0 && b.start == 0 && b.end == 0,
	   "consuming everything empties it");
	vnb_buf_release(&b);
	ok(b.p == NULL && b.cap == 0, "release frees it");

	signal(SIGPIPE, SIG_IGN);
	/* flush into a non-blocking pipe: partial, then would block */
	if (pipe2(pfd, O_NONBLOCK) < 0)
		bail_out("pipe: %s", strerror(errno));
	fcntl(pfd[1], F_SETPIPE_SZ, 4096);
	vnb_buf_append(&b, data, sizeof(data));
	n = vnb_buf_flush(&b, pfd[1]);
	ok(n > 0 && (size_t)n < sizeof(data) &&
	       vnb_buf_len(&b) == sizeof(data) - (size_t)n,
	   "flush writes what the pipe takes (%zd) and keeps the rest", n);
	ok(vnb_buf_flush(&b, pfd[1]) == 0, "a full pipe: 0, no error");
	while (total < sizeof(data)) {
		ssize_t r = read(pfd[0], got + total, sizeof(got) - total);

		if (r > 0)
			total += (size_t)r;
		if (vnb_buf_flush(&b, pfd[1]) < 0)
			break;
	}
	ok(total == sizeof(data) && memcmp(got, data, sizeof(data)) == 0,
	   "what comes out of the pipe is the queue, in order");
	close(pfd[0]);
	vnb_buf_append(&b, data, 10);
	errno = 0;
	ok(vnb_buf_flush(&b, pfd[1]) < 0 && errno == EPIPE,
	   "a pipe without a reader: -1 EPIPE");
	close(pfd[1]);
	vnb_buf_release(&b);
	return done_testing();
}
