/* ppotrain.c - PPO on the models (ppotrain.h). */
#include "ppotrain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cli.h"
#include "generate.h"
#include "harness.h"
#include "rand.h"
#include "reward.h"
#include "score.h"
#include "sft.h"

/* ---- prompts ---- */

int lm_ppo_prompts_open(lm_ppo_prompts *d, const char *path, const cm_tok *tok, int maxp,
			uint64_t seed, double val_fraction, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	d->maxp = maxp;
	d->seed = seed;
	d->perm_epoch = -1;
	snprintf(d->path, sizeof d->path, "%s", path);
	if (lm_jsonl_map(path, &d->map, &d->size, err, errlen) < 0 ||
	    lm_dpo_enc_init(&d->enc, tok, err, errlen) < 0)
		return -1;
	size_t cap = 0;
	const char *s = d->map, *end = s ? s + d->size : NULL;
	char why[400];
	const char *line;
	size_t len;
	while ((line = lm_jsonl_line(&s, end, &len))) {
		d->records++;
		int rc, chat;
		if (len > UINT32_MAX) {
			snprintf(why, sizeof why, "a record over 4 GiB");
			rc = -1;
		} else {
			rc = lm_dpo_encode_prompt(&d->enc, line, len, &chat, why, sizeof why);
		}
		if (rc == -2) {
			snprintf(err, errlen, "%s: record %llu: %s", path,
				 (unsigned long long)d->records, why);
			return -1;
		}
		if (rc < 0) {
			lm_jsonl_skip(d->records, why, &d->skipped, d->first_skip,
				      sizeof d->first_skip);
			continue;
		}
		d->truncated += d->enc.e.ids.n > (size_t)maxp;
		if (d->n == cap) {
			cap = cap ? cap * 2 : 1024;
			d->off = cm_xrealloc(d->off, cap * sizeof *d->off);
			d->len = cm_xrealloc(d->len, cap * sizeof *d->len);
		}
		d->off[d->n] = (uint64_t)(line - (const char *)d->map);
		d->len[d->n] = (uint32_t)len;
		d->n++;
	}
	if (lm_jsonl_split(path, "prompt", d->n, d->records, d->skipped, d->first_skip,
			   seed ^ 0x70706f2d73706cull, val_fraction, &d->train, &d->ntrain, &d->val,
			   &d->nval, err, errlen) < 0)
		return -1;
	d->perm = cm_xmalloc(d->ntrain * sizeof *d->perm);
	return 0;
}

void lm_ppo_prompts_close(lm_ppo_prompts *d)
{
	if (d->map)
		munmap(d->map, d->size);
	lm_dpo_enc_free(&d->enc);
	free(d->off);
	free(d->len);
	free(d->train);
	free(d->val);
	free(d->perm);
	memset(d, 0, sizeof *d);
}

uint32_t lm_ppo_train_prompt(lm_ppo_prompts *d, uint64_t g)
{
	return d->train[lm_epoch_pick(d->perm, d->ntrain, d->seed ^ 0x70706f, g, &d->perm_epoch)];
}

/* prompt i's ids (its last maxp) into out; 1 when cut */
static int prompt_ids(lm_ppo_prompts *d, uint32_t i, cm_ids *out, int *chat)
{
	char why[400];
	if (lm_dpo_encode_prompt(&d->enc, (const char *)d->map + d->off[i], d->len[i], chat, why,
				 sizeof why) < 0)
		cm_die("%s: a prompt read before is now unusable: %s", d->path, why);
	const cm_ids *e = &d->enc.e.ids;
	size_t from = e->n > (size_t)d->maxp ? e->n - (size_t)d->maxp : 0;
	out->n = 0;
	for (size_t k = from; k < e->n; k++)
		cm_ids_push(out, e->v[k]);
	return from > 0;
}

/* ---- the models ---- */

/* lm_session_companion, its errors named by what */
static lm_model *load(lm_session *s, const char *what, const char *dir, int training,
		      int labels, int T, double *bytes, char *err, size_t errlen)
{
	char e[8192];
	lm_model *m = lm_session_companion(s, dir, training, labels, T, bytes, e, sizeof e);
	if (!m)
		snprintf(err, errlen, "%s: %s", what, e);
	return m;
}

