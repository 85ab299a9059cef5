/*
 * vnbctl - the admin's view of vnic-bypass on a node.
 *
 *   vnbctl [--config FILE] check-config [FILE]
 *   vnbctl [--config FILE] ledger [--json]
 *   vnbctl [--config FILE] release JOBID [--force]
 *   vnbctl [--config FILE] reconcile
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "ledger/ledger.h"
#include "node/program.h"
#include "pool/pool.h"
#include "record/record.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: vnbctl [--config FILE] COMMAND\n"
		   "commands:\n"
		   "  check-config [FILE]  validate a configuration file\n"
		   "  ledger [--json]      show every vNIC and who holds it\n"
		   "  release JOBID [--force]\n"
		   "                       stop a job's VM, scrub and free its "
		   "vNICs now\n"
		   "  reconcile            clean up after jobs Slurm no longer "
		   "runs\n");
}

/* Is the job's prolog at work here right now?  Releasing under it would
 * pull its VM away while it boots: the prolog fails and the node drains.
 * A record that says "begin" for a job Slurm still runs means that (or a
 * prolog that died, for which --force is the way). */
static bool prolog_at_work(const struct vnb_conf *conf, uint32_t jobid)
{
	struct vnb_record rec;

	return vnb_record_load(conf->state_dir, jobid, &rec, NULL) == 0 &&
	       rec.state == VNB_RECORD_BEGIN &&
	       vnb_job_liveness(jobid) == VNB_JOB_ALIVE;
}

static int release(struct vnb_program *p, uint32_t jobid, bool force)
{
	vnb_error_t err = {{0}};

	if (!force && prolog_at_work(p->conf, jobid)) {
		vnb_log_err("job %u: its prolog is still at work on this node "
			    "(its record says 'begin'); releasing now would "
			    "fail it and drain the node: wait for it, or give "
			    "--force if that prolog died",
			    jobid);
		return 1;
	}
	if (vnb_node_teardown(&p->node, jobid, &err) < 0) {
		vnb_log_err("%s", err.text);
		return 1;
	}
	printf("job %u: released\n", jobid);
	return 0;
}

static int check_config(const char *path)
{
	struct vnb_conf *conf;
	vnb_error_t err = {{0}};
	size_t i;

	conf = vnb_conf_load(path, &err);
	if (!conf) {
		vnb_log_err("%s", err.text);
		return 1;
	}
	printf("%s: OK: %zu pool(s), %zu tenant(s)\n", path, conf->npools,
	       conf->ntenants);
	for (i = 0; i < conf->ntenants; i++) {
		const struct vnb_conf_tenant *t = &conf->tenants[i];

		printf("  tenant %s: %zu partition(s), vlan %u, %zu vNIC(s) "
		       "per node, vnics %u..%u\n",
		       t->name, t->npartitions, t->vlan,
		       vnb_conf_tenant_capacity(conf, t), t->vnics_default,
		       t->vnics_max);
	}
	vnb_conf_destroy(conf);
	return 0;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void row(const char *vnic, const char *pool, const char *state,
		uint32_t jobid, time_t since, bool json, bool first)
{
	char when[32] = "-";

	if (since) {
		struct tm tm;

		gmtime_r(&since, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (!json) {
		char job[16] = "-";

		if (jobid)
			snprintf(job, sizeof(job), "%u", jobid);
		printf("%-16s %-12s %-8s %-8s %s\n", vnic, pool, state, job,
		       when);
		return;
	}
	printf("%s\n  {\"vnic\": ", first ? "" : ",");
	json_str(vnic);
	printf(", \"pool\": ");
	json_str(pool);
	printf(", \"state\": \"%s\", \"job\": %u, \"since\": ", state, jobid);
	json_str(when);
	printf("}");
}

static int show_ledger(const struct vnb_conf *conf, bool json)
{
	struct vnb_pool_vnic *pool = NULL;
	struct vnb_ledger *l;
	vnb_error_t err = {{0}};
	size_t npool = 0, i;
	bool first = true;

	l = vnb_ledger_read(conf->state_dir, &err);
	if (!l || vnb_pool_list(conf, NULL, -1, &pool, &npool, &err) < 0) {
		vnb_log_err("%s", err.text);
		vnb_ledger_end(l);
		return 1;
	}
	if (json)
		printf("[");
	else
		printf("%-16s %-12s %-8s %-8s %s\n", "VNIC", "POOL", "STATE",
		       "JOB", "SINCE");
	for (i = 0; i < npool; i++, first = false) {
		const struct vnb_ledger_entry *e =
		    vnb_ledger_find(l, pool[i].id);

		row(pool[i].id, pool[i].pool->name,
		    vnb_vnic_state_name(e ? e->state : VNB_VNIC_FREE),
		    e ? e->jobid : 0, e ? e->since : 0, json, first);
	}
	/* Entries for vNICs that the config no longer lists. */
	for (i = 0; i < vnb_ledger_count(l); i++) {
		const struct vnb_ledger_entry *e = vnb_ledger_at(l, i);
		size_t k;

		for (k = 0; k < npool; k++)
			if (strcmp(pool[k].id, e->vnic) == 0)
				break;
		if (k == npool) {
			row(e->vnic, "(unlisted)",
			    vnb_vnic_state_name(e->state), e->jobid, e->since,
			    json, first);
			first = false;
		}
	}
	if (json)
		printf("\n]\n");
	free(pool);
	vnb_ledger_end(l);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = VNB_CONF_DEFAULT_PATH, *cmd;
	bool json = false;
	struct vnb_program p;
	vnb_error_t err = {{0}};
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "+c:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--json") == 0) {
		json = true;
		optind++;
	}
	vnb_log_open("vnbctl", false);
	if (strcmp(cmd, "check-config") == 0)
		return check_config(optind < argc ? argv[optind] : config);
	if (strcmp(cmd, "ledger") != 0 && strcmp(cmd, "release") != 0 &&
	    strcmp(cmd, "reconcile") != 0) {
		vnb_log_err("unknown command '%s'", cmd);
		usage(stderr);
		return 2;
	}
	if (vnb_program_open(&p, config,
			     strcmp(cmd, "ledger") == 0 ? 0 : VNB_PROGRAM_VM,
			     &err) < 0) {
		vnb_log_err("%s", err.text);
		return 1;
	}
	if (strcmp(cmd, "ledger") == 0) {
		rc = show_ledger(p.conf, json);
	} else if (strcmp(cmd, "release") == 0) {
		uint64_t jobid;

		bool force = optind + 1 < argc &&
			     strcmp(argv[optind + 1], "--force") == 0;

		if (optind >= argc ||
		    vnb_parse_u64(argv[optind], 1, UINT32_MAX, &jobid) < 0) {
			vnb_log_err("release needs a job id (a number from 1)");
			rc = 2;
		} else {
			rc = release(&p, (uint32_t)jobid, force);
		}
	} else {
		size_t cleaned = 0;

		rc = vnb_node_reconcile(&p.node, vnb_job_liveness, 0, &cleaned,
					&err) < 0;
		if (rc)
			vnb_log_err("%s", err.text);
		printf("reconciled %zu job(s)\n", cleaned);
	}
	vnb_program_close(&p);
	return rc;
}
