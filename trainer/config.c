/* config.c - what a model is: its configuration (presets, config.json read and written,
 * checks), the parameter tensors a configuration has, Hugging Face's names for them, and
 * the FLOPs a token costs. Nothing here allocates a tensor: programs size a run from these
 * before the model exists. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "config.h"
#include "input.h"

/* Presets */

static const struct preset {
	const char *name;
	lm_config c;
} presets[] = {
	{ "tiny", { .style = LM_GPT2, .vocab = 50257, .ctx = 256, .layers = 4, .heads = 4,
		    .dim = 128, .tied = 1, .norm_eps = 1e-5f } },
	{ "small", { .style = LM_GPT2, .vocab = 50257, .ctx = 512, .layers = 6, .heads = 6,
		     .dim = 384, .tied = 1, .norm_eps = 1e-5f } },
	{ "gpt2-124m", { .style = LM_GPT2, .vocab = 50257, .ctx = 1024, .layers = 12, .heads = 12,
			 .dim = 768, .tied = 1, .norm_eps = 1e-5f } },
	{ "llama-125m", { .style = LM_LLAMA, .vocab = 50257, .ctx = 2048, .layers = 12,
			  .heads = 12, .kv_heads = 4, .dim = 768, .hidden = 2304, .tied = 1,
			  .norm_eps = 1e-5f, .rope_theta = 10000.0f } },
};

const char *lm_presets(void)
{
	return "tiny, small, gpt2-124m, llama-125m";
}

static void config_finish(lm_config *c)
{
	if (!c->kv_heads)
		c->kv_heads = c->heads;
	if (!c->head_dim && c->heads)
		c->head_dim = c->dim / c->heads;
	if (!c->hidden)
		c->hidden = 4 * c->dim;
	c->vocab_padded = (c->vocab + 63) / 64 * 64;
}

int lm_config_check(const lm_config *c, char *err, size_t errlen)
{
	const char *bad = NULL;
	if (c->vocab < 2 || c->vocab > (1 << 24))
		bad = "vocabulary size out of range (2 to 16M)";
	else if (c->ctx < 1 || c->ctx > (1 << 20))
		bad = "context length out of range";
	else if (c->layers < 1 || c->layers > 1024 || c->dim < 1 || c->dim > 65536)
		bad = "layers or width out of range";
	else if (c->heads < 1 || c->kv_heads < 1 || c->heads % c->kv_heads)
		bad = "attention heads must be a multiple of key/value heads";
	else if (c->head_dim < 2 || c->head_dim > 1024 || c->head_dim % 2)
		bad = "head size must be even and at most 1024";
	else if (c->style == LM_GPT2 && (c->heads != c->kv_heads || c->heads * c->head_dim != c->dim))
		bad = "GPT-2 style needs heads x head size = width and no grouped-query attention";
	else if (c->hidden < 1 || c->hidden > (1 << 20))
		bad = "hidden size out of range";
	else if (!(c->norm_eps > 0.0f))
		bad = "norm epsilon must be positive";
	else if (c->style == LM_LLAMA && !(c->rope_theta > 0.0f))
		bad = "rope_theta must be positive";
	else if (c->labels < 0 || c->labels > 65536)
		bad = "labels of a classifier out of range (1 to 65536)";
	if (bad) {
		snprintf(err, errlen, "model config: %s", bad);
		return -1;
	}
	return 0;
}

static int jint(json_t *o, const char *k, int *dst)
{
	json_t *v = json_object_get(o, k);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (1 << 30))
		return -1;
	*dst = (int)json_integer_value(v);
	return 1;
}

static int jfloat(json_t *o, const char *k, float *dst)
{
	json_t *v = json_object_get(o, k);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v))
		return -1;
	*dst = (float)json_number_value(v);
	return 1;
}

