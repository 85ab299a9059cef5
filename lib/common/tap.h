/*
 * tap.h - a minimal Test Anything Protocol producer for the unit tests,
 * read by automake's tap-driver.sh.
 */
#ifndef VNB_COMMON_TAP_H
#define VNB_COMMON_TAP_H

#include <stdbool.h>

void plan(int n);
/* Print the plan from the number of tests run, and return the exit code. */
int done_testing(void);
bool ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool is_int(long long got, long long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool is_str(const char *got, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Passes when haystack contains needle. */
bool like(const char *haystack, const char *needle, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bail_out(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
