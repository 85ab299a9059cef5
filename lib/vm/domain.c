/*
 * domain.c - the libvirt domain XML of a job's VM, and KVM or TCG.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"
#include "vm/domain.h"

/* An output buffer that counts what it would have written past its end. */
struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->pos < o->len ? o->len - o->pos : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

/* Write s with & < > ' " escaped. */
static void put_esc(struct out *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			put(o, "&amp;");
			break;
		case '<':
			put(o, "&lt;");
			break;
		case '>':
			put(o, "&gt;");
			break;
		case '\'':
			put(o, "&apos;");
			break;
		case '"':
			put(o, "&quot;");
			break;
		default:
			put(o, "%c", *s);
		}
	}
}

/* A string that may go into the XML: no control characters. */
static int check_str(const char *field, const char *s, bool required,
		     vnb_error_t *err)
{
	if (!s || !*s) {
		if (!required)
			return 0;
		errno = EINVAL;
		return vnb_errprintf(err, "VM spec: %s is missing", field);
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			errno = EINVAL;
			return vnb_errprintf(
			    err,
			    "VM spec: %s has a control character "
			    "(0x%02x at offset %zu)",
			    field, *p, (size_t)(p - (const unsigned char *)s));
		}
	}
	return 0;
}

/* Parse "DDDD:BB:SS.F". */
static int parse_pci(const char *s, unsigned v[4])
{
	char tail;

	if (!s || strlen(s) != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.')
		return -1;
	for (size_t i = 0; i < 12; i++) {
		if (i == 4 || i == 7 || i == 10)
			continue;
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return -1;
	}
	if (sscanf(s, "%4x:%2x:%2x.%1x%c", &v[0], &v[1], &v[2], &v[3], &tail) !=
	    4)
		return -1;
	if (v[2] > 0x1f || v[3] > 7)
		return -1;
	return 0;
}

static int check_nic(const struct vnb_vm_nic *n, unsigned i, vnb_error_t *err)
{
	uint8_t mac[6];
	unsigned pci[4];
	char field[32];

	snprintf(field, sizeof(field), "nic[%u].mac", i);
	if (check_str(field, n->mac, true, err) < 0)
		return -1;
	if (vnb_mac_parse(n->mac, mac) < 0) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "VM spec: nic[%u].mac '%s' is not a MAC "
				     "address (want xx:xx:xx:xx:xx:xx)",
				     i, n->mac);
	}
	if (mac[0] & 1) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "VM spec: nic[%u].mac '%s' is a multicast "
				     "address; use a unicast one",
				     i, n->mac);
	}
	switch (n->backend) {
	case VNB_BACKEND_MACVTAP:
		snprintf(field, sizeof(field), "nic[%u].dev", i);
		if (check_str(field, n->dev, true, err) < 0)
			return -1;
		if (!vnb_name_valid(n->dev, 15)) {
			errno = EINVAL;
			return vnb_errprintf(
			    err,
			    "VM spec: nic[%u].dev '%s' is not an "
			    "interface name",
			    i, n->dev);
		}
		if (n->queues > VNB_VM_MAX_QUEUES) {
			errno = EINVAL;
			return vnb_errprintf(
			    err,
			    "VM spec: nic[%u].queues %u is more "
			    "than %u",
			    i, n->queues, VNB_VM_MAX_QUEUES);
		}
		break;
	case VNB_BACKEND_SRIOV:
		snprintf(field, sizeof(field), "nic[%u].pci", i);
		if (check_str(field, n->pci, true, err) < 0)
			return -1;
		if (parse_pci(n->pci, pci) < 0) {
			errno = EINVAL;
			return vnb_errprintf(
			    err,
			    "VM spec: nic[%u].pci '%s' is not a "
			    "PCI address (want DDDD:BB:SS.F)",
			    i, n->pci);
		}
		if (n->vlan > 4094) {
			errno = EINVAL;
			return vnb_errprintf(
			    err,
			    "VM spec: nic[%u].vlan %u is out of "
			    "range (1..4094, 0 for none)",
			    i, n->vlan);
		}
		break;
	default:
		errno = EINVAL;
		return vnb_errprintf(err, "VM spec: nic[%u].backend %d unknown",
				     i, (int)n->backend);
	}
	return 0;
}

