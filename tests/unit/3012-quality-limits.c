/* 3012-quality-limits.c - quality-score's working-memory limits: past max_ngram_words words
 * the n-gram signals are those of the text up to the last word kept, exactly; past
 * max_distinct_lines distinct lines a new line is not remembered (a later copy of it is not a
 * duplicate); below the limits nothing changes; and every other signal sees the whole text. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "rules.h"
#include "tap.h"

/* Words of a few letters from a small vocabulary, between spaces, newlines and blank lines,
 * with blocks repeated: n-grams, lines and paragraphs that repeat. */
static void make_text(cm_buf *t, unsigned words)
{
	static const char *const vocab[] = { "the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran",
					     "to", "of", "be", "with", "that", "have", "x" };
	unsigned i, v = 2 + tap_rand(15);

	cm_buf_reset(t);
	for (i = 0; i < words; i++) {
		if (i > 8 && tap_rand(20) == 0) {	/* a repeated block */
			size_t from = tap_rand((unsigned)t->len), len = tap_rand(60);
			char block[60];

			if (from + len > t->len)
				len = t->len - from;
			memcpy(block, t->p + from, len);	/* t->p may move */
			cm_buf_add(t, block, len);
		}
		cm_buf_adds(t, vocab[tap_rand(v)]);
		switch (tap_rand(12)) {
		case 0: cm_buf_adds(t, "\n"); break;
		case 1: cm_buf_adds(t, ".\n\n"); break;
		default: cm_buf_adds(t, " "); break;
		}
	}
}

static int same_ngrams(const qs_result *a, const qs_result *b)
{
	int k;

	for (k = 2; k <= 4; k++)
		if (a->top_ngram[k] != b->top_ngram[k])
			return 0;
	for (k = 5; k <= 10; k++)
		if (a->dup_ngram[k] != b->dup_ngram[k])
			return 0;
	return 1;
}

static int same_rest(const qs_result *a, const qs_result *b)
{
	return a->words == b->words && a->non_symbol_words == b->non_symbol_words &&
	       a->stop_words == b->stop_words && a->mean_word_length == b->mean_word_length &&
	       a->alpha_words == b->alpha_words && a->dup_para_frac == b->dup_para_frac &&
	       a->dup_line_frac == b->dup_line_frac && a->dup_line_char_frac == b->dup_line_char_frac &&
	       a->c4_sentences == b->c4_sentences && a->fw_line_punct == b->fw_line_punct &&
	       a->fw_dup_chars == b->fw_dup_chars && a->fw_newline_words == b->fw_newline_words;
}

int main(void)
{
	qs_opts o, lim;
	qs_result full = { 0 }, cut = { 0 }, pre = { 0 };
	cm_buf t = CM_BUF_INIT;
	int i, bad_ngrams = 0, bad_rest = 0, bad_below = 0, limited = 0;

	tap_rng = 0x9e3779b97f4a7c15ULL;

	qs_load_data();
	qs_opts_default(&o);

	/* n-grams: the first L words, exactly */
	for (i = 0; i < 300; i++) {
		unsigned words = 20 + tap_rand(3000);

		make_text(&t, words);
		lim = o;
		lim.max_ngram_words = 1 + tap_rand(2 * words + 200);	/* tokens: words and points */
		qs_score(&o, t.p, t.len, &full);
		qs_score(&lim, t.p, t.len, &cut);
		if (cut.limited & QS_LIMITED_NGRAMS) {
			limited++;
			if (cut.ngram_words != lim.max_ngram_words || cut.ngram_bytes > t.len)
				bad_ngrams++;
			else {
				qs_score(&o, t.p, cut.ngram_bytes, &pre);
				if (pre.words != cut.ngram_words || !same_ngrams(&cut, &pre))
					bad_ngrams++;
			}
		} else if (full.words > lim.max_ngram_words || !same_ngrams(&cut, &full)) {
			bad_below++;
		}
		if (!same_rest(&cut, &full))
			bad_rest++;
	}
	ok(limited > 50 && limited < 250, "texts past max_ngram_words: %d of 300", limited);
	is_int(bad_ngrams, 0, "past max_ngram_words: the n-grams of the text up to the last word kept");
	is_int(bad_below, 0, "below it: the n-grams of the whole text");
	is_int(bad_rest, 0, "the other signals: the whole text's, whatever the limit");

	/* lines: ten distinct, then each again; with five remembered, the copies of the last five
	 * are not duplicates */
	cm_buf_reset(&t);
	for (i = 0; i < 20; i++)
		cm_buf_printf(&t, "line number %d of the text.\n", i % 10);
	qs_score(&o, t.p, t.len, &full);
	is_int(full.limited, 0, "ten distinct lines: no limit reached");
	ok(full.dup_line_frac == 10.0 / 21, "half the lines (and the empty last) duplicates: %g", full.dup_line_frac);
	lim = o;
	lim.max_distinct_lines = 5;
	qs_score(&lim, t.p, t.len, &cut);
	ok(cut.limited == QS_LIMITED_LINES, "five remembered: the lines' limit reached (%d)", cut.limited);
	ok(cut.dup_line_frac == 5.0 / 21, "the copies of the first five only: %g", cut.dup_line_frac);
	ok(cut.fw_dup_chars < full.fw_dup_chars && cut.fw_dup_chars > 0, "FineWeb's duplicate characters too");
	lim.max_distinct_lines = 11;
	qs_score(&lim, t.p, t.len, &cut);
	ok(cut.limited == 0 && cut.dup_line_frac == full.dup_line_frac, "eleven remembered: as without a limit");

	/* paragraphs: the same, one a paragraph */
	cm_buf_reset(&t);
	for (i = 0; i < 20; i++)
		cm_buf_printf(&t, "paragraph number %d of the text.\n\n", i % 10);
	lim.max_distinct_lines = 5;
	qs_score(&o, t.p, t.len, &full);
	qs_score(&lim, t.p, t.len, &cut);
	ok(full.dup_para_frac == 0.5, "ten distinct paragraphs twice: half duplicates (%g)", full.dup_para_frac);
	ok((cut.limited & QS_LIMITED_PARAGRAPHS) && cut.dup_para_frac == 0.25,
	   "five remembered: a quarter (%g)", cut.dup_para_frac);

	/* a large repetitive text: past the default limit, annotated, the n-grams of its start */
	cm_buf_reset(&t);
	for (i = 0; i < (int)(QS_MAX_ITEMS + 1000); i++)
		cm_buf_add(&t, "a ", 2);
	qs_score(&o, t.p, t.len, &cut);
	ok(cut.words == QS_MAX_ITEMS + 1000 && cut.limited == QS_LIMITED_NGRAMS &&
	   cut.ngram_words == QS_MAX_ITEMS && cut.ngram_bytes == 2 * QS_MAX_ITEMS - 1,
	   "%zu words of 'a ': all counted, the first %zu in the n-grams", cut.words, cut.ngram_words);
	ok(cut.top_ngram[2] > 1.49 && cut.top_ngram[2] < 1.51 && cut.dup_ngram[5] > 0.49 && cut.dup_ngram[5] < 0.51,
	   "and its n-grams repeat (top 2-gram %g, duplicated 5-grams %g)", cut.top_ngram[2], cut.dup_ngram[5]);

	qs_result_free(&full);
	qs_result_free(&cut);
	qs_result_free(&pre);
	cm_buf_free(&t);
	return tap_done();
}
