/* 3010-spacy-words.c - quality-score --words spacy: the words of every text in
 * tests/data/quality/spacy-words.jsonl (made by spaCy's English tokenizer itself, see
 * make-spacy-words.py there) come out the same. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "spacy.h"
#include "tap.h"

static cm_buf got;
static size_t ngot;

static void tok(void *ctx, size_t off, size_t end)
{
	const char *text = ctx;

	if (ngot++)
		cm_buf_adds(&got, " | ");
	cm_buf_add(&got, text + off, end - off);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("SRCDIR");
	cm_buf path = CM_BUF_INIT, want = CM_BUF_INIT;
	char *line = NULL;
	size_t cap = 0, n = 0, same = 0;
	FILE *f;

	cm_buf_printf(&path, "%s/tests/data/quality/spacy-words.jsonl", dir ? dir : ".");
	f = fopen(path.p, "r");
	if (!ok(f != NULL, "open %s", path.p))
		return tap_done();
	qs_spacy_load();
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL), *words = json_object_get(j, "words");
		const char *text = json_string_value(json_object_get(j, "text"));
		size_t i;

		if (!j || !text || !json_is_array(words)) {
			ok(0, "fixture line %zu is a record with text and words", n + 1);
			json_decref(j);
			continue;
		}
		cm_buf_reset(&got);
		cm_buf_reset(&want);
		ngot = 0;
		qs_spacy_words(text, json_string_length(json_object_get(j, "text")), tok, (void *)text);
		for (i = 0; i < json_array_size(words); i++) {
			if (i)
				cm_buf_adds(&want, " | ");
			cm_buf_adds(&want, json_string_value(json_array_get(words, i)));
		}
		n++;
		if (got.len == want.len && memcmp(got.p ? got.p : "", want.p ? want.p : "", got.len) == 0)
			same++;
		else if (n - same <= 10)
			is_str(got.p ? got.p : "", want.p ? want.p : "", "words of '%.60s'", text);
		json_decref(j);
	}
	fclose(f);
	ok(n >= 300, "%zu texts in the fixture", n);
	is_int(same, n, "the same words as spaCy for every text");
	free(line);
	cm_buf_free(&path);
	cm_buf_free(&want);
	cm_buf_free(&got);
	return tap_done();
}
