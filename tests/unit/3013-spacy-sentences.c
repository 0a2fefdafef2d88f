/* 3013-spacy-sentences.c - quality-score --words spacy: C4's sentences in a line. For every line
 * of tests/data/quality/spacy-sentences.jsonl (made by spaCy's sentencizer itself, see
 * make-spacy-sentences.py there: lines without end marks, runs of end marks, other scripts'
 * sentence ends, abbreviations, white space tokens, real text) the count is spaCy's. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "spacy.h"
#include "tap.h"

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("SRCDIR");
	cm_buf path = CM_BUF_INIT;
	char *line = NULL;
	size_t cap = 0, n = 0, same = 0, multi = 0;
	FILE *f;

	cm_buf_printf(&path, "%s/tests/data/quality/spacy-sentences.jsonl", dir ? dir : ".");
	f = fopen(path.p, "r");
	if (!ok(f != NULL, "open %s", path.p))
		return tap_done();
	qs_spacy_load();
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL), *sents = json_object_get(j, "sentences");
		const char *text = json_string_value(json_object_get(j, "text"));
		size_t got, want;

		if (!j || !text || !json_is_array(sents)) {
			ok(0, "fixture line %zu is a record with text and sentences", n + 1);
			json_decref(j);
			continue;
		}
		want = json_array_size(sents);
		got = qs_spacy_sentences(text, json_string_length(json_object_get(j, "text")));
		n++;
		multi += want > 1;
		if (got == want)
			same++;
		else if (n - same <= 10)
			is_int(got, want, "sentences of '%.60s'", text);
		json_decref(j);
	}
	fclose(f);
	ok(n >= 300, "%zu lines in the fixture", n);
	ok(multi >= 100, "%zu of them hold more than one sentence", multi);
	is_int(same, n, "as many sentences as spaCy's sentencizer finds in every line");

	/* the cases the rule turns on, spelled out */
	is_int(qs_spacy_sentences("", 0), 0, "empty text: no sentence");
	is_int(qs_spacy_sentences("no end mark", 11), 1, "a line without an end mark: one");
	is_int(qs_spacy_sentences("Hi.  !", 6), 2, "two spaces: a token that starts a sentence");
	is_int(qs_spacy_sentences("Hi. !", 5), 1, "one space: none");
	is_int(qs_spacy_sentences("Dr. Smith came.", 15), 1, "an abbreviation keeps its point");
	is_int(qs_spacy_sentences("\"Hi.\" Then", 10), 2, "a quote after the end goes with it");
	is_int(qs_spacy_sentences("Wait... ok", 10), 1, "an ellipsis is no end");
	is_int(qs_spacy_sentences("a\xe0\xa5\xa4 b", 6), 2, "the danda ends a sentence");
	free(line);
	cm_buf_free(&path);
	return tap_done();
}
