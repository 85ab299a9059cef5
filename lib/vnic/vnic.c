/*
 * vnic.c - programming and scrubbing a vNIC through an ops table.
 *
 * macvtap: the lower device gets the job's MAC and is brought up; scrubbing
 * restores the MAC it had and brings it down.  sriov: the PF gets the VF's
 * settings in one request, and the VF's settings before it when that
 * fails.  The kernel calls are the ops' business; this file only orders
 * them and undoes what it did when a step fails.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "vnic/vnic.h"

static enum vnb_backend backend_of(const struct vnb_pool_vnic *v)
{
	if (v->pool)
		return v->pool->backend;
	return v->vf >= 0 ? VNB_BACKEND_SRIOV : VNB_BACKEND_MACVTAP;
}

static int check_args(const struct vnb_vnic_ops *ops,
		      const struct vnb_pool_vnic *v, vnb_error_t *err)
{
	if (!ops || ops->size < offsetof(struct vnb_vnic_ops, set_vf) ||
	    !ops->get || !ops->set_mac || !ops->set_up) {
		errno = EINVAL;
		return vnb_errprintf(err, "incomplete vNIC ops table");
	}
	if (!v || !vnb_name_valid(v->ifname, VNB_IFNAME_MAX - 1)) {
		errno = EINVAL;
		return vnb_errprintf(err, "no valid vNIC given");
	}
	switch (backend_of(v)) {
	case VNB_BACKEND_MACVTAP:
		return 0;
	case VNB_BACKEND_SRIOV:
		if (ops->size < offsetof(struct vnb_vnic_ops, get_vf) +
				    sizeof(ops->get_vf) ||
		    !ops->set_vf || !ops->get_vf) {
			errno = EINVAL;
			return vnb_errprintf(err,
					     "vNIC %s: the vNIC ops table has "
					     "no VF operations",
					     v->id);
		}
		if (v->vf < 0) {
			errno = EINVAL;
			return vnb_errprintf(err, "vNIC %s: no VF index given",
					     v->id);
		}
		return 0;
	default:
		errno = EINVAL;
		return vnb_errprintf(err, "vNIC %s: unknown backend %d", v->id,
				     (int)backend_of(v));
	}
}

static bool mac_unicast(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

/* After a failed step, put the MAC (and the link state, when we took it
 * down) back.  The first failure's errno and message stay; a failing undo
 * is added to the message, since the device is then left changed. */
static void undo(const struct vnb_vnic_ops *ops, void *ctx, const char *ifname,
		 const struct vnb_link *old, bool went_down, vnb_error_t *err)
{
	int saved = errno;
	vnb_error_t uerr = {""};
	char first[sizeof(err->text)];

	if (ops->set_mac(ctx, ifname, old->mac, &uerr) == 0 &&
	    (!went_down || ops->set_up(ctx, ifname, true, &uerr) == 0)) {
		errno = saved;
		return;
	}
	if (err) {
		memcpy(first, err->text, sizeof(first));
		vnb_errprintf(err,
			      "%s; undoing it failed too, %s is left "
			      "changed: %s",
			      first, ifname, uerr.text);
	}
	errno = saved;
}

/* --- sriov --- */

/* The fields of want that differ from cur (or that cur does not report),
 * in want->fields. */
static void vf_diff(const struct vnb_vf *cur, struct vnb_vf *want)
{
	unsigned differ = 0;

	if (memcmp(cur->mac, want->mac, 6) != 0)
		differ |= VNB_VF_MAC;
	if (cur->vlan != want->vlan || cur->qos != want->qos)
		differ |= VNB_VF_VLAN;
	if (cur->spoofchk != want->spoofchk)
		differ |= VNB_VF_SPOOFCHK;
	if (cur->trust != want->trust)
		differ |= VNB_VF_TRUST;
	if (cur->link != want->link)
		differ |= VNB_VF_LINK;
	want->fields &= differ | ~cur->fields;
}

