/*
 * harness.h - what the agent tests share: a "VM" made of fakeqemu and
 * vnb-agent running on the host in a private temporary directory, vnb-exec
 * runs whose output is captured (and checked as a stream when asked), and
 * a bare protocol client for what vnb-exec never sends.
 *
 * Every wait has a deadline, only so that nothing hangs: a test that hits
 * one fails; none asserts on how long something took.
 */
#ifndef VNB_AGENT_TEST_HARNESS_H
#define VNB_AGENT_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/test/stream.h"
#include "proto/proto.h"

struct h_vm {
	char tmp[256]; /* removed at teardown */
	char run[512]; /* the job's run dir: ctl.sock, task.<i>.sock */
	char ports[512]; /* the agent's --ports */
	char log[512]; /* the agent's stderr */
	char bindir[512]; /* the build's agent/ */
	char helper[600]; /* agent/test/taskhelper */
	pid_t qemu, agent;
};

/* Start fakeqemu with ntasks task channels and vnb-agent with extra
 * arguments (NULL-terminated, may be NULL).  Bails out on failure. */
void h_vm_start(struct h_vm *vm, const char *argv0, unsigned ntasks,
		const char *const *agent_args);
/* Kill the agent (SIGTERM) and start it again. */
void h_vm_restart_agent(struct h_vm *vm, const char *const *agent_args);
void h_vm_stop(struct h_vm *vm);
/* The agent's log as TAP comments. */
void h_vm_diag(const struct h_vm *vm);

struct h_cap {
	size_t n; /* bytes received */
	char head[16384]; /* the first of them, NUL-terminated */
	bool checking; /* check them as stream chk.seed */
	struct stream_check chk;
	bool eof;
};

struct h_proc {
	pid_t pid;
	int out, err; /* our ends of its stdout and stderr */
	struct h_cap o, e;
	int status; /* waitpid's, after h_finish */
};

/*
 * Run vnb-exec --run-dir vm->run [opts...] -- argv... with stdin from
 * stdin_fd (-1: /dev/null, -2: closed) and SLURM_LOCALID=localid (-1:
 * unset).
 * opts and argv are NULL-terminated (opts may be NULL).
 */
void h_exec_start(struct h_proc *p, const struct h_vm *vm, int stdin_fd,
		  int localid, const char *const *opts,
		  const char *const *argv);
/* Read its output until its stdout holds needle: true, or false at the
 * deadline or when stdout ends without it. */
bool h_wait_output(struct h_proc *p, const char *needle, int timeout_s);
/* Read its output to the end and reap it (SIGKILL at the deadline);
 * returns the wait status. */
int h_finish(struct h_proc *p, int timeout_s);
/* Both at once: start, finish; returns the wait status. */
int h_run(struct h_proc *p, const struct h_vm *vm, const char *const *argv);

/* Poll cond(arg) every 20 ms until it is true or timeout_s passes. */
bool h_until(bool (*cond)(void *), void *arg, int timeout_s);

/* A bare protocol client on path: connect, then messages one by one. */
int h_client_connect(const char *path);
bool h_client_send(int fd, const uint8_t *buf, int len);
/* The next message (payload valid until the next call) within timeout_s:
 * 1, 0 at EOF or deadline, -1 on garbage. */
int h_client_recv(int fd, struct vnb_proto_reader *rd, struct vnb_msg_hdr *h,
		  const uint8_t **p, int timeout_s);
/* HELLO both ways: true when the answer is a HELLO. */
bool h_client_hello(int fd, struct vnb_proto_reader *rd,
		    struct vnb_hello *theirs);

#endif
