/*
 * Endpoints over the fake provider: addresses, open errors, rings and a
 * full send queue, steering and counters with forged frames, vnb_wait,
 * the loss hook.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tap.h"
#include "common/util.h"
#include "vnb/core.h"
#include "vnb/fake.h"
#include "vnb/frame.h"
#include "vnb/test/fakeep.h"
#include "vnb/vnb.h"

#define JOB 42

/* a whole credential for a MAC that no interface here has */
static const char *const far_cred =
    "vnb1:mac=02:de:ad:be:ef:01;vlan=10;q=0;mtu=1500;fs=2048;job=42;step=0;"
    "rank=3";

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0xa};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0xb};

static struct vnb_ep *open_fake(const char *ifname, const uint8_t mac[6],
				uint16_t queue, uint32_t nframes)
{
	return fake_ep(ifname, mac, queue, JOB, nframes, 512);
}

static void test_prov_name(void)
{
	is_str(vnb_prov_name(VNB_PROV_AUTO), "auto", "prov name auto");
	is_str(vnb_prov_name(VNB_PROV_XDP), "xdp", "prov name xdp");
	is_str(vnb_prov_name(VNB_PROV_PACKET), "packet", "prov name packet");
	is_str(vnb_prov_name(VNB_PROV_UDP), "udp", "prov name udp");
	is_str(vnb_prov_name(VNB_PROV_SHM), "shm", "prov name shm");
	ok(vnb_prov_name((enum vnb_prov)5) == NULL, "prov name 5 is NULL");
	ok(vnb_prov_name((enum vnb_prov) - 1) == NULL, "prov name -1 is NULL");
}

static void test_addr(void)
{
	static const struct {
		const char *s;
		const char *back; /* NULL: refused */
		const char *field; /* the field the message names */
	} t[] = {
	    {"mac=02:00:00:00:00:0a;vlan=10;q=3",
	     "mac=02:00:00:00:00:0a;vlan=10;q=3", NULL},
	    {"q=3;mac=02:00:00:00:00:0A", "mac=02:00:00:00:00:0a;vlan=0;q=3",
	     NULL},
	    {"mac=02:00:00:00:00:0a;vlan=0;q=0;ip=10.0.0.1;port=4791",
	     "mac=02:00:00:00:00:0a;vlan=0;q=0;ip=10.0.0.1;port=4791", NULL},
	    {"mac=02:00:00:00:00:0a;q=1;shm=job42.r3",
	     "mac=02:00:00:00:00:0a;vlan=0;q=1;shm=job42.r3", NULL},
	    {"mac=02:00:00:00:00:0a;q=65535;vlan=4094",
	     "mac=02:00:00:00:00:0a;vlan=4094;q=65535", NULL},
	    {"", NULL, "address"},
	    {"q=1", NULL, "mac"},
	    {"mac=02:00:00:00:00:0a", NULL, "q"},
	    {"mac=02:00:00:00:00:0a;q=1;", NULL, "syntax"},
	    {";mac=02:00:00:00:00:0a;q=1", NULL, "syntax"},
	    {"mac=02:00:00:00:00:0a;;q=1", NULL, "syntax"},
	    {"mac=02:00:00:00:00;q=1", NULL, "mac"},
	    {"mac=;q=1", NULL, "mac"},
	    {"mac=02:00:00:00:00:0a;q=1;vlan=4095", NULL, "vlan"},
	    {"mac=02:00:00:00:00:0a;q=1;vlan=-1", NULL, "vlan"},
	    {"mac=02:00:00:00:00:0a;q=65536", NULL, "q"},
	    {"mac=02:00:00:00:00:0a;q=1x", NULL, "q"},
	    {"mac=02:00:00:00:00:0a;q= 1", NULL, "q"},
	    {"mac=02:00:00:00:00:0a;q=1;q=2", NULL, "q"},
	    {"mac=02:00:00:00:00:0a;q=1;colour=red", NULL, "colour"},
	    {"mac=02:00:00:00:00:0a;q=1;junk", NULL, "junk"},
	    {"mac=02:00:00:00:00:0a;q=1;ip=10.0.0.1", NULL, "port"},
	    {"mac=02:00:00:00:00:0a;q=1;port=5", NULL, "ip"},
	    {"mac=02:00:00:00:00:0a;q=1;ip=10.0.0.256;port=5", NULL, "ip"},
	    {"mac=02:00:00:00:00:0a;q=1;ip=10.0.0;port=5", NULL, "ip"},
	    {"mac=02:00:00:00:00:0a;q=1;ip=10.0.0.01;port=5", NULL, "ip"},
	    {"mac=02:00:00:00:00:0a;q=1;ip=10.0.0.1.2;port=5", NULL, "ip"},
	    {"mac=02:00:00:00:00:0a;q=1;ip=10.0.0.1;port=0", NULL, "port"},
	    {"mac=02:00:00:00:00:0a;q=1;ip=10.0.0.1;port=65536", NULL, "port"},
	    {"mac=02:00:00:00:00:0a;q=1;shm=../x", NULL, "shm"},
	    {"mac=02:00:00:00:00:0a;q=1;shm=a/b", NULL, "shm"},
	    {"mac=02:00:00:00:00:0a;q=1;shm=0123456789012345678901234567890"
	     "12",
	     NULL, "shm"},
	};
	char buf[160];
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		vnb_error_t err = {{0}};
		struct vnb_addr a;
		int rc;

		errno = 0;
		rc = vnb_addr_parse(t[i].s, &a, &err);
		if (t[i].back) {
			ok(rc == 0 && vnb_addr_format(&a, buf, sizeof(buf)) > 0,
			   "addr '%s' parses", t[i].s);
			is_str(buf, t[i].back, "addr '%s' formats back",
			       t[i].s);
		} else {
			char want[64];

			ok(rc == -1 && errno == EINVAL,
			   "addr '%s' refused with EINVAL", t[i].s);
			snprintf(want, sizeof(want),
				 "endpoint address: %s:", t[i].field);
			like(err.text, want, "addr '%s': message names %s",
			     t[i].s, t[i].field);
		}
	}
	{
		struct vnb_addr a;

		memset(&a, 0, sizeof(a));
		ok(vnb_addr_format(&a, buf, 10) == -1 && errno == ENOSPC,
		   "format into 10 bytes: ENOSPC");
		ok(vnb_addr_parse(NULL, &a, NULL) == -1 && errno == EINVAL,
		   "parse NULL: EINVAL");
	}
}

