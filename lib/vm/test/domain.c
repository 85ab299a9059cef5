/*
 * Tests of lib/vm/domain: golden domain XML, escaping, every EINVAL,
 * ENOSPC, the KVM/TCG choice and the facts reader over fixture trees.
 *
 * VNB_UPDATE_GOLDEN=1 (or the option --update-golden) rewrites the golden
 * files from the current output instead of comparing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/tap.h"
#include "common/util.h"
#include "vm/domain.h"

extern char **environ;

static bool update_golden;

static const char *srcdir(void)
{
	const char *src = getenv("VNB_SRCDIR");

	if (!src)
		bail_out("VNB_SRCDIR is not set (run through make check)");
	return src;
}

/* Direct kernel boot under TCG, two macvtap vNICs (one multiqueue) and
 * four task channels. */
static void spec_tcg(struct vnb_vm_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->name = "vnb-42";
	s->jobid = 42;
	s->tenant = "blue";
	s->user = "alice";
	s->uid = 1001;
	s->node = "node1";
	s->virt = VNB_VIRT_QEMU;
	s->emulator = "/usr/bin/qemu-system-x86_64";
	s->memory_mib = 512;
	s->nvcpus = 2;
	s->npins = 2;
	s->pin[0] = 2;
	s->pin[1] = 3;
	s->kernel = "/var/lib/vnic-bypass/images/blue/vmlinux";
	s->initrd = "/var/lib/vnic-bypass/images/blue/initrd.cpio.gz";
	s->cmdline = "console=ttyS0 quiet panic=-1";
	s->console_log = "/run/vnic-bypass/job-42/console.log";
	s->run_dir = "/run/vnic-bypass/job-42";
	s->ntask_channels = 4;
	s->nnics = 2;
	s->nic[0] = (struct vnb_vm_nic){.backend = VNB_BACKEND_MACVTAP,
					.mac = "52:54:00:00:2a:01",
					.dev = "vnb0",
					.queues = 1};
	s->nic[1] = (struct vnb_vm_nic){.backend = VNB_BACKEND_MACVTAP,
					.mac = "52:54:00:00:2A:02",
					.dev = "vnb1",
					.queues = 4};
}

/* A qcow2 overlay on KVM with hugepages, two NUMA cells mirroring the
 * host's and an SR-IOV VF on VLAN 100. */
static void spec_kvm(struct vnb_vm_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->name = "vnb-4711";
	s->jobid = 4711;
	s->tenant = "red";
	s->user = "bob";
	s->uid = 2002;
	s->node = "node7";
	s->virt = VNB_VIRT_KVM;
	s->emulator = "/usr/bin/qemu-system-x86_64";
	s->memory_mib = 4096;
	s->hugepages = true;
	s->hugepage_kib = 2048;
	s->nvcpus = 4;
	s->npins = 4;
	s->pin[0] = 0;
	s->pin[1] = 1;
	s->pin[2] = 16;
	s->pin[3] = 17;
	s->ncells = 2;
	s->cell[0] = (struct vnb_vm_cell){0, 1, 2048, 0};
	s->cell[1] = (struct vnb_vm_cell){2, 3, 2048, 1};
	s->disk = "/var/lib/vnic-bypass/overlays/vnb-4711.qcow2";
	s->console_log = "/run/vnic-bypass/job-4711/console.log";
	s->run_dir = "/run/vnic-bypass/job-4711";
	s->ntask_channels = 1;
	s->nnics = 1;
	s->nic[0] = (struct vnb_vm_nic){.backend = VNB_BACKEND_SRIOV,
					.mac = "52:54:00:12:67:01",
					.pci = "0000:3b:02.1",
					.vlan = 100};
}

static char *slurp(const char *path, size_t *lenp)
{
	FILE *fp = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		*lenp = fread(buf, 1, (size_t)n, fp);
		buf[*lenp] = '\0';
	}
	fclose(fp);
	return buf;
}

