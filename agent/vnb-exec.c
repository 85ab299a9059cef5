/*
 * vnb-exec - runs one Slurm task in the job's VM, in place of the task.
 *
 *   vnb-exec [--run-dir DIR] [--timeout S] -- ARGV...
 *
 * DIR is the job's run directory (default: $VNB_RUN_DIR), which holds the
 * host ends of the VM's task channels, task.<i>.sock for i = 0..N-1.
 * vnb-exec takes the first free one from SLURM_LOCALID mod N on (a free
 * channel is one whose task.<i>.lock it can flock), waiting up to S
 * seconds (default 30) when all are busy; says HELLO, sends EXEC (its
 * uid, gid, working directory, ARGV, and its environment with VNB_IN_VM=1
 * and VNB_HOST=<this host>), then relays its stdin to the task and the
 * task's stdout and stderr to its own, and forwards SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT and SIGALRM.
 *
 * Exit status: the task's; a task killed by signal N kills vnb-exec with
 * N (128+N when N does not kill).  1 when the task could not be run (no
 * VM, all channels busy, no agent, the agent refused: the reason is on
 * stderr); 255 when the channel was lost before the task's end (the VM
 * stopped).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent/buf.h"
#include "agent/hostpmix.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/util.h"
#include "proto/proto.h"

#define EXIT_FAIL 1 /* the task could not be run */
#define EXIT_LOST 255 /* the channel was lost */
#define CHUNK (64 * 1024)
#define OUT_LIMIT (256 * 1024) /* queued for the agent: stop reading stdin */
#define TASK_CHAN 1 /* the chan of our task's messages */
#define RETRY_NS (50 * 1000 * 1000L)

extern char **environ;

static const int fwd_signals[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
				  SIGUSR1, SIGUSR2, SIGCONT, SIGALRM};

struct xc {
	const char *dir;
	unsigned timeout;
	char sock[PATH_MAX];
	int fd, lockfd, sigfd;
	struct vnb_proto_reader *rd;
	struct vnb_buf out;
	char **env;
	bool out_broken[3]; /* fd 1 or 2 gave EPIPE: drop the rest */
	uint32_t caps; /* the agent's */
	struct vnb_hostpmix *px; /* a PMIx step: our link to Slurm's */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vnb-exec [--run-dir DIR] [--timeout S] -- "
		   "ARGV...\n"
		   "Runs ARGV in the job's VM through a free task channel "
		   "DIR/task.<i>.sock.\n"
		   "DIR defaults to $VNB_RUN_DIR; S (30) bounds the waits "
		   "for a free channel\nand for the agent's answer.\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(void)
{
	struct timespec ts = {0, RETRY_NS};

	nanosleep(&ts, NULL);
}

static void cleanup(struct xc *x)
{
	size_t i;

	vnb_hostpmix_close(x->px);
	x->px = NULL;
	vnb_proto_reader_destroy(x->rd);
	vnb_buf_release(&x->out);
	if (x->env) {
		for (i = 0; x->env[i]; i++)
			free(x->env[i]);
		free(x->env);
	}
	if (x->fd >= 0)
		close(x->fd);
	if (x->sigfd >= 0)
		close(x->sigfd);
	if (x->lockfd >= 0)
		close(x->lockfd);
	x->rd = NULL;
	x->env = NULL;
	x->fd = x->sigfd = x->lockfd = -1;
}

static int connect_channel(struct xc *x);

/* Lock a free channel and connect to it; the channel's index, or -1. */
static int take_channel(struct xc *x)
{
	unsigned n = vnb_file_count_seq(x->dir, "task.", ".sock"), first = 0, k,
		 i;
	const char *lid = getenv("SLURM_LOCALID");
	double deadline = now_s() + x->timeout;
	char lock[PATH_MAX];
	uint64_t v;

	if (n == 0) {
		vnb_log_err(
		    "no VM for this job: %s/task.0.sock does not exist; was "
		    "the job submitted with --vnic-bypass and did its prolog "
		    "succeed?",
		    x->dir);
		return -1;
	}
	if (lid && vnb_parse_u64(lid, 0, UINT32_MAX, &v) == 0)
		first = (unsigned)(v % n);
	for (;;) {
		for (k = 0; k < n; k++) {
			int fd;

			i = (first + k) % n;
			snprintf(lock, sizeof(lock), "%s/task.%u.lock", x->dir,
				 i);
			fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
			if (fd < 0) {
				vnb_log_err(
				    "cannot open %s: %s; the job's run "
				    "directory must be writable by its user",
				    lock, strerror(errno));
				return -1;
			}
			if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
				x->lockfd = fd;
				goto got;
			}
			close(fd);
		}
		if (now_s() >= deadline) {
			vnb_log_err(
			    "all %u task channels of the VM in %s are busy "
			    "after %u s; does the step run more tasks per "
			    "node than the job has task slots?",
			    n, x->dir, x->timeout);
			return -1;
		}
		nap();
	}
got:
	snprintf(x->sock, sizeof(x->sock), "%s/task.%u.sock", x->dir, i);
	return connect_channel(x) < 0 ? -1 : (int)i;
}