static void test_ifname_by_mac(void)
{
	char dir[] = "/tmp/vnb-sysnet-XXXXXX", path[256], name[VNB_IFNAMSIZ];
	static const struct {
		const char *ifname, *mac;
		bool lower;
	} ifs[] = {
	    {"lo", "00:00:00:00:00:00", false},
	    {"eth0.10", "02:00:00:00:00:0a", true},
	    {"eth0", "02:00:00:00:00:0a", false},
	    {"eth1", "02:00:00:00:00:0b", false},
	    {"eth2", "02:00:00:00:00:0b", false},
	};
	uint8_t mac[6];
	size_t i;
	int fd;

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	for (i = 0; i < VNB_ARRAY_SIZE(ifs); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, ifs[i].ifname);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/%s/address", dir,
			 ifs[i].ifname);
		f = fopen(path, "w");
		fprintf(f, "%s\n", ifs[i].mac);
		fclose(f);
		if (ifs[i].lower) {
			snprintf(path, sizeof(path), "%s/%s/lower_eth0", dir,
				 ifs[i].ifname);
			mkdir(path, 0755);
		}
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	vnb_mac_parse("02:00:00:00:00:0a", mac);
	ok(vnb_ifname_by_mac(fd, mac, name) == 0, "MAC of eth0 found");
	is_str(name, "eth0", "eth0 beats its VLAN device eth0.10");
	vnb_mac_parse("02:00:00:00:00:0b", mac);
	ok(vnb_ifname_by_mac(fd, mac, name) == 0 && !strcmp(name, "eth1"),
	   "two plain matches: the first name wins (eth1)");
	vnb_mac_parse("02:00:00:00:00:0c", mac);
	ok(vnb_ifname_by_mac(fd, mac, name) == -1 && errno == ENODEV,
	   "unknown MAC: ENODEV");
	close(fd);
	for (i = 0; i < VNB_ARRAY_SIZE(ifs); i++) {
		snprintf(path, sizeof(path), "%s/%s/address", dir,
			 ifs[i].ifname);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s/lower_eth0", dir,
			 ifs[i].ifname);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/%s", dir, ifs[i].ifname);
		rmdir(path);
	}
	rmdir(dir);
}