static int parse_config(lm_config *c, const char *js, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = json_loads(js, JSON_REJECT_DUPLICATES, &je);
	if (!o || !json_is_object(o)) {
		if (o)
			snprintf(err, errlen, "model config: not a JSON object");
		else
			snprintf(err, errlen, "model config: line %d: %s", je.line, je.text);
		json_decref(o);
		return -1;
	}
	memset(c, 0, sizeof *c);
	c->bos = c->eos = -1;
	json_t *mt = json_object_get(o, "model_type");
	const char *type = json_is_string(mt) ? json_string_value(mt) : "";
	int bad = 0;
	if (!strcmp(type, "gpt2")) {
		c->style = LM_GPT2;
		c->tied = 1;
		c->norm_eps = 1e-5f;
		bad |= jint(o, "n_embd", &c->dim) < 0 || jint(o, "n_layer", &c->layers) < 0 ||
		       jint(o, "n_head", &c->heads) < 0 || jint(o, "n_positions", &c->ctx) < 0 ||
		       jint(o, "n_inner", &c->hidden) < 0 ||
		       jfloat(o, "layer_norm_epsilon", &c->norm_eps) < 0;
		json_t *act = json_object_get(o, "activation_function");
		if (json_is_string(act) && strcmp(json_string_value(act), "gelu_new") &&
		    strcmp(json_string_value(act), "gelu_pytorch_tanh")) {
			snprintf(err, errlen, "model config: activation '%s' (this trainer has GPT-2's "
				 "tanh GELU)", json_string_value(act));
			json_decref(o);
			return -1;
		}
	} else if (!strcmp(type, "llama")) {
		c->style = LM_LLAMA;
		c->norm_eps = 1e-6f;
		c->rope_theta = 10000.0f;
		bad |= jint(o, "hidden_size", &c->dim) < 0 ||
		       jint(o, "intermediate_size", &c->hidden) < 0 ||
		       jint(o, "num_hidden_layers", &c->layers) < 0 ||
		       jint(o, "num_attention_heads", &c->heads) < 0 ||
		       jint(o, "num_key_value_heads", &c->kv_heads) < 0 ||
		       jint(o, "head_dim", &c->head_dim) < 0 ||
		       jint(o, "max_position_embeddings", &c->ctx) < 0 ||
		       jfloat(o, "rms_norm_eps", &c->norm_eps) < 0 ||
		       jfloat(o, "rope_theta", &c->rope_theta) < 0;
		json_t *rp = json_object_get(o, "rope_parameters");
		json_t *rt = json_object_get(rp, "rope_type");
		if (json_is_object(rp))
			bad |= jfloat(rp, "rope_theta", &c->rope_theta) < 0;
		json_t *rs = json_object_get(o, "rope_scaling");
		if (json_is_string(rt) && strcmp(json_string_value(rt), "default"))
			rs = rt;
		json_t *ab = json_object_get(o, "attention_bias"), *mb = json_object_get(o, "mlp_bias");
		json_t *act = json_object_get(o, "hidden_act");
		const char *why = NULL;
		if (rs && !json_is_null(rs))
			why = "RoPE scaling is not supported (default RoPE only)";
		else if (json_is_true(ab) || json_is_true(mb))
			why = "attention or MLP biases are not supported in Llama style";
		else if (json_is_string(act) && strcmp(json_string_value(act), "silu"))
			why = "hidden_act must be silu";
		if (why) {
			snprintf(err, errlen, "model config: %s", why);
			json_decref(o);
			return -1;
		}
	} else {
		snprintf(err, errlen, "model config: model_type '%s' (gpt2 or llama)", type);
		json_decref(o);
		return -1;
	}
	bad |= jint(o, "vocab_size", &c->vocab) < 0;
	json_t *tie = json_object_get(o, "tie_word_embeddings");
	if (json_is_boolean(tie))
		c->tied = json_is_true(tie);
	else if (c->style == LM_LLAMA)
		c->tied = 0;	/* transformers' LlamaConfig default */
	jint(o, "bos_token_id", &c->bos);
	jint(o, "eos_token_id", &c->eos);
	/* a sequence classifier (*ForSequenceClassification): its labels as id2label counts
	 * them, else num_labels, else transformers' default of 2 */
	json_t *arch = json_array_get(json_object_get(o, "architectures"), 0);
	const char *an = json_is_string(arch) ? json_string_value(arch) : "";
	size_t al = strlen(an), sl = strlen("ForSequenceClassification");
	if (al > sl && !strcmp(an + al - sl, "ForSequenceClassification")) {
		json_t *id2 = json_object_get(o, "id2label");
		c->labels = 2;
		if (json_is_object(id2) && json_object_size(id2) > 0)
			c->labels = (int)json_object_size(id2);
		else
			bad |= jint(o, "num_labels", &c->labels) < 0;
		json_t *pt = json_object_get(o, "problem_type");
		const char *ps = json_is_string(pt) ? json_string_value(pt) : "";
		c->problem = !strcmp(ps, "multi_label_classification") ? LM_PROBLEM_BCE :
			     !strcmp(ps, "regression") ? LM_PROBLEM_MSE : LM_PROBLEM_NONE;
	}
	json_decref(o);
	if (bad) {
		snprintf(err, errlen, "model config: a size is not a non-negative integer");
		return -1;
	}
	if (c->style == LM_GPT2 && !c->tied) {
		snprintf(err, errlen, "model config: GPT-2 style has tied embeddings");
		return -1;
	}
	config_finish(c);
	return 0;
}

