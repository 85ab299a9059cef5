/*
 * vnic.h - programming and scrubbing a job's vNICs.
 *
 * The link operations sit behind a small ops table: the real one speaks
 * rtnetlink through libnl-route-3 in the caller's network namespace; unit
 * tests use an in-memory fake.
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

struct vnb_vnic_ops {
	size_t size; /* sizeof(struct vnb_vnic_ops), for growth */
	int (*get)(void *ctx, const char *ifname, struct vnb_link *link,
		   vnb_error_t *err);
	int (*set_mac)(void *ctx, const char *ifname, const uint8_t mac[6],
		       vnb_error_t *err);
	int (*set_up)(void *ctx, const char *ifname, bool up, vnb_error_t *err);
	/* sriov (later): VF MAC, VLAN, spoof check, trust, link state */
	int (*set_vf)(void *ctx, const char *pf, int vf, const uint8_t mac[6],
		      unsigned vlan, vnb_error_t *err);
};

/* rtnetlink through libnl-route-3; ctx from vnb_vnic_netlink_open().
 * Its ops translate libnl's codes into errno (ENODEV: no such interface
 * in this namespace; EPERM: no CAP_NET_ADMIN; EADDRNOTAVAIL: a MAC the
 * device refuses; ...) with a message naming the interface.  set_vf is
 * NULL until the sriov backend lands.  open: NULL with errno (ENOMEM, or
 * the socket's error); close accepts NULL and keeps errno. */
extern const struct vnb_vnic_ops vnb_vnic_netlink_ops;
void *vnb_vnic_netlink_open(vnb_error_t *err);
void vnb_vnic_netlink_close(void *ctx);

/* What programming changed, so that scrubbing can undo it. */
struct vnb_vnic_saved {
	uint8_t mac[6]; /* the MAC before programming */
	bool was_up;
};

/* Program a vNIC for a job: macvtap sets the lower device's MAC and brings
 * it up (saving what was there); sriov programs the VF from its PF with
 * ENOSYS until that backend lands.  On failure nothing is left changed.
 * *saved is written only on success.  macvtap ignores vlan for now.  A
 * driver that refuses a MAC change while up (EBUSY) gets it while down.
 * Errors: EINVAL (incomplete ops, bad vNIC, NULL or non-unicast mac),
 * ENOSYS (sriov), else the ops' errno (ENODEV, EPERM, ...).  When undoing
 * a failed step fails too, the message says the device is left changed. */
int vnb_vnic_program(const struct vnb_vnic_ops *ops, void *ctx,
		     const struct vnb_pool_vnic *v, const uint8_t mac[6],
		     unsigned vlan, struct vnb_vnic_saved *saved,
		     vnb_error_t *err);

/* Undo vnb_vnic_program: restore the saved MAC (saved may be NULL when it
 * was lost, then a scrub MAC derived from the device name is set), bring
 * the device down.  Safe to call twice.
 * The device is brought down first, then its MAC set; a saved MAC that is
 * not unicast (a damaged record) is treated as lost.  Nothing is changed
 * when the device is already down with that MAC.  With a VM using the
 * device in macvtap passthrough, call it after the VM is gone: libvirt
 * puts back the MAC it found (the job's) when the guest stops.
 * Errors: as vnb_vnic_program; after a failed step a second call
 * finishes the job. */
int vnb_vnic_scrub(const struct vnb_vnic_ops *ops, void *ctx,
		   const struct vnb_pool_vnic *v,
		   const struct vnb_vnic_saved *saved, vnb_error_t *err);

#endif
