/* 8081-sft.c - supervised fine-tuning examples (trainer/sft.c): records to ids and loss masks
 * (pairs, chat messages, HH-RLHF transcripts), bad records (empty response, unknown role,
 * missing template token, not JSON), a file packed into rows: no loss on prompt tokens,
 * positions and documents reset at each example, a packed example's losses those of the
 * example alone (no attention across examples), too long prompts skipped and long examples
 * cut (counted), batches a pure function of the seed and the batch number (resume). */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytetok.h"
#include "cli.h"
#include "config.h"
#include "kernels.h"
#include "model.h"
#include "sft.h"
#include "tap.h"
#include "tok.h"

/* ok when the reason matches an extended regex */
static void like_reason(const char *got, const char *re)
{
	regex_t r;
	int m = regcomp(&r, re, REG_EXTENDED | REG_NOSUB) == 0 && regexec(&r, got, 0, NULL, 0) == 0;
	regfree(&r);
	ok(m, "  the reason: '%s' matches /%s/", got, re);
}

static int enc(lm_sft_enc *e, const char *rec, char *why)
{
	return lm_sft_encode(e, rec, strlen(rec), why, 400);
}

/* ids and mask as text: a trained id in capitals ("ab" + "cd" -> "abCD$", $ = end of text,
 * < > the chat tokens; a trained one [ ]) */
static const char *show(const lm_sft_enc *e)
{
	static char s[4096];
	size_t k = 0;
	for (size_t i = 0; i < e->ids.n && k + 2 < sizeof s; i++) {
		uint32_t id = e->ids.v[i];
		int m = e->mask[i];
		char c = id == 256 ? '$' : id == 257 ? (m ? '[' : '<') : id == 258 ? (m ? ']' : '>') :
			(char)id;
		if (m && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (m && c == ' ')
			c = '_';
		s[k++] = c;
	}
	s[k] = 0;
	return s;
}

static void records(void)
{
	char why[400];
	lm_sft_enc e;
	cm_tok *tk = byte_tokenizer_chat(1), *plain = byte_tokenizer_chat(0);
	ok(lm_sft_enc_init(&e, tk, why, sizeof why) == 0, "an encoder");
	is_int(enc(&e, "{\"prompt\": \"ab \", \"response\": \"cd\"}", why), 0, "a pair");
	is_str(show(&e), "ab CD$", "  prompt untrained; response and end of text trained");
	is_int(enc(&e, "{\"prompt\": \"ab\", \"response\": \"\"}", why), -1, "an empty response");
	like_reason(why, "empty response");
	is_int(enc(&e, "{\"messages\": [{\"role\": \"system\", \"content\": \"s\"}, {\"role\": \"user\", "
		   "\"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}, {\"role\": "
		   "\"user\", \"content\": \"x\"}, {\"role\": \"assistant\", \"content\": \"ok\"}]}", why),
	       0, "chat messages");
	is_str(show(&e), "<system\ns>\n<user\nhi>\n<assistant\nYO]\n<user\nx>\n<assistant\nOK]\n",
	       "  the template; the assistant messages and their end tokens trained");
	char first[4096];
	snprintf(first, sizeof first, "%s", show(&e));
	is_int(enc(&e, "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: yo\\n\\nHuman: x\\n\\nAssistant: ok\"}",
		   why), 0, "an HH-RLHF transcript");
	is_str(show(&e), "<user\nhi>\n<assistant\nYO]\n<user\nx>\n<assistant\nOK]\n",
	       "  its turns as user and assistant messages");
	is_int(enc(&e, "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"robot\", "
		   "\"content\": \"b\"}]}", why), -1, "an unknown role");
	like_reason(why, "unknown role 'robot'");
	is_int(enc(&e, "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}", why), -1,
	       "no assistant message");
	is_int(enc(&e, "{\"prompt\": 1, \"response\": \"a\"}", why), -1, "a prompt not a string");
	is_int(enc(&e, "{\"prompt\": \"a\", \"respo", why), -1, "not JSON");
	is_int(enc(&e, "[1, 2]", why), -1, "not an object");
	is_int(enc(&e, "{\"text\": \"no transcript\"}", why), -1, "a text that is no transcript");
	is_int(enc(&e, "{\"other\": 1}", why), -1, "none of the formats");
	lm_sft_enc_free(&e);

	ok(lm_sft_enc_init(&e, plain, why, sizeof why) == 0, "an encoder without the chat tokens");
	is_int(enc(&e, "{\"prompt\": \"ab\", \"response\": \"cd\"}", why), 0, "  pairs still work");
	is_int(enc(&e, "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": "
		   "\"assistant\", \"content\": \"b\"}]}", why), -2, "  messages cannot be encoded at all");
	like_reason(why, "token '<\\|im_start\\|>' is not in the tokenizer");
	lm_sft_enc_free(&e);
	cm_tok_free(tk);
	cm_tok_free(plain);
}

static char *write_file(const char *text)
{
	static char path[] = "/tmp/8081-sft-XXXXXX";
	char *p = cm_xmalloc(sizeof path);
	memcpy(p, path, sizeof path);
	int fd = mkstemp(p);
	ok(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) && close(fd) == 0,
	   "a file of records");
	return p;
}

