#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/test/harness.h"
#include "common/tap.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

bool h_until(bool (*cond)(void *), void *arg, int timeout_s)
{
	double end = now_s() + timeout_s;

	while (!cond(arg)) {
		if (now_s() > end)
			return false;
		nap_ms(20);
	}
	return true;
}

/* exec argv in a child that dies with us; stdout to out_fd (-1: ours). */
static pid_t spawn(const char *const *argv, int out_fd, int err_fd)
{
	pid_t pid = fork();

	if (pid < 0)
		bail_out("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (out_fd >= 0)
			dup2(out_fd, 1);
		if (err_fd >= 0)
			dup2(err_fd, 2);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	return pid;
}

static void start_agent(struct h_vm *vm, const char *const *agent_args)
{
	const char *argv[16];
	char agent[600];
	size_t n = 0;
	int log;

	snprintf(agent, sizeof(agent), "%s/vnb-agent", vm->bindir);
	argv[n++] = agent;
	argv[n++] = "--ports";
	argv[n++] = vm->ports;
	while (agent_args && *agent_args && n < 15)
		argv[n++] = *agent_args++;
	argv[n] = NULL;
	log = open(vm->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log < 0)
		bail_out("%s: %s", vm->log, strerror(errno));
	vm->agent = spawn(argv, -1, log);
	close(log);
}

void h_vm_start(struct h_vm *vm, const char *argv0, unsigned ntasks,
		const char *const *agent_args)
{
	char self[PATH_MAX], *d, n[16], qemu[600];
	const char *qargv[5];
	int pfd[2];
	char c;

	memset(vm, 0, sizeof(*vm));
	if (!realpath(argv0, self))
		bail_out("realpath %s: %s", argv0, strerror(errno));
	d = dirname(dirname(self)); /* .../agent/test/x -> .../agent */
	snprintf(vm->bindir, sizeof(vm->bindir), "%s", d);
	snprintf(vm->helper, sizeof(vm->helper), "%s/test/taskhelper", d);
	snprintf(qemu, sizeof(qemu), "%s/test/fakeqemu", d);
	snprintf(vm->log, sizeof(vm->log), "%s/vnb-agent", d);
	if (access(vm->log, X_OK) < 0 || access(qemu, X_OK) < 0 ||
	    access(vm->helper, X_OK) < 0)
		bail_out("no vnb-agent, fakeqemu or taskhelper in %s: run "
			 "make check (or make all first)",
			 d);
	snprintf(vm->tmp, sizeof(vm->tmp), "%s/vnb-agent-test.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(vm->tmp))
		bail_out("mkdtemp: %s", strerror(errno));
	snprintf(vm->run, sizeof(vm->run), "%s/run", vm->tmp);
	snprintf(vm->ports, sizeof(vm->ports), "%s/ports", vm->tmp);
	snprintf(vm->log, sizeof(vm->log), "%s/agent.log", vm->tmp);
	if (mkdir(vm->run, 0700) < 0 || mkdir(vm->ports, 0700) < 0)
		bail_out("mkdir: %s", strerror(errno));

	/* fakeqemu closes its stdout once it listens */
	snprintf(n, sizeof(n), "%u", ntasks);
	qargv[0] = qemu;
	qargv[1] = vm->run;
	qargv[2] = vm->ports;
	qargv[3] = n;
	qargv[4] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		bail_out("pipe: %s", strerror(errno));
	vm->qemu = spawn(qargv, pfd[1], -1);
	close(pfd[1]);
	while (read(pfd[0], &c, 1) > 0)
		;
	close(pfd[0]);
	start_agent(vm, agent_args);
}

void h_vm_restart_agent(struct h_vm *vm, const char *const *agent_args)
{
	if (vm->agent > 0) {
		kill(vm->agent, SIGTERM);
		waitpid(vm->agent, NULL, 0);
	}
	start_agent(vm, agent_args);
}

static void rm_rf(const char *dir)
{
	const char *argv[] = {"/bin/rm", "-rf", dir, NULL};
	pid_t pid = spawn(argv, -1, -1);

	waitpid(pid, NULL, 0);
}

void h_vm_stop(struct h_vm *vm)
{
	if (vm->agent > 0) {
		kill(vm->agent, SIGTERM);
		waitpid(vm->agent, NULL, 0);
	}
	if (vm->qemu > 0) {
		kill(vm->qemu, SIGTERM);
		waitpid(vm->qemu, NULL, 0);
	}
	vm->agent = vm->qemu = 0;
	if (vm->tmp[0])
		rm_rf(vm->tmp);
	vm->tmp[0] = '\0';
}

void h_vm_diag(const struct h_vm *vm)
{
	char line[1024];
	FILE *f = fopen(vm->log, "r");

	if (!f)
		return;
	diag("---- %s", vm->log);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		diag("%s", line);
	}
	fclose(f);
}

void h_exec_start(struct h_proc *p, const struct h_vm *vm, int stdin_fd,
		  int localid, const char *const *opts, const char *const *argv)
{
	const char *a[64];
	char exec[600];
	int po[2], pe[2];
	size_t n = 0;

	memset(p, 0, sizeof(*p));
	snprintf(exec, sizeof(exec), "%s/vnb-exec", vm->bindir);
	a[n++] = exec;
	a[n++] = "--run-dir";
	a[n++] = vm->run;
	while (opts && *opts && n < 30)
		a[n++] = *opts++;
	a[n++] = "--";
	while (*argv && n < 63)
		a[n++] = *argv++;
	a[n] = NULL;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		bail_out("pipe: %s", strerror(errno));
	p->pid = fork();
	if (p->pid < 0)
		bail_out("fork: %s", strerror(errno));
	if (p->pid == 0) {
		int in = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY);
		char lid[16];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (stdin_fd == -2)
			close(0);
		else
			dup2(in, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (localid >= 0) {
			snprintf(lid, sizeof(lid), "%d", localid);
			setenv("SLURM_LOCALID", lid, 1);
		} else {
			unsetenv("SLURM_LOCALID");
		}
		execv(a[0], (char *const *)a);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	p->out = po[0];
	p->err = pe[0];
}

static void take(struct h_cap *c, const uint8_t *b, size_t n)
{
	size_t len = strlen(c->head);
	size_t room = sizeof(c->head) - 1 - len;
	size_t k = n < room ? n : room;

	memcpy(c->head + len, b, k);
	c->head[len + k] = '\0';
	if (c->checking)
		stream_check(&c->chk, b, n);
	c->n += n;
}

/* One round of reading; false at the deadline. */
static bool pump(struct h_proc *p, double end)
{
	static uint8_t buf[65536];
	struct pollfd pfd[2] = {{p->out, POLLIN, 0}, {p->err, POLLIN, 0}};
	int left = (int)((end - now_s()) * 1000);
	int i;

	if (left <= 0)
		return false;
	if (poll(pfd, 2, left) <= 0)
		return errno == EINTR || now_s() < end;
	for (i = 0; i < 2; i++) {
		int *fd = i ? &p->err : &p->out;
		struct h_cap *c = i ? &p->e : &p->o;
		ssize_t n;

		if (!pfd[i].revents)
			continue;
		n = read(*fd, buf, sizeof(buf));
		if (n > 0) {
			/* head is a string: only text is kept whole */
			if (!c->checking && memchr(buf, '\0', (size_t)n))
				n = (ssize_t)strnlen((char *)buf, (size_t)n);
			take(c, buf, (size_t)n);
		} else if (n == 0 || errno != EINTR) {
			close(*fd);
			*fd = -1;
			c->eof = true;
		}
	}
	return true;
}

bool h_wait_output(struct h_proc *p, const char *needle, int timeout_s)
{
	double end = now_s() + timeout_s;

	while (!strstr(p->o.head, needle)) {
		if (p->out < 0 || !pump(p, end))
			return false;
	}
	return true;
}

int h_finish(struct h_proc *p, int timeout_s)
{
	double end = now_s() + timeout_s;

	while (p->out >= 0 || p->err >= 0) {
		if (!pump(p, end)) {
			diag("vnb-exec %d still runs after %d s: killed",
			     (int)p->pid, timeout_s);
			kill(p->pid, SIGKILL);
			break;
		}
	}
	if (p->out >= 0)
		close(p->out);
	if (p->err >= 0)
		close(p->err);
	p->out = p->err = -1;
	while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
		;
	return p->status;
}

int h_run(struct h_proc *p, const struct h_vm *vm, const char *const *argv)
{
	h_exec_start(p, vm, -1, -1, NULL, argv);
	return h_finish(p, 60);
}

int h_client_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		bail_out("connect %s: %s", path, strerror(errno));
	return fd;
}

bool h_client_send(int fd, const uint8_t *buf, int len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, (size_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		buf += n;
		len -= (int)n;
	}
	return true;
}

int h_client_recv(int fd, struct vnb_proto_reader *rd, struct vnb_msg_hdr *h,
		  const uint8_t **p, int timeout_s)
{
	double end = now_s() + timeout_s;
	vnb_error_t err = {{0}};
	int got;

	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		int left = (int)((end - now_s()) * 1000);
		size_t room;
		uint8_t *space;
		ssize_t n;

		got = vnb_proto_reader_next(rd, h, p, &err);
		if (got != 0) {
			if (got < 0)
				diag("garbage: %s", err.text);
			return got;
		}
		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return 0;
		space = vnb_proto_reader_space(rd, &room);
		n = read(fd, space, room);
		if (n <= 0)
			return 0;
		vnb_proto_reader_commit(rd, (size_t)n);
	}
}

bool h_client_hello(int fd, struct vnb_proto_reader *rd,
		    struct vnb_hello *theirs)
{
	struct vnb_hello mine = {1, 1, 0, "agent test"};
	vnb_error_t err = {{0}};
	struct vnb_msg_hdr h;
	const uint8_t *p;
	uint8_t buf[256];
	int n = vnb_proto_encode_hello(buf, sizeof(buf), &mine);

	if (!h_client_send(fd, buf, n) ||
	    h_client_recv(fd, rd, &h, &p, 30) != 1 || h.type != VNB_MSG_HELLO)
		return false;
	return vnb_proto_decode_hello(p, h.len, theirs, &err) == 0;
}
