/*
 * remote.c - slurmstepd: tell the tasks which vNICs the prolog prepared
 * for the job on this node (VNB_VNICS, VNB_MACS, VNB_TENANT, VNB_SPEC).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "conf/conf.h"
#include "record/record.h"
#include "spank/plugin.h"

static int set(spank_t sp, const char *name, const char *value)
{
	if (spank_setenv(sp, name, value, 1) != ESPANK_SUCCESS) {
		vnb_spank_refuse("cannot set %s in the task environment", name);
		return -1;
	}
	return 0;
}

int vnb_spank_remote_user_init(spank_t sp)
{
	struct vnb_record rec;
	struct vnb_conf *conf;
	vnb_error_t err = {{0}};
	char vnics[VNB_MAX_VNICS * VNB_VNIC_ID_MAX] = "";
	char macs[VNB_MAX_VNICS * 18] = "";
	uint32_t jobid = 0;
	size_t i;
	int rc;

	vnb_plugin.refused[0] = '\0';
	if (spank_get_item(sp, S_JOB_ID, &jobid) != ESPANK_SUCCESS)
		return vnb_spank_refuse("cannot get the job id from Slurm");
	conf = vnb_conf_load(vnb_plugin.args.config, &err);
	if (!conf)
		return vnb_spank_refuse("%s", err.text);
	rc = vnb_record_load(conf->state_dir, jobid, &rec, &err);
	if (rc == 0)
		rc = vnb_conf_job_run_dir(conf, jobid, vnb_plugin.run_dir,
					  sizeof(vnb_plugin.run_dir), &err);
	vnb_conf_destroy(conf);
	if (rc < 0)
		return vnb_spank_refuse(
		    "job %u has no vNICs on this node (%s); "
		    "was --vnic-bypass given to the "
		    "allocation?",
		    jobid, err.text);
	if (rec.state != VNB_RECORD_READY)
		return vnb_spank_refuse("the prolog of job %u did not finish "
					"on this node",
					jobid);
	for (i = 0; i < rec.nvnics; i++) {
		char mac[18];

		vnb_mac_format(rec.vnics[i].mac, mac);
		snprintf(vnics + strlen(vnics), sizeof(vnics) - strlen(vnics),
			 "%s%s", i ? "," : "", rec.vnics[i].id);
		snprintf(macs + strlen(macs), sizeof(macs) - strlen(macs),
			 "%s%s", i ? "," : "", mac);
	}
	if (set(sp, "VNB_VNICS", vnics) < 0 || set(sp, "VNB_MACS", macs) < 0 ||
	    set(sp, "VNB_TENANT", rec.tenant) < 0 ||
	    set(sp, "VNB_SPEC", rec.spec) < 0)
		return 0;
	return vnb_spank_remote_step_check(sp);
}
