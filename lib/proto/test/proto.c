#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tap.h"
#include "common/util.h"
#include "proto/proto.h"

static uint8_t buf[1 << 16];

/* Decode the header of an encoded message; return its payload. */
static const uint8_t *split(const uint8_t *msg, int len, struct vnb_msg_hdr *h)
{
	vnb_error_t err = {{0}};

	if (len < VNB_PROTO_HDR_LEN || vnb_proto_hdr_decode(msg, h, &err) < 0 ||
	    (int)(VNB_PROTO_HDR_LEN + h->len) != len)
		bail_out("encoded message does not decode: %s", err.text);
	return msg + VNB_PROTO_HDR_LEN;
}

static void test_v2_roundtrips(void)
{
	struct vnb_pmix_job j = {"slurm.pmix.12.0",
				 2,
				 4,
				 1,
				 "n1,n2",
				 "0,1;2,3",
				 "vnb1:mac=02:00:00:00:00:01",
				 ""},
			    j2;
	static const uint8_t blob[] = {0, 1, 2, 0xff, 0};
	struct vnb_fence f = {7, VNB_FENCE_COLLECT | VNB_FENCE_LEADER, 0, blob,
			      sizeof(blob)},
			 f2;
	struct vnb_abort a = {-25, "rank 3 died without PMIx_Finalize"}, a2;
	struct vnb_msg_hdr h;
	vnb_error_t err = {{0}};
	const uint8_t *p;
	int n;

	n = vnb_proto_encode_pmix_job(buf, sizeof(buf), 5, &j);
	p = split(buf, n, &h);
	ok(h.type == VNB_MSG_PMIX_JOB && h.version == 2 && h.chan == 5 &&
	       vnb_proto_decode_pmix_job(p, h.len, &j2, &err) == 0,
	   "pmix-job decodes, in a version 2 header: %s", err.text);
	ok(strcmp(j2.nspace, j.nspace) == 0 && j2.rank == 2 && j2.size == 4 &&
	       j2.nodeid == 1 && strcmp(j2.nodes, "n1,n2") == 0 &&
	       strcmp(j2.ppn, "0,1;2,3") == 0 && strcmp(j2.cred, j.cred) == 0,
	   "pmix-job: every field");
	vnb_proto_pmix_job_free(&j2);
	vnb_proto_pmix_job_free(NULL);
	ok(j2.nocred[0] == '\0', "no reason for a missing credential");
	j.cred[0] = '\0';
	snprintf(j.nocred, sizeof(j.nocred), "2 tasks, 1 queue set");
	n = vnb_proto_encode_pmix_job(buf, sizeof(buf), 5, &j);
	p = split(buf, n, &h);
	ok(vnb_proto_decode_pmix_job(p, h.len, &j2, &err) == 0 &&
	       j2.cred[0] == '\0' &&
	       strcmp(j2.nocred, "2 tasks, 1 queue set") == 0,
	   "pmix-job without a credential, and why");
	vnb_proto_pmix_job_free(&j2);
	j.rank = 4;
	ok(vnb_proto_encode_pmix_job(buf, sizeof(buf), 5, &j) < 0 &&
	       errno == EINVAL,
	   "pmix-job: rank 4 of 4 is EINVAL");
	j.rank = 0;
	j.ppn = NULL;
	ok(vnb_proto_encode_pmix_job(buf, sizeof(buf), 5, &j) < 0 &&
	       errno == EINVAL,
	   "pmix-job without ppn is EINVAL");

	n = vnb_proto_encode_fence(buf, sizeof(buf), VNB_MSG_FENCE, 5, &f);
	p = split(buf, n, &h);
	ok(h.type == VNB_MSG_FENCE &&
	       vnb_proto_decode_fence(p, h.len, &f2, &err) == 0 &&
	       f2.seq == 7 && f2.flags == f.flags && f2.len == sizeof(blob) &&
	       memcmp(f2.data, blob, sizeof(blob)) == 0,
	   "fence round-trips with its blob");
	f.status = -24;
	f.len = 0;
	f.data = NULL;
	n = vnb_proto_encode_fence(buf, sizeof(buf), VNB_MSG_FENCE_DONE, 5, &f);
	p = split(buf, n, &h);
	ok(h.type == VNB_MSG_FENCE_DONE &&
	       vnb_proto_decode_fence(p, h.len, &f2, &err) == 0 &&
	       f2.status == -24 && f2.len == 0,
	   "fence-done: a negative status, no data");
	ok(vnb_proto_encode_fence(buf, sizeof(buf), VNB_MSG_ABORT, 5, &f) < 0 &&
	       errno == EINVAL,
	   "fence with another type: EINVAL");
	f.seq = 0;
	ok(vnb_proto_encode_fence(buf, sizeof(buf), VNB_MSG_FENCE, 5, &f) < 0 &&
	       errno == EINVAL,
	   "fence seq 0: EINVAL");
	ok(vnb_proto_encode_fence(
	       buf, 20, VNB_MSG_FENCE, 5,
	       &(struct vnb_fence){1, 0, 0, blob, sizeof(blob)}) < 0 &&
	       errno == ENOSPC,
	   "fence into a small buffer: ENOSPC");

	n = vnb_proto_encode_abort(buf, sizeof(buf), 5, &a);
	p = split(buf, n, &h);
	ok(h.type == VNB_MSG_ABORT &&
	       vnb_proto_decode_abort(p, h.len, &a2, &err) == 0 &&
	       a2.status == -25 && strcmp(a2.text, a.text) == 0,
	   "abort round-trips");
	is_int(vnb_msg_type_version(VNB_MSG_PONG), 1, "pong is version 1");
	is_int(vnb_msg_type_version(VNB_MSG_ABORT), 2, "abort is version 2");
	is_int(vnb_msg_type_version(99), 0, "type 99 has no version");
	ok(strcmp(vnb_msg_type_name(VNB_MSG_FENCE_DONE), "fence-done") == 0,
	   "fence-done is named");
}

