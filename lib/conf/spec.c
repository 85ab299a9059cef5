/*
 * spec.c - the user's --vnic-bypass[=SPEC]: parse, resolve against the
 * tenant's policy, format.  Pure functions; the text comes from the user,
 * so every message quotes it through a filter that keeps it on one line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "conf/spec.h"

#define OPT "--vnic-bypass"
#define FIELDS "vnics=N, queues=Q, image=NAME, provider=P"
#define SHOW_MAX 48

/* len bytes of s, made printable and cut short, for a one-line message. */
static const char *show(const char *s, size_t len, char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < len && i + 1 < size; i++) {
		unsigned char ch = (unsigned char)s[i];

		buf[i] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	buf[i] = '\0';
	if (i < len && size > 4)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}

static int bad(vnb_error_t *err, const char *field, size_t len, const char *fmt,
	       ...) __attribute__((format(printf, 4, 5)));

static int bad(vnb_error_t *err, const char *field, size_t len, const char *fmt,
	       ...)
{
	char shown[SHOW_MAX], msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vnb_errprintf(err, OPT ": '%s': %s",
		      show(field, len, shown, sizeof(shown)), msg);
	errno = EINVAL;
	return -1;
}

_Static_assert(VNB_MAX_VNICS == VNB_MAX_QUEUES, "one range for both counts");

/* The value of vnics= or queues=: a whole number 1..64, given once. */
static int count_field(const char *f, size_t flen, const char *name,
		       unsigned *out, vnb_error_t *err)
{
	size_t klen = strlen(name);
	const char *v = f + klen + 1;
	size_t vlen = flen - klen - 1;
	char buf[8];
	uint64_t n;

	if (*out)
		return bad(err, f, flen, "%s is given twice; give it once",
			   name);
	if (vlen == 0 || vlen >= sizeof(buf))
		goto bad;
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	if (vnb_parse_u64(buf, 1, VNB_MAX_VNICS, &n) < 0)
		goto bad;
	*out = (unsigned)n;
	return 0;
bad:
	return bad(err, f, flen, "%s must be a whole number from 1 to %d", name,
		   VNB_MAX_VNICS);
}

static int parse_field(const char *f, size_t flen, struct vnb_spec *spec,
		       vnb_error_t *err)
{
	const char *eq = memchr(f, '=', flen);
	const char *v;
	size_t klen, vlen;
	char name[VNB_NAME_MAX];

	if (flen == 0)
		return bad(err, f, 0,
			   "empty field (two commas, or a comma at either "
			   "end); fields are " FIELDS);
	if (!eq)
		return bad(err, f, flen,
			   "missing '='; write each field as NAME=VALUE, one "
			   "of " FIELDS);
	klen = (size_t)(eq - f);
	v = eq + 1;
	vlen = flen - klen - 1;
	if (klen == 5 && !memcmp(f, "vnics", 5))
		return count_field(f, flen, "vnics", &spec->vnics, err);
	if (klen == 6 && !memcmp(f, "queues", 6))
		return count_field(f, flen, "queues", &spec->queues, err);
	if (klen == 5 && !memcmp(f, "image", 5)) {
		if (spec->image[0])
			return bad(err, f, flen,
				   "%s is given twice; give it once", "image");
		if (vlen >= sizeof(name))
			goto bad_image;
		memcpy(name, v, vlen);
		name[vlen] = '\0';
		if (!vnb_name_valid(name, VNB_NAME_MAX - 1))
			goto bad_image;
		memcpy(spec->image, name, vlen + 1);
		return 0;
	}
	if (klen == 8 && !memcmp(f, "provider", 8)) {
		enum vnb_provider p;

		if (spec->provider_set)
			return bad(err, f, flen,
				   "%s is given twice; give it once",
				   "provider");
		if (vlen >= sizeof(name))
			goto bad_provider;
		memcpy(name, v, vlen);
		name[vlen] = '\0';
		if (vnb_provider_parse(name, &p) < 0)
			goto bad_provider;
		spec->provider = p;
		spec->provider_set = 1;
		return 0;
	}
	return bad(err, f, flen,
		   "unknown field; fields are " FIELDS " (see srun --help)");
bad_image:
	return bad(err, f, flen,
		   "image must be a name of 1-63 characters from A-Z a-z "
		   "0-9 . _ -, not starting with '.' or '-'");
bad_provider:
	return bad(err, f, flen,
		   "provider must be one of xdp, packet, udp, shm, auto");
}

int vnb_spec_parse(const char *text, struct vnb_spec *spec, vnb_error_t *err)
{
	struct vnb_spec s;
	const char *f;

	memset(&s, 0, sizeof(s));
	s.provider = VNB_PROVIDER_AUTO;
	if (text && text[0]) {
		for (f = text;; f++) {
			size_t flen = strcspn(f, ",");

			if (parse_field(f, flen, &s, err) < 0)
				return -1;
			f += flen;
			if (!*f)
				break;
		}
	}
	*spec = s;
	return 0;
}

/* "a, b, c" from the tenant's image names. */
static void image_list(const struct vnb_conf_tenant *t, char *buf, size_t size)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < t->nimages; i++) {
		int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
				 t->images[i].name);

		if (w < 0 || (size_t)w >= size - used) {
			strcpy(buf + size - 5, ",...");
			return;
		}
		used += (size_t)w;
	}
}

