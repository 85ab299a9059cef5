/*
 * fileio.h - durable file updates.
 *
 * vnb_file_replace() is how every durable state file (the ledger, job
 * records) is written: into a temporary file in the same directory, fsync,
 * rename over the old name, fsync of the directory.  A crash at any point
 * leaves either the old or the new content, never a mix.
 */
#ifndef VNB_COMMON_FILEIO_H
#define VNB_COMMON_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

int vnb_file_replace(int dirfd, const char *name, const void *buf, size_t len,
		     mode_t mode, vnb_error_t *err);

/* Remove the temporary files of vnb_file_replace(dirfd, name, ...) that a
 * writer killed before its rename left behind (".NAME.tmp.PID" with PID no
 * longer alive).  Returns how many were removed; never fails. */
int vnb_file_sweep(int dirfd, const char *name);

/* Read a whole file below dirfd (AT_FDCWD for a plain path), at most max
 * bytes.  Returns a NUL-terminated buffer the caller frees, its length in
 * *len when len is not NULL; NULL with errno on failure (ENOENT included). */
char *vnb_file_read(int dirfd, const char *name, size_t max, size_t *len,
		    vnb_error_t *err);

/* How many of dir/PREFIX0SUFFIX, dir/PREFIX1SUFFIX, ... exist, counting
 * from 0 up to the first missing one (a run dir's task.N.sock, qset.N). */
unsigned vnb_file_count_seq(const char *dir, const char *prefix,
			    const char *suffix);

/* mkdir -p with mode for the directories it creates. */
int vnb_mkdir_p(const char *path, mode_t mode, vnb_error_t *err);

#endif
