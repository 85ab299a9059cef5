/*
 * xdp_api.c - the xdp provider through the public API, as root, across a
 * veth pair between two network namespaces: in skb, native and automatic
 * mode (which picks skb on veth: no zero copy), two endpoints exchange thousands of checksummed frames; forged
 * frames of another job or queue are dropped and counted; IP (ping) keeps
 * working while the program is attached; a taken queue is EBUSY; nothing
 * stays attached after close.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "common/tap.h"
#include "vnb/frame.h"
#include "vnb/test/xdp_netns.h"
#include "vnb/vnb.h"
#include "vnb/xdp_mode.h"

#define JOB 0x5eed
#define NFRAMES 3000 /* per direction */
#define WINDOW 32 /* frames in flight per direction */

static const uint8_t mac0[6] = {0x02, 0x00, 0x0a, 0xe7, 0x00, 0x01};
static const uint8_t mac1[6] = {0x02, 0x00, 0x0a, 0xe7, 0x00, 0x02};
static struct l2_netns ns;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t vlan; /* the VLAN of the endpoints open_side opens */

static struct vnb_ep *open_side(int side, unsigned flags, vnb_error_t *err)
{
	struct vnb_ep_attr a;

	memset(&a, 0, sizeof(a));
	a.ifname = side ? L2_IF1 : L2_IF0;
	a.job_tag = JOB;
	a.prov = VNB_PROV_XDP;
	a.nframes = 256;
	a.flags = flags;
	a.vlan = vlan;
	l2_netns_enter(&ns, side);
	return vnb_ep_open(&a, err);
}

/* Payload of frame seq: its length, then bytes from seq, then a sum. */
static uint32_t fill(uint8_t *b, uint32_t seq, uint32_t max)
{
	uint32_t len = 12 + (seq * 7919u) % (max - 11), k, sum = 0;

	memcpy(b, &seq, 4);
	for (k = 8; k < len; k++) {
		b[k] = (uint8_t)(seq * 31u + k * 7u);
		sum = sum * 33u + b[k];
	}
	memcpy(b + 4, &sum, 4);
	return len;
}

static int check(const uint8_t *b, uint32_t len, uint32_t *seq)
{
	uint32_t k, sum = 0, want;

	if (len < 12)
		return -1;
	memcpy(seq, b, 4);
	memcpy(&want, b + 4, 4);
	for (k = 8; k < len; k++)
		sum = sum * 33u + b[k];
	return sum == want ? 0 : -1;
}

struct side {
	struct vnb_ep *ep;
	struct vnb_addr peer;
	uint32_t sent, got, bad, order;
};

/* One step of a side: reap, receive and check, send within the window. */
static void step(struct side *s, struct side *other, uint32_t max)
{
	struct vnb_cqe c[32];
	uint8_t buf[2048];
	int n, i;

	n = vnb_poll_cq(s->ep, c, 32);
	for (i = 0; i < n; i++) {
		uint32_t seq;

		if (c[i].type != VNB_CQE_RECV)
			continue;
		if (check(c[i].data, c[i].len, &seq) < 0)
			s->bad++;
		else if (seq != s->got)
			s->order++;
		s->got++;
		vnb_post_recv(s->ep, c[i].frame, 0);
	}
	while (s->sent < NFRAMES && s->sent - other->got < WINDOW) {
		uint32_t len = fill(buf, s->sent, max);

		if (vnb_post_send(s->ep, &s->peer, buf, len, s->sent) < 0)
			break;
		s->sent++;
	}
}

static void exchange(struct vnb_ep *e0, struct vnb_ep *e1, const char *what)
{
	struct side s[2];
	uint32_t max = (uint32_t)vnb_ep_max_payload(e0);
	double end = now() + 20;

	ok(max == 1500 - VNB_HDR_LEN,
	   "%s: a frame carries the MTU less the vnb header (%u)", what, max);
	memset(s, 0, sizeof(s));
	s[0].ep = e0;
	s[1].ep = e1;
	vnb_ep_addr(e1, &s[0].peer);
	vnb_ep_addr(e0, &s[1].peer);
	while ((s[0].got < NFRAMES || s[1].got < NFRAMES) && now() < end) {
		step(&s[0], &s[1], max);
		step(&s[1], &s[0], max);
	}
	is_int(s[1].got, NFRAMES, "%s: side 1 got every frame of side 0", what);
	is_int(s[0].got, NFRAMES, "%s: side 0 got every frame of side 1", what);
	ok(s[0].bad + s[1].bad == 0, "%s: every checksum matches (%u bad)",
	   what, s[0].bad + s[1].bad);
	ok(s[0].order + s[1].order == 0, "%s: in order (%u out of order)", what,
	   s[0].order + s[1].order);
}

