/*
 * proto.h - the wire protocol between the host (vnb-exec, the prolog) and
 * vnb-agent in the guest, over a virtio-serial port.  Pure encoding and
 * decoding; no I/O.
 *
 * Every message is a 16-byte header and a payload:
 *
 *   magic "VNBP"(4) version(1) type(1) flags(2) chan(4) len(4)
 *
 * in network byte order.  chan names the task (stream) a message belongs
 * to; 0 is the control channel.  Payloads are a sequence of fields, each
 * tag(2) len(4) bytes, so that a later version can add fields that an
 * older peer skips.  Decoders never read past what they were given and
 * refuse, with a message, anything malformed: a bad magic, an unknown
 * version or type, a length over VNB_PROTO_MAX_PAYLOAD, a field that
 * overruns its message, a missing required field, a string with a NUL.
 *
 * The connection opens with HELLO both ways: each side says the protocol
 * versions it speaks and its capabilities; both use the highest common
 * version, and a side that finds none says ERROR and closes.
 */
#ifndef VNB_PROTO_PROTO_H
#define VNB_PROTO_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define VNB_PROTO_MAGIC 0x564e4250u /* "VNBP" */
#define VNB_PROTO_VERSION 2 /* the highest spoken here */
#define VNB_PROTO_VERSION_MIN 1
#define VNB_PROTO_HDR_LEN 16
#define VNB_PROTO_MAX_PAYLOAD (1u << 20)
#define VNB_PROTO_MAX_ARGS 4096 /* argv and envp entries each */

enum vnb_msg_type {
	VNB_MSG_HELLO = 1, /* both ways: versions, capabilities, name */
	VNB_MSG_EXEC = 2, /* host: run a task on chan */
	VNB_MSG_STDIN = 3, /* host: data for the task; empty: EOF */
	VNB_MSG_STDOUT = 4, /* agent: the task's output; empty: EOF */
	VNB_MSG_STDERR = 5, /* agent: likewise for stderr */
	VNB_MSG_SIGNAL = 6, /* host: deliver a signal to the task */
	VNB_MSG_EXIT = 7, /* agent: the task ended (exit code or signal) */
	VNB_MSG_ERROR = 8, /* either: errno and a message */
	VNB_MSG_PING = 9, /* either: keepalive; answered with PONG */
	VNB_MSG_PONG = 10,
	/* version 2: PMIx in the guest (doc/vm.md, "PMIx in the VM") */
	VNB_MSG_PMIX_JOB = 11, /* host: the task's PMIx rank, before EXEC */
	VNB_MSG_FENCE = 12, /* agent: fence through the host's PMIx */
	VNB_MSG_FENCE_DONE = 13, /* host: that fence's status and data */
	VNB_MSG_ABORT = 14, /* agent: abort the step in the host's PMIx */
};
#define VNB_MSG_TYPE_MAX VNB_MSG_ABORT

/* The protocol version that introduced a message type (its headers say
 * that version); 0 for an unknown type. */
unsigned vnb_msg_type_version(unsigned type);

/* "hello", "exec", ...; NULL for an unknown type. */
const char *vnb_msg_type_name(unsigned type);

struct vnb_msg_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t chan;
	uint32_t len; /* payload bytes */
};

void vnb_proto_hdr_encode(uint8_t out[VNB_PROTO_HDR_LEN],
			  const struct vnb_msg_hdr *h);
/* -1 with EPROTO and a message for a bad magic, version, type or length,
 * or a type newer than the header's version. */
int vnb_proto_hdr_decode(const uint8_t in[VNB_PROTO_HDR_LEN],
			 struct vnb_msg_hdr *h, vnb_error_t *err);

/* Capabilities, said in HELLO. */
#define VNB_CAP_EXEC 0x1 /* runs tasks */
#define VNB_CAP_SIGNAL 0x2 /* forwards signals */
#define VNB_CAP_PMIX 0x4 /* is a PMIx server for its tasks */

struct vnb_hello {
	uint8_t vmin, vmax; /* protocol versions spoken */
	uint32_t caps;
	char name[64]; /* e.g. "vnb-agent 0.1.0" */
};

struct vnb_exec {
	uint32_t uid, gid;
	char *cwd;
	char **argv; /* argc entries, then NULL */
	uint32_t argc;
	char **envp; /* envc entries, then NULL */
	uint32_t envc;
};

struct vnb_exit {
	bool signaled; /* else exited */
	int32_t code; /* exit code, or signal number */
};

struct vnb_proto_error {
	int32_t errnum;
	char text[256];
};

/* PMIX_JOB: who the task is in the step's PMIx namespace, and the step's
 * layout, which the agent needs before its first fork. */
#define VNB_PROTO_PMIX_NAME_MAX 256 /* nspace, cred */
struct vnb_pmix_job {
	char nspace[VNB_PROTO_PMIX_NAME_MAX];
	uint32_t rank, size; /* this task's rank; ranks in the step */
	uint32_t nodeid; /* this node's index in nodes */
	char *nodes; /* node names in node-id order, comma-separated */
	char *ppn; /* ranks per node, "0,1;2,3" (PMIx_generate_ppn's form) */
	char cred[VNB_PROTO_PMIX_NAME_MAX]; /* vnb.cred, "" when none */
	char nocred[VNB_PROTO_PMIX_NAME_MAX]; /* why there is none, or "" */
};

