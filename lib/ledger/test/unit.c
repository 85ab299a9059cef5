/*
 * unit.c - the ledger's states, transactions, errors and file format,
 * one process, no privileges.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tap.h"
#include "common/util.h"
#include "ledger/ledger.h"
#include "ledger/test/testdir.h"

#define HEADER "# vnic-bypass ledger v1\n"

static char dir[256];

static void fresh(void)
{
	if (dir[0])
		testdir_remove(dir);
	testdir_make(dir, sizeof(dir), "unit");
}

static uint32_t holder(const char *vnic, enum vnb_vnic_state *state)
{
	struct vnb_ledger *l = vnb_ledger_read(dir, NULL);
	const struct vnb_ledger_entry *e;
	uint32_t job = 0;

	*state = VNB_VNIC_FREE;
	if (!l)
		return UINT32_MAX;
	e = vnb_ledger_find(l, vnic);
	if (e) {
		*state = e->state;
		job = e->jobid;
	}
	vnb_ledger_end(l);
	return job;
}

static void test_names(void)
{
	is_str(vnb_vnic_state_name(VNB_VNIC_FREE), "free", "free");
	is_str(vnb_vnic_state_name(VNB_VNIC_CLAIMED), "claimed", "claimed");
	is_str(vnb_vnic_state_name(VNB_VNIC_DIRTY), "dirty", "dirty");
	ok(vnb_vnic_state_name((enum vnb_vnic_state)7) == NULL,
	   "out-of-range state has no name");
}

static void test_begin_set_commit(void)
{
	char sub[512], path[600];
	vnb_error_t err = {{0}};
	struct vnb_ledger *l;
	unsigned long ino;
	struct stat st;

	fresh();
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	l = vnb_ledger_begin(sub, &err);
	ok(l != NULL, "begin creates a missing state dir: %s", err.text);
	ok(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0755,
	   "state dir is 0755");
	snprintf(path, sizeof(path), "%s/ledger.lock", sub);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644,
	   "lock file is 0644");
	is_int((long long)vnb_ledger_count(l), 0, "a new ledger is empty");
	ok(vnb_ledger_commit(l, &err) == 0, "commit of the new ledger");
	vnb_ledger_end(l);
	is_str(testdir_slurp(sub, "ledger"),
	       HEADER "# vnic state jobid since\n",
	       "first commit writes the header");
	snprintf(path, sizeof(path), "%s/ledger", sub);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644,
	   "ledger is 0644");
	unlink(path);
	unlink(strcat(path, ".lock"));
	snprintf(path, sizeof(path), "%s/a/b", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a", dir);
	rmdir(path);

	l = vnb_ledger_begin(dir, &err);
	ok(l != NULL, "begin");
	errno = 0;
	ok(vnb_ledger_set(l, "a/b", VNB_VNIC_CLAIMED, 1) < 0 && errno == EINVAL,
	   "set: invalid id is EINVAL");
	ok(vnb_ledger_set(l, "eth0", VNB_VNIC_CLAIMED, 0) < 0 &&
	       errno == EINVAL,
	   "set: claimed for job 0 is EINVAL");
	ok(vnb_ledger_set(l, "eth0", (enum vnb_vnic_state)9, 1) < 0 &&
	       errno == EINVAL,
	   "set: bad state is EINVAL");
	ok(vnb_ledger_set(l, "eth1", VNB_VNIC_CLAIMED, 7) == 0 &&
	       vnb_ledger_set(l, "eth0", VNB_VNIC_DIRTY, 8) == 0 &&
	       vnb_ledger_set(l, "ens1f0:vf12", VNB_VNIC_CLAIMED,
			      4294967295u) == 0 &&
	       vnb_ledger_set(l, "eth9", VNB_VNIC_CLAIMED, 3) == 0 &&
	       vnb_ledger_set(l, "eth9", VNB_VNIC_FREE, 3) == 0,
	   "set: claimed, dirty, free");
	is_int((long long)vnb_ledger_count(l), 3, "a free vNIC has no entry");
	is_str(vnb_ledger_at(l, 0)->vnic, "ens1f0:vf12", "entries sorted 0");
	is_str(vnb_ledger_at(l, 2)->vnic, "eth1", "entries sorted 2");
	ok(vnb_ledger_at(l, 3) == NULL, "at past the end is NULL");
	ok(vnb_ledger_find(l, "eth9") == NULL, "find of a free vNIC is NULL");
	ok(vnb_ledger_find(l, "eth0") &&
	       vnb_ledger_find(l, "eth0")->state == VNB_VNIC_DIRTY &&
	       vnb_ledger_find(l, "eth0")->jobid == 8 &&
	       vnb_ledger_find(l, "eth0")->since > 0,
	   "find returns state, job and since");
	ok(vnb_ledger_commit(l, &err) == 0, "commit");
	vnb_ledger_end(l);
	ok(like(testdir_slurp(dir, "ledger"), "ens1f0:vf12 claimed 4294967295 ",
		"largest job id stored") &&
	       like(testdir_slurp(dir, "ledger"), "\neth0 dirty 8 ",
		    "dirty stored"),
	   "the file holds the entries");

	ino = testdir_inode(dir, "ledger");
	l = vnb_ledger_begin(dir, &err);
	ok(vnb_ledger_set(l, "eth1", VNB_VNIC_CLAIMED, 7) == 0 &&
	       vnb_ledger_commit(l, &err) == 0,
	   "setting what is there and committing");
	vnb_ledger_end(l);
	is_int((long long)testdir_inode(dir, "ledger"), (long long)ino,
	       "nothing changed: nothing written");

	l = vnb_ledger_begin(dir, &err);
	vnb_ledger_set(l, "eth1", VNB_VNIC_FREE, 0);
	vnb_ledger_end(l);
	is_int((long long)testdir_inode(dir, "ledger"), (long long)ino,
	       "end without commit drops the change");

	errno = ENOTTY;
	vnb_ledger_end(NULL);
	is_int(errno, ENOTTY, "end(NULL) is fine and keeps errno");
	ok(vnb_ledger_begin(NULL, &err) == NULL && errno == EINVAL,
	   "begin(NULL) is EINVAL");
}

static void test_read(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ledger *l;
	char missing[300];

	fresh();
	l = vnb_ledger_read(dir, &err);
	ok(l && vnb_ledger_count(l) == 0, "read of a dir without ledger: "
					  "empty");
	ok(testdir_count(dir, "ledger") == 0, "read creates nothing");
	vnb_ledger_end(l);
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	ok(vnb_ledger_read(missing, &err) == NULL && errno == ENOENT,
	   "read of a missing state dir: ENOENT");
	like(err.text, "nope", "the message names the dir");

	l = vnb_ledger_begin(dir, &err);
	vnb_ledger_set(l, "eth0", VNB_VNIC_CLAIMED, 5);
	vnb_ledger_commit(l, &err);
	vnb_ledger_end(l);
	l = vnb_ledger_read(dir, &err);
	ok(l && vnb_ledger_count(l) == 1 && vnb_ledger_at(l, 0)->jobid == 5,
	   "read sees the committed state");
	ok(vnb_ledger_set(l, "eth1", VNB_VNIC_CLAIMED, 5) < 0 && errno == EBADF,
	   "a snapshot cannot be set");
	ok(vnb_ledger_commit(l, &err) < 0 && errno == EBADF,
	   "a snapshot cannot be committed");
	{
		/* the snapshot holds no lock: a writer goes on meanwhile */
		struct vnb_ledger *w = vnb_ledger_begin(dir, &err);

		ok(w != NULL, "begin while a snapshot is held");
		vnb_ledger_set(w, "eth0", VNB_VNIC_DIRTY, 5);
		vnb_ledger_commit(w, &err);
		vnb_ledger_end(w);
	}
	ok(vnb_ledger_at(l, 0)->state == VNB_VNIC_CLAIMED,
	   "the snapshot does not change");
	vnb_ledger_end(l);
}

