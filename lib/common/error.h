/*
 * error.h - the error convention of every vnic-bypass module.
 *
 * A function that fails returns -1 (or NULL) with errno set, and, when the
 * caller passed a vnb_error_t, a message for a person in it.  The message
 * names what was wrong, where, and what to do; it does not carry the
 * "vnic-bypass:" prefix, which the program that prints it adds.
 */
#ifndef VNB_COMMON_ERROR_H
#define VNB_COMMON_ERROR_H

#include <stddef.h>

/* The same type as libvnb's public vnb.h declares. */
#ifndef VNB_ERROR_T_DEFINED
#define VNB_ERROR_T_DEFINED
typedef struct vnb_error {
	char text[512];
} vnb_error_t;
#endif

/* Format a message into err (which may be NULL).  Always returns -1 and
 * leaves errno as it found it, so that "return vnb_errprintf(...)" works. */
int vnb_errprintf(vnb_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepend "PREFIX: " to the message already in err, for context. */
int vnb_errprefix(vnb_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