static int check_cpus(const struct vnb_vm_spec *s, vnb_error_t *err)
{
	unsigned next = 0;
	unsigned long mem = 0;

	if (s->nvcpus == 0 || s->nvcpus > VNB_VM_MAX_VCPUS) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "VM spec: nvcpus %u is out of range "
				     "(1..%u)",
				     s->nvcpus, VNB_VM_MAX_VCPUS);
	}
	if (s->npins > s->nvcpus) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "VM spec: npins %u is more than nvcpus %u",
				     s->npins, s->nvcpus);
	}
	if (s->ncells > VNB_VM_MAX_CELLS) {
		errno = EINVAL;
		return vnb_errprintf(err, "VM spec: ncells %u is more than %u",
				     s->ncells, VNB_VM_MAX_CELLS);
	}
	for (unsigned i = 0; i < s->ncells; i++) {
		const struct vnb_vm_cell *c = &s->cell[i];

		if (c->first_vcpu != next || c->last_vcpu < c->first_vcpu ||
		    c->last_vcpu >= s->nvcpus) {
			errno = EINVAL;
			return vnb_errprintf(err,
					     "VM spec: cell[%u] vCPUs %u-%u do "
					     "not continue at vCPU %u within "
					     "nvcpus %u",
					     i, c->first_vcpu, c->last_vcpu,
					     next, s->nvcpus);
		}
		if (c->memory_mib == 0) {
			errno = EINVAL;
			return vnb_errprintf(
			    err, "VM spec: cell[%u].memory_mib is 0", i);
		}
		next = c->last_vcpu + 1;
		mem += c->memory_mib;
	}
	if (s->ncells && next != s->nvcpus) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "VM spec: the cells cover vCPUs 0-%u, not "
				     "all %u",
				     next - 1, s->nvcpus);
	}
	if (s->ncells && mem != s->memory_mib) {
		errno = EINVAL;
		return vnb_errprintf(
		    err,
		    "VM spec: the cells' memory adds up to %lu "
		    "MiB, not memory_mib %lu",
		    mem, s->memory_mib);
	}
	return 0;
}

static int check_spec(const struct vnb_vm_spec *s, vnb_error_t *err)
{
	char want[32];

	if (check_str("name", s->name, true, err) < 0)
		return -1;
	snprintf(want, sizeof(want), "vnb-%" PRIu32, s->jobid);
	if (strcmp(s->name, want) != 0) {
		errno = EINVAL;
		return vnb_errprintf(
		    err, "VM spec: name '%s' is not '%s' (vnb-<jobid>)",
		    s->name, want);
	}
	if (check_str("tenant", s->tenant, true, err) < 0 ||
	    check_str("user", s->user, true, err) < 0 ||
	    check_str("node", s->node, true, err) < 0 ||
	    check_str("emulator", s->emulator, false, err) < 0 ||
	    check_str("machine", s->machine, false, err) < 0 ||
	    check_str("disk", s->disk, false, err) < 0 ||
	    check_str("kernel", s->kernel, false, err) < 0 ||
	    check_str("initrd", s->initrd, false, err) < 0 ||
	    check_str("cmdline", s->cmdline, false, err) < 0 ||
	    check_str("console_log", s->console_log, true, err) < 0 ||
	    check_str("run_dir", s->run_dir, true, err) < 0)
		return -1;
	if (s->virt != VNB_VIRT_QEMU && s->virt != VNB_VIRT_KVM) {
		errno = EINVAL;
		return vnb_errprintf(err, "VM spec: virt %d unknown",
				     (int)s->virt);
	}
	if (s->memory_mib == 0) {
		errno = EINVAL;
		return vnb_errprintf(err, "VM spec: memory_mib is 0");
	}
	if (check_cpus(s, err) < 0)
		return -1;
	if (s->disk && *s->disk && s->kernel && *s->kernel) {
		errno = EINVAL;
		return vnb_errprintf(err, "VM spec: both disk and kernel are "
					  "set; boot from one of them");
	}
	if (!(s->disk && *s->disk) && !(s->kernel && *s->kernel)) {
		errno = EINVAL;
		return vnb_errprintf(err, "VM spec: neither disk nor kernel is "
					  "set; boot from one of them");
	}
	if (s->disk && *s->disk &&
	    ((s->initrd && *s->initrd) || (s->cmdline && *s->cmdline))) {
		errno = EINVAL;
		return vnb_errprintf(err, "VM spec: initrd or cmdline without "
					  "kernel (the disk boots by itself)");
	}
	if (s->ntask_channels > VNB_VM_MAX_TASK_CHANNELS) {
		errno = EINVAL;
		return vnb_errprintf(
		    err, "VM spec: ntask_channels %u is more than %u",
		    s->ntask_channels, VNB_VM_MAX_TASK_CHANNELS);
	}
	/* A unix socket path has 108 bytes with its NUL. */
	char path[128];
	int n = vnb_vm_channel_path(
	    s, s->ntask_channels ? (int)s->ntask_channels - 1 : -1, path, 108);
	if (n < 0) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "VM spec: run_dir '%s' is too long for a "
				     "unix socket path",
				     s->run_dir);
	}
	if (s->nnics > VNB_VM_MAX_NICS) {
		errno = EINVAL;
		return vnb_errprintf(err, "VM spec: nnics %u is more than %u",
				     s->nnics, VNB_VM_MAX_NICS);
	}
	for (unsigned i = 0; i < s->nnics; i++)
		if (check_nic(&s->nic[i], i, err) < 0)
			return -1;
	return 0;
}

