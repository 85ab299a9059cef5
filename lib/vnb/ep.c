/*
 * ep.c - libvnb's core: opening an endpoint with the right provider, the
 * headers, steering, counters and the completion queue (vnb.h).
 *
 * The providers own rings and registered frames (prov.h); everything that
 * is the same for all of them is here.  Nothing below vnb_ep_open
 * allocates.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/netif.h"
#include "common/util.h"
#include "cred/cred.h"
#include "vnb/core.h"
#include "vnb/frame.h"
#include "vnb/prov.h"
#include "vnb/vnb.h"

/* The providers are written in their own files and may be left out of a
 * build: a missing one is "not available here" (EPROTONOSUPPORT).  The
 * references are hidden, so that one left out resolves to NULL when
 * libvnb is linked, and is never looked up in the program at run time. */
#define VNB_PROV_REF __attribute__((weak, visibility("hidden")))
extern const struct vnb_prov_ops vnb_prov_xdp VNB_PROV_REF;
extern const struct vnb_prov_ops vnb_prov_packet VNB_PROV_REF;
extern const struct vnb_prov_ops vnb_prov_udp VNB_PROV_REF;
extern const struct vnb_prov_ops vnb_prov_shm VNB_PROV_REF;
extern const struct vnb_prov_ops vnb_prov_fake VNB_PROV_REF;

#define DEF_FRAME_SIZE 2048
#define DEF_NFRAMES 4096
#define MIN_FRAME_SIZE 256
#define MAX_FRAME_SIZE 65536
#define MAX_NFRAMES (1u << 20)
#define ETH_MIN_FRAME 60 /* without FCS: shorter l2 frames are padded */
#define REAP_BATCH 32
#define HOT static inline __attribute__((always_inline))

/* Ethernet, 802.1Q and vnb headers: the most a frame has in front. */
#define HDR_MAX (14 + 4 + VNB_HDR_LEN)

/* What the core keeps beside the endpoint the providers see. */
struct ep_core {
	struct vnb_ep ep;
	uint32_t mtu_payload; /* from a credential's MTU; 0: none */
	/* The headers of a frame to the last destination sent to, with len
	 * and seq 0: a frame to the same destination copies them and sets
	 * those two fields. */
	uint8_t tmpl[HDR_MAX];
	uint8_t tmpl_mac[6];
	uint16_t tmpl_queue;
	uint8_t tmpl_flags;
	bool tmpl_ok;
	char err[200]; /* the last data-path error, for vnb_ep_error */
};

static struct ep_core *core_of(const struct vnb_ep *ep)
{
	return (struct ep_core *)(uintptr_t)ep;
}

static const char *const prov_names[] = {
    [VNB_PROV_AUTO] = "auto",	  [VNB_PROV_XDP] = "xdp",
    [VNB_PROV_PACKET] = "packet", [VNB_PROV_UDP] = "udp",
    [VNB_PROV_SHM] = "shm",
};

const char *vnb_prov_name(enum vnb_prov p)
{
	if ((unsigned)p >= VNB_ARRAY_SIZE(prov_names))
		return NULL;
	return prov_names[p];
}

static const struct vnb_prov_ops *prov_ops(enum vnb_prov p)
{
	const struct vnb_prov_ops *ops = NULL;

	switch (p) {
	case VNB_PROV_XDP:
		ops = &vnb_prov_xdp;
		break;
	case VNB_PROV_PACKET:
		ops = &vnb_prov_packet;
		break;
	case VNB_PROV_UDP:
		ops = &vnb_prov_udp;
		break;
	case VNB_PROV_SHM:
		ops = &vnb_prov_shm;
		break;
	default:
		break;
	}
	if (ops && ops->size < sizeof(*ops))
		return NULL;
	return ops;
}

/* What a provider needs that an unprivileged process lacks. */
static const char *prov_caps(enum vnb_prov p)
{
	switch (p) {
	case VNB_PROV_XDP:
		return "CAP_NET_ADMIN and CAP_BPF (or CAP_SYS_ADMIN)";
	case VNB_PROV_PACKET:
		return "CAP_NET_RAW";
	default:
		return "a privilege";
	}
}

/* --- the deterministic generator (loss injection) --- */

uint64_t vnb_prng_seed(uint64_t seed)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 0x9e3779b97f4a7c15ull;
}

uint64_t vnb_prng_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* --- addresses --- */

