/*
 * Tests of lib/vm/virt: the domain names, the libvirt ops against the
 * in-process test driver (test:///default, and test:///<fixture> for
 * domains the ops cannot make: shut off, not ours, too long), and the
 * wait for the agent's hello against a fake agent thread on a unix
 * socket.  No root, no libvirtd, no qemu.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/tap.h"
#include "common/util.h"
#include "proto/proto.h"
#include "vm/virt.h"

static const char *srcdir(void)
{
	const char *src = getenv("VNB_SRCDIR");

	if (!src)
		bail_out("VNB_SRCDIR is not set (run through make check)");
	return src;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ names */

static void test_names(void)
{
	static const struct {
		uint32_t jobid;
		const char *name;
	} good[] = {
	    {1, "vnb-1"},
	    {42, "vnb-42"},
	    {1000000, "vnb-1000000"},
	    {4294967295u, "vnb-4294967295"},
	};
	static const char *const bad[] = {
	    "vnb-",	"vnb-0",	  "vnb-01",
	    "vnb-1x",	"vnb--1",	  "vnb-+1",
	    "vnb- 1",	"vnb-4294967296", "vnb-99999999999",
	    "foo-1",	"VNB-1",	  "vnb1",
	    "",		"vnb-1 ",	  "xvnb-1",
	    "vnb-0x10",
	};
	char buf[VNB_VM_NAME_MAX];
	uint32_t id;
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(good); i++) {
		ok(vnb_vm_name(good[i].jobid, buf, sizeof(buf)) == 0 &&
		       strcmp(buf, good[i].name) == 0,
		   "name of job %u is %s", (unsigned)good[i].jobid,
		   good[i].name);
		id = 0;
		ok(vnb_vm_name_jobid(buf, &id) == 0 && id == good[i].jobid,
		   "%s is job %u", good[i].name, (unsigned)good[i].jobid);
	}
	ok(strlen("vnb-4294967295") < VNB_VM_NAME_MAX,
	   "the longest name fits VNB_VM_NAME_MAX");
	for (i = 0; i < VNB_ARRAY_SIZE(bad); i++) {
		id = 77;
		errno = 0;
		ok(vnb_vm_name_jobid(bad[i], &id) == -1 && errno == EINVAL &&
		       id == 77,
		   "'%s' is not a job's domain (EINVAL, jobid untouched)",
		   bad[i]);
	}
	errno = 0;
	ok(vnb_vm_name_jobid(NULL, &id) == -1 && errno == EINVAL,
	   "NULL name: EINVAL");

	strcpy(buf, "untouched");
	errno = 0;
	ok(vnb_vm_name(12345, buf, 9) == -1 && errno == ENOSPC &&
	       strcmp(buf, "untouched") == 0,
	   "vnb-12345 in 9 bytes: ENOSPC, buffer untouched");
	ok(vnb_vm_name(12345, buf, 10) == 0 && strcmp(buf, "vnb-12345") == 0,
	   "vnb-12345 in exactly 10 bytes");
}

/* ------------------------------------------------------ libvirt ops */

static const char *xml_of(const char *name, char *buf, size_t len)
{
	snprintf(buf, len,
		 "<domain type='test'>\n"
		 "  <name>%s</name>\n"
		 "  <memory unit='MiB'>64</memory>\n"
		 "  <vcpu>1</vcpu>\n"
		 "  <os><type>hvm</type></os>\n"
		 "</domain>\n",
		 name);
	return buf;
}

static bool list_is(void *ctx, const char *want, vnb_error_t *err)
{
	char(*names)[VNB_VM_NAME_MAX] = NULL;
	char got[512] = "";
	size_t n = 99, i;
	bool same;

	if (vnb_vm_libvirt_ops.list(ctx, &names, &n, err) < 0) {
		diag("list: %s", err->text);
		return false;
	}
	for (i = 0; i < n; i++) {
		strcat(got, i ? " " : "");
		strcat(got, names[i]);
	}
	free(names);
	same = strcmp(got, want) == 0;
	if (!same)
		diag("list: got '%s', want '%s'", got, want);
	return same;
}

