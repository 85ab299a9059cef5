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
 *
 * Group commit: claim, release and scrubbed post themselves on a board,
 * <state_dir>/ledger.board (0600, shared memory), and whichever process
 * gets the lock applies every request posted meanwhile, exactly as each
 * would have, in one commit, and hands each its result.  With N racing
 * prologs that is one durable write for many, instead of N in a row.
 * Without a usable board a transaction runs alone; the outcome is the
 * same.
 *
 * The file is text, one line per vNIC that is not free:
 *   # vnic-bypass ledger v1
 *   # vnic state jobid since
 *   ens1f0:vf3 claimed 4711 1764162443
 * Loading is strict: anything malformed is refused with errno EINVAL and
 * "<state_dir>/ledger:LINE: what is wrong", never skipped, since a line
 * skipped would be a claim forgotten.  Temporary files left by a writer
 * that was killed are ignored, and removed by the next commit.
 *
 * A vNIC id is 1..VNB_VNIC_ID_MAX-1 characters of [A-Za-z0-9._:-], not
 * starting with '.', '-' or ':' (a lower device name, or "<pf>:vf<N>").
 */
#ifndef VNB_LEDGER_LEDGER_H
#define VNB_LEDGER_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"
#include "conf/conf.h"

/* The most vNICs a ledger holds; it bounds memory and the file size. */
#define VNB_LEDGER_MAX 16384

enum vnb_vnic_state {
	VNB_VNIC_FREE = 0,
	VNB_VNIC_CLAIMED,
	VNB_VNIC_DIRTY,
};

/* "free", "claimed", "dirty"; NULL for an out-of-range value. */
const char *vnb_vnic_state_name(enum vnb_vnic_state s);

struct vnb_ledger_entry {
	char vnic[VNB_VNIC_ID_MAX];
	enum vnb_vnic_state state;
	uint32_t jobid; /* 0 when free */
	time_t since; /* when the state was entered */
};

/* An in-memory copy of the ledger. */
struct vnb_ledger;

/* Lock (exclusive) and load.  Creates state_dir's ledger when missing:
 * state_dir (0755) and ledger.lock (0644) at once, the ledger (0644) at the
 * first commit; a missing ledger loads as empty.  NULL with errno and a
 * message (a corrupt file names its line: EINVAL). */
struct vnb_ledger *vnb_ledger_begin(const char *state_dir, vnb_error_t *err);

/* Write the changes made since begin, atomically and durably; nothing is
 * written when nothing changed.  The lock is kept until vnb_ledger_end().
 * -1 with errno EBADF for a snapshot from vnb_ledger_read(); on any failure
 * the file keeps its old content. */
int vnb_ledger_commit(struct vnb_ledger *l, vnb_error_t *err);

/* Unlock and free; uncommitted changes are dropped.  Accepts NULL. */
void vnb_ledger_end(struct vnb_ledger *l);

/* A consistent snapshot under a shared lock, for readers (vnbctl).  Free it
 * with vnb_ledger_end().  The lock is dropped as soon as the file is loaded;
 * the snapshot cannot be set or committed (EBADF).  Needs only read access.
 * A state_dir without a ledger reads as empty; a missing state_dir is
 * ENOENT. */
struct vnb_ledger *vnb_ledger_read(const char *state_dir, vnb_error_t *err);

size_t vnb_ledger_count(const struct vnb_ledger *l);
const struct vnb_ledger_entry *vnb_ledger_at(const struct vnb_ledger *l,
					     size_t i);
/* NULL when the vNIC has no entry (it is free). */
const struct vnb_ledger_entry *vnb_ledger_find(const struct vnb_ledger *l,
					       const char *vnic);
/* Set a vNIC's state in memory (adds the entry when missing; a free entry
 * may be dropped from the file).  since becomes now when the state or the
 * job changes; setting what is already there changes nothing.  jobid is
 * ignored for VNB_VNIC_FREE.  -1 with errno EINVAL (bad id or state, or
 * jobid 0 for claimed or dirty), EBADF (a snapshot), ENOSPC (more than
 * VNB_LEDGER_MAX entries).  Entries are kept sorted by id (strcmp), so a
 * set may move the entries that vnb_ledger_at() and _find() returned. */
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
 * gets the same vNICs back, first.
 * The exact EBUSY message: "only K of the N vNICs of this node are free for
 * job J (M claimed by other jobs, D dirty awaiting scrub)", N being
 * ncandidates and K counting the job's own claims.  A job holding more of
 * the candidates than n gets the first n; the others stay claimed.  -1 with errno EINVAL
 * and a message, before the disk is touched, for jobid 0, n 0,
 * n > ncandidates, ncandidates > VNB_LEDGER_MAX, an invalid id or an id
 * listed twice.  claimed is written only on success, each name padded with
 * NULs to VNB_VNIC_ID_MAX (as are release's vnics). */
int vnb_ledger_claim(const char *state_dir, uint32_t jobid,
		     const char (*candidates)[VNB_VNIC_ID_MAX],
		     size_t ncandidates, size_t n,
		     char (*claimed)[VNB_VNIC_ID_MAX], vnb_error_t *err);

/* Every vNIC claimed by jobid becomes dirty.  The names are copied to
 * vnics (up to max) and their number to *count (both may be NULL/0).
 * A job holding nothing is not an error.
 * The names are those of every vNIC of the job that is now dirty, whether
 * this call or an earlier one released it, so that an epilog run twice
 * still scrubs what the first run did not; sorted by id.  *count may exceed
 * max.  EINVAL for jobid 0. */
int vnb_ledger_release(const char *state_dir, uint32_t jobid,
		       char (*vnics)[VNB_VNIC_ID_MAX], size_t max,
		       size_t *count, vnb_error_t *err);

/* A dirty vNIC of jobid was scrubbed: it becomes free.  -1 with errno
 * ESTALE when the vNIC is no longer dirty for that job (someone else
 * already freed it; also, rarely, when the process that committed this
 * very call for us was killed before it could tell us), EINVAL for jobid 0
 * or an invalid id. */
int vnb_ledger_scrubbed(const char *state_dir, const char *vnic, uint32_t jobid,
			vnb_error_t *err);

#endif
