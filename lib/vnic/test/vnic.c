/*
 * Unit tests of lib/vnic: the MAC table, and programming and scrubbing
 * through an in-memory fake of the link ops with failure injection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/tap.h"
#include "common/util.h"
#include "vnic/vnic.h"

/* --- the MAC table --- */

static void decode(const uint8_t mac[6], uint32_t *job, uint32_t *node,
		   uint32_t *idx)
{
	uint64_t v = (uint64_t)(mac[0] >> 2) << 40 | (uint64_t)mac[1] << 32 |
		     (uint64_t)mac[2] << 24 | (uint64_t)mac[3] << 16 |
		     (uint64_t)mac[4] << 8 | mac[5];

	*job = (uint32_t)(v >> 20);
	*node = (uint32_t)(v >> 6) & 0x3fff;
	*idx = (uint32_t)v & 0x3f;
}

static bool local_unicast(const uint8_t mac[6])
{
	return (mac[0] & 0x03) == 0x02;
}

static void check_mac(uint32_t job, uint32_t node, uint32_t idx,
		      const char *want)
{
	vnb_error_t err = {""};
	uint8_t mac[6];
	char buf[18];

	if (vnb_vnic_mac(job, node, idx, mac, &err) < 0) {
		ok(false, "mac(%u,%u,%u): %s", job, node, idx, err.text);
		return;
	}
	vnb_mac_format(mac, buf);
	is_str(buf, want, "mac(%u,%u,%u)", job, node, idx);
}

static int cmp_mac(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

static void test_mac(void)
{
	static const uint32_t jobs[] = {0,
					1,
					2,
					63,
					64,
					(1u << 20) - 1,
					1u << 20,
					(1u << 26) - 2,
					(1u << 26) - 1};
	static const uint32_t nodes[] = {
	    0, 1, 2, 63, 64, (1u << 14) - 2, (1u << 14) - 1};
	static const uint32_t idxs[] = {0, 1, 31, 32, 62, 63};
	static const struct {
		uint32_t job, node, idx;
	} bad[] = {
	    {1u << 26, 0, 0},	{0, 1u << 14, 0},   {0, 0, 64},
	    {UINT32_MAX, 0, 0}, {0, UINT32_MAX, 0}, {0, 0, UINT32_MAX},
	};
	size_t nj = VNB_ARRAY_SIZE(jobs), nn = VNB_ARRAY_SIZE(nodes);
	size_t ni = VNB_ARRAY_SIZE(idxs), total = nj * nn * ni;
	uint8_t(*all)[6] = calloc(total, 6);
	size_t i, j, k, m = 0, dups = 0, bad_bits = 0, bad_decode = 0;
	vnb_error_t err = {""};
	uint8_t mac[6];

	check_mac(0, 0, 0, "02:00:00:00:00:00");
	check_mac(0, 0, 1, "02:00:00:00:00:01");
	check_mac(0, 1, 0, "02:00:00:00:00:40");
	check_mac(1, 0, 0, "02:00:00:10:00:00");
	check_mac(1u << 20, 0, 0, "06:00:00:00:00:00");
	check_mac(12345, 3, 2, "02:03:03:90:00:c2");
	check_mac((1u << 26) - 1, (1u << 14) - 1, 63, "fe:ff:ff:ff:ff:ff");

	if (!all)
		bail_out("out of memory");
	for (i = 0; i < nj; i++)
		for (j = 0; j < nn; j++)
			for (k = 0; k < ni; k++, m++) {
				uint32_t a, b, c;

				if (vnb_vnic_mac(jobs[i], nodes[j], idxs[k],
						 all[m], NULL) < 0)
					bail_out("mac failed in range");
				if (!local_unicast(all[m]))
					bad_bits++;
				decode(all[m], &a, &b, &c);
				if (a != jobs[i] || b != nodes[j] ||
				    c != idxs[k])
					bad_decode++;
			}
	qsort(all, total, 6, cmp_mac);
	for (m = 1; m < total; m++)
		if (memcmp(all[m - 1], all[m], 6) == 0)
			dups++;
	is_int((long long)bad_bits, 0,
	       "%zu MACs at the field boundaries are locally administered "
	       "unicast",
	       total);
	is_int((long long)bad_decode, 0, "each decodes to its own fields");
	is_int((long long)dups, 0, "no two are equal");
	free(all);

	for (i = 0; i < VNB_ARRAY_SIZE(bad); i++) {
		errno = 0;
		err.text[0] = '\0';
		ok(vnb_vnic_mac(bad[i].job, bad[i].node, bad[i].idx, mac,
				&err) == -1 &&
		       errno == ERANGE,
		   "mac(%u,%u,%u) -> ERANGE", bad[i].job, bad[i].node,
		   bad[i].idx);
	}
	like(err.text, "job < 67108864, node index < 16384, vNIC < 64",
	     "message gives the limits: %s", err.text);
}

static void test_scrub_mac(void)
{
	uint8_t a[6], b[6], c[6];
	uint32_t job, node, idx;

	vnb_vnic_scrub_mac("vnic0", a);
	vnb_vnic_scrub_mac("vnic0", b);
	vnb_vnic_scrub_mac("vnic1", c);
	ok(memcmp(a, b, 6) == 0, "scrub MAC is deterministic");
	ok(memcmp(a, c, 6) != 0, "differs between devices");
	ok(local_unicast(a) && local_unicast(c), "locally administered "
						 "unicast");
	decode(a, &job, &node, &idx);
	is_int(job, 0, "in the job-0 space, never a job's MAC");
	vnb_vnic_scrub_mac(NULL, a);
	ok(local_unicast(a), "NULL name still gives a valid MAC");
}

/* --- the fake link ops --- */

struct fake_dev {
	char name[16];
	uint8_t mac[6];
	bool up;
	bool no_live_mac; /* set_mac while up -> EBUSY, as some drivers */
};

struct fake {
	struct fake_dev dev[2];
	/* dev[1]'s VFs: what the driver reports (VNB_VF_*; others it lacks),
	 * whether it refuses the zero MAC, how many fields a failing set_vf
	 * applies first (as the kernel stops mid-way), what set_vf got. */
	struct vnb_vf vf[4];
	int numvfs;
	unsigned reports;
	bool no_zero_mac;
	unsigned partial;
	unsigned last_fields;
	int calls;
	unsigned long fail; /* bit k: call k fails (1-based) */
	int fail_errno;
	char log[256];
};

static struct fake_dev *fake_find(struct fake *f, const char *name)
{
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(f->dev); i++)
		if (strcmp(f->dev[i].name, name) == 0)
			return &f->dev[i];
	return NULL;
}