/* each trained target is a lower-case letter or end of text (prompts are capitals and
 * digits); positions start at 0 where a document starts */
static void check_rows(const int32_t *x, const int32_t *y, const int32_t *pos, const int32_t *doc,
		       int B, int T, int64_t targets, const char *what)
{
	int bad_target = 0, bad_pos = 0, bad_doc = 0;
	int64_t n = 0;
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T; t++) {
			int i = b * T + t;
			if (y[i] >= 0) {
				n++;
				if (!((y[i] >= 'a' && y[i] <= 'z') || y[i] == 256))
					bad_target++;
			}
			if (doc[i] > t || pos[i] != t - doc[i])
				bad_pos++;
			if (t > 0 && doc[i] != doc[i - 1] && doc[i] != t)
				bad_doc++;
			(void)x;
		}
	is_int(bad_target, 0, "%s: no loss on a prompt token", what);
	is_int(n, targets, "%s: the trained targets counted", what);
	is_int(bad_pos, 0, "%s: positions from 0 in each example", what);
	is_int(bad_doc, 0, "%s: a document starts where the last ends", what);
}

static void packing(kn_backend *be)
{
	cm_tok *tk = byte_tokenizer_chat(1);
	cm_buf b = { 0 };
	char line[512];
	/* 24 examples of 4 + 2 to 9 ids; one too long a prompt; one long response; one empty */
	for (int i = 0; i < 24; i++) {
		int np = 3 + i % 4, nr = 1 + (i * 7) % 8;
		char p[16], r[16];
		for (int j = 0; j < np; j++)
			p[j] = (char)('A' + (i + j) % 26);
		p[np] = 0;
		for (int j = 0; j < nr; j++)
			r[j] = (char)('a' + (i * 3 + j) % 26);
		r[nr] = 0;
		snprintf(line, sizeof line, "{\"prompt\": \"%s\", \"response\": \"%s\"}\n", p, r);
		cm_buf_adds(&b, line);
	}
	cm_buf_adds(&b, "{\"prompt\": \"0123456789012345678901234567890123456789\", \"response\": \"x\"}\n");
	cm_buf_adds(&b, "{\"prompt\": \"Q\", \"response\": \"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\"}\n");
	cm_buf_adds(&b, "{\"prompt\": \"Q\", \"response\": \"\"}\n\n");
	cm_buf_addc(&b, 0);
	char *path = write_file(b.p);
	cm_buf_free(&b);

	enum { T = 16, B = 3 };
	lm_sft_data d;
	char err[1024] = "";
	ok(lm_sft_open(&d, path, tk, T, 5, 0.2, err, sizeof err) == 0, "a file opened: %s", err);
	is_int(d.records, 27, "  27 records");
	is_int(d.skipped, 2, "  2 skipped (a prompt past the context, an empty response)");
	like_reason(d.first_skip, "record 25: no response token within the context");
	is_int(d.truncated, 1, "  1 cut to the context");
	is_int(d.nval, 5, "  a fifth held out");
	is_int(d.ntrain, 20, "  the rest for training");
	ok(d.rows < d.ntrain, "  packed: %llu rows for %zu examples", (unsigned long long)d.rows,
	   d.ntrain);

	int32_t x[B * T], y[B * T], pos[B * T], doc[B * T];
	int32_t x2[B * T], y2[B * T], pos2[B * T], doc2[B * T];
	/* batches past the first epoch, then again in another order: the same rows */
	int64_t tg[8];
	uint64_t sum[8];
	for (int k = 0; k < 8; k++) {
		tg[k] = lm_sft_rows(&d, (uint64_t)k, 0, 1, B, x, y, pos, doc);
		char what[32];
		snprintf(what, sizeof what, "batch %d", k);
		check_rows(x, y, pos, doc, B, T, tg[k], what);
		sum[k] = 0;
		for (int i = 0; i < B * T; i++)
			sum[k] = sum[k] * 31 + (uint64_t)x[i] * 7 + (uint64_t)(y[i] + 1);
	}
	int same = 1;
	for (int k = 7; k >= 0; k--) {
		int64_t t = lm_sft_rows(&d, (uint64_t)k, 0, 1, B, x2, y2, pos2, doc2);
		uint64_t s = 0;
		for (int i = 0; i < B * T; i++)
			s = s * 31 + (uint64_t)x2[i] * 7 + (uint64_t)(y2[i] + 1);
		same &= t == tg[k] && s == sum[k];
	}
	ok(same, "batch k is the same read in any order (a resumed run sees the same data)");
	/* an epoch reads every training row once */
	uint64_t R = d.rows;
	int64_t all = 0, want = 0;
	for (uint64_t r = 0; r < R; r++) {
		int32_t xx[T], yy[T], pp[T], dd[T];
		all += lm_sft_rows(&d, r, 0, 1, 1, xx, yy, pp, dd);
	}
	for (size_t i = 0; i < d.ntrain; i++) {
		lm_sft_enc *e = &d.enc;
		uint32_t ex = d.train[i];
		char why[400];
		lm_sft_encode(e, (const char *)d.map + d.off[ex], d.len[ex], why, sizeof why);
		for (uint32_t j = 1; j < d.ntok[ex]; j++)
			want += e->mask[j];
	}
	is_int(all, want, "an epoch trains every training example's response tokens once");
	int64_t vt = lm_sft_val_row(&d, 0, x, y, pos, doc);
	check_rows(x, y, pos, doc, 1, T, vt, "held-out row");

	/* no attention across examples: the losses of a packed row's examples are those of each
	 * example alone */
	lm_config c;
	ok(lm_config_load(&c, "tiny", 259, err, sizeof err) == 0, "the tiny preset: %s", err);
	c.layers = 2;
	c.ctx = 32;
	c.vocab_padded = (c.vocab + 63) / 64 * 64;
	lm_model *m = lm_model_new(be, &c, 0);
	lm_model_init(m, 3);
	lm_sft_rows(&d, 0, 0, 1, B, x, y, pos, doc);
	float packed[B * T], alone[T];
	lm_forward(m, B, T, x, pos, doc);
	lm_loss(m, y, 0, packed);
	double worst = 0;
	int docs = 0;
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T;) {
			int i = b * T + t, n = 1;
			while (t + n < T && doc[i + n] == doc[i])
				n++;
			lm_forward(m, 1, n, x + i, NULL, NULL);
			lm_loss(m, y + i, 0, alone);
			for (int j = 0; j < n; j++)
				worst = fmax(worst, fabs((double)packed[i + j] - (double)alone[j]));
			docs++;
			t += n;
		}
	ok(docs > B && worst < 1e-5, "%d packed examples: their losses as alone (worst %.2g)", docs,
	   worst);
	/* growing the vocabulary: the old rows kept, the new ones their mean */
	lm_model *g = lm_model_grow_vocab(m, 261, 0);
	int V = 259, D = c.dim;
	const lm_hf_tensor *ho = NULL, *hg = NULL;
	for (int i = 0; i < m->nhf; i++)
		if (m->hf[i].rows == V && !m->hf[i].transpose) {
			ho = &m->hf[i];
			hg = &g->hf[i];
			break;
		}
	ok(ho && hg && hg->rows == 261, "the grown model's embedding has 261 rows");
	if (ho && hg) {
		float *a = cm_xmalloc((size_t)V * D * sizeof(float));
		float *b = cm_xmalloc((size_t)261 * D * sizeof(float));
		lm_hf_get(m, ho, m->params, a);
		lm_hf_get(g, hg, g->params, b);
		ok(!memcmp(a, b, (size_t)V * D * sizeof(float)), "  the old rows kept");
		double wm = 0;
		for (int k = 0; k < D; k++) {
			double mean = 0;
			for (int r = 0; r < V; r++)
				mean += a[(size_t)r * D + k];
			mean /= V;
			wm = fmax(wm, fabs(b[(size_t)259 * D + k] - mean));
			wm = fmax(wm, fabs(b[(size_t)260 * D + k] - mean));
		}
		ok(wm < 1e-6, "  the new rows the mean of the old (off by %.2g)", wm);
		free(a);
		free(b);
	}
	lm_model_free(g);
	lm_model_free(m);
	lm_sft_close(&d);
	unlink(path);
	free(path);

	/* every record bad, or the template token missing */
	path = write_file("{\"prompt\": \"a\", \"response\": \"\"}\n");
	ok(lm_sft_open(&d, path, tk, T, 0, 0, err, sizeof err) < 0, "no usable example: an error");
	like_reason(err, "no usable example in 1 records; record 1: an empty response");
	lm_sft_close(&d);
	unlink(path);
	free(path);
	/* a compressed file: refused (its records are read again at every step) */
	path = write_file("\x1f\x8b\x08\x08 not read as records\n");
	ok(lm_sft_open(&d, path, tk, T, 0, 0, err, sizeof err) < 0, "a gzip file: an error");
	like_reason(err, "compressed: decompress it first");
	lm_sft_close(&d);
	unlink(path);
	free(path);
	cm_tok *plain = byte_tokenizer_chat(0);
	path = write_file("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": "
			  "\"assistant\", \"content\": \"b\"}]}\n");
	ok(lm_sft_open(&d, path, plain, T, 0, 0, err, sizeof err) < 0, "a template token missing: an error");
	like_reason(err, "record 1: the chat template's token '<\\|im_start\\|>' is not in the tokenizer");
	lm_sft_close(&d);
	unlink(path);
	free(path);
	cm_tok_free(plain);
	cm_tok_free(tk);
}

int main(void)
{
	char err[1024];
	records();
	kn_backend *be = kn_open("cpu", 1, err, sizeof err);
	if (!be) {
		printf("# SKIP the packed model check: %s\n", err);
		return tap_done();
	}
	packing(be);
	kn_close(be);
	return tap_done();
}