static void test_open_errors(void)
{
	struct vnb_ep_attr a;
	vnb_error_t err = {{0}};
	struct vnb_ep *ep, *ep2;

	errno = 0;
	ok(vnb_ep_open(NULL, &err) == NULL && errno == EINVAL,
	   "NULL attr: EINVAL");
	memset(&a, 0, sizeof(a));
	a.ifname = "lo";
	a.prov = (enum vnb_prov)9;
	ok(vnb_ep_open(&a, &err) == NULL && errno == EINVAL, "prov 9: EINVAL");
	like(err.text, "attr.prov", "message names attr.prov");
	a.prov = VNB_PROV_AUTO;
	a.vlan = 4095;
	ok(vnb_ep_open(&a, &err) == NULL && errno == EINVAL,
	   "vlan 4095: EINVAL");
	like(err.text, "attr.vlan", "message names attr.vlan");
	a.vlan = 0;
	a.frame_size = 64;
	ok(vnb_ep_open(&a, &err) == NULL && errno == EINVAL,
	   "frame_size 64: EINVAL");
	like(err.text, "attr.frame_size", "message names attr.frame_size");
	a.frame_size = 0;
	a.nframes = 2;
	ok(vnb_ep_open(&a, &err) == NULL && errno == EINVAL,
	   "nframes 2: EINVAL");
	a.nframes = 0;
	a.ifname = "../../etc";
	ok(vnb_ep_open(&a, &err) == NULL && errno == EINVAL,
	   "ifname with a slash: EINVAL");
	a.ifname = NULL;
	ok(vnb_ep_open(&a, &err) == NULL && errno == EINVAL,
	   "neither ifname nor MAC: EINVAL");
	like(err.text, "attr.mac", "message says to set attr.mac");
	vnb_mac_parse("02:de:ad:be:ef:01", a.mac);
	ok(vnb_ep_open(&a, &err) == NULL && errno == ENODEV,
	   "MAC no interface has: ENODEV");
	like(err.text, "02:de:ad:be:ef:01", "message names the MAC");

	/* this test links no real provider */
	memset(&a, 0, sizeof(a));
	a.ifname = "lo";
	a.prov = VNB_PROV_XDP;
	ok(vnb_ep_open(&a, &err) == NULL && errno == EPROTONOSUPPORT,
	   "provider not built in: EPROTONOSUPPORT");
	like(err.text, "xdp", "message names the provider");
	a.prov = VNB_PROV_AUTO;
	ok(vnb_ep_open(&a, &err) == NULL && errno == EPROTONOSUPPORT,
	   "auto with no provider: EPROTONOSUPPORT");
	like(err.text, "no provider works here", "auto says none works");

	ok(vnb_ep_open_cred("vnb1:mac=02:00:00:00:00:01", VNB_PROV_AUTO,
			    &err) == NULL &&
	       errno == EINVAL,
	   "incomplete credential: EINVAL");
	like(err.text, "queue credential", "message is about the credential");
	ok(vnb_ep_open_cred(far_cred, VNB_PROV_AUTO, &err) == NULL &&
	       errno == ENODEV,
	   "credential for a MAC not here: ENODEV");
	setenv("VNB_XDP_MODE", "zerocopy", 1);
	ok(vnb_ep_open_cred(far_cred, VNB_PROV_AUTO, &err) == NULL &&
	       errno == EINVAL,
	   "a bad VNB_XDP_MODE: EINVAL");
	like(err.text,
	     "VNB_XDP_MODE=zerocopy in the environment: expected skb or native",
	     "the message names the variable and what it takes");
	setenv("VNB_XDP_MODE", "native", 1);
	ok(vnb_ep_open_cred(far_cred, VNB_PROV_AUTO, &err) == NULL &&
	       errno == ENODEV,
	   "VNB_XDP_MODE=native is taken");
	unsetenv("VNB_XDP_MODE");

	ep = open_fake("busy0", mac_a, 1, 16);
	memset(&a, 0, sizeof(a));
	a.ifname = "busy0";
	memcpy(a.mac, mac_a, 6);
	a.queue = 1;
	a.flags = VNB_EP_FAKE;
	ok(vnb_ep_open(&a, &err) == NULL && errno == EBUSY,
	   "same queue twice: EBUSY");
	like(err.text, "queue 1", "message names the queue");
	a.queue = 2;
	ep2 = vnb_ep_open(&a, &err);
	ok(ep2 != NULL, "another queue of the same MAC opens");
	ok(vnb_ep_max_payload(ep2) == 2048 - 14 - 16,
	   "default frame size 2048: max payload 2018");
	is_str(vnb_ep_mode(ep2), "fake", "mode is reported");
	vnb_ep_close(ep2);
	vnb_ep_close(ep);
	errno = E2BIG;
	vnb_ep_close(NULL);
	is_int(errno, E2BIG, "close(NULL) keeps errno");
}

