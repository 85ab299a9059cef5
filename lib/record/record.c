#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"
#include "record/record.h"

#define RECORD_HEADER "# vnic-bypass job record v1"
#define RECORD_MAX (64 * 1024)

struct out {
	char *buf;
	size_t len, used;
	bool full;
};

static void put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->used)
		o->full = true;
	else
		o->used += (size_t)n;
}

int vnb_record_format(const struct vnb_record *r, char *buf, size_t len)
{
	struct out o = {buf, len, 0, len == 0};
	size_t i;

	put(&o, "%s\n", RECORD_HEADER);
	put(&o, "job %u\n", r->jobid);
	put(&o, "uid %u\n", r->uid);
	put(&o, "gid %u\n", r->gid);
	put(&o, "tenant %s\n", r->tenant);
	put(&o, "node %s %u\n", r->node, r->nodeidx);
	put(&o, "cpus %s\n", r->cpus[0] ? r->cpus : "-");
	put(&o, "spec %s\n", r->spec[0] ? r->spec : "-");
	put(&o, "state %s\n", r->state == VNB_RECORD_READY ? "ready" : "begin");
	put(&o, "vm %s\n",
	    vnb_record_vm_name(r->vm) ? vnb_record_vm_name(r->vm) : "none");
	for (i = 0; i < r->nvnics; i++) {
		const struct vnb_record_vnic *v = &r->vnics[i];
		char mac[18], saved[18];

		vnb_mac_format(v->mac, mac);
		vnb_mac_format(v->saved.mac, saved);
		if (!v->programmed && !v->have_saved) {
			put(&o, "vnic %s %s %d claimed\n", v->id, v->ifname,
			    v->vf);
			continue;
		}
		if (!v->programmed) {
			put(&o, "vnic %s %s %d claimed %s %s\n", v->id,
			    v->ifname, v->vf, saved,
			    v->saved.was_up ? "up" : "down");
			continue;
		}
		put(&o, "vnic %s %s %d programmed %s %s %s\n", v->id, v->ifname,
		    v->vf, mac, saved, v->saved.was_up ? "up" : "down");
	}
	if (o.full) {
		errno = ENOSPC;
		return -1;
	}
	return (int)o.used;
}

static const char *const vm_names[] = {"none", "starting", "started", "ready"};

const char *vnb_record_vm_name(enum vnb_record_vm vm)
{
	if ((unsigned)vm >= sizeof(vm_names) / sizeof(vm_names[0]))
		return NULL;
	return vm_names[vm];
}

static int parse_vm(const char *word, enum vnb_record_vm *vm)
{
	unsigned i;

	for (i = 0; i < sizeof(vm_names) / sizeof(vm_names[0]); i++)
		if (strcmp(word, vm_names[i]) == 0) {
			*vm = (enum vnb_record_vm)i;
			return 0;
		}
	return -1;
}

static int bad(vnb_error_t *err, const char *name, int line, const char *what)
{
	errno = EINVAL;
	return vnb_errprintf(err, "%s:%d: %s", name, line, what);
}