static void test_ops_default(void)
{
	const struct vnb_vm_ops *ops = &vnb_vm_libvirt_ops;
	vnb_error_t err = {""};
	char xml[512];
	void *ctx;

	ok(ops->size == sizeof(struct vnb_vm_ops), "ops.size is set");
	ctx = vnb_vm_libvirt_open("test:///default", &err);
	if (!ctx)
		bail_out("cannot open test:///default: %s", err.text);

	ok(list_is(ctx, "", &err), "a fresh test:///default has none of ours");
	is_int(ops->running(ctx, "vnb-1", &err), 0, "vnb-1 does not run yet");
	ok(ops->start(ctx, "vnb-1", xml_of("vnb-1", xml, sizeof(xml)), &err) ==
	       0,
	   "start vnb-1");
	is_int(ops->running(ctx, "vnb-1", &err), 1, "vnb-1 runs");

	err.text[0] = '\0';
	errno = 0;
	ok(ops->start(ctx, "vnb-1", xml, &err) == -1 && errno == EEXIST,
	   "a second start of vnb-1: EEXIST");
	like(err.text, "vnb-1", "... the message names the domain");
	like(err.text, "stop it first", "... and says what to do");
	is_int(ops->running(ctx, "vnb-1", &err), 1, "... vnb-1 still runs");

	ok(ops->start(ctx, "vnb-22", xml_of("vnb-22", xml, sizeof(xml)),
		      &err) == 0,
	   "start vnb-22");
	ok(list_is(ctx, "vnb-1 vnb-22", &err),
	   "list: vnb-1 vnb-22, not libvirt's own 'test' domain");

	errno = 0;
	err.text[0] = '\0';
	ok(ops->start(ctx, "vnb-3", xml_of("vnb-4", xml, sizeof(xml)), &err) ==
		   -1 &&
	       errno == EINVAL,
	   "start vnb-3 with the XML of vnb-4: EINVAL");
	like(err.text, "<name>vnb-3</name>", "... the message says why");
	errno = 0;
	err.text[0] = '\0';
	ok(ops->start(ctx, "vnb-3",
		      "<domain type='test'><name>vnb-3</name><memory>x",
		      &err) == -1 &&
	       errno == EINVAL,
	   "start with broken XML: EINVAL");
	like(err.text, "cannot define domain vnb-3 on test:///default",
	     "... the message names the domain and URI");
	ok(list_is(ctx, "vnb-1 vnb-22", &err), "... and defines nothing");

	ok(ops->stop(ctx, "vnb-1", &err) == 0, "stop vnb-1");
	is_int(ops->running(ctx, "vnb-1", &err), 0, "vnb-1 no longer runs");
	ok(list_is(ctx, "vnb-22", &err), "... and is no longer defined");
	ok(ops->stop(ctx, "vnb-1", &err) == 0, "stop vnb-1 again: success");
	ok(ops->stop(ctx, "vnb-404", &err) == 0,
	   "stop of a domain that never was: success");
	ok(ops->start(ctx, "vnb-1", xml_of("vnb-1", xml, sizeof(xml)), &err) ==
	       0,
	   "vnb-1 starts again after its stop");
	ok(ops->stop(ctx, "vnb-1", &err) == 0 &&
	       ops->stop(ctx, "vnb-22", &err) == 0,
	   "stop both");
	ok(list_is(ctx, "", &err), "none left");
	vnb_vm_libvirt_close(ctx);

	/* every open of test:///default starts afresh */
	ctx = vnb_vm_libvirt_open("test:///default", &err);
	ok(ctx && list_is(ctx, "", &err), "a new connection starts afresh");
	errno = 1234;
	vnb_vm_libvirt_close(ctx);
	vnb_vm_libvirt_close(NULL);
	is_int(errno, 1234, "close (and close of NULL) keep errno");
}

static void test_ops_fixture(void)
{
	const struct vnb_vm_ops *ops = &vnb_vm_libvirt_ops;
	vnb_error_t err = {""};
	char uri[PATH_MAX + 16];
	void *ctx;

	snprintf(uri, sizeof(uri), "test://%s/lib/vm/test/node.xml", srcdir());
	ctx = vnb_vm_libvirt_open(uri, &err);
	if (!ctx)
		bail_out("cannot open %s: %s", uri, err.text);
	ok(list_is(ctx, "vnb-5 vnb-6", &err),
	   "list: only vnb-<n>, defined or running, none too long");
	is_int(ops->running(ctx, "vnb-5", &err), 0, "shut off vnb-5: 0");
	is_int(ops->running(ctx, "vnb-6", &err), 1, "running vnb-6: 1");
	is_int(ops->running(ctx, "other", &err), 1,
	       "running() answers for any name");
	ok(ops->stop(ctx, "vnb-5", &err) == 0,
	   "stop of shut off vnb-5 (with a managed save image) undefines it");
	ok(ops->stop(ctx, "vnb-6", &err) == 0, "stop of running vnb-6");
	ok(list_is(ctx, "", &err), "none of ours left");
	is_int(ops->running(ctx, "other", &err), 1,
	       "... and 'other' still runs");
	vnb_vm_libvirt_close(ctx);
}

