/* model.c - the fastText-style classifier (see model.h).
 *
 * Features: the words of the text (runs of letters and digits, any byte from 0x80 up counting
 * as a letter; ASCII lower-cased), at most 4,000 of them; each word, each pair of adjacent
 * words, and the character 4-grams of "<word>" (words of up to 40 bytes), hashed
 * (XXH3, a different seed for each kind) into `buckets` rows.
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

#include "cli.h"
#include "output.h"
#include "model.h"
#include "rand.h"

#define MAX_WORDS 4000
#define MODEL_VERSION 1

void dt_train_defaults(dt_train_opts *o)
{
	o->buckets = 1u << 18;
	o->dim = 16;
	o->epochs = 10;
	o->lr = 0.5f;
	o->seed = 1;
}

static int word_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

size_t dt_features(const char *t, size_t n, uint32_t buckets, uint32_t *f, size_t max)
{
	size_t i = 0, k = 0, words = 0;
	uint64_t prev = 0;
	char w[42];

	while (i < n && words < MAX_WORDS && k < max) {
		size_t wl = 0, j, g;
		uint64_t h;

		while (i < n && !word_byte((unsigned char)t[i]))
			i++;
		if (i >= n)
			break;
		w[wl++] = '<';
		while (i < n && word_byte((unsigned char)t[i])) {
			if (wl < sizeof(w) - 1)
				w[wl++] = (char)((t[i] >= 'A' && t[i] <= 'Z') ? t[i] + 32 : t[i]);
			i++;
		}
		w[wl++] = '>';
		words++;
		h = XXH3_64bits_withSeed(w + 1, wl - 2, 1);
		f[k++] = (uint32_t)(h % buckets);
		if (prev && k < max)
			f[k++] = (uint32_t)(XXH3_64bits_withSeed(&prev, sizeof(prev), h) % buckets);
		prev = h;
		for (g = 4, j = 0; j + g <= wl && k < max; j++)
			f[k++] = (uint32_t)(XXH3_64bits_withSeed(w + j, g, 2) % buckets);
	}
	return k;
}

/* h = mean of the rows; p = softmax(out^T h); returns the best class */
static int forward(const dt_model *m, const uint32_t *f, size_t nf, float *h, float *p)
{
	uint32_t d, c;
	size_t i;
	float mx = -INFINITY, sum = 0;
	int best = 0;

	memset(h, 0, m->dim * sizeof(*h));
	for (i = 0; i < nf; i++) {
		const float *row = m->emb + (size_t)f[i] * m->dim;

		for (d = 0; d < m->dim; d++)
			h[d] += row[d];
	}
	if (nf)
		for (d = 0; d < m->dim; d++)
			h[d] /= (float)nf;
	for (c = 0; c < m->nclass; c++) {
		float z = 0;

		for (d = 0; d < m->dim; d++)
			z += h[d] * m->out[(size_t)d * m->nclass + c];
		p[c] = z;
		if (z > mx) {
			mx = z;
			best = (int)c;
		}
	}
	for (c = 0; c < m->nclass; c++)
		sum += p[c] = expf(p[c] - mx);
	for (c = 0; c < m->nclass; c++)
		p[c] /= sum;
	return best;
}

static dt_model *model_new(uint32_t buckets, uint32_t dim, uint32_t nclass)
{
	dt_model *m = cm_xcalloc(1, sizeof(*m));

	m->buckets = buckets;
	m->dim = dim;
	m->nclass = nclass;
	m->classes = cm_xcalloc(nclass, sizeof(*m->classes));
	m->emb = cm_xcalloc((size_t)buckets * dim, sizeof(float));
	m->out = cm_xcalloc((size_t)dim * nclass, sizeof(float));
	return m;
}

