/*
 * conf.c - load and check /etc/slurm/vnic-bypass.yaml (schema:
 * doc/config.md).  The YAML becomes a tree (ytree.c); this file walks the
 * tree against the schema and stops at the first error, which names
 * file:line:column and the key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "common/util.h"
#include "conf/conf.h"
#include "conf/ytree.h"

#define CONF_MAX_BYTES (4u << 20)
#define KEY_MAX 128
#define SHOW_MAX 64
#define NAME_RULE                                                              \
	"1-63 characters from A-Z a-z 0-9 . _ -, not starting with '.' or '-'"
#define IFNAME_RULE                                                            \
	"1-15 characters from A-Z a-z 0-9 . _ -, not starting with '.' or '-'"

static const char *const provider_names[VNB_PROVIDER_COUNT] = {
    "auto", "xdp", "packet", "udp", "shm"};

const char *vnb_provider_name(enum vnb_provider p)
{
	if ((unsigned)p >= VNB_PROVIDER_COUNT)
		return NULL;
	return provider_names[p];
}

int vnb_provider_parse(const char *name, enum vnb_provider *p)
{
	unsigned i;

	for (i = 0; name && i < VNB_PROVIDER_COUNT; i++) {
		if (!strcmp(name, provider_names[i])) {
			*p = (enum vnb_provider)i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

/* What the checks need: where to report, and what is built so far. */
struct ctx {
	const char *name;
	vnb_error_t *err;
	struct vnb_conf *conf;
	const struct ynode *pools; /* the YAML lists, for "first at line N" */
	const struct ynode *tenants;
};

static int fail(const struct ctx *c, const struct ynode *n, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(const struct ctx *c, const struct ynode *n, const char *key,
		const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key && key[0])
		vnb_errprintf(c->err, "%s:%d:%d: %s: %s", c->name, n->line,
			      n->col, key, msg);
	else
		vnb_errprintf(c->err, "%s:%d:%d: %s", c->name, n->line, n->col,
			      msg);
	errno = EINVAL;
	return -1;
}

/* "parent.name", or "name" at the top. */
static const char *subkey(char *buf, const char *parent, const char *name)
{
	char shown[SHOW_MAX];

	ytree_show(name, shown, sizeof(shown));
	if (snprintf(buf, KEY_MAX, "%s%s%s", parent, parent[0] ? "." : "",
		     shown) >= KEY_MAX)
		strcpy(buf + KEY_MAX - 4, "...");
	return buf;
}

/* "parent[i]" */
static const char *itemkey(char *buf, const char *parent, size_t i)
{
	if (snprintf(buf, KEY_MAX, "%s[%zu]", parent, i) >= KEY_MAX)
		strcpy(buf + KEY_MAX - 4, "...");
	return buf;
}

/* What a node is, for "expected X, got Y": a kind, or a scalar's text. */
#define DESCRIBE_MAX (SHOW_MAX + 2)
static const char *describe(const struct ynode *n, char buf[DESCRIBE_MAX])
{
	char shown[SHOW_MAX];

	if (n->type == YNODE_MAP)
		return "a mapping";
	if (n->type == YNODE_SEQ)
		return "a list";
	if (ytree_is_null(n))
		return "an empty value";
	snprintf(buf, DESCRIBE_MAX, "'%s'",
		 ytree_show(n->str, shown, sizeof(shown)));
	return buf;
}

static int want(const struct ctx *c, const struct ynode *n, const char *key,
		enum ynode_type type)
{
	static const char *const what[] = {
	    [YNODE_SCALAR] = "a value",
	    [YNODE_SEQ] = "a list",
	    [YNODE_MAP] = "a mapping",
	};
	char d[DESCRIBE_MAX], shown[SHOW_MAX];

	if (n->type == type && !(type == YNODE_SCALAR && ytree_is_null(n)))
		return 0;
	if (type == YNODE_SEQ && n->type == YNODE_SCALAR && !ytree_is_null(n))
		return fail(c, n, key,
			    "expected a list, got %s; write a list even for "
			    "one item: [%s]",
			    describe(n, d),
			    ytree_show(n->str, shown, SHOW_MAX));
	return fail(c, n, key, "expected %s, got %s", what[type],
		    describe(n, d));
}

/* Edit distance of a and b, both shorter than 32 characters. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[32], i, j;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j],
			       best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* The allowed key that name is most likely a typo of, or NULL. */
static const char *closest(const char *name, const char *const *allowed)
{
	const char *best = NULL;
	size_t i, d, bestd = 3;

	if (strlen(name) >= 32)
		return NULL;
	for (i = 0; allowed[i]; i++) {
		d = distance(name, allowed[i]);
		if (d < bestd) {
			bestd = d;
			best = allowed[i];
		}
	}
	return best;
}

