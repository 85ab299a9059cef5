/*
 * Unit tests of lib/conf/spec.c: the --vnic-bypass grammar, resolving
 * against a tenant's policy, and the normalized form.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/tap.h"
#include "common/util.h"
#include "conf/spec.h"

static const struct {
	const char *text;
	const char *msg; /* the whole message */
} bad[] = {
    {"vnics=0", "--vnic-bypass: 'vnics=0': vnics must be a whole number from "
		"1 to 64"},
    {"vnics=65", "--vnic-bypass: 'vnics=65': vnics must be a whole number "
		 "from 1 to 64"},
    {"vnics=", "--vnic-bypass: 'vnics=': vnics must be a whole number from "
	       "1 to 64"},
    {"vnics=two", "--vnic-bypass: 'vnics=two': vnics must be a whole number "
		  "from 1 to 64"},
    {"vnics=-1", "--vnic-bypass: 'vnics=-1': vnics must be a whole number "
		 "from 1 to 64"},
    {"vnics=+1", "--vnic-bypass: 'vnics=+1': vnics must be a whole number "
		 "from 1 to 64"},
    {"vnics= 1", "--vnic-bypass: 'vnics= 1': vnics must be a whole number "
		 "from 1 to 64"},
    {"vnics=99999999999999999999", "--vnic-bypass: "
				   "'vnics=99999999999999999999': vnics must "
				   "be a whole number from 1 to 64"},
    {"queues=0", "--vnic-bypass: 'queues=0': queues must be a whole number "
		 "from 1 to 64"},
    {"queues=1.5", "--vnic-bypass: 'queues=1.5': queues must be a whole "
		   "number from 1 to 64"},
    {"vnics=1,vnics=2", "--vnic-bypass: 'vnics=2': vnics is given twice; "
			"give it once"},
    {"queues=1,queues=1", "--vnic-bypass: 'queues=1': queues is given twice; "
			  "give it once"},
    {"image=a,image=b", "--vnic-bypass: 'image=b': image is given twice; "
			"give it once"},
    {"provider=xdp,provider=udp", "--vnic-bypass: 'provider=udp': provider "
				  "is given twice; give it once"},
    {"vnics=1,,queues=2", "--vnic-bypass: '': empty field (two commas, or a "
			  "comma at either end); fields are vnics=N, "
			  "queues=Q, image=NAME, provider=P"},
    {"vnics=1,", "--vnic-bypass: '': empty field (two commas, or a comma at "
		 "either end); fields are vnics=N, queues=Q, image=NAME, "
		 "provider=P"},
    {",vnics=1", "--vnic-bypass: '': empty field (two commas, or a comma at "
		 "either end); fields are vnics=N, queues=Q, image=NAME, "
		 "provider=P"},
    {",", "--vnic-bypass: '': empty field (two commas, or a comma at either "
	  "end); fields are vnics=N, queues=Q, image=NAME, provider=P"},
    {"vnics", "--vnic-bypass: 'vnics': missing '='; write each field as "
	      "NAME=VALUE, one of vnics=N, queues=Q, image=NAME, provider=P"},
    {"4", "--vnic-bypass: '4': missing '='; write each field as NAME=VALUE, "
	  "one of vnics=N, queues=Q, image=NAME, provider=P"},
    {"nics=2", "--vnic-bypass: 'nics=2': unknown field; fields are vnics=N, "
	       "queues=Q, image=NAME, provider=P (see srun --help)"},
    {"VNICS=2", "--vnic-bypass: 'VNICS=2': unknown field; fields are "
		"vnics=N, queues=Q, image=NAME, provider=P (see srun --help)"},
    {" vnics=2", "--vnic-bypass: ' vnics=2': unknown field; fields are "
		 "vnics=N, queues=Q, image=NAME, provider=P (see srun --help)"},
    {"=2", "--vnic-bypass: '=2': unknown field; fields are vnics=N, "
	   "queues=Q, image=NAME, provider=P (see srun --help)"},
    {"image=", "--vnic-bypass: 'image=': image must be a name of 1-63 "
	       "characters from A-Z a-z 0-9 . _ -, not starting with '.' or "
	       "'-'"},
    {"image=../etc", "--vnic-bypass: 'image=../etc': image must be a name of "
		     "1-63 characters from A-Z a-z 0-9 . _ -, not starting "
		     "with '.' or '-'"},
    {"image=a b", "--vnic-bypass: 'image=a b': image must be a name of 1-63 "
		  "characters from A-Z a-z 0-9 . _ -, not starting with '.' "
		  "or '-'"},
    {"image=0123456789012345678901234567890123456789012345678901234567890123",
     "--vnic-bypass: 'image=01234567890123456789012345678901234567...': "
     "image must be a name of 1-63 characters from A-Z a-z 0-9 . _ -, not "
     "starting with '.' or '-'"},
    {"provider=ib", "--vnic-bypass: 'provider=ib': provider must be one of "
		    "xdp, packet, udp, shm, auto"},
    {"provider=", "--vnic-bypass: 'provider=': provider must be one of xdp, "
		  "packet, udp, shm, auto"},
    {"provider=XDP", "--vnic-bypass: 'provider=XDP': provider must be one of "
		     "xdp, packet, udp, shm, auto"},
    {"vnics=1\nx=2", "--vnic-bypass: 'vnics=1?x=2': vnics must be a whole "
		     "number from 1 to 64"},
};