static void test_claim(void)
{
	char cand[6][VNB_VNIC_ID_MAX] = {"eth3", "eth1", "eth5",
					 "eth0", "eth2", "eth4"};
	char got[6][VNB_VNIC_ID_MAX];
	char rel[6][VNB_VNIC_ID_MAX];
	vnb_error_t err = {{0}};
	enum vnb_vnic_state st;
	const char *before;
	char saved[4096];
	unsigned long ino;
	size_t count = 99;

	fresh();
	ok(vnb_ledger_claim(dir, 10, (const char(*)[VNB_VNIC_ID_MAX])cand, 6, 2,
			    got, &err) == 0,
	   "claim 2 for job 10: %s", err.text);
	ok(strcmp(got[0], "eth3") == 0 && strcmp(got[1], "eth1") == 0,
	   "claim takes the preferred ones, in order (%s %s)", got[0], got[1]);
	ok(holder("eth3", &st) == 10 && st == VNB_VNIC_CLAIMED,
	   "eth3 is claimed by job 10");
	ok(vnb_ledger_claim(dir, 11, (const char(*)[VNB_VNIC_ID_MAX])cand, 6, 3,
			    got, &err) == 0 &&
	       strcmp(got[0], "eth5") == 0 && strcmp(got[1], "eth0") == 0 &&
	       strcmp(got[2], "eth2") == 0,
	   "job 11 gets the next free ones in preference order");

	/* all or nothing */
	ino = testdir_inode(dir, "ledger");
	before = testdir_slurp(dir, "ledger");
	snprintf(saved, sizeof(saved), "%s", before);
	memset(got, 'x', sizeof(got));
	errno = 0;
	ok(vnb_ledger_claim(dir, 12, (const char(*)[VNB_VNIC_ID_MAX])cand, 6, 2,
			    got, &err) < 0 &&
	       errno == EBUSY,
	   "claim of 2 with 1 free: EBUSY");
	is_str(err.text,
	       "only 1 of the 6 vNICs of this node are free for job 12 (5 "
	       "claimed by other jobs, 0 dirty awaiting scrub)",
	       "the EBUSY message counts free, claimed and dirty");
	is_str(testdir_slurp(dir, "ledger"), saved, "EBUSY changed nothing");
	is_int((long long)testdir_inode(dir, "ledger"), (long long)ino,
	       "and wrote nothing");
	ok(got[0][0] == 'x', "claimed[] untouched on failure");
	ok(holder("eth4", &st) == 0 && st == VNB_VNIC_FREE,
	   "eth4 is still free");

	/* a prolog run twice gets the same vNICs back, first */
	ok(vnb_ledger_claim(dir, 10, (const char(*)[VNB_VNIC_ID_MAX])cand, 6, 2,
			    got, &err) == 0 &&
	       strcmp(got[0], "eth3") == 0 && strcmp(got[1], "eth1") == 0,
	   "rerun: job 10 gets eth3 eth1 again");
	is_int((long long)testdir_inode(dir, "ledger"), (long long)ino,
	       "rerun wrote nothing");
	ok(vnb_ledger_claim(dir, 10, (const char(*)[VNB_VNIC_ID_MAX])cand, 6, 3,
			    got, &err) == 0 &&
	       strcmp(got[0], "eth3") == 0 && strcmp(got[1], "eth1") == 0 &&
	       strcmp(got[2], "eth4") == 0,
	   "rerun asking one more: own ones first, then a free one");

	/* release: claimed -> dirty, never handed out until scrubbed */
	ok(vnb_ledger_release(dir, 10, rel, 6, &count, &err) == 0 && count == 3,
	   "release job 10: 3 vNICs");
	ok(strcmp(rel[0], "eth1") == 0 && strcmp(rel[1], "eth3") == 0 &&
	       strcmp(rel[2], "eth4") == 0,
	   "release names them (sorted by id)");
	ok(holder("eth3", &st) == 10 && st == VNB_VNIC_DIRTY,
	   "eth3 is dirty for job 10");
	ok(vnb_ledger_claim(dir, 13, (const char(*)[VNB_VNIC_ID_MAX])cand, 6, 1,
			    got, &err) < 0 &&
	       errno == EBUSY,
	   "dirty vNICs are not claimed");
	like(err.text, "only 0 of the 6", "none free");
	like(err.text, "(3 claimed by other jobs, 3 dirty awaiting scrub)",
	     "3 dirty");
	ok(vnb_ledger_claim(dir, 10, (const char(*)[VNB_VNIC_ID_MAX])cand, 6, 1,
			    got, &err) < 0 &&
	       errno == EBUSY,
	   "not even by the job that released them");
	ok(vnb_ledger_release(dir, 10, rel, 1, &count, &err) == 0 &&
	       count == 3 && strcmp(rel[0], "eth1") == 0,
	   "release again: still names the dirty ones; count beyond max");
	ok(vnb_ledger_release(dir, 99, NULL, 0, NULL, &err) == 0,
	   "release of a job holding nothing is fine");
	ok(vnb_ledger_release(dir, 99, rel, 6, &count, &err) == 0 && count == 0,
	   "and counts 0");

	/* scrubbed: dirty -> free, ESTALE otherwise */
	ok(vnb_ledger_scrubbed(dir, "eth3", 11, &err) < 0 && errno == ESTALE,
	   "scrubbed by another job: ESTALE");
	like(err.text, "dirty for job 10", "the message names the holder");
	ok(vnb_ledger_scrubbed(dir, "eth5", 11, &err) < 0 && errno == ESTALE,
	   "scrubbed of a claimed vNIC: ESTALE");
	like(err.text, "claimed by job 11", "the message says claimed");
	ok(vnb_ledger_scrubbed(dir, "eth3", 10, &err) == 0,
	   "scrubbed by its job");
	ok(holder("eth3", &st) == 0 && st == VNB_VNIC_FREE, "eth3 is free");
	ok(vnb_ledger_scrubbed(dir, "eth3", 10, &err) < 0 && errno == ESTALE,
	   "scrubbed twice: ESTALE");
	like(err.text, "already free", "the message says free");
	ok(vnb_ledger_scrubbed(dir, "eth99", 10, &err) < 0 && errno == ESTALE,
	   "scrubbed of an unknown vNIC: ESTALE");
	ok(vnb_ledger_claim(dir, 13, (const char(*)[VNB_VNIC_ID_MAX])cand, 6, 1,
			    got, &err) == 0 &&
	       strcmp(got[0], "eth3") == 0,
	   "a scrubbed vNIC is claimed again");
	vnb_ledger_scrubbed(dir, "eth1", 10, &err);
	vnb_ledger_scrubbed(dir, "eth4", 10, &err);
	vnb_ledger_release(dir, 11, NULL, 0, NULL, &err);
	vnb_ledger_release(dir, 13, NULL, 0, NULL, &err);
	vnb_ledger_scrubbed(dir, "eth5", 11, &err);
	vnb_ledger_scrubbed(dir, "eth0", 11, &err);
	vnb_ledger_scrubbed(dir, "eth2", 11, &err);
	ok(vnb_ledger_scrubbed(dir, "eth3", 13, &err) == 0,
	   "everything scrubbed");
	is_str(testdir_slurp(dir, "ledger"),
	       HEADER "# vnic state jobid since\n", "the ledger is empty");
}

