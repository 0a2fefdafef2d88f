/* output.h - buffered output to stdout or a file, plain or gzip (-z). */
#ifndef CM_OUTPUT_H
#define CM_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct cm_output cm_output;

/* A file replaced whole or not at all. A regular file or a new name is written under a
 * temporary name beside it (PATH.tmp.PID.N), synced and renamed over PATH on commit, so a
 * crash or an error never leaves half a file under the final name; a symbolic link is
 * followed (the file it names is replaced). Anything else (a character device such as
 * /dev/null or /dev/full, a FIFO, a socket) cannot be replaced: it is opened and written
 * straight through, as is "-", standard output. Temporaries not committed are removed when the program exits. */
typedef struct cm_afile {
	int fd;
	char *path;		/* the target */
	char *tmp;		/* the temporary, or NULL when written straight through */
} cm_afile;

/* Returns 0, or -1 with a message in err (errno kept). */
int cm_afile_open(cm_afile *a, const char *path, char *err, size_t errlen);
/* Write all n bytes; -1 with errno on failure. */
int cm_afile_write(cm_afile *a, const void *p, size_t n);
/* Sync, close and rename into place (or close, for a file written through); -1 with a message
 * in err on any failure, after removing the temporary. */
int cm_afile_commit(cm_afile *a, char *err, size_t errlen);
/* Close and remove the temporary: the target keeps its old contents. */
void cm_afile_abort(cm_afile *a);
/* Flush a folder's entries (renames, removals) to disk: 0, or -1 with errno. A file system
 * that cannot sync a folder (EINVAL) has nothing to flush. */
int cm_sync_dir(const char *dir);
/* The whole of a file in one call (open, write, commit); -1 with a message in err. */
int cm_afile_put(const char *path, const void *p, size_t n, char *err, size_t errlen);

/* path NULL or "-" is standard output. gzip: compress (ISA-L level 1 when built with it,
 * else zlib level 1). Dies with a message when the file cannot be created. */
cm_output *cm_output_open(const char *path, int gzip);
/* The same, replacing a regular file whole on close (cm_afile above); cm_output_abort leaves
 * the target as it was. */
cm_output *cm_output_open_atomic(const char *path, int gzip);
void cm_output_write(cm_output *o, const void *p, size_t n);
/* Flush everything, close, die on any write error (full disk). */
void cm_output_close(cm_output *o);
/* Discard an output: an atomic one's temporary is removed, a plain file is closed as it is. */
void cm_output_abort(cm_output *o);
uint64_t cm_output_bytes(const cm_output *o);	/* uncompressed bytes written */

#endif