/* A batch of 100 frames (more than the 32 that one copy-mode kick sends)
 * all arrive, in order, and all complete. */
static void batch(struct vnb_ep *e0, struct vnb_ep *e1, const char *what)
{
	struct vnb_msg m[100];
	struct vnb_addr to;
	struct vnb_cqe c[64];
	uint32_t pay[100], seq0 = 0;
	int i, n, got = 0, done = 0, order = 0;
	double end = now() + 5;

	vnb_ep_addr(e1, &to);
	for (i = 0; i < 100; i++) {
		pay[i] = 0xba000000u + (uint32_t)i;
		m[i].buf = &pay[i];
		m[i].len = sizeof(pay[i]);
		m[i].context = (uint64_t)i;
	}
	is_int(vnb_post_send_batch(e0, &to, m, 100), 100,
	       "%s: a batch of 100 is queued", what);
	while ((got < 100 || done < 100) && now() < end) {
		n = vnb_poll_cq(e1, c, 64);
		for (i = 0; i < n; i++) {
			uint32_t v;

			if (c[i].type != VNB_CQE_RECV)
				continue;
			memcpy(&v, c[i].data, sizeof(v));
			if (got == 0)
				seq0 = c[i].seq;
			if (c[i].len != sizeof(v) || v != pay[got] ||
			    c[i].seq != seq0 + (uint32_t)got)
				order++;
			got++;
			vnb_post_recv(e1, c[i].frame, 0);
		}
		n = vnb_poll_cq(e0, c, 64);
		for (i = 0; i < n; i++)
			done += c[i].type == VNB_CQE_SEND;
	}
	is_int(got, 100, "%s: the batch arrives whole", what);
	is_int(order, 0, "%s: ... in order", what);
	is_int(done, 100, "%s: ... and every frame completes", what);
}

/* From side 0, raw frames to side 1's queue 0: another job, another
 * queue, and one of ours. */
static void forge(void)
{
	struct sockaddr_ll to;
	uint8_t f[64];
	struct vnb_hdr h;
	int fd, i;

	l2_netns_enter(&ns, 0);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		bail_out("AF_PACKET socket: %s", strerror(errno));
	memset(&to, 0, sizeof(to));
	to.sll_family = AF_PACKET;
	to.sll_ifindex = (int)if_nametoindex(L2_IF0);
	to.sll_halen = 6;
	memcpy(to.sll_addr, mac1, 6);
	for (i = 0; i < 3; i++) {
		size_t off;

		memset(&h, 0, sizeof(h));
		h.version = VNB_HDR_VERSION;
		h.len = 4;
		h.job = i == 0 ? JOB + 1 : JOB;
		h.dst_q = i == 1 ? 7 : 0;
		h.seq = (uint32_t)i;
		memset(f, 0, sizeof(f));
		off = vnb_frame_build(f, sizeof(f), true, mac1, mac0, 0, &h);
		memcpy(f + off, "forg", 4);
		if (sendto(fd, f, sizeof(f), 0, (struct sockaddr *)&to,
			   sizeof(to)) != (ssize_t)sizeof(f))
			bail_out("sending a forged frame: %s", strerror(errno));
	}
	close(fd);
}

