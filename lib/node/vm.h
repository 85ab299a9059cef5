/*
 * vm.h - the job's VM on a node: planning its domain (pure) and the steps
 * that vnb_node_setup and vnb_node_teardown take for it.
 *
 * The files of a job's VM live in RUN_DIR/<jobid> (RUN_DIR is the
 * config's node.run_dir): ctl.sock and task.<i>.sock, the host ends of the
 * channels, which qemu creates; task.<i>.lock, which vnb-exec locks to take
 * a channel; console.log; and disk.qcow2, the per-job overlay when the
 * image boots from a disk.  The directory belongs to root (0755); the task
 * sockets and locks belong to the job's user (0600); the control socket
 * and the console stay root's.
 */
#ifndef VNB_NODE_VM_H
#define VNB_NODE_VM_H

#include <limits.h>

#include "conf/spec.h"
#include "record/record.h"
#include "topo/topo.h"
#include "vm/domain.h"
#include "vm/virt.h"

/* A planned domain: the spec and the strings it points into. */
struct vnb_node_vm {
	struct vnb_vm_spec spec;
	char name[VNB_VM_NAME_MAX];
	char dir[PATH_MAX]; /* RUN_DIR/<jobid> */
	char console[PATH_MAX];
	char disk[PATH_MAX]; /* the overlay, "" for kernel boot */
	const char *base; /* the image's base disk, NULL for kernel boot */
	char user[VNB_NAME_MAX]; /* the uid in decimal when no name is known */
	char cmdline[2048];
	char macs[VNB_VM_MAX_NICS][18];
	char pci[VNB_VM_MAX_NICS][16];
};

/* Kernel boot appends to the image's command line "vnb.job=<jobid>
 * vnb.node=<node>" and, when the tenant lets jobs of root run, this word,
 * which tells vnb-agent so (it refuses uid 0 without it). */
#define VNB_NODE_ALLOW_ROOT_WORD "vnb.allow_root=1"

/*
 * Plan the job's domain (pure).  rec holds the job (jobid, uid, node,
 * CPUs) and its programmed vNICs; spec is the resolved spec (image,
 * queues).  topo may be NULL: then the vCPUs are not pinned and the guest
 * has no NUMA layout.  user is the user's name for the metadata (NULL or
 * "" when unknown: the uid stands in).  The VM gets one vCPU per job CPU unless the tenant sets
 * vm.vcpus, vCPU i pinned to the i-th job CPU (round robin when there are
 * more vCPUs), one guest NUMA cell per host NUMA node the job spans, and
 * one task channel per job CPU (at most VNB_VM_MAX_TASK_CHANNELS).
 * -1 with EINVAL and a message for an image the tenant lacks, a CPU list
 * the topology refuses, or more vNICs than a domain takes.
 */
int vnb_node_vm_plan(const struct vnb_conf *conf,
		     const struct vnb_conf_tenant *t,
		     const struct vnb_spec *spec, const struct vnb_record *rec,
		     const struct vnb_topo *topo, enum vnb_virt virt,
		     const char *user, struct vnb_node_vm *vm,
		     vnb_error_t *err);

/* Remove RUN_DIR/<jobid> and every file in it (it has no subdirectories);
 * a directory that is not there is a success. */
int vnb_node_vm_dir_remove(const struct vnb_conf *conf, uint32_t jobid,
			   vnb_error_t *err);

#endif
