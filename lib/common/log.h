/*
 * log.h - messages of the vnic-bypass programs (prolog, epilog, vnbctl).
 *
 * Library code never logs; programs do, through these.  Every line starts
 * with "vnic-bypass: " and goes to stderr and, once vnb_log_open() asked for
 * it, to syslog (facility LOG_DAEMON) under the program's name.
 */
#ifndef VNB_COMMON_LOG_H
#define VNB_COMMON_LOG_H

#include <stdbool.h>

void vnb_log_open(const char *ident, bool use_syslog);
void vnb_log_close(void);

/* Quiet mode drops info lines from stderr (they still reach syslog). */
void vnb_log_quiet(bool quiet);

void vnb_log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vnb_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vnb_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
