/*
 * Unit tests of lib/conf/conf.c: every bad input gives -1/NULL, errno and
 * a one-line message with file:line:column and the key; good input gives
 * every value and every default.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tap.h"
#include "common/util.h"
#include "conf/conf.h"

/* A minimal valid file, in pieces that the bad cases reuse. */
#define POOLS                                                                  \
	"pools:\n"                                                             \
	"  - name: p\n"                                                        \
	"    backend: macvtap\n"                                               \
	"    devices: [d0, d1]\n"
#define TENANTS                                                                \
	"tenants:\n"                                                           \
	"  - name: t\n"                                                        \
	"    partitions: [p1]\n"                                               \
	"    images:\n"                                                        \
	"      - name: i\n"                                                    \
	"        disk: /i.qcow2\n"
/* A tenant item without the "tenants:" line; line 1 is "  - name: NAME". */
#define TENANT(name, part)                                                     \
	"  - name: " name "\n"                                                 \
	"    partitions: [" part "]\n"                                         \
	"    images: [{name: i, disk: /i.qcow2}]\n"
#define IMG "    images: [{name: i, disk: /i.qcow2}]\n"

static const struct bad {
	const char *what;
	const char *yaml;
	const char *where; /* "LINE:COL: KEY" the message starts with */
	const char *text; /* and a part of what it says */
} bad[] = {
    {"empty file", "", "1:1", "the file is empty"},
    {"only comments", "# nothing here\n\n", "1:1", "the file is empty"},
    {"only a document marker", "---\n", "1:1", "the file is empty"},
    {"unclosed flow list", "pools: [a, b\n", "2:1",
     "YAML syntax error: did not find expected ',' or ']'"},
    {"bad indentation", "pools:\n  - name: p\n   backend: x\n", "3:4",
     "YAML syntax error: did not find expected '-' indicator"},
    {"tab indentation", "pools:\n\t- name: p\n", "2:1",
     "YAML syntax error: found character that cannot start any token"},
    {"invalid UTF-8", "pools: \xff\xfe\n", "1:8", "YAML syntax error"},
    {"anchor", POOLS "tenants:\n  - &t\n    name: t\n", "6:5",
     "anchors and aliases are not supported"},
    {"alias", "node: &n {}\nx: *n\n", "1:7",
     "anchors and aliases are not supported"},
    {"tag", "node: !!map {}\n", "1:7", "tags (!...) are not supported"},
    {"two documents", POOLS TENANTS "---\n" POOLS, "11:1",
     "a second YAML document"},
    {"a list at the top", "- a\n- b\n", "1:1",
     "expected a mapping with the keys node, pools and tenants at the top, "
     "got a list"},
    {"a string at the top", "hello\n", "1:1",
     "expected a mapping with the keys node, pools and tenants at the top, "
     "got 'hello'"},
    {"unknown top-level key", POOLS TENANTS "pool: x\n", "11:1: pool",
     "unknown key (did you mean 'pools'?); "
     "allowed keys here: node, pools, tenants"},
    {"duplicate top-level key", POOLS TENANTS POOLS, "11:1: pools",
     "duplicate key (first at line 1); give each key once"},
    {"key that is a list", "? [a]\n: b\n", "1:3",
     "a key must be a plain word, not a list"},
    {"missing pools", TENANTS, "1:1: pools",
     "missing; list at least one vNIC pool"},
    {"missing tenants", POOLS, "1:1: tenants",
     "missing; list at least one tenant"},
    {"pools is a mapping", "pools: {a: 1}\n" TENANTS, "1:8: pools",
     "expected a list, got a mapping"},
    {"pools is empty", "pools: []\n" TENANTS, "1:8: pools",
     "an empty list; give at least one pool"},
    {"tenants is empty", POOLS "tenants: []\n", "5:10: tenants",
     "an empty list; give at least one tenant"},
    {"node is a number", "node: 5\n" POOLS TENANTS, "1:7: node",
     "expected a mapping, got '5'"},
    {"node is empty", "node:\n" POOLS TENANTS, "1:6: node",
     "expected a mapping, got an empty value"},
    {"unknown node key", "node:\n  statedir: /x\n" POOLS TENANTS,
     "2:3: node.statedir",
     "unknown key (did you mean 'state_dir'?); "
     "allowed keys here: state_dir, run_dir, libvirt_uri, "
     "boot_timeout"},
    {"relative state_dir", "node: {state_dir: var/lib}\n" POOLS TENANTS,
     "1:19: node.state_dir",
     "'var/lib' is not an absolute path; write it from /"},
    {"run_dir is a list", "node: {run_dir: [/a]}\n" POOLS TENANTS,
     "1:17: node.run_dir", "expected a string, got a list"},
    {"boot_timeout 0", "node: {boot_timeout: 0}\n" POOLS TENANTS,
     "1:22: node.boot_timeout", "0 is out of range (1-3600 seconds)"},
    {"boot_timeout 3601", "node: {boot_timeout: 3601}\n" POOLS TENANTS,
     "1:22: node.boot_timeout", "3601 is out of range (1-3600 seconds)"},
    {"boot_timeout a word", "node: {boot_timeout: soon}\n" POOLS TENANTS,
     "1:22: node.boot_timeout",
     "expected an integer (1-3600 seconds), got 'soon'"},
    {"libvirt_uri too long",
     "node: {libvirt_uri: "
     "qemu:///xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx}\n" POOLS TENANTS,
     "1:21: node.libvirt_uri", "too long; at most 255 characters"},
    {"pool is a string", "pools: [fabric]\n" TENANTS, "1:9: pools[0]",
     "expected a mapping, got 'fabric'"},
    {"unknown pool key",
     "pools:\n  - name: p\n    backend: macvtap\n    device: [d0]\n" TENANTS,
     "4:5: pools[0].device",
     "unknown key (did you mean 'devices'?); "
     "allowed keys here: name, backend, devices, pf, vfs"},
    {"pool without name",
     "pools:\n  - backend: macvtap\n    devices: [d0]\n" TENANTS,
     "2:5: pools[0].name", "missing; give the pool a name"},
    {"pool name with a slash",
     "pools:\n  - name: a/b\n    backend: macvtap\n    devices: [d0]\n" TENANTS,
     "2:11: pools[0].name",
     "invalid name 'a/b'; use 1-63 characters from A-Z a-z 0-9 . _ -"},
    {"pool without backend", "pools:\n  - name: p\n    devices: [d0]\n" TENANTS,
     "2:5: pools[0].backend",
     "missing; give 'macvtap' (lower devices) or 'sriov'"},
    {"unknown backend",
     "pools:\n  - name: p\n    backend: vfio\n    devices: [d0]\n" TENANTS,
     "3:14: pools[0].backend",
     "unknown backend 'vfio'; allowed: macvtap, "
     "sriov"},
    {"duplicate pool name",
     POOLS "  - name: p\n    backend: macvtap\n    devices: [d9]\n" TENANTS,
     "5:11: pools[1].name",
     "pool 'p' is defined twice (first at line 2); give each pool its own "
     "name"},
    {"device listed twice in a pool",
     "pools:\n  - name: p\n    backend: macvtap\n    devices: [d0, d1, "
     "d0]\n" TENANTS,
     "4:23: pools[0].devices[2]",
     "device 'd0' is listed twice in this pool (first at line 4)"},
    {"device in two pools",
     POOLS "  - name: q\n    backend: macvtap\n    devices:\n      - d2\n"
	   "      - d1\n" TENANTS,
     "9:9: pools[1].devices[1]",
     "device 'd1' is already in pool 'p' (line 4); a device may belong to "
     "one pool only"},
    {"device name too long",
     "pools:\n  - name: p\n    backend: macvtap\n"
     "    devices: [abcdefghijklmnop]\n" TENANTS,
     "4:15: pools[0].devices[0]",
     "invalid interface name 'abcdefghijklmnop'; use 1-15 characters"},
    {"devices empty",
     "pools:\n  - name: p\n    backend: macvtap\n"
     "    devices: []\n" TENANTS,
     "4:14: pools[0].devices", "an empty list; list at least one lower device"},
    {"macvtap without devices",
     "pools:\n  - name: p\n    backend: macvtap\n" TENANTS,
     "2:5: pools[0].devices", "missing; a macvtap pool lists its lower"},
    {"macvtap with pf",
     "pools:\n  - name: p\n    backend: macvtap\n    pf: ens1\n" TENANTS,
     "4:9: pools[0].pf",
     "only for backend sriov; a macvtap pool lists its lower devices in "
     "'devices'"},
    {"sriov with devices",
     "pools:\n  - name: p\n    backend: sriov\n    pf: e0\n    vfs: 0-3\n"
     "    devices: [d0]\n" TENANTS,
     "6:14: pools[0].devices", "only for backend macvtap"},
    {"sriov without pf",
     "pools:\n  - {name: p, backend: sriov, vfs: 1}\n" TENANTS,
     "2:5: pools[0].pf", "missing; an sriov pool names its PF"},
    {"sriov without vfs",
     "pools:\n  - {name: p, backend: sriov, pf: e0}\n" TENANTS,
     "2:5: pools[0].vfs", "missing; give the VF range, e.g. 'vfs: 0-7'"},
    {"vfs reversed",
     "pools:\n  - {name: p, backend: sriov, pf: e0, vfs: 7-3}\n" TENANTS,
     "2:44: pools[0].vfs", "'7-3': the first VF is greater than the last"},
    {"vfs out of range",
     "pools:\n  - {name: p, backend: sriov, pf: e0, vfs: 0-300}\n" TENANTS,
     "2:44: pools[0].vfs",
     "'0-300' is out of range; VF indexes go from 0 to 255"},
    {"vfs a word",
     "pools:\n  - {name: p, backend: sriov, pf: e0, vfs: all}\n" TENANTS,
     "2:44: pools[0].vfs",
     "expected a VF range 'A-B' or one VF index (0-255), got 'all'"},
    {"overlapping VF ranges",
     "pools:\n  - {name: p, backend: sriov, pf: e0, vfs: 0-7}\n"
     "  - {name: q, backend: sriov, pf: e0, vfs: 7-9}\n" TENANTS,
     "3:44: pools[1].vfs", "VFs 7-9 of e0 overlap pool 'p' (VFs 0-7, line 2)"},
    {"tenant is a list", POOLS "tenants:\n  - [a]\n", "6:5: tenants[0]",
     "expected a mapping, got a list"},
    {"unknown tenant key", POOLS "tenants:\n" TENANT("t", "p1") "    vlna: 5\n",
     "9:5: tenants[0].vlna",
     "unknown key (did you mean 'vlan'?); "
     "allowed keys here: name, partitions, accounts, vlan, "
     "pool, images, vm, vnics, queues, providers, allow_root"},
    {"duplicate key in a tenant",
     POOLS "tenants:\n" TENANT("t", "p1") "    name: u\n",
     "9:5: tenants[0].name", "duplicate key (first at line 6)"},
    {"tenant without name", POOLS "tenants:\n  - partitions: [p1]\n" IMG,
     "6:5: tenants[0].name", "missing; give the tenant a name"},
    {"duplicate tenant", POOLS "tenants:\n" TENANT("t", "p1") TENANT("t", "p2"),
     "9:11: tenants[1].name",
     "tenant 't' is defined twice (first at line 6); give each tenant its "
     "own name"},
    {"partition served twice",
     POOLS "tenants:\n" TENANT("chem", "p1, p2") TENANT("bio", "p3, p2"),
     "10:22: tenants[1].partitions[1]",
     "partition 'p2' of tenant 'bio' already belongs to tenant 'chem' "
     "(line 7); a partition may belong to one tenant only"},
    {"partition listed twice", POOLS "tenants:\n" TENANT("t", "p1, p1"),
     "7:22: tenants[0].partitions[1]",
     "'p1' is listed twice (first at line 7); list it once"},
    {"partitions missing", POOLS "tenants:\n  - name: t\n" IMG,
     "6:5: tenants[0].partitions",
     "missing; list the Slurm partitions this tenant serves"},
    {"partitions empty",
     POOLS "tenants:\n  - name: t\n    partitions: []\n" IMG,
     "7:17: tenants[0].partitions",
     "an empty list; list at least one Slurm partition"},
    {"partitions a string",
     POOLS "tenants:\n  - name: t\n    partitions: p1\n" IMG,
     "7:17: tenants[0].partitions",
     "expected a list, got 'p1'; write a list even for one item: [p1]"},
    {"bad partition name",
     POOLS "tenants:\n  - name: t\n    partitions: [\"-x\"]\n" IMG,
     "7:18: tenants[0].partitions[0]", "invalid name '-x'"},
    {"accounts empty",
     POOLS "tenants:\n" TENANT("t", "p1") "    accounts: []\n",
     "9:15: tenants[0].accounts",
     "an empty list; list at least one account, or leave 'accounts' out"},
    {"vlan too big", POOLS "tenants:\n" TENANT("t", "p1") "    vlan: 5000\n",
     "9:11: tenants[0].vlan",
     "5000 is out of range (1-4094, or 0 for untagged)"},
    {"vlan negative", POOLS "tenants:\n" TENANT("t", "p1") "    vlan: -1\n",
     "9:11: tenants[0].vlan", "-1 is out of range (1-4094, or 0 for untagged)"},
    {"vlan quoted", POOLS "tenants:\n" TENANT("t", "p1") "    vlan: \"100\"\n",
     "9:11: tenants[0].vlan",
     "expected an integer (1-4094, or 0 for untagged), got the quoted "
     "string \"100\"; write the number without quotes"},
    {"vlan shared",
     POOLS "tenants:\n" TENANT("a", "p1") "    vlan: 100\n" TENANT(
	 "b", "p2") "    vlan: 100\n",
     "13:11: tenants[1].vlan",
     "VLAN 100 is already used by tenant 'a' (line 9); give each tenant its "
     "own VLAN"},
    {"unknown pool", POOLS "tenants:\n" TENANT("t", "p1") "    pool: e810\n",
     "9:11: tenants[0].pool",
     "no pool is named 'e810'; pools: p (or leave 'pool' out"},
    {"images missing", POOLS "tenants:\n  - name: t\n    partitions: [p1]\n",
     "6:5: tenants[0].images",
     "missing; list at least one image (the first is the default)"},
    {"images empty",
     POOLS "tenants:\n  - name: t\n    partitions: [p1]\n    images: []\n",
     "8:13: tenants[0].images", "an empty list; give at least one image"},
    {"image with disk and kernel",
     POOLS "tenants:\n  - name: t\n    partitions: [p1]\n    images:\n"
	   "      - {name: i, disk: /a, kernel: /k}\n",
     "9:37: tenants[0].images[0].kernel",
     "an image boots from 'disk' or from 'kernel', not both"},
    {"image with neither",
     POOLS "tenants:\n  - name: t\n    partitions: [p1]\n    images:\n"
	   "      - {name: i}\n",
     "9:9: tenants[0].images[0]",
     "the image needs 'disk' (a qcow2 base image) or 'kernel'"},
    {"initrd without kernel",
     POOLS "tenants:\n  - name: t\n    partitions: [p1]\n    images:\n"
	   "      - {name: i, disk: /a, initrd: /r}\n",
     "9:37: tenants[0].images[0].initrd", "only with 'kernel'"},
    {"relative kernel",
     POOLS "tenants:\n  - name: t\n    partitions: [p1]\n    images:\n"
	   "      - {name: i, kernel: vmlinux}\n",
     "9:27: tenants[0].images[0].kernel", "'vmlinux' is not an absolute path"},
    {"duplicate image",
     POOLS "tenants:\n  - name: t\n    partitions: [p1]\n    images:\n"
	   "      - {name: i, disk: /a}\n      - {name: i, disk: /b}\n",
     "10:16: tenants[0].images[1].name", "image 'i' is defined twice"},
    {"bad image name",
     POOLS "tenants:\n  - name: t\n    partitions: [p1]\n    images:\n"
	   "      - {name: \"deb 12\", disk: /a}\n",
     "9:16: tenants[0].images[0].name", "invalid name 'deb 12'"},
    {"memory too small",
     POOLS "tenants:\n" TENANT("t", "p1") "    vm: {memory: 32}\n",
     "9:18: tenants[0].vm.memory", "32 is out of range (64-1048576 MiB)"},
    {"vcpus too many",
     POOLS "tenants:\n" TENANT("t", "p1") "    vm: {vcpus: 2000}\n",
     "9:17: tenants[0].vm.vcpus",
     "2000 is out of range (1-1024, or 0 for one per job CPU)"},
    {"hugepages yes",
     POOLS "tenants:\n" TENANT("t", "p1") "    vm: {hugepages: yes}\n",
     "9:21: tenants[0].vm.hugepages",
     "expected a boolean (true or false), got 'yes'"},
    {"unknown vm key",
     POOLS "tenants:\n" TENANT("t", "p1") "    vm: {mem: 1}\n",
     "9:10: tenants[0].vm.mem",
     "unknown key; allowed keys here: memory, vcpus, hugepages"},
    {"vm is a list", POOLS "tenants:\n" TENANT("t", "p1") "    vm: [1]\n",
     "9:9: tenants[0].vm", "expected a mapping, got a list"},
    {"vnics default > max",
     POOLS "tenants:\n" TENANT("t", "p1") "    vnics: {default: 3, max: 2}\n",
     "9:22: tenants[0].vnics.default",
     "default 3 is greater than max 2; lower the default or raise the max"},
    {"vnics max 65",
     POOLS "tenants:\n" TENANT("t", "p1") "    vnics: {max: 65}\n",
     "9:18: tenants[0].vnics.max", "65 is out of range (1-64)"},
    {"queues default 0",
     POOLS "tenants:\n" TENANT("t", "p1") "    queues: {default: 0}\n",
     "9:23: tenants[0].queues.default", "0 is out of range (1-64)"},
    {"queues default > max",
     POOLS "tenants:\n" TENANT("t", "p1") "    queues: {default: 8, max: 4}\n",
     "9:23: tenants[0].queues.default", "default 8 is greater than max 4"},
    {"queues default > 1",
     POOLS "tenants:\n" TENANT("t", "p1") "    queues: {default: 2, max: 4}\n",
     "9:23: tenants[0].queues.default",
     "2: a vNIC delivers every raw frame to one of its queues, so only jobs "
     "with provider=udp may have more than one; make the default 1"},
    {"unknown provider",
     POOLS "tenants:\n" TENANT("t", "p1") "    providers: [xdp, verbs]\n",
     "9:22: tenants[0].providers[1]",
     "unknown provider 'verbs'; allowed: xdp, packet, udp, shm"},
    {"provider listed twice",
     POOLS "tenants:\n" TENANT("t", "p1") "    providers: [xdp, udp, xdp]\n",
     "9:27: tenants[0].providers[2]", "'xdp' is listed twice"},
    {"providers empty",
     POOLS "tenants:\n" TENANT("t", "p1") "    providers: []\n",
     "9:16: tenants[0].providers", "an empty list"},
    {"allow_root maybe",
     POOLS "tenants:\n" TENANT("t", "p1") "    allow_root: maybe\n",
     "9:17: tenants[0].allow_root",
     "expected a boolean (true or false), got 'maybe'"},
    {"NUL in a string", POOLS "tenants:\n  - name: \"a\\0b\"\n", "6:11",
     "a string with a NUL character"},
    {"control character in a key", POOLS TENANTS "\"a\\nb\": 1\n", "11:1: a?b",
     "unknown key"},
    {"deep nesting",
     "node: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]"
     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
     "1:38", "nested deeper than 32 levels"},
};

