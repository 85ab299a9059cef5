#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

/* Field tags, per message type.  A decoder skips tags it does not know. */
enum {
	F_HELLO_VMIN = 1,
	F_HELLO_VMAX = 2,
	F_HELLO_CAPS = 3,
	F_HELLO_NAME = 4,
	F_EXEC_UID = 1,
	F_EXEC_GID = 2,
	F_EXEC_CWD = 3,
	F_EXEC_ARG = 4,
	F_EXEC_ENV = 5,
	F_SIGNAL_SIGNO = 1,
	F_EXIT_SIGNALED = 1,
	F_EXIT_CODE = 2,
	/* ERROR, and ABORT (version 2): a code (errno, exit status) and a
	 * text */
	F_CODE = 1,
	F_TEXT = 2,
	/* version 2 */
	F_PJ_NSPACE = 1,
	F_PJ_RANK = 2,
	F_PJ_SIZE = 3,
	F_PJ_NODEID = 4,
	F_PJ_NODES = 5,
	F_PJ_PPN = 6,
	F_PJ_CRED = 7,
	F_PJ_NOCRED = 8,
	F_FENCE_SEQ = 1,
	F_FENCE_FLAGS = 2,
	F_FENCE_STATUS = 3,
	F_FENCE_DATA = 4,
};
#define FIELD_HDR 6

static const char *const type_names[] = {
    NULL,     "hello",	  "exec",  "stdin",	 "stdout",
    "stderr", "signal",	  "exit",  "error",	 "ping",
    "pong",   "pmix-job", "fence", "fence-done", "abort",
};

const char *vnb_msg_type_name(unsigned type)
{
	return type >= 1 && type <= VNB_MSG_TYPE_MAX ? type_names[type] : NULL;
}

