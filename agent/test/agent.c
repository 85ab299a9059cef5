/*
 * agent.c - vnb-agent and vnb-exec end to end, without a VM: fakeqemu
 * relays the channels' sockets as qemu would, the agent runs on the host
 * as this user, and the tasks are taskhelper.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/test/harness.h"
#include "common/tap.h"

static struct h_vm vm;
/* As root the agent needs --allow-root to run this test's tasks. */
static const char *const *agent_args;
static const char *const allow_root[] = {"--allow-root", NULL};
static uint8_t buf[VNB_PROTO_HDR_LEN + 65536];

#define H(...)                                                                 \
	(const char *const[])                                                  \
	{                                                                      \
		vm.helper, __VA_ARGS__, NULL                                   \
	}

static bool exited_with(int st, int code)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == code;
}

static bool killed_by(int st, int sig)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == sig;
}

static void show(const struct h_proc *p)
{
	diag("status 0x%x; stdout: %.300s", (unsigned)p->status, p->o.head);
	diag("stderr: %.600s", p->e.head);
}

static void test_ctl(void)
{
	struct vnb_proto_reader *rd = vnb_proto_reader_create(0);
	char path[600];
	struct vnb_hello hi;
	struct vnb_msg_hdr h;
	const uint8_t *p;
	char *argv[] = {"true", NULL};
	struct vnb_exec e = {getuid(), getgid(), "/", argv, 1, argv + 1, 0};
	int fd, n;

	snprintf(path, sizeof(path), "%s/ctl.sock", vm.run);
	fd = h_client_connect(path);
	ok(h_client_hello(fd, rd, &hi), "ctl: the agent answers HELLO");
	is_int(hi.caps, VNB_CAP_EXEC | VNB_CAP_SIGNAL | VNB_CAP_PMIX,
	       "ctl: it can run tasks, signal them and serve PMIx");
	like(hi.name, "vnb-agent ", "ctl: it says its name: %s", hi.name);
	n = vnb_proto_encode_empty(buf, sizeof(buf), VNB_MSG_PING, 0);
	ok(h_client_send(fd, buf, n) &&
	       h_client_recv(fd, rd, &h, &p, 30) == 1 && h.type == VNB_MSG_PONG,
	   "ctl: PING gets PONG");
	n = vnb_proto_encode_exec(buf, sizeof(buf), 1, &e);
	ok(h_client_send(fd, buf, n) &&
	       h_client_recv(fd, rd, &h, &p, 30) == 1 &&
	       h.type == VNB_MSG_ERROR,
	   "ctl: EXEC on the control channel is an ERROR");
	close(fd);
	vnb_proto_reader_destroy(rd);
}

static void test_exit_codes(void)
{
	static const int codes[] = {0, 1, 42};
	struct h_proc p;
	char c[8];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(c, sizeof(c), "%d", codes[i]);
		h_run(&p, &vm, H("exit", c));
		if (!ok(exited_with(p.status, codes[i]),
			"a task's exit status %d is vnb-exec's", codes[i]))
			show(&p);
	}
}

static void test_signals(void)
{
	static const int sigs[] = {SIGKILL, SIGUSR1};
	struct h_proc p;
	char c[8];
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(c, sizeof(c), "%d", sigs[i]);
		h_run(&p, &vm, H("raise", c));
		if (!ok(killed_by(p.status, sigs[i]),
			"a task killed by %s kills vnb-exec with it",
			strsignal(sigs[i])))
			show(&p);
	}

	h_exec_start(&p, &vm, -1, -1, NULL, H("waitsig"));
	ok(h_wait_output(&p, "ready", 30), "waitsig task is ready");
	kill(p.pid, SIGTERM);
	h_finish(&p, 60);
	if (!ok(exited_with(p.status, 3) && strstr(p.o.head, "got 15"),
		"SIGTERM to vnb-exec reaches the task"))
		show(&p);

	h_exec_start(&p, &vm, -1, -1, NULL, H("sleep"));
	ok(h_wait_output(&p, "ready", 30), "sleeping task is ready");
	kill(p.pid, SIGINT);
	h_finish(&p, 60);
	if (!ok(killed_by(p.status, SIGINT),
		"SIGINT to vnb-exec kills the task, and vnb-exec with it"))
		show(&p);
}