static void test_claim_einval(void)
{
	static const struct {
		const char *what;
		uint32_t job;
		size_t n;
		const char *id; /* replaces candidate 1 */
		const char *msg;
	} t[] = {
	    {"job 0", 0, 1, NULL, "job id 0"},
	    {"n 0", 5, 0, NULL, "asks for no vNIC"},
	    {"n > candidates", 5, 4, NULL,
	     "asks for 4 vNICs but this node "
	     "offers 3"},
	    {"empty id", 5, 1, "", "candidate 2: '' is not a valid"},
	    {"slash", 5, 1, "a/b", "'a/b' is not a valid vNIC id"},
	    {"dot-dot", 5, 1, "../x", "not a valid"},
	    {"leading dash", 5, 1, "-x", "not a valid"},
	    {"leading colon", 5, 1, ":vf1", "not a valid"},
	    {"space", 5, 1, "eth 1", "not a valid"},
	    {"newline", 5, 1, "eth\n1", "not a valid"},
	    {"31 chars ok but 32 not", 5, 1, "0123456789abcdef0123456789abcdef",
	     "not a valid"},
	    {"duplicate", 5, 1, "eth0", "eth0 is listed twice"},
	};
	char cand[3][VNB_VNIC_ID_MAX];
	char got[4][VNB_VNIC_ID_MAX];
	vnb_error_t err;
	size_t i;

	fresh();
	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		int rc;

		memset(cand, 0, sizeof(cand));
		strcpy(cand[0], "eth0");
		strcpy(cand[1], "ens1f0:vf1");
		strcpy(cand[2], "eth2");
		if (t[i].id)
			memcpy(cand[1], t[i].id,
			       strlen(t[i].id) < VNB_VNIC_ID_MAX
				   ? strlen(t[i].id) + 1
				   : VNB_VNIC_ID_MAX);
		memset(&err, 0, sizeof(err));
		errno = 0;
		rc = vnb_ledger_claim(dir, t[i].job,
				      (const char(*)[VNB_VNIC_ID_MAX])cand, 3,
				      t[i].n, got, &err);
		ok(rc < 0 && errno == EINVAL, "claim, %s: EINVAL", t[i].what);
		like(err.text, t[i].msg, "claim, %s: message", t[i].what);
	}
	ok(testdir_count(dir, "ledger") == 0,
	   "bad arguments touch nothing on disk");
	strcpy(cand[1], "0123456789abcdef0123456789abcde");
	ok(vnb_ledger_claim(dir, 5, (const char(*)[VNB_VNIC_ID_MAX])cand, 3, 3,
			    got, &err) == 0,
	   "a 31-character id is fine: %s", err.text);
	ok(vnb_ledger_release(dir, 0, NULL, 0, NULL, &err) < 0 &&
	       errno == EINVAL,
	   "release of job 0: EINVAL");
	ok(vnb_ledger_scrubbed(dir, "eth0", 0, &err) < 0 && errno == EINVAL,
	   "scrubbed for job 0: EINVAL");
	ok(vnb_ledger_scrubbed(dir, "../x", 5, &err) < 0 && errno == EINVAL,
	   "scrubbed of a bad id: EINVAL");
	ok(vnb_ledger_scrubbed(dir, NULL, 5, &err) < 0 && errno == EINVAL,
	   "scrubbed of NULL: EINVAL");
}