int vnb_addr_format(const struct vnb_addr *a, char *buf, size_t len)
{
	char mac[18], ip[48] = "", shm[48] = "";
	int n;

	if (!a || !buf) {
		errno = EINVAL;
		return -1;
	}
	vnb_mac_format(a->mac, mac);
	if (a->ip4 || a->port) {
		const uint8_t *b = (const uint8_t *)&a->ip4;

		snprintf(ip, sizeof(ip), ";ip=%u.%u.%u.%u;port=%u", b[0], b[1],
			 b[2], b[3], a->port);
	}
	if (a->shm[0]) {
		if (memchr(a->shm, '\0', sizeof(a->shm)) == NULL ||
		    !vnb_name_valid(a->shm, sizeof(a->shm) - 1)) {
			errno = EINVAL;
			return -1;
		}
		snprintf(shm, sizeof(shm), ";shm=%s", a->shm);
	}
	n = snprintf(buf, len, "mac=%s;vlan=%u;q=%u%s%s", mac, a->vlan,
		     a->queue, ip, shm);
	if (n < 0 || (size_t)n >= len) {
		errno = ENOSPC;
		return -1;
	}
	return n;
}

static int addr_bad(vnb_error_t *err, const char *field, const char *what)
{
	errno = EINVAL;
	return vnb_errprintf(err, "endpoint address: %s: %s", field, what);
}