/* Connect to x->sock; 0, or -1 (said). */
static int connect_channel(struct xc *x)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(x->sock) >= sizeof(sa.sun_path)) {
		vnb_log_err(
		    "the socket path %s is too long (at most %zu bytes)",
		    x->sock, sizeof(sa.sun_path) - 1);
		return -1;
	}
	strcpy(sa.sun_path, x->sock);
	x->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (x->fd < 0 ||
	    connect(x->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		vnb_log_err(
		    "cannot connect to the VM's task channel %s: %s; is the "
		    "job's VM running?",
		    x->sock, strerror(errno));
		return -1;
	}
	return 0;
}

/* Read into the reader; 1 with a message, 0 at EOF, -1 with ETIMEDOUT at
 * the deadline or an error, -2 on garbage (err says what). */
static int next_msg(struct xc *x, int timeout_ms, struct vnb_msg_hdr *h,
		    const uint8_t **p, vnb_error_t *err)
{
	double end = now_s() + timeout_ms / 1000.0;
	int got;

	for (;;) {
		struct pollfd pfd = {x->fd, POLLIN, 0};
		size_t room;
		uint8_t *space;
		ssize_t n;
		int left;

		got = vnb_proto_reader_next(x->rd, h, p, err);
		if (got < 0)
			return -2;
		if (got > 0)
			return 1;
		left = (int)((end - now_s()) * 1000);
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return -1;
		if (!pfd.revents)
			continue;
		space = vnb_proto_reader_space(x->rd, &room);
		n = read(x->fd, space, room);
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return 0;
		if (n > 0)
			vnb_proto_reader_commit(x->rd, (size_t)n);
	}
}

/* HELLO both ways.  A stream that starts with garbage (what a host before
 * us left, cut in two) is connected to again, once. */
