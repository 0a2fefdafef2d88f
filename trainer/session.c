/* session.c - the backend, checkpoint, tokenizer and model a trainer program starts from. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"
#include "config.h"
#include "mem.h"
#include "opt.h"
#include "session.h"

const char *const lm_precisions[] = { [KN_F32] = "fp32", [KN_BF16] = "bf16", NULL };

const char *lm_precision_name(kn_dtype dt)
{
	return lm_precisions[dt];
}

const cm_opt *lm_device_opts(lm_device *d)
{
	static cm_opt t[6];
	int n = 0;
#define ROW(...) (t[n++] = (cm_opt)__VA_ARGS__)
	ROW(CM_OPT_GROUP("Device:"));
	ROW(CM_OPT_STRING(0, "device", &d->name, "D",
			  "cpu, cuda, cuda:plain (every operation's plain version,\n"
			  "to bisect) or auto (default: auto: cuda when there is a GPU)"));
	ROW(CM_OPT_CHOICE(0, "precision", &d->precision, "P", lm_precisions,
			  "fp32 or bf16 (mixed: a bf16 copy of the weights, bf16\n"
			  "activations and products, fp32 accumulation, master weights\n"
			  "and AdamW; default: bf16 on a GPU, fp32 on the CPU)"));
	ROW(CM_OPT_INT('j', "threads", &d->threads, "N", 1, 4096, "CPU threads (default: all)"));
	ROW(CM_OPT_END());
#undef ROW
	return t;
}

int lm_session_open(lm_session *s, const lm_device *d, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->be = kn_open(d->name, d->threads, err, errlen);
	if (!s->be)
		return -1;
	s->be->deterministic = d->deterministic;
	s->adt = d->precision >= 0 ? (kn_dtype)d->precision : s->be->precision;
	return 0;
}

int lm_session_checkpoint(lm_session *s, const char *path, char *err, size_t errlen)
{
	lm_ckpt_resolve(path, s->dir, sizeof s->dir);
	return lm_ckpt_config(s->dir, &s->cfg, err, errlen);
}

int lm_session_tokenizer(lm_session *s, const char *path, char *err, size_t errlen)
{
	char p[4200];
	if (!path) {
		snprintf(p, sizeof p, "%s/tokenizer.json", s->dir);
		path = p;
	}
	s->tok = lm_ckpt_tokenizer(path, err, errlen);
	if (!s->tok)
		return -1;
	/* another tokenizer than the checkpoint's own: the same vocabulary and merges, or no use */
	char own[4200];
	snprintf(own, sizeof own, "%s/tokenizer.json", s->dir);
	if (path != p && s->dir[0] && access(own, F_OK) == 0) {
		char e2[512];
		cm_tok *t = lm_ckpt_tokenizer(own, e2, sizeof e2);
		if (t && cm_tok_hash(t) != cm_tok_hash(s->tok)) {
			snprintf(err, errlen, "the tokenizer '%s' (%u tokens, hash %016llx) is not the "
				 "checkpoint's '%s' (%u tokens, hash %016llx): the model was trained on "
				 "other tokens", path, cm_tok_vocab_size(s->tok),
				 (unsigned long long)cm_tok_hash(s->tok), own, cm_tok_vocab_size(t),
				 (unsigned long long)cm_tok_hash(t));
			cm_tok_free(t);
			cm_tok_free(s->tok);
			s->tok = NULL;
			return -1;
		}
		cm_tok_free(t);
	}
	return 0;
}

static lm_model *loaded(lm_session *s, char *err, size_t errlen)
{
	if (s->dir[0] && lm_load_weights(s->m, s->dir, err, errlen) < 0)
		return NULL;
	lm_model_set_precision(s->m, s->adt);
	return s->m;
}

lm_model *lm_session_model(lm_session *s, int training, char *err, size_t errlen)
{
	s->m = lm_model_new(s->be, &s->cfg, training);
	return loaded(s, err, errlen);
}

lm_model *lm_session_model_part(lm_session *s, int part, int parts, char *err, size_t errlen)
{
	s->m = lm_model_new_part(s->be, &s->cfg, part, parts);
	return loaded(s, err, errlen);
}

void lm_session_close(lm_session *s)
{
	lm_model_free(s->m);
	cm_tok_free(s->tok);
	kn_close(s->be);
	memset(s, 0, sizeof *s);
}

double lm_cpu_peak_flops(int threads)
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

lm_model *lm_session_companion(lm_session *s, const char *dir, int training, int labels, int T,
			       double *bytes, char *err, size_t errlen)
{
	lm_session rs = { .be = s->be, .adt = s->adt };
	char tp[4200];
	if (lm_session_checkpoint(&rs, dir, err, errlen) < 0)
		return NULL;
	int same = lm_ckpt_same_tokenizer(rs.dir, s->tok, tp, sizeof tp, err, errlen);
	if (same < 0)
		return NULL;
	if (!same) {
		snprintf(err, errlen, "its tokenizer '%s' is not the policy's: its ids mean other "
			 "text", tp);
		return NULL;
	}
	if (rs.cfg.vocab != s->cfg.vocab) {
		snprintf(err, errlen, "a vocabulary of %d, the policy's %d", rs.cfg.vocab,
			 s->cfg.vocab);
		return NULL;
	}
	if (rs.cfg.labels != labels) {
		snprintf(err, errlen, labels ? "'%s' is a language model, not a reward model "
			 "(lm-train --reward makes one)" : "'%s' is a sequence classifier (a reward "
			 "model), not a language model", dir);
		return NULL;
	}
	if (labels && rs.cfg.problem == LM_PROBLEM_BCE) {
		snprintf(err, errlen, "'%s' is a classifier, not a reward model", dir);
		return NULL;
	}
	if (rs.cfg.ctx < T) {
		snprintf(err, errlen, "%d positions, fewer than --context %d", rs.cfg.ctx, T);
		return NULL;
	}
	double need = lm_state_bytes(&rs.cfg, training, rs.adt);
	if (bytes)
		*bytes = need;
	/* the tensors on the host: they must fit what is left (the models before it loaded) */
	if (s->be->host) {
		char what[128];
		double avail = lm_mem_available(what, sizeof what);
		if (avail >= 0 && need > avail) {
			snprintf(err, errlen, "its weights%s need about %s of memory, more than the %s "
				 "available (%s)", training ? ", gradients and AdamW state" : "",
				 LM_SIZE(need), LM_SIZE(avail), what);
			return NULL;
		}
	}
	return lm_session_model(&rs, training, err, errlen);
}
