/* lm-train - train a decoder-only transformer on token shards: AdamW, schedules (cosine,
 * warmup-stable-decay with an anneal data mix), accumulation, clipping, evaluation in bits per
 * byte, checkpoints that resume exactly, metrics as JSONL.
 *
 * A checkpoint is a directory OUT/step-NNNNNNN: model.safetensors and config.json (Hugging Face
 * names and layout), tokenizer.json, optimizer.safetensors (AdamW's m and v, flat) and
 * trainer.json (step, options, checksums). It is written as step-NNNNNNN.tmp, synced and
 * renamed; OUT/latest then names it. A resumed run recomputes nothing it saved: batch k is a
 * function of the seed and k (data.h), so the weights after resuming equal, bit for bit, those
 * of a run that was never stopped (same thread count).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <cblas.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "ckpt.h"
#include "cli.h"
#include "data.h"
#include "kernels.h"
#include "mem.h"
#include "model.h"
#include "output.h"
#include "safetensors.h"
#include "tok.h"

#define EXIT_INTERRUPTED 75	/* EX_TEMPFAIL: a checkpoint was written; rerun with --resume */

enum {
	OPT_DATA = 256, OPT_VAL, OPT_MODEL, OPT_INIT, OPT_RESUME, OPT_VOCAB, OPT_CONTEXT,
	OPT_ACCUM, OPT_STEPS, OPT_LR, OPT_MIN_LR, OPT_WARMUP, OPT_SCHEDULE, OPT_DECAY, OPT_ANNEAL,
	OPT_WD, OPT_BETA1, OPT_BETA2, OPT_EPS, OPT_CLIP, OPT_SEED, OPT_EVAL_EVERY,
	OPT_EVAL_BATCHES, OPT_SAVE_EVERY, OPT_KEEP, OPT_DEVICE, OPT_PRECISION, OPT_DETERMINISTIC,
	OPT_PROGRESS, OPT_PEAK, OPT_METRICS,
};

static const struct option longopts[] = {
	{ "data", required_argument, NULL, OPT_DATA },
	{ "val", required_argument, NULL, OPT_VAL },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "init", required_argument, NULL, OPT_INIT },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "out", required_argument, NULL, 'o' },
	{ "tokenizer", required_argument, NULL, 't' },
	{ "vocab", required_argument, NULL, OPT_VOCAB },
	{ "batch", required_argument, NULL, 'b' },
	{ "context", required_argument, NULL, OPT_CONTEXT },
	{ "accum", required_argument, NULL, OPT_ACCUM },
	{ "steps", required_argument, NULL, OPT_STEPS },
	{ "lr", required_argument, NULL, OPT_LR },
	{ "min-lr", required_argument, NULL, OPT_MIN_LR },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "schedule", required_argument, NULL, OPT_SCHEDULE },
	{ "decay", required_argument, NULL, OPT_DECAY },
	{ "anneal-data", required_argument, NULL, OPT_ANNEAL },
	{ "weight-decay", required_argument, NULL, OPT_WD },
	{ "beta1", required_argument, NULL, OPT_BETA1 },
	{ "beta2", required_argument, NULL, OPT_BETA2 },
	{ "eps", required_argument, NULL, OPT_EPS },
	{ "clip", required_argument, NULL, OPT_CLIP },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "eval-every", required_argument, NULL, OPT_EVAL_EVERY },
	{ "eval-batches", required_argument, NULL, OPT_EVAL_BATCHES },
	{ "save-every", required_argument, NULL, OPT_SAVE_EVERY },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "precision", required_argument, NULL, OPT_PRECISION },
	{ "deterministic", no_argument, NULL, OPT_DETERMINISTIC },
	{ "threads", required_argument, NULL, 'j' },
	{ "peak-flops", required_argument, NULL, OPT_PEAK },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void usage(void)
{
	printf("Usage: lm-train --data GLOB -o DIR [OPTION]...\n"
	       "Train a decoder-only transformer (GPT-2 or Llama style) on llm.c token shards.\n"
	       "Checkpoints go to DIR/step-N (Hugging Face safetensors + config.json, tokenizer,\n"
	       "optimizer and trainer state); DIR/metrics.jsonl gets a line per step and evaluation.\n"
	       "\n"
	       "Data and model:\n"
	       "      --data GLOB        training shards (comma-separated globs), or - for a stream\n"
	       "                         of shards on stdin (read once, in order; not resumable)\n"
	       "      --val GLOB         held-out shards for evaluation\n"
	       "  -t, --tokenizer FILE   tokenizer (tokenizer.json or tiktoken): vocabulary size,\n"
	       "                         bytes per token for bits per byte, copied to checkpoints\n"
	       "      --model NAME|FILE  preset (%s) or a config.json (default: tiny)\n"
	       "      --vocab N          vocabulary size (default: the tokenizer's, or the config's)\n"
	       "      --init DIR         start from a checkpoint: a run directory or a Hugging Face\n"
	       "                         model directory (safetensors, sharded or not; fp32/bf16/fp16)\n"
	       "      --resume           continue the run in DIR from its latest checkpoint\n"
	       "  -o, --out DIR          run directory (created)\n"
	       "\n"
	       "Optimisation:\n"
	       "  -b, --batch N          rows per micro-batch (default: 8)\n"
	       "      --context N        positions per row (default: 256, at most the model's)\n"
	       "      --accum N          micro-batches per step (default: 1)\n"
	       "      --steps N          optimizer steps (default: 1000)\n"
	       "      --lr F             peak learning rate (default: 6e-4)\n"
	       "      --min-lr F         final learning rate (default: lr / 10)\n"
	       "      --warmup N         linear warmup steps (default: 0)\n"
	       "      --schedule S       cosine, wsd (warmup-stable-decay) or constant (default: cosine)\n"
	       "      --decay F          wsd: fraction of steps in the final decay (default: 0.2)\n"
	       "      --anneal-data GLOB wsd: shards to train on during the decay (the anneal mix)\n"
	       "      --weight-decay F   AdamW decoupled weight decay on matrices and embeddings,\n"
	       "                         never on norms and biases (default: 0.1)\n"
	       "      --beta1 F, --beta2 F, --eps F   AdamW (default: 0.9, 0.95, 1e-8)\n"
	       "      --clip F           clip the gradient norm to F, 0 for none (default: 1.0)\n"
	       "      --seed N           initialisation and data order (default: 0)\n"
	       "\n"
	       "Evaluation, checkpoints, output:\n"
	       "      --eval-every N     evaluate every N steps and at the end (default: 250; 0: end)\n"
	       "      --eval-batches N   batches per periodic evaluation (default: 0, the whole\n"
	       "                         set); the final one reads the whole set\n"
	       "      --save-every N     checkpoint every N steps and at the end (default: 500)\n"
	       "      --keep N           keep the last N checkpoints (default: 3)\n"
	       "      --metrics FILE     metrics JSONL (default: DIR/metrics.jsonl)\n"
	       "      --device D         cpu, cuda, cuda:plain (every operation's plain version,\n"
	       "                         to bisect) or auto (default: auto: cuda when there is a GPU)\n"
	       "      --precision P      bf16 (mixed: bf16 weights copy, activations and products,\n"
	       "                         fp32 master weights and AdamW) or fp32 (default: bf16 on\n"
	       "                         a GPU, fp32 on the CPU)\n"
	       "      --deterministic    run-to-run identical results on the GPU too\n"
	       "  -j, --threads N        CPU threads (default: all)\n"
	       "      --peak-flops F     the device's peak FLOP/s for the MFU estimate\n"
	       "      --progress         progress line even when stderr is not a terminal\n"
	       "  -q, --quiet            errors only\n"
	       "  -v, --verbose          a summary line at the end\n"
	       "  -h, --help             this help\n"
	       "  -V, --version          the version\n"
	       "\n"
	       "SIGTERM or SIGUSR1 writes a checkpoint and exits with status 75; --resume continues.\n",
	       lm_presets());
	exit(0);
}