static void test_stdin(void)
{
	const uint64_t n = 8u << 20;
	char sz[32];
	struct h_proc p;
	int pfd[2];
	pid_t w;

	/* a writer child feeds the stream into vnb-exec's stdin */
	if (pipe(pfd) < 0)
		bail_out("pipe: %s", strerror(errno));
	w = fork();
	if (w == 0) {
		uint64_t off = 0;

		close(pfd[0]);
		while (off < n) {
			stream_fill(7, off, buf, 65536);
			if (write(pfd[1], buf, 65536) != 65536)
				_exit(1);
			off += 65536;
		}
		_exit(0);
	}
	close(pfd[1]);
	snprintf(sz, sizeof(sz), "%llu", (unsigned long long)n);
	h_exec_start(&p, &vm, pfd[0], -1, NULL, H("check", "7", sz));
	close(pfd[0]);
	h_finish(&p, 120);
	waitpid(w, NULL, 0);
	if (!ok(exited_with(p.status, 0) && strstr(p.o.head, "ok 8388608"),
		"8 MiB of stdin reach the task whole and in order"))
		show(&p);

	h_exec_start(&p, &vm, -1, -1, NULL, H("check", "7", "0"));
	h_finish(&p, 60);
	if (!ok(exited_with(p.status, 0) && strstr(p.o.head, "ok 0"),
		"stdin /dev/null: the task reads EOF"))
		show(&p);

	h_exec_start(&p, &vm, -2, -1, NULL, H("check", "7", "0"));
	h_finish(&p, 60);
	if (!ok(exited_with(p.status, 0) && strstr(p.o.head, "ok 0"),
		"stdin closed: the task reads EOF"))
		show(&p);
}

static void test_output(void)
{
	struct h_proc p;

	h_exec_start(&p, &vm, -1, -1, NULL, H("gen", "3", "3000000"));
	p.o.checking = true;
	p.o.chk.seed = 3;
	h_finish(&p, 60);
	if (!ok(exited_with(p.status, 0) && p.o.n == 3000000 && !p.o.chk.bad,
		"3 MB of stdout arrive whole and in order (%zu bytes)", p.o.n))
		show(&p);
}

static void test_env_cwd(void)
{
	char cwd[4096], host[256] = "", want[300];
	struct h_proc p;

	h_run(&p, &vm, H("env", "VNB_IN_VM"));
	is_str(p.o.head, "1\n", "the task has VNB_IN_VM=1");
	gethostname(host, sizeof(host) - 1);
	snprintf(want, sizeof(want), "%s\n", host);
	h_run(&p, &vm, H("env", "VNB_HOST"));
	is_str(p.o.head, want, "the task has VNB_HOST=<the host>");
	setenv("VNB_AGENT_TEST", "x y", 1);
	h_run(&p, &vm, H("env", "VNB_AGENT_TEST"));
	is_str(p.o.head, "x y\n", "the task has vnb-exec's environment");
	if (!getcwd(cwd, sizeof(cwd) - 1))
		bail_out("getcwd: %s", strerror(errno));
	strcat(cwd, "\n");
	h_run(&p, &vm, H("pwd"));
	is_str(p.o.head, cwd, "the task runs in vnb-exec's cwd");
}

/* EXEC through a bare client; collects stdout, stderr and the end. */
struct bare {
	char out[4096], err[4096];
	int type; /* EXIT or ERROR */
	struct vnb_exit x;
	struct vnb_proto_error pe;
};

