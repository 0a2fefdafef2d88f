/* lm-train - train a decoder-only transformer on token shards: AdamW, schedules (cosine,
 * warmup-stable-decay with an anneal data mix), accumulation, clipping, evaluation in bits per
 * byte, checkpoints that resume exactly, metrics as JSONL.
 *
 * This file is the program's flow: options, then set-up (session.h: backend, tokenizer,
 * checkpoint; data.h: shards; mem.h: will it fit), then the step loop. A checkpoint is a
 * directory OUT/step-NNNNNNN (ckpt.h: its files; run.h: how it is written, resumed, pruned);
 * the schedule and AdamW are optim.h's; evaluation is eval.h's.
 */
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cli.h"
#include "data.h"
#include "dpo.h"
#include "dpotrain.h"
#include "dp.h"
#include "eval.h"
#include "kernels.h"
#include "mem.h"
#include "model.h"
#include "opt.h"
#include "optim.h"
#include "output.h"
#include "ppotrain.h"
#include "progress.h"
#include "score.h"
#include "run.h"
#include "session.h"
#include "sft.h"
#include "tok.h"

#define EXIT_INTERRUPTED 75	/* EX_TEMPFAIL: a checkpoint was written; rerun with --resume */

static const cm_opt_info info = {
	"--data GLOB -o DIR [OPTION]...",
	"Train a decoder-only transformer (GPT-2 or Llama style) on llm.c token shards.\n"
	"Checkpoints go to DIR/step-N (Hugging Face safetensors + config.json, tokenizer,\n"
	"optimizer and trainer state); DIR/metrics.jsonl gets a line per step and evaluation.\n",
	"SIGTERM or SIGUSR1 writes a checkpoint and exits with status 75; --resume continues.\n",
	"memory, checkpoints and a summary line at the end; a\n"
	"progress line a step when stderr is not a terminal"
};

typedef struct opts {
	const char *data, *val, *model, *init, *out, *tokenizer, *anneal, *metrics;
	const char *sft;	/* --sft: supervised fine-tuning examples (sft.h) instead of --data */
	const char *reward;	/* --reward: preference pairs for a reward model (reward.h) */
	const char *classify;	/* --classify: labelled texts for a classifier (classify.h) */
	const char *label_field, *text_field;	/* --label-field, --text-field */
	int objective;		/* --objective: LM_CLS_* */
	int freeze_body;	/* --freeze-body */
	const char *dump_grads;	/* --dump-grads: the first step's gradients to this file, then stop */
	const char *dpo, *ref, *ref_logps;	/* --dpo: preference pairs (dpo.h), --ref, --ref-logps */
	lm_dpo_opts dpo_o;	/* --dpo-loss, --beta, --label-smoothing */
	const char *ppo, *ppo_rm, *value;	/* --ppo: prompts; its --reward model, --value */
	lm_ppo_opts ppo_o;	/* --max-new, --temperature, --kl-coef, ... */
	long long mini, ppo_epochs, eval_best_of;	/* --mini-batch, --ppo-epochs, --eval-best-of */
	double val_fraction, epochs;
	int resume, progress;
	int chat_tokens;	/* --chat-tokens */
	long long vocab, batch, context, accum, seed, eval_every, eval_batches, save_every, keep;
	double peak;
	lm_schedule sched;	/* --steps, --lr, --min-lr, --warmup, --schedule, --decay */
	lm_adamw_opts adamw;	/* --beta1, --beta2, --eps, --weight-decay, --clip */
	lm_device dev;		/* --device, --threads, --precision, --deterministic */
	int ranks;		/* data parallel processes (dp.h): not an option, the launcher's */
	long long zero;		/* --zero: 1 shards AdamW's moments across the ranks (ZeRO-1) */
} opts;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Options that decide the numbers: a resumed run must have the same. */
static json_t *opts_json(const opts *o, const lm_config *c)
{
	const lm_schedule *sc = &o->sched;
	const lm_adamw_opts *ad = &o->adamw;
	json_t *j = json_object();
	char *cj = lm_config_json(c);
	json_object_set_new(j, "config", json_loads(cj, 0, NULL));
	free(cj);
	json_object_set_new(j, "data", json_string(o->sft ? o->sft : o->reward ? o->reward :
						    o->classify ? o->classify : o->dpo ? o->dpo :
						    o->ppo ? o->ppo : o->data));
	if (o->classify) {
		json_object_set_new(j, "classify", json_true());
		json_object_set_new(j, "objective", json_string(lm_cls_objectives[o->objective]));
		json_object_set_new(j, "text_field", json_string(o->text_field));
		json_object_set_new(j, "label_field", json_string(o->label_field));
		json_object_set_new(j, "val_fraction", json_real(o->val_fraction));
	}
	if (o->freeze_body)
		json_object_set_new(j, "freeze_body", json_true());
	if (o->reward) {
		json_object_set_new(j, "reward", json_true());
		json_object_set_new(j, "val_fraction", json_real(o->val_fraction));
	}
	if (o->sft) {
		json_object_set_new(j, "sft", json_true());
		json_object_set_new(j, "val_fraction", json_real(o->val_fraction));
	}
	if (o->dpo)
		json_object_set_new(j, "dpo", json_pack("{s:s,s:f,s:f,s:f}", "loss",
			lm_dpo_losses[o->dpo_o.loss], "beta", o->dpo_o.beta, "label_smoothing",
			o->dpo_o.smoothing, "val_fraction", o->val_fraction));
	if (o->ppo) {
		const lm_ppo_opts *p = &o->ppo_o;
		/* the reference, --init's by default (a resumed run reads it back: configure);
		 * not --value: the value model only starts from it */
		json_t *pj = json_pack("{s:s,s:s?,s:I,s:f,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f,"
				       "s:f,s:f,s:f}", "reward", o->ppo_rm, "ref", o->ref ? o->ref :
				       o->init, "max_new", (json_int_t)p->max_new, "temperature",
				       p->temperature, "mini_batch", (json_int_t)p->mini, "epochs",
				       (json_int_t)p->epochs, "gamma", p->gamma, "lam", p->lam,
				       "cliprange", p->clip, "cliprange_value", p->clip_value,
				       "vf_coef", p->vf_coef, "kl_coef", p->kl_coef, "kl_target",
				       p->kl_target, "kl_horizon", p->kl_horizon, "eot_penalty",
				       p->eot_penalty, "val_fraction", o->val_fraction);
		json_object_set_new(j, "ppo", pj);
	}
	json_object_set_new(j, "anneal_data", o->anneal ? json_string(o->anneal) : json_null());
	json_object_set_new(j, "batch", json_integer(o->batch));
	json_object_set_new(j, "context", json_integer(o->context));
	json_object_set_new(j, "accum", json_integer(o->accum));
	json_object_set_new(j, "steps", json_integer(sc->steps));
	json_object_set_new(j, "lr", json_real(sc->lr));
	json_object_set_new(j, "min_lr", json_real(sc->min_lr));
	json_object_set_new(j, "warmup", json_integer(sc->warmup));
	json_object_set_new(j, "schedule", json_string(lm_schedule_name(sc->kind)));
	json_object_set_new(j, "decay", json_real(sc->decay));
	json_object_set_new(j, "weight_decay", json_real(ad->weight_decay));
	json_object_set_new(j, "beta1", json_real(ad->beta1));
	json_object_set_new(j, "beta2", json_real(ad->beta2));
	json_object_set_new(j, "eps", json_real(ad->eps));
	json_object_set_new(j, "clip", json_real(ad->clip));
	json_object_set_new(j, "seed", json_integer(o->seed));
	json_object_set_new(j, "ranks", json_integer(o->ranks));
	return j;
}

/* The run as it goes. */
typedef struct train {
	opts o;
	lm_session s;		/* backend, tokenizer, model */
	lm_data train, anneal, val;
	int have_val;
	lm_sft_data sft;	/* --sft */
	lm_rm_data rm;		/* --reward */
	lm_cls_data cls;	/* --classify */
	kn_tensor *frozen;	/* --freeze-body: the parameters as they started */
	int add_head;		/* --reward from a language model: a score head added (1 label) */
	int32_t *len;		/* --reward: the rows' lengths */
	lm_dpo_data dpo;	/* --dpo: the pairs, */
	double *ref;		/* the reference's log-probabilities (2 a pair), */
	lm_dpo_item *items;	/* the pairs of a step's rows, */
	lm_ppo_prompts prompts;	/* --ppo: the prompts, */
	lm_ppo ppo;		/* the other models, the batch of rollouts */
	lm_run vrun;		/* the value model's checkpoints (DIR/value) */
	int *np;		/* how many in each micro-batch */
	float *tl;		/* a micro-batch's per-token losses */
	int grow_from;		/* --chat-tokens added tokens: the checkpoint's vocabulary, else 0 */
	int32_t *pos, *doc;	/* --sft: positions and documents of the rows */
	lm_adamw adamw;
	lm_run run;		/* the run directory, the step, tokens and seconds so far */
	lm_metrics metrics;
	int32_t *x, *y;
	float *tokbytes;	/* bytes each id decodes to (bits per byte) */
	cm_progress progress;
	lm_dp dp;		/* data parallel: this rank's rows, the gradients summed */
	int zero;		/* ZeRO-1 between ranks: the model holds its part's moments only */
	kn_tensor *gpart;	/* the gradients of this rank's part (NULL: an empty part) */
} train;

/* A line of metrics: a write error (a full disk) stops the run. */
static void __attribute__((format(printf, 2, 3))) metrics_line(train *r, const char *fmt, ...)
{
	char err[4400];
	va_list ap;
	if (r->dp.rank > 0)
		return;
	va_start(ap, fmt);
	int k = lm_metrics_vprintf(&r->metrics, err, sizeof err, fmt, ap);
	va_end(ap);
	if (k < 0)
		cm_die("%s", err);
}

/* ZeRO-1: a piece of the whole moments for a checkpoint, gathered from the ranks' parts to
 * rank 0 (the others' buf is NULL) */
static void moments_get(void *ctx, int which, int64_t off, int64_t n, float *buf)
{
	train *r = ctx;
	lm_model *m = r->s.m;
	lm_dp_gather(&r->dp, which ? m->v : m->m, m->nparams, off, n, buf);
}

/* --freeze-body: before the step, the gradients of every parameter but the score head's and
 * the final norm's zeroed; after it, those parameters put back as they started. */
static void freeze(train *r, int after)
{
	lm_model *m = r->s.m;
	for (int i = 0; i < m->np; i++) {
		const lm_param *p = &m->p[i];
		if (p->layer < 0 && (p->field == P_SCORE || p->field == P_LNF_W || p->field == P_LNF_B))
			continue;
		int64_t n = p->n;
		kn_tensor *v = kn_view(after ? m->params : m->grads, p->off, 1, &n);
		if (after) {
			kn_tensor *f = kn_view(r->frozen, p->off, 1, &n);
			m->be->ops->copy(v, f);
			kn_free(f);
		} else {
			m->be->ops->zero(v);
		}
		kn_free(v);
	}
	if (after)
		lm_params_changed(m);
}

