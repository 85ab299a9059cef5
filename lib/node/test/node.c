#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/tap.h"
#include "common/util.h"
#include "ledger/ledger.h"
#include "node/node.h"
#include "record/record.h"

/* An in-memory stand-in for the links of one node. */
struct fake_link {
	char name[16];
	uint8_t mac[6];
	bool up;
};

static struct fake {
	struct fake_link links[4];
	int calls; /* set_mac + set_up calls so far */
	int fail_at; /* fail (or die, with die) at this call; 0: never */
	bool die;
} fake;

static struct fake_link *link_find(const char *name)
{
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(fake.links); i++)
		if (strcmp(fake.links[i].name, name) == 0)
			return &fake.links[i];
	return NULL;
}

static int inject(const char *what, const char *ifname, vnb_error_t *err)
{
	if (++fake.calls != fake.fail_at)
		return 0;
	if (fake.die)
		_exit(9); /* a prolog killed halfway */
	errno = EIO;
	return vnb_errprintf(err, "%s %s: injected failure", what, ifname);
}

static int f_get(void *ctx, const char *ifname, struct vnb_link *l,
		 vnb_error_t *err)
{
	struct fake_link *fl = link_find(ifname);

	(void)ctx;
	if (!fl) {
		errno = ENODEV;
		return vnb_errprintf(err, "%s: no such device", ifname);
	}
	memcpy(l->mac, fl->mac, 6);
	l->up = fl->up;
	return 0;
}

static int f_set_mac(void *ctx, const char *ifname, const uint8_t mac[6],
		     vnb_error_t *err)
{
	(void)ctx;
	if (inject("set_mac", ifname, err) < 0)
		return -1;
	memcpy(link_find(ifname)->mac, mac, 6);
	return 0;
}

static int f_set_up(void *ctx, const char *ifname, bool up, vnb_error_t *err)
{
	(void)ctx;
	if (inject("set_up", ifname, err) < 0)
		return -1;
	link_find(ifname)->up = up;
	return 0;
}

static const struct vnb_vnic_ops fake_ops = {
    .size = sizeof(struct vnb_vnic_ops),
    .get = f_get,
    .set_mac = f_set_mac,
    .set_up = f_set_up,
};

static const uint8_t orig_mac[4][6] = {
    {0x0e, 0, 0, 0, 0, 1},
    {0x0e, 0, 0, 0, 0, 2},
    {0x0e, 0, 0, 0, 0, 3},
    {0x0e, 0, 0, 0, 0, 4},
};

static void fake_reset(void)
{
	size_t i;

	memset(&fake, 0, sizeof(fake));
	for (i = 0; i < 4; i++) {
		snprintf(fake.links[i].name, sizeof(fake.links[i].name),
			 "vnic%zu", i);
		memcpy(fake.links[i].mac, orig_mac[i], 6);
	}
}

static bool links_pristine(void)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (memcmp(fake.links[i].mac, orig_mac[i], 6) != 0 ||
		    fake.links[i].up)
			return false;
	return true;
}

static size_t held(const char *dir, uint32_t jobid, enum vnb_vnic_state st)
{
	struct vnb_ledger *l = vnb_ledger_read(dir, NULL);
	size_t i, n = 0;

	for (i = 0; l && i < vnb_ledger_count(l); i++) {
		const struct vnb_ledger_entry *e = vnb_ledger_at(l, i);

		if (e->jobid == jobid && e->state == st)
			n++;
	}
	vnb_ledger_end(l);
	return n;
}

static bool has_record(const char *dir, uint32_t jobid)
{
	struct vnb_record r;

	return vnb_record_load(dir, jobid, &r, NULL) == 0;
}

static const char *yaml =
    "node: {state_dir: @DIR@}\n"
    "pools:\n"
    "  - {name: fabric, backend: macvtap, devices: [vnic0, vnic1, vnic2, "
    "vnic3]}\n"
    "tenants:\n"
    "  - name: alpha\n"
    "    partitions: [alpha]\n"
    "    vlan: 10\n"
    "    images: [{name: img, kernel: /k}]\n"
    "    vnics: {default: 1, max: 8}\n"
    "    allow_root: true\n"
    "  - name: beta\n"
    "    partitions: [beta]\n"
    "    accounts: [lab]\n"
    "    vlan: 20\n"
    "    images: [{name: img, kernel: /k}]\n"
    "    vnics: {default: 1, max: 2}\n";

