/* The job's queue sets on a node: one credential per vNIC x queue, and
 * the files the prolog writes for vnb-exec. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/tap.h"
#include "common/util.h"
#include "node/qset.h"

static const char *yaml = "node: {run_dir: /run/vnb}\n"
			  "pools:\n"
			  "  - {name: fabric, backend: macvtap, devices: "
			  "[vnic0, vnic1]}\n"
			  "tenants:\n"
			  "  - name: alpha\n"
			  "    partitions: [alpha]\n"
			  "    vlan: 10\n"
			  "    images: [{name: k, kernel: /img/vmlinux}]\n"
			  "    queues: {default: 1, max: 4}\n";

static void sample(struct vnb_record *r, size_t nvnics)
{
	memset(r, 0, sizeof(*r));
	r->jobid = 77;
	r->uid = getuid();
	r->gid = getgid();
	r->nvnics = nvnics;
	vnb_mac_parse("02:00:00:4d:00:40", r->vnics[0].mac);
	vnb_mac_parse("02:00:00:4d:00:41", r->vnics[1].mac);
}

int main(void)
{
	static char creds[VNB_NODE_QSET_MAX][VNB_CRED_MAX];
	static const struct {
		size_t nvnics;
		unsigned queues;
		size_t want;
		const char *last;
	} t[] = {
	    {1, 0, 1,
	     "vnb1:mac=02:00:00:4d:00:40;vlan=10;q=0;mtu=1500;fs=2048;"
	     "job=77;step=0;rank=0"},
	    {1, 2, 2,
	     "vnb1:mac=02:00:00:4d:00:40;vlan=10;q=1;mtu=1500;fs=2048;"
	     "job=77;step=0;rank=0"},
	    {2, 2, 4,
	     "vnb1:mac=02:00:00:4d:00:41;vlan=10;q=1;mtu=1500;fs=2048;"
	     "job=77;step=0;rank=0"},
	    {2, 1, 2,
	     "vnb1:mac=02:00:00:4d:00:41;vlan=10;q=0;mtu=1500;fs=2048;"
	     "job=77;step=0;rank=0"},
	};
	char dir[] = "/tmp/vnb-qset-test.XXXXXX", *text;
	vnb_error_t err = {{0}};
	struct vnb_spec spec = {0};
	struct vnb_conf *conf;
	struct vnb_record rec;
	struct stat st;
	size_t n, i, len;
	int dfd;

	conf = vnb_conf_parse(yaml, strlen(yaml), "t.yaml", &err);
	if (!conf)
		bail_out("setup: %s", err.text);
	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		sample(&rec, t[i].nvnics);
		spec.queues = t[i].queues;
		n = 0;
		ok(vnb_node_qsets(&conf->tenants[0], &spec, &rec, creds,
				  VNB_NODE_QSET_MAX, &n, &err) == 0 &&
		       n == t[i].want,
		   "%zu vNIC(s) x %u queue(s): %zu queue sets", t[i].nvnics,
		   t[i].queues, t[i].want);
		is_str(n ? creds[n - 1] : "", t[i].last,
		       "the last one: the last vNIC's MAC, its last queue");
	}
	sample(&rec, 2);
	spec.queues = 2;
	ok(vnb_node_qsets(&conf->tenants[0], &spec, &rec, creds, 3, &n, &err) <
		   0 &&
	       errno == EINVAL,
	   "more queue sets than room: EINVAL");
	like(err.text, "2 vNICs x 2 queues here, more than 3", "named");

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ok(vnb_node_qsets_write(dfd, dir, &conf->tenants[0], &spec, &rec,
				&err) == 0,
	   "the files are written: %s", err.text);
	text = vnb_file_read(dfd, "qset.2", 4096, &len, &err);
	is_str(text ? text : "",
	       "vnb1:mac=02:00:00:4d:00:41;vlan=10;q=0;mtu=1500;fs=2048;"
	       "job=77;step=0;rank=0\n",
	       "qset.2 is vNIC 1, queue 0");
	free(text);
	ok(fstatat(dfd, "qset.3", &st, 0) == 0 && (st.st_mode & 0777) == 0644,
	   "qset.3 is readable by all (0644)");
	ok(fstatat(dfd, "qset.3.lock", &st, 0) == 0 &&
	       (st.st_mode & 0777) == 0600 && st.st_uid == rec.uid,
	   "qset.3.lock is the user's, 0600");
	ok(fstatat(dfd, "qset.4", &st, 0) < 0, "no qset.4");
	for (i = 0; i < 4; i++) {
		char name[32];

		snprintf(name, sizeof(name), "qset.%zu", i);
		unlinkat(dfd, name, 0);
		snprintf(name, sizeof(name), "qset.%zu.lock", i);
		unlinkat(dfd, name, 0);
	}
	close(dfd);
	ok(rmdir(dir) == 0, "nothing else was written");
	vnb_conf_destroy(conf);
	return done_testing();
}