/* A checkpoint: rank 0 writes it; under ZeRO-1 every other rank sends its moments. */
static void save(train *r, long long step)
{
	char dir[4096], err[8192];
	if (r->dp.rank > 0) {
		if (r->zero)
			lm_ckpt_send_moments(&r->run.moments, r->s.m->nparams);
		return;
	}
	r->run.st.step = step;
	if (lm_run_save(&r->run, dir, sizeof dir, err, sizeof err) < 0)
		cm_die("checkpoint: %s", err);
	if (cm_verbosity > 0) {
		cm_progress_break(&r->progress);
		cm_info("checkpoint %s", dir);
	}
}

/* Evaluate on the held-out shards: the first --eval-batches batches, or all of them (final). */
static void evaluate_sft(train *r, long long step)
{
	lm_sft_data *d = &r->sft;
	int B = (int)r->o.batch, T = (int)r->o.context;
	double sum = 0;
	int64_t targets = 0;
	for (uint64_t v = 0; v < d->vrows; v += (uint64_t)B) {
		int b = (uint64_t)B < d->vrows - v ? B : (int)(d->vrows - v);
		for (int i = 0; i < b; i++) {
			size_t at = (size_t)i * T;
			targets += lm_sft_val_row(d, v + (uint64_t)i, r->x + at, r->y + at,
						  r->pos + at, r->doc + at);
		}
		lm_forward(r->s.m, b, T, r->x, r->pos, r->doc);
		sum += lm_loss(r->s.m, r->y, 0, NULL);
	}
	double loss = targets ? sum / (double)targets : NAN;
	metrics_line(r, "{\"step\":%lld,\"val_loss\":%.6f,\"val_tokens\":%lld}\n", step, loss,
		     (long long)targets);
	if (cm_verbosity >= 0)
		cm_info("step %lld: held-out response loss %.4f (%lld tokens)", step, loss,
			(long long)targets);
}

/* The held-out pairs: the loss, the accuracy (chosen scored above rejected), the margin. */
static void evaluate_reward(train *r, long long step)
{
	lm_score_stats st = { 0 };
	lm_rm_eval_list(r->s.m, &r->rm, r->rm.val, r->rm.nval, (int)r->o.batch, r->x, r->len, &st,
			NULL);
	double n = (double)st.n;
	metrics_line(r, "{\"step\":%lld,\"val_loss\":%.6f,\"val_accuracy\":%.6f,\"val_margin\":%.6f,"
		     "\"val_pairs\":%lld}\n", step, st.loss / n, (double)st.correct / n, st.margin / n,
		     (long long)st.n);
	if (cm_verbosity >= 0)
		cm_info("step %lld: held-out pairs: loss %.4f, accuracy %.4f, margin %.4f (%lld pairs)",
			step, st.loss / n, (double)st.correct / n, st.margin / n, (long long)st.n);
}

/* The held-out texts: the loss, the accuracy (classify.h's). */
static void evaluate_classify(train *r, long long step)
{
	lm_score_stats st = { 0 };
	lm_cls_eval_list(r->s.m, &r->cls, r->cls.val, r->cls.nval, (int)r->o.batch, r->x, r->len,
			 &st, NULL);
	double n = (double)st.n;
	metrics_line(r, "{\"step\":%lld,\"val_loss\":%.6f,\"val_accuracy\":%.6f,\"val_texts\":%lld}\n",
		     step, st.loss / n, (double)st.correct / n, (long long)st.n);
	if (cm_verbosity >= 0)
		cm_info("step %lld: held-out texts: loss %.4f, accuracy %.4f (%lld texts)", step,
			st.loss / n, (double)st.correct / n, (long long)st.n);
}

/* The held-out pairs' loss and TRL's metrics, as eval_loss, eval_rewards/chosen, ... */
static void evaluate_dpo(train *r, long long step)
{
	lm_dpo_stats st = { 0 };
	char js[1024];
	lm_dpo_evaluate(r->s.m, &r->dpo, (int)r->o.batch, r->ref, &r->o.dpo_o, r->x, r->y, r->pos,
			r->doc, r->tl, r->items, &st);
	lm_dpo_stats_json(&st, "eval_", 1, js, sizeof js);
	/* the reference's own ranking of the held-out pairs: chosen more likely than rejected */
	double first = 0;
	for (size_t i = 0; i < r->dpo.nval; i++)
		first += r->ref[2 * (size_t)r->dpo.val[i]] > r->ref[2 * (size_t)r->dpo.val[i] + 1];
	metrics_line(r, "{\"step\":%lld%s,\"eval_ref_accuracy\":%.9g}\n", step, js,
		     first / (double)r->dpo.nval);
	if (cm_verbosity >= 0)
		cm_info("step %lld: held-out pairs: loss %.4f, reward accuracy %.4f, margin %.4f (%.0f "
			"pairs)", step, st.loss / st.pairs, st.accuracies / st.pairs,
			st.margins / st.pairs, st.pairs);
}

static void evaluate(train *r, long long step, int full)
{
	const opts *o = &r->o;
	if (o->classify) {
		evaluate_classify(r, step);
		return;
	}
	if (o->reward) {
		evaluate_reward(r, step);
		return;
	}
	if (o->dpo) {
		evaluate_dpo(r, step);
		return;
	}
	if (o->sft) {
		evaluate_sft(r, step);
		return;
	}
	int B = (int)o->batch, T = (int)o->context;
	uint64_t nw = lm_data_eval_windows(&r->val);
	if (!full && o->eval_batches > 0 && (uint64_t)o->eval_batches * B < nw)
		nw = (uint64_t)o->eval_batches * B;
	lm_eval e;
	char err[4400];
	if (lm_evaluate(r->s.m, &r->val, nw, B, T, r->tokbytes, r->x, r->y, &e, err, sizeof err) < 0)
		cm_die("evaluation: %s", err);
	char b[128] = "";
	if (e.bytes > 0)
		snprintf(b, sizeof b, ",\"val_bpb\":%.6f,\"val_bytes\":%.0f", e.bpb, e.bytes);
	metrics_line(r, "{\"step\":%lld,\"val_loss\":%.6f,\"val_tokens\":%llu%s}\n", step, e.loss,
		(unsigned long long)e.tokens, b);
	if (cm_verbosity >= 0) {
		if (e.bytes > 0)
			cm_info("step %lld: val loss %.4f, %.4f bits per byte (%llu tokens)", step,
				e.loss, e.bpb, (unsigned long long)e.tokens);
		else
			cm_info("step %lld: val loss %.4f (%llu tokens)", step, e.loss,
				(unsigned long long)e.tokens);
	}
}

/* A step must not ask for more tokens than the data holds (windows overlap, and a batch
 * would repeat them). */
static void check_batch(const opts *o, const lm_data *d, const char *opt, const char *glob)
{
	double want = (double)o->ranks * o->batch * o->context * o->accum;
	if (d->stream || want <= (double)d->total)
		return;
	cm_usage_error("--batch %lld x --context %lld%s%s is %.0f tokens a step, more than the "
		       "%llu tokens of %s '%s'", o->batch, o->context, o->accum > 1 ? " x --accum" : "",
		       o->ranks > 1 ? " x ranks" : "", want, (unsigned long long)d->total, opt, glob);
}