/* Log the call; fail it when asked; find the device. */
static struct fake_dev *fake_enter(struct fake *f, const char *op,
				   const char *name, vnb_error_t *err)
{
	struct fake_dev *d;
	size_t len = strlen(f->log);

	f->calls++;
	snprintf(f->log + len, sizeof(f->log) - len, "%s%s", len ? " " : "",
		 op);
	if (f->calls < 64 && (f->fail & (1ul << f->calls))) {
		errno = f->fail_errno;
		vnb_errprintf(err, "fake: %s of %s failed", op, name);
		return NULL;
	}
	d = fake_find(f, name);
	if (!d) {
		errno = ENODEV;
		vnb_errprintf(err, "fake: no device %s", name);
	}
	return d;
}

static int fake_get(void *ctx, const char *ifname, struct vnb_link *link,
		    vnb_error_t *err)
{
	struct fake_dev *d = fake_enter(ctx, "get", ifname, err);

	if (!d)
		return -1;
	memcpy(link->mac, d->mac, 6);
	link->up = d->up;
	return 0;
}

static int fake_set_mac(void *ctx, const char *ifname, const uint8_t mac[6],
			vnb_error_t *err)
{
	struct fake_dev *d = fake_enter(ctx, "mac", ifname, err);

	if (!d)
		return -1;
	if (d->up && d->no_live_mac) {
		errno = EBUSY;
		return vnb_errprintf(err, "fake: %s is busy", ifname);
	}
	memcpy(d->mac, mac, 6);
	return 0;
}

static int fake_set_up(void *ctx, const char *ifname, bool up, vnb_error_t *err)
{
	struct fake_dev *d = fake_enter(ctx, up ? "up" : "down", ifname, err);

	if (!d)
		return -1;
	d->up = up;
	return 0;
}

static const struct vnb_vnic_ops fake_ops = {
    .size = sizeof(struct vnb_vnic_ops),
    .get = fake_get,
    .set_mac = fake_set_mac,
    .set_up = fake_set_up,
};

static const uint8_t orig_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t job_mac[6] = {0x02, 0x00, 0x00, 0x10, 0x00, 0x01};

static struct vnb_conf_pool macvtap_pool = {.name = "lower",
					    .backend = VNB_BACKEND_MACVTAP};
static struct vnb_conf_pool sriov_pool = {
    .name = "vfs", .backend = VNB_BACKEND_SRIOV, .pf = "ens1f0"};

static const struct vnb_pool_vnic vnic0 = {
    .id = "vnic0", .ifname = "vnic0", .vf = -1, .pool = &macvtap_pool};
static const struct vnb_pool_vnic vf3 = {
    .id = "ens1f0:vf3", .ifname = "ens1f0", .vf = 3, .pool = &sriov_pool};

