/*
 * agent.h - what the parts of vnb-agent share: its log and its options.
 */
#ifndef VNB_AGENT_AGENT_H
#define VNB_AGENT_AGENT_H

#include <stdbool.h>

struct vnb_agent_opts {
	bool allow_root; /* run tasks as uid 0 when asked */
	const char *name; /* said in HELLO */
};

/* One line on stderr (the guest console), prefixed "vnb-agent: ". */
void vnb_agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
