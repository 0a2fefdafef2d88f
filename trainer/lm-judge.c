/* lm-judge - LM-judged preferences: for each record (a prompt and two responses) ask a judge
 * model, through any OpenAI-compatible endpoint, which response is better, once in each order;
 * a verdict counts only when the two orders agree (position bias cancelled), else it is a tie.
 * Writes preference pairs (prompt, chosen, rejected) for lm-train --reward and --dpo, battles
 * for lm-arena, and agreement with human labels where the records carry them.
 *
 * One thread: libcurl's multi interface keeps up to -j requests in flight. Records live in a
 * window of 4 x -j slots, read as slots free up and written in input order once both of their
 * requests are settled, so memory does not grow with the input. A request that fails in a way
 * another try may mend (a timeout, a lost connection, HTTP 408, 429 or 5xx, a reply that is
 * not a chat completion, an answer with no verdict) is sent again after a delay that doubles
 * each time, --retries times at most; then its record is an error, counted and written to
 * --rejects. */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "input.h"
#include "judge.h"
#include "jsonw.h"
#include "opt.h"
#include "output.h"
#include "progress.h"
#include "reward.h"
#include "score.h"
#include "session.h"
#include "utf8.h"

static const cm_opt_info info = {
	"[OPTION]... [FILE]...",
	"Ask a judge model which of two responses to a prompt is better, through an\n"
	"OpenAI-compatible endpoint (lm-serve, or any server with /v1/chat/completions), in both\n"
	"orders: a verdict counts when the two orders agree, else it is a tie; or ask a local\n"
	"reward model (--reward). Reads JSONL records\n"
	"{\"prompt\", \"response_a\", \"response_b\"}, {\"prompt\", \"responses\": [a, b]} or\n"
	"HH-RLHF {\"chosen\", \"rejected\"} pairs (files or standard input); writes preference\n"
	"pairs {\"prompt\", \"chosen\", \"rejected\"} (for lm-train --reward and --dpo) in input\n"
	"order.\n",
	"The judge sees --template with {prompt}, {response_a} and {response_b} filled in and must\n"
	"answer A or B (also [[A]], [[B]], or [[C]] for a tie). Exit status: 0; 1 when a record\n"
	"could not be judged (after --retries) or was malformed, unless --keep-going.\n",
	"a summary line on stderr; -vv a line per request"
};

enum { API_CHAT, API_COMPLETIONS };
static const char *const api_names[] = { "chat", "completions", NULL };
enum { ST_IDLE, ST_RUNNING, ST_WAIT, ST_DONE };
enum { OUT_A, OUT_B, OUT_TIE, OUT_ERROR, OUT_MALFORMED };
static const char *const out_names[] = { "a", "b", "tie", "error", "malformed" };
#define MAX_LINE (64u << 20)

struct slot;
typedef struct req {
	struct slot *s;
	int order;		/* 0: response a shown first, 1: response b first */
	int state, tries;
	double retry_at;
	CURL *h;
	cm_buf body, reply;
	int verdict;		/* LM_JV_A, B or TIE: the letter the judge gave (of the shown order) */
	char err[512];
} req;

typedef struct slot {
	int used, malformed;
	uint64_t line;
	lm_judge_rec rec;
	char *raw;		/* the line, for --rejects */
	size_t nraw;
	char why[512];
	req r[2];
} slot;

static struct {
	const char *url, *model, *tmpl, *key_hdr;
	int api;
	long long jobs, retries, max_tokens;
	double timeout, backoff;
	struct curl_slist *hdrs;
	CURLM *multi;
	slot *ring;
	size_t nring, head, count;	/* slots in use: head .. head + count - 1 (mod nring) */
	long running;
	cm_output *out, *rej, *ver, *bat;
	/* counts */
	uint64_t records, malformed, judged, agree, ties, errors, nonsense, retries_done, requests;
	uint64_t shown[2], first[2];	/* per order: verdicts A/B given, of them "A" */
	uint64_t pairs, battles, battle_skips, judge_ties;
	uint64_t labelled, h_agree, h_disagree, h_tie;
	cm_progress prog;
	/* --reward: a local reward model instead of an endpoint */
	lm_session R;
	lm_model *rm;
	lm_rm_enc enc;
	const char *reward;
} J;

/* ---- requests */

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	req *q = arg;
	if (q->reply.len + size * n > (16u << 20))
		return 0;	/* a reply over 16 MiB: the transfer fails */
	cm_buf_add(&q->reply, p, size * n);
	return size * n;
}

