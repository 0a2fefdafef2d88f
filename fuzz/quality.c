/* quality.c - libFuzzer target: language identification and every quality rule on any text.
 *
 * The bytes are made valid UTF-8 first (records hold UTF-8), then scored with the default
 * thresholds, C4's edit on, with both word splitters (--words unicode and spacy); the edited
 * text must be valid UTF-8 and no longer than the input, and every spaCy-style word must lie
 * in the text, in order, without white space at its ends; the fast word splitter must
 * agree with the general one; and small working-memory limits change no word count. C4's
 * bad words are searched in a language the first byte picks (every list's pattern, the
 * boundary rule and the lower-casing), also on the raw bytes (not always UTF-8).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "badwords.h"
#include "buf.h"
#include "langid.h"
#include "rules.h"
#include "spacy.h"
#include "utf8.h"

static size_t last_end;

static void check_word(void *ctx, size_t off, size_t end)
{
	const cm_buf *in = ctx;

	if (off < last_end || end <= off || end > in->len || in->p[off] == ' ' || in->p[end - 1] == ' ' ||
	    in->p[off] == '\n' || in->p[end - 1] == '\n')
		abort();
	last_end = end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static qs_opts o;
	static qs_result r;
	static cm_buf in;
	static int init;
	static qs_badwords *bw;
	static const char *const langs[] = { "en", "de", "ja", "zh", "th", "tr", "hi", "ar", "ru", "ko", "fr-CA-u-sd-caqc",
					     "tlh", "zh-Hant", "xx" };
	const char *lang = langs[size ? data[0] % (sizeof(langs) / sizeof(*langs)) : 0];
	char code[16];
	double score;

	if (!init) {
		qs_opts_default(&o);
		qs_load_data();
		bw = qs_badwords_new();
		init = 1;
	}
	cm_buf_reset(&in);
	cm_utf8_repair((const char *)data, size, &in);
	langid_detect(in.p ? in.p : "", in.len, code, &score);
	if (score < 0 || score > 1)
		abort();
	if (!qs_words_selfcheck(in.p ? in.p : "", in.len))
		abort();
	o.spacy_words = 0;
	qs_score(&o, in.p ? in.p : "", in.len, &r);
	if (r.c4_text.len > in.len || (r.c4_text.len && !cm_utf8_valid(r.c4_text.p, r.c4_text.len)))
		abort();
	/* with small working-memory limits: every word still counted, the n-grams of a prefix */
	{
		qs_opts lim = o;
		size_t words = r.words;

		lim.max_ngram_words = 1 + (size_t)(size ? data[0] % 16 : 0);
		lim.max_distinct_lines = 1 + (size_t)(size > 1 ? data[1] % 4 : 0);
		qs_score(&lim, in.p ? in.p : "", in.len, &r);
		if (r.words != words || ((r.limited & QS_LIMITED_NGRAMS) &&
					 (r.ngram_words != lim.max_ngram_words || r.ngram_bytes > in.len)))
			abort();
	}
	qs_c4_badwords(&o, bw, lang, in.p ? in.p : "", in.len, &r);
	if ((r.badwords_list == NULL) != (strcmp(lang, "xx") == 0) || (!r.pass[QS_C4_BADWORDS] && !r.badwords_found))
		abort();
	if (qs_badwords_find(bw, "en", (const char *)data, size) < 0)
		abort();
	o.spacy_words = 1;
	qs_score(&o, in.p ? in.p : "", in.len, &r);
	last_end = 0;
	qs_spacy_words(in.p ? in.p : "", in.len, check_word, &in);
	return 0;
}