/* After a failed set_vf of the fields in changed: set them back to cur.
 * The first failure's errno and message stay. */
static void vf_undo(const struct vnb_vnic_ops *ops, void *ctx,
		    const struct vnb_pool_vnic *v, const struct vnb_vf *cur,
		    unsigned changed, vnb_error_t *err)
{
	int saved = errno;
	vnb_error_t uerr = {""};
	char first[sizeof(err->text)];
	struct vnb_vf back = *cur;

	back.fields = changed & cur->fields;
	if (back.fields == 0 ||
	    ops->set_vf(ctx, v->ifname, v->vf, &back, &uerr) == 0) {
		errno = saved;
		return;
	}
	if (err) {
		memcpy(first, err->text, sizeof(first));
		vnb_errprintf(err,
			      "%s; undoing it failed too, VF %d of %s is left "
			      "changed: %s",
			      first, v->vf, v->ifname, uerr.text);
	}
	errno = saved;
}

static int vf_program(const struct vnb_vnic_ops *ops, void *ctx,
		      const struct vnb_pool_vnic *v, const uint8_t mac[6],
		      unsigned vlan, struct vnb_vnic_saved *saved,
		      vnb_error_t *err)
{
	struct vnb_vf cur, want;

	if (vlan > 4094) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "vNIC %s: VLAN %u is out of range "
				     "(1-4094, or 0 for untagged)",
				     v->id, vlan);
	}
	memset(&cur, 0, sizeof(cur));
	if (ops->get_vf(ctx, v->ifname, v->vf, &cur, err) < 0)
		return -1;
	if (!(cur.fields & VNB_VF_SPOOFCHK)) {
		errno = EOPNOTSUPP;
		return vnb_errprintf(err,
				     "vNIC %s: the driver of %s does not "
				     "report spoof checking for VF %d, so the "
				     "VF could send as any MAC: use a NIC "
				     "whose driver takes 'ip link set %s vf "
				     "%d spoofchk on'",
				     v->id, v->ifname, v->vf, v->ifname, v->vf);
	}
	memset(&want, 0, sizeof(want));
	want.fields = VNB_VF_MAC | VNB_VF_VLAN | VNB_VF_SPOOFCHK | VNB_VF_LINK |
		      (cur.fields & VNB_VF_TRUST);
	memcpy(want.mac, mac, 6);
	want.vlan = vlan;
	want.spoofchk = true;
	want.link = VNB_VF_LINK_AUTO;
	vf_diff(&cur, &want);
	if (want.fields != 0 &&
	    ops->set_vf(ctx, v->ifname, v->vf, &want, err) < 0) {
		vf_undo(ops, ctx, v, &cur, want.fields, err);
		return -1;
	}
	memcpy(saved->mac, cur.mac, 6);
	saved->was_up = cur.link != VNB_VF_LINK_DISABLE;
	return 0;
}

static int vf_scrub(const struct vnb_vnic_ops *ops, void *ctx,
		    const struct vnb_pool_vnic *v,
		    const struct vnb_vnic_saved *saved, vnb_error_t *err)
{
	static const uint8_t zero[6];
	struct vnb_vf cur, want;
	uint8_t fallback[6];
	int e;

	memset(&cur, 0, sizeof(cur));
	if (ops->get_vf(ctx, v->ifname, v->vf, &cur, err) < 0)
		return -1;
	vnb_vnic_scrub_mac(v->id, fallback);
	memset(&want, 0, sizeof(want));
	want.fields = VNB_VF_MAC | VNB_VF_VLAN | VNB_VF_LINK |
		      (cur.fields & (VNB_VF_SPOOFCHK | VNB_VF_TRUST));
	if (saved && mac_unicast(saved->mac))
		memcpy(want.mac, saved->mac, 6);
	else if (memcmp(cur.mac, fallback, 6) == 0)
		memcpy(want.mac, fallback, 6); /* scrubbed so before */
	want.spoofchk = true;
	want.link =
	    saved && !saved->was_up ? VNB_VF_LINK_DISABLE : VNB_VF_LINK_AUTO;
	vf_diff(&cur, &want);
	if (want.fields == 0 ||
	    ops->set_vf(ctx, v->ifname, v->vf, &want, err) == 0)
		return 0;
	e = errno;
	if (!(want.fields & VNB_VF_MAC) || memcmp(want.mac, zero, 6) != 0 ||
	    (e != EINVAL && e != EADDRNOTAVAIL))
		return -1;
	/* A driver that refuses the zero MAC: a scrub MAC instead. */
	memcpy(want.mac, fallback, 6);
	if (ops->set_vf(ctx, v->ifname, v->vf, &want, NULL) == 0)
		return 0;
	errno = e;
	return -1;
}

