/*
 * virt.c - the real VM ops (the libvirt C API), the domain names, and the
 * wait for the guest agent's hello on the control channel.
 *
 * libvirt reports failures through a thread-local "last error" and, unless
 * told otherwise, prints them on stderr.  The printing is turned off at
 * open; the last error is translated here, once, into errno and a message
 * naming the domain, the URI and libvirt's own words.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "common/util.h"
#include "vm/virt.h"

struct virt_ctx {
	virConnectPtr conn;
	char uri[256]; /* what the connection says it is, for messages */
};

/* ------------------------------------------------------------ errors */

static int virt_code_errno(const virError *e)
{
	static const struct {
		int code, err;
	} map[] = {
	    {VIR_ERR_NO_DOMAIN, ENOENT},
	    {VIR_ERR_DOM_EXIST, EEXIST},
	    {VIR_ERR_OPERATION_INVALID, EEXIST},
	    {VIR_ERR_NO_MEMORY, ENOMEM},
	    {VIR_ERR_NO_SUPPORT, ENOTSUP},
	    {VIR_ERR_OPERATION_UNSUPPORTED, ENOTSUP},
	    {VIR_ERR_ARGUMENT_UNSUPPORTED, ENOTSUP},
	    {VIR_ERR_INVALID_ARG, EINVAL},
	    {VIR_ERR_INVALID_DOMAIN, EINVAL},
	    {VIR_ERR_XML_ERROR, EINVAL},
	    {VIR_ERR_XML_DETAIL, EINVAL},
	    {VIR_ERR_XML_INVALID_SCHEMA, EINVAL},
	    {VIR_ERR_CONFIG_UNSUPPORTED, EINVAL},
	    {VIR_ERR_INVALID_MAC, EINVAL},
	    {VIR_ERR_OS_TYPE, EINVAL},
	    {VIR_ERR_NO_KERNEL, EINVAL},
	    {VIR_ERR_NO_NAME, EINVAL},
	    {VIR_ERR_CPU_INCOMPATIBLE, EINVAL},
	    {VIR_ERR_OPERATION_DENIED, EPERM},
	    {VIR_ERR_AUTH_FAILED, EACCES},
	    {VIR_ERR_AUTH_CANCELLED, EACCES},
	    {VIR_ERR_AUTH_UNAVAILABLE, EACCES},
	    {VIR_ERR_ACCESS_DENIED, EACCES},
	    {VIR_ERR_OPERATION_TIMEOUT, ETIMEDOUT},
	    {VIR_ERR_OPERATION_ABORTED, ECANCELED},
	    {VIR_ERR_RESOURCE_BUSY, EBUSY},
	    {VIR_ERR_NO_CONNECT, ECONNREFUSED},
	    {VIR_ERR_INVALID_CONN, ENOTCONN},
	    {VIR_ERR_OVERFLOW, EOVERFLOW},
	    {VIR_ERR_DEVICE_MISSING, ENODEV},
	    {VIR_ERR_NO_SOURCE, ENODEV},
	};
	size_t i;

	if (!e)
		return EIO;
	/* A system error carries the errno of the call that failed. */
	if (e->code == VIR_ERR_SYSTEM_ERROR)
		return e->int1 > 0 ? e->int1 : EIO;
	for (i = 0; i < VNB_ARRAY_SIZE(map); i++)
		if (map[i].code == e->code)
			return map[i].err;
	return EIO;
}

/* libvirt's last error code (VIR_ERR_OK when it said nothing). */
static int virt_last_code(void)
{
	const virError *e = virGetLastError();

	return e ? e->code : VIR_ERR_OK;
}

/* The failure of one operation on a domain: errno from libvirt's last
 * error, and "cannot WHAT domain NAME on URI: <libvirt's message>". */
static int virt_fail(const struct virt_ctx *c, const char *what,
		     const char *name, vnb_error_t *err)
{
	const virError *e = virGetLastError();
	int code = virt_code_errno(e);

	vnb_errprintf(err, "cannot %s domain %s on %s: %s", what, name, c->uri,
		      e && e->message ? e->message : "libvirt gave no reason");
	errno = code;
	return -1;
}