int lm_ppo_open(lm_ppo *p, lm_session *s, lm_model *pol, const char *ref_dir, const char *rm_dir,
		const char *value_dir, const lm_ppo_opts *o, const lm_adamw_opts *ad, int T,
		char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->o = *o;
	p->pol = pol;
	p->T = T;
	p->kl_coef = o->kl_coef;
	p->tok = s->tok;
	p->eot = cm_tok_eot(s->tok);
	p->end = cm_tok_special(s->tok, LM_CHAT_END);
	if (p->eot < 0) {
		snprintf(err, errlen, "the tokenizer has no end-of-text token to end a response with");
		return -1;
	}
	if (pol->cfg.labels) {
		snprintf(err, errlen, "--init: a sequence classifier (a reward model), not a language "
			 "model to train with --ppo");
		return -1;
	}
	cm_tok_ctx *c = cm_tok_ctx_new(s->tok);
	cm_tok_encode(c, "\n", 1, 0, &p->nl);
	cm_tok_ctx_free(c);
	p->bytes[0] = lm_state_bytes(&pol->cfg, 1, s->adt);
	/* the reward model is scored at the end of prompt + response; a shorter context keeps
	 * the last ids, so any context will do for it */
	if (!(p->ref = load(s, "--ref", ref_dir, 0, 0, T, &p->bytes[1], err, errlen)) ||
	    !(p->rm = load(s, "--reward", rm_dir, 0, 1, 1, &p->bytes[2], err, errlen)) ||
	    !(p->vm = load(s, value_dir != rm_dir ? "--value" : "--reward (the value model)",
			   value_dir, 1, 1, T, &p->bytes[3], err, errlen))) {
		lm_ppo_close(p);
		return -1;
	}
	lm_adamw_init(&p->vadam, p->vm, ad);
	return 0;
}

void lm_ppo_close(lm_ppo *p)
{
	if (p->vm)
		lm_adamw_free(&p->vadam);
	lm_model_free(p->ref);
	lm_model_free(p->rm);
	lm_model_free(p->vm);
	cm_ids_free(&p->nl);
	lm_ppo_batch_free(&p->b);
	free(p->x);
	free(p->y);
	free(p->plen);
	free(p->ended);
	free(p->chat);
	free(p->xb);
	free(p->yb);
	free(p->tl);
	free(p->vals);
	free(p->lg);
	free(p->g);
	memset(p, 0, sizeof *p);
}

/* ---- a batch of rollouts ---- */

/* rows rows[0..k) of the batch into xb, yb ([k x Tb]) */
static void gather(lm_ppo *p, const int *rows, int k)
{
	size_t Tb = (size_t)p->Tb;
	for (int i = 0; i < k; i++) {
		memcpy(p->xb + (size_t)i * Tb, p->x + (size_t)rows[i] * Tb, Tb * sizeof *p->xb);
		memcpy(p->yb + (size_t)i * Tb, p->y + (size_t)rows[i] * Tb, Tb * sizeof *p->yb);
	}
}

/* The entropy of softmax(z[0..V)) in nats, one exp a logit: log s - t / s, where s sums
 * e^(z - max) and t sums e^(z - max) (z - max). */
static double entropy(const float *z, int V)
{
	float mx = z[0];
	double s = 0, t = 0;
	for (int v = 1; v < V; v++)
		mx = z[v] > mx ? z[v] : mx;
	for (int v = 0; v < V; v++) {
		double d = (double)z[v] - mx, e = exp(d);
		s += e;
		t += e * d;
	}
	return log(s) - t / s;
}

/* the log-probabilities of the response ids of rows rows[0..k) under m (logits / temperature)
 * into out (the batch's token order); with ent, the entropy at each position summed into
 * *ent. Leaves the logits as lm_loss(dscale) made them (dscale 0: the logits). */
