#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "common/log.h"

static bool log_syslog;
static bool log_quiet;

void vnb_log_open(const char *ident, bool use_syslog)
{
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void vnb_log_close(void)
{
	if (log_syslog)
		closelog();
	log_syslog = false;
}

void vnb_log_quiet(bool quiet)
{
	log_quiet = quiet;
}

static void vlog(int prio, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vlog(int prio, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_syslog)
		syslog(prio, "vnic-bypass: %s", line);
	if (prio != LOG_INFO || !log_quiet)
		fprintf(stderr, "vnic-bypass: %s\n", line);
}

void vnb_log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void vnb_log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void vnb_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}
