/*
 * taskhelper - the tasks the agent tests run in the "VM":
 *
 *   taskhelper exit N          exit with status N
 *   taskhelper raise SIG       die by signal SIG
 *   taskhelper gen SEED N      write N bytes of stream SEED to stdout
 *   taskhelper gen2 N          N bytes of stream 1 to stdout and of
 *                              stream 2 to stderr, interleaved
 *   taskhelper check SEED N    read stdin: print "ok N" when it is the
 *                              first N bytes of stream SEED and ends there
 *   taskhelper waitsig         print "ready PID", wait for SIGTERM, SIGINT
 *                              or SIGUSR1, print "got SIG", exit 3
 *   taskhelper sleep           print "ready PID", sleep until killed
 *   taskhelper pwd | ids       print the working directory | "UID GID"
 *   taskhelper env NAME        print $NAME
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/test/stream.h"

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int gen(int fd, uint64_t seed, uint64_t n)
{
	static uint8_t buf[65536];
	uint64_t off = 0;

	while (off < n) {
		size_t k =
		    n - off < sizeof(buf) ? (size_t)(n - off) : sizeof(buf);

		stream_fill(seed, off, buf, k);
		if (write_all(fd, buf, k) < 0)
			return 1;
		off += k;
	}
	return 0;
}

static int gen2(uint64_t n)
{
	static uint8_t buf[65536];
	uint64_t off = 0;

	while (off < n) {
		size_t k =
		    n - off < sizeof(buf) ? (size_t)(n - off) : sizeof(buf);

		stream_fill(1, off, buf, k);
		if (write_all(1, buf, k) < 0)
			return 1;
		stream_fill(2, off, buf, k);
		if (write_all(2, buf, k) < 0)
			return 1;
		off += k;
	}
	return 0;
}

static int check(uint64_t seed, uint64_t n)
{
	struct stream_check c = {seed, 0, false, 0};
	static uint8_t buf[65536];
	ssize_t r;

	while ((r = read(0, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			printf("read: %s\n", strerror(errno));
			return 1;
		}
		stream_check(&c, buf, (size_t)r);
	}
	if (c.bad)
		printf("bad byte at %llu\n", (unsigned long long)c.bad_at);
	else if (c.off != n)
		printf("got %llu bytes\n", (unsigned long long)c.off);
	else
		printf("ok %llu\n", (unsigned long long)c.off);
	return !(c.off == n && !c.bad);
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	char cwd[4096];
	sigset_t set;
	int sig;

	if (!strcmp(m, "exit") && argc == 3)
		return atoi(argv[2]);
	if (!strcmp(m, "raise") && argc == 3) {
		sig = atoi(argv[2]);
		signal(sig, SIG_DFL);
		raise(sig);
		return 100;
	}
	if (!strcmp(m, "gen") && argc == 4)
		return gen(1, strtoull(argv[2], NULL, 10),
			   strtoull(argv[3], NULL, 10));
	if (!strcmp(m, "gen2") && argc == 3)
		return gen2(strtoull(argv[2], NULL, 10));
	if (!strcmp(m, "check") && argc == 4)
		return check(strtoull(argv[2], NULL, 10),
			     strtoull(argv[3], NULL, 10));
	if (!strcmp(m, "waitsig")) {
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		if (sigwait(&set, &sig) != 0)
			return 1;
		printf("got %d\n", sig);
		return 3;
	}
	if (!strcmp(m, "sleep")) {
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		for (;;)
			pause();
	}
	if (!strcmp(m, "pwd")) {
		if (!getcwd(cwd, sizeof(cwd)))
			return 1;
		printf("%s\n", cwd);
		return 0;
	}
	if (!strcmp(m, "ids")) {
		printf("%u %u\n", (unsigned)getuid(), (unsigned)getgid());
		return 0;
	}
	if (!strcmp(m, "env") && argc == 3) {
		const char *v = getenv(argv[2]);

		printf("%s\n", v ? v : "(unset)");
		return 0;
	}
	fprintf(stderr, "taskhelper: bad arguments\n");
	return 2;
}