static int hello(struct xc *x)
{
	struct vnb_hello mine = {VNB_PROTO_VERSION_MIN, VNB_PROTO_VERSION, 0,
				 "vnb-exec " PACKAGE_VERSION},
			 theirs;
	uint8_t buf[256];
	vnb_error_t err = {{0}};
	struct vnb_proto_error pe;
	struct vnb_msg_hdr h;
	const uint8_t *p;
	int n, rc, tries = 0;

again:
	n = vnb_proto_encode_hello(buf, sizeof(buf), &mine);
	if (n < 0 || vnb_write_all(x->fd, buf, (size_t)n) < 0) {
		vnb_log_err("cannot talk to the VM's task channel %s: %s",
			    x->sock, strerror(errno));
		return -1;
	}
	/* what a host before us left on its way (a port's host can go and
	 * come back before the agent sees it) is skipped */
	do
		rc = next_msg(x, (int)x->timeout * 1000, &h, &p, &err);
	while (rc > 0 && h.type != VNB_MSG_HELLO && h.type != VNB_MSG_ERROR);
	if (rc == -2 && tries++ == 0) {
		close(x->fd);
		x->fd = -1;
		vnb_proto_reader_destroy(x->rd);
		x->rd = vnb_proto_reader_create(0);
		nap(); /* for the agent to see us go */
		if (!x->rd) {
			vnb_log_err("out of memory");
			return -1;
		}
		if (connect_channel(x) < 0)
			return -1;
		goto again;
	}
	if (rc == -2) {
		vnb_log_err("the VM's agent on %s speaks garbage: %s", x->sock,
			    err.text);
		return -1;
	}
	if (rc < 0 && errno == ETIMEDOUT) {
		vnb_log_err(
		    "no answer from the VM's agent on %s after %u s; is "
		    "vnb-agent running in the VM?",
		    x->sock, x->timeout);
		return -1;
	}
	if (rc == 0) {
		vnb_log_err("lost the VM's task channel %s before the agent "
			    "answered: the VM stopped?",
			    x->sock);
		return -1;
	}
	if (rc < 0)
		return -1;
	if (h.type == VNB_MSG_ERROR &&
	    vnb_proto_decode_error(p, h.len, &pe, &err) == 0) {
		vnb_log_err("%s", pe.text);
		return -1;
	}
	if (h.type != VNB_MSG_HELLO ||
	    vnb_proto_decode_hello(p, h.len, &theirs, &err) < 0 ||
	    vnb_proto_negotiate(&mine, &theirs, &err) < 0) {
		vnb_log_err("the VM's agent on %s did not say hello: %s",
			    x->sock,
			    err.text[0] ? err.text : vnb_msg_type_name(h.type));
		return -1;
	}
	x->caps = theirs.caps;
	if (!(theirs.caps & VNB_CAP_EXEC)) {
		vnb_log_err("'%s' on %s does not run tasks", theirs.name,
			    x->sock);
		return -1;
	}
	return 0;
}

/* Our environment with VNB_IN_VM=1 and VNB_HOST=<host>. */
static int make_env(struct xc *x, uint32_t *envc)
{
	char host[256] = "", *add[2];
	size_t n = 0, i, k;

	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	for (i = 0; environ[i]; i++)
		n++;
	x->env = calloc(n + 3, sizeof(char *));
	if (!x->env)
		return -1;
	if (asprintf(&add[0], "VNB_IN_VM=1") < 0)
		return -1;
	x->env[0] = add[0];
	if (asprintf(&add[1], "VNB_HOST=%s", host) < 0)
		return -1;
	x->env[1] = add[1];
	k = 2;
	for (i = 0; environ[i]; i++) {
		if (strncmp(environ[i], "VNB_IN_VM=", 10) == 0 ||
		    strncmp(environ[i], "VNB_HOST=", 9) == 0)
			continue;
		x->env[k] = strdup(environ[i]);
		if (!x->env[k])
			return -1;
		k++;
	}
	*envc = (uint32_t)k;
	return 0;
}

static int send_exec(struct xc *x, int argc, char **argv)
{
	struct vnb_exec e = {getuid(), getgid(), NULL, argv, 0, NULL, 0};
	char cwd[PATH_MAX];
	const char *pwd = getenv("PWD");
	uint8_t *buf;
	int n;

	/* a cwd deleted on the host may still exist in the VM: send the
	 * name the shell had for it */
	if (getcwd(cwd, sizeof(cwd)))
		e.cwd = cwd;
	else
		e.cwd = pwd && pwd[0] == '/' ? (char *)pwd : "/";
	e.argc = (uint32_t)argc;
	if (make_env(x, &e.envc) < 0) {
		vnb_log_err("out of memory");
		return -1;
	}
	e.envp = x->env;
	buf =
	    vnb_buf_reserve(&x->out, VNB_PROTO_HDR_LEN + VNB_PROTO_MAX_PAYLOAD);
	if (!buf) {
		vnb_log_err("out of memory");
		return -1;
	}
	n = vnb_proto_encode_exec(
	    buf, VNB_PROTO_HDR_LEN + VNB_PROTO_MAX_PAYLOAD, TASK_CHAN, &e);
	if (n < 0) {
		vnb_log_err(
		    "the task's command line and environment are too large "
		    "for the VM's task channel (at most %u arguments and %u "
		    "variables in %u bytes)",
		    VNB_PROTO_MAX_ARGS, VNB_PROTO_MAX_ARGS,
		    VNB_PROTO_MAX_PAYLOAD);
		return -1;
	}
	vnb_buf_commit(&x->out, (size_t)n);
	return 0;
}