static void foreign(struct vnb_ep *e1)
{
	struct vnb_counters c0, c1;
	struct vnb_cqe c[8];
	int got = 0, n, i;
	double end;

	vnb_ep_counters(e1, &c0);
	forge();
	end = now() + 5;
	while (got < 1 && now() < end) {
		n = vnb_poll_cq(e1, c, 8);
		for (i = 0; i < n; i++) {
			if (c[i].type != VNB_CQE_RECV)
				continue;
			got++;
			ok(c[i].len == 4 && memcmp(c[i].data, "forg", 4) == 0,
			   "the one raw frame of our job and queue arrives");
			vnb_post_recv(e1, c[i].frame, 0);
		}
	}
	vnb_ep_counters(e1, &c1);
	is_int(got, 1, "only the frame for us is delivered");
	ok(vnb_post_recv(e1, 0, 0) < 0 && errno == EINVAL,
	   "posting a receive frame that is posted already: EINVAL");
	is_int((long long)(c1.rx_foreign_job - c0.rx_foreign_job), 1,
	       "the frame of another job is dropped and counted");
	is_int((long long)(c1.rx_foreign_queue - c0.rx_foreign_queue), 1,
	       "the frame for another queue is dropped and counted");
}

static void run(unsigned flags, const char *want)
{
	vnb_error_t err = {{0}};
	struct vnb_ep *e0, *e1, *busy;
	char what[64];

	e0 = open_side(0, flags, &err);
	ok(e0 != NULL, "%s: open side 0 (%s)", want, e0 ? "" : err.text);
	e1 = open_side(1, flags, &err);
	ok(e1 != NULL, "%s: open side 1 (%s)", want, e1 ? "" : err.text);
	if (!e0 || !e1)
		bail_out("cannot go on without both endpoints");
	snprintf(what, sizeof(what), "%s", vnb_ep_mode(e0));
	ok(strncmp(vnb_ep_mode(e0), want, strlen(want)) == 0 &&
	       strncmp(vnb_ep_mode(e1), want, strlen(want)) == 0,
	   "mode is %s (%s, %s)", want, vnb_ep_mode(e0), vnb_ep_mode(e1));
	ok(strstr(vnb_ep_mode(e0), " copy") != NULL,
	   "%s: veth runs in copy mode", what);
	ok(xn_xdp_attached(&ns, 0, L2_IF0) && xn_xdp_attached(&ns, 1, L2_IF1),
	   "%s: ip link shows the program on both ends", what);
	exchange(e0, e1, what);
	batch(e0, e1, what);
	ok(xn_ping(&ns, 0, L2_IP1), "%s: ping 0 -> 1 works with the program on",
	   what);
	ok(xn_ping(&ns, 1, L2_IP0), "%s: ping 1 -> 0 works with the program on",
	   what);
	foreign(e1);

	busy = open_side(1, flags, &err);
	ok(busy == NULL && errno == EBUSY,
	   "%s: a second endpoint on a taken queue fails with EBUSY", what);
	like(err.text, "taken", "%s: ... and says the queue is taken", what);
	vnb_ep_close(busy);
	ok(xn_xdp_attached(&ns, 1, L2_IF1),
	   "%s: the failed open leaves the program of the first", what);

	l2_netns_enter(&ns, 0);
	vnb_ep_close(e0);
	l2_netns_enter(&ns, 1);
	vnb_ep_close(e1);
	ok(!xn_xdp_attached(&ns, 0, L2_IF0) && !xn_xdp_attached(&ns, 1, L2_IF1),
	   "%s: nothing attached after close", what);
	ok(xn_ping(&ns, 0, L2_IP1), "%s: ping works after close", what);
}

static struct vnb_ep *open_q(const char *ifname, uint16_t q, unsigned flags,
			     vnb_error_t *err)
{
	struct vnb_ep_attr a;

	memset(&a, 0, sizeof(a));
	a.ifname = ifname;
	a.queue = q;
	a.job_tag = JOB;
	a.prov = VNB_PROV_XDP;
	a.nframes = 64;
	a.flags = flags;
	return vnb_ep_open(&a, err);
}

/* Frames behind an 802.1Q tag reach the socket too. */
static void tagged(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ep *e0, *e1;

	vlan = 10;
	e0 = open_side(0, VNB_EP_XDP_SKB, &err);
	e1 = open_side(1, VNB_EP_XDP_SKB, &err);
	ok(e0 && e1, "VLAN 10: both ends open (%s)", err.text);
	if (e0 && e1)
		exchange(e0, e1, "VLAN 10");
	l2_netns_enter(&ns, 0);
	vnb_ep_close(e0);
	l2_netns_enter(&ns, 1);
	vnb_ep_close(e1);
	vlan = 0;
}