unsigned vnb_msg_type_version(unsigned type)
{
	if (type >= 1 && type <= VNB_MSG_PONG)
		return 1;
	return type <= VNB_MSG_TYPE_MAX ? 2 : 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

void vnb_proto_hdr_encode(uint8_t out[VNB_PROTO_HDR_LEN],
			  const struct vnb_msg_hdr *h)
{
	put32(out, VNB_PROTO_MAGIC);
	out[4] = h->version;
	out[5] = h->type;
	put16(out + 6, h->flags);
	put32(out + 8, h->chan);
	put32(out + 12, h->len);
}

static int proto_err(vnb_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int proto_err(vnb_error_t *err, const char *fmt, ...)
{
	char text[sizeof(vnb_error_t)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	errno = EPROTO;
	return vnb_errprintf(err, "agent protocol: %s", text);
}

int vnb_proto_hdr_decode(const uint8_t in[VNB_PROTO_HDR_LEN],
			 struct vnb_msg_hdr *h, vnb_error_t *err)
{
	struct vnb_msg_hdr d;

	if (get32(in) != VNB_PROTO_MAGIC)
		return proto_err(err,
				 "bad magic 0x%08x (not a vnb-agent "
				 "channel, or a corrupt stream)",
				 get32(in));
	d.version = in[4];
	d.type = in[5];
	d.flags = get16(in + 6);
	d.chan = get32(in + 8);
	d.len = get32(in + 12);
	if (d.version < VNB_PROTO_VERSION_MIN || d.version > VNB_PROTO_VERSION)
		return proto_err(err,
				 "version %u is not spoken here (only "
				 "%u..%u)",
				 d.version, VNB_PROTO_VERSION_MIN,
				 VNB_PROTO_VERSION);
	if (!vnb_msg_type_name(d.type))
		return proto_err(err, "unknown message type %u", d.type);
	if (vnb_msg_type_version(d.type) > d.version)
		return proto_err(err,
				 "%s is a version %u message, in a version "
				 "%u header",
				 vnb_msg_type_name(d.type),
				 vnb_msg_type_version(d.type), d.version);
	if (d.len > VNB_PROTO_MAX_PAYLOAD)
		return proto_err(err,
				 "%s message of %u bytes is over the %u "
				 "limit",
				 vnb_msg_type_name(d.type), d.len,
				 VNB_PROTO_MAX_PAYLOAD);
	*h = d;
	return 0;
}

/*
 * Encoding.
 */
struct writer {
	uint8_t *buf;
	size_t cap, pos;
	bool full;
};

static void w_field(struct writer *w, uint16_t tag, const void *data,
		    size_t len)
{
	if (w->full || len > VNB_PROTO_MAX_PAYLOAD ||
	    w->cap - w->pos < FIELD_HDR + len) {
		w->full = true;
		return;
	}
	put16(w->buf + w->pos, tag);
	put32(w->buf + w->pos + 2, (uint32_t)len);
	if (len)
		memcpy(w->buf + w->pos + FIELD_HDR, data, len);
	w->pos += FIELD_HDR + len;
}

static void w_u32(struct writer *w, uint16_t tag, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	w_field(w, tag, b, 4);
}

static void w_u8(struct writer *w, uint16_t tag, uint8_t v)
{
	w_field(w, tag, &v, 1);
}

static void w_str(struct writer *w, uint16_t tag, const char *s)
{
	w_field(w, tag, s, strlen(s));
}

static bool w_begin(struct writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->pos = VNB_PROTO_HDR_LEN;
	w->full = cap < VNB_PROTO_HDR_LEN;
	return !w->full;
}

static int w_end(struct writer *w, unsigned type, uint32_t chan)
{
	struct vnb_msg_hdr h = {(uint8_t)vnb_msg_type_version(type),
				(uint8_t)type, 0, chan, 0};

	if (w->full) {
		errno = ENOSPC;
		return -1;
	}
	if (w->pos - VNB_PROTO_HDR_LEN > VNB_PROTO_MAX_PAYLOAD) {
		errno = EINVAL;
		return -1;
	}
	h.len = (uint32_t)(w->pos - VNB_PROTO_HDR_LEN);
	vnb_proto_hdr_encode(w->buf, &h);
	return (int)w->pos;
}

int vnb_proto_encode_hello(uint8_t *buf, size_t cap, const struct vnb_hello *h)
{
	struct writer w;

	if (h->vmin > h->vmax ||
	    memchr(h->name, '\0', sizeof(h->name)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	w_begin(&w, buf, cap);
	w_u8(&w, F_HELLO_VMIN, h->vmin);
	w_u8(&w, F_HELLO_VMAX, h->vmax);
	w_u32(&w, F_HELLO_CAPS, h->caps);
	w_str(&w, F_HELLO_NAME, h->name);
	return w_end(&w, VNB_MSG_HELLO, 0);
}

int vnb_proto_encode_exec(uint8_t *buf, size_t cap, uint32_t chan,
			  const struct vnb_exec *e)
{
	struct writer w;
	uint32_t i;

	if (e->argc == 0 || e->argc > VNB_PROTO_MAX_ARGS ||
	    e->envc > VNB_PROTO_MAX_ARGS || !e->cwd) {
		errno = EINVAL;
		return -1;
	}
	w_begin(&w, buf, cap);
	w_u32(&w, F_EXEC_UID, e->uid);
	w_u32(&w, F_EXEC_GID, e->gid);
	w_str(&w, F_EXEC_CWD, e->cwd);
	for (i = 0; i < e->argc; i++)
		w_str(&w, F_EXEC_ARG, e->argv[i]);
	for (i = 0; i < e->envc; i++)
		w_str(&w, F_EXEC_ENV, e->envp[i]);
	return w_end(&w, VNB_MSG_EXEC, chan);
}

int vnb_proto_encode_data(uint8_t *buf, size_t cap, unsigned type,
			  uint32_t chan, const void *data, size_t len)
{
	struct vnb_msg_hdr h = {1, (uint8_t)type, 0, chan, (uint32_t)len};

	if ((type != VNB_MSG_STDIN && type != VNB_MSG_STDOUT &&
	     type != VNB_MSG_STDERR) ||
	    len > VNB_PROTO_MAX_PAYLOAD) {
		errno = EINVAL;
		return -1;
	}
	if (cap < VNB_PROTO_HDR_LEN + len) {
		errno = ENOSPC;
		return -1;
	}
	vnb_proto_hdr_encode(buf, &h);
	if (len)
		memcpy(buf + VNB_PROTO_HDR_LEN, data, len);
	return (int)(VNB_PROTO_HDR_LEN + len);
}

int vnb_proto_encode_signal(uint8_t *buf, size_t cap, uint32_t chan,
			    int32_t signo)
{
	struct writer w;

	if (signo <= 0 || signo > 64) {
		errno = EINVAL;
		return -1;
	}
	w_begin(&w, buf, cap);
	w_u32(&w, F_SIGNAL_SIGNO, (uint32_t)signo);
	return w_end(&w, VNB_MSG_SIGNAL, chan);
}

int vnb_proto_encode_exit(uint8_t *buf, size_t cap, uint32_t chan,
			  const struct vnb_exit *x)
{
	struct writer w;

	w_begin(&w, buf, cap);
	w_u8(&w, F_EXIT_SIGNALED, x->signaled ? 1 : 0);
	w_u32(&w, F_EXIT_CODE, (uint32_t)x->code);
	return w_end(&w, VNB_MSG_EXIT, chan);
}

/* ERROR and ABORT: a 32-bit code and a text. */
static int encode_code_text(uint8_t *buf, size_t cap, unsigned type,
			    uint32_t chan, int32_t code, const char *text,
			    size_t textcap)
{
	struct writer w;

	if (!memchr(text, '\0', textcap)) {
		errno = EINVAL;
		return -1;
	}
	w_begin(&w, buf, cap);
	w_u32(&w, F_CODE, (uint32_t)code);
	w_str(&w, F_TEXT, text);
	return w_end(&w, type, chan);
}

int vnb_proto_encode_error(uint8_t *buf, size_t cap, uint32_t chan,
			   const struct vnb_proto_error *e)
{
	return encode_code_text(buf, cap, VNB_MSG_ERROR, chan, e->errnum,
				e->text, sizeof(e->text));
}

int vnb_proto_encode_empty(uint8_t *buf, size_t cap, unsigned type,
			   uint32_t chan)
{
	struct writer w;

	if (type != VNB_MSG_PING && type != VNB_MSG_PONG) {
		errno = EINVAL;
		return -1;
	}
	w_begin(&w, buf, cap);
	return w_end(&w, type, chan);
}

int vnb_proto_encode_pmix_job(uint8_t *buf, size_t cap, uint32_t chan,
			      const struct vnb_pmix_job *j)
{
	struct writer w;

	if (!j->nodes || !j->ppn || !j->nspace[0] || j->rank >= j->size ||
	    !memchr(j->nspace, '\0', sizeof(j->nspace)) ||
	    !memchr(j->cred, '\0', sizeof(j->cred)) ||
	    !memchr(j->nocred, '\0', sizeof(j->nocred))) {
		errno = EINVAL;
		return -1;
	}
	w_begin(&w, buf, cap);
	w_str(&w, F_PJ_NSPACE, j->nspace);
	w_u32(&w, F_PJ_RANK, j->rank);
	w_u32(&w, F_PJ_SIZE, j->size);
	w_u32(&w, F_PJ_NODEID, j->nodeid);
	w_str(&w, F_PJ_NODES, j->nodes);
	w_str(&w, F_PJ_PPN, j->ppn);
	w_str(&w, F_PJ_CRED, j->cred);
	if (j->nocred[0])
		w_str(&w, F_PJ_NOCRED, j->nocred);
	return w_end(&w, VNB_MSG_PMIX_JOB, chan);
}

int vnb_proto_encode_fence(uint8_t *buf, size_t cap, unsigned type,
			   uint32_t chan, const struct vnb_fence *f)
{
	struct writer w;

	if ((type != VNB_MSG_FENCE && type != VNB_MSG_FENCE_DONE) ||
	    f->seq == 0 || (f->len && !f->data)) {
		errno = EINVAL;
		return -1;
	}
	w_begin(&w, buf, cap);
	w_u32(&w, F_FENCE_SEQ, f->seq);
	w_u32(&w, F_FENCE_FLAGS, f->flags);
	w_u32(&w, F_FENCE_STATUS, (uint32_t)f->status);
	w_field(&w, F_FENCE_DATA, f->data, f->len);
	return w_end(&w, type, chan);
}

int vnb_proto_encode_abort(uint8_t *buf, size_t cap, uint32_t chan,
			   const struct vnb_abort *a)
{
	return encode_code_text(buf, cap, VNB_MSG_ABORT, chan, a->status,
				a->text, sizeof(a->text));
}

/*
 * Decoding.
 */
struct field {
	uint16_t tag;
	uint32_t len;
	const uint8_t *data;
};

/* 1 with the next field, 0 at the end, -1 when it overruns. */
static int next_field(const uint8_t *p, size_t len, size_t *pos,
		      struct field *f, const char *what, vnb_error_t *err)
{
	if (*pos == len)
		return 0;
	if (len - *pos < FIELD_HDR)
		return proto_err(err, "%s: truncated field header at byte %zu",
				 what, *pos);
	f->tag = get16(p + *pos);
	f->len = get32(p + *pos + 2);
	if (f->len > len - *pos - FIELD_HDR)
		return proto_err(err,
				 "%s: field %u of %u bytes overruns the "
				 "message at byte %zu",
				 what, f->tag, f->len, *pos);
	f->data = p + *pos + FIELD_HDR;
	*pos += FIELD_HDR + f->len;
	return 1;
}

static int f_u32(const struct field *f, uint32_t *v, const char *what,
		 const char *name, vnb_error_t *err)
{
	if (f->len != 4)
		return proto_err(err, "%s: %s has %u bytes, not 4", what, name,
				 f->len);
	*v = get32(f->data);
	return 0;
}

static int f_u8(const struct field *f, uint8_t *v, const char *what,
		const char *name, vnb_error_t *err)
{
	if (f->len != 1)
		return proto_err(err, "%s: %s has %u bytes, not 1", what, name,
				 f->len);
	*v = f->data[0];
	return 0;
}

/* Copy a string field into dst (cap bytes with NUL). */
static int f_str(const struct field *f, char *dst, size_t cap, const char *what,
		 const char *name, vnb_error_t *err)
{
	if (memchr(f->data, '\0', f->len))
		return proto_err(err, "%s: %s contains a NUL byte", what, name);
	if (f->len >= cap)
		return proto_err(err, "%s: %s is %u bytes, over %zu", what,
				 name, f->len, cap - 1);
	memcpy(dst, f->data, f->len);
	dst[f->len] = '\0';
	return 0;
}

/* Mark a singleton field seen; a second one is an error. */
static int once(unsigned *seen, uint16_t tag, const char *what,
		const char *name, vnb_error_t *err)
{
	if (*seen & (1u << tag))
		return proto_err(err, "%s: %s given twice", what, name);
	*seen |= 1u << tag;
	return 0;
}

static int need(unsigned seen, unsigned mask, const char *what,
		const char *const *names, vnb_error_t *err)
{
	unsigned tag;

	for (tag = 1; tag < 16; tag++)
		if ((mask & (1u << tag)) && !(seen & (1u << tag)))
			return proto_err(err, "%s: %s is missing", what,
					 names[tag]);
	return 0;
}

int vnb_proto_decode_hello(const uint8_t *p, size_t len, struct vnb_hello *h,
			   vnb_error_t *err)
{
	static const char *const names[] = {"", "vmin", "vmax", "caps", "name"};
	struct vnb_hello d;
	struct field f;
	size_t pos = 0;
	unsigned seen = 0;
	int rc;

	memset(&d, 0, sizeof(d));
	while ((rc = next_field(p, len, &pos, &f, "hello", err)) > 0) {
		if (f.tag < 1 || f.tag > 4)
			continue;
		if (once(&seen, f.tag, "hello", names[f.tag], err) < 0)
			return -1;
		if ((f.tag == F_HELLO_VMIN &&
		     f_u8(&f, &d.vmin, "hello", "vmin", err) < 0) ||
		    (f.tag == F_HELLO_VMAX &&
		     f_u8(&f, &d.vmax, "hello", "vmax", err) < 0) ||
		    (f.tag == F_HELLO_CAPS &&
		     f_u32(&f, &d.caps, "hello", "caps", err) < 0) ||
		    (f.tag == F_HELLO_NAME && f_str(&f, d.name, sizeof(d.name),
						    "hello", "name", err) < 0))
			return -1;
	}
	if (rc < 0 || need(seen, 0x1e, "hello", names, err) < 0)
		return -1;
	if (d.vmin > d.vmax || d.vmin == 0)
		return proto_err(err, "hello: versions %u..%u are not a range",
				 d.vmin, d.vmax);
	*h = d;
	return 0;
}

int vnb_proto_negotiate(const struct vnb_hello *mine,
			const struct vnb_hello *theirs, vnb_error_t *err)
{
	uint8_t lo = mine->vmin > theirs->vmin ? mine->vmin : theirs->vmin;
	uint8_t hi = mine->vmax < theirs->vmax ? mine->vmax : theirs->vmax;

	if (lo > hi) {
		errno = EPROTONOSUPPORT;
		return vnb_errprintf(err,
				     "agent protocol: '%s' speaks versions "
				     "%u..%u and this side %u..%u; upgrade "
				     "the older of the two",
				     theirs->name, theirs->vmin, theirs->vmax,
				     mine->vmin, mine->vmax);
	}
	return hi;
}

int vnb_proto_decode_exec(const uint8_t *p, size_t len, struct vnb_exec *e,
			  vnb_error_t *err)
{
	static const char *const names[] = {"",	   "uid",  "gid",
					    "cwd", "argv", "envp"};
	size_t pos = 0, bytes = 0;
	uint32_t argc = 0, envc = 0;
	unsigned seen = 0;
	struct field f;
	char *block, *s;
	char **ptrs;
	int rc;

	/* First pass: validate, count, and size the one allocation. */
	memset(e, 0, sizeof(*e));
	while ((rc = next_field(p, len, &pos, &f, "exec", err)) > 0) {
		if (f.tag < 1 || f.tag > 5)
			continue;
		if (f.tag <= 3 && once(&seen, f.tag, "exec", names[f.tag], err))
			return -1;
		seen |= 1u << f.tag;
		if ((f.tag == F_EXEC_UID &&
		     f_u32(&f, &e->uid, "exec", "uid", err) < 0) ||
		    (f.tag == F_EXEC_GID &&
		     f_u32(&f, &e->gid, "exec", "gid", err) < 0))
			return -1;
		if (f.tag >= F_EXEC_CWD) {
			if (memchr(f.data, '\0', f.len))
				return proto_err(err,
						 "exec: %s contains a NUL byte",
						 names[f.tag]);
			bytes += f.len + 1;
		}
		if (f.tag == F_EXEC_ARG && ++argc > VNB_PROTO_MAX_ARGS)
			return proto_err(err, "exec: more than %u arguments",
					 VNB_PROTO_MAX_ARGS);
		if (f.tag == F_EXEC_ENV && ++envc > VNB_PROTO_MAX_ARGS)
			return proto_err(err, "exec: more than %u variables",
					 VNB_PROTO_MAX_ARGS);
	}
	if (rc < 0 || need(seen, 0x1e, "exec", names, err) < 0)
		return -1;
	block = malloc((argc + envc + 2) * sizeof(char *) + bytes);
	if (!block) {
		errno = ENOMEM;
		return vnb_errprintf(err,
				     "agent protocol: exec: out of memory");
	}
	/* Second pass: copy. */
	ptrs = (char **)(void *)block;
	e->argv = ptrs;
	e->envp = ptrs + argc + 1;
	s = block + (argc + envc + 2) * sizeof(char *);
	pos = 0;
	while (next_field(p, len, &pos, &f, "exec", NULL) > 0) {
		if (f.tag < F_EXEC_CWD || f.tag > F_EXEC_ENV)
			continue;
		memcpy(s, f.data, f.len);
		s[f.len] = '\0';
		if (f.tag == F_EXEC_CWD)
			e->cwd = s;
		else if (f.tag == F_EXEC_ARG)
			e->argv[e->argc++] = s;
		else
			e->envp[e->envc++] = s;
		s += f.len + 1;
	}
	e->argv[e->argc] = NULL;
	e->envp[e->envc] = NULL;
	return 0;
}

void vnb_proto_exec_free(struct vnb_exec *e)
{
	if (!e)
		return;
	free(e->argv);
	memset(e, 0, sizeof(*e));
}

int vnb_proto_decode_signal(const uint8_t *p, size_t len, int32_t *signo,
			    vnb_error_t *err)
{
	static const char *const names[] = {"", "signo"};
	unsigned seen = 0;
	struct field f;
	size_t pos = 0;
	uint32_t v = 0;
	int rc;

	while ((rc = next_field(p, len, &pos, &f, "signal", err)) > 0) {
		if (f.tag != F_SIGNAL_SIGNO)
			continue;
		if (once(&seen, f.tag, "signal", "signo", err) < 0 ||
		    f_u32(&f, &v, "signal", "signo", err) < 0)
			return -1;
	}
	if (rc < 0 || need(seen, 0x2, "signal", names, err) < 0)
		return -1;
	if (v == 0 || v > 64)
		return proto_err(err, "signal: %u is not a signal number", v);
	*signo = (int32_t)v;
	return 0;
}

int vnb_proto_decode_exit(const uint8_t *p, size_t len, struct vnb_exit *x,
			  vnb_error_t *err)
{
	static const char *const names[] = {"", "signaled", "code"};
	unsigned seen = 0;
	struct field f;
	size_t pos = 0;
	uint8_t sig = 0;
	uint32_t code = 0;
	int rc;

	while ((rc = next_field(p, len, &pos, &f, "exit", err)) > 0) {
		if (f.tag < 1 || f.tag > 2)
			continue;
		if (once(&seen, f.tag, "exit", names[f.tag], err) < 0 ||
		    (f.tag == F_EXIT_SIGNALED &&
		     f_u8(&f, &sig, "exit", "signaled", err) < 0) ||
		    (f.tag == F_EXIT_CODE &&
		     f_u32(&f, &code, "exit", "code", err) < 0))
			return -1;
	}
	if (rc < 0 || need(seen, 0x6, "exit", names, err) < 0)
		return -1;
	if (sig > 1)
		return proto_err(err, "exit: signaled is %u, not 0 or 1", sig);
	if (sig ? (code == 0 || code > 64) : code > 255)
		return proto_err(err, "exit: %s %u is out of range",
				 sig ? "signal" : "exit code", code);
	x->signaled = sig;
	x->code = (int32_t)code;
	return 0;
}

/* ERROR and ABORT: the code and the text, both required. */
static int decode_code_text(const uint8_t *p, size_t len, const char *what,
			    const char *code_name, int32_t *code, char *text,
			    size_t textcap, vnb_error_t *err)
{
	const char *const names[] = {"", code_name, "text"};
	unsigned seen = 0;
	struct field f;
	size_t pos = 0;
	uint32_t v = 0;
	int rc;

	text[0] = '\0';
	while ((rc = next_field(p, len, &pos, &f, what, err)) > 0) {
		if (f.tag < F_CODE || f.tag > F_TEXT)
			continue;
		if (once(&seen, f.tag, what, names[f.tag], err) < 0 ||
		    (f.tag == F_CODE &&
		     f_u32(&f, &v, what, code_name, err) < 0) ||
		    (f.tag == F_TEXT &&
		     f_str(&f, text, textcap, what, "text", err) < 0))
			return -1;
	}
	if (rc < 0 || need(seen, 0x6, what, names, err) < 0)
		return -1;
	*code = (int32_t)v;
	return 0;
}

int vnb_proto_decode_error(const uint8_t *p, size_t len,
			   struct vnb_proto_error *e, vnb_error_t *err)
{
	struct vnb_proto_error d;

	memset(&d, 0, sizeof(d));
	if (decode_code_text(p, len, "error", "errnum", &d.errnum, d.text,
			     sizeof(d.text), err) < 0)
		return -1;
	*e = d;
	return 0;
}

/* A copy of a string field, allocated. */
static int f_dup(const struct field *f, char **dst, const char *what,
		 const char *name, vnb_error_t *err)
{
	if (memchr(f->data, '\0', f->len))
		return proto_err(err, "%s: %s contains a NUL byte", what, name);
	*dst = malloc((size_t)f->len + 1);
	if (!*dst) {
		errno = ENOMEM;
		return vnb_errprintf(err, "%s: out of memory", what);
	}
	memcpy(*dst, f->data, f->len);
	(*dst)[f->len] = '\0';
	return 0;
}

void vnb_proto_pmix_job_free(struct vnb_pmix_job *j)
{
	if (!j)
		return;
	free(j->nodes);
	free(j->ppn);
	j->nodes = j->ppn = NULL;
}

int vnb_proto_decode_pmix_job(const uint8_t *p, size_t len,
			      struct vnb_pmix_job *j, vnb_error_t *err)
{
	static const char *const names[] = {"",	    "nspace", "rank",
					    "size", "nodeid", "nodes",
					    "ppn",  "cred",   "nocred"};
	static const char what[] = "pmix-job";
	struct vnb_pmix_job d;
	unsigned seen = 0;
	struct field f;
	size_t pos = 0;
	int rc;

	memset(&d, 0, sizeof(d));
	while ((rc = next_field(p, len, &pos, &f, what, err)) > 0) {
		if (f.tag < 1 || f.tag > 8)
			continue;
		if (once(&seen, f.tag, what, names[f.tag], err) < 0 ||
		    (f.tag == F_PJ_NSPACE &&
		     f_str(&f, d.nspace, sizeof(d.nspace), what, "nspace",
			   err) < 0) ||
		    (f.tag == F_PJ_RANK &&
		     f_u32(&f, &d.rank, what, "rank", err) < 0) ||
		    (f.tag == F_PJ_SIZE &&
		     f_u32(&f, &d.size, what, "size", err) < 0) ||
		    (f.tag == F_PJ_NODEID &&
		     f_u32(&f, &d.nodeid, what, "nodeid", err) < 0) ||
		    (f.tag == F_PJ_NODES &&
		     f_dup(&f, &d.nodes, what, "nodes", err) < 0) ||
		    (f.tag == F_PJ_PPN &&
		     f_dup(&f, &d.ppn, what, "ppn", err) < 0) ||
		    (f.tag == F_PJ_CRED && f_str(&f, d.cred, sizeof(d.cred),
						 what, "cred", err) < 0) ||
		    (f.tag == F_PJ_NOCRED &&
		     f_str(&f, d.nocred, sizeof(d.nocred), what, "nocred",
			   err) < 0))
			goto fail;
	}
	if (rc < 0 || need(seen, 0x7e, what, names, err) < 0)
		goto fail;
	if (!d.nspace[0]) {
		proto_err(err, "%s: nspace is empty", what);
		goto fail;
	}
	if (d.rank >= d.size) {
		proto_err(err, "%s: rank %u is not below size %u", what, d.rank,
			  d.size);
		goto fail;
	}
	*j = d;
	return 0;
fail:
	vnb_proto_pmix_job_free(&d);
	errno = EPROTO;
	return -1;
}

int vnb_proto_decode_fence(const uint8_t *p, size_t len, struct vnb_fence *f,
			   vnb_error_t *err)
{
	static const char *const names[] = {"", "seq", "flags", "status",
					    "data"};
	struct vnb_fence d;
	unsigned seen = 0;
	struct field fl;
	size_t pos = 0;
	uint32_t st = 0;
	int rc;

	memset(&d, 0, sizeof(d));
	while ((rc = next_field(p, len, &pos, &fl, "fence", err)) > 0) {
		if (fl.tag < 1 || fl.tag > 4)
			continue;
		if (once(&seen, fl.tag, "fence", names[fl.tag], err) < 0 ||
		    (fl.tag == F_FENCE_SEQ &&
		     f_u32(&fl, &d.seq, "fence", "seq", err) < 0) ||
		    (fl.tag == F_FENCE_FLAGS &&
		     f_u32(&fl, &d.flags, "fence", "flags", err) < 0) ||
		    (fl.tag == F_FENCE_STATUS &&
		     f_u32(&fl, &st, "fence", "status", err) < 0))
			return -1;
		if (fl.tag == F_FENCE_DATA) {
			d.data = fl.data;
			d.len = fl.len;
		}
	}
	if (rc < 0 || need(seen, 0x1e, "fence", names, err) < 0)
		return -1;
	if (d.seq == 0)
		return proto_err(err, "fence: seq 0 is not a fence");
	d.status = (int32_t)st;
	*f = d;
	return 0;
}

int vnb_proto_decode_abort(const uint8_t *p, size_t len, struct vnb_abort *a,
			   vnb_error_t *err)
{
	struct vnb_abort d;

	memset(&d, 0, sizeof(d));
	if (decode_code_text(p, len, "abort", "status", &d.status, d.text,
			     sizeof(d.text), err) < 0)
		return -1;
	*a = d;
	return 0;
}

/*
 * The stream reader.
 */
struct vnb_proto_reader {
	uint8_t *buf;
	size_t cap, start, end; /* unread bytes are buf[start..end) */
	size_t max_payload;
	bool broken;
};

struct vnb_proto_reader *vnb_proto_reader_create(size_t max_payload)
{
	struct vnb_proto_reader *r;

	if (max_payload == 0 || max_payload > VNB_PROTO_MAX_PAYLOAD)
		max_payload = VNB_PROTO_MAX_PAYLOAD;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cap = VNB_PROTO_HDR_LEN + max_payload;
	r->max_payload = max_payload;
	r->buf = malloc(r->cap);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	return r;
}

void vnb_proto_reader_destroy(struct vnb_proto_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

uint8_t *vnb_proto_reader_space(struct vnb_proto_reader *r, size_t *room)
{
	if (r->start > 0 && r->end == r->cap) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	*room = r->cap - r->end;
	return r->buf + r->end;
}

void vnb_proto_reader_commit(struct vnb_proto_reader *r, size_t n)
{
	r->end += n;
}

int vnb_proto_reader_next(struct vnb_proto_reader *r, struct vnb_msg_hdr *h,
			  const uint8_t **payload, vnb_error_t *err)
{
	size_t avail = r->end - r->start;

	if (r->broken)
		return proto_err(err, "the stream was corrupt earlier");
	if (avail < VNB_PROTO_HDR_LEN) {
		if (r->start > 0 && avail == 0)
			r->start = r->end = 0;
		return 0;
	}
	if (vnb_proto_hdr_decode(r->buf + r->start, h, err) < 0) {
		r->broken = true;
		return -1;
	}
	if (h->len > r->max_payload) {
		r->broken = true;
		return proto_err(err,
				 "a %u-byte message is over this reader's "
				 "limit of %zu",
				 h->len, r->max_payload);
	}
	if (avail < VNB_PROTO_HDR_LEN + h->len) {
		/* Make room for the rest of this message. */
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, avail);
			r->start = 0;
			r->end = avail;
		}
		return 0;
	}
	*payload = r->buf + r->start + VNB_PROTO_HDR_LEN;
	r->start += VNB_PROTO_HDR_LEN + h->len;
	return 1;
}