int lm_config_parse(lm_config *c, const char *js, char *err, size_t errlen)
{
	if (parse_config(c, js, err, errlen) < 0)
		return -1;
	return lm_config_check(c, err, errlen);
}

int lm_config_load(lm_config *c, const char *name, int vocab, char *err, size_t errlen)
{
	int found = 0;
	for (size_t i = 0; i < sizeof presets / sizeof *presets; i++)
		if (!strcmp(presets[i].name, name)) {
			*c = presets[i].c;
			c->bos = c->eos = -1;
			found = 1;
		}
	if (!found) {
		if (access(name, R_OK) != 0) {
			snprintf(err, errlen, "model '%s' is neither a preset (%s) nor a readable "
				 "config file", name, lm_presets());
			return -1;
		}
		cm_buf b = CM_BUF_INIT;
		int r = cm_input_read_all(name, &b, 1 << 20);	/* prints why it fails */
		if (r < 0)
			snprintf(err, errlen, "cannot read the model config '%s'", name);
		else
			r = parse_config(c, b.p ? b.p : "", err, errlen);
		cm_buf_free(&b);
		if (r < 0)
			return -1;
	}
	if (vocab > 0)
		c->vocab = vocab;
	config_finish(c);
	return lm_config_check(c, err, errlen);
}

/* A float as the shortest decimal that reads back as it (1e-05, not 9.99999975e-06). */
static json_t *jreal(float f)
{
	char b[32];
	for (int p = 6; p <= 9; p++) {
		snprintf(b, sizeof b, "%.*g", p, (double)f);
		if (strtof(b, NULL) == f)
			break;
	}
	return json_real(strtod(b, NULL));
}

