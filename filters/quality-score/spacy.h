/* spacy.h - words as spaCy's English tokenizer cuts them (quality-score --words spacy).
 *
 * datatrove's quality filters count words with spaCy's English tokenizer; FineWeb was made
 * with them. This follows its rules so that a FineWeb run can be reproduced word for word:
 * text is cut at white space; from each piece come prefixes (opening punctuation, quotes,
 * currency, symbols) and suffixes (closing punctuation, quotes, "'s", units and currency
 * after a number, a point after a lower-case letter or a number, ...), special cases
 * (data/quality/spacy-en-exceptions.txt: contractions, abbreviations, emoticons) and URLs
 * stay whole, and what remains is cut at infixes (ellipses, symbols, hyphens and : < > = /
 * between letters, commas between letters, a point between a lower- and an upper-case
 * letter, operators between digits). Character classes follow spaCy's by Unicode category
 * where spaCy lists scripts one by one: letters outside its scripts may be cut differently.
 * A piece of over 1 MiB without white space is one word, uncut.
 */
#ifndef SPACY_H
#define SPACY_H

#include <stddef.h>

/* Load the special cases (once, before any qs_spacy_words). */
void qs_spacy_load(void);

/* Cut text (UTF-8, n bytes) into tokens, calling tok(ctx, off, end) for each, in order
 * (white space is never part of a token). */
void qs_spacy_words(const char *text, size_t n, void (*tok)(void *ctx, size_t off, size_t end),
		    void *ctx);

/* Sentences in text (a line, UTF-8, n bytes) as spaCy's sentencizer finds them in the
 * tokens above, as datatrove's C4 filter counts them: a sentence ends after a token that is one
 * of the sentencizer's end marks (. ! ? and the sentence ends of other scripts: U+0589, U+061F,
 * U+06D4, U+0964, U+3002, U+FF01, ...), and the next begins at the first token after it that
 * is not all punctuation (Unicode category P*). A run of white space other than one space
 * after a token (or any at the start) is a token of its own there, and not punctuation. So a
 * line without an end mark, or only ending in one, is one sentence; "..." and "e.g." are single
 * tokens and end nothing, "?!" is two; text without tokens has none. */
size_t qs_spacy_sentences(const char *text, size_t n);

#endif
