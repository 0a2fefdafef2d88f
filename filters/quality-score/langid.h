/* langid.h - language identification with CLD2 (Debian's libcld2: built-in tables, no model
 * to download). */
#ifndef LANGID_H
#define LANGID_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Language of UTF-8 text: ISO 639-1 code where there is one ("en", "de", "zh", "zh-Hant",
 * ...), "un" when unknown; score in 0..1: the share of the text's letters CLD2 gives that
 * language, halved when CLD2 calls its answer unreliable (short or mixed text). Only the
 * first 64 KiB are looked at. */
void langid_detect(const char *text, size_t n, char code[16], double *score);

#ifdef __cplusplus
}
#endif

#endif