static void logprobs(lm_ppo *p, lm_model *m, const int *rows, int k, float dscale, float *out,
		     double *ent)
{
	int Tb = p->Tb, V = m->cfg.vocab, Vp = m->cfg.vocab_padded;
	lm_forward(m, k, Tb, p->xb, NULL, NULL);
	if (p->o.temperature != 1)
		m->be->ops->scale(lm_logits(m), (float)(1.0 / p->o.temperature));
	if (ent) {	/* from the logits, before lm_loss may overwrite them */
		for (int i = 0; i < k; i++) {
			int r = rows[i], L = p->b.len[r];
			int64_t row0 = (int64_t)i * Tb + p->plen[r] - 1;
			lm_logits_get(m, row0, L, p->lg);
			for (int t = 0; t < L; t++) {
				const float *z = p->lg + (size_t)t * Vp;
				*ent += entropy(z, V);
			}
		}
	}
	lm_loss(m, p->yb, dscale, p->tl);
	for (int i = 0; i < k; i++) {
		int r = rows[i];
		const float *tl = p->tl + (size_t)i * Tb + p->plen[r] - 1;
		for (int t = 0; t < p->b.len[r]; t++)
			out[p->b.at[r] + t] = -tl[t];
	}
}

/* the value model's values at the response ids' positions of rows rows[0..k) into out */
static void values(lm_ppo *p, const int *rows, int k, float *out)
{
	int Tb = p->Tb;
	lm_forward(p->vm, k, Tb, p->xb, NULL, NULL);
	lm_logits_get(p->vm, 0, (int64_t)k * Tb, p->vals);
	for (int i = 0; i < k; i++) {
		int r = rows[i];
		memcpy(out + p->b.at[r], p->vals + (size_t)i * Tb + p->plen[r] - 1,
		       (size_t)p->b.len[r] * sizeof *out);
	}
}

/* the reward model's scores of rows rows[0..k) into score[rows[i]] */
static void scores(lm_ppo *p, const int *rows, int k, float *score)
{
	int ctx = p->rm->cfg.ctx, T = 1;
	size_t cap = (size_t)p->Tb + p->nl.n;
	int32_t *seq = cm_xmalloc((size_t)k * cap * sizeof *seq), *len = cm_xmalloc(k * sizeof *len);
	for (int i = 0; i < k; i++) {	/* prompt + response (+ "\n"): its last ctx ids */
		int r = rows[i], n = p->plen[r] + p->b.len[r];
		int32_t *s = seq + (size_t)i * cap;
		memcpy(s, p->x + (size_t)r * p->Tb, (size_t)n * sizeof *s);
		if (p->chat[r] && p->ended[r])
			for (size_t j = 0; j < p->nl.n; j++)
				s[n++] = (int32_t)p->nl.v[j];
		int from = n > ctx ? n - ctx : 0;
		len[i] = n - from;
		memmove(s, s + from, (size_t)len[i] * sizeof *s);
		T = len[i] > T ? len[i] : T;
	}
	int32_t *x = cm_xmalloc((size_t)k * T * sizeof *x);
	for (int i = 0; i < k; i++)
		for (int j = 0; j < T; j++)
			x[(size_t)i * T + j] = j < len[i] ? seq[(size_t)i * cap + j] : (int32_t)p->eot;
	float *s = cm_xmalloc((size_t)k * sizeof *s);
	lm_score_last(p->rm, k, T, x, len, s);
	for (int i = 0; i < k; i++)
		score[rows[i]] = s[i];
	free(s);
	free(x);
	free(len);
	free(seq);
}

/* the batch's arrays for n rows of Tb positions and ntok response ids */
static void batch_alloc(lm_ppo *p, int n, int Tb, int64_t ntok)
{
	size_t N = (size_t)n * Tb, mb = (size_t)(p->o.mini < n ? p->o.mini : n) * Tb;
	int Vp = p->pol->cfg.vocab_padded;
	lm_ppo_batch_free(&p->b);
	lm_ppo_batch_alloc(&p->b, n, ntok);
	p->n = n;
	p->Tb = Tb;
	p->x = cm_xrealloc(p->x, N * sizeof *p->x);
	p->y = cm_xrealloc(p->y, N * sizeof *p->y);
	p->plen = cm_xrealloc(p->plen, (size_t)n * sizeof *p->plen);
	p->ended = cm_xrealloc(p->ended, (size_t)n);
	p->chat = cm_xrealloc(p->chat, (size_t)n);
	p->xb = cm_xrealloc(p->xb, mb * sizeof *p->xb);
	p->yb = cm_xrealloc(p->yb, mb * sizeof *p->yb);
	p->tl = cm_xrealloc(p->tl, mb * sizeof *p->tl);
	p->vals = cm_xrealloc(p->vals, mb * sizeof *p->vals);
	p->lg = cm_xrealloc(p->lg, (size_t)p->o.max_new * Vp * sizeof *p->lg);
	p->g = cm_xrealloc(p->g, (size_t)(ntok > 0 ? ntok : 1) * sizeof *p->g);
}