static void test_bad(void)
{
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(bad); i++) {
		struct vnb_spec spec = {.vnics = 7};
		vnb_error_t err = {{0}};
		int rc;

		errno = 0;
		rc = vnb_spec_parse(bad[i].text, &spec, &err);
		ok(rc == -1 && errno == EINVAL, "bad spec %zu: -1, EINVAL", i);
		is_str(err.text, bad[i].msg, "bad spec %zu: message", i);
		is_int(spec.vnics, 7, "bad spec %zu: spec untouched", i);
	}
}

static const struct {
	const char *text;
	unsigned vnics, queues;
	const char *image;
	int provider_set;
	enum vnb_provider provider;
	const char *normal;
} good[] = {
    {NULL, 0, 0, "", 0, VNB_PROVIDER_AUTO, ""},
    {"", 0, 0, "", 0, VNB_PROVIDER_AUTO, ""},
    {"vnics=1", 1, 0, "", 0, VNB_PROVIDER_AUTO, "vnics=1"},
    {"vnics=64", 64, 0, "", 0, VNB_PROVIDER_AUTO, "vnics=64"},
    {"vnics=02", 2, 0, "", 0, VNB_PROVIDER_AUTO, "vnics=2"},
    {"queues=4", 0, 4, "", 0, VNB_PROVIDER_AUTO, "queues=4"},
    {"image=rocky9", 0, 0, "rocky9", 0, VNB_PROVIDER_AUTO, "image=rocky9"},
    {"provider=auto", 0, 0, "", 1, VNB_PROVIDER_AUTO, "provider=auto"},
    {"provider=shm", 0, 0, "", 1, VNB_PROVIDER_SHM, "provider=shm"},
    {"provider=udp,image=x,queues=2,vnics=3", 3, 2, "x", 1, VNB_PROVIDER_UDP,
     "vnics=3,queues=2,image=x,provider=udp"},
    {"vnics=2,queues=64,image=a.b_c-d,provider=packet", 2, 64, "a.b_c-d", 1,
     VNB_PROVIDER_PACKET, "vnics=2,queues=64,image=a.b_c-d,provider=packet"},
};

static bool same(const struct vnb_spec *a, const struct vnb_spec *b)
{
	return a->vnics == b->vnics && a->queues == b->queues &&
	       !strcmp(a->image, b->image) &&
	       a->provider_set == b->provider_set &&
	       (!a->provider_set || a->provider == b->provider);
}

static void test_good(void)
{
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(good); i++) {
		struct vnb_spec spec, again;
		vnb_error_t err = {{0}};
		char buf[VNB_SPEC_MAX];
		const char *text = good[i].text ? good[i].text : "(NULL)";

		if (!ok(vnb_spec_parse(good[i].text, &spec, &err) == 0,
			"'%s' parses", text)) {
			diag("%s", err.text);
			continue;
		}
		ok(spec.vnics == good[i].vnics &&
		       spec.queues == good[i].queues &&
		       !strcmp(spec.image, good[i].image) &&
		       spec.provider_set == good[i].provider_set &&
		       spec.provider == good[i].provider,
		   "'%s': every field", text);
		is_int(vnb_spec_format(&spec, buf, sizeof(buf)),
		       (long long)strlen(good[i].normal), "'%s': format length",
		       text);
		is_str(buf, good[i].normal, "'%s': normalized", text);
		ok(vnb_spec_parse(buf, &again, NULL) == 0 &&
		       same(&spec, &again),
		   "'%s': parse(format(x)) == x", text);
	}
}

