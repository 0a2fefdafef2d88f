/* 5010-domain.c - domain-tag's URL rules and classifier: rule precedence, training on texts
 * that can be told apart, the model file round trip and a damaged file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "textclass.h"
#include "tap.h"
#include "urlrules.h"

static uint64_t rng = 42;

static unsigned next(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng >> 33) % n);
}

static const char *label(const dt_rules *r, const char *url)
{
	const char *l = dt_rules_match(r, url, strlen(url));

	return l ? l : "(none)";
}

struct want {
	const char *url, *label, *what;
};

/* Each url labelled as the table says. */
static void check_labels(const dt_rules *r, const struct want *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		is_str(label(r, t[i].url), t[i].label, "%s", t[i].what);
}

/* a and b give the same probabilities, bit for bit, on texts[0..n) (3 labels) */
static int same_predictions(const cm_tc_model *a, const cm_tc_model *b, char *const *texts,
			    const size_t *lens, size_t n)
{
	float p[3], q[3];
	int same = 1;

	for (size_t i = 0; i < n; i++) {
		cm_tc_predict(a, texts[i], lens[i], p);
		cm_tc_predict(b, texts[i], lens[i], q);
		same &= memcmp(p, q, sizeof(p)) == 0;
	}
	return same;
}

/* m as a version 1 file: no word_ngrams or char_n in the header (domain-tag's first format) */
static int v1_file(const cm_tc_model *m, const char *path)
{
	FILE *f = fopen(path, "wb");
	XXH64_state_t *st = XXH64_createState();
	uint32_t hdr[4] = { 1, m->buckets, m->dim, m->nclass };
	int ok_ = f && st;

	if (!ok_)
		goto out;
	XXH64_reset(st, 0);
#define PUT(p, n) do { ok_ &= fwrite((p), 1, (n), f) == (n); XXH64_update(st, (p), (n)); } while (0)
	PUT(CM_TC_MAGIC, 8);
	PUT(hdr, sizeof(hdr));
	for (uint32_t c = 0; c < m->nclass; c++) {
		uint32_t l = (uint32_t)strlen(m->classes[c]);

		PUT(&l, 4);
		PUT(m->classes[c], l);
	}
	PUT(m->emb, (size_t)m->buckets * m->dim * sizeof(float));
	PUT(m->out, (size_t)m->dim * m->nclass * sizeof(float));
#undef PUT
	uint64_t sum = XXH64_digest(st);
	ok_ &= fwrite(&sum, 1, 8, f) == 8;
out:
	if (st)
		XXH64_freeState(st);
	if (f && fclose(f) != 0)
		ok_ = 0;
	return ok_ ? 0 : -1;
}

