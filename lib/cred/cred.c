#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "cred/cred.h"

#define CRED_PREFIX "vnb1:"

static bool valid(const struct vnb_cred *c)
{
	return c->vlan <= 4094 && c->queue <= 1023 && c->mtu >= 68 &&
	       c->mtu <= 9216 && c->frame_size >= 512 &&
	       c->frame_size <= 65536 &&
	       (c->frame_size & (c->frame_size - 1)) == 0 && c->job != 0;
}

int vnb_cred_encode(const struct vnb_cred *c, char *buf, size_t len)
{
	char mac[18];
	int n;

	if (!valid(c)) {
		errno = EINVAL;
		return -1;
	}
	vnb_mac_format(c->mac, mac);
	n = snprintf(buf, len,
		     CRED_PREFIX "mac=%s;vlan=%u;q=%u;mtu=%u;fs=%u;job=%u;"
				 "step=%u;rank=%u",
		     mac, c->vlan, c->queue, c->mtu, c->frame_size, c->job,
		     c->step, c->rank);
	if (n < 0 || (size_t)n >= len) {
		errno = ENOSPC;
		return -1;
	}
	return n;
}

static const struct field {
	const char *name;
	uint64_t min, max;
	const char *range;
} fields[] = {
    {"mac", 0, 0, "a unicast MAC such as 02:00:00:20:00:40"},
    {"vlan", 0, 4094, "0 to 4094"},
    {"q", 0, 1023, "0 to 1023"},
    {"mtu", 68, 9216, "68 to 9216"},
    {"fs", 512, 65536, "a power of two from 512 to 65536"},
    {"job", 1, UINT32_MAX, "1 to 4294967295"},
    {"step", 0, UINT32_MAX, "0 to 4294967295"},
    {"rank", 0, UINT32_MAX, "0 to 4294967295"},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static int bad(vnb_error_t *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(vnb_error_t *err, const char *field, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return vnb_errprintf(err, "queue credential: %s: %s", field, what);
}

static int set(struct vnb_cred *c, size_t i, const char *val, vnb_error_t *err)
{
	uint64_t v;

	if (i == 0) {
		if (vnb_mac_parse(val, c->mac) < 0 || (c->mac[0] & 1))
			return bad(err, "mac", "'%s' is not a unicast MAC",
				   val);
		return 0;
	}
	if (vnb_parse_u64(val, fields[i].min, fields[i].max, &v) < 0 ||
	    (i == 4 && (v & (v - 1)) != 0))
		return bad(err, fields[i].name, "must be %s", fields[i].range);
	switch (i) {
	case 1:
		c->vlan = (uint16_t)v;
		break;
	case 2:
		c->queue = (uint16_t)v;
		break;
	case 3:
		c->mtu = (uint16_t)v;
		break;
	case 4:
		c->frame_size = (uint32_t)v;
		break;
	case 5:
		c->job = (uint32_t)v;
		break;
	case 6:
		c->step = (uint32_t)v;
		break;
	default:
		c->rank = (uint32_t)v;
		break;
	}
	return 0;
}

int vnb_cred_decode(const char *s, struct vnb_cred *out, vnb_error_t *err)
{
	char buf[VNB_CRED_MAX];
	struct vnb_cred c;
	bool seen[NFIELDS] = {false};
	char *p, *save = NULL;
	size_t i;

	memset(&c, 0, sizeof(c));
	if (!s || strncmp(s, CRED_PREFIX, strlen(CRED_PREFIX)) != 0)
		return bad(err, "version", "%s",
			   "not a v1 credential (it starts with 'vnb1:')");
	if (strlen(s) >= sizeof(buf))
		return bad(err, "length", "%s",
			   "longer than a credential can be");
	snprintf(buf, sizeof(buf), "%s", s + strlen(CRED_PREFIX));
	if (!buf[0] || buf[0] == ';' || strstr(buf, ";;") ||
	    buf[strlen(buf) - 1] == ';')
		return bad(err, "syntax", "%s", "empty field");
	for (p = strtok_r(buf, ";", &save); p; p = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(p, '=');

		if (!eq)
			return bad(err, p, "%s", "expected NAME=VALUE");
		*eq = '\0';
		for (i = 0; i < NFIELDS; i++)
			if (strcmp(p, fields[i].name) == 0)
				break;
		if (i == NFIELDS)
			return bad(err, p, "%s",
				   "unknown field (fields: mac, vlan, q, mtu, "
				   "fs, job, step, rank)");
		if (seen[i])
			return bad(err, p, "%s", "given twice");
		seen[i] = true;
		if (set(&c, i, eq + 1, err) < 0)
			return -1;
	}
	for (i = 0; i < NFIELDS; i++)
		if (!seen[i])
			return bad(err, fields[i].name, "%s", "missing");
	*out = c;
	return 0;
}