static bool bare_exec(struct vnb_exec *e, struct bare *b)
{
	struct vnb_proto_reader *rd = vnb_proto_reader_create(0);
	vnb_error_t err = {{0}};
	struct vnb_hello hi;
	struct vnb_msg_hdr h;
	const uint8_t *p;
	char path[600];
	bool done = false;
	int fd, n;

	memset(b, 0, sizeof(*b));
	snprintf(path, sizeof(path), "%s/task.0.sock", vm.run);
	fd = h_client_connect(path);
	n = vnb_proto_encode_exec(buf, sizeof(buf), 5, e);
	if (h_client_hello(fd, rd, &hi) && h_client_send(fd, buf, n)) {
		n = vnb_proto_encode_data(buf, sizeof(buf), VNB_MSG_STDIN, 5,
					  NULL, 0);
		h_client_send(fd, buf, n);
		while (!done && h_client_recv(fd, rd, &h, &p, 30) == 1) {
			char *d = h.type == VNB_MSG_STDOUT ? b->out : b->err;
			size_t l = strlen(d);

			switch (h.type) {
			case VNB_MSG_STDOUT:
			case VNB_MSG_STDERR:
				if (l + h.len < sizeof(b->out)) {
					memcpy(d + l, p, h.len);
					d[l + h.len] = '\0';
				}
				break;
			case VNB_MSG_EXIT:
				done = vnb_proto_decode_exit(p, h.len, &b->x,
							     &err) == 0;
				b->type = h.type;
				break;
			case VNB_MSG_ERROR:
				done = vnb_proto_decode_error(p, h.len, &b->pe,
							      &err) == 0;
				b->type = h.type;
				break;
			}
		}
	}
	close(fd);
	vnb_proto_reader_destroy(rd);
	return done;
}

