/*
 * netif.c - network interfaces seen through a /sys/class/net directory
 * (netif.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/netif.h"
#include "common/util.h"

static int read_mac_at(int dir, const char *name, uint8_t mac[6])
{
	char path[VNB_NETIF_NAMSIZ + 16], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/address", name);
	fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 17)
		return -1;
	buf[17] = '\0';
	return vnb_mac_parse(buf, mac);
}

static bool has_lower(int dir, const char *name)
{
	bool found = false;
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "lower_", 6) == 0)
			found = true;
	closedir(d);
	return found;
}

int vnb_ifname_by_mac(int netdir, const uint8_t mac[6],
		      char ifname[VNB_NETIF_NAMSIZ])
{
	char best[VNB_NETIF_NAMSIZ] = "";
	bool best_lower = true;
	struct dirent *de;
	DIR *d;
	int fd;

	fd = dup(netdir);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		uint8_t m[6];
		bool lower;

		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) >= VNB_NETIF_NAMSIZ)
			continue;
		if (read_mac_at(netdir, de->d_name, m) < 0 ||
		    memcmp(m, mac, 6) != 0)
			continue;
		lower = has_lower(netdir, de->d_name);
		if (best[0] && (lower && !best_lower))
			continue;
		if (best[0] && lower == best_lower &&
		    strcmp(de->d_name, best) > 0)
			continue;
		snprintf(best, sizeof(best), "%s", de->d_name);
		best_lower = lower;
	}
	closedir(d);
	if (!best[0]) {
		errno = ENODEV;
		return -1;
	}
	memcpy(ifname, best, VNB_NETIF_NAMSIZ);
	return 0;
}