/* libvirt prints every error on stderr unless a handler is set; library
 * code must not print, it reports. */
static void virt_quiet(void *opaque, virErrorPtr e)
{
	(void)opaque;
	(void)e;
}

/* ------------------------------------------------------- connection */

void *vnb_vm_libvirt_open(const char *uri, vnb_error_t *err)
{
	struct virt_ctx *c;
	char *got;

	if (virInitialize() < 0) {
		errno = EIO;
		vnb_errprintf(err, "cannot initialise libvirt");
		return NULL;
	}
	virSetErrorFunc(NULL, virt_quiet);
	c = calloc(1, sizeof(*c));
	if (!c) {
		vnb_errprintf(err, "out of memory");
		return NULL;
	}
	virResetLastError();
	c->conn = virConnectOpen(uri);
	if (!c->conn) {
		const virError *e = virGetLastError();
		int code = virt_code_errno(e);

		vnb_errprintf(err,
			      "cannot connect to libvirt at %s: %s; check that "
			      "libvirtd runs on this node and that the URI "
			      "(node.libvirt_uri) is right",
			      uri ? uri : "libvirt's default URI",
			      e && e->message ? e->message
					      : "libvirt gave no reason");
		free(c);
		errno = code;
		return NULL;
	}
	got = virConnectGetURI(c->conn);
	snprintf(c->uri, sizeof(c->uri), "%s",
		 got ? got : (uri ? uri : "libvirt's default URI"));
	free(got);
	return c;
}

void vnb_vm_libvirt_close(void *ctx)
{
	struct virt_ctx *c = ctx;
	int saved = errno;

	if (c) {
		if (c->conn)
			virConnectClose(c->conn);
		free(c);
	}
	errno = saved;
}

/* ------------------------------------------------------------- ops */

/* Undefine, dropping what a per-job domain may have left: managed save,
 * snapshot and checkpoint metadata, NVRAM and TPM state.  Drivers refuse
 * flags they do not know (the test driver knows only the first two), so
 * retry with fewer. */
static int virt_undefine(virDomainPtr dom)
{
	static const unsigned int flags[] = {
	    VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
		VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
		VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
		VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM,
	    VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
		VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
	    0,
	};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(flags); i++) {
		virResetLastError();
		if (virDomainUndefineFlags(dom, flags[i]) == 0)
			return 0;
		if (virt_last_code() != VIR_ERR_INVALID_ARG &&
		    virt_last_code() != VIR_ERR_NO_SUPPORT)
			return -1;
	}
	return -1;
}

/* The domain named name, or NULL: with *missing true when there is none,
 * else with libvirt's error pending. */
static virDomainPtr virt_lookup(const struct virt_ctx *c, const char *name,
				bool *missing)
{
	virDomainPtr dom;

	virResetLastError();
	dom = virDomainLookupByName(c->conn, name);
	*missing = !dom && virt_last_code() == VIR_ERR_NO_DOMAIN;
	return dom;
}

/* Is <name>NAME</name> in xml?  A cheap guard: start(name) must never
 * define (or redefine) a domain of another name. */
static bool xml_names(const char *xml, const char *name)
{
	const char *p = strstr(xml, "<name>");
	size_t n = strlen(name);

	return p && strncmp(p + 6, name, n) == 0 &&
	       strncmp(p + 6 + n, "</name>", 7) == 0;
}

