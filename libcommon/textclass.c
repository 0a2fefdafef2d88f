/* textclass.c - the fastText-style classifier (see textclass.h).
 *
 * Features: the words of the text (runs of letters and digits, any byte from 0x80 up counting
 * as a letter; ASCII lower-cased), at most 4,000 of them; each word and each run of 2 ..
 * word_ngrams adjacent words, and (char_n > 0) the character char_n-grams of "<word>" (words
 * of up to 40 bytes), hashed (XXH3, a different seed for each kind) into `buckets` rows. A run
 * of k words hashes the hash of its first k - 1 with the last word's hash as the seed, so the
 * pairs are those of version 1 files.
 * Training: SGD on the softmax loss, the learning rate falling linearly to 0 over the epochs,
 * examples shuffled each epoch (a seeded generator: the same data and seed give the same
 * model); the embedding rows start uniform in +-1/dim, the output layer at 0, as fastText.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "buf.h"
#include "cli.h"
#include "input.h"
#include "output.h"
#include "rand.h"
#include "textclass.h"

#define MAX_WORDS 4000
#define MAX_FEATURES (1 << 16)
#define MODEL_VERSION 2
/* a model file is at most this large (2^26 rows of 1,024 would be 256 GiB) */
#define MAX_FILE ((size_t)8 << 30)

void cm_tc_defaults(cm_tc_opts *o)
{
	*o = (cm_tc_opts){ .buckets = 1u << 18, .dim = 16, .epochs = 10, .word_ngrams = 2,
			   .char_n = 4, .lr = 0.5f, .seed = 1, .holdout = 0.1, .threshold = 0.5 };
}

const cm_opt *cm_tc_opt_table(cm_tc_opts *o)
{
	static cm_opt t[16];
	static char h[8][96];
	int n = 0;

	snprintf(h[0], sizeof h[0], "embedding width (default: %u)", o->dim);
	snprintf(h[1], sizeof h[1], "hashed feature rows (default: %u)", o->buckets);
	snprintf(h[2], sizeof h[2], "passes over the data (default: %u)", o->epochs);
	snprintf(h[3], sizeof h[3], "learning rate, falling to 0 (default: %g)", (double)o->lr);
	snprintf(h[4], sizeof h[4], "runs of up to N adjacent words (default: %u)", o->word_ngrams);
	snprintf(h[5], sizeof h[5], "character N-grams of each word, 0: none (default: %u)", o->char_n);
	snprintf(h[6], sizeof h[6], "share of the records kept out to measure (by id hash;\n"
		 "default: %g)", o->holdout);
#define ROW(...) (t[n++] = (cm_opt)__VA_ARGS__)
	ROW(CM_OPT_DOUBLE(0, "holdout", &o->holdout, "X", 0, 0.9, h[6]));
	ROW(CM_OPT_INT(0, "dim", &o->dim, "N", 1, 1024, h[0]));
	ROW(CM_OPT_INT(0, "buckets", &o->buckets, "N", 1, 1 << 26, h[1]));
	ROW(CM_OPT_INT(0, "epochs", &o->epochs, "N", 1, 10000, h[2]));
	ROW(CM_OPT_DOUBLE(0, "lr", &o->lr, "X", 1e-6, 100, h[3]));
	ROW(CM_OPT_INT(0, "word-ngrams", &o->word_ngrams, "N", 1, CM_TC_MAX_NGRAMS, h[4]));
	ROW(CM_OPT_INT(0, "char-ngrams", &o->char_n, "N", 0, CM_TC_MAX_CHAR_N, h[5]));
	ROW(CM_OPT_INT(0, "seed", &o->seed, "N", 0, 1LL << 62,
		       "for the initial weights and the order (default: 1)"));
	ROW(CM_OPT_STRING(0, "positive", &o->positive, "LABEL",
			  "the label of interest: its precision and recall after\n"
			  "training, and what --classifier scores (default: the\nsecond of two labels by name)"));
	ROW(CM_OPT_DOUBLE(0, "threshold", &o->threshold, "X", 0, 1,
			  "... counting a record positive at this probability (default: 0.5)"));
	ROW(CM_OPT_END());
#undef ROW
	return t;
}

