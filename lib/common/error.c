#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

int vnb_errprintf(vnb_error_t *err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->text, sizeof(err->text), fmt, ap);
		va_end(ap);
	}
	errno = saved;
	return -1;
}

/* dst = a b c, truncated to size (the compiler cannot prove a single
 * snprintf of three full buffers fits, and truncation is what we want). */
static void append(char *dst, size_t size, const char *a, const char *b,
		   const char *c)
{
	const char *parts[] = {a, b, c};
	size_t n = 0, i;

	for (i = 0; i < 3; i++) {
		size_t len = strlen(parts[i]);

		if (len > size - 1 - n)
			len = size - 1 - n;
		memcpy(dst + n, parts[i], len);
		n += len;
	}
	dst[n] = '\0';
}

int vnb_errprefix(vnb_error_t *err, const char *fmt, ...)
{
	int saved = errno;
	char prefix[sizeof(err->text)];
	char old[sizeof(err->text)];
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(prefix, sizeof(prefix), fmt, ap);
		va_end(ap);
		memcpy(old, err->text, sizeof(old));
		append(err->text, sizeof(err->text), prefix, ": ", old);
	}
	errno = saved;
	return -1;
}
