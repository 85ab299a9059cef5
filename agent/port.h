/*
 * port.h - the guest end of one channel: a virtio-serial port
 * (/dev/virtio-ports/NAME), or, in tests, a unix socket that stands in
 * for it.
 *
 * A virtio-serial port stays open across hosts: read() returns 0 and poll
 * says POLLHUP while no host is connected, and the port raises SIGIO (sent
 * to the thread that waits, O_ASYNC + F_SETOWN_EX) when one connects.  A
 * socket is connected to instead, and connected again after EOF.
 */
#ifndef VNB_AGENT_PORT_H
#define VNB_AGENT_PORT_H

#include <stdbool.h>

struct vnb_port {
	const char *path; /* not owned */
	bool sock; /* a unix socket (tests), not a port */
	int fd; /* -1 when closed */
};

/* Block until a host is there, opening or connecting as needed.  The
 * calling thread must have SIGIO blocked.  Never fails: errors are logged
 * and retried. */
void vnb_port_wait_host(struct vnb_port *p);

/* The host went away (EOF, POLLHUP, an error): a socket is closed, a
 * port stays open. */
void vnb_port_lost(struct vnb_port *p);

#endif
