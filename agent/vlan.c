/* vlan.c - admit the tenant's VLAN on the guest's vNIC (pmixsrv.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/pmixsrv.h"
#include "common/util.h"
#include "cred/cred.h"

/* The interface whose MAC is mac, into name. */
static int if_by_mac(const uint8_t mac[6], char *name, size_t cap)
{
	char path[300], text[32], want[18];
	struct dirent *de;
	DIR *d = opendir("/sys/class/net");
	int rc = -1;

	if (!d)
		return -1;
	vnb_mac_format(mac, want);
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/address",
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(text, sizeof(text), f) &&
		    strncmp(text, want, 17) == 0 && !strchr(de->d_name, '.')) {
			snprintf(name, cap, "%s", de->d_name);
			rc = 0;
		}
		fclose(f);
		if (rc == 0)
			break;
	}
	closedir(d);
	return rc;
}

static int run_ip(char *const argv[])
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp("ip", argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

void vnb_agent_vlan_admit(const char *cred)
{
	char dev[256], sub[270], vid[8], path[300];
	struct vnb_cred c;
	struct stat st;

	if (!cred[0] || vnb_cred_decode(cred, &c, NULL) < 0 || c.vlan == 0 ||
	    geteuid() != 0 || if_by_mac(c.mac, dev, sizeof(dev)) < 0)
		return;
	snprintf(sub, sizeof(sub), "%s.%u", dev, c.vlan);
	snprintf(path, sizeof(path), "/sys/class/net/%s", sub);
	if (strlen(sub) >= 16 || stat(path, &st) == 0)
		return;
	snprintf(vid, sizeof(vid), "%u", c.vlan);
	{
		char *add[] = {"ip", "link", "add",  "link", dev, "name",
			       sub,  "type", "vlan", "id",   vid, NULL};
		char *up[] = {"ip", "link", "set", sub, "up", NULL};

		if (run_ip(add) < 0 || run_ip(up) < 0)
			vnb_agent_log("cannot add VLAN %u on %s (%s): frames "
				      "of the tenant's VLAN may not reach "
				      "the guest",
				      c.vlan, dev, sub);
	}
}