static int word_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

size_t cm_tc_features(const cm_tc_model *m, const char *t, size_t n, uint32_t *f, size_t max)
{
	size_t i = 0, k = 0, words = 0;
	uint32_t b = m->buckets, cn = m->char_n, ng = m->word_ngrams;
	/* a row: the hash modulo the rows, a mask where they are a power of two (the same rows) */
#define ROW_OF(x) ((uint32_t)((b & (b - 1)) ? (x) % b : (x) & (b - 1)))
	uint64_t run[CM_TC_MAX_NGRAMS + 1] = { 0 };	/* run[j]: the last j words' hash */
	char w[42];

	while (i < n && words < MAX_WORDS && k < max) {
		size_t wl = 0;

		while (i < n && !word_byte((unsigned char)t[i]))
			i++;
		if (i >= n)
			break;
		w[wl++] = '<';
		while (i < n && word_byte((unsigned char)t[i])) {
			if (wl < sizeof w - 1)
				w[wl++] = (char)((t[i] >= 'A' && t[i] <= 'Z') ? t[i] + 32 : t[i]);
			i++;
		}
		w[wl++] = '>';
		words++;
		uint64_t h = XXH3_64bits_withSeed(w + 1, wl - 2, 1);
		f[k++] = ROW_OF(h);
		/* the runs ending here, longest first (each from the one a word shorter) */
		for (uint32_t j = ng < words ? ng : (uint32_t)words; j >= 2; j--) {
			run[j] = XXH3_64bits_withSeed(&run[j - 1], sizeof run[j - 1], h);
			if (k < max)
				f[k++] = ROW_OF(run[j]);
		}
		run[1] = h;
		if (cn)
			for (size_t j = 0; j + cn <= wl && k < max; j++)
				f[k++] = ROW_OF(XXH3_64bits_withSeed(w + j, cn, 2));
	}
#undef ROW_OF
	return k;
}

/* h = mean of the rows; p = softmax(out^T h); returns the best label */
static int forward(const cm_tc_model *m, const uint32_t *f, size_t nf, float *h, float *p)
{
	uint32_t dim = m->dim, nc = m->nclass;
	float mx = -INFINITY, sum = 0;
	int best = 0;

	memset(h, 0, dim * sizeof *h);
	for (size_t i = 0; i < nf; i++) {
		const float *row = m->emb + (size_t)f[i] * dim;

		/* the rows are scattered over a table larger than the caches: ask early */
		if (i + 8 < nf)
			__builtin_prefetch(m->emb + (size_t)f[i + 8] * dim);

		for (uint32_t d = 0; d < dim; d++)
			h[d] += row[d];
	}
	if (nf)
		for (uint32_t d = 0; d < dim; d++)
			h[d] /= (float)nf;
	for (uint32_t c = 0; c < nc; c++) {
		float z = 0;

		for (uint32_t d = 0; d < dim; d++)
			z += h[d] * m->out[(size_t)d * nc + c];
		p[c] = z;
		if (z > mx) {
			mx = z;
			best = (int)c;
		}
	}
	for (uint32_t c = 0; c < nc; c++)
		sum += p[c] = expf(p[c] - mx);
	for (uint32_t c = 0; c < nc; c++)
		p[c] /= sum;
	return best;
}

static cm_tc_model *model_new(uint32_t buckets, uint32_t dim, uint32_t nclass)
{
	cm_tc_model *m = cm_xcalloc(1, sizeof *m);

	m->buckets = buckets;
	m->dim = dim;
	m->nclass = nclass;
	m->classes = cm_xcalloc(nclass, sizeof *m->classes);
	/* rows from cache-line boundaries: a row of 16 is one line, not two */
	size_t eb = ((size_t)buckets * dim * sizeof(float) + 63) & ~(size_t)63;
	if (!(m->emb = aligned_alloc(64, eb)))
		cm_die("out of memory (%zu bytes for the model)", eb);
	memset(m->emb, 0, eb);
	m->out = cm_xcalloc((size_t)dim * nclass, sizeof(float));
	return m;
}

