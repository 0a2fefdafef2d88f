/* mixed.c - bf16 tensors for a backend whose operations know only fp32.
 *
 * Every operation of a base table (the CPU backend, or the CUDA backend's plain version) is
 * wrapped: when all its float tensors are fp32 the base runs as it is; when any is bf16, each
 * bf16 tensor is converted into an fp32 temporary (the same temporary when one tensor is passed
 * twice, as xent's logits and dlogits may be), the base operation runs, and the tensors it
 * writes are rounded back to bf16. That is what a mixed-precision kernel does element by
 * element (load bf16, compute in fp32, store bf16), so this serves as the reference the fused
 * CUDA kernels are checked against, runs the bf16 model on the CPU, and makes every CUDA
 * operation's plain version usable in a bf16 run to bisect a failing fused one.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kernels.h"

#define MX_MAX 8

typedef struct mx {
	kn_backend *be;
	const kn_ops *base;
	int n, any;
	const kn_tensor *orig[MX_MAX];
	kn_tensor *tmp[MX_MAX];
	int writes[MX_MAX];
} mx;

static void mx_begin(mx *c, kn_backend *be)
{
	memset(c, 0, sizeof *c);
	c->be = be;
	c->base = be->base;
}

/* The tensor the base operation sees for t; w: the operation writes it. */
static kn_tensor *mx_arg(mx *c, const kn_tensor *t, int w)
{
	if (!t || t->dtype != KN_BF16)
		return (kn_tensor *)t;
	for (int i = 0; i < c->n; i++)
		if (c->orig[i] == t || (c->orig[i]->data == t->data && c->orig[i]->n == t->n)) {
			c->writes[i] |= w;
			return c->tmp[i];
		}
	if (c->n == MX_MAX)
		cm_die("kernels: too many bf16 arguments to one operation");
	kn_tensor *f = c->base->alloc(c->be, KN_F32, t->ndim, t->shape);
	c->base->cast(f, t);
	c->orig[c->n] = t;
	c->tmp[c->n] = f;
	c->writes[c->n] = w;
	c->n++;
	return f;
}

static void mx_end(mx *c)
{
	for (int i = 0; i < c->n; i++) {
		if (c->writes[i])
			c->base->cast((kn_tensor *)c->orig[i], c->tmp[i]);
		c->base->free(c->tmp[i]);
	}
}

#define BEGIN(t)                                                                             \
	mx c_;                                                                               \
	mx_begin(&c_, (t)->be)
#define IN(t) mx_arg(&c_, (t), 0)
#define OUT(t) mx_arg(&c_, (t), 1)

static kn_tensor *mx_alloc(kn_backend *be, kn_dtype dt, int ndim, const int64_t *shape)
{
	return be->base->alloc(be, dt, ndim, shape);
}

static void mx_free(kn_tensor *t)
{
	t->be->base->free(t);
}

static void mx_upload(kn_tensor *t, const void *host, size_t bytes, size_t off)
{
	t->be->base->upload(t, host, bytes, off);
}

static void mx_download(const kn_tensor *t, void *host, size_t bytes, size_t off)
{
	t->be->base->download(t, host, bytes, off);
}

static void mx_zero(kn_tensor *t)
{
	t->be->base->zero(t);
}

static void mx_copy(kn_tensor *dst, const kn_tensor *src)
{
	if (dst->dtype != src->dtype)
		cm_die("kernels: copy between dtypes (use cast)");
	dst->be->base->copy(dst, src);
}

static void mx_cast(kn_tensor *dst, const kn_tensor *src)
{
	dst->be->base->cast(dst, src);
}

static void mx_sync(kn_backend *be)
{
	be->base->sync(be);
}

static void mx_embed(kn_tensor *out, const kn_tensor *tok, const kn_tensor *pos,
		     const kn_tensor *wte, const kn_tensor *wpe, int T)
{
	BEGIN(out);
	c_.base->embed(OUT(out), tok, pos, IN(wte), IN(wpe), T);
	mx_end(&c_);
}