static void build_body(req *q)
{
	const lm_judge_rec *r = &q->s->rec;
	cm_buf text = CM_BUF_INIT;
	if (q->order == 0)
		lm_judge_render(&text, J.tmpl, r->prompt, r->np, r->a, r->na, r->b, r->nb);
	else
		lm_judge_render(&text, J.tmpl, r->prompt, r->np, r->b, r->nb, r->a, r->na);
	cm_buf_reset(&q->body);
	cm_jw w;
	cm_jw_init(&w, &q->body);
	cm_jw_obj(&w);
	if (J.model)
		cm_jw_key_str(&w, "model", J.model);
	if (J.api == API_CHAT) {
		cm_jw_key(&w, "messages");
		cm_jw_arr(&w);
		cm_jw_obj(&w);
		cm_jw_key_str(&w, "role", "user");
		cm_jw_key_strn(&w, "content", text.p ? text.p : "", text.len);
		cm_jw_end(&w, '}');
		cm_jw_end(&w, ']');
	} else {
		cm_jw_key_strn(&w, "prompt", text.p ? text.p : "", text.len);
	}
	cm_jw_key_int(&w, "max_tokens", J.max_tokens);
	cm_jw_key_int(&w, "temperature", 0);
	cm_jw_end(&w, '}');
	cm_buf_free(&text);
}

static void start(req *q)
{
	if (!q->h) {
		q->h = curl_easy_init();
		if (!q->h)
			cm_die("cannot initialise libcurl");
	} else {
		curl_easy_reset(q->h);
	}
	cm_buf_reset(&q->reply);
	CURL *h = q->h;
	curl_easy_setopt(h, CURLOPT_URL, J.url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, J.hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body.p);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body.len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(h, CURLOPT_PRIVATE, q);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(J.timeout * 1000));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(fmin(J.timeout, 30) * 1000));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "crawl2lm lm-judge");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLMcode mc = curl_multi_add_handle(J.multi, h);
	if (mc != CURLM_OK)
		cm_die("libcurl: %s", curl_multi_strerror(mc));
	q->state = ST_RUNNING;
	q->tries++;
	J.requests++;
	J.running++;
}

/* the answer's text: choices[0].message.content (chat) or choices[0].text; NULL with why */
static const char *answer(json_t *j, size_t *n, char *why, size_t whylen)
{
	json_t *c0 = json_array_get(json_object_get(j, "choices"), 0);
	json_t *t = J.api == API_CHAT ? json_object_get(json_object_get(c0, "message"), "content")
				     : json_object_get(c0, "text");
	if (!json_is_string(t)) {
		snprintf(why, whylen, "the reply is not a %s completion (no choices[0].%s)",
			 J.api == API_CHAT ? "chat" : "text", J.api == API_CHAT ? "message.content" : "text");
		return NULL;
	}
	*n = json_string_length(t);
	return json_string_value(t);
}

/* a printable excerpt of s for messages: at most cap - 4 bytes of it, cut at a character,
 * then "..."; control characters as spaces, ill-formed UTF-8 as U+FFFD */
static void excerpt(char *dst, size_t cap, const char *s, size_t n)
{
	cm_buf b = CM_BUF_INIT;
	cm_utf8_repair(s, n < cap ? n : cap, &b);
	size_t k = b.len < cap - 4 ? b.len : cap - 4;
	while (k > 0 && k < b.len && ((unsigned char)b.p[k] & 0xc0) == 0x80)
		k--;
	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)b.p[i];
		dst[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	strcpy(dst + k, k < b.len || n > cap ? "..." : "");
	cm_buf_free(&b);
}

/* the server's own message in an error reply, when it has one */
static void server_msg(const req *q, char *dst, size_t cap)
{
	json_t *j = json_loadb(q->reply.p ? q->reply.p : "", q->reply.len, 0, NULL);
	json_t *m = json_object_get(json_object_get(j, "error"), "message");
	if (json_is_string(m))
		excerpt(dst, cap, json_string_value(m), json_string_length(m));
	else
		excerpt(dst, cap, q->reply.p ? q->reply.p : "", q->reply.len);
	json_decref(j);
}

