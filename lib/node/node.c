#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/spec.h"
#include "ledger/ledger.h"
#include "common/fileio.h"
#include "node/node.h"
#include "node/vm.h"
#include "node/qset.h"
#include "pool/pool.h"
#include "record/record.h"

/* The vNICs the tenant may use here, most preferred first. */
static int plan(const struct vnb_node *node, const struct vnb_conf_tenant *t,
		const struct vnb_job *job, struct vnb_pool_vnic **pool,
		size_t *npool, char (**cand)[VNB_VNIC_ID_MAX], vnb_error_t *err)
{
	size_t *order = NULL, i;

	*cand = NULL;
	if (vnb_pool_list(node->conf, t, node->sysfs_fd, pool, npool, err) < 0)
		return -1;
	order = calloc(*npool ? *npool : 1, sizeof(*order));
	*cand = calloc(*npool ? *npool : 1, sizeof(**cand));
	if (!order || !*cand) {
		free(order);
		return vnb_errprintf(err, "out of memory");
	}
	for (i = 0; i < *npool; i++)
		order[i] = i;
	if (node->topo && job->cpus[0] && *npool > 0) {
		int *numa = calloc(*npool, sizeof(*numa));

		if (!numa) {
			free(order);
			return vnb_errprintf(err, "out of memory");
		}
		for (i = 0; i < *npool; i++)
			numa[i] = (*pool)[i].numa;
		if (vnb_topo_rank(node->topo, job->cpus, numa, *npool, order,
				  err) < 0) {
			free(numa);
			free(order);
			return vnb_errprefix(err, "job %u's CPUs %s",
					     job->jobid, job->cpus);
		}
		free(numa);
	}
	for (i = 0; i < *npool; i++)
		memcpy((*cand)[i], (*pool)[order[i]].id, VNB_VNIC_ID_MAX);
	free(order);
	return 0;
}

static const struct vnb_pool_vnic *pool_find(const struct vnb_pool_vnic *pool,
					     size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(pool[i].id, id) == 0)
			return &pool[i];
	return NULL;
}

/* Before touching a link, journal what it is now, so that any teardown,
 * even after a prolog killed mid-way, can put it back exactly. */
static int journal_saved(const struct vnb_node *node, const char *state_dir,
			 struct vnb_record *rec, struct vnb_record_vnic *rv,
			 vnb_error_t *err)
{
	struct vnb_link link;
	struct vnb_vf vf;

	if (rv->vf >= 0) {
		/* a VF: its PF holds the state */
		if (!node->ops->get_vf ||
		    node->ops->get_vf(node->ops_ctx, rv->ifname, rv->vf, &vf,
				      err) < 0)
			return node->ops->get_vf
				   ? -1
				   : vnb_errprintf(err, "no VF support");
		memcpy(rv->saved.mac, vf.mac, 6);
		rv->saved.was_up = vf.link != VNB_VF_LINK_DISABLE;
	} else {
		if (node->ops->get(node->ops_ctx, rv->ifname, &link, err) < 0)
			return -1;
		memcpy(rv->saved.mac, link.mac, 6);
		rv->saved.was_up = link.up;
	}
	rv->have_saved = true;
	return vnb_record_save(state_dir, rec, err);
}

#define XML_MAX (256 * 1024)

extern char **environ;

