/*
 * pmix.c - vnb-agent as the PMIx server of its tasks, without a VM or
 * Slurm: this test plays the part of the tasks' vnb-exec on the task
 * channels (PMIX_JOB, EXEC, answering FENCE with FENCE_DONE) and the tasks
 * are vmpmix, a real PMIx client.  Also the pure ppn parser.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/pmixsrv.h"
#include "agent/test/harness.h"
#include "common/tap.h"
#include "common/util.h"

static struct h_vm vm;
static uint8_t buf[VNB_PROTO_HDR_LEN + 65536];

static void test_ppn(void)
{
	static const struct {
		const char *ppn;
		uint32_t size;
		int rc;
		uint32_t nnodes, node3, local3;
	} t[] = {
	    {"0,1;2,3", 4, 0, 2, 1, 1},
	    {"3,0;1,2", 4, 0, 2, 0, 0},
	    {"0;1;2;3", 4, 0, 4, 3, 0},
	    {"0,1,2,3", 4, 0, 1, 0, 3},
	    {"0,1;2", 4, -1, 0, 0, 0},
	    {"0,1;2,2", 4, -1, 0, 0, 0},
	    {"0,1;2,4", 4, -1, 0, 0, 0},
	    {"0,1;;2,3", 4, -1, 0, 0, 0},
	    {"0,1;2,3;", 4, -1, 0, 0, 0},
	    {"a", 1, -1, 0, 0, 0},
	    {"0;1;2;3", 4, -1, 0, 0, 0 /* max 3 nodes */},
	};
	uint32_t node_of[8], local_of[8], nnodes;
	vnb_error_t err = {{0}};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		uint32_t max = i == VNB_ARRAY_SIZE(t) - 1 ? 3 : 64;
		int rc = vnb_agent_ppn_parse(t[i].ppn, t[i].size, max, node_of,
					     local_of, &nnodes, &err);

		if (t[i].rc == 0)
			ok(rc == 0 && nnodes == t[i].nnodes &&
			       node_of[3] == t[i].node3 &&
			       local_of[3] == t[i].local3,
			   "ppn '%s': %u nodes, rank 3 is #%u on node %u",
			   t[i].ppn, t[i].nnodes, t[i].local3, t[i].node3);
		else
			ok(rc < 0 && errno == EINVAL,
			   "ppn '%s' of %u ranks refused", t[i].ppn, t[i].size);
	}
	like(err.text, "is not a partition of the 4 ranks", "with a message");
}

struct host {
	int fd;
	struct vnb_proto_reader *rd;
	char out[4096];
	size_t nout;
	bool exited, aborted;
	struct vnb_exit x;
};

/* Play vnb-exec for rank of nspace ns (size ranks on this node). */
static void host_start(struct host *hs, unsigned chan, const char *ns,
		       uint32_t rank, uint32_t size, const char *ppn,
		       const char *die)
{
	char path[600], prog[700], dieenv[64], *argv[] = {prog, NULL};
	/* libpmix's client keeps a few bytes to its end: not vmpmix's leak
	 * (under --enable-sanitizers) */
	char *envp[] = {"PATH=/bin:/usr/bin", "PMIX_STALE=from-slurm", dieenv,
			"ASAN_OPTIONS=detect_leaks=0", NULL};
	struct vnb_exec e = {getuid(), getgid(), "/", argv, 1, envp, 4};
	struct vnb_pmix_job j = {"", rank, size, 0, "n1", (char *)ppn, "", ""};
	struct vnb_hello hi;
	int n;

	memset(hs, 0, sizeof(*hs));
	snprintf(j.nspace, sizeof(j.nspace), "%s", ns);
	snprintf(j.cred, sizeof(j.cred),
		 "vnb1:mac=02:00:00:00:00:01;vlan=10;q=%u;mtu=1500;fs=2048;"
		 "job=7;step=0;rank=%u",
		 rank, rank);
	snprintf(prog, sizeof(prog), "%s/test/vmpmix", vm.bindir);
	snprintf(dieenv, sizeof(dieenv), "VMPMIX_DIE=%s", die ? die : "");
	snprintf(path, sizeof(path), "%s/task.%u.sock", vm.run, chan);
	hs->rd = vnb_proto_reader_create(0);
	hs->fd = h_client_connect(path);
	if (!h_client_hello(hs->fd, hs->rd, &hi) || !(hi.caps & VNB_CAP_PMIX))
		bail_out("the agent on %s does not say PMIx", path);
	n = vnb_proto_encode_pmix_job(buf, sizeof(buf), 1, &j);
	h_client_send(hs->fd, buf, n);
	n = vnb_proto_encode_exec(buf, sizeof(buf), 1, &e);
	h_client_send(hs->fd, buf, n);
}

/* One message of the host's; FENCE: answered with status and the
 * leader's own blob (the only node).  0 when the channel ended. */