static void provider_list(unsigned mask, char *buf, size_t size)
{
	size_t used = 0;
	unsigned p;

	buf[0] = '\0';
	for (p = 0; p < VNB_PROVIDER_COUNT; p++) {
		if (p != VNB_PROVIDER_AUTO && !(mask & (1u << p)))
			continue;
		used +=
		    (size_t)snprintf(buf + used, size - used, "%s%s",
				     used ? ", " : "", vnb_provider_name(p));
	}
}

static int refuse(vnb_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int refuse(vnb_error_t *err, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vnb_errprintf(err, OPT ": %s", msg);
	errno = EINVAL;
	return -1;
}

int vnb_spec_resolve(const struct vnb_spec *in, const struct vnb_conf_tenant *t,
		     size_t capacity, struct vnb_spec *out, vnb_error_t *err)
{
	struct vnb_spec s = *in;
	char list[300];
	size_t i;

	if (!t || t->nimages == 0)
		return refuse(err, "no tenant policy to check the spec "
				   "against");
	if (!s.vnics) {
		s.vnics = t->vnics_default;
		if (capacity > 0 && s.vnics > capacity)
			return refuse(err,
				      "a node offers tenant %s %zu vNIC%s, "
				      "fewer than its default of %u; ask the "
				      "admin to fix the configuration",
				      t->name, capacity,
				      capacity == 1 ? "" : "s", s.vnics);
	}
	if (s.vnics > t->vnics_max)
		return refuse(err,
			      "tenant %s allows at most %u vNICs per node; you "
			      "asked for %u",
			      t->name, t->vnics_max, s.vnics);
	if (capacity > 0 && s.vnics > capacity)
		return refuse(err,
			      "a node offers tenant %s %zu vNIC%s; you asked "
			      "for %u",
			      t->name, capacity, capacity == 1 ? "" : "s",
			      s.vnics);
	if (!s.queues)
		s.queues = t->queues_default;
	if (s.queues > t->queues_max)
		return refuse(err,
			      "tenant %s allows at most %u queues per vNIC; "
			      "you asked for %u",
			      t->name, t->queues_max, s.queues);
	if (!s.image[0])
		strcpy(s.image, t->images[0].name);
	for (i = 0; i < t->nimages; i++)
		if (!strcmp(t->images[i].name, s.image))
			break;
	if (i == t->nimages) {
		image_list(t, list, sizeof(list));
		return refuse(err,
			      "tenant %s has no image '%s'; its images are: "
			      "%s",
			      t->name, s.image, list);
	}
	if (!s.provider_set) {
		s.provider = VNB_PROVIDER_AUTO;
		s.provider_set = 1;
	}
	if ((unsigned)s.provider >= VNB_PROVIDER_COUNT ||
	    (s.provider != VNB_PROVIDER_AUTO &&
	     !(t->providers & (1u << s.provider)))) {
		provider_list(t->providers, list, sizeof(list));
		return refuse(err,
			      "tenant %s does not allow provider '%s'; "
			      "allowed: %s",
			      t->name,
			      vnb_provider_name(s.provider)
				  ? vnb_provider_name(s.provider)
				  : "?",
			      list);
	}
	/* A vNIC delivers all its frames to one of its queues: virtio-net
	 * and a VF spread them by a hash that sees no vnb queue, and no
	 * backend programs flow steering yet.  Raw-frame queue sets beyond
	 * the first of a vNIC would wait for frames that never come. */
	if (s.queues > 1 && s.provider != VNB_PROVIDER_UDP &&
	    s.provider != VNB_PROVIDER_SHM)
		return refuse(err,
			      "queues=%u with provider %s: a vNIC delivers "
			      "every frame to one of its queues (no flow "
			      "steering by queue yet), so the other queue "
			      "sets would receive nothing; ask for vnics=%u "
			      "and queues=1 instead, or provider=udp",
			      s.queues, vnb_provider_name(s.provider),
			      s.vnics * s.queues);
	*out = s;
	return 0;
}

int vnb_spec_format(const struct vnb_spec *spec, char *buf, size_t len)
{
	char tmp[VNB_SPEC_MAX];
	size_t used = 0;

	if ((spec->vnics && spec->vnics > VNB_MAX_VNICS) ||
	    (spec->queues && spec->queues > VNB_MAX_QUEUES) ||
	    (spec->image[0] &&
	     !vnb_name_valid(spec->image, VNB_NAME_MAX - 1)) ||
	    (spec->provider_set && !vnb_provider_name(spec->provider))) {
		errno = EINVAL;
		return -1;
	}
	tmp[0] = '\0';
	if (spec->vnics)
		used += (size_t)snprintf(tmp + used, sizeof(tmp) - used,
					 "vnics=%u", spec->vnics);
	if (spec->queues)
		used += (size_t)snprintf(tmp + used, sizeof(tmp) - used,
					 "%squeues=%u", used ? "," : "",
					 spec->queues);
	if (spec->image[0])
		used += (size_t)snprintf(tmp + used, sizeof(tmp) - used,
					 "%simage=%s", used ? "," : "",
					 spec->image);
	if (spec->provider_set)
		used += (size_t)snprintf(tmp + used, sizeof(tmp) - used,
					 "%sprovider=%s", used ? "," : "",
					 vnb_provider_name(spec->provider));
	if (used + 1 > len) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(buf, tmp, used + 1);
	return (int)used;
}