static int virt_start(void *ctx, const char *name, const char *xml,
		      vnb_error_t *err)
{
	struct virt_ctx *c = ctx;
	virDomainPtr dom = NULL;
	bool missing;
	int rc = -1;

	if (!name || !xml || !xml_names(xml, name)) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "cannot start domain %s: its XML does not "
				     "name it <name>%s</name>",
				     name ? name : "(null)",
				     name ? name : "(null)");
	}
	dom = virt_lookup(c, name, &missing);
	if (dom) {
		bool active = virDomainIsActive(dom) == 1;

		errno = EEXIST;
		vnb_errprintf(err,
			      "cannot start domain %s on %s: it exists "
			      "already (%s); stop it first",
			      name, c->uri,
			      active ? "running" : "defined, shut off");
		goto cleanup;
	}
	if (!missing) {
		virt_fail(c, "look up", name, err);
		goto cleanup;
	}
	virResetLastError();
	dom = virDomainDefineXML(c->conn, xml);
	if (!dom) {
		virt_fail(c, "define", name, err);
		goto cleanup;
	}
	virResetLastError();
	if (virDomainCreate(dom) < 0) {
		virErrorPtr saved = virSaveLastError();
		int code = virt_code_errno(saved);

		/* EEXIST would say "stop it first": wrong after a failed
		 * start of a domain that was not there. */
		if (code == EEXIST)
			code = EIO;
		vnb_errprintf(
		    err, "cannot start domain %s on %s: %s", name, c->uri,
		    saved && saved->message ? saved->message
					    : "libvirt gave no reason");
		virt_undefine(dom);
		virFreeError(saved);
		errno = code;
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (dom)
		virDomainFree(dom);
	return rc;
}

static int virt_stop(void *ctx, const char *name, vnb_error_t *err)
{
	struct virt_ctx *c = ctx;
	virDomainPtr dom = NULL;
	bool missing;
	int rc = -1, active;

	dom = virt_lookup(c, name, &missing);
	if (!dom) {
		if (missing)
			return 0;
		return virt_fail(c, "look up", name, err);
	}
	virResetLastError();
	active = virDomainIsActive(dom);
	if (active < 0) {
		if (virt_last_code() == VIR_ERR_NO_DOMAIN)
			rc = 0;
		else
			virt_fail(c, "query", name, err);
		goto cleanup;
	}
	virResetLastError();
	/* Not running (any more) or gone: both are fine here. */
	if (active == 1 && virDomainDestroy(dom) < 0 &&
	    virt_last_code() != VIR_ERR_OPERATION_INVALID &&
	    virt_last_code() != VIR_ERR_NO_DOMAIN) {
		virt_fail(c, "destroy", name, err);
		goto cleanup;
	}
	/* Gone, or transient (gone once destroyed): both are fine. */
	if (virt_undefine(dom) < 0 && virt_last_code() != VIR_ERR_NO_DOMAIN &&
	    virt_last_code() != VIR_ERR_OPERATION_INVALID) {
		virt_fail(c, "undefine", name, err);
		goto cleanup;
	}
	rc = 0;
cleanup:
	virDomainFree(dom);
	return rc;
}