/* A mapping whose keys are all in allowed (NULL-terminated), each once. */
static int check_keys(const struct ctx *c, const struct ynode *map,
		      const char *key, const char *const *allowed)
{
	char list[256] = "", k[KEY_MAX], d[DESCRIBE_MAX];
	size_t i, j;

	if (want(c, map, key, YNODE_MAP) < 0)
		return -1;
	for (i = 0; allowed[i]; i++) {
		strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
		strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
	}
	for (i = 0; i < map->n; i++) {
		const struct ynode *kn = map->items[2 * i];

		if (kn->type != YNODE_SCALAR)
			return fail(c, kn, key,
				    "a key must be a plain word, not %s; "
				    "allowed keys: %s",
				    describe(kn, d), list);
		for (j = 0; allowed[j]; j++)
			if (!strcmp(kn->str, allowed[j]))
				break;
		if (!allowed[j] && closest(kn->str, allowed))
			return fail(c, kn, subkey(k, key, kn->str),
				    "unknown key (did you mean '%s'?); allowed "
				    "keys here: %s",
				    closest(kn->str, allowed), list);
		if (!allowed[j])
			return fail(c, kn, subkey(k, key, kn->str),
				    "unknown key; allowed keys here: %s", list);
		for (j = 0; j < i; j++) {
			const struct ynode *prev = map->items[2 * j];

			if (!strcmp(prev->str, kn->str))
				return fail(c, kn, subkey(k, key, kn->str),
					    "duplicate key (first at line %d); "
					    "give each key once",
					    prev->line);
		}
	}
	return 0;
}

/* The value of a required key; NULL after reporting that it is missing. */
static const struct ynode *need(const struct ctx *c, const struct ynode *map,
				const char *key, const char *name,
				const char *hint)
{
	const struct ynode *v = ytree_get(map, name);
	char k[KEY_MAX];

	if (!v)
		fail(c, map, subkey(k, key, name), "missing; %s", hint);
	return v;
}

static int get_str(const struct ctx *c, const struct ynode *n, const char *key,
		   size_t max, const char **out)
{
	char d[DESCRIBE_MAX];

	if (n->type != YNODE_SCALAR || ytree_is_null(n))
		return fail(c, n, key, "expected a string, got %s",
			    describe(n, d));
	if (strlen(n->str) >= max)
		return fail(c, n, key, "too long; at most %zu characters",
			    max - 1);
	*out = n->str;
	return 0;
}

/* A plain decimal number in [min, max]; range says so for a person. */
static int get_uint(const struct ctx *c, const struct ynode *n, const char *key,
		    unsigned min, unsigned max, const char *range,
		    unsigned *out)
{
	char shown[SHOW_MAX], dflt[48], d[DESCRIBE_MAX];
	uint64_t v;

	if (!range) {
		snprintf(dflt, sizeof(dflt), "%u-%u", min, max);
		range = dflt;
	}
	if (n->type != YNODE_SCALAR || ytree_is_null(n))
		return fail(c, n, key, "expected an integer (%s), got %s",
			    range, describe(n, d));
	ytree_show(n->str, shown, sizeof(shown));
	if (!n->plain)
		return fail(c, n, key,
			    "expected an integer (%s), got the quoted "
			    "string \"%s\"; write the number without quotes",
			    range, shown);
	if (vnb_parse_u64(n->str, min, max, &v) < 0) {
		bool number =
		    errno == ERANGE ||
		    (n->str[0] == '-' &&
		     vnb_parse_u64(n->str + 1, 0, UINT64_MAX, &v) == 0);

		if (number)
			return fail(c, n, key, "%s is out of range (%s)", shown,
				    range);
		return fail(c, n, key, "expected an integer (%s), got '%s'",
			    range, shown);
	}
	*out = (unsigned)v;
	return 0;
}

static int get_bool(const struct ctx *c, const struct ynode *n, const char *key,
		    bool *out)
{
	char d[DESCRIBE_MAX];

	if (n->type == YNODE_SCALAR && n->plain && !strcmp(n->str, "true")) {
		*out = true;
		return 0;
	}
	if (n->type == YNODE_SCALAR && n->plain && !strcmp(n->str, "false")) {
		*out = false;
		return 0;
	}
	return fail(c, n, key, "expected a boolean (true or false), got %s",
		    describe(n, d));
}

/* A name of 1..size-1 characters that vnb_name_valid() accepts. */
static int get_ident(const struct ctx *c, const struct ynode *n,
		     const char *key, char *out, size_t size, const char *what,
		     const char *rule)
{
	char shown[SHOW_MAX];
	const char *s;

	if (get_str(c, n, key, SIZE_MAX, &s) < 0)
		return -1;
	if (!vnb_name_valid(s, size - 1))
		return fail(c, n, key, "invalid %s '%s'; use %s", what,
			    ytree_show(s, shown, sizeof(shown)), rule);
	strcpy(out, s);
	return 0;
}

/* A tenant, pool, image, partition or account name. */
static int get_name(const struct ctx *c, const struct ynode *n, const char *key,
		    char out[VNB_NAME_MAX])
{
	return get_ident(c, n, key, out, VNB_NAME_MAX, "name", NAME_RULE);
}

static int get_ifname(const struct ctx *c, const struct ynode *n,
		      const char *key, char out[VNB_IFNAME_MAX])
{
	return get_ident(c, n, key, out, VNB_IFNAME_MAX, "interface name",
			 IFNAME_RULE);
}

static int get_path(const struct ctx *c, const struct ynode *n, const char *key,
		    char *out, size_t size)
{
	char shown[SHOW_MAX];
	const char *s;

	if (get_str(c, n, key, size, &s) < 0)
		return -1;
	if (s[0] != '/')
		return fail(c, n, key,
			    "'%s' is not an absolute path; write it from /",
			    ytree_show(s, shown, sizeof(shown)));
	strcpy(out, s);
	return 0;
}