static void fake_init(struct fake *f, bool up, bool no_live_mac)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dev[0].name, sizeof(f->dev[0].name), "vnic0");
	memcpy(f->dev[0].mac, orig_mac, 6);
	f->dev[0].up = up;
	f->dev[0].no_live_mac = no_live_mac;
	snprintf(f->dev[1].name, sizeof(f->dev[1].name), "ens1f0");
	f->fail_errno = EIO;
}

static bool dev_is(const struct fake *f, const uint8_t mac[6], bool up)
{
	return memcmp(f->dev[0].mac, mac, 6) == 0 && f->dev[0].up == up;
}

static void test_program(void)
{
	struct vnb_vnic_saved saved;
	vnb_error_t err = {""};
	struct fake f;

	fake_init(&f, false, false);
	ok(vnb_vnic_program(&fake_ops, &f, &vnic0, job_mac, 0, &saved, &err) ==
	       0,
	   "program: %s", err.text);
	ok(dev_is(&f, job_mac, true), "device has the job MAC and is up");
	ok(memcmp(saved.mac, orig_mac, 6) == 0 && !saved.was_up,
	   "saved the old MAC and state");
	is_str(f.log, "get mac up", "program order: get, set MAC, up");

	ok(vnb_vnic_scrub(&fake_ops, &f, &vnic0, &saved, &err) == 0,
	   "scrub: %s", err.text);
	ok(dev_is(&f, orig_mac, false), "scrub restores the MAC, down");
	f.log[0] = '\0';
	ok(vnb_vnic_scrub(&fake_ops, &f, &vnic0, &saved, &err) == 0,
	   "scrub twice: %s", err.text);
	is_str(f.log, "get", "second scrub changes nothing");
	ok(dev_is(&f, orig_mac, false), "still restored");

	/* A device that was up stays programmed up, and scrub brings it
	 * down first. */
	fake_init(&f, true, false);
	ok(vnb_vnic_program(&fake_ops, &f, &vnic0, job_mac, 0, &saved, &err) ==
		   0 &&
	       saved.was_up && dev_is(&f, job_mac, true),
	   "program of an up device");
	f.log[0] = '\0';
	ok(vnb_vnic_scrub(&fake_ops, &f, &vnic0, &saved, &err) == 0 &&
	       dev_is(&f, orig_mac, false),
	   "scrub of it");
	is_str(f.log, "get down mac", "scrub order: get, down, set MAC");
}

/* For each call of a clean run, a run where that call fails: it must fail
 * with that errno and leave the device and *saved as they were. */
static void check_failures(bool up, bool no_live_mac, const char *want_log)
{
	struct vnb_vnic_saved saved, canary;
	vnb_error_t err;
	struct fake f;
	int k, n;

	fake_init(&f, up, no_live_mac);
	if (vnb_vnic_program(&fake_ops, &f, &vnic0, job_mac, 0, &saved, NULL) <
	    0)
		bail_out("clean run failed");
	is_str(f.log, want_log, "clean run (up %d, live MAC change %d)", up,
	       !no_live_mac);
	n = f.calls;
	for (k = 1; k <= n; k++) {
		fake_init(&f, up, no_live_mac);
		f.fail = 1ul << k;
		memset(&saved, 0xaa, sizeof(saved));
		canary = saved;
		err.text[0] = '\0';
		errno = 0;
		ok(vnb_vnic_program(&fake_ops, &f, &vnic0, job_mac, 0, &saved,
				    &err) == -1 &&
		       errno == EIO,
		   "call %d fails -> -1 EIO (%s)", k, f.log);
		ok(dev_is(&f, orig_mac, up), "call %d fails: device unchanged",
		   k);
		ok(memcmp(&saved, &canary, sizeof(saved)) == 0,
		   "call %d fails: saved untouched", k);
		like(err.text, "fake:", "call %d fails: message '%s'", k,
		     err.text);
	}
}