static void test_bad(void)
{
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(bad); i++) {
		const struct bad *b = &bad[i];
		vnb_error_t err = {{0}};
		struct vnb_conf *conf;
		char prefix[200];

		snprintf(prefix, sizeof(prefix), "t.yaml:%s: ", b->where);
		errno = 0;
		conf = vnb_conf_parse(b->yaml, strlen(b->yaml), "t.yaml", &err);
		ok(!conf && errno == EINVAL,
		   "%s: refused with EINVAL (errno %d)", b->what, errno);
		ok(!strncmp(err.text, prefix, strlen(prefix)) &&
		       strstr(err.text, b->text) && !strchr(err.text, '\n'),
		   "%s: message", b->what);
		if (strncmp(err.text, prefix, strlen(prefix)) ||
		    !strstr(err.text, b->text))
			diag("  got '%s'\n  want '%s...%s'", err.text, prefix,
			     b->text);
		else if (getenv("VERBOSE"))
			diag("%s", err.text);
		vnb_conf_destroy(conf);
	}
}

static const char full[] =
    "node:\n"
    "  state_dir: /srv/vnb/state\n"
    "  run_dir: /srv/vnb/run\n"
    "  libvirt_uri: \"qemu+unix:///system?socket=/x\"\n"
    "  boot_timeout: 3600\n"
    "pools:\n"
    "  - name: fabric\n"
    "    backend: macvtap\n"
    "    devices: [vnic0, vnic1, vnic2, vnic3]\n"
    "  - name: e810\n"
    "    backend: sriov\n"
    "    pf: ens1f0\n"
    "    vfs: 0-7\n"
    "  - name: one\n"
    "    backend: sriov\n"
    "    pf: ens1f0\n"
    "    vfs: 255\n"
    "tenants:\n"
    "  - name: chem\n"
    "    partitions: [chem, chem-debug]\n"
    "    accounts: [chemlab, physlab]\n"
    "    vlan: 4094\n"
    "    pool: fabric\n"
    "    images:\n"
    "      - name: debian12\n"
    "        kernel: /img/vmlinux\n"
    "        initrd: /img/initrd.cpio.gz\n"
    "        cmdline: \"console=ttyS0 quiet\"\n"
    "      - name: rocky9\n"
    "        disk: /img/rocky9.qcow2\n"
    "    vm: {memory: 1048576, vcpus: 1024, hugepages: true}\n"
    "    vnics: {default: 2, max: 64}\n"
    "    queues: {default: 1, max: 4}\n"
    "    providers: [xdp, shm]\n"
    "    allow_root: true\n"
    "  - name: bio\n"
    "    partitions: [bio]\n"
    "    vlan: 0\n"
    "    images: [{name: alma, disk: /a.qcow2}]\n"
    "  - name: phys\n"
    "    partitions: [phys]\n"
    "    vlan: 0\n"
    "    images: [{name: alma, disk: /a.qcow2}]\n"
    "    vnics: {default: 3}\n"
    "    queues: {max: 8}\n"
    "    providers: [auto, udp]\n";

