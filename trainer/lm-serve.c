/* lm-serve - an OpenAI-compatible HTTP server over a checkpoint: /v1/completions (prompts as
 * text or token ids, echo and logprobs as lm-evaluation-harness's local-completions model
 * asks for them), /v1/chat/completions (messages through the chat template of lm-train --sft,
 * for a tokenizer with its tokens) and /v1/models, on libmicrohttpd.
 *
 * libmicrohttpd runs a thread per connection; a connection's thread reads and checks its
 * request, queues it and waits, watching for the client to go away. The main thread owns the
 * model: it takes every queued request at once, scores all that need scoring in one
 * lm_req_score call (lm-evaluation-harness's log-likelihood requests: echo, max_tokens 0 or 1,
 * temperature 0), then decodes the generation requests together (lm_generate), a cancel check
 * between steps. SIGTERM or SIGINT: stop accepting, finish what was received, exit 0; a second
 * one cancels the work in flight. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "generate.h"
#include "harness.h"
#include "jsonw.h"
#include "mem.h"
#include "model.h"
#include "opt.h"
#include "rand.h"
#include "session.h"
#include "sft.h"
#include "tok.h"
#include "utf8.h"

static const cm_opt_info info = {
	"[OPTION]... CHECKPOINT",
	"Serve a checkpoint (a run directory, one of its step-N directories, or a Hugging Face\n"
	"model directory) over HTTP with OpenAI's API: POST /v1/completions (prompts as text or\n"
	"token ids; max_tokens, temperature, top_p, stop, echo, logprobs, seed), POST\n"
	"/v1/chat/completions (messages through lm-train's chat template, for a tokenizer with\n"
	"its tokens) and GET /v1/models, so that OpenAI clients and lm-evaluation-harness's\n"
	"local-completions model can use it. Listens on 127.0.0.1 until SIGTERM or SIGINT.\n",
	NULL, "a line per request on stderr: method, path, status, tokens, time"
};

#define MAX_STOP 4
#define MAX_LOGPROBS 5

/* one prompt of a request */
typedef struct row {
	uint32_t *tok;		/* the prompt */
	size_t n;
	int scored;		/* req is scored: the prompt's log-probabilities, or the answer */
	lm_req req;
	lm_gen gen;		/* the generation path's result */
} row;

/* one request to the model */
typedef struct job {
	row *rows;
	size_t nrows;
	int max_tokens, echo, logprobs, top_k;	/* logprobs -1: none */
	double temperature, top_p;
	uint64_t seed;
	char *stop[MAX_STOP];
	size_t nstop;
	int chat;		/* /v1/chat/completions: the reply ends with <|im_end|> */
	int score_only;		/* answered by scoring alone: max_tokens 0, or 1 and greedy */
	int taken, done, aborted, nonfinite;
	atomic_int cancelled;	/* the client went away */
	size_t rows_left;
	struct job *next;
} job;

/* one HTTP request */
typedef struct conn {
	cm_buf body;
	int too_big, replied, status;
	double t0;
	long long ptok, ctok;
	char method[16], path[256];
} conn;

static struct {
	lm_session S;
	lm_model *m;
	cm_tok *tok;
	int64_t eot, end;	/* <|endoftext|>, <|im_end|> (-1: absent) */
	uint32_t eot_id;	/* eot, where chat: a chat reply's other end */
	int chat;		/* the tokenizer has the chat template's tokens */
	int ctx, vocab;
	const char *name;
	long long max_body, batch_tokens, max_batch;
	struct MHD_Daemon *d;
} srv;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER, done_cv = PTHREAD_COND_INITIALIZER;
static job *qhead, **qtail = &qhead;
static int stopping, aborting;	/* one signal, two */
static long active;		/* requests begun and not yet completed */
static atomic_ullong nreq;

/* ---- replies */

typedef struct rerr {
	int status;
	const char *param, *code;
	char msg[512];
} rerr;

static int bad(rerr *e, int status, const char *param, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int bad(rerr *e, int status, const char *param, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	e->status = status;
	e->param = param;
	e->code = code;
	return -1;
}

static enum MHD_Result reply(struct MHD_Connection *c, conn *k, int status, cm_buf *b,
			     const char *allow)
{
	cm_buf_addc(b, '\n');
	struct MHD_Response *r = MHD_create_response_from_buffer(b->len, b->p, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(b->p);
		return MHD_NO;
	}
	*b = (cm_buf){ 0 };
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	k->status = status;
	k->replied = 1;
	return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, conn *k, const rerr *e,
				   const char *allow)
{
	cm_buf b = { 0 };
	cm_buf msg = { 0 };
	cm_utf8_repair(e->msg, strlen(e->msg), &msg);
	cm_jw w;
	cm_jw_init(&w, &b);
	cm_jw_obj(&w);
	cm_jw_key(&w, "error");
	cm_jw_obj(&w);
	cm_jw_key_strn(&w, "message", msg.p ? msg.p : "", msg.len);
	cm_jw_key_str(&w, "type", e->status >= 500 ? "server_error" : "invalid_request_error");
	cm_jw_key(&w, "param");
	if (e->param)
		cm_jw_str(&w, e->param);
	else
		cm_jw_null(&w);
	cm_jw_key(&w, "code");
	if (e->code)
		cm_jw_str(&w, e->code);
	else
		cm_jw_null(&w);
	cm_jw_end(&w, '}');
	cm_jw_end(&w, '}');
	free(msg.p);
	return reply(c, k, e->status, &b, allow);
}

static enum MHD_Result fail(struct MHD_Connection *c, conn *k, int status, const char *param,
			    const char *code, const char *allow, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
static enum MHD_Result fail(struct MHD_Connection *c, conn *k, int status, const char *param,
			    const char *code, const char *allow, const char *fmt, ...)
{
	rerr e = { status, param, code, "" };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof e.msg, fmt, ap);
	va_end(ap);
	return reply_error(c, k, &e, allow);
}

static void model_obj(cm_jw *w)
{
	cm_jw_obj(w);
	cm_jw_key_str(w, "id", srv.name);
	cm_jw_key_str(w, "object", "model");
	cm_jw_key_int(w, "created", (long long)time(NULL));
	cm_jw_key_str(w, "owned_by", "crawl2lm");
	cm_jw_key_int(w, "max_model_len", srv.ctx);
	cm_jw_end(w, '}');
}

/* ---- reading a completion request */

static void job_free(job *j)
{
	for (size_t i = 0; i < j->nrows; i++) {
		free(j->rows[i].tok);
		free(j->rows[i].req.lp);
		free(j->rows[i].req.top_id);
		free(j->rows[i].req.top_lp);
		lm_req_free(&j->rows[i].req);
		lm_gen_free(&j->rows[i].gen);
	}
	free(j->rows);
	for (size_t s = 0; s < j->nstop; s++)
		free(j->stop[s]);
	free(j);
}

/* a field that may be absent or null */
static json_t *field(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_null(v) ? NULL : v;
}

static int get_int(json_t *o, const char *key, long long lo, long long hi, long long *out, rerr *e)
{
	json_t *v = field(o, key);
	if (!v)
		return 0;
	if (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v))
		*out = (long long)json_real_value(v);
	else if (json_is_integer(v))
		*out = json_integer_value(v);
	else
		return bad(e, 400, key, "invalid_type", "'%s' must be an integer", key);
	if (*out < lo || *out > hi)
		return bad(e, 400, key, "invalid_value", "'%s' must be within %lld..%lld, not %lld", key,
			   lo, hi, *out);
	return 0;
}

