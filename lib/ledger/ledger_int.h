/*
 * ledger_int.h - what ledger.c (the object and its file) shares with
 * txn.c (the claim, release and scrubbed transactions).  Not installed.
 */
#ifndef VNB_LEDGER_LEDGER_INT_H
#define VNB_LEDGER_LEDGER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"

/* 1..VNB_VNIC_ID_MAX-1 characters of [A-Za-z0-9._:-], not starting with
 * '.', '-' or ':'.  No space, so that the file stays one field per word. */
bool vnb_ledger_vnic_valid(const char *s);

/* vnb_ledger_begin() in three steps, so that a process can wait for the
 * lock and decide then whether it needs the file: open (creating the state
 * directory and lock file), lock (exclusive), load. */
struct vnb_ledger *vnb_ledger_open(const char *state_dir, vnb_error_t *err);
int vnb_ledger_lock(struct vnb_ledger *l, vnb_error_t *err);
int vnb_ledger_load(struct vnb_ledger *l, vnb_error_t *err);
/* The lock without waiting: -1 with errno EWOULDBLOCK when it is held. */
int vnb_ledger_trylock(struct vnb_ledger *l);

/* The state directory, open; valid until vnb_ledger_end(). */
int vnb_ledger_dirfd(const struct vnb_ledger *l);

/* Room for more entries, so that the sets that follow cannot fail:
 * -1 with errno ENOSPC (past VNB_LEDGER_MAX) or ENOMEM. */
int vnb_ledger_reserve(struct vnb_ledger *l, size_t more);

/* Mark the ledger changed so that the next commit writes it. */
void vnb_ledger_touch(struct vnb_ledger *l);

/* The path that messages call the ledger file. */
const char *vnb_ledger_path(const struct vnb_ledger *l);

/*
 * One transaction as data, so that one process can apply the transactions
 * of others (board.c).  Only requests that fit are carried this way.
 */
#define VNB_LEDGER_REQ_CAND 256 /* candidates of a claim */
#define VNB_LEDGER_REQ_NAMES 64 /* names a release reports */

enum vnb_ledger_op {
	VNB_LEDGER_OP_CLAIM = 1,
	VNB_LEDGER_OP_RELEASE,
	VNB_LEDGER_OP_SCRUBBED,
};

struct vnb_ledger_req {
	uint32_t op; /* enum vnb_ledger_op */
	uint32_t jobid;
	uint32_t n, ncand; /* claim */
	uint32_t max; /* release: names wanted, <= VNB_LEDGER_REQ_NAMES */
	char vnic[VNB_VNIC_ID_MAX]; /* scrubbed */
	char cand[VNB_LEDGER_REQ_CAND][VNB_VNIC_ID_MAX];
};

struct vnb_ledger_res {
	int32_t rc, err_no;
	uint32_t count; /* claim: n; release: every vNIC of the job */
	uint16_t pick[VNB_LEDGER_REQ_CAND]; /* claim: indices into cand */
	char names[VNB_LEDGER_REQ_NAMES][VNB_VNIC_ID_MAX]; /* release */
	vnb_error_t err;
};

/* Apply req to a loaded, locked ledger, in memory.  On failure (res->rc
 * -1, res->err_no, res->err) the ledger is as it was. */
void vnb_ledger_apply(struct vnb_ledger *l, const struct vnb_ledger_req *req,
		      struct vnb_ledger_res *res);

/* Run req through the board: post it, wait for the ledger lock, and either
 * find it applied by the process that held the lock, or apply it together
 * with every request posted meanwhile, in one commit.  0 when res holds
 * the outcome; -1 when the board cannot take the request, and nothing was
 * done: the caller runs it alone. */
int vnb_ledger_board_run(const char *state_dir,
			 const struct vnb_ledger_req *req,
			 struct vnb_ledger_res *res);

#endif