static struct vnb_addr addr_of(struct vnb_ep *ep)
{
	struct vnb_addr a;

	vnb_ep_addr(ep, &a);
	return a;
}

static void test_send_recv(void)
{
	struct vnb_ep *a = open_fake("wire0", mac_a, 1, 8);
	struct vnb_ep *b = open_fake("wire0", mac_b, 2, 8);
	struct vnb_addr to_b = addr_of(b), to_a = addr_of(a);
	struct vnb_counters c;
	struct vnb_cqe cqe[16];
	char big[600];
	uint64_t expect[8] = {0};
	uint32_t first = 0;
	bool ctx_ok = true;
	int i, n, sent;

	is_int((long long)vnb_ep_max_payload(a), 512 - 30,
	       "max payload = frame_size - 30");
	ok(memcmp(to_b.mac, mac_b, 6) == 0 && to_b.queue == 2,
	   "vnb_ep_addr gives MAC and queue");
	ok(vnb_ep_fd(a) >= 0, "fake has a pollable fd");
	is_int(vnb_wait(b, 0), 0, "nothing to wait for yet");

	ok(vnb_post_send(a, &to_b, "hello", 5, 100) == 0, "send 5 bytes");
	is_int(vnb_wait(b, 1000), 1, "receiver wakes up");
	n = vnb_poll_cq(b, cqe, 16);
	is_int(n, 1, "one completion at b");
	ok(n == 1 && cqe[0].type == VNB_CQE_RECV && cqe[0].len == 5 &&
	       memcmp(cqe[0].data, "hello", 5) == 0 && cqe[0].src_queue == 1 &&
	       memcmp(cqe[0].src_mac, mac_a, 6) == 0 && cqe[0].seq == 0 &&
	       cqe[0].status == 0 && cqe[0].context == 0,
	   "RECV cqe: payload, length, source, sequence");
	first = cqe[0].frame;
	ok(vnb_post_recv(b, cqe[0].frame, 77) == 0, "post the frame back");
	ok(vnb_post_recv(b, cqe[0].frame, 77) == -1 && errno == EINVAL,
	   "posting it twice: EINVAL");
	ok(vnb_post_recv(b, 8, 0) == -1 && errno == EINVAL,
	   "frame id out of range: EINVAL");
	n = vnb_poll_cq(a, cqe, 16);
	ok(n == 1 && cqe[0].type == VNB_CQE_SEND && cqe[0].context == 100,
	   "SEND cqe with the context");

	/* 0-byte payload, and the largest */
	memset(big, 'x', sizeof(big));
	ok(vnb_post_send(a, &to_b, NULL, 0, 1) == 0, "0-byte payload sent");
	ok(vnb_post_send(a, &to_b, big, 482, 2) == 0, "482-byte payload sent");
	ok(vnb_post_send(a, &to_b, big, 483, 3) == -1 && errno == EMSGSIZE,
	   "483 bytes: EMSGSIZE");
	like(vnb_ep_error(a), "483", "message names the size given");
	like(vnb_ep_error(a), "482", "message names the largest");
	ok(vnb_post_send(a, NULL, big, 1, 3) == -1 && errno == EINVAL,
	   "NULL destination: EINVAL");
	n = vnb_poll_cq(b, cqe, 16);
	ok(n == 2 && cqe[0].len == 0 && cqe[1].len == 482 && cqe[0].seq == 1 &&
	       cqe[1].seq == 2,
	   "both arrive, in order, sequence numbers 1 and 2");
	expect[first] = 77;
	for (i = 0; i < n; i++) {
		vnb_post_recv(b, cqe[i].frame, 1000 + cqe[i].frame);
		expect[cqe[i].frame] = 1000 + cqe[i].frame;
	}

	/* the send queue: 4 send frames */
	vnb_poll_cq(a, cqe, 16);
	for (sent = 0; sent < 10; sent++)
		if (vnb_post_send(a, &to_a, "q", 1, (uint64_t)sent) < 0)
			break;
	is_int(sent, 4, "4 sends fill a send queue of 4 frames");
	is_int(errno, EAGAIN, "the 5th: EAGAIN");
	ok(vnb_post_send(a, &to_a, "q", 1, 9) == -1 && errno == EAGAIN,
	   "still full");
	vnb_ep_counters(a, &c);
	is_int((long long)c.tx_queue_full, 2, "tx_queue_full counts both");
	n = vnb_poll_cq(a, cqe, 2);
	ok(n == 2 && cqe[0].context == 0 && cqe[1].context == 1,
	   "poll with max 2 gives 2 SEND cqes, in order");
	n = vnb_poll_cq(a, cqe, 16);
	ok(n == 2 && cqe[0].context == 2 && cqe[1].context == 3,
	   "then the other 2");
	ok(vnb_post_send(a, &to_a, "q", 1, 5) == 0, "room again after reaping");
	vnb_poll_cq(a, cqe, 16);

	/* b does not poll: 4 receive buffers, 6 frames */
	for (i = 0; i < 6; i++) {
		vnb_post_send(a, &to_b, "r", 1, 0);
		vnb_poll_cq(a, cqe, 16);
	}
	vnb_ep_counters(b, &c);
	is_int((long long)c.rx_no_buffer, 2, "2 frames found no buffer");
	n = vnb_poll_cq(b, cqe, 16);
	is_int(n, 4, "4 frames were received");
	for (i = 0; i < n; i++) {
		ctx_ok &= cqe[i].context == expect[cqe[i].frame];
		vnb_post_recv(b, cqe[i].frame, 0);
	}
	ok(ctx_ok, "each RECV cqe has the context its frame was posted with");
	vnb_ep_counters(b, &c);
	is_int((long long)c.rx_frames, 7, "rx_frames 7");
	is_int((long long)c.rx_bytes, 5 + 0 + 482 + 4, "rx_bytes");
	vnb_ep_counters(a, &c);
	is_int((long long)c.tx_frames, 14, "tx_frames 14");

	/* all lost */
	vnb_ep_set_rx_loss(b, 1000000, 1);
	vnb_post_send(a, &to_b, "l", 1, 0);
	is_int(vnb_poll_cq(b, cqe, 16), 0, "loss 100%%: nothing delivered");
	vnb_ep_set_rx_loss(b, 0, 0);
	vnb_post_send(a, &to_b, "l", 1, 0);
	n = vnb_poll_cq(b, cqe, 16);
	is_int(n, 1, "loss 0%%: delivered, and the lost frame went back");
	vnb_post_recv(b, cqe[0].frame, 0);
	vnb_ep_close(a);
	vnb_ep_close(b);
}

