/* progress.h - one updating progress line on stderr, and the final -v summary. */
#ifndef CM_PROGRESS_H
#define CM_PROGRESS_H

#include <stdint.h>

typedef struct cm_progress {
	int on, tty;
	double start, last;
	uint64_t total;		/* input bytes expected, 0 when unknown */
	int drawn;
} cm_progress;

/* on: 1 forced (--progress), 0 off, -1 automatic (when stderr is a terminal). */
void cm_progress_init(cm_progress *p, int on, uint64_t total_bytes);
/* Cheap enough to call for every record: redraws a few times a second at most. */
void cm_progress_update(cm_progress *p, uint64_t records, uint64_t bytes_done);
/* Draw the final state and end the line. */
void cm_progress_end(cm_progress *p, uint64_t records, uint64_t bytes_done);

#endif