static void mx_embed_bwd(kn_tensor *dwte, kn_tensor *dwpe, const kn_tensor *dout,
			 const kn_tensor *tok, const kn_tensor *pos, int T)
{
	BEGIN(dout);
	c_.base->embed_bwd(OUT(dwte), OUT(dwpe), IN(dout), tok, pos, T);
	mx_end(&c_);
}

static void mx_matmul(kn_tensor *out, const kn_tensor *inp, const kn_tensor *w,
		      const kn_tensor *bias)
{
	BEGIN(out);
	c_.base->matmul(OUT(out), IN(inp), IN(w), IN(bias));
	mx_end(&c_);
}

static void mx_matmul_bwd(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
			  const kn_tensor *inp, const kn_tensor *w)
{
	BEGIN(dout);
	c_.base->matmul_bwd(OUT(dinp), OUT(dw), OUT(dbias), IN(dout), IN(inp), IN(w));
	mx_end(&c_);
}

static void mx_residual_norm(kn_tensor *res, kn_tensor *out, kn_tensor *mean, kn_tensor *rstd,
			     const kn_tensor *a, const kn_tensor *b, const kn_tensor *w,
			     const kn_tensor *bias, float eps)
{
	BEGIN(out);
	/* res is written only when a residual is added; a == NULL reads it */
	c_.base->residual_norm(mx_arg(&c_, res, a != NULL), OUT(out), OUT(mean), OUT(rstd), IN(a),
			       IN(b), IN(w), IN(bias), eps);
	mx_end(&c_);
}

static void mx_norm_bwd(kn_tensor *dinp, kn_tensor *dw, kn_tensor *dbias, const kn_tensor *dout,
			const kn_tensor *inp, const kn_tensor *w, const kn_tensor *mean,
			const kn_tensor *rstd)
{
	BEGIN(dout);
	c_.base->norm_bwd(OUT(dinp), OUT(dw), OUT(dbias), IN(dout), IN(inp), IN(w), IN(mean),
			  IN(rstd));
	mx_end(&c_);
}

static void mx_add(kn_tensor *out, const kn_tensor *a, const kn_tensor *b)
{
	BEGIN(out);
	c_.base->add(OUT(out), IN(a), IN(b));
	mx_end(&c_);
}

static void mx_gelu(kn_tensor *out, const kn_tensor *inp)
{
	BEGIN(out);
	c_.base->gelu(OUT(out), IN(inp));
	mx_end(&c_);
}

static void mx_gelu_bwd(kn_tensor *dinp, const kn_tensor *inp, const kn_tensor *dout)
{
	BEGIN(dinp);
	c_.base->gelu_bwd(OUT(dinp), IN(inp), IN(dout));
	mx_end(&c_);
}

static void mx_swiglu(kn_tensor *out, const kn_tensor *gu)
{
	BEGIN(out);
	c_.base->swiglu(OUT(out), IN(gu));
	mx_end(&c_);
}

static void mx_swiglu_bwd(kn_tensor *dgu, const kn_tensor *gu, const kn_tensor *dout)
{
	BEGIN(dgu);
	c_.base->swiglu_bwd(OUT(dgu), IN(gu), IN(dout));
	mx_end(&c_);
}

static void mx_rope(kn_tensor *qkv, const kn_tensor *pos, const kn_attn_shape *s, float theta,
		    int inverse)
{
	BEGIN(qkv);
	c_.base->rope(OUT(qkv), pos, s, theta, inverse);
	mx_end(&c_);
}

static void mx_attention(kn_tensor *out, kn_tensor *lse, const kn_tensor *qkv,
			 const kn_tensor *doc, const kn_tensor *pre, const kn_attn_shape *s)
{
	BEGIN(out);
	c_.base->attention(OUT(out), OUT(lse), IN(qkv), doc, pre, s);
	mx_end(&c_);
}

static void mx_attention_bwd(kn_tensor *dqkv, const kn_tensor *dout, const kn_tensor *out,
			     const kn_tensor *lse, const kn_tensor *qkv, const kn_tensor *doc,
			     const kn_attn_shape *s)
{
	BEGIN(dqkv);
	c_.base->attention_bwd(OUT(dqkv), IN(dout), IN(out), IN(lse), IN(qkv), doc, s);
	mx_end(&c_);
}

