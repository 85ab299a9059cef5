/*
 * vnb-agent - runs in the job's VM and runs the job's tasks there.
 *
 *   vnb-agent [--ports DIR] [--allow-root] [--name NAME]
 *
 * Tasks of uid 0 are refused unless --allow-root is given or the kernel
 * command line has vnb.allow_root=1 (the prolog puts it there when the
 * tenant allows root).
 *
 * Serves the control channel DIR/org.vnic-bypass.ctl and every task
 * channel DIR/org.vnic-bypass.task.<i> (DIR: /dev/virtio-ports), each in
 * its own thread: see serve.h.  It runs nothing that did not come through
 * a task channel.  NAME is what HELLO says (default "vnb-agent VERSION").
 * A port that is a unix socket is connected to (tests run the agent on
 * the host that way).  SIGTERM or SIGINT kill the running tasks' process
 * groups, then the agent exits.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/pmixsrv.h"
#include "agent/serve.h"
#include "common/util.h"
#include "vm/domain.h"

#define MAX_CHANS (1 + 4 * VNB_VM_MAX_TASK_CHANNELS)

void vnb_agent_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vnb-agent: %s\n", line);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vnb-agent [--ports DIR] [--allow-root] "
		   "[--name NAME]\n"
		   "Runs the tasks that come through the virtio-serial "
		   "task channels\n"
		   "DIR/" VNB_VM_TASK_CHANNEL_PREFIX "<i> and answers on "
		   "DIR/" VNB_VM_CTL_CHANNEL ".\n"
		   "DIR defaults to /dev/virtio-ports.\n");
}

/* The index of a task channel's name, or -1. */
static long task_index(const char *name)
{
	size_t n = strlen(VNB_VM_TASK_CHANNEL_PREFIX);
	uint64_t i;

	if (strncmp(name, VNB_VM_TASK_CHANNEL_PREFIX, n) != 0 ||
	    vnb_parse_u64(name + n, 0, MAX_CHANS, &i) < 0)
		return -1;
	return (long)i;
}

/* Does the kernel command line say that the tenant lets root's jobs run?
 * The host's prolog puts the word there; nothing in the guest can. */
static bool cmdline_allows_root(const char *path)
{
	char buf[4096], *w, *save = NULL;
	size_t len;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	for (w = strtok_r(buf, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save))
		if (strcmp(w, "vnb.allow_root=1") == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"ports", required_argument, NULL, 'p'},
	    {"allow-root", no_argument, NULL, 'r'},
	    {"name", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct vnb_chan chans[MAX_CHANS];
	static char paths[MAX_CHANS][512], labels[MAX_CHANS][32];
	struct vnb_agent_opts opts = {false, "vnb-agent " PACKAGE_VERSION};
	const char *dir = "/dev/virtio-ports";
	struct dirent *de;
	sigset_t set;
	size_t n = 0, ntask = 0, i;
	DIR *d;
	int o, sig;

	while ((o = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (o) {
		case 'p':
			dir = optarg;
			break;
		case 'r':
			opts.allow_root = true;
			break;
		case 'n':
			opts.name = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || strlen(opts.name) >= 64) {
		usage(stderr);
		return 2;
	}
	if (cmdline_allows_root("/proc/cmdline"))
		opts.allow_root = true;

	d = opendir(dir);
	if (!d) {
		vnb_agent_log("cannot read %s: %s; is virtio_console loaded "
			      "and does the VM have its channels?",
			      dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL && n < MAX_CHANS) {
		bool ctl = strcmp(de->d_name, VNB_VM_CTL_CHANNEL) == 0;
		long ti = task_index(de->d_name);

		if (!ctl && ti < 0)
			continue;
		snprintf(paths[n], sizeof(paths[n]), "%s/%s", dir, de->d_name);
		if (ctl)
			snprintf(labels[n], sizeof(labels[n]), "ctl");
		else
			snprintf(labels[n], sizeof(labels[n]), "task.%ld", ti);
		chans[n].label = labels[n];
		chans[n].ctl = ctl;
		chans[n].port.path = paths[n];
		chans[n].port.fd = -1;
		chans[n].opts = &opts;
		if (vnb_chan_init(&chans[n]) < 0) {
			vnb_agent_log("cannot make a channel's mailbox: %s",
				      strerror(errno));
			closedir(d);
			return 1;
		}
		ntask += !ctl;
		n++;
	}
	closedir(d);
	if (ntask == 0) {
		vnb_agent_log("no task channel (%s<i>) in %s; nothing to serve",
			      VNB_VM_TASK_CHANNEL_PREFIX, dir);
		return 1;
	}

	/* SIGIO is taken with sigtimedwait by the thread that waits for a
	 * host; SIGTERM and SIGINT by this one; a write to a gone host or
	 * task is an EPIPE, not a death */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < n; i++) {
		pthread_t th;
		int e = pthread_create(&th, NULL, vnb_serve, &chans[i]);

		if (e) {
			vnb_agent_log("cannot start a thread: %s", strerror(e));
			return 1;
		}
		pthread_detach(th);
	}
	vnb_agent_log("serving %zu task channel(s)%s in %s%s", ntask,
		      n > ntask ? " and the control channel" : "", dir,
		      opts.allow_root ? " (root tasks allowed)" : "");

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	do
		sig = sigwaitinfo(&set, NULL);
	while (sig < 0);
	for (i = 0; i < n; i++) {
		pid_t pg = chans[i].pgid;

		if (pg > 0)
			kill(-pg, SIGKILL);
	}
	vnb_agent_pmix_stop();
	vnb_agent_log("%s: stopped", strsignal(sig));
	fflush(stderr);
	_exit(0);
}
