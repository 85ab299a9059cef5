#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fileio.h"
#include "common/tap.h"
#include "common/util.h"

static void test_parse(void)
{
	static const struct {
		const char *s;
		uint64_t min, max;
		int rc, err;
		uint64_t want;
	} t[] = {
	    {"0", 0, 10, 0, 0, 0},
	    {"10", 0, 10, 0, 0, 10},
	    {"11", 0, 10, -1, ERANGE, 0},
	    {"0", 1, 10, -1, ERANGE, 0},
	    {"", 0, 10, -1, EINVAL, 0},
	    {"-1", 0, 10, -1, EINVAL, 0},
	    {"+1", 0, 10, -1, EINVAL, 0},
	    {" 1", 0, 10, -1, EINVAL, 0},
	    {"1x", 0, 10, -1, EINVAL, 0},
	    {"99999999999999999999999", 0, UINT64_MAX, -1, ERANGE, 0},
	};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		uint64_t v = 0;
		int rc;

		errno = 0;
		rc = vnb_parse_u64(t[i].s, t[i].min, t[i].max, &v);
		ok(rc == t[i].rc &&
		       (rc == 0 ? v == t[i].want : errno == t[i].err),
		   "vnb_parse_u64('%s') -> %d errno %d", t[i].s, rc, errno);
	}
}

static void test_names(void)
{
	ok(vnb_name_valid("vnic0", 15), "vnic0 is a valid name");
	ok(vnb_name_valid("a.b_c-d", 15), "dots, dashes, underscores ok");
	ok(!vnb_name_valid("", 15), "empty name refused");
	ok(!vnb_name_valid("-x", 15), "leading dash refused");
	ok(!vnb_name_valid("../etc", 15), "path traversal refused");
	ok(!vnb_name_valid("a/b", 15), "slash refused");
	ok(!vnb_name_valid("a b", 15), "space refused");
	ok(!vnb_name_valid("0123456789abcdef", 15), "too long refused");
}

static void test_mac(void)
{
	uint8_t mac[6];
	char buf[18];

	ok(vnb_mac_parse("02:AB:cd:00:01:ff", mac) == 0, "MAC parses");
	vnb_mac_format(mac, buf);
	is_str(buf, "02:ab:cd:00:01:ff", "MAC round-trips in lower case");
	ok(vnb_mac_parse("02:ab:cd:00:01", mac) < 0 && errno == EINVAL,
	   "short MAC refused");
	ok(vnb_mac_parse("02-ab-cd-00-01-ff", mac) < 0, "dashes refused");
	ok(vnb_mac_parse("02:ab:cd:00:01:fg", mac) < 0, "bad hex refused");
}

static void test_errors(void)
{
	vnb_error_t err = {{0}};

	errno = EBUSY;
	is_int(vnb_errprintf(&err, "x=%d", 3), -1, "errprintf returns -1");
	is_int(errno, EBUSY, "errprintf keeps errno");
	is_str(err.text, "x=3", "errprintf formats");
	vnb_errprefix(&err, "in %s", "f");
	is_str(err.text, "in f: x=3", "errprefix prepends");
	is_int(vnb_errprintf(NULL, "x"), -1, "NULL error struct is fine");
}

static void test_files(void)
{
	char dir[] = "/tmp/vnb-common-XXXXXX";
	vnb_error_t err = {{0}};
	char path[128];
	size_t len = 0;
	char *s;
	int dfd;

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ok(vnb_file_replace(dfd, "f", "one\n", 4, 0600, &err) == 0,
	   "replace creates a file");
	ok(vnb_file_replace(dfd, "f", "two!\n", 5, 0644, &err) == 0,
	   "replace overwrites it");
	s = vnb_file_read(dfd, "f", 100, &len, &err);
	ok(s && len == 5 && strcmp(s, "two!\n") == 0, "read sees new content");
	free(s);
	s = vnb_file_read(dfd, "f", 3, &len, &err);
	ok(!s && errno == EFBIG, "read refuses a file over the limit");
	s = vnb_file_read(dfd, "missing", 100, &len, &err);
	ok(!s && errno == ENOENT, "read of a missing file: ENOENT");
	like(err.text, "missing", "the message names the file");
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	ok(vnb_mkdir_p(path, 0700, &err) == 0, "mkdir_p creates a tree");
	ok(vnb_mkdir_p(path, 0700, &err) == 0, "mkdir_p twice is fine");
	ok(access(path, F_OK) == 0, "the tree exists");
	unlinkat(dfd, "f", 0);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a/b", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a", dir);
	rmdir(path);
	close(dfd);
	ok(rmdir(dir) == 0, "no temporary file was left behind");
}

