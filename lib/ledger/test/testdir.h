/*
 * testdir.h - scratch state directories for the ledger tests.
 */
#ifndef VNB_LEDGER_TEST_TESTDIR_H
#define VNB_LEDGER_TEST_TESTDIR_H

#include <stdbool.h>

#include "conf/conf.h"

/* A fresh directory under $TMPDIR (or /tmp) into buf (size bytes); bails
 * out of the test on failure. */
void testdir_make(char *buf, unsigned long size, const char *tag);

/* Remove dir and the plain files directly in it. */
void testdir_remove(const char *dir);

/* Whole file dir/name into a static buffer; NULL when missing. */
const char *testdir_slurp(const char *dir, const char *name);

/* Put content into dir/name as it is (no atomicity needed in tests). */
void testdir_put(const char *dir, const char *name, const char *content);

/* The inode of dir/name, 0 when missing: a commit renames a new file in. */
unsigned long testdir_inode(const char *dir, const char *name);

/* How many names in dir start with prefix. */
int testdir_count(const char *dir, const char *prefix);

/* True under valgrind (the test suite sets VNB_VALGRIND=1, or valgrind's
 * LD_PRELOAD shows it): run fewer rounds. */
bool testdir_slow(void);

/* "v<i>" style ids into an array of VNB_VNIC_ID_MAX strings. */
void testdir_ids(char (*ids)[VNB_VNIC_ID_MAX], int n, const char *prefix);

/* size zeroed bytes of memory shared with the children forked later. */
void *testdir_shared(unsigned long size);

/* Violations of an invariant seen by any process of a test: counted in
 * shared memory (set up by testdir_violations_init() before forking),
 * with the first message kept. */
void testdir_violations_init(void);
void testdir_violation(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
unsigned long testdir_violations(void);
const char *testdir_violation_first(void);

#endif
