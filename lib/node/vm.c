#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "node/vm.h"

static const struct vnb_conf_image *image_find(const struct vnb_conf_tenant *t,
					       const char *name)
{
	size_t i;

	if (!name[0])
		return t->nimages ? &t->images[0] : NULL;
	for (i = 0; i < t->nimages; i++)
		if (strcmp(t->images[i].name, name) == 0)
			return &t->images[i];
	return NULL;
}

/* Pin vCPU i to the i-th job CPU (round robin), and give the guest one
 * NUMA cell per host NUMA node, its vCPUs ordered by node. */
static int plan_cpus(const struct vnb_conf_tenant *t,
		     const struct vnb_record *rec, const struct vnb_topo *topo,
		     struct vnb_vm_spec *s, vnb_error_t *err)
{
	unsigned cpus[VNB_VM_MAX_VCPUS], sorted[VNB_VM_MAX_VCPUS];
	int numa[VNB_VM_MAX_VCPUS], cellnode[VNB_VM_MAX_CELLS];
	size_t n = 0, i, k = 0;
	unsigned c, ncells = 0;

	if (topo && rec->cpus[0] &&
	    vnb_topo_cpus_expand(topo, rec->cpus, cpus, numa, VNB_VM_MAX_VCPUS,
				 &n, err) < 0)
		return vnb_errprefix(err, "job %u's CPUs", rec->jobid);
	s->nvcpus = t->vm_vcpus ? t->vm_vcpus : (n ? (unsigned)n : 1);
	if (s->nvcpus > VNB_VM_MAX_VCPUS) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "tenant %s: vm.vcpus %u is more than a "
				     "VM takes (%d)",
				     t->name, s->nvcpus, VNB_VM_MAX_VCPUS);
	}
	if (n == 0)
		return 0;
	/* the CPUs grouped by NUMA node, nodes in order of first use */
	for (i = 0; i < n; i++) {
		for (c = 0; c < ncells && cellnode[c] != numa[i]; c++)
			;
		if (c == ncells) {
			if (ncells == VNB_VM_MAX_CELLS)
				ncells = VNB_VM_MAX_CELLS + 1;
			else
				cellnode[ncells++] = numa[i];
		}
		if (ncells > VNB_VM_MAX_CELLS)
			break;
	}
	if (ncells > VNB_VM_MAX_CELLS)
		ncells = 1; /* too many to mirror: one flat guest */
	for (c = 0; c < ncells; c++)
		for (i = 0; i < n; i++)
			if (ncells == 1 || numa[i] == cellnode[c])
				sorted[k++] = cpus[i];
	s->npins = s->nvcpus;
	for (i = 0; i < s->nvcpus; i++)
		s->pin[i] = sorted[i % n];
	/* cells only when the job spans nodes and the vCPUs mirror its CPUs */
	if (ncells < 2 || s->nvcpus != n)
		return 0;
	s->ncells = ncells;
	for (c = 0, k = 0; c < ncells; c++) {
		unsigned cnt = 0;

		for (i = 0; i < n; i++)
			cnt += numa[i] == cellnode[c];
		s->cell[c].first_vcpu = (unsigned)k;
		s->cell[c].last_vcpu = (unsigned)k + cnt - 1;
		s->cell[c].memory_mib = s->memory_mib / ncells;
		s->cell[c].host_node = cellnode[c];
		k += cnt;
	}
	s->cell[ncells - 1].memory_mib +=
	    s->memory_mib - (s->memory_mib / ncells) * ncells;
	return 0;
}