static int host_step(struct host *hs, int32_t fence_status, unsigned *fences)
{
	struct vnb_msg_hdr h;
	const uint8_t *p;
	struct vnb_fence f;
	struct vnb_abort a;
	int n;

	if (h_client_recv(hs->fd, hs->rd, &h, &p, 30) != 1)
		return 0;
	switch (h.type) {
	case VNB_MSG_STDOUT:
	case VNB_MSG_STDERR:
		if (h.len && hs->nout + h.len < sizeof(hs->out)) {
			memcpy(hs->out + hs->nout, p, h.len);
			hs->nout += h.len;
			hs->out[hs->nout] = '\0';
		}
		break;
	case VNB_MSG_FENCE:
		if (vnb_proto_decode_fence(p, h.len, &f, NULL) < 0)
			return 0;
		(*fences)++;
		f.status = fence_status;
		f.flags &= VNB_FENCE_LEADER;
		if (fence_status)
			f.len = 0;
		n = vnb_proto_encode_fence(buf, sizeof(buf), VNB_MSG_FENCE_DONE,
					   h.chan, &f);
		h_client_send(hs->fd, buf, n);
		break;
	case VNB_MSG_ABORT:
		hs->aborted = vnb_proto_decode_abort(p, h.len, &a, NULL) == 0;
		break;
	case VNB_MSG_EXIT:
		vnb_proto_decode_exit(p, h.len, &hs->x, NULL);
		hs->exited = true;
		return 0;
	default:
		break;
	}
	return 1;
}

/* Serve both hosts until both tasks exited. */
static unsigned run_pair(struct host *hs, int32_t fence_status)
{
	unsigned fences = 0;
	bool live[2] = {true, true};

	while (live[0] || live[1])
		for (int i = 0; i < 2; i++)
			if (live[i])
				live[i] = host_step(&hs[i], fence_status,
						    &fences) == 1;
	for (int i = 0; i < 2; i++) {
		close(hs[i].fd);
		vnb_proto_reader_destroy(hs[i].rd);
	}
	return fences;
}

static void test_fence(void)
{
	struct host hs[2];
	unsigned fences;

	host_start(&hs[0], 0, "test.pmix.1", 0, 2, "0,1", NULL);
	host_start(&hs[1], 1, "test.pmix.1", 1, 2, "0,1", NULL);
	fences = run_pair(hs, 0);
	ok(hs[0].exited && !hs[0].x.signaled && hs[0].x.code == 0 &&
	       hs[1].exited && hs[1].x.code == 0,
	   "two PMIx tasks run to the end");
	if (!hs[0].exited || hs[0].x.code)
		diag("rank 0: %s", hs[0].out);
	like(hs[0].out,
	     "rank 0 ok: size 2, cred vnb1:mac=02:00:00:00:00:01;vlan=10;q=0;"
	     "mtu=1500;fs=2048;job=7;step=0;rank=0, peers \"rank 0 on ",
	     "rank 0 reads its vnb.cred and its peers' values");
	like(hs[1].out,
	     "rank 1 ok: size 2, cred vnb1:mac=02:00:00:00:00:01;vlan=10;q=1;",
	     "rank 1 too");
	ok(fences == 2, "the fence went to both hosts (%u FENCE)", fences);
	ok(!hs[0].aborted && !hs[1].aborted, "no ABORT");

	host_start(&hs[0], 0, "test.pmix.2", 0, 2, "0,1", NULL);
	host_start(&hs[1], 1, "test.pmix.2", 1, 2, "0,1", NULL);
	run_pair(hs, -25 /* PMIX_ERR_UNREACH */);
	like(hs[0].out, "rank 0 FAIL: PMIx_Fence",
	     "a failed FENCE_DONE fails the guest's fence");
	ok(hs[0].exited && hs[0].x.code == 1 && hs[1].exited,
	   "and the tasks end");

	host_start(&hs[0], 0, "test.pmix.3", 0, 2, "0,1", NULL);
	host_start(&hs[1], 1, "test.pmix.3", 1, 2, "0,1", "1");
	run_pair(hs, -25);
	ok(hs[1].exited && hs[1].x.code == 3 && hs[1].aborted,
	   "a rank that dies after connecting: ABORT, then its EXIT");
	ok(hs[0].exited, "its peer's task ends too");
}

int main(int argc, char **argv)
{
	static const char *const allow_root[] = {"--allow-root", NULL};
	int rc;

	(void)argc;
	alarm(300); /* only so that nothing hangs */
	test_ppn();
	h_vm_start(&vm, argv[0], 2, getuid() == 0 ? allow_root : NULL);
	test_fence();
	rc = done_testing();
	if (rc)
		h_vm_diag(&vm);
	h_vm_stop(&vm);
	return rc;
}