static void test_corrupt(void)
{
	static const struct {
		const char *content;
		const char *msg; /* after "<dir>/ledger" */
	} t[] = {
	    {"", ":1: empty file"},
	    {"eth0 claimed 1 2\n", ":1: not a vnic-bypass ledger"},
	    {"# vnic-bypass ledger v2\n", ":1: ledger format v2 is not"},
	    {"# vnic-bypass ledger v1", ":1: the last line has no newline"},
	    {HEADER "eth0 claimed 1 2", ":2: the last line has no newline"},
	    {HEADER "eth0 claimed 1 2\n\n", ":3: empty line"},
	    {HEADER "eth0 claimed 1\n", ":2: expected 'VNIC STATE JOBID"},
	    {HEADER "eth0 claimed 1 2 3\n", ":2: expected"},
	    {HEADER "eth0  claimed 1 2\n", ":2: expected"},
	    {HEADER "eth0 claimed 1 2 \n", ":2: expected"},
	    {HEADER " eth0 claimed 1 2\n", ":2: expected"},
	    {HEADER "eth0\tclaimed 1 2\n", ":2: expected"},
	    {HEADER "e/th0 claimed 1 2\n", ":2: 'e/th0' is not a valid vNIC"},
	    {HEADER "eth0 taken 1 2\n", ":2: vNIC eth0: unknown state 'taken'"},
	    {HEADER "eth0 free 0 2\n", ":2: vNIC eth0: unknown state 'free'"},
	    {HEADER "eth0 claimed 0 2\n", ":2: vNIC eth0: job id '0'"},
	    {HEADER "eth0 claimed -1 2\n", ":2: vNIC eth0: job id '-1'"},
	    {HEADER "eth0 claimed 4294967296 2\n", ":2: vNIC eth0: job id"},
	    {HEADER "eth0 claimed 12x 2\n", ":2: vNIC eth0: job id '12x'"},
	    {HEADER "eth0 claimed 1 yesterday\n", ":2: vNIC eth0: time"},
	    {HEADER "eth0 claimed 1 99999999999999999999\n", ":2: vNIC eth0: "
							     "time"},
	    {HEADER "# ok\neth1 dirty 3 4\neth0 claimed 1 2\neth1 claimed 5 "
		    "6\n",
	     ":5: vNIC eth1 is listed twice (also at line 3)"},
	    {HEADER "eth0 claimed 1 2\n#\n\0eth1 claimed 1 2\n",
	     ":4: NUL byte"},
	};
	char content[512];
	vnb_error_t err;
	size_t i;

	fresh();
	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		char want[512];
		struct vnb_ledger *l;
		size_t len = strlen(t[i].content);

		/* the NUL case: the content goes on after the NUL */
		if (strstr(t[i].msg, "NUL"))
			len += 1 + strlen(t[i].content + len + 1);
		memcpy(content, t[i].content, len);
		{
			char path[512];
			FILE *f;

			snprintf(path, sizeof(path), "%s/ledger", dir);
			f = fopen(path, "w");
			fwrite(content, 1, len, f);
			fclose(f);
		}
		snprintf(want, sizeof(want), "%s/ledger%s", dir, t[i].msg);
		memset(&err, 0, sizeof(err));
		l = vnb_ledger_begin(dir, &err);
		ok(!l && errno == EINVAL, "corrupt %zu refused by begin", i);
		like(err.text, want, "corrupt %zu: %s", i, err.text);
		vnb_ledger_end(l);
		l = vnb_ledger_read(dir, &err);
		ok(!l && errno == EINVAL, "corrupt %zu refused by read", i);
		vnb_ledger_end(l);
	}
	{
		char cand[1][VNB_VNIC_ID_MAX] = {"eth9"};
		char got[1][VNB_VNIC_ID_MAX];

		testdir_put(dir, "ledger", HEADER "eth0 claimed 1 x\n");
		ok(vnb_ledger_claim(dir, 2,
				    (const char(*)[VNB_VNIC_ID_MAX])cand, 1, 1,
				    got, &err) < 0 &&
		       errno == EINVAL,
		   "claim on a corrupt ledger refuses");
		is_str(testdir_slurp(dir, "ledger"),
		       HEADER "eth0 claimed 1 x\n",
		       "and leaves the file as it was");
	}
	testdir_put(dir, "ledger",
		    HEADER "# hand-written, unsorted\neth2 dirty 3 4\neth0 "
			   "claimed 1 2\n");
	{
		struct vnb_ledger *l = vnb_ledger_read(dir, &err);

		ok(l && vnb_ledger_count(l) == 2 &&
		       strcmp(vnb_ledger_at(l, 0)->vnic, "eth0") == 0 &&
		       vnb_ledger_at(l, 0)->since == 2,
		   "comments and any order are accepted");
		vnb_ledger_end(l);
	}
}