/* Forged frames: each is dropped, counted, and never delivered. */
static void test_steering(void)
{
	struct vnb_ep *a = open_fake("steer0", mac_a, 1, 16);
	struct vnb_counters c0, c;
	struct vnb_cqe cqe[16];
	static const struct {
		const char *name;
		uint32_t job;
		uint16_t dst_q;
		int dst_mac_b; /* addressed to another MAC */
		int vlan;
		uint16_t type; /* 0: vnb */
		int version;
		int len; /* -1: the payload's */
		int cut; /* -1: whole */
		int counter; /* 0 job, 1 queue, 2 malformed, 3 delivered */
	} t[] = {
	    {"other job tag", 43, 1, 0, 0, 0, 1, -1, -1, 0},
	    {"job tag 0", 0, 1, 0, 0, 0, 1, -1, -1, 0},
	    {"other queue", JOB, 2, 0, 0, 0, 1, -1, -1, 1},
	    {"other MAC", JOB, 1, 1, 0, 0, 1, -1, -1, 1},
	    {"other EtherType", JOB, 1, 0, 0, 0x0800, 1, -1, -1, 2},
	    {"short (10 bytes)", JOB, 1, 0, 0, 0, 1, -1, 10, 2},
	    {"header cut", JOB, 1, 0, 0, 0, 1, -1, 20, 2},
	    {"bad version", JOB, 1, 0, 0, 0, 2, -1, -1, 2},
	    {"len beyond the frame", JOB, 1, 0, 0, 0, 1, 200, -1, 2},
	    {"tagged, other job", 44, 1, 0, 7, 0, 1, -1, -1, 0},
	    {"valid (control)", JOB, 1, 0, 0, 0, 1, -1, -1, 3},
	    {"valid tagged (control)", JOB, 1, 0, 7, 0, 1, -1, -1, 3},
	};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		struct vnb_hdr h = {VNB_HDR_VERSION, 0, 8, t[i].job, 5,
				    t[i].dst_q,	     1};
		uint8_t f[128];
		size_t n, len;
		int got;

		n = vnb_frame_build(f, sizeof(f), true,
				    t[i].dst_mac_b ? mac_b : mac_a, mac_b,
				    (uint16_t)t[i].vlan, &h);
		memcpy(f + n, "payload!", 8);
		len = n + 8;
		f[n - 16] = (uint8_t)t[i].version;
		if (t[i].len >= 0)
			f[n - 13] = (uint8_t)t[i].len;
		if (t[i].type) {
			f[n - 18] = (uint8_t)(t[i].type >> 8);
			f[n - 17] = (uint8_t)t[i].type;
		}
		if (t[i].cut >= 0)
			len = (size_t)t[i].cut;
		vnb_ep_counters(a, &c0);
		ok(vnb_fake_inject(a, f, len) == 0, "%s: injected", t[i].name);
		got = vnb_poll_cq(a, cqe, 16);
		vnb_ep_counters(a, &c);
		if (t[i].counter == 3) {
			ok(got == 1 && cqe[0].len == 8 &&
			       memcmp(cqe[0].data, "payload!", 8) == 0,
			   "%s: delivered", t[i].name);
			if (got == 1)
				vnb_post_recv(a, cqe[0].frame, 0);
			continue;
		}
		is_int(got, 0, "%s: not delivered", t[i].name);
		is_int((long long)(c.rx_foreign_job - c0.rx_foreign_job),
		       t[i].counter == 0, "%s: rx_foreign_job", t[i].name);
		is_int((long long)(c.rx_foreign_queue - c0.rx_foreign_queue),
		       t[i].counter == 1, "%s: rx_foreign_queue", t[i].name);
		is_int((long long)(c.rx_malformed - c0.rx_malformed),
		       t[i].counter == 2, "%s: rx_malformed", t[i].name);
		is_int((long long)(c.rx_frames - c0.rx_frames), 0,
		       "%s: rx_frames unchanged", t[i].name);
	}
	/* every dropped frame went back to the receive queue: 8 buffers,
	 * 12 frames, no rx_no_buffer */
	vnb_ep_counters(a, &c);
	is_int((long long)c.rx_no_buffer, 0,
	       "dropped frames give their buffers back");
	vnb_ep_close(a);
}

