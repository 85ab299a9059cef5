/*
 * util.h - small pure helpers shared by every module.
 */
#ifndef VNB_COMMON_UTIL_H
#define VNB_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parse a whole decimal string into [min, max].  -1 with errno EINVAL (not a
 * number, empty, trailing characters) or ERANGE (outside the range). */
int vnb_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A name safe to use as a path component, interface name, or libvirt name:
 * 1..maxlen characters of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool vnb_name_valid(const char *s, size_t maxlen);

/* Format a MAC address as "xx:xx:xx:xx:xx:xx" into buf (18 bytes). */
void vnb_mac_format(const uint8_t mac[6], char buf[18]);

/* Parse "xx:xx:xx:xx:xx:xx".  -1 with errno EINVAL when malformed. */
int vnb_mac_parse(const char *s, uint8_t mac[6]);

#endif