static void test_leftovers(void)
{
	vnb_error_t err = {{0}};
	struct vnb_ledger *l;

	fresh();
	l = vnb_ledger_begin(dir, &err);
	vnb_ledger_set(l, "eth0", VNB_VNIC_CLAIMED, 1);
	vnb_ledger_commit(l, &err);
	vnb_ledger_end(l);
	testdir_put(dir, ".ledger.tmp.99999", "# vnic-bypass ledger v1\neth");
	testdir_put(dir, ".ledger.tmp.1", "");
	testdir_put(dir, "job.4711", "another module's file\n");
	l = vnb_ledger_read(dir, &err);
	ok(l && vnb_ledger_count(l) == 1, "temp files left behind are "
					  "ignored");
	vnb_ledger_end(l);
	l = vnb_ledger_begin(dir, &err);
	vnb_ledger_set(l, "eth1", VNB_VNIC_CLAIMED, 1);
	ok(vnb_ledger_commit(l, &err) == 0, "commit");
	vnb_ledger_end(l);
	is_int(testdir_count(dir, ".ledger.tmp."), 0,
	       "the next commit removes them");
	is_int(testdir_count(dir, "job.4711"), 1, "and nothing else");
}

/* The board (group commit) is an optimisation: a board that is not ours
 * must not stop a transaction, nor be changed. */
