#include "config.h" /* _GNU_SOURCE: pipe2, strerrordesc_np */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/task.h"

/* What the child says on the status pipe when it fails before exec. */
struct child_fail {
	int stage; /* 1: credentials */
	int errnum;
};

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/* A line for the task's stderr, from async-signal-safe pieces. */
static void child_say(const char *a, const char *b, const char *c,
		      const char *d)
{
	const char *parts[] = {"vnic-bypass: ", a, b, c, d, "\n"};
	char line[1024];
	size_t n = 0, i, l;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		l = strlen(parts[i]);
		if (l > sizeof(line) - n)
			l = sizeof(line) - n;
		memcpy(line + n, parts[i], l);
		n += l;
	}
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

static const char *errtext(int e)
{
	const char *s = strerrordesc_np(e);

	return s ? s : "unknown error";
}

/* The value of NAME in envp, or NULL. */
static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/*
 * Run argv searched in envp's PATH as a shell does (execvpe would not do:
 * it says EACCES when a PATH directory is unreadable, and runs a file
 * without #! through /bin/sh): a directory where the file does not exist
 * or cannot be looked at is skipped; one that is there but cannot be run
 * is remembered (EACCES) and the search goes on.  Returns errno.
 */
static int child_exec(const struct vnb_exec *e)
{
	const char *file = e->argv[0], *path, *dir, *end;
	size_t flen = strlen(file), dlen;
	char cand[4096];
	struct stat st;
	int res = ENOENT;

	if (flen == 0)
		return ENOENT;
	if (strchr(file, '/')) {
		execve(file, e->argv, e->envp);
		return errno;
	}
	path = env_get(e->envp, "PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (dir = path;; dir = end + 1) {
		end = strchr(dir, ':');
		if (!end)
			end = dir + strlen(dir);
		dlen = (size_t)(end - dir);
		if (dlen == 0) { /* an empty entry is the cwd */
			dir = ".";
			dlen = 1;
		}
		if (dlen + 1 + flen < sizeof(cand)) {
			memcpy(cand, dir, dlen);
			cand[dlen] = '/';
			memcpy(cand + dlen + 1, file, flen + 1);
			if (stat(cand, &st) == 0) {
				execve(cand, e->argv, e->envp);
				if (errno != EACCES)
					return errno;
				res = EACCES;
			}
		}
		if (!*end)
			return res;
	}
}

/* In the child after fork: only async-signal-safe calls. */
static void child(const struct vnb_exec *e, int pin[2], int pout[2],
		  int perr[2], int status_fd, bool switch_ids)
{
	struct child_fail f = {0, 0};
	sigset_t none;
	int s;

	sigemptyset(&none);
	for (s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0 || dup2(perr[1], 2) < 0)
		_exit(127);
	/* nothing else of the agent's reaches the task (the pipes, the
	 * status pipe and the ports are close-on-exec already) */
	syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
	if (switch_ids) {
		f.stage = 1;
		if (setgroups(0, NULL) < 0 || setgid(e->gid) < 0 ||
		    setuid(e->uid) < 0) {
			f.errnum = errno;
			if (write(status_fd, &f, sizeof(f)) < 0)
				_exit(126);
			_exit(126);
		}
	}
	if (chdir(e->cwd) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			child_say("cwd ", e->cwd,
				  " does not exist in the VM; running in /",
				  "");
		else
			child_say("cannot enter cwd ", e->cwd, " in the VM (",
				  errtext(errno));
		if (chdir("/") < 0)
			_exit(127);
	}
	s = child_exec(e);
	child_say("cannot run '", e->argv[0], "' in the VM: ", errtext(s));
	_exit(s == EACCES || s == ENOEXEC || s == EISDIR ? 126 : 127);
}

int vnb_task_spawn(struct vnb_task *t, const struct vnb_exec *e,
		   vnb_error_t *err)
{
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	int pst[2] = {-1, -1}, pidfd = -1, st, e2;
	struct child_fail f;
	bool switch_ids;
	ssize_t n;
	pid_t pid;

	switch_ids =
	    geteuid() == 0 || e->uid != geteuid() || e->gid != getegid();
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 ||
	    pipe2(perr, O_CLOEXEC) < 0 || pipe2(pst, O_CLOEXEC) < 0) {
		e2 = errno;
		vnb_errprintf(err, "cannot make the task's pipes: %s",
			      strerror(e2));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		e2 = errno;
		vnb_errprintf(err, "cannot fork the task: %s", strerror(e2));
		goto fail;
	}
	if (pid == 0) {
		close(pst[0]);
		child(e, pin, pout, perr, pst[1], switch_ids);
	}
	close(pst[1]);
	pst[1] = -1;
	/* EOF: the exec happened (or failed after the credentials, which
	 * is the task's own failure) */
	do
		n = read(pst[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(f)) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		e2 = f.errnum;
		vnb_errprintf(err,
			      "cannot run the task as uid %u gid %u in the "
			      "VM: %s",
			      (unsigned)e->uid, (unsigned)e->gid, strerror(e2));
		goto fail;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		e2 = errno;
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		vnb_errprintf(err, "cannot watch the task (pidfd_open): %s",
			      strerror(e2));
		goto fail;
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	close(pst[0]);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	fcntl(pout[0], F_SETFL, O_NONBLOCK);
	fcntl(perr[0], F_SETFL, O_NONBLOCK);
	t->pid = pid;
	t->pidfd = pidfd;
	t->in = pin[1];
	t->out = pout[0];
	t->err = perr[0];
	return 0;
fail:
	close_pair(pin);
	close_pair(pout);
	close_pair(perr);
	close_pair(pst);
	errno = e2;
	return -1;
}
