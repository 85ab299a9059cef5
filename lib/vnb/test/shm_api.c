/*
 * shm_api.c - two processes exchange checksummed frames through libvnb's
 * public API over the shm provider, without privilege (root drops to
 * nobody first); a process asleep in vnb_wait wakes when a frame comes.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/tap.h"
#include "vnb/vnb.h"

#define N 5000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct vnb_ep *open_named(const char *name, vnb_error_t *err)
{
	struct vnb_ep_attr a;

	memset(&a, 0, sizeof(a));
	a.prov = VNB_PROV_SHM;
	a.shm_name = name;
	a.job_tag = 77;
	a.nframes = 64;
	return vnb_ep_open(&a, err);
}

static uint32_t fill(uint8_t *b, uint32_t seq, uint32_t max)
{
	uint32_t len = 8 + (seq * 7919u) % (max - 7), k, sum = 0;

	memcpy(b, &seq, 4);
	for (k = 8; k < len; k++) {
		b[k] = (uint8_t)(seq * 131u + k);
		sum = sum * 33u + b[k];
	}
	memcpy(b + 4, &sum, 4);
	return len;
}

static bool good(const uint8_t *b, uint32_t len, uint32_t seq)
{
	uint32_t k, sum = 0, s, want;

	if (len < 8)
		return false;
	memcpy(&s, b, 4);
	memcpy(&want, b + 4, 4);
	for (k = 8; k < len; k++)
		sum = sum * 33u + b[k];
	return s == seq && sum == want;
}

/* Send N frames to peer and receive N from it; returns the count of bad
 * or missing frames. */
static uint32_t talk(struct vnb_ep *ep, const char *peer)
{
	struct vnb_addr dst;
	struct vnb_cqe c[16];
	uint8_t buf[2048];
	uint32_t sent = 0, got = 0, bad = 0;
	uint32_t max = (uint32_t)vnb_ep_max_payload(ep);
	double end = now() + 20;
	int n, i;

	if (max > sizeof(buf))
		max = sizeof(buf);
	memset(&dst, 0, sizeof(dst));
	snprintf(dst.shm, sizeof(dst.shm), "%s", peer);
	while ((sent < N || got < N) && now() < end) {
		if (sent < N) {
			uint32_t len = fill(buf, sent, max);

			if (vnb_post_send(ep, &dst, buf, len, sent) == 0)
				sent++;
			else if (errno != EAGAIN && errno != ECONNREFUSED)
				bad++;
		}
		n = vnb_poll_cq(ep, c, 16);
		for (i = 0; i < n; i++) {
			if (c[i].type != VNB_CQE_RECV)
				continue;
			if (!good(c[i].data, c[i].len, got))
				bad++;
			got++;
			vnb_post_recv(ep, c[i].frame, 0);
		}
	}
	return bad + (N - got);
}

/* Sleep in vnb_wait until a frame comes: 0 when one did, 1 on a
 * timeout of vnb_wait (no wake-up), 2 on an error. */
static int sleep_for_frame(struct vnb_ep *ep)
{
	struct vnb_cqe c[4];
	double end = now() + 20;
	int n, i;

	while (now() < end) {
		n = vnb_wait(ep, 10000);
		if (n == 0)
			return 1;
		if (n < 0)
			return 2;
		n = vnb_poll_cq(ep, c, 4);
		for (i = 0; i < n; i++) {
			if (c[i].type != VNB_CQE_RECV)
				continue;
			if (c[i].len == 4 && memcmp(c[i].data, "wake", 4) == 0)
				return 0;
			return 2;
		}
	}
	return 1;
}

/* From the parent, once the child had time to fall asleep (if it is not
 * asleep yet, the frame reaches it all the same). */
static void send_wake(struct vnb_ep *ep, const char *peer)
{
	struct timespec pause = {0, 200 * 1000 * 1000};
	struct vnb_addr dst;
	double end = now() + 10;

	nanosleep(&pause, NULL);
	memset(&dst, 0, sizeof(dst));
	snprintf(dst.shm, sizeof(dst.shm), "%s", peer);
	while (vnb_post_send(ep, &dst, "wake", 4, 0) < 0 && now() < end)
		;
}

int main(void)
{
	vnb_error_t err = {{0}};
	char n0[32], n1[32];
	struct vnb_ep *ep;
	int st;
	pid_t pid;

	if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
		bail_out("cannot drop to nobody");
	snprintf(n0, sizeof(n0), "vnbt-%d-p0", (int)getpid());
	snprintf(n1, sizeof(n1), "vnbt-%d-p1", (int)getpid());
	pid = fork();
	if (pid == 0) {
		ep = open_named(n1, &err);
		if (!ep)
			_exit(100);
		st = (int)talk(ep, n0);
		if (st == 0)
			st = 110 + sleep_for_frame(ep);
		vnb_ep_close(ep);
		_exit(st >= 110 ? st - 110 : st > 99 ? 99 : st);
	}
	ep = open_named(n0, &err);
	ok(ep != NULL, "open (%s)", ep ? "" : err.text);
	if (!ep) {
		kill(pid, SIGKILL);
		bail_out("no endpoint");
	}
	is_str(vnb_ep_mode(ep), "shm", "mode is shm");
	is_int(talk(ep, n1), 0,
	       "parent: %d frames each way, every checksum right, in order", N);
	is_int(vnb_wait(ep, 50), 0, "vnb_wait with nothing coming: timeout");
	send_wake(ep, n1);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "child: the same, then woken in vnb_wait by a frame (exit %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	vnb_ep_close(ep);
	return done_testing();
}
