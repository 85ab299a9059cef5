/*
 * serve.h - one channel of vnb-agent: the control channel (HELLO, PING)
 * or a task channel (HELLO, then EXEC and the task's stdio, signals and
 * exit status), served by one thread for the agent's whole life.
 *
 * A task ends when its process exited and its stdout and stderr reached
 * EOF (or 2 s after the exit: then its process group is killed and the
 * streams end with what the pipes hold); then EXIT says how it ended, and
 * what is left of its process group is killed.
 *
 * A host that goes away (EOF, POLLHUP, a write error) ends its session:
 * its task's process group is killed with SIGKILL and the channel waits
 * for the next host.  A protocol error is answered with ERROR, ends the
 * session the same way, and what the host still sends is read and dropped
 * until it goes away: the stream cannot be trusted any more.
 */
#ifndef VNB_AGENT_SERVE_H
#define VNB_AGENT_SERVE_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/buf.h"
#include "agent/port.h"

struct vnb_chan {
	const char *label; /* "ctl", "task.3" */
	bool ctl;
	struct vnb_port port;
	const struct vnb_agent_opts *opts;
	/* the running task's process group, 0 when none (for the agent's
	 * own SIGTERM) */
	volatile sig_atomic_t pgid;
	/* messages that other threads (libpmix's) post for the host: the
	 * serving thread moves them out when wake (an eventfd) says so */
	pthread_mutex_t mu;
	struct vnb_buf box;
	int wake;
	uint32_t tchan; /* the running task's chan, for posted messages */
};

/* Set up c's mailbox (mutex, eventfd): 0, or -1 with errno. */
int vnb_chan_init(struct vnb_chan *c);

/* Queue one whole message (its chan already set) for c's host, from any
 * thread: 0, or -1 with ENOMEM. */
int vnb_chan_post(struct vnb_chan *c, const uint8_t *msg, size_t len);

/* The thread's function: serves c forever (arg is a struct vnb_chan). */
void *vnb_serve(void *arg);

#endif
