#include "config.h"

#include <errno.h>
#include <pmix.h>
#include <pmix_server.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/pmixsrv.h"
#include "agent/serve.h"
#include "common/util.h"

#define MAX_NODES 65536

/*
 * The server.
 */
struct lrank {
	uint32_t rank;
	struct vnb_chan *c; /* while its task runs */
	bool connected, finalized;
};

struct fence {
	uint32_t seq;
	pmix_modex_cbfunc_t cb;
	void *cbdata;
	struct fence *next;
};

struct ns {
	char name[PMIX_MAX_NSLEN + 1];
	uint32_t size, nlocal, live, seq;
	struct lrank *local; /* in rank order; local[0] leads fences */
	struct fence *pending;
	struct ns *next;
};

/* mu guards the lists and is never held while waiting for libpmix (whose
 * progress thread takes it in the upcalls); reg serialises the starts and
 * ends of tasks, which wait for libpmix. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t reg = PTHREAD_MUTEX_INITIALIZER;
static struct ns *spaces;
static bool server_up;
static char tmpdir[64];

struct wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	pmix_status_t st;
};

static void op_done(pmix_status_t st, void *cbdata)
{
	struct wait *w = cbdata;

	pthread_mutex_lock(&w->mu);
	w->st = st;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Wait for an operation that returned rc (and calls op_done unless rc is
 * not PMIX_SUCCESS). */
