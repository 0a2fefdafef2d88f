/* badwords.h - C4's bad-words page filter as datatrove's C4BadWordsFilter applies it: the
 * LDNOOBW list of the document's language (data/ldnoobw/, at the commits datatrove names), less
 * datatrove's allow-list, searched in the lower-cased text; the words must stand between
 * non-word characters (Python's \W) or the text's ends, except in ja, th and zh, where they may
 * stand anywhere. The search is PCRE2's (JIT), with the pattern datatrove compiles. */
#ifndef BADWORDS_H
#define BADWORDS_H

#include <stddef.h>

typedef struct qs_badwords qs_badwords;

qs_badwords *qs_badwords_new(void);
void qs_badwords_free(qs_badwords *b);

/* The list for language code lang: its code (one of the 28 datatrove names; CLD2's zh-Hant
 * reads zh's, tl fil's), or NULL when there is none. */
const char *qs_badwords_list(const char *lang);

/* 1 when text (UTF-8, n bytes) holds a bad word of lang's list, 0 when not, -1 when lang has
 * no list. Lists are compiled on first use (a few ms each). */
int qs_badwords_find(qs_badwords *b, const char *lang, const char *text, size_t n);

#endif