typedef struct opts {
	const char *data, *val, *model, *init, *out, *tokenizer, *anneal, *device, *metrics;
	const char *precision;
	int resume, progress, deterministic;
	long long vocab, batch, context, accum, steps, warmup, seed, eval_every, eval_batches,
		save_every, keep, threads;
	double lr, min_lr, decay, wd, beta1, beta2, eps, clip, peak;
	const char *schedule;
} opts;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Learning rate at step s (0-based) of n. */
static double lr_at(const opts *o, long long s)
{
	double lr = o->lr, lo = o->min_lr;
	if (s < o->warmup)
		return lr * (double)(s + 1) / (double)(o->warmup + 1);
	if (!strcmp(o->schedule, "constant"))
		return lr;
	if (!strcmp(o->schedule, "wsd")) {
		long long nd = (long long)llround(o->decay * (double)o->steps);
		long long d0 = o->steps - nd;
		if (s < d0)
			return lr;
		double f = nd > 0 ? (double)(s - d0 + 1) / (double)nd : 1.0;
		return lr + (lo - lr) * f;	/* linear to the final rate */
	}
	long long span = o->steps - o->warmup;
	double r = span > 0 ? (double)(s - o->warmup) / (double)span : 1.0;
	return lo + 0.5 * (1.0 + cos(M_PI * r)) * (lr - lo);
}

static int in_anneal(const opts *o, long long s)
{
	return o->anneal && !strcmp(o->schedule, "wsd") &&
	       s >= o->steps - (long long)llround(o->decay * (double)o->steps);
}

/* Options that decide the numbers: a resumed run must have the same. */
static json_t *opts_json(const opts *o, const lm_config *c)
{
	json_t *j = json_object();
	char *cj = lm_config_json(c);
	json_object_set_new(j, "config", json_loads(cj, 0, NULL));
	free(cj);
	json_object_set_new(j, "data", json_string(o->data));
	json_object_set_new(j, "anneal_data", o->anneal ? json_string(o->anneal) : json_null());
	json_object_set_new(j, "batch", json_integer(o->batch));
	json_object_set_new(j, "context", json_integer(o->context));
	json_object_set_new(j, "accum", json_integer(o->accum));
	json_object_set_new(j, "steps", json_integer(o->steps));
	json_object_set_new(j, "lr", json_real(o->lr));
	json_object_set_new(j, "min_lr", json_real(o->min_lr));
	json_object_set_new(j, "warmup", json_integer(o->warmup));
	json_object_set_new(j, "schedule", json_string(o->schedule));
	json_object_set_new(j, "decay", json_real(o->decay));
	json_object_set_new(j, "weight_decay", json_real(o->wd));
	json_object_set_new(j, "beta1", json_real(o->beta1));
	json_object_set_new(j, "beta2", json_real(o->beta2));
	json_object_set_new(j, "eps", json_real(o->eps));
	json_object_set_new(j, "clip", json_real(o->clip));
	json_object_set_new(j, "seed", json_integer(o->seed));
	return j;
}

typedef struct run {
	opts o;
	lm_model *m;
	cm_tok *tok;
	lm_data train, anneal, val;
	int have_val;
	kn_tensor *pd, *gd, *md, *vd, *pn, *gn, *mn, *vn;	/* decay / no-decay ranges */
	int32_t *x, *y;
	float *tokbytes;	/* bytes each id decodes to (bits per byte) */
	FILE *metrics;
	const char *metrics_path;
	double flops_per_token, peak;
	uint64_t tokens;
	double elapsed;		/* training seconds before this process */
} run;