static void test_open_bad(void)
{
	vnb_error_t err = {""};
	void *ctx;

	errno = 0;
	ctx = vnb_vm_libvirt_open("test:///nonexistent/vnb-node.xml", &err);
	ok(!ctx && errno == EINVAL, "open of a test URI without its file: "
				    "NULL, EINVAL");
	like(err.text, "test:///nonexistent/vnb-node.xml",
	     "... the message names the URI");
	like(err.text, "libvirtd", "... and says what to check");

	errno = 0;
	err.text[0] = '\0';
	ctx = vnb_vm_libvirt_open(
	    "qemu+unix:///system?socket=/nonexistent/vnb-libvirt-sock", &err);
	ok(!ctx && errno == ENOENT, "open with no daemon at the socket: "
				    "NULL, ENOENT");
	like(err.text, "/nonexistent/vnb-libvirt-sock",
	     "... the message has libvirt's reason");
	like(err.text, "check that libvirtd runs",
	     "... and says what to check");
	diag("%s", err.text);
}

/* ----------------------------------------------------- fake agent */

enum agent_mode {
	AGENT_HELLO, /* answer HELLO */
	AGENT_SILENT, /* accept, read, never answer */
	AGENT_GARBAGE, /* answer 32 bytes that are no message */
	AGENT_NO_VERSION, /* a HELLO with versions 7..9 */
	AGENT_ERROR, /* an ERROR message */
	AGENT_PING, /* PING before HELLO */
	AGENT_CLOSE_FIRST, /* close the first connection, then HELLO */
};

struct agent {
	char path[108];
	enum agent_mode mode;
	int listen_after_ms; /* the socket appears this late */
	int answer_after_ms; /* the answer comes this late */
	int stop[2]; /* the test writes here when done */
	pthread_t thread;
	/* results */
	struct vnb_hello host_hello;
	bool got_host_hello, got_error;
	int connections;
};

/* Read one message from fd into *h and buf (payload), within ms. */
static int read_msg(int fd, struct vnb_proto_reader *r, struct vnb_msg_hdr *h,
		    uint8_t *out, size_t cap, int ms)
{
	const uint8_t *payload;
	long long deadline = now_ms() + ms;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		size_t room;
		uint8_t *space;
		ssize_t n;
		int v = vnb_proto_reader_next(r, h, &payload, NULL);

		if (v < 0)
			return -1;
		if (v == 1) {
			if (h->len > cap)
				return -1;
			memcpy(out, payload, h->len);
			return 0;
		}
		if (poll(&p, 1, (int)(deadline - now_ms())) <= 0)
			return -1;
		space = vnb_proto_reader_space(r, &room);
		n = read(fd, space, room);
		if (n <= 0)
			return -1;
		vnb_proto_reader_commit(r, (size_t)n);
	}
}

static void send_hello(int fd, uint8_t vmin, uint8_t vmax)
{
	struct vnb_hello h = {.vmin = vmin, .vmax = vmax, .caps = VNB_CAP_EXEC};
	uint8_t buf[256];
	int n;

	snprintf(h.name, sizeof(h.name), "fake-agent 1.0");
	n = vnb_proto_encode_hello(buf, sizeof(buf), &h);
	if (n < 0 || write(fd, buf, (size_t)n) != n)
		diag("fake agent: cannot send hello");
}

static void wait_stop(struct agent *a, int ms)
{
	struct pollfd p = {.fd = a->stop[0], .events = POLLIN};

	poll(&p, 1, ms);
}