static void parse(int argc, char **argv, opts *o)
{
	*o = (opts){ .model = "tiny", .batch = 8, .accum = 1, .eval_every = 250, .save_every = 500,
		     .keep = 3, .dev = { .name = "auto", .precision = -1 },
		     .dpo_o = { .loss = LM_DPO_SIGMOID, .beta = 0.1 },
		     .ppo_o = { .gamma = 1, .lam = 0.95, .clip = 0.2, .clip_value = 0.2,
				.vf_coef = 0.1, .kl_coef = 0.05, .kl_horizon = 10000,
				.temperature = 1, .max_new = 64 },
		     .ppo_epochs = 4,
		     .sched = { .kind = LM_COSINE, .steps = 1000, .lr = 6e-4, .min_lr = -1,
				.decay = 0.2 },
		     .adamw = { .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1,
				.clip = 1.0 } };
	lm_schedule *sc = &o->sched;
	lm_adamw_opts *ad = &o->adamw;
	char model[160];
	snprintf(model, sizeof model, "preset (%s) or a\nconfig.json (default: tiny)", lm_presets());
	const cm_opt opts[] = {
		CM_OPT_GROUP("Data and model:"),
		CM_OPT_STRING(0, "data", &o->data, "GLOB",
			      "training shards (comma-separated globs), or - for a stream\n"
			      "of shards on stdin (read once, in order; not resumable)"),
		CM_OPT_STRING(0, "val", &o->val, "GLOB", "held-out shards for evaluation"),
		CM_OPT_STRING(0, "sft", &o->sft, "FILE",
			      "supervised fine-tuning on JSONL examples instead of\n"
			      "--data (needs --init): prompt/response pairs, chat\n"
			      "messages or HH-RLHF transcripts; loss on responses only"),
		CM_OPT_STRING(0, "reward", &o->reward, "FILE",
			      "train a reward model on JSONL preference pairs instead\n"
			      "of --data (needs --init): a score head on the last\n"
			      "token, Bradley-Terry loss on chosen and rejected;\n"
			      "with --ppo: the reward model (a checkpoint) to train for"),
		CM_OPT_STRING(0, "classify", &o->classify, "FILE",
			      "train a classifier on JSONL labelled texts instead of\n"
			      "--data (needs --init): a score head on the last token,\n"
			      "--objective's loss on each text's label"),
		CM_OPT_CHOICE(0, "objective", &o->objective, "O", lm_cls_objectives,
			      "--classify: bce (labels 0 and 1) or mse (a numeric\n"
			      "score, as FineWeb-Edu's 0-5) (default: bce)"),
		CM_OPT_STRING(0, "text-field", &o->text_field, "NAME",
			      "--classify: the field of the text (default: text)"),
		CM_OPT_STRING(0, "label-field", &o->label_field, "NAME",
			      "--classify: the field of the label (default: label)"),
		CM_OPT_FLAG(0, "freeze-body", &o->freeze_body,
			    "--classify, --reward: train the score head and the\n"
			    "final norm only, the rest of the model frozen"),
		CM_OPT_FLAG(0, "chat-tokens", &o->chat_tokens,
			    "--sft, --reward, --classify: add the chat template's\n"
			    "tokens <|im_start|> and <|im_end|> to the tokenizer where\n"
			    "it lacks them (the embedding and output rows grow, new\n"
			    "rows the mean)"),
		CM_OPT_STRING(0, "dpo", &o->dpo, "FILE",
			      "direct preference optimisation on JSONL pairs instead of\n"
			      "--data (needs --init): prompt/chosen/rejected, chosen and\n"
			      "rejected messages or HH-RLHF transcripts"),
		CM_OPT_STRING(0, "ref", &o->ref, "DIR",
			      "--dpo, --ppo: the reference model, a run or Hugging\n"
			      "Face directory (default: the --init model); --dpo\n"
			      "computes its log-probabilities once, before training"),
		CM_OPT_STRING(0, "ref-logps", &o->ref_logps, "FILE",
			      "--dpo: the reference log-probabilities' file, reused when\n"
			      "it holds those of the same pairs and reference, else\n"
			      "written (default: DIR/ref-logps.bin)"),
		CM_OPT_CHOICE(0, "dpo-loss", &o->dpo_o.loss, "L", lm_dpo_losses,
			      "--dpo: sigmoid (DPO), ipo or hinge (default: sigmoid)"),
		CM_OPT_DOUBLE(0, "beta", &o->dpo_o.beta, "F", 1e-9, 1e9,
			      "--dpo: the strength of the tie to the reference\n"
			      "(IPO: its tau; default: 0.1)"),
		CM_OPT_DOUBLE(0, "label-smoothing", &o->dpo_o.smoothing, "F", 0, 0.5,
			      "--dpo-loss sigmoid: the chance a preference is flipped\n"
			      "(conservative DPO; default: 0)"),
		CM_OPT_STRING(0, "ppo", &o->ppo, "FILE",
			      "RLHF with PPO on JSONL prompts instead of --data (needs\n"
			      "--init, the policy, and --reward RM, a reward model):\n"
			      "prompts, chat messages, or preference pairs' prompts"),
		CM_OPT_STRING(0, "value", &o->value, "DIR",
			      "--ppo: the value model to start from, a reward model's\n"
			      "checkpoint (default: --reward's)"),
		CM_OPT_INT(0, "max-new", &o->ppo_o.max_new, "N", 1, 1 << 20,
			   "--ppo: response tokens at most (default: 64)"),
		CM_OPT_DOUBLE(0, "temperature", &o->ppo_o.temperature, "F", 1e-3, 100,
			      "--ppo: sampling temperature, the policy's logits\n"
			      "divided by it (default: 1)"),
		CM_OPT_INT(0, "mini-batch", &o->mini, "N", 1, 1 << 20,
			   "--ppo: rollouts per optimizer step (default: -b, one\n"
			   "minibatch a batch of rollouts)"),
		CM_OPT_INT(0, "ppo-epochs", &o->ppo_epochs, "N", 1, 1000,
			   "--ppo: passes over each batch of rollouts (default: 4)"),
		CM_OPT_DOUBLE(0, "kl-coef", &o->ppo_o.kl_coef, "F", 0, 1e6,
			      "--ppo: the KL penalty's coefficient (the start, when\n"
			      "adaptive; default: 0.05)"),
		CM_OPT_DOUBLE(0, "kl-target", &o->ppo_o.kl_target, "F", 0, 1e9,
			      "--ppo: adapt the KL coefficient to hold this KL per\n"
			      "response (default: 0, a fixed coefficient)"),
		CM_OPT_DOUBLE(0, "kl-horizon", &o->ppo_o.kl_horizon, "F", 1, 1e12,
			      "--ppo: the adaptive coefficient's horizon in rollouts\n"
			      "(default: 10000)"),
		CM_OPT_DOUBLE(0, "gamma", &o->ppo_o.gamma, "F", 0, 1,
			      "--ppo: the discount of GAE (default: 1)"),
		CM_OPT_DOUBLE(0, "lam", &o->ppo_o.lam, "F", 0, 1,
			      "--ppo: the lambda of GAE (default: 0.95)"),
		CM_OPT_DOUBLE(0, "cliprange", &o->ppo_o.clip, "F", 0, 10,
			      "--ppo: the policy ratio's clip range (default: 0.2)"),
		CM_OPT_DOUBLE(0, "cliprange-value", &o->ppo_o.clip_value, "F", 0, 1e9,
			      "--ppo: the value's clip range (default: 0.2)"),
		CM_OPT_DOUBLE(0, "vf-coef", &o->ppo_o.vf_coef, "F", 0, 1e6,
			      "--ppo: the value loss's weight (default: 0.1)"),
		CM_OPT_DOUBLE(0, "eot-penalty", &o->ppo_o.eot_penalty, "F", -1e9, 1e9,
			      "--ppo: subtracted from the score of a response cut at\n"
			      "--max-new without its end token (default: 0)"),
		CM_OPT_INT(0, "eval-best-of", &o->eval_best_of, "N", 0, 4096,
			   "--ppo: also score best-of-N sampling from the starting\n"
			   "policy on the held-out prompts, the baseline (default: 0)"),
		CM_OPT_DOUBLE(0, "val-fraction", &o->val_fraction, "F", 0, 0.5,
			      "--sft, --reward, --classify, --dpo, --ppo: examples\n"
			      "(pairs, texts, prompts) held out for evaluation\n"
			      "(default: 0)"),
		CM_OPT_DOUBLE(0, "epochs", &o->epochs, "F", 0, 1e6,
			      "--sft, --reward, --classify, --dpo, --ppo: train this\n"
			      "many passes over the examples (pairs, texts, prompts)\n"
			      "(sets --steps)"),
		CM_OPT_STRING('t', "tokenizer", &o->tokenizer, "FILE",
			      "tokenizer (tokenizer.json or tiktoken): vocabulary size,\n"
			      "bytes per token for bits per byte, copied to checkpoints"),
		CM_OPT_STRING(0, "model", &o->model, "NAME|FILE", model),
		CM_OPT_INT(0, "vocab", &o->vocab, "N", 2, 1 << 24,
			   "vocabulary size (default: the tokenizer's, or the config's)"),
		CM_OPT_STRING(0, "init", &o->init, "DIR",
			      "start from a checkpoint: a run directory or a Hugging Face\n"
			      "model directory (safetensors, sharded or not; fp32/bf16/fp16)"),
		CM_OPT_FLAG(0, "resume", &o->resume, "continue the run in DIR from its latest checkpoint"),
		CM_OPT_STRING('o', "output", &o->out, "DIR", "run directory (created, with its parents)"),
		CM_OPT_ALIAS("out", "output"),
		CM_OPT_GROUP("Optimisation:"),
		CM_OPT_INT('b', "batch", &o->batch, "N", 1, 1 << 20, "rows per micro-batch (default: 8)"),
		CM_OPT_INT(0, "context", &o->context, "N", 1, 1 << 20,
			   "positions per row (default: 256, at most the model's)"),
		CM_OPT_INT(0, "accum", &o->accum, "N", 1, 1 << 20, "micro-batches per step (default: 1)"),
		CM_OPT_INT(0, "steps", &sc->steps, "N", 1, 1LL << 40, "optimizer steps (default: 1000)"),
		CM_OPT_DOUBLE(0, "lr", &sc->lr, "F", 0, 10, "peak learning rate (default: 6e-4)"),
		CM_OPT_DOUBLE(0, "min-lr", &sc->min_lr, "F", 0, 10, "final learning rate (default: lr / 10)"),
		CM_OPT_INT(0, "warmup", &sc->warmup, "N", 0, 1LL << 40, "linear warmup steps (default: 0)"),
		CM_OPT_CHOICE(0, "schedule", &sc->kind, "S", lm_schedules,
			      "cosine, wsd (warmup-stable-decay) or constant\n(default: cosine)"),
		CM_OPT_DOUBLE(0, "decay", &sc->decay, "F", 0, 1,
			      "wsd: fraction of steps in the final decay (default: 0.2)"),
		CM_OPT_STRING(0, "anneal-data", &o->anneal, "GLOB",
			      "wsd: shards to train on during the decay (the anneal mix)"),
		CM_OPT_DOUBLE(0, "weight-decay", &ad->weight_decay, "F", 0, 10,
			      "AdamW decoupled weight decay on matrices and embeddings,\n"
			      "never on norms and biases (default: 0.1)"),
		CM_OPT_DOUBLE(0, "beta1", &ad->beta1, "F", 0, 0.999999, "AdamW's beta1 (default: 0.9)"),
		CM_OPT_DOUBLE(0, "beta2", &ad->beta2, "F", 0, 0.999999999, "AdamW's beta2 (default: 0.95)"),
		CM_OPT_DOUBLE(0, "eps", &ad->eps, "F", 0, 1, "AdamW's epsilon (default: 1e-8)"),
		CM_OPT_DOUBLE(0, "clip", &ad->clip, "F", 0, 1e9,
			      "clip the gradient norm to F, 0 for none (default: 1.0)"),
		CM_OPT_INT(0, "seed", &o->seed, "N", 0, 1LL << 53,
			   "initialisation and data order (default: 0)"),
		CM_OPT_INT(0, "zero", &o->zero, "N", 0, 1,
			   "data parallel: 1 keeps AdamW's moments of each rank's\n"
			   "part of the parameters only (ZeRO-1; the same\n"
			   "weights, 1/ranks of the moments' memory; default: 0)"),
		CM_OPT_GROUP("Evaluation, checkpoints, output:"),
		CM_OPT_INT(0, "eval-every", &o->eval_every, "N", 0, 1LL << 40,
			   "evaluate every N steps and at the end (default: 250; 0: end)"),
		CM_OPT_INT(0, "eval-batches", &o->eval_batches, "N", 0, 1LL << 40,
			   "batches per periodic evaluation (default: 0, the whole\n"
			   "set); the final one reads the whole set"),
		CM_OPT_INT(0, "save-every", &o->save_every, "N", 0, 1LL << 40,
			   "checkpoint every N steps and at the end (default: 500)"),
		CM_OPT_INT(0, "keep", &o->keep, "N", 1, 1000000, "keep the last N checkpoints (default: 3)"),
		CM_OPT_STRING(0, "metrics", &o->metrics, "FILE", "metrics JSONL (default: DIR/metrics.jsonl)"),
		CM_OPT_DOUBLE(0, "peak-flops", &o->peak, "F", 1, 1e20,
			      "the device's peak FLOP/s for the MFU estimate"),
		CM_OPT_INCLUDE(lm_device_opts(&o->dev)),
		CM_OPT_FLAG(0, "deterministic", &o->dev.deterministic,
			    "run-to-run identical results on the GPU too"),
		CM_OPT_GROUP("Messages:"),
		CM_OPT_STRING(0, "dump-grads", &o->dump_grads, "FILE",
			      "write the first step's loss gradients (before clipping;\n"
			      "safetensors, Hugging Face names) to FILE and stop without\n"
			      "a step or checkpoint (checks against other trainers;\n"
			      "--ppo: a directory of the rollouts, weights and gradients)"),
		CM_OPT_FLAG(0, "progress", &o->progress,
			    "progress on stderr when it is not a terminal too: a line a\n"
			    "step (on a terminal: one line redrawn, the default)"),
		CM_OPT_END()
	};
	if (cm_opt_parse(argc, argv, opts, &info) > 0)
		cm_usage_error("unexpected argument '%s'", argv[1]);
	if (o->ppo) {	/* --reward names the reward model: not a source of examples */
		if (!o->reward)
			cm_usage_error("--ppo needs --reward RM: the reward model to train for");
		o->ppo_rm = o->reward;
		o->reward = NULL;
		if (o->accum != 1)
			cm_usage_error("--accum is not for --ppo: --mini-batch sets the rollouts an "
				       "optimizer step");
		if (o->resume && o->value)
			cm_usage_error("--ppo --resume: the value model is the run's (DIR/value), "
				       "not --value's");
	}
	if (!o->ppo && (o->value || o->eval_best_of || o->mini))
		cm_usage_error("%s needs --ppo", o->value ? "--value" : o->mini ? "--mini-batch" :
			       "--eval-best-of");
	/* one source of examples; the names in this order in the message */
	const char *src[] = { o->ppo ? "--ppo" : NULL, o->reward ? "--reward" : NULL, o->classify ? "--classify" : NULL,
			      o->sft ? "--sft" : NULL, o->dpo ? "--dpo" : NULL, o->data ? "--data" : NULL };
	const char *first = NULL;
	for (size_t i = 0; i < sizeof src / sizeof src[0]; i++) {
		if (src[i] && first)
			cm_usage_error("%s and %s: choose one", first, src[i]);
		if (src[i] && !first)
			first = src[i];
	}
	if (!first)
		cm_usage_error("--data (or --sft, --reward, --classify, --dpo, --ppo) is required");
	const char *post = o->data ? NULL : first;	/* post-training: the model is --init's */
	if (post && !o->init && !o->resume)
		cm_usage_error("%s needs --init: the model and tokenizer to start from", post);
	if (post && (o->val || o->anneal))
		cm_usage_error("%s: %s is for --data; use --val-fraction", post,
			       o->val ? "--val" : "--anneal-data");
	if (!post && (o->val_fraction > 0 || o->epochs > 0))
		cm_usage_error("%s needs --sft, --reward, --classify, --dpo or --ppo",
			       o->epochs > 0 ? "--epochs" : "--val-fraction");
	if (!o->classify && (o->text_field || o->label_field || o->objective))
		cm_usage_error("%s needs --classify", o->text_field ? "--text-field" :
			       o->label_field ? "--label-field" : "--objective");
	if (o->freeze_body && !o->classify && !o->reward)
		cm_usage_error("--freeze-body needs --classify or --reward");
	if (o->freeze_body && o->zero)
		cm_usage_error("--freeze-body: not with --zero 1");
	if (!o->text_field)
		o->text_field = "text";
	if (!o->label_field)
		o->label_field = "label";
	if (o->chat_tokens && !o->sft && !o->reward && !o->classify)
		cm_usage_error("--chat-tokens needs --sft, --reward or --classify");
	if (!o->dpo && o->ref_logps)
		cm_usage_error("--ref-logps needs --dpo");
	if (!o->dpo && !o->ppo && o->ref)
		cm_usage_error("--ref needs --dpo or --ppo");
	if (o->dpo_o.smoothing > 0 && o->dpo_o.loss != LM_DPO_SIGMOID)
		cm_usage_error("--label-smoothing is for --dpo-loss sigmoid");
	if (!o->out)
		cm_usage_error("--out is required");
	if (sc->min_lr < 0)
		sc->min_lr = sc->lr / 10;
	if (sc->warmup >= sc->steps && sc->warmup)
		cm_usage_error("--warmup %lld leaves no steps of %lld", sc->warmup, sc->steps);
	if (o->anneal && sc->kind != LM_WSD)
		cm_usage_error("--anneal-data needs --schedule wsd");
	if (o->data && !strcmp(o->data, "-") && o->resume)
		cm_usage_error("--resume: a stream on stdin (--data -) cannot be resumed exactly");
	if (o->resume && o->init)
		cm_usage_error("--resume and --init: choose one");
}

