/* model.c - the transformer's parameters, forward, backward and decoding step (its
 * configuration and the names of its tensors: config.c).
 *
 * Forward and backward follow llm.c's layout: a residual stream per layer kept for the
 * backward, one gradient buffer for the residual stream that each layer's backward adds into.
 *
 *   x0 = embed(tokens)                        (GPT-2: + positions)
 *   per layer: h = norm1(x); qkv = h Wqkv (+ rope); a = attention(qkv); x' = x + a Wo
 *              h = norm2(x'); f = act(h Wfc); x'' = x' + f Wproj
 *   logits = norm_f(x) Whead                  (Whead = Wte when tied)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kmath.h"
#include "model.h"
#include "rand.h"

/* Hugging Face names */

const lm_hf_tensor *lm_hf_find(const lm_model *m, const char *name)
{
	for (int i = 0; i < m->nhf; i++)
		if (!strcmp(m->hf[i].name, name))
			return &m->hf[i];
	/* GPT-2 checkpoints from the hub name GPT2Model's tensors without "transformer." */
	if (m->cfg.style == LM_GPT2 && strncmp(name, "transformer.", 12)) {
		char nm[128];
		snprintf(nm, sizeof nm, "transformer.%s", name);
		for (int i = 0; i < m->nhf; i++)
			if (!strcmp(m->hf[i].name, nm))
				return &m->hf[i];
	}
	return NULL;
}

void lm_hf_get(lm_model *m, const lm_hf_tensor *h, kn_tensor *flat, float *dst)
{
	const lm_param *p = &m->p[h->param];
	size_t n = (size_t)(h->rows * h->cols);
	float *tmp = cm_xmalloc(n * sizeof(float));
	flat->be->ops->download(flat, tmp, n * sizeof(float),
				(size_t)(p->off + h->row0 * h->cols) * sizeof(float));
	if (h->transpose) {
		for (int64_t r = 0; r < h->rows; r++)
			for (int64_t c = 0; c < h->cols; c++)
				dst[c * h->rows + r] = tmp[r * h->cols + c];
	} else {
		memcpy(dst, tmp, n * sizeof(float));
	}
	free(tmp);
}

void lm_hf_set(lm_model *m, const lm_hf_tensor *h, kn_tensor *flat, const float *src)
{
	const lm_param *p = &m->p[h->param];
	size_t n = (size_t)(h->rows * h->cols);
	float *tmp = cm_xmalloc(n * sizeof(float));
	if (h->transpose) {
		for (int64_t r = 0; r < h->rows; r++)
			for (int64_t c = 0; c < h->cols; c++)
				tmp[r * h->cols + c] = src[c * h->rows + r];
	} else {
		memcpy(tmp, src, n * sizeof(float));
	}
	flat->be->ops->upload(flat, tmp, n * sizeof(float),
			      (size_t)(p->off + h->row0 * h->cols) * sizeof(float));
	free(tmp);
}

/* Activations */

struct lm_acts {
	int B, T, decode;
	int pos_given, doc_given, pre_given, prefill;
	const int64_t *sel;	/* lm_forward_select's runs (first position, count), or NULL */
	int nsel;
	int nstore;		/* inference: tensors taken from the model's store so far */
	kn_tensor *tok, *tgt, *pos, *doc, *pre;
	kn_tensor **resid, **ln1, **ln1_mean, **ln1_rstd, **qkv, **att, **lse, **resmid, **ln2,
		**ln2_mean, **ln2_rstd, **fch, **fca, **mlp, **attproj;
	kn_tensor *resf, *lnf, *lnf_mean, *lnf_rstd, *logits, *losses;
	/* backward scratch */
	kn_tensor *dres, *dln, *dqkv, *datt, *dfch, *dfca;
};

static kn_tensor **tarr(int n)
{
	return cm_xcalloc(n, sizeof(kn_tensor *));
}

/* An activation tensor. Inference takes views of the model's store, a list of tensors kept
 * from one shape to the next (the k-th tensor asked for is a view of the k-th stored one,
 * replaced when too small): forward passes of changing shapes (batches sorted by length,
 * prefill then decoding) allocate once, not every pass. Training allocates its own. */
static kn_tensor *act(lm_model *m, lm_acts *a, int training, kn_dtype dt, int ndim,
		      const int64_t *shape)
{
	if (training)
		return kn_new(m->be, dt, ndim, shape);
	int64_t n = 1;
	for (int d = 0; d < ndim; d++)
		n *= shape[d];
	int k = a->nstore++;
	if (k >= m->nstore) {
		m->store = cm_xrealloc(m->store, (size_t)(k + 1) * sizeof *m->store);
		m->store[k] = NULL;
		m->nstore = k + 1;
	}
	kn_tensor *st = m->store[k];
	if (!st || st->dtype != dt || st->n < n) {
		kn_free(st);
		m->store[k] = st = kn_new1(m->be, dt, n);
	}
	return kn_view(st, 0, ndim, shape);
}