int vnb_node_vm_plan(const struct vnb_conf *conf,
		     const struct vnb_conf_tenant *t,
		     const struct vnb_spec *spec, const struct vnb_record *rec,
		     const struct vnb_topo *topo, enum vnb_virt virt,
		     const char *user, struct vnb_node_vm *vm, vnb_error_t *err)
{
	struct vnb_vm_spec *s = &vm->spec;
	const struct vnb_conf_image *img;
	size_t i;
	int n;

	memset(vm, 0, sizeof(*vm));
	img = image_find(t, spec->image);
	if (!img) {
		errno = EINVAL;
		return vnb_errprintf(err, "tenant %s has no image '%s'",
				     t->name, spec->image);
	}
	if (rec->nvnics > VNB_VM_MAX_NICS) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "job %u has %zu vNICs here; a VM takes "
				     "at most %d",
				     rec->jobid, rec->nvnics, VNB_VM_MAX_NICS);
	}
	if (vnb_vm_name(rec->jobid, vm->name, sizeof(vm->name)) < 0 ||
	    vnb_conf_job_run_dir(conf, rec->jobid, vm->dir, sizeof(vm->dir),
				 err) < 0)
		return -1;
	if (snprintf(vm->console, sizeof(vm->console), "%s/console.log",
		     vm->dir) >= (int)sizeof(vm->console) ||
	    snprintf(vm->disk, sizeof(vm->disk), "%s/disk.qcow2", vm->dir) >=
		(int)sizeof(vm->disk)) {
		errno = ENAMETOOLONG;
		return vnb_errprintf(err, "run_dir %s: path too long",
				     conf->run_dir);
	}
	s->name = vm->name;
	s->jobid = rec->jobid;
	s->tenant = t->name;
	if (user && user[0])
		snprintf(vm->user, sizeof(vm->user), "%s", user);
	else
		snprintf(vm->user, sizeof(vm->user), "%u", rec->uid);
	s->user = vm->user;
	s->node = rec->node;
	s->uid = rec->uid;
	s->virt = virt;
	s->memory_mib = t->vm_memory_mb;
	s->hugepages = t->vm_hugepages;
	if (plan_cpus(t, rec, topo, s, err) < 0)
		return -1;
	if (img->disk) {
		vm->base = img->disk;
		s->disk = vm->disk;
	} else {
		vm->disk[0] = '\0';
		s->kernel = img->kernel;
		s->initrd = img->initrd;
		n = snprintf(vm->cmdline, sizeof(vm->cmdline),
			     "%s%svnb.job=%u vnb.node=%s%s%s",
			     img->cmdline ? img->cmdline : "",
			     img->cmdline && img->cmdline[0] ? " " : "",
			     rec->jobid, rec->node, t->allow_root ? " " : "",
			     t->allow_root ? VNB_NODE_ALLOW_ROOT_WORD : "");
		if (n < 0 || (size_t)n >= sizeof(vm->cmdline)) {
			errno = EINVAL;
			return vnb_errprintf(err,
					     "image %s: the kernel command "
					     "line is too long",
					     img->name);
		}
		s->cmdline = vm->cmdline;
	}
	s->console_log = vm->console;
	s->run_dir = vm->dir;
	s->ntask_channels = s->npins ? s->npins : s->nvcpus;
	if (s->ntask_channels > VNB_VM_MAX_TASK_CHANNELS)
		s->ntask_channels = VNB_VM_MAX_TASK_CHANNELS;
	s->nnics = (unsigned)rec->nvnics;
	for (i = 0; i < rec->nvnics; i++) {
		const struct vnb_record_vnic *v = &rec->vnics[i];
		struct vnb_vm_nic *nic = &s->nic[i];

		vnb_mac_format(v->mac, vm->macs[i]);
		nic->mac = vm->macs[i];
		nic->queues = spec->queues ? spec->queues : 1;
		if (v->vf >= 0) {
			nic->backend = VNB_BACKEND_SRIOV;
			nic->pci = vm->pci[i];
			nic->vlan = t->vlan;
		} else {
			nic->backend = VNB_BACKEND_MACVTAP;
			nic->dev = v->ifname;
		}
	}
	return 0;
}

int vnb_node_vm_dir_remove(const struct vnb_conf *conf, uint32_t jobid,
			   vnb_error_t *err)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if (vnb_conf_job_run_dir(conf, jobid, dir, sizeof(dir), err) < 0)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return vnb_errprintf(err, "cannot open %s: %s", dir,
				     strerror(errno));
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return vnb_errprintf(err, "cannot read %s: %s", dir,
				     strerror(errno));
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT)
			rc = vnb_errprintf(err, "cannot remove %s/%s: %s", dir,
					   de->d_name, strerror(errno));
	}
	closedir(d);
	if (rc == 0 && rmdir(dir) < 0 && errno != ENOENT)
		rc = vnb_errprintf(err, "cannot remove %s: %s", dir,
				   strerror(errno));
	return rc;
}
