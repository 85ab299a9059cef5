/* ppn.c - the layout of a step from PMIX_JOB's ppn (pmixsrv.h). */
#include <errno.h>
#include <stdlib.h>

#include "agent/pmixsrv.h"

int vnb_agent_ppn_parse(const char *ppn, uint32_t size, uint32_t max_nodes,
			uint32_t *node_of, uint32_t *local_of, uint32_t *nnodes,
			vnb_error_t *err)
{
	uint32_t node = 0, local = 0, seen = 0, r;
	const char *p = ppn;
	char *end;

	for (r = 0; r < size; r++)
		node_of[r] = UINT32_MAX;
	for (;;) {
		unsigned long v;

		if (*p < '0' || *p > '9')
			goto bad;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || v >= size || node_of[v] != UINT32_MAX)
			goto bad;
		node_of[v] = node;
		local_of[v] = local++;
		seen++;
		p = end;
		if (*p == ',') {
			p++;
		} else if (*p == ';') {
			p++;
			local = 0;
			if (++node >= max_nodes)
				goto bad;
		} else if (*p == '\0') {
			break;
		} else {
			goto bad;
		}
	}
	if (seen != size)
		goto bad;
	*nnodes = node + 1;
	return 0;
bad:
	errno = EINVAL;
	return vnb_errprintf(err,
			     "ranks per node '%s' is not a partition of "
			     "the %u ranks into at most %u nodes",
			     ppn, size, max_nodes);
}
