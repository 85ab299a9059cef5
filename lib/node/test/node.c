#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/tap.h"
#include "common/util.h"
#include "ledger/ledger.h"
#include "node/node.h"
#include "node/vm.h"
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

/*
 * A stand-in for libvirt whose domains are files in FAKE_DIR/domains (the
 * domain XML), so that a domain started by a prolog that then died stays
 * "running", as it would.  Its calls count in fake.calls with the link
 * changes, so that failures and deaths can be injected at any of them.
 */
static char fake_dir[64];
static bool agent_answers = true; /* else the wait times out */
static int stop_fails; /* stop calls that fail, from now */

static void domain_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/domains/%s", fake_dir, name);
}

static int v_start(void *ctx, const char *name, const char *xml,
		   vnb_error_t *err)
{
	const struct vnb_conf *conf = ctx;
	char path[256], dir[256], sock[300];
	const char *p = xml;
	uint32_t jobid;
	int fd, i = 0;

	if (inject("start", name, err) < 0)
		return -1;
	domain_path(name, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		errno = EEXIST;
		return vnb_errprintf(err, "domain %s exists", name);
	}
	if (write(fd, xml, strlen(xml)) < 0)
		diag("write %s: %s", path, strerror(errno));
	close(fd);
	/* qemu makes the host ends of the channels */
	vnb_vm_name_jobid(name, &jobid);
	vnb_conf_job_run_dir(conf, jobid, dir, sizeof(dir), NULL);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	close(open(sock, O_WRONLY | O_CREAT, 0600));
	while ((p = strstr(p, "name='org.vnic-bypass.task."))) {
		snprintf(sock, sizeof(sock), "%s/task.%d.sock", dir, i++);
		close(open(sock, O_WRONLY | O_CREAT, 0600));
		p++;
	}
	return 0;
}

static int v_stop(void *ctx, const char *name, vnb_error_t *err)
{
	char path[256];

	(void)ctx;
	if (inject("stop", name, err) < 0)
		return -1;
	if (stop_fails > 0) {
		stop_fails--;
		errno = EIO;
		return vnb_errprintf(err, "domain %s: injected stop failure",
				     name);
	}
	domain_path(name, path, sizeof(path));
	unlink(path);
	return 0;
}

static bool domain_exists(uint32_t jobid)
{
	char name[32], path[256];

	vnb_vm_name(jobid, name, sizeof(name));
	domain_path(name, path, sizeof(path));
	return access(path, F_OK) == 0;
}

static int v_running(void *ctx, const char *name, vnb_error_t *err)
{
	char path[256];

	(void)ctx;
	(void)err;
	domain_path(name, path, sizeof(path));
	return access(path, F_OK) == 0;
}

static int v_list(void *ctx, char (**names)[VNB_VM_NAME_MAX], size_t *n,
		  vnb_error_t *err)
{
	char path[256];
	struct dirent *de;
	DIR *d;

	(void)ctx;
	snprintf(path, sizeof(path), "%s/domains", fake_dir);
	d = opendir(path);
	*names = calloc(64, VNB_VM_NAME_MAX);
	*n = 0;
	if (!d || !*names) {
		if (d)
			closedir(d);
		return vnb_errprintf(err, "cannot list %s", path);
	}
	while ((de = readdir(d)) && *n < 64)
		if (de->d_name[0] != '.' &&
		    strlen(de->d_name) < VNB_VM_NAME_MAX)
			memcpy((*names)[(*n)++], de->d_name,
			       strlen(de->d_name) + 1);
	closedir(d);
	return 0;
}

static const struct vnb_vm_ops fake_vm_ops = {
    .size = sizeof(struct vnb_vm_ops),
    .start = v_start,
    .stop = v_stop,
    .running = v_running,
    .list = v_list,
};

static bool console_silent; /* a guest that hangs before its first line */

