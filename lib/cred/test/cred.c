#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/tap.h"
#include "common/util.h"
#include "cred/cred.h"

#define GOOD                                                                   \
	"vnb1:mac=02:00:00:20:00:40;vlan=10;q=0;mtu=1500;fs=2048;job=42;"      \
	"step=0;rank=3"

static void test_good(void)
{
	struct vnb_cred c, d;
	vnb_error_t err = {{0}};
	char buf[VNB_CRED_MAX], mac[18];

	ok(vnb_cred_decode(GOOD, &c, &err) == 0, "decode: %s", err.text);
	vnb_mac_format(c.mac, mac);
	ok(strcmp(mac, "02:00:00:20:00:40") == 0 && c.vlan == 10 &&
	       c.queue == 0 && c.mtu == 1500 && c.frame_size == 2048 &&
	       c.job == 42 && c.step == 0 && c.rank == 3,
	   "every field decoded");
	is_int(vnb_cred_encode(&c, buf, sizeof(buf)), (long long)strlen(GOOD),
	       "encode returns the length");
	is_str(buf, GOOD, "encode(decode(x)) == x");
	ok(vnb_cred_decode("vnb1:rank=3;step=0;job=42;fs=2048;mtu=1500;q=0;"
			   "vlan=10;mac=02:00:00:20:00:40",
			   &d, &err) == 0 &&
	       memcmp(&c, &d, sizeof(c)) == 0,
	   "field order does not matter");
	c.job = 4294967295u;
	c.queue = 1023;
	c.vlan = 4094;
	c.mtu = 9216;
	c.frame_size = 65536;
	c.step = c.rank = 4294967295u;
	ok(vnb_cred_encode(&c, buf, sizeof(buf)) > 0 &&
	       vnb_cred_decode(buf, &d, &err) == 0 &&
	       memcmp(&c, &d, sizeof(c)) == 0,
	   "the largest values round-trip (%s)", buf);
	ok(vnb_cred_encode(&c, buf, 20) < 0 && errno == ENOSPC,
	   "encode into a short buffer: ENOSPC");
	c.frame_size = 3000;
	ok(vnb_cred_encode(&c, buf, sizeof(buf)) < 0 && errno == EINVAL,
	   "encode refuses a value decode would refuse");
}

static void test_bad(void)
{
	static const struct {
		const char *s;
		const char *msg;
	} t[] = {
	    {"", "version"},
	    {"vnb2:mac=02:00:00:00:00:01", "version"},
	    {"vnb1:", "syntax: empty field"},
	    {"vnb1:;" GOOD, "syntax"},
	    {GOOD ";", "syntax: empty field"},
	    {"vnb1:mac=02:00:00:20:00:40;;vlan=10;q=0;mtu=1500;fs=2048;"
	     "job=42;step=0;rank=3",
	     "syntax: empty field"},
	    {"vnb1:mac=02:00:00:20:00:40;vlan=10;q=0;mtu=1500;fs=2048;job=42;"
	     "step=0",
	     "rank: missing"},
	    {GOOD ";rank=4", "rank: given twice"},
	    {GOOD ";color=red", "color: unknown field"},
	    {GOOD ";junk", "junk: expected NAME=VALUE"},
	    {"vnb1:mac=03:00:00:20:00:40;vlan=10;q=0;mtu=1500;fs=2048;job=42;"
	     "step=0;rank=3",
	     "mac: '03:00:00:20:00:40' is not a unicast MAC"},
	    {"vnb1:mac=02:00:00:20:00;vlan=10;q=0;mtu=1500;fs=2048;job=42;"
	     "step=0;rank=3",
	     "mac:"},
	    {"vnb1:mac=02:00:00:20:00:40;vlan=4095;q=0;mtu=1500;fs=2048;"
	     "job=42;step=0;rank=3",
	     "vlan: must be 0 to 4094"},
	    {"vnb1:mac=02:00:00:20:00:40;vlan=10;q=1024;mtu=1500;fs=2048;"
	     "job=42;step=0;rank=3",
	     "q: must be 0 to 1023"},
	    {"vnb1:mac=02:00:00:20:00:40;vlan=10;q=0;mtu=67;fs=2048;job=42;"
	     "step=0;rank=3",
	     "mtu: must be 68 to 9216"},
	    {"vnb1:mac=02:00:00:20:00:40;vlan=10;q=0;mtu=1500;fs=3000;job=42;"
	     "step=0;rank=3",
	     "fs: must be a power of two"},
	    {"vnb1:mac=02:00:00:20:00:40;vlan=10;q=0;mtu=1500;fs=2048;job=0;"
	     "step=0;rank=3",
	     "job: must be 1 to"},
	    {"vnb1:mac=02:00:00:20:00:40;vlan=10;q=0;mtu=1500;fs=2048;"
	     "job=4294967296;step=0;rank=3",
	     "job: must be"},
	    {"vnb1:mac=02:00:00:20:00:40;vlan=-1;q=0;mtu=1500;fs=2048;job=1;"
	     "step=0;rank=3",
	     "vlan: must be"},
	    {"vnb1:mac=02:00:00:20:00:40;vlan= 1;q=0;mtu=1500;fs=2048;job=1;"
	     "step=0;rank=3",
	     "vlan: must be"},
	    {"vnb1:mac=02:00:00:20:00:40;vlan=1;q=0;mtu=1500;fs=2048;job=1;"
	     "step=0;rank=3x",
	     "rank: must be"},
	    {"vnb1:mac=02:00:00:20:00:40;vlan=1;q=0;mtu=1500;fs=2048;job=1;"
	     "step=0;rank=0000000000000000000000000000000000000000000000000"
	     "000000000000000000000000000000000000000000000000000000000000000"
	     "00000000000000000000000000000001",
	     "length"},
	};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		struct vnb_cred c;
		vnb_error_t err = {{0}};

		memset(&c, 0x5a, sizeof(c));
		errno = 0;
		ok(vnb_cred_decode(t[i].s, &c, &err) < 0 && errno == EINVAL,
		   "bad credential %zu refused", i);
		like(err.text, t[i].msg, "bad credential %zu: names the field",
		     i);
		like(err.text, "queue credential: ", "with the prefix");
	}
	ok(vnb_cred_decode(NULL, NULL, NULL) < 0 && errno == EINVAL,
	   "NULL refused");
}

int main(void)
{
	test_good();
	test_bad();
	return done_testing();
}
