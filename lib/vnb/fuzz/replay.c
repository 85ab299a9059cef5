/*
 * Replay a fuzz target's corpus as a plain program, so that make check
 * runs every committed input without libFuzzer.
 *
 * With no arguments it replays $VNB_SRCDIR/lib/vnb/fuzz/corpus/NAME,
 * where NAME is this program's name without "_replay" (frame_replay
 * replays corpus/frame); with arguments, the files named (a crash input
 * the fuzzer wrote, say).  One TAP line per input: an input that breaks
 * an invariant aborts, and the test fails.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tap.h"
#include "vnb/fuzz/fuzz.h"

#define REPLAY_MAX (1 << 20)

static void replay(const char *path)
{
	static uint8_t buf[REPLAY_MAX];
	size_t n;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		ok(false, "%s: %s", path, strerror(errno));
		return;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	ok(true, "%s (%zu bytes)", path, n);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *srcdir = getenv("VNB_SRCDIR");
	char name[64], dir[4096], path[4200];
	const char *base, *end;
	char *names[4096];
	size_t n = 0, i;
	struct dirent *de;
	DIR *d;
	int a;

	if (argc > 1) {
		for (a = 1; a < argc; a++)
			replay(argv[a]);
		return done_testing();
	}
	base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (strncmp(base, "lt-", 3) == 0)
		base += 3;
	end = strstr(base, "_replay");
	if (!end || (size_t)(end - base) >= sizeof(name))
		bail_out("%s: cannot tell the corpus from the program name",
			 argv[0]);
	snprintf(name, sizeof(name), "%.*s", (int)(end - base), base);
	snprintf(dir, sizeof(dir), "%s/lib/vnb/fuzz/corpus/%s",
		 srcdir ? srcdir : ".", name);
	d = opendir(dir);
	if (!d)
		bail_out("%s: %s (set VNB_SRCDIR to the source tree)", dir,
			 strerror(errno));
	while ((de = readdir(d)) != NULL && n < 4096)
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	closedir(d);
	if (n == 0)
		bail_out("%s: empty corpus", dir);
	qsort(names, n, sizeof(names[0]), cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		replay(path);
		free(names[i]);
	}
	return done_testing();
}