static int fake_wait(const struct vnb_node *node, const struct vnb_node_vm *vm,
		     vnb_error_t *err)
{
	FILE *f;

	(void)node;
	if (inject("wait", vm->name, err) < 0)
		return -1;
	if (agent_answers)
		return 0;
	f = fopen(vm->console, "w");
	if (f) {
		if (!console_silent)
			fputs("Kernel panic - not syncing: VFS\n", f);
		fclose(f);
	}
	errno = ETIMEDOUT;
	return vnb_errprintf(err, "the agent of %s did not answer", vm->name);
}

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
    "node: {state_dir: @DIR@, run_dir: @DIR@/run}\n"
    "pools:\n"
    "  - {name: fabric, backend: macvtap, devices: [vnic0, vnic1, vnic2, "
    "vnic3]}\n"
    "tenants:\n"
    "  - name: alpha\n"
    "    partitions: [alpha]\n"
    "    vlan: 10\n"
    "    images: [{name: img, kernel: /k}, {name: full, disk: "
    "@DIR@/base.qcow2}]\n"
    "    vnics: {default: 1, max: 8}\n"
    "    queues: {default: 1, max: 2}\n"
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
	const char *p = yaml, *at;
	vnb_error_t err = {{0}};
	struct vnb_conf *conf;
	size_t n = 0;

	while ((at = strstr(p, "@DIR@"))) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%.*s%s",
				      (int)(at - p), p, dir);
		p = at + 5;
	}
	snprintf(text + n, sizeof(text) - n, "%s", p);
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

static bool vm_dir_exists(const struct vnb_node *node, uint32_t jobid)
{
	char dir[256];

	vnb_conf_job_run_dir(node->conf, jobid, dir, sizeof(dir), NULL);
	return access(dir, F_OK) == 0;
}

/* Nothing of job j is left: no domain, files, claims, record; pristine
 * links. */
static bool vm_job_gone(const struct vnb_node *node, const char *dir,
			uint32_t j)
{
	return !domain_exists(j) && !vm_dir_exists(node, j) &&
	       held(dir, j, VNB_VNIC_CLAIMED) + held(dir, j, VNB_VNIC_DIRTY) ==
		   0 &&
	       !has_record(dir, j) && links_pristine();
}

/* Does the overlay's qemu-img info name base as its backing file? */
static bool backed_by(const char *overlay, const char *base)
{
	char cmd[1024], line[1024];
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "qemu-img info -U '%s' 2>/dev/null",
		 overlay);
	p = popen(cmd, "r");
	if (!p)
		return false;
	while (fgets(line, sizeof(line), p))
		if (strncmp(line, "backing file: ", 14) == 0 &&
		    strncmp(line + 14, base, strlen(base)) == 0)
			found = true;
	pclose(p);
	return found;
}

/* image=full: a disk image boots from the job's qcow2 overlay on its
 * base, made by the real qemu-img, and gone with the run dir. */
static void test_overlay(struct vnb_node *node, const char *dir,
			 const struct vnb_job *j)
{
	vnb_error_t err = {{0}};
	char base[256], overlay[256], cmd[600], *xml;
	size_t len = 0;

	if (system("qemu-img --version >/dev/null 2>&1") != 0) {
		ok(1, "# SKIP overlay: no qemu-img (Debian's qemu-utils)");
		return;
	}
	snprintf(base, sizeof(base), "%s/base.qcow2", dir);
	snprintf(overlay, sizeof(overlay), "%s/run/11/disk.qcow2", dir);
	snprintf(cmd, sizeof(cmd), "qemu-img create -q -f qcow2 '%s' 1M", base);
	if (system(cmd) != 0)
		bail_out("%s failed", cmd);
	fake_reset();
	ok(vnb_node_setup(node, j, "vnics=1,image=full", &err) == 0,
	   "setup with a disk image: %s", err.text);
	ok(backed_by(overlay, base),
	   "the job's overlay is a qcow2 on the image's base disk");
	domain_path("vnb-11", cmd, sizeof(cmd));
	xml = vnb_file_read(AT_FDCWD, cmd, 1 << 20, &len, NULL);
	ok(xml && strstr(xml, overlay) && !strstr(xml, "<kernel>"),
	   "the domain boots from the overlay, not a kernel");
	free(xml);
	ok(vnb_node_teardown(node, 11, &err) == 0, "teardown: %s", err.text);
	ok(access(overlay, F_OK) < 0 && vm_job_gone(node, dir, 11),
	   "the overlay went with the run dir; nothing is left");
	ok(access(base, F_OK) == 0, "the base disk stays");

	/* A base that is not there: qemu-img fails, all is rolled back. */
	unlink(base);
	fake_reset();
	ok(vnb_node_setup(node, j, "vnics=1,image=full", &err) < 0 &&
	       errno == EIO && vm_job_gone(node, dir, 11),
	   "a missing base disk fails the setup and undoes it");
	like(err.text,
	     "failed (exit status 1); is the base image there and qcow2?",
	     "and says what to check: %s", err.text);
}