static void test_program_failures(void)
{
	struct vnb_vnic_saved saved;
	vnb_error_t err = {""};
	struct fake f;

	check_failures(false, false, "get mac up");
	check_failures(true, false, "get mac up");
	check_failures(true, true, "get mac down mac up");

	/* set_up fails, and so does putting the MAC back. */
	fake_init(&f, false, false);
	f.fail = 1ul << 3 | 1ul << 4;
	errno = 0;
	ok(vnb_vnic_program(&fake_ops, &f, &vnic0, job_mac, 0, &saved, &err) ==
		   -1 &&
	       errno == EIO,
	   "failed undo: -1 with the first errno");
	like(err.text, "fake: up of vnic0 failed; undoing it failed too",
	     "message has both failures: %s", err.text);
	like(err.text, "left changed", "and says the device is changed");

	/* No live MAC change, and the second set_mac and the way back up
	 * both fail: the message says the device is left down. */
	fake_init(&f, true, true);
	f.fail = 1ul << 4 | 1ul << 5;
	ok(vnb_vnic_program(&fake_ops, &f, &vnic0, job_mac, 0, &saved, &err) ==
	       -1,
	   "failed MAC change while down, and failed up");
	like(err.text, "vnic0 is left down", "message: %s", err.text);

	fake_init(&f, false, false);
	f.fail_errno = EPERM;
	f.fail = 1ul << 2;
	errno = 0;
	ok(vnb_vnic_program(&fake_ops, &f, &vnic0, job_mac, 0, &saved, &err) ==
		   -1 &&
	       errno == EPERM,
	   "the op's errno comes through");
}

static void test_scrub(void)
{
	struct vnb_vnic_saved saved = {{0}, false};
	uint8_t scrub[6];
	vnb_error_t err = {""};
	struct fake f;
	int k;

	vnb_vnic_scrub_mac("vnic0", scrub);
	fake_init(&f, true, true);
	memcpy(f.dev[0].mac, job_mac, 6);
	ok(vnb_vnic_scrub(&fake_ops, &f, &vnic0, NULL, &err) == 0 &&
	       dev_is(&f, scrub, false),
	   "lost saved state: scrub MAC, down (%s)", err.text);

	memcpy(f.dev[0].mac, job_mac, 6);
	ok(vnb_vnic_scrub(&fake_ops, &f, &vnic0, &saved, &err) == 0 &&
	       dev_is(&f, scrub, false),
	   "saved MAC all zero (damaged record): scrub MAC");

	/* Each failing step leaves it for a second call to finish. */
	for (k = 1; k <= 3; k++) {
		fake_init(&f, true, false);
		memcpy(f.dev[0].mac, job_mac, 6);
		memcpy(saved.mac, orig_mac, 6);
		f.fail = 1ul << k;
		errno = 0;
		ok(vnb_vnic_scrub(&fake_ops, &f, &vnic0, &saved, &err) == -1 &&
		       errno == EIO,
		   "scrub call %d fails -> -1 EIO", k);
		f.fail = 0;
		ok(vnb_vnic_scrub(&fake_ops, &f, &vnic0, &saved, &err) == 0 &&
		       dev_is(&f, orig_mac, false),
		   "scrub again after call %d failed finishes it", k);
	}

	fake_init(&f, false, false);
	errno = 0;
	ok(vnb_vnic_scrub(&fake_ops, &f,
			  &(struct vnb_pool_vnic){.id = "gone",
						  .ifname = "gone",
						  .vf = -1,
						  .pool = &macvtap_pool},
			  NULL, &err) == -1 &&
	       errno == ENODEV,
	   "scrub of a missing device -> ENODEV");
}