static void test_roundtrips(void)
{
	struct vnb_hello hi = {1, 3, VNB_CAP_EXEC | VNB_CAP_SIGNAL,
			       "vnb-agent 0.1.0"},
			 hi2;
	char *argv[] = {"/bin/echo", "hello world", "", NULL};
	char *envp[] = {"PATH=/bin", "SLURM_JOB_ID=42", NULL};
	struct vnb_exec ex = {1000, 100, "/home/u", argv, 3, envp, 2}, ex2;
	struct vnb_exit x = {true, SIGTERM}, x2;
	struct vnb_proto_error pe = {ENOENT, "no such program"}, pe2;
	struct vnb_msg_hdr h;
	vnb_error_t err = {{0}};
	const uint8_t *p;
	int32_t signo = 0;
	int n;

	n = vnb_proto_encode_hello(buf, sizeof(buf), &hi);
	p = split(buf, n, &h);
	ok(h.type == VNB_MSG_HELLO && h.chan == 0 &&
	       vnb_proto_decode_hello(p, h.len, &hi2, &err) == 0 &&
	       hi2.vmin == 1 && hi2.vmax == 3 && hi2.caps == hi.caps &&
	       strcmp(hi2.name, hi.name) == 0,
	   "hello round-trips");

	n = vnb_proto_encode_exec(buf, sizeof(buf), 7, &ex);
	p = split(buf, n, &h);
	ok(h.type == VNB_MSG_EXEC && h.chan == 7 &&
	       vnb_proto_decode_exec(p, h.len, &ex2, &err) == 0,
	   "exec decodes: %s", err.text);
	ok(ex2.uid == 1000 && ex2.gid == 100 &&
	       strcmp(ex2.cwd, "/home/u") == 0 && ex2.argc == 3 &&
	       strcmp(ex2.argv[1], "hello world") == 0 &&
	       strcmp(ex2.argv[2], "") == 0 && ex2.argv[3] == NULL &&
	       ex2.envc == 2 && strcmp(ex2.envp[1], "SLURM_JOB_ID=42") == 0 &&
	       ex2.envp[2] == NULL,
	   "exec: every field, empty argument kept, arrays NULL-terminated");
	vnb_proto_exec_free(&ex2);
	vnb_proto_exec_free(NULL);

	n = vnb_proto_encode_data(buf, sizeof(buf), VNB_MSG_STDOUT, 3, "abc",
				  3);
	p = split(buf, n, &h);
	ok(h.type == VNB_MSG_STDOUT && h.chan == 3 && h.len == 3 &&
	       memcmp(p, "abc", 3) == 0,
	   "stdout data round-trips");
	n = vnb_proto_encode_data(buf, sizeof(buf), VNB_MSG_STDIN, 3, NULL, 0);
	split(buf, n, &h);
	ok(h.type == VNB_MSG_STDIN && h.len == 0, "empty stdin: end of stream");

	n = vnb_proto_encode_signal(buf, sizeof(buf), 3, SIGINT);
	p = split(buf, n, &h);
	ok(vnb_proto_decode_signal(p, h.len, &signo, &err) == 0 &&
	       signo == SIGINT,
	   "signal round-trips");
	n = vnb_proto_encode_exit(buf, sizeof(buf), 3, &x);
	p = split(buf, n, &h);
	ok(vnb_proto_decode_exit(p, h.len, &x2, &err) == 0 && x2.signaled &&
	       x2.code == SIGTERM,
	   "exit by signal round-trips");
	x.signaled = false;
	x.code = 255;
	n = vnb_proto_encode_exit(buf, sizeof(buf), 3, &x);
	p = split(buf, n, &h);
	ok(vnb_proto_decode_exit(p, h.len, &x2, &err) == 0 && !x2.signaled &&
	       x2.code == 255,
	   "exit code round-trips");
	n = vnb_proto_encode_error(buf, sizeof(buf), 3, &pe);
	p = split(buf, n, &h);
	ok(vnb_proto_decode_error(p, h.len, &pe2, &err) == 0 &&
	       pe2.errnum == ENOENT && strcmp(pe2.text, pe.text) == 0,
	   "error round-trips");
	n = vnb_proto_encode_empty(buf, sizeof(buf), VNB_MSG_PING, 0);
	split(buf, n, &h);
	ok(h.type == VNB_MSG_PING && h.len == 0, "ping has no payload");

	n = vnb_proto_encode_data(buf, sizeof(buf), VNB_MSG_STDOUT, 3, "a", 1);
	ok(n > 4 && buf[4] == 1, "version 1 messages keep a version 1 header");
	test_v2_roundtrips();

	ok(vnb_proto_encode_exec(buf, 40, 7, &ex) < 0 && errno == ENOSPC,
	   "encode into a small buffer: ENOSPC");
	ex.argc = 0;
	ok(vnb_proto_encode_exec(buf, sizeof(buf), 7, &ex) < 0 &&
	       errno == EINVAL,
	   "exec without argv: EINVAL");
	ok(vnb_proto_encode_signal(buf, sizeof(buf), 7, 0) < 0 &&
	       errno == EINVAL,
	   "signal 0: EINVAL");
	ok(vnb_proto_encode_data(buf, sizeof(buf), VNB_MSG_EXIT, 7, "x", 1) < 0,
	   "data with a non-data type: EINVAL");
}

