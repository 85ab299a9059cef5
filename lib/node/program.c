#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "node/program.h"

/* KVM when it can boot stock guests, else TCG; says why in the log. */
static enum vnb_virt choose_virt(void)
{
	struct vnb_virt_facts f;
	enum vnb_virt v = VNB_VIRT_QEMU;
	char why[256] = "";
	int sys = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int dev = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (vnb_vm_virt_facts(sys, proc, dev, &f) == 0)
		v = vnb_vm_choose_virt(&f, why, sizeof(why));
	else
		snprintf(why, sizeof(why),
			 "cannot read /proc/cpuinfo: using TCG");
	if (v != VNB_VIRT_KVM)
		vnb_log_info("%s", why);
	if (sys >= 0)
		close(sys);
	if (proc >= 0)
		close(proc);
	if (dev >= 0)
		close(dev);
	return v;
}

int vnb_program_open(struct vnb_program *p, const char *config_path, int flags,
		     vnb_error_t *err)
{
	vnb_error_t e = {{0}};

	memset(p, 0, sizeof(*p));
	p->node.sysfs_fd = -1;
	p->conf = vnb_conf_load(
	    config_path ? config_path : VNB_CONF_DEFAULT_PATH, err);
	if (!p->conf)
		return -1;
	p->nl = vnb_vnic_netlink_open(err);
	if (!p->nl) {
		vnb_program_close(p);
		return -1;
	}
	p->node.conf = p->conf;
	p->node.ops = &vnb_vnic_netlink_ops;
	p->node.ops_ctx = p->nl;
	p->node.sysfs_fd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (flags & VNB_PROGRAM_VM) {
		p->virt = vnb_vm_libvirt_open(p->conf->libvirt_uri, err);
		if (!p->virt) {
			vnb_program_close(p);
			return -1;
		}
		p->node.vm = &vnb_vm_libvirt_ops;
		p->node.vm_ctx = p->virt;
		if (flags & VNB_PROGRAM_BOOT)
			p->node.virt = choose_virt();
	}
	if (flags & VNB_PROGRAM_TOPO) {
		p->topo = vnb_topo_load(&e);
		if (!p->topo)
			vnb_log_warn("%s; vNICs are chosen without regard "
				     "to NUMA",
				     e.text);
		p->node.topo = p->topo;
	}
	return 0;
}

void vnb_program_close(struct vnb_program *p)
{
	int saved = errno;

	vnb_topo_destroy(p->topo);
	vnb_vm_libvirt_close(p->virt);
	if (p->nl)
		vnb_vnic_netlink_close(p->nl);
	if (p->node.sysfs_fd >= 0)
		close(p->node.sysfs_fd);
	vnb_conf_destroy(p->conf);
	memset(p, 0, sizeof(*p));
	p->node.sysfs_fd = -1;
	errno = saved;
}

const char *vnb_program_spec(const char *value, vnb_error_t *err)
{
	static const char prefix[] = "v1:";

	if (strncmp(value, prefix, sizeof(prefix) - 1) != 0) {
		errno = EINVAL;
		vnb_errprintf(err,
			      "SPANK_VNIC_BYPASS='%.64s' is not in the v1 "
			      "format; are the SPANK plugin and the prolog "
			      "from the same vnic-bypass release?",
			      value);
		return NULL;
	}
	return value + sizeof(prefix) - 1;
}

int vnb_program_options(int argc, char **argv, const char *name,
			const char **config)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c != 'c') {
			fprintf(c == 'h' ? stdout : stderr,
				"usage: %s [--config FILE]\n", name);
			return c == 'h' ? 0 : 2;
		}
		*config = optarg;
	}
	return -1;
}