static void test_vm(struct vnb_node *node, const char *dir)
{
	vnb_error_t err = {{0}};
	struct vnb_record rec;
	struct vnb_job j;
	struct stat st;
	char path[512], vmdir[256], *xml;
	size_t cleaned, len = 0;
	int k, steps;

	node->vm = &fake_vm_ops;
	node->vm_ctx = (void *)node->conf;
	node->wait_agent = fake_wait;
	fake_reset();
	j = job_for(11, "alpha", (uint32_t)getuid());
	j.gid = (uint32_t)getgid();
	snprintf(j.user, sizeof(j.user), "alice");
	snprintf(j.cpus, sizeof(j.cpus), "0-1");
	ok(vnb_node_setup(node, &j, "vnics=2,queues=2,provider=udp", &err) == 0,
	   "setup with a VM: %s", err.text);
	ok(vnb_record_load(dir, 11, &rec, &err) == 0 &&
	       rec.vm == VNB_RECORD_VM_READY && rec.state == VNB_RECORD_READY,
	   "the record says the VM is ready");
	ok(domain_exists(11), "the domain vnb-11 runs");
	snprintf(path, sizeof(path), "%s/domains/vnb-11", fake_dir);
	xml = vnb_file_read(AT_FDCWD, path, 1 << 20, &len, NULL);
	ok(xml && strstr(xml, "<name>vnb-11</name>") &&
	       strstr(xml, "<source dev='vnic0' mode='passthrough'/>") &&
	       strstr(xml, "queues='2'") &&
	       strstr(xml, "<kernel>/k</kernel>") &&
	       strstr(xml, VNB_NODE_ALLOW_ROOT_WORD) && strstr(xml, "alice"),
	   "its XML has the vNICs, queues, kernel, root policy and user");
	free(xml);
	vnb_conf_job_run_dir(node->conf, 11, vmdir, sizeof(vmdir), NULL);
	snprintf(path, sizeof(path), "%s/task.0.sock", vmdir);
	ok(stat(path, &st) == 0 && st.st_uid == getuid() &&
	       (st.st_mode & 0777) == 0600,
	   "the task channel belongs to the job's user, mode 0600");
	snprintf(path, sizeof(path), "%s/task.0.lock", vmdir);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	   "its lock file too");
	ok(vnb_node_teardown(node, 11, &err) == 0, "teardown: %s", err.text);
	ok(vm_job_gone(node, dir, 11),
	   "no domain, run dir, claim or record left; links pristine");

	/* How many injectable calls a setup with a VM makes. */
	fake_reset();
	ok(vnb_node_setup(node, &j, "vnics=2", &err) == 0, "setup again");
	steps = fake.calls;
	ok(vnb_node_teardown(node, 11, &err) == 0, "teardown again");

	/* The VM does not start: everything is rolled back. */
	/* 4 link changes, then start */
	fake_reset();
	fake.fail_at = 5;
	ok(vnb_node_setup(node, &j, "vnics=2", &err) < 0 && errno == EIO,
	   "setup fails when the VM does not start");
	like(err.text, "start vnb-11: injected", "and says why: %s", err.text);
	ok(vm_job_gone(node, dir, 11), "everything was undone");

	/* The agent never answers: rolled back, the console is kept. */
	fake_reset();
	agent_answers = false;
	ok(vnb_node_setup(node, &j, "vnics=1", &err) < 0 && errno == ETIMEDOUT,
	   "setup fails when the agent does not answer");
	like(err.text, "consoles/vnb-11.log", "the message names the console");
	snprintf(path, sizeof(path), "%s/consoles/vnb-11.log", dir);
	xml = vnb_file_read(AT_FDCWD, path, 4096, &len, NULL);
	ok(xml && strstr(xml, "Kernel panic"), "the console was kept");
	free(xml);
	ok(vm_job_gone(node, dir, 11), "everything else was undone");

	/* A guest silent on its console: no empty copy is kept, and the
	 * message says where else to look. */
	fake_reset();
	console_silent = true;
	unlink(path);
	ok(vnb_node_setup(node, &j, "vnics=1", &err) < 0 && errno == ETIMEDOUT,
	   "setup fails when a silent guest does not answer");
	like(err.text,
	     "wrote nothing on its console (see libvirt's log of "
	     "vnb-11",
	     "the message says the console is empty: %s", err.text);
	ok(access(path, F_OK) < 0, "no empty console copy is kept");
	ok(vm_job_gone(node, dir, 11), "everything else was undone");
	console_silent = false;
	agent_answers = true;

	test_overlay(node, dir, &j);

	/* A VM that cannot be stopped keeps its vNICs claimed. */
	fake_reset();
	ok(vnb_node_setup(node, &j, "vnics=1", &err) == 0, "setup again");
	stop_fails = 1;
	ok(vnb_node_teardown(node, 11, &err) < 0 && errno == EIO,
	   "teardown fails when the VM cannot be stopped");
	like(err.text, "cannot stop its VM vnb-11", "and says so: %s",
	     err.text);
	ok(held(dir, 11, VNB_VNIC_CLAIMED) == 1 && has_record(dir, 11),
	   "its vNIC stays claimed and its record stays");
	ok(vnb_node_teardown(node, 11, &err) == 0 && vm_job_gone(node, dir, 11),
	   "a second teardown finishes the work");

	/* A prolog killed at each step of its VM work, then the epilog. */
	for (k = 1; k <= steps; k++) {
		fake_reset();
		fake.fail_at = k;
		fake.die = true;
		if (fork() == 0) {
			vnb_node_setup(node, &j, "vnics=2", NULL);
			_exit(0);
		}
		wait(NULL);
		fake.die = false;
		fake.fail_at = 0;
		/* the link changes died with the child: they were to the
		 * job's MACs, which scrubbing puts back from the record */
		ok(vnb_node_teardown(node, 11, &err) == 0 &&
		       vm_job_gone(node, dir, 11),
		   "killed at call %d of %d, the epilog leaves nothing: %s", k,
		   steps, err.text);
	}

	/* Reconcile stops a stray domain whose job is gone. */
	fake_reset();
	j = job_for(5, "alpha", (uint32_t)getuid());
	j.gid = (uint32_t)getgid();
	ok(vnb_node_setup(node, &j, "", &err) == 0, "job 5 with a VM: %s",
	   err.text);
	vnb_record_remove(dir, 5, NULL);
	vnb_node_teardown(node, 5, NULL); /* frees the claim */
	fake_reset();
	v_start(node->vm_ctx, "vnb-5", "<domain/>", NULL);
	ok(domain_exists(5), "a stray domain vnb-5 with no record");
	ok(vnb_node_reconcile(node, gone_5, 0, &cleaned, &err) == 0 &&
	       cleaned == 1 && !domain_exists(5),
	   "reconcile stops it: %s", err.text);
	node->vm = NULL;
	node->wait_agent = NULL;
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

	snprintf(fake_dir, sizeof(fake_dir), "%s", dir);
	{
		char d[128];

		snprintf(d, sizeof(d), "%s/domains", dir);
		mkdir(d, 0700);
	}
	test_vm(&node, dir);

	vnb_conf_destroy((struct vnb_conf *)node.conf);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return done_testing();
}