/* Zero-copy sends into a registered frame, and frames the caller built. */
static void test_send_buf_and_frame(void)
{
	struct vnb_ep *a = open_fake("zc0", mac_a, 1, 4);
	struct vnb_ep *b = open_fake("zc0", mac_b, 2, 8);
	struct vnb_addr to_b = addr_of(b);
	struct vnb_counters c;
	struct vnb_cqe cqe[8];
	struct vnb_hdr h = {VNB_HDR_VERSION, 0, 4, JOB, 1, 2, 7};
	uint8_t frame[128];
	size_t cap = 0, off;
	char *p, *q;
	int n, i;

	p = vnb_send_buf(a, &cap);
	ok(p && cap == vnb_ep_max_payload(a), "send_buf: a frame of %zu bytes",
	   cap);
	q = vnb_send_buf(a, &cap);
	ok(q == p, "asked again before posting: the same frame");
	memcpy(p, "zero-copy", 9);
	ok(vnb_post_send_buf(a, &to_b, 9, 5) == 0, "post_send_buf");
	n = vnb_poll_cq(b, cqe, 8);
	ok(n == 1 && cqe[0].len == 9 &&
	       memcmp(cqe[0].data, "zero-copy", 9) == 0 &&
	       cqe[0].src_queue == 1,
	   "the receiver gets the payload written in place, with headers");
	vnb_post_recv(b, cqe[0].frame, 0);
	ok(vnb_post_send_buf(a, &to_b, cap + 1, 6) < 0 && errno == EMSGSIZE,
	   "post_send_buf over the frame: EMSGSIZE");
	vnb_poll_cq(a, cqe, 8);

	/* a send queue of 2 (half of 4 frames): full after 2 posts */
	for (i = 0; i < 2; i++) {
		p = vnb_send_buf(a, &cap);
		ok(p && vnb_post_send_buf(a, &to_b, 1, 10 + i) == 0,
		   "fill send frame %d", i);
	}
	errno = 0;
	ok(!vnb_send_buf(a, &cap) && errno == EAGAIN,
	   "send_buf with the send queue full: EAGAIN");
	n = vnb_poll_cq(a, cqe, 8);
	ok(n == 2 && vnb_send_buf(a, &cap), "after reaping, a frame again");
	n = vnb_poll_cq(b, cqe, 8);
	for (i = 0; i < n; i++)
		vnb_post_recv(b, cqe[i].frame, 0);

	/* A frame built by the caller is sent as is. */
	off = vnb_frame_build(frame, sizeof(frame), true, mac_b, mac_a, 0, &h);
	memcpy(frame + off, "mine", 4);
	ok(vnb_post_send_frame(a, NULL, frame, off + 4, 20) == 0,
	   "post_send_frame of a caller-built frame");
	n = vnb_poll_cq(b, cqe, 8);
	ok(n == 1 && cqe[0].len == 4 && memcmp(cqe[0].data, "mine", 4) == 0 &&
	       cqe[0].seq == 7,
	   "delivered with the caller's header (sequence 7)");
	vnb_post_recv(b, cqe[0].frame, 0);
	/* ...and a forged one is still steered away at the receiver. */
	h.job = JOB + 1;
	vnb_frame_build(frame, sizeof(frame), true, mac_b, mac_a, 0, &h);
	vnb_ep_counters(b, &c);
	ok(vnb_post_send_frame(a, NULL, frame, off + 4, 21) == 0,
	   "a frame with another job's tag can be sent");
	n = vnb_poll_cq(b, cqe, 8);
	is_int(n, 0, "but the receiver does not deliver it");
	{
		struct vnb_counters c2;

		vnb_ep_counters(b, &c2);
		is_int((long long)(c2.rx_foreign_job - c.rx_foreign_job), 1,
		       "it is counted as another job's");
	}
	ok(vnb_post_send_frame(a, NULL, frame, 4096, 22) < 0 &&
	       errno == EMSGSIZE,
	   "post_send_frame over a registered frame: EMSGSIZE");
	ok(vnb_post_send_frame(a, NULL, NULL, 10, 22) < 0 && errno == EINVAL,
	   "NULL frame: EINVAL");
	vnb_ep_close(a);
	vnb_ep_close(b);
}

