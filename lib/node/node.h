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
#include "vnic/vnic.h"

struct vnb_node {
	const struct vnb_conf *conf;
	const struct vnb_vnic_ops *ops;
	void *ops_ctx;
	int sysfs_fd; /* -1: no NUMA information */
	const struct vnb_topo *topo; /* NULL: no placement preference */
};

/* Set up the job on this node for the spec the user gave (the normalized
 * text, without the "v1:" prefix).  -1 with errno and a message; by then
 * everything done was undone, or, if undoing failed too, the message says
 * so and the record is kept for the epilog. */
int vnb_node_setup(const struct vnb_node *node, const struct vnb_job *job,
		   const char *spec, vnb_error_t *err);

/* Undo everything the job has on this node: scrub its vNICs, free them in
 * the ledger, remove its record.  A job with nothing here is a success.
 * -1 when a vNIC could not be scrubbed: it stays dirty (never handed out)
 * and the record stays, so a later run can finish the work. */
int vnb_node_teardown(const struct vnb_node *node, uint32_t jobid,
		      vnb_error_t *err);

typedef enum vnb_job_liveness (*vnb_liveness_f)(uint32_t jobid);

/* Tear down every job that has a record or a ledger entry here but that
 * alive() reports gone (never the job `except`, 0 for none).  Reports the
 * jobs cleaned in *cleaned (may be NULL).  Errors of one job do not stop
 * the others; -1 when any failed. */
int vnb_node_reconcile(const struct vnb_node *node, vnb_liveness_f alive,
		       uint32_t except, size_t *cleaned, vnb_error_t *err);

#endif