static double var_of(const float *x, int64_t n, double *mean)
{
	double s = 0, ss = 0;
	for (int64_t i = 0; i < n; i++)
		s += x[i];
	*mean = n ? s / (double)n : 0;
	for (int64_t i = 0; i < n; i++)
		ss += ((double)x[i] - *mean) * ((double)x[i] - *mean);
	return n > 1 ? ss / (double)(n - 1) : 0;
}

void lm_ppo_rollout(lm_ppo *p, lm_ppo_prompts *d, const uint32_t *list, int n, uint64_t seed,
		    int train, lm_ppo_roll *st)
{
	const lm_ppo_opts *o = &p->o;
	lm_gen *g = cm_xcalloc((size_t)n, sizeof *g);
	cm_ids *pr = cm_xcalloc((size_t)n, sizeof *pr);
	int *chat = cm_xmalloc((size_t)n * sizeof *chat);
	double cut = 0;
	for (int i = 0; i < n; i++) {
		cut += prompt_ids(d, list[i], &pr[i], &chat[i]);
		uint64_t s = seed ^ ((uint64_t)i * 0x9e3779b97f4a7c15ull);
		g[i] = (lm_gen){ .prompt = pr[i].v, .nprompt = pr[i].n, .max_new = o->max_new,
				 .temperature = o->temperature, .top_p = 1, .seed = cm_splitmix64(&s),
				 .eot = chat[i] && p->end >= 0 ? p->end : p->eot, .logprobs = -1 };
	}
	lm_generate(p->pol, p->tok, g, n, NULL);
	lm_kv_free(p->pol);
	int Tb = 1;
	int64_t ntok = 0;
	for (int i = 0; i < n; i++) {
		int k = (int)(pr[i].n + g[i].nids);
		Tb = k > Tb ? k : Tb;
		ntok += (int64_t)g[i].nids;
	}
	batch_alloc(p, n, Tb, ntok);
	lm_ppo_batch *b = &p->b;
	ntok = 0;
	for (int i = 0; i < n; i++) {
		int32_t *x = p->x + (size_t)i * Tb, *y = p->y + (size_t)i * Tb;
		int P = (int)pr[i].n, L = (int)g[i].nids;
		for (int j = 0; j < Tb; j++) {
			x[j] = j < P ? (int32_t)pr[i].v[j] : j < P + L ? (int32_t)g[i].ids[j - P] :
				(int32_t)p->eot;
			y[j] = j >= P - 1 && j < P - 1 + L ? (int32_t)g[i].ids[j - P + 1] : -1;
		}
		p->plen[i] = P;
		p->chat[i] = (uint8_t)chat[i];
		p->ended[i] = g[i].finish == LM_GEN_EOT;
		b->at[i] = ntok;
		b->len[i] = L;
		ntok += L;
		lm_gen_free(&g[i]);
		cm_ids_free(&pr[i]);
	}
	free(g);
	free(pr);
	free(chat);
	/* the forward passes, a minibatch of rows at a time */
	int M = o->mini < n ? o->mini : n, *rows = cm_xmalloc((size_t)M * sizeof *rows);
	double ent = 0;
	for (int r0 = 0; r0 < n; r0 += M) {
		int k = n - r0 < M ? n - r0 : M;
		for (int i = 0; i < k; i++)
			rows[i] = r0 + i;
		gather(p, rows, k);
		logprobs(p, p->pol, rows, k, 0, b->lp, &ent);
		logprobs(p, p->ref, rows, k, 0, b->ref, NULL);
		if (train)
			values(p, rows, k, b->value);
		scores(p, rows, k, b->score);
	}
	free(rows);
	double kl = 0, kl2 = 0, nlp = 0, sc = 0, sc2 = 0, ended = 0;
	for (int i = 0; i < n; i++) {
		if (!p->ended[i])
			b->score[i] -= (float)o->eot_penalty;
		else
			ended++;
		double k = 0;
		for (int t = 0; t < b->len[i]; t++) {
			k += (double)b->lp[b->at[i] + t] - b->ref[b->at[i] + t];
			nlp -= b->lp[b->at[i] + t];
		}
		kl += k;
		kl2 += k * k;
		sc += b->score[i];
		sc2 += (double)b->score[i] * b->score[i];
	}
	if (train)
		lm_ppo_advantages(b, p->kl_coef, o->gamma, o->lam, 1);
	st->n += n;
	st->kl += kl;
	st->kl_sq += kl2;
	st->entropy += nlp;
	st->token_entropy += ent;
	st->scores += sc;
	st->scores_sq += sc2;
	st->non_score += -p->kl_coef * kl;
	st->len += (double)b->ntok;
	st->ended += ended;
	st->cut += cut;
	if (!train)
		return;
	double rm, vmn;
	st->ret_var = var_of(b->ret, b->ntok, &rm);
	st->ret_mean = rm;
	st->val_var = var_of(b->value, b->ntok, &vmn);
	st->val_mean = vmn;
}