/* FENCE (agent) and FENCE_DONE (host).  FENCE's data is the guest's blob
 * for the leader and empty for the others; FENCE_DONE's is every node's
 * blob, in node-id order, from the leader. */
#define VNB_FENCE_COLLECT 0x1 /* the guest asked for PMIX_COLLECT_DATA */
#define VNB_FENCE_LEADER 0x2 /* this task carries the VM's blob */
struct vnb_fence {
	uint32_t seq; /* per namespace, from 1 */
	uint32_t flags; /* VNB_FENCE_* (FENCE) */
	int32_t status; /* a pmix_status_t (FENCE_DONE) */
	const uint8_t *data; /* decoded: points into the payload */
	uint32_t len;
};

/* ABORT: a status for PMIx_Abort, and why. */
struct vnb_abort {
	int32_t status;
	char text[256];
};

/*
 * Encoders write one whole message (header and payload) into buf and
 * return its length, or -1 with ENOSPC (buf too small) or EINVAL (a value
 * the decoder would refuse: too many arguments, a message too large).
 */
int vnb_proto_encode_hello(uint8_t *buf, size_t cap, const struct vnb_hello *h);
int vnb_proto_encode_exec(uint8_t *buf, size_t cap, uint32_t chan,
			  const struct vnb_exec *e);
/* STDIN, STDOUT, STDERR: len bytes of data (0: end of stream). */
int vnb_proto_encode_data(uint8_t *buf, size_t cap, unsigned type,
			  uint32_t chan, const void *data, size_t len);
int vnb_proto_encode_signal(uint8_t *buf, size_t cap, uint32_t chan,
			    int32_t signo);
int vnb_proto_encode_exit(uint8_t *buf, size_t cap, uint32_t chan,
			  const struct vnb_exit *x);
int vnb_proto_encode_error(uint8_t *buf, size_t cap, uint32_t chan,
			   const struct vnb_proto_error *e);
/* Version 2.  pmix_job: EINVAL for a missing nodes or ppn, or a rank
 * outside size; fence: type is VNB_MSG_FENCE or VNB_MSG_FENCE_DONE. */
int vnb_proto_encode_pmix_job(uint8_t *buf, size_t cap, uint32_t chan,
			      const struct vnb_pmix_job *j);
int vnb_proto_encode_fence(uint8_t *buf, size_t cap, unsigned type,
			   uint32_t chan, const struct vnb_fence *f);
int vnb_proto_encode_abort(uint8_t *buf, size_t cap, uint32_t chan,
			   const struct vnb_abort *a);
/* PING and PONG carry no payload. */
int vnb_proto_encode_empty(uint8_t *buf, size_t cap, unsigned type,
			   uint32_t chan);

/*
 * Decoders take a payload (hdr.len bytes after a decoded header) and
 * return 0, or -1 with EPROTO and a message naming the field.
 */
int vnb_proto_decode_hello(const uint8_t *p, size_t len, struct vnb_hello *h,
			   vnb_error_t *err);
/* On success e's strings and arrays live in one allocation: free it with
 * vnb_proto_exec_free(). */
int vnb_proto_decode_exec(const uint8_t *p, size_t len, struct vnb_exec *e,
			  vnb_error_t *err);
void vnb_proto_exec_free(struct vnb_exec *e);
int vnb_proto_decode_signal(const uint8_t *p, size_t len, int32_t *signo,
			    vnb_error_t *err);
int vnb_proto_decode_exit(const uint8_t *p, size_t len, struct vnb_exit *x,
			  vnb_error_t *err);
int vnb_proto_decode_error(const uint8_t *p, size_t len,
			   struct vnb_proto_error *e, vnb_error_t *err);

/* On success nodes and ppn are allocated: free them with
 * vnb_proto_pmix_job_free() (NULL is fine). */
int vnb_proto_decode_pmix_job(const uint8_t *p, size_t len,
			      struct vnb_pmix_job *j, vnb_error_t *err);
void vnb_proto_pmix_job_free(struct vnb_pmix_job *j);
/* f->data points into p. */
int vnb_proto_decode_fence(const uint8_t *p, size_t len, struct vnb_fence *f,
			   vnb_error_t *err);
int vnb_proto_decode_abort(const uint8_t *p, size_t len, struct vnb_abort *a,
			   vnb_error_t *err);

/* The version both sides speak: the highest in both ranges; -1 with
 * EPROTONOSUPPORT and a message when the ranges do not meet. */
int vnb_proto_negotiate(const struct vnb_hello *mine,
			const struct vnb_hello *theirs, vnb_error_t *err);

/*
 * A reader reassembles messages from a byte stream that arrives in pieces
 * of any size.  Its buffer is allocated once, at create.
 */
struct vnb_proto_reader;

struct vnb_proto_reader *vnb_proto_reader_create(size_t max_payload);
void vnb_proto_reader_destroy(struct vnb_proto_reader *r);
/* Where to put up to *room more bytes; then say how many with commit. */
uint8_t *vnb_proto_reader_space(struct vnb_proto_reader *r, size_t *room);
void vnb_proto_reader_commit(struct vnb_proto_reader *r, size_t n);
/* 1 with the next whole message (payload valid until the next call), 0
 * when more bytes are needed, -1 with EPROTO when the stream is corrupt
 * (the reader is then useless: close the connection). */
int vnb_proto_reader_next(struct vnb_proto_reader *r, struct vnb_msg_hdr *h,
			  const uint8_t **payload, vnb_error_t *err);

#endif
