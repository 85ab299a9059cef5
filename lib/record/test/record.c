#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/tap.h"
#include "common/util.h"
#include "record/record.h"

static void sample(struct vnb_record *r)
{
	memset(r, 0, sizeof(*r));
	r->jobid = 42;
	r->uid = 1000;
	r->gid = 1001;
	r->vm = VNB_RECORD_VM_STARTED;
	snprintf(r->tenant, sizeof(r->tenant), "alpha");
	snprintf(r->node, sizeof(r->node), "n2");
	r->nodeidx = 1;
	snprintf(r->cpus, sizeof(r->cpus), "0-1");
	snprintf(r->spec, sizeof(r->spec), "vnics=2,queues=1");
	r->state = VNB_RECORD_READY;
	r->nvnics = 2;
	snprintf(r->vnics[0].id, sizeof(r->vnics[0].id), "vnic0");
	snprintf(r->vnics[0].ifname, sizeof(r->vnics[0].ifname), "vnic0");
	r->vnics[0].vf = -1;
	r->vnics[0].programmed = true;
	vnb_mac_parse("02:00:00:a8:00:40", r->vnics[0].mac);
	vnb_mac_parse("0e:11:22:33:44:55", r->vnics[0].saved.mac);
	r->vnics[0].saved.was_up = true;
	snprintf(r->vnics[1].id, sizeof(r->vnics[1].id), "ens1f0:vf3");
	snprintf(r->vnics[1].ifname, sizeof(r->vnics[1].ifname), "ens1f0");
	r->vnics[1].vf = 3;
}

static void test_roundtrip(void)
{
	struct vnb_record r, back;
	char buf[4096], buf2[4096];
	vnb_error_t err = {{0}};
	int len;

	sample(&r);
	len = vnb_record_format(&r, buf, sizeof(buf));
	ok(len > 0, "format");
	ok(vnb_record_parse(buf, "rec", &back, &err) == 0, "parse: %s",
	   err.text);
	vnb_record_format(&back, buf2, sizeof(buf2));
	is_str(buf2, buf, "format(parse(format(r))) == format(r)");
	ok(back.gid == 1001 && back.vm == VNB_RECORD_VM_STARTED,
	   "gid and VM state survive");
	ok(back.vnics[0].programmed && back.vnics[0].saved.was_up &&
	       back.vnics[1].vf == 3 && !back.vnics[1].programmed,
	   "vNIC fields survive");
	ok(vnb_record_format(&r, buf, 40) < 0 && errno == ENOSPC,
	   "format into a small buffer: ENOSPC");
}

static void test_malformed(void)
{
	static const struct {
		const char *text;
		const char *where;
	} t[] = {
	    {"", "rec:0: no job line"},
	    {"# something else\njob 1\n", "rec:1: not a vnic-bypass"},
	    {"# vnic-bypass job record v1\njob 1", "rec:2: truncated"},
	    {"# vnic-bypass job record v1\njob 0\n", "rec:2: unknown"},
	    {"# vnic-bypass job record v1\njob x\n", "rec:2:"},
	    {"# vnic-bypass job record v1\njob 1\nbogus 1\n", "rec:3:"},
	    {"# vnic-bypass job record v1\njob 1\n\n", "rec:3: empty"},
	    {"# vnic-bypass job record v1\njob 1\nstate done\n", "rec:3:"},
	    {"# vnic-bypass job record v1\njob 1\nvnic a b -1 maybe\n",
	     "rec:3: malformed vnic"},
	    {"# vnic-bypass job record v1\njob 1\nvnic a b -1 claimed x\n",
	     "rec:3: malformed vnic"},
	    {"# vnic-bypass job record v1\njob 1\n"
	     "vnic a b -1 programmed 02:00:00:00:00:01 zz up\n",
	     "rec:3: malformed vnic"},
	    {"# vnic-bypass job record v1\njob 1\n"
	     "vnic a b -1 programmed 02:00:00:00:00:01 02:00:00:00:00:02 "
	     "sideways\n",
	     "rec:3: malformed vnic"},
	    {"# vnic-bypass job record v1\njob 1\nuid 1 2 3 4 5 6 7 8 9\n",
	     "rec:3: too many"},
	    {"# vnic-bypass job record v1\nuid 1\n", "rec:2: no job line"},
	    {"# vnic-bypass job record v1\njob 1\nvm booting\n", "rec:3:"},
	    {"# vnic-bypass job record v1\njob 1\ngid -1\n", "rec:3:"},
	};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		struct vnb_record r;
		vnb_error_t err = {{0}};

		errno = 0;
		ok(vnb_record_parse(t[i].text, "rec", &r, &err) < 0 &&
		       errno == EINVAL,
		   "malformed record %zu refused", i);
		like(err.text, t[i].where, "message %zu names the line", i);
	}
}

static void test_vm_names(void)
{
	struct vnb_record r;
	vnb_error_t err = {{0}};

	is_str(vnb_record_vm_name(VNB_RECORD_VM_READY), "ready",
	       "VM state name");
	ok(vnb_record_vm_name((enum vnb_record_vm)9) == NULL,
	   "out of range VM state: NULL");
	ok(vnb_record_parse("# vnic-bypass job record v1\njob 3\n", "rec", &r,
			    &err) == 0 &&
	       r.vm == VNB_RECORD_VM_NONE && r.gid == 0,
	   "a record from before VMs reads as no VM");
}

static void test_files(void)
{
	char dir[] = "/tmp/vnb-record-XXXXXX";
	struct vnb_record r, back;
	vnb_error_t err = {{0}};
	uint32_t *ids = NULL;
	size_t n = 0;
	char path[128];

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	ok(vnb_record_list(dir, &ids, &n, &err) == 0 && n == 0,
	   "no jobs dir: empty list");
	ok(vnb_record_load(dir, 42, &back, &err) < 0 && errno == ENOENT,
	   "load of a missing record: ENOENT");
	sample(&r);
	ok(vnb_record_save(dir, &r, &err) == 0, "save: %s", err.text);
	r.jobid = 7;
	ok(vnb_record_save(dir, &r, &err) == 0, "save another");
	ok(vnb_record_load(dir, 42, &back, &err) == 0 && back.jobid == 42 &&
	       back.nvnics == 2,
	   "load");
	ok(vnb_record_list(dir, &ids, &n, &err) == 0 && n == 2, "list: 2");
	free(ids);
	ok(vnb_record_remove(dir, 42, &err) == 0, "remove");
	ok(vnb_record_remove(dir, 42, &err) == 0, "remove twice is fine");
	ok(vnb_record_remove(dir, 7, &err) == 0, "remove the other");
	snprintf(path, sizeof(path), "%s/jobs", dir);
	ok(rmdir(path) == 0 && rmdir(dir) == 0, "nothing else left behind");
}

int main(void)
{
	test_roundtrip();
	test_malformed();
	test_vm_names();
	test_files();
	return done_testing();
}