static void test_board_fallback(void)
{
	char cand[2][VNB_VNIC_ID_MAX] = {"eth0", "eth1"};
	char got[2][VNB_VNIC_ID_MAX];
	vnb_error_t err = {{0}};
	size_t count = 0;

	fresh();
	testdir_put(dir, "ledger.board", "not a board\n");
	ok(vnb_ledger_claim(dir, 3, (const char(*)[VNB_VNIC_ID_MAX])cand, 2, 2,
			    got, &err) == 0 &&
	       strcmp(got[1], "eth1") == 0,
	   "claim works beside a foreign board: %s", err.text);
	ok(vnb_ledger_release(dir, 3, NULL, 0, &count, &err) == 0 && count == 2,
	   "release too");
	ok(vnb_ledger_scrubbed(dir, "eth0", 3, &err) == 0 &&
	       vnb_ledger_scrubbed(dir, "eth1", 3, &err) == 0,
	   "scrubbed too");
	is_str(testdir_slurp(dir, "ledger.board"), "not a board\n",
	       "the foreign board is left alone");
	fresh();
	ok(vnb_ledger_claim(dir, 4, (const char(*)[VNB_VNIC_ID_MAX])cand, 2, 1,
			    got, &err) == 0,
	   "a claim makes a board");
	ok(testdir_inode(dir, "ledger.board") != 0, "which is there");
	ok(vnb_ledger_claim(dir, 4, (const char(*)[VNB_VNIC_ID_MAX])cand, 2, 1,
			    got, &err) == 0 &&
	       strcmp(got[0], "eth0") == 0,
	   "and serves the next one");
}

