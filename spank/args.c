#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "spank/args.h"

/* A "NAME=/absolute/path" argument into buf (4096 bytes); 0 when av is
 * not NAME=, 1 when it was taken, -1 for a bad path. */
static int path_arg(const char *av, const char *name, char *buf,
		    vnb_error_t *err)
{
	size_t n = strlen(name);
	const char *path = av + n + 1;

	if (strncmp(av, name, n) != 0 || av[n] != '=')
		return 0;
	if (path[0] != '/' || strlen(path) >= 4096) {
		errno = EINVAL;
		return vnb_errprintf(err,
				     "plugstack.conf: argument '%s': %s= "
				     "needs an absolute path",
				     av, name);
	}
	snprintf(buf, 4096, "%s", path);
	return 1;
}

int vnb_plugin_args_parse(int ac, char **av, struct vnb_plugin_args *args,
			  vnb_error_t *err)
{
	int i, r;

	snprintf(args->config, sizeof(args->config), "%s",
		 VNB_CONF_DEFAULT_PATH);
	snprintf(args->exec, sizeof(args->exec), "%s", VNB_EXEC_PATH);
	for (i = 0; i < ac; i++) {
		r = path_arg(av[i], "config", args->config, err);
		if (r == 0)
			r = path_arg(av[i], "exec", args->exec, err);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		errno = EINVAL;
		return vnb_errprintf(err,
				     "plugstack.conf: unknown argument '%s' "
				     "(accepted: config=PATH, exec=PATH)",
				     av[i]);
	}
	return 0;
}

/* Options of srun, sbatch and salloc that never take a separate value.
 * Every other option given as "--name" (without '=') or as a lone short
 * option is taken to consume the next argument, unless listed here. */
static const char *const no_value_long[] = {
    "contiguous",     "exclusive",
    "overcommit",     "label",
    "unbuffered",     "verbose",
    "quiet",	      "help",
    "usage",	      "hold",
    "test-only",      "pty",
    "no-kill",	      "oversubscribe",
    "spread-job",     "use-min-nodes",
    "disable-status", "multi-prog",
    "no-allocate",    "requeue",
    "no-requeue",     "parsable",
    "ignore-pbs",     "wait",
    "version",	      "vnic-bypass",
    "no-shell",	      "kill-on-bad-exit",
    "reboot",	      "x11",
    "exact",	      "overlap",
    "whole",	      "preserve-env",
    "immediate",      "get-user-env",
    "propagate",      "nice",
    "bell",	      "no-bell",
    "send-libs",      NULL,
};

/* Short options that take a value (srun, sbatch, salloc). */
static const char short_with_value[] = "AaBbCcDdeGiJLMmNnopqrSTtWwx";

static bool long_takes_value(const char *name)
{
	size_t i;

	for (i = 0; no_value_long[i]; i++)
		if (strcmp(name, no_value_long[i]) == 0)
			return false;
	return true;
}

static void take(char *dst, size_t len, const char *val)
{
	snprintf(dst, len, "%s", val ? val : "");
}

/* Handle one option (and maybe its value); returns how many arguments it
 * consumed. */
static int scan_option(const char *arg, const char *next,
		       struct vnb_submit_where *w)
{
	if (arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);

		if (nlen == 9 && strncmp(name, "partition", 9) == 0) {
			take(w->partition, sizeof(w->partition),
			     eq ? eq + 1 : next);
			return eq ? 1 : 2;
		}
		if (nlen == 7 && strncmp(name, "account", 7) == 0) {
			take(w->account, sizeof(w->account),
			     eq ? eq + 1 : next);
			return eq ? 1 : 2;
		}
		if (eq || !long_takes_value(name))
			return 1;
		return next ? 2 : 1;
	}
	if (arg[1] == 'p' || arg[1] == 'A') {
		char *dst = arg[1] == 'p' ? w->partition : w->account;
		size_t len =
		    arg[1] == 'p' ? sizeof(w->partition) : sizeof(w->account);

		if (arg[2]) {
			take(dst, len, arg + 2);
			return 1;
		}
		take(dst, len, next);
		return next ? 2 : 1;
	}
	if (arg[2] == '\0' && strchr(short_with_value, arg[1]))
		return next ? 2 : 1;
	return 1;
}

int vnb_scan_argv(int argc, char *const *argv, struct vnb_submit_where *w)
{
	int i = 1;

	while (i < argc) {
		const char *arg = argv[i];

		if (strcmp(arg, "--") == 0)
			return i + 1;
		if (arg[0] != '-' || arg[1] == '\0')
			return i;
		i += scan_option(arg, i + 1 < argc ? argv[i + 1] : NULL, w);
	}
	return argc;
}

void vnb_scan_sbatch_script(const char *text, struct vnb_submit_where *w)
{
	struct vnb_submit_where s = {{0}, {0}};
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[1024];
		char *words[3] = {"sbatch", NULL, NULL};
		char *save = NULL;

		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = end ? end + 1 : NULL;
		if (buf[0] != '#') {
			/* the first command ends the directives */
			char *p = buf + strspn(buf, " \t\r");

			if (*p)
				break;
			continue;
		}
		if (strncmp(buf, "#SBATCH", 7) != 0)
			continue;
		words[1] = strtok_r(buf + 7, " \t\r", &save);
		if (!words[1])
			continue;
		words[2] = strtok_r(NULL, " \t\r", &save);
		vnb_scan_argv(words[2] ? 3 : 2, words, &s);
	}
	if (!w->partition[0])
		take(w->partition, sizeof(w->partition), s.partition);
	if (!w->account[0])
		take(w->account, sizeof(w->account), s.account);
}

void vnb_slurm_conf_default_partition(const char *text, char *buf, size_t len)
{
	const char *line = text;

	buf[0] = '\0';
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		char l[4096], *save = NULL, *tok;
		char name[256] = "";
		bool is_default = false;

		if (n >= sizeof(l))
			n = sizeof(l) - 1;
		memcpy(l, line, n);
		l[n] = '\0';
		line = end ? end + 1 : NULL;
		if (strchr(l, '#'))
			*strchr(l, '#') = '\0';
		for (tok = strtok_r(l, " \t\r", &save); tok;
		     tok = strtok_r(NULL, " \t\r", &save)) {
			if (strncasecmp(tok, "PartitionName=", 14) == 0)
				snprintf(name, sizeof(name), "%s", tok + 14);
			else if (strcasecmp(tok, "Default=YES") == 0)
				is_default = true;
		}
		if (name[0] && is_default && strcasecmp(name, "DEFAULT")) {
			snprintf(buf, len, "%s", name);
			return;
		}
	}
}