static pmix_status_t wait_op(struct wait *w, pmix_status_t rc)
{
	if (rc == PMIX_OPERATION_SUCCEEDED)
		return PMIX_SUCCESS;
	if (rc != PMIX_SUCCESS)
		return rc;
	pthread_mutex_lock(&w->mu);
	while (!w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	return w->st;
}

#define WAIT_INIT                                                              \
	{                                                                      \
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false,    \
		    PMIX_SUCCESS                                               \
	}

/* With mu held. */
static struct ns *ns_find(const char *name)
{
	struct ns *n;

	for (n = spaces; n; n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static struct lrank *lrank_of_chan(struct vnb_chan *c, struct ns **nsp)
{
	struct ns *n;
	uint32_t i;

	for (n = spaces; n; n = n->next)
		for (i = 0; i < n->nlocal; i++)
			if (n->local[i].c == c) {
				*nsp = n;
				return &n->local[i];
			}
	return NULL;
}

static struct lrank *lrank_of_proc(const pmix_proc_t *p, struct ns **nsp)
{
	struct ns *n = ns_find(p->nspace);
	uint32_t i;

	if (!n)
		return NULL;
	for (i = 0; i < n->nlocal; i++)
		if (n->local[i].rank == p->rank) {
			*nsp = n;
			return &n->local[i];
		}
	return NULL;
}

/* A local rank connected to this server, or called PMIx_Finalize. */
static pmix_status_t mark_rank(const pmix_proc_t *p, bool finalized)
{
	struct lrank *l;
	struct ns *n;

	pthread_mutex_lock(&mu);
	l = lrank_of_proc(p, &n);
	if (l && finalized)
		l->finalized = true;
	else if (l)
		l->connected = true;
	pthread_mutex_unlock(&mu);
	return PMIX_OPERATION_SUCCEEDED;
}

static pmix_status_t up_connected(const pmix_proc_t *p, void *obj,
				  pmix_op_cbfunc_t cb, void *cbdata)
{
	(void)obj;
	(void)cb;
	(void)cbdata;
	return mark_rank(p, false);
}

static pmix_status_t up_finalized(const pmix_proc_t *p, void *obj,
				  pmix_op_cbfunc_t cb, void *cbdata)
{
	(void)obj;
	(void)cb;
	(void)cbdata;
	return mark_rank(p, true);
}

/* Post ABORT to the host of l (mu held). */
static void post_abort(struct lrank *l, int status, const char *text)
{
	struct vnb_abort a = {status, ""};
	uint8_t m[512];
	int n;

	if (!l->c)
		return;
	snprintf(a.text, sizeof(a.text), "%s", text);
	n = vnb_proto_encode_abort(m, sizeof(m), l->c->tchan, &a);
	if (n > 0)
		vnb_chan_post(l->c, m, (size_t)n);
}

static pmix_status_t up_abort(const pmix_proc_t *p, void *obj, int status,
			      const char msg[], pmix_proc_t procs[],
			      size_t nprocs, pmix_op_cbfunc_t cb, void *cbdata)
{
	struct lrank *l;
	struct ns *n;
	char text[256];

	(void)obj;
	(void)procs;
	(void)nprocs;
	(void)cb;
	(void)cbdata;
	snprintf(text, sizeof(text), "rank %u called PMIx_Abort(%d): %s",
		 p->rank, status, msg ? msg : "");
	vnb_agent_log("%s: %s", p->nspace, text);
	pthread_mutex_lock(&mu);
	l = lrank_of_proc(p, &n);
	if (l)
		post_abort(l, status ? status : 1, text);
	pthread_mutex_unlock(&mu);
	return PMIX_OPERATION_SUCCEEDED;
}

static pmix_status_t up_fence(const pmix_proc_t procs[], size_t nprocs,
			      const pmix_info_t info[], size_t ninfo,
			      char *data, size_t ndata,
			      pmix_modex_cbfunc_t cbfunc, void *cbdata)
{
	bool collect = false;
	struct fence *f;
	struct ns *n;
	uint32_t i;
	size_t k;

	if (nprocs != 1 || procs[0].rank != PMIX_RANK_WILDCARD)
		return PMIX_ERR_NOT_SUPPORTED; /* a fence on a subset */
	if (ndata > VNB_PROTO_MAX_PAYLOAD - 64)
		return PMIX_ERR_BAD_PARAM;
	for (k = 0; k < ninfo; k++)
		if (PMIX_CHECK_KEY(&info[k], PMIX_COLLECT_DATA) &&
		    PMIX_INFO_TRUE(&info[k]))
			collect = true;
	f = calloc(1, sizeof(*f));
	if (!f)
		return PMIX_ERR_NOMEM;
	pthread_mutex_lock(&mu);
	n = ns_find(procs[0].nspace);
	if (!n) {
		pthread_mutex_unlock(&mu);
		free(f);
		return PMIX_ERR_NOT_FOUND;
	}
	for (i = 0; i < n->nlocal; i++)
		if (!n->local[i].c) {
			pthread_mutex_unlock(&mu);
			free(f);
			return PMIX_ERR_UNREACH;
		}
	f->seq = ++n->seq;
	f->cb = cbfunc;
	f->cbdata = cbdata;
	f->next = n->pending;
	n->pending = f;
	for (i = 0; i < n->nlocal; i++) {
		struct vnb_fence m = {f->seq, collect ? VNB_FENCE_COLLECT : 0,
				      0, NULL, 0};
		size_t cap = VNB_PROTO_HDR_LEN + 64 + (i == 0 ? ndata : 0);
		uint8_t *buf = malloc(cap);
		int len;

		if (i == 0) {
			m.flags |= VNB_FENCE_LEADER;
			m.data = (const uint8_t *)data;
			m.len = (uint32_t)ndata;
		}
		len = buf ? vnb_proto_encode_fence(buf, cap, VNB_MSG_FENCE,
						   n->local[i].c->tchan, &m)
			  : -1;
		if (len > 0)
			vnb_chan_post(n->local[i].c, buf, (size_t)len);
		free(buf);
	}
	pthread_mutex_unlock(&mu);
	return PMIX_SUCCESS;
}

static pmix_status_t up_dmodex(const pmix_proc_t *p, const pmix_info_t info[],
			       size_t ninfo, pmix_modex_cbfunc_t cb,
			       void *cbdata)
{
	(void)p;
	(void)info;
	(void)ninfo;
	(void)cb;
	(void)cbdata;
	return PMIX_ERR_NOT_SUPPORTED;
}

static pmix_server_module_t module = {
    .client_connected = up_connected,
    .client_finalized = up_finalized,
    .abort = up_abort,
    .fence_nb = up_fence,
    .direct_modex = up_dmodex,
};

static void release_blob(void *cbdata)
{
	free(cbdata);
}

void vnb_agent_pmix_fence_done(struct vnb_chan *c, const struct vnb_fence *f)
{
	struct fence **pp, *done = NULL;
	struct lrank *l;
	struct ns *n = NULL;
	char *blob = NULL;

	pthread_mutex_lock(&mu);
	l = lrank_of_chan(c, &n);
	if (l && ((f->flags & VNB_FENCE_LEADER) || f->status != PMIX_SUCCESS))
		for (pp = &n->pending; *pp; pp = &(*pp)->next)
			if ((*pp)->seq == f->seq) {
				done = *pp;
				*pp = done->next;
				break;
			}
	pthread_mutex_unlock(&mu);
	if (!done)
		return;
	if (f->len) {
		blob = malloc(f->len);
		if (blob)
			memcpy(blob, f->data, f->len);
	}
	if (f->len && !blob)
		done->cb(PMIX_ERR_NOMEM, NULL, 0, done->cbdata, NULL, NULL);
	else
		done->cb(f->status, blob, f->len, done->cbdata, release_blob,
			 blob);
	free(done);
}

static int server_start(uint32_t uid, uint32_t gid, vnb_error_t *err)
{
	pmix_info_t *info;
	char host[256] = "";
	pmix_status_t rc;
	bool root = geteuid() == 0;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vnb-pmix.%ld", (long)getpid());
	if (mkdir(tmpdir, 0700) < 0 && errno != EEXIST)
		return vnb_errprintf(err, "cannot make %s: %s", tmpdir,
				     strerror(errno));
	if (root && chown(tmpdir, uid, gid) < 0)
		return vnb_errprintf(err, "cannot give %s to uid %u: %s",
				     tmpdir, uid, strerror(errno));
	gethostname(host, sizeof(host) - 1);
	/* every fence goes through the host: Slurm's needs every rank */
	setenv("PMIX_MCA_pmix_server_fence_localonly_opt", "0", 1);
	PMIX_INFO_CREATE(info, 5);
	PMIX_INFO_LOAD(&info[0], PMIX_SERVER_TMPDIR, tmpdir, PMIX_STRING);
	PMIX_INFO_LOAD(&info[1], PMIX_SYSTEM_TMPDIR, tmpdir, PMIX_STRING);
	PMIX_INFO_LOAD(&info[2], PMIX_HOSTNAME, host, PMIX_STRING);
	PMIX_INFO_LOAD(&info[3], PMIX_USERID, &uid, PMIX_UINT32);
	PMIX_INFO_LOAD(&info[4], PMIX_GRPID, &gid, PMIX_UINT32);
	rc = PMIx_server_init(&module, info, root ? 5 : 3);
	PMIX_INFO_FREE(info, 5);
	if (rc != PMIX_SUCCESS) {
		errno = EIO;
		return vnb_errprintf(err, "PMIx_server_init: %s",
				     PMIx_Error_string(rc));
	}
	server_up = true;
	return 0;
}

/* Append "a,b,c" of the ranks r with node_of[r] == node. */
static char *peers_of(const uint32_t *node_of, uint32_t size, uint32_t node)
{
	char *s = calloc(1, (size_t)size * 11 + 1);
	size_t len = 0;
	uint32_t r;

	if (!s)
		return NULL;
	for (r = 0; r < size; r++)
		if (node_of[r] == node)
			len +=
			    (size_t)sprintf(s + len, "%s%u", len ? "," : "", r);
	return s;
}

/* The name of node k in the comma-separated list. */
static void node_name(const char *nodes, uint32_t k, char *out, size_t cap)
{
	const char *p = nodes, *e;
	size_t n;

	while (k-- > 0 && (p = strchr(p, ',')) != NULL)
		p++;
	if (!p) {
		snprintf(out, cap, "node%u", k);
		return;
	}
	e = strchr(p, ',');
	n = e ? (size_t)(e - p) : strlen(p);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Register j's namespace (reg held, not mu). */
static struct ns *ns_register(const struct vnb_pmix_job *j, vnb_error_t *err)
{
	uint32_t *node_of = NULL, *local_of = NULL, nnodes = 0, i, r, nl = 0;
	char *nodemap = NULL, *procmap = NULL, *peers = NULL;
	pmix_info_t *info = NULL;
	struct wait w = WAIT_INIT;
	struct ns *n = NULL;
	size_t ni, k = 0;
	pmix_status_t rc;
	bool f = false;
	uint32_t one = 1;

	node_of = calloc(j->size, sizeof(*node_of));
	local_of = calloc(j->size, sizeof(*local_of));
	n = calloc(1, sizeof(*n));
	if (!node_of || !local_of || !n) {
		errno = ENOMEM;
		vnb_errprintf(err, "out of memory");
		goto fail;
	}
	if (vnb_agent_ppn_parse(j->ppn, j->size, MAX_NODES, node_of, local_of,
				&nnodes, err) < 0)
		goto fail;
	if (j->nodeid >= nnodes) {
		errno = EINVAL;
		vnb_errprintf(err, "node id %u of a step on %u nodes",
			      j->nodeid, nnodes);
		goto fail;
	}
	for (r = 0; r < j->size; r++)
		nl += node_of[r] == j->nodeid;
	n->local = calloc(nl, sizeof(*n->local));
	peers = peers_of(node_of, j->size, j->nodeid);
	if (!n->local || !peers) {
		errno = ENOMEM;
		vnb_errprintf(err, "out of memory");
		goto fail;
	}
	for (r = 0, i = 0; r < j->size; r++)
		if (node_of[r] == j->nodeid)
			n->local[i++].rank = r;
	n->nlocal = nl;
	n->size = j->size;
	snprintf(n->name, sizeof(n->name), "%s", j->nspace);
	if ((rc = PMIx_generate_regex(j->nodes, &nodemap)) != PMIX_SUCCESS ||
	    (rc = PMIx_generate_ppn(j->ppn, &procmap)) != PMIX_SUCCESS) {
		errno = EINVAL;
		vnb_errprintf(err, "the step's layout (%s / %s): %s", j->nodes,
			      j->ppn, PMIx_Error_string(rc));
		goto fail;
	}
	ni = 15 + j->size;
	PMIX_INFO_CREATE(info, ni);
	PMIX_INFO_LOAD(&info[k++], PMIX_JOBID, j->nspace, PMIX_STRING);
	PMIX_INFO_LOAD(&info[k++], PMIX_JOB_SIZE, &j->size, PMIX_UINT32);
	PMIX_INFO_LOAD(&info[k++], PMIX_UNIV_SIZE, &j->size, PMIX_UINT32);
	PMIX_INFO_LOAD(&info[k++], PMIX_MAX_PROCS, &j->size, PMIX_UINT32);
	PMIX_INFO_LOAD(&info[k++], PMIX_APP_SIZE, &j->size, PMIX_UINT32);
	PMIX_INFO_LOAD(&info[k++], PMIX_JOB_NUM_APPS, &one, PMIX_UINT32);
	PMIX_INFO_LOAD(&info[k++], PMIX_NUM_NODES, &nnodes, PMIX_UINT32);
	PMIX_INFO_LOAD(&info[k++], PMIX_NODE_MAP, nodemap, PMIX_STRING);
	PMIX_INFO_LOAD(&info[k++], PMIX_PROC_MAP, procmap, PMIX_STRING);
	PMIX_INFO_LOAD(&info[k++], PMIX_SPAWNED, &f, PMIX_BOOL);
	PMIX_INFO_LOAD(&info[k++], PMIX_TMPDIR, "/tmp", PMIX_STRING);
	PMIX_INFO_LOAD(&info[k++], PMIX_LOCAL_SIZE, &nl, PMIX_UINT32);
	PMIX_INFO_LOAD(&info[k++], PMIX_NODE_SIZE, &nl, PMIX_UINT32);
	PMIX_INFO_LOAD(&info[k++], PMIX_LOCAL_PEERS, peers, PMIX_STRING);
	PMIX_INFO_LOAD(&info[k++], PMIX_LOCALLDR, &n->local[0].rank,
		       PMIX_PROC_RANK);
	for (r = 0; r < j->size; r++) {
		pmix_data_array_t *da;
		pmix_info_t *pi;
		uint16_t lr = (uint16_t)local_of[r];
		uint32_t zero = 0;
		char host[256];

		node_name(j->nodes, node_of[r], host, sizeof(host));
		PMIX_DATA_ARRAY_CREATE(da, 8, PMIX_INFO);
		pi = da->array;
		PMIX_INFO_LOAD(&pi[0], PMIX_RANK, &r, PMIX_PROC_RANK);
		PMIX_INFO_LOAD(&pi[1], PMIX_APPNUM, &zero, PMIX_UINT32);
		PMIX_INFO_LOAD(&pi[2], PMIX_APP_RANK, &r, PMIX_PROC_RANK);
		PMIX_INFO_LOAD(&pi[3], PMIX_GLOBAL_RANK, &r, PMIX_PROC_RANK);
		PMIX_INFO_LOAD(&pi[4], PMIX_LOCAL_RANK, &lr, PMIX_UINT16);
		PMIX_INFO_LOAD(&pi[5], PMIX_NODE_RANK, &lr, PMIX_UINT16);
		PMIX_INFO_LOAD(&pi[6], PMIX_NODEID, &node_of[r], PMIX_UINT32);
		PMIX_INFO_LOAD(&pi[7], PMIX_HOSTNAME, host, PMIX_STRING);
		PMIX_LOAD_KEY(info[k].key, PMIX_PROC_INFO_ARRAY);
		info[k].value.type = PMIX_DATA_ARRAY;
		info[k].value.data.darray = da;
		k++;
	}
	rc = wait_op(&w, PMIx_server_register_nspace(j->nspace, (int)nl, info,
						     k, op_done, &w));
	if (rc != PMIX_SUCCESS) {
		errno = EIO;
		vnb_errprintf(err, "PMIx_server_register_nspace(%s): %s",
			      j->nspace, PMIx_Error_string(rc));
		goto fail;
	}
	pthread_mutex_lock(&mu);
	n->next = spaces;
	spaces = n;
	pthread_mutex_unlock(&mu);
	goto out;
fail:
	if (n)
		free(n->local);
	free(n);
	n = NULL;
out:
	if (info)
		PMIX_INFO_FREE(info, ni);
	free(nodemap);
	free(procmap);
	free(peers);
	free(node_of);
	free(local_of);
	return n;
}

int vnb_agent_pmix_task_start(struct vnb_chan *c, const struct vnb_pmix_job *j,
			      uint32_t uid, uint32_t gid, char ***env,
			      vnb_error_t *err)
{
	struct wait w = WAIT_INIT;
	struct lrank *l = NULL;
	pmix_proc_t proc;
	pmix_status_t rc;
	struct ns *n;
	uint32_t i;

	*env = NULL;
	pthread_mutex_lock(&reg);
	if (!server_up && server_start(uid, gid, err) < 0)
		goto fail;
	pthread_mutex_lock(&mu);
	n = ns_find(j->nspace);
	pthread_mutex_unlock(&mu);
	if (!n && !(n = ns_register(j, err)))
		goto fail;
	for (i = 0; i < n->nlocal; i++)
		if (n->local[i].rank == j->rank)
			l = &n->local[i];
	if (!l || l->c) {
		errno = EINVAL;
		vnb_errprintf(err,
			      "rank %u of %s is %s on this node (its ranks "
			      "per node: %s)",
			      j->rank, j->nspace, l ? "already running" : "not",
			      j->ppn);
		goto fail;
	}
	PMIX_LOAD_PROCID(&proc, j->nspace, j->rank);
	vnb_agent_vlan_admit(j->cred);
	if (j->cred[0] || j->nocred[0]) {
		pmix_value_t v;

		PMIX_VALUE_LOAD(&v, j->cred[0] ? j->cred : j->nocred,
				PMIX_STRING);
		rc = PMIx_Store_internal(
		    &proc, j->cred[0] ? "vnb.cred" : "vnb.cred.none", &v);
		PMIX_VALUE_DESTRUCT(&v);
		if (rc != PMIX_SUCCESS) {
			errno = EIO;
			vnb_errprintf(err, "PMIx_Store_internal(vnb.cred): %s",
				      PMIx_Error_string(rc));
			goto fail;
		}
	}
	rc = wait_op(&w, PMIx_server_register_client(&proc, uid, gid, NULL,
						     op_done, &w));
	if (rc == PMIX_SUCCESS)
		rc = PMIx_server_setup_fork(&proc, env);
	if (rc != PMIX_SUCCESS) {
		errno = EIO;
		vnb_errprintf(err, "registering rank %u of %s: %s", j->rank,
			      j->nspace, PMIx_Error_string(rc));
		goto fail;
	}
	pthread_mutex_lock(&mu);
	l->c = c;
	l->connected = l->finalized = false;
	n->live++;
	pthread_mutex_unlock(&mu);
	pthread_mutex_unlock(&reg);
	return 0;
fail:
	pthread_mutex_unlock(&reg);
	vnb_agent_pmix_env_free(*env);
	*env = NULL;
	return -1;
}

void vnb_agent_pmix_env_free(char **env)
{
	size_t i;

	if (!env)
		return;
	for (i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

bool vnb_agent_pmix_task_end(struct vnb_chan *c)
{
	struct wait w = WAIT_INIT;
	struct ns *n = NULL, **pp;
	struct fence *f;
	struct lrank *l;
	bool dead;

	pthread_mutex_lock(&reg);
	pthread_mutex_lock(&mu);
	l = lrank_of_chan(c, &n);
	if (!l) {
		pthread_mutex_unlock(&mu);
		pthread_mutex_unlock(&reg);
		return false;
	}
	dead = l->connected && !l->finalized;
	l->c = NULL;
	if (--n->live > 0) {
		pthread_mutex_unlock(&mu);
		pthread_mutex_unlock(&reg);
		return dead;
	}
	for (pp = &spaces; *pp != n; pp = &(*pp)->next)
		;
	*pp = n->next;
	pthread_mutex_unlock(&mu);
	/* fences nobody will complete any more */
	while ((f = n->pending) != NULL) {
		n->pending = f->next;
		f->cb(PMIX_ERR_UNREACH, NULL, 0, f->cbdata, NULL, NULL);
		free(f);
	}
	/* never deregister_client a rank that died (PMIx 4.2.2 can wedge) */
	PMIx_server_deregister_nspace(n->name, op_done, &w);
	wait_op(&w, PMIX_SUCCESS);
	pthread_mutex_unlock(&reg);
	free(n->local);
	free(n);
	return dead;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void vnb_agent_pmix_stop(void)
{
	/* no PMIx_server_finalize: it can wedge after a client died (PMIx
	 * 4.2.2), and the process ends anyway; its files go */
	if (server_up && tmpdir[0])
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