/* A line of metrics, written through: a write error (a full disk) stops the run. */
static void metrics_line(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void metrics_line(run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vfprintf(r->metrics, fmt, ap);
	va_end(ap);
	if (k < 0 || fflush(r->metrics) != 0 || ferror(r->metrics))
		cm_die("cannot write '%s': %s", r->metrics_path, strerror(errno));
}

/* A checkpoint directory: the files lm-train writes there, and their temporary files (any
 * name that starts with theirs). */
static void remove_checkpoint_dir(const char *p)
{
	static const char *const names[] = { "model.safetensors", "config.json", "tokenizer.json",
		"optimizer.safetensors", "trainer.json" };
	char f[4400];
	DIR *d = opendir(p);
	struct dirent *e;
	while (d && (e = readdir(d)))
		for (size_t k = 0; k < sizeof names / sizeof *names; k++)
			if (!strncmp(e->d_name, names[k], strlen(names[k]))) {
				snprintf(f, sizeof f, "%s/%s", p, e->d_name);
				unlink(f);
				break;
			}
	if (d)
		closedir(d);
	rmdir(p);
}

/* Keep the newest `keep` checkpoints; with stale set, also remove what an interrupted
 * checkpoint left (step-N.tmp, step-N.old). */
static void prune(const char *out, long long keep, int stale)
{
	DIR *d = opendir(out);
	if (!d)
		return;
	long long *steps = NULL;
	size_t n = 0;
	struct dirent *e;
	char p[4096];
	while ((e = readdir(d))) {
		long long s;
		int len = 0;
		if (sscanf(e->d_name, "step-%lld%n", &s, &len) != 1)
			continue;
		if (!e->d_name[len]) {
			steps = cm_xrealloc(steps, (n + 1) * sizeof *steps);
			steps[n++] = s;
		} else if (stale && (!strcmp(e->d_name + len, ".tmp") ||
				     !strcmp(e->d_name + len, ".old"))) {
			snprintf(p, sizeof p, "%s/%s", out, e->d_name);
			remove_checkpoint_dir(p);
		}
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		size_t newer = 0;
		for (size_t j = 0; j < n; j++)
			newer += steps[j] > steps[i];
		if ((long long)newer >= keep) {
			snprintf(p, sizeof p, "%s/step-%07lld", out, steps[i]);
			remove_checkpoint_dir(p);
		}
	}
	free(steps);
}

/* A failed checkpoint leaves nothing behind but the reason. */
static void __attribute__((noreturn)) checkpoint_failed(const char *tmp, const char *err)
{
	remove_checkpoint_dir(tmp);
	cm_die("checkpoint: %s", err);
}

/* Size and XXH3-64 of a file just written into the checkpoint, for trainer.json: read back
 * from the file, what a later reader will get. */
static void add_sum(json_t *files, const char *tmp, const char *name)
{
	char f[4400], err[1024], hx[32];
	size_t n;
	uint64_t h;
	snprintf(f, sizeof f, "%s/%s", tmp, name);
	if (lm_file_xxh3(f, &n, &h, err, sizeof err) < 0)
		checkpoint_failed(tmp, err);
	snprintf(hx, sizeof hx, "%016llx", (unsigned long long)h);
	json_object_set_new(files, name, json_pack("{s:I,s:s}", "bytes", (json_int_t)n, "xxh3", hx));
}

static void save_checkpoint(run *r, long long step)
{
	char dir[4096], tmp[4200], f[4300], err[1024];
	const opts *o = &r->o;
	snprintf(dir, sizeof dir, "%s/step-%07lld", o->out, step);
	snprintf(tmp, sizeof tmp, "%s.tmp", dir);
	remove_checkpoint_dir(tmp);	/* what an interrupted checkpoint of this step left */
	if (mkdir(tmp, 0755) < 0)
		cm_die("checkpoint: cannot create '%s': %s", tmp, strerror(errno));
	json_t *files = json_object();
	snprintf(f, sizeof f, "%s/model.safetensors", tmp);
	if (lm_save_weights(r->m, f, err, sizeof err) < 0)
		checkpoint_failed(tmp, err);
	add_sum(files, tmp, "model.safetensors");
	char *cj = lm_config_json(&r->m->cfg);
	snprintf(f, sizeof f, "%s/config.json", tmp);
	if (cm_afile_put(f, cj, strlen(cj), err, sizeof err) < 0)
		checkpoint_failed(tmp, err);
	free(cj);
	add_sum(files, tmp, "config.json");
	if (r->tok) {
		snprintf(f, sizeof f, "%s/tokenizer.json", tmp);
		if (cm_tok_save_json(r->tok, f, err, sizeof err) < 0)
			checkpoint_failed(tmp, err);
		add_sum(files, tmp, "tokenizer.json");
	}
	size_t nb = kn_bytes(r->m->m);
	float *mh = cm_xmalloc(nb), *vh = cm_xmalloc(nb);
	kn_download(r->m->m, mh, nb);
	kn_download(r->m->v, vh, nb);
	cm_st_writer *w = cm_st_writer_new();
	int64_t n = r->m->nparams;
	cm_st_writer_add(w, "adamw.m", CM_ST_F32, 1, &n, mh);
	cm_st_writer_add(w, "adamw.v", CM_ST_F32, 1, &n, vh);
	snprintf(f, sizeof f, "%s/optimizer.safetensors", tmp);
	if (cm_st_write(w, f, err, sizeof err) < 0)
		checkpoint_failed(tmp, err);
	cm_st_writer_free(w);
	/* the moments' hash from the copies at hand, not downloaded again */
	uint64_t opt_xxh3 = XXH3_64bits(mh, nb) ^ XXH3_64bits(vh, nb);
	free(mh);
	free(vh);
	add_sum(files, tmp, "optimizer.safetensors");
	json_t *t = json_object();
	json_object_set_new(t, "format", json_string("crawl2lm-trainer"));
	json_object_set_new(t, "version", json_integer(1));
	json_object_set_new(t, "step", json_integer(step));
	json_object_set_new(t, "tokens", json_integer((json_int_t)r->tokens));
	json_object_set_new(t, "elapsed_s", json_real(r->elapsed));
	json_object_set_new(t, "threads", json_integer(r->m->be->threads));
	char hx[32];
	snprintf(hx, sizeof hx, "%016llx", (unsigned long long)lm_tensor_xxh3(r->m->params));
	json_object_set_new(t, "params_xxh3", json_string(hx));
	snprintf(hx, sizeof hx, "%016llx", (unsigned long long)opt_xxh3);
	json_object_set_new(t, "optimizer_xxh3", json_string(hx));
	json_object_set_new(t, "files", files);
	json_object_set_new(t, "options", opts_json(o, &r->m->cfg));
	char *tj = json_dumps(t, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(t);
	snprintf(f, sizeof f, "%s/trainer.json", tmp);
	if (cm_afile_put(f, tj, strlen(tj), err, sizeof err) < 0)
		checkpoint_failed(tmp, err);
	free(tj);
	if (cm_sync_dir(tmp) < 0) {
		snprintf(err, sizeof err, "cannot sync '%.900s': %s", tmp, strerror(errno));
		checkpoint_failed(tmp, err);
	}
	/* a checkpoint of the same step (a rerun after a crash) gives way */
	if (rename(tmp, dir) < 0) {
		char old[4300];
		snprintf(old, sizeof old, "%s.old", dir);
		remove_checkpoint_dir(old);
		if (rename(dir, old) < 0 || rename(tmp, dir) < 0) {
			snprintf(err, sizeof err, "cannot rename '%.400s' to '%.400s': %s", tmp, dir,
				 strerror(errno));
			checkpoint_failed(tmp, err);
		}
		remove_checkpoint_dir(old);
	}
	if (cm_sync_dir(o->out) < 0)
		cm_die("checkpoint: cannot sync '%s': %s", o->out, strerror(errno));
	char name[64];
	int k = snprintf(name, sizeof name, "step-%07lld\n", step);
	snprintf(f, sizeof f, "%s/latest", o->out);
	if (cm_afile_put(f, name, (size_t)k, err, sizeof err) < 0)
		cm_die("checkpoint: %s", err);
	prune(o->out, o->keep, 0);
	if (cm_verbosity > 0)
		cm_info("checkpoint %s", dir);
}

/* The tokenizer a checkpoint holds against -t's: the same ids, or refuse (resume) or warn
 * (init). */
static void check_tokenizer(const run *r, const char *dir, int resume)
{
	char p[4200], err[1024];
	snprintf(p, sizeof p, "%s/tokenizer.json", dir);
	if (!r->tok || access(p, F_OK) != 0)
		return;
	cm_tok *ct = lm_ckpt_tokenizer(p, err, sizeof err);
	if (!ct)
		cm_die("%s: %s", resume ? "--resume" : "--init", err);
	int same = cm_tok_hash(ct) == cm_tok_hash(r->tok);
	cm_tok_free(ct);
	if (same)
		return;
	if (resume)
		cm_die("--resume: the tokenizer '%s' is not the run's ('%s')", r->o.tokenizer, p);
	cm_warn("--init: the tokenizer '%s' is not the checkpoint's ('%s'): the same ids mean "
		"other text", r->o.tokenizer, p);
}

/* Resume: weights, optimizer state and the step from OUT/latest, with the options checked. */
static long long load_checkpoint(run *r)
{
	char dir[4096], f[4300], err[1024];
	const opts *o = &r->o;
	char latest[4200];
	snprintf(latest, sizeof latest, "%s/latest", o->out);
	if (access(latest, R_OK) < 0)
		cm_die("--resume: '%s' has no checkpoint ('latest' is missing)", o->out);
	lm_ckpt_resolve(o->out, dir, sizeof dir);
	snprintf(f, sizeof f, "%s/trainer.json", dir);
	json_t *t = lm_ckpt_trainer(dir, err, sizeof err);
	if (!t)
		cm_die("--resume: %s", err);
	json_t *st = json_object_get(t, "step"), *saved = json_object_get(t, "options");
	if (!json_is_integer(st) || !json_is_object(saved))
		cm_die("--resume: '%s' is not a trainer state", f);
	json_t *now = opts_json(o, &r->m->cfg);
	const char *key;
	json_t *v;
	json_object_foreach(now, key, v) {
		if (!strcmp(key, "steps"))	/* a run may be extended */
			continue;
		json_t *sv = json_object_get(saved, key);
		if (!sv || !json_equal(sv, v)) {
			char *a = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			char *b = sv ? json_dumps(sv, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
			cm_die("--resume: option '%s' is %.200s here but %.200s in '%s'", key, a,
			       b ? b : "missing", f);
		}
	}
	json_decref(now);
	check_tokenizer(r, dir, 1);
	if (lm_load_weights(r->m, dir, err, sizeof err) < 0)
		cm_die("--resume: %s", err);
	snprintf(f, sizeof f, "%s/optimizer.safetensors", dir);
	cm_st *os = lm_ckpt_st_open(f, NULL, err, sizeof err);
	if (!os)
		cm_die("--resume: %s", err);
	const cm_st_tensor *tm = cm_st_find(os, "adamw.m"), *tv = cm_st_find(os, "adamw.v");
	if (!tm || !tv || tm->dtype != CM_ST_F32 || tv->dtype != CM_ST_F32 ||
	    tm->n != r->m->nparams || tv->n != r->m->nparams)
		cm_die("--resume: '%s' does not hold AdamW state for %lld parameters", f,
		       (long long)r->m->nparams);
	kn_upload(r->m->m, tm->data, tm->bytes);
	kn_upload(r->m->v, tv->data, tv->bytes);
	cm_st_close(os);
	/* the loaded state against the hashes of the state saved (older checkpoints have no
	 * file checksums; these catch what went wrong between file and memory too) */
	char hx[32];
	snprintf(hx, sizeof hx, "%016llx", (unsigned long long)lm_tensor_xxh3(r->m->params));
	json_t *ph = json_object_get(t, "params_xxh3");
	if (!json_is_string(ph) || strcmp(json_string_value(ph), hx))
		cm_die("--resume: the weights in '%s' do not match their checksum (damaged)", dir);
	snprintf(hx, sizeof hx, "%016llx", (unsigned long long)(lm_tensor_xxh3(r->m->m) ^
								 lm_tensor_xxh3(r->m->v)));
	ph = json_object_get(t, "optimizer_xxh3");
	if (!json_is_string(ph) || strcmp(json_string_value(ph), hx))
		cm_die("--resume: '%s' does not match its checksum in trainer.json (damaged)", f);
	json_t *th = json_object_get(t, "threads");
	if (json_is_integer(th) && json_integer_value(th) != r->m->be->threads)
		cm_warn("resuming with %d threads where the run had %lld: not bitwise reproducible",
			r->m->be->threads, (long long)json_integer_value(th));
	r->tokens = (uint64_t)json_integer_value(json_object_get(t, "tokens"));
	r->elapsed = json_number_value(json_object_get(t, "elapsed_s"));
	long long step = json_integer_value(st);
	json_decref(t);
	if (cm_verbosity >= 0)
		cm_info("resuming from %s (step %lld)", dir, step);
	return step;
}

/* The metrics file, keeping the lines up to `step`, the checkpoint resumed from (the rest is
 * redone): a regular file is rewritten whole (cm_afile: a failure, a full disk, leaves the
 * old lines), then appended to; anything else (a pipe, a device) is written straight. */
static void open_metrics(run *r, const char *path, long long step)
{
	struct stat sb;
	FILE *in = step > 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ? fopen(path, "r") : NULL;
	if (in) {
		char *line = NULL, err[4400];
		size_t cap = 0;
		ssize_t k;
		cm_buf keep = CM_BUF_INIT;
		cm_afile af;
		int bad = 0;
		if (cm_afile_open(&af, path, err, sizeof err) < 0)
			cm_die("%s", err);
		while (!bad && (k = getline(&line, &cap, in)) > 0) {
			json_t *j = json_loads(line, 0, NULL);
			json_t *s = json_object_get(j, "step");
			if (json_is_integer(s) && json_integer_value(s) <= step)
				cm_buf_add(&keep, line, (size_t)k);
			json_decref(j);
			if (keep.len >= (1u << 20)) {	/* in pieces: the file may be long */
				bad = cm_afile_write(&af, keep.p, keep.len) < 0;
				cm_buf_reset(&keep);
			}
		}
		int e = errno;
		if (!bad && ferror(in)) {
			cm_afile_abort(&af);
			cm_die("cannot read '%s': %s", path, strerror(e));
		}
		if (bad || cm_afile_write(&af, keep.p, keep.len) < 0) {
			e = errno;
			cm_afile_abort(&af);
			cm_die("cannot write '%s': %s", path, strerror(e));
		}
		if (cm_afile_commit(&af, err, sizeof err) < 0)
			cm_die("%s", err);
		free(line);
		fclose(in);
		cm_buf_free(&keep);
	}
	r->metrics = fopen(path, in ? "a" : "w");
	if (!r->metrics)
		cm_die("cannot create '%s': %s", path, strerror(errno));
	r->metrics_path = path;
}

/* Evaluate on the held-out shards: the first --eval-batches batches, or all of them (final). */
static void evaluate(run *r, long long step, int full)
{
	lm_model *m = r->m;
	int B = (int)r->o.batch, T = (int)r->o.context;
	uint64_t nw = lm_data_eval_windows(&r->val), limit = nw;
	if (!full && r->o.eval_batches > 0 && (uint64_t)r->o.eval_batches * B < nw)
		limit = (uint64_t)r->o.eval_batches * B;
	double loss = 0, bytes = 0;
	uint64_t ntok = 0;
	char err[1024];
	float *losses = cm_xmalloc((size_t)B * T * sizeof(float));
	for (uint64_t w = 0; w < limit; w += B) {
		for (int b = 0; b < B; b++) {
			int32_t *x = r->x + (size_t)b * T, *y = r->y + (size_t)b * T;
			if (w + b >= limit) {	/* a short last batch: rows ignored */
				for (int t = 0; t < T; t++) {
					x[t] = 0;
					y[t] = -1;
				}
			} else if (lm_data_eval_window(&r->val, w + b, x, y, err, sizeof err) < 0) {
				cm_die("evaluation: %s", err);
			}
		}
		lm_forward(m, B, T, r->x, NULL, NULL);
		loss += lm_loss(m, r->y, 0.0f, r->tokbytes ? losses : NULL);
		for (int i = 0; i < B * T; i++)
			if (r->y[i] >= 0) {
				ntok++;
				if (r->tokbytes)
					bytes += r->tokbytes[r->y[i]];
			}
	}
	free(losses);
	double vl = ntok ? loss / (double)ntok : NAN;
	double bpb = bytes > 0 ? loss / log(2.0) / bytes : NAN;
	if (r->metrics) {
		char b[128] = "";
		if (bytes > 0)
			snprintf(b, sizeof b, ",\"val_bpb\":%.6f,\"val_bytes\":%.0f", bpb, bytes);
		metrics_line(r, "{\"step\":%lld,\"val_loss\":%.6f,\"val_tokens\":%llu%s}\n", step,
			     vl, (unsigned long long)ntok, b);
	}
	if (cm_verbosity >= 0) {
		if (bytes > 0)
			cm_info("step %lld: val loss %.4f, %.4f bits per byte (%llu tokens)", step, vl,
				bpb, (unsigned long long)ntok);
		else
			cm_info("step %lld: val loss %.4f (%llu tokens)", step, vl,
				(unsigned long long)ntok);
	}
}

/* A step must not ask for more tokens than the data holds (windows overlap, and a batch
 * would repeat them). */
static void check_batch(const opts *o, const lm_data *d, const char *opt)
{
	double want = (double)o->batch * o->context * o->accum;
	if (d->stream || want <= (double)d->total)
		return;
	cm_usage_error("--batch %lld x --context %lld%s is %.0f tokens a step, more than the %llu "
		       "tokens of %s '%s'", o->batch, o->context, o->accum > 1 ? " x --accum" : "",
		       want, (unsigned long long)d->total, opt, !strcmp(opt, "--data") ? o->data :
		       o->anneal);
}

/* Memory the run will take, estimated before anything big is allocated (lm-train(1),
 * MEMORY), against what this process may have: too much is refused with the figures. */
static void check_memory(const run *r, const lm_config *c, const kn_backend *be, int bf16)
{
	const opts *o = &r->o;
	kn_dtype adt = bf16 ? KN_BF16 : KN_F32;
	int B = (int)o->batch, T = (int)o->context;
	int host_tensors = !strcmp(be->base->name, "cpu");
	double N = (double)B * T, P = (double)lm_config_nparams(c), Vp = c->vocab_padded;
	double C = c->dim, H = c->hidden, q = (double)(c->heads + 2 * c->kv_heads) * c->head_dim;
	double state = lm_state_bytes(c, 1, adt), acts = lm_acts_bytes(c, B, T, 1, adt);
	/* host buffers: the batch, the evaluation's losses or a stream's tokens, bytes per
	 * token, and a checkpoint's copies of AdamW's moments (8 bytes a parameter) */
	double host = 8 * N + 4 * N + 4.0 * c->vocab + 8 * P;
	/* bf16 on the CPU: each operation works on fp32 copies of its bf16 tensors, the largest
	 * those of the logits' product, or of the attention's or the MLP's backward */
	if (bf16 && host_tensors) {
		double logits = N * Vp + 2 * N * C + Vp * C, attn = 4 * N * q;
		double mlp = N * (4 * H + 2 * C) + 2 * H * C;
		host += 4 * fmax(logits, fmax(attn, mlp));
	}
	/* what the process takes beside its tensors once it runs: OpenBLAS's buffers (32 MiB
	 * a thread) and the threads' own, allocator slack (measured: 37 MiB more at -j 1,
	 * about 100 MiB at -j 2, on the CPU) */
	host += (24.0 + (host_tensors ? 40.0 * be->threads : 0)) * 1048576;
	double need = host + (host_tensors ? state + acts : 0);
	char what[128];
	double avail = lm_mem_available(what, sizeof what);
	if (cm_verbosity > 0) {
		if (host_tensors)
			cm_info("memory: about %s needed (weights, gradients and AdamW state %s, "
				"activations %s, buffers %s); %s available (%s)", LM_SIZE(need),
				LM_SIZE(state), LM_SIZE(acts), LM_SIZE(host), LM_SIZE(avail), what);
		else
			cm_info("memory: about %s on the %s (weights, gradients and AdamW state %s, "
				"activations %s; not checked beforehand) and %s on the host; %s "
				"available there (%s)", LM_SIZE(state + acts), be->base->name,
				LM_SIZE(state), LM_SIZE(acts), LM_SIZE(host), LM_SIZE(avail), what);
	}
	if (avail < 0 || need <= avail)
		return;
	if (host_tensors)
		cm_die("the run needs about %s of memory (weights, gradients and AdamW state %s, "
		       "activations for %d x %d tokens %s, buffers %s), more than the %s available "
		       "(%s): lower --batch (raise --accum to keep the tokens a step) or --context, "
		       "or take a smaller model", LM_SIZE(need), LM_SIZE(state), B, T, LM_SIZE(acts),
		       LM_SIZE(host), LM_SIZE(avail), what);
	cm_die("the run needs about %s of host memory (for checkpoints and batches), more than the "
	       "%s available (%s)", LM_SIZE(need), LM_SIZE(avail), what);
}

static double cpu_peak(int threads)
{
	/* 32 fp32 FLOP a cycle a core (two 256-bit FMA pipes), at the clock /proc reports */
	FILE *f = fopen("/proc/cpuinfo", "r");
	double mhz = 0;
	char line[512];
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
			break;
	if (f)
		fclose(f);
	if (mhz <= 0)
		mhz = 2500;
	return threads * 32.0 * mhz * 1e6;
}

static void parse(int argc, char **argv, opts *o)
{
	memset(o, 0, sizeof *o);
	o->model = "tiny";
	o->batch = 8;
	o->context = 0;
	o->accum = 1;
	o->steps = 1000;
	o->lr = 6e-4;
	o->min_lr = -1;
	o->schedule = "cosine";
	o->decay = 0.2;
	o->wd = 0.1;
	o->beta1 = 0.9;
	o->beta2 = 0.95;
	o->eps = 1e-8;
	o->clip = 1.0;
	o->eval_every = 250;
	o->save_every = 500;
	o->keep = 3;
	o->device = "auto";
	int c;
	while ((c = getopt_long(argc, argv, "o:t:b:j:qvhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DATA: o->data = optarg; break;
		case OPT_VAL: o->val = optarg; break;
		case OPT_MODEL: o->model = optarg; break;
		case OPT_INIT: o->init = optarg; break;
		case OPT_RESUME: o->resume = 1; break;
		case 'o': o->out = optarg; break;
		case 't': o->tokenizer = optarg; break;
		case OPT_VOCAB: o->vocab = cm_parse_ll("--vocab", optarg, 2, 1 << 24); break;
		case 'b': o->batch = cm_parse_ll("--batch", optarg, 1, 1 << 20); break;
		case OPT_CONTEXT: o->context = cm_parse_ll("--context", optarg, 1, 1 << 20); break;
		case OPT_ACCUM: o->accum = cm_parse_ll("--accum", optarg, 1, 1 << 20); break;
		case OPT_STEPS: o->steps = cm_parse_ll("--steps", optarg, 1, 1LL << 40); break;
		case OPT_LR: o->lr = cm_parse_double("--lr", optarg, 0, 10); break;
		case OPT_MIN_LR: o->min_lr = cm_parse_double("--min-lr", optarg, 0, 10); break;
		case OPT_WARMUP: o->warmup = cm_parse_ll("--warmup", optarg, 0, 1LL << 40); break;
		case OPT_SCHEDULE:
			if (strcmp(optarg, "cosine") && strcmp(optarg, "wsd") && strcmp(optarg, "constant"))
				cm_usage_error("--schedule: '%s' (cosine, wsd or constant)", optarg);
			o->schedule = optarg;
			break;
		case OPT_DECAY: o->decay = cm_parse_double("--decay", optarg, 0, 1); break;
		case OPT_ANNEAL: o->anneal = optarg; break;
		case OPT_WD: o->wd = cm_parse_double("--weight-decay", optarg, 0, 10); break;
		case OPT_BETA1: o->beta1 = cm_parse_double("--beta1", optarg, 0, 0.999999); break;
		case OPT_BETA2: o->beta2 = cm_parse_double("--beta2", optarg, 0, 0.999999999); break;
		case OPT_EPS: o->eps = cm_parse_double("--eps", optarg, 0, 1); break;
		case OPT_CLIP: o->clip = cm_parse_double("--clip", optarg, 0, 1e9); break;
		case OPT_SEED: o->seed = cm_parse_ll("--seed", optarg, 0, (1LL << 53)); break;
		case OPT_EVAL_EVERY: o->eval_every = cm_parse_ll("--eval-every", optarg, 0, 1LL << 40); break;
		case OPT_EVAL_BATCHES: o->eval_batches = cm_parse_ll("--eval-batches", optarg, 0, 1LL << 40); break;
		case OPT_SAVE_EVERY: o->save_every = cm_parse_ll("--save-every", optarg, 0, 1LL << 40); break;
		case OPT_KEEP: o->keep = cm_parse_ll("--keep", optarg, 1, 1000000); break;
		case OPT_METRICS: o->metrics = optarg; break;
		case OPT_DEVICE: o->device = optarg; break;
		case OPT_PRECISION:
			if (strcmp(optarg, "bf16") && strcmp(optarg, "fp32"))
				cm_usage_error("--precision: '%s' (bf16 or fp32)", optarg);
			o->precision = optarg;
			break;
		case OPT_DETERMINISTIC: o->deterministic = 1; break;
		case 'j': o->threads = cm_parse_ll("--threads", optarg, 1, 4096); break;
		case OPT_PEAK: o->peak = cm_parse_double("--peak-flops", optarg, 1, 1e20); break;
		case OPT_PROGRESS: o->progress = 1; break;
		case 'q': cm_verbosity = -1; break;
		case 'v': cm_verbosity++; break;
		case 'h': usage(); break;
		case 'V': cm_print_version(); break;
		default: cm_usage_error("unknown option");
		}
	}
	if (optind < argc)
		cm_usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->data)
		cm_usage_error("--data is required");
	if (!o->out)
		cm_usage_error("--out is required");
	if (o->min_lr < 0)
		o->min_lr = o->lr / 10;
	if (o->warmup >= o->steps && o->warmup)
		cm_usage_error("--warmup %lld leaves no steps of %lld", o->warmup, o->steps);
	if (o->anneal && strcmp(o->schedule, "wsd"))
		cm_usage_error("--anneal-data needs --schedule wsd");
	if (!strcmp(o->data, "-") && o->resume)
		cm_usage_error("--resume: a stream on stdin (--data -) cannot be resumed exactly");
	if (o->resume && o->init)
		cm_usage_error("--resume and --init: choose one");
}

int main(int argc, char **argv)
{
	cm_init("lm-train");
	run R;
	memset(&R, 0, sizeof R);
	opts *o = &R.o;
	parse(argc, argv, o);
	char err[1024];

	if (o->threads) {
		omp_set_num_threads((int)o->threads);
	}
	openblas_set_num_threads(omp_get_max_threads());
	kn_backend *be = kn_open(o->device, err, sizeof err);
	if (!be)
		cm_die("--device: %s", err);
	be->deterministic = o->deterministic;

	if (o->tokenizer) {
		R.tok = lm_ckpt_tokenizer(o->tokenizer, err, sizeof err);
		if (!R.tok)
			cm_die("%s", err);
	}
	lm_config cfg;
	if (o->init) {
		char d[4096];
		lm_ckpt_resolve(o->init, d, sizeof d);
		if (lm_ckpt_config(d, &cfg, err, sizeof err) < 0)
			cm_die("--init: %s", err);
	} else if (lm_config_load(&cfg, o->model, o->vocab ? (int)o->vocab : R.tok ?
				  (int)cm_tok_vocab_size(R.tok) : 0, err, sizeof err) < 0) {
		cm_die("--model: %s", err);
	}
	int vocab = o->vocab ? (int)o->vocab : R.tok ? (int)cm_tok_vocab_size(R.tok) : cfg.vocab;
	if (o->init && vocab != cfg.vocab)
		cm_die("--init: the checkpoint's vocabulary is %d, the tokenizer's (or --vocab) %d",
		       cfg.vocab, vocab);
	if (R.tok && vocab < (int)cm_tok_vocab_size(R.tok))
		cm_die("--vocab %d is smaller than the tokenizer's %u", vocab, cm_tok_vocab_size(R.tok));
	cfg.vocab = vocab;
	cfg.vocab_padded = (vocab + 63) / 64 * 64;
	if (R.tok && cm_tok_eot(R.tok) >= 0)
		cfg.bos = cfg.eos = (int)cm_tok_eot(R.tok);
	if (lm_config_check(&cfg, err, sizeof err) < 0)
		cm_die("%s", err);
	if (!o->context)
		o->context = cfg.ctx < 256 ? cfg.ctx : 256;
	if (o->context > cfg.ctx)
		cm_usage_error("--context %lld is longer than the model's %d positions", o->context,
			       cfg.ctx);
	int B = (int)o->batch, T = (int)o->context;
	if (!o->resume) {
		char lp[4200];
		snprintf(lp, sizeof lp, "%s/latest", o->out);
		if (access(lp, F_OK) == 0)
			cm_die("'%s' already holds a run: use --resume to continue it, or another "
			       "--out", o->out);
	}

	/* data */
	if (!strcmp(o->data, "-"))
		lm_data_open_stream(&R.train, stdin, "standard input", T, (uint32_t)vocab);
	else if (lm_data_open(&R.train, o->data, T, (uint32_t)vocab, (uint64_t)o->seed, err,
			      sizeof err) < 0)
		cm_die("--data: %s", err);
	if (o->anneal && lm_data_open(&R.anneal, o->anneal, T, (uint32_t)vocab,
				      (uint64_t)o->seed ^ 0x616e6e65616cull, err, sizeof err) < 0)
		cm_die("--anneal-data: %s", err);
	if (o->val) {
		if (lm_data_open(&R.val, o->val, T, (uint32_t)vocab, 0, err, sizeof err) < 0)
			cm_die("--val: %s", err);
		R.have_val = 1;
	}
	check_batch(o, &R.train, "--data");
	if (o->anneal)
		check_batch(o, &R.anneal, "--anneal-data");
	int bf16 = o->precision ? !strcmp(o->precision, "bf16") : strcmp(be->base->name, "cpu") != 0;
	check_memory(&R, &cfg, be, bf16);
	if (R.tok) {
		R.tokbytes = cm_xcalloc((size_t)vocab, sizeof(float));
		for (int i = 0; i < vocab; i++) {
			size_t len = 0;
			/* special tokens count no bytes: they are not text */
			if (cm_tok_bytes(R.tok, (uint32_t)i, &len) && (int64_t)i != cm_tok_eot(R.tok))
				R.tokbytes[i] = (float)len;
		}
	}

	/* model */
	R.m = lm_model_new(be, &cfg, 1);
	if (o->init) {
		char d[4096];
		lm_ckpt_resolve(o->init, d, sizeof d);
		check_tokenizer(&R, d, 0);
		if (lm_load_weights(R.m, d, err, sizeof err) < 0)
			cm_die("--init: %s", err);
	} else {
		lm_model_init(R.m, (uint64_t)o->seed);
	}
	lm_model *m = R.m;
	lm_model_set_precision(m, bf16 ? KN_BF16 : KN_F32);
	int64_t nd = m->ndecay, nn = m->nparams - m->ndecay;
	R.pd = kn_view(m->params, 0, 1, &nd);
	R.gd = kn_view(m->grads, 0, 1, &nd);
	R.md = kn_view(m->m, 0, 1, &nd);
	R.vd = kn_view(m->v, 0, 1, &nd);
	R.pn = kn_view(m->params, nd, 1, &nn);
	R.gn = kn_view(m->grads, nd, 1, &nn);
	R.mn = kn_view(m->m, nd, 1, &nn);
	R.vn = kn_view(m->v, nd, 1, &nn);

	if (mkdir(o->out, 0755) < 0 && errno != EEXIST)
		cm_die("cannot create '%s': %s", o->out, strerror(errno));
	long long step = 0;
	if (o->resume) {
		step = load_checkpoint(&R);
		prune(o->out, o->keep, 1);	/* what an interrupted checkpoint left */
	}
	char mp[4200];
	snprintf(mp, sizeof mp, "%s/metrics.jsonl", o->out);
	open_metrics(&R, o->metrics ? o->metrics : mp, step);

	/* FLOPs a token: 6 per weight of the matrix products (forward and backward) plus causal
	 * attention's 6 L T C (PaLM's estimate, halved for the causal mask) */
	double mm = 0;
	for (int i = 0; i < m->np; i++)
		if (m->p[i].ndim == 2 && !(m->p[i].layer < 0 && (m->p[i].field == P_WPE ||
		    (m->p[i].field == P_WTE && !cfg.tied))))
			mm += (double)m->p[i].n;
	R.flops_per_token = 6.0 * mm + 6.0 * cfg.layers * (double)T * cfg.dim;
	R.peak = o->peak > 0 ? o->peak : cpu_peak(be->threads);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	int show = o->progress || isatty(2);
	R.x = cm_xmalloc((size_t)B * T * sizeof(int32_t));
	R.y = cm_xmalloc((size_t)B * T * sizeof(int32_t));
	if (cm_verbosity >= 0)
		cm_info("%s model, %.2fM parameters (%d layers, width %d, vocabulary %d), batch %d x "
			"%d x %lld, %lld steps, %s, %s on %d thread%s", cfg.style == LM_GPT2 ? "GPT-2" :
			"Llama", (double)m->nparams / 1e6, cfg.layers, cfg.dim, cfg.vocab, B, T,
			o->accum, o->steps, bf16 ? "bf16" : "fp32", be->desc, be->threads,
			be->threads == 1 ? "" : "s");
	double t_start = cm_now(), last_loss = NAN;
	long long last_saved = o->resume ? step : -1, start = step;
	int ended = 0;
	float dscale = 1.0f / (float)((double)B * T * o->accum);
	while (step < o->steps && !stop_signal) {
		double t0 = cm_now(), lr = lr_at(o, step), loss = 0;
		be->ops->zero(m->grads);
		lm_data *src = in_anneal(o, step) ? &R.anneal : &R.train;
		for (long long a = 0; a < o->accum; a++) {
			int r = lm_data_batch(src, (uint64_t)(step * o->accum + a), B, R.x, R.y, err,
					      sizeof err);
			if (r < 0)
				cm_die("data: %s", err);
			if (r == 0) {
				ended = 1;
				break;
			}
			lm_forward(m, B, T, R.x, NULL, NULL);
			loss += lm_loss(m, R.y, dscale, NULL);
			lm_backward(m);
		}
		if (ended) {
			if (cm_verbosity >= 0)
				cm_info("the data stream ended at step %lld", step);
			break;
		}
		loss /= (double)B * T * o->accum;
		double gn = sqrt(be->ops->sumsq(m->grads));
		if (!isfinite(loss) || !isfinite(gn)) {
			if (show)
				fputc('\n', stderr);
			cm_die("step %lld: the loss is %g and the gradient norm %g: stopping without a "
			       "checkpoint; the last good one is %s", step, loss, gn,
			       last_saved >= 0 ? "in the run directory ('latest')" : "none (no checkpoint yet)");
		}
		float gscale = o->clip > 0 && gn > o->clip ? (float)(o->clip / gn) : 1.0f;
		be->ops->adamw(R.pd, R.gd, R.md, R.vd, (float)lr, (float)o->beta1, (float)o->beta2,
			       (float)o->eps, (float)o->wd, gscale, step + 1);
		be->ops->adamw(R.pn, R.gn, R.mn, R.vn, (float)lr, (float)o->beta1, (float)o->beta2,
			       (float)o->eps, 0.0f, gscale, step + 1);
		lm_params_changed(m);
		be->ops->sync(be);
		double dt = cm_now() - t0;
		if (step == start && cm_verbosity > 0)
			cm_info("memory on the %s: %.0f MiB (weights, gradients and AdamW state %.0f MiB, "
				"activations and the rest %.0f MiB)", be->base->name,
				(double)be->peak / 1048576.0, (bf16 ? 18.0 : 16.0) * (double)m->nparams /
				1048576.0, (double)(be->peak - (bf16 ? 18 : 16) * m->nparams) / 1048576.0);
		step++;
		R.tokens += (uint64_t)B * T * o->accum;
		double tps = (double)B * T * o->accum / dt, mfu = tps * R.flops_per_token / R.peak;
		last_loss = loss;
		metrics_line(&R, "{\"step\":%lld,\"loss\":%.6f,\"lr\":%.6g,\"grad_norm\":%.6f,"
			     "\"tokens_per_s\":%.1f,\"mfu\":%.4f,\"step_s\":%.4f,\"tokens\":%llu%s}\n",
			     step, loss, lr, gn, tps, mfu, dt, (unsigned long long)R.tokens,
			     src == &R.anneal ? ",\"anneal\":true" : "");
		if (show) {
			double done = cm_now() - t_start, eta = done / (double)(step - start) *
				(double)(o->steps - step);
			fprintf(stderr, "\rlm-train: step %lld/%lld loss %.4f lr %.2e %.0f tok/s mfu "
				"%.1f%% eta %.0fs   ", step, o->steps, loss, lr, tps, 100 * mfu, eta);
		}
		if (R.have_val && o->eval_every && step % o->eval_every == 0 && step < o->steps) {
			if (show)
				fputc('\n', stderr);
			evaluate(&R, step, 0);
		}
		R.elapsed += cm_now() - t0;
		if ((o->save_every && step % o->save_every == 0) || step == o->steps) {
			save_checkpoint(&R, step);
			last_saved = step;
		}
	}
	if (show)
		fputc('\n', stderr);
	if (stop_signal) {
		if (last_saved != step)
			save_checkpoint(&R, step);
		if (fclose(R.metrics) != 0)
			cm_die("cannot write '%s': %s", R.metrics_path, strerror(errno));
		cm_info("%s: checkpoint written at step %lld; continue with --resume",
			strsignal(stop_signal), step);
		exit(EXIT_INTERRUPTED);
	}
	if (ended && last_saved != step && step > 0)
		save_checkpoint(&R, step);
	if (R.have_val)
		evaluate(&R, step, 1);
	if (cm_verbosity > 0)
		cm_info("done: %lld steps, %llu tokens, last loss %.4f, %.1f s", step,
			(unsigned long long)R.tokens, last_loss, cm_now() - t_start);
	if (fclose(R.metrics) != 0)
		cm_die("cannot write '%s': %s", R.metrics_path, strerror(errno));
	kn_tensor *views[] = { R.pd, R.gd, R.md, R.vd, R.pn, R.gn, R.mn, R.vn };
	for (size_t i = 0; i < sizeof views / sizeof *views; i++)
		kn_free(views[i]);
	lm_model_free(m);
	lm_data_close(&R.train);
	lm_data_close(&R.anneal);
	lm_data_close(&R.val);
	free(R.x);
	free(R.y);
	free(R.tokbytes);
	cm_tok_free(R.tok);
	kn_close(be);
	return 0;
}
