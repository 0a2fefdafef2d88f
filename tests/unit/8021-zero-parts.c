/* 8021-zero-parts.c - ZeRO-1 without MPI: models holding AdamW's moments of one part of the
 * parameters each (lm_model_new_part: 2, 3 and 7 parts; 3 and 7 do not divide the count)
 * allocate only their part, and their AdamW steps, put side by side, are the
 * steps of one model holding all of it, bit for bit: weights and moments, parts that cross
 * from the decayed parameters to the rest included. A checkpoint whose moments come from the
 * parts (lm_moments, several 4 MiB pieces) is the file the whole model writes, and each part
 * loads its own moments back from it. kn_part's split, fewer elements than parts included. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"		/* trainer/model.h (a filter has a model.h too) */
#include "cli.h"
#include "kernels.h"
#include "optim.h"
#include "tap.h"

#define STEPS 3

static lm_config cfg;
static kn_backend *be;

/* the gradients of step s: the same on every model */
static void grads(lm_model *m, int s, float *g)
{
	for (int64_t i = 0; i < m->nparams; i++)
		g[i] = (float)(((i * 7919 + s * 104729) % 2001) - 1000) / 512.0f;
	kn_upload(m->grads, g, (size_t)m->nparams * sizeof *g);
}

static lm_model *stepped(lm_model *m, float *g)
{
	lm_model_init(m, 7);
	lm_adamw a;
	lm_adamw_opts o = { .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1,
			    .clip = 1.0 };
	lm_adamw_init(&a, m, &o);
	for (int s = 1; s <= STEPS; s++) {
		grads(m, s, g);
		/* a norm above the clip: gscale < 1 */
		lm_adamw_step(&a, 1e-2, 3.0 + s, s);
	}
	lm_adamw_free(&a);
	return m;
}

/* parts side by side: weights, m and v of each part's range */
typedef struct whole {
	float *w, *m, *v;
} whole;

static int rm_one(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	return remove(p);
}

/* lm_moments from the part models, as rank 0's gather would give them */
typedef struct parts {
	lm_model **pm;
	int n;
	int calls;
} parts;

static void parts_get(void *ctx, int which, int64_t off, int64_t n, float *buf)
{
	parts *p = ctx;
	p->calls++;
	for (int i = 0; i < p->n; i++) {
		lm_model *m = p->pm[i];
		int64_t a = m->mlo > off ? m->mlo : off;
		int64_t b = m->mlo + m->mn < off + n ? m->mlo + m->mn : off + n;
		if (b > a)
			be->ops->download(which ? m->v : m->m, buf + (a - off),
					  (size_t)(b - a) * sizeof(float),
					  (size_t)(a - m->mlo) * sizeof(float));
	}
}

