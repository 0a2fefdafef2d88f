/* data.h - training and evaluation batches from llm.c token shards.
 *
 * Files: shards named by globs, memory-mapped. Training windows (T + 1 tokens) are drawn at
 * positions chosen by hashing (seed, sample number): batch k is a pure function of the seed and
 * k, so a resumed run sees exactly the data an uninterrupted one would. Evaluation reads the
 * held-out shards in order, in non-overlapping windows. A stream (standard input: shards one
 * after another, as shard-pack --stdout writes them) is read once, in order, in consecutive
 * windows; it cannot be resumed exactly.
 */
#ifndef LM_DATA_H
#define LM_DATA_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct lm_shard {
	char *path;
	const unsigned char *tok;	/* first token */
	void *map;
	size_t map_size;
	int width;
	uint64_t ntok;
} lm_shard;

typedef struct lm_data {
	lm_shard *s;
	size_t n;
	uint64_t total;		/* tokens in all shards */
	uint64_t *cum;		/* cumulative windows per shard (training sampling) */
	uint64_t windows;
	uint64_t seed;
	int T;
	uint32_t vocab;
	/* stream */
	FILE *stream;
	const char *stream_name;
	uint32_t *sbuf;
	size_t sbuf_n;		/* tokens held */
	uint64_t left_in_shard;	/* tokens of the current stream shard still unread */
	int swidth;
	uint64_t stream_tokens;
	/* the shard folders, each read-locked while the run uses it (shard-pack waits) */
	struct lm_folder *dirs;
	size_t ndirs;
} lm_data;

/* Open the shards matching any of the globs (comma-separated). 0, or -1 with a message. A
 * folder shard-pack wrote is locked for reading (a run writing it makes this fail, and a
 * rerun waits for the training to end), must hold its manifest.json (else that run did not
 * finish), and every shard taken from it must be listed there with its token count (a stray
 * or stale shard is refused, not trained on). */
int lm_data_open(lm_data *d, const char *globs, int T, uint32_t vocab, uint64_t seed, char *err,
		 size_t errlen);
/* Read shards from a stream (the file "-" is standard input). */
int lm_data_open_stream(lm_data *d, FILE *f, const char *name, int T, uint32_t vocab);
void lm_data_close(lm_data *d);

/* Training batch number k: B rows of T inputs and their T targets. For a stream, the next
 * B x T + 1 tokens (rows consecutive); returns 0 at the end of the stream, -1 on error. */
int lm_data_batch(lm_data *d, uint64_t k, int B, int32_t *x, int32_t *y, char *err,
		  size_t errlen);
/* Rows first, first + stride, ... (B of them) of training batch k: a data parallel rank's
 * share (rank r of N takes first r, stride N). Not for a stream. */
int lm_data_rows(lm_data *d, uint64_t k, int first, int stride, int B, int32_t *x, int32_t *y,
		 char *err, size_t errlen);
/* Evaluation windows: the w-th non-overlapping window of T + 1 tokens over all shards in
 * order; returns 0 past the last one. */
uint64_t lm_data_eval_windows(const lm_data *d);
int lm_data_eval_window(const lm_data *d, uint64_t w, int32_t *x, int32_t *y, char *err,
			size_t errlen);
#endif