/* A header with the given fields, then raw payload bytes. */
static size_t raw(uint8_t *out, uint32_t magic, uint8_t version, uint8_t type,
		  const char *payload, size_t plen)
{
	struct vnb_msg_hdr h = {version, type, 0, 1, (uint32_t)plen};

	vnb_proto_hdr_encode(out, &h);
	out[0] = (uint8_t)(magic >> 24);
	out[1] = (uint8_t)(magic >> 16);
	out[2] = (uint8_t)(magic >> 8);
	out[3] = (uint8_t)magic;
	memcpy(out + VNB_PROTO_HDR_LEN, payload, plen);
	return VNB_PROTO_HDR_LEN + plen;
}

static void test_bad_headers(void)
{
	struct vnb_msg_hdr h;
	vnb_error_t err = {{0}};
	uint8_t m[64];

	raw(m, 0x12345678, 1, VNB_MSG_PING, "", 0);
	ok(vnb_proto_hdr_decode(m, &h, &err) < 0 && errno == EPROTO,
	   "bad magic refused");
	like(err.text, "bad magic 0x12345678", "named");
	raw(m, VNB_PROTO_MAGIC, 3, VNB_MSG_PING, "", 0);
	ok(vnb_proto_hdr_decode(m, &h, &err) < 0, "version 3 refused");
	like(err.text, "version 3 is not spoken here (only 1..2)", "named");
	raw(m, VNB_PROTO_MAGIC, 0, VNB_MSG_PING, "", 0);
	ok(vnb_proto_hdr_decode(m, &h, &err) < 0, "version 0 refused");
	raw(m, VNB_PROTO_MAGIC, 2, VNB_MSG_PING, "", 0);
	ok(vnb_proto_hdr_decode(m, &h, &err) == 0 && h.version == 2,
	   "a version 1 type in a version 2 header is taken");
	raw(m, VNB_PROTO_MAGIC, 1, VNB_MSG_FENCE, "", 0);
	ok(vnb_proto_hdr_decode(m, &h, &err) < 0 && errno == EPROTO,
	   "a version 2 type in a version 1 header refused");
	like(err.text, "fence is a version 2 message, in a version 1 header",
	     "named");
	raw(m, VNB_PROTO_MAGIC, 1, 0, "", 0);
	ok(vnb_proto_hdr_decode(m, &h, &err) < 0, "type 0 refused");
	raw(m, VNB_PROTO_MAGIC, 1, 99, "", 0);
	ok(vnb_proto_hdr_decode(m, &h, &err) < 0, "type 99 refused");
	like(err.text, "unknown message type 99", "named");
	raw(m, VNB_PROTO_MAGIC, 1, VNB_MSG_STDOUT, "", 0);
	m[12] = 0x7f;
	ok(vnb_proto_hdr_decode(m, &h, &err) < 0, "huge length refused");
	like(err.text, "over the", "named");
}