int main(void)
{
	/* the labels of the rules file below, and of the built-in rules */
	static const struct want rules[] = {
		{ "https://www.example.com/a", "news", "host suffix" },
		{ "https://live.sport.example.com/a", "sports", "the longest host suffix wins" },
		{ "https://myexample.com/", "(none)", "a suffix only at a point" },
		{ "https://x.org/Shop/item", "shopping", "a path segment, any case" },
		{ "https://forum.x.org/t/1", "forum", "a host label" },
		{ "https://example.com/shop/", "news", "host rules before path rules" },
		{ "not a url", "(none)", "no host: no label" },
	}, builtin[] = {
		{ "https://en.wikipedia.org/wiki/Paris", "reference", "built-in: wikipedia" },
		{ "https://www.nasa.gov/x", "science", "built-in: nasa.gov (longest: science)" },
		{ "https://www.usa.gov/x", "government", "built-in: .gov" },
		{ "https://www.bbc.co.uk/sport/football/1", "news", "built-in: the host before the path" },
		{ "https://blog.example.net/recipes/soup", "food", "built-in: a path" },
	};
	dt_rules *r = dt_rules_new(), *d = dt_rules_new();
	char err[512], path[] = "/tmp/crawl2lm-model-XXXXXX";
	static const char *const lines = "news host example.com\nsports host sport.example.com\n"
					 "# comment\nshopping path /shop/\nforum label forum\n";
	FILE *f;
	int fd;

	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs(lines, f);
	fclose(f);
	ok(dt_rules_load(r, path, err, sizeof(err)) == 0, "a rules file loads");
	check_labels(r, rules, sizeof(rules) / sizeof(*rules));
	f = fopen(path, "w");
	fputs("news host\n", f);
	fclose(f);
	ok(dt_rules_load(r, path, err, sizeof(err)) == -1 && strstr(err, ":1:"), "a malformed rule: %s", err);
	ok(dt_rules_load(d, "default", err, sizeof(err)) == 0, "the built-in rules load");
	check_labels(d, builtin, sizeof(builtin) / sizeof(*builtin));

	{
		static const char *const words[3][8] = {
			{ "apple", "banana", "cherry", "grape", "melon", "fruit", "juice", "sweet" },
			{ "car", "truck", "engine", "wheel", "road", "drive", "motor", "fuel" },
			{ "goal", "match", "team", "player", "score", "league", "coach", "ball" },
		};
		static const char *const common[] = { "the", "a", "of", "and", "to", "in", "is", "it" };
		char *classes[3] = { "fruit", "cars", "sport" }, *texts[600];
		const char *tp[600];
		size_t lens[600], i, right = 0;
		int y[600];
		cm_tc_opts o;
		cm_tc_model *m, *m2;
		float p[3];

		for (i = 0; i < 600; i++) {
			char t[1024] = "";
			int k;

			y[i] = (int)(i % 3);
			for (k = 0; k < 30; k++) {
				strcat(t, next(3) ? common[next(8)] : words[y[i]][next(8)]);
				strcat(t, " ");
			}
			texts[i] = strdup(t);
			tp[i] = texts[i];
			lens[i] = strlen(t);
		}
		cm_tc_defaults(&o);
		o.buckets = 1 << 14;
		m = cm_tc_train(&o, tp, lens, y, 500, classes, 3);
		for (i = 500; i < 600; i++)
			right += cm_tc_predict(m, texts[i], lens[i], p) == y[i];
		ok(right >= 95, "trained on 500 texts of three topics: %zu of 100 held-out right", right);
		ok(cm_tc_save(m, path, err, sizeof(err)) == 0, "the model is written");
		m2 = cm_tc_load(path, err, sizeof(err));
		ok(m2 && m2->nclass == 3 && strcmp(m2->classes[2], "sport") == 0, "and read back, with its classes");
		ok(m2 && same_predictions(m, m2, texts + 500, lens + 500, 100), "predicting the same");
		cm_tc_free(m2);
		m2 = v1_file(m, path) == 0 ? cm_tc_load(path, err, sizeof(err)) : NULL;
		ok(m2 && m2->word_ngrams == 2 && m2->char_n == 4,
		   "a version 1 file reads as word pairs and character 4-grams %s", m2 ? "" : err);
		ok(m2 && same_predictions(m, m2, texts + 500, lens + 500, 100),
		   "  predicting what the same weights predict in version 2");
		cm_tc_free(m2);
		/* words only, then words, pairs and triples, without character n-grams */
		o.char_n = 0;
		for (o.word_ngrams = 1; o.word_ngrams <= 3; o.word_ngrams += 2) {
			cm_tc_model *w = cm_tc_train(&o, tp, lens, y, 500, classes, 3);
			uint32_t fe[64];

			right = 0;
			for (i = 500; i < 600; i++)
				right += cm_tc_predict(w, texts[i], lens[i], p) == y[i];
			ok(right >= 90, "word runs of up to %u, no character n-grams: %zu of 100 right",
			   o.word_ngrams, right);
			m2 = cm_tc_save(w, path, err, sizeof(err)) == 0 ? cm_tc_load(path, err, sizeof(err)) : NULL;
			ok(m2 && m2->word_ngrams == o.word_ngrams && m2->char_n == 0, "  the file keeps both");
			cm_tc_free(m2);
			/* "One, two; THREE!": 3 words, and 2 pairs and a triple with runs of 3 */
			size_t nf = cm_tc_features(w, "One, two; THREE!", 16, fe, 64);
			ok(nf == (o.word_ngrams == 1 ? 3 : 6), "  the features of 3 words: %zu", nf);
			uint32_t fa[64];
			ok(cm_tc_features(w, "one two three", 13, fa, 64) == nf && !memcmp(fa, fe, nf * sizeof *fe),
			   "  ASCII lower-cased, punctuation apart: the same features");
			cm_tc_free(w);
		}
		f = fopen(path, "r+b");
		fseek(f, 1000, SEEK_SET);
		fputc('X', f);
		fclose(f);
		ok(!cm_tc_load(path, err, sizeof(err)) && strstr(err, "checksum"), "a damaged file: %s", err);
		f = fopen(path, "w");
		fputs("not a model", f);
		fclose(f);
		ok(!cm_tc_load(path, err, sizeof(err)) && strstr(err, "not a text classifier model"), "another file: %s", err);
		cm_tc_free(m);
		for (i = 0; i < 600; i++)
			free(texts[i]);
	}
	remove(path);
	dt_rules_free(r);
	dt_rules_free(d);
	return tap_done();
}