int vnb_vnic_program(const struct vnb_vnic_ops *ops, void *ctx,
		     const struct vnb_pool_vnic *v, const uint8_t mac[6],
		     unsigned vlan, struct vnb_vnic_saved *saved,
		     vnb_error_t *err)
{
	struct vnb_link cur = {{0}, false};
	bool went_down = false;
	char buf[18];

	if (check_args(ops, v, err) < 0)
		return -1;
	if (!mac || !saved) {
		errno = EINVAL;
		return vnb_errprintf(err, "vNIC %s: no MAC or save area given",
				     v->id);
	}
	if (!mac_unicast(mac)) {
		vnb_mac_format(mac, buf);
		errno = EINVAL;
		return vnb_errprintf(err,
				     "vNIC %s: %s is not a unicast MAC "
				     "address",
				     v->id, buf);
	}
	if (backend_of(v) == VNB_BACKEND_SRIOV)
		return vf_program(ops, ctx, v, mac, vlan, saved, err);
	/* macvtap: the guest side tags (later issue), vlan is not used */
	if (ops->get(ctx, v->ifname, &cur, err) < 0)
		return -1;
	if (ops->set_mac(ctx, v->ifname, mac, err) < 0) {
		if (errno != EBUSY || !cur.up)
			return -1;
		/* A driver without live MAC change: change it while down. */
		if (ops->set_up(ctx, v->ifname, false, err) < 0)
			return -1;
		went_down = true;
		if (ops->set_mac(ctx, v->ifname, mac, err) < 0) {
			int e = errno;

			if (ops->set_up(ctx, v->ifname, true, NULL) < 0) {
				errno = e;
				vnb_errprefix(err,
					      "%s is left down after a failed "
					      "MAC change",
					      v->ifname);
			}
			errno = e;
			return -1;
		}
	}
	if (ops->set_up(ctx, v->ifname, true, err) < 0) {
		undo(ops, ctx, v->ifname, &cur, went_down, err);
		return -1;
	}
	memcpy(saved->mac, cur.mac, 6);
	saved->was_up = cur.up;
	return 0;
}

int vnb_vnic_scrub(const struct vnb_vnic_ops *ops, void *ctx,
		   const struct vnb_pool_vnic *v,
		   const struct vnb_vnic_saved *saved, vnb_error_t *err)
{
	struct vnb_link cur = {{0}, false};
	uint8_t target[6];

	if (check_args(ops, v, err) < 0)
		return -1;
	if (backend_of(v) == VNB_BACKEND_SRIOV)
		return vf_scrub(ops, ctx, v, saved, err);
	if (saved && mac_unicast(saved->mac))
		memcpy(target, saved->mac, 6);
	else
		vnb_vnic_scrub_mac(v->ifname, target);
	if (ops->get(ctx, v->ifname, &cur, err) < 0)
		return -1;
	if (cur.up && ops->set_up(ctx, v->ifname, false, err) < 0)
		return -1;
	if (memcmp(cur.mac, target, 6) != 0 &&
	    ops->set_mac(ctx, v->ifname, target, err) < 0)
		return -1;
	return 0;
}