/* The model's config: --init's checkpoint or --model, sized to the tokenizer or --vocab. */
static void configure(train *r)
{
	opts *o = &r->o;
	lm_session *s = &r->s;
	lm_config *cfg = &s->cfg;
	cm_tok *tok = s->tok;
	char err[8192];
	int post = o->sft || o->reward || o->classify || o->dpo || o->ppo;
	int headed = o->reward || o->classify;
	if (post && o->resume) {	/* the model and tokenizer of the run's checkpoint */
		if (lm_session_checkpoint(s, o->out, err, sizeof err) < 0 ||
		    (!s->tok && lm_session_tokenizer(s, NULL, err, sizeof err) < 0))
			cm_die("--resume: %s", err);
		tok = s->tok;
		if (o->ppo && !o->ref) {	/* the run's reference, as its options say */
			json_t *t = lm_ckpt_trainer(s->dir, err, sizeof err);
			if (!t)
				cm_die("--resume: %s", err);
			const char *ref = json_string_value(json_object_get(
				json_object_get(json_object_get(t, "options"), "ppo"), "ref"));
			if (ref)
				o->ref = cm_xstrdup(ref);
			json_decref(t);
			if (!o->ref)
				cm_die("--resume: '%s' is not a --ppo run's checkpoint", s->dir);
		}
	} else if (o->init) {
		if (lm_session_checkpoint(s, o->init, err, sizeof err) < 0)
			cm_die("--init: %s", err);
		if (post && !s->tok) {	/* the checkpoint's own tokenizer */
			if (lm_session_tokenizer(s, NULL, err, sizeof err) < 0)
				cm_die("--init: %s", err);
			tok = s->tok;
		}
		if (o->chat_tokens) {
			char tp[4200];
			int added;
			snprintf(tp, sizeof tp, "%s/tokenizer.json", s->dir);
			cm_tok *t = lm_chat_tokenizer(tp, s->tok, &added, err, sizeof err);
			if (added < 0)
				cm_die("--chat-tokens: %s", err);
			if (added > 0) {
				if (cm_verbosity >= 0)
					cm_info("--chat-tokens: %d token%s added to the tokenizer (%u "
						"tokens now)", added, added > 1 ? "s" : "",
						cm_tok_vocab_size(t));
				cm_tok_free(s->tok);
				s->tok = tok = t;
				r->grow_from = cfg->vocab;
				if ((int)cm_tok_vocab_size(t) > cfg->vocab)
					cfg->vocab = (int)cm_tok_vocab_size(t);
			}
		}
	} else if (lm_config_load(cfg, o->model, o->vocab ? (int)o->vocab : tok ?
				  (int)cm_tok_vocab_size(tok) : 0, err, sizeof err) < 0) {
		cm_die("--model: %s", err);
	}
	int vocab = o->vocab ? (int)o->vocab : tok ? (int)cm_tok_vocab_size(tok) : cfg->vocab;
	if (o->init && vocab != cfg->vocab)
		cm_die("--init: the checkpoint's vocabulary is %d, the tokenizer's (or --vocab) %d",
		       cfg->vocab, vocab);
	if (tok && vocab < (int)cm_tok_vocab_size(tok))
		cm_die("--vocab %d is smaller than the tokenizer's %u", vocab, cm_tok_vocab_size(tok));
	cfg->vocab = vocab;
	cfg->vocab_padded = (vocab + 63) / 64 * 64;
	if (tok && cm_tok_eot(tok) >= 0)
		cfg->bos = cfg->eos = (int)cm_tok_eot(tok);
	if (headed && !cfg->labels) {	/* a language model: the score head added (start) */
		cfg->labels = 1;
		r->add_head = 1;
	}
	if (headed && cfg->labels != 1)
		cm_die("%s: the checkpoint is a classifier of %d labels; this trains one",
		       o->reward ? "--reward" : "--classify", cfg->labels);
	if (!headed && cfg->labels)
		cm_die("the checkpoint is a sequence classifier (a reward model), not a language "
		       "model: --reward trains it");
	if (headed)	/* config.json's problem_type */
		cfg->problem = o->reward ? LM_PROBLEM_NONE : o->objective == LM_CLS_BCE ?
			       LM_PROBLEM_BCE : LM_PROBLEM_MSE;
	if (lm_config_check(cfg, err, sizeof err) < 0)
		cm_die("%s", err);
	if (!o->context)
		o->context = cfg->ctx < 256 ? cfg->ctx : 256;
	if (o->context > cfg->ctx)
		cm_usage_error("--context %lld is longer than the model's %d positions", o->context,
			       cfg->ctx);
}

/* --sft, --reward, --classify: --epochs passes over n items at B x accum a step a rank */
static void set_epochs(opts *o, double n)
{
	if (o->epochs <= 0)
		return;
	double per = (double)o->ranks * o->batch * o->accum;
	o->sched.steps = (long long)(o->epochs * n / per + 0.999999);
	if (o->sched.steps < 1)
		o->sched.steps = 1;
	if (o->sched.warmup >= o->sched.steps && o->sched.warmup)
		cm_usage_error("--warmup %lld leaves no steps of %lld (--epochs)", o->sched.warmup,
			       o->sched.steps);
}

static void open_reward(train *r)
{
	opts *o = &r->o;
	lm_rm_data *d = &r->rm;
	char err[8192], why[256];
	int T = (int)o->context;
	if (lm_rm_open(d, o->reward, r->s.tok, T, (uint64_t)o->seed, o->val_fraction, err,
		       sizeof err) < 0)
		cm_die("--reward: %s", err);
	if (d->skipped)
		cm_warn("--reward: %llu of %llu records skipped: %s (the first: %s)",
			(unsigned long long)d->skipped, (unsigned long long)d->records,
			lm_rm_skips(d, why, sizeof why), d->first_skip);
	if (d->truncated)
		cm_warn("--reward: %llu pairs with a sequence longer than --context %d: its last %d "
			"tokens kept", (unsigned long long)d->truncated, T, T);
	if (cm_verbosity >= 0)
		cm_info("--reward: %zu pairs for training, %zu held out", d->ntrain, d->nval);
	r->have_val = d->nval > 0;
	set_epochs(o, (double)d->ntrain);
}

static void open_classify(train *r)
{
	opts *o = &r->o;
	lm_cls_data *d = &r->cls;
	char err[8192], why[256];
	int T = (int)o->context;
	if (lm_cls_open(d, o->classify, r->s.tok, T, (uint64_t)o->seed, o->val_fraction,
			o->objective, o->text_field, o->label_field, err, sizeof err) < 0)
		cm_die("--classify: %s", err);
	if (d->skipped)
		cm_warn("--classify: %llu of %llu records skipped: %s (the first: %s)",
			(unsigned long long)d->skipped, (unsigned long long)d->records,
			lm_cls_skips(d, why, sizeof why), d->first_skip);
	if (d->truncated)
		cm_warn("--classify: %llu texts longer than --context %d: their first %d tokens kept",
			(unsigned long long)d->truncated, T, T);
	if (cm_verbosity >= 0)
		cm_info("--classify: %zu texts for training, %zu held out (%s: %s %.4g)", d->ntrain,
			d->nval, lm_cls_objectives[o->objective], o->objective == LM_CLS_BCE ?
			"positives" : "mean label", o->objective == LM_CLS_BCE ? d->label_sum :
			d->label_sum / (double)d->n);
	r->have_val = d->nval > 0;
	set_epochs(o, (double)d->ntrain);
}

/* --dpo: the pairs, then the reference's log-probabilities (computed, or read) */
static void open_dpo(train *r)
{
	opts *o = &r->o;
	lm_dpo_data *d = &r->dpo;
	int T = (int)o->context;
	char err[8192];
	if (o->ranks > 1)
		cm_die("--dpo: one process only (not data parallel)");
	if (lm_dpo_open(d, o->dpo, r->s.tok, T, (uint64_t)o->seed, o->val_fraction, err,
			sizeof err) < 0)
		cm_die("--dpo: %s", err);
	if (d->skipped)
		cm_warn("--dpo: %llu of %llu records skipped (the first: %s)",
			(unsigned long long)d->skipped, (unsigned long long)d->records, d->first_skip);
	if (d->truncated)
		cm_warn("--dpo: %llu pairs longer than --context %d positions cut (each sequence to "
			"the same first ids)", (unsigned long long)d->truncated, T);
	if (cm_verbosity >= 0)
		cm_info("--dpo: %zu pairs for training in %llu rows of %d, %zu held out", d->ntrain,
			(unsigned long long)d->rows, T, d->nval);
	r->have_val = d->nval > 0;
	set_epochs(o, d->rows);
	if (lm_run_mkdir(o->out, err, sizeof err) < 0)
		cm_die("%s", err);
	char path[4200];
	if (!o->ref_logps)
		snprintf(path, sizeof path, "%s/ref-logps.bin", o->out);
	r->ref = cm_xmalloc(2 * d->n * sizeof *r->ref);
	int reused;
	double t0 = cm_now();
	const char *ref = o->ref ? o->ref : o->init;
	if (lm_dpo_ref_prepare(&r->s, ref, o->ref_logps ? o->ref_logps : path, o->resume, d,
			       (int)o->batch, r->ref, &reused, err, sizeof err) < 0)
		cm_die("--ref: %s", err);
	if (cm_verbosity >= 0)
		cm_info("--dpo: the reference log-probabilities of %zu pairs %s %s (%.1f s)", d->n,
			reused ? "read from" : "computed and written to",
			o->ref_logps ? o->ref_logps : path, cm_now() - t0);
}