static bool have_validator(void)
{
	const char *path = getenv("PATH");
	char dir[PATH_MAX];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(dir, sizeof(dir), "%.*s/virt-xml-validate", (int)n,
			 path);
		if (n && access(dir, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* virt-xml-validate FILE domain; its exit status. */
static int validate(const char *file)
{
	char *argv[] = {"virt-xml-validate", (char *)file, "domain", NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = -1;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) == 0)
		waitpid(pid, &st, 0);
	posix_spawn_file_actions_destroy(&fa);
	return st;
}

static void golden(const char *name, const struct vnb_vm_spec *s)
{
	char path[PATH_MAX];
	char buf[16384];
	vnb_error_t err = {{0}};
	int n = vnb_vm_domain_xml(s, buf, sizeof(buf), &err);
	char *want;
	size_t wantlen = 0;

	snprintf(path, sizeof(path), "%s/lib/vm/test/golden/%s.xml", srcdir(),
		 name);
	if (!ok(n > 0, "%s: XML built", name)) {
		diag("%s", err.text);
		return;
	}
	if (update_golden) {
		FILE *fp = fopen(path, "w");

		ok(fp && fwrite(buf, 1, (size_t)n, fp) == (size_t)n &&
		       fclose(fp) == 0,
		   "%s: golden file rewritten", name);
	} else {
		want = slurp(path, &wantlen);
		if (!ok(want && wantlen == (size_t)n &&
			    memcmp(want, buf, wantlen) == 0,
			"%s: byte-exact match with golden/%s.xml", name,
			name)) {
			size_t i = 0;

			while (want && i < wantlen && i < (size_t)n &&
			       want[i] == buf[i])
				i++;
			diag("first difference at byte %zu; got:\n%s", i, buf);
		}
		free(want);
	}
	if (!have_validator()) {
		ok(true,
		   "# SKIP %s: virt-xml-validate missing "
		   "(package libvirt-clients)",
		   name);
		return;
	}
	is_int(validate(path), 0, "%s: virt-xml-validate FILE domain", name);
}

static void test_golden(void)
{
	struct vnb_vm_spec s;

	spec_tcg(&s);
	golden("tcg-kernel-macvtap", &s);
	spec_kvm(&s);
	golden("kvm-qcow2-sriov", &s);
}

static void test_escaping(void)
{
	struct vnb_vm_spec s;
	char buf[16384];
	vnb_error_t err = {{0}};
	int n;

	spec_tcg(&s);
	s.tenant = "a&b<c>'d\"e";
	s.user = "<script>";
	s.node = "n'1";
	s.cmdline = "x=\"1\" y='2' a&&b </cmdline><kernel>";
	s.console_log = "/run/x&y/c'o\"n<s>.log";
	s.run_dir = "/run/it's";
	n = vnb_vm_domain_xml(&s, buf, sizeof(buf), &err);
	if (!ok(n > 0, "hostile strings: XML built"))
		diag("%s", err.text);
	like(buf, "tenant='a&amp;b&lt;c&gt;&apos;d&quot;e'",
	     "tenant: all five characters escaped");
	like(buf, "user='&lt;script&gt;'", "user escaped");
	like(buf, "node='n&apos;1'", "node escaped");
	like(buf,
	     "<cmdline>x=&quot;1&quot; y=&apos;2&apos; a&amp;&amp;b "
	     "&lt;/cmdline&gt;&lt;kernel&gt;</cmdline>",
	     "cmdline escaped");
	like(buf, "path='/run/x&amp;y/c&apos;o&quot;n&lt;s&gt;.log'",
	     "console path escaped");
	like(buf, "path='/run/it&apos;s/ctl.sock'", "channel path escaped");
	ok(!strstr(buf, "<script>") && !strstr(buf, "<c>") &&
	       !strstr(buf, "'d\""),
	   "no hostile string appears raw");
}

static void set_noname(struct vnb_vm_spec *s)
{
	s->name = NULL;
}
static void set_emptyname(struct vnb_vm_spec *s)
{
	s->name = "";
}
static void set_wrongname(struct vnb_vm_spec *s)
{
	s->name = "vnb-43";
}
static void set_notenant(struct vnb_vm_spec *s)
{
	s->tenant = NULL;
}
static void set_nouser(struct vnb_vm_spec *s)
{
	s->user = "";
}
static void set_nonode(struct vnb_vm_spec *s)
{
	s->node = NULL;
}
static void set_novcpu(struct vnb_vm_spec *s)
{
	s->nvcpus = 0;
	s->npins = 0;
}
static void set_manyvcpu(struct vnb_vm_spec *s)
{
	s->nvcpus = VNB_VM_MAX_VCPUS + 1;
}
static void set_pins(struct vnb_vm_spec *s)
{
	s->npins = 3;
}
static void set_nomem(struct vnb_vm_spec *s)
{
	s->memory_mib = 0;
}
static void set_virt(struct vnb_vm_spec *s)
{
	s->virt = (enum vnb_virt)7;
}
static void set_badmac(struct vnb_vm_spec *s)
{
	s->nic[1].mac = "52:54:00";
}
static void set_mcastmac(struct vnb_vm_spec *s)
{
	s->nic[0].mac = "01:00:5e:00:00:01";
}
static void set_nomac(struct vnb_vm_spec *s)
{
	s->nic[0].mac = NULL;
}
static void set_nodev(struct vnb_vm_spec *s)
{
	s->nic[0].dev = NULL;
}
static void set_baddev(struct vnb_vm_spec *s)
{
	s->nic[0].dev = "a/b";
}
static void set_queues(struct vnb_vm_spec *s)
{
	s->nic[1].queues = VNB_VM_MAX_QUEUES + 1;
}
static void set_backend(struct vnb_vm_spec *s)
{
	s->nic[0].backend = (enum vnb_backend)9;
}
static void set_nics(struct vnb_vm_spec *s)
{
	s->nnics = VNB_VM_MAX_NICS + 1;
}
static void set_vlan(struct vnb_vm_spec *s)
{
	s->nic[0].vlan = 4095;
}
static void set_pci(struct vnb_vm_spec *s)
{
	s->nic[0].pci = "3b:02.1";
}
static void set_pcislot(struct vnb_vm_spec *s)
{
	s->nic[0].pci = "0000:3b:20.1";
}
static void set_nopci(struct vnb_vm_spec *s)
{
	s->nic[0].pci = NULL;
}
static void set_both(struct vnb_vm_spec *s)
{
	s->disk = "/x.qcow2";
}
static void set_neither(struct vnb_vm_spec *s)
{
	s->kernel = NULL;
}
static void set_diskinitrd(struct vnb_vm_spec *s)
{
	s->initrd = "/initrd";
}
static void set_ctltenant(struct vnb_vm_spec *s)
{
	s->tenant = "blue\n";
}
static void set_ctlcmd(struct vnb_vm_spec *s)
{
	s->cmdline = "console=ttyS0\tx";
}
static void set_ctldel(struct vnb_vm_spec *s)
{
	s->kernel = "/k\x7f";
}
static void set_ctldisk(struct vnb_vm_spec *s)
{
	s->disk = "/d\x1b.qcow2";
}
static void set_noconsole(struct vnb_vm_spec *s)
{
	s->console_log = NULL;
}
static void set_norundir(struct vnb_vm_spec *s)
{
	s->run_dir = NULL;
}
static void set_longrundir(struct vnb_vm_spec *s)
{
	s->run_dir = "/run/vnic-bypass/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
}
static void set_tasks(struct vnb_vm_spec *s)
{
	s->ntask_channels = VNB_VM_MAX_TASK_CHANNELS + 1;
}
static void set_cellgap(struct vnb_vm_spec *s)
{
	s->cell[1].first_vcpu = 3;
}
static void set_cellshort(struct vnb_vm_spec *s)
{
	s->cell[1].last_vcpu = 2;
}
static void set_cellover(struct vnb_vm_spec *s)
{
	s->cell[1].last_vcpu = 4;
}
static void set_cellmem(struct vnb_vm_spec *s)
{
	s->cell[1].memory_mib = 1;
}
static void set_cellzero(struct vnb_vm_spec *s)
{
	s->cell[0].memory_mib = 0;
	s->cell[1].memory_mib = 4096;
}
static void set_cells(struct vnb_vm_spec *s)
{
	s->ncells = VNB_VM_MAX_CELLS + 1;
}

static void test_einval(void)
{
	static const struct {
		void (*spec)(struct vnb_vm_spec *);
		void (*set)(struct vnb_vm_spec *);
		const char *msg;
		const char *why;
	} t[] = {
	    {spec_tcg, set_noname, "name is missing", "missing name"},
	    {spec_tcg, set_emptyname, "name is missing", "empty name"},
	    {spec_tcg, set_wrongname, "name 'vnb-43' is not 'vnb-42'",
	     "name not vnb-<jobid>"},
	    {spec_tcg, set_notenant, "tenant is missing", "missing tenant"},
	    {spec_tcg, set_nouser, "user is missing", "empty user"},
	    {spec_tcg, set_nonode, "node is missing", "missing node"},
	    {spec_tcg, set_novcpu, "nvcpus 0", "0 vCPUs"},
	    {spec_tcg, set_manyvcpu, "nvcpus 257", "too many vCPUs"},
	    {spec_tcg, set_pins, "npins 3 is more than nvcpus 2",
	     "more pins than vCPUs"},
	    {spec_tcg, set_nomem, "memory_mib is 0", "no memory"},
	    {spec_tcg, set_virt, "virt 7", "unknown virt"},
	    {spec_tcg, set_badmac, "nic[1].mac '52:54:00'", "bad MAC"},
	    {spec_tcg, set_mcastmac, "multicast", "multicast MAC"},
	    {spec_tcg, set_nomac, "nic[0].mac is missing", "missing MAC"},
	    {spec_tcg, set_nodev, "nic[0].dev is missing", "macvtap no dev"},
	    {spec_tcg, set_baddev, "nic[0].dev 'a/b'", "macvtap bad dev"},
	    {spec_tcg, set_queues, "nic[1].queues 257", "too many queues"},
	    {spec_tcg, set_backend, "nic[0].backend 9", "unknown backend"},
	    {spec_tcg, set_nics, "nnics 17", "too many vNICs"},
	    {spec_kvm, set_vlan, "nic[0].vlan 4095", "vlan 4095"},
	    {spec_kvm, set_pci, "nic[0].pci '3b:02.1'", "short PCI address"},
	    {spec_kvm, set_pcislot, "nic[0].pci '0000:3b:20.1'",
	     "PCI slot > 0x1f"},
	    {spec_kvm, set_nopci, "nic[0].pci is missing", "sriov no PCI"},
	    {spec_tcg, set_both, "both disk and kernel",
	     "both disk and kernel"},
	    {spec_tcg, set_neither, "neither disk nor kernel", "no boot"},
	    {spec_kvm, set_diskinitrd, "initrd or cmdline without kernel",
	     "disk with initrd"},
	    {spec_tcg, set_ctltenant, "tenant has a control character (0x0a",
	     "newline in tenant"},
	    {spec_tcg, set_ctlcmd, "cmdline has a control character (0x09",
	     "tab in cmdline"},
	    {spec_tcg, set_ctldel, "kernel has a control character (0x7f",
	     "DEL in kernel"},
	    {spec_kvm, set_ctldisk, "disk has a control character (0x1b",
	     "ESC in disk"},
	    {spec_tcg, set_noconsole, "console_log is missing", "no console"},
	    {spec_tcg, set_norundir, "run_dir is missing", "no run dir"},
	    {spec_tcg, set_longrundir, "too long for a unix socket",
	     "run dir too long"},
	    {spec_tcg, set_tasks, "ntask_channels 31",
	     "too many task channels"},
	    {spec_kvm, set_cellgap, "cell[1] vCPUs 3-3", "gap between cells"},
	    {spec_kvm, set_cellshort, "cover vCPUs 0-2, not all 4",
	     "cells miss a vCPU"},
	    {spec_kvm, set_cellover, "cell[1] vCPUs 2-4", "cell past nvcpus"},
	    {spec_kvm, set_cellmem, "adds up to 2049 MiB", "cell memory sum"},
	    {spec_kvm, set_cellzero, "cell[0].memory_mib is 0", "empty cell"},
	    {spec_kvm, set_cells, "ncells 17", "too many cells"},
	};
	struct vnb_vm_spec s;
	char buf[16384];

	for (size_t i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		vnb_error_t err = {{0}};
		int n;

		t[i].spec(&s);
		t[i].set(&s);
		errno = 0;
		buf[0] = 'Z';
		n = vnb_vm_domain_xml(&s, buf, sizeof(buf), &err);
		ok(n == -1 && errno == EINVAL && buf[0] == 'Z',
		   "%s: EINVAL, nothing written", t[i].why);
		like(err.text, t[i].msg, "%s: the message names it", t[i].why);
	}
	errno = 0;
	ok(vnb_vm_domain_xml(NULL, buf, sizeof(buf), NULL) == -1 &&
	       errno == EINVAL,
	   "NULL spec, NULL err: EINVAL");
}

static void test_enospc(void)
{
	struct vnb_vm_spec s;
	char full[16384], buf[16384];
	vnb_error_t err = {{0}};
	int n, m;

	spec_tcg(&s);
	n = vnb_vm_domain_xml(&s, full, sizeof(full), NULL);
	ok(n > 0 && (size_t)n == strlen(full), "returns the length");
	errno = 0;
	m = vnb_vm_domain_xml(&s, buf, (size_t)n, &err);
	ok(m == -1 && errno == ENOSPC, "one byte short: ENOSPC");
	like(err.text, "needs", "the message says how much is needed");
	errno = 0;
	ok(vnb_vm_domain_xml(&s, NULL, 0, NULL) == -1 && errno == ENOSPC,
	   "NULL buffer of 0 bytes: ENOSPC");
	ok(vnb_vm_domain_xml(&s, buf, 10, NULL) == -1 && errno == ENOSPC &&
	       strlen(buf) == 9,
	   "10 bytes: ENOSPC, buffer NUL-terminated");
	m = vnb_vm_domain_xml(&s, buf, (size_t)n + 1, NULL);
	ok(m == n && strcmp(buf, full) == 0, "exactly enough: the same XML");
}

static void test_channel_path(void)
{
	struct vnb_vm_spec s;
	char buf[128];

	spec_tcg(&s);
	vnb_vm_channel_path(&s, -1, buf, sizeof(buf));
	is_str(buf, "/run/vnic-bypass/job-42/ctl.sock", "control channel");
	vnb_vm_channel_path(&s, 3, buf, sizeof(buf));
	is_str(buf, "/run/vnic-bypass/job-42/task.3.sock", "task channel 3");
	errno = 0;
	ok(vnb_vm_channel_path(&s, -2, buf, sizeof(buf)) == -1 &&
	       errno == EINVAL,
	   "index -2: EINVAL");
	errno = 0;
	ok(vnb_vm_channel_path(&s, 0, buf, 8) == -1 && errno == ENOSPC,
	   "small buffer: ENOSPC");
}

static void test_choose(void)
{
	static const struct {
		bool kvm, pvm, hw;
		enum vnb_virt want;
		const char *why;
	} t[] = {
	    {false, false, false, VNB_VIRT_QEMU, "/dev/kvm is missing"},
	    {false, false, true, VNB_VIRT_QEMU, "/dev/kvm is missing"},
	    {false, true, false, VNB_VIRT_QEMU, "/dev/kvm is missing"},
	    {false, true, true, VNB_VIRT_QEMU, "/dev/kvm is missing"},
	    {true, true, false, VNB_VIRT_QEMU,
	     "/dev/kvm is PVM (kvm_pvm loaded): stock guests cannot boot "
	     "under it; using TCG"},
	    {true, true, true, VNB_VIRT_QEMU, "is PVM"},
	    {true, false, false, VNB_VIRT_QEMU, "no vmx or svm"},
	    {true, false, true, VNB_VIRT_KVM, "using KVM"},
	};

	for (size_t i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		struct vnb_virt_facts f = {t[i].kvm, t[i].pvm, t[i].hw};
		char why[256] = "";

		is_int(vnb_vm_choose_virt(&f, why, sizeof(why)), t[i].want,
		       "kvm=%d pvm=%d vmx/svm=%d: %s", t[i].kvm, t[i].pvm,
		       t[i].hw, vnb_vm_virt_name(t[i].want));
		like(why, t[i].why, "kvm=%d pvm=%d vmx/svm=%d: why", t[i].kvm,
		     t[i].pvm, t[i].hw);
	}
	{
		struct vnb_virt_facts f = {true, false, true};

		is_int(vnb_vm_choose_virt(&f, NULL, 0), VNB_VIRT_KVM,
		       "why may be NULL");
	}
	is_str(vnb_vm_virt_name(VNB_VIRT_KVM), "kvm", "kvm name");
	is_str(vnb_vm_virt_name(VNB_VIRT_QEMU), "qemu", "qemu name");
}

static int open_dir(const char *tree, const char *sub)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/lib/vm/test/facts/%s/%s", srcdir(),
		 tree, sub);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		bail_out("cannot open %s: %s", path, strerror(errno));
	return fd;
}