int vnb_vm_channel_path(const struct vnb_vm_spec *s, int idx, char *buf,
			size_t len)
{
	int n;

	if (!s->run_dir || !*s->run_dir || idx < -1 ||
	    idx >= (int)VNB_VM_MAX_TASK_CHANNELS) {
		errno = EINVAL;
		return -1;
	}
	if (idx < 0)
		n = snprintf(buf, len, "%s/ctl.sock", s->run_dir);
	else
		n = snprintf(buf, len, "%s/task.%d.sock", s->run_dir, idx);
	if (n < 0 || (size_t)n >= len) {
		errno = ENOSPC;
		return -1;
	}
	return n;
}

static void put_channel(struct out *o, const struct vnb_vm_spec *s, int idx)
{
	char path[128];

	vnb_vm_channel_path(s, idx, path, sizeof(path));
	put(o, "    <channel type='unix'>\n"
	       "      <source mode='bind' path='");
	put_esc(o, path);
	put(o, "'/>\n");
	if (idx < 0)
		put(o, "      <target type='virtio' name='%s'/>\n",
		    VNB_VM_CTL_CHANNEL);
	else
		put(o, "      <target type='virtio' name='%s%d'/>\n",
		    VNB_VM_TASK_CHANNEL_PREFIX, idx);
	put(o, "    </channel>\n");
}

static void put_nic(struct out *o, const struct vnb_vm_nic *n)
{
	uint8_t mac[6];
	char macs[18];
	unsigned pci[4];

	vnb_mac_parse(n->mac, mac);
	vnb_mac_format(mac, macs);
	if (n->backend == VNB_BACKEND_MACVTAP) {
		put(o,
		    "    <interface type='direct'>\n"
		    "      <mac address='%s'/>\n"
		    "      <source dev='",
		    macs);
		put_esc(o, n->dev);
		put(o, "' mode='passthrough'/>\n"
		       "      <model type='virtio'/>\n");
		if (n->queues > 1)
			put(o, "      <driver name='qemu' queues='%u'/>\n",
			    n->queues);
		put(o, "    </interface>\n");
		return;
	}
	parse_pci(n->pci, pci);
	put(o,
	    "    <interface type='hostdev' managed='yes'>\n"
	    "      <mac address='%s'/>\n"
	    "      <driver name='vfio'/>\n"
	    "      <source>\n"
	    "        <address type='pci' domain='0x%04x' bus='0x%02x' "
	    "slot='0x%02x' function='0x%x'/>\n"
	    "      </source>\n",
	    macs, pci[0], pci[1], pci[2], pci[3]);
	if (n->vlan)
		put(o,
		    "      <vlan>\n"
		    "        <tag id='%u'/>\n"
		    "      </vlan>\n",
		    n->vlan);
	put(o, "    </interface>\n");
}