/* --ppo: the prompts (the policy and the other models are loaded in ppo_run) */
static void open_ppo(train *r)
{
	opts *o = &r->o;
	lm_ppo_prompts *d = &r->prompts;
	int T = (int)o->context;
	char err[8192];
	if (o->ranks > 1)
		cm_die("--ppo: one process only (not data parallel)");
	if (T <= o->ppo_o.max_new)
		cm_usage_error("--ppo: --context %d leaves no room for a prompt before --max-new %d",
			       T, o->ppo_o.max_new);
	o->ppo_o.epochs = (int)o->ppo_epochs;
	o->ppo_o.mini = (int)(o->mini ? o->mini : o->batch);
	if (lm_ppo_prompts_open(d, o->ppo, r->s.tok, T - o->ppo_o.max_new, (uint64_t)o->seed,
				o->val_fraction, err, sizeof err) < 0)
		cm_die("--ppo: %s", err);
	if (d->skipped)
		cm_warn("--ppo: %llu of %llu records skipped (the first: %s)",
			(unsigned long long)d->skipped, (unsigned long long)d->records, d->first_skip);
	if (d->truncated)
		cm_warn("--ppo: %llu prompts longer than --context %d - --max-new %d: their last %d "
			"ids kept", (unsigned long long)d->truncated, T, o->ppo_o.max_new,
			T - o->ppo_o.max_new);
	if (cm_verbosity >= 0)
		cm_info("--ppo: %zu prompts for training, %zu held out", d->ntrain, d->nval);
	r->have_val = d->nval > 0;
	set_epochs(o, (double)d->ntrain);
}

static void open_data(train *r)
{
	opts *o = &r->o;
	int T = (int)o->context;
	uint32_t vocab = (uint32_t)r->s.cfg.vocab;
	char err[8192];
	if (o->reward) {
		open_reward(r);
		return;
	}
	if (o->classify) {
		open_classify(r);
		return;
	}
	if (o->sft) {
		lm_sft_data *d = &r->sft;
		if (lm_sft_open(d, o->sft, r->s.tok, T, (uint64_t)o->seed, o->val_fraction, err,
				sizeof err) < 0)
			cm_die("--sft: %s", err);
		if (d->skipped)
			cm_warn("--sft: %llu of %llu records skipped (the first: %s)",
				(unsigned long long)d->skipped, (unsigned long long)d->records,
				d->first_skip);
		if (d->truncated)
			cm_warn("--sft: %llu examples longer than --context %d + 1 tokens cut to "
				"their first %d + 1", (unsigned long long)d->truncated, T, T);
		if (cm_verbosity >= 0)
			cm_info("--sft: %zu examples for training in %llu rows of %d, %zu held out",
				d->ntrain, (unsigned long long)d->rows, T, d->nval);
		r->have_val = d->nval > 0;
		set_epochs(o, (double)d->rows);
		return;
	}
	if (o->dpo) {
		open_dpo(r);
		return;
	}
	if (o->ppo) {
		open_ppo(r);
		return;
	}
	if (!strcmp(o->data, "-"))
		lm_data_open_stream(&r->train, stdin, "standard input", T, vocab);
	else if (lm_data_open(&r->train, o->data, T, vocab, (uint64_t)o->seed, err, sizeof err) < 0)
		cm_die("--data: %s", err);
	if (o->anneal && lm_data_open(&r->anneal, o->anneal, T, vocab,
				      (uint64_t)o->seed ^ 0x616e6e65616cull, err, sizeof err) < 0)
		cm_die("--anneal-data: %s", err);
	if (o->val) {
		if (lm_data_open(&r->val, o->val, T, vocab, 0, err, sizeof err) < 0)
			cm_die("--val: %s", err);
		r->have_val = 1;
	}
	check_batch(o, &r->train, "--data", o->data);
	if (o->anneal)
		check_batch(o, &r->anneal, "--anneal-data", o->anneal);
}

/* The model: --init's weights (its tokenizer checked against -t's: the same ids, else a
 * warning) or new ones from the seed; then the run directory, resumed from with --resume. */
static void start(train *r)
{
	opts *o = &r->o;
	lm_session *s = &r->s;
	char err[8192], p[4200];
	if (o->init && !r->grow_from) {
		int same = lm_ckpt_same_tokenizer(s->dir, s->tok, p, sizeof p, err, sizeof err);
		if (same < 0)
			cm_die("--init: %s", err);
		if (!same)
			cm_warn("--init: the tokenizer '%s' is not the checkpoint's ('%s'): the same "
				"ids mean other text", o->tokenizer, p);
	}
	/* ZeRO-1: the moments of this rank's part only, never all of them */
	lm_model *m;
	if (r->add_head)	/* the checkpoint's model first, the head below */
		s->cfg.labels = 0;
	if (r->grow_from) {	/* the checkpoint's weights, then the vocabulary grown */
		if (r->zero)
			cm_die("--chat-tokens: not with --zero 1 (train with --zero 0 first)");
		lm_config want = s->cfg;
		s->cfg.vocab = r->grow_from;
		s->cfg.vocab_padded = (r->grow_from + 63) / 64 * 64;
		lm_model *old = lm_session_model(s, 0, err, sizeof err);
		if (!old)
			cm_die("--init: %s", err);
		m = lm_model_grow_vocab(old, want.vocab, 1);
		lm_model_free(old);
		lm_model_set_precision(m, s->adt);
		s->m = m;
		s->cfg = m->cfg;
	} else {
		m = r->zero ? lm_session_model_part(s, r->dp.rank, r->dp.size, err, sizeof err) :
			lm_session_model(s, 1, err, sizeof err);
	}
	if (!m)
		cm_die("--init: %s", err);
	if (r->add_head) {	/* a language model made a reward model: the score head added */
		if (r->zero)
			cm_die("the score head is not added with --zero 1 (train a step with --zero "
			       "0 first)");
		lm_model *h = lm_model_with_head(m, 1, 1, (uint64_t)o->seed);
		lm_model_free(m);
		s->m = m = h;
	}
	if (o->reward || o->classify) {	/* the head's problem (configure's) */
		m->cfg.problem = s->cfg.problem;
		s->cfg = m->cfg;
	}
	if (!o->init)
		lm_model_init(m, (uint64_t)o->seed);
	lm_adamw_init(&r->adamw, m, &o->adamw);
	int64_t lo, cnt;
	lm_dp_part(&r->dp, r->dp.rank, m->nparams, &lo, &cnt);
	r->gpart = cnt > 0 ? kn_view(m->grads, lo, 1, &cnt) : NULL;

	int writer = r->dp.rank == 0;
	if (writer && lm_run_mkdir(o->out, err, sizeof err) < 0)
		cm_die("%s", err);
	r->run = (lm_run){ .dir = o->out, .keep = o->keep, .m = m, .tok = s->tok,
			   .tok_path = o->tokenizer, .options = opts_json(o, &m->cfg),
			   .reader = !writer };
	if (r->zero)
		r->run.moments = (lm_moments){ .get = moments_get, .ctx = r };
	if (o->resume) {
		if (lm_run_resume(&r->run, p, sizeof p, err, sizeof err) < 0)
			cm_die("--resume: %s", err);
		if (r->run.st.threads >= 0 && r->run.st.threads != s->be->threads)
			cm_warn("resuming with %d threads where the run had %lld: not bitwise "
				"reproducible", s->be->threads, r->run.st.threads);
		if (cm_verbosity >= 0)
			cm_info("resuming from %s (step %lld)", p, r->run.st.step);
	}
	/* every rank starts from rank 0's weights and moments (the same, unless a rank's
	 * files differ); under ZeRO-1 each rank read its part of the moments itself */
	lm_dp_bcast(&r->dp, m->params);
	if (!r->zero) {
		lm_dp_bcast(&r->dp, m->m);
		lm_dp_bcast(&r->dp, m->v);
	}
	lm_params_changed(m);
	if (o->freeze_body) {	/* the parameters as they start, put back after each step */
		r->frozen = kn_new1(m->be, KN_F32, m->nparams);
		m->be->ops->copy(r->frozen, m->params);
	}
	if (!writer)
		return;
	char mp[4200];
	snprintf(mp, sizeof mp, "%s/metrics.jsonl", o->out);
	if (lm_metrics_open(&r->metrics, o->metrics ? o->metrics : mp, r->run.st.step, err,
			    sizeof err) < 0)
		cm_die("%s", err);
}

/* ---- --ppo ---- */

/* The held-out prompts, one rollout each from a fixed seed (the same draws at every
 * evaluation): the mean score, KL and response length; with best_of, best-of-N sampling from
 * the policy as it is (the start: the baseline PPO is compared with). */
