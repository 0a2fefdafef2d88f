/* rules.h - heuristic quality signals and rules: Gopher quality and repetition, C4 (its
 * quality rules and, a family of its own, its bad-words filter), FineWeb.
 *
 * Every signal is computed on the original text and kept (metadata.quality), so thresholds
 * can be chosen later; each rule family says pass or fail with the reasons, named as
 * datatrove names them. Defaults are the published thresholds.
 */
#ifndef RULES_H
#define RULES_H

#include <stddef.h>

#include "buf.h"

enum { QS_GOPHER_REP, QS_GOPHER_QUAL, QS_C4, QS_FINEWEB, QS_C4_BADWORDS, QS_NFAMILIES };

extern const char *const qs_family_name[QS_NFAMILIES];

typedef struct qs_opts {
	int on[QS_NFAMILIES];		/* which families decide */
	int c4_edit;			/* C4 removes the lines it rejects from the text */
	int english;			/* English-only rules apply (stop words, word length) */
	int spacy_words;		/* words as spaCy's English tokenizer cuts them (spacy.h) */
	/* Gopher quality */
	size_t min_words, max_words;
	double min_avg_word, max_avg_word, max_symbol_ratio, max_bullet_lines, max_ellipsis_lines;
	double min_alpha_words;
	size_t min_stop_words;
	/* Gopher repetition */
	double dup_para_frac, dup_para_char_frac, dup_line_frac, dup_line_char_frac;
	double top_ngram[5];		/* [2], [3], [4] */
	double dup_ngram[11];		/* [5] .. [10] */
	/* C4 */
	int c4_terminal_punct;		/* drop lines without terminal punctuation */
	size_t c4_min_words_line, c4_min_sentences, c4_max_word;
	double c4_badwords_keep;	/* the share of pages with bad words kept (datatrove's
					 * keep_fraction, default 0), chosen by a hash of the text */
	/* FineWeb */
	double fw_line_punct, fw_short_lines, fw_dup_chars, fw_newline_words;
	size_t fw_short_line_len;
	/* working memory: the words the n-gram signals see, the distinct lines (paragraphs)
	 * remembered for the duplicate signals (QS_MAX_ITEMS) */
	size_t max_ngram_words, max_distinct_lines;
} qs_opts;

/* The default of both limits: a text's working memory stays within a few hundred MB. */
#define QS_MAX_ITEMS ((size_t)1 << 22)

/* What a text went past (qs_result.limited). */
enum { QS_LIMITED_NGRAMS = 1, QS_LIMITED_LINES = 2, QS_LIMITED_PARAGRAPHS = 4 };

void qs_opts_default(qs_opts *o);
/* Load the data the rules use (terminal punctuation); once, before any qs_score. */
void qs_load_data(void);

typedef struct qs_result {
	/* signals, as written to metadata.quality */
	size_t words, non_symbol_words, stop_words, lines, paragraphs;
	double mean_word_length, hash_ratio, ellipsis_ratio, bullet_lines, ellipsis_lines,
	       alpha_words;
	double dup_para_frac, dup_para_char_frac, dup_line_frac, dup_line_char_frac;
	double top_ngram[5], dup_ngram[11];
	size_t c4_lines_kept, c4_lines_removed, c4_sentences;
	int c4_lorem_ipsum, c4_curly_bracket;
	const char *badwords_list;		/* the bad-words list applied, NULL when none */
	int badwords_found;
	double fw_line_punct, fw_short_lines, fw_dup_chars, fw_newline_words;
	int limited;				/* QS_LIMITED_* */
	size_t ngram_words;			/* with QS_LIMITED_NGRAMS: the words the n-grams saw, */
	size_t ngram_bytes;			/* in the text's first ngram_bytes bytes */
	/* verdicts */
	int pass[QS_NFAMILIES];
	const char *failed[QS_NFAMILIES];	/* the first reason of each failing family */
	const char *all_failed[40];		/* every failing check, families in order */
	int nall;
	cm_buf c4_text;				/* the text with C4's line removals */
} qs_result;

/* Compute every signal of text (UTF-8, n bytes) and the families' verdicts; c4_badwords
 * passes until qs_c4_badwords has looked at the text. */
void qs_score(const qs_opts *o, const char *text, size_t n, qs_result *r);
struct qs_badwords;
/* C4's bad-words filter on text in language lang (badwords.h), after qs_score: a language
 * without a list passes (datatrove's fail_on_missing_language=False). */
void qs_c4_badwords(const qs_opts *o, struct qs_badwords *b, const char *lang, const char *text, size_t n,
		    qs_result *r);
void qs_result_free(qs_result *r);
/* For tests and fuzzing: 1 when the fast word splitter and the general one agree on text. */
int qs_words_selfcheck(const char *text, size_t n);

#endif