static void *agent_main(void *arg)
{
	struct agent *a = arg;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vnb_proto_reader *r = NULL;
	int lfd = -1, fd = -1;

	wait_stop(a, a->listen_after_ms);
	strcpy(sa.sun_path, a->path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4) < 0) {
		diag("fake agent: cannot listen on %s: %s", a->path,
		     strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = lfd, .events = POLLIN},
				      {.fd = a->stop[0], .events = POLLIN}};
		struct vnb_msg_hdr h;
		uint8_t payload[1024];

		if (poll(p, 2, 10000) <= 0 || p[1].revents)
			goto out;
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			goto out;
		a->connections++;
		vnb_proto_reader_destroy(r);
		r = vnb_proto_reader_create(4096);
		if (!r || read_msg(fd, r, &h, payload, sizeof(payload), 5000))
			goto out;
		if (h.type == VNB_MSG_HELLO &&
		    vnb_proto_decode_hello(payload, h.len, &a->host_hello,
					   NULL) == 0)
			a->got_host_hello = true;
		if (a->mode == AGENT_CLOSE_FIRST && a->connections == 1) {
			close(fd);
			fd = -1;
			continue;
		}
		break;
	}
	wait_stop(a, a->answer_after_ms);
	switch (a->mode) {
	case AGENT_HELLO:
	case AGENT_CLOSE_FIRST:
		send_hello(fd, 1, VNB_PROTO_VERSION + 3);
		break;
	case AGENT_SILENT:
		break;
	case AGENT_GARBAGE:
		if (write(fd, "GET / HTTP/1.0\r\nHost: vnb\r\n\r\n\r\n", 32) !=
		    32)
			diag("fake agent: short write");
		break;
	case AGENT_NO_VERSION:
		send_hello(fd, VNB_PROTO_VERSION + 6, VNB_PROTO_VERSION + 8);
		break;
	case AGENT_ERROR: {
		struct vnb_proto_error e = {.errnum = EPERM};
		uint8_t buf[512];
		int n;

		snprintf(e.text, sizeof(e.text), "agent is shutting down");
		n = vnb_proto_encode_error(buf, sizeof(buf), 0, &e);
		if (n < 0 || write(fd, buf, (size_t)n) != n)
			diag("fake agent: cannot send error");
		break;
	}
	case AGENT_PING: {
		uint8_t buf[64];
		int n =
		    vnb_proto_encode_empty(buf, sizeof(buf), VNB_MSG_PING, 0);

		if (n < 0 || write(fd, buf, (size_t)n) != n)
			diag("fake agent: cannot send ping");
		break;
	}
	}
	if (a->mode == AGENT_NO_VERSION) {
		struct vnb_msg_hdr h;
		uint8_t payload[1024];

		/* the host says why before it closes */
		if (read_msg(fd, r, &h, payload, sizeof(payload), 5000) == 0 &&
		    h.type == VNB_MSG_ERROR)
			a->got_error = true;
	}
	wait_stop(a, 10000);
out:
	vnb_proto_reader_destroy(r);
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	return NULL;
}

static char tmpdir[64];

static void agent_start(struct agent *a, enum agent_mode mode, int listen_ms,
			int answer_ms)
{
	static int seq;

	memset(a, 0, sizeof(*a));
	snprintf(a->path, sizeof(a->path), "%s/ctl.%d.sock", tmpdir, ++seq);
	a->mode = mode;
	a->listen_after_ms = listen_ms;
	a->answer_after_ms = answer_ms;
	if (pipe(a->stop) < 0 ||
	    pthread_create(&a->thread, NULL, agent_main, a) != 0)
		bail_out("cannot start the fake agent");
}

static void agent_stop(struct agent *a)
{
	if (write(a->stop[1], "x", 1) != 1)
		diag("cannot stop the fake agent");
	pthread_join(a->thread, NULL);
	close(a->stop[0]);
	close(a->stop[1]);
	unlink(a->path);
}

/* A fake ops whose running() says what the test wants. */
struct fake_vm {
	int running_calls;
	int stop_after; /* running() says 0 from this call on (0: never) */
	int fail_errno; /* running() fails with this (0: never) */
};

static int fake_running(void *ctx, const char *name, vnb_error_t *err)
{
	struct fake_vm *f = ctx;

	f->running_calls++;
	if (f->fail_errno) {
		errno = f->fail_errno;
		return vnb_errprintf(err, "cannot look up domain %s: gone away",
				     name);
	}
	return f->stop_after && f->running_calls >= f->stop_after ? 0 : 1;
}

static const struct vnb_vm_ops fake_ops = {
    .size = sizeof(struct vnb_vm_ops),
    .running = fake_running,
};

