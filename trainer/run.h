/* run.h - a training run's directory over its life: made (with its parents), checkpoints
 * saved into it (OUT/step-NNNNNNN, written as step-NNNNNNN.tmp, synced and renamed; OUT/latest
 * then names it; the oldest pruned), resumed from, and the metrics file (JSONL) written
 * through. The files of one checkpoint: ckpt.h. */
#ifndef LM_RUN_H
#define LM_RUN_H
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "ckpt.h"
#include "model.h"
#include "tok.h"

typedef struct lm_run {
	const char *dir;	/* the run directory */
	long long keep;		/* checkpoints kept, the newest */
	lm_model *m;		/* made for training: AdamW's moments are saved too */
	const cm_tok *tok;	/* copied into each checkpoint (may be NULL) */
	const char *tok_path;	/* its file, for messages */
	json_t *options;	/* the options that decide the numbers: a resumed run has the same */
	lm_state st;		/* step, tokens, seconds so far */
	int reader;		/* a data parallel rank but the first: resumes, never writes */
	lm_moments moments;	/* ZeRO-1: the moments the model does not hold (get NULL: none) */
	long long at;		/* lm_run_resume from checkpoint step-<at> (0: the latest) */
} lm_run;

/* Make the run directory and any parent it lacks (an existing one is used). 0, or -1 with
 * the reason. */
int lm_run_mkdir(const char *dir, char *err, size_t errlen);
/* The directory holds a run ('latest' names a checkpoint). */
int lm_run_exists(const char *dir);
/* Save a checkpoint of r->st: written whole or not at all, then named by latest, then the
 * checkpoints beyond r->keep removed. path gets its directory. 0, or -1 with the reason. */
int lm_run_save(lm_run *r, char *path, size_t pathlen, char *err, size_t errlen);
/* Remove the checkpoints beyond the newest keep; with stale set, also what an interrupted
 * checkpoint left (step-N.tmp, step-N.old). */
void lm_run_prune(const char *dir, long long keep, int stale);
/* Resume from the latest checkpoint (or r->at's): its options must be r->options (the number of steps may
 * differ), its tokenizer r->tok's; the weights, AdamW's moments and r->st are loaded, path
 * gets the checkpoint's directory, and what an interrupted checkpoint left is removed (not by
 * a reader). The option "ranks" (data parallel processes) a checkpoint lacks is 1. 0, or -1
 * with the reason. */
int lm_run_resume(lm_run *r, char *path, size_t pathlen, char *err, size_t errlen);

/* The metrics file: a JSON object a line. */
typedef struct lm_metrics {
	FILE *f;
	char *path;
} lm_metrics;

/* Open path for the lines of a run at step (0: a new run, the file replaced); a resumed
 * run keeps the lines up to its step (the rest is redone). 0, or -1 with the reason. */
int lm_metrics_open(lm_metrics *mf, const char *path, long long step, char *err, size_t errlen);
/* A line, written through (a full disk fails the write that filled it). 0, or -1 with the
 * reason. */
int lm_metrics_vprintf(lm_metrics *mf, char *err, size_t errlen, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
int lm_metrics_close(lm_metrics *mf, char *err, size_t errlen);
#endif