static int get_num(json_t *o, const char *key, double lo, double hi, double *out, rerr *e)
{
	json_t *v = field(o, key);
	if (!v)
		return 0;
	if (!json_is_number(v))
		return bad(e, 400, key, "invalid_type", "'%s' must be a number", key);
	*out = json_number_value(v);
	if (!(*out >= lo && *out <= hi))
		return bad(e, 400, key, "invalid_value", "'%s' must be within %g..%g, not %g", key, lo,
			   hi, *out);
	return 0;
}

static int add_ids(job *j, json_t *a, size_t which, rerr *e)
{
	size_t n = json_array_size(a);
	if (!n)
		return bad(e, 400, "prompt", "invalid_value", "prompt %zu is an empty list of tokens", which);
	row *r = &j->rows[j->nrows++];
	r->tok = cm_xmalloc(n * sizeof *r->tok);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(a, i);
		if (!json_is_integer(v))
			return bad(e, 400, "prompt", "invalid_type",
				   "prompt %zu: token %zu is not an integer", which, i);
		json_int_t id = json_integer_value(v);
		if (id < 0 || id >= srv.vocab)
			return bad(e, 400, "prompt", "invalid_value",
				   "prompt %zu: token id %lld is outside the model's vocabulary (%d tokens)",
				   which, (long long)id, srv.vocab);
		r->tok[i] = (uint32_t)id;
	}
	r->n = n;
	return 0;
}

static int add_text(job *j, json_t *s, cm_tok_ctx *tc)
{
	row *r = &j->rows[j->nrows++];
	cm_ids ids = { 0 };
	if (json_string_length(s))
		cm_tok_encode(tc, json_string_value(s), json_string_length(s), 1, &ids);
	if (!ids.n && srv.eot >= 0)
		cm_ids_push(&ids, (uint32_t)srv.eot);	/* an empty prompt: after end-of-text */
	r->tok = ids.v;
	r->n = ids.n;
	return 0;
}

/* The prompt: a string, a list of strings, a list of token ids, or a list of lists of them. */
static int read_prompt(job *j, json_t *p, rerr *e)
{
	static const char *const what = "'prompt' must be a string, a list of strings, a list of "
		"token ids or a list of lists of token ids";
	if (!p)
		return bad(e, 400, "prompt", "missing_required_parameter", "'prompt' is required");
	cm_tok_ctx *tc = cm_tok_ctx_new(srv.tok);
	int ret = 0;
	if (json_is_string(p)) {
		j->rows = cm_xcalloc(1, sizeof *j->rows);
		ret = add_text(j, p, tc);
	} else if (json_is_array(p)) {
		size_t n = json_array_size(p), ints = 0;
		for (size_t i = 0; i < n; i++)
			ints += json_is_integer(json_array_get(p, i)) != 0;
		if (!n) {
			ret = bad(e, 400, "prompt", "invalid_value", "'prompt' is an empty list");
		} else if (ints == n) {
			j->rows = cm_xcalloc(1, sizeof *j->rows);
			ret = add_ids(j, p, 0, e);
		} else {
			j->rows = cm_xcalloc(n, sizeof *j->rows);
			for (size_t i = 0; i < n && !ret; i++) {
				json_t *x = json_array_get(p, i);
				if (json_is_string(x))
					ret = add_text(j, x, tc);
				else if (json_is_array(x))
					ret = add_ids(j, x, i, e);
				else
					ret = bad(e, 400, "prompt", "invalid_type", "%s", what);
			}
		}
	} else {
		ret = bad(e, 400, "prompt", "invalid_type", "%s", what);
	}
	cm_tok_ctx_free(tc);
	for (size_t i = 0; !ret && i < j->nrows; i++)
		if (!j->rows[i].n)
			ret = bad(e, 400, "prompt", "invalid_value",
				  "prompt %zu is empty and the tokenizer has no end-of-text token", i);
	return ret;
}

/* Refuse what is not supported rather than ignore it. */
static int unsupported(json_t *o, rerr *e)
{
	json_t *v;
	if ((v = field(o, "stream")) && !json_is_false(v))
		return bad(e, 400, "stream", "unsupported", "streaming is not supported");
	if ((v = field(o, "suffix")) && !(json_is_string(v) && !json_string_length(v)))
		return bad(e, 400, "suffix", "unsupported", "'suffix' is not supported");
	if ((v = field(o, "logit_bias")) && !(json_is_object(v) && !json_object_size(v)))
		return bad(e, 400, "logit_bias", "unsupported", "'logit_bias' is not supported");
	static const char *const pen[] = { "presence_penalty", "frequency_penalty" };
	for (int i = 0; i < 2; i++)
		if ((v = field(o, pen[i])) && !(json_is_number(v) && json_number_value(v) == 0))
			return bad(e, 400, pen[i], "unsupported", "'%s' is not supported (0 only)", pen[i]);
	long long n = 1;
	if (get_int(o, "n", 1, 1, &n, e) < 0 || get_int(o, "best_of", 1, 1, &n, e) < 0)
		return -1;
	if ((v = field(o, "model")) && !json_is_string(v))
		return bad(e, 400, "model", "invalid_type", "'model' must be a string");
	return 0;
}