static void test_args(void)
{
	struct vnb_vnic_ops small = fake_ops, noget = fake_ops;
	struct vnb_pool_vnic bad = vnic0, nopool_vf = vf3;
	const uint8_t mcast[6] = {0x03, 0, 0, 0, 0, 1};
	const uint8_t zero[6] = {0};
	struct vnb_vnic_saved saved;
	vnb_error_t err = {""};
	struct fake f;

	static const char *why[] = {
	    "NULL ops", "ops too small", "ops without get", "bad ifname",
	    "NULL mac", "multicast mac", "zero mac",	    "NULL saved",
	};
	int rc[VNB_ARRAY_SIZE(why)], e[VNB_ARRAY_SIZE(why)];
	size_t i;

	fake_init(&f, false, false);
	small.size = offsetof(struct vnb_vnic_ops, set_up);
	noget.get = NULL;
	snprintf(bad.ifname, sizeof(bad.ifname), "../x");
#define TRY(n, call)                                                           \
	do {                                                                   \
		errno = 0;                                                     \
		rc[n] = (call);                                                \
		e[n] = errno;                                                  \
	} while (0)
	TRY(0, vnb_vnic_program(NULL, &f, &vnic0, job_mac, 0, &saved, &err));
	TRY(1, vnb_vnic_program(&small, &f, &vnic0, job_mac, 0, &saved, &err));
	TRY(2, vnb_vnic_program(&noget, &f, &vnic0, job_mac, 0, &saved, &err));
	TRY(3, vnb_vnic_program(&fake_ops, &f, &bad, job_mac, 0, &saved, &err));
	TRY(4, vnb_vnic_program(&fake_ops, &f, &vnic0, NULL, 0, &saved, &err));
	TRY(5, vnb_vnic_program(&fake_ops, &f, &vnic0, mcast, 0, &saved, &err));
	TRY(6, vnb_vnic_program(&fake_ops, &f, &vnic0, zero, 0, &saved, &err));
	TRY(7, vnb_vnic_program(&fake_ops, &f, &vnic0, job_mac, 0, NULL, &err));
#undef TRY
	for (i = 0; i < VNB_ARRAY_SIZE(why); i++)
		ok(rc[i] == -1 && e[i] == EINVAL, "program, %s -> EINVAL",
		   why[i]);
	is_int(f.calls, 0, "no op was called");
	like(err.text, "vnic0", "message names the vNIC: %s", err.text);

	errno = 0;
	ok(vnb_vnic_program(&fake_ops, &f, &vf3, job_mac, 10, &saved, &err) ==
		   -1 &&
	       errno == EINVAL,
	   "program sriov with ops that lack the VF ones -> EINVAL");
	like(err.text, "ens1f0:vf3: the vNIC ops table has no VF operations",
	     "message names the vNIC: %s", err.text);
	errno = 0;
	ok(vnb_vnic_scrub(&fake_ops, &f, &vf3, NULL, &err) == -1 &&
	       errno == EINVAL,
	   "scrub sriov with them -> EINVAL");
	nopool_vf.pool = NULL;
	errno = 0;
	ok(vnb_vnic_program(&fake_ops, &f, &nopool_vf, job_mac, 0, &saved,
			    &err) == -1 &&
	       errno == EINVAL && strstr(err.text, "no VF operations"),
	   "no pool but a VF index: sriov");
	errno = 0;
	ok(vnb_vnic_scrub(NULL, &f, &vnic0, NULL, &err) == -1 &&
	       errno == EINVAL,
	   "scrub NULL ops -> EINVAL");
	is_int(f.calls, 0, "still no op called");

	fake_init(&f, false, false);
	ok(vnb_vnic_program(&fake_ops, &f, &vnic0, job_mac, 0, &saved, NULL) ==
	       0,
	   "err may be NULL");
}

/* --- the fake VF ops --- */

static int fake_get_vf(void *ctx, const char *pf, int vf, struct vnb_vf *out,
		       vnb_error_t *err)
{
	struct fake *f = ctx;

	if (!fake_enter(f, "get_vf", pf, err))
		return -1;
	if (strcmp(pf, f->dev[1].name) != 0) {
		errno = EOPNOTSUPP;
		return vnb_errprintf(err, "fake: %s has no VFs", pf);
	}
	if (vf >= f->numvfs) {
		errno = ERANGE;
		return vnb_errprintf(err, "fake: PF %s has only %d VFs", pf,
				     f->numvfs);
	}
	*out = f->vf[vf];
	out->fields = f->reports;
	return 0;
}

/* Apply the fields of want in the kernel's order; a failing call (or a
 * field the driver lacks, or a zero MAC it refuses) stops there with the
 * fields before it applied. */
static int fake_set_vf(void *ctx, const char *pf, int vf,
		       const struct vnb_vf *want, vnb_error_t *err)
{
	static const unsigned order[] = {VNB_VF_MAC, VNB_VF_VLAN,
					 VNB_VF_SPOOFCHK, VNB_VF_LINK,
					 VNB_VF_TRUST};
	struct fake *f = ctx;
	struct vnb_vf *d;
	unsigned applied = 0;
	bool failing;
	size_t i;

	f->calls++;
	snprintf(f->log + strlen(f->log), sizeof(f->log) - strlen(f->log),
		 "%sset_vf", f->log[0] ? " " : "");
	failing = f->calls < 64 && (f->fail & (1ul << f->calls));
	if (strcmp(pf, f->dev[1].name) != 0 || vf >= f->numvfs) {
		errno = ENODEV;
		return vnb_errprintf(err, "fake: no VF %d on %s", vf, pf);
	}
	f->last_fields = want->fields;
	d = &f->vf[vf];
	for (i = 0; i < VNB_ARRAY_SIZE(order); i++) {
		static const uint8_t zero[6];
		unsigned b = order[i];

		if (!(want->fields & b))
			continue;
		if (failing && applied == f->partial) {
			errno = f->fail_errno;
			return vnb_errprintf(err, "fake: set_vf of %s failed",
					     pf);
		}
		if (!(f->reports & b)) {
			errno = EOPNOTSUPP;
			return vnb_errprintf(err, "fake: %s lacks field %#x",
					     pf, b);
		}
		if (b == VNB_VF_MAC && f->no_zero_mac &&
		    memcmp(want->mac, zero, 6) == 0) {
			errno = EINVAL;
			return vnb_errprintf(err, "fake: %s refuses 00:00:...",
					     pf);
		}
		if (b == VNB_VF_MAC)
			memcpy(d->mac, want->mac, 6);
		if (b == VNB_VF_VLAN) {
			d->vlan = want->vlan;
			d->qos = want->qos;
		}
		if (b == VNB_VF_SPOOFCHK)
			d->spoofchk = want->spoofchk;
		if (b == VNB_VF_LINK)
			d->link = want->link;
		if (b == VNB_VF_TRUST)
			d->trust = want->trust;
		applied++;
	}
	if (failing) {
		errno = f->fail_errno;
		return vnb_errprintf(err, "fake: set_vf of %s failed", pf);
	}
	return 0;
}