static void test_full(void)
{
	vnb_error_t err = {{0}};
	struct vnb_conf *conf;
	const struct vnb_conf_tenant *t;
	const struct vnb_conf_pool *p;

	conf = vnb_conf_parse(full, strlen(full), "full.yaml", &err);
	if (!ok(conf != NULL, "full config loads"))
		bail_out("%s", err.text);
	is_str(conf->path, "full.yaml", "path is the name given");
	is_str(conf->state_dir, "/srv/vnb/state", "node.state_dir");
	is_str(conf->run_dir, "/srv/vnb/run", "node.run_dir");
	is_str(conf->libvirt_uri, "qemu+unix:///system?socket=/x",
	       "node.libvirt_uri");
	is_int(conf->boot_timeout, 3600, "node.boot_timeout");

	is_int(conf->npools, 3, "three pools");
	p = &conf->pools[0];
	is_str(p->name, "fabric", "pools[0].name");
	is_int(p->backend, VNB_BACKEND_MACVTAP, "pools[0].backend");
	is_int(p->ndevices, 4, "pools[0] has 4 devices");
	is_str(p->devices[0], "vnic0", "pools[0].devices[0]");
	is_str(p->devices[3], "vnic3", "pools[0].devices[3]");
	is_int(p->line, 7, "pools[0].line");
	p = &conf->pools[1];
	is_str(p->name, "e810", "pools[1].name");
	is_int(p->backend, VNB_BACKEND_SRIOV, "pools[1].backend");
	is_str(p->pf, "ens1f0", "pools[1].pf");
	is_int(p->vf_first, 0, "pools[1].vfs first");
	is_int(p->vf_last, 7, "pools[1].vfs last");
	is_int(p->ndevices, 0, "sriov pool has no devices");
	ok(p->devices == NULL, "sriov pool devices is NULL");
	p = &conf->pools[2];
	is_int(p->vf_first, 255, "a single VF: first");
	is_int(p->vf_last, 255, "a single VF: last");
	ok(vnb_conf_pool_find(conf, "e810") == &conf->pools[1],
	   "pool_find e810");
	errno = 0;
	ok(vnb_conf_pool_find(conf, "nope") == NULL && errno == ENOENT,
	   "pool_find unknown: NULL, ENOENT");

	is_int(conf->ntenants, 3, "three tenants");
	t = &conf->tenants[0];
	is_str(t->name, "chem", "tenants[0].name");
	is_int(t->line, 19, "tenants[0].line");
	is_int(t->npartitions, 2, "two partitions");
	is_str(t->partitions[0], "chem", "partitions[0]");
	is_str(t->partitions[1], "chem-debug", "partitions[1]");
	is_int(t->naccounts, 2, "two accounts");
	is_str(t->accounts[0], "chemlab", "accounts[0]");
	is_str(t->accounts[1], "physlab", "accounts[1]");
	is_int(t->vlan, 4094, "vlan");
	is_str(t->pool, "fabric", "pool");
	is_int(t->nimages, 2, "two images");
	is_str(t->images[0].name, "debian12", "images[0].name");
	is_str(t->images[0].kernel, "/img/vmlinux", "images[0].kernel");
	is_str(t->images[0].initrd, "/img/initrd.cpio.gz", "images[0].initrd");
	is_str(t->images[0].cmdline, "console=ttyS0 quiet",
	       "images[0].cmdline");
	ok(t->images[0].disk == NULL, "images[0].disk unset");
	is_str(t->images[1].name, "rocky9", "images[1].name");
	is_str(t->images[1].disk, "/img/rocky9.qcow2", "images[1].disk");
	ok(!t->images[1].kernel && !t->images[1].initrd &&
	       !t->images[1].cmdline,
	   "images[1] kernel, initrd, cmdline unset");
	is_int(t->vm_memory_mb, 1048576, "vm.memory");
	is_int(t->vm_vcpus, 1024, "vm.vcpus");
	ok(t->vm_hugepages, "vm.hugepages");
	is_int(t->vnics_default, 2, "vnics.default");
	is_int(t->vnics_max, 64, "vnics.max");
	is_int(t->queues_default, 1, "queues.default");
	is_int(t->queues_max, 4, "queues.max");
	is_int(t->providers,
	       1u << VNB_PROVIDER_AUTO | 1u << VNB_PROVIDER_XDP |
		   1u << VNB_PROVIDER_SHM,
	       "providers: auto, xdp, shm");
	ok(t->allow_root, "allow_root");
	is_int(vnb_conf_tenant_capacity(conf, t), 4,
	       "capacity of a tenant with a pool: its size");

	t = &conf->tenants[1];
	is_str(t->name, "bio", "tenants[1].name");
	is_int(t->vlan, 0, "vlan 0");
	is_int(t->naccounts, 0, "no accounts");
	ok(t->accounts == NULL, "accounts NULL");
	is_str(t->pool, "", "pool: every pool");
	is_int(vnb_conf_tenant_capacity(conf, t), 4 + 8 + 1,
	       "capacity without a pool: every pool");

	t = &conf->tenants[2];
	is_int(t->vlan, 0, "a second tenant on vlan 0 is fine");
	is_int(t->vnics_default, 3, "vnics.default 3");
	is_int(t->vnics_max, 3, "vnics.max defaults to vnics.default");
	is_int(t->queues_default, 1, "queues.default defaults to 1");
	is_int(t->queues_max, 8, "queues.max 8");
	is_int(t->providers, 1u << VNB_PROVIDER_AUTO | 1u << VNB_PROVIDER_UDP,
	       "providers: auto listed, udp");
	vnb_conf_destroy(conf);
}