/* temperature, top_p, top_k, seed (drawn when absent) and stop */
static int read_sampling(job *j, json_t *o, rerr *e)
{
	long long topk = 0, seed = -1;
	double temp = 1, topp = 1;
	if (get_num(o, "temperature", 0, 100, &temp, e) < 0 ||
	    get_num(o, "top_p", 0, 1, &topp, e) < 0 ||
	    get_int(o, "top_k", -1, 1 << 24, &topk, e) < 0 ||
	    get_int(o, "seed", -(1LL << 62), 1LL << 62, &seed, e) < 0)
		return -1;
	if (field(o, "top_p") && topp <= 0)
		return bad(e, 400, "top_p", "invalid_value", "'top_p' must be above 0");
	j->temperature = temp;
	j->top_p = topp;
	j->top_k = topk < 0 ? 0 : (int)topk;
	if (!field(o, "seed")) {
		uint64_t s = (uint64_t)time(NULL) ^ ((uint64_t)atomic_fetch_add(&nreq, 1) << 32);
		seed = (long long)(cm_splitmix64(&s) >> 2);
	}
	j->seed = (uint64_t)seed;
	json_t *v;
	if ((v = field(o, "stop"))) {
		if (json_is_string(v)) {
			if (json_string_length(v))
				j->stop[j->nstop++] = cm_xstrdup(json_string_value(v));
		} else if (json_is_array(v) && json_array_size(v) <= MAX_STOP) {
			for (size_t i = 0; i < json_array_size(v); i++) {
				json_t *s = json_array_get(v, i);
				if (!json_is_string(s))
					return bad(e, 400, "stop", "invalid_type", "'stop' must be a string or a "
						   "list of up to %d strings", MAX_STOP);
				if (json_string_length(s) && strlen(json_string_value(s)) == json_string_length(s))
					j->stop[j->nstop++] = cm_xstrdup(json_string_value(s));
			}
		} else {
			return bad(e, 400, "stop", "invalid_type",
				   "'stop' must be a string or a list of up to %d strings", MAX_STOP);
		}
	}
	return 0;
}

static int read_completion(job *j, json_t *o, rerr *e)
{
	if (!json_is_object(o))
		return bad(e, 400, NULL, "invalid_json", "the request must be a JSON object");
	if (unsupported(o, e) < 0)
		return -1;
	long long mt = 16, lp = -1;
	if (get_int(o, "max_tokens", 0, srv.ctx, &mt, e) < 0 ||
	    get_int(o, "logprobs", 0, MAX_LOGPROBS, &lp, e) < 0 || read_sampling(j, o, e) < 0)
		return -1;
	json_t *v = field(o, "echo");
	if (v && !json_is_boolean(v))
		return bad(e, 400, "echo", "invalid_type", "'echo' must be true or false");
	j->echo = json_is_true(v);
	j->max_tokens = (int)mt;
	j->logprobs = (int)lp;
	if (read_prompt(j, field(o, "prompt"), e) < 0)
		return -1;
	/* lm-evaluation-harness's log-likelihood requests need one forward pass */
	j->score_only = j->max_tokens == 0 ||
			(j->max_tokens == 1 && (j->temperature == 0 || j->top_k == 1));
	/* a greedy token after a full context is read off its last position: no position more */
	size_t room = (size_t)srv.ctx + (j->score_only && j->max_tokens == 1);
	for (size_t i = 0; i < j->nrows; i++)
		if (j->rows[i].n + (size_t)j->max_tokens > room)
			return bad(e, 400, "prompt", "context_length_exceeded",
				   "this model's maximum context length is %d tokens, however you requested "
				   "%zu tokens (%zu in prompt %zu, %d for the completion)", srv.ctx,
				   j->rows[i].n + (size_t)j->max_tokens, j->rows[i].n, i, j->max_tokens);
	int plp = j->echo && j->logprobs >= 0;	/* the prompt's log-probabilities */
	int K = j->logprobs > 0 ? j->logprobs : 1;
	for (size_t i = 0; i < j->nrows; i++) {
		row *r = &j->rows[i];
		lm_req *q = &r->req;
		size_t n = r->n;
		if (j->score_only && j->max_tokens == 1) {
			/* the prompt and a placeholder: the last position's likeliest is the answer */
			q->n = n + 1;
			q->tok = cm_xmalloc(q->n * sizeof *q->tok);
			memcpy(q->tok, r->tok, n * sizeof *q->tok);
			q->tok[n] = 0;
			q->ncont = plp ? n : 1;
		} else if (plp && n > 1) {
			q->n = n;
			q->tok = cm_xmalloc(n * sizeof *q->tok);
			memcpy(q->tok, r->tok, n * sizeof *q->tok);
			q->ncont = n - 1;
		} else {
			continue;
		}
		r->scored = 1;
		q->topk = K;
		q->lp = cm_xmalloc(q->ncont * sizeof *q->lp);
		q->top_id = cm_xmalloc(q->ncont * K * sizeof *q->top_id);
		q->top_lp = cm_xmalloc(q->ncont * K * sizeof *q->top_lp);
	}
	j->rows_left = j->nrows;
	return 0;
}

/* A chat request: the messages through the chat template (lm-train --sft's) with the
 * generation prompt; the reply ends with <|im_end|> (or <|endoftext|>, the other end), and
 * takes the rest of the context unless max_tokens (max_completion_tokens) says. */