static void put_cpu(struct out *o, const struct vnb_vm_spec *s)
{
	if (s->virt != VNB_VIRT_KVM && s->ncells == 0)
		return;
	if (s->virt == VNB_VIRT_KVM)
		put(o, "  <cpu mode='host-passthrough'");
	else
		put(o, "  <cpu");
	if (s->ncells == 0) {
		put(o, "/>\n");
		return;
	}
	put(o, ">\n    <numa>\n");
	for (unsigned i = 0; i < s->ncells; i++) {
		const struct vnb_vm_cell *c = &s->cell[i];

		put(o, "      <cell id='%u' cpus='%u", i, c->first_vcpu);
		if (c->last_vcpu != c->first_vcpu)
			put(o, "-%u", c->last_vcpu);
		put(o, "' memory='%lu' unit='MiB'/>\n", c->memory_mib);
	}
	put(o, "    </numa>\n  </cpu>\n");
}

static void put_tune(struct out *o, const struct vnb_vm_spec *s)
{
	bool placed = false;

	if (s->npins) {
		put(o, "  <cputune>\n");
		for (unsigned i = 0; i < s->npins; i++)
			put(o, "    <vcpupin vcpu='%u' cpuset='%u'/>\n", i,
			    s->pin[i]);
		/* qemu's own threads stay on the job's CPUs too */
		put(o, "    <emulatorpin cpuset='");
		for (unsigned i = 0; i < s->npins; i++)
			put(o, "%s%u", i ? "," : "", s->pin[i]);
		put(o, "'/>\n  </cputune>\n");
	}
	for (unsigned i = 0; i < s->ncells; i++)
		placed |= s->cell[i].host_node >= 0;
	if (!placed)
		return;
	put(o, "  <numatune>\n");
	for (unsigned i = 0; i < s->ncells; i++)
		if (s->cell[i].host_node >= 0)
			put(o,
			    "    <memnode cellid='%u' mode='strict' "
			    "nodeset='%d'/>\n",
			    i, s->cell[i].host_node);
	put(o, "  </numatune>\n");
}

int vnb_vm_domain_xml(const struct vnb_vm_spec *s, char *buf, size_t len,
		      vnb_error_t *err)
{
	struct out o = {.buf = buf, .len = len, .pos = 0};

	if (!s) {
		errno = EINVAL;
		return vnb_errprintf(err, "VM spec: none given");
	}
	if (check_spec(s, err) < 0)
		return -1;

	put(&o, "<domain type='%s'>\n  <name>", vnb_vm_virt_name(s->virt));
	put_esc(&o, s->name);
	put(&o,
	    "</name>\n  <metadata>\n    <vnb:job xmlns:vnb='%s' id='%" PRIu32
	    "' tenant='",
	    VNB_VM_XMLNS, s->jobid);
	put_esc(&o, s->tenant);
	put(&o, "' user='");
	put_esc(&o, s->user);
	put(&o, "' uid='%lu' node='", (unsigned long)s->uid);
	put_esc(&o, s->node);
	put(&o, "'/>\n  </metadata>\n");
	put(&o, "  <memory unit='MiB'>%lu</memory>\n", s->memory_mib);
	if (s->hugepages) {
		put(&o, "  <memoryBacking>\n    <hugepages");
		if (s->hugepage_kib)
			put(&o,
			    ">\n      <page size='%u' unit='KiB'/>\n"
			    "    </hugepages>\n",
			    s->hugepage_kib);
		else
			put(&o, "/>\n");
		put(&o, "  </memoryBacking>\n");
	}
	put(&o, "  <vcpu placement='static'>%u</vcpu>\n", s->nvcpus);
	put_tune(&o, s);

	put(&o, "  <os>\n    <type arch='x86_64' machine='");
	put_esc(&o, s->machine && *s->machine ? s->machine : "pc");
	put(&o, "'>hvm</type>\n");
	if (s->kernel && *s->kernel) {
		put(&o, "    <kernel>");
		put_esc(&o, s->kernel);
		put(&o, "</kernel>\n");
		if (s->initrd && *s->initrd) {
			put(&o, "    <initrd>");
			put_esc(&o, s->initrd);
			put(&o, "</initrd>\n");
		}
		if (s->cmdline && *s->cmdline) {
			put(&o, "    <cmdline>");
			put_esc(&o, s->cmdline);
			put(&o, "</cmdline>\n");
		}
	} else {
		put(&o, "    <boot dev='hd'/>\n");
	}
	put(&o, "  </os>\n  <features>\n    <acpi/>\n  </features>\n");
	put_cpu(&o, s);
	put(&o, "  <clock offset='utc'/>\n"
		"  <on_poweroff>destroy</on_poweroff>\n"
		"  <on_reboot>destroy</on_reboot>\n"
		"  <on_crash>destroy</on_crash>\n"
		"  <devices>\n");
	if (s->emulator && *s->emulator) {
		put(&o, "    <emulator>");
		put_esc(&o, s->emulator);
		put(&o, "</emulator>\n");
	}
	if (s->disk && *s->disk) {
		put(&o, "    <disk type='file' device='disk'>\n"
			"      <driver name='qemu' type='qcow2'/>\n"
			"      <source file='");
		put_esc(&o, s->disk);
		put(&o, "'/>\n"
			"      <target dev='vda' bus='virtio'/>\n"
			"    </disk>\n");
	}
	put(&o, "    <serial type='file'>\n      <source path='");
	put_esc(&o, s->console_log);
	put(&o, "'/>\n      <target port='0'/>\n    </serial>\n");
	put_channel(&o, s, -1);
	for (unsigned i = 0; i < s->ntask_channels; i++)
		put_channel(&o, s, (int)i);
	for (unsigned i = 0; i < s->nnics; i++)
		put_nic(&o, &s->nic[i]);
	put(&o, "    <memballoon model='none'/>\n  </devices>\n</domain>\n");

	if (o.pos >= len) {
		errno = ENOSPC;
		return vnb_errprintf(
		    err,
		    "VM %s: the domain XML needs %zu bytes, the "
		    "buffer has %zu",
		    s->name, o.pos + 1, len);
	}
	return (int)o.pos;
}