static int copy_word(char *dst, size_t len, const char *src)
{
	if (!src || strlen(src) >= len)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int parse_saved(struct vnb_record_vnic *v, const char *mac,
		       const char *state)
{
	if (vnb_mac_parse(mac, v->saved.mac) < 0)
		return -1;
	if (strcmp(state, "up") == 0)
		v->saved.was_up = true;
	else if (strcmp(state, "down") != 0)
		return -1;
	return 0;
}

static int parse_vnic(struct vnb_record *r, char **w, int nw)
{
	struct vnb_record_vnic *v;
	uint64_t vf;

	if (r->nvnics >= VNB_MAX_VNICS || nw < 5)
		return -1;
	v = &r->vnics[r->nvnics];
	memset(v, 0, sizeof(*v));
	if (copy_word(v->id, sizeof(v->id), w[1]) < 0 ||
	    copy_word(v->ifname, sizeof(v->ifname), w[2]) < 0)
		return -1;
	if (strcmp(w[3], "-1") == 0)
		v->vf = -1;
	else if (vnb_parse_u64(w[3], 0, 4095, &vf) == 0)
		v->vf = (int)vf;
	else
		return -1;
	if (strcmp(w[4], "claimed") == 0 && nw == 5) {
		v->programmed = false;
	} else if (strcmp(w[4], "claimed") == 0 && nw == 7) {
		v->have_saved = true;
		if (parse_saved(v, w[5], w[6]) < 0)
			return -1;
	} else if (strcmp(w[4], "programmed") == 0 && nw == 8) {
		v->programmed = true;
		v->have_saved = true;
		if (vnb_mac_parse(w[5], v->mac) < 0 ||
		    parse_saved(v, w[6], w[7]) < 0)
			return -1;
	} else {
		return -1;
	}
	r->nvnics++;
	return 0;
}

int vnb_record_parse(const char *text, const char *name, struct vnb_record *r,
		     vnb_error_t *err)
{
	char line[1024];
	const char *p = text;
	int lineno = 0;
	bool have_job = false;

	memset(r, 0, sizeof(*r));
	while (*p) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *w[8], *save = NULL, *tok;
		int nw = 0;
		uint64_t v;

		lineno++;
		if (!end)
			return bad(err, name, lineno, "truncated line");
		if (n >= sizeof(line))
			return bad(err, name, lineno, "line too long");
		memcpy(line, p, n);
		line[n] = '\0';
		p = end + 1;
		if (lineno == 1) {
			if (strcmp(line, RECORD_HEADER) != 0)
				return bad(err, name, lineno,
					   "not a vnic-bypass job record (v1)");
			continue;
		}
		for (tok = strtok_r(line, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save)) {
			if (nw == 8)
				return bad(err, name, lineno,
					   "too many fields");
			w[nw++] = tok;
		}
		if (nw == 0)
			return bad(err, name, lineno, "empty line");
		if (strcmp(w[0], "job") == 0 && nw == 2 &&
		    vnb_parse_u64(w[1], 1, UINT32_MAX, &v) == 0) {
			r->jobid = (uint32_t)v;
			have_job = true;
		} else if (strcmp(w[0], "uid") == 0 && nw == 2 &&
			   vnb_parse_u64(w[1], 0, UINT32_MAX, &v) == 0) {
			r->uid = (uint32_t)v;
		} else if (strcmp(w[0], "gid") == 0 && nw == 2 &&
			   vnb_parse_u64(w[1], 0, UINT32_MAX, &v) == 0) {
			r->gid = (uint32_t)v;
		} else if (strcmp(w[0], "vm") == 0 && nw == 2 &&
			   parse_vm(w[1], &r->vm) == 0) {
		} else if (strcmp(w[0], "tenant") == 0 && nw == 2 &&
			   copy_word(r->tenant, sizeof(r->tenant), w[1]) == 0) {
		} else if (strcmp(w[0], "node") == 0 && nw == 3 &&
			   copy_word(r->node, sizeof(r->node), w[1]) == 0 &&
			   vnb_parse_u64(w[2], 0, UINT32_MAX, &v) == 0) {
			r->nodeidx = (uint32_t)v;
		} else if (strcmp(w[0], "cpus") == 0 && nw == 2 &&
			   copy_word(r->cpus, sizeof(r->cpus),
				     strcmp(w[1], "-") ? w[1] : "") == 0) {
		} else if (strcmp(w[0], "spec") == 0 && nw == 2 &&
			   copy_word(r->spec, sizeof(r->spec),
				     strcmp(w[1], "-") ? w[1] : "") == 0) {
		} else if (strcmp(w[0], "state") == 0 && nw == 2 &&
			   (strcmp(w[1], "begin") == 0 ||
			    strcmp(w[1], "ready") == 0)) {
			r->state = strcmp(w[1], "ready") == 0
				       ? VNB_RECORD_READY
				       : VNB_RECORD_BEGIN;
		} else if (strcmp(w[0], "vnic") == 0) {
			if (parse_vnic(r, w, nw) < 0)
				return bad(err, name, lineno,
					   "malformed vnic line");
		} else {
			return bad(err, name, lineno,
				   "unknown or malformed line");
		}
	}
	if (!have_job)
		return bad(err, name, lineno, "no job line");
	return 0;
}

