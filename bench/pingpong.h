/*
 * pingpong.h - the transports bench/pingpong measures, behind one small
 * interface, so that every row runs the same ping-pong and streaming
 * loops.
 */
#ifndef VNB_BENCH_PINGPONG_H
#define VNB_BENCH_PINGPONG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PP_MAXMSG 9000 /* largest message any row carries */
#define PP_BATCH 64 /* most messages one send_many takes */

struct pp_tp {
	/* Send len bytes to the peer (after the first receive, a server
	 * answers whoever sent last).  0, or -1 with errno. */
	int (*send)(struct pp_tp *t, const void *buf, size_t len);
	/* Optional: send n messages of len bytes (bufs[0..n-1]) at once, as
	 * the transport batches (one system call for many); 0, or -1.  The
	 * stream uses it for each window when it is set. */
	int (*send_many)(struct pp_tp *t, const void *const *bufs, size_t len,
			 int n);
	/* Receive one message into buf: its length, 0 when none arrived
	 * (never, when blocking), -1 with errno. */
	int (*recv)(struct pp_tp *t, void *buf, size_t cap);
	void (*close)(struct pp_tp *t);
	size_t max_msg; /* largest message it carries */
	bool blocking; /* recv waits */
	char mode[48]; /* how it runs, for the table */
	char addr[160]; /* this end's address, for the peer */
};

/* The raw AF_XDP floor (raw_xdp.c): copy-mode socket on ifname queue 0,
 * skb mode; frames of EtherType 0x88B6.  NULL with a reason in why. */
struct pp_tp *pp_xsk_open(const char *ifname, char *why, size_t whylen);
/* Point it at the peer's address (its MAC, as its addr gave it). */
int pp_xsk_peer(struct pp_tp *t, const char *addr);

#endif
