/*
 * ledger.h - the node's durable record of which vNIC belongs to which job.
 *
 * The ledger is the single source of truth for claims.  It lives in one
 * file, <state_dir>/ledger, and every change happens under an exclusive
 * flock of <state_dir>/ledger.lock: load, change in memory, write a
 * temporary file, fsync, rename, fsync the directory (vnb_file_replace).
 * A crash at any point leaves the old or the new state, and both load.
 *
 * A vNIC is in one of three states:
 *   free     no job; may be claimed.  A vNIC absent from the file is free.
 *   claimed  held by a job.
 *   dirty    released by its job but not yet scrubbed (MAC, VLAN reset);
 *            never handed out until vnb_ledger_scrubbed() frees it.
 *
 * The lock is held only for the short transaction, never while a VM boots.
 */
#ifndef VNB_LEDGER_LEDGER_H
#define VNB_LEDGER_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"
#include "conf/conf.h"

enum vnb_vnic_state {
	VNB_VNIC_FREE = 0,
	VNB_VNIC_CLAIMED,
	VNB_VNIC_DIRTY,
};

/* "free", "claimed", "dirty" */
const char *vnb_vnic_state_name(enum vnb_vnic_state s);

struct vnb_ledger_entry {
	char vnic[VNB_VNIC_ID_MAX];
	enum vnb_vnic_state state;
	uint32_t jobid; /* 0 when free */
	time_t since; /* when the state was entered */
};

/* An in-memory copy of the ledger. */
struct vnb_ledger;

/* Lock (exclusive) and load.  Creates state_dir's ledger when missing.
 * NULL with errno and a message (a corrupt file names its line). */
struct vnb_ledger *vnb_ledger_begin(const char *state_dir, vnb_error_t *err);

/* Write the changes made since begin, atomically and durably.  The lock is
 * kept until vnb_ledger_end(). */
int vnb_ledger_commit(struct vnb_ledger *l, vnb_error_t *err);

/* Unlock and free; uncommitted changes are dropped.  Accepts NULL. */
void vnb_ledger_end(struct vnb_ledger *l);

/* A consistent snapshot under a shared lock, for readers (vnbctl).  Free it
 * with vnb_ledger_end(). */
struct vnb_ledger *vnb_ledger_read(const char *state_dir, vnb_error_t *err);

size_t vnb_ledger_count(const struct vnb_ledger *l);
const struct vnb_ledger_entry *vnb_ledger_at(const struct vnb_ledger *l,
					     size_t i);
/* NULL when the vNIC has no entry (it is free). */
const struct vnb_ledger_entry *vnb_ledger_find(const struct vnb_ledger *l,
					       const char *vnic);
/* Set a vNIC's state in memory (adds the entry when missing; a free entry
 * may be dropped from the file). */
int vnb_ledger_set(struct vnb_ledger *l, const char *vnic,
		   enum vnb_vnic_state state, uint32_t jobid);

/*
 * Transactions (each: begin, change, commit, end).
 */

/* Claim n vNICs for jobid, taking the first free ones of candidates, which
 * is ordered by preference.  All or nothing: -1 with errno EBUSY and a
 * message "only K of the N vNICs ... are free (M claimed, D dirty)" when
 * fewer are free.  The names claimed are copied to claimed[0..n-1] in
 * preference order.  A job that already holds claims (a prolog run twice)
 * gets the same vNICs back, first. */
int vnb_ledger_claim(const char *state_dir, uint32_t jobid,
		     const char (*candidates)[VNB_VNIC_ID_MAX],
		     size_t ncandidates, size_t n,
		     char (*claimed)[VNB_VNIC_ID_MAX], vnb_error_t *err);

/* Every vNIC claimed by jobid becomes dirty.  The names are copied to
 * vnics (up to max) and their number to *count (both may be NULL/0).
 * A job holding nothing is not an error. */
int vnb_ledger_release(const char *state_dir, uint32_t jobid,
		       char (*vnics)[VNB_VNIC_ID_MAX], size_t max,
		       size_t *count, vnb_error_t *err);

/* A dirty vNIC of jobid was scrubbed: it becomes free.  -1 with errno
 * ESTALE when the vNIC is no longer dirty for that job (someone else
 * already freed it). */
int vnb_ledger_scrubbed(const char *state_dir, const char *vnic, uint32_t jobid,
			vnb_error_t *err);

#endif
