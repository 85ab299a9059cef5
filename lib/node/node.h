/*
 * node.h - a job's setup and teardown on one node: what vnb-prolog and
 * vnb-epilog do, as functions over injected side effects (vNIC ops, the
 * state directory, the topology), so that unit tests run them without root.
 *
 * Setup plans as a pure function of (policy, spec, topology, ledger),
 * then executes step by step, journaling each step in the job record
 * before the next; on any failure it tears down what it did, in reverse.
 * Teardown is idempotent: it is safe twice, and after a setup that died at
 * any point.
 */
#ifndef VNB_NODE_NODE_H
#define VNB_NODE_NODE_H

#include <stdint.h>

#include "common/error.h"
#include "conf/conf.h"
#include "job/job.h"
#include "topo/topo.h"
#include "vm/domain.h"
#include "vm/virt.h"
#include "vnic/vnic.h"

struct vnb_node_vm;

struct vnb_node {
	const struct vnb_conf *conf;
	const struct vnb_vnic_ops *ops;
	void *ops_ctx;
	int sysfs_fd; /* -1: no NUMA information */
	const struct vnb_topo *topo; /* NULL: no placement preference */
	/* The job's VM: booted after the vNICs are programmed, stopped
	 * before they are scrubbed.  NULL: jobs get no VM (tests of the vNIC
	 * steps alone). */
	const struct vnb_vm_ops *vm;
	void *vm_ctx;
	enum vnb_virt virt;
	/* Wait for the VM's agent; NULL: vnb_vm_wait_agent on its control
	 * channel with the config's boot_timeout.  Tests inject their own. */
	int (*wait_agent)(const struct vnb_node *node,
			  const struct vnb_node_vm *vm, vnb_error_t *err);
};

/* Set up the job on this node for the spec the user gave (the normalized
 * text, without the "v1:" prefix).  -1 with errno and a message; by then
 * everything done was undone, or, if undoing failed too, the message says
 * so and the record is kept for the epilog. */
int vnb_node_setup(const struct vnb_node *node, const struct vnb_job *job,
		   const char *spec, vnb_error_t *err);

/* Undo everything the job has on this node: force its VM off and undefine
 * it, remove its run directory, scrub its vNICs, free them in the ledger,
 * remove its record.  When the VM cannot be stopped nothing else is
 * touched (its vNICs are still in use).  A job with nothing here is a success.
 * -1 when a vNIC could not be scrubbed: it stays dirty (never handed out)
 * and the record stays, so a later run can finish the work. */
int vnb_node_teardown(const struct vnb_node *node, uint32_t jobid,
		      vnb_error_t *err);

typedef enum vnb_job_liveness (*vnb_liveness_f)(uint32_t jobid);

/* Tear down every job that has a record, a ledger entry or a vnb-<jobid>
 * domain here but that
 * alive() reports gone (never the job `except`, 0 for none).  Reports the
 * jobs cleaned in *cleaned (may be NULL).  Errors of one job do not stop
 * the others; -1 when any failed. */
int vnb_node_reconcile(const struct vnb_node *node, vnb_liveness_f alive,
		       uint32_t except, size_t *cleaned, vnb_error_t *err);

#endif
