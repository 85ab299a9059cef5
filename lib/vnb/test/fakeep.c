#include <string.h>

#include "common/tap.h"
#include "vnb/core.h"
#include "vnb/test/fakeep.h"

struct vnb_ep *fake_ep(const char *ifname, const uint8_t mac[6], uint16_t queue,
		       uint32_t job, uint32_t nframes, uint32_t frame_size)
{
	struct vnb_ep_attr a;
	vnb_error_t err = {{0}};
	struct vnb_ep *ep;

	memset(&a, 0, sizeof(a));
	a.ifname = ifname;
	memcpy(a.mac, mac, 6);
	a.queue = queue;
	a.job_tag = job;
	a.nframes = nframes;
	a.frame_size = frame_size;
	a.flags = VNB_EP_FAKE;
	ep = vnb_ep_open(&a, &err);
	if (!ep)
		bail_out("fake endpoint on %s: %s", ifname, err.text);
	return ep;
}