static void settle(req *q, CURLcode rc)
{
	CURL *h = q->h;
	curl_multi_remove_handle(J.multi, h);
	J.running--;
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	int retry = 0;
	char msg[400];
	double wait_s = 0;
	if (rc != CURLE_OK) {
		if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
			cm_die("--endpoint '%s': %s", J.url, curl_easy_strerror(rc));
		retry = 1;
		snprintf(q->err, sizeof q->err, "%s", rc == CURLE_OPERATION_TIMEDOUT ?
			 "no answer within --timeout" : curl_easy_strerror(rc));
	} else if (status != 200) {
		server_msg(q, msg, sizeof msg);
		retry = status == 408 || status == 429 || status >= 500;
		snprintf(q->err, sizeof q->err, "HTTP %ld: %s", status, msg);
		curl_off_t ra = -1;
		if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			wait_s = (double)(ra > 600 ? 600 : ra);
	} else {
		json_error_t je;
		json_t *j = json_loadb(q->reply.p ? q->reply.p : "", q->reply.len, 0, &je);
		size_t n = 0;
		const char *a = j ? answer(j, &n, msg, sizeof msg) : NULL;
		if (!j)
			snprintf(msg, sizeof msg, "the reply is not JSON: %s", je.text);
		if (!a) {
			retry = 1;
			snprintf(q->err, sizeof q->err, "%s", msg);
		} else {
			int v = lm_judge_verdict(a, n);
			if (v == LM_JV_NONSENSE) {
				J.nonsense++;
				retry = 1;
				excerpt(msg, 120, a, n);
				snprintf(q->err, sizeof q->err, "no verdict in the answer '%s'", msg);
			} else {
				q->verdict = v;
				q->state = ST_DONE;
			}
		}
		json_decref(j);
	}
	if (cm_verbosity > 1) {
		cm_progress_break(&J.prog);
		cm_info("line %llu, %s first: try %d: %s", (unsigned long long)q->s->line,
			q->order ? "b" : "a", q->tries, q->state == ST_DONE ? "verdict" : q->err);
	}
	if (q->state == ST_DONE)
		return;
	if (retry && q->tries <= J.retries) {
		double d = J.backoff * pow(2, q->tries - 1);
		if (d > 60)
			d = 60;
		if (wait_s > d)
			d = wait_s;
		q->state = ST_WAIT;
		q->retry_at = cm_now() + d;
		J.retries_done++;
		return;
	}
	if (retry && q->tries > 1) {
		size_t l = strlen(q->err);
		snprintf(q->err + l, sizeof q->err - l, " (after %d tries)", q->tries);
	}
	q->verdict = -1;
	q->state = ST_DONE;
}

/* ---- records in, results out */

static void put(cm_output *o, cm_buf *b)
{
	cm_buf_addc(b, '\n');
	cm_output_write(o, b->p, b->len);
	cm_buf_reset(b);
}