/* The same, into a new string. */
static int dup_path(const struct ctx *c, const struct ynode *n, const char *key,
		    char **out)
{
	char buf[4096];

	if (get_path(c, n, key, buf, sizeof(buf)) < 0)
		return -1;
	*out = strdup(buf);
	if (!*out)
		return vnb_errprintf(c->err, "%s: out of memory", c->name);
	return 0;
}

/* A non-empty list of distinct names; empty says what to do instead. */
static int get_names(const struct ctx *c, const struct ynode *n,
		     const char *key, const char *empty,
		     char (**out)[VNB_NAME_MAX], size_t *count)
{
	char k[KEY_MAX], shown[SHOW_MAX];
	size_t i, j;

	if (want(c, n, key, YNODE_SEQ) < 0)
		return -1;
	if (n->n == 0)
		return fail(c, n, key, "an empty list; %s", empty);
	*out = calloc(n->n, sizeof(**out));
	if (!*out)
		return vnb_errprintf(c->err, "%s: out of memory", c->name);
	*count = n->n;
	for (i = 0; i < n->n; i++) {
		itemkey(k, key, i);
		if (get_name(c, n->items[i], k, (*out)[i]) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (!strcmp((*out)[j], (*out)[i]))
				return fail(
				    c, n->items[i], k,
				    "'%s' is listed twice (first at "
				    "line %d); list it once",
				    ytree_show((*out)[i], shown, sizeof(shown)),
				    n->items[j]->line);
	}
	return 0;
}

/* names of a list of structs, for messages: "a, b, c" */
static void join(char *buf, size_t size, const char *first, size_t stride,
		 size_t count)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < count; i++) {
		const char *s = first + i * stride;
		int w =
		    snprintf(buf + used, size - used, "%s%s", i ? ", " : "", s);

		if (w < 0 || (size_t)w >= size - used) {
			if (size > 5)
				strcpy(buf + size - 5, ",...");
			return;
		}
		used += (size_t)w;
	}
}

/* The head of list item i: its keys, and its required name, unique among
 * the names of the items before it (names[q * stride]). */
static int named_item(const struct ctx *c, const struct ynode *list, size_t i,
		      const char *key, const char *const *keys,
		      const char *what, char *names, size_t stride)
{
	const struct ynode *n = list->items[i], *v;
	char *name = names + i * stride;
	char k[KEY_MAX], hint[64];
	size_t q;

	if (check_keys(c, n, key, keys) < 0)
		return -1;
	snprintf(hint, sizeof(hint), "give the %s a name", what);
	if (!(v = need(c, n, key, "name", hint)) ||
	    get_name(c, v, subkey(k, key, "name"), name) < 0)
		return -1;
	for (q = 0; q < i; q++)
		if (!strcmp(names + q * stride, name))
			return fail(c, v, k,
				    "%s '%s' is defined twice (first at line "
				    "%d); give each %s its own name",
				    what, name, list->items[q]->line, what);
	return 0;
}

static int parse_node(const struct ctx *c, const struct ynode *n)
{
	static const char *const keys[] = {"state_dir", "run_dir",
					   "libvirt_uri", "boot_timeout", NULL};
	struct vnb_conf *conf = c->conf;
	const struct ynode *v;
	const char *s;

	if (check_keys(c, n, "node", keys) < 0)
		return -1;
	if ((v = ytree_get(n, "state_dir")) &&
	    get_path(c, v, "node.state_dir", conf->state_dir,
		     sizeof(conf->state_dir)) < 0)
		return -1;
	if ((v = ytree_get(n, "run_dir")) &&
	    get_path(c, v, "node.run_dir", conf->run_dir,
		     sizeof(conf->run_dir)) < 0)
		return -1;
	if ((v = ytree_get(n, "libvirt_uri"))) {
		if (get_str(c, v, "node.libvirt_uri", sizeof(conf->libvirt_uri),
			    &s) < 0)
			return -1;
		strcpy(conf->libvirt_uri, s);
	}
	if ((v = ytree_get(n, "boot_timeout")) &&
	    get_uint(c, v, "node.boot_timeout", 1, 3600, "1-3600 seconds",
		     &conf->boot_timeout) < 0)
		return -1;
	return 0;
}

/* Where a device was first listed, for "already in pool X (line N)". */
static const struct ynode *device_node(const struct ctx *c, size_t pool,
				       size_t dev)
{
	return ytree_get(c->pools->items[pool], "devices")->items[dev];
}