static void mx_attention_decode(kn_tensor *out, const kn_tensor *qkv, kn_tensor *kcache,
				kn_tensor *vcache, const int32_t *pos, const kn_attn_shape *s,
				int Tmax)
{
	BEGIN(out);
	c_.base->attention_decode(OUT(out), IN(qkv), OUT(kcache), OUT(vcache), pos, s, Tmax);
	mx_end(&c_);
}

static void mx_kv_store(kn_tensor *kcache, kn_tensor *vcache, const kn_tensor *qkv,
			const kn_attn_shape *s, int Tmax)
{
	BEGIN(qkv);
	c_.base->kv_store(OUT(kcache), OUT(vcache), IN(qkv), s, Tmax);
	mx_end(&c_);
}

static void mx_xent(kn_tensor *losses, kn_tensor *dlogits, const kn_tensor *logits,
		    const kn_tensor *targets, int V, float dscale)
{
	BEGIN(logits);
	c_.base->xent(OUT(losses), OUT(dlogits), IN(logits), targets, V, dscale);
	mx_end(&c_);
}

static double mx_sumsq(const kn_tensor *t)
{
	BEGIN(t);
	double r = c_.base->sumsq(IN(t));
	mx_end(&c_);
	return r;
}

static double mx_sum(const kn_tensor *t)
{
	BEGIN(t);
	double r = c_.base->sum(IN(t));
	mx_end(&c_);
	return r;
}

static void mx_scale(kn_tensor *t, float s)
{
	BEGIN(t);
	c_.base->scale(OUT(t), s);
	mx_end(&c_);
}

static void mx_adamw(kn_tensor *p, const kn_tensor *g, kn_tensor *m, kn_tensor *v, float lr,
		     float b1, float b2, float eps, float wd, float gscale, int64_t step)
{
	BEGIN(p);
	c_.base->adamw(OUT(p), IN(g), OUT(m), OUT(v), lr, b1, b2, eps, wd, gscale, step);
	mx_end(&c_);
}

static void mx_matmul_gelu(kn_tensor *out, kn_tensor *pre, const kn_tensor *inp,
			   const kn_tensor *w, const kn_tensor *bias)
{
	BEGIN(out);
	if (c_.base->matmul_gelu) {
		c_.base->matmul_gelu(OUT(out), OUT(pre), IN(inp), IN(w), IN(bias));
	} else {
		/* gelu reads the fp32 product, before pre is rounded: as an epilogue does */
		kn_tensor *p = OUT(pre);
		c_.base->matmul(p, IN(inp), IN(w), IN(bias));
		c_.base->gelu(OUT(out), p);
	}
	mx_end(&c_);
}

const kn_ops kn_mixed_ops = {
	.name = "mixed",
	.alloc = mx_alloc,
	.free = mx_free,
	.upload = mx_upload,
	.download = mx_download,
	.zero = mx_zero,
	.copy = mx_copy,
	.cast = mx_cast,
	.sync = mx_sync,
	.embed = mx_embed,
	.embed_bwd = mx_embed_bwd,
	.matmul = mx_matmul,
	.matmul_bwd = mx_matmul_bwd,
	.residual_norm = mx_residual_norm,
	.norm_bwd = mx_norm_bwd,
	.add = mx_add,
	.gelu = mx_gelu,
	.gelu_bwd = mx_gelu_bwd,
	.swiglu = mx_swiglu,
	.swiglu_bwd = mx_swiglu_bwd,
	.rope = mx_rope,
	.attention = mx_attention,
	.attention_bwd = mx_attention_bwd,
	.attention_decode = mx_attention_decode,
	.kv_store = mx_kv_store,
	.xent = mx_xent,
	.sumsq = mx_sumsq,
	.sum = mx_sum,
	.scale = mx_scale,
	.adamw = mx_adamw,
	.matmul_gelu = mx_matmul_gelu,
};
