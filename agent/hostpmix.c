#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pmix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent/hostpmix.h"
#include "common/fileio.h"
#include "common/util.h"
#include "cred/cred.h"

struct vnb_hostpmix {
	pmix_proc_t me;
	uint32_t nnodes, mynode;
	uint32_t *first; /* the lowest rank of each node */
	int qlock; /* the queue set's lock, -1 when none */
	int pipe[2]; /* a fence's end: its status */
	/* the fence under way */
	uint32_t seq, flags;
	uint8_t *blob; /* the VM's, for the leader */
	uint32_t len;
};

static int pmix_fail(vnb_error_t *err, const char *what, pmix_status_t rc)
{
	errno = rc == PMIX_ERR_UNREACH ? ENOTCONN : EIO;
	return vnb_errprintf(err, "%s: %s", what, PMIx_Error_string(rc));
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Append to a growing string; -1 when out of memory. */
static int cat(char **s, size_t *len, size_t *cap, const char *add)
{
	size_t n = strlen(add);

	if (*len + n + 1 > *cap) {
		size_t c = (*len + n + 1) * 2;
		char *t = realloc(*s, c);

		if (!t)
			return -1;
		*s = t;
		*cap = c;
	}
	memcpy(*s + *len, add, n + 1);
	*len += n;
	return 0;
}

/* The step's nodes (in Slurm's order) and ranks per node, as PMIX_JOB
 * says them. */
static int layout(struct vnb_hostpmix *h, struct vnb_pmix_job *j,
		  vnb_error_t *err)
{
	char *nodes = NULL, *ppn = NULL, *save = NULL, *w, num[16];
	size_t plen = 0, pcap = 0, k;
	pmix_proc_t wild, *procs = NULL;
	pmix_value_t *v = NULL;
	uint32_t *ranks = NULL;
	pmix_status_t rc;
	int res = -1;

	PMIX_LOAD_PROCID(&wild, h->me.nspace, PMIX_RANK_WILDCARD);
	rc = PMIx_Get(&wild, PMIX_JOB_SIZE, NULL, 0, &v);
	if (rc != PMIX_SUCCESS || v->type != PMIX_UINT32) {
		pmix_fail(err, "PMIx_Get(job size) from Slurm",
			  rc ? rc : PMIX_ERR_TYPE_MISMATCH);
		goto out;
	}
	j->size = v->data.uint32;
	rc = PMIx_Resolve_nodes(h->me.nspace, &nodes);
	if (rc != PMIX_SUCCESS || !nodes) {
		pmix_fail(err, "PMIx_Resolve_nodes from Slurm",
			  rc ? rc : PMIX_ERR_NOT_FOUND);
		goto out;
	}
	j->nodes = strdup(nodes);
	h->first = calloc(j->size, sizeof(*h->first));
	ranks = calloc(j->size, sizeof(*ranks));
	if (!j->nodes || !h->first || !ranks)
		goto nomem;
	h->mynode = UINT32_MAX;
	for (w = strtok_r(nodes, ",", &save); w;
	     w = strtok_r(NULL, ",", &save)) {
		size_t n = 0;

		rc = PMIx_Resolve_peers(w, h->me.nspace, &procs, &n);
		if (rc != PMIX_SUCCESS || n == 0 || n > j->size) {
			pmix_fail(err, "PMIx_Resolve_peers from Slurm",
				  rc ? rc : PMIX_ERR_NOT_FOUND);
			goto out;
		}
		for (k = 0; k < n; k++)
			ranks[k] = procs[k].rank;
		PMIX_PROC_FREE(procs, n);
		procs = NULL;
		qsort(ranks, n, sizeof(*ranks), cmp_u32);
		if (h->nnodes && cat(&ppn, &plen, &pcap, ";") < 0)
			goto nomem;
		for (k = 0; k < n; k++) {
			snprintf(num, sizeof(num), "%s%u", k ? "," : "",
				 ranks[k]);
			if (cat(&ppn, &plen, &pcap, num) < 0)
				goto nomem;
			if (ranks[k] == h->me.rank)
				h->mynode = h->nnodes;
		}
		if (h->nnodes < j->size)
			h->first[h->nnodes] = ranks[0];
		h->nnodes++;
	}
	if (h->mynode == UINT32_MAX || !ppn) {
		errno = EIO;
		vnb_errprintf(err, "Slurm's PMIx puts rank %u on no node",
			      h->me.rank);
		goto out;
	}
	j->ppn = ppn;
	ppn = NULL;
	j->nodeid = h->mynode;
	res = 0;
	goto out;
nomem:
	errno = ENOMEM;
	vnb_errprintf(err, "out of memory");
out:
	if (v)
		PMIX_VALUE_RELEASE(v);
	free(nodes);
	free(ppn);
	free(ranks);
	return res;
}

/* How many ranks of the step run on this node. */
static uint32_t local_count(const struct vnb_pmix_job *j)
{
	const char *p = j->ppn;
	uint32_t node = 0, n = 1;

	for (; *p; p++) {
		if (*p == ';')
			node++;
		else if (*p == ',' && node == j->nodeid)
			n++;
	}
	return n;
}

static const char *env_or(const char *name)
{
	const char *v = getenv(name);

	return v ? v : "?";
}

/* Take a queue set of the job for the task, and its credential. */
static int take_qset(struct vnb_hostpmix *h, const char *dir,
		     struct vnb_pmix_job *j, uint32_t localid, vnb_error_t *err)
{
	char path[PATH_MAX], *text;
	const char *step = getenv("SLURM_STEP_ID");
	unsigned nq, k, i;
	uint32_t nlocal = local_count(j);
	struct vnb_cred c;
	uint64_t sid = 0;
	size_t len = 0;

	nq = vnb_file_count_seq(dir, "qset.", "");
	if (nq == 0)
		return 0; /* a job without queue sets: no vnb.cred */
	if (nlocal > nq) {
		/* the plugin refuses such a step at launch; should one get
		 * here anyway, its tasks run without a queue set and libvnb
		 * says why when it looks for one (vnb.cred.none) */
		snprintf(j->nocred, sizeof(j->nocred),
			 "step %s.%s runs %u tasks on %s but the job has %u "
			 "queue sets there (vnics x queues); ask for more with "
			 "--vnic-bypass=vnics=N or run fewer tasks per node",
			 env_or("SLURM_JOB_ID"), env_or("SLURM_STEP_ID"),
			 nlocal, env_or("SLURMD_NODENAME"), nq);
		return 0;
	}
	for (k = 0; k < nq; k++) {
		int fd;

		i = (localid + k) % nq;
		snprintf(path, sizeof(path), "%s/qset.%u.lock", dir, i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			h->qlock = fd;
			break;
		}
		close(fd);
	}
	if (h->qlock < 0) {
		errno = ENOSPC;
		return vnb_errprintf(err,
				     "all %u queue sets of the job on this "
				     "node are taken by other tasks",
				     nq);
	}
	snprintf(path, sizeof(path), "%s/qset.%u", dir, i);
	text = vnb_file_read(AT_FDCWD, path, 4096, &len, err);
	if (!text)
		return -1;
	text[strcspn(text, "\n")] = '\0';
	if (vnb_cred_decode(text, &c, err) < 0) {
		free(text);
		return vnb_errprefix(err, "%s", path);
	}
	free(text);
	if (step)
		vnb_parse_u64(step, 0, UINT32_MAX, &sid);
	c.step = (uint32_t)sid;
	c.rank = j->rank;
	if (vnb_cred_encode(&c, j->cred, sizeof(j->cred)) < 0)
		return vnb_errprintf(err, "cannot encode the credential");
	return 0;
}

struct vnb_hostpmix *vnb_hostpmix_open(const char *run_dir,
				       struct vnb_pmix_job *j, vnb_error_t *err)
{
	struct vnb_hostpmix *h = calloc(1, sizeof(*h));
	const char *lid = getenv("SLURM_LOCALID");
	uint64_t localid = 0;
	pmix_status_t rc;

	memset(j, 0, sizeof(*j));
	if (!h) {
		errno = ENOMEM;
		vnb_errprintf(err, "out of memory");
		return NULL;
	}
	h->qlock = h->pipe[0] = h->pipe[1] = -1;
	if (pipe2(h->pipe, O_CLOEXEC) < 0) {
		vnb_errprintf(err, "pipe: %s", strerror(errno));
		free(h);
		return NULL;
	}
	rc = PMIx_Init(&h->me, NULL, 0);
	if (rc != PMIX_SUCCESS) {
		pmix_fail(err, "PMIx_Init with Slurm's PMIx server", rc);
		errno = ENOTCONN;
		close(h->pipe[0]);
		close(h->pipe[1]);
		free(h);
		return NULL;
	}
	snprintf(j->nspace, sizeof(j->nspace), "%s", h->me.nspace);
	j->rank = h->me.rank;
	if (lid)
		vnb_parse_u64(lid, 0, UINT32_MAX, &localid);
	if (layout(h, j, err) < 0 ||
	    take_qset(h, run_dir, j, (uint32_t)localid, err) < 0) {
		int e = errno;

		vnb_proto_pmix_job_free(j);
		vnb_hostpmix_close(h);
		errno = e;
		return NULL;
	}
	return h;
}

void vnb_hostpmix_close(struct vnb_hostpmix *h)
{
	if (!h)
		return;
	PMIx_Finalize(NULL, 0);
	if (h->qlock >= 0)
		close(h->qlock);
	close(h->pipe[0]);
	close(h->pipe[1]);
	free(h->first);
	free(h->blob);
	free(h);
}

int vnb_hostpmix_fd(const struct vnb_hostpmix *h)
{
	return h->pipe[0];
}

static void fence_cb(pmix_status_t st, void *cbdata)
{
	struct vnb_hostpmix *h = cbdata;
	int32_t s = st;

	if (write(h->pipe[1], &s, sizeof(s)) < 0)
		return;
}

int vnb_hostpmix_fence(struct vnb_hostpmix *h, const struct vnb_fence *f,
		       vnb_error_t *err)
{
	bool collect = f->flags & VNB_FENCE_COLLECT;
	pmix_info_t info;
	pmix_status_t rc;
	char key[64];

	free(h->blob);
	h->blob = NULL;
	h->seq = f->seq;
	h->flags = f->flags;
	h->len = f->len;
	if ((f->flags & VNB_FENCE_LEADER) && collect) {
		pmix_value_t v;

		/* 'v' first: a blob may be empty, a byte object not */
		h->blob = malloc((size_t)f->len + 1);
		if (!h->blob) {
			errno = ENOMEM;
			return vnb_errprintf(err, "out of memory");
		}
		h->blob[0] = 'v';
		if (f->len)
			memcpy(h->blob + 1, f->data, f->len);
		snprintf(key, sizeof(key), "vnb.f.%u", f->seq);
		v.type = PMIX_BYTE_OBJECT;
		v.data.bo.bytes = (char *)h->blob;
		v.data.bo.size = (size_t)f->len + 1;
		rc = PMIx_Put(PMIX_GLOBAL, key, &v);
		if (rc == PMIX_SUCCESS)
			rc = PMIx_Commit();
		if (rc != PMIX_SUCCESS)
			return pmix_fail(err, "PMIx_Put of the VM's fence blob",
					 rc);
	}
	PMIX_INFO_CONSTRUCT(&info);
	PMIX_INFO_LOAD(&info, PMIX_COLLECT_DATA, &collect, PMIX_BOOL);
	rc = PMIx_Fence_nb(NULL, 0, &info, 1, fence_cb, h);
	PMIX_INFO_DESTRUCT(&info);
	if (rc != PMIX_SUCCESS)
		return pmix_fail(err, "PMIx_Fence_nb in Slurm", rc);
	return 0;
}

int vnb_hostpmix_fence_done(struct vnb_hostpmix *h, uint32_t chan,
			    uint8_t **msg, size_t *len)
{
	struct vnb_fence d = {h->seq, h->flags & VNB_FENCE_LEADER, 0, NULL, 0};
	uint8_t *all = NULL;
	size_t alen = 0, cap;
	int32_t st;
	uint32_t k;
	int n;

	if (read(h->pipe[0], &st, sizeof(st)) != (ssize_t)sizeof(st))
		return -1;
	d.status = st;
	if (st == PMIX_SUCCESS && (h->flags & VNB_FENCE_LEADER) &&
	    (h->flags & VNB_FENCE_COLLECT)) {
		char key[64];

		snprintf(key, sizeof(key), "vnb.f.%u", h->seq);
		for (k = 0; k < h->nnodes && d.status == PMIX_SUCCESS; k++) {
			pmix_value_t *v = NULL;
			const uint8_t *b;
			size_t bl;
			pmix_proc_t p;
			uint8_t *t;

			if (k == h->mynode) {
				b = h->blob + 1;
				bl = h->len;
			} else {
				PMIX_LOAD_PROCID(&p, h->me.nspace, h->first[k]);
				d.status = PMIx_Get(&p, key, NULL, 0, &v);
				if (d.status != PMIX_SUCCESS)
					break;
				if (v->type != PMIX_BYTE_OBJECT ||
				    v->data.bo.size < 1) {
					d.status = PMIX_ERR_TYPE_MISMATCH;
					PMIX_VALUE_RELEASE(v);
					break;
				}
				b = (const uint8_t *)v->data.bo.bytes + 1;
				bl = v->data.bo.size - 1;
			}
			t = realloc(all, alen + bl + 1);
			if (!t) {
				d.status = PMIX_ERR_NOMEM;
			} else {
				all = t;
				if (bl)
					memcpy(all + alen, b, bl);
				alen += bl;
			}
			if (v)
				PMIX_VALUE_RELEASE(v);
		}
		if (d.status == PMIX_SUCCESS) {
			d.data = all;
			d.len = (uint32_t)alen;
		}
	}
	cap = VNB_PROTO_HDR_LEN + 64 + d.len;
	*msg = malloc(cap);
	n = *msg ? vnb_proto_encode_fence(*msg, cap, VNB_MSG_FENCE_DONE, chan,
					  &d)
		 : -1;
	if (n < 0 && *msg) {
		/* too big for a message: the fence fails */
		d.status = PMIX_ERR_BAD_PARAM;
		d.data = NULL;
		d.len = 0;
		n = vnb_proto_encode_fence(*msg, cap, VNB_MSG_FENCE_DONE, chan,
					   &d);
	}
	free(all);
	free(h->blob);
	h->blob = NULL;
	if (n < 0) {
		free(*msg);
		*msg = NULL;
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

void vnb_hostpmix_abort(struct vnb_hostpmix *h, int status, const char *text)
{
	(void)h;
	PMIx_Abort(status ? status : 1, text, NULL, 0);
}