char *lm_config_json(const lm_config *c)
{
	json_t *o = json_object();
	if (c->style == LM_GPT2) {
		json_object_set_new(o, "architectures", json_pack("[s]", "GPT2LMHeadModel"));
		json_object_set_new(o, "model_type", json_string("gpt2"));
		json_object_set_new(o, "vocab_size", json_integer(c->vocab));
		json_object_set_new(o, "n_positions", json_integer(c->ctx));
		json_object_set_new(o, "n_ctx", json_integer(c->ctx));
		json_object_set_new(o, "n_embd", json_integer(c->dim));
		json_object_set_new(o, "n_layer", json_integer(c->layers));
		json_object_set_new(o, "n_head", json_integer(c->heads));
		json_object_set_new(o, "n_inner", json_integer(c->hidden));
		json_object_set_new(o, "activation_function", json_string("gelu_new"));
		json_object_set_new(o, "layer_norm_epsilon", jreal(c->norm_eps));
		json_object_set_new(o, "resid_pdrop", json_real(0));
		json_object_set_new(o, "embd_pdrop", json_real(0));
		json_object_set_new(o, "attn_pdrop", json_real(0));
		json_object_set_new(o, "tie_word_embeddings", json_true());
	} else {
		json_object_set_new(o, "architectures", json_pack("[s]", "LlamaForCausalLM"));
		json_object_set_new(o, "model_type", json_string("llama"));
		json_object_set_new(o, "vocab_size", json_integer(c->vocab));
		json_object_set_new(o, "hidden_size", json_integer(c->dim));
		json_object_set_new(o, "intermediate_size", json_integer(c->hidden));
		json_object_set_new(o, "num_hidden_layers", json_integer(c->layers));
		json_object_set_new(o, "num_attention_heads", json_integer(c->heads));
		json_object_set_new(o, "num_key_value_heads", json_integer(c->kv_heads));
		json_object_set_new(o, "head_dim", json_integer(c->head_dim));
		json_object_set_new(o, "max_position_embeddings", json_integer(c->ctx));
		json_object_set_new(o, "rms_norm_eps", jreal(c->norm_eps));
		json_object_set_new(o, "rope_theta", jreal(c->rope_theta));
		json_object_set_new(o, "rope_parameters", json_pack("{s:o,s:s}", "rope_theta",
				    jreal(c->rope_theta), "rope_type", "default"));
		json_object_set_new(o, "hidden_act", json_string("silu"));
		json_object_set_new(o, "attention_bias", json_false());
		json_object_set_new(o, "mlp_bias", json_false());
		json_object_set_new(o, "tie_word_embeddings", c->tied ? json_true() : json_false());
	}
	if (c->labels) {	/* transformers' AutoModelForSequenceClassification */
		json_object_set_new(o, "architectures", json_pack("[s]", c->style == LM_GPT2 ?
				    "GPT2ForSequenceClassification" : "LlamaForSequenceClassification"));
		json_t *id2 = json_object(), *l2id = json_object();
		for (int i = 0; i < c->labels; i++) {
			char k[16], v[32];
			snprintf(k, sizeof k, "%d", i);
			snprintf(v, sizeof v, "LABEL_%d", i);
			json_object_set_new(id2, k, json_string(v));
			json_object_set_new(l2id, v, json_integer(i));
		}
		json_object_set_new(o, "id2label", id2);
		json_object_set_new(o, "label2id", l2id);
		if (c->problem)
			json_object_set_new(o, "problem_type", json_string(c->problem == LM_PROBLEM_BCE ?
					    "multi_label_classification" : "regression"));
		/* what it scores is the last token that is not this one (the sequences
		 * lm-train --reward scores end in a text token, not end-of-text) */
		if (c->eos >= 0)
			json_object_set_new(o, "pad_token_id", json_integer(c->eos));
	}
	if (c->bos >= 0)
		json_object_set_new(o, "bos_token_id", json_integer(c->bos));
	if (c->eos >= 0)
		json_object_set_new(o, "eos_token_id", json_integer(c->eos));
	json_object_set_new(o, "torch_dtype", json_string("float32"));
	json_object_set_new(o, "dtype", json_string("float32"));
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
	json_decref(o);
	return s;
}

/* Parameters */

typedef struct layout {
	lm_param *p;
	int n, cap;
} layout;

static void add_param(layout *L, int layer, int field, int64_t r, int64_t c, int decay)
{
	if (L->n == L->cap) {
		L->cap = L->cap ? 2 * L->cap : 64;
		L->p = cm_xrealloc(L->p, L->cap * sizeof *L->p);
	}
	lm_param *p = &L->p[L->n++];
	memset(p, 0, sizeof *p);
	p->layer = layer;
	p->field = field;
	p->ndim = c ? 2 : 1;
	p->shape[0] = r;
	p->shape[1] = c;
	p->n = c ? r * c : r;
	p->decay = decay;
}

int lm_qkv_width(const lm_config *c)
{
	return (c->heads + 2 * c->kv_heads) * c->head_dim;
}