static struct vnb_conf *make_conf(const char *dir)
{
	char text[2048];
	const char *at = strstr(yaml, "@DIR@");
	vnb_error_t err = {{0}};
	struct vnb_conf *conf;

	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - yaml), yaml, dir,
		 at + 5);
	conf = vnb_conf_parse(text, strlen(text), "test.yaml", &err);
	if (!conf)
		bail_out("config: %s", err.text);
	return conf;
}

static struct vnb_job job_for(uint32_t jobid, const char *partition,
			      uint32_t uid)
{
	struct vnb_job j;

	memset(&j, 0, sizeof(j));
	j.jobid = jobid;
	j.uid = uid;
	j.nodeidx = 1;
	snprintf(j.node, sizeof(j.node), "n2");
	snprintf(j.partition, sizeof(j.partition), "%s", partition);
	return j;
}

static enum vnb_job_liveness gone_5(uint32_t jobid)
{
	return jobid == 5 ? VNB_JOB_GONE : VNB_JOB_ALIVE;
}

/* Run setup in a child that dies at the fail_at-th link change, as a
 * prolog killed halfway; returns the child's exit status. */
static int die_in_setup(const struct vnb_node *node, const struct vnb_job *j,
			int fail_at)
{
	int status;
	pid_t pid;

	fake.fail_at = fail_at;
	fake.die = true;
	pid = fork();
	if (pid == 0) {
		vnb_node_setup(node, j, "vnics=2", NULL);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	fake.die = false;
	fake.fail_at = 0;
	return WEXITSTATUS(status);
}

int main(void)
{
	char dir[] = "/tmp/vnb-node-XXXXXX";
	struct vnb_node node = {0};
	vnb_error_t err = {{0}};
	struct vnb_job j1, j2;
	struct vnb_record rec;
	uint8_t mac[6];
	size_t cleaned;

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	node.conf = make_conf(dir);
	node.ops = &fake_ops;
	node.sysfs_fd = -1;
	fake_reset();

	/* A job sets up, holds, and tears down. */
	j1 = job_for(1, "alpha", 1000);
	ok(vnb_node_setup(&node, &j1, "vnics=2", &err) == 0, "setup job 1: %s",
	   err.text);
	is_int(held(dir, 1, VNB_VNIC_CLAIMED), 2, "job 1 holds 2 vNICs");
	ok(vnb_record_load(dir, 1, &rec, &err) == 0 &&
	       rec.state == VNB_RECORD_READY && rec.nvnics == 2 &&
	       rec.vnics[0].programmed && rec.vnics[1].programmed,
	   "job 1's record is ready with 2 programmed vNICs");
	vnb_vnic_mac(1, 1, 0, mac, NULL);
	ok(memcmp(link_find(rec.vnics[0].ifname)->mac, mac, 6) == 0 &&
	       link_find(rec.vnics[0].ifname)->up,
	   "the first vNIC carries the job's MAC and is up");
	is_str(rec.tenant, "alpha", "the record names the tenant");
	like(rec.spec, "vnics=2", "the record has the resolved spec");

	/* A second job wants more than is left: all or nothing. */
	j2 = job_for(2, "alpha", 1000);
	ok(vnb_node_setup(&node, &j2, "vnics=3", &err) < 0 && errno == EBUSY,
	   "job 2 asks for 3 of the 2 free vNICs: EBUSY");
	like(err.text, "only 2 of", "the message says how many are free");
	ok(held(dir, 2, VNB_VNIC_CLAIMED) == 0 && !has_record(dir, 2),
	   "job 2 left no claim and no record");

	/* User errors are refused cleanly (the submit check is the first
	 * line; the prolog still refuses). */
	ok(vnb_node_setup(&node, &j2, "vnics=bogus", &err) < 0 &&
	       errno == EINVAL,
	   "bad spec refused");
	j2 = job_for(2, "beta", 1000);
	ok(vnb_node_setup(&node, &j2, "", &err) < 0 && errno == EPERM,
	   "beta without an allowed account refused");
	j2 = job_for(2, "gamma", 1000);
	ok(vnb_node_setup(&node, &j2, "", &err) < 0 && errno == ENOENT,
	   "a partition no tenant serves refused");
	ok(held(dir, 2, VNB_VNIC_CLAIMED) == 0 && !has_record(dir, 2),
	   "refusals leave nothing");

	ok(vnb_node_teardown(&node, 1, &err) == 0, "teardown job 1: %s",
	   err.text);
	ok(links_pristine(), "job 1's vNICs have their MAC back and are down");
	ok(held(dir, 1, VNB_VNIC_CLAIMED) + held(dir, 1, VNB_VNIC_DIRTY) == 0 &&
	       !has_record(dir, 1),
	   "job 1 holds nothing, has no record");
	ok(vnb_node_teardown(&node, 1, &err) == 0, "teardown twice is fine");

	/* A failure while programming the second vNIC rolls back. */
	fake_reset();
	fake.fail_at = 3; /* set_mac, set_up of vNIC 0, then set_mac: fail */
	j1 = job_for(3, "alpha", 1000);
	ok(vnb_node_setup(&node, &j1, "vnics=2", &err) < 0 && errno == EIO,
	   "setup fails when programming fails");
	like(err.text, "injected failure", "with the reason");
	ok(links_pristine() && held(dir, 3, VNB_VNIC_CLAIMED) == 0 &&
	       held(dir, 3, VNB_VNIC_DIRTY) == 0 && !has_record(dir, 3),
	   "everything was undone");

	/* A prolog killed halfway: the epilog cleans up. */
	fake_reset();
	is_int(die_in_setup(&node, &j1, 3), 9,
	       "the prolog died while programming");
	ok(held(dir, 3, VNB_VNIC_CLAIMED) == 2 && has_record(dir, 3),
	   "it left claims and a record");
	/* The child's changes to the fake links died with it; replay them
	 * into ours: vNIC 0 was programmed, vNIC 1 was half done. */
	vnb_record_load(dir, 3, &rec, NULL);
	memcpy(link_find(rec.vnics[0].ifname)->mac, rec.vnics[0].mac, 6);
	link_find(rec.vnics[0].ifname)->up = true;
	ok(vnb_node_teardown(&node, 3, &err) == 0, "the epilog after it: %s",
	   err.text);
	ok(held(dir, 3, VNB_VNIC_CLAIMED) + held(dir, 3, VNB_VNIC_DIRTY) == 0 &&
	       !has_record(dir, 3),
	   "no claim, no record left");
	ok(memcmp(link_find(rec.vnics[0].ifname)->mac, orig_mac[0], 6) == 0,
	   "the programmed vNIC got its saved MAC back");
	ok(!link_find(rec.vnics[1].ifname)->up,
	   "the half-programmed vNIC was scrubbed (down)");

	/* Killed at its first link change: the second vNIC is claimed but
	 * was never touched, and teardown must leave its MAC alone. */
	fake_reset();
	ok(die_in_setup(&node, &j1, 1) == 9 &&
	       held(dir, 3, VNB_VNIC_CLAIMED) == 2,
	   "a prolog killed at its first link change left 2 claims");
	ok(vnb_node_teardown(&node, 3, &err) == 0 && links_pristine() &&
	       held(dir, 3, VNB_VNIC_CLAIMED) + held(dir, 3, VNB_VNIC_DIRTY) ==
		   0,
	   "teardown frees both and leaves the untouched one's MAC alone");

	/* Root jobs need allow_root. */
	fake_reset();
	j1 = job_for(4, "beta", 0);
	snprintf(j1.account, sizeof(j1.account), "lab");
	ok(vnb_node_setup(&node, &j1, "", &err) < 0 && errno == EPERM,
	   "root refused by a tenant without allow_root");
	like(err.text, "allow_root", "the message names the setting");

	/* Reconcile cleans what Slurm no longer runs, and only that. */
	fake_reset();
	j1 = job_for(5, "alpha", 1000);
	j2 = job_for(6, "alpha", 1000);
	ok(vnb_node_setup(&node, &j1, "", &err) == 0 &&
	       vnb_node_setup(&node, &j2, "", &err) == 0,
	   "jobs 5 and 6 set up");
	ok(vnb_node_reconcile(&node, gone_5, 5, &cleaned, &err) == 0 &&
	       cleaned == 0,
	   "reconcile skips the job it is told to");
	ok(vnb_node_reconcile(&node, gone_5, 0, &cleaned, &err) == 0 &&
	       cleaned == 1,
	   "reconcile cleans the gone job");
	ok(!has_record(dir, 5) && held(dir, 5, VNB_VNIC_CLAIMED) == 0 &&
	       has_record(dir, 6) && held(dir, 6, VNB_VNIC_CLAIMED) == 1,
	   "job 5 is gone, job 6 untouched");
	ok(vnb_node_teardown(&node, 6, &err) == 0 && links_pristine(),
	   "job 6 torn down");

	vnb_conf_destroy((struct vnb_conf *)node.conf);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return done_testing();
}
