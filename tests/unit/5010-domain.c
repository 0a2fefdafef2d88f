/* 5010-domain.c - domain-tag's URL rules and classifier: rule precedence, training on texts
 * that can be told apart, the model file round trip and a damaged file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
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
		dt_train_opts o;
		dt_model *m, *m2;
		float p[3], q[3];

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
		dt_train_defaults(&o);
		o.buckets = 1 << 14;
		m = dt_train(&o, tp, lens, y, 500, classes, 3);
		for (i = 500; i < 600; i++)
			right += dt_predict(m, texts[i], lens[i], p) == y[i];
		ok(right >= 95, "trained on 500 texts of three topics: %zu of 100 held-out right", right);
		ok(dt_model_save(m, path, err, sizeof(err)) == 0, "the model is written");
		m2 = dt_model_load(path, err, sizeof(err));
		ok(m2 && m2->nclass == 3 && strcmp(m2->classes[2], "sport") == 0, "and read back, with its classes");
		if (m2) {
			int same = 1;

			for (i = 500; i < 600; i++) {
				dt_predict(m, texts[i], lens[i], p);
				dt_predict(m2, texts[i], lens[i], q);
				same &= memcmp(p, q, sizeof(p)) == 0;
			}
			ok(same, "predicting the same");
		}
		dt_model_free(m2);
		f = fopen(path, "r+b");
		fseek(f, 1000, SEEK_SET);
		fputc('X', f);
		fclose(f);
		ok(!dt_model_load(path, err, sizeof(err)) && strstr(err, "checksum"), "a damaged file: %s", err);
		f = fopen(path, "w");
		fputs("not a model", f);
		fclose(f);
		ok(!dt_model_load(path, err, sizeof(err)) && strstr(err, "not a domain-tag model"), "another file: %s", err);
		dt_model_free(m);
		for (i = 0; i < 600; i++)
			free(texts[i]);
	}
	remove(path);
	dt_rules_free(r);
	dt_rules_free(d);
	return tap_done();
}