static void test_defaults(void)
{
	static const char yaml[] = POOLS TENANTS;
	vnb_error_t err = {{0}};
	struct vnb_conf *conf;
	const struct vnb_conf_tenant *t;

	conf = vnb_conf_parse(yaml, strlen(yaml), NULL, &err);
	if (!ok(conf != NULL, "minimal config loads"))
		bail_out("%s", err.text);
	is_str(conf->state_dir, "/var/lib/vnic-bypass", "default state_dir");
	is_str(conf->run_dir, "/run/vnic-bypass", "default run_dir");
	is_str(conf->libvirt_uri, "qemu:///system", "default libvirt_uri");
	is_int(conf->boot_timeout, 60, "default boot_timeout");
	t = &conf->tenants[0];
	is_int(t->naccounts, 0, "default: no account allow-list");
	is_int(t->vlan, 0, "default vlan 0");
	is_str(t->pool, "", "default pool: every pool");
	is_int(t->vm_memory_mb, 1024, "default vm.memory");
	is_int(t->vm_vcpus, 0, "default vm.vcpus");
	ok(!t->vm_hugepages, "default vm.hugepages false");
	is_int(t->vnics_default, 1, "default vnics.default");
	is_int(t->vnics_max, 1, "default vnics.max");
	is_int(t->queues_default, 1, "default queues.default");
	is_int(t->queues_max, 1, "default queues.max");
	is_int(t->providers, (1u << VNB_PROVIDER_COUNT) - 1,
	       "default providers: all");
	ok(!t->allow_root, "default allow_root false");
	is_int(vnb_conf_tenant_capacity(conf, t), 2, "capacity 2");
	vnb_conf_destroy(conf);
}

