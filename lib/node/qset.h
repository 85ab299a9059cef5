/*
 * qset.h - the job's queue sets on a node, and the credential of each.
 *
 * Queue set i of a job on a node is queue q of vNIC k (in the record's
 * order), i = k * queues + q.  The prolog writes, in RUN_DIR/<jobid>,
 * qset.<i> (root, 0644: the vnb1: credential with step and rank 0, which
 * vnb-exec fills in) and qset.<i>.lock (the job's user, 0600: the task
 * that holds its flock owns the queue set), so that two tasks never share
 * one (doc/vm.md, "PMIx in the VM").
 */
#ifndef VNB_NODE_QSET_H
#define VNB_NODE_QSET_H

#include <stddef.h>

#include "conf/conf.h"
#include "conf/spec.h"
#include "cred/cred.h"
#include "record/record.h"

#define VNB_NODE_QSET_MTU 1500
#define VNB_NODE_QSET_FRAME 2048
#define VNB_NODE_QSET_MAX (VNB_MAX_VNICS * VNB_MAX_QUEUES)

/* The credentials of the job's queue sets on the node (pure): *n of them
 * into out[0..max-1].  -1 with EINVAL and a message when there are more
 * than max, or a value is out of a credential's range. */
int vnb_node_qsets(const struct vnb_conf_tenant *t, const struct vnb_spec *spec,
		   const struct vnb_record *rec, char (*out)[VNB_CRED_MAX],
		   size_t max, size_t *n, vnb_error_t *err);

/* Write qset.<i> and qset.<i>.lock into the directory dirfd. */
int vnb_node_qsets_write(int dirfd, const char *dir,
			 const struct vnb_conf_tenant *t,
			 const struct vnb_spec *spec,
			 const struct vnb_record *rec, vnb_error_t *err);

#endif
