#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "node/qset.h"

int vnb_node_qsets(const struct vnb_conf_tenant *t, const struct vnb_spec *spec,
		   const struct vnb_record *rec, char (*out)[VNB_CRED_MAX],
		   size_t max, size_t *n, vnb_error_t *err)
{
	unsigned queues = spec->queues ? spec->queues : 1, q;
	size_t k, i = 0;

	if (rec->nvnics * queues > max) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "job %u has %zu vNICs x %u queues here, "
				     "more than %zu queue sets",
				     rec->jobid, rec->nvnics, queues, max);
	}
	for (k = 0; k < rec->nvnics; k++)
		for (q = 0; q < queues; q++, i++) {
			struct vnb_cred c = {{0},
					     (uint16_t)t->vlan,
					     (uint16_t)q,
					     VNB_NODE_QSET_MTU,
					     VNB_NODE_QSET_FRAME,
					     rec->jobid,
					     0,
					     0};

			memcpy(c.mac, rec->vnics[k].mac, sizeof(c.mac));
			if (vnb_cred_encode(&c, out[i], VNB_CRED_MAX) < 0) {
				errno = EINVAL;
				return vnb_errprintf(err,
						     "job %u: queue set %zu "
						     "has no valid credential",
						     rec->jobid, i);
			}
		}
	*n = i;
	return 0;
}

int vnb_node_qsets_write(int dirfd, const char *dir,
			 const struct vnb_conf_tenant *t,
			 const struct vnb_spec *spec,
			 const struct vnb_record *rec, vnb_error_t *err)
{
	char(*creds)[VNB_CRED_MAX] = calloc(VNB_NODE_QSET_MAX, VNB_CRED_MAX);
	char name[64];
	size_t n = 0, i;
	int rc = -1, fd;

	if (!creds) {
		errno = ENOMEM;
		return vnb_errprintf(err, "out of memory");
	}
	if (vnb_node_qsets(t, spec, rec, creds, VNB_NODE_QSET_MAX, &n, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		size_t len = strlen(creds[i]);

		creds[i][len] = '\n';
		snprintf(name, sizeof(name), "qset.%zu", i);
		if (vnb_file_replace(dirfd, name, creds[i], len + 1, 0644,
				     err) < 0)
			goto out;
		snprintf(name, sizeof(name), "qset.%zu.lock", i);
		fd = openat(dirfd, name,
			    O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 ||
		    (geteuid() == 0 && fchown(fd, rec->uid, rec->gid) < 0) ||
		    fchmod(fd, 0600) < 0) {
			vnb_errprintf(err, "cannot give %s/%s to uid %u: %s",
				      dir, name, rec->uid, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
		close(fd);
	}
	rc = 0;
out:
	free(creds);
	return rc;
}
