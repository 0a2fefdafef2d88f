/* output.h - buffered output to stdout or a file, plain or gzip (-z). */
#ifndef CM_OUTPUT_H
#define CM_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct cm_output cm_output;

/* path NULL or "-" is standard output. gzip: compress (ISA-L level 1 when built with it,
 * else zlib level 1). Dies with a message when the file cannot be created. */
cm_output *cm_output_open(const char *path, int gzip);
void cm_output_write(cm_output *o, const void *p, size_t n);
/* Flush everything, close, die on any write error (full disk). */
void cm_output_close(cm_output *o);
uint64_t cm_output_bytes(const cm_output *o);	/* uncompressed bytes written */

#endif