static void test_facts(void)
{
	static const struct {
		const char *tree;
		bool kvm, pvm, hw;
		enum vnb_virt want;
	} t[] = {
	    {"pvm", true, true, false, VNB_VIRT_QEMU},
	    {"hw", true, false, true, VNB_VIRT_KVM},
	    {"nokvm", false, false, true, VNB_VIRT_QEMU},
	};

	for (size_t i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		int sys = open_dir(t[i].tree, "sys");
		int proc = open_dir(t[i].tree, "proc");
		int dev = open_dir(t[i].tree, "dev");
		struct vnb_virt_facts f;

		memset(&f, 0xff, sizeof(f));
		is_int(vnb_vm_virt_facts(sys, proc, dev, &f), 0, "%s: read",
		       t[i].tree);
		ok(f.dev_kvm == t[i].kvm && f.kvm_pvm == t[i].pvm &&
		       f.hw_virt == t[i].hw,
		   "%s: dev_kvm=%d kvm_pvm=%d hw_virt=%d", t[i].tree, f.dev_kvm,
		   f.kvm_pvm, f.hw_virt);
		is_int(vnb_vm_choose_virt(&f, NULL, 0), t[i].want,
		       "%s: chooses %s", t[i].tree,
		       vnb_vm_virt_name(t[i].want));
		close(sys);
		close(proc);
		close(dev);
	}
	{
		int sys = open_dir("pvm", "sys");
		struct vnb_virt_facts f = {0};

		errno = 0;
		ok(vnb_vm_virt_facts(sys, sys, sys, &f) == -1 &&
		       errno == ENOENT,
		   "no cpuinfo: ENOENT");
		close(sys);
	}
}

int main(int argc, char **argv)
{
	const char *env = getenv("VNB_UPDATE_GOLDEN");

	update_golden = (env && strcmp(env, "1") == 0) ||
			(argc > 1 && strcmp(argv[1], "--update-golden") == 0);
	test_golden();
	test_escaping();
	test_einval();
	test_enospc();
	test_channel_path();
	test_choose();
	test_facts();
	return done_testing();
}