static void store_free(lm_model *m)
{
	for (int k = 0; k < m->nstore; k++)
		kn_free(m->store[k]);
	free(m->store);
	m->store = NULL;
	m->nstore = 0;
}

static lm_acts *acts_new(lm_model *m, int B, int T, int training)
{
	const lm_config *c = &m->cfg;
	int64_t N = (int64_t)B * T, C = c->dim, L = c->layers;
	int64_t A = (int64_t)c->heads * c->head_dim, H = c->hidden;
	int64_t fw = c->style == LM_GPT2 ? H : 2 * H;
	int ln = c->style == LM_GPT2;
	lm_acts *a = cm_xcalloc(1, sizeof *a);
#define A1(dt, n0) act(m, a, training, (dt), 1, (int64_t[1]){ (n0) })
#define A2(dt, n0, n1) act(m, a, training, (dt), 2, (int64_t[2]){ (n0), (n1) })
	kn_dtype D = m->adt;	/* activations; statistics and losses stay fp32 */
	a->B = B;
	a->T = T;
	a->tok = A1(KN_I32, N);
	a->tgt = A1(KN_I32, N);
	a->pos = A1(KN_I32, N);
	a->doc = A1(KN_I32, N);
	a->pre = A1(KN_I32, N);
	a->resid = tarr(L); a->ln1 = tarr(L); a->ln1_mean = tarr(L); a->ln1_rstd = tarr(L);
	a->qkv = tarr(L); a->att = tarr(L); a->lse = tarr(L); a->resmid = tarr(L);
	a->ln2 = tarr(L); a->ln2_mean = tarr(L); a->ln2_rstd = tarr(L); a->fch = tarr(L);
	a->fca = tarr(L); a->mlp = tarr(L); a->attproj = tarr(L);
	/* inference keeps one layer's activations and reuses them for every layer */
	for (int64_t l = 0; l < L; l++) {
		if (!training && l > 0) {
			a->resid[l] = A2(D, N, C);
			a->ln1[l] = a->ln1[0]; a->ln1_mean[l] = a->ln1_mean[0];
			a->ln1_rstd[l] = a->ln1_rstd[0]; a->qkv[l] = a->qkv[0]; a->att[l] = a->att[0];
			a->lse[l] = a->lse[0]; a->resmid[l] = a->resmid[0]; a->ln2[l] = a->ln2[0];
			a->ln2_mean[l] = a->ln2_mean[0]; a->ln2_rstd[l] = a->ln2_rstd[0];
			a->fch[l] = a->fch[0]; a->fca[l] = a->fca[0]; a->mlp[l] = a->mlp[0];
			a->attproj[l] = a->attproj[0];
			continue;
		}
		a->resid[l] = A2(D, N, C);
		a->ln1[l] = A2(D, N, C);
		a->ln1_mean[l] = ln ? A1(KN_F32, N) : NULL;
		a->ln1_rstd[l] = A1(KN_F32, N);
		a->qkv[l] = A2(D, N, lm_qkv_width(c));
		a->att[l] = A2(D, N, A);
		a->lse[l] = A1(KN_F32, (int64_t)B * c->heads * T);
		a->resmid[l] = A2(D, N, C);
		a->attproj[l] = A2(D, N, C);
		a->ln2[l] = A2(D, N, C);
		a->ln2_mean[l] = ln ? A1(KN_F32, N) : NULL;
		a->ln2_rstd[l] = A1(KN_F32, N);
		a->fch[l] = A2(D, N, fw);
		a->fca[l] = A2(D, N, H);
		a->mlp[l] = A2(D, N, C);
	}
	a->resf = A2(D, N, C);
	a->lnf = A2(D, N, C);
	a->lnf_mean = ln ? A1(KN_F32, N) : NULL;
	a->lnf_rstd = A1(KN_F32, N);
	a->logits = A2(D, N, lm_out_width(c));
	a->losses = A1(KN_F32, N);
	if (training) {
		a->dres = A2(D, N, C);
		a->dln = A2(D, N, C);
		a->dqkv = A2(D, N, lm_qkv_width(c));
		a->datt = A2(D, N, A);
		a->dfch = A2(D, N, fw);
		a->dfca = A2(D, N, H);
	}
#undef A1
#undef A2
	return a;
}

/* Bytes acts_new allocates, term by term the same (tests/unit/8050-memory.c checks the sum
 * against what the backend counts). In double: options and configs may ask for more than
 * int64_t holds. */