static void test_bounds(void)
{
	static char many[VNB_LEDGER_MAX + 1][VNB_VNIC_ID_MAX];
	char got[1][VNB_VNIC_ID_MAX];
	vnb_error_t err = {{0}};
	struct vnb_ledger *l;
	int i, rc = 0;

	fresh();
	testdir_ids(many, VNB_LEDGER_MAX + 1, "v1");
	l = vnb_ledger_begin(dir, &err);
	for (i = 0; i < VNB_LEDGER_MAX && rc == 0; i++)
		rc = vnb_ledger_set(l, many[i], VNB_VNIC_DIRTY, 1);
	ok(rc == 0 && vnb_ledger_count(l) == VNB_LEDGER_MAX,
	   "a ledger holds VNB_LEDGER_MAX entries");
	ok(vnb_ledger_set(l, "w", VNB_VNIC_CLAIMED, 1) < 0 && errno == ENOSPC,
	   "one more is ENOSPC");
	ok(vnb_ledger_commit(l, &err) == 0, "the full ledger commits");
	vnb_ledger_end(l);
	l = vnb_ledger_read(dir, &err);
	ok(l && vnb_ledger_count(l) == VNB_LEDGER_MAX, "and loads: %s",
	   err.text);
	vnb_ledger_end(l);
	ok(vnb_ledger_claim(dir, 2, (const char(*)[VNB_VNIC_ID_MAX])many,
			    VNB_LEDGER_MAX + 1, 1, got, &err) < 0 &&
	       errno == EINVAL,
	   "more candidates than a ledger holds: EINVAL");
	like(err.text, "more than the", "the message says why");
}

int main(void)
{
	umask(022);
	test_names();
	test_begin_set_commit();
	test_read();
	test_claim();
	test_claim_einval();
	test_corrupt();
	test_leftovers();
	test_board_fallback();
	test_bounds();
	testdir_remove(dir);
	return done_testing();
}