static void test_cwd_missing(void)
{
	char *argv[] = {vm.helper, "pwd", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	struct vnb_exec e = {getuid(), getgid(), "/nonexistent/vnb-agent-test",
			     argv,     2,	 envp,
			     1};
	struct bare b;

	ok(bare_exec(&e, &b) && b.type == VNB_MSG_EXIT && !b.x.signaled &&
	       b.x.code == 0,
	   "a cwd missing in the VM: the task runs anyway");
	is_str(b.out, "/\n", "... in /");
	is_str(b.err,
	       "vnic-bypass: cwd /nonexistent/vnb-agent-test does not exist "
	       "in the VM; running in /\n",
	       "... and says so on its stderr");
}

static void test_exec_missing(void)
{
	struct h_proc p;

	h_run(&p, &vm, (const char *const[]){"/nonexistent/prog", NULL});
	ok(exited_with(p.status, 127), "a missing program: status 127");
	like(p.e.head,
	     "vnic-bypass: cannot run '/nonexistent/prog' in the VM: No "
	     "such file or directory",
	     "... and a message on stderr");
	h_run(&p, &vm, (const char *const[]){"vnb-no-such-command", NULL});
	if (!ok(exited_with(p.status, 127) &&
		    strstr(p.e.head,
			   "cannot run 'vnb-no-such-command' in the VM"),
		"a command not in PATH: status 127 and a message"))
		show(&p);
	h_run(&p, &vm, (const char *const[]){"/", NULL});
	ok(exited_with(p.status, 126), "a directory: status 126");
}

static void test_ids(void)
{
	char *argv[] = {vm.helper, "ids", NULL};
	char *envp[] = {NULL};
	struct vnb_exec e = {0, 0, "/", argv, 2, envp, 0};
	struct h_proc p;
	struct bare b;

	if (getuid() != 0) {
		ok(bare_exec(&e, &b) && b.type == VNB_MSG_ERROR &&
		       b.pe.errnum == EPERM &&
		       strstr(b.pe.text, "--allow-root"),
		   "uid 0 is refused without --allow-root: %s", b.pe.text);
		e.uid = getuid() + 1;
		e.gid = getgid();
		ok(bare_exec(&e, &b) && b.type == VNB_MSG_ERROR &&
		       b.pe.errnum == EPERM &&
		       strstr(b.pe.text, "Operation not permitted"),
		   "another uid than the agent's (not root): a clear error: "
		   "%s",
		   b.pe.text);
		ok(true, "# SKIP as root: vnb-exec as root is refused "
			 "(this test does not run as root)");
		ok(true, "# SKIP as root: tasks as another uid (not root)");
		ok(true, "# SKIP as root: --allow-root (not root)");
		return;
	}
	/* as root */
	h_vm_restart_agent(&vm, NULL);
	ok(bare_exec(&e, &b) && b.type == VNB_MSG_ERROR &&
	       b.pe.errnum == EPERM && strstr(b.pe.text, "--allow-root"),
	   "uid 0 is refused without --allow-root: %s", b.pe.text);
	h_run(&p, &vm, H("ids"));
	if (!ok(exited_with(p.status, 1) && strstr(p.e.head, "--allow-root"),
		"as root: vnb-exec as root is refused without --allow-root"))
		show(&p);
	e.uid = 65534;
	e.gid = 65534;
	ok(bare_exec(&e, &b) && b.type == VNB_MSG_EXIT &&
	       strcmp(b.out, "65534 65534\n") == 0,
	   "as root: the task runs as the uid and gid of EXEC");
	h_vm_restart_agent(&vm, agent_args);
	h_run(&p, &vm, H("ids"));
	is_str(p.o.head, "0 0\n", "as root with --allow-root: root tasks");
}

static void test_protocol_error(void)
{
	struct vnb_proto_reader *rd = vnb_proto_reader_create(0);
	struct vnb_hello hi;
	struct vnb_msg_hdr h;
	const uint8_t *p;
	char path[600];
	struct h_proc q;
	int fd;

	snprintf(path, sizeof(path), "%s/task.0.sock", vm.run);
	fd = h_client_connect(path);
	ok(h_client_hello(fd, rd, &hi) &&
	       h_client_send(fd, (const uint8_t *)"garbage garbage!!", 17) &&
	       h_client_recv(fd, rd, &h, &p, 30) == 1 &&
	       h.type == VNB_MSG_ERROR,
	   "garbage on a task channel gets an ERROR");
	close(fd);
	vnb_proto_reader_destroy(rd);
	h_exec_start(&q, &vm, -1, 0, NULL, H("exit", "9"));
	h_finish(&q, 60);
	ok(exited_with(q.status, 9),
	   "... and the channel serves the next host");
}

static bool gone(void *arg)
{
	return kill(*(pid_t *)arg, 0) < 0 && errno == ESRCH;
}

/* A HELLO in the middle of a task is a new host that the agent did not
 * see come (a port's host can go and come back between two reads): the
 * old task is killed and the new host is answered. */
static void test_hello_again(void)
{
	struct vnb_proto_reader *rd = vnb_proto_reader_create(0);
	char *argv[] = {vm.helper, "sleep", NULL};
	char *envp[] = {NULL};
	struct vnb_exec e = {getuid(), getgid(), "/", argv, 2, envp, 0};
	struct vnb_hello hi;
	struct vnb_msg_hdr h;
	const uint8_t *p;
	char path[600], *r;
	pid_t task = 0;
	int fd, n, got;

	snprintf(path, sizeof(path), "%s/task.1.sock", vm.run);
	fd = h_client_connect(path);
	n = vnb_proto_encode_exec(buf, sizeof(buf), 3, &e);
	ok(h_client_hello(fd, rd, &hi) && h_client_send(fd, buf, n) &&
	       (got = h_client_recv(fd, rd, &h, &p, 30)) == 1 &&
	       h.type == VNB_MSG_STDOUT && h.len < 64,
	   "a task runs for a bare client");
	if (h.type == VNB_MSG_STDOUT && h.len < 64) {
		char line[64];

		memcpy(line, p, h.len);
		line[h.len] = '\0';
		r = strstr(line, "ready ");
		if (r)
			task = (pid_t)atoi(r + 6);
	}
	ok(task > 0 && h_client_hello(fd, rd, &hi),
	   "a second HELLO on the channel is answered");
	ok(task > 0 && h_until(gone, &task, 30),
	   "... and the task of the host before is killed");
	close(fd);
	vnb_proto_reader_destroy(rd);
}

static void test_disconnect(void)
{
	struct h_proc p;
	pid_t task = 0;
	int i;

	h_exec_start(&p, &vm, -1, 0, NULL, H("sleep"));
	ok(h_wait_output(&p, "ready", 30), "a task runs");
	sscanf(strstr(p.o.head, "ready") ? strstr(p.o.head, "ready") : "",
	       "ready %d", &task);
	ok(task > 0 && kill(task, 0) == 0, "... as process %d", (int)task);
	kill(p.pid, SIGKILL);
	h_finish(&p, 30);
	ok(task > 0 && h_until(gone, &task, 30),
	   "vnb-exec killed: the host is gone, the agent kills the task");
	for (i = 0; i < 5; i++) {
		struct vnb_proto_reader *rd = vnb_proto_reader_create(0);
		char path[600];
		struct vnb_hello hi;
		int fd;

		snprintf(path, sizeof(path), "%s/task.0.sock", vm.run);
		fd = h_client_connect(path);
		if (!h_client_hello(fd, rd, &hi))
			break;
		close(fd);
		vnb_proto_reader_destroy(rd);
	}
	is_int(i, 5, "five hosts in a row come and go");
	h_exec_start(&p, &vm, -1, 0, NULL, H("exit", "5"));
	h_finish(&p, 60);
	ok(exited_with(p.status, 5), "the agent serves the next host");
}

static void test_concurrent(void)
{
	struct h_proc a, b, c, d;
	pid_t ta = 0, tb = 0;

	h_exec_start(&a, &vm, -1, 0, NULL, H("waitsig"));
	h_exec_start(&b, &vm, -1, 0, NULL, H("waitsig"));
	ok(h_wait_output(&a, "ready", 30) && h_wait_output(&b, "ready", 30),
	   "two tasks run at once, on the two channels");
	if (strstr(a.o.head, "ready"))
		sscanf(strstr(a.o.head, "ready"), "ready %d", &ta);
	if (strstr(b.o.head, "ready"))
		sscanf(strstr(b.o.head, "ready"), "ready %d", &tb);
	ok(ta > 0 && tb > 0 && ta != tb, "... as two processes");

	h_exec_start(&c, &vm, -1, 1,
		     (const char *const[]){"--timeout", "1", NULL},
		     H("exit", "0"));
	h_finish(&c, 60);
	if (!ok(exited_with(c.status, 1) &&
		    strstr(c.e.head, "vnic-bypass: all 2 task channels") &&
		    strstr(c.e.head, "busy"),
		"all channels busy: vnb-exec gives up after --timeout, "
		"and says why"))
		show(&c);

	h_exec_start(&d, &vm, -1, 1, NULL, H("exit", "7"));
	kill(a.pid, SIGTERM);
	h_finish(&a, 60);
	ok(exited_with(a.status, 3) && strstr(a.o.head, "got 15"),
	   "the first task ends on SIGTERM");
	h_finish(&d, 60);
	if (!ok(exited_with(d.status, 7),
		"a vnb-exec that waited for a channel gets the freed one"))
		show(&d);
	kill(b.pid, SIGUSR1);
	h_finish(&b, 60);
	ok(exited_with(b.status, 3) && strstr(b.o.head, "got 10"),
	   "the second task ends on SIGUSR1");
}

/* The VM is up (its channels listen) but no agent answers. */
static void test_no_agent(void)
{
	struct h_proc p;

	kill(vm.agent, SIGTERM);
	waitpid(vm.agent, NULL, 0);
	vm.agent = 0;
	h_exec_start(&p, &vm, -1, -1,
		     (const char *const[]){"--timeout", "1", NULL},
		     H("exit", "0"));
	h_finish(&p, 60);
	if (!ok(exited_with(p.status, 1) &&
		    strstr(p.e.head, "vnic-bypass: no answer from the VM's "
				     "agent on ") &&
		    strstr(p.e.head, "is vnb-agent running in the VM?"),
		"no agent: vnb-exec gives up after --timeout, and says why"))
		show(&p);
	h_vm_restart_agent(&vm, agent_args);
	h_run(&p, &vm, H("exit", "4"));
	ok(exited_with(p.status, 4), "an agent that starts late serves");
}

/* The test plays the agent: garbage first (what a host before left, cut
 * in two), then a proper answer.  vnb-exec connects again, once. */
static void test_garbage_first(void)
{
	struct vnb_proto_reader *rd = vnb_proto_reader_create(0);
	struct vnb_hello hi = {1, 1, VNB_CAP_EXEC | VNB_CAP_SIGNAL, "fake"};
	struct vnb_exit x = {false, 6};
	struct vnb_msg_hdr h;
	const uint8_t *p;
	char guest[600];
	struct h_proc q;
	int g, n;

	kill(vm.agent, SIGTERM);
	waitpid(vm.agent, NULL, 0);
	vm.agent = 0;
	snprintf(guest, sizeof(guest), "%s/org.vnic-bypass.task.0", vm.ports);
	g = h_client_connect(guest);
	h_exec_start(&q, &vm, -1, 0, NULL, H("exit", "0"));
	ok(h_client_recv(g, rd, &h, &p, 30) == 1 && h.type == VNB_MSG_HELLO &&
	       h_client_send(g, (const uint8_t *)"0123456789abcdefghij", 20) &&
	       h_client_recv(g, rd, &h, &p, 30) == 0,
	   "garbage for an answer: vnb-exec hangs up");
	close(g);
	vnb_proto_reader_destroy(rd);
	rd = vnb_proto_reader_create(0);
	g = h_client_connect(guest);
	n = vnb_proto_encode_hello(buf, sizeof(buf), &hi);
	ok(h_client_recv(g, rd, &h, &p, 30) == 1 && h.type == VNB_MSG_HELLO &&
	       h_client_send(g, buf, n) &&
	       h_client_recv(g, rd, &h, &p, 30) == 1 && h.type == VNB_MSG_EXEC,
	   "... comes back, says HELLO again, and sends EXEC");
	n = vnb_proto_encode_exit(buf, sizeof(buf), h.chan, &x);
	h_client_send(g, buf, n);
	h_finish(&q, 60);
	if (!ok(exited_with(q.status, 6), "... and takes the EXIT"))
		show(&q);
	close(g);
	vnb_proto_reader_destroy(rd);
	h_vm_restart_agent(&vm, agent_args);
}

/* The VM goes away under a task: the relay (qemu) dies. */
static void test_vm_gone(void)
{
	struct h_proc p;
	pid_t task = 0;
	char *r;

	h_exec_start(&p, &vm, -1, -1, NULL, H("sleep"));
	ok(h_wait_output(&p, "ready", 30), "a task runs");
	r = strstr(p.o.head, "ready ");
	if (r)
		task = (pid_t)atoi(r + 6);
	kill(vm.qemu, SIGKILL);
	waitpid(vm.qemu, NULL, 0);
	vm.qemu = 0;
	h_finish(&p, 60);
	if (!ok(exited_with(p.status, 255) &&
		    strstr(p.e.head, "vnic-bypass: lost the VM's task channel "
				     "") &&
		    strstr(p.e.head, "the VM stopped?"),
		"the VM gone mid-task: vnb-exec exits 255 and says so"))
		show(&p);
	ok(task > 0 && h_until(gone, &task, 30),
	   "... and the agent, which lost its host, kills the task");
}

static void test_no_vm(void)
{
	struct h_vm none = vm;
	struct h_proc p;

	snprintf(none.run, sizeof(none.run), "%s", vm.ports);
	h_exec_start(&p, &none, -1, -1, NULL, H("exit", "0"));
	h_finish(&p, 60);
	ok(exited_with(p.status, 1) &&
	       strstr(p.e.head, "vnic-bypass: no VM for this job") &&
	       strstr(p.e.head, "task.0.sock does not exist"),
	   "no task channel: vnb-exec says there is no VM for the job");
}

int main(int argc, char **argv)
{
	int rc;

	(void)argc;
	alarm(600); /* only so that nothing hangs */
	agent_args = getuid() == 0 ? allow_root : NULL;
	h_vm_start(&vm, argv[0], 2, agent_args);
	test_ctl();
	test_exit_codes();
	test_signals();
	test_stdin();
	test_output();
	test_env_cwd();
	test_cwd_missing();
	test_exec_missing();
	test_ids();
	test_protocol_error();
	test_disconnect();
	test_hello_again();
	test_concurrent();
	test_no_agent();
	test_garbage_first();
	test_vm_gone(); /* the last one with a VM */
	test_no_vm();
	rc = done_testing();
	if (rc)
		h_vm_diag(&vm);
	h_vm_stop(&vm);
	return rc;
}
