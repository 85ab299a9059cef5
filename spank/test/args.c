#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/tap.h"
#include "common/util.h"
#include "spank/args.h"

static void test_plugin_args(void)
{
	struct vnb_plugin_args a;
	vnb_error_t err = {{0}};
	char *good[] = {"config=/etc/x.yaml"};
	char *unknown[] = {"trace=/tmp/x"};
	char *relative[] = {"config=x.yaml"};
	char *both[] = {"exec=/opt/vnb/vnb-exec", "config=/etc/y.yaml"};
	char *bad_exec[] = {"exec=vnb-exec"};
	char *prefix[] = {"configx=/etc/x.yaml"};

	ok(vnb_plugin_args_parse(0, NULL, &a, &err) == 0 &&
	       strcmp(a.config, VNB_CONF_DEFAULT_PATH) == 0,
	   "no arguments: the default config path");
	ok(vnb_plugin_args_parse(1, good, &a, &err) == 0 &&
	       strcmp(a.config, "/etc/x.yaml") == 0,
	   "config= sets the path");
	ok(vnb_plugin_args_parse(1, unknown, &a, &err) < 0 && errno == EINVAL,
	   "unknown argument refused");
	like(err.text,
	     "unknown argument 'trace=/tmp/x' (accepted: config=PATH, "
	     "exec=PATH)",
	     "the message names it and what is accepted");
	ok(vnb_plugin_args_parse(1, relative, &a, &err) < 0,
	   "relative config path refused");
	like(err.text, "absolute path", "the message says why");
	ok(vnb_plugin_args_parse(0, NULL, &a, &err) == 0 &&
	       strcmp(a.exec, VNB_EXEC_PATH) == 0,
	   "no arguments: the installed vnb-exec");
	ok(vnb_plugin_args_parse(2, both, &a, &err) == 0 &&
	       strcmp(a.exec, "/opt/vnb/vnb-exec") == 0 &&
	       strcmp(a.config, "/etc/y.yaml") == 0,
	   "exec= and config= together");
	ok(vnb_plugin_args_parse(1, bad_exec, &a, &err) < 0 && errno == EINVAL,
	   "relative exec path refused");
	like(err.text, "exec= needs an absolute path", "with the reason");
	ok(vnb_plugin_args_parse(1, prefix, &a, &err) < 0 && errno == EINVAL,
	   "an argument that only begins like one is unknown");
}

static void test_argv(void)
{
	static const struct {
		const char *argv[12];
		const char *partition, *account;
		int cmd;
	} t[] = {
	    {{"srun", "-p", "alpha", "hostname"}, "alpha", "", 3},
	    {{"srun", "-palpha", "-N2", "hostname"}, "alpha", "", 3},
	    {{"srun", "--partition=beta", "-A", "lab", "true"},
	     "beta",
	     "lab",
	     4},
	    {{"srun", "--partition", "beta", "--account=x", "true"},
	     "beta",
	     "x",
	     4},
	    {{"srun", "-N", "2", "--vnic-bypass", "prog", "-p", "x"},
	     "",
	     "",
	     4},
	    {{"srun", "--nodes", "2", "-l", "prog", "-p", "x"}, "", "", 4},
	    {{"srun", "--exclusive", "prog", "--partition=x"}, "", "", 2},
	    {{"srun", "-N2", "--", "-p", "x"}, "", "", 3},
	    {{"sbatch", "--wrap", "srun -p x true", "-pbeta"}, "beta", "", 4},
	    {{"salloc", "-Aacct", "-p", "a,b"}, "a,b", "acct", 4},
	    {{"srun", "--mpi", "pmix", "-p", "alpha", "x"}, "alpha", "", 5},
	    {{"srun"}, "", "", 1},
	};
	size_t i;

	for (i = 0; i < VNB_ARRAY_SIZE(t); i++) {
		struct vnb_submit_where w;
		int argc = 0, cmd;

		memset(&w, 0, sizeof(w));
		while (t[i].argv[argc])
			argc++;
		cmd = vnb_scan_argv(argc, (char *const *)t[i].argv, &w);
		ok(cmd == t[i].cmd &&
		       strcmp(w.partition, t[i].partition) == 0 &&
		       strcmp(w.account, t[i].account) == 0,
		   "argv case %zu: partition '%s' account '%s' command at %d",
		   i, w.partition, w.account, cmd);
	}
}

static void test_script(void)
{
	struct vnb_submit_where w;

	memset(&w, 0, sizeof(w));
	vnb_scan_sbatch_script("#!/bin/bash\n#SBATCH -p beta\n"
			       "#SBATCH --account=lab\n\n# note\n"
			       "srun true\n#SBATCH -p late\n",
			       &w);
	ok(strcmp(w.partition, "beta") == 0 && strcmp(w.account, "lab") == 0,
	   "#SBATCH lines give partition and account, up to the first command");
	memset(&w, 0, sizeof(w));
	snprintf(w.partition, sizeof(w.partition), "cli");
	vnb_scan_sbatch_script("#!/bin/sh\n#SBATCH --partition=script\n", &w);
	ok(strcmp(w.partition, "cli") == 0, "the command line wins");
}

static void test_default_partition(void)
{
	char buf[64];

	vnb_slurm_conf_default_partition(
	    "ClusterName=x\n# PartitionName=no Default=YES\n"
	    "PartitionName=alpha Nodes=ALL Default=YES State=UP\n"
	    "PartitionName=beta Nodes=ALL\n",
	    buf, sizeof(buf));
	is_str(buf, "alpha", "slurm.conf default partition");
	vnb_slurm_conf_default_partition("PartitionName=beta Nodes=ALL\n", buf,
					 sizeof(buf));
	is_str(buf, "", "no default partition");
}

int main(void)
{
	test_plugin_args();
	test_argv();
	test_script();
	test_default_partition();
	return done_testing();
}