/* a character count (UTF-8 code points) */
static long long chars(const char *s, size_t n)
{
	long long k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

/* a message as a JSON string, ill-formed UTF-8 (a parser's excerpt of a bad line) repaired */
static void key_text(cm_jw *w, const char *key, const char *s)
{
	size_t n = strlen(s);
	if (cm_utf8_valid(s, n)) {
		cm_jw_key_strn(w, key, s, n);
		return;
	}
	cm_buf b = CM_BUF_INIT;
	cm_utf8_repair(s, n, &b);
	cm_jw_key_strn(w, key, b.p, b.len);
	cm_buf_free(&b);
}

static const char *vname(int v)
{
	return v == LM_JV_A ? "A" : v == LM_JV_B ? "B" : v == LM_JV_TIE ? "C" : NULL;
}

/* the slot's outcome, counted and written */
static void finish(slot *s, cm_buf *b)
{
	cm_jw w;
	int outcome;
	const char *why = s->why;
	const lm_judge_rec *r = &s->rec;
	if (s->malformed) {
		outcome = OUT_MALFORMED;
		J.malformed++;
	} else if (s->r[0].verdict < 0 || s->r[1].verdict < 0) {
		outcome = OUT_ERROR;
		J.errors++;
		why = s->r[0].verdict < 0 ? s->r[0].err : s->r[1].err;
	} else {
		/* the preferred response in each order: order 0 shows a first, order 1 b first */
		int v0 = s->r[0].verdict, v1 = s->r[1].verdict;
		int p0 = v0 == LM_JV_TIE ? OUT_TIE : v0 == LM_JV_A ? OUT_A : OUT_B;
		int p1 = v1 == LM_JV_TIE ? OUT_TIE : v1 == LM_JV_A ? OUT_B : OUT_A;
		J.judged++;
		for (int k = 0; k < 2; k++)
			if (s->r[k].verdict != LM_JV_TIE) {
				J.shown[k]++;
				J.first[k] += s->r[k].verdict == LM_JV_A;
			} else {
				J.judge_ties++;
			}
		outcome = p0 == p1 ? p0 : OUT_TIE;
		if (outcome == OUT_TIE)
			J.ties++;
		else
			J.agree++;
		if (r->label >= 0 && r->label != LM_JV_TIE) {
			J.labelled++;
			if (outcome == OUT_TIE)
				J.h_tie++;
			else if ((outcome == OUT_A) == (r->label == LM_JV_A))
				J.h_agree++;
			else
				J.h_disagree++;
		}
	}
	if (outcome == OUT_A || outcome == OUT_B) {
		int a = outcome == OUT_A;
		cm_jw_init(&w, b);
		cm_jw_obj(&w);
		cm_jw_key_strn(&w, "prompt", r->out_prompt, r->nop);
		cm_jw_key_strn(&w, "chosen", a ? r->out_a : r->out_b, a ? r->noa : r->nob);
		cm_jw_key_strn(&w, "rejected", a ? r->out_b : r->out_a, a ? r->nob : r->noa);
		cm_jw_end(&w, '}');
		put(J.out, b);
		J.pairs++;
	}
	if (J.bat && outcome <= OUT_TIE) {
		if (r->model_a && r->model_b && *r->model_a && *r->model_b &&
		    strcmp(r->model_a, r->model_b)) {
			cm_jw_init(&w, b);
			cm_jw_obj(&w);
			cm_jw_key_str(&w, "model_a", r->model_a);
			cm_jw_key_str(&w, "model_b", r->model_b);
			cm_jw_key_str(&w, "winner", outcome == OUT_A ? "model_a" :
				      outcome == OUT_B ? "model_b" : "tie");
			cm_jw_key_int(&w, "len_a", chars(r->a, r->na));
			cm_jw_key_int(&w, "len_b", chars(r->b, r->nb));
			cm_jw_end(&w, '}');
			put(J.bat, b);
			J.battles++;
		} else if (r->model_a || r->model_b) {
			J.battle_skips++;	/* one model only, or the same twice */
		}
	}
	if (J.rej && outcome >= OUT_ERROR) {
		cm_jw_init(&w, b);
		cm_jw_obj(&w);
		cm_jw_key_uint(&w, "line", s->line);
		cm_jw_key_str(&w, "reason", out_names[outcome]);
		key_text(&w, "why", why);
		if (cm_utf8_valid(s->raw, s->nraw))	/* left out where it is not UTF-8 */
			cm_jw_key_strn(&w, "record", s->raw, s->nraw);
		cm_jw_end(&w, '}');
		put(J.rej, b);
	}
	if (J.ver) {
		cm_jw_init(&w, b);
		cm_jw_obj(&w);
		cm_jw_key_uint(&w, "line", s->line);
		cm_jw_key_str(&w, "verdict", out_names[outcome]);
		for (int k = 0; k < 2 && outcome != OUT_MALFORMED; k++) {
			cm_jw_key(&w, k ? "b_first" : "a_first");
			const char *v = s->r[k].verdict >= 0 ? vname(s->r[k].verdict) : NULL;
			if (v)
				cm_jw_str(&w, v);
			else
				cm_jw_null(&w);
		}
		if (r->label >= 0)
			cm_jw_key_str(&w, "label", r->label == LM_JV_A ? "a" : r->label == LM_JV_B ?
				      "b" : "tie");
		if (outcome >= OUT_ERROR)
			key_text(&w, "error", why);
		cm_jw_end(&w, '}');
		put(J.ver, b);
	}
	if ((outcome >= OUT_ERROR) && cm_verbosity >= 0) {
		cm_progress_break(&J.prog);
		cm_warn("line %llu: %s: %s", (unsigned long long)s->line,
			outcome == OUT_ERROR ? "not judged" : "malformed", why);
	}
	lm_judge_rec_free(&s->rec);
	free(s->raw);
	s->raw = NULL;
	s->used = 0;
}

/* --reward: both responses scored by the reward model (prompt + response, as lm-eval --pairs
 * scores them; an HH-RLHF pair through the chat template), the higher one preferred; the
 * two "orders" are the same scores, so they always agree (a reward model has no position) */
static void reward_judge(slot *s)
{
	lm_judge_rec *r = &s->rec;
	char err[400];
	int T = J.R.cfg.ctx;
	cm_ids ids[2] = { { 0 }, { 0 } };
	if (r->out_a != r->a) {	/* an HH-RLHF pair */
		int rc = lm_rm_encode(&J.enc, s->raw, s->nraw, T, err, sizeof err);
		if (rc == -2)
			cm_die("--reward: %s", err);
		if (rc < 0) {
			for (int k = 0; k < 2; k++) {
				snprintf(s->r[k].err, sizeof s->r[k].err, "--reward: %s", err);
				s->r[k].verdict = -1;
				s->r[k].state = ST_DONE;
			}
			return;
		}
		for (size_t i = 0; i < J.enc.c.n; i++)
			cm_ids_push(&ids[0], J.enc.c.v[i]);
		for (size_t i = 0; i < J.enc.r.n; i++)
			cm_ids_push(&ids[1], J.enc.r.v[i]);
	} else {
		lm_rm_encode_text(&J.enc, r->prompt, r->np, r->a, r->na, T, &ids[0]);
		lm_rm_encode_text(&J.enc, r->prompt, r->np, r->b, r->nb, T, &ids[1]);
	}
	int maxlen = 1;
	for (int k = 0; k < 2; k++) {
		if (!ids[k].n)
			cm_ids_push(&ids[k], (uint32_t)J.enc.sft.eot);
		if ((int)ids[k].n > maxlen)
			maxlen = (int)ids[k].n;
	}
	int32_t *x = cm_xmalloc(2 * (size_t)maxlen * sizeof *x), len[2];
	for (int k = 0; k < 2; k++) {
		for (int t = 0; t < maxlen; t++)
			x[(size_t)k * maxlen + t] = t < (int)ids[k].n ? (int32_t)ids[k].v[t] :
				(int32_t)J.enc.sft.eot;
		len[k] = (int32_t)ids[k].n;
		cm_ids_free(&ids[k]);
	}
	float sc[2];
	lm_score_last(J.rm, 2, maxlen, x, len, sc);
	free(x);
	int v = sc[0] > sc[1] ? LM_JV_A : sc[0] < sc[1] ? LM_JV_B : LM_JV_TIE;
	s->r[0].verdict = v;
	s->r[1].verdict = v == LM_JV_TIE ? v : 1 - v;
	s->r[0].state = s->r[1].state = ST_DONE;
	if (cm_verbosity > 1) {
		cm_progress_break(&J.prog);
		cm_info("line %llu: reward %.6g for a, %.6g for b", (unsigned long long)s->line,
			(double)sc[0], (double)sc[1]);
	}
}

/* read one record into a new slot; 0 at the end of input */
static int read_one(cm_input *in, uint64_t *lineno)
{
	char *line;
	size_t len;
	int r;
	while ((r = cm_input_line(in, &line, &len, MAX_LINE)) != 0) {
		(*lineno)++;
		size_t n = len;
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		if (!n && r > 0)
			continue;	/* a blank line is no record */
		slot *s = &J.ring[(J.head + J.count) % J.nring];
		J.count++;
		J.records++;
		memset(s, 0, sizeof *s);
		s->used = 1;
		s->line = *lineno;
		if (r < 0) {
			s->malformed = 1;
			snprintf(s->why, sizeof s->why, "a line of %zu bytes, over %u", len, MAX_LINE);
			s->raw = cm_xstrdup("");
			return 1;
		}
		s->raw = cm_xmalloc(n + 1);
		memcpy(s->raw, line, n);
		s->raw[n] = 0;
		s->nraw = n;
		if (lm_judge_parse(s->raw, n, &s->rec, s->why, sizeof s->why) != LM_JR_OK) {
			s->malformed = 1;
			return 1;
		}
		for (int k = 0; k < 2; k++) {
			s->r[k].s = s;
			s->r[k].order = k;
			s->r[k].state = ST_IDLE;
			if (!J.rm)
				build_body(&s->r[k]);
		}
		if (J.rm)
			reward_judge(s);
		return 1;
	}
	return 0;
}

static int slot_done(const slot *s)
{
	return s->malformed || (s->r[0].state == ST_DONE && s->r[1].state == ST_DONE);
}

static void release(slot *s)
{
	for (int k = 0; k < 2; k++) {
		if (s->r[k].h)
			curl_easy_cleanup(s->r[k].h);
		cm_buf_free(&s->r[k].body);
		cm_buf_free(&s->r[k].reply);
		s->r[k].h = NULL;
	}
}

/* progress: records done, how they went, the rate; a few lines a second at most */
static void show_progress(int last)
{
	static double t_last;
	double now = cm_now();
	if (!J.prog.on || (!last && now - t_last < 0.25))
		return;
	t_last = now;
	uint64_t done = J.records - J.count;
	double secs = now - J.prog.start;
	cm_progress_line(&J.prog, "%llu records: %llu judged (%llu ties), %llu errors, %llu "
			 "malformed; %llu retries; %.1f records/s", (unsigned long long)done,
			 (unsigned long long)J.judged, (unsigned long long)J.ties,
			 (unsigned long long)J.errors, (unsigned long long)J.malformed,
			 (unsigned long long)J.retries_done, secs > 0 ? (double)done / secs : 0.0);
}

/* judge every record of one input */
static void run(const char *path, cm_buf *b)
{
	char err[512];
	cm_input *in = cm_input_open_err(path ? path : "-", err, sizeof err);
	if (!in)
		cm_die("%s", err);
	const char *name = path && strcmp(path, "-") ? path : "standard input";
	uint64_t lineno = 0;
	int eof = 0;
	for (;;) {
		while (!eof && J.count < J.nring)
			eof = !read_one(in, &lineno);
		/* start what may start, oldest first */
		double now = cm_now(), next = INFINITY;
		for (size_t i = 0; i < J.count && J.running < J.jobs; i++) {
			slot *s = &J.ring[(J.head + i) % J.nring];
			for (int k = 0; k < 2 && !s->malformed && J.running < J.jobs; k++) {
				req *q = &s->r[k];
				if (q->state == ST_IDLE || (q->state == ST_WAIT && q->retry_at <= now))
					start(q);
			}
		}
		for (size_t i = 0; i < J.count; i++) {
			slot *s = &J.ring[(J.head + i) % J.nring];
			for (int k = 0; k < 2 && !s->malformed; k++)
				if (s->r[k].state == ST_WAIT && s->r[k].retry_at < next)
					next = s->r[k].retry_at;
		}
		int still;
		CURLMcode mc = curl_multi_perform(J.multi, &still);
		if (mc != CURLM_OK)
			cm_die("libcurl: %s", curl_multi_strerror(mc));
		CURLMsg *m;
		int left, settled = 0;
		while ((m = curl_multi_info_read(J.multi, &left)))
			if (m->msg == CURLMSG_DONE) {
				settled++;
				req *q;
				curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
				settle(q, m->data.result);
			}
		int drained = 0;
		while (J.count && slot_done(&J.ring[J.head])) {
			drained++;
			slot *s = &J.ring[J.head];
			finish(s, b);
			release(s);
			J.head = (J.head + 1) % J.nring;
			J.count--;
			show_progress(0);
		}
		if (eof && !J.count)
			break;
		if (settled || drained)
			continue;	/* free places: start the next requests first */
		/* wait for the network, or the next retry */
		int ms = 1000;
		if (next < INFINITY) {
			double d = (next - cm_now()) * 1000;
			ms = d < 0 ? 0 : d < ms ? (int)ceil(d) : ms;
		}
		if (J.running || ms > 0)
			curl_multi_poll(J.multi, NULL, 0, ms, NULL);
	}
	if (cm_input_failed(in) || cm_input_truncated(in))
		cm_die("%s: %s", name, cm_input_error(in));
	cm_input_close(in);
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : NAN;
}

static void jd(cm_jw *w, const char *k, double x)
{
	cm_jw_key(w, k);
	if (isnan(x))
		cm_jw_null(w);
	else
		cm_jw_double(w, x);
}

static void write_stats(const char *path, double secs)
{
	cm_buf b = CM_BUF_INIT;
	cm_jw w;
	cm_jw_init(&w, &b);
	cm_jw_obj(&w);
	cm_jw_key_str(&w, "program", "lm-judge");
	if (J.rm)
		cm_jw_key_str(&w, "reward", J.reward);
	else
		cm_jw_key_str(&w, "endpoint", J.url);
	if (J.model)
		cm_jw_key_str(&w, "judge_model", J.model);
	cm_jw_key_uint(&w, "records", J.records);
	cm_jw_key_uint(&w, "malformed", J.malformed);
	cm_jw_key_uint(&w, "judged", J.judged);
	cm_jw_key_uint(&w, "agree", J.agree);
	cm_jw_key_uint(&w, "ties", J.ties);
	cm_jw_key_uint(&w, "errors", J.errors);
	cm_jw_key_uint(&w, "nonsense", J.nonsense);
	cm_jw_key_uint(&w, "retries", J.retries_done);
	cm_jw_key_uint(&w, "requests", J.requests);
	cm_jw_key_uint(&w, "judge_ties", J.judge_ties);
	cm_jw_key_uint(&w, "pairs", J.pairs);
	if (J.bat) {
		cm_jw_key_uint(&w, "battles", J.battles);
		cm_jw_key_uint(&w, "battles_one_model", J.battle_skips);
	}
	cm_jw_key(&w, "a_rate");
	cm_jw_arr(&w);
	for (int k = 0; k < 2; k++) {
		double x = ratio(J.first[k], J.shown[k]);
		if (isnan(x))
			cm_jw_null(&w);
		else
			cm_jw_double(&w, x);
	}
	cm_jw_end(&w, ']');
	jd(&w, "first_rate", ratio(J.first[0] + J.first[1], J.shown[0] + J.shown[1]));
	jd(&w, "agree_rate", ratio(J.agree, J.judged));
	if (J.labelled) {
		cm_jw_key_uint(&w, "labelled", J.labelled);
		cm_jw_key_uint(&w, "human_agree", J.h_agree);
		cm_jw_key_uint(&w, "human_disagree", J.h_disagree);
		cm_jw_key_uint(&w, "human_ties", J.h_tie);
		jd(&w, "agreement", ratio(J.h_agree, J.labelled));
		jd(&w, "agreement_ties_half", ((double)J.h_agree + 0.5 * (double)J.h_tie) /
		   (double)J.labelled);
		jd(&w, "agreement_decided", ratio(J.h_agree, J.h_agree + J.h_disagree));
	}
	jd(&w, "seconds", secs);
	cm_jw_end(&w, '}');
	cm_buf_addc(&b, '\n');
	char err[512];
	if (cm_afile_put(path, b.p, b.len, err, sizeof err) < 0)
		cm_die("--stats: %s", err);
	cm_buf_free(&b);
}

int main(int argc, char **argv)
{
	cm_init("lm-judge");
	const char *out = NULL, *rejects = NULL, *verdicts = NULL, *battles = NULL, *stats = NULL;
	const char *tmpl_file = NULL, *key_env = NULL, *reward = NULL;
	lm_device dev = { .name = "auto", .precision = -1 };
	int keep_going = 0, progress = -1;
	J.jobs = 4;
	J.retries = 3;
	J.max_tokens = 16;
	J.timeout = 60;
	J.backoff = 1;
	J.api = -1;
	const cm_opt opts[] = {
		CM_OPT_GROUP("Judge:"),
		CM_OPT_STRING(0, "endpoint", &J.url, "URL",
			      "the server: a base URL (http://127.0.0.1:8000/v1, to which\n"
			      "/chat/completions or /completions is added) or the full URL of\n"
			      "either (this or --reward)"),
		CM_OPT_CHOICE(0, "api", &J.api, "chat|completions", api_names,
			      "chat completions (messages) or text completions (a prompt;\n"
			      "for base models); default: from the URL, else chat"),
		CM_OPT_STRING(0, "judge-model", &J.model, "NAME",
			      "the request's \"model\" (default: none sent; lm-serve takes any)"),
		CM_OPT_STRING(0, "api-key-env", &key_env, "VAR",
			      "send the environment variable VAR's value as a bearer token\n"
			      "(Authorization header); the key never goes on the command line"),
		CM_OPT_STRING(0, "template", &tmpl_file, "FILE",
			      "the judge prompt, with {prompt}, {response_a}, {response_b}\n"
			      "(default: the built-in one, in lm-judge(1))"),
		CM_OPT_INT(0, "max-tokens", &J.max_tokens, "N", 1, 1 << 20,
			   "the answer's length at most, in tokens (default: 16)"),
		CM_OPT_STRING(0, "reward", &reward, "RM",
			      "a local reward model (lm-train --reward) as the judge instead\n"
			      "of --endpoint: the response it scores higher is chosen"),
		CM_OPT_STRING(0, "device", &dev.name, "D",
			      "--reward's device: cpu, cuda, cuda:plain or auto (default)"),
		CM_OPT_GROUP("Requests:"),
		CM_OPT_INT('j', "jobs", &J.jobs, "N", 1, 1024, "requests in flight at most (default: 4)"),
		CM_OPT_DOUBLE(0, "timeout", &J.timeout, "SECONDS", 0.001, 1e6,
			      "a request without a whole answer by then fails (default: 60)"),
		CM_OPT_INT(0, "retries", &J.retries, "N", 0, 100,
			   "tries after the first for a request that timed out, lost its\n"
			   "connection, got HTTP 408, 429 or 5xx, or an answer without a\n"
			   "verdict (default: 3)"),
		CM_OPT_DOUBLE(0, "backoff", &J.backoff, "SECONDS", 0, 600,
			      "the wait before the first retry, doubled for each next one,\n"
			      "60 at most, longer if the server's Retry-After says (default: 1)"),
		CM_OPT_GROUP("Output:"),
		CM_OPT_STRING('o', "output", &out, "FILE",
			      "the preference pairs (default: standard output)"),
		CM_OPT_STRING(0, "battles", &battles, "FILE",
			      "lm-arena battles {model_a, model_b, winner, len_a, len_b} from\n"
			      "records naming model_a and model_b"),
		CM_OPT_STRING(0, "verdicts", &verdicts, "FILE",
			      "one line per record: its verdict and each order's answer"),
		CM_OPT_STRING(0, "rejects", &rejects, "FILE",
			      "malformed records and those not judged, with the reason"),
		CM_OPT_STRING(0, "stats", &stats, "FILE",
			      "counts as JSON: judged, agree, ties, errors, nonsense, retries,\n"
			      "a_rate (position bias), agreement with human labels"),
		CM_OPT_FLAG(0, "keep-going", &keep_going,
			    "exit 0 even when records were malformed or not judged"),
		CM_OPT_SET(0, "progress", &progress, 1, "progress on stderr even when it is not a terminal"),
		CM_OPT_END()
	};
	int na = cm_opt_parse(argc, argv, opts, &info);
	char **args = argv + 1;
	if (!J.url && !reward)
		cm_usage_error("--endpoint (or --reward) is required");
	if (J.url && reward)
		cm_usage_error("one judge: --endpoint or --reward, not both");
	if (na > 0)
		na = cm_opt_lists(na, &args);
	char err[1024];
	if (reward) {
		char e2[8192];
		if (lm_session_open(&J.R, &dev, e2, sizeof e2) < 0)
			cm_die("--device: %s", e2);
		if (lm_session_checkpoint(&J.R, reward, e2, sizeof e2) < 0 ||
		    lm_session_tokenizer(&J.R, NULL, e2, sizeof e2) < 0)
			cm_die("--reward: %s", e2);
		if (J.R.cfg.labels != 1)
			cm_die("--reward: '%s' is not a reward model (lm-train --reward makes one)", reward);
		if (!(J.rm = lm_session_model(&J.R, 0, e2, sizeof e2)))
			cm_die("--reward: %s", e2);
		if (lm_rm_enc_init(&J.enc, J.R.tok, err, sizeof err) < 0)
			cm_die("--reward: %s", err);
		J.url = "http://reward.invalid/v1";	/* no request is made */
		J.reward = reward;
	}

	/* the URL: a full one as given, a base one with the API's path */
	size_t ul = strlen(J.url);
	static const char CH[] = "/chat/completions", CO[] = "/completions";
	char *url;
	if (ul >= sizeof CH - 1 && !strcmp(J.url + ul - (sizeof CH - 1), CH)) {
		if (J.api == API_COMPLETIONS)
			cm_usage_error("--api completions with a chat completions URL '%s'", J.url);
		J.api = API_CHAT;
		url = cm_xstrdup(J.url);
	} else if (ul >= sizeof CO - 1 && !strcmp(J.url + ul - (sizeof CO - 1), CO)) {
		if (J.api == API_CHAT)
			cm_usage_error("--api chat with a text completions URL '%s'", J.url);
		J.api = API_COMPLETIONS;
		url = cm_xstrdup(J.url);
	} else {
		if (J.api < 0)
			J.api = API_CHAT;
		while (ul && J.url[ul - 1] == '/')
			ul--;
		const char *tail = J.api == API_CHAT ? CH : CO;
		url = cm_xmalloc(ul + strlen(tail) + 1);
		memcpy(url, J.url, ul);
		strcpy(url + ul, tail);
	}
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		cm_usage_error("--endpoint '%s': not an http:// or https:// URL", J.url);
	J.url = url;

	cm_buf tb = CM_BUF_INIT;
	if (tmpl_file) {
		if (cm_input_load(tmpl_file, &tb, 1 << 20, err, sizeof err) < 0)
			cm_die("--template: %s", err);
		if (memchr(tb.p, 0, tb.len))
			cm_die("--template: '%s' holds a NUL byte", tmpl_file);
		J.tmpl = tb.p;
	} else {
		J.tmpl = lm_judge_default_template;
	}
	if (lm_judge_template_check(J.tmpl, err, sizeof err) < 0)
		cm_die("--template%s%s%s: %s", tmpl_file ? " '" : "", tmpl_file ? tmpl_file : "",
		       tmpl_file ? "'" : "", err);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		cm_die("cannot initialise libcurl");
	J.hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (key_env) {
		const char *key = getenv(key_env);
		if (!key || !*key)
			cm_usage_error("--api-key-env: the environment variable '%s' is %s", key_env,
				       key ? "empty" : "not set");
		cm_buf h = CM_BUF_INIT;
		cm_buf_printf(&h, "Authorization: Bearer %s", key);
		J.hdrs = curl_slist_append(J.hdrs, h.p);
		cm_buf_free(&h);
	}
	J.multi = curl_multi_init();
	if (!J.multi)
		cm_die("cannot initialise libcurl");
	curl_multi_setopt(J.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)J.jobs);

	J.nring = (size_t)J.jobs * 4 < 16 ? 16 : (size_t)J.jobs * 4;
	J.ring = cm_xcalloc(J.nring, sizeof *J.ring);
	J.out = cm_output_open(out ? out : "-", 0);
	if (rejects)
		J.rej = cm_output_open(rejects, 0);
	if (verdicts)
		J.ver = cm_output_open(verdicts, 0);
	if (battles)
		J.bat = cm_output_open(battles, 0);
	cm_progress_init(&J.prog, cm_verbosity < 0 && progress < 0 ? 0 : progress, 0);

	double t0 = cm_now();
	cm_buf b = CM_BUF_INIT;
	if (na == 0)
		run(NULL, &b);
	for (int i = 0; i < na; i++)
		run(args[i], &b);
	double secs = cm_now() - t0;
	show_progress(1);
	cm_progress_break(&J.prog);
	cm_buf_free(&b);
	cm_output_close(J.out);
	if (J.rej)
		cm_output_close(J.rej);
	if (J.ver)
		cm_output_close(J.ver);
	if (J.bat)
		cm_output_close(J.bat);
	if (stats)
		write_stats(stats, secs);
	if (J.bat && J.battle_skips && cm_verbosity >= 0)
		cm_warn("--battles: %llu judged records named one model only, or the same "
			"twice (model_a, model_b): no battle written for them",
			(unsigned long long)J.battle_skips);
	if (cm_verbosity > 0)
		cm_info("%llu records: %llu judged (%llu agree, %llu ties), %llu errors, %llu "
			"malformed; %llu requests, %llu retries, %llu nonsense answers; %.1f s",
			(unsigned long long)J.records, (unsigned long long)J.judged,
			(unsigned long long)J.agree, (unsigned long long)J.ties,
			(unsigned long long)J.errors, (unsigned long long)J.malformed,
			(unsigned long long)J.requests, (unsigned long long)J.retries_done,
			(unsigned long long)J.nonsense, secs);
	if (J.rm) {
		lm_rm_enc_free(&J.enc);
		lm_session_close(&J.R);
	}
	curl_multi_cleanup(J.multi);
	curl_slist_free_all(J.hdrs);
	cm_buf_free(&tb);
	free(J.ring);
	free(url);
	if ((J.errors || J.malformed) && !keep_going) {
		if (cm_verbosity >= 0)
			cm_error("%llu of %llu records not judged (%llu errors, %llu malformed)",
				 (unsigned long long)(J.errors + J.malformed),
				 (unsigned long long)J.records, (unsigned long long)J.errors,
				 (unsigned long long)J.malformed);
		return 1;
	}
	return 0;
}
