/*
 * spec.h - the user's --vnic-bypass[=SPEC] option.
 *
 *   SPEC := "" | FIELD ("," FIELD)*
 *   FIELD := "vnics=" N | "queues=" N | "image=" NAME
 *          | "provider=" ("xdp"|"packet"|"udp"|"shm"|"auto")
 *
 * Every field is optional and may appear once.  Parsing is pure; resolving
 * fills the tenant's defaults and checks the tenant's limits.  The
 * normalized form (vnb_spec_format) lists the fields in that order, all
 * four once the spec is resolved, and parses back to the same spec.
 */
#ifndef VNB_CONF_SPEC_H
#define VNB_CONF_SPEC_H

#include <stddef.h>

#include "common/error.h"
#include "conf/conf.h"

#define VNB_SPEC_MAX 256 /* longest normalized spec, with NUL */

struct vnb_spec {
	unsigned vnics; /* 0: not given */
	unsigned queues; /* 0: not given */
	char image[VNB_NAME_MAX]; /* "": not given */
	enum vnb_provider provider;
	int provider_set;
};

/* text may be NULL or "" (a bare --vnic-bypass).  -1 with errno EINVAL and
 * a message naming the field and what is allowed, e.g.
 *   "--vnic-bypass: 'vnics=0': vnics must be a whole number from 1 to 64" */
int vnb_spec_parse(const char *text, struct vnb_spec *spec, vnb_error_t *err);

/* out = in with the tenant's defaults filled in, checked against its limits
 * (vnics.max, queues.max, its images, its providers) and against capacity,
 * the number of vNICs a node offers (0: do not check).  -1 with errno
 * EINVAL and a message that says what the tenant allows. */
int vnb_spec_resolve(const struct vnb_spec *in, const struct vnb_conf_tenant *t,
		     size_t capacity, struct vnb_spec *out, vnb_error_t *err);

/* "vnics=1,queues=1,image=NAME,provider=auto"; fields not given are left
 * out.  Returns the length, or -1 with ENOSPC when buf is too small (or
 * EINVAL when spec holds a value that vnb_spec_parse would refuse). */
int vnb_spec_format(const struct vnb_spec *spec, char *buf, size_t len);

#endif