static void test_wait_agent(void)
{
	const char *console = "/run/vnic-bypass/job-9/console.log";
	struct fake_vm vm;
	struct vnb_hello hello;
	vnb_error_t err;
	struct agent a;
	long long t;
	int rc;

	/* answers at once */
	agent_start(&a, AGENT_HELLO, 0, 0);
	memset(&hello, 0, sizeof(hello));
	memset(&vm, 0, sizeof(vm));
	rc = vnb_vm_wait_agent(a.path, 5000, &fake_ops, &vm, "vnb-9", console,
			       &hello, &err);
	if (rc < 0)
		diag("%s", err.text);
	is_int(rc, 0, "an agent that answers at once");
	is_str(hello.name, "fake-agent 1.0", "... its hello is returned");
	ok(hello.vmin == 1 && hello.vmax == VNB_PROTO_VERSION + 3 &&
	       hello.caps == VNB_CAP_EXEC,
	   "... with its versions and capabilities");
	agent_stop(&a);
	ok(a.got_host_hello && a.host_hello.vmin == 1 &&
	       a.host_hello.vmax == VNB_PROTO_VERSION,
	   "... the host said hello first, with its versions");
	like(a.host_hello.name, "vnic-bypass", "... and its name");
	ok(vm.running_calls >= 1, "... running() was asked");

	/* answers late */
	agent_start(&a, AGENT_HELLO, 0, 700);
	memset(&vm, 0, sizeof(vm));
	rc = vnb_vm_wait_agent(a.path, 5000, &fake_ops, &vm, "vnb-9", console,
			       NULL, &err);
	if (rc < 0)
		diag("%s", err.text);
	is_int(rc, 0, "an agent that answers after 0.7 s (hello may be NULL)");
	ok(vm.running_calls >= 2,
	   "... running() was asked every ~250 ms "
	   "meanwhile (%d times)",
	   vm.running_calls);
	agent_stop(&a);

	/* the socket appears late (qemu not started yet) */
	agent_start(&a, AGENT_HELLO, 500, 0);
	rc = vnb_vm_wait_agent(a.path, 5000, NULL, NULL, "vnb-9", console,
			       &hello, &err);
	if (rc < 0)
		diag("%s", err.text);
	is_int(rc, 0, "the socket appears only after 0.5 s: still works");
	agent_stop(&a);

	/* qemu drops the first connection */
	agent_start(&a, AGENT_CLOSE_FIRST, 0, 0);
	rc = vnb_vm_wait_agent(a.path, 5000, NULL, NULL, "vnb-9", console,
			       &hello, &err);
	if (rc < 0)
		diag("%s", err.text);
	is_int(rc, 0, "a first connection closed before hello: reconnects");
	agent_stop(&a);
	is_int(a.connections, 2, "... on a second connection");

	/* never answers */
	agent_start(&a, AGENT_SILENT, 0, 0);
	t = now_ms();
	errno = 0;
	rc = vnb_vm_wait_agent(a.path, 600, NULL, NULL, "vnb-9", console,
			       &hello, &err);
	t = now_ms() - t;
	ok(rc == -1 && errno == ETIMEDOUT, "an agent that never answers: "
					   "ETIMEDOUT");
	ok(t >= 590 && t < 3000, "... at the deadline (%lld ms)", t);
	like(err.text, console, "... the message names the console log");
	like(err.text, "vnb-9", "... and the domain");
	diag("%s", err.text);
	agent_stop(&a);

	/* no socket, ever */
	errno = 0;
	err.text[0] = '\0';
	rc = vnb_vm_wait_agent("/nonexistent/vnb-ctl.sock", 300, NULL, NULL,
			       "vnb-9", NULL, &hello, &err);
	ok(rc == -1 && errno == ETIMEDOUT, "no socket at all: ETIMEDOUT");
	like(err.text, "/nonexistent/vnb-ctl.sock",
	     "... the message names the socket");

	/* garbage */
	agent_start(&a, AGENT_GARBAGE, 0, 0);
	errno = 0;
	rc = vnb_vm_wait_agent(a.path, 5000, NULL, NULL, "vnb-9", console,
			       &hello, &err);
	ok(rc == -1 && errno == EPROTO, "an agent that answers garbage: "
					"EPROTO");
	like(err.text, "garbage", "... %s", err.text);
	agent_stop(&a);

	/* no common version */
	agent_start(&a, AGENT_NO_VERSION, 0, 0);
	errno = 0;
	rc = vnb_vm_wait_agent(a.path, 5000, NULL, NULL, "vnb-9", console,
			       &hello, &err);
	ok(rc == -1 && errno == EPROTO, "an agent with no common protocol "
					"version: EPROTO");
	like(err.text, "vnb-9", "... %s", err.text);
	agent_stop(&a);
	ok(a.got_error, "... and the host told it so with an ERROR");

	/* an ERROR instead of a hello */
	agent_start(&a, AGENT_ERROR, 0, 0);
	errno = 0;
	rc = vnb_vm_wait_agent(a.path, 5000, NULL, NULL, "vnb-9", console,
			       &hello, &err);
	ok(rc == -1 && errno == EPROTO, "an agent that says ERROR: EPROTO");
	like(err.text, "agent is shutting down", "... with its words");
	agent_stop(&a);

	/* something else before the hello */
	agent_start(&a, AGENT_PING, 0, 0);
	errno = 0;
	rc = vnb_vm_wait_agent(a.path, 5000, NULL, NULL, "vnb-9", console,
			       &hello, &err);
	ok(rc == -1 && errno == EPROTO, "an agent that pings before its "
					"hello: EPROTO");
	like(err.text, "ping", "... %s", err.text);
	agent_stop(&a);

	/* the domain is not running: ECHILD at once */
	agent_start(&a, AGENT_SILENT, 0, 0);
	memset(&vm, 0, sizeof(vm));
	vm.stop_after = 1;
	t = now_ms();
	errno = 0;
	rc = vnb_vm_wait_agent(a.path, 10000, &fake_ops, &vm, "vnb-9", console,
			       &hello, &err);
	t = now_ms() - t;
	ok(rc == -1 && errno == ECHILD, "a domain that does not run: ECHILD");
	ok(t < 1000, "... at once (%lld ms), not at the deadline", t);
	like(err.text, "vnb-9", "... the message names the domain");
	like(err.text, console, "... and the console log");
	agent_stop(&a);

	/* the domain dies while we wait */
	agent_start(&a, AGENT_SILENT, 0, 0);
	memset(&vm, 0, sizeof(vm));
	vm.stop_after = 4;
	t = now_ms();
	errno = 0;
	rc = vnb_vm_wait_agent(a.path, 10000, &fake_ops, &vm, "vnb-9", console,
			       &hello, &err);
	t = now_ms() - t;
	ok(rc == -1 && errno == ECHILD && vm.running_calls == 4,
	   "a domain that stops while waiting: ECHILD on the 4th look");
	ok(t >= 600 && t < 3000, "... after about 0.75 s (%lld ms)", t);
	agent_stop(&a);

	/* running() itself fails */
	memset(&vm, 0, sizeof(vm));
	vm.fail_errno = ECONNRESET;
	errno = 0;
	err.text[0] = '\0';
	rc = vnb_vm_wait_agent("/nonexistent/vnb-ctl.sock", 5000, &fake_ops,
			       &vm, "vnb-9", console, &hello, &err);
	ok(rc == -1 && errno == ECONNRESET,
	   "running() fails: its errno is passed on");
	like(err.text, "gone away", "... with its message");

	/* bad arguments */
	{
		char longpath[200];

		memset(longpath, 'x', sizeof(longpath) - 1);
		longpath[sizeof(longpath) - 1] = '\0';
		errno = 0;
		rc = vnb_vm_wait_agent(longpath, 100, NULL, NULL, "vnb-9", NULL,
				       &hello, &err);
		ok(rc == -1 && errno == EINVAL,
		   "a socket path too long for sun_path: EINVAL");
		errno = 0;
		rc = vnb_vm_wait_agent("", 100, NULL, NULL, "vnb-9", NULL,
				       &hello, NULL);
		ok(rc == -1 && errno == EINVAL, "an empty path: EINVAL");
	}
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/vnb-virt.XXXXXX",
		 tmp && strlen(tmp) < 30 ? tmp : "/tmp");
	if (!mkdtemp(tmpdir))
		bail_out("cannot make a temporary directory: %s",
			 strerror(errno));
	test_names();
	test_ops_default();
	test_ops_fixture();
	test_open_bad();
	test_wait_agent();
	rmdir(tmpdir);
	return done_testing();
}
