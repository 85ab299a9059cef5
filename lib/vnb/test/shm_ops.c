/*
 * shm_ops.c - the shm provider through its ops table, without privilege
 * (root drops to nobody first): names, a full ring is EAGAIN and drains,
 * a missing peer is ECONNREFUSED, a live name is EBUSY, a crashed owner's
 * segment is reclaimed, close removes the segment.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/tap.h"
#include "vnb/prov.h"

static const struct vnb_prov_ops *ops = &vnb_prov_shm;

static char prefix[24];

static void name_of(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "%s-%s", prefix, what);
}

static int open_ep(struct vnb_ep *ep, const char *what, uint32_t nframes,
		   uint32_t frame_size, vnb_error_t *err)
{
	static char names[8][32];
	static int next;
	char *n = names[next++ % 8];

	memset(ep, 0, sizeof(*ep));
	name_of(n, 32, what);
	ep->attr.shm_name = n;
	ep->attr.nframes = nframes;
	ep->attr.frame_size = frame_size;
	ep->attr.queue = 3;
	ep->ops = ops;
	return ops->open(ep, err);
}

static bool segment_exists(const char *what)
{
	char n[40];
	int fd;

	n[0] = '/';
	name_of(n + 1, sizeof(n) - 1, what);
	fd = shm_open(n, O_RDONLY, 0);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static int send_to(struct vnb_ep *ep, const struct vnb_ep *to, uint32_t v,
		   uint32_t len)
{
	struct vnb_addr dst;
	uint8_t *f;
	uint32_t id;

	memset(&dst, 0, sizeof(dst));
	memcpy(dst.shm, to->self.shm, sizeof(dst.shm));
	f = ops->tx_frame(ep, &id);
	if (!f) {
		errno = ENOBUFS;
		return -1;
	}
	memset(f, 0, len);
	memcpy(f, &v, sizeof(v));
	return ops->tx_post(ep, id, len, &dst, v);
}

static void reap_all(struct vnb_ep *ep)
{
	uint64_t ctx[16];

	while (ops->tx_reap(ep, ctx, 16) > 0)
		;
}

static void test_names(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ep ep;

	memset(&ep, 0, sizeof(ep));
	ep.attr.nframes = 8;
	ep.attr.frame_size = 256;
	ep.attr.job_tag = 0xabc;
	ep.attr.queue = 2;
	ep.ops = ops;
	ok(ops->open(&ep, &err) == 0, "open with a derived name (%s)",
	   err.text);
	is_str(ep.self.shm, "vnb-00000abc-q2", "derived from job and queue");
	is_str(ep.mode, "shm", "mode is shm");
	ok(ops->fd(&ep) >= 0, "fd: the wake-up socket");
	ops->close(&ep);

	ep.attr.shm_name = "/a/b";
	ok(ops->open(&ep, &err) < 0 && errno == EINVAL,
	   "a name with a '/' inside: EINVAL");
	like(err.text, "no '/'", "... and says why");
	ep.attr.shm_name = "0123456789012345678901234567890123";
	ok(ops->open(&ep, &err) < 0 && errno == EINVAL,
	   "a name too long: EINVAL");
}

static void test_ring(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ep a, b, gone;
	uint8_t *data;
	uint32_t len, id, v, i;
	int n;

	ok(open_ep(&a, "a", 8, 256, &err) == 0, "open a (%s)", err.text);
	ok(open_ep(&b, "b", 16, 256, &err) == 0, "open b (%s)", err.text);
	ok(segment_exists("a"), "a's segment exists");
	/* a has 4 receive slots: b fills them. */
	for (i = 0, n = 0; i < 6; i++)
		if (send_to(&b, &a, i, 64 + i) == 0)
			n++;
	is_int(n, 4, "4 frames fit in a's ring of 4 slots");
	ok(send_to(&b, &a, 99, 64) < 0 && errno == EAGAIN,
	   "the next send: EAGAIN");
	reap_all(&b);
	ok(ops->rx_next(&a, &data, &len, &id) == 1, "a receives");
	memcpy(&v, data, 4);
	ok(v == 0 && len == 64, "the first frame, whole (v %u len %u)", v, len);
	ok(send_to(&b, &a, 98, 64) < 0 && errno == EAGAIN,
	   "still EAGAIN while a holds the frame");
	ok(ops->rx_post(&a, id) == 0, "a posts the frame back");
	ok(ops->rx_post(&a, id) < 0 && errno == EINVAL,
	   "posting it twice: EINVAL");
	ok(send_to(&b, &a, 4, 68) == 0, "then b can send again");
	for (i = 1; i <= 4; i++) {
		if (ops->rx_next(&a, &data, &len, &id) != 1)
			break;
		memcpy(&v, data, 4);
		if (v != i || len != 64 + i)
			break;
		ops->rx_post(&a, id);
	}
	is_int(i, 5, "the rest arrives in order and whole");
	ok(ops->rx_next(&a, &data, &len, &id) == 0, "then a's ring is empty");

	ok(send_to(&a, &b, 1, 257) < 0 && errno == EMSGSIZE,
	   "a frame larger than the frame size: EMSGSIZE");
	memset(&gone, 0, sizeof(gone));
	snprintf(gone.self.shm, sizeof(gone.self.shm), "%s-none", prefix);
	ok(send_to(&a, &gone, 1, 64) < 0 && errno == ECONNREFUSED,
	   "a peer without a segment: ECONNREFUSED");

	ok(open_ep(&gone, "a", 8, 256, &err) < 0 && errno == EBUSY,
	   "a second endpoint with a's name: EBUSY");
	like(err.text, "in use by process", "... and says by whom");

	/* a goes away and comes back: b's cached mapping follows. */
	ops->close(&a);
	ok(!segment_exists("a"), "close removes a's segment");
	ok(send_to(&b, &a, 5, 64) < 0 && errno == ECONNREFUSED,
	   "sending to a closed peer: ECONNREFUSED");
	ok(open_ep(&a, "a", 8, 256, &err) == 0, "a reopens");
	ok(send_to(&b, &a, 6, 64) == 0, "b sends to the new a");
	ok(ops->rx_next(&a, &data, &len, &id) == 1 &&
	       memcmp(data, &(uint32_t){6}, 4) == 0,
	   "the new a receives it");
	reap_all(&b);
	ops->close(&a);
	ops->close(&b);
}

static void test_crash(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ep ep;
	pid_t pid;
	int st;

	pid = fork();
	if (pid == 0) {
		if (open_ep(&ep, "crash", 8, 256, &err) < 0)
			_exit(1);
		kill(getpid(), SIGKILL); /* a crash: the segment stays */
	}
	waitpid(pid, &st, 0);
	ok(WIFSIGNALED(st) && segment_exists("crash"),
	   "a process that dies without close leaves its segment");
	ok(open_ep(&ep, "crash", 8, 256, &err) == 0,
	   "the same name opens again: the dead owner's segment is "
	   "reclaimed (%s)",
	   err.text);
	ops->close(&ep);
	ok(!segment_exists("crash"), "and close removes it");
}

int main(void)
{
	if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
		bail_out("cannot drop to nobody");
	snprintf(prefix, sizeof(prefix), "vnbt-%d", (int)getpid());
	test_names();
	test_ring();
	test_crash();
	return done_testing();
}