static int parse_ip4(const char *s, uint32_t *out)
{
	uint8_t b[4];
	int i;

	for (i = 0; i < 4; i++) {
		uint64_t v;
		char part[4];
		size_t n = 0;

		while (s[n] >= '0' && s[n] <= '9' && n < 3)
			n++;
		if (n == 0 || (n > 1 && s[0] == '0'))
			return -1;
		memcpy(part, s, n);
		part[n] = '\0';
		if (vnb_parse_u64(part, 0, 255, &v) < 0)
			return -1;
		b[i] = (uint8_t)v;
		s += n;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	if (*s)
		return -1;
	memcpy(out, b, 4);
	return 0;
}

static const struct addr_field {
	const char *name;
	uint64_t min, max; /* the numeric ones */
	const char *what; /* what a good value is */
} addr_fields[] = {
    {"mac", 0, 0, "expected xx:xx:xx:xx:xx:xx"},
    {"vlan", 0, 4094, "must be 0 to 4094"},
    {"q", 0, 65535, "must be 0 to 65535"},
    {"ip", 0, 0, "expected a dotted IPv4 address such as 10.0.0.1"},
    {"port", 1, 65535, "must be 1 to 65535"},
    {"shm", 0, 0,
     "must be 1 to 31 of [A-Za-z0-9._-], not starting with '.' or '-'"},
};
enum { AF_MAC, AF_VLAN, AF_Q, AF_IP, AF_PORT, AF_SHM };

static int addr_set(struct vnb_addr *a, size_t i, const char *val)
{
	uint64_t v;

	switch (i) {
	case AF_MAC:
		return vnb_mac_parse(val, a->mac);
	case AF_IP:
		return parse_ip4(val, &a->ip4);
	case AF_SHM:
		if (!vnb_name_valid(val, sizeof(a->shm) - 1))
			return -1;
		memcpy(a->shm, val, strlen(val) + 1); /* valid: it fits */
		return 0;
	default:
		break;
	}
	if (vnb_parse_u64(val, addr_fields[i].min, addr_fields[i].max, &v) < 0)
		return -1;
	if (i == AF_VLAN)
		a->vlan = (uint16_t)v;
	else if (i == AF_Q)
		a->queue = (uint16_t)v;
	else
		a->port = (uint16_t)v;
	return 0;
}

/* A message naming a field that is not one of ours: at most 15 bytes of
 * its name, as the input had it. */
static int addr_bad_name(vnb_error_t *err, const char *p, size_t n,
			 const char *what)
{
	char name[16];

	snprintf(name, sizeof(name), "%.*s", (int)(n < 15 ? n : 15), p);
	return addr_bad(err, name, what);
}

int vnb_addr_parse(const char *s, struct vnb_addr *out, vnb_error_t *err)
{
	bool seen[VNB_ARRAY_SIZE(addr_fields)] = {false};
	struct vnb_addr a;
	const char *p;

	memset(&a, 0, sizeof(a));
	if (!s || !out)
		return addr_bad(err, "address", "missing");
	if (!*s)
		return addr_bad(err, "address", "empty");
	for (p = s;; p++) {
		const char *end = strchr(p, ';');
		size_t flen = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', flen);
		size_t nlen, vlen, i;
		char val[64];

		if (flen == 0)
			return addr_bad(err, "syntax", "empty field");
		if (!eq)
			return addr_bad_name(err, p, flen,
					     "expected NAME=VALUE");
		nlen = (size_t)(eq - p);
		vlen = flen - nlen - 1;
		for (i = 0; i < VNB_ARRAY_SIZE(addr_fields); i++)
			if (strlen(addr_fields[i].name) == nlen &&
			    memcmp(addr_fields[i].name, p, nlen) == 0)
				break;
		if (i == VNB_ARRAY_SIZE(addr_fields))
			return addr_bad_name(
			    err, p, nlen,
			    "unknown field (fields: mac, vlan, "
			    "q, ip, port, shm)");
		if (seen[i])
			return addr_bad(err, addr_fields[i].name,
					"given twice");
		seen[i] = true;
		if (vlen == 0 || vlen >= sizeof(val))
			return addr_bad(err, addr_fields[i].name,
					vlen ? "value too long"
					     : "empty value");
		memcpy(val, eq + 1, vlen);
		val[vlen] = '\0';
		if (addr_set(&a, i, val) < 0)
			return addr_bad(err, addr_fields[i].name,
					addr_fields[i].what);
		if (!end)
			break;
		p = end;
	}
	if (!seen[AF_MAC])
		return addr_bad(err, "mac", "missing");
	if (!seen[AF_Q])
		return addr_bad(err, "q", "missing");
	if (seen[AF_IP] != seen[AF_PORT])
		return addr_bad(err, seen[AF_IP] ? "port" : "ip",
				"ip and port go together");
	*out = a;
	return 0;
}

/* --- finding the interface by MAC --- */

static int resolve_ifname(struct vnb_ep *ep, const struct vnb_ep_attr *attr,
			  vnb_error_t *err)
{
	static const uint8_t zero[6];
	char mac[18];
	int dir, rc;

	if (attr->ifname) {
		if (!vnb_name_valid(attr->ifname, VNB_IFNAMSIZ - 1)) {
			errno = EINVAL;
			return vnb_errprintf(err,
					     "interface name '%.40s' is not "
					     "valid (1 to 15 of "
					     "[A-Za-z0-9._-])",
					     attr->ifname);
		}
		snprintf(ep->ifname, sizeof(ep->ifname), "%s", attr->ifname);
		return 0;
	}
	if (attr->flags & VNB_EP_FAKE) {
		snprintf(ep->ifname, sizeof(ep->ifname), "fake0");
		return 0;
	}
	if (memcmp(attr->mac, zero, 6) == 0) {
		if (attr->prov == VNB_PROV_SHM)
			return 0;
		errno = EINVAL;
		return vnb_errprintf(err, "%s",
				     "no interface given: set attr.ifname, or "
				     "attr.mac to the vNIC's MAC");
	}
	vnb_mac_format(attr->mac, mac);
	dir = open("/sys/class/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		errno = ENODEV;
		return vnb_errprintf(err,
				     "cannot look for the interface with MAC "
				     "%s: /sys/class/net: %s; give "
				     "attr.ifname instead",
				     mac, strerror(errno));
	}
	rc = vnb_ifname_by_mac(dir, attr->mac, ep->ifname);
	close(dir);
	if (rc < 0) {
		errno = ENODEV;
		return vnb_errprintf(err,
				     "no interface has MAC %s: is the vNIC "
				     "attached to this machine? ('ip link' "
				     "lists the interfaces)",
				     mac);
	}
	return 0;
}

/* --- open and close --- */

static int check_attr(const struct vnb_ep_attr *a, vnb_error_t *err)
{
	errno = EINVAL;
	if ((unsigned)a->prov > VNB_PROV_SHM)
		return vnb_errprintf(err,
				     "attr.prov %d is not a provider (auto, "
				     "xdp, packet, udp, shm)",
				     (int)a->prov);
	if (a->vlan > 4094)
		return vnb_errprintf(
		    err, "attr.vlan %u is out of range (0 to 4094)", a->vlan);
	if (a->frame_size &&
	    (a->frame_size < MIN_FRAME_SIZE || a->frame_size > MAX_FRAME_SIZE))
		return vnb_errprintf(
		    err,
		    "attr.frame_size %u is out of range (%u to "
		    "%u)",
		    a->frame_size, MIN_FRAME_SIZE, MAX_FRAME_SIZE);
	if (a->nframes && (a->nframes < 4 || a->nframes > MAX_NFRAMES))
		return vnb_errprintf(
		    err, "attr.nframes %u is out of range (4 to %u)",
		    a->nframes, MAX_NFRAMES);
	if ((a->flags & VNB_EP_XDP_SKB) && (a->flags & VNB_EP_XDP_NATIVE))
		return vnb_errprintf(err, "%s",
				     "attr.flags: VNB_EP_XDP_SKB and "
				     "VNB_EP_XDP_NATIVE exclude each other");
	if (a->shm_name && !vnb_name_valid(a->shm_name, 31))
		return vnb_errprintf(err,
				     "attr.shm_name '%.40s' is not valid (1 "
				     "to 31 of [A-Za-z0-9._-])",
				     a->shm_name);
	errno = 0;
	return 0;
}

static void reset_prov_state(struct vnb_ep *ep)
{
	ep->ops = NULL;
	ep->prov = NULL;
	memset(&ep->self, 0, sizeof(ep->self));
	memset(ep->mode, 0, sizeof(ep->mode));
	ep->hdr_len = 0;
	ep->max_payload = 0;
}

/* Open ep with one provider.  Before the provider's open, hdr_len and
 * max_payload are set from frame_size; the provider may lower
 * max_payload (to what the interface MTU carries) and may change hdr_len
 * only if it does not put Ethernet headers in the frame. */
static int try_open(struct vnb_ep *ep, const struct vnb_prov_ops *ops,
		    vnb_error_t *err)
{
	struct ep_core *c = core_of(ep);
	uint32_t room;

	reset_prov_state(ep);
	ep->ops = ops;
	ep->hdr_len =
	    (ops->l2 ? 14u + (ep->attr.vlan ? 4u : 0u) : 0u) + VNB_HDR_LEN;
	room = ep->attr.frame_size - ep->hdr_len;
	ep->max_payload = room > UINT16_MAX ? UINT16_MAX : room;
	if (c->mtu_payload && ep->max_payload > c->mtu_payload)
		ep->max_payload = c->mtu_payload;
	snprintf(ep->self.shm, sizeof(ep->self.shm), "%s", ep->shm_name);
	if (ops->open(ep, err) < 0) {
		int e = errno;

		reset_prov_state(ep);
		errno = e;
		return -1;
	}
	if (ep->max_payload > room || ep->max_payload == 0)
		ep->max_payload = room > UINT16_MAX ? UINT16_MAX : room;
	ep->self.vlan = ep->attr.vlan;
	ep->self.queue = ep->attr.queue;
	if (!ep->mode[0])
		snprintf(ep->mode, sizeof(ep->mode), "%s",
			 vnb_prov_name(ops->id) ? vnb_prov_name(ops->id)
						: "fake");
	return 0;
}

/* After an EPERM from provider p: which later provider would open? */
static enum vnb_prov would_work(struct vnb_ep *ep, enum vnb_prov p)
{
	static const enum vnb_prov order[] = {VNB_PROV_PACKET, VNB_PROV_UDP};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(order); i++) {
		const struct vnb_prov_ops *ops = prov_ops(order[i]);

		if (order[i] <= p || !ops)
			continue;
		if (try_open(ep, ops, NULL) == 0) {
			ep->ops->close(ep);
			reset_prov_state(ep);
			return order[i];
		}
	}
	return VNB_PROV_AUTO;
}

