/*
 * bigio.c - 100 MiB on the task's stdout and another 100 MiB on its
 * stderr, interleaved, go through vnb-agent, fakeqemu and vnb-exec whole
 * and in order: backpressure holds every stream, nothing is dropped.
 * VNB_AGENT_BIGIO_MIB changes the size.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/test/harness.h"
#include "common/tap.h"

int main(int argc, char **argv)
{
	const char *mib = getenv("VNB_AGENT_BIGIO_MIB");
	unsigned long long n = (mib ? strtoull(mib, NULL, 10) : 100) << 20;
	struct h_vm vm;
	struct h_proc p;
	char sz[32];
	int rc;

	(void)argc;
	alarm(900); /* only so that nothing hangs */
	plan(3);
	/* as root the agent needs --allow-root to run this test's task */
	h_vm_start(&vm, argv[0], 1,
		   getuid() == 0 ? (const char *const[]){"--allow-root", NULL}
				 : NULL);
	snprintf(sz, sizeof(sz), "%llu", n);
	h_exec_start(&p, &vm, -1, -1, NULL,
		     (const char *const[]){vm.helper, "gen2", sz, NULL});
	p.o.checking = p.e.checking = true;
	p.o.chk.seed = 1;
	p.e.chk.seed = 2;
	h_finish(&p, 600);
	ok(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0,
	   "the task exits 0 (status 0x%x)", (unsigned)p.status);
	if (!ok(p.o.n == n && !p.o.chk.bad,
		"stdout: %llu bytes whole and in order", n))
		diag("got %zu bytes%s, first wrong byte at %llu", p.o.n,
		     p.o.chk.bad ? "" : " (all right)",
		     (unsigned long long)p.o.chk.bad_at);
	if (!ok(p.e.n == n && !p.e.chk.bad,
		"stderr: %llu bytes whole and in order", n))
		diag("got %zu bytes%s, first wrong byte at %llu", p.e.n,
		     p.e.chk.bad ? "" : " (all right)",
		     (unsigned long long)p.e.chk.bad_at);
	rc = done_testing();
	if (rc)
		h_vm_diag(&vm);
	h_vm_stop(&vm);
	return rc;
}
