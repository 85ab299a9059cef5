/*
 * vnic_bypass.c - the SPANK plugin's entry points: a thin dispatcher on
 * context.  Enable it in plugstack.conf:
 *
 *   required /usr/lib/x86_64-linux-gnu/slurm/vnic_bypass.so [config=PATH]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "spank/plugin.h"

SPANK_PLUGIN(vnic_bypass, 1);

struct vnb_plugin vnb_plugin;

static int option_cb(int val, const char *optarg, int remote)
{
	vnb_error_t err = {{0}};

	(void)val;
	/* A bare --vnic-bypass arrives as NULL, and on the remote side first
	 * as NULL and then as "".  An srun inside an sbatch or salloc that
	 * had a bare option inherits it through the environment as the
	 * text "(null)", which is never a valid spec. */
	if (optarg && strcmp(optarg, "(null)") == 0)
		optarg = NULL;
	vnb_plugin.given = true;
	snprintf(vnb_plugin.value, sizeof(vnb_plugin.value), "%s",
		 optarg ? optarg : "");
	if (optarg && strlen(optarg) >= sizeof(vnb_plugin.value)) {
		slurm_error("vnic-bypass: --vnic-bypass=SPEC is longer than "
			    "%zu characters",
			    sizeof(vnb_plugin.value) - 1);
		return -1;
	}
	if (vnb_spec_parse(vnb_plugin.value, &vnb_plugin.spec, &err) < 0) {
		if (!remote)
			slurm_error("vnic-bypass: %s", err.text);
		return -1;
	}
	return 0;
}

static struct spank_option vnb_option = {
    .name = "vnic-bypass",
    .arginfo = "[SPEC]",
    .usage = "Run the tasks in the tenant's VMs with dedicated vNICs. "
	     "SPEC: vnics=N,queues=Q,image=NAME,"
	     "provider=xdp|packet|udp|shm|auto (all optional)",
    .has_arg = 2,
    .val = 0,
    .cb = option_cb,
};

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	vnb_error_t err = {{0}};

	if (vnb_plugin_args_parse(ac, av, &vnb_plugin.args, &err) < 0) {
		slurm_error("vnic-bypass: %s", err.text);
		return -1;
	}
	if (spank_option_register(sp, &vnb_option) != ESPANK_SUCCESS) {
		slurm_error("vnic-bypass: cannot register --vnic-bypass");
		return -1;
	}
	return 0;
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	switch (spank_context()) {
	case S_CTX_LOCAL:
	case S_CTX_ALLOCATOR:
		return vnb_spank_submit(sp);
	default:
		return 0;
	}
}

int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	if (spank_context() != S_CTX_REMOTE || !vnb_plugin.given)
		return 0;
	return vnb_spank_remote_user_init(sp);
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	if (spank_context() != S_CTX_REMOTE || !vnb_plugin.given)
		return 0;
	return vnb_spank_remote_task_init(sp);
}