/* A batch: every message goes out, in order, with one flush; a short
 * batch when the send queue fills or a message is too large. */
static void test_batch(void)
{
	struct vnb_ep *a = open_fake("wire3", mac_a, 1, 16);
	struct vnb_ep *b = open_fake("wire3", mac_b, 2, 16);
	struct vnb_addr to_b = addr_of(b);
	struct vnb_msg m[10];
	struct vnb_counters c;
	struct vnb_cqe cqe[32];
	char pay[10][8], big[600];
	bool in_order = true;
	uint32_t seq0 = 0;
	int i, n, got = 0;

	for (i = 0; i < 10; i++) {
		snprintf(pay[i], sizeof(pay[i]), "msg%d", i);
		m[i].buf = pay[i];
		m[i].len = strlen(pay[i]);
		m[i].context = 500 + (uint64_t)i;
	}
	is_int(vnb_post_send_batch(a, &to_b, m, 0), 0, "a batch of 0: 0");
	is_int((long long)vnb_fake_flushes(a), 0, "... and no flush");
	is_int(vnb_post_send_batch(a, &to_b, m, 5), 5, "a batch of 5: 5");
	is_int((long long)vnb_fake_flushes(a), 1, "... with one flush");
	n = vnb_poll_cq(b, cqe, 32);
	for (i = 0; i < n; i++) {
		if (i == 0)
			seq0 = cqe[i].seq;
		if (cqe[i].type != VNB_CQE_RECV || cqe[i].len != m[i].len ||
		    memcmp(cqe[i].data, pay[i], m[i].len) != 0 ||
		    cqe[i].seq != seq0 + (uint32_t)i)
			in_order = false;
		vnb_post_recv(b, cqe[i].frame, 0);
	}
	ok(n == 5 && in_order, "b gets all 5, in order, with consecutive "
			       "sequence numbers");
	n = vnb_poll_cq(a, cqe, 32);
	in_order = n == 5;
	for (i = 0; i < n; i++)
		if (cqe[i].type != VNB_CQE_SEND ||
		    cqe[i].context != 500 + (uint64_t)i)
			in_order = false;
	ok(in_order, "a gets 5 send completions with the contexts in order");

	/* the first too large: nothing sent */
	memset(big, 'x', sizeof(big));
	m[0].buf = big;
	m[0].len = 483;
	ok(vnb_post_send_batch(a, &to_b, m, 3) == -1 && errno == EMSGSIZE,
	   "the first message too large: -1, EMSGSIZE");
	is_int((long long)vnb_fake_flushes(a), 1, "... and no flush");
	/* the second too large: one sent */
	m[0].buf = pay[0];
	m[0].len = strlen(pay[0]);
	m[1].buf = big;
	m[1].len = 483;
	is_int(vnb_post_send_batch(a, &to_b, m, 3), 1,
	       "the second message too large: 1 sent");
	like(vnb_ep_error(a), "483", "... and vnb_ep_error names its size");
	is_int((long long)vnb_fake_flushes(a), 2, "... flushed");
	m[1].buf = pay[1];
	m[1].len = strlen(pay[1]);
	n = vnb_poll_cq(b, cqe, 32);
	ok(n == 1 && cqe[0].len == m[0].len, "b gets that one");
	for (i = 0; i < n; i++)
		vnb_post_recv(b, cqe[i].frame, 0);
	vnb_poll_cq(a, cqe, 32);

	/* 8 send frames: a batch of 10 sends 8 */
	is_int(vnb_post_send_batch(a, &to_b, m, 10), 8,
	       "a batch of 10 with 8 free send frames: 8");
	vnb_ep_counters(a, &c);
	is_int((long long)c.tx_queue_full, 1, "... counted in tx_queue_full");
	ok(vnb_post_send_batch(a, &to_b, m, 2) == -1 && errno == EAGAIN,
	   "the send queue full: -1, EAGAIN");
	n = vnb_poll_cq(b, cqe, 32);
	for (i = 0; i < n; i++)
		if (cqe[i].type == VNB_CQE_RECV) {
			got++;
			vnb_post_recv(b, cqe[i].frame, 0);
		}
	is_int(got, 8, "b gets the 8");

	ok(vnb_post_send_batch(NULL, &to_b, m, 1) == -1 && errno == EINVAL,
	   "NULL endpoint: EINVAL");
	ok(vnb_post_send_batch(a, NULL, m, 1) == -1 && errno == EINVAL,
	   "NULL destination: EINVAL");
	ok(vnb_post_send_batch(a, &to_b, NULL, 1) == -1 && errno == EINVAL,
	   "NULL messages: EINVAL");
	ok(vnb_post_send_batch(a, &to_b, m, -1) == -1 && errno == EINVAL,
	   "n < 0: EINVAL");
	vnb_ep_close(a);
	vnb_ep_close(b);
}

int main(void)
{
	test_prov_name();
	test_addr();
	test_ifname_by_mac();
	test_open_errors();
	test_send_recv();
	test_steering();
	test_send_buf_and_frame();
	test_batch();
	return done_testing();
}
