/* vlan.c - admit the tenant's VLAN on the guest's vNIC (pmixsrv.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/pmixsrv.h"
#include "common/netif.h"
#include "cred/cred.h"

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
	char dev[VNB_NETIF_NAMSIZ], sub[32], vid[8], path[64];
	char *add[] = {"ip", "link", "add",  "link", dev, "name",
		       sub,  "type", "vlan", "id",   vid, NULL};
	char *up[] = {"ip", "link", "set", sub, "up", NULL};
	struct vnb_cred c;
	struct stat st;
	int netdir, rc;

	if (!cred[0] || vnb_cred_decode(cred, &c, NULL) < 0 || c.vlan == 0 ||
	    geteuid() != 0)
		return;
	/* the vNIC itself, not a VLAN device on it (same MAC) */
	netdir = open("/sys/class/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (netdir < 0)
		return;
	rc = vnb_ifname_by_mac(netdir, c.mac, dev);
	close(netdir);
	if (rc < 0)
		return;
	snprintf(sub, sizeof(sub), "%s.%u", dev, c.vlan);
	snprintf(path, sizeof(path), "/sys/class/net/%s", sub);
	if (strlen(sub) >= VNB_NETIF_NAMSIZ || stat(path, &st) == 0)
		return;
	snprintf(vid, sizeof(vid), "%u", c.vlan);
	if (run_ip(add) < 0 || run_ip(up) < 0)
		vnb_agent_log("cannot add VLAN %u on %s (%s): frames of the "
			      "tenant's VLAN may not reach the guest",
			      c.vlan, dev, sub);
}