static int virt_running(void *ctx, const char *name, vnb_error_t *err)
{
	struct virt_ctx *c = ctx;
	virDomainPtr dom;
	bool missing;
	int state = VIR_DOMAIN_NOSTATE, reason = 0, rc;

	dom = virt_lookup(c, name, &missing);
	if (!dom)
		return missing ? 0 : virt_fail(c, "look up", name, err);
	virResetLastError();
	if (virDomainGetState(dom, &state, &reason, 0) < 0) {
		rc = virt_last_code() == VIR_ERR_NO_DOMAIN
			 ? 0
			 : virt_fail(c, "query", name, err);
		virDomainFree(dom);
		return rc;
	}
	virDomainFree(dom);
	switch (state) {
	case VIR_DOMAIN_SHUTOFF:
	case VIR_DOMAIN_CRASHED:
		return 0;
	case VIR_DOMAIN_PAUSED:
		/* qemu stopped it for good: its guest will not answer */
		return reason == VIR_DOMAIN_PAUSED_CRASHED ||
			       reason == VIR_DOMAIN_PAUSED_IOERROR
			   ? 0
			   : 1;
	default: /* running, blocked, being shut down, suspended */
		return 1;
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int virt_list(void *ctx, char (**names)[VNB_VM_NAME_MAX], size_t *n,
		     vnb_error_t *err)
{
	struct virt_ctx *c = ctx;
	virDomainPtr *doms = NULL;
	char(*out)[VNB_VM_NAME_MAX] = NULL;
	size_t k = 0;
	int nd, i, rc = -1;

	virResetLastError();
	nd = virConnectListAllDomains(c->conn, &doms, 0);
	if (nd < 0) {
		int code = virt_code_errno(virGetLastError());

		vnb_errprintf(err, "cannot list the domains on %s: %s", c->uri,
			      virGetLastErrorMessage());
		errno = code;
		return -1;
	}
	out = calloc(nd > 0 ? (size_t)nd : 1, sizeof(*out));
	if (!out) {
		vnb_errprintf(err, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < nd; i++) {
		const char *name = virDomainGetName(doms[i]);

		/* A name that does not fit is not "vnb-<jobid>": not ours. */
		if (!name ||
		    strncmp(name, VNB_VM_NAME_PREFIX,
			    strlen(VNB_VM_NAME_PREFIX)) != 0 ||
		    strlen(name) >= VNB_VM_NAME_MAX)
			continue;
		memcpy(out[k++], name, strlen(name) + 1);
	}
	qsort(out, k, sizeof(*out), name_cmp);
	*names = out;
	*n = k;
	out = NULL;
	rc = 0;
cleanup:
	for (i = 0; i < nd; i++)
		virDomainFree(doms[i]);
	free(doms);
	free(out);
	return rc;
}

const struct vnb_vm_ops vnb_vm_libvirt_ops = {
    .size = sizeof(struct vnb_vm_ops),
    .start = virt_start,
    .stop = virt_stop,
    .running = virt_running,
    .list = virt_list,
};

/* ------------------------------------------------------------ names */

int vnb_vm_name(uint32_t jobid, char *buf, size_t len)
{
	char tmp[VNB_VM_NAME_MAX];
	int n = snprintf(tmp, sizeof(tmp), VNB_VM_NAME_PREFIX "%u",
			 (unsigned)jobid);

	if (n < 0 || (size_t)n >= len) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(buf, tmp, (size_t)n + 1);
	return 0;
}

int vnb_vm_name_jobid(const char *name, uint32_t *jobid)
{
	size_t plen = strlen(VNB_VM_NAME_PREFIX), i;
	const char *d;
	uint64_t v;

	if (!name || strncmp(name, VNB_VM_NAME_PREFIX, plen) != 0)
		goto bad;
	d = name + plen;
	/* decimal digits only, no sign, no leading zero, at most 10 */
	if (d[0] < '1' || d[0] > '9')
		goto bad;
	for (i = 0; d[i]; i++)
		if (d[i] < '0' || d[i] > '9' || i >= 10)
			goto bad;
	if (vnb_parse_u64(d, 1, UINT32_MAX, &v) < 0)
		goto bad;
	*jobid = (uint32_t)v;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* ----------------------------------------------------- agent hello */

/* How often the domain's state is asked, and the connection retried. */
#define WAIT_RUNNING_MS 250
#define WAIT_RETRY_MS 50
#define SUN_PATH_LEN sizeof(((struct sockaddr_un *)0)->sun_path)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_until(long long t)
{
	long long d = t - now_ms();

	return d < 0 ? 0 : d > 60000 ? 60000 : (int)d;
}

/* Connect to path; the fd, or -1 with errno (ENOENT, ECONNREFUSED, EAGAIN:
 * qemu is not listening yet). */
static int agent_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Write all of buf before the deadline; -1 with errno. */
static int send_all(int fd, const uint8_t *buf, size_t len, long long deadline)
{
	while (len > 0) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

		if (w > 0) {
			buf += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int ms = ms_until(deadline);

			if (ms == 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			if (poll(&p, 1, ms) < 0 && errno != EINTR)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

struct wait_state {
	const char *ctl_path, *name, *console_log;
	int timeout_ms;
	bool connected, said_hello;
	int last_errno; /* of the last failed connect */
};

static int wait_timed_out(const struct wait_state *w, vnb_error_t *err)
{
	char where[600];

	if (w->console_log)
		snprintf(where, sizeof(where), "; see the guest console in %s",
			 w->console_log);
	else
		where[0] = '\0';
	errno = ETIMEDOUT;
	if (w->connected)
		return vnb_errprintf(err,
				     "the agent of %s did not say hello on %s "
				     "within %d ms (the guest did not boot, or "
				     "vnb-agent does not run in it)%s",
				     w->name, w->ctl_path, w->timeout_ms,
				     where);
	return vnb_errprintf(err,
			     "cannot reach the control channel %s of %s "
			     "within %d ms (%s)%s",
			     w->ctl_path, w->name, w->timeout_ms,
			     strerror(w->last_errno), where);
}

/* Read what fd has into r and look at the next message: 1 with the
 * agent's hello in *hello, 0 for more to wait for, 2 when the peer closed,
 * -1 with errno and a message. */
static int agent_read(int fd, struct vnb_proto_reader *r,
		      const struct wait_state *w, const struct vnb_hello *mine,
		      struct vnb_hello *hello, vnb_error_t *err)
{
	struct vnb_msg_hdr h;
	const uint8_t *payload;
	vnb_error_t e;
	size_t room;
	uint8_t *space = vnb_proto_reader_space(r, &room);
	ssize_t got;
	int v;

	got = room ? recv(fd, space, room, 0) : 0;
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (got == 0 || (got < 0 && errno == ECONNRESET))
		return 2;
	if (got < 0)
		return vnb_errprintf(err,
				     "cannot read the control channel %s "
				     "of %s: %s",
				     w->ctl_path, w->name, strerror(errno));
	vnb_proto_reader_commit(r, (size_t)got);
	v = vnb_proto_reader_next(r, &h, &payload, &e);
	if (v == 0)
		return 0;
	errno = EPROTO;
	if (v < 0)
		return vnb_errprintf(err,
				     "the agent of %s sent garbage on %s: %s",
				     w->name, w->ctl_path, e.text);
	if (h.type == VNB_MSG_ERROR) {
		struct vnb_proto_error pe;

		if (vnb_proto_decode_error(payload, h.len, &pe, &e) < 0)
			return vnb_errprintf(err,
					     "the agent of %s sent a bad error "
					     "on %s: %s",
					     w->name, w->ctl_path, e.text);
		errno = EPROTO;
		return vnb_errprintf(err, "the agent of %s refused on %s: %s",
				     w->name, w->ctl_path, pe.text);
	}
	if (h.type != VNB_MSG_HELLO) {
		const char *t = vnb_msg_type_name(h.type);

		return vnb_errprintf(err,
				     "the agent of %s sent %s on %s before "
				     "its hello",
				     w->name, t ? t : "an unknown message",
				     w->ctl_path);
	}
	if (vnb_proto_decode_hello(payload, h.len, hello, &e) < 0) {
		errno = EPROTO;
		return vnb_errprintf(err,
				     "the agent of %s sent a bad hello on "
				     "%s: %s",
				     w->name, w->ctl_path, e.text);
	}
	if (vnb_proto_negotiate(mine, hello, &e) < 0) {
		struct vnb_proto_error pe = {.errnum = EPROTONOSUPPORT};
		uint8_t buf[512];
		int n;

		/* Say why before closing, as the protocol asks. */
		snprintf(pe.text, sizeof(pe.text), "%.*s",
			 (int)sizeof(pe.text) - 1, e.text);
		n = vnb_proto_encode_error(buf, sizeof(buf), 0, &pe);
		if (n > 0)
			(void)send(fd, buf, (size_t)n,
				   MSG_NOSIGNAL | MSG_DONTWAIT);
		errno = EPROTO;
		return vnb_errprintf(err, "the agent of %s on %s: %s", w->name,
				     w->ctl_path, e.text);
	}
	return 1;
}

int vnb_vm_wait_agent(const char *ctl_path, int timeout_ms,
		      const struct vnb_vm_ops *ops, void *ctx, const char *name,
		      const char *console_log, struct vnb_hello *hello,
		      vnb_error_t *err)
{
	struct wait_state w = {.ctl_path = ctl_path,
			       .name = name ? name : "the VM",
			       .console_log = console_log,
			       .timeout_ms = timeout_ms,
			       .last_errno = ENOENT};
	struct vnb_hello mine = {.vmin = 1, .vmax = VNB_PROTO_VERSION};
	struct vnb_hello theirs;
	struct vnb_proto_reader *r = NULL;
	uint8_t hello_msg[256];
	long long deadline, next_check, next_try = 0;
	int fd = -1, rc = -1, n;

	if (!ctl_path || !ctl_path[0] || strlen(ctl_path) >= SUN_PATH_LEN ||
	    timeout_ms < 0) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "cannot wait for the agent: the control "
				     "socket path '%s' is empty or longer than "
				     "%zu bytes, or the timeout is negative",
				     ctl_path ? ctl_path : "(null)",
				     SUN_PATH_LEN - 1);
	}
	snprintf(mine.name, sizeof(mine.name), "vnic-bypass %s",
		 PACKAGE_VERSION);
	n = vnb_proto_encode_hello(hello_msg, sizeof(hello_msg), &mine);
	r = vnb_proto_reader_create(4096);
	if (n < 0 || !r) {
		vnb_errprintf(err, "cannot wait for the agent: out of memory");
		goto cleanup;
	}
	deadline = now_ms() + timeout_ms;
	next_check = now_ms();
	for (;;) {
		long long t = now_ms(), wake;
		struct pollfd p;
		int ms, v;

		if (ops && ops->running && t >= next_check) {
			vnb_error_t e;

			v = ops->running(ctx, name, &e);
			if (v < 0) {
				int saved = errno;

				vnb_errprintf(err,
					      "while waiting for the agent: %s",
					      e.text);
				errno = saved;
				goto cleanup;
			}
			if (v == 0) {
				errno = ECHILD;
				vnb_errprintf(err,
					      "%s stopped before its agent "
					      "said hello on %s%s%s",
					      w.name, ctl_path,
					      console_log ? "; see the guest "
							    "console in "
							  : "",
					      console_log ? console_log : "");
				goto cleanup;
			}
			next_check = t + WAIT_RUNNING_MS;
		}
		if (t >= deadline) {
			wait_timed_out(&w, err);
			goto cleanup;
		}
		if (fd < 0 && t >= next_try) {
			fd = agent_connect(ctl_path);
			if (fd < 0) {
				if (errno != ENOENT && errno != ECONNREFUSED &&
				    errno != EAGAIN && errno != EINTR) {
					int saved = errno;

					vnb_errprintf(err,
						      "cannot connect to the "
						      "control channel %s of "
						      "%s: %s",
						      ctl_path, w.name,
						      strerror(saved));
					errno = saved;
					goto cleanup;
				}
				w.last_errno = errno;
				next_try = t + WAIT_RETRY_MS;
			} else {
				w.connected = true;
				if (send_all(fd, hello_msg, (size_t)n,
					     deadline) < 0) {
					/* qemu went away: try again */
					w.last_errno = errno;
					close(fd);
					fd = -1;
					next_try = t + WAIT_RETRY_MS;
				}
			}
		}
		wake = next_check < deadline ? next_check : deadline;
		if (!ops || !ops->running)
			wake = deadline;
		if (fd < 0 && next_try < wake)
			wake = next_try;
		ms = ms_until(wake);
		p = (struct pollfd){.fd = fd, .events = POLLIN};
		if (poll(&p, fd >= 0 ? 1 : 0, ms) < 0) {
			if (errno == EINTR)
				continue;
			vnb_errprintf(err,
				      "cannot wait for the agent: poll: %s",
				      strerror(errno));
			goto cleanup;
		}
		if (fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		v = agent_read(fd, r, &w, &mine, &theirs, err);
		if (v < 0)
			goto cleanup;
		if (v == 1)
			break;
		if (v == 2) {
			/* closed before hello (qemu restarting, an agent
			 * that gave up): connect again, start over */
			close(fd);
			fd = -1;
			vnb_proto_reader_destroy(r);
			r = vnb_proto_reader_create(4096);
			if (!r) {
				vnb_errprintf(err, "cannot wait for the agent: "
						   "out of memory");
				goto cleanup;
			}
			w.last_errno = ECONNRESET;
			next_try = now_ms() + WAIT_RETRY_MS;
		}
	}
	if (hello)
		*hello = theirs;
	rc = 0;
cleanup:
	if (fd >= 0) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	vnb_proto_reader_destroy(r);
	return rc;
}
