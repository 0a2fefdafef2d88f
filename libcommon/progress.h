/* progress.h - progress on stderr: on a terminal one line redrawn in place (on by default),
 * elsewhere plain lines (with --progress), and the final -v summary. */
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
/* A filter's automatic choice: -1 (automatic) becomes 0 while standard output is a pipe, so
 * that of the filters of a pipe sharing a terminal only the last one draws (their lines would
 * overwrite each other's); other values are returned as they are. */
int cm_progress_filter_auto(int on);
/* Cheap enough to call for every record: redraws a few times a second at most. */
void cm_progress_update(cm_progress *p, uint64_t records, uint64_t bytes_done);
/* Draw the final state and end the line. */
void cm_progress_end(cm_progress *p, uint64_t records, uint64_t bytes_done);

/* A progress line of the program's own ("prog: " and the text), for what is not counted in
 * records (lm-train: a line a step): on a terminal redrawn in place, elsewhere (a log) a line
 * of its own; nothing when off. Not throttled: the caller draws when it has news. */
void cm_progress_line(cm_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Before another message on stderr: end a line drawn in place, so that the message starts
 * a line of its own (the next update draws below it). */
void cm_progress_break(cm_progress *p);

#endif
