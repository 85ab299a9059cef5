/*
 * txn.c - the three transactions the prolog and epilog run: claim,
 * release, scrubbed.  Each validates its arguments before it touches the
 * disk, then begins, changes in memory, commits (which writes nothing when
 * nothing changed) and ends.
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

int vnb_ledger_claim(const char *state_dir, uint32_t jobid,
		     const char (*candidates)[VNB_VNIC_ID_MAX],
		     size_t ncandidates, size_t n,
		     char (*claimed)[VNB_VNIC_ID_MAX], vnb_error_t *err)
{
	struct vnb_ledger *l = NULL;
	size_t *pick = NULL;
	size_t own = 0, nfree = 0, other = 0, dirty = 0, k = 0, kown, i;
	int rc = -1;

	errno = EINVAL;
	if (jobid == 0)
		return vnb_errprintf(err, "claim: job id 0 is not a job");
	if (n == 0)
		return vnb_errprintf(err, "claim: job %u asks for no vNIC",
				     jobid);
	if (!candidates || !claimed)
		return vnb_errprintf(err, "claim: no candidates or no room "
					  "for the result");
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
	if (check_candidates(candidates, ncandidates, err) < 0)
		return -1;
	pick = malloc(n * sizeof(*pick));
	if (!pick)
		return vnb_errprintf(err, "out of memory");
	l = vnb_ledger_begin(state_dir, err);
	if (!l)
		goto out;
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
		vnb_errprintf(
		    err,
		    "only %zu of the %zu vNICs of this node are free "
		    "for job %u (%zu claimed by other jobs, %zu dirty "
		    "awaiting scrub)",
		    own + nfree, ncandidates, jobid, other, dirty);
		goto out;
	}
	kown = k;
	for (i = 0; i < ncandidates && k < n; i++)
		if (!vnb_ledger_find(l, candidates[i]))
			pick[k++] = i;
	for (i = kown; i < n; i++)
		if (vnb_ledger_set(l, candidates[pick[i]], VNB_VNIC_CLAIMED,
				   jobid) < 0) {
			vnb_errprintf(err, "%s: cannot add vNIC %s: %s",
				      vnb_ledger_path(l), candidates[pick[i]],
				      strerror(errno));
			goto out;
		}
	if (vnb_ledger_commit(l, err) < 0)
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
	struct vnb_ledger *l;
	size_t i, k = 0;
	int rc = -1;

	if (jobid == 0) {
		errno = EINVAL;
		return vnb_errprintf(err, "release: job id 0 is not a job");
	}
	if (!vnics)
		max = 0;
	l = vnb_ledger_begin(state_dir, err);
	if (!l)
		return -1;
	for (i = 0; i < vnb_ledger_count(l); i++) {
		/* ours to change: the ledger is begun, not a snapshot */
		struct vnb_ledger_entry *e =
		    (struct vnb_ledger_entry *)vnb_ledger_at(l, i);

		if (e->jobid != jobid)
			continue;
		if (e->state == VNB_VNIC_CLAIMED) {
			e->state = VNB_VNIC_DIRTY;
			e->since = time(NULL);
			vnb_ledger_touch(l);
		}
		k++;
	}
	if (vnb_ledger_commit(l, err) < 0)
		goto out;
	for (i = 0, k = 0; i < vnb_ledger_count(l); i++) {
		const struct vnb_ledger_entry *e = vnb_ledger_at(l, i);

		if (e->jobid != jobid)
			continue;
		if (k < max)
			copy_id(vnics[k], e->vnic);
		k++;
	}
	if (count)
		*count = k;
	rc = 0;
out:
	vnb_ledger_end(l);
	return rc;
}

int vnb_ledger_scrubbed(const char *state_dir, const char *vnic, uint32_t jobid,
			vnb_error_t *err)
{
	const struct vnb_ledger_entry *e;
	struct vnb_ledger *l;
	int rc = -1;

	errno = EINVAL;
	if (jobid == 0)
		return vnb_errprintf(err, "scrubbed: job id 0 is not a job");
	if (!vnb_ledger_vnic_valid(vnic))
		return vnb_errprintf(err,
				     "scrubbed: '%.*s' is not a valid vNIC id",
				     VNB_VNIC_ID_MAX, vnic ? vnic : "");
	l = vnb_ledger_begin(state_dir, err);
	if (!l)
		return -1;
	e = vnb_ledger_find(l, vnic);
	errno = ESTALE;
	if (!e) {
		vnb_errprintf(err,
			      "vNIC %s is already free, not dirty for job %u",
			      vnic, jobid);
		goto out;
	}
	if (e->state == VNB_VNIC_CLAIMED) {
		vnb_errprintf(err,
			      "vNIC %s is claimed by job %u, not dirty for "
			      "job %u; release the job first",
			      vnic, e->jobid, jobid);
		goto out;
	}
	if (e->jobid != jobid) {
		vnb_errprintf(err, "vNIC %s is dirty for job %u, not job %u",
			      vnic, e->jobid, jobid);
		goto out;
	}
	if (vnb_ledger_set(l, vnic, VNB_VNIC_FREE, 0) < 0 ||
	    vnb_ledger_commit(l, err) < 0)
		goto out;
	rc = 0;
out:
	vnb_ledger_end(l);
	return rc;
}