static const char find_yaml[] = POOLS "tenants:\n" TENANT(
    "chem",
    "chem, chem-debug") "    accounts: [chemlab, physlab]\n" TENANT("bio",
								    "bio")
    TENANT("solo", "solo") "    accounts: [one]\n";

static void test_find(void)
{
	vnb_error_t err = {{0}};
	struct vnb_conf *conf;
	const struct vnb_conf_tenant *t;

	conf = vnb_conf_parse(find_yaml, strlen(find_yaml), "f.yaml", &err);
	if (!ok(conf != NULL, "tenant_find config loads"))
		bail_out("%s", err.text);
	t = vnb_conf_tenant_find(conf, "chem-debug", "physlab", &err);
	ok(t && !strcmp(t->name, "chem"), "chem-debug/physlab -> chem");
	t = vnb_conf_tenant_find(conf, "bio", NULL, &err);
	ok(t && !strcmp(t->name, "bio"), "bio without account -> bio");
	t = vnb_conf_tenant_find(conf, "bio", "anyone", &err);
	ok(t && !strcmp(t->name, "bio"), "bio with any account -> bio");

	errno = 0;
	t = vnb_conf_tenant_find(conf, "gpu", "chemlab", &err);
	ok(!t && errno == ENOENT, "unknown partition: ENOENT");
	is_str(err.text,
	       "partition 'gpu' is not served by any vnic-bypass tenant "
	       "(tenants serve: chem, chem-debug, bio, solo)",
	       "unknown partition: message lists the partitions");
	errno = 0;
	t = vnb_conf_tenant_find(conf, NULL, NULL, &err);
	ok(!t && errno == ENOENT, "NULL partition: ENOENT");

	errno = 0;
	t = vnb_conf_tenant_find(conf, "chem", "biolab", &err);
	ok(!t && errno == EPERM, "account not allowed: EPERM");
	is_str(err.text,
	       "account 'biolab' may not use tenant 'chem' (allowed accounts: "
	       "chemlab, physlab); submit with --account=ACCOUNT",
	       "account not allowed: message");
	errno = 0;
	t = vnb_conf_tenant_find(conf, "chem", NULL, &err);
	ok(!t && errno == EPERM, "NULL account with an allow-list: EPERM");
	like(err.text,
	     "admits only the accounts chemlab, physlab; submit "
	     "with --account=",
	     "NULL account: message asks for --account");
	errno = 0;
	t = vnb_conf_tenant_find(conf, "solo", "", &err);
	ok(!t && errno == EPERM, "empty account with an allow-list: EPERM");
	is_str(err.text,
	       "tenant 'solo' (partition 'solo') admits only the accounts "
	       "one; submit with --account=one",
	       "empty account: message names the one account");
	vnb_conf_destroy(conf);
}