/* Field bytes: tag(2) len(4) data. */
#define F(tag, len) "\0" tag "\0\0\0" len

static void test_bad_payloads(void)
{
	static const struct {
		unsigned type;
		const char *p;
		size_t len;
		const char *msg;
	} t[] = {
	    {VNB_MSG_SIGNAL, "\0\1\0\0", 4, "truncated field header"},
	    {VNB_MSG_SIGNAL, F("\1", "\4") "\0\0", 8, "overruns"},
	    {VNB_MSG_SIGNAL, F("\1", "\2") "\0\2", 8, "signo has 2 bytes"},
	    {VNB_MSG_SIGNAL, "", 0, "signo is missing"},
	    {VNB_MSG_SIGNAL, F("\1", "\4") "\0\0\0\0", 10, "0 is not a signal"},
	    {VNB_MSG_SIGNAL, F("\1", "\4") "\0\0\0\2" F("\1", "\4") "\0\0\0\2",
	     20, "signo given twice"},
	    {VNB_MSG_EXIT, F("\1", "\1") "\2" F("\2", "\4") "\0\0\0\1", 17,
	     "signaled is 2"},
	    {VNB_MSG_EXIT, F("\1", "\1") "\0" F("\2", "\4") "\0\0\1\0", 17,
	     "exit code 256 is out of range"},
	    {VNB_MSG_EXIT, F("\1", "\1") "\0", 7, "code is missing"},
	    {VNB_MSG_ERROR, F("\1", "\4") "\0\0\0\2" F("\2", "\3") "a\0b", 19,
	     "text contains a NUL"},
	    {VNB_MSG_HELLO,
	     F("\1", "\1") "\2" F("\2", "\1") "\1" F("\3", "\4") "\0\0\0\0" F(
		 "\4", "\1") "x",
	     31, "versions 2..1 are not a range"},
	    {VNB_MSG_HELLO, F("\1", "\1") "\1", 7, "vmax is missing"},
	    {VNB_MSG_EXEC,
	     F("\1", "\4") "\0\0\0\0" F("\2", "\4") "\0\0\0\0" F("\3",
								 "\1") "/",
	     27, "argv is missing"},
	    {VNB_MSG_EXEC,
	     F("\1", "\4") "\0\0\0\0" F("\2", "\4") "\0\0\0\0" F(
		 "\3", "\1") "/" F("\4", "\2") "a\0",
	     35, "argv contains a NUL"},
	    {VNB_MSG_EXEC, F("\1", "\4") "\0\0\0\0" F("\1", "\4") "\0\0\0\0",
	     20, "uid given twice"},
	    /* version 2 */
	    {VNB_MSG_PMIX_JOB,
	     F("\1", "\1") "n" F("\2", "\4") "\0\0\0\2" F(
		 "\3",
		 "\4") "\0\0\0\2" F("\4",
				    "\4") "\0\0\0\0" F("\5",
						       "\2") "n1" F("\6",
								    "\1") "0",
	     52, "rank 2 is not below size 2"},
	    {VNB_MSG_PMIX_JOB,
	     F("\1", "\1") "n" F("\2", "\4") "\0\0\0\0" F(
		 "\3", "\4") "\0\0\0\2" F("\4", "\4") "\0\0\0\0" F("\5",
								   "\2") "n1",
	     45, "ppn is missing"},
	    {VNB_MSG_PMIX_JOB,
	     F("\1", "\0") F("\2", "\4") "\0\0\0\0" F("\3", "\4") "\0\0\0\2" F(
		 "\4", "\4") "\0\0\0\0" F("\5", "\2") "n1" F("\6", "\1") "0",
	     51, "nspace is empty"},
	    {VNB_MSG_PMIX_JOB, F("\5", "\2") "n\0", 8, "nodes contains a NUL"},
	    {VNB_MSG_FENCE,
	     F("\1", "\4") "\0\0\0\0" F("\2", "\4") "\0\0\0\0" F(
		 "\3", "\4") "\0\0\0\0" F("\4", "\0"),
	     36, "seq 0 is not a fence"},
	    {VNB_MSG_FENCE, F("\1", "\4") "\0\0\0\1", 10, "flags is missing"},
	    {VNB_MSG_FENCE, F("\1", "\2") "\0\1", 8, "seq has 2 bytes"},
	    {VNB_MSG_ABORT, F("\2", "\1") "x", 7, "status is missing"},
	    {VNB_MSG_ABORT, F("\1", "\4") "\0\0\0\1" F("\2", "\2") "a\0", 18,
	     "text contains a NUL"},
	};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		const uint8_t *p = (const uint8_t *)t[i].p;
		vnb_error_t err = {{0}};
		struct vnb_hello hi;
		struct vnb_exec ex;
		struct vnb_exit x;
		struct vnb_proto_error pe;
		struct vnb_pmix_job pj;
		struct vnb_fence fe;
		struct vnb_abort ab;
		int32_t signo;
		int rc = 0;

		errno = 0;
		switch (t[i].type) {
		case VNB_MSG_SIGNAL:
			rc = vnb_proto_decode_signal(p, t[i].len, &signo, &err);
			break;
		case VNB_MSG_EXIT:
			rc = vnb_proto_decode_exit(p, t[i].len, &x, &err);
			break;
		case VNB_MSG_ERROR:
			rc = vnb_proto_decode_error(p, t[i].len, &pe, &err);
			break;
		case VNB_MSG_HELLO:
			rc = vnb_proto_decode_hello(p, t[i].len, &hi, &err);
			break;
		case VNB_MSG_PMIX_JOB:
			rc = vnb_proto_decode_pmix_job(p, t[i].len, &pj, &err);
			if (rc == 0)
				vnb_proto_pmix_job_free(&pj);
			break;
		case VNB_MSG_FENCE:
			rc = vnb_proto_decode_fence(p, t[i].len, &fe, &err);
			break;
		case VNB_MSG_ABORT:
			rc = vnb_proto_decode_abort(p, t[i].len, &ab, &err);
			break;
		default:
			rc = vnb_proto_decode_exec(p, t[i].len, &ex, &err);
			if (rc == 0)
				vnb_proto_exec_free(&ex);
			break;
		}
		ok(rc < 0 && errno == EPROTO, "bad %s payload %zu refused",
		   vnb_msg_type_name(t[i].type), i);
		like(err.text, t[i].msg, "bad payload %zu: says '%s'", i,
		     t[i].msg);
	}
	/* A field of an unknown tag is skipped (a later version's field). */
	{
		const char p[] = F("\11", "\2") "zz" F("\1", "\4") "\0\0\0\17";
		int32_t signo = 0;

		ok(vnb_proto_decode_signal((const uint8_t *)p, sizeof(p) - 1,
					   &signo, NULL) == 0 &&
		       signo == 15,
		   "an unknown field is skipped");
	}
}