static int queue_msg(struct xc *x, int n)
{
	if (n < 0)
		return -1;
	vnb_buf_commit(&x->out, (size_t)n);
	return 0;
}

/* A step under srun --mpi=pmix: become the rank's client of Slurm's PMIx
 * and tell the agent who the task is, before EXEC. */
static int send_pmix_job(struct xc *x)
{
	struct vnb_pmix_job j;
	vnb_error_t err = {{0}};
	uint8_t *buf;
	int n;

	if (!getenv("PMIX_NAMESPACE"))
		return 0;
	if (!(x->caps & VNB_CAP_PMIX)) {
		vnb_log_err(
		    "the step uses PMIx (srun --mpi=pmix) but the VM's agent "
		    "on %s is no PMIx server; use an image with a newer "
		    "vnb-agent, or run the step with --mpi=none",
		    x->sock);
		return -1;
	}
	x->px = vnb_hostpmix_open(x->dir, &j, &err);
	if (!x->px) {
		vnb_log_err("%s", err.text);
		return -1;
	}
	buf =
	    vnb_buf_reserve(&x->out, VNB_PROTO_HDR_LEN + VNB_PROTO_MAX_PAYLOAD);
	n = buf ? vnb_proto_encode_pmix_job(
		      buf, VNB_PROTO_HDR_LEN + VNB_PROTO_MAX_PAYLOAD, TASK_CHAN,
		      &j)
		: -1;
	vnb_proto_pmix_job_free(&j);
	if (n < 0) {
		vnb_log_err(
		    "the step's layout is too large for the VM's task channel");
		return -1;
	}
	vnb_buf_commit(&x->out, (size_t)n);
	return 0;
}

/* The agent's FENCE: into Slurm; a fence that cannot start is answered
 * at once with its error. */
static int on_fence(struct xc *x, const uint8_t *p, uint32_t len,
		    vnb_error_t *err)
{
	struct vnb_fence f, d = {0, 0, -1 /* PMIX_ERROR */, NULL, 0};
	uint8_t *o;

	if (vnb_proto_decode_fence(p, len, &f, err) < 0)
		return -1;
	if (x->px && vnb_hostpmix_fence(x->px, &f, err) == 0)
		return 0;
	vnb_log_err("a fence of the VM's PMIx cannot go through Slurm: %s",
		    x->px ? err->text : "this step has no PMIx");
	d.seq = f.seq;
	d.flags = f.flags & VNB_FENCE_LEADER;
	o = vnb_buf_reserve(&x->out, 128);
	return o ? queue_msg(x, vnb_proto_encode_fence(
				    o, 128, VNB_MSG_FENCE_DONE, TASK_CHAN, &d))
		 : -1;
}

static void write_out(struct xc *x, int fd, const uint8_t *p, size_t len)
{
	if (x->out_broken[fd] || len == 0)
		return;
	if (vnb_write_all(fd, p, len) < 0)
		x->out_broken[fd] = true; /* EPIPE, ...: drop the rest */
}