static int jobs_dir(const char *state_dir, bool create, vnb_error_t *err)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/jobs", state_dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return vnb_errprintf(err, "%s: path too long", state_dir);
	}
	if (create && vnb_mkdir_p(path, 0755, err) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vnb_errprintf(err, "cannot open %s: %s", path,
				     strerror(errno));
	return fd;
}

int vnb_record_save(const char *state_dir, const struct vnb_record *r,
		    vnb_error_t *err)
{
	char buf[RECORD_MAX];
	char name[16];
	int len, dfd, rc;

	len = vnb_record_format(r, buf, sizeof(buf));
	if (len < 0)
		return vnb_errprintf(err, "job %u: record too large", r->jobid);
	dfd = jobs_dir(state_dir, true, err);
	if (dfd < 0)
		return -1;
	snprintf(name, sizeof(name), "%u", r->jobid);
	rc = vnb_file_replace(dfd, name, buf, (size_t)len, 0644, err);
	close(dfd);
	return rc;
}

int vnb_record_load(const char *state_dir, uint32_t jobid, struct vnb_record *r,
		    vnb_error_t *err)
{
	char name[16], label[PATH_MAX];
	char *text;
	int dfd, rc;

	dfd = jobs_dir(state_dir, false, err);
	if (dfd < 0)
		return -1;
	snprintf(name, sizeof(name), "%u", jobid);
	snprintf(label, sizeof(label), "%s/jobs/%s", state_dir, name);
	text = vnb_file_read(dfd, name, RECORD_MAX, NULL, err);
	close(dfd);
	if (!text)
		return -1;
	rc = vnb_record_parse(text, label, r, err);
	free(text);
	if (rc == 0 && r->jobid != jobid) {
		errno = EINVAL;
		return vnb_errprintf(err, "%s: names job %u", label, r->jobid);
	}
	return rc;
}

int vnb_record_remove(const char *state_dir, uint32_t jobid, vnb_error_t *err)
{
	char name[16];
	int dfd, rc = 0;

	dfd = jobs_dir(state_dir, false, err);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	snprintf(name, sizeof(name), "%u", jobid);
	vnb_file_sweep(dfd, name); /* from a prolog killed mid-write */
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		rc =
		    vnb_errprintf(err, "cannot remove the record of job %u: %s",
				  jobid, strerror(errno));
	else if (fsync(dfd) < 0)
		rc = vnb_errprintf(err, "cannot sync %s/jobs: %s", state_dir,
				   strerror(errno));
	close(dfd);
	return rc;
}

int vnb_record_list(const char *state_dir, uint32_t **jobids, size_t *n,
		    vnb_error_t *err)
{
	struct dirent *de;
	uint32_t *ids = NULL;
	size_t count = 0, cap = 0;
	DIR *d;
	int dfd;

	*jobids = NULL;
	*n = 0;
	dfd = jobs_dir(state_dir, false, err);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return vnb_errprintf(err, "cannot read %s/jobs: %s", state_dir,
				     strerror(errno));
	}
	while ((de = readdir(d))) {
		uint64_t v;

		if (vnb_parse_u64(de->d_name, 1, UINT32_MAX, &v) < 0)
			continue;
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			uint32_t *nids = realloc(ids, ncap * sizeof(*ids));

			if (!nids) {
				free(ids);
				closedir(d);
				return vnb_errprintf(err, "out of memory");
			}
			ids = nids;
			cap = ncap;
		}
		ids[count++] = (uint32_t)v;
	}
	closedir(d);
	*jobids = ids;
	*n = count;
	return 0;
}