static void test_negotiate(void)
{
	struct vnb_hello a = {1, 3, 0, "a"}, b = {2, 5, 0, "b"},
			 c = {4, 5, 0, "agent 9"};
	vnb_error_t err = {{0}};

	is_int(vnb_proto_negotiate(&a, &b, &err), 3, "1..3 with 2..5: 3");
	ok(vnb_proto_negotiate(&a, &c, &err) < 0 && errno == EPROTONOSUPPORT,
	   "1..3 with 4..5: none");
	like(err.text, "'agent 9' speaks versions 4..5 and this side 1..3",
	     "the message names both ranges");
}

/* A deterministic generator for split sizes. */
static uint64_t rng = 42;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void test_reader(void)
{
	static uint8_t stream[1 << 20];
	struct vnb_proto_reader *r = vnb_proto_reader_create(4096);
	size_t len = 0, fed = 0;
	uint32_t i, got = 0, good = 0;
	vnb_error_t err = {{0}};
	char data[3000];

	/* 300 messages of varied sizes, fed in pieces of 1..257 bytes. */
	for (i = 0; i < 300; i++) {
		size_t n = (i * 37) % sizeof(data);
		int m;

		memset(data, (int)(i & 0xff), n);
		m = vnb_proto_encode_data(stream + len, sizeof(stream) - len,
					  VNB_MSG_STDOUT, i, data, n);
		len += (size_t)m;
	}
	while (fed < len) {
		struct vnb_msg_hdr h;
		const uint8_t *p;
		size_t room, n = 1 + next_rand() % 257;
		uint8_t *dst = vnb_proto_reader_space(r, &room);

		if (n > room)
			n = room;
		if (n > len - fed)
			n = len - fed;
		memcpy(dst, stream + fed, n);
		vnb_proto_reader_commit(r, n);
		fed += n;
		while (vnb_proto_reader_next(r, &h, &p, &err) == 1) {
			size_t want = (got * 37) % sizeof(data);
			size_t k;
			bool same = h.chan == got && h.len == want;

			for (k = 0; same && k < h.len; k++)
				same = p[k] == (uint8_t)(got & 0xff);
			good += same;
			got++;
		}
	}
	is_int(got, 300, "the reader yields all 300 messages from pieces");
	is_int(good, 300, "each one intact and in order");
	vnb_proto_reader_destroy(r);

	r = vnb_proto_reader_create(64);
	{
		size_t room;
		uint8_t *dst = vnb_proto_reader_space(r, &room);
		struct vnb_msg_hdr h;
		const uint8_t *p;
		int m = vnb_proto_encode_data(buf, sizeof(buf), VNB_MSG_STDOUT,
					      1, data, 100);

		memcpy(dst, buf, VNB_PROTO_HDR_LEN);
		vnb_proto_reader_commit(r, VNB_PROTO_HDR_LEN);
		ok(m > 0 && vnb_proto_reader_next(r, &h, &p, &err) < 0,
		   "a message over the reader's limit breaks the stream");
		like(err.text, "over this reader's limit of 64", "named");
		ok(vnb_proto_reader_next(r, &h, &p, &err) < 0,
		   "and it stays broken");
	}
	vnb_proto_reader_destroy(r);
	r = vnb_proto_reader_create(0);
	{
		size_t room;
		uint8_t *dst = vnb_proto_reader_space(r, &room);
		struct vnb_msg_hdr h;
		const uint8_t *p;

		memcpy(dst, "GET / HTTP/1.1\r\n\r\n", 18);
		vnb_proto_reader_commit(r, 18);
		ok(vnb_proto_reader_next(r, &h, &p, &err) < 0 &&
		       errno == EPROTO,
		   "garbage is refused");
		like(err.text, "bad magic", "as not a vnb-agent channel");
	}
	vnb_proto_reader_destroy(r);
	vnb_proto_reader_destroy(NULL);
}

int main(void)
{
	test_roundtrips();
	test_bad_headers();
	test_bad_payloads();
	test_negotiate();
	test_reader();
	return done_testing();
}
