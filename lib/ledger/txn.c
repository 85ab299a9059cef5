/*
 * txn.c - the three transactions the prolog and epilog run: claim,
 * release, scrubbed.
 *
 * Each validates its arguments before it touches the disk, then goes
 * through the board (board.c), where the process that holds the ledger
 * lock applies every transaction posted meanwhile in one commit.  A
 * request the board cannot carry runs alone: begin, change in memory,
 * commit (which writes nothing when nothing changed), end.  Both paths
 * apply the same in-memory functions below.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_int.h"

/* Copy an id and zero the rest, so that callers compare whole arrays. */
static void copy_id(char *dst, const char *src)
{
	size_t len = strnlen(src, VNB_VNIC_ID_MAX - 1);

	memcpy(dst, src, len);
	memset(dst + len, 0, VNB_VNIC_ID_MAX - len);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_candidates(const char (*c)[VNB_VNIC_ID_MAX], size_t nc,
			    vnb_error_t *err)
{
	const char **sorted;
	size_t i;

	for (i = 0; i < nc; i++) {
		if (!memchr(c[i], '\0', VNB_VNIC_ID_MAX) ||
		    !vnb_ledger_vnic_valid(c[i])) {
			errno = EINVAL;
			return vnb_errprintf(err,
					     "candidate %zu: '%.*s' is not a "
					     "valid vNIC id (up to %d of "
					     "A-Z a-z 0-9 . _ - :)",
					     i + 1, VNB_VNIC_ID_MAX - 1, c[i],
					     VNB_VNIC_ID_MAX - 1);
		}
	}
	sorted = malloc(nc * sizeof(*sorted));
	if (!sorted)
		return vnb_errprintf(err, "out of memory");
	for (i = 0; i < nc; i++)
		sorted[i] = c[i];
	qsort(sorted, nc, sizeof(*sorted), cmp_str);
	for (i = 1; i < nc; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			break;
	if (i < nc) {
		errno = EINVAL;
		vnb_errprintf(err, "candidate vNIC %s is listed twice",
			      sorted[i]);
		free(sorted);
		return -1;
	}
	free(sorted);
	return 0;
}

static int check_claim(uint32_t jobid,
		       const char (*candidates)[VNB_VNIC_ID_MAX],
		       size_t ncandidates, size_t n, vnb_error_t *err)
{
	errno = EINVAL;
	if (jobid == 0)
		return vnb_errprintf(err, "claim: job id 0 is not a job");
	if (n == 0)
		return vnb_errprintf(err, "claim: job %u asks for no vNIC",
				     jobid);
	if (!candidates)
		return vnb_errprintf(err, "claim: no candidates");
	if (n > ncandidates)
		return vnb_errprintf(err,
				     "claim: job %u asks for %zu vNICs but "
				     "this node offers %zu",
				     jobid, n, ncandidates);
	if (ncandidates > VNB_LEDGER_MAX)
		return vnb_errprintf(err,
				     "claim: %zu candidates, more than the "
				     "%d a ledger holds",
				     ncandidates, VNB_LEDGER_MAX);
	return check_candidates(candidates, ncandidates, err);
}

static int check_scrubbed(const char *vnic, uint32_t jobid, vnb_error_t *err)
{
	errno = EINVAL;
	if (jobid == 0)
		return vnb_errprintf(err, "scrubbed: job id 0 is not a job");
	if (!vnb_ledger_vnic_valid(vnic)) /* reads at most the id size */
		return vnb_errprintf(err,
				     "scrubbed: '%.*s' is not a valid vNIC id",
				     VNB_VNIC_ID_MAX - 1, vnic ? vnic : "");
	return 0;
}

/* Claim in memory; the indices of the vNICs into pick[0..n-1]. */
static int claim_in(struct vnb_ledger *l, uint32_t jobid,
		    const char (*candidates)[VNB_VNIC_ID_MAX],
		    size_t ncandidates, size_t n, size_t *pick,
		    vnb_error_t *err)
{
	size_t own = 0, nfree = 0, other = 0, dirty = 0, k = 0, kown, i;

	/* The job's own claims first: a prolog run twice gets them back. */
	for (i = 0; i < ncandidates; i++) {
		const struct vnb_ledger_entry *e =
		    vnb_ledger_find(l, candidates[i]);

		if (!e) {
			nfree++;
		} else if (e->state == VNB_VNIC_CLAIMED && e->jobid == jobid) {
			if (k < n)
				pick[k++] = i;
			own++;
		} else if (e->state == VNB_VNIC_CLAIMED) {
			other++;
		} else {
			dirty++;
		}
	}
	if (own + nfree < n) {
		errno = EBUSY;
		return vnb_errprintf(err,
				     "only %zu of the %zu vNICs of this node "
				     "are free for job %u (%zu claimed by "
				     "other jobs, %zu dirty awaiting scrub)",
				     own + nfree, ncandidates, jobid, other,
				     dirty);
	}
	kown = k;
	for (i = 0; i < ncandidates && k < n; i++)
		if (!vnb_ledger_find(l, candidates[i]))
			pick[k++] = i;
	/* all or nothing: make room first, so that no set below fails */
	if (vnb_ledger_reserve(l, n - kown) < 0)
		return vnb_errprintf(err, "%s: cannot add %zu vNICs: %s",
				     vnb_ledger_path(l), n - kown,
				     strerror(errno));
	for (i = kown; i < n; i++)
		vnb_ledger_set(l, candidates[pick[i]], VNB_VNIC_CLAIMED, jobid);
	return 0;
}

static void release_in(struct vnb_ledger *l, uint32_t jobid)
{
	size_t i;

	for (i = 0; i < vnb_ledger_count(l); i++) {
		/* ours to change: the ledger is begun, not a snapshot */
		struct vnb_ledger_entry *e =
		    (struct vnb_ledger_entry *)vnb_ledger_at(l, i);

		if (e->jobid == jobid && e->state == VNB_VNIC_CLAIMED) {
			e->state = VNB_VNIC_DIRTY;
			e->since = time(NULL);
			vnb_ledger_touch(l);
		}
	}
}

/* The vNICs of jobid, up to max of them into names; how many in all. */
static size_t names_of(const struct vnb_ledger *l, uint32_t jobid,
		       char (*names)[VNB_VNIC_ID_MAX], size_t max)
{
	size_t i, k = 0;

	for (i = 0; i < vnb_ledger_count(l); i++) {
		const struct vnb_ledger_entry *e = vnb_ledger_at(l, i);

		if (e->jobid != jobid)
			continue;
		if (k < max)
			copy_id(names[k], e->vnic);
		k++;
	}
	return k;
}

static int scrubbed_in(struct vnb_ledger *l, const char *vnic, uint32_t jobid,
		       vnb_error_t *err)
{
	const struct vnb_ledger_entry *e = vnb_ledger_find(l, vnic);

	errno = ESTALE;
	if (!e)
		return vnb_errprintf(err,
				     "vNIC %s is already free, not dirty for "
				     "job %u",
				     vnic, jobid);
	if (e->state == VNB_VNIC_CLAIMED)
		return vnb_errprintf(err,
				     "vNIC %s is claimed by job %u, not dirty "
				     "for job %u; release the job first",
				     vnic, e->jobid, jobid);
	if (e->jobid != jobid)
		return vnb_errprintf(err,
				     "vNIC %s is dirty for job %u, not job %u",
				     vnic, e->jobid, jobid);
	return vnb_ledger_set(l, vnic, VNB_VNIC_FREE, 0);
}

void vnb_ledger_apply(struct vnb_ledger *l, const struct vnb_ledger_req *req,
		      struct vnb_ledger_res *res)
{
	size_t pick[VNB_LEDGER_REQ_CAND], i;
	int rc = -1;

	res->count = 0;
	res->err.text[0] = '\0';
	switch (req->op) {
	case VNB_LEDGER_OP_CLAIM:
		if (req->ncand > VNB_LEDGER_REQ_CAND) {
			errno = EINVAL;
			vnb_errprintf(&res->err, "claim: too many candidates");
			break;
		}
		if (check_claim(req->jobid, req->cand, req->ncand, req->n,
				&res->err) < 0 ||
		    claim_in(l, req->jobid, req->cand, req->ncand, req->n, pick,
			     &res->err) < 0)
			break;
		for (i = 0; i < req->n; i++)
			res->pick[i] = (uint16_t)pick[i];
		res->count = req->n;
		rc = 0;
		break;
	case VNB_LEDGER_OP_RELEASE:
		if (req->jobid == 0) {
			errno = EINVAL;
			vnb_errprintf(&res->err, "release: job id 0 is not a "
						 "job");
			break;
		}
		release_in(l, req->jobid);
		res->count = (uint32_t)names_of(l, req->jobid, res->names,
						req->max < VNB_LEDGER_REQ_NAMES
						    ? req->max
						    : VNB_LEDGER_REQ_NAMES);
		rc = 0;
		break;
	case VNB_LEDGER_OP_SCRUBBED:
		if (check_scrubbed(req->vnic, req->jobid, &res->err) < 0)
			break;
		rc = scrubbed_in(l, req->vnic, req->jobid, &res->err);
		break;
	default:
		errno = EINVAL;
		vnb_errprintf(&res->err, "unknown ledger request %u", req->op);
		break;
	}
	res->rc = rc;
	res->err_no = rc < 0 ? errno : 0;
}

/* Run req through the board.  1 when it did not take it: run it alone. */
static int board(const char *state_dir, struct vnb_ledger_req *req,
		 struct vnb_ledger_res *res, vnb_error_t *err)
{
	if (vnb_ledger_board_run(state_dir, req, res) < 0)
		return 1;
	if (res->rc < 0) {
		if (err)
			*err = res->err;
		errno = res->err_no;
		return -1;
	}
	return 0;
}

static struct vnb_ledger_req *new_req(uint32_t op, uint32_t jobid,
				      struct vnb_ledger_res **res)
{
	struct vnb_ledger_req *req = calloc(1, sizeof(*req));

	*res = malloc(sizeof(**res));
	if (!req || !*res) {
		free(req);
		free(*res);
		*res = NULL;
		return NULL;
	}
	req->op = op;
	req->jobid = jobid;
	return req;
}

int vnb_ledger_claim(const char *state_dir, uint32_t jobid,
		     const char (*candidates)[VNB_VNIC_ID_MAX],
		     size_t ncandidates, size_t n,
		     char (*claimed)[VNB_VNIC_ID_MAX], vnb_error_t *err)
{
	struct vnb_ledger_req *req = NULL;
	struct vnb_ledger_res *res = NULL;
	struct vnb_ledger *l = NULL;
	size_t *pick = NULL, i;
	int rc;

	if (check_claim(jobid, candidates, ncandidates, n, err) < 0)
		return -1;
	if (!claimed) {
		errno = EINVAL;
		return vnb_errprintf(err, "claim: no room for the result");
	}
	if (ncandidates <= VNB_LEDGER_REQ_CAND &&
	    (req = new_req(VNB_LEDGER_OP_CLAIM, jobid, &res))) {
		req->n = (uint32_t)n;
		req->ncand = (uint32_t)ncandidates;
		for (i = 0; i < ncandidates; i++)
			copy_id(req->cand[i], candidates[i]);
		rc = board(state_dir, req, res, err);
		for (i = 0; rc == 0 && i < n; i++)
			copy_id(claimed[i], candidates[res->pick[i]]);
		free(req);
		free(res);
		if (rc <= 0)
			return rc;
	}
	rc = -1;
	pick = malloc(n * sizeof(*pick));
	if (!pick)
		return vnb_errprintf(err, "out of memory");
	l = vnb_ledger_begin(state_dir, err);
	if (!l ||
	    claim_in(l, jobid, candidates, ncandidates, n, pick, err) < 0 ||
	    vnb_ledger_commit(l, err) < 0)
		goto out;
	for (i = 0; i < n; i++)
		copy_id(claimed[i], candidates[pick[i]]);
	rc = 0;
out:
	vnb_ledger_end(l);
	free(pick);
	return rc;
}

int vnb_ledger_release(const char *state_dir, uint32_t jobid,
		       char (*vnics)[VNB_VNIC_ID_MAX], size_t max,
		       size_t *count, vnb_error_t *err)
{
	struct vnb_ledger_req *req;
	struct vnb_ledger_res *res;
	struct vnb_ledger *l;
	size_t k, i;
	int rc;

	if (jobid == 0) {
		errno = EINVAL;
		return vnb_errprintf(err, "release: job id 0 is not a job");
	}
	if (!vnics)
		max = 0;
	if (max <= VNB_LEDGER_REQ_NAMES &&
	    (req = new_req(VNB_LEDGER_OP_RELEASE, jobid, &res))) {
		req->max = (uint32_t)max;
		rc = board(state_dir, req, res, err);
		for (i = 0; rc == 0 && i < max && i < res->count; i++)
			copy_id(vnics[i], res->names[i]);
		if (rc == 0 && count)
			*count = res->count;
		free(req);
		free(res);
		if (rc <= 0)
			return rc;
	}
	l = vnb_ledger_begin(state_dir, err);
	if (!l)
		return -1;
	release_in(l, jobid);
	rc = vnb_ledger_commit(l, err);
	if (rc == 0) {
		k = names_of(l, jobid, vnics, max);
		if (count)
			*count = k;
	}
	vnb_ledger_end(l);
	return rc;
}

int vnb_ledger_scrubbed(const char *state_dir, const char *vnic, uint32_t jobid,
			vnb_error_t *err)
{
	struct vnb_ledger_req *req;
	struct vnb_ledger_res *res;
	struct vnb_ledger *l;
	int rc;

	if (check_scrubbed(vnic, jobid, err) < 0)
		return -1;
	if ((req = new_req(VNB_LEDGER_OP_SCRUBBED, jobid, &res))) {
		copy_id(req->vnic, vnic);
		rc = board(state_dir, req, res, err);
		free(req);
		free(res);
		if (rc <= 0)
			return rc;
	}
	l = vnb_ledger_begin(state_dir, err);
	if (!l)
		return -1;
	rc = scrubbed_in(l, vnic, jobid, err);
	if (rc == 0)
		rc = vnb_ledger_commit(l, err);
	vnb_ledger_end(l);
	return rc;
}