/* The parameter list in storage order: decayed tensors, then the rest. */
static void build_layout(const lm_config *c, layout *L)
{
	int g = c->style == LM_GPT2;
	int64_t C = c->dim, H = c->hidden, A = (int64_t)c->heads * c->head_dim;
	for (int pass = 1; pass >= 0; pass--) {
		int d = pass;
#define P(layer, f, r, cc, dec) do { if ((dec) == d) add_param(L, layer, f, r, cc, dec); } while (0)
		P(-1, P_WTE, c->vocab_padded, C, 1);
		if (g)
			P(-1, P_WPE, c->ctx, C, 1);
		if (!c->tied && !c->labels)
			P(-1, P_HEAD, c->vocab_padded, C, 1);
		if (c->labels)
			P(-1, P_SCORE, c->labels, C, 1);
		for (int l = 0; l < c->layers; l++) {
			P(l, P_LN1_W, C, 0, 0);
			if (g)
				P(l, P_LN1_B, C, 0, 0);
			P(l, P_QKV_W, lm_qkv_width(c), C, 1);
			if (g)
				P(l, P_QKV_B, lm_qkv_width(c), 0, 0);
			P(l, P_O_W, C, A, 1);
			if (g)
				P(l, P_O_B, C, 0, 0);
			P(l, P_LN2_W, C, 0, 0);
			if (g)
				P(l, P_LN2_B, C, 0, 0);
			P(l, P_FC_W, g ? H : 2 * H, C, 1);
			if (g)
				P(l, P_FC_B, H, 0, 0);
			P(l, P_PROJ_W, C, H, 1);
			if (g)
				P(l, P_PROJ_B, C, 0, 0);
		}
		P(-1, P_LNF_W, C, 0, 0);
		if (g)
			P(-1, P_LNF_B, C, 0, 0);
#undef P
	}
	int64_t off = 0;
	for (int i = 0; i < L->n; i++) {
		L->p[i].off = off;
		off += L->p[i].n;
	}
}

lm_param *lm_config_params(const lm_config *c, int *n)
{
	layout L = { 0 };
	build_layout(c, &L);
	*n = L.n;
	return L.p;
}

int64_t lm_config_nparams(const lm_config *c)
{
	int n;
	lm_param *p = lm_config_params(c, &n);
	int64_t total = p[n - 1].off + p[n - 1].n;
	free(p);
	return total;
}

/* Hugging Face names */

/* The table being built: the parameters it names, and the names so far. */
typedef struct hf_table {
	const lm_param *p;
	int np;
	lm_hf_tensor *hf;
	int n;
} hf_table;

static void add_hf(hf_table *tb, const char *name, int param, int64_t row0, int64_t rows,
		   int transpose)
{
	tb->hf = cm_xrealloc(tb->hf, (tb->n + 1) * sizeof *tb->hf);
	lm_hf_tensor *h = &tb->hf[tb->n++];
	memset(h, 0, sizeof *h);
	snprintf(h->name, sizeof h->name, "%s", name);
	h->param = param;
	h->row0 = row0;
	h->rows = rows;
	h->ndim = tb->p[param].ndim;
	h->cols = tb->p[param].ndim == 2 ? tb->p[param].shape[1] : 1;
	h->transpose = transpose;
}

static int find_param(const hf_table *tb, int layer, int field)
{
	for (int i = 0; i < tb->np; i++)
		if (tb->p[i].layer == layer && tb->p[i].field == field)
			return i;
	return -1;
}

/* GPT2LMHeadModel's names (Conv1D weights transposed) or LlamaForCausalLM's
 * (our fused q/k/v and gate/up split into row ranges). */
