/* The plan of a job's domain: CPUs, NUMA cells, boot, channels, NICs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tap.h"
#include "common/util.h"
#include "conf/spec.h"
#include "node/vm.h"

static const char *yaml =
    "node: {run_dir: /run/vnb}\n"
    "pools:\n"
    "  - {name: fabric, backend: macvtap, devices: [vnic0, vnic1]}\n"
    "  - {name: vfs, backend: sriov, pf: ens1f0, vfs: 0-7}\n"
    "tenants:\n"
    "  - name: alpha\n"
    "    partitions: [alpha]\n"
    "    vlan: 10\n"
    "    images:\n"
    "      - {name: small, kernel: /img/vmlinux, initrd: /img/initrd,\n"
    "         cmdline: \"console=ttyS0 vnb.run=/bin/vnb-agent\"}\n"
    "      - {name: full, disk: /img/debian.qcow2}\n"
    "    vm: {memory: 512}\n"
    "    allow_root: true\n"
    "  - name: beta\n"
    "    partitions: [beta]\n"
    "    vlan: 20\n"
    "    images: [{name: k, kernel: /img/vmlinux}]\n"
    "    vm: {memory: 1024, vcpus: 3}\n";

static void sample(struct vnb_record *r, const char *cpus)
{
	memset(r, 0, sizeof(*r));
	r->jobid = 77;
	r->uid = 1000;
	snprintf(r->node, sizeof(r->node), "n1");
	snprintf(r->cpus, sizeof(r->cpus), "%s", cpus);
	r->nvnics = 2;
	snprintf(r->vnics[0].id, sizeof(r->vnics[0].id), "vnic1");
	snprintf(r->vnics[0].ifname, sizeof(r->vnics[0].ifname), "vnic1");
	r->vnics[0].vf = -1;
	vnb_mac_parse("02:00:00:4d:00:40", r->vnics[0].mac);
	snprintf(r->vnics[1].id, sizeof(r->vnics[1].id), "ens1f0:vf3");
	snprintf(r->vnics[1].ifname, sizeof(r->vnics[1].ifname), "ens1f0");
	r->vnics[1].vf = 3;
	vnb_mac_parse("02:00:00:4d:00:41", r->vnics[1].mac);
}

int main(void)
{
	vnb_error_t err = {{0}};
	struct vnb_conf *conf;
	struct vnb_topo *topo;
	struct vnb_spec spec = {0};
	struct vnb_record rec;
	struct vnb_node_vm *vm = calloc(1, sizeof(*vm));
	const struct vnb_vm_spec *s = &vm->spec;
	const struct vnb_conf_tenant *alpha, *beta;

	conf = vnb_conf_parse(yaml, strlen(yaml), "t.yaml", &err);
	topo = vnb_topo_load_synthetic("pack:2 numa:1 core:2 pu:1", &err);
	if (!conf || !topo || !vm)
		bail_out("setup: %s", err.text);
	alpha = &conf->tenants[0];
	beta = &conf->tenants[1];
	spec.queues = 2;

	/* A job on both NUMA nodes: a guest that mirrors them. */
	sample(&rec, "0-3");
	ok(vnb_node_vm_plan(conf, alpha, &spec, &rec, topo, VNB_VIRT_QEMU,
			    "alice", vm, &err) == 0,
	   "plan: %s", err.text);
	is_str(s->name, "vnb-77", "named after the job");
	is_str(vm->dir, "/run/vnb/77", "files in the job's run dir");
	is_str(s->console_log, "/run/vnb/77/console.log", "console there");
	ok(s->nvcpus == 4 && s->npins == 4 && s->pin[0] == 0 && s->pin[3] == 3,
	   "one vCPU per job CPU, pinned one to one");
	ok(s->ncells == 2 && s->cell[0].first_vcpu == 0 &&
	       s->cell[0].last_vcpu == 1 && s->cell[0].host_node == 0 &&
	       s->cell[1].first_vcpu == 2 && s->cell[1].host_node == 1,
	   "two guest NUMA cells on the two host nodes");
	ok(s->cell[0].memory_mib + s->cell[1].memory_mib == 512,
	   "the cells share the tenant's memory");
	is_int((int)s->ntask_channels, 4, "a task channel per job CPU");
	ok(s->kernel && strcmp(s->kernel, "/img/vmlinux") == 0 && !s->disk,
	   "the default image boots its kernel");
	like(s->cmdline,
	     "console=ttyS0 vnb.run=/bin/vnb-agent vnb.job=77 "
	     "vnb.node=n1 " VNB_NODE_ALLOW_ROOT_WORD,
	     "the image's command line, and the root policy for the agent");
	ok(s->nnics == 2 && s->nic[0].backend == VNB_BACKEND_MACVTAP &&
	       strcmp(s->nic[0].dev, "vnic1") == 0 &&
	       strcmp(s->nic[0].mac, "02:00:00:4d:00:40") == 0 &&
	       s->nic[0].queues == 2,
	   "a macvtap vNIC on its lower device, with the job's MAC, 2 queues");
	ok(s->nic[1].backend == VNB_BACKEND_SRIOV && s->nic[1].vlan == 10,
	   "a VF gets the tenant's VLAN");

	/* CPUs on one node take the node's layout as it is. */
	sample(&rec, "1,2");
	ok(vnb_node_vm_plan(conf, alpha, &spec, &rec, topo, VNB_VIRT_QEMU, "",
			    vm, &err) == 0 &&
	       s->nvcpus == 2 && s->pin[0] == 1 && s->pin[1] == 2 &&
	       s->ncells == 2,
	   "CPUs 1,2 span two nodes: two cells of one vCPU");
	sample(&rec, "2-3");
	ok(vnb_node_vm_plan(conf, alpha, &spec, &rec, topo, VNB_VIRT_QEMU, "",
			    vm, &err) == 0 &&
	       s->nvcpus == 2 && s->ncells == 0,
	   "CPUs on one node: no guest NUMA layout");

	/* vm.vcpus set: round robin over the job's CPUs, no cells. */
	sample(&rec, "0-1");
	ok(vnb_node_vm_plan(conf, beta, &spec, &rec, topo, VNB_VIRT_KVM, "", vm,
			    &err) == 0 &&
	       s->nvcpus == 3 && s->pin[2] == 0 && s->ncells == 0 &&
	       s->memory_mib == 1024 && s->virt == VNB_VIRT_KVM,
	   "vm.vcpus 3 over 2 CPUs pins round robin");
	ok(strstr(s->cmdline, VNB_NODE_ALLOW_ROOT_WORD) == NULL,
	   "a tenant without allow_root does not tell the agent to");

	/* Without a topology: nothing pinned. */
	ok(vnb_node_vm_plan(conf, alpha, &spec, &rec, NULL, VNB_VIRT_QEMU, "",
			    vm, &err) == 0 &&
	       s->nvcpus == 1 && s->npins == 0 && s->ntask_channels == 1,
	   "no topology: one unpinned vCPU and one task channel");
	is_str(s->user, "1000", "no user name: the uid stands in");

	/* A disk image boots from a per-job overlay. */
	snprintf(spec.image, sizeof(spec.image), "full");
	ok(vnb_node_vm_plan(conf, alpha, &spec, &rec, topo, VNB_VIRT_QEMU, "",
			    vm, &err) == 0 &&
	       s->disk && strcmp(s->disk, "/run/vnb/77/disk.qcow2") == 0 &&
	       strcmp(vm->base, "/img/debian.qcow2") == 0 && !s->kernel,
	   "image=full boots an overlay in the run dir on its base disk");

	/* Errors. */
	snprintf(spec.image, sizeof(spec.image), "nope");
	errno = 0;
	ok(vnb_node_vm_plan(conf, alpha, &spec, &rec, topo, VNB_VIRT_QEMU, "",
			    vm, &err) < 0 &&
	       errno == EINVAL,
	   "an image the tenant lacks is refused");
	like(err.text, "tenant alpha has no image 'nope'", "and named");
	spec.image[0] = '\0';
	sample(&rec, "0-9");
	errno = 0;
	ok(vnb_node_vm_plan(conf, alpha, &spec, &rec, topo, VNB_VIRT_QEMU, "",
			    vm, &err) < 0 &&
	       errno == EINVAL,
	   "CPUs the node does not have are refused");
	like(err.text, "job 77's CPUs", "with the job named: %s", err.text);

	free(vm);
	vnb_topo_destroy(topo);
	vnb_conf_destroy(conf);
	return done_testing();
}