static const struct vnb_vnic_ops fake_vf_ops = {
    .size = sizeof(struct vnb_vnic_ops),
    .get = fake_get,
    .set_mac = fake_set_mac,
    .set_up = fake_set_up,
    .set_vf = fake_set_vf,
    .get_vf = fake_get_vf,
};

#define ALL_FIELDS                                                             \
	(VNB_VF_MAC | VNB_VF_VLAN | VNB_VF_SPOOFCHK | VNB_VF_TRUST |           \
	 VNB_VF_LINK)

/* VF 3 as an admin might leave it: no MAC, spoof checking off, trusted,
 * link forced on, priority 5 on VLAN 0. */
static const struct vnb_vf vf_orig = {
    .mac = {0}, .qos = 5, .trust = true, .link = VNB_VF_LINK_ENABLE};

static void fake_vf_init(struct fake *f)
{
	fake_init(f, false, false);
	f->numvfs = 4;
	f->reports = ALL_FIELDS;
	f->vf[3] = vf_orig;
}

static bool vf_is(const struct vnb_vf *d, const uint8_t mac[6], unsigned vlan,
		  unsigned qos, bool spoofchk, bool trust,
		  enum vnb_vf_link link)
{
	return memcmp(d->mac, mac, 6) == 0 && d->vlan == vlan &&
	       d->qos == qos && d->spoofchk == spoofchk && d->trust == trust &&
	       d->link == link;
}

static bool vf_same(const struct vnb_vf *a, const struct vnb_vf *b)
{
	return vf_is(a, b->mac, b->vlan, b->qos, b->spoofchk, b->trust,
		     b->link);
}