static int read_chat(job *j, json_t *o, rerr *e)
{
	if (!json_is_object(o))
		return bad(e, 400, NULL, "invalid_json", "the request must be a JSON object");
	if (!srv.chat)
		return bad(e, 404, NULL, "unsupported", "chat completions need the chat template's "
			   "tokens %s and %s and an end-of-text, and this model's tokenizer lacks "
			   "them (use /v1/completions)", LM_CHAT_START, LM_CHAT_END);
	if (unsupported(o, e) < 0)
		return -1;
	json_t *v;
	static const char *const no[] = { "tools", "functions", "tool_choice", "function_call" };
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if ((v = field(o, no[i])) && !(json_is_array(v) && !json_array_size(v)) &&
		    !(json_is_string(v) && !strcmp(json_string_value(v), "none")))
			return bad(e, 400, no[i], "unsupported", "'%s' is not supported", no[i]);
	if ((v = field(o, "logprobs")) && !json_is_false(v))
		return bad(e, 400, "logprobs", "unsupported", "'logprobs' is not supported in chat "
			   "completions (use /v1/completions)");
	const char *rf = (v = field(o, "response_format")) ?
		json_string_value(json_object_get(v, "type")) : "text";
	if (!rf || strcmp(rf, "text"))
		return bad(e, 400, "response_format", "unsupported", "'response_format' other than "
			   "text is not supported");
	/* max_completion_tokens, or the older max_tokens: both checked, and the same if both */
	long long mt = -1, mo = -1;
	if (get_int(o, "max_completion_tokens", 1, srv.ctx, &mt, e) < 0 ||
	    get_int(o, "max_tokens", 1, srv.ctx, &mo, e) < 0 || read_sampling(j, o, e) < 0)
		return -1;
	if (mt >= 0 && mo >= 0 && mt != mo)
		return bad(e, 400, "max_tokens", "invalid_value", "'max_tokens' (%lld) and "
			   "'max_completion_tokens' (%lld) differ", mo, mt);
	if (mt < 0)
		mt = mo;
	json_t *ms = field(o, "messages");
	size_t n = json_array_size(ms);
	if (!ms)
		return bad(e, 400, "messages", "missing_required_parameter", "'messages' is required");
	if (!json_is_array(ms) || !n)
		return bad(e, 400, "messages", "invalid_type", "'messages' must be a non-empty list");
	if (n > 4096)
		return bad(e, 400, "messages", "invalid_value", "more than 4096 messages");
	lm_chat_msg *m = cm_xcalloc(n, sizeof *m);
	cm_buf *parts = cm_xcalloc(n, sizeof *parts);
	int ret = 0;
	for (size_t i = 0; i < n && !ret; i++) {
		json_t *x = json_array_get(ms, i), *ro = json_object_get(x, "role"),
		       *co = json_object_get(x, "content");
		const char *role = json_string_value(ro);
		if (!json_is_object(x) || !role) {
			ret = bad(e, 400, "messages", "invalid_type", "message %zu: an object with a "
				  "\"role\" string is expected", i);
			break;
		}
		m[i].role = !strcmp(role, "developer") ? "system" : role;
		if (json_is_string(co)) {
			m[i].text = json_string_value(co);
			m[i].n = json_string_length(co);
		} else if (json_is_array(co) || (json_is_null(co) && !strcmp(role, "assistant"))) {
			/* text parts, joined */
			for (size_t k = 0; k < json_array_size(co) && !ret; k++) {
				json_t *pt = json_array_get(co, k), *tx = json_object_get(pt, "text");
				const char *ty = json_string_value(json_object_get(pt, "type"));
				if (!ty || strcmp(ty, "text") || !json_is_string(tx))
					ret = bad(e, 400, "messages", "unsupported", "message %zu: only "
						  "text content parts are supported", i);
				else
					cm_buf_add(&parts[i], json_string_value(tx), json_string_length(tx));
			}
			m[i].text = parts[i].p ? parts[i].p : "";
			m[i].n = parts[i].len;
		} else {
			ret = bad(e, 400, "messages", "invalid_type", "message %zu: \"content\" must be "
				  "a string or a list of text parts", i);
		}
	}
	lm_sft_enc enc;
	char why[512];
	if (!ret && lm_sft_enc_init(&enc, srv.tok, why, sizeof why) < 0)
		ret = bad(e, 500, NULL, "server_error", "%s", why);
	else if (!ret) {
		if (lm_chat_encode(&enc, m, n, 1, why, sizeof why) < 0) {
			ret = bad(e, 400, "messages", "invalid_value", "%s", why);
		} else {
			j->rows = cm_xcalloc(1, sizeof *j->rows);
			row *r = &j->rows[j->nrows++];
			r->n = enc.ids.n;
			r->tok = cm_xmalloc(r->n * sizeof *r->tok);
			memcpy(r->tok, enc.ids.v, r->n * sizeof *r->tok);
		}
		lm_sft_enc_free(&enc);
	}
	for (size_t i = 0; i < n; i++)
		cm_buf_free(&parts[i]);
	free(parts);
	free(m);
	if (ret)
		return ret;
	size_t np = j->rows[0].n;
	if (mt < 0)
		mt = np < (size_t)srv.ctx ? srv.ctx - (long long)np : 0;
	if (mt < 1 || np + (size_t)mt > (size_t)srv.ctx)
		return bad(e, 400, "messages", "context_length_exceeded",
			   "this model's maximum context length is %d tokens, however you requested "
			   "%zu tokens (%zu in the messages, %lld for the completion)", srv.ctx,
			   np + (size_t)(mt > 0 ? mt : 1), np, mt > 0 ? mt : 1);
	j->chat = 1;
	j->max_tokens = (int)mt;
	j->logprobs = -1;
	j->rows_left = j->nrows;
	return 0;
}

/* ---- writing the answer */

/* a token as text: its bytes when they are UTF-8, else "bytes:\xNN..." as OpenAI writes them */
static void token_str(uint32_t id, cm_buf *out)
{
	size_t len = 0;
	const char *p = cm_tok_bytes(srv.tok, id, &len);
	out->len = 0;
	if (!p)
		len = 0;
	if (cm_utf8_valid(p ? p : "", len) && !memchr(p ? p : "", 0, len)) {
		cm_buf_add(out, p ? p : "", len);
	} else {
		cm_buf_adds(out, "bytes:");
		for (size_t i = 0; i < len; i++) {
			char t[8];
			snprintf(t, sizeof t, "\\x%02x", (unsigned char)p[i]);
			cm_buf_adds(out, t);
		}
	}
	cm_buf_addc(out, 0);
	out->len--;
}

/* one position's log-probabilities: the token's, and the likeliest k (the token too) */
typedef struct pos_lp {
	uint32_t id;
	int has;		/* 0: the first prompt token, null */
	float lp;
	const uint32_t *top_id;
	const float *top_lp;
	int k;
} pos_lp;

static void put_top(cm_jw *w, const pos_lp *x)
{
	if (!x->has) {
		cm_jw_null(w);
		return;
	}
	cm_buf keys[MAX_LOGPROBS + 1] = { 0 };
	int nk = 0;
	cm_jw_obj(w);
	for (int i = 0; i <= x->k; i++) {
		uint32_t id = i < x->k ? x->top_id[i] : x->id;
		float lp = i < x->k ? x->top_lp[i] : x->lp;
		if (i == x->k) {
			int seen = 0;
			for (int t = 0; t < x->k; t++)
				seen |= x->top_id[t] == x->id;
			if (seen)
				break;
		}
		token_str(id, &keys[nk]);
		int dup = 0;
		for (int t = 0; t < nk; t++)
			dup |= !strcmp(keys[t].p, keys[nk].p);
		if (dup)
			continue;
		cm_jw_key_double(w, keys[nk].p, lp);
		nk++;
	}
	for (int i = 0; i <= MAX_LOGPROBS; i++)
		free(keys[i].p);
	cm_jw_end(w, '}');
}