dt_model *dt_train(const dt_train_opts *o, const char *const *texts, const size_t *lens, const int *y, size_t n,
		   char *const *classes, uint32_t nclass)
{
	dt_model *m = model_new(o->buckets, o->dim, nclass);
	uint64_t rng = o->seed;
	size_t i, e, *order = cm_xmalloc((n ? n : 1) * sizeof(*order)), max = 1 << 16, total = (size_t)o->epochs * n,
	       step = 0;
	uint32_t *f = cm_xmalloc(max * sizeof(*f)), d, c;
	float *h = cm_xmalloc(o->dim * sizeof(float)), *p = cm_xmalloc(nclass * sizeof(float)),
	      *gh = cm_xmalloc(o->dim * sizeof(float));

	for (c = 0; c < nclass; c++)
		m->classes[c] = cm_xstrdup(classes[c]);
	for (i = 0; i < (size_t)o->buckets * o->dim; i++)
		m->emb[i] = ((float)(cm_splitmix64(&rng) >> 40) / (float)(1 << 24) * 2 - 1) / (float)o->dim;
	for (i = 0; i < n; i++)
		order[i] = i;
	for (e = 0; e < o->epochs; e++) {
		for (i = n; i > 1; i--) {	/* shuffle */
			size_t j = cm_splitmix64(&rng) % i, t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		for (i = 0; i < n; i++, step++) {
			size_t k = order[i], nf = dt_features(texts[k], lens[k], o->buckets, f, max), q;
			float lr = o->lr * (1.0f - (float)step / (float)(total ? total : 1));

			if (!nf)
				continue;
			forward(m, f, nf, h, p);
			p[y[k]] -= 1.0f;	/* the gradient of the loss at the scores */
			memset(gh, 0, o->dim * sizeof(float));
			for (d = 0; d < o->dim; d++) {
				float *w = m->out + (size_t)d * nclass;

				for (c = 0; c < nclass; c++) {
					gh[d] += w[c] * p[c];
					w[c] -= lr * h[d] * p[c];
				}
			}
			for (q = 0; q < nf; q++) {
				float *row = m->emb + (size_t)f[q] * o->dim;

				for (d = 0; d < o->dim; d++)
					row[d] -= lr * gh[d] / (float)nf;
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

int dt_predict(const dt_model *m, const char *text, size_t n, float *p)
{
	static _Thread_local uint32_t *f;
	static _Thread_local float *h;
	static _Thread_local uint32_t hdim;
	size_t nf;

	if (!f)
		f = cm_xmalloc((1 << 16) * sizeof(*f));
	if (hdim < m->dim) {
		free(h);
		h = cm_xmalloc(m->dim * sizeof(*h));
		hdim = m->dim;
	}
	nf = dt_features(text, n, m->buckets, f, 1 << 16);
	return forward(m, f, nf, h, p);
}

void dt_model_free(dt_model *m)
{
	uint32_t c;

	if (!m)
		return;
	for (c = 0; c < m->nclass; c++)
		free(m->classes[c]);
	free(m->classes);
	free(m->emb);
	free(m->out);
	free(m);
}

/* ---- the file: little-endian, as x86 and ARM Linux write it ---- */

int dt_model_save(const dt_model *m, const char *path, char *err, size_t errlen)
{
	XXH64_state_t *st;
	uint32_t hdr[4] = { MODEL_VERSION, m->buckets, m->dim, m->nclass }, c;
	uint64_t sum;
	cm_afile f;
	int ok = 1;

	/* replaced whole (a temporary renamed into place), or written through to a device */
	if (cm_afile_open(&f, path, err, errlen) < 0)
		return -1;
	if (!(st = XXH64_createState())) {
		cm_afile_abort(&f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	XXH64_reset(st, 0);
#define PUT(p, n) do { ok = ok && cm_afile_write(&f, (p), (n)) == 0; XXH64_update(st, (p), (n)); } while (0)
	PUT(DT_MODEL_MAGIC, 8);
	PUT(hdr, sizeof(hdr));
	for (c = 0; c < m->nclass; c++) {
		uint32_t l = (uint32_t)strlen(m->classes[c]);

		PUT(&l, sizeof(l));
		PUT(m->classes[c], l);
	}
	PUT(m->emb, (size_t)m->buckets * m->dim * sizeof(float));
	PUT(m->out, (size_t)m->dim * m->nclass * sizeof(float));
#undef PUT
	sum = XXH64_digest(st);
	XXH64_freeState(st);
	ok = ok && cm_afile_write(&f, &sum, sizeof(sum)) == 0;
	if (!ok) {
		int e = errno;

		cm_afile_abort(&f);
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(e));
		return -1;
	}
	return cm_afile_commit(&f, err, errlen);
}

dt_model *dt_model_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	size_t n = 0, cap = 0, k, at;
	uint32_t hdr[4], c;
	uint64_t sum;
	dt_model *m;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 1 << 20;
			b = cm_xrealloc(b, cap);
		}
		k = fread(b + n, 1, cap - n, f);
		n += k;
	} while (k > 0);
	fclose(f);
#define BAD(why) do { snprintf(err, errlen, "%s: %s", path, why); free(b); return NULL; } while (0)
	if (n < 8 + sizeof(hdr) + 8 || memcmp(b, DT_MODEL_MAGIC, 8) != 0)
		BAD("not a domain-tag model");
	memcpy(&sum, b + n - 8, 8);
	if (XXH64(b, n - 8, 0) != sum)
		BAD("checksum mismatch (damaged or truncated)");
	memcpy(hdr, b + 8, sizeof(hdr));
	if (hdr[0] != MODEL_VERSION)
		BAD("model file version not supported");
	if (!hdr[1] || !hdr[2] || !hdr[3] || hdr[1] > (1u << 26) || hdr[2] > 1024 || hdr[3] > 4096)
		BAD("implausible sizes");
	m = model_new(hdr[1], hdr[2], hdr[3]);
	at = 8 + sizeof(hdr);
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
	k = ((size_t)m->buckets * m->dim + (size_t)m->dim * m->nclass) * sizeof(float);
	if (c < m->nclass || at + k != n - 8) {
		dt_model_free(m);
		BAD("sizes do not match the file");
	}
	memcpy(m->emb, b + at, (size_t)m->buckets * m->dim * sizeof(float));
	memcpy(m->out, b + at + (size_t)m->buckets * m->dim * sizeof(float), (size_t)m->dim * m->nclass * sizeof(float));
#undef BAD
	free(b);
	return m;
}