static void touch_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT, 0600);

	if (fd >= 0)
		close(fd);
}

static void test_sweep(void)
{
	char dir[] = "/tmp/vnb-sweep-XXXXXX", name[64];
	pid_t dead = fork();
	int dfd;

	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	if (!mkdtemp(dir) || (dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		bail_out("mkdtemp: %s", strerror(errno));
	snprintf(name, sizeof(name), ".rec.tmp.%ld", (long)dead);
	touch_at(dfd, name);
	snprintf(name, sizeof(name), ".rec.tmp.%ld", (long)getpid());
	touch_at(dfd, name);
	touch_at(dfd, ".rec.tmp.1"); /* init: alive */
	touch_at(dfd, ".other.tmp.999999999");
	touch_at(dfd, "rec");
	is_int(vnb_file_sweep(dfd, "rec"), 1,
	       "sweep removes the temp file of a dead writer only");
	snprintf(name, sizeof(name), ".rec.tmp.%ld", (long)dead);
	ok(faccessat(dfd, name, F_OK, 0) < 0, "the dead writer's is gone");
	ok(faccessat(dfd, ".rec.tmp.1", F_OK, 0) == 0 &&
	       faccessat(dfd, "rec", F_OK, 0) == 0 &&
	       faccessat(dfd, ".other.tmp.999999999", F_OK, 0) == 0,
	   "a live writer's, the file itself and other names stay");
	is_int(vnb_file_sweep(dfd, "rec"), 0, "a second sweep finds nothing");
	unlinkat(dfd, ".rec.tmp.1", 0);
	unlinkat(dfd, ".other.tmp.999999999", 0);
	unlinkat(dfd, "rec", 0);
	snprintf(name, sizeof(name), ".rec.tmp.%ld", (long)getpid());
	unlinkat(dfd, name, 0);
	close(dfd);
	ok(rmdir(dir) == 0, "nothing else was left");
}

static void test_count_seq(void)
{
	char dir[] = "/tmp/vnb-seq-XXXXXX";
	int dfd;

	if (!mkdtemp(dir) || (dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		bail_out("mkdtemp: %s", strerror(errno));
	is_int(vnb_file_count_seq(dir, "qset.", ""), 0, "none in an empty dir");
	touch_at(dfd, "qset.0");
	touch_at(dfd, "qset.1");
	touch_at(dfd, "qset.3");
	touch_at(dfd, "task.0.sock");
	touch_at(dfd, "qset.0.lock");
	is_int(vnb_file_count_seq(dir, "qset.", ""), 2,
	       "qset.0 and qset.1: 2, up to the first gap");
	is_int(vnb_file_count_seq(dir, "task.", ".sock"), 1,
	       "task.0.sock: 1, with a suffix");
	is_int(vnb_file_count_seq("/nonexistent", "qset.", ""), 0,
	       "none in a missing dir");
	unlinkat(dfd, "qset.0", 0);
	unlinkat(dfd, "qset.1", 0);
	unlinkat(dfd, "qset.3", 0);
	unlinkat(dfd, "task.0.sock", 0);
	unlinkat(dfd, "qset.0.lock", 0);
	close(dfd);
	ok(rmdir(dir) == 0, "nothing else was left");
}

int main(void)
{
	test_parse();
	test_names();
	test_mac();
	test_errors();
	test_files();
	test_sweep();
	test_count_seq();
	return done_testing();
}