static void ppo_evaluate(train *r, long long step, int best_of)
{
	lm_ppo *P = &r->ppo;
	lm_ppo_prompts *d = &r->prompts;
	int B = (int)r->o.batch;
	uint64_t seed = (uint64_t)r->o.seed * 0x9e3779b97f4a7c15ull ^ 0x6576616cull;
	lm_ppo_roll st = { 0 };
	for (size_t v = 0; v < d->nval; v += (size_t)B) {
		int k = d->nval - v < (size_t)B ? (int)(d->nval - v) : B;
		lm_ppo_rollout(P, d, d->val + v, k, seed + v, 0, &st);
	}
	double n = st.n, sc = st.scores / n, kl = st.kl / n;
	/* the standard errors of the means over the prompts */
	double se_s = n > 1 ? sqrt(fmax(0, (st.scores_sq - n * sc * sc) / (n - 1) / n)) : 0;
	double se_k = n > 1 ? sqrt(fmax(0, (st.kl_sq - n * kl * kl) / (n - 1) / n)) : 0;
	metrics_line(r, "{\"step\":%lld,\"eval_objective/scores\":%.6f,\"eval_objective/scores_se\":%.6f,"
		     "\"eval_objective/kl\":%.6f,\"eval_objective/kl_se\":%.6f,"
		     "\"eval_objective/rlhf_reward\":%.6f,\"eval_objective/entropy\":%.6f,"
		     "\"eval_response_len\":%.3f,\"eval_ended\":%.4f,\"eval_prompts\":%d}\n", step, sc,
		     se_s, kl, se_k, sc - P->kl_coef * kl, st.entropy / n, st.len / n, st.ended / n,
		     st.n);
	if (cm_verbosity >= 0)
		cm_info("step %lld: held-out prompts: score %.4f +- %.4f, KL %.4f +- %.4f, %.1f "
			"response tokens (%d prompts)", step, sc, se_s, kl, se_k, st.len / n, st.n);
	if (best_of < 1)
		return;
	/* each prompt best_of times, as many prompts a batch as fit (at least one) */
	int per = B / best_of > 0 ? B / best_of : 1;
	uint32_t *list = cm_xmalloc((size_t)per * best_of * sizeof *list);
	double best = 0, all = 0;
	lm_ppo_roll bs = { 0 };
	for (size_t v = 0; v < d->nval; v += (size_t)per) {
		int k = d->nval - v < (size_t)per ? (int)(d->nval - v) : per;
		for (int i = 0; i < k; i++)
			for (int j = 0; j < best_of; j++)
				list[i * best_of + j] = d->val[v + (size_t)i];
		lm_ppo_rollout(P, d, list, k * best_of, seed ^ (0x626f6eull + v), 0, &bs);
		for (int i = 0; i < k; i++) {
			float mx = P->b.score[i * best_of];
			for (int j = 0; j < best_of; j++) {
				float s = P->b.score[i * best_of + j];
				mx = s > mx ? s : mx;
				all += s;
			}
			best += mx;
		}
	}
	free(list);
	double np = (double)d->nval, bound = log((double)best_of) - (best_of - 1.0) / best_of;
	metrics_line(r, "{\"step\":%lld,\"eval_best_of\":%d,\"eval_best_of/scores\":%.6f,"
		     "\"eval_best_of/sample_scores\":%.6f,\"eval_best_of/kl\":%.6f}\n", step,
		     best_of, best / np, all / (np * best_of), bound);
	if (cm_verbosity >= 0)
		cm_info("step %lld: held-out prompts: best of %d samples scores %.4f (one sample "
			"%.4f; KL to the policy sampled %.4f)", step, best_of, best / np,
			all / (np * best_of), bound);
}

/* --dump-grads with --ppo: the batch of rollouts, as JSONL */
static void ppo_dump_rollouts(train *r, const char *path)
{
	lm_ppo *P = &r->ppo;
	const lm_ppo_batch *b = &P->b;
	cm_buf o = { 0 };
	const struct { const char *name; const float *v; } f[] = {
		{ "lp", b->lp }, { "ref", b->ref }, { "value", b->value }, { "reward", b->reward },
		{ "adv", b->adv }, { "ret", b->ret } };
	for (int i = 0; i < b->n; i++) {
		const int32_t *x = P->x + (size_t)i * P->Tb;
		cm_buf_printf(&o, "{\"row\":%d,\"prompt_ids\":[", i);
		for (int j = 0; j < P->plen[i]; j++)
			cm_buf_printf(&o, "%s%d", j ? "," : "", x[j]);
		cm_buf_adds(&o, "],\"response_ids\":[");
		for (int j = 0; j < b->len[i]; j++)
			cm_buf_printf(&o, "%s%d", j ? "," : "", x[P->plen[i] + j]);
		cm_buf_printf(&o, "],\"ended\":%s,\"chat\":%s,\"score\":%.9g", P->ended[i] ? "true" :
			      "false", P->chat[i] ? "true" : "false", (double)b->score[i]);
		for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
			cm_buf_printf(&o, ",\"%s\":[", f[k].name);
			for (int j = 0; j < b->len[i]; j++)
				cm_buf_printf(&o, "%s%.9g", j ? "," : "", (double)f[k].v[b->at[i] + j]);
			cm_buf_adds(&o, "]");
		}
		cm_buf_adds(&o, "}\n");
	}
	char err[4400];
	if (cm_afile_put(path, o.p, o.len, err, sizeof err) < 0)
		cm_die("--dump-grads: %s", err);
	free(o.p);
}

/* the weights (grads 0) or gradients (1) of m to DIR/NAME.safetensors */
static void ppo_dump_tensors(lm_model *m, const char *dir, const char *name, int grads)
{
	char path[4200], err[4400];
	snprintf(path, sizeof path, "%s/%s.safetensors", dir, name);
	if ((grads ? lm_save_grads : lm_save_weights)(m, path, err, sizeof err) < 0)
		cm_die("--dump-grads: %s", err);
}

/* the means of a minibatch's sums, TRL's names, as JSON members */
static void ppo_stats_json(const lm_ppo_stats *st, char *buf, size_t n)
{
	double t = st->tokens > 0 ? st->tokens : 1;
	snprintf(buf, n, ",\"policy/approxkl\":%.6g,\"policy/policykl\":%.6g,\"policy/clipfrac\":%.6g,"
		 "\"val/error\":%.6g,\"val/clipfrac\":%.6g,\"val/vpred\":%.6g,\"val/ratio\":%.6g",
		 st->approxkl / t, st->policykl / t, st->clipfrac / t, st->verror / t,
		 st->vclipfrac / t, st->vpred / t, st->ratio / t);
}

static void ppo_save(train *r, long long step)
{
	/* the value model's first: the policy's checkpoint, saved last, is the run's, and a
	 * resumed run takes the value model's of its step (one stopped between the two resumes) */
	char dir[4096], err[8192];
	r->run.st.ppo = 1;
	r->run.st.kl_coef = r->ppo.kl_coef;
	r->run.st.step = step;
	r->vrun.st = r->run.st;
	if (lm_run_save(&r->vrun, dir, sizeof dir, err, sizeof err) < 0)
		cm_die("checkpoint of the value model: %s", err);
	save(r, step);
}

