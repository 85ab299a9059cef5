/*
 * record.h - the per-job record on a node: <state_dir>/jobs/<jobid>.
 *
 * The prolog journals every step it takes here before moving on (the
 * whole record is rewritten atomically with vnb_file_replace after each
 * step), so that a rollback, an epilog, or a reconcile after a crash knows
 * exactly what to undo.  The format is versioned text, one fact per line.
 */
#ifndef VNB_RECORD_RECORD_H
#define VNB_RECORD_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "conf/conf.h"
#include "conf/spec.h"
#include "vnic/vnic.h"

enum vnb_record_state {
	VNB_RECORD_BEGIN = 0, /* the prolog is at work (or died) */
	VNB_RECORD_READY, /* the prolog finished */
};

/* How far the job's VM got; journaled before each step is taken, so that a
 * teardown knows a domain may exist from VNB_RECORD_VM_STARTING on. */
enum vnb_record_vm {
	VNB_RECORD_VM_NONE = 0, /* no VM yet */
	VNB_RECORD_VM_STARTING, /* run dir made; define and start under way */
	VNB_RECORD_VM_STARTED, /* the domain runs; waiting for the agent */
	VNB_RECORD_VM_READY, /* the agent answered */
};

struct vnb_record_vnic {
	char id[VNB_VNIC_ID_MAX];
	char ifname[VNB_IFNAME_MAX];
	int vf; /* -1: not a VF */
	bool have_saved; /* saved was read before programming began */
	bool programmed; /* else only claimed */
	uint8_t mac[6]; /* the job's MAC, when programmed */
	struct vnb_vnic_saved saved; /* what programming replaced */
};

struct vnb_record {
	uint32_t jobid;
	uint32_t uid;
	uint32_t gid;
	char tenant[VNB_NAME_MAX];
	char node[VNB_NAME_MAX];
	uint32_t nodeidx; /* this node's index in the job's node list */
	char cpus[256]; /* the job's CPUs on this node, a cpulist */
	char spec[VNB_SPEC_MAX]; /* resolved, normalized */
	enum vnb_record_state state;
	enum vnb_record_vm vm;
	struct vnb_record_vnic vnics[VNB_MAX_VNICS];
	size_t nvnics;
};

/* Text form.  format returns the length, or -1 with ENOSPC. */
int vnb_record_format(const struct vnb_record *r, char *buf, size_t len);
/* -1 with EINVAL and "NAME:LINE: what" for a malformed record. */
/* "none", "starting", ...; NULL for an out-of-range value. */
const char *vnb_record_vm_name(enum vnb_record_vm vm);

int vnb_record_parse(const char *text, const char *name, struct vnb_record *r,
		     vnb_error_t *err);

int vnb_record_save(const char *state_dir, const struct vnb_record *r,
		    vnb_error_t *err);
/* -1 with ENOENT when the job has no record. */
int vnb_record_load(const char *state_dir, uint32_t jobid, struct vnb_record *r,
		    vnb_error_t *err);
/* Removing a record that does not exist is not an error. */
int vnb_record_remove(const char *state_dir, uint32_t jobid, vnb_error_t *err);
/* The jobs that have a record; *jobids is freed by the caller. */
int vnb_record_list(const char *state_dir, uint32_t **jobids, size_t *n,
		    vnb_error_t *err);

#endif