static int open_one(struct vnb_ep *ep, enum vnb_prov p, vnb_error_t *err)
{
	const struct vnb_prov_ops *ops = prov_ops(p);
	vnb_error_t perr = {{0}};
	const char *what;
	enum vnb_prov alt;
	bool named;
	int e;

	if (!ops) {
		errno = EPROTONOSUPPORT;
		return vnb_errprintf(err,
				     "provider %s is not built into this "
				     "libvnb: choose another (auto picks the "
				     "best available)",
				     vnb_prov_name(p));
	}
	if (try_open(ep, ops, &perr) == 0)
		return 0;
	e = errno;
	if (e != EPERM) {
		errno = e;
		return vnb_errprintf(err, "provider %s: %s", vnb_prov_name(p),
				     perr.text[0] ? perr.text : strerror(e));
	}
	alt = would_work(ep, p);
	errno = EPERM;
	what = perr.text[0] ? perr.text : "operation not permitted";
	/* A provider's EPERM message names the capability it lacks; which
	 * provider to use instead is said here only, where it is checked. */
	named = strstr(what, "CAP_") != NULL;
	if (alt != VNB_PROV_AUTO && named)
		return vnb_errprintf(err,
				     "provider %s: %s; checked: provider %s "
				     "opens here",
				     vnb_prov_name(p), what,
				     vnb_prov_name(alt));
	if (alt != VNB_PROV_AUTO)
		return vnb_errprintf(err,
				     "provider %s: %s: it needs %s; checked: "
				     "provider %s opens here",
				     vnb_prov_name(p), what, prov_caps(p),
				     vnb_prov_name(alt));
	if (named)
		return vnb_errprintf(err,
				     "provider %s: %s; no other provider "
				     "opens here either",
				     vnb_prov_name(p), what);
	return vnb_errprintf(err,
			     "provider %s: %s: it needs %s, and no other "
			     "provider opens here either",
			     vnb_prov_name(p), what, prov_caps(p));
}

/* auto: xdp, packet, udp in order (shm only when asked for).  Stop at an
 * error that another provider would hit too (no such interface, queue
 * busy, bad attribute). */
