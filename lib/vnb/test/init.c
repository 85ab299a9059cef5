/* vnb_init outside a vnic-bypass job: from an endpoint's attributes it is
 * a world of one; without anything it says what it needs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/tap.h"
#include "vnb/vnb.h"
#include "vnb/vnb_pmix.h"

int main(void)
{
	struct vnb_ep_attr ep = {0};
	struct vnb_init_attr a = {NULL, &ep, VNB_PROV_AUTO};
	vnb_error_t err = {{0}};
	struct vnb_addr self;
	struct vnb_world *w;

	unsetenv("PMIX_NAMESPACE");
	errno = 0;
	ok(vnb_init(NULL, &err) == NULL && errno == ENOENT,
	   "no job, no arguments: ENOENT");
	like(err.text, "no queue credential (no PMIx server)", "said");
	ok(vnb_init(NULL, NULL) == NULL && errno == ENOENT,
	   "the same without an error struct");

	ep.ifname = "lo";
	ep.prov = VNB_PROV_UDP;
	ep.udp_port = 0;
	w = vnb_init(&a, &err);
	ok(w != NULL, "udp on lo from attributes: %s", w ? "" : err.text);
	if (w) {
		vnb_ep_addr(vnb_world_ep(w), &self);
		ok(vnb_world_size(w) == 1 && vnb_world_rank(w) == 0 &&
		       memcmp(vnb_world_peer(w, 0), &self, sizeof(self)) == 0 &&
		       vnb_world_peer(w, 1) == NULL,
		   "a world of one: rank 0, its own address");
		is_str(vnb_world_cred(w), "", "opened from attributes");
	}
	vnb_world_destroy(w);
	vnb_world_destroy(NULL);

	a.ep = NULL;
	a.cred = "vnb1:bogus";
	ok(vnb_init(&a, &err) == NULL && errno == EINVAL,
	   "a malformed credential: EINVAL");
	like(err.text, "queue credential", "said: %s", err.text);
	return done_testing();
}