/* ---- a minibatch ---- */

double lm_ppo_minibatch(lm_ppo *p, const int *rows, int k, lm_ppo_stats *st)
{
	const lm_ppo_opts *o = &p->o;
	lm_ppo_batch *b = &p->b;
	int Tb = p->Tb, Vp = p->pol->cfg.vocab_padded;
	/* the minibatch's tokens in the batch's order, new log-probabilities in nlp */
	int64_t N = 0;
	for (int i = 0; i < k; i++)
		N += b->len[rows[i]];
	float *nlp = cm_xmalloc((size_t)(b->ntok > 0 ? b->ntok : 1) * sizeof *nlp);
	gather(p, rows, k);
	logprobs(p, p->pol, rows, k, 1.0f, nlp, NULL);	/* logits := softmax - onehot */
	double pg = 0, vf = 0;
	const kn_ops *K = p->pol->be->ops;
	for (int i = 0; i < k; i++) {
		int r = rows[i];
		int64_t a = b->at[r];
		pg += lm_ppo_policy_loss(b->len[r], nlp + a, b->lp + a, b->adv + a, o->clip,
					 p->g + a, st);
		/* d loss / d logits = g / N x d lp / d logits = -(g / N / temperature) x
		 * (softmax - onehot) */
		for (int t = 0; t < b->len[r]; t++) {
			int64_t shape[2] = { 1, Vp };
			int64_t row = (int64_t)i * Tb + p->plen[r] - 1 + t;
			kn_tensor *v = kn_view(lm_logits(p->pol), row * Vp, 2, shape);
			K->scale(v, (float)(-p->g[a + t] / (double)N / o->temperature));
			kn_free(v);
		}
	}
	lm_backward(p->pol);
	/* the value model */
	float *nv = nlp;	/* reused: the log-probabilities are done with */
	values(p, rows, k, nv);
	memset(p->vals, 0, (size_t)k * Tb * sizeof *p->vals);
	for (int i = 0; i < k; i++) {
		int r = rows[i];
		int64_t a = b->at[r];
		vf += lm_ppo_value_loss(b->len[r], nv + a, b->value + a, b->ret + a, o->clip_value,
					p->g + a, st);
		float *d = p->vals + (size_t)i * Tb + p->plen[r] - 1;
		for (int t = 0; t < b->len[r]; t++)
			d[t] = (float)(o->vf_coef * p->g[a + t] / (double)N);
	}
	lm_head_grad(p->vm, p->vals);
	lm_backward(p->vm);
	free(nlp);
	return (pg + o->vf_coef * vf) / (double)N;
}
