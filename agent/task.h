/*
 * task.h - start a task of an EXEC message in the VM: a child in its own
 * session (process group = its pid), with its credentials, working
 * directory and environment, and pipes for its stdin, stdout and stderr.
 */
#ifndef VNB_AGENT_TASK_H
#define VNB_AGENT_TASK_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "proto/proto.h"

struct vnb_task {
	pid_t pid; /* also its process group */
	int pidfd; /* readable when the child exits */
	int in, out, err; /* our ends, O_NONBLOCK and close-on-exec */
};

/*
 * Start e.  The child drops to e->uid/e->gid (setgroups to none) unless
 * they are already ours and we are not root; enters e->cwd, or "/" with a
 * warning on its stderr when it cannot; and runs e->argv[0] searched in
 * e's PATH (as a shell searches; no shell runs) with e's environment.  A program that cannot be run is the
 * task's own failure, as in a shell: a message on its stderr and exit
 * status 127 (126 when it is not executable).
 *
 * Returns 0 with t filled in, or -1 with errno and a message when the
 * task could not be started at all (EPERM: the credentials could not be
 * taken; pipes or fork failed); no child is left then.
 */
int vnb_task_spawn(struct vnb_task *t, const struct vnb_exec *e,
		   vnb_error_t *err);

#endif