static void put_choice(cm_jw *w, job *j, row *r, size_t index, long long *ctok)
{
	/* the positions shown: the prompt's (echo), then the generated ones */
	size_t ngen = 0;
	const uint32_t *gen_ids = NULL;
	int finish = LM_GEN_LENGTH;
	const char *gtext = "";
	size_t gtext_len = 0;
	cm_buf one = { 0 };
	int K = j->logprobs > 0 ? j->logprobs : 1;
	uint32_t gid = 0;
	if (j->score_only && j->max_tokens == 1) {
		size_t last = r->req.ncont - 1;
		gid = r->req.top_id[last * K];
		gen_ids = &gid;
		ngen = 1;
		if (srv.eot >= 0 && gid == srv.eot) {
			finish = LM_GEN_EOT;
		} else {
			size_t len = 0;
			const char *p = cm_tok_bytes(srv.tok, gid, &len);
			if (p)
				cm_buf_add(&one, p, len);
			for (size_t s = 0; s < j->nstop; s++) {
				const char *at = one.len ? memmem(one.p, one.len, j->stop[s], strlen(j->stop[s])) : NULL;
				if (at && (size_t)(at - one.p) < one.len) {
					one.len = at - one.p;
					finish = LM_GEN_STOP;
				}
			}
			if (finish == LM_GEN_STOP && !one.len)
				ngen = 0;
		}
		gtext = one.p ? one.p : "";
		gtext_len = one.len;
	} else if (!j->score_only) {
		gen_ids = r->gen.ids;
		ngen = r->gen.nids;
		finish = r->gen.finish;
		gtext = r->gen.text.p ? r->gen.text.p : "";
		gtext_len = r->gen.text.len;
	}
	*ctok += (long long)ngen;
	cm_buf raw = { 0 }, text = { 0 }, ts = { 0 };
	if (j->echo)
		for (size_t i = 0; i < r->n; i++) {
			size_t len = 0;
			const char *p = cm_tok_bytes(srv.tok, r->tok[i], &len);
			if (p)
				cm_buf_add(&raw, p, len);
		}
	cm_buf_add(&raw, gtext, gtext_len);
	cm_utf8_repair(raw.p ? raw.p : "", raw.len, &text);
	cm_jw_obj(w);
	cm_jw_key_strn(w, "text", text.p ? text.p : "", text.len);
	cm_jw_key_uint(w, "index", index);
	cm_jw_key(w, "logprobs");
	if (j->logprobs < 0) {
		cm_jw_null(w);
	} else {
		size_t np = j->echo ? r->n : 0, nall = np + ngen;
		pos_lp *ps = cm_xcalloc(nall ? nall : 1, sizeof *ps);
		/* scored prompt positions: token t at req position t - 1 (t >= 1) */
		for (size_t t = 0; t < np; t++) {
			ps[t].id = r->tok[t];
			if (t == 0 || !r->scored)
				continue;
			size_t q = t - 1;
			ps[t] = (pos_lp){ r->tok[t], 1, r->req.lp[q], r->req.top_id + q * K,
					  r->req.top_lp + q * K, j->logprobs };
		}
		for (size_t i = 0; i < ngen; i++) {
			pos_lp *x = &ps[np + i];
			if (j->score_only) {
				size_t q = r->req.ncont - 1;
				*x = (pos_lp){ gen_ids[i], 1, r->req.top_lp[q * K], r->req.top_id + q * K,
					       r->req.top_lp + q * K, j->logprobs };
			} else {
				*x = (pos_lp){ gen_ids[i], 1, r->gen.lp[i],
					       r->gen.top_id + i * j->logprobs,
					       r->gen.top_lp + i * j->logprobs, j->logprobs };
			}
		}
		cm_jw_obj(w);
		cm_jw_key(w, "tokens");
		cm_jw_arr(w);
		for (size_t i = 0; i < nall; i++) {
			token_str(ps[i].id, &ts);
			cm_jw_strn(w, ts.p, ts.len);
		}
		cm_jw_end(w, ']');
		cm_jw_key(w, "token_logprobs");
		cm_jw_arr(w);
		for (size_t i = 0; i < nall; i++)
			if (ps[i].has)
				cm_jw_double(w, ps[i].lp);
			else
				cm_jw_null(w);
		cm_jw_end(w, ']');
		cm_jw_key(w, "top_logprobs");
		cm_jw_arr(w);
		for (size_t i = 0; i < nall; i++)
			put_top(w, &ps[i]);
		cm_jw_end(w, ']');
		/* each token's first character in text */
		cm_jw_key(w, "text_offset");
		cm_jw_arr(w);
		size_t off = 0;
		for (size_t i = 0; i < nall; i++) {
			cm_jw_uint(w, off);
			size_t len = 0;
			const char *p = cm_tok_bytes(srv.tok, ps[i].id, &len);
			if (p && !(i >= np && srv.eot >= 0 && ps[i].id == srv.eot && finish == LM_GEN_EOT))
				off += cm_utf8_chars(p, len);
		}
		cm_jw_end(w, ']');
		cm_jw_end(w, '}');
		free(ps);
	}
	cm_jw_key_str(w, "finish_reason", finish == LM_GEN_LENGTH ? "length" : "stop");
	cm_jw_end(w, '}');
	free(raw.p);
	free(text.p);
	free(ts.p);
	free(one.p);
}

/* a chat reply: the assistant's message */
static void put_message(cm_jw *w, row *r, long long *ctok)
{
	cm_buf text = { 0 };
	*ctok += (long long)r->gen.nids;
	cm_utf8_repair(r->gen.text.p ? r->gen.text.p : "", r->gen.text.len, &text);
	cm_jw_obj(w);
	cm_jw_key_uint(w, "index", 0);
	cm_jw_key(w, "message");
	cm_jw_obj(w);
	cm_jw_key_str(w, "role", "assistant");
	cm_jw_key_strn(w, "content", text.p ? text.p : "", text.len);
	cm_jw_end(w, '}');
	cm_jw_key(w, "logprobs");
	cm_jw_null(w);
	cm_jw_key_str(w, "finish_reason", r->gen.finish == LM_GEN_LENGTH ? "length" : "stop");
	cm_jw_end(w, '}');
	free(text.p);
}

static enum MHD_Result answer(struct MHD_Connection *c, conn *k, job *j)
{
	cm_buf b = { 0 };
	cm_jw w;
	cm_jw_init(&w, &b);
	cm_jw_obj(&w);
	char id[64];
	snprintf(id, sizeof id, "%s-%llx%08llx", j->chat ? "chatcmpl" : "cmpl",
		 (unsigned long long)time(NULL), (unsigned long long)atomic_fetch_add(&nreq, 1));
	cm_jw_key_str(&w, "id", id);
	cm_jw_key_str(&w, "object", j->chat ? "chat.completion" : "text_completion");
	cm_jw_key_int(&w, "created", (long long)time(NULL));
	cm_jw_key_str(&w, "model", srv.name);
	cm_jw_key(&w, "choices");
	cm_jw_arr(&w);
	long long ptok = 0, ctok = 0;
	for (size_t i = 0; i < j->nrows; i++) {
		if (j->chat)
			put_message(&w, &j->rows[i], &ctok);
		else
			put_choice(&w, j, &j->rows[i], i, &ctok);
		ptok += (long long)j->rows[i].n;
	}
	cm_jw_end(&w, ']');
	cm_jw_key(&w, "usage");
	cm_jw_obj(&w);
	cm_jw_key_int(&w, "prompt_tokens", ptok);
	cm_jw_key_int(&w, "completion_tokens", ctok);
	cm_jw_key_int(&w, "total_tokens", ptok + ctok);
	cm_jw_end(&w, '}');
	cm_jw_end(&w, '}');
	k->ptok = ptok;
	k->ctok = ctok;
	return reply(c, k, 200, &b, NULL);
}

