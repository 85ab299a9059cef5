#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/buf.h"
#include "agent/pmixsrv.h"
#include "agent/serve.h"
#include "agent/task.h"
#include "proto/proto.h"

#define CHUNK (64 * 1024) /* one read of the task's output */
#define OUT_LIMIT (512 * 1024) /* queued for the host: stop reading output */
#define IN_LIMIT (1024 * 1024) /* queued stdin: stop reading the channel */
#define SMALL 512 /* room for any message but data and EXEC */
#define DRAIN_MS 2000 /* output still read after the task exited */
#define FLUSH_MS 1000 /* for an ERROR to reach a host we give up on */

enum { GO_ON = 0, LOST, BROKEN };

struct session {
	struct vnb_chan *c;
	int fd;
	struct vnb_proto_reader *rd;
	struct vnb_buf out; /* to the host */
	bool hello;
	/* the task, when running */
	bool running;
	struct vnb_task t;
	uint32_t tchan;
	struct vnb_buf in; /* stdin for it */
	bool in_eof;
	bool exited; /* its status is in x; the zombie holds its pgid */
	struct vnb_exit x;
	struct timespec deadline;
	/* PMIx: the PMIX_JOB that came before EXEC, and whether the task
	 * is a client of our server */
	bool have_pj;
	struct vnb_pmix_job pj;
	bool pmix_task, pmix_dead;
};

int vnb_chan_init(struct vnb_chan *c)
{
	memset(&c->box, 0, sizeof(c->box));
	c->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wake < 0)
		return -1;
	return pthread_mutex_init(&c->mu, NULL) == 0 ? 0 : -1;
}

int vnb_chan_post(struct vnb_chan *c, const uint8_t *msg, size_t len)
{
	uint64_t one = 1;
	int rc;

	pthread_mutex_lock(&c->mu);
	rc = vnb_buf_append(&c->box, msg, len);
	pthread_mutex_unlock(&c->mu);
	if (rc == 0 && write(c->wake, &one, sizeof(one)) < 0)
		return 0; /* the counter is full: a wakeup is pending */
	return rc;
}

