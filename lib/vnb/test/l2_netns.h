/*
 * l2_netns.h - two network namespaces joined by a veth pair, for the
 * packet and udp provider tests.
 *
 * Side 0 has "vnbl0" (02:00:0a:e7:00:01, 10.231.0.1/24), side 1 has
 * "vnbl1" (02:00:0a:e7:00:02, 10.231.0.2/24).  The namespaces belong to
 * this process only: l2_netns_down (or the process's exit) removes them
 * with the veth pair.
 */
#ifndef VNB_TEST_L2_NETNS_H
#define VNB_TEST_L2_NETNS_H

#include <stddef.h>
#include <stdint.h>

#define L2_IF0 "vnbl0"
#define L2_IF1 "vnbl1"
#define L2_IP0 "10.231.0.1"
#define L2_IP1 "10.231.0.2"

struct l2_netns {
	int home; /* the namespace the process started in */
	int fd[2];
};

/* Without root print the TAP skip line and exit 0.  Otherwise build the
 * namespaces; on failure print a skip line naming why and exit 0. */
void l2_netns_up(struct l2_netns *n);
/* Move the calling thread into side's namespace (0, 1); bail out if it
 * cannot. */
void l2_netns_enter(const struct l2_netns *n, int side);
/* Run a shell command in side's namespace; its exit status (0: success). */
int l2_netns_sh(const struct l2_netns *n, int side, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Back to the starting namespace; the test namespaces go away. */
void l2_netns_down(struct l2_netns *n);

/* The test payload of frame seq: len bytes derived from seq, and its
 * length for a largest payload of max (covers 0 and max). */
uint32_t l2_payload_len(uint32_t seq, uint32_t max);
void l2_payload_fill(uint8_t *buf, uint32_t len, uint32_t seq);
int l2_payload_check(const uint8_t *buf, uint32_t len, uint32_t seq);

/* Seconds since some fixed point, for deadlines (never asserted). */
double l2_now(void);

#endif