/* Another XDP program on the interface: EBUSY, and it stays. */
static void foreign_prog(void)
{
	struct bpf_insn pass[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K,
	     .dst_reg = 0,
	     .imm = XDP_PASS},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	vnb_error_t err = {{0}};
	struct vnb_ep *e;
	int fd, ifindex;

	l2_netns_enter(&ns, 1);
	ifindex = (int)if_nametoindex("vnbm0");
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "other", "GPL", pass, 2, NULL);
	if (fd < 0 || bpf_xdp_attach(ifindex, fd, XDP_FLAGS_SKB_MODE, NULL))
		bail_out("cannot attach a foreign XDP program");
	e = open_q("vnbm0", 0, 0, &err);
	ok(e == NULL && errno == EBUSY,
	   "another XDP program on the interface: EBUSY");
	like(err.text, "another XDP program (other)", "... naming it (%s)",
	     err.text);
	vnb_ep_close(e);
	ok(xn_xdp_attached(&ns, 1, "vnbm0"), "and it stays attached");
	bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
	close(fd);
}

/* Two queues of one interface share the one legacy program: it stays
 * while either endpoint lives, also when one died without close. */
static void shared(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ep *a, *b, *c;
	pid_t pid;
	int st = 0, fd[2];

	if (l2_netns_sh(
		&ns, 1,
		"ip link add vnbm0 numtxqueues 2 numrxqueues 2 type veth "
		"peer name vnbm1 numtxqueues 2 numrxqueues 2 && "
		"ip link set vnbm0 up && ip link set vnbm1 up") != 0)
		bail_out("cannot create a veth pair with two queues");
	a = open_q("vnbm0", 0, VNB_EP_XDP_SKB, &err);
	ok(a != NULL, "queue 0 of a two-queue veth (%s)", a ? "" : err.text);
	b = open_q("vnbm0", 1, 0, &err);
	ok(b != NULL, "queue 1 shares the program (%s)", b ? "" : err.text);
	ok(b && strcmp(vnb_ep_mode(b), "xdp skb copy legacy") == 0,
	   "in the mode the program runs in (%s)", b ? vnb_ep_mode(b) : "");
	c = open_q("vnbm0", 1, VNB_EP_XDP_NATIVE, &err);
	ok(c == NULL && errno == EBUSY,
	   "native forced while the program runs in skb mode: EBUSY");
	like(err.text, "skb mode", "... and says which mode to use");
	vnb_ep_close(a);
	ok(xn_xdp_attached(&ns, 1, "vnbm0"),
	   "the program stays while queue 1 is open");
	vnb_ep_close(b);
	ok(!xn_xdp_attached(&ns, 1, "vnbm0"), "the last close detaches it");

	/* A crash: the child opens, says so, and is killed before close. */
	if (pipe(fd) < 0)
		bail_out("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		close(fd[0]);
		if (!open_q("vnbm0", 0, 0, &err) || write(fd[1], "o", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fd[1]);
	if (read(fd[0], &st, 1) == 1)
		kill(pid, SIGKILL);
	close(fd[0]);
	waitpid(pid, &st, 0);
	ok(WIFSIGNALED(st) && xn_xdp_attached(&ns, 1, "vnbm0"),
	   "a process that dies without close leaves the program");
	b = open_q("vnbm0", 1, 0, &err);
	ok(b != NULL, "another endpoint shares it (%s)", b ? "" : err.text);
	vnb_ep_close(b);
	ok(!xn_xdp_attached(&ns, 1, "vnbm0"),
	   "its close sees the dead owner and detaches");
	foreign_prog();
	l2_netns_sh(&ns, 1, "ip link del vnbm0");
}

/* What the mode rule learns about a veth: the driver's name, and, where
 * the kernel reports XDP features, native XDP without zero copy. */
static void facts(void)
{
	struct vnb_xdp_facts f;
	enum vnb_xdp_mode o[2];
	const char *why = "";
	int ifindex, n;

	l2_netns_enter(&ns, 1);
	ifindex = (int)if_nametoindex(L2_IF1);
	vnb_xdp_facts_query(ifindex, L2_IF1, &f);
	is_str(f.driver, "veth", "ethtool names the driver");
	if (f.have_features)
		ok((f.features & VNB_XDP_ACT_BASIC) &&
		       !(f.features & VNB_XDP_ACT_XSK_ZEROCOPY),
		   "netdev netlink: native XDP, no zero copy (%#llx)",
		   (unsigned long long)f.features);
	else
		diag("this kernel reports no XDP features (before 6.3)");
	n = vnb_xdp_mode_plan(&f, 0, o, &why);
	ok(n == 2 && o[0] == VNB_XDP_SKB, "so skb mode comes first (%s)", why);
	vnb_xdp_facts_query(ifindex + 1000, "vnbx-none", &f);
	ok(!f.have_features && f.driver[0] == '\0',
	   "an interface that is not there: nothing known");
}

/* Without privilege: EPERM naming the capabilities and another provider. */
static void unprivileged(void)
{
	vnb_error_t err = {{0}};
	int st, fd[2];
	pid_t pid;
	char msg[sizeof(err.text)] = "";
	ssize_t n;

	if (pipe(fd) < 0)
		bail_out("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		struct vnb_ep *e;

		close(fd[0]);
		l2_netns_enter(&ns, 1);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		e = open_q(L2_IF1, 0, 0, &err);
		if (write(fd[1], err.text, strlen(err.text)) < 0)
			_exit(3);
		_exit(e == NULL && errno == EPERM ? 0 : 1);
	}
	close(fd[1]);
	n = read(fd[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fd[0]);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "as nobody: EPERM (%s)", msg);
	like(msg, "CAP_NET_ADMIN", "... naming the capabilities");
	/* as nobody neither packet (CAP_NET_RAW) nor udp (no address on
	 * this interface) opens, and the message must not suggest one */
	like(msg, "no other provider opens here",
	     "... and, as checked, that no other provider opens instead");
}

int main(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ep *e;

	/* valgrind does not know what the bpf syscall writes, and reports
	 * every buffer the kernel fills inside libbpf as uninitialised: run
	 * it by hand with VNB_XDP_VALGRIND=1 and suppressions for them. */
	if (getenv("LD_PRELOAD") && strstr(getenv("LD_PRELOAD"), "vgpreload") &&
	    !getenv("VNB_XDP_VALGRIND")) {
		printf("1..0 # SKIP valgrind does not model the bpf syscall\n");
		return 0;
	}
	l2_netns_up(&ns);
	run(VNB_EP_XDP_SKB, "xdp skb");
	run(VNB_EP_XDP_NATIVE, "xdp native");
	facts();
	run(0, "xdp skb");
	/* With a bpffs libxdp tries its dispatcher first, and falls back to
	 * one legacy program where the kernel refuses freplace. */
	if (xn_bpffs())
		run(0, "xdp skb");
	else
		diag("no private bpffs: the dispatcher path is not tried");

	tagged();
	shared();
	unprivileged();
	e = open_side(1, VNB_EP_XDP_SKB | VNB_EP_XDP_NATIVE, &err);
	ok(e == NULL && errno == EINVAL, "both mode flags: EINVAL (%s)",
	   err.text);
	vnb_ep_close(e);
	{
		struct vnb_ep_attr a;

		memset(&a, 0, sizeof(a));
		a.ifname = L2_IF1;
		a.prov = VNB_PROV_XDP;
		a.frame_size = 3000;
		l2_netns_enter(&ns, 1);
		e = vnb_ep_open(&a, &err);
		ok(e == NULL && errno == EINVAL, "frame_size 3000: EINVAL (%s)",
		   err.text);
		vnb_ep_close(e);
		a.frame_size = 0;
		a.ifname = "vnbx-none";
		e = vnb_ep_open(&a, &err);
		ok(e == NULL && errno == ENODEV, "missing interface: ENODEV");
		vnb_ep_close(e);
	}
	ok(!xn_xdp_attached(&ns, 1, L2_IF1),
	   "failed opens leave nothing attached");
	l2_netns_down(&ns);
	return done_testing();
}