static int open_auto(struct vnb_ep *ep, vnb_error_t *err)
{
	static const enum vnb_prov order[] = {VNB_PROV_XDP, VNB_PROV_PACKET,
					      VNB_PROV_UDP};
	char why[3][120];
	int first = 0;
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(order); i++) {
		const struct vnb_prov_ops *ops = prov_ops(order[i]);
		vnb_error_t perr = {{0}};
		int e;

		if (!ops) {
			snprintf(why[i], sizeof(why[i]), "%s: not built in",
				 vnb_prov_name(order[i]));
			continue;
		}
		if (try_open(ep, ops, &perr) == 0)
			return 0;
		e = errno;
		if (e == ENODEV || e == EBUSY || e == EINVAL) {
			errno = e;
			return vnb_errprintf(
			    err, "provider %s: %s", vnb_prov_name(order[i]),
			    perr.text[0] ? perr.text : strerror(e));
		}
		if (!first)
			first = e;
		snprintf(why[i], sizeof(why[i]), "%s: %.100s",
			 vnb_prov_name(order[i]),
			 perr.text[0] ? perr.text : strerror(e));
	}
	errno = first ? first : EPROTONOSUPPORT;
	return vnb_errprintf(err, "no provider works here (%s; %s; %s)", why[0],
			     why[1], why[2]);
}