static void test_format(void)
{
	struct vnb_spec spec = {.vnics = 2,
				.queues = 3,
				.image = "debian12",
				.provider = VNB_PROVIDER_XDP,
				.provider_set = 1};
	char buf[VNB_SPEC_MAX];
	const char *want = "vnics=2,queues=3,image=debian12,provider=xdp";

	is_int(vnb_spec_format(&spec, buf, strlen(want) + 1),
	       (long long)strlen(want), "format fits exactly");
	errno = 0;
	ok(vnb_spec_format(&spec, buf, strlen(want)) == -1 && errno == ENOSPC,
	   "format one byte short: ENOSPC");
	errno = 0;
	ok(vnb_spec_format(&spec, buf, 0) == -1 && errno == ENOSPC,
	   "format into nothing: ENOSPC");
	spec.vnics = 65;
	errno = 0;
	ok(vnb_spec_format(&spec, buf, sizeof(buf)) == -1 && errno == EINVAL,
	   "format of a spec parse would refuse: EINVAL");
}

static struct vnb_conf_image images[] = {
    {.name = "debian12", .disk = "/d.qcow2"},
    {.name = "rocky9", .disk = "/r.qcow2"},
};
static const struct vnb_conf_tenant chem = {
    .name = "chem",
    .images = images,
    .nimages = 2,
    .vnics_default = 1,
    .vnics_max = 2,
    .queues_default = 1,
    .queues_max = 4,
    .providers = 1u << VNB_PROVIDER_AUTO | 1u << VNB_PROVIDER_XDP |
		 1u << VNB_PROVIDER_PACKET | 1u << VNB_PROVIDER_UDP,
};

static void test_resolve(void)
{
	static const struct {
		const char *text;
		size_t capacity;
		const char *want; /* normalized, or the message */
	} t[] = {
	    {"", 0, "vnics=1,queues=1,image=debian12,provider=auto"},
	    {"", 4, "vnics=1,queues=1,image=debian12,provider=auto"},
	    {"vnics=2,queues=4,image=rocky9,provider=udp", 2,
	     "vnics=2,queues=4,image=rocky9,provider=udp"},
	    {"provider=auto", 1,
	     "vnics=1,queues=1,image=debian12,provider=auto"},
	    /* raw frames: one receiving queue per vNIC */
	    {"vnics=2,queues=4,provider=packet", 0,
	     "--vnic-bypass: queues=4 with provider packet: a vNIC delivers "
	     "every frame to one of its queues (no flow steering by queue "
	     "yet), so the other queue sets would receive nothing; ask for "
	     "vnics=8 and queues=1 instead, or provider=udp"},
	    {"queues=2", 0,
	     "--vnic-bypass: queues=2 with provider auto: a vNIC delivers "
	     "every frame to one of its queues (no flow steering by queue "
	     "yet), so the other queue sets would receive nothing; ask for "
	     "vnics=2 and queues=1 instead, or provider=udp"},
	    {"vnics=5", 0,
	     "--vnic-bypass: tenant chem allows at most 2 vNICs per node; you "
	     "asked for 5"},
	    {"vnics=2", 1,
	     "--vnic-bypass: a node offers tenant chem 1 vNIC; you asked "
	     "for 2"},
	    {"queues=8", 0,
	     "--vnic-bypass: tenant chem allows at most 4 queues per vNIC; you "
	     "asked for 8"},
	    {"image=alma9", 0,
	     "--vnic-bypass: tenant chem has no image 'alma9'; its images are: "
	     "debian12, rocky9"},
	    {"provider=shm", 0,
	     "--vnic-bypass: tenant chem does not allow provider 'shm'; "
	     "allowed: auto, xdp, packet, udp"},
	};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		struct vnb_spec in, out;
		vnb_error_t err = {{0}};
		char buf[VNB_SPEC_MAX];
		int rc;

		if (vnb_spec_parse(t[i].text, &in, &err) < 0)
			bail_out("%s", err.text);
		errno = 0;
		rc = vnb_spec_resolve(&in, &chem, t[i].capacity, &out, &err);
		if (strncmp(t[i].want, "--", 2) == 0) {
			ok(rc == -1 && errno == EINVAL,
			   "resolve '%s' (capacity %zu): -1, EINVAL", t[i].text,
			   t[i].capacity);
			is_str(err.text, t[i].want, "resolve '%s': message",
			       t[i].text);
			continue;
		}
		ok(rc == 0, "resolve '%s' (capacity %zu)", t[i].text,
		   t[i].capacity);
		vnb_spec_format(&out, buf, sizeof(buf));
		is_str(buf, t[i].want, "resolve '%s': normalized", t[i].text);
	}
}

