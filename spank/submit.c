/*
 * submit.c - srun, sbatch and salloc: catch a user's mistake before any
 * job exists, and hand the normalized spec to the prolog.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"
#include "conf/conf.h"
#include "conf/spec.h"
#include "spank/plugin.h"

#define CMDLINE_MAX (256 * 1024)
#define SCRIPT_MAX (1024 * 1024)

static int fail(const char *msg)
{
	slurm_error("vnic-bypass: %s", msg);
	return -1;
}

/* argv of this srun/sbatch/salloc process, from /proc/self/cmdline. */
static char **read_argv(int *argc, char **buf)
{
	size_t len = 0, i, n = 0;
	char **argv;

	*buf = vnb_file_read(AT_FDCWD, "/proc/self/cmdline", CMDLINE_MAX, &len,
			     NULL);
	if (!*buf)
		return NULL;
	for (i = 0; i < len; i++)
		if ((*buf)[i] == '\0')
			n++;
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return NULL;
	*argc = 0;
	for (i = 0; i < len && (size_t)*argc < n; i += strlen(*buf + i) + 1)
		argv[(*argc)++] = *buf + i;
	return argv;
}

static const char *first_env(const char *const *names)
{
	for (; *names; names++) {
		const char *v = getenv(*names);

		if (v && *v)
			return v;
	}
	return NULL;
}

/* Where the job will run: command line, then environment, then #SBATCH
 * lines, then slurm.conf's default partition. */
static void find_where(struct vnb_submit_where *w)
{
	static const char *const part_env[] = {
	    "SLURM_PARTITION", "SBATCH_PARTITION", "SALLOC_PARTITION", NULL};
	static const char *const acct_env[] = {
	    "SLURM_ACCOUNT", "SBATCH_ACCOUNT", "SALLOC_ACCOUNT", NULL};
	const char *v;
	char *buf = NULL;
	int argc = 0, cmd;
	char **argv = read_argv(&argc, &buf);

	memset(w, 0, sizeof(*w));
	if (argv) {
		const char *prog = strrchr(argv[0], '/');

		prog = prog ? prog + 1 : argv[0];
		cmd = vnb_scan_argv(argc, argv, w);
		if ((v = first_env(part_env)) && !w->partition[0])
			snprintf(w->partition, sizeof(w->partition), "%s", v);
		if ((v = first_env(acct_env)) && !w->account[0])
			snprintf(w->account, sizeof(w->account), "%s", v);
		if (strcmp(prog, "sbatch") == 0 && cmd < argc) {
			char *script = vnb_file_read(AT_FDCWD, argv[cmd],
						     SCRIPT_MAX, NULL, NULL);

			if (script)
				vnb_scan_sbatch_script(script, w);
			free(script);
		}
	}
	free(argv);
	free(buf);
	if (!w->partition[0]) {
		const char *path = getenv("SLURM_CONF");
		char *text = vnb_file_read(
		    AT_FDCWD, path ? path : "/etc/slurm/slurm.conf",
		    CMDLINE_MAX * 4, NULL, NULL);

		if (text)
			vnb_slurm_conf_default_partition(text, w->partition,
							 sizeof(w->partition));
		free(text);
	}
}

/* Check the spec against the policy of every partition the job may run
 * in. */
static int check_policy(const struct vnb_conf *conf)
{
	struct vnb_submit_where w;
	char *save = NULL, *part;
	vnb_error_t err = {{0}};

	find_where(&w);
	if (!w.partition[0]) {
		slurm_verbose("vnic-bypass: cannot tell the job's partition; "
			      "the prolog will check the spec");
		return 0;
	}
	for (part = strtok_r(w.partition, ",", &save); part;
	     part = strtok_r(NULL, ",", &save)) {
		const struct vnb_conf_tenant *t;
		struct vnb_spec resolved;

		t = vnb_conf_tenant_find(conf, part, w.account, &err);
		if (!t)
			return fail(err.text);
		if (vnb_spec_resolve(&vnb_plugin.spec, t,
				     vnb_conf_tenant_capacity(conf, t),
				     &resolved, &err) < 0)
			return fail(err.text);
	}
	return 0;
}

/* An srun inside an allocation uses the vNICs prepared for the
 * allocation: it cannot ask for something else. */
static int check_step(const char *jobid, const char *normalized)
{
	const char *alloc = getenv("SLURM_SPANK_" VNB_JOB_ENV);
	char msg[1024];
	struct vnb_spec spec;
	char given[VNB_SPEC_MAX];
	size_t plen = strlen(VNB_JOB_ENV_PREFIX);

	if (!alloc) {
		snprintf(msg, sizeof(msg),
			 "job %s was allocated without --vnic-bypass, so its "
			 "nodes have no vNICs; give --vnic-bypass to "
			 "salloc/sbatch",
			 jobid);
		return fail(msg);
	}
	if (strncmp(alloc, VNB_JOB_ENV_PREFIX, plen) != 0 ||
	    vnb_spec_parse(alloc + plen, &spec, NULL) < 0 ||
	    vnb_spec_format(&spec, given, sizeof(given)) < 0)
		return fail("SLURM_SPANK_" VNB_JOB_ENV " in the environment is "
			    "malformed; do not set it by hand");
	if (strcmp(given, normalized) != 0) {
		snprintf(msg, sizeof(msg),
			 "job %s was allocated with --vnic-bypass=%s; its "
			 "steps use those vNICs and cannot ask for "
			 "--vnic-bypass=%s",
			 jobid, given, normalized);
		return fail(msg);
	}
	return 0;
}

int vnb_spank_submit(spank_t sp)
{
	char normalized[VNB_SPEC_MAX];
	char value[VNB_SPEC_MAX + 8];
	const char *jobid = getenv("SLURM_JOB_ID");
	struct vnb_conf *conf;
	vnb_error_t err = {{0}};

	if (!vnb_plugin.given)
		return 0;
	if (vnb_spec_format(&vnb_plugin.spec, normalized, sizeof(normalized)) <
	    0)
		return fail("--vnic-bypass=SPEC is too long");
	if (spank_context() == S_CTX_LOCAL && jobid && *jobid)
		return check_step(jobid, normalized);

	conf = vnb_conf_load(vnb_plugin.args.config, &err);
	if (!conf && errno != ENOENT && errno != EACCES) {
		char msg[sizeof(err.text) + 128];

		snprintf(msg, sizeof(msg),
			 "%s; the cluster's vnic-bypass configuration is "
			 "broken, tell your administrator",
			 err.text);
		return fail(msg);
	}
	if (conf) {
		int rc = check_policy(conf);

		vnb_conf_destroy(conf);
		if (rc < 0)
			return -1;
	} else {
		slurm_verbose("vnic-bypass: %s: the prolog will check the "
			      "spec",
			      err.text);
	}
	snprintf(value, sizeof(value), "%s%s", VNB_JOB_ENV_PREFIX, normalized);
	if (spank_job_control_setenv(sp, VNB_JOB_ENV, value, 1) !=
	    ESPANK_SUCCESS)
		return fail("cannot pass the spec to the prolog "
			    "(spank_job_control_setenv failed)");
	return 0;
}