static struct vnb_ep *ep_open(const struct vnb_ep_attr *attr,
			      uint32_t mtu_payload, vnb_error_t *err)
{
	struct ep_core *c;
	struct vnb_ep *ep;
	int rc, e;

	if (!attr) {
		errno = EINVAL;
		vnb_errprintf(err, "%s", "vnb_ep_open: attr is NULL");
		return NULL;
	}
	if (check_attr(attr, err) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	c->mtu_payload = mtu_payload;
	ep = &c->ep;
	ep->attr = *attr;
	if (!ep->attr.frame_size)
		ep->attr.frame_size = DEF_FRAME_SIZE;
	if (!ep->attr.nframes)
		ep->attr.nframes = DEF_NFRAMES;
	if (attr->shm_name)
		snprintf(ep->shm_name, sizeof(ep->shm_name), "%s",
			 attr->shm_name);
	ep->attr.shm_name = attr->shm_name ? ep->shm_name : NULL;
	if (resolve_ifname(ep, attr, err) < 0)
		goto fail;
	ep->attr.ifname = ep->ifname[0] ? ep->ifname : NULL;
	ep->rx_ctx = calloc(ep->attr.nframes, sizeof(*ep->rx_ctx));
	if (!ep->rx_ctx)
		goto nomem;
	if (attr->flags & VNB_EP_FAKE) {
		const struct vnb_prov_ops *ops = &vnb_prov_fake;

		if (!ops) {
			errno = EPROTONOSUPPORT;
			vnb_errprintf(err, "%s",
				      "the fake provider is only in the unit "
				      "tests");
			goto fail;
		}
		rc = try_open(ep, ops, err);
	} else if (attr->prov == VNB_PROV_AUTO) {
		rc = open_auto(ep, err);
	} else {
		rc = open_one(ep, attr->prov, err);
	}
	if (rc < 0)
		goto fail;
	return ep;
nomem:
	errno = ENOMEM;
	vnb_errprintf(err, "%s", "out of memory opening an endpoint");
fail:
	e = errno;
	if (c)
		free(c->ep.rx_ctx);
	free(c);
	errno = e;
	return NULL;
}

struct vnb_ep *vnb_ep_open(const struct vnb_ep_attr *attr, vnb_error_t *err)
{
	return ep_open(attr, 0, err);
}

struct vnb_ep *vnb_ep_open_cred(const char *cred, enum vnb_prov prov,
				vnb_error_t *err)
{
	struct vnb_ep_attr attr;
	struct vnb_cred c;
	const char *mode;

	if (vnb_cred_decode(cred, &c, err) < 0)
		return NULL;
	memset(&attr, 0, sizeof(attr));
	/* the xdp provider's attach mode, for the admin or a benchmark
	 * (the endpoint's flags, where vnb_ep_open takes them) */
	mode = getenv("VNB_XDP_MODE");
	if (mode && *mode) {
		if (strcmp(mode, "skb") == 0) {
			attr.flags = VNB_EP_XDP_SKB;
		} else if (strcmp(mode, "native") == 0) {
			attr.flags = VNB_EP_XDP_NATIVE;
		} else {
			errno = EINVAL;
			vnb_errprintf(err,
				      "VNB_XDP_MODE=%s in the environment: "
				      "expected skb or native (or unset, to "
				      "let the xdp provider choose)",
				      mode);
			return NULL;
		}
	}
	memcpy(attr.mac, c.mac, 6);
	attr.vlan = c.vlan;
	attr.queue = c.queue;
	attr.frame_size = c.frame_size;
	attr.job_tag = c.job;
	attr.prov = prov;
	/* the vnb header and payload fit in the MTU */
	return ep_open(&attr, c.mtu - VNB_HDR_LEN, err);
}

void vnb_ep_close(struct vnb_ep *ep)
{
	int e = errno;

	if (!ep)
		return;
	if (ep->ops)
		ep->ops->close(ep);
	free(ep->rx_ctx);
	free(core_of(ep));
	errno = e;
}

enum vnb_prov vnb_ep_prov(const struct vnb_ep *ep)
{
	return ep->ops->id;
}

const char *vnb_ep_mode(const struct vnb_ep *ep)
{
	return ep->mode;
}

void vnb_ep_addr(const struct vnb_ep *ep, struct vnb_addr *addr)
{
	*addr = ep->self;
}

size_t vnb_ep_max_payload(const struct vnb_ep *ep)
{
	return ep->max_payload;
}

int vnb_ep_fd(const struct vnb_ep *ep)
{
	return ep->ops->fd ? ep->ops->fd(ep) : -1;
}

const char *vnb_ep_error(const struct vnb_ep *ep)
{
	return core_of(ep)->err;
}

void vnb_ep_counters(const struct vnb_ep *ep, struct vnb_counters *c)
{
	*c = ep->cnt;
}

void vnb_ep_set_rx_loss(struct vnb_ep *ep, uint32_t ppm, uint64_t seed)
{
	ep->loss_ppm = ppm > 1000000 ? 1000000 : ppm;
	ep->loss_state = vnb_prng_seed(seed);
}

/* --- the data path --- */

HOT int post_frame(struct vnb_ep *ep, const struct vnb_addr *dst, uint8_t *f,
		   uint32_t id, size_t flen, size_t total, uint64_t context);

/* Make the header template for dst and flags (ep_core.tmpl): 0, or -1
 * with EINVAL when the headers would not end where the payload is. */
static int make_tmpl(struct vnb_ep *ep, const struct vnb_addr *dst,
		     uint8_t flags)
{
	struct ep_core *c = core_of(ep);
	struct vnb_hdr hdr;
	size_t off;

	hdr.version = VNB_HDR_VERSION;
	hdr.flags = flags;
	hdr.len = 0;
	hdr.job = ep->attr.job_tag;
	hdr.src_q = ep->attr.queue;
	hdr.dst_q = dst->queue;
	hdr.seq = 0;
	c->tmpl_ok = false;
	off = vnb_frame_build(c->tmpl, sizeof(c->tmpl), ep->ops->l2, dst->mac,
			      ep->self.mac, ep->attr.vlan, &hdr);
	if (off != ep->hdr_len) {
		errno = EINVAL;
		return -1;
	}
	memcpy(c->tmpl_mac, dst->mac, 6);
	c->tmpl_queue = dst->queue;
	c->tmpl_flags = flags;
	c->tmpl_ok = true;
	return 0;
}

/* Frame id (at f) holds total bytes of payload at f + hdr_len: write the
 * headers in front of it and queue it.  The headers come from the
 * template of the destination (made again when it changes): a copy and
 * two fields, not a field-by-field build per frame. */
HOT int finish_send(struct vnb_ep *ep, const struct vnb_addr *dst,
		    uint8_t flags, uint8_t *f, uint32_t id, size_t total,
		    uint64_t context)
{
	struct ep_core *c = core_of(ep);
	uint8_t *h = f + ep->hdr_len - VNB_HDR_LEN;
	size_t flen;

	if (!c->tmpl_ok || dst->queue != c->tmpl_queue ||
	    flags != c->tmpl_flags || memcmp(dst->mac, c->tmpl_mac, 6) != 0) {
		if (make_tmpl(ep, dst, flags) < 0)
			return -1;
	}
	memcpy(f, c->tmpl, ep->hdr_len);
	vnb_put16(h + 2, (uint16_t)total);
	vnb_put32(h + 12, ep->tx_seq);
	flen = ep->hdr_len + total;
	if (ep->ops->l2 && flen < ETH_MIN_FRAME) {
		memset(f + flen, 0, ETH_MIN_FRAME - flen);
		flen = ETH_MIN_FRAME;
	}
	return post_frame(ep, dst, f, id, flen, total, context);
}

/* post_send's message when the provider refused the frame. */
static __attribute__((noinline, cold)) int post_failed(struct vnb_ep *ep)
{
	int e = errno;

	snprintf(core_of(ep)->err, sizeof(core_of(ep)->err),
		 "post_send: the %s provider could not queue the frame: %s",
		 ep->mode, strerror(e));
	errno = e;
	return -1;
}

/* Queue frame id of flen bytes, total of them payload. */
HOT int post_frame(struct vnb_ep *ep, const struct vnb_addr *dst, uint8_t *f,
		   uint32_t id, size_t flen, size_t total, uint64_t context)
{
	(void)f;
	if (ep->ops->tx_post(ep, id, (uint32_t)flen, dst, context) < 0)
		return post_failed(ep);
	ep->tx_seq++;
	ep->cnt.tx_frames++;
	ep->cnt.tx_bytes += total;
	return 0;
}

static __attribute__((noinline, cold)) int
too_big(struct vnb_ep *ep, size_t total, size_t max, const char *what)
{
	snprintf(core_of(ep)->err, sizeof(core_of(ep)->err),
		 "%s: %zu bytes do not fit in a frame, which carries at most "
		 "%zu",
		 what, total, max);
	errno = EMSGSIZE;
	return -1;
}

/* A free send frame, or NULL with EAGAIN (counted). */
HOT uint8_t *send_frame(struct vnb_ep *ep, uint32_t *id)
{
	uint8_t *f = ep->ops->tx_frame(ep, id);

	if (!f) {
		ep->cnt.tx_queue_full++;
		errno = EAGAIN;
	}
	return f;
}

int vnb_ep_send2(struct vnb_ep *ep, const struct vnb_addr *dst, uint8_t flags,
		 const void *h, size_t hlen, const void *buf, size_t len,
		 uint64_t context)
{
	size_t total = hlen + len;
	uint8_t *f;
	uint32_t id;

	if (!ep || !dst || (hlen && !h) || (len && !buf)) {
		errno = EINVAL;
		return -1;
	}
	if (total > ep->max_payload)
		return too_big(ep, total, ep->max_payload, "post_send");
	f = send_frame(ep, &id);
	if (!f)
		return -1;
	if (hlen)
		memcpy(f + ep->hdr_len, h, hlen);
	if (len)
		memcpy(f + ep->hdr_len + hlen, buf, len);
	return finish_send(ep, dst, flags, f, id, total, context);
}

int vnb_post_send(struct vnb_ep *ep, const struct vnb_addr *dst,
		  const void *buf, size_t len, uint64_t context)
{
	uint8_t *f;
	uint32_t id;

	if (!ep || !dst || (len && !buf)) {
		errno = EINVAL;
		return -1;
	}
	if (len > ep->max_payload)
		return too_big(ep, len, ep->max_payload, "post_send");
	f = send_frame(ep, &id);
	if (!f)
		return -1;
	if (len)
		memcpy(f + ep->hdr_len, buf, len);
	return finish_send(ep, dst, 0, f, id, len, context);
}

int vnb_post_send_batch(struct vnb_ep *ep, const struct vnb_addr *dst,
			const struct vnb_msg *msgs, int n)
{
	int i, e = 0;

	if (!ep || !dst || n < 0 || (n > 0 && !msgs)) {
		errno = EINVAL;
		return -1;
	}
	/* Providers without tx_flush kick per frame, as for post_send. */
	ep->tx_more = ep->ops->tx_flush != NULL;
	for (i = 0; i < n; i++)
		if (vnb_post_send(ep, dst, msgs[i].buf, msgs[i].len,
				  msgs[i].context) < 0) {
			e = errno;
			break;
		}
	ep->tx_more = false;
	/* A failed flush leaves the frames queued: tx_reap kicks again. */
	if (i > 0 && ep->ops->tx_flush)
		(void)ep->ops->tx_flush(ep);
	if (i == 0 && n > 0) {
		errno = e;
		return -1;
	}
	return i;
}

void *vnb_send_buf(struct vnb_ep *ep, size_t *cap)
{
	uint32_t id;
	uint8_t *f;

	if (!ep || !cap) {
		errno = EINVAL;
		return NULL;
	}
	f = send_frame(ep, &id);
	if (!f)
		return NULL;
	*cap = ep->max_payload;
	/* f points into the registered frames, not at id: */
	/* cppcheck-suppress returnDanglingLifetime */
	return f + ep->hdr_len;
}

int vnb_post_send_buf(struct vnb_ep *ep, const struct vnb_addr *dst, size_t len,
		      uint64_t context)
{
	uint8_t *f;
	uint32_t id;

	if (!ep || !dst) {
		errno = EINVAL;
		return -1;
	}
	if (len > ep->max_payload)
		return too_big(ep, len, ep->max_payload, "post_send_buf");
	/* the same frame vnb_send_buf handed out: tx_frame peeks */
	f = send_frame(ep, &id);
	if (!f)
		return -1;
	return finish_send(ep, dst, 0, f, id, len, context);
}

int vnb_post_send_frame(struct vnb_ep *ep, const struct vnb_addr *dst,
			const void *frame, size_t len, uint64_t context)
{
	struct vnb_addr to;
	uint8_t *f;
	uint32_t id;

	if (!ep || !frame || (!ep->ops->l2 && !dst)) {
		errno = EINVAL;
		return -1;
	}
	if (len > ep->attr.frame_size || len > ep->hdr_len + ep->max_payload)
		return too_big(ep, len, ep->hdr_len + ep->max_payload,
			       "post_send_frame");
	if (!dst) {
		/* l2: the destination is what the frame's headers say */
		struct vnb_frame_info fi;

		if (len < 14) {
			errno = EINVAL;
			return -1;
		}
		memset(&to, 0, sizeof(to));
		memcpy(to.mac, frame, 6);
		if (vnb_frame_parse(frame, len, true, &fi) == VNB_FRAME_OK) {
			to.vlan = fi.vlan;
			to.queue = fi.hdr.dst_q;
		}
		dst = &to;
	}
	f = send_frame(ep, &id);
	if (!f)
		return -1;
	memcpy(f, frame, len);
	if (ep->ops->l2 && len < ETH_MIN_FRAME) {
		memset(f + len, 0, ETH_MIN_FRAME - len);
		len = ETH_MIN_FRAME;
	}
	return post_frame(ep, dst, f, id, len, len, context);
}

int vnb_post_recv(struct vnb_ep *ep, uint32_t frame, uint64_t context)
{
	if (!ep || frame >= ep->attr.nframes) {
		errno = EINVAL;
		return -1;
	}
	ep->rx_ctx[frame] = context;
	return ep->ops->rx_post(ep, frame);
}

/* Is this frame for this endpoint?  Counts and returns false if not. */
static bool steer(struct vnb_ep *ep, enum vnb_frame_verdict v,
		  const struct vnb_frame_info *fi)
{
	if (v != VNB_FRAME_OK) {
		ep->cnt.rx_malformed++;
		return false;
	}
	if (fi->hdr.job != ep->attr.job_tag) {
		ep->cnt.rx_foreign_job++;
		return false;
	}
	if (fi->hdr.dst_q != ep->attr.queue ||
	    (ep->ops->l2 && memcmp(fi->dst, ep->self.mac, 6) != 0)) {
		ep->cnt.rx_foreign_queue++;
		return false;
	}
	return true;
}

int vnb_poll_cq(struct vnb_ep *ep, struct vnb_cqe *cqe, int max)
{
	uint64_t ctx[REAP_BATCH];
	int n = 0;

	if (!ep || !cqe || max < 0) {
		errno = EINVAL;
		return -1;
	}
	while (n < max) {
		int want = max - n < REAP_BATCH ? max - n : REAP_BATCH;
		int k = ep->ops->tx_reap(ep, ctx, want), i;

		if (k < 0)
			return n ? n : -1;
		for (i = 0; i < k; i++) {
			struct vnb_cqe *q = &cqe[n++];

			memset(q, 0, sizeof(*q));
			q->context = ctx[i];
			q->type = VNB_CQE_SEND;
		}
		if (k < want)
			break;
	}
	while (n < max) {
		struct vnb_frame_info fi;
		enum vnb_frame_verdict v;
		struct vnb_cqe *q;
		uint8_t *data;
		uint32_t len, id;
		int r;

		r = ep->ops->rx_next(ep, &data, &len, &id);
		if (r < 0)
			return n ? n : -1;
		if (r == 0)
			break;
		if (ep->loss_ppm &&
		    vnb_prng_next(&ep->loss_state) % 1000000 < ep->loss_ppm) {
			ep->ops->rx_post(ep, id);
			continue;
		}
		v = vnb_frame_parse(data, len, ep->ops->l2, &fi);
		if (!steer(ep, v, &fi) || id >= ep->attr.nframes) {
			ep->ops->rx_post(ep, id);
			continue;
		}
		q = &cqe[n++];
		q->context = ep->rx_ctx[id];
		q->type = VNB_CQE_RECV;
		q->status = 0;
		q->data = data + fi.payload;
		q->len = fi.hdr.len;
		q->frame = id;
		q->src_queue = fi.hdr.src_q;
		memcpy(q->src_mac, fi.src, 6);
		q->seq = fi.hdr.seq;
		ep->cnt.rx_frames++;
		ep->cnt.rx_bytes += fi.hdr.len;
	}
	return n;
}

int vnb_wait(struct vnb_ep *ep, int timeout_ms)
{
	struct pollfd pfd;
	int rc;

	if (!ep) {
		errno = EINVAL;
		return -1;
	}
	pfd.fd = vnb_ep_fd(ep);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return 1; /* nothing to wait on: poll the queue */
	rc = poll(&pfd, 1, timeout_ms);
	if (rc < 0)
		return -1;
	return rc > 0 ? 1 : 0;
}
