/*
 * conf.h - the admin's configuration, /etc/slurm/vnic-bypass.yaml.
 *
 * One file describes the node settings, the vNIC pools and the tenants of
 * the whole cluster; every node and every submit host reads the same file.
 * The schema is written down in doc/config.md; etc/vnic-bypass.yaml is a
 * commented example.
 *
 * Every error names file:line:column and the key, e.g.
 *   "/etc/slurm/vnic-bypass.yaml:12:5: tenants[1].vlan: 5000 is out of
 *    range (1-4094, or 0 for untagged)"
 */
#ifndef VNB_CONF_CONF_H
#define VNB_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define VNB_CONF_DEFAULT_PATH "/etc/slurm/vnic-bypass.yaml"
#define VNB_NAME_MAX 64 /* tenant, pool, image names (with NUL) */
#define VNB_IFNAME_MAX 16 /* IFNAMSIZ */
#define VNB_VNIC_ID_MAX 32 /* "<pf>:vf<N>" or a lower device name */
#define VNB_MAX_VNICS 64 /* per job per node; also caps vnics.max */
#define VNB_MAX_QUEUES 64 /* per vNIC; also caps queues.max */

enum vnb_backend {
	VNB_BACKEND_MACVTAP = 0, /* lower devices, macvtap passthrough */
	VNB_BACKEND_SRIOV = 1, /* a PF's virtual functions */
};

enum vnb_provider {
	VNB_PROVIDER_AUTO = 0,
	VNB_PROVIDER_XDP,
	VNB_PROVIDER_PACKET,
	VNB_PROVIDER_UDP,
	VNB_PROVIDER_SHM,
};
#define VNB_PROVIDER_COUNT 5

/* "auto", "xdp", ... ; NULL for an out-of-range value. */
const char *vnb_provider_name(enum vnb_provider p);
/* -1 with errno EINVAL for an unknown name. */
int vnb_provider_parse(const char *name, enum vnb_provider *p);

struct vnb_conf_pool {
	char name[VNB_NAME_MAX];
	enum vnb_backend backend;
	/* sriov: the PF and the inclusive VF index range */
	char pf[VNB_IFNAME_MAX];
	unsigned vf_first, vf_last;
	/* macvtap: lower devices, in the order given */
	char (*devices)[VNB_IFNAME_MAX];
	size_t ndevices;
	int line; /* where it was defined, for messages */
};

struct vnb_conf_image {
	char name[VNB_NAME_MAX];
	/* boot: a base qcow2 disk, or direct kernel boot; NULL when unset */
	char *disk;
	char *kernel;
	char *initrd;
	char *cmdline;
};

struct vnb_conf_tenant {
	char name[VNB_NAME_MAX];
	char (*partitions)[VNB_NAME_MAX];
	size_t npartitions;
	char (*accounts)[VNB_NAME_MAX]; /* none: every account is allowed */
	size_t naccounts;
	unsigned vlan; /* 0: untagged, else 1..4094, unique per tenant */
	char pool[VNB_NAME_MAX]; /* "" : every pool of the node */
	struct vnb_conf_image *images; /* the first one is the default */
	size_t nimages;
	unsigned vm_memory_mb; /* VM memory; default 1024 */
	unsigned vm_vcpus; /* 0: one per job CPU on the node */
	bool vm_hugepages;
	/* default 1, 1; a max not given is the default given */
	unsigned vnics_default, vnics_max; /* default 1, 1 */
	unsigned queues_default, queues_max; /* per vNIC; default 1, 1 */
	/* the AUTO bit is always set; every bit when the file lists none */
	unsigned providers; /* bit mask of allowed (1u << vnb_provider) */
	bool allow_root; /* may jobs of uid 0 run in the VM */
	int line;
};

struct vnb_conf {
	char path[4096];
	char state_dir[4096]; /* default /var/lib/vnic-bypass */
	char run_dir[4096]; /* default /run/vnic-bypass */
	char libvirt_uri[256]; /* default qemu:///system */
	unsigned boot_timeout; /* seconds to wait for the agent; default 60 */
	struct vnb_conf_pool *pools;
	size_t npools;
	struct vnb_conf_tenant *tenants;
	size_t ntenants;
};

/* Load and validate a file.  NULL with errno (ENOENT, EACCES, EINVAL for
 * a bad file) and a message with file:line:column in err.  path NULL means
 * VNB_CONF_DEFAULT_PATH.  The caller frees the result with
 * vnb_conf_destroy(). */
struct vnb_conf *vnb_conf_load(const char *path, vnb_error_t *err);

/* The same from a buffer; name is what the messages call it (and what
 * conf->path holds). */
struct vnb_conf *vnb_conf_parse(const char *buf, size_t len, const char *name,
				vnb_error_t *err);

/* Accepts NULL; keeps errno. */
void vnb_conf_destroy(struct vnb_conf *conf);

/* The tenant that a job of this partition and account belongs to.  account
 * may be NULL or "" (no account given).  NULL with errno ENOENT when no
 * tenant serves the partition, EPERM when the account is not in the
 * tenant's allow-list; the message says which partitions or accounts are
 * allowed. */
const struct vnb_conf_tenant *vnb_conf_tenant_find(const struct vnb_conf *conf,
						   const char *partition,
						   const char *account,
						   vnb_error_t *err);

/* NULL with errno ENOENT when no pool has that name. */
const struct vnb_conf_pool *vnb_conf_pool_find(const struct vnb_conf *conf,
					       const char *name);

/* A job's directory on a node: <node.run_dir>/<jobid>, where its VM's
 * channels live.  -1 with ENAMETOOLONG when it does not fit in buf. */
int vnb_conf_job_run_dir(const struct vnb_conf *conf, uint32_t jobid, char *buf,
			 size_t len, vnb_error_t *err);

/* How many vNICs a node offers this tenant (the size of its pool, or of
 * every pool when the tenant names none). */
size_t vnb_conf_tenant_capacity(const struct vnb_conf *conf,
				const struct vnb_conf_tenant *t);

#endif