/* Die the way the task died. */
static void die_by(int sig)
{
	struct rlimit no_core = {0, 0};
	sigset_t set;

	fflush(NULL);
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

/* The relay; returns the exit status, or -1 - signal for a signal. */
static int relay(struct xc *x)
{
	enum { CH, IN, SIG, PX, NFDS };
	struct pollfd pfd[NFDS];
	bool in_open = fcntl(STDIN_FILENO, F_GETFD) >= 0;
	vnb_error_t err = {{0}};
	struct vnb_proto_error pe;
	struct vnb_abort ab;
	struct vnb_exit ex;
	struct vnb_msg_hdr h;
	const uint8_t *p;
	uint8_t *o;
	ssize_t n;
	size_t room;
	int got;

	if (!in_open &&
	    queue_msg(x, vnb_proto_encode_data(vnb_buf_reserve(&x->out, 64), 64,
					       VNB_MSG_STDIN, TASK_CHAN, NULL,
					       0)) < 0)
		return EXIT_FAIL;
	for (;;) {
		while ((got = vnb_proto_reader_next(x->rd, &h, &p, &err)) > 0) {
			switch (h.type) {
			case VNB_MSG_STDOUT:
				write_out(x, 1, p, h.len);
				break;
			case VNB_MSG_STDERR:
				write_out(x, 2, p, h.len);
				break;
			case VNB_MSG_EXIT:
				if (vnb_proto_decode_exit(p, h.len, &ex, &err) <
				    0)
					goto garbage;
				return ex.signaled ? -1 - ex.code
						   : ex.code & 0xff;
			case VNB_MSG_ERROR:
				if (vnb_proto_decode_error(p, h.len, &pe,
							   &err) < 0)
					goto garbage;
				vnb_log_err("%s", pe.text);
				return EXIT_FAIL;
			case VNB_MSG_FENCE:
				if (on_fence(x, p, h.len, &err) < 0) {
					if (err.text[0])
						goto garbage;
					return EXIT_FAIL;
				}
				break;
			case VNB_MSG_ABORT:
				if (vnb_proto_decode_abort(p, h.len, &ab,
							   &err) < 0)
					goto garbage;
				vnb_log_err("%s; aborting the step", ab.text);
				if (x->px)
					vnb_hostpmix_abort(x->px, ab.status,
							   ab.text);
				break;
			case VNB_MSG_PING:
				o = vnb_buf_reserve(&x->out, 64);
				if (!o || queue_msg(x, vnb_proto_encode_empty(
							   o, 64, VNB_MSG_PONG,
							   h.chan)) < 0)
					return EXIT_FAIL;
				break;
			default: /* HELLO again, PONG: nothing to do */
				break;
			}
		}
		if (got < 0)
			goto garbage;
		memset(pfd, 0, sizeof(pfd));
		pfd[CH].fd = x->fd;
		pfd[CH].events = POLLIN;
		if (vnb_buf_len(&x->out))
			pfd[CH].events |= POLLOUT;
		pfd[IN].fd = in_open && vnb_buf_len(&x->out) < OUT_LIMIT
				 ? STDIN_FILENO
				 : -1;
		pfd[IN].events = POLLIN;
		pfd[SIG].fd = x->sigfd;
		pfd[SIG].events = POLLIN;
		pfd[PX].fd = x->px ? vnb_hostpmix_fd(x->px) : -1;
		pfd[PX].events = POLLIN;
		if (poll(pfd, NFDS, -1) < 0) {
			if (errno == EINTR)
				continue;
			vnb_log_err("poll: %s", strerror(errno));
			return EXIT_FAIL;
		}
		if (pfd[CH].revents & POLLOUT) {
			if (vnb_buf_flush(&x->out, x->fd) < 0)
				goto lost;
		}
		if (pfd[CH].revents & (POLLIN | POLLHUP | POLLERR)) {
			uint8_t *space = vnb_proto_reader_space(x->rd, &room);

			n = read(x->fd, space, room);
			if (n == 0 ||
			    (n < 0 && errno != EINTR && errno != EAGAIN))
				goto lost;
			if (n > 0)
				vnb_proto_reader_commit(x->rd, (size_t)n);
		}
		if (pfd[IN].revents) {
			o = vnb_buf_reserve(&x->out, VNB_PROTO_HDR_LEN + CHUNK);
			if (!o)
				return EXIT_FAIL;
			n = read(STDIN_FILENO, o + VNB_PROTO_HDR_LEN, CHUNK);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				in_open = false; /* EOF, or an error: the end */
			struct vnb_msg_hdr dh = {1, VNB_MSG_STDIN, 0, TASK_CHAN,
						 n > 0 ? (uint32_t)n : 0};
			vnb_proto_hdr_encode(o, &dh);
			vnb_buf_commit(&x->out, VNB_PROTO_HDR_LEN + dh.len);
		}
		if (pfd[PX].revents) {
			uint8_t *m = NULL;
			size_t ml = 0;

			if (vnb_hostpmix_fence_done(x->px, TASK_CHAN, &m,
						    &ml) == 0) {
				int rc = vnb_buf_append(&x->out, m, ml);

				free(m);
				if (rc < 0)
					return EXIT_FAIL;
			}
		}
		if (pfd[SIG].revents) {
			struct signalfd_siginfo si;

			if (read(x->sigfd, &si, sizeof(si)) ==
			    (ssize_t)sizeof(si)) {
				o = vnb_buf_reserve(&x->out, 64);
				if (!o ||
				    queue_msg(x, vnb_proto_encode_signal(
						     o, 64, TASK_CHAN,
						     (int32_t)si.ssi_signo)) <
					0)
					return EXIT_FAIL;
			}
		}
	}
garbage:
	vnb_log_err("the VM's agent on %s speaks garbage: %s", x->sock,
		    err.text);
	return EXIT_FAIL;
lost:
	vnb_log_err("lost the VM's task channel %s: the VM stopped?", x->sock);
	return EXIT_LOST;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"run-dir", required_argument, NULL, 'd'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct xc x = {0};
	sigset_t set;
	uint64_t v;
	size_t i;
	int o, rc = EXIT_FAIL;

	x.fd = x.lockfd = x.sigfd = -1;
	x.dir = getenv("VNB_RUN_DIR");
	x.timeout = 30;
	while ((o = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (o) {
		case 'd':
			x.dir = optarg;
			break;
		case 't':
			if (vnb_parse_u64(optarg, 1, 86400, &v) < 0) {
				vnb_log_err(
				    "--timeout %s: want seconds, 1 to 86400",
				    optarg);
				return 2;
			}
			x.timeout = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (!x.dir || !x.dir[0]) {
		vnb_log_err(
		    "no run directory: give --run-dir DIR or set VNB_RUN_DIR "
		    "(the SPANK plugin does)");
		return EXIT_FAIL;
	}
	signal(SIGPIPE, SIG_IGN);
	x.rd = vnb_proto_reader_create(0);
	if (!x.rd) {
		vnb_log_err("out of memory");
		return EXIT_FAIL;
	}
	if (take_channel(&x) < 0 || hello(&x) < 0)
		goto out;
	/* from here on, the signals are the task's: they are read from
	 * sigfd and forwarded (one that came before waits there) */
	sigemptyset(&set);
	for (i = 0; i < VNB_ARRAY_SIZE(fwd_signals); i++)
		sigaddset(&set, fwd_signals[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	x.sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (x.sigfd < 0) {
		vnb_log_err("signalfd: %s", strerror(errno));
		goto out;
	}
	fcntl(x.fd, F_SETFL, O_NONBLOCK);
	if (send_pmix_job(&x) < 0 ||
	    send_exec(&x, argc - optind, argv + optind) < 0)
		goto out;
	rc = relay(&x);
out:
	cleanup(&x);
	if (rc < -1) {
		die_by(-1 - rc);
		return 128 + (-1 - rc);
	}
	return rc < 0 ? EXIT_FAIL : rc;
}