double lm_acts_bytes(const lm_config *c, int B, int T, int training, kn_dtype adt)
{
	double N = (double)B * T, C = c->dim, L = c->layers, H = c->hidden;
	double A = (double)c->heads * c->head_dim, q = lm_qkv_width(c);
	double fw = c->style == LM_GPT2 ? H : 2 * H, ln = c->style == LM_GPT2;
	double D = (double)kn_dtype_size(adt), F = 4;
	/* one layer's: resid ln1 qkv att resmid attproj ln2 fch fca mlp; norm statistics; lse */
	double layer = N * D * (C + C + q + A + C + C + C + fw + H + C) + N * F * 2 * (1 + ln) +
		       N * c->heads * F;
	double b = 5 * N * 4;			/* tok, tgt, pos, doc, pre */
	b += training ? L * layer : layer + (L - 1) * N * D * C;
	b += N * D * 2 * C + N * F * (1 + ln);	/* resf, lnf, its statistics */
	b += N * D * lm_out_width(c) + N * F;	/* logits (a classifier's scores), losses */
	if (training)
		b += N * D * (C + C + q + A + fw + H);	/* dres dln dqkv datt dfch dfca */
	return b;
}

static void acts_free(lm_model *m, lm_acts *a)
{
	if (!a)
		return;
	kn_tensor ***arrs[] = { &a->resid, &a->ln1, &a->ln1_mean, &a->ln1_rstd, &a->qkv, &a->att,
		&a->lse, &a->resmid, &a->ln2, &a->ln2_mean, &a->ln2_rstd, &a->fch, &a->fca, &a->mlp,
		&a->attproj };
	for (size_t k = 0; k < sizeof arrs / sizeof *arrs; k++) {
		kn_tensor **v = *arrs[k];
		for (int l = 0; l < m->cfg.layers; l++)
			if (v[l] && (l == 0 || v[l] != v[0]))
				kn_free(v[l]);
		free(v);
	}
	kn_tensor *one[] = { a->tok, a->tgt, a->pos, a->doc, a->pre, a->resf, a->lnf, a->lnf_mean,
		a->lnf_rstd, a->logits, a->losses, a->dres, a->dln, a->dqkv, a->datt, a->dfch,
		a->dfca };
	for (size_t k = 0; k < sizeof one / sizeof *one; k++)
		kn_free(one[k]);
	free(a);
}

/* Model */

static kn_tensor **slot(lm_weights *w, const lm_param *p)
{
	return p->layer < 0 ? &w->g[p->field] : &w->l[p->layer][p->field];
}

static void make_views(lm_model *m, lm_weights *w, kn_tensor *flat)
{
	w->l = cm_xcalloc(m->cfg.layers, sizeof *w->l);
	for (int i = 0; i < m->np; i++)
		*slot(w, &m->p[i]) = kn_view(flat, m->p[i].off, m->p[i].ndim, m->p[i].shape);
}

static void free_views(lm_model *m, lm_weights *w)
{
	for (int i = 0; i < m->np; i++)
		kn_free(*slot(w, &m->p[i]));
	free(w->l);
}

static lm_model *model_new(kn_backend *be, const lm_config *cfg, int part, int parts)
{
	lm_model *m = cm_xcalloc(1, sizeof *m);
	m->cfg = *cfg;
	m->be = be;
	m->p = lm_config_params(cfg, &m->np);
	m->nparams = m->p[m->np - 1].off + m->p[m->np - 1].n;
	for (int i = 0; i < m->np; i++)
		if (m->p[i].decay)
			m->ndecay = m->p[i].off + m->p[i].n;
	m->params = kn_new1(be, KN_F32, m->nparams);
	make_views(m, &m->w, m->params);
	m->adt = KN_F32;
	if (parts > 0) {	/* training: the gradients and AdamW's moments (inference: none) */
		m->grads = kn_new1(be, KN_F32, m->nparams);
		make_views(m, &m->gw, m->grads);
		kn_part(m->nparams, part, parts, &m->mlo, &m->mn);
		/* an empty part: a tensor of one, unused (m stays non-NULL: training) */
		m->m = kn_new1(be, KN_F32, m->mn > 0 ? m->mn : 1);
		m->v = kn_new1(be, KN_F32, m->mn > 0 ? m->mn : 1);
	}
	m->hf = lm_config_hf(cfg, m->p, m->np, &m->nhf);
	return m;
}

lm_model *lm_model_new(kn_backend *be, const lm_config *cfg, int training)
{
	return model_new(be, cfg, 0, training ? 1 : 0);
}