const char *vnb_vm_virt_name(enum vnb_virt v)
{
	return v == VNB_VIRT_KVM ? "kvm" : "qemu";
}

enum vnb_virt vnb_vm_choose_virt(const struct vnb_virt_facts *f, char *why,
				 size_t len)
{
	const char *msg;
	enum vnb_virt v = VNB_VIRT_QEMU;

	if (!f->dev_kvm)
		msg = "/dev/kvm is missing or cannot be opened read-write; "
		      "using TCG";
	else if (f->kvm_pvm)
		msg = "/dev/kvm is PVM (kvm_pvm loaded): stock guests cannot "
		      "boot under it; using TCG";
	else if (!f->hw_virt)
		msg = "the CPU has no vmx or svm flag: KVM cannot run stock "
		      "guests; using TCG";
	else {
		msg =
		    "/dev/kvm is usable and the CPU has vmx or svm; using KVM";
		v = VNB_VIRT_KVM;
	}
	if (why && len)
		snprintf(why, len, "%s", msg);
	return v;
}

/* Whether a "flags" line of cpuinfo has the word vmx or svm. */
static bool flags_have_virt(const char *line)
{
	const char *p = strchr(line, ':');

	if (!p)
		return false;
	for (p++; *p;) {
		size_t n;

		p += strspn(p, " \t\n");
		n = strcspn(p, " \t\n");
		if ((n == 3 && strncmp(p, "vmx", 3) == 0) ||
		    (n == 3 && strncmp(p, "svm", 3) == 0))
			return true;
		p += n;
	}
	return false;
}

int vnb_vm_virt_facts(int sysfs_fd, int procfs_fd, int devfd,
		      struct vnb_virt_facts *f)
{
	struct stat st;
	struct vnb_virt_facts r = {0};
	char *line = NULL;
	size_t cap = 0;
	FILE *fp;
	int fd;

	r.kvm_pvm = fstatat(sysfs_fd, "module/kvm_pvm", &st, 0) == 0 &&
		    S_ISDIR(st.st_mode);
	r.dev_kvm = faccessat(devfd, "kvm", R_OK | W_OK, 0) == 0;

	fd = openat(procfs_fd, "cpuinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	fp = fdopen(fd, "r");
	if (!fp) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	while (getline(&line, &cap, fp) > 0) {
		if (strncmp(line, "flags", 5) == 0 && strchr(" \t:", line[5])) {
			r.hw_virt = flags_have_virt(line);
			break;
		}
	}
	free(line);
	fclose(fp);
	*f = r;
	return 0;
}