cm_tc_model *cm_tc_train(const cm_tc_opts *o, const char *const *texts, const size_t *lens,
			 const int *y, size_t n, char *const *classes, uint32_t nclass)
{
	cm_tc_model *m = model_new(o->buckets, o->dim, nclass);
	uint64_t rng = o->seed;
	size_t *order = cm_xmalloc((n ? n : 1) * sizeof *order), total = (size_t)o->epochs * n, step = 0;
	uint32_t *f = cm_xmalloc(MAX_FEATURES * sizeof *f), dim = o->dim;
	float *h = cm_xmalloc(dim * sizeof(float)), *p = cm_xmalloc(nclass * sizeof(float)),
	      *gh = cm_xmalloc(dim * sizeof(float));

	m->word_ngrams = o->word_ngrams;
	m->char_n = o->char_n;
	for (uint32_t c = 0; c < nclass; c++)
		m->classes[c] = cm_xstrdup(classes[c]);
	for (size_t i = 0; i < (size_t)o->buckets * dim; i++)
		m->emb[i] = ((float)(cm_splitmix64(&rng) >> 40) / (float)(1 << 24) * 2 - 1) / (float)dim;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (uint32_t e = 0; e < o->epochs; e++) {
		for (size_t i = n; i > 1; i--) {	/* shuffle */
			size_t j = cm_splitmix64(&rng) % i, t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t i = 0; i < n; i++, step++) {
			size_t k = order[i], nf = cm_tc_features(m, texts[k], lens[k], f, MAX_FEATURES);
			float lr = o->lr * (1.0f - (float)step / (float)(total ? total : 1));

			if (!nf)
				continue;
			forward(m, f, nf, h, p);
			p[y[k]] -= 1.0f;	/* the gradient of the loss at the scores */
			memset(gh, 0, dim * sizeof(float));
			for (uint32_t d = 0; d < dim; d++) {
				float *w = m->out + (size_t)d * nclass;

				for (uint32_t c = 0; c < nclass; c++) {
					gh[d] += w[c] * p[c];
					w[c] -= lr * h[d] * p[c];
				}
			}
			float s = lr / (float)nf;
			for (uint32_t d = 0; d < dim; d++)
				gh[d] *= s;
			for (size_t q = 0; q < nf; q++) {
				float *row = m->emb + (size_t)f[q] * dim;

				for (uint32_t d = 0; d < dim; d++)
					row[d] -= gh[d];
			}
		}
	}
	free(order);
	free(f);
	free(h);
	free(p);
	free(gh);
	return m;
}

int cm_tc_predict(const cm_tc_model *m, const char *text, size_t n, float *p)
{
	static _Thread_local uint32_t *f;
	static _Thread_local float *h;
	static _Thread_local uint32_t hdim;

	if (!f)
		f = cm_xmalloc(MAX_FEATURES * sizeof *f);
	if (hdim < m->dim) {
		free(h);
		h = cm_xmalloc(m->dim * sizeof *h);
		hdim = m->dim;
	}
	return forward(m, f, cm_tc_features(m, text, n, f, MAX_FEATURES), h, p);
}

int cm_tc_class(const cm_tc_model *m, const char *label)
{
	for (uint32_t c = 0; c < m->nclass; c++)
		if (!strcmp(m->classes[c], label))
			return (int)c;
	return -1;
}

void cm_tc_free(cm_tc_model *m)
{
	if (!m)
		return;
	for (uint32_t c = 0; c < m->nclass; c++)
		free(m->classes[c]);
	free(m->classes);
	free(m->emb);
	free(m->out);
	free(m);
}

/* ---- the file: little-endian, as x86 and ARM Linux write it ---- */