static void ppo_run(train *r)
{
	opts *o = &r->o;
	lm_session *S = &r->s;
	lm_model *m = S->m;
	kn_backend *be = S->be;
	lm_ppo *P = &r->ppo;
	const lm_ppo_opts *po = &o->ppo_o;
	const lm_schedule *sc = &o->sched;
	char err[8192];
	int B = (int)o->batch, E = po->epochs, M = po->mini < B ? po->mini : B;
	static char vdir[4200];
	snprintf(vdir, sizeof vdir, "%s/value", o->out);
	static char vstep[4300];	/* resumed: the value model's checkpoint of the policy's step */
	snprintf(vstep, sizeof vstep, "%s/step-%07lld", vdir, r->run.st.step);
	const char *value = o->resume ? vstep : o->value ? o->value : o->ppo_rm;
	if (lm_ppo_open(P, S, m, o->ref ? o->ref : o->init, o->ppo_rm, value, po, &o->adamw,
			(int)o->context, err, sizeof err) < 0)
		cm_die("--ppo: %s", err);
	if (cm_verbosity >= 0)
		cm_info("--ppo: the models' weights and state: the policy %s (with gradients and "
			"AdamW's moments), the reference %s, the reward model %s, the value model %s "
			"(with gradients and moments)", LM_SIZE(P->bytes[0]), LM_SIZE(P->bytes[1]),
			LM_SIZE(P->bytes[2]), LM_SIZE(P->bytes[3]));
	r->vrun = (lm_run){ .dir = vdir, .keep = o->keep, .m = P->vm, .tok = S->tok,
			    .tok_path = o->tokenizer, .options = opts_json(o, &P->vm->cfg) };
	if (lm_run_mkdir(vdir, err, sizeof err) < 0)
		cm_die("%s", err);
	long long step = r->run.st.step;
	if (o->resume) {	/* the value model's weights and moments, the KL coefficient */
		char p[4200];
		r->vrun.at = step;	/* of the policy's step, even where a newer one was saved */
		if (lm_run_resume(&r->vrun, p, sizeof p, err, sizeof err) < 0)
			cm_die("--resume: the value model: %s", err);
		if (r->vrun.st.step != step)
			cm_die("--resume: the value model's checkpoint of step %lld says step %lld", step,
			       r->vrun.st.step);
		if (!r->run.st.ppo)
			cm_die("--resume: the checkpoint of step %lld has no KL coefficient (not a "
			       "--ppo run's)", step);
		P->kl_coef = r->run.st.kl_coef;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	cm_progress_init(&r->progress, o->progress || cm_verbosity > 0 ? 1 : -1, 0);
	if (r->have_val && !o->dump_grads && step == 0)
		ppo_evaluate(r, 0, (int)o->eval_best_of);
	uint32_t *list = cm_xmalloc((size_t)B * sizeof *list);
	int *rows = cm_xmalloc((size_t)B * sizeof *rows);
	/* AdamW's step count: every minibatch of every epoch of the steps before */
	long long start = step, ostep = step * E * ((B + M - 1) / M);
	long long last_saved = o->resume ? step : -1;
	double t_start = cm_now(), episodes = (double)step * B;
	while (step < sc->steps && !stop_signal) {
		double t0 = cm_now(), lr = lm_lr_at(sc, step);
		for (int i = 0; i < B; i++)
			list[i] = lm_ppo_train_prompt(&r->prompts, (uint64_t)step * B + (uint64_t)i);
		lm_ppo_roll rs = { 0 };
		uint64_t seed = (uint64_t)o->seed * 0x2545f4914f6cdd1dull + (uint64_t)step;
		lm_ppo_rollout(P, &r->prompts, list, B, seed, 1, &rs);
		if (step == start && cm_verbosity > 0)
			cm_info("--ppo: memory on the %s after the first rollouts: %.0f MiB",
				be->base->name, (double)be->peak / 1048576.0);
		lm_ppo_stats st = { 0 };
		double loss = 0, gn = 0;
		int updates = 0;
		for (int e = 0; e < E; e++) {
			for (int i = 0; i < B; i++)
				rows[i] = i;
			lm_sft_shuffle((uint32_t *)rows, (size_t)B, seed ^ (0x65706f6368ull + (uint64_t)e));
			for (int j = 0; j < B; j += M) {
				int k = B - j < M ? B - j : M;
				int dump = o->dump_grads && e == E - 1 && j + M >= B;
				if (dump) {	/* the weights this minibatch starts from */
					if (lm_run_mkdir(o->dump_grads, err, sizeof err) < 0)
						cm_die("--dump-grads: %s", err);
					ppo_dump_tensors(m, o->dump_grads, "policy", 0);
					ppo_dump_tensors(P->vm, o->dump_grads, "value", 0);
				}
				be->ops->zero(m->grads);
				be->ops->zero(P->vm->grads);
				/* the dumped minibatch's statistics alone; else the step's sums */
				lm_ppo_stats one = { 0 };
				double l = lm_ppo_minibatch(P, rows + j, k, dump ? &one : &st);
				gn = sqrt(be->ops->sumsq(m->grads) + be->ops->sumsq(P->vm->grads));
				if (dump) {
					char path[4200], js[1024];
					ppo_dump_tensors(m, o->dump_grads, "policy-grads", 1);
					ppo_dump_tensors(P->vm, o->dump_grads, "value-grads", 1);
					snprintf(path, sizeof path, "%s/rollouts.jsonl", o->dump_grads);
					ppo_dump_rollouts(r, path);
					cm_buf mb = { 0 };
					cm_buf_printf(&mb, "{\"rows\":[");
					for (int i = 0; i < k; i++)
						cm_buf_printf(&mb, "%s%d", i ? "," : "", rows[j + i]);
					ppo_stats_json(&one, js, sizeof js);
					cm_buf_printf(&mb, "],\"loss\":%.9g,\"loss/policy\":%.9g,"
						      "\"loss/value\":%.9g,\"tokens\":%.0f,\"grad_norm\":%.9g,"
						      "\"kl_coef\":%.9g,\"temperature\":%.9g,\"epoch\":%d%s}\n",
						      l, one.pg / one.tokens, one.vf / one.tokens, one.tokens,
						      gn, P->kl_coef, po->temperature, e, js);
					snprintf(path, sizeof path, "%s/minibatch.json", o->dump_grads);
					if (cm_afile_put(path, mb.p, mb.len, err, sizeof err) < 0)
						cm_die("--dump-grads: %s", err);
					free(mb.p);
					cm_info("--dump-grads: the rollouts, the weights before minibatch %d "
						"of epoch %d and its gradients in %s (loss %.9g)", j / M + 1,
						e + 1, o->dump_grads, l);
					exit(0);
				}
				if (!isfinite(l) || !isfinite(gn)) {
					cm_progress_break(&r->progress);
					cm_die("step %lld: the loss is %g and the gradient norm %g: stopping "
					       "without a checkpoint; the last good one is %s", step, l, gn,
					       last_saved >= 0 ? "in the run directory ('latest')" :
					       "none (no checkpoint yet)");
				}
				ostep++;
				lm_adamw_step(&r->adamw, lr, gn, ostep);
				lm_adamw_step(&P->vadam, lr, gn, ostep);
				loss += l;
				updates++;
			}
		}
		double kl = rs.kl / rs.n;
		double coef = P->kl_coef;
		P->kl_coef = lm_ppo_kl_update(P->kl_coef, kl, (double)B, po->kl_target, po->kl_horizon);
		be->ops->sync(be);
		double dt = cm_now() - t0, n = rs.n, t = st.tokens > 0 ? st.tokens : 1;
		step++;
		episodes += n;
		r->run.st.tokens += (uint64_t)rs.len;
		double sm = rs.scores / n, sv = n > 1 ? (rs.scores_sq - n * sm * sm) / (n - 1) : 0;
		char js[1024];
		ppo_stats_json(&st, js, sizeof js);
		metrics_line(r, "{\"step\":%lld,\"loss\":%.6f,\"lr\":%.6g,\"grad_norm\":%.6f,"
			     "\"episode\":%.0f,\"objective/kl\":%.6f,\"objective/kl_coef\":%.6g,"
			     "\"objective/entropy\":%.6f,\"objective/non_score_reward\":%.6f,"
			     "\"objective/rlhf_reward\":%.6f,\"objective/scores\":%.6f,"
			     "\"objective/scores_std\":%.6f,\"policy/entropy\":%.6f,"
			     "\"loss/policy\":%.6f,\"loss/value\":%.6f,\"returns/mean\":%.6f,"
			     "\"returns/var\":%.6f,\"val/mean\":%.6f,\"val/var\":%.6f,"
			     "\"val/num_eos_tokens\":%.0f,\"response_len\":%.3f,\"step_s\":%.4f%s}\n",
			     step, loss / updates, lr, gn, episodes, kl, coef, rs.entropy / n,
			     rs.non_score / n, sm - coef * kl, sm, sv > 0 ? sqrt(sv) : 0,
			     rs.token_entropy / (rs.len > 0 ? rs.len : 1), st.pg / t, st.vf / t,
			     rs.ret_mean, rs.ret_var, rs.val_mean, rs.val_var, rs.ended, rs.len / n,
			     dt, js);
		double eta = (cm_now() - t_start) / (double)(step - start) * (double)(sc->steps - step);
		cm_progress_line(&r->progress, "step %lld/%lld score %.4f kl %.4f loss %.4f eta %.0fs",
				 step, sc->steps, sm, kl, loss / updates, eta);
		if (r->have_val && o->eval_every && step % o->eval_every == 0 && step < sc->steps) {
			cm_progress_break(&r->progress);
			ppo_evaluate(r, step, 0);
		}
		r->run.st.elapsed += dt;
		if ((o->save_every && step % o->save_every == 0) || step == sc->steps) {
			ppo_save(r, step);
			last_saved = step;
		}
	}
	cm_progress_break(&r->progress);
	if (stop_signal) {
		if (last_saved != step && step > 0)
			ppo_save(r, step);
		if (lm_metrics_close(&r->metrics, err, sizeof err) < 0)
			cm_die("%s", err);
		if (step > 0)
			cm_info("%s: checkpoint written at step %lld; continue with --resume",
				strsignal(stop_signal), step);
		else
			cm_info("%s: stopped before the first step, nothing to resume",
				strsignal(stop_signal));
		exit(EXIT_INTERRUPTED);
	}
	if (r->have_val)
		ppo_evaluate(r, step, 0);
	if (cm_verbosity > 0)
		cm_info("done: %lld steps, %.0f rollouts, %.1f s", step, episodes, cm_now() - t_start);
	if (lm_metrics_close(&r->metrics, err, sizeof err) < 0)
		cm_die("%s", err);
	free(list);
	free(rows);
	json_decref(r->vrun.options);
	lm_ppo_close(P);
	lm_ppo_prompts_close(&r->prompts);
}

int main(int argc, char **argv)
{
	cm_init("lm-train");
	static train R;
	opts *o = &R.o;
	parse(argc, argv, o);
	lm_session *S = &R.s;
	char err[8192], info[1024];
	lm_dp *dp = &R.dp;
	if (lm_dp_init(dp, err, sizeof err) < 0)
		cm_die("data parallel: %s", err);
	o->ranks = dp->size;
	R.zero = o->zero && dp->size > 1;
	static char prog[64];
	if (dp->rank > 0) {	/* the first rank speaks for all; the others only of errors */
		snprintf(prog, sizeof prog, "lm-train (rank %d)", dp->rank);
		cm_prog = prog;
		cm_verbosity = -1;
	}
	if (dp->size > 1 && o->data && !strcmp(o->data, "-"))
		cm_usage_error("--data -: a stream on stdin is read by one process, not %d ranks",
			       dp->size);

	if (lm_session_open(S, &o->dev, err, sizeof err) < 0)
		cm_die("--device: %s", err);
	kn_backend *be = S->be;
	if (o->tokenizer && lm_session_tokenizer(S, o->tokenizer, err, sizeof err) < 0)
		cm_die("%s", err);
	configure(&R);
	const lm_config *cfg = &S->cfg;
	int B = (int)o->batch, T = (int)o->context;
	if (!o->resume && lm_run_exists(o->out))
		cm_die("'%s' already holds a run: use --resume to continue it, or another --out",
		       o->out);
	open_data(&R);
	if (dp->size > 1) {	/* every rank the same options and data, else none starts */
		json_t *oj = opts_json(o, cfg);
		json_object_set_new(oj, "data_tokens", json_integer((json_int_t)R.train.total));
		json_object_set_new(oj, "anneal_tokens", json_integer((json_int_t)R.anneal.total));
		/* not an option a resumed run must keep (the same numbers), but one every rank
		 * must share */
		json_object_set_new(oj, "zero", json_integer(o->zero));
		char *d = json_dumps(oj, JSON_COMPACT | JSON_SORT_KEYS);
		uint64_t h = XXH3_64bits(d, strlen(d));
		free(d);
		json_decref(oj);
		if (lm_dp_same(dp, h, err, sizeof err) < 0)
			cm_die("data parallel: %s", err);
		int nc = lm_dp_device(dp, be, err, sizeof err);
		if (nc < 0)
			cm_die("data parallel: %s", err);
		if (cm_verbosity >= 0 && !be->host)
			cm_info("data parallel: the gradients summed %s", nc ? "by NCCL on the GPUs" :
				"through the host's memory");
		if (dp->rank == 0 && !be->host && !nc)
			cm_warn("data parallel: %s", err);
	}
	/* --reward: a chosen and a rejected row a pair */
	int fits = lm_mem_check_train(cfg, be, S->adt, o->reward ? 2 * B : B, T, dp->size, R.zero,
				      info, sizeof info, err, sizeof err);
	if (cm_verbosity > 0)
		cm_info("%s", info);
	if (fits < 0)
		cm_die("%s", err);
	if (S->tok)
		R.tokbytes = lm_token_bytes(S->tok, cfg->vocab);
	start(&R);
	if (o->ppo) {
		ppo_run(&R);
		json_decref(R.run.options);
		lm_adamw_free(&R.adamw);
		kn_free(R.gpart);
		lm_session_close(S);
		lm_dp_end(dp);
		return 0;
	}
	lm_model *m = S->m;
	const lm_schedule *sc = &o->sched;
	long long step = R.run.st.step;
	double flops_per_token = lm_config_flops(cfg, T);
	double peak = o->peak > 0 ? o->peak : lm_cpu_peak_flops(be->threads);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	/* on a terminal unless -q; elsewhere with --progress or -v */
	cm_progress_init(&R.progress, dp->rank > 0 ? 0 : o->progress || cm_verbosity > 0 ? 1 : -1, 0);
	/* --sft: every micro-batch of a step at once (the loss over all their targets) */
	size_t nrow = (size_t)B * T * (o->sft || o->dpo ? (size_t)o->accum : o->reward ? 2 : 1);
	R.x = cm_xmalloc(nrow * sizeof(int32_t));
	if (o->reward || o->classify)
		R.len = cm_xmalloc(2 * (size_t)B * sizeof *R.len);
	R.y = cm_xmalloc(nrow * sizeof(int32_t));
	if (o->sft || o->dpo) {
		R.pos = cm_xmalloc(nrow * sizeof(int32_t));
		R.doc = cm_xmalloc(nrow * sizeof(int32_t));
	}
	if (o->dpo) {	/* a pair takes 2 positions or more */
		R.items = cm_xmalloc((size_t)B * o->accum * ((size_t)T / 2 + 1) * sizeof *R.items);
		R.tl = cm_xmalloc((size_t)B * T * sizeof *R.tl);
		R.np = cm_xmalloc((size_t)o->accum * sizeof *R.np);
	}
	lm_dpo_stats dst = { 0 };	/* --dpo: a step's pairs */
	if (cm_verbosity >= 0)
		cm_info("%s model, %.2fM parameters (%d layers, width %d, vocabulary %d), batch %d x "
			"%d x %lld%s, %lld steps, %s, %s on %d thread%s%s", cfg->style == LM_GPT2 ?
			"GPT-2" : "Llama", (double)m->nparams / 1e6, cfg->layers, cfg->dim,
			cfg->vocab, B, T, o->accum, dp->size > 1 ? " on each rank" : "", sc->steps,
			lm_precision_name(S->adt), be->desc, be->threads, be->threads == 1 ? "" : "s",
			dp->size > 1 ? " each" : "");
	if (dp->size > 1 && cm_verbosity >= 0) {
		char zs[160] = "";
		if (R.zero)
			snprintf(zs, sizeof zs, "; AdamW's moments split between them (ZeRO-1): %s "
				 "on this rank instead of %s", LM_SIZE(8.0 * (double)m->mn),
				 LM_SIZE(8.0 * (double)m->nparams));
		cm_info("data parallel: %d ranks, %lld rows a step%s", dp->size,
			(long long)dp->size * B * o->accum, zs);
	}
	int bf16 = S->adt == KN_BF16;
	double t_start = cm_now(), last_loss = NAN;
	long long last_saved = o->resume ? step : -1, start = step;
	int ended = 0, stop = 0;
	/* the rows of a step, all ranks together */
	double rows = (double)dp->size * B * o->accum;
	float dscale = 1.0f / (float)(rows * T);
	/* ranks stop together, at a step they agree on (below) */
	while (step < sc->steps && (dp->size > 1 || !stop_signal)) {
		double t0 = cm_now(), lr = lm_lr_at(sc, step), loss = 0;
		be->ops->zero(m->grads);
		lm_data *src = o->anneal && lm_in_decay(sc, step) ? &R.anneal : &R.train;
		double norm = rows * T;	/* what the summed loss is divided by */
		if (o->sft) {	/* the mean over the trained targets of the whole step */
			int64_t tg = 0;
			for (long long a = 0; a < o->accum; a++) {
				size_t at = (size_t)a * B * T;
				tg += lm_sft_rows(&R.sft, (uint64_t)(step * o->accum + a), dp->rank,
						  dp->size, B, R.x + at, R.y + at, R.pos + at,
						  R.doc + at);
			}
			double v = (double)tg;
			if (dp->size > 1)
				lm_dp_sum(dp, &v, 1);
			norm = v > 0 ? v : 1;
			float ds = (float)(1.0 / norm);
			for (long long a = 0; a < o->accum; a++) {
				size_t at = (size_t)a * B * T;
				lm_forward(m, B, T, R.x + at, R.pos + at, R.doc + at);
				loss += lm_loss(m, R.y + at, ds, NULL);
				lm_backward(m);
			}
		}
		lm_score_stats rs = { 0 };
		if (o->reward) {	/* the mean over the pairs of the whole step */
			norm = rows;
			for (long long a = 0; a < o->accum; a++)
				lm_rm_train_batch(m, &R.rm, (uint64_t)(step * o->accum + a), dp->rank,
						  dp->size, B, 1.0 / norm, R.x, R.len, &rs);
			loss = rs.loss;
		}
		if (o->classify) {	/* the mean over the texts of the whole step */
			norm = rows;
			for (long long a = 0; a < o->accum; a++)
				lm_cls_train_batch(m, &R.cls, (uint64_t)(step * o->accum + a), dp->rank,
						   dp->size, B, 1.0 / norm, R.x, R.len, &rs);
			loss = rs.loss;
		}
		if (o->freeze_body)
			freeze(&R, 0);
		if (o->dpo) {	/* the mean over the pairs of the whole step */
			int *np = R.np, k = 0;
			for (long long a = 0; a < o->accum; a++) {
				size_t at = (size_t)a * B * T;
				np[a] = lm_dpo_rows(&R.dpo, (uint64_t)(step * o->accum + a), B,
						    R.x + at, R.y + at, R.pos + at, R.doc + at,
						    R.items + k);
				k += np[a];
			}
			dst = (lm_dpo_stats){ 0 };
			norm = 1;
			for (long long a = 0, i = 0; a < o->accum; i += np[a], a++) {
				size_t at = (size_t)a * B * T;
				lm_forward(m, B, T, R.x + at, R.pos + at, R.doc + at);
				loss += lm_dpo_micro(m, R.y + at, R.items + i, np[a], R.ref,
						     &o->dpo_o, (float)(1.0 / k), R.tl, &dst);
				lm_backward(m);
			}
			loss /= k;
		}
		for (long long a = 0; a < o->accum && !o->sft && !o->reward && !o->classify && !o->dpo;
		     a++) {
			int r = lm_data_rows(src, (uint64_t)(step * o->accum + a), dp->rank,
					     dp->size, B, R.x, R.y, err, sizeof err);
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
			if (cm_verbosity >= 0) {
				cm_progress_break(&R.progress);
				cm_info("the data stream ended at step %lld", step);
			}
			break;
		}
		double gn2;
		if (dp->size > 1) {	/* the ranks' gradients and losses summed */
			/* ZeRO-1: this rank's part of the gradients only; the norm from the parts
			 * either way (the same bits with and without) */
			if (R.zero)
				lm_dp_reduce_scatter(dp, m->grads);
			else
				lm_dp_allreduce(dp, m->grads);
			double v[3] = { loss, stop_signal != 0, R.gpart ? be->ops->sumsq(R.gpart) : 0 };
			lm_dp_sum(dp, v, 3);
			loss = v[0];
			gn2 = v[2];
			if (v[1] > 0) {	/* a signal on any rank: every rank stops here */
				stop = 1;
				break;
			}
		} else {
			gn2 = be->ops->sumsq(m->grads);
		}
		loss /= norm;
		double gn = sqrt(gn2);
		if (o->dump_grads) {
			if (dp->rank == 0) {
				if (lm_save_grads(m, o->dump_grads, err, sizeof err) < 0)
					cm_die("--dump-grads: %s", err);
				cm_info("--dump-grads: step %lld: loss %.9g over %.0f %s, gradient "
					"norm %.9g, gradients in %s", step + 1, loss, o->dpo ? dst.pairs :
					norm, o->reward || o->dpo ? "pairs" : o->classify ? "texts" : "tokens",
					gn, o->dump_grads);
				if (o->classify)
					cm_info("--dump-grads: accuracy %.9g (this rank's texts)",
						(double)rs.correct / (double)rs.n);
				if (o->reward)
					cm_info("--dump-grads: accuracy %.9g, margin %.9g (this rank's "
						"pairs)", (double)rs.correct / (double)rs.n,
						rs.margin / (double)rs.n);
				if (o->dpo) {
					char js[1024];
					lm_dpo_stats_json(&dst, "", 1, js, sizeof js);
					cm_info("--dump-grads: metrics {%s}", js + 1);
				}
			}
			lm_dp_end(dp);
			exit(0);
		}
		if (!isfinite(loss) || !isfinite(gn)) {
			cm_progress_break(&R.progress);
			cm_die("step %lld: the loss is %g and the gradient norm %g: stopping without a "
			       "checkpoint; the last good one is %s", step, loss, gn,
			       last_saved >= 0 ? "in the run directory ('latest')" : "none (no checkpoint yet)");
		}
		lm_adamw_step(&R.adamw, lr, gn, step + 1);
		if (o->freeze_body)
			freeze(&R, 1);
		if (R.zero) {	/* each rank updated its part: every rank gets all of them */
			lm_dp_allgather(dp, m->params);
			lm_params_changed(m);
		}
		be->ops->sync(be);
		double dt = cm_now() - t0;
		if (step == start && cm_verbosity > 0) {
			/* AdamW's moments: a ZeRO-1 part's, or all */
			double st = (bf16 ? 10.0 : 8.0) * (double)m->nparams + 8.0 * (double)m->mn;
			cm_info("memory on the %s: %.0f MiB (weights, gradients and AdamW state %.0f MiB, "
				"of it AdamW's moments %.0f MiB; activations and the rest %.0f MiB)",
				be->base->name, (double)be->peak / 1048576.0, st / 1048576.0,
				8.0 * (double)m->mn / 1048576.0, ((double)be->peak - st) / 1048576.0);
		}
		step++;
		/* --reward: the pairs' tokens (this rank's, times the ranks), not the padding */
		double stepped = o->reward || o->classify ? (double)rs.tokens * dp->size : rows * T;
		R.run.st.tokens += (uint64_t)stepped;
		double tps = stepped / dt, mfu = tps * flops_per_token / peak;
		last_loss = loss;
		char extra[1024] = "";	/* --sft: the step's trained tokens; --dpo: TRL's
					 * metrics; the anneal */
		if (o->dpo)
			lm_dpo_stats_json(&dst, "", 0, extra, sizeof extra);
		else if (o->reward)	/* this rank's pairs */
			snprintf(extra, sizeof extra, ",\"accuracy\":%.4f,\"margin\":%.6f",
				 (double)rs.correct / (double)rs.n, rs.margin / (double)rs.n);
		else if (o->classify)	/* this rank's texts */
			snprintf(extra, sizeof extra, ",\"accuracy\":%.4f",
				 (double)rs.correct / (double)rs.n);
		else if (o->sft)
			snprintf(extra, sizeof extra, ",\"trained_tokens\":%.0f", norm);
		else if (src == &R.anneal)
			snprintf(extra, sizeof extra, ",\"anneal\":true");
		metrics_line(&R, "{\"step\":%lld,\"loss\":%.6f,\"lr\":%.6g,\"grad_norm\":%.6f,"
			"\"tokens_per_s\":%.1f,\"mfu\":%.4f,\"step_s\":%.4f,\"tokens\":%llu%s}\n",
			step, loss, lr, gn, tps, mfu, dt, (unsigned long long)R.run.st.tokens, extra);
		double done = cm_now() - t_start, eta = done / (double)(step - start) *
			(double)(sc->steps - step);
		cm_progress_line(&R.progress, "step %lld/%lld loss %.4f lr %.2e %.0f tok/s mfu %.1f%% "
				 "eta %.0fs", step, sc->steps, loss, lr, tps, 100 * mfu, eta);
		if (R.have_val && dp->rank == 0 && o->eval_every && step % o->eval_every == 0 && step < sc->steps) {
			cm_progress_break(&R.progress);
			evaluate(&R, step, 0);
		}
		R.run.st.elapsed += cm_now() - t0;
		if ((o->save_every && step % o->save_every == 0) || step == sc->steps) {
			save(&R, step);
			last_saved = step;
		}
	}
	cm_progress_break(&R.progress);
	if (dp->size > 1 ? stop : stop_signal != 0) {
		if (last_saved != step)
			save(&R, step);
		if (dp->rank == 0) {
			if (lm_metrics_close(&R.metrics, err, sizeof err) < 0)
				cm_die("%s", err);
			cm_info("%s: checkpoint written at step %lld; continue with --resume",
				stop_signal ? strsignal(stop_signal) : "a signal to another rank",
				step);
		}
		lm_dp_end(dp);
		exit(EXIT_INTERRUPTED);
	}
	if (ended && last_saved != step && step > 0)
		save(&R, step);
	if (R.have_val && dp->rank == 0)
		evaluate(&R, step, 1);
	if (cm_verbosity > 0)
		cm_info("done: %lld steps, %llu tokens, last loss %.4f, %.1f s", step,
			(unsigned long long)R.run.st.tokens, last_loss, cm_now() - t_start);
	if (dp->rank == 0 && lm_metrics_close(&R.metrics, err, sizeof err) < 0)
		cm_die("%s", err);
	lm_dp_end(dp);
	json_decref(R.run.options);
	lm_adamw_free(&R.adamw);
	kn_free(R.gpart);
	kn_free(R.frozen);
	lm_session_close(S);
	lm_data_close(&R.train);
	lm_data_close(&R.anneal);
	lm_data_close(&R.val);
	if (o->sft)
		lm_sft_close(&R.sft);
	if (o->reward)
		lm_rm_close(&R.rm);
	if (o->classify)
		lm_cls_close(&R.cls);
	free(R.len);
	if (o->dpo)
		lm_dpo_close(&R.dpo);
	free(R.ref);
	free(R.items);
	free(R.tl);
	free(R.np);
	free(R.pos);
	free(R.doc);
	free(R.x);
	free(R.y);
	free(R.tokbytes);
	return 0;
}