static void test_resolve_more(void)
{
	struct vnb_conf_tenant wide = chem;
	struct vnb_spec spec;
	vnb_error_t err = {{0}};
	char buf[VNB_SPEC_MAX];

	wide.vnics_default = 3;
	wide.vnics_max = 8;
	vnb_spec_parse("", &spec, NULL);
	errno = 0;
	ok(vnb_spec_resolve(&spec, &wide, 2, &spec, &err) == -1 &&
	       errno == EINVAL,
	   "a default above the node's capacity: EINVAL");
	is_str(err.text,
	       "--vnic-bypass: a node offers tenant chem 2 vNICs, fewer than "
	       "its default of 3; ask the admin to fix the configuration",
	       "a default above the node's capacity: message");
	vnb_spec_parse("queues=3,provider=udp", &spec, NULL);
	ok(vnb_spec_resolve(&spec, &wide, 0, &spec, NULL) == 0,
	   "resolve in place (in == out)");
	vnb_spec_format(&spec, buf, sizeof(buf));
	is_str(buf, "vnics=3,queues=3,image=debian12,provider=udp",
	       "resolve in place: normalized");
}

/* parse(format(x)) == x over many generated specs, and parse never
 * accepts a text that format would not write back the same way. */
static void test_roundtrip(void)
{
	static const char *const names[] = {"", "a", "debian12", "x.y_z-1"};
	static const char *const junk[] = {"vnics=",   "queues=0",
					   ",",	       "=",
					   "image=",   "provider=xdp",
					   "vnics=64", "queues=9",
					   "image=a",  "x"};
	unsigned seed = 12345, i, failed = 0;

	for (i = 0; i < 4000; i++) {
		struct vnb_spec in = {0}, out;
		char buf[VNB_SPEC_MAX], text[64] = "";
		unsigned j, n;

		seed = seed * 1103515245 + 12345;
		in.vnics = (seed >> 8) % 65;
		in.queues = (seed >> 16) % 65;
		strcpy(in.image, names[(seed >> 4) % 4]);
		in.provider_set = (seed >> 24) & 1;
		in.provider =
		    in.provider_set ? (seed >> 25) % VNB_PROVIDER_COUNT : 0;
		if (vnb_spec_format(&in, buf, sizeof(buf)) < 0 ||
		    vnb_spec_parse(buf, &out, NULL) < 0 || !same(&in, &out)) {
			failed++;
			diag("round trip of '%s' failed", buf);
		}
		/* random concatenations of fragments */
		n = (seed >> 12) % 4;
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			if (j)
				strcat(text, ",");
			strcat(text, junk[(seed >> 16) % VNB_ARRAY_SIZE(junk)]);
		}
		if (vnb_spec_parse(text, &out, NULL) == 0 &&
		    (vnb_spec_format(&out, buf, sizeof(buf)) < 0 ||
		     vnb_spec_parse(buf, &in, NULL) < 0 || !same(&in, &out))) {
			failed++;
			diag("'%s' parsed but does not round-trip", text);
		}
	}
	is_int(failed, 0, "4000 generated specs round-trip");
}

int main(void)
{
	test_bad();
	test_good();
	test_format();
	test_resolve();
	test_resolve_more();
	test_roundtrip();
	return done_testing();
}