int cm_tc_save(const cm_tc_model *m, const char *path, char *err, size_t errlen)
{
	uint32_t hdr[6] = { MODEL_VERSION, m->buckets, m->dim, m->nclass, m->word_ngrams, m->char_n };
	cm_afile f;
	int ok = 1;

	/* replaced whole (a temporary renamed into place), or written through to a device */
	if (cm_afile_open(&f, path, err, errlen) < 0)
		return -1;
	XXH64_state_t *st = XXH64_createState();
	if (!st) {
		cm_afile_abort(&f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	XXH64_reset(st, 0);
#define PUT(p, n) do { ok = ok && cm_afile_write(&f, (p), (n)) == 0; XXH64_update(st, (p), (n)); } while (0)
	PUT(CM_TC_MAGIC, 8);
	PUT(hdr, sizeof hdr);
	for (uint32_t c = 0; c < m->nclass; c++) {
		uint32_t l = (uint32_t)strlen(m->classes[c]);

		PUT(&l, sizeof l);
		PUT(m->classes[c], l);
	}
	PUT(m->emb, (size_t)m->buckets * m->dim * sizeof(float));
	PUT(m->out, (size_t)m->dim * m->nclass * sizeof(float));
#undef PUT
	uint64_t sum = XXH64_digest(st);
	XXH64_freeState(st);
	ok = ok && cm_afile_write(&f, &sum, sizeof sum) == 0;
	if (!ok) {
		int e = errno;

		cm_afile_abort(&f);
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(e));
		return -1;
	}
	return cm_afile_commit(&f, err, errlen);
}

cm_tc_model *cm_tc_load(const char *path, char *err, size_t errlen)
{
	cm_buf fb = CM_BUF_INIT;
	uint32_t hdr[6] = { 0 };
	uint64_t sum;
	cm_tc_model *m;
	char e2[512];

	if (cm_input_load(path, &fb, MAX_FILE, e2, sizeof e2) < 0) {
		snprintf(err, errlen, "%s", e2);
		cm_buf_free(&fb);
		return NULL;
	}
	const unsigned char *b = (const unsigned char *)fb.p;
	size_t n = fb.len, at = 8 + 4 * sizeof *hdr;
#define BAD(why) do { snprintf(err, errlen, "%s: %s", path, why); cm_buf_free(&fb); return NULL; } while (0)
	if (n < 8 + 4 * sizeof *hdr + 8 || memcmp(b, CM_TC_MAGIC, 8) != 0)
		BAD("not a text classifier model (domain-tag, quality-score)");
	memcpy(&sum, b + n - 8, 8);
	if (XXH64(b, n - 8, 0) != sum)
		BAD("checksum mismatch (damaged or truncated)");
	memcpy(hdr, b + 8, 4 * sizeof *hdr);
	if (hdr[0] == 1) {	/* words, pairs, character 4-grams */
		hdr[4] = 2;
		hdr[5] = 4;
	} else if (hdr[0] == MODEL_VERSION && n >= 8 + sizeof hdr + 8) {
		memcpy(hdr + 4, b + at, 2 * sizeof *hdr);
		at += 2 * sizeof *hdr;
	} else {
		BAD("model file version not supported");
	}
	if (!hdr[1] || !hdr[2] || !hdr[3] || hdr[1] > (1u << 26) || hdr[2] > 1024 || hdr[3] > 4096 ||
	    !hdr[4] || hdr[4] > CM_TC_MAX_NGRAMS || hdr[5] > CM_TC_MAX_CHAR_N)
		BAD("implausible sizes");
	size_t k = ((size_t)hdr[1] * hdr[2] + (size_t)hdr[2] * hdr[3]) * sizeof(float);
	if (k > n)	/* before allocating what the header claims */
		BAD("sizes do not match the file");
	m = model_new(hdr[1], hdr[2], hdr[3]);
	m->word_ngrams = hdr[4];
	m->char_n = hdr[5];
	uint32_t c;
	for (c = 0; c < m->nclass; c++) {
		uint32_t l;

		if (at + 4 > n - 8)
			break;
		memcpy(&l, b + at, 4);
		at += 4;
		if (l > 256 || at + l > n - 8)
			break;
		m->classes[c] = cm_xmalloc(l + 1);
		memcpy(m->classes[c], b + at, l);
		m->classes[c][l] = '\0';
		at += l;
	}
	if (c < m->nclass || at + k != n - 8) {
		cm_tc_free(m);
		BAD("sizes do not match the file");
	}
	memcpy(m->emb, b + at, (size_t)m->buckets * m->dim * sizeof(float));
	memcpy(m->out, b + at + (size_t)m->buckets * m->dim * sizeof(float),
	       (size_t)m->dim * m->nclass * sizeof(float));
#undef BAD
	cm_buf_free(&fb);
	return m;
}

/* ---- training from labelled JSONL ---- */

struct example {
	char *text;
	size_t len;
	int y, held;
};

static int class_id(char ***classes, uint32_t *n, const char *name, size_t len)
{
	for (uint32_t i = 0; i < *n; i++)
		if (strlen((*classes)[i]) == len && memcmp((*classes)[i], name, len) == 0)
			return (int)i;
	if (*n >= 4096 || len > 256)
		return -1;
	*classes = cm_xrealloc(*classes, (*n + 1) * sizeof **classes);
	(*classes)[*n] = cm_xmalloc(len + 1);
	memcpy((*classes)[*n], name, len);
	(*classes)[*n][len] = '\0';
	return (int)(*n)++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cm_tc_train_file(const cm_tc_opts *o, const char *path, const char *out, const char *text_field,
		     size_t max_line, size_t max_bytes, cm_tc_labeler fn, void *ctx)
{
	char err[512], *line, **classes = NULL;
	struct example *ex = NULL;
	size_t nex = 0, cap = 0, skipped = 0, bad = 0, len, bytes = 0;
	uint32_t ncls = 0;
	int r;

	cm_input *in = cm_input_open(path);
	if (!in)
		return 1;
	cm_json *j = cm_json_new();
	cm_json_want(j, text_field);
	cm_json_want(j, "url");
	cm_json_want(j, "label");
	cm_json_want(j, "id");
	while ((r = cm_input_line(in, &line, &len, max_line)) != 0) {
		cm_jrec rec;
		const char *label = NULL;
		size_t ln = 0;
		int y;

		if (r < 0 || cm_json_parse(j, line, len, &rec, err, sizeof err) != 0) {
			bad += len > 0;
			continue;
		}
		const cm_jfield *t = cm_jrec_get(&rec, text_field), *l = cm_jrec_get(&rec, "label"),
				*id = cm_jrec_get(&rec, "id");
		if (l && l->str && l->str_len) {
			label = l->str;
			ln = l->str_len;
		} else if (fn && (label = fn(ctx, &rec))) {
			ln = strlen(label);
		}
		if (!label || !t || !t->str || !t->str_len || (y = class_id(&classes, &ncls, label, ln)) < 0) {
			skipped++;
			continue;
		}
		if ((bytes += t->str_len) > max_bytes) {
			cm_error("%s: more than %zu bytes of labelled text: train on a sample of it", path,
				 max_bytes);
			r = -2;
			break;
		}
		if (nex == cap) {
			cap = cap ? 2 * cap : 1024;
			ex = cm_xrealloc(ex, cap * sizeof *ex);
		}
		ex[nex].text = cm_xmalloc(t->str_len);
		memcpy(ex[nex].text, t->str, t->str_len);
		ex[nex].len = t->str_len;
		ex[nex].y = y;
		/* held out by a hash of the id (of the text when there is none): stable across runs */
		const char *key = id && id->str ? id->str : t->str;
		size_t kn = id && id->str ? id->str_len : t->str_len;
		ex[nex].held = (double)(XXH3_64bits(key, kn) >> 11) / 9007199254740992.0 < o->holdout;
		nex++;
	}
	int failed = r == -2 || cm_input_failed(in) || cm_input_truncated(in);
	if (failed && r != -2)
		cm_error("%s: %s", path, cm_input_error(in));
	cm_input_close(in);
	cm_json_free(j);
	int rc = 1;
	float *p = NULL;
	cm_tc_model *m = NULL;
	const char **texts = NULL;
	size_t *lens = NULL, *per = NULL;
	int *ys = NULL;
	if (failed)
		goto done;
	if (ncls < 2) {
		cm_error("%s: %zu labelled records in %u labels: need two labels at least", path, nex, ncls);
		goto done;
	}
	/* the labels in name order, so the model does not depend on the order of the records */
	char **sorted = cm_xmalloc(ncls * sizeof *sorted);
	int *map = cm_xmalloc(ncls * sizeof *map);
	memcpy(sorted, classes, ncls * sizeof *sorted);
	qsort(sorted, ncls, sizeof *sorted, by_name);
	for (uint32_t c = 0; c < ncls; c++)
		for (uint32_t s = 0; s < ncls; s++)
			if (sorted[s] == classes[c])
				map[c] = (int)s;
	for (size_t i = 0; i < nex; i++)
		ex[i].y = map[ex[i].y];
	memcpy(classes, sorted, ncls * sizeof *sorted);
	free(sorted);
	free(map);
	int pos = -1;
	if (o->positive) {
		for (uint32_t c = 0; c < ncls; c++)
			if (!strcmp(classes[c], o->positive))
				pos = (int)c;
		if (pos < 0) {
			cm_error("%s: --positive %s: no record has that label", path, o->positive);
			goto done;
		}
	} else if (ncls == 2) {
		pos = 1;
	}
	size_t ntrain = 0, nheld = 0, right = 0, tp = 0, fp = 0, fn_ = 0, most = 0;
	texts = cm_xmalloc((nex ? nex : 1) * sizeof *texts);
	lens = cm_xmalloc((nex ? nex : 1) * sizeof *lens);
	ys = cm_xmalloc((nex ? nex : 1) * sizeof *ys);
	for (size_t i = 0; i < nex; i++)
		if (!ex[i].held) {
			texts[ntrain] = ex[i].text;
			lens[ntrain] = ex[i].len;
			ys[ntrain++] = ex[i].y;
		}
	m = cm_tc_train(o, texts, lens, ys, ntrain, classes, ncls);
	p = cm_xmalloc(ncls * sizeof *p);
	per = cm_xcalloc(ncls, sizeof *per);
	for (size_t i = 0; i < nex; i++)
		if (ex[i].held) {
			nheld++;
			right += cm_tc_predict(m, ex[i].text, ex[i].len, p) == ex[i].y;
			if (pos >= 0) {
				int said = p[pos] >= o->threshold, is = ex[i].y == pos;
				tp += said && is;
				fp += said && !is;
				fn_ += !said && is;
			}
			if (++per[ex[i].y] > most)
				most = per[ex[i].y];
		}
	/* the share of the largest label among the held-out records: what always guessing it
	 * would score; -q is errors only */
	if (cm_verbosity >= 0) {
		fprintf(stderr, "%s: %zu records: %zu labelled in %u labels (%zu without a label or text, "
			"%zu malformed); trained on %zu", cm_prog, nex + skipped + bad, nex, ncls, skipped,
			bad, ntrain);
		if (nheld)
			fprintf(stderr, ", held out %zu: accuracy %.3f (largest label %.3f)", nheld,
				(double)right / (double)nheld, (double)most / (double)nheld);
		if (pos >= 0 && nheld)
			fprintf(stderr, "; %s at %g: precision %.3f, recall %.3f", classes[pos], o->threshold,
				tp + fp ? (double)tp / (double)(tp + fp) : 0.0,
				tp + fn_ ? (double)tp / (double)(tp + fn_) : 0.0);
		fputc('\n', stderr);
	}
	if (cm_tc_save(m, out, err, sizeof err) != 0)
		cm_error("%s", err);
	else
		rc = 0;
done:
	for (size_t i = 0; i < nex; i++)
		free(ex[i].text);
	for (uint32_t i = 0; i < ncls; i++)
		free(classes[i]);
	free(classes);
	free(ex);
	free(texts);
	free(lens);
	free(ys);
	free(p);
	free(per);
	cm_tc_free(m);
	return rc;
}
