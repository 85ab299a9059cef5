/*
 * vnic.h - programming and scrubbing a job's vNICs.
 *
 * The link operations sit behind a small ops table: the real one speaks
 * rtnetlink through libnl-route-3 in the caller's network namespace; unit
 * tests use an in-memory fake.  doc/sriov.md describes the sriov backend.
 */
#ifndef VNB_VNIC_VNIC_H
#define VNB_VNIC_VNIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "pool/pool.h"

/* The job's MAC for (job, node index within the job, vNIC index): a
 * locally administered unicast address, unique for every (job < 2^26,
 * node < 2^14, index < 2^6).  -1 with ERANGE outside those bounds. */
int vnb_vnic_mac(uint32_t jobid, uint32_t nodeidx, uint32_t idx, uint8_t mac[6],
		 vnb_error_t *err);

/* The MAC that scrubbing sets when the saved one is lost: locally
 * administered unicast, derived from the device name alone (so the same
 * for every scrub of it), in the job-0 part of the space, which Slurm never
 * uses, so it never equals a job's MAC. */
void vnb_vnic_scrub_mac(const char *ifname, uint8_t mac[6]);

struct vnb_link {
	uint8_t mac[6];
	bool up;
};

/* A VF's link state as its PF sets it (the kernel's IFLA_VF_LINK_STATE_*
 * values): auto follows the PF's link. */
enum vnb_vf_link {
	VNB_VF_LINK_AUTO = 0,
	VNB_VF_LINK_ENABLE = 1,
	VNB_VF_LINK_DISABLE = 2,
};

/* Which fields of a struct vnb_vf are meant. */
#define VNB_VF_MAC 0x01u
#define VNB_VF_VLAN 0x02u /* vlan and qos */
#define VNB_VF_SPOOFCHK 0x04u
#define VNB_VF_TRUST 0x08u
#define VNB_VF_LINK 0x10u

/* What a PF holds for one of its VFs. */
struct vnb_vf {
	unsigned fields; /* VNB_VF_*: what get_vf read, what set_vf sets */
	uint8_t mac[6]; /* 00:00:00:00:00:00: none set */
	unsigned vlan; /* 0: untagged, else 1..4094 (802.1Q) */
	unsigned qos; /* the 802.1p priority of that VLAN, 0..7 */
	bool spoofchk; /* the VF may only send from mac */
	bool trust; /* the VF may change its MAC, go promiscuous, ... */
	enum vnb_vf_link link;
};

struct vnb_vnic_ops {
	size_t size; /* sizeof(struct vnb_vnic_ops), for growth */
	int (*get)(void *ctx, const char *ifname, struct vnb_link *link,
		   vnb_error_t *err);
	int (*set_mac)(void *ctx, const char *ifname, const uint8_t mac[6],
		       vnb_error_t *err);
	int (*set_up)(void *ctx, const char *ifname, bool up, vnb_error_t *err);
	/* sriov: set the fields of VF vf that want->fields names, in one
	 * request to its PF pf.  The kernel applies them in the order MAC,
	 * VLAN, spoof check, link state, trust and stops at the first one
	 * the driver refuses, leaving those before it set: the caller
	 * undoes. */
	int (*set_vf)(void *ctx, const char *pf, int vf,
		      const struct vnb_vf *want, vnb_error_t *err);
	/* sriov: read VF vf of PF pf.  out->fields says what the driver
	 * reports: MAC, VLAN and link state always, spoof check and trust
	 * only when the driver has them. */
	int (*get_vf)(void *ctx, const char *pf, int vf, struct vnb_vf *out,
		      vnb_error_t *err);
};

/* rtnetlink through libnl-route-3; ctx from vnb_vnic_netlink_open().
 * Its ops translate libnl's codes into errno (ENODEV: no such interface
 * in this namespace; EPERM: no CAP_NET_ADMIN; EADDRNOTAVAIL: a MAC the
 * device refuses; EOPNOTSUPP: a setting the driver lacks, or VF
 * operations on a device without SR-IOV; ...) with a message naming the
 * interface.  get_vf: ERANGE when the PF has fewer VFs enabled (the
 * message says how to enable more), EOPNOTSUPP when it reports no VFs at
 * all.  open: NULL with errno (ENOMEM, or the socket's error); close
 * accepts NULL and keeps errno. */
extern const struct vnb_vnic_ops vnb_vnic_netlink_ops;
void *vnb_vnic_netlink_open(vnb_error_t *err);
void vnb_vnic_netlink_close(void *ctx);

/* What programming changed, so that scrubbing can undo it.
 * sriov: mac is the VF's MAC before (all zero: none was set), was_up that
 * its link state was not "disable". */
struct vnb_vnic_saved {
	uint8_t mac[6]; /* the MAC before programming */
	bool was_up;
};

/* Program a vNIC for a job.
 * macvtap sets the lower device's MAC and brings it up (saving what was
 * there); it ignores vlan for now.  A driver that refuses a MAC change
 * while up (EBUSY) gets it while down.
 * sriov programs VF v->vf through its PF v->ifname with set_vf: the job's
 * MAC, VLAN vlan (0: untagged) with priority 0, spoof checking on, trust
 * off, link state auto; only what differs from get_vf is sent.  A driver
 * that does not report spoof checking is refused (EOPNOTSUPP): the VF
 * could send as any MAC.  One without trust cannot trust a VF: skipped.
 * On failure nothing is left changed.  *saved is written only on success.
 * Errors: EINVAL (incomplete ops, bad vNIC, NULL or non-unicast mac, vlan
 * > 4094 for sriov), else the ops' errno (ENODEV, EPERM, ERANGE for a VF
 * that is not enabled, EOPNOTSUPP, ...).  When undoing a failed step
 * fails too, the message says the device is left changed. */
int vnb_vnic_program(const struct vnb_vnic_ops *ops, void *ctx,
		     const struct vnb_pool_vnic *v, const uint8_t mac[6],
		     unsigned vlan, struct vnb_vnic_saved *saved,
		     vnb_error_t *err);

/* Undo vnb_vnic_program.  saved may be NULL when it was lost.  Safe to
 * call twice; nothing is changed when the device is already scrubbed.
 * With a VM using the device (macvtap passthrough or a VF given to it as
 * a hostdev), call it after the VM is gone: libvirt puts back the MAC
 * (and VLAN) it found, the job's, when the guest stops.
 * macvtap: the device is brought down first, then the saved MAC set (a
 * lost one, or one that is not unicast, as from a damaged record, is
 * replaced by a scrub MAC derived from the device name).
 * sriov: the VF gets the saved MAC if it is unicast, else 00:00:00:00:00:00
 * (a driver that refuses the zero MAC, EINVAL or EADDRNOTAVAIL, gets the
 * scrub MAC of the vNIC id "<pf>:vf<N>" instead), VLAN 0, spoof checking
 * on, trust off, and link state "disable" when saved says it was, else
 * auto; in one request, which is not undone when it fails part way (a
 * VF scrubbed in part is closer to clean; a second call finishes).
 * Errors: as vnb_vnic_program; after a failed step a second call
 * finishes the job. */
int vnb_vnic_scrub(const struct vnb_vnic_ops *ops, void *ctx,
		   const struct vnb_pool_vnic *v,
		   const struct vnb_vnic_saved *saved, vnb_error_t *err);

#endif
