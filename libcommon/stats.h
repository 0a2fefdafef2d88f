/* stats.h - run statistics: counts, drop reasons, bytes and time, written by --stats FILE. */
#ifndef CM_STATS_H
#define CM_STATS_H

#include <stdint.h>

#include "buf.h"

#define CM_STATS_MAX_REASONS 64

typedef struct cm_stats {
	uint64_t read, kept, dropped, malformed;
	uint64_t bytes_in, bytes_out;
	double start;
	int nreasons;
	char *reason[CM_STATS_MAX_REASONS];
	uint64_t reason_n[CM_STATS_MAX_REASONS];
	cm_buf extra;		/* program-specific members, already encoded ("k":v,...) */
	cm_buf failed;		/* failed_inputs' objects, already encoded ({...},{...}) */
	char *last_failed;	/* the input named last there (one entry an input) */
	char *options;		/* the command line, encoded as a JSON array */
} cm_stats;

void cm_stats_init(cm_stats *s, int argc, char **argv);
void cm_stats_free(cm_stats *s);
/* Count one dropped record under a reason (a short static or stable string). */
void cm_stats_drop(cm_stats *s, const char *reason);
void cm_stats_drop_n(cm_stats *s, const char *reason, uint64_t n);	/* n at once */
/* Name an input that could not be read whole (failed_inputs: [{"input", "reason"}, ...]);
 * a second failure of the same input in a row is not listed again. */
void cm_stats_input_failed(cm_stats *s, const char *input, const char *reason);
/* Add a program-specific counter to the JSON ("warc": {...} style values are raw JSON). */
void cm_stats_extra(cm_stats *s, const char *key, const char *json);
/* Write the JSON file; dies on failure. */
void cm_stats_write(const cm_stats *s, const char *path);
/* The -v summary line on stderr. */
void cm_stats_summary(const cm_stats *s);

#endif