static void test_providers(void)
{
	enum vnb_provider p;
	unsigned i;

	for (i = 0; i < VNB_PROVIDER_COUNT; i++)
		ok(vnb_provider_parse(vnb_provider_name(i), &p) == 0 && p == i,
		   "provider %u round-trips as '%s'", i, vnb_provider_name(i));
	ok(vnb_provider_name(VNB_PROVIDER_COUNT) == NULL,
	   "provider name out of range: NULL");
	errno = 0;
	ok(vnb_provider_parse("XDP", &p) < 0 && errno == EINVAL,
	   "provider names are case-sensitive: EINVAL");
	ok(vnb_provider_parse(NULL, &p) < 0 && errno == EINVAL,
	   "NULL provider name: EINVAL");
}

static void test_files(void)
{
	char path[4096], dir[] = "conftest.XXXXXX";
	const char *srcdir = getenv("VNB_SRCDIR");
	vnb_error_t err = {{0}};
	struct vnb_conf *conf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/etc/vnic-bypass.yaml",
		 srcdir ? srcdir : ".");
	conf = vnb_conf_load(path, &err);
	if (!ok(conf != NULL, "etc/vnic-bypass.yaml loads"))
		diag("%s", err.text);
	if (conf) {
		is_int(conf->npools, 2, "example: two pools");
		is_int(conf->pools[0].backend, VNB_BACKEND_MACVTAP,
		       "example: a macvtap pool");
		is_int(conf->pools[1].backend, VNB_BACKEND_SRIOV,
		       "example: an sriov pool");
		is_int(conf->ntenants, 2, "example: two tenants");
		is_str(conf->path, path, "example: path kept");
		ok(vnb_conf_tenant_find(conf, "chem", "chemlab", NULL) != NULL,
		   "example: chem/chemlab has a tenant");
	}
	vnb_conf_destroy(conf);

	errno = 0;
	conf = vnb_conf_load("no/such/vnic-bypass.yaml", &err);
	ok(!conf && errno == ENOENT, "missing file: ENOENT");
	is_str(err.text,
	       "no/such/vnic-bypass.yaml: cannot read the configuration: No "
	       "such file or directory",
	       "missing file: message");

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	errno = 0;
	conf = vnb_conf_load(dir, &err);
	ok(!conf && errno == EISDIR, "a directory: EISDIR (errno %d)", errno);
	like(err.text, "cannot read the configuration", "a directory: message");

	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	f = fopen(path, "w");
	if (!f)
		bail_out("fopen: %s", strerror(errno));
	fputs(POOLS "tenants:\n  - name: t\n    vlan: 1\n", f);
	fclose(f);
	errno = 0;
	conf = vnb_conf_load(path, &err);
	ok(!conf && errno == EINVAL, "bad file: EINVAL");
	like(err.text, "/c.yaml:6:5: tenants[0].partitions: missing",
	     "bad file: message names the file, line and column");
	if (geteuid() != 0) {
		chmod(path, 0);
		errno = 0;
		conf = vnb_conf_load(path, &err);
		ok(!conf && errno == EACCES, "unreadable file: EACCES");
	} else {
		ok(1, "# SKIP unreadable file: running as root");
	}
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_bad();
	test_full();
	test_defaults();
	test_find();
	test_providers();
	test_files();
	return done_testing();
}
