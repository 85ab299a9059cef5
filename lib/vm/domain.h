/*
 * domain.h - the libvirt domain XML of a job's VM, and the choice between
 * KVM and TCG (pure, no libvirt calls and no I/O, except the thin
 * vnb_vm_virt_facts reader).
 *
 * The caller owns every string a vnb_vm_spec points to; nothing here
 * allocates or keeps a pointer past the call.
 */
#ifndef VNB_VM_DOMAIN_H
#define VNB_VM_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "conf/conf.h"

#define VNB_VM_MAX_VCPUS 256
#define VNB_VM_MAX_CELLS 16
#define VNB_VM_MAX_NICS 16
/* One virtio-serial controller has 31 ports: the control channel and up
 * to 30 task channels. */
#define VNB_VM_MAX_TASK_CHANNELS 30
#define VNB_VM_MAX_QUEUES 256

/* The guest side names of the channels (/dev/virtio-ports/NAME). */
#define VNB_VM_CTL_CHANNEL "org.vnic-bypass.ctl"
#define VNB_VM_TASK_CHANNEL_PREFIX "org.vnic-bypass.task."
/* The namespace of the <metadata> element. */
#define VNB_VM_XMLNS "http://vnic-bypass.org/xmlns/job/1"

enum vnb_virt {
	VNB_VIRT_QEMU = 0, /* TCG: runs anywhere, slowly */
	VNB_VIRT_KVM = 1, /* hardware virtualization */
};

/* A guest NUMA cell: vCPUs first..last and its memory, placed on a host
 * NUMA node (host_node < 0: not placed). */
struct vnb_vm_cell {
	unsigned first_vcpu, last_vcpu;
	unsigned long memory_mib;
	int host_node;
};

struct vnb_vm_nic {
	enum vnb_backend backend;
	const char *mac; /* "xx:xx:xx:xx:xx:xx" */
	/* macvtap: the claimed lower device; queues > 1 is multiqueue */
	const char *dev;
	unsigned queues;
	/* sriov: the VF's PCI address "DDDD:BB:SS.F" and the VLAN (0: none,
	 * else 1..4094) */
	const char *pci;
	unsigned vlan;
};

struct vnb_vm_spec {
	/* identity: name must be "vnb-<jobid>" */
	const char *name;
	uint32_t jobid;
	const char *tenant, *user, *node;
	uid_t uid;

	enum vnb_virt virt;
	const char *emulator; /* NULL: libvirt's default */
	const char *machine; /* NULL: "pc" */

	unsigned long memory_mib;
	bool hugepages;
	unsigned hugepage_kib; /* 0: the host's default huge page size */

	unsigned nvcpus;
	/* pin[i] is the host CPU of vCPU i, for i < npins (npins <= nvcpus) */
	unsigned npins;
	unsigned pin[VNB_VM_MAX_VCPUS];
	/* ncells == 0: no guest NUMA layout.  Otherwise the cells cover the
	 * vCPUs 0..nvcpus-1 in order and their memory adds up to
	 * memory_mib. */
	unsigned ncells;
	struct vnb_vm_cell cell[VNB_VM_MAX_CELLS];

	/* boot: exactly one of disk (a per-job qcow2 overlay) and kernel */
	const char *disk;
	const char *kernel, *initrd, *cmdline; /* initrd, cmdline optional */

	const char *console_log; /* the guest serial console goes here */
	/* the host ends of the channels: RUN_DIR/ctl.sock and
	 * RUN_DIR/task.<i>.sock, see vnb_vm_channel_path */
	const char *run_dir;
	unsigned ntask_channels;

	unsigned nnics;
	struct vnb_vm_nic nic[VNB_VM_MAX_NICS];
};

/* Write the domain XML of s into buf (len bytes, NUL-terminated).  Returns
 * its length, or -1 with errno:
 *   EINVAL  s is not valid; the message names the field;
 *   ENOSPC  buf is too small; the message says how much is needed. */
int vnb_vm_domain_xml(const struct vnb_vm_spec *s, char *buf, size_t len,
		      vnb_error_t *err);

/* The host path of channel idx: -1 is the control channel, 0.. the task
 * channels.  Returns the length, or -1 with errno ENOSPC (buf too small)
 * or EINVAL (no run dir, idx out of range). */
int vnb_vm_channel_path(const struct vnb_vm_spec *s, int idx, char *buf,
			size_t len);

/* What decides between KVM and TCG. */
struct vnb_virt_facts {
	bool dev_kvm; /* /dev/kvm exists and can be opened read-write */
	bool kvm_pvm; /* /sys/module/kvm_pvm exists: /dev/kvm is PVM */
	bool hw_virt; /* /proc/cpuinfo flags have vmx or svm */
};

/* KVM only when /dev/kvm is usable, the CPU has vmx or svm and /dev/kvm is
 * not PVM (which cannot boot stock guest kernels); TCG otherwise.  why (may
 * be NULL) gets a sentence saying which and why. */
enum vnb_virt vnb_vm_choose_virt(const struct vnb_virt_facts *f, char *why,
				 size_t len);

/* "kvm" or "qemu", as in <domain type=...>. */
const char *vnb_vm_virt_name(enum vnb_virt v);

/* Read the facts relative to directory fds of /sys, /proc and /dev.
 * Returns 0, or -1 with errno when cpuinfo cannot be read. */
int vnb_vm_virt_facts(int sysfs_fd, int procfs_fd, int devfd,
		      struct vnb_virt_facts *f);

#endif