int main(void)
{
	cm_init("8021-zero-parts");
	char err[4096];
	be = kn_open("cpu", 1, err, sizeof err);
	/* a model of more than a million parameters: several 4 MiB pieces of moments */
	lm_config_load(&cfg, "tiny", 300, err, sizeof err);
	cfg.layers = 2;
	cfg.dim = 256;
	cfg.heads = 4;
	cfg.kv_heads = 4;
	cfg.head_dim = 64;
	cfg.hidden = 1024;
	cfg.ctx = 64;
	if (lm_config_check(&cfg, err, sizeof err) < 0)
		printf("# %s\n", err);

	int64_t before = be->bytes;
	lm_model *full = lm_model_new(be, &cfg, 1);
	int64_t P = full->nparams, fullbytes = be->bytes - before;
	float *g = cm_xmalloc((size_t)P * sizeof *g);
	stepped(full, g);
	ok(P > (1 << 20), "%lld parameters, %lld decayed", (long long)P, (long long)full->ndecay);
	whole want = { cm_xmalloc((size_t)P * 4), cm_xmalloc((size_t)P * 4), cm_xmalloc((size_t)P * 4) };
	kn_download(full->params, want.w, (size_t)P * 4);
	kn_download(full->m, want.m, (size_t)P * 4);
	kn_download(full->v, want.v, (size_t)P * 4);

	/* the whole model's checkpoint */
	char tmpl[] = "/tmp/c2lm-8021-XXXXXX", p[4300], q[4300];
	char *tmp = mkdtemp(tmpl);
	snprintf(p, sizeof p, "%s/full", tmp);
	mkdir(p, 0755);
	lm_state st = { .step = STEPS };
	json_t *opts = json_object();
	ok(lm_ckpt_write(p, full, NULL, NULL, &st, opts, err, sizeof err) == 0,
	   "the whole model's checkpoint (%s)", err);

	const int ns[] = { 2, 3, 7 };
	for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
		int n = ns[k];
		lm_model **pm = cm_xcalloc((size_t)n, sizeof *pm);
		whole got = { cm_xmalloc((size_t)P * 4), cm_xmalloc((size_t)P * 4), cm_xmalloc((size_t)P * 4) };
		int crossing = 0, mem_ok = 1;
		for (int i = 0; i < n; i++) {
			int64_t b0 = be->bytes;
			pm[i] = lm_model_new_part(be, &cfg, i, n);
			lm_model *m = pm[i];
			/* the part's moments only */
			mem_ok &= be->bytes - b0 == fullbytes - 8 * P + 8 * m->mn;
			crossing += m->mlo < m->ndecay && m->mlo + m->mn > m->ndecay;
			stepped(m, g);
			float *w = cm_xmalloc((size_t)P * 4);
			kn_download(m->params, w, (size_t)P * 4);
			memcpy(got.w + m->mlo, w + m->mlo, (size_t)m->mn * 4);
			free(w);
			kn_download(m->m, got.m + m->mlo, (size_t)m->mn * 4);
			kn_download(m->v, got.v + m->mlo, (size_t)m->mn * 4);
		}
		printf("# %d parts of %lld parameters: %lld each, the last %lld more\n", n,
		       (long long)P, (long long)(P / n), (long long)(P % n));
		ok(mem_ok, "%d parts: each allocates the moments of its part only", n);
		ok(crossing == 1, "  one part crosses from the decayed parameters to the rest");
		ok(!memcmp(got.w, want.w, (size_t)P * 4), "  their weights side by side are the whole "
		   "model's, bit for bit");
		ok(!memcmp(got.m, want.m, (size_t)P * 4) && !memcmp(got.v, want.v, (size_t)P * 4),
		   "  so are their moments");

		/* every part model gets the whole weights (lm-train's all-gather) */
		for (int i = 0; i < n; i++) {
			kn_upload(pm[i]->params, want.w, (size_t)P * 4);
			lm_params_changed(pm[i]);
		}
		/* a checkpoint with the moments from the parts: the same file */
		lm_model *w0 = pm[0];
		err[0] = 0;
		parts src = { pm, n, 0 };
		lm_moments mo = { parts_get, &src };
		snprintf(p, sizeof p, "%s/parts%d", tmp, n);
		mkdir(p, 0755);
		/* the weights are the same in every part model: any one writes them */
		ok(lm_ckpt_write(p, w0, &mo, NULL, &st, opts, err, sizeof err) == 0,
		   "  a checkpoint with the moments gathered from the parts (%s)", err);
		int pieces = (int)(2 * ((P * 4 + (4 << 20) - 1) / (4 << 20)));
		is_int(src.calls, pieces, "  asked for %d pieces of 4 MiB", pieces);
		char a[4400], b[4400];
		snprintf(a, sizeof a, "%s/full/optimizer.safetensors", tmp);
		snprintf(b, sizeof b, "%s/optimizer.safetensors", p);
		size_t na, nb;
		uint64_t ha, hb;
		ok(lm_file_xxh3(a, &na, &ha, err, sizeof err) == 0 &&
		   lm_file_xxh3(b, &nb, &hb, err, sizeof err) == 0 && na == nb && ha == hb,
		   "  optimizer.safetensors is the whole model's, byte for byte");
		snprintf(q, sizeof q, "%s/full", tmp);
		json_t *t = lm_ckpt_trainer(p, err, sizeof err);
		json_t *tf = lm_ckpt_trainer(q, err, sizeof err);
		ok(t && tf && json_equal(json_object_get(t, "optimizer_xxh3"),
					 json_object_get(tf, "optimizer_xxh3")),
		   "  with the same hash in trainer.json");

		/* each part loads its moments back from the whole model's checkpoint */
		int loaded = 1;
		for (int i = 0; i < n; i++) {
			lm_model *m = pm[i];
			be->ops->zero(m->m);
			be->ops->zero(m->v);
			lm_state s2;
			if (lm_ckpt_load_state(q, tf, m, &s2, err, sizeof err) < 0) {
				printf("# part %d: %s\n", i, err);
				loaded = 0;
				continue;
			}
			float *x = cm_xmalloc((size_t)m->mn * 4);
			kn_download(m->m, x, (size_t)m->mn * 4);
			loaded &= !memcmp(x, want.m + m->mlo, (size_t)m->mn * 4);
			kn_download(m->v, x, (size_t)m->mn * 4);
			loaded &= !memcmp(x, want.v + m->mlo, (size_t)m->mn * 4) && s2.step == STEPS;
			free(x);
		}
		ok(loaded, "  each part loads its own moments from the whole model's checkpoint");
		json_decref(t);
		json_decref(tf);
		for (int i = 0; i < n; i++)
			lm_model_free(pm[i]);
		free(pm);
		free(got.w);
		free(got.m);
		free(got.v);
	}

	/* kn_part: n / size each, the last the rest; fewer elements than parts: all but the
	 * last empty */
	const int64_t sp[][5] = { /* n, size, rank, lo, cnt */
		{ 10, 3, 0, 0, 3 }, { 10, 3, 1, 3, 3 }, { 10, 3, 2, 6, 4 }, { 9232, 3, 2, 6154, 3078 },
		{ 2, 4, 0, 0, 0 }, { 2, 4, 2, 0, 0 }, { 2, 4, 3, 0, 2 }, { 7, 1, 0, 0, 7 } };
	for (size_t i = 0; i < sizeof sp / sizeof *sp; i++) {
		int64_t lo, cnt;
		kn_part(sp[i][0], (int)sp[i][2], (int)sp[i][1], &lo, &cnt);
		ok(lo == sp[i][3] && cnt == sp[i][4], "kn_part: %lld elements, rank %lld of %lld: "
		   "[%lld, +%lld)", (long long)sp[i][0], (long long)sp[i][2], (long long)sp[i][1],
		   (long long)lo, (long long)cnt);
	}

	/* a damaged moment in the part a model loads: refused */
	lm_model *m = lm_model_new_part(be, &cfg, 1, 2);
	kn_upload(m->params, want.w, (size_t)P * 4);
	snprintf(p, sizeof p, "%s/full", tmp);
	json_t *tf = lm_ckpt_trainer(p, err, sizeof err);
	json_object_set_new(tf, "optimizer_xxh3", json_string("0123456789abcdef"));
	lm_state s2;
	ok(lm_ckpt_load_state(p, tf, m, &s2, err, sizeof err) < 0 && strstr(err, "optimizer") &&
	   strstr(err, "checksum"),
	   "a part's moments against a hash that is not theirs: refused (%s)", err);
	json_decref(tf);
	lm_model_free(m);

	json_decref(opts);
	lm_model_free(full);
	free(g);
	free(want.w);
	free(want.m);
	free(want.v);
	if (nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		printf("# cannot remove %s\n", tmp);
	kn_close(be);
	return tap_done();
}