static void build_hf(hf_table *tb, const lm_config *c)
{
	char nm[96];
	if (c->style == LM_GPT2) {
		static const char *const ln[] = { [P_LN1_W] = "ln_1.weight", [P_LN1_B] = "ln_1.bias",
			[P_QKV_W] = "attn.c_attn.weight", [P_QKV_B] = "attn.c_attn.bias",
			[P_O_W] = "attn.c_proj.weight", [P_O_B] = "attn.c_proj.bias",
			[P_LN2_W] = "ln_2.weight", [P_LN2_B] = "ln_2.bias",
			[P_FC_W] = "mlp.c_fc.weight", [P_FC_B] = "mlp.c_fc.bias",
			[P_PROJ_W] = "mlp.c_proj.weight", [P_PROJ_B] = "mlp.c_proj.bias" };
		add_hf(tb, "transformer.wte.weight", find_param(tb, -1, P_WTE), 0, c->vocab, 0);
		add_hf(tb, "transformer.wpe.weight", find_param(tb, -1, P_WPE), 0, c->ctx, 0);
		for (int l = 0; l < c->layers; l++)
			for (int f = 0; f < P_NLAYER; f++) {
				int i = find_param(tb, l, f);
				snprintf(nm, sizeof nm, "transformer.h.%d.%s", l, ln[f]);
				add_hf(tb, nm, i, 0, tb->p[i].shape[0], tb->p[i].ndim == 2);
			}
		add_hf(tb, "transformer.ln_f.weight", find_param(tb, -1, P_LNF_W), 0, c->dim, 0);
		add_hf(tb, "transformer.ln_f.bias", find_param(tb, -1, P_LNF_B), 0, c->dim, 0);
		return;
	}
	int64_t q = (int64_t)c->heads * c->head_dim, kv = (int64_t)c->kv_heads * c->head_dim;
	add_hf(tb, "model.embed_tokens.weight", find_param(tb, -1, P_WTE), 0, c->vocab, 0);
	for (int l = 0; l < c->layers; l++) {
		struct { int f; const char *n; int64_t r0, r; } t[] = {
			{ P_LN1_W, "input_layernorm.weight", 0, c->dim },
			{ P_QKV_W, "self_attn.q_proj.weight", 0, q },
			{ P_QKV_W, "self_attn.k_proj.weight", q, kv },
			{ P_QKV_W, "self_attn.v_proj.weight", q + kv, kv },
			{ P_O_W, "self_attn.o_proj.weight", 0, c->dim },
			{ P_LN2_W, "post_attention_layernorm.weight", 0, c->dim },
			{ P_FC_W, "mlp.gate_proj.weight", 0, c->hidden },
			{ P_FC_W, "mlp.up_proj.weight", c->hidden, c->hidden },
			{ P_PROJ_W, "mlp.down_proj.weight", 0, c->dim },
		};
		for (size_t k = 0; k < sizeof t / sizeof *t; k++) {
			snprintf(nm, sizeof nm, "model.layers.%d.%s", l, t[k].n);
			add_hf(tb, nm, find_param(tb, l, t[k].f), t[k].r0, t[k].r, 0);
		}
	}
	add_hf(tb, "model.norm.weight", find_param(tb, -1, P_LNF_W), 0, c->dim, 0);
	if (!c->tied && !c->labels)
		add_hf(tb, "lm_head.weight", find_param(tb, -1, P_HEAD), 0, c->vocab, 0);
}

/* The names of cfg's tensors: the body's, then a classifier's score head
 * (*ForSequenceClassification's score.weight, the same for both styles). */
static void build_all_hf(hf_table *tb, const lm_config *c)
{
	build_hf(tb, c);
	if (c->labels)
		add_hf(tb, "score.weight", find_param(tb, -1, P_SCORE), 0, c->labels, 0);
}

lm_hf_tensor *lm_config_hf(const lm_config *c, const lm_param *p, int np, int *n)
{
	hf_table tb = { .p = p, .np = np };
	build_all_hf(&tb, c);
	*n = tb.n;
	return tb.hf;
}

/* FLOPs */

double lm_config_flops(const lm_config *c, int T)
{
	/* 6 per weight of the matrix products (forward and backward; not the embeddings'
	 * lookups) plus causal attention's 6 L T C (PaLM's estimate, halved for the causal
	 * mask) */
	int np;
	lm_param *p = lm_config_params(c, &np);
	double mm = 0;
	for (int i = 0; i < np; i++)
		if (p[i].ndim == 2 && !(p[i].layer < 0 && (p[i].field == P_WPE ||
		    (p[i].field == P_WTE && (!c->tied || c->labels)))))
			mm += (double)p[i].n;
	free(p);
	return 6.0 * mm + 6.0 * c->layers * (double)T * c->dim;
}
