/*
 * fakeep.h - open a fake endpoint in a unit test, or bail out.
 */
#ifndef VNB_TEST_FAKEEP_H
#define VNB_TEST_FAKEEP_H

#include <stdint.h>

#include "vnb/vnb.h"

/* An endpoint on the fake wire ifname with this MAC, queue and job tag,
 * nframes frames of frame_size bytes. */
struct vnb_ep *fake_ep(const char *ifname, const uint8_t mac[6], uint16_t queue,
		       uint32_t job, uint32_t nframes, uint32_t frame_size);

#endif
