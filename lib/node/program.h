/*
 * program.h - what vnb-prolog, vnb-epilog and vnbctl share: loading the
 * config and putting together the real side effects (rtnetlink in this
 * node's network namespace, /sys, the machine's topology).
 */
#ifndef VNB_NODE_PROGRAM_H
#define VNB_NODE_PROGRAM_H

#include "node/node.h"

struct vnb_program {
	struct vnb_node node;
	struct vnb_conf *conf;
	void *nl;
	struct vnb_topo *topo;
	void *virt; /* the libvirt connection */
};

/* What a program needs besides the config and rtnetlink. */
#define VNB_PROGRAM_TOPO 0x1 /* the topology, for NUMA placement */
#define VNB_PROGRAM_VM 0x2 /* libvirt, for the jobs' VMs */
#define VNB_PROGRAM_BOOT 0x4 /* with VM: choose KVM or TCG, to boot them */

/* Load config_path (NULL: the default) and open the side effects that
 * flags ask for.  A topology that does not load only loses the NUMA
 * preference (a warning is logged); libvirt that cannot be reached is an
 * error.  -1 with a message. */
int vnb_program_open(struct vnb_program *p, const char *config_path, int flags,
		     vnb_error_t *err);
void vnb_program_close(struct vnb_program *p);

/* Parse "[--config FILE] [--help]" of a prolog or epilog named name.
 * Returns -1 to go on, else the status to exit with (after usage). */
int vnb_program_options(int argc, char **argv, const char *name,
			const char **config);

/* The SPANK_VNIC_BYPASS value without its version prefix; NULL with a
 * message when it is malformed. */
const char *vnb_program_spec(const char *value, vnb_error_t *err);

#endif