/* The job's copy-on-write overlay on the image's base disk. */
static int make_overlay(const struct vnb_node_vm *vm, vnb_error_t *err)
{
	char *argv[] = {"qemu-img",
			"create",
			"-q",
			"-f",
			"qcow2",
			"-F",
			"qcow2",
			"-b",
			(char *)vm->base,
			(char *)vm->disk,
			NULL};
	pid_t pid;
	int st, rc;

	rc = posix_spawnp(&pid, "qemu-img", NULL, NULL, argv, environ);
	if (rc != 0) {
		errno = rc;
		return vnb_errprintf(err,
				     "cannot run qemu-img to make %s: %s; "
				     "install qemu-utils",
				     vm->disk, strerror(rc));
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return vnb_errprintf(err, "waitpid: %s",
					     strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errno = EIO;
		return vnb_errprintf(err,
				     "qemu-img create of %s on %s failed "
				     "(%s %d); is the base image there "
				     "and qcow2?",
				     vm->disk, vm->base,
				     WIFEXITED(st) ? "exit status" : "signal",
				     WIFEXITED(st) ? WEXITSTATUS(st)
						   : WTERMSIG(st));
	}
	return 0;
}

/* Give a file of the VM's directory to the job's user, mode 0600; with
 * create, make it first (an empty lock file). */
static int give(const struct vnb_node_vm *vm, const char *name, bool create,
		const struct vnb_record *rec, vnb_error_t *err)
{
	int dfd, fd = -1, rc = -1;

	dfd = open(vm->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return vnb_errprintf(err, "cannot open %s: %s", vm->dir,
				     strerror(errno));
	if (create) {
		fd = openat(dfd, name,
			    O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			goto fail;
	}
	if (fchownat(dfd, name, rec->uid, rec->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dfd, name, 0600, 0) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	vnb_errprintf(err, "cannot give %s/%s to uid %u: %s%s", vm->dir, name,
		      rec->uid, strerror(errno),
		      errno == ENOENT && !create
			  ? " (qemu did not create the channel)"
			  : "");
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return rc;
}

static int give_channels(const struct vnb_node_vm *vm, bool create,
			 const struct vnb_record *rec, vnb_error_t *err)
{
	char name[64];
	unsigned i;

	for (i = 0; i < vm->spec.ntask_channels; i++) {
		snprintf(name, sizeof(name), "task.%u.%s", i,
			 create ? "lock" : "sock");
		if (give(vm, name, create, rec, err) < 0)
			return -1;
	}
	return 0;
}

/* Keep the console of a VM that did not come up, for the admin. */
static void keep_console(const struct vnb_node *node,
			 const struct vnb_node_vm *vm, vnb_error_t *err)
{
	char dir[PATH_MAX], name[64];
	size_t len = 0;
	char *text;
	int dfd;

	text = vnb_file_read(AT_FDCWD, vm->console, 1 << 20, &len, NULL);
	if (!text || len == 0) {
		/* nothing to keep: the kernel did not get as far as a
		 * line (the image's cmdline may say "quiet") */
		if (err) {
			size_t n = strlen(err->text);

			snprintf(err->text + n, sizeof(err->text) - n,
				 "; it wrote nothing on its console (see "
				 "libvirt's log of %s, or boot the image "
				 "without \"quiet\")",
				 vm->name);
		}
		free(text);
		return;
	}
	if (snprintf(dir, sizeof(dir), "%s/consoles", node->conf->state_dir) >=
	    (int)sizeof(dir)) {
		free(text);
		return;
	}
	snprintf(name, sizeof(name), "%s.log", vm->name);
	if (vnb_mkdir_p(dir, 0700, NULL) == 0 &&
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (vnb_file_replace(dfd, name, text, len, 0600, NULL) == 0 &&
		    err) {
			size_t n = strlen(err->text);

			snprintf(err->text + n, sizeof(err->text) - n,
				 "; its console is in %s/%s", dir, name);
		}
		close(dfd);
	}
	free(text);
}

static int wait_agent(const struct vnb_node *node, const struct vnb_node_vm *vm,
		      vnb_error_t *err)
{
	char ctl[PATH_MAX];

	if (node->wait_agent)
		return node->wait_agent(node, vm, err);
	if (vnb_vm_channel_path(&vm->spec, -1, ctl, sizeof(ctl)) < 0)
		return vnb_errprintf(err, "%s: path too long", vm->dir);
	/* No console path in the message: the rollback removes the run
	 * dir, and keep_console says where the kept copy is. */
	return vnb_vm_wait_agent(ctl, (int)node->conf->boot_timeout * 1000,
				 node->vm, node->vm_ctx, vm->name, NULL, NULL,
				 err);
}

/* The PCI address of each VF, for its <hostdev> interface. */
static int vf_addresses(const struct vnb_node *node,
			const struct vnb_pool_vnic *pool, size_t npool,
			const struct vnb_record *rec, struct vnb_node_vm *vm,
			vnb_error_t *err)
{
	size_t i;

	for (i = 0; i < rec->nvnics; i++) {
		const struct vnb_pool_vnic *v;

		if (rec->vnics[i].vf < 0)
			continue;
		v = pool_find(pool, npool, rec->vnics[i].id);
		if (!v || !v->pci[0]) {
			struct vnb_topo_vf info;

			if (v &&
			    vnb_pool_vf_info(v, node->sysfs_fd, &info, err) < 0)
				return -1;
			errno = ENODEV;
			return vnb_errprintf(err, "VF %s has no PCI address",
					     rec->vnics[i].id);
		}
		snprintf(vm->pci[i], sizeof(vm->pci[i]), "%s", v->pci);
	}
	return 0;
}

/* The job's queue sets on the node, for its tasks (node/qset.h). */
static int write_qsets(const struct vnb_node_vm *vm,
		       const struct vnb_conf_tenant *t,
		       const struct vnb_spec *spec,
		       const struct vnb_record *rec, vnb_error_t *err)
{
	int dfd, rc;

	dfd = open(vm->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return vnb_errprintf(err, "cannot open %s: %s", vm->dir,
				     strerror(errno));
	rc = vnb_node_qsets_write(dfd, vm->dir, t, spec, rec, err);
	close(dfd);
	return rc;
}

/* Boot the job's VM, journaling each step. */
static int vm_steps(const struct vnb_node *node, const struct vnb_job *job,
		    const struct vnb_conf_tenant *t,
		    const struct vnb_spec *spec,
		    const struct vnb_pool_vnic *pool, size_t npool,
		    struct vnb_record *rec, vnb_error_t *err)
{
	const char *state_dir = node->conf->state_dir;
	struct vnb_node_vm *vm = calloc(1, sizeof(*vm));
	char *xml = malloc(XML_MAX);
	int rc = -1;

	if (!vm || !xml) {
		vnb_errprintf(err, "out of memory");
		goto out;
	}
	if (vnb_node_vm_plan(node->conf, t, spec, rec, node->topo, node->virt,
			     job->user, vm, err) < 0 ||
	    vf_addresses(node, pool, npool, rec, vm, err) < 0 ||
	    vnb_vm_domain_xml(&vm->spec, xml, XML_MAX, err) < 0)
		goto out;
	rec->vm = VNB_RECORD_VM_STARTING;
	if (vnb_record_save(state_dir, rec, err) < 0 ||
	    vnb_mkdir_p(node->conf->run_dir, 0755, err) < 0)
		goto out;
	if (mkdir(vm->dir, 0755) < 0 && errno != EEXIST) {
		vnb_errprintf(err, "cannot make %s: %s", vm->dir,
			      strerror(errno));
		goto out;
	}
	if ((vm->base && make_overlay(vm, err) < 0) ||
	    give_channels(vm, true, rec, err) < 0 ||
	    write_qsets(vm, t, spec, rec, err) < 0 ||
	    node->vm->start(node->vm_ctx, vm->name, xml, err) < 0)
		goto out;
	rec->vm = VNB_RECORD_VM_STARTED;
	if (vnb_record_save(state_dir, rec, err) < 0 ||
	    give_channels(vm, false, rec, err) < 0)
		goto out;
	if (wait_agent(node, vm, err) < 0) {
		int e = errno;

		keep_console(node, vm, err);
		errno = e;
		goto out;
	}
	rec->vm = VNB_RECORD_VM_READY;
	rc = vnb_record_save(state_dir, rec, err);
out:
	free(xml);
	free(vm);
	return rc;
}

static int setup_steps(const struct vnb_node *node, const struct vnb_job *job,
		       const char *spec_text, struct vnb_record *rec,
		       vnb_error_t *err)
{
	const char *state_dir = node->conf->state_dir;
	const struct vnb_conf_tenant *t;
	struct vnb_pool_vnic *pool = NULL;
	char(*cand)[VNB_VNIC_ID_MAX] = NULL;
	char(*claimed)[VNB_VNIC_ID_MAX] = NULL;
	struct vnb_spec spec, resolved;
	size_t npool = 0, i;
	int rc = -1;

	if (vnb_spec_parse(spec_text, &spec, err) < 0)
		return -1;
	t = vnb_conf_tenant_find(node->conf, job->partition, job->account, err);
	if (!t)
		return -1;
	if (vnb_spec_resolve(&spec, t, vnb_conf_tenant_capacity(node->conf, t),
			     &resolved, err) < 0)
		return -1;
	if (job->uid == 0 && !t->allow_root) {
		errno = EPERM;
		return vnb_errprintf(err,
				     "tenant %s does not allow jobs of root "
				     "(allow_root: false)",
				     t->name);
	}
	if (plan(node, t, job, &pool, &npool, &cand, err) < 0)
		goto out;

	snprintf(rec->tenant, sizeof(rec->tenant), "%s", t->name);
	vnb_spec_format(&resolved, rec->spec, sizeof(rec->spec));
	if (vnb_record_save(state_dir, rec, err) < 0)
		goto out;

	claimed = calloc(resolved.vnics, sizeof(*claimed));
	if (!claimed) {
		vnb_errprintf(err, "out of memory");
		goto out;
	}
	if (vnb_ledger_claim(state_dir, job->jobid,
			     (const char(*)[VNB_VNIC_ID_MAX])cand, npool,
			     resolved.vnics, claimed, err) < 0)
		goto out;
	for (i = 0; i < resolved.vnics; i++) {
		const struct vnb_pool_vnic *v =
		    pool_find(pool, npool, claimed[i]);
		struct vnb_record_vnic *rv = &rec->vnics[rec->nvnics++];

		memcpy(rv->id, v->id, sizeof(rv->id));
		memcpy(rv->ifname, v->ifname, sizeof(rv->ifname));
		rv->vf = v->vf;
	}
	if (vnb_record_save(state_dir, rec, err) < 0)
		goto out;

	for (i = 0; i < rec->nvnics; i++) {
		struct vnb_record_vnic *rv = &rec->vnics[i];
		const struct vnb_pool_vnic *v = pool_find(pool, npool, rv->id);

		if (vnb_vnic_mac(job->jobid, job->nodeidx, (uint32_t)i, rv->mac,
				 err) < 0 ||
		    journal_saved(node, state_dir, rec, rv, err) < 0 ||
		    vnb_vnic_program(node->ops, node->ops_ctx, v, rv->mac,
				     t->vlan, &rv->saved, err) < 0)
			goto out;
		rv->programmed = true;
		if (vnb_record_save(state_dir, rec, err) < 0)
			goto out;
	}
	if (node->vm &&
	    vm_steps(node, job, t, &resolved, pool, npool, rec, err) < 0)
		goto out;
	rec->state = VNB_RECORD_READY;
	rc = vnb_record_save(state_dir, rec, err);
out:
	free(claimed);
	free(cand);
	free(pool);
	return rc;
}

int vnb_node_setup(const struct vnb_node *node, const struct vnb_job *job,
		   const char *spec, vnb_error_t *err)
{
	struct vnb_record *rec = calloc(1, sizeof(*rec));
	vnb_error_t undo = {{0}};
	int saved_errno;

	if (!rec)
		return vnb_errprintf(err, "out of memory");
	rec->jobid = job->jobid;
	rec->uid = job->uid;
	rec->gid = job->gid;
	rec->nodeidx = job->nodeidx;
	snprintf(rec->node, sizeof(rec->node), "%s", job->node);
	snprintf(rec->cpus, sizeof(rec->cpus), "%s", job->cpus);
	if (setup_steps(node, job, spec, rec, err) == 0) {
		free(rec);
		return 0;
	}
	free(rec);
	saved_errno = errno;
	if (vnb_node_teardown(node, job->jobid, &undo) < 0 && err) {
		size_t len = strlen(err->text);

		snprintf(err->text + len, sizeof(err->text) - len,
			 "; rolling back failed too: %s", undo.text);
	}
	errno = saved_errno;
	return -1;
}

/* Scrub one vNIC; saved may be NULL. */
static int scrub(const struct vnb_node *node, const struct vnb_pool_vnic *pool,
		 size_t npool, const char *id,
		 const struct vnb_vnic_saved *saved, vnb_error_t *err)
{
	const struct vnb_pool_vnic *v = pool_find(pool, npool, id);

	if (!v) {
		errno = ENOENT;
		return vnb_errprintf(err,
				     "vNIC %s is no longer in any pool of %s; "
				     "scrub it by hand, then run 'vnbctl "
				     "release'",
				     id, node->conf->path);
	}
	return vnb_vnic_scrub(node->ops, node->ops_ctx, v, saved, err);
}

/* Every vNIC of the config, for finding any vNIC a job may hold. */
static int all_vnics(const struct vnb_node *node, struct vnb_pool_vnic **pool,
		     size_t *n, vnb_error_t *err)
{
	return vnb_pool_list(node->conf, NULL, -1, pool, n, err);
}

static int stop_vm(const struct vnb_node *node, uint32_t jobid,
		   vnb_error_t *err)
{
	char name[VNB_VM_NAME_MAX];
	vnb_error_t e = {{0}};

	vnb_vm_name(jobid, name, sizeof(name));
	if (node->vm->stop(node->vm_ctx, name, &e) < 0)
		return vnb_errprintf(err,
				     "job %u: cannot stop its VM %s, so its "
				     "vNICs stay claimed: %s",
				     jobid, name, e.text);
	if (vnb_node_vm_dir_remove(node->conf, jobid, &e) < 0)
		return vnb_errprintf(err, "job %u: %s", jobid, e.text);
	return 0;
}

int vnb_node_teardown(const struct vnb_node *node, uint32_t jobid,
		      vnb_error_t *err)
{
	const char *state_dir = node->conf->state_dir;
	struct vnb_record *rec = calloc(1, sizeof(*rec));
	struct vnb_pool_vnic *pool = NULL;
	struct vnb_ledger *snap = NULL;
	vnb_error_t e = {{0}};
	size_t npool = 0, i;
	bool have_rec;
	int rc = 0;

	if (!rec)
		return vnb_errprintf(err, "out of memory");
	/* The VM first: until it is gone its vNICs are in use. */
	if (node->vm && stop_vm(node, jobid, err) < 0) {
		free(rec);
		return -1;
	}
	have_rec = vnb_record_load(state_dir, jobid, rec, &e) == 0;
	if (!have_rec && errno != ENOENT)
		rc = vnb_errprintf(err, "%s (scrubbing without it)", e.text);
	if (all_vnics(node, &pool, &npool, err) < 0) {
		free(rec);
		return -1;
	}
	/* Claimed → dirty, so that nothing hands them out while we scrub. */
	if (vnb_ledger_release(state_dir, jobid, NULL, 0, NULL, err) < 0)
		goto out_fail;
	snap = vnb_ledger_read(state_dir, err);
	if (!snap)
		goto out_fail;
	for (i = vnb_ledger_count(snap); i-- > 0;) {
		const struct vnb_ledger_entry *le = vnb_ledger_at(snap, i);
		const struct vnb_vnic_saved *saved = NULL;
		size_t k;

		if (le->jobid != jobid || le->state != VNB_VNIC_DIRTY)
			continue;
		for (k = 0; have_rec && k < rec->nvnics; k++)
			if (strcmp(rec->vnics[k].id, le->vnic) == 0 &&
			    rec->vnics[k].have_saved)
				saved = &rec->vnics[k].saved;
		/* Setup journals a link's state before it touches the link:
		 * with a record that has none for this vNIC, the vNIC was
		 * never changed.  Without a record nothing is known, and a
		 * full scrub is the safe way.  ESTALE from scrubbed: someone
		 * else already freed it; that is done. */
		if ((!have_rec || saved) &&
		    scrub(node, pool, npool, le->vnic, saved, &e) < 0) {
			rc = vnb_errprintf(err, "job %u: %s", jobid, e.text);
			continue;
		}
		if (vnb_ledger_scrubbed(state_dir, le->vnic, jobid, &e) < 0 &&
		    errno != ESTALE) {
			rc = vnb_errprintf(err, "job %u: %s", jobid, e.text);
			continue;
		}
	}
	vnb_ledger_end(snap);
	snap = NULL;
	/* A setup that died between programming and claiming is impossible
	 * (claims come first), but a record may name vNICs the ledger no
	 * longer shows for this job: those were freed already. */
	if (rc == 0 && vnb_record_remove(state_dir, jobid, err) < 0)
		rc = -1;
	free(pool);
	free(rec);
	return rc;
out_fail:
	vnb_ledger_end(snap);
	free(pool);
	free(rec);
	return -1;
}

static bool seen(const uint32_t *ids, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Add the jobs of the vnb-<jobid> domains to ids. */
static int add_domains(const struct vnb_node *node, uint32_t **ids, size_t *n,
		       vnb_error_t *err)
{
	char(*names)[VNB_VM_NAME_MAX] = NULL;
	size_t nn = 0, i;
	uint32_t *more, j;

	if (node->vm->list(node->vm_ctx, &names, &nn, err) < 0)
		return -1;
	more = realloc(*ids, (*n + nn + 1) * sizeof(**ids));
	if (!more) {
		free(names);
		return vnb_errprintf(err, "out of memory");
	}
	*ids = more;
	for (i = 0; i < nn; i++)
		if (vnb_vm_name_jobid(names[i], &j) == 0 && !seen(*ids, *n, j))
			(*ids)[(*n)++] = j;
	free(names);
	return 0;
}

int vnb_node_reconcile(const struct vnb_node *node, vnb_liveness_f alive,
		       uint32_t except, size_t *cleaned, vnb_error_t *err)
{
	uint32_t *ids = NULL, *nids;
	size_t n = 0, i, done = 0;
	struct vnb_ledger *snap;
	int rc = 0;

	if (cleaned)
		*cleaned = 0;
	if (vnb_record_list(node->conf->state_dir, &ids, &n, err) < 0)
		return -1;
	snap = vnb_ledger_read(node->conf->state_dir, err);
	if (!snap) {
		free(ids);
		return -1;
	}
	nids = realloc(ids, (n + vnb_ledger_count(snap) + 1) * sizeof(*ids));
	if (!nids) {
		vnb_ledger_end(snap);
		free(ids);
		return vnb_errprintf(err, "out of memory");
	}
	ids = nids;
	for (i = 0; i < vnb_ledger_count(snap); i++) {
		uint32_t j = vnb_ledger_at(snap, i)->jobid;

		if (j && !seen(ids, n, j))
			ids[n++] = j;
	}
	vnb_ledger_end(snap);
	if (node->vm && add_domains(node, &ids, &n, err) < 0) {
		free(ids);
		return -1;
	}
	for (i = 0; i < n; i++) {
		vnb_error_t e = {{0}};

		if (ids[i] == except || alive(ids[i]) != VNB_JOB_GONE)
			continue;
		if (vnb_node_teardown(node, ids[i], &e) < 0) {
			rc = vnb_errprintf(err, "%s", e.text);
			continue;
		}
		done++;
	}
	free(ids);
	if (cleaned)
		*cleaned = done;
	return rc;
}