static void test_vf_program(void)
{
	static const uint8_t zero[6], admin_mac[6] = {0x52, 0x54, 0, 0, 0, 9};
	struct vnb_vnic_saved saved;
	vnb_error_t err = {""};
	uint8_t fallback[6];
	struct fake f;
	int i;

	fake_vf_init(&f);
	ok(vnb_vnic_program(&fake_vf_ops, &f, &vf3, job_mac, 10, &saved,
			    &err) == 0,
	   "program VF 3: %s", err.text);
	ok(vf_is(&f.vf[3], job_mac, 10, 0, true, false, VNB_VF_LINK_AUTO),
	   "VF has the job MAC, VLAN 10 qos 0, spoofchk on, trust off, auto");
	is_str(f.log, "get_vf set_vf", "one read, one request");
	is_int(f.last_fields, ALL_FIELDS, "all five fields differed");
	ok(memcmp(saved.mac, zero, 6) == 0 && saved.was_up,
	   "saved: no MAC before, link not disabled");
	ok(!f.dev[1].up && memcmp(f.dev[1].mac, zero, 6) == 0,
	   "the PF itself was not touched");
	for (i = 0; i < 3; i++)
		ok(vf_same(&f.vf[i], &(struct vnb_vf){0}), "VF %d untouched",
		   i);

	ok(vnb_vnic_scrub(&fake_vf_ops, &f, &vf3, &saved, &err) == 0,
	   "scrub VF 3: %s", err.text);
	ok(vf_is(&f.vf[3], zero, 0, 0, true, false, VNB_VF_LINK_AUTO),
	   "scrubbed: no MAC, VLAN 0, spoofchk on, trust off, auto");
	f.log[0] = '\0';
	ok(vnb_vnic_scrub(&fake_vf_ops, &f, &vf3, &saved, &err) == 0 &&
	       vf_is(&f.vf[3], zero, 0, 0, true, false, VNB_VF_LINK_AUTO),
	   "scrub twice: %s", err.text);
	is_str(f.log, "get_vf", "second scrub sends nothing");

	/* Only what differs is sent. */
	f.log[0] = '\0';
	ok(vnb_vnic_program(&fake_vf_ops, &f, &vf3, job_mac, 0, &saved, &err) ==
		   0 &&
	       f.last_fields == VNB_VF_MAC,
	   "program of a clean VF, untagged: only the MAC is sent (%#x)",
	   f.last_fields);
	f.log[0] = '\0';
	ok(vnb_vnic_program(&fake_vf_ops, &f, &vf3, job_mac, 0, &saved, &err) ==
	       0,
	   "program twice: %s", err.text);
	is_str(f.log, "get_vf", "sends nothing");

	/* The saved MAC and a disabled link come back. */
	fake_vf_init(&f);
	memcpy(f.vf[3].mac, admin_mac, 6);
	f.vf[3].link = VNB_VF_LINK_DISABLE;
	ok(vnb_vnic_program(&fake_vf_ops, &f, &vf3, job_mac, 4094, &saved,
			    &err) == 0 &&
	       memcmp(saved.mac, admin_mac, 6) == 0 && !saved.was_up &&
	       vf_is(&f.vf[3], job_mac, 4094, 0, true, false, VNB_VF_LINK_AUTO),
	   "program a VF that had a MAC and a disabled link, VLAN 4094");
	ok(vnb_vnic_scrub(&fake_vf_ops, &f, &vf3, &saved, &err) == 0 &&
	       vf_is(&f.vf[3], admin_mac, 0, 0, true, false,
		     VNB_VF_LINK_DISABLE),
	   "scrub restores that MAC and disables the link");

	/* Lost saved state: no MAC, auto. */
	fake_vf_init(&f);
	memcpy(f.vf[3].mac, job_mac, 6);
	f.vf[3].vlan = 10;
	ok(vnb_vnic_scrub(&fake_vf_ops, &f, &vf3, NULL, &err) == 0 &&
	       vf_is(&f.vf[3], zero, 0, 0, true, false, VNB_VF_LINK_AUTO),
	   "scrub without saved state: %s", err.text);

	/* A driver that refuses the zero MAC gets the scrub MAC of the
	 * vNIC id, and keeps it on the next scrub. */
	fake_vf_init(&f);
	f.no_zero_mac = true;
	memcpy(f.vf[3].mac, job_mac, 6);
	vnb_vnic_scrub_mac("ens1f0:vf3", fallback);
	ok(vnb_vnic_scrub(&fake_vf_ops, &f, &vf3, NULL, &err) == 0 &&
	       vf_is(&f.vf[3], fallback, 0, 0, true, false, VNB_VF_LINK_AUTO),
	   "zero MAC refused: the scrub MAC instead (%s)", err.text);
	f.log[0] = '\0';
	ok(vnb_vnic_scrub(&fake_vf_ops, &f, &vf3, NULL, &err) == 0,
	   "scrub again: %s", err.text);
	is_str(f.log, "get_vf", "sends nothing");

	/* A driver without trust: programmed without it. */
	fake_vf_init(&f);
	f.reports &= ~VNB_VF_TRUST;
	ok(vnb_vnic_program(&fake_vf_ops, &f, &vf3, job_mac, 7, &saved, &err) ==
		   0 &&
	       !(f.last_fields & VNB_VF_TRUST),
	   "no trust in the driver: not sent (%s)", err.text);
	ok(vnb_vnic_scrub(&fake_vf_ops, &f, &vf3, &saved, &err) == 0 &&
	       !(f.last_fields & VNB_VF_TRUST),
	   "nor at scrub (%s)", err.text);
}