/* Move what other threads posted into the host's queue. */
static int take_posts(struct session *s)
{
	uint64_t n;
	int rc = 0;

	if (read(s->c->wake, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return -1;
	pthread_mutex_lock(&s->c->mu);
	if (vnb_buf_len(&s->c->box)) {
		rc = vnb_buf_append(&s->out, vnb_buf_data(&s->c->box),
				    vnb_buf_len(&s->c->box));
		vnb_buf_clear(&s->c->box);
	}
	pthread_mutex_unlock(&s->c->mu);
	return rc;
}

static long ms_until(const struct timespec *t)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (t->tv_sec - now.tv_sec) * 1000 +
	     (t->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms + 1;
}

static void in_ms(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

/* Queue a small message for the host; n is the encoder's result. */
static uint8_t *small(struct session *s)
{
	return vnb_buf_reserve(&s->out, SMALL);
}

static int queued(struct session *s, int n)
{
	if (n < 0)
		return BROKEN;
	vnb_buf_commit(&s->out, (size_t)n);
	return GO_ON;
}

static int send_error(struct session *s, uint32_t chan, int errnum,
		      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int send_error(struct session *s, uint32_t chan, int errnum,
		      const char *fmt, ...)
{
	struct vnb_proto_error e = {errnum, ""};
	uint8_t *p = small(s);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
	vnb_agent_log("%s: %s", s->c->label, e.text);
	if (!p)
		return BROKEN;
	return queued(s, vnb_proto_encode_error(p, SMALL, chan, &e));
}

/* A protocol error: say it, and give up on this host. */
static int broken(struct session *s, uint32_t chan, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int broken(struct session *s, uint32_t chan, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	send_error(s, chan, EPROTO, "protocol error: %s", text);
	return BROKEN;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The task is over for us: what is left of its process group is killed,
 * it is reaped (only now: until then its pid cannot name another process
 * group), and its pipes are closed. */
static void task_end(struct session *s)
{
	int st;

	if (!s->running)
		return;
	kill(-s->t.pid, SIGKILL);
	while (waitpid(s->t.pid, &st, 0) < 0 && errno == EINTR)
		;
	s->c->pgid = 0;
	close_fd(&s->t.pidfd);
	close_fd(&s->t.in);
	close_fd(&s->t.out);
	close_fd(&s->t.err);
	vnb_buf_release(&s->in);
	s->running = false;
	if (s->pmix_task) {
		s->pmix_task = false;
		s->pmix_dead = vnb_agent_pmix_task_end(s->c);
	}
}

static int on_hello(struct session *s, const struct vnb_msg_hdr *h,
		    const uint8_t *p)
{
	struct vnb_hello mine = {VNB_PROTO_VERSION_MIN, VNB_PROTO_VERSION,
				 VNB_CAP_EXEC | VNB_CAP_SIGNAL | VNB_CAP_PMIX,
				 ""},
			 theirs;
	vnb_error_t err = {{0}};
	uint8_t *o;

	if (vnb_proto_decode_hello(p, h->len, &theirs, &err) < 0)
		return broken(s, 0, "%s", err.text);
	if (vnb_proto_negotiate(&mine, &theirs, &err) < 0) {
		send_error(s, 0, EPROTONOSUPPORT, "%s", err.text);
		return BROKEN;
	}
	/* a HELLO in a session is a new host that we did not see come */
	task_end(s);
	s->hello = true;
	snprintf(mine.name, sizeof(mine.name), "%s", s->c->opts->name);
	o = small(s);
	return o ? queued(s, vnb_proto_encode_hello(o, SMALL, &mine)) : BROKEN;
}

static int exec_started(struct session *s, uint32_t chan)
{
	s->running = true;
	s->exited = false;
	s->in_eof = false;
	s->tchan = chan;
	s->c->pgid = s->t.pid;
	return GO_ON;
}

static bool pmix_var(const char *v)
{
	return strncmp(v, "PMIX_", 5) == 0 || strncmp(v, "SLURM_PMIX", 10) == 0;
}

/* EXEC of a task that PMIX_JOB made a client of our PMIx server: its
 * environment without what slurmstepd's PMIx gave it, plus ours. */
static int exec_pmix(struct session *s, const struct vnb_msg_hdr *h,
		     struct vnb_exec *e)
{
	vnb_error_t err = {{0}};
	char **add = NULL, **env = NULL, **orig = e->envp;
	uint32_t origc = e->envc, n = 0, i;
	int rc = GO_ON;

	s->have_pj = false;
	if (vnb_agent_pmix_task_start(s->c, &s->pj, e->uid, e->gid, &add,
				      &err) < 0) {
		rc = send_error(s, h->chan, errno,
				"cannot make the task a PMIx client in the "
				"VM: %s",
				err.text);
		goto out;
	}
	for (i = 0; add[i]; i++)
		n++;
	env = calloc((size_t)origc + n + 1, sizeof(*env));
	if (!env) {
		vnb_agent_pmix_task_end(s->c);
		rc = send_error(s, h->chan, ENOMEM, "out of memory");
		goto out;
	}
	n = 0;
	for (i = 0; i < origc; i++)
		if (!pmix_var(orig[i]))
			env[n++] = orig[i];
	for (i = 0; add[i]; i++)
		env[n++] = add[i];
	e->envp = env;
	e->envc = n;
	if (vnb_task_spawn(&s->t, e, &err) < 0) {
		vnb_agent_pmix_task_end(s->c);
		rc = send_error(s, h->chan, errno, "%s", err.text);
	} else {
		s->pmix_task = true;
		s->pmix_dead = false;
		rc = exec_started(s, h->chan);
	}
	e->envp = orig;
	e->envc = origc;
out:
	free(env);
	vnb_agent_pmix_env_free(add);
	vnb_proto_pmix_job_free(&s->pj);
	vnb_proto_exec_free(e);
	return rc;
}

static int on_exec(struct session *s, const struct vnb_msg_hdr *h,
		   const uint8_t *p)
{
	vnb_error_t err = {{0}};
	struct vnb_exec e;

	if (s->c->ctl)
		return broken(s, h->chan, "the control channel runs no tasks");
	if (!s->hello)
		return broken(s, h->chan, "exec before hello");
	if (s->running)
		return broken(s, h->chan,
			      "exec while a task runs on this channel");
	if (vnb_proto_decode_exec(p, h->len, &e, &err) < 0)
		return broken(s, h->chan, "%s", err.text);
	if (e.uid == 0 && !s->c->opts->allow_root) {
		vnb_proto_exec_free(&e);
		return send_error(s, h->chan, EPERM,
				  "the VM's agent does not run tasks as root "
				  "(uid 0); run the job as another user, or "
				  "start vnb-agent with --allow-root");
	}
	memset(&s->t, 0, sizeof(s->t));
	s->c->tchan = h->chan;
	if (s->have_pj)
		return exec_pmix(s, h, &e);
	if (vnb_task_spawn(&s->t, &e, &err) < 0) {
		int rc = send_error(s, h->chan, errno, "%s", err.text);

		vnb_proto_exec_free(&e);
		return rc;
	}
	vnb_proto_exec_free(&e);
	return exec_started(s, h->chan);
}

static int on_pmix_job(struct session *s, const struct vnb_msg_hdr *h,
		       const uint8_t *p)
{
	vnb_error_t err = {{0}};

	if (s->c->ctl || !s->hello || s->running)
		return broken(s, h->chan,
			      "pmix-job only comes before a task's exec");
	vnb_proto_pmix_job_free(&s->pj);
	s->have_pj = false;
	if (vnb_proto_decode_pmix_job(p, h->len, &s->pj, &err) < 0)
		return broken(s, h->chan, "%s", err.text);
	s->have_pj = true;
	return GO_ON;
}

static int on_msg(struct session *s, const struct vnb_msg_hdr *h,
		  const uint8_t *p)
{
	vnb_error_t err = {{0}};
	struct vnb_proto_error pe;
	int32_t signo;
	uint8_t *o;

	switch (h->type) {
	case VNB_MSG_HELLO:
		return on_hello(s, h, p);
	case VNB_MSG_PING:
		o = small(s);
		return o ? queued(s, vnb_proto_encode_empty(
					 o, SMALL, VNB_MSG_PONG, h->chan))
			 : BROKEN;
	case VNB_MSG_PONG:
		return GO_ON;
	case VNB_MSG_EXEC:
		return on_exec(s, h, p);
	case VNB_MSG_PMIX_JOB:
		return on_pmix_job(s, h, p);
	case VNB_MSG_FENCE_DONE: {
		struct vnb_fence f;

		if (vnb_proto_decode_fence(p, h->len, &f, &err) < 0)
			return broken(s, h->chan, "%s", err.text);
		if (s->pmix_task)
			vnb_agent_pmix_fence_done(s->c, &f);
		return GO_ON;
	}
	case VNB_MSG_STDIN:
		if (s->c->ctl)
			return broken(s, h->chan,
				      "stdin on the control "
				      "channel");
		/* stdin of a task that is gone, or after its EOF: dropped */
		if (!s->running || s->in_eof || s->t.in < 0)
			return GO_ON;
		if (h->len == 0) {
			s->in_eof = true;
			return GO_ON;
		}
		return vnb_buf_append(&s->in, p, h->len) < 0 ? BROKEN : GO_ON;
	case VNB_MSG_SIGNAL:
		if (vnb_proto_decode_signal(p, h->len, &signo, &err) < 0)
			return broken(s, h->chan, "%s", err.text);
		if (s->running)
			kill(-s->t.pid, signo);
		return GO_ON;
	case VNB_MSG_ERROR:
		if (vnb_proto_decode_error(p, h->len, &pe, &err) == 0)
			vnb_agent_log("%s: the host says: %s", s->c->label,
				      pe.text);
		return GO_ON;
	default:
		return broken(s, h->chan, "%s is not a message a host sends",
			      vnb_msg_type_name(h->type));
	}
}

/* Handle the messages the reader holds, unless the task's stdin is full. */
static int process(struct session *s)
{
	vnb_error_t err = {{0}};
	struct vnb_msg_hdr h;
	const uint8_t *p;
	int rc, got;

	while (vnb_buf_len(&s->in) < IN_LIMIT) {
		got = vnb_proto_reader_next(s->rd, &h, &p, &err);
		if (got < 0)
			return broken(s, 0, "%s", err.text);
		if (got == 0)
			return GO_ON;
		rc = on_msg(s, &h, p);
		if (rc != GO_ON)
			return rc;
	}
	return GO_ON;
}

/* Read the task's stdout or stderr into a message; EOF is an empty one.
 * 1 when data came, 0 when none (EOF included), -1 when out of memory. */
static int relay_output(struct session *s, unsigned type, int *fd)
{
	struct vnb_msg_hdr h = {1, (uint8_t)type, 0, s->tchan, 0};
	uint8_t *o = vnb_buf_reserve(&s->out, VNB_PROTO_HDR_LEN + CHUNK);
	ssize_t n;

	if (!o)
		return -1;
	do
		n = read(*fd, o + VNB_PROTO_HDR_LEN, CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0) /* EOF, or an error that ends the stream the same */
		close_fd(fd);
	h.len = n > 0 ? (uint32_t)n : 0;
	vnb_proto_hdr_encode(o, &h);
	vnb_buf_commit(&s->out, VNB_PROTO_HDR_LEN + h.len);
	return n > 0;
}

/* At the deadline: what the pipes hold, then their end. */
static int drain_output(struct session *s, unsigned type, int *fd)
{
	int rc;

	while (*fd >= 0 && (rc = relay_output(s, type, fd)) != 0)
		if (rc < 0)
			return BROKEN;
	if (*fd >= 0) {
		struct vnb_msg_hdr h = {1, (uint8_t)type, 0, s->tchan, 0};
		uint8_t *o = small(s);

		if (!o)
			return BROKEN;
		close_fd(fd);
		vnb_proto_hdr_encode(o, &h);
		vnb_buf_commit(&s->out, VNB_PROTO_HDR_LEN);
	}
	return GO_ON;
}

static int send_exit(struct session *s)
{
	uint8_t *o;

	task_end(s);
	if (s->pmix_dead) {
		/* it connected and never finalized: its peers may wait in a
		 * fence for it, so the step ends */
		struct vnb_abort a = {1, ""};

		snprintf(a.text, sizeof(a.text),
			 "a task in the VM ended (%s %d) without "
			 "PMIx_Finalize",
			 s->x.signaled ? "signal" : "status", s->x.code);
		s->pmix_dead = false;
		o = small(s);
		if (!o || queued(s, vnb_proto_encode_abort(o, SMALL, s->tchan,
							   &a)) != GO_ON)
			return BROKEN;
	}
	o = small(s);
	return o ? queued(s, vnb_proto_encode_exit(o, SMALL, s->tchan, &s->x))
		 : BROKEN;
}

/* After the task exited: EXIT once its output ended, or at the deadline
 * (then its process group is killed, and the streams end with what the
 * pipes hold: a process outside the group may keep them open). */
static int task_progress(struct session *s)
{
	if (!s->running || !s->exited)
		return GO_ON;
	if (s->t.out >= 0 || s->t.err >= 0) {
		if (ms_until(&s->deadline) > 0)
			return GO_ON;
		kill(-s->t.pid, SIGKILL);
		if (drain_output(s, VNB_MSG_STDOUT, &s->t.out) != GO_ON ||
		    drain_output(s, VNB_MSG_STDERR, &s->t.err) != GO_ON)
			return BROKEN;
	}
	return send_exit(s);
}

static void feed_stdin(struct session *s)
{
	ssize_t n = vnb_buf_flush(&s->in, s->t.in);

	if (n < 0) {
		/* the task closed its stdin: what it did not read is gone */
		close_fd(&s->t.in);
		vnb_buf_release(&s->in);
	}
}

/* The task's process exited: its status, without reaping it. */
static void note_exit(struct session *s)
{
	siginfo_t si;
	int r;

	memset(&si, 0, sizeof(si));
	do
		r = waitid(P_PID, (id_t)s->t.pid, &si,
			   WEXITED | WNOHANG | WNOWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0 || si.si_pid != s->t.pid)
		return;
	s->x.signaled = si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED;
	s->x.code = si.si_status;
	s->exited = true;
	close_fd(&s->t.pidfd);
	in_ms(&s->deadline, DRAIN_MS);
}

static int session(struct session *s)
{
	enum { CH, OUT, ERR, IN, PID, WAKE, NFDS };
	struct pollfd pfd[NFDS];
	size_t room;
	uint8_t *space;
	ssize_t n;
	int rc, timeout;

	for (;;) {
		if ((rc = process(s)) != GO_ON)
			return rc;
		if ((rc = task_progress(s)) != GO_ON)
			return rc;
		if (s->running && s->in_eof && vnb_buf_len(&s->in) == 0)
			close_fd(&s->t.in);
		space = vnb_proto_reader_space(s->rd, &room);
		memset(pfd, 0, sizeof(pfd));
		for (int i = 0; i < NFDS; i++)
			pfd[i].fd = -1;
		pfd[CH].fd = s->fd;
		pfd[WAKE].fd = s->c->wake;
		pfd[WAKE].events = POLLIN;
		if (room > 0 && vnb_buf_len(&s->in) < IN_LIMIT)
			pfd[CH].events |= POLLIN;
		if (vnb_buf_len(&s->out) > 0)
			pfd[CH].events |= POLLOUT;
		timeout = -1;
		if (s->running) {
			bool more = vnb_buf_len(&s->out) < OUT_LIMIT;

			pfd[OUT].fd = more ? s->t.out : -1;
			pfd[OUT].events = POLLIN;
			pfd[ERR].fd = more ? s->t.err : -1;
			pfd[ERR].events = POLLIN;
			if (vnb_buf_len(&s->in) > 0) {
				pfd[IN].fd = s->t.in;
				pfd[IN].events = POLLOUT;
			}
			pfd[PID].fd = s->t.pidfd;
			pfd[PID].events = POLLIN;
			if (s->exited)
				timeout = (int)ms_until(&s->deadline);
		}
		if (poll(pfd, NFDS, timeout) < 0) {
			if (errno == EINTR)
				continue;
			vnb_agent_log("%s: poll: %s", s->c->label,
				      strerror(errno));
			return LOST;
		}
		if (pfd[CH].revents & POLLOUT) {
			if (vnb_buf_flush(&s->out, s->fd) < 0)
				return LOST;
		}
		if (pfd[CH].revents & POLLIN) {
			do
				n = read(s->fd, space, room);
			while (n < 0 && errno == EINTR);
			if (n == 0)
				return LOST;
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				return LOST;
			if (n > 0)
				vnb_proto_reader_commit(s->rd, (size_t)n);
		} else if (pfd[CH].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			return LOST;
		}
		if (pfd[OUT].revents &&
		    relay_output(s, VNB_MSG_STDOUT, &s->t.out) < 0)
			return BROKEN;
		if (pfd[ERR].revents &&
		    relay_output(s, VNB_MSG_STDERR, &s->t.err) < 0)
			return BROKEN;
		if (pfd[IN].revents)
			feed_stdin(s);
		if (pfd[PID].revents)
			note_exit(s);
		if (pfd[WAKE].revents && take_posts(s) < 0)
			return BROKEN;
	}
}

/* After a protocol error: the ERROR out if the host takes it, then read
 * and drop until the host goes away. */
static void give_up(struct session *s)
{
	struct timespec end;
	uint8_t junk[4096];
	ssize_t n;

	in_ms(&end, FLUSH_MS);
	while (vnb_buf_len(&s->out) > 0 && ms_until(&end) > 0) {
		struct pollfd pfd = {s->fd, POLLOUT, 0};

		if (poll(&pfd, 1, (int)ms_until(&end)) <= 0 ||
		    (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) ||
		    vnb_buf_flush(&s->out, s->fd) < 0)
			break;
	}
	for (;;) {
		struct pollfd pfd = {s->fd, POLLIN, 0};

		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		n = read(s->fd, junk, sizeof(junk));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return;
	}
}

void *vnb_serve(void *arg)
{
	struct vnb_chan *c = arg;
	struct session s;
	int rc;

	for (;;) {
		vnb_port_wait_host(&c->port);
		memset(&s, 0, sizeof(s));
		s.c = c;
		s.fd = c->port.fd;
		/* what was posted for a host before this one is not ours */
		pthread_mutex_lock(&c->mu);
		vnb_buf_clear(&c->box);
		pthread_mutex_unlock(&c->mu);
		s.rd = vnb_proto_reader_create(0);
		if (!s.rd) {
			vnb_agent_log("%s: out of memory", c->label);
			sleep(1);
			continue;
		}
		rc = session(&s);
		if (s.running)
			vnb_agent_log("%s: %s; killing the task", c->label,
				      rc == LOST ? "the host went away"
						 : "giving up on the host");
		task_end(&s);
		vnb_proto_pmix_job_free(&s.pj);
		if (rc == BROKEN)
			give_up(&s);
		vnb_proto_reader_destroy(s.rd);
		vnb_buf_release(&s.out);
		vnb_port_lost(&c->port);
	}
	return NULL;
}