lm_model *lm_model_new_part(kn_backend *be, const lm_config *cfg, int part, int parts)
{
	if (parts < 1 || part < 0 || part >= parts)
		cm_die("model: part %d of %d", part, parts);
	return model_new(be, cfg, part, parts);
}

double lm_state_bytes(const lm_config *c, int training, kn_dtype adt)
{
	double P = (double)lm_config_nparams(c);
	/* params; grads, AdamW's m and v (training); the bf16 copy */
	return 4 * P + (training ? 12 * P : 0) + (adt == KN_BF16 ? 2 * P : 0);
}

double lm_kv_bytes(const lm_config *c, int B, int Tmax, kn_dtype adt)
{
	return 2.0 * c->layers * B * Tmax * c->kv_heads * c->head_dim * (double)kn_dtype_size(adt);
}

void lm_model_free(lm_model *m)
{
	if (!m)
		return;
	acts_free(m, m->acts);
	store_free(m);
	free_views(m, &m->w);
	kn_free(m->wlow);
	if (m->grads)
		free_views(m, &m->gw);
	kn_free(m->params);
	kn_free(m->grads);
	kn_free(m->m);
	kn_free(m->v);
	lm_kv_free(m);
	free(m->p);
	free(m->hf);
	free(m);
}

/* splitmix64 seeding xoshiro256**, Box-Muller normals */
typedef struct rng {
	uint64_t s[4];
} rng;

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next(rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

static double uniform(rng *r)
{
	return ((next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

void lm_model_init(lm_model *m, uint64_t seed)
{
	const lm_config *c = &m->cfg;
	rng r;
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r.s[i] = cm_splitmix64(&x);
	float *host = cm_xcalloc((size_t)m->nparams, sizeof(float));
	double resid_std = 0.02 / sqrt(2.0 * c->layers);
	for (int i = 0; i < m->np; i++) {
		const lm_param *p = &m->p[i];
		float *w = host + p->off;
		int f = p->field;
		if (p->ndim == 1) {
			int is_w = p->layer < 0 ? f == P_LNF_W : (f == P_LN1_W || f == P_LN2_W);
			for (int64_t k = 0; k < p->n; k++)
				w[k] = is_w ? 1.0f : 0.0f;
			continue;
		}
		double sd = p->layer >= 0 && (f == P_O_W || f == P_PROJ_W) ? resid_std : 0.02;
		int64_t n = p->n;
		if (p->layer < 0 && (f == P_WTE || f == P_HEAD))	/* padded rows stay zero */
			n = (int64_t)c->vocab * c->dim;
		for (int64_t k = 0; k < n; k += 2) {
			double u1 = uniform(&r), u2 = uniform(&r), rad = sqrt(-2.0 * log(u1));
			w[k] = (float)(sd * rad * cos(2 * M_PI * u2));
			if (k + 1 < n)
				w[k + 1] = (float)(sd * rad * sin(2 * M_PI * u2));
		}
	}
	kn_upload(m->params, host, (size_t)m->nparams * sizeof(float));
	free(host);
	lm_params_changed(m);
}

void lm_model_set_precision(lm_model *m, kn_dtype dt)
{
	if (dt == m->adt)
		return;
	if (dt != KN_F32 && dt != KN_BF16)
		cm_die("model: precision must be fp32 or bf16");
	acts_free(m, m->acts);
	m->acts = NULL;
	store_free(m);
	lm_kv_free(m);
	free_views(m, &m->w);
	kn_free(m->wlow);
	m->wlow = NULL;
	m->adt = dt;
	if (dt == KN_F32) {
		make_views(m, &m->w, m->params);
		return;
	}
	m->wlow = kn_new1(m->be, dt, m->nparams);
	make_views(m, &m->w, m->wlow);
	lm_params_changed(m);
}

void lm_params_changed(lm_model *m)
{
	if (m->wlow)
		m->be->ops->cast(m->wlow, m->params);
}

static void ensure_acts(lm_model *m, int B, int T, int decode)
{
	int training = m->m != NULL && !decode;
	if (m->acts && m->acts->B == B && m->acts->T == T && m->acts->decode == decode)
		return;
	acts_free(m, m->acts);
	m->acts = acts_new(m, B, T, training);
	m->acts->decode = decode;
	m->B = B;
	m->T = T;
}

kn_tensor *lm_logits(lm_model *m)
{
	return m->acts->logits;
}

void lm_logits_get(lm_model *m, int64_t row0, int64_t rows, float *dst)
{
	const kn_tensor *lg = m->acts->logits;
	int64_t Vp = lm_out_width(&m->cfg), n = rows * Vp;
	size_t es = kn_dtype_size(lg->dtype);
	if (row0 < 0 || rows < 0 || (row0 + rows) * Vp > lg->n)
		cm_die("model: logits rows [%lld, +%lld) outside the last forward",
		       (long long)row0, (long long)rows);
	if (lg->dtype == KN_F32) {
		lg->be->ops->download(lg, dst, (size_t)n * es, (size_t)(row0 * Vp) * es);
		return;
	}
	uint16_t *h = cm_xmalloc((size_t)n * es);
	lg->be->ops->download(lg, h, (size_t)n * es, (size_t)(row0 * Vp) * es);
	for (int64_t i = 0; i < n; i++)
		dst[i] = kn_f32_from_bf16(h[i]);
	free(h);
}

static void forward(lm_model *m, const int32_t *host_pos)
{
	const lm_config *c = &m->cfg;
	const kn_ops *K = m->be->ops;
	lm_acts *a = m->acts;
	lm_weights *w = &m->w;
	int T = a->T, L = c->layers, g = c->style == LM_GPT2;
	kn_attn_shape s = { a->B, T, c->heads, c->kv_heads, c->head_dim };
	const kn_tensor *pos = a->pos_given ? a->pos : NULL;
	const kn_tensor *doc = a->doc_given ? a->doc : NULL;
	const kn_tensor *pre = a->pre_given ? a->pre : NULL;
	K->embed(a->resid[0], a->tok, pos, w->g[P_WTE], g ? w->g[P_WPE] : NULL, T);
	for (int l = 0; l < L; l++) {
		kn_tensor **W = w->l[l];
		if (l == 0)
			K->residual_norm(a->resid[0], a->ln1[0], a->ln1_mean[0], a->ln1_rstd[0], NULL,
					 NULL, W[P_LN1_W], W[P_LN1_B], c->norm_eps);
		else
			K->residual_norm(a->resid[l], a->ln1[l], a->ln1_mean[l], a->ln1_rstd[l],
					 a->resmid[l - 1], a->mlp[l - 1], W[P_LN1_W], W[P_LN1_B],
					 c->norm_eps);
		K->matmul(a->qkv[l], a->ln1[l], W[P_QKV_W], W[P_QKV_B]);
		if (!g)
			K->rope(a->qkv[l], pos, &s, c->rope_theta, 0);
		if (a->prefill)
			K->kv_store(m->kcl[l], m->vcl[l], a->qkv[l], &s, m->kv_T);
		if (a->decode)
			K->attention_decode(a->att[l], a->qkv[l], m->kcl[l], m->vcl[l], host_pos, &s,
					    m->kv_T);
		else
			K->attention(a->att[l], a->lse[l], a->qkv[l], doc, pre, &s);
		K->matmul(a->attproj[l], a->att[l], W[P_O_W], W[P_O_B]);
		K->residual_norm(a->resmid[l], a->ln2[l], a->ln2_mean[l], a->ln2_rstd[l], a->resid[l],
				 a->attproj[l], W[P_LN2_W], W[P_LN2_B], c->norm_eps);
		if (g) {
			K->matmul_gelu(a->fca[l], a->fch[l], a->ln2[l], W[P_FC_W], W[P_FC_B]);
		} else {
			K->matmul(a->fch[l], a->ln2[l], W[P_FC_W], W[P_FC_B]);
			K->swiglu(a->fca[l], a->fch[l]);
		}
		K->matmul(a->mlp[l], a->fca[l], W[P_PROJ_W], W[P_PROJ_B]);
	}
	K->residual_norm(a->resf, a->lnf, a->lnf_mean, a->lnf_rstd, a->resmid[L - 1], a->mlp[L - 1],
			 w->g[P_LNF_W], w->g[P_LNF_B], c->norm_eps);
	const kn_tensor *head = c->labels ? w->g[P_SCORE] : c->tied ? w->g[P_WTE] : w->g[P_HEAD];
	if (!a->sel) {
		K->matmul(a->logits, a->lnf, head, NULL);
		return;
	}
	/* the selected positions' normed states gathered into resf (no longer needed: the
	 * selection is for inference), their logits into the first rows of logits */
	int64_t C = c->dim, Vp = lm_out_width(c), n = 0;
	for (int i = 0; i < a->nsel; i++) {
		int64_t len = a->sel[2 * i + 1], sh[1] = { len * C };
		if (!len)
			continue;
		kn_tensor *dst = kn_view(a->resf, n * C, 1, sh), *src = kn_view(a->lnf, a->sel[2 * i] * C, 1, sh);
		K->copy(dst, src);
		kn_free(dst);
		kn_free(src);
		n += len;
	}
	if (!n)
		return;
	int64_t sx[2] = { n, C }, sl[2] = { n, Vp };
	kn_tensor *x = kn_view(a->resf, 0, 2, sx), *lg = kn_view(a->logits, 0, 2, sl);
	K->matmul(lg, x, head, NULL);
	kn_free(x);
	kn_free(lg);
}

static void upload_inputs(lm_model *m, const int32_t *tokens, const int32_t *pos,
			  const int32_t *doc, const int32_t *pre)
{
	lm_acts *a = m->acts;
	size_t n = (size_t)a->B * a->T;
	kn_upload(a->tok, tokens, n * sizeof(int32_t));
	if (pos)
		kn_upload(a->pos, pos, n * sizeof(int32_t));
	if (doc)
		kn_upload(a->doc, doc, n * sizeof(int32_t));
	if (pre)
		kn_upload(a->pre, pre, n * sizeof(int32_t));
	a->pos_given = pos != NULL;
	a->doc_given = doc != NULL;
	a->pre_given = pre != NULL;
}

/* Check the ids, size the activations, upload the inputs. */
static void prepare(lm_model *m, int B, int T, const int32_t *tokens, const int32_t *pos,
		    const int32_t *doc, const int32_t *pre)
{
	int V = m->cfg.vocab;
	size_t n = (size_t)B * T;
	for (size_t i = 0; i < n; i++)
		if (tokens[i] < 0 || tokens[i] >= V)
			cm_die("token id %d outside the model's vocabulary of %d", tokens[i], V);
	ensure_acts(m, B, T, 0);
	upload_inputs(m, tokens, pos, doc, pre);
}

void lm_forward(lm_model *m, int B, int T, const int32_t *tokens, const int32_t *pos,
		const int32_t *doc)
{
	prepare(m, B, T, tokens, pos, doc, NULL);
	forward(m, NULL);
}

void lm_forward_select(lm_model *m, int B, int T, const int32_t *tokens, const int32_t *pos,
		       const int32_t *doc, const int32_t *pre, const int64_t *runs, int nruns)
{
	int64_t N = (int64_t)B * T;
	for (int i = 0; i < nruns; i++)
		if (runs[2 * i] < 0 || runs[2 * i + 1] < 0 || runs[2 * i] + runs[2 * i + 1] > N)
			cm_die("model: positions [%lld, +%lld) outside a %d x %d forward",
			       (long long)runs[2 * i], (long long)runs[2 * i + 1], B, T);
	/* what the kernels take on trust: a learned position table's bounds, documents that
	 * start at or before their token, prefixes that end at or before the document */
	int gpt2 = m->cfg.style == LM_GPT2;
	for (int64_t i = 0; i < N; i++) {
		int64_t t = i % T, d = doc ? doc[i] : 0;
		if (pos && (pos[i] < 0 || (gpt2 && pos[i] >= m->cfg.ctx)))
			cm_die("model: position %d outside the context of %d", pos[i], m->cfg.ctx);
		if (d < 0 || d > t || (pre && (pre[i] < 0 || pre[i] > d)))
			cm_die("model: position %lld of a row: document start %lld, prefix end %d",
			       (long long)t, (long long)d, pre ? pre[i] : 0);
	}
	prepare(m, B, T, tokens, pos, doc, pre);
	m->acts->sel = runs;
	m->acts->nsel = nruns;
	forward(m, NULL);
	m->acts->sel = NULL;
	m->acts->nsel = 0;
}

double lm_loss(lm_model *m, const int32_t *targets, float dscale, float *losses)
{
	lm_acts *a = m->acts;
	size_t n = (size_t)a->B * a->T;
	if (m->cfg.labels)
		cm_die("model: a sequence classifier (%d labels) has no token head", m->cfg.labels);
	for (size_t i = 0; i < n; i++)
		if (targets[i] < -1 || targets[i] >= m->cfg.vocab)
			cm_die("target id %d outside the model's vocabulary of %d", targets[i],
			       m->cfg.vocab);
	kn_upload(a->tgt, targets, n * sizeof(int32_t));
	m->be->ops->xent(a->losses, dscale != 0.0f ? a->logits : NULL, a->logits, a->tgt,
			 m->cfg.vocab, dscale);
	if (losses)
		kn_download(a->losses, losses, n * sizeof(float));
	return m->be->ops->sum(a->losses);
}

void lm_backward(lm_model *m)
{
	const lm_config *c = &m->cfg;
	const kn_ops *K = m->be->ops;
	lm_acts *a = m->acts;
	lm_weights *w = &m->w, *gw = &m->gw;
	int T = a->T, L = c->layers, g = c->style == LM_GPT2;
	kn_attn_shape s = { a->B, T, c->heads, c->kv_heads, c->head_dim };
	if (!a->dres)
		cm_die("model: backward on a model made for inference");
	if (a->pre_given)
		cm_die("model: backward after a forward with shared prefixes (inference only)");
	K->zero(a->dres);
	K->zero(a->dln);
	/* logits = lnf Whead: the gradient of lnf, and of the head (or the tied embedding, or
	 * a classifier's score head) */
	int hf = c->labels ? P_SCORE : c->tied ? P_WTE : P_HEAD;
	K->matmul_bwd(a->dln, gw->g[hf], NULL, a->logits, a->lnf, w->g[hf]);
	K->norm_bwd(a->dres, gw->g[P_LNF_W], gw->g[P_LNF_B], a->dln, a->resf, w->g[P_LNF_W],
		    a->lnf_mean, a->lnf_rstd);
	for (int l = L - 1; l >= 0; l--) {
		kn_tensor **W = w->l[l], **G = gw->l[l];
		/* dres is the gradient of this layer's output, which is resmid + mlp */
		K->zero(a->dfca);
		K->matmul_bwd(a->dfca, G[P_PROJ_W], G[P_PROJ_B], a->dres, a->fca[l], W[P_PROJ_W]);
		K->zero(a->dfch);
		if (g)
			K->gelu_bwd(a->dfch, a->fch[l], a->dfca);
		else
			K->swiglu_bwd(a->dfch, a->fch[l], a->dfca);
		K->zero(a->dln);
		K->matmul_bwd(a->dln, G[P_FC_W], G[P_FC_B], a->dfch, a->ln2[l], W[P_FC_W]);
		K->norm_bwd(a->dres, G[P_LN2_W], G[P_LN2_B], a->dln, a->resmid[l], W[P_LN2_W],
			    a->ln2_mean[l], a->ln2_rstd[l]);
		/* dres is now the gradient of resmid = resid + attproj */
		K->zero(a->datt);
		K->matmul_bwd(a->datt, G[P_O_W], G[P_O_B], a->dres, a->att[l], W[P_O_W]);
		K->zero(a->dqkv);
		K->attention_bwd(a->dqkv, a->datt, a->att[l], a->lse[l], a->qkv[l],
				 a->doc_given ? a->doc : NULL, &s);
		if (!g)
			K->rope(a->dqkv, a->pos_given ? a->pos : NULL, &s, c->rope_theta, 1);
		K->zero(a->dln);
		K->matmul_bwd(a->dln, G[P_QKV_W], G[P_QKV_B], a->dqkv, a->ln1[l], W[P_QKV_W]);
		K->norm_bwd(a->dres, G[P_LN1_W], G[P_LN1_B], a->dln, a->resid[l], W[P_LN1_W],
			    a->ln1_mean[l], a->ln1_rstd[l]);
	}
	K->embed_bwd(gw->g[P_WTE], g ? gw->g[P_WPE] : NULL, a->dres, a->tok,
		     a->pos_given ? a->pos : NULL, T);
}

void lm_kv_free(lm_model *m)
{
	for (int l = 0; m->kcl && l < m->cfg.layers; l++) {
		kn_free(m->kcl[l]);
		kn_free(m->vcl[l]);
	}
	free(m->kcl);
	free(m->vcl);
	kn_free(m->kc);
	kn_free(m->vc);
	m->kcl = m->vcl = NULL;
	m->kc = m->vc = NULL;
}

void lm_kv_reset(lm_model *m, int B, int Tmax)
{
	const lm_config *c = &m->cfg;
	int L = c->layers;
	int64_t KW = (int64_t)c->kv_heads * c->head_dim, per = (int64_t)B * Tmax * KW;
	if (!m->kc || m->kv_B != B || m->kv_T != Tmax) {
		lm_kv_free(m);
		m->kc = kn_new1(m->be, m->adt, per * L);
		m->vc = kn_new1(m->be, m->adt, per * L);
		m->kcl = cm_xcalloc(L, sizeof *m->kcl);
		m->vcl = cm_xcalloc(L, sizeof *m->vcl);
		int64_t shape[3] = { B, Tmax, KW };
		for (int l = 0; l < L; l++) {
			m->kcl[l] = kn_view(m->kc, l * per, 3, shape);
			m->vcl[l] = kn_view(m->vc, l * per, 3, shape);
		}
		m->kv_B = B;
		m->kv_T = Tmax;
	}
	ensure_acts(m, B, 1, 1);
}

void lm_prefill(lm_model *m, const int32_t *tokens, int T, float *last)
{
	int B = m->kv_B;
	if (m->cfg.labels)
		cm_die("model: a sequence classifier (%d labels) does not generate", m->cfg.labels);
	if (T < 1 || T > m->kv_T || (m->cfg.style == LM_GPT2 && T > m->cfg.ctx))
		cm_die("prefill of %d positions: the cache holds %d", T, m->kv_T);
	prepare(m, B, T, tokens, NULL, NULL, NULL);
	/* the logits of each row's last position only */
	int64_t *runs = cm_xmalloc(2 * (size_t)B * sizeof *runs);
	for (int b = 0; b < B; b++) {
		runs[2 * b] = (int64_t)b * T + T - 1;
		runs[2 * b + 1] = 1;
	}
	m->acts->sel = runs;
	m->acts->nsel = B;
	m->acts->prefill = 1;
	forward(m, NULL);
	m->acts->prefill = 0;
	m->acts->sel = NULL;
	m->acts->nsel = 0;
	free(runs);
	lm_logits_get(m, 0, B, last);
}

void lm_decode_step(lm_model *m, const int32_t *tokens, const int32_t *pos, float *out)
{
	int B = m->kv_B;
	if (m->cfg.labels)
		cm_die("model: a sequence classifier (%d labels) does not generate", m->cfg.labels);
	for (int b = 0; b < B; b++) {
		if (pos[b] < 0 || pos[b] >= m->kv_T || (m->cfg.style == LM_GPT2 && pos[b] >= m->cfg.ctx))
			cm_die("decode position %d outside the context", pos[b]);
		if (tokens[b] < 0 || tokens[b] >= m->cfg.vocab)
			cm_die("token id %d outside the model's vocabulary of %d", tokens[b],
			       m->cfg.vocab);
	}
	ensure_acts(m, B, 1, 1);
	upload_inputs(m, tokens, pos, NULL, NULL);
	forward(m, pos);
	lm_logits_get(m, 0, B, out);
}

lm_model *lm_model_grow_vocab(lm_model *old, int vocab, int training)
{
	lm_config c = old->cfg;
	int ov = c.vocab;
	c.vocab = vocab;
	c.vocab_padded = (vocab + 63) / 64 * 64;
	lm_model *m = lm_model_new(old->be, &c, training);
	for (int i = 0; i < m->nhf && i < old->nhf; i++) {
		const lm_hf_tensor *h = &m->hf[i], *o = &old->hf[i];
		int grow = o->rows == ov && h->rows == vocab && !o->transpose && o->cols == h->cols;
		if (!grow && (o->rows != h->rows || o->cols != h->cols))
			cm_die("growing the vocabulary: %s changes shape", h->name);
		float *v = cm_xmalloc((size_t)(h->rows * h->cols) * sizeof(float));
		lm_hf_get(old, o, old->params, v);
		if (grow) {	/* the new rows: the mean of the old ones */
			float *mean = v + (size_t)ov * h->cols;
			for (int64_t k = 0; k < h->cols; k++) {
				double sum = 0;
				for (int r = 0; r < ov; r++)
					sum += v[(size_t)r * h->cols + k];
				mean[k] = (float)(sum / ov);
			}
			for (int r = ov + 1; r < vocab; r++)
				memcpy(v + (size_t)r * h->cols, mean, (size_t)h->cols * sizeof(float));
		}
		lm_hf_set(m, h, m->params, v);
		free(v);
	}
	return m;
}

void lm_head_grad(lm_model *m, const float *d)
{
	kn_tensor *lg = m->acts->logits;
	size_t n = (size_t)lg->n;
	if (lg->dtype == KN_F32) {
		kn_upload(lg, d, n * sizeof(float));
		return;
	}
	uint16_t *h = cm_xmalloc(n * sizeof *h);
	for (size_t i = 0; i < n; i++)
		h[i] = kn_bf16_from_f32(d[i]);
	kn_upload(lg, h, n * sizeof *h);
	free(h);
}

lm_model *lm_model_with_head(lm_model *old, int labels, int training, uint64_t seed)
{
	lm_config c = old->cfg;
	c.labels = labels;
	lm_model *m = lm_model_new(old->be, &c, training);
	lm_model_init(m, seed);	/* the head's weights; the body's come from old */
	for (int i = 0; i < m->nhf; i++) {
		const lm_hf_tensor *h = &m->hf[i], *o = lm_hf_find(old, h->name);
		if (!o)
			continue;	/* the new head */
		if (o->rows != h->rows || o->cols != h->cols)
			cm_die("adding a head: %s changes shape", h->name);
		float *v = cm_xmalloc((size_t)(h->rows * h->cols) * sizeof(float));
		lm_hf_get(old, o, old->params, v);
		lm_hf_set(m, h, m->params, v);
		free(v);
	}
	lm_model_set_precision(m, old->adt);
	lm_params_changed(m);
	return m;
}
