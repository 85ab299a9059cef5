/*
 * virt.h - a job's VM through libvirt: the thin side-effect module that
 * vnb-prolog, vnb-epilog and vnbctl use to start, stop and find the
 * domains they own, and the wait for the guest agent's hello.
 *
 * The operations sit behind an ops table so that the node's unit tests can
 * inject failures; the real table speaks the libvirt C API to the URI of
 * the config (node.libvirt_uri), and its unit tests run against libvirt's
 * in-process test:///default driver.
 *
 * Every domain this project owns is named "vnb-<jobid>" and nothing else
 * is; see vnb_vm_name_jobid.
 */
#ifndef VNB_VM_VIRT_H
#define VNB_VM_VIRT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "proto/proto.h"

#define VNB_VM_NAME_MAX 32 /* "vnb-4294967295" and a NUL fit */
#define VNB_VM_NAME_PREFIX "vnb-"

struct vnb_vm_ops {
	size_t size; /* sizeof(struct vnb_vm_ops), for growth */
	/* Define the domain from xml and start it.  EEXIST when a domain of
	 * that name exists already (running or not): the caller stops it
	 * first.  When the start fails the definition is removed again. */
	int (*start)(void *ctx, const char *name, const char *xml,
		     vnb_error_t *err);
	/* Force the domain off (virDomainDestroy, no graceful shutdown) and
	 * undefine it.  A domain that does not exist is a success. */
	int (*stop)(void *ctx, const char *name, vnb_error_t *err);
	/* 1 when the domain exists and runs, 0 when it does not exist or is
	 * not running (shut off, crashed), -1 with a message on error. */
	int (*running)(void *ctx, const char *name, vnb_error_t *err);
	/* The names of every domain, defined or running, whose name begins
	 * with "vnb-".  *names (caller frees) holds *n entries. */
	int (*list)(void *ctx, char (**names)[VNB_VM_NAME_MAX], size_t *n,
		    vnb_error_t *err);
};

/* The libvirt C API.  open connects to uri (NULL: libvirt's default);
 * NULL with errno and a message naming the URI and what to check (is
 * libvirtd running?) when it cannot.  Errors of the ops say which domain
 * and carry libvirt's own message.  libvirt's default error printing to
 * stderr is turned off.  close accepts NULL and keeps errno. */
extern const struct vnb_vm_ops vnb_vm_libvirt_ops;
void *vnb_vm_libvirt_open(const char *uri, vnb_error_t *err);
void vnb_vm_libvirt_close(void *ctx);

/* "vnb-<jobid>" into buf; -1 with ENOSPC when it does not fit. */
int vnb_vm_name(uint32_t jobid, char *buf, size_t len);
/* The job of a domain name "vnb-<decimal jobid>" (no sign, no leading
 * zero, no trailing text, jobid > 0); -1 with EINVAL for any other name. */
int vnb_vm_name_jobid(const char *name, uint32_t *jobid);

/* Wait until the agent answers on the VM's control channel: connect to
 * ctl_path (the host end, a unix socket that qemu listens on), say HELLO,
 * and read the agent's HELLO into *hello (may be NULL).  Retries the
 * connection while the socket is not there yet.  While waiting it asks
 * ops->running (ops may be NULL: do not ask) every few hundred ms, so a
 * guest that dies or never starts fails at once rather than at the
 * deadline.  -1 with errno and a message: ETIMEDOUT after timeout_ms
 * (naming the console log console_log when it is not NULL), ECHILD when
 * the domain stopped, EPROTO for an agent that speaks no common protocol
 * version or sends garbage. */
int vnb_vm_wait_agent(const char *ctl_path, int timeout_ms,
		      const struct vnb_vm_ops *ops, void *ctx, const char *name,
		      const char *console_log, struct vnb_hello *hello,
		      vnb_error_t *err);

#endif
