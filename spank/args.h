/*
 * args.h - the pure parts of the SPANK plugin: its plugstack.conf
 * arguments, and where a job will run (partition, account) as far as the
 * submit command line, #SBATCH lines, environment and slurm.conf say.
 */
#ifndef VNB_SPANK_ARGS_H
#define VNB_SPANK_ARGS_H

#include <stdbool.h>

#include "common/error.h"
#include "conf/conf.h"

struct vnb_plugin_args {
	char config[4096]; /* config=PATH, default VNB_CONF_DEFAULT_PATH */
	char exec[4096]; /* exec=PATH of vnb-exec, default VNB_EXEC_PATH */
};

/* Where vnb-exec is installed (the tasks of a job are replaced by it). */
#ifndef VNB_EXEC_PATH
#define VNB_EXEC_PATH VNB_LIBEXECDIR "/vnb-exec"
#endif

/* Parse the arguments of the plugstack.conf line.  Unknown or malformed
 * arguments are an error naming the argument and the ones accepted. */
int vnb_plugin_args_parse(int ac, char **av, struct vnb_plugin_args *args,
			  vnb_error_t *err);

/* The partition(s) and account a submit command asked for.  Empty strings
 * when not given. */
struct vnb_submit_where {
	char partition[1024]; /* may be a comma-separated list */
	char account[VNB_NAME_MAX];
};

/* Scan srun/sbatch/salloc arguments (argv[0] is the program) up to the
 * command or script: -p X, -pX, --partition=X, --partition X, and the same
 * for -A/--account.  Returns the index of the first argument that is the
 * user's command or script (argc when there is none). */
int vnb_scan_argv(int argc, char *const *argv, struct vnb_submit_where *w);

/* Scan the #SBATCH lines at the top of a batch script's text; fills only
 * what w does not have yet (the command line wins). */
void vnb_scan_sbatch_script(const char *text, struct vnb_submit_where *w);

/* The partition marked Default=YES in slurm.conf text; "" when none. */
void vnb_slurm_conf_default_partition(const char *text, char *buf, size_t len);

#endif