static int parse_devices(const struct ctx *c, const struct ynode *n,
			 const char *key, size_t pi)
{
	struct vnb_conf_pool *p = &c->conf->pools[pi];
	char k[KEY_MAX];
	size_t i, j, q;

	if (want(c, n, key, YNODE_SEQ) < 0)
		return -1;
	if (n->n == 0)
		return fail(c, n, key,
			    "an empty list; list at least one lower device");
	p->devices = calloc(n->n, sizeof(*p->devices));
	if (!p->devices)
		return vnb_errprintf(c->err, "%s: out of memory", c->name);
	p->ndevices = n->n;
	for (i = 0; i < n->n; i++) {
		const char *d = p->devices[i];

		itemkey(k, key, i);
		if (get_ifname(c, n->items[i], k, p->devices[i]) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (!strcmp(p->devices[j], d))
				return fail(c, n->items[i], k,
					    "device '%s' is listed twice in "
					    "this pool (first at line %d); "
					    "list it once",
					    d, n->items[j]->line);
		for (q = 0; q < pi; q++) {
			const struct vnb_conf_pool *o = &c->conf->pools[q];

			for (j = 0; j < o->ndevices; j++)
				if (!strcmp(o->devices[j], d))
					return fail(
					    c, n->items[i], k,
					    "device '%s' is already in pool "
					    "'%s' (line %d); a device may "
					    "belong to one pool only",
					    d, o->name,
					    device_node(c, q, j)->line);
			if (o->backend == VNB_BACKEND_SRIOV &&
			    !strcmp(o->pf, d))
				return fail(c, n->items[i], k,
					    "device '%s' is the PF of sriov "
					    "pool '%s' (line %d); hand out "
					    "its VFs or the device, not both",
					    d, o->name, o->line);
		}
	}
	return 0;
}

/* "A-B" or "N", each 0..255. */
static int parse_vfs(const struct ctx *c, const struct ynode *n,
		     const char *key, struct vnb_conf_pool *p)
{
	char buf[SHOW_MAX], shown[SHOW_MAX], d[DESCRIBE_MAX];
	const char *dash;
	uint64_t a, b;

	if (n->type != YNODE_SCALAR || ytree_is_null(n))
		return fail(c, n, key,
			    "expected a VF range 'A-B' or one VF index "
			    "(0-255), got %s",
			    describe(n, d));
	ytree_show(n->str, shown, sizeof(shown));
	dash = strchr(n->str, '-');
	if (strlen(n->str) >= sizeof(buf))
		goto bad;
	strcpy(buf, n->str);
	if (dash)
		buf[dash - n->str] = '\0';
	if (vnb_parse_u64(buf, 0, UINT64_MAX, &a) < 0 ||
	    (dash && vnb_parse_u64(dash + 1, 0, UINT64_MAX, &b) < 0))
		goto bad;
	if (!dash)
		b = a;
	if (a > 255 || b > 255)
		return fail(c, n, key,
			    "'%s' is out of range; VF indexes go from 0 to 255",
			    shown);
	if (a > b)
		return fail(c, n, key,
			    "'%s': the first VF is greater than the last; "
			    "write the range as low-high",
			    shown);
	p->vf_first = (unsigned)a;
	p->vf_last = (unsigned)b;
	return 0;
bad:
	return fail(c, n, key,
		    "expected a VF range 'A-B' or one VF index (0-255), "
		    "got '%s'",
		    shown);
}

static int parse_pool(const struct ctx *c, size_t pi)
{
	static const char *const keys[] = {"name", "backend", "devices",
					   "pf",   "vfs",     NULL};
	const struct ynode *pn = c->pools->items[pi], *v, *other;
	struct vnb_conf_pool *p = &c->conf->pools[pi];
	char key[KEY_MAX], k[KEY_MAX], shown[SHOW_MAX];
	const char *s;
	size_t q;

	itemkey(key, "pools", pi);
	p->line = pn->line;
	if (named_item(c, c->pools, pi, key, keys, "pool",
		       c->conf->pools[0].name, sizeof(*p)) < 0)
		return -1;
	if (!(v = need(c, pn, key, "backend",
		       "give 'macvtap' (lower devices) or 'sriov' (a PF's "
		       "VFs)")) ||
	    get_str(c, v, subkey(k, key, "backend"), SIZE_MAX, &s) < 0)
		return -1;
	if (!strcmp(s, "macvtap"))
		p->backend = VNB_BACKEND_MACVTAP;
	else if (!strcmp(s, "sriov"))
		p->backend = VNB_BACKEND_SRIOV;
	else
		return fail(c, v, k,
			    "unknown backend '%s'; allowed: macvtap, "
			    "sriov",
			    ytree_show(s, shown, sizeof(shown)));

	if (p->backend == VNB_BACKEND_MACVTAP) {
		if ((other = ytree_get(pn, "pf")) ||
		    (other = ytree_get(pn, "vfs")))
			return fail(
			    c, other,
			    subkey(k, key, ytree_get(pn, "pf") ? "pf" : "vfs"),
			    "only for backend sriov; a macvtap pool "
			    "lists its lower devices in 'devices'");
		if (!(v = need(c, pn, key, "devices",
			       "a macvtap pool lists its lower devices")))
			return -1;
		return parse_devices(c, v, subkey(k, key, "devices"), pi);
	}
	if ((other = ytree_get(pn, "devices")))
		return fail(c, other, subkey(k, key, "devices"),
			    "only for backend macvtap; an sriov pool names its "
			    "PF in 'pf' and its VFs in 'vfs'");
	if (!(v = need(c, pn, key, "pf", "an sriov pool names its PF")) ||
	    get_ifname(c, v, subkey(k, key, "pf"), p->pf) < 0)
		return -1;
	if (!(v = need(c, pn, key, "vfs",
		       "give the VF range, e.g. 'vfs: 0-7'")) ||
	    parse_vfs(c, v, subkey(k, key, "vfs"), p) < 0)
		return -1;
	for (q = 0; q < pi; q++) {
		const struct vnb_conf_pool *o = &c->conf->pools[q];
		size_t j;

		if (o->backend == VNB_BACKEND_SRIOV && !strcmp(o->pf, p->pf) &&
		    p->vf_first <= o->vf_last && o->vf_first <= p->vf_last)
			return fail(c, v, k,
				    "VFs %u-%u of %s overlap pool '%s' (VFs "
				    "%u-%u, line %d); a VF may belong to one "
				    "pool only",
				    p->vf_first, p->vf_last, p->pf, o->name,
				    o->vf_first, o->vf_last, o->line);
		for (j = 0; j < o->ndevices; j++)
			if (!strcmp(o->devices[j], p->pf))
				return fail(c, ytree_get(pn, "pf"),
					    subkey(k, key, "pf"),
					    "'%s' is a device of macvtap pool "
					    "'%s' (line %d); hand out its VFs "
					    "or the device, not both",
					    p->pf, o->name,
					    device_node(c, q, j)->line);
	}
	return 0;
}

static int parse_image(const struct ctx *c, const struct ynode *list,
		       const char *key, struct vnb_conf_tenant *t, size_t ii)
{
	static const char *const keys[] = {"name",   "disk",	"kernel",
					   "initrd", "cmdline", NULL};
	const struct ynode *in = list->items[ii], *v;
	struct vnb_conf_image *img = &t->images[ii];
	char k[KEY_MAX];
	const char *s;

	if (named_item(c, list, ii, key, keys, "image", t->images[0].name,
		       sizeof(*img)) < 0)
		return -1;
	if ((v = ytree_get(in, "disk")) &&
	    dup_path(c, v, subkey(k, key, "disk"), &img->disk) < 0)
		return -1;
	if ((v = ytree_get(in, "kernel"))) {
		if (img->disk)
			return fail(c, v, subkey(k, key, "kernel"),
				    "an image boots from 'disk' or from "
				    "'kernel', not both; remove one");
		if (dup_path(c, v, subkey(k, key, "kernel"), &img->kernel) < 0)
			return -1;
	}
	if (!img->disk && !img->kernel)
		return fail(c, in, key,
			    "the image needs 'disk' (a qcow2 base image) or "
			    "'kernel' (direct kernel boot, with optional "
			    "'initrd' and 'cmdline')");
	if ((v = ytree_get(in, "initrd"))) {
		subkey(k, key, "initrd");
		if (!img->kernel)
			return fail(c, v, k,
				    "only with 'kernel'; a disk image boots "
				    "its own initrd");
		if (dup_path(c, v, k, &img->initrd) < 0)
			return -1;
	}
	if ((v = ytree_get(in, "cmdline"))) {
		subkey(k, key, "cmdline");
		if (!img->kernel)
			return fail(c, v, k,
				    "only with 'kernel'; a disk image has its "
				    "own boot loader");
		if (get_str(c, v, k, 4096, &s) < 0)
			return -1;
		img->cmdline = strdup(s);
		if (!img->cmdline)
			return vnb_errprintf(c->err, "%s: out of memory",
					     c->name);
	}
	return 0;
}

static int parse_images(const struct ctx *c, const struct ynode *n,
			const char *key, struct vnb_conf_tenant *t)
{
	char k[KEY_MAX];
	size_t i;

	if (want(c, n, key, YNODE_SEQ) < 0)
		return -1;
	if (n->n == 0)
		return fail(c, n, key,
			    "an empty list; give at least one image (the "
			    "first is the default)");
	t->images = calloc(n->n, sizeof(*t->images));
	if (!t->images)
		return vnb_errprintf(c->err, "%s: out of memory", c->name);
	t->nimages = n->n;
	for (i = 0; i < n->n; i++)
		if (parse_image(c, n, itemkey(k, key, i), t, i) < 0)
			return -1;
	return 0;
}

static int parse_vm(const struct ctx *c, const struct ynode *n, const char *key,
		    struct vnb_conf_tenant *t)
{
	static const char *const keys[] = {"memory", "vcpus", "hugepages",
					   NULL};
	const struct ynode *v;
	char k[KEY_MAX];

	if (check_keys(c, n, key, keys) < 0)
		return -1;
	if ((v = ytree_get(n, "memory")) &&
	    get_uint(c, v, subkey(k, key, "memory"), 64, 1048576,
		     "64-1048576 MiB", &t->vm_memory_mb) < 0)
		return -1;
	if ((v = ytree_get(n, "vcpus")) &&
	    get_uint(c, v, subkey(k, key, "vcpus"), 0, 1024,
		     "1-1024, or 0 for one per job CPU", &t->vm_vcpus) < 0)
		return -1;
	if ((v = ytree_get(n, "hugepages")) &&
	    get_bool(c, v, subkey(k, key, "hugepages"), &t->vm_hugepages) < 0)
		return -1;
	return 0;
}

/* {default: D, max: M}, 1..cap each, D <= M; max defaults to default. */
static int parse_limit(const struct ctx *c, const struct ynode *n,
		       const char *key, unsigned cap, unsigned *dflt,
		       unsigned *max)
{
	static const char *const keys[] = {"default", "max", NULL};
	const struct ynode *d, *m;
	char k[KEY_MAX];

	if (check_keys(c, n, key, keys) < 0)
		return -1;
	if ((d = ytree_get(n, "default")) &&
	    get_uint(c, d, subkey(k, key, "default"), 1, cap, NULL, dflt) < 0)
		return -1;
	*max = *dflt;
	if ((m = ytree_get(n, "max")) &&
	    get_uint(c, m, subkey(k, key, "max"), 1, cap, NULL, max) < 0)
		return -1;
	if (*dflt > *max)
		return fail(c, d, subkey(k, key, "default"),
			    "default %u is greater than max %u; lower the "
			    "default or raise the max",
			    *dflt, *max);
	return 0;
}

static int parse_providers(const struct ctx *c, const struct ynode *n,
			   const char *key, struct vnb_conf_tenant *t)
{
	char k[KEY_MAX], shown[SHOW_MAX];
	enum vnb_provider p;
	size_t i, j;

	if (want(c, n, key, YNODE_SEQ) < 0)
		return -1;
	if (n->n == 0)
		return fail(c, n, key,
			    "an empty list; list at least one of xdp, packet, "
			    "udp, shm, or leave 'providers' out to allow all");
	t->providers = 1u << VNB_PROVIDER_AUTO;
	for (i = 0; i < n->n; i++) {
		const struct ynode *v = n->items[i];
		const char *s;

		itemkey(k, key, i);
		if (get_str(c, v, k, SIZE_MAX, &s) < 0)
			return -1;
		if (vnb_provider_parse(s, &p) < 0)
			return fail(c, v, k,
				    "unknown provider '%s'; allowed: xdp, "
				    "packet, udp, shm ('auto' is always "
				    "allowed)",
				    ytree_show(s, shown, sizeof(shown)));
		for (j = 0; j < i; j++)
			if (!strcmp(n->items[j]->str, s))
				return fail(c, v, k,
					    "'%s' is listed twice (first at "
					    "line %d); list it once",
					    s, n->items[j]->line);
		t->providers |= 1u << p;
	}
	return 0;
}

/* Where tenant ti listed partition pi, or its vlan. */
static int tenant_line(const struct ctx *c, size_t ti, const char *name,
		       size_t item)
{
	const struct ynode *v = ytree_get(c->tenants->items[ti], name);

	return v->type == YNODE_SEQ ? v->items[item]->line : v->line;
}

static int check_partitions(const struct ctx *c, const struct ynode *n,
			    const char *key, size_t ti)
{
	const struct vnb_conf_tenant *t = &c->conf->tenants[ti];
	char k[KEY_MAX];
	size_t i, j, q;

	for (i = 0; i < t->npartitions; i++)
		for (q = 0; q < ti; q++) {
			const struct vnb_conf_tenant *o = &c->conf->tenants[q];

			for (j = 0; j < o->npartitions; j++)
				if (!strcmp(o->partitions[j], t->partitions[i]))
					return fail(
					    c, n->items[i], itemkey(k, key, i),
					    "partition '%s' of tenant '%s' "
					    "already belongs to tenant '%s' "
					    "(line %d); a partition may "
					    "belong to one tenant only",
					    t->partitions[i], t->name, o->name,
					    tenant_line(c, q, "partitions", j));
		}
	return 0;
}

static int parse_tenant(const struct ctx *c, size_t ti)
{
	static const char *const keys[] = {
	    "name",   "partitions", "accounts",	  "vlan",
	    "pool",   "images",	    "vm",	  "vnics",
	    "queues", "providers",  "allow_root", NULL};
	const struct ynode *tn = c->tenants->items[ti], *v;
	struct vnb_conf_tenant *t = &c->conf->tenants[ti];
	char key[KEY_MAX], k[KEY_MAX], list[256], shown[SHOW_MAX];
	size_t q;

	t->vm_memory_mb = 1024;
	t->vnics_default = t->vnics_max = 1;
	t->queues_default = t->queues_max = 1;
	t->providers = (1u << VNB_PROVIDER_COUNT) - 1;
	itemkey(key, "tenants", ti);
	t->line = tn->line;
	if (named_item(c, c->tenants, ti, key, keys, "tenant",
		       c->conf->tenants[0].name, sizeof(*t)) < 0)
		return -1;
	if (!(v = need(c, tn, key, "partitions",
		       "list the Slurm partitions this tenant serves")) ||
	    get_names(c, v, subkey(k, key, "partitions"),
		      "list at least one Slurm partition", &t->partitions,
		      &t->npartitions) < 0 ||
	    check_partitions(c, v, k, ti) < 0)
		return -1;
	if ((v = ytree_get(tn, "accounts")) &&
	    get_names(c, v, subkey(k, key, "accounts"),
		      "list at least one account, or leave 'accounts' out to "
		      "allow every account",
		      &t->accounts, &t->naccounts) < 0)
		return -1;
	if ((v = ytree_get(tn, "vlan"))) {
		if (get_uint(c, v, subkey(k, key, "vlan"), 0, 4094,
			     "1-4094, or 0 for untagged", &t->vlan) < 0)
			return -1;
		for (q = 0; t->vlan && q < ti; q++)
			if (c->conf->tenants[q].vlan == t->vlan)
				return fail(
				    c, v, k,
				    "VLAN %u is already used by tenant '%s' "
				    "(line %d); give each tenant its own "
				    "VLAN (only 0, untagged, may be shared)",
				    t->vlan, c->conf->tenants[q].name,
				    tenant_line(c, q, "vlan", 0));
	}
	if ((v = ytree_get(tn, "pool"))) {
		if (get_name(c, v, subkey(k, key, "pool"), t->pool) < 0)
			return -1;
		if (!vnb_conf_pool_find(c->conf, t->pool)) {
			join(list, sizeof(list), c->conf->pools[0].name,
			     sizeof(c->conf->pools[0]), c->conf->npools);
			return fail(c, v, k,
				    "no pool is named '%s'; pools: %s (or "
				    "leave 'pool' out to use every pool)",
				    ytree_show(t->pool, shown, sizeof(shown)),
				    list);
		}
	}
	if (!(v = need(c, tn, key, "images",
		       "list at least one image (the first is the "
		       "default)")) ||
	    parse_images(c, v, subkey(k, key, "images"), t) < 0)
		return -1;
	if ((v = ytree_get(tn, "vm")) &&
	    parse_vm(c, v, subkey(k, key, "vm"), t) < 0)
		return -1;
	if ((v = ytree_get(tn, "vnics")) &&
	    parse_limit(c, v, subkey(k, key, "vnics"), VNB_MAX_VNICS,
			&t->vnics_default, &t->vnics_max) < 0)
		return -1;
	if ((v = ytree_get(tn, "queues")) &&
	    parse_limit(c, v, subkey(k, key, "queues"), VNB_MAX_QUEUES,
			&t->queues_default, &t->queues_max) < 0)
		return -1;
	/* a job's provider defaults to auto, which takes raw frames: only
	 * provider=udp may ask for more queues than one (vnb_spec_resolve) */
	if (v && t->queues_default > 1)
		return fail(c, ytree_get(v, "default"),
			    subkey(k, key, "queues.default"),
			    "%u: a vNIC delivers every raw frame to "
			    "one of its queues, so only jobs with "
			    "provider=udp may have more than one; make the "
			    "default 1 (the max may stay higher)",
			    t->queues_default);
	if ((v = ytree_get(tn, "providers")) &&
	    parse_providers(c, v, subkey(k, key, "providers"), t) < 0)
		return -1;
	if ((v = ytree_get(tn, "allow_root")) &&
	    get_bool(c, v, subkey(k, key, "allow_root"), &t->allow_root) < 0)
		return -1;
	return 0;
}

/* A non-empty list of what, as a zeroed array of count elements. */
static void *parse_list(const struct ctx *c, const struct ynode *n,
			const char *key, const char *what, size_t size,
			size_t *count)
{
	void *out;

	if (want(c, n, key, YNODE_SEQ) < 0)
		return NULL;
	if (n->n == 0) {
		fail(c, n, key, "an empty list; give at least one %s", what);
		return NULL;
	}
	out = calloc(n->n, size);
	if (!out) {
		vnb_errprintf(c->err, "%s: out of memory", c->name);
		return NULL;
	}
	*count = n->n;
	return out;
}

static int parse_root(struct ctx *c, const struct ynode *root)
{
	static const char *const keys[] = {"node", "pools", "tenants", NULL};
	struct vnb_conf *conf = c->conf;
	char d[DESCRIBE_MAX];
	const struct ynode *v;
	size_t i;

	if (!root || ytree_is_null(root)) {
		vnb_errprintf(c->err,
			      "%s:1:1: the file is empty; it needs at least "
			      "'pools' and 'tenants' (see doc/config.md)",
			      c->name);
		errno = EINVAL;
		return -1;
	}
	if (root->type != YNODE_MAP)
		return fail(c, root, NULL,
			    "expected a mapping with the keys node, pools and "
			    "tenants at the top, got %s",
			    describe(root, d));
	if (check_keys(c, root, "", keys) < 0)
		return -1;
	if ((v = ytree_get(root, "node")) && parse_node(c, v) < 0)
		return -1;
	if (!(c->pools =
		  need(c, root, "", "pools", "list at least one vNIC pool")) ||
	    !(conf->pools = parse_list(c, c->pools, "pools", "pool",
				       sizeof(*conf->pools), &conf->npools)))
		return -1;
	for (i = 0; i < conf->npools; i++)
		if (parse_pool(c, i) < 0)
			return -1;
	if (!(c->tenants =
		  need(c, root, "", "tenants", "list at least one tenant")) ||
	    !(conf->tenants =
		  parse_list(c, c->tenants, "tenants", "tenant",
			     sizeof(*conf->tenants), &conf->ntenants)))
		return -1;
	for (i = 0; i < conf->ntenants; i++)
		if (parse_tenant(c, i) < 0)
			return -1;
	return 0;
}

struct vnb_conf *vnb_conf_parse(const char *buf, size_t len, const char *name,
				vnb_error_t *err)
{
	struct ctx c = {.name = name ? name : "(config)", .err = err};
	struct vnb_conf *conf = NULL;
	struct ynode *root = NULL;

	if (!buf) {
		vnb_errprintf(err, "%s: no configuration text", c.name);
		errno = EINVAL;
		return NULL;
	}
	conf = calloc(1, sizeof(*conf));
	if (!conf) {
		vnb_errprintf(err, "%s: out of memory", c.name);
		return NULL;
	}
	c.conf = conf;
	snprintf(conf->path, sizeof(conf->path), "%s", c.name);
	strcpy(conf->state_dir, "/var/lib/vnic-bypass");
	strcpy(conf->run_dir, "/run/vnic-bypass");
	strcpy(conf->libvirt_uri, "qemu:///system");
	conf->boot_timeout = 60;
	if (ytree_parse(buf, len, c.name, &root, err) < 0 ||
	    parse_root(&c, root) < 0) {
		ytree_free(root);
		vnb_conf_destroy(conf);
		return NULL;
	}
	ytree_free(root);
	return conf;
}

struct vnb_conf *vnb_conf_load(const char *path, vnb_error_t *err)
{
	struct vnb_conf *conf;
	size_t len;
	char *buf;

	if (!path)
		path = VNB_CONF_DEFAULT_PATH;
	buf = vnb_file_read(AT_FDCWD, path, CONF_MAX_BYTES, &len, NULL);
	if (!buf) {
		if (errno == EFBIG)
			vnb_errprintf(err,
				      "%s: larger than %u bytes; this is not "
				      "a vnic-bypass configuration",
				      path, CONF_MAX_BYTES);
		else
			vnb_errprintf(err,
				      "%s: cannot read the configuration: %s",
				      path, strerror(errno));
		return NULL;
	}
	conf = vnb_conf_parse(buf, len, path, err);
	free(buf);
	return conf;
}

void vnb_conf_destroy(struct vnb_conf *conf)
{
	int saved = errno;
	size_t i, j;

	if (!conf)
		return;
	for (i = 0; conf->pools && i < conf->npools; i++)
		free(conf->pools[i].devices);
	free(conf->pools);
	for (i = 0; conf->tenants && i < conf->ntenants; i++) {
		struct vnb_conf_tenant *t = &conf->tenants[i];

		free(t->partitions);
		free(t->accounts);
		for (j = 0; t->images && j < t->nimages; j++) {
			free(t->images[j].disk);
			free(t->images[j].kernel);
			free(t->images[j].initrd);
			free(t->images[j].cmdline);
		}
		free(t->images);
	}
	free(conf->tenants);
	free(conf);
	errno = saved;
}

const struct vnb_conf_tenant *vnb_conf_tenant_find(const struct vnb_conf *conf,
						   const char *partition,
						   const char *account,
						   vnb_error_t *err)
{
	const struct vnb_conf_tenant *t = NULL;
	char list[300] = "", shown[SHOW_MAX], ashown[SHOW_MAX];
	size_t i, j;

	for (i = 0; partition && i < conf->ntenants && !t; i++)
		for (j = 0; j < conf->tenants[i].npartitions; j++)
			if (!strcmp(conf->tenants[i].partitions[j], partition))
				t = &conf->tenants[i];
	if (!t) {
		size_t used = 0;

		for (i = 0; i < conf->ntenants; i++) {
			const struct vnb_conf_tenant *o = &conf->tenants[i];

			for (j = 0; j < o->npartitions && used < sizeof(list);
			     j++) {
				int w = snprintf(
				    list + used, sizeof(list) - used, "%s%s",
				    used ? ", " : "", o->partitions[j]);

				if (w > 0 && (size_t)w < sizeof(list) - used) {
					used += (size_t)w;
					continue;
				}
				strcpy(list + sizeof(list) - 5, ",...");
				used = sizeof(list);
			}
		}
		vnb_errprintf(err,
			      "partition '%s' is not served by any vnic-bypass "
			      "tenant (tenants serve: %s)",
			      ytree_show(partition ? partition : "", shown,
					 sizeof(shown)),
			      list);
		errno = ENOENT;
		return NULL;
	}
	if (t->naccounts == 0)
		return t;
	for (i = 0; account && i < t->naccounts; i++)
		if (!strcmp(t->accounts[i], account))
			return t;
	join(list, sizeof(list), t->accounts[0], sizeof(t->accounts[0]),
	     t->naccounts);
	if (!account || !account[0])
		vnb_errprintf(err,
			      "tenant '%s' (partition '%s') admits only the "
			      "accounts %s; submit with --account=%s",
			      t->name, partition, list,
			      t->naccounts == 1 ? t->accounts[0] : "ACCOUNT");
	else
		vnb_errprintf(err,
			      "account '%s' may not use tenant '%s' (allowed "
			      "accounts: %s); submit with --account=%s",
			      ytree_show(account, ashown, sizeof(ashown)),
			      t->name, list,
			      t->naccounts == 1 ? t->accounts[0] : "ACCOUNT");
	errno = EPERM;
	return NULL;
}

const struct vnb_conf_pool *vnb_conf_pool_find(const struct vnb_conf *conf,
					       const char *name)
{
	size_t i;

	for (i = 0; name && i < conf->npools; i++)
		if (!strcmp(conf->pools[i].name, name))
			return &conf->pools[i];
	errno = ENOENT;
	return NULL;
}

static size_t pool_size(const struct vnb_conf_pool *p)
{
	if (p->backend == VNB_BACKEND_SRIOV)
		return p->vf_last - p->vf_first + 1;
	return p->ndevices;
}

size_t vnb_conf_tenant_capacity(const struct vnb_conf *conf,
				const struct vnb_conf_tenant *t)
{
	const struct vnb_conf_pool *p;
	size_t i, n = 0;

	if (t->pool[0]) {
		p = vnb_conf_pool_find(conf, t->pool);
		return p ? pool_size(p) : 0;
	}
	for (i = 0; i < conf->npools; i++)
		n += pool_size(&conf->pools[i]);
	return n;
}

int vnb_conf_job_run_dir(const struct vnb_conf *conf, uint32_t jobid, char *buf,
			 size_t len, vnb_error_t *err)
{
	int n = snprintf(buf, len, "%s/%u", conf->run_dir, jobid);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return vnb_errprintf(err, "run_dir %s: path too long",
				     conf->run_dir);
	}
	return 0;
}