/* ---- the connection threads */

/* Wait on cv (mu held) for ms milliseconds at most. */
static void wait_ms(pthread_cond_t *cv, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += ms % 1000 * 1000000L;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(cv, &mu, &ts);
}

static int client_gone(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return 0;
	struct pollfd p = { ci->connect_fd, POLLRDHUP, 0 };
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void unqueue(job *j)
{
	for (job **p = &qhead; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			if (!*p)
				qtail = p;
			return;
		}
}

/* Queue j and wait for it: 1 answered, 0 aborted (shutting down), -1 the client went away. */
static int run_job(struct MHD_Connection *c, job *j)
{
	int ret = 1;
	pthread_mutex_lock(&mu);
	if (aborting) {
		pthread_mutex_unlock(&mu);
		return 0;
	}
	*qtail = j;
	qtail = &j->next;
	pthread_cond_signal(&work_cv);
	while (!j->done) {
		wait_ms(&done_cv, 100);
		if (j->done)
			break;
		if (ret > 0 && client_gone(c)) {
			atomic_store(&j->cancelled, 1);
			ret = -1;
		}
		if (!j->taken && (ret < 0 || aborting)) {
			unqueue(j);
			ret = ret < 0 ? -1 : 0;
			break;
		}
	}
	if (j->aborted && ret > 0)
		ret = 0;
	pthread_mutex_unlock(&mu);
	return ret;
}

static enum MHD_Result completions(struct MHD_Connection *c, conn *k, int chat)
{
	rerr e = { 0 };
	if (k->too_big)
		return fail(c, k, 413, NULL, "request_too_large", NULL,
			    "the request body is over %lld bytes (--max-body)", srv.max_body);
	json_error_t je;
	json_t *o = json_loadb(k->body.p ? k->body.p : "", k->body.len, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		return fail(c, k, 400, NULL, "invalid_json", NULL,
			    "the request is not valid JSON: %s (at byte %d)", je.text, je.position);
	job *j = cm_xcalloc(1, sizeof *j);
	int r = chat ? read_chat(j, o, &e) : read_completion(j, o, &e);
	json_decref(o);
	if (r < 0) {
		job_free(j);
		return reply_error(c, k, &e, NULL);
	}
	int got = run_job(c, j);
	enum MHD_Result ret;
	if (got < 0) {
		ret = MHD_NO;	/* the client is gone: close */
		k->status = 499;
	} else if (got == 0) {
		ret = fail(c, k, 503, NULL, "shutting_down", NULL, "the server is shutting down");
	} else if (j->nonfinite) {
		ret = fail(c, k, 500, NULL, "nonfinite_logits", NULL,
			   "the model gave NaN or infinite logits: its weights are damaged or it diverged");
	} else {
		int cancelled = 0;
		for (size_t i = 0; i < j->nrows && !j->score_only; i++)
			cancelled |= j->rows[i].gen.finish == LM_GEN_CANCELLED;
		if (cancelled)
			ret = fail(c, k, 503, NULL, "shutting_down", NULL, "the server is shutting down");
		else
			ret = answer(c, k, j);
	}
	job_free(j);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	(void)cls;
	(void)version;
	conn *k = *state;
	if (!k) {
		k = cm_xcalloc(1, sizeof *k);
		k->t0 = cm_now();
		snprintf(k->method, sizeof k->method, "%s", method);
		snprintf(k->path, sizeof k->path, "%s", url);
		for (char *q = k->method; *q; q++)	/* for the log: no control characters */
			*q = (unsigned char)*q < 0x20 || *q == 0x7f ? '?' : *q;
		for (char *q = k->path; *q; q++)
			*q = (unsigned char)*q < 0x20 || *q == 0x7f ? '?' : *q;
		*state = k;
		pthread_mutex_lock(&mu);
		active++;
		int late = stopping;
		pthread_mutex_unlock(&mu);
		if (late)
			return fail(c, k, 503, NULL, "shutting_down", NULL, "the server is shutting down");
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							      MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > (unsigned long long)srv.max_body)
			return fail(c, k, 413, NULL, "request_too_large", NULL,
				    "the request body is over %lld bytes (--max-body)", srv.max_body);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!k->too_big && !k->replied) {
			if (k->body.len + *upload_size > (size_t)srv.max_body) {
				k->too_big = 1;
				cm_buf_free(&k->body);
			} else {
				cm_buf_add(&k->body, upload, *upload_size);
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (k->replied)
		return MHD_YES;
	int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
	if (!strcmp(url, "/v1/models")) {
		if (!get)
			return fail(c, k, 405, NULL, "method_not_allowed", "GET, HEAD",
				    "%s %s: the method is not allowed (GET only)", method, url);
		cm_buf b = { 0 };
		cm_jw w;
		cm_jw_init(&w, &b);
		cm_jw_obj(&w);
		cm_jw_key_str(&w, "object", "list");
		cm_jw_key(&w, "data");
		cm_jw_arr(&w);
		model_obj(&w);
		cm_jw_end(&w, ']');
		cm_jw_end(&w, '}');
		return reply(c, k, 200, &b, NULL);
	}
	if (!strncmp(url, "/v1/models/", 11)) {
		if (!get)
			return fail(c, k, 405, NULL, "method_not_allowed", "GET, HEAD",
				    "%s %s: the method is not allowed (GET only)", method, url);
		if (strcmp(url + 11, srv.name))
			return fail(c, k, 404, "model", "model_not_found", NULL,
				    "the model '%s' does not exist: this server has '%s'", url + 11, srv.name);
		cm_buf b = { 0 };
		cm_jw w;
		cm_jw_init(&w, &b);
		model_obj(&w);
		return reply(c, k, 200, &b, NULL);
	}
	if (!strcmp(url, "/v1/completions")) {
		if (!post)
			return fail(c, k, 405, NULL, "method_not_allowed", "POST",
				    "%s %s: the method is not allowed (POST only)", method, url);
		return completions(c, k, 0);
	}
	if (!strcmp(url, "/v1/chat/completions")) {
		if (!post)
			return fail(c, k, 405, NULL, "method_not_allowed", "POST",
				    "%s %s: the method is not allowed (POST only)", method, url);
		return completions(c, k, 1);
	}
	return fail(c, k, 404, NULL, "unknown_url", NULL, "%s %s: no such endpoint", method, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	conn *k = *state;
	if (!k)
		return;
	if (cm_verbosity > 0)
		cm_info("%s %s %d %lld+%lld tokens %.0f ms%s", k->method, k->path,
			k->status ? k->status : 499, k->ptok, k->ctok, (cm_now() - k->t0) * 1e3,
			toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed)");
	cm_buf_free(&k->body);
	free(k);
	*state = NULL;
	pthread_mutex_lock(&mu);
	active--;
	pthread_cond_broadcast(&work_cv);
	pthread_mutex_unlock(&mu);
}

/* ---- the model thread */

static void finish(job *j)
{
	pthread_mutex_lock(&mu);
	j->done = 1;
	pthread_cond_broadcast(&done_cv);
	pthread_mutex_unlock(&mu);
}

typedef struct gen_ref {
	job *j;
	row *r;
} gen_ref;

static int gen_cancelled(void *arg, int b)
{
	const gen_ref *g = arg;
	return atomic_load(&g[b].j->cancelled) || __atomic_load_n(&aborting, __ATOMIC_RELAXED);
}

static void run_batch(job *list)
{
	/* the jobs in an array: a finished one belongs to its connection thread again */
	size_t nj = 0;
	for (job *j = list; j; j = j->next)
		nj++;
	job **js = cm_xmalloc(nj * sizeof *js);
	nj = 0;
	for (job *j = list; j; j = j->next)
		js[nj++] = j;
	/* every scoring of every request in one call */
	size_t nq = 0, ngen = 0;
	for (size_t a = 0; a < nj; a++)
		for (size_t i = 0; i < js[a]->nrows && !atomic_load(&js[a]->cancelled); i++) {
			nq += js[a]->rows[i].scored;
			ngen += !js[a]->score_only;
		}
	if (cm_verbosity > 1)
		cm_info("a batch of %zu request%s: %zu prompt%s scored, %zu to generate from", nj,
			nj == 1 ? "" : "s", nq, nq == 1 ? "" : "s", ngen);
	if (nq) {
		lm_req *q = cm_xmalloc(nq * sizeof *q);
		size_t x = 0;
		for (size_t a = 0; a < nj; a++)
			for (size_t i = 0; i < js[a]->nrows && !atomic_load(&js[a]->cancelled); i++)
				if (js[a]->rows[i].scored)
					q[x++] = js[a]->rows[i].req;
		lm_req_score(srv.m, q, nq, (int)srv.batch_tokens);
		x = 0;
		for (size_t a = 0; a < nj; a++)
			for (size_t i = 0; i < js[a]->nrows && !atomic_load(&js[a]->cancelled); i++)
				if (js[a]->rows[i].scored) {
					js[a]->rows[i].req = q[x++];
					js[a]->nonfinite |= js[a]->rows[i].req.nonfinite;
				}
		free(q);
	}
	/* the scored ones are answered; the generation requests go on, max_batch rows at a time */
	size_t ng = 0;
	for (size_t a = 0; a < nj; a++) {
		job *j = js[a];
		if (j->score_only || j->nonfinite || atomic_load(&j->cancelled)) {
			js[a] = NULL;
			finish(j);
		} else {
			ng += j->nrows;
		}
	}
	gen_ref *ref = cm_xmalloc((ng ? ng : 1) * sizeof *ref);
	size_t x = 0;
	for (size_t a = 0; a < nj; a++)
		for (size_t i = 0; js[a] && i < js[a]->nrows; i++)
			ref[x++] = (gen_ref){ js[a], &js[a]->rows[i] };
	lm_gen *g = cm_xcalloc(srv.max_batch, sizeof *g);
	for (size_t s = 0; s < ng; s += (size_t)srv.max_batch) {
		int B = ng - s < (size_t)srv.max_batch ? (int)(ng - s) : (int)srv.max_batch;
		for (int b = 0; b < B; b++) {
			job *j = ref[s + b].j;
			row *r = ref[s + b].r;
			g[b] = (lm_gen){ .prompt = r->tok, .nprompt = r->n, .max_new = j->max_tokens,
					 .temperature = j->temperature, .top_k = j->top_k,
					 .top_p = j->top_p, .seed = j->seed + (uint64_t)(r - j->rows),
					 .eot = j->chat ? srv.end : srv.eot,
					 /* the other end a reply may have */
					 .ends = j->chat ? &srv.eot_id : NULL, .nends = j->chat,
					 .stop = (const char *const *)j->stop,
					 .nstop = j->nstop, .logprobs = j->logprobs };
		}
		lm_gen_hooks h = { gen_cancelled, NULL, ref + s };
		lm_generate(srv.m, srv.tok, g, B, &h);
		for (int b = 0; b < B; b++) {
			ref[s + b].r->gen = g[b];
			if (!--ref[s + b].j->rows_left)
				finish(ref[s + b].j);
		}
	}
	free(g);
	free(ref);
	free(js);
}

static void serve(void)
{
	double t_abort = 0;
	pthread_mutex_lock(&mu);
	for (;;) {
		if (aborting) {
			for (job *j = qhead; j; j = j->next) {
				j->aborted = 1;
				j->done = 1;
			}
			qhead = NULL;
			qtail = &qhead;
			pthread_cond_broadcast(&done_cv);
			if (!t_abort)
				t_abort = cm_now();
		}
		if (!qhead) {
			/* stop once every request is answered (a hung one: 5 s after a second signal) */
			if (stopping && (!active || (t_abort && cm_now() - t_abort > 5)))
				break;
			wait_ms(&work_cv, 200);
			continue;
		}
		job *list = qhead;
		qhead = NULL;
		qtail = &qhead;
		for (job *j = list; j; j = j->next)
			j->taken = 1;
		pthread_mutex_unlock(&mu);
		run_batch(list);
		pthread_mutex_lock(&mu);
	}
	pthread_mutex_unlock(&mu);
}

static void *signals(void *arg)
{
	sigset_t *set = arg;
	for (;;) {
		int sig;
		if (sigwait(set, &sig))
			continue;
		pthread_mutex_lock(&mu);
		if (!stopping) {
			/* no new connections; those open are answered 503 from now on */
			MHD_socket s = MHD_quiesce_daemon(srv.d);
			if (s != MHD_INVALID_SOCKET)
				close(s);
			stopping = 1;
			if (cm_verbosity >= 0)
				cm_info("%s: finishing the requests received, then stopping (again to "
					"cancel them)", sig == SIGINT ? "SIGINT" : "SIGTERM");
		} else {
			aborting = 1;
		}
		pthread_cond_broadcast(&work_cv);
		pthread_cond_broadcast(&done_cv);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	cm_init("lm-serve");
	const char *tok_path = NULL, *host = "127.0.0.1", *name = NULL;
	lm_device dev = { .name = "auto", .precision = -1 };
	long long port = 8000, max_conn = 64, timeout = 300;
	srv.max_body = 1 << 20;
	srv.batch_tokens = 4096;
	srv.max_batch = 16;
	const cm_opt opts[] = {
		CM_OPT_STRING(0, "host", &host, "ADDR",
			      "the address to listen on (default: 127.0.0.1; 0.0.0.0 or ::\n"
			      "for every interface)"),
		CM_OPT_INT('p', "port", &port, "N", 0, 65535,
			   "the TCP port (default: 8000; 0: a free one, said on stderr)"),
		CM_OPT_STRING(0, "model-name", &name, "NAME",
			      "the model's id in the API (default: CHECKPOINT's base name)"),
		CM_OPT_STRING('t', "tokenizer", &tok_path, "FILE",
			      "tokenizer (default: CHECKPOINT/tokenizer.json)"),
		CM_OPT_SIZE(0, "max-body", &srv.max_body, "SIZE", 64, 1LL << 30,
			    "the largest request body; larger ones get 413 (default: 1M)"),
		CM_OPT_INT(0, "max-connections", &max_conn, "N", 1, 4096,
			   "clients connected at once at most (default: 64)"),
		CM_OPT_INT(0, "timeout", &timeout, "SECONDS", 0, 1 << 24,
			   "close a connection idle this long (default: 300; 0: never)"),
		CM_OPT_INT(0, "batch-tokens", &srv.batch_tokens, "N", 1, 1 << 24,
			   "positions per scoring forward pass at most (default: 4096)"),
		CM_OPT_INT(0, "max-batch", &srv.max_batch, "N", 1, 4096,
			   "prompts decoded together at most (default: 16)"),
		CM_OPT_INCLUDE(lm_device_opts(&dev)),
		CM_OPT_END()
	};
	int nargs = cm_opt_parse(argc, argv, opts, &info);
	if (nargs < 1)
		cm_usage_error("a checkpoint is required");
	if (nargs > 1)
		cm_usage_error("unexpected argument '%s'", argv[2]);
	const char *ckpt = argv[1];

	/* the address first: a typo is a usage error before the model loads */
	struct addrinfo hints = { .ai_flags = AI_NUMERICSERV | AI_PASSIVE, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char portstr[16];
	snprintf(portstr, sizeof portstr, "%lld", port);
	int gai = getaddrinfo(host, portstr, &hints, &ai);
	if (gai)
		cm_usage_error("--host: cannot use '%s': %s", host, gai_strerror(gai));

	char err[8192], minfo[1024];
	if (lm_session_open(&srv.S, &dev, err, sizeof err) < 0)
		cm_die("--device: %s", err);
	if (lm_session_checkpoint(&srv.S, ckpt, err, sizeof err) < 0 ||
	    lm_session_tokenizer(&srv.S, tok_path, err, sizeof err) < 0)
		cm_die("%s", err);
	srv.tok = srv.S.tok;
	if (srv.S.cfg.labels)
		cm_die("'%s' is a sequence classifier (a reward model): it does not generate", ckpt);
	if (cm_tok_vocab_size(srv.tok) > (uint32_t)srv.S.cfg.vocab)
		cm_die("the tokenizer has %u tokens, the model %d: they do not belong together",
		       cm_tok_vocab_size(srv.tok), srv.S.cfg.vocab);
	srv.eot = cm_tok_eot(srv.tok);
	srv.end = cm_tok_special(srv.tok, LM_CHAT_END);
	/* the chat template needs both chat tokens and an end-of-text */
	srv.chat = srv.end >= 0 && cm_tok_special(srv.tok, LM_CHAT_START) >= 0 && srv.eot >= 0;
	srv.eot_id = srv.chat ? (uint32_t)srv.eot : 0;
	srv.ctx = srv.S.cfg.ctx;
	srv.vocab = srv.S.cfg.vocab;
	int fits = lm_mem_check_sample(&srv.S.cfg, srv.S.be, srv.S.adt, (int)srv.max_batch, srv.ctx,
				       srv.ctx, minfo, sizeof minfo, err, sizeof err);
	if (cm_verbosity > 0)
		cm_info("%s", minfo);
	if (fits < 0)
		cm_die("--max-batch %lld: %s", srv.max_batch, err);
	srv.m = lm_session_model(&srv.S, 0, err, sizeof err);
	if (!srv.m)
		cm_die("%s", err);
	char base[256];
	if (!name) {
		size_t n = strlen(ckpt);
		while (n > 1 && ckpt[n - 1] == '/')
			n--;
		size_t b = n;
		while (b > 0 && ckpt[b - 1] != '/')
			b--;
		snprintf(base, sizeof base, "%.*s", (int)(n - b), ckpt + b);
		name = base;
	}
	srv.name = name;

	/* the signals go to one thread; the others never see them */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_ITC;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cm_verbosity > 1)
		flags |= MHD_USE_ERROR_LOG;
	srv.d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, NULL,
				 MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned)max_conn,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)timeout,
				 MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
				 MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				 MHD_OPTION_END);
	if (!srv.d)
		cm_die("cannot listen on %s port %lld: %s", host, port,
		       errno ? strerror(errno) : "libmicrohttpd failed to start");
	/* after the daemon starts: a signal before waits, blocked, until then */
	pthread_t st;
	if (pthread_create(&st, NULL, signals, &set))
		cm_die("cannot start a thread: %s", strerror(errno));
	pthread_detach(st);
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
	char addr[INET6_ADDRSTRLEN] = "";
	if (ai->ai_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, addr, sizeof addr);
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, addr, sizeof addr);
	if (cm_verbosity >= 0)
		cm_info("listening on http://%s%s%s:%u", ai->ai_family == AF_INET6 ? "[" : "", addr,
			ai->ai_family == AF_INET6 ? "]" : "", di ? (unsigned)di->port : (unsigned)port);
	freeaddrinfo(ai);

	serve();
	MHD_stop_daemon(srv.d);
	lm_session_close(&srv.S);
	if (cm_verbosity >= 0)
		cm_info("stopped");
	return 0;
}