static void test_vf_errors(void)
{
	struct vnb_vnic_ops small = fake_vf_ops, noset = fake_vf_ops;
	struct vnb_pool_vnic vf9 = vf3, noidx = vf3;
	struct vnb_vnic_saved saved, canary;
	vnb_error_t err = {""};
	struct fake f;

	fake_vf_init(&f);
	f.reports &= ~VNB_VF_SPOOFCHK;
	errno = 0;
	ok(vnb_vnic_program(&fake_vf_ops, &f, &vf3, job_mac, 0, &saved, &err) ==
		   -1 &&
	       errno == EOPNOTSUPP,
	   "a driver without spoof checking -> EOPNOTSUPP");
	like(err.text,
	     "the driver of ens1f0 does not report spoof checking for VF 3",
	     "message: %s", err.text);
	is_str(f.log, "get_vf", "nothing was set");
	ok(vnb_vnic_scrub(&fake_vf_ops, &f, &vf3, NULL, &err) == 0,
	   "but such a VF can be scrubbed: %s", err.text);

	fake_vf_init(&f);
	errno = 0;
	ok(vnb_vnic_program(&fake_vf_ops, &f, &vf3, job_mac, 4095, &saved,
			    &err) == -1 &&
	       errno == EINVAL,
	   "VLAN 4095 -> EINVAL");
	like(err.text, "VLAN 4095 is out of range", "message: %s", err.text);
	is_int(f.calls, 0, "no op called");

	snprintf(vf9.id, sizeof(vf9.id), "ens1f0:vf9");
	vf9.vf = 9;
	errno = 0;
	ok(vnb_vnic_program(&fake_vf_ops, &f, &vf9, job_mac, 0, &saved, &err) ==
		   -1 &&
	       errno == ERANGE,
	   "a VF that is not enabled -> the op's ERANGE");

	noidx.vf = -1;
	errno = 0;
	ok(vnb_vnic_program(&fake_vf_ops, &f, &noidx, job_mac, 0, &saved,
			    &err) == -1 &&
	       errno == EINVAL,
	   "an sriov vNIC without a VF index -> EINVAL");

	small.size = offsetof(struct vnb_vnic_ops, get_vf);
	noset.set_vf = NULL;
	errno = 0;
	ok(vnb_vnic_program(&small, &f, &vf3, job_mac, 0, &saved, &err) == -1 &&
	       errno == EINVAL,
	   "an ops table that ends before get_vf -> EINVAL");
	errno = 0;
	ok(vnb_vnic_scrub(&noset, &f, &vf3, NULL, &err) == -1 &&
	       errno == EINVAL,
	   "one without set_vf -> EINVAL");
	ok(vnb_vnic_program(&small, &f, &vnic0, job_mac, 0, &saved, &err) == 0,
	   "the small table still programs macvtap: %s", err.text);

	/* set_vf fails, and so does setting the VF back. */
	fake_vf_init(&f);
	f.fail = 1ul << 2 | 1ul << 3;
	f.partial = 2;
	memset(&saved, 0x55, sizeof(saved));
	canary = saved;
	errno = 0;
	ok(vnb_vnic_program(&fake_vf_ops, &f, &vf3, job_mac, 10, &saved,
			    &err) == -1 &&
	       errno == EIO,
	   "failed undo: -1 with the first errno");
	like(err.text,
	     "fake: set_vf of ens1f0 failed; undoing it failed too, VF 3 of "
	     "ens1f0 is left changed",
	     "message has both: %s", err.text);
	ok(memcmp(&saved, &canary, sizeof(saved)) == 0, "saved untouched");
}

/* Every call of a clean program fails in turn, and a failing set_vf
 * applies 0..4 of its fields first: each run fails with that errno and
 * leaves the VF and *saved as they were.  Then scrub likewise: a second
 * scrub finishes. */
static void test_vf_failures(void)
{
	struct vnb_vnic_saved saved, canary;
	vnb_error_t err;
	struct fake f;
	unsigned part;
	int k;

	for (k = 1; k <= 2; k++) {
		for (part = 0; part <= (k == 2 ? 4u : 0u); part++) {
			fake_vf_init(&f);
			f.fail = 1ul << k;
			f.partial = part;
			memset(&saved, 0xaa, sizeof(saved));
			canary = saved;
			err.text[0] = '\0';
			errno = 0;
			ok(vnb_vnic_program(&fake_vf_ops, &f, &vf3, job_mac, 10,
					    &saved, &err) == -1 &&
			       errno == EIO,
			   "program: call %d fails after %u fields -> EIO "
			   "(%s)",
			   k, part, f.log);
			ok(vf_same(&f.vf[3], &vf_orig),
			   "call %d, %u fields: VF unchanged", k, part);
			ok(memcmp(&saved, &canary, sizeof(saved)) == 0,
			   "call %d, %u fields: saved untouched", k, part);
			like(err.text, "fake:", "message: %s", err.text);
		}
	}
	for (k = 1; k <= 2; k++) {
		for (part = 0; part <= (k == 2 ? 4u : 0u); part++) {
			static const uint8_t zero[6];

			fake_vf_init(&f);
			if (vnb_vnic_program(&fake_vf_ops, &f, &vf3, job_mac,
					     10, &saved, NULL) < 0)
				bail_out("clean VF program failed");
			f.calls = 0;
			f.fail = 1ul << k;
			f.partial = part;
			errno = 0;
			ok(vnb_vnic_scrub(&fake_vf_ops, &f, &vf3, &saved,
					  &err) == -1 &&
			       errno == EIO,
			   "scrub: call %d fails after %u fields -> EIO", k,
			   part);
			f.fail = 0;
			ok(vnb_vnic_scrub(&fake_vf_ops, &f, &vf3, &saved,
					  &err) == 0 &&
			       vf_is(&f.vf[3], zero, 0, 0, true, false,
				     VNB_VF_LINK_AUTO),
			   "scrub again finishes it");
		}
	}
}

int main(void)
{
	test_mac();
	test_scrub_mac();
	test_program();
	test_program_failures();
	test_scrub();
	test_args();
	test_vf_program();
	test_vf_errors();
	test_vf_failures();
	return done_testing();
}
