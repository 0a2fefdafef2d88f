/* charset.h - find the character encoding of a page and convert it to UTF-8. */
#ifndef CHARSET_H
#define CHARSET_H

#include <stddef.h>

#include "buf.h"

#define CHARSET_META_SCAN 8192		/* bytes searched for <meta charset> */
#define CHARSET_DETECT_SCAN 65536	/* bytes given to the detector */

/* Which rule charset_detect() used. */
enum charset_source {
	CHARSET_SRC_BOM,	/* byte order mark */
	CHARSET_SRC_HTTP,	/* charset parameter of the HTTP Content-Type */
	CHARSET_SRC_META,	/* <meta charset> or <meta http-equiv=Content-Type> */
	CHARSET_SRC_DETECTOR,	/* valid non-ASCII UTF-8, else uchardet */
	CHARSET_SRC_DEFAULT,	/* nothing said: "utf-8" (pure ASCII lands here too) */
};

/*
 * Canonical name for an encoding label (any case, surrounding blanks
 * allowed), normalised as in the WHATWG Encoding Standard (iso-8859-1 and
 * us-ascii mean windows-1252, gb2312 and gbk mean gb18030, shift_jis means
 * cp932, euc-kr means cp949, ...), or NULL if unknown. The result is a
 * static lower-case name that glibc's iconv accepts.
 */
const char *charset_canonical(const char *label, size_t n);

/*
 * The encoding of page p: a BOM, then http_charset (a label or NULL), then
 * a meta tag in the first CHARSET_META_SCAN bytes, then the first
 * CHARSET_DETECT_SCAN bytes: valid UTF-8 is "utf-8", else uchardet's
 * guess, else "utf-8". Unknown labels fall through to the next rule. A
 * legacy charset declared (HTTP or meta) on a page whose first bytes are
 * valid UTF-8 with non-ASCII text gives "utf-8" (source detector): such
 * declarations are server defaults, wrong. Sets *source (if not NULL) to
 * the rule used.
 */
const char *charset_detect(const char *http_charset, const char *p, size_t n, int *source);

/*
 * Append p converted from charset to UTF-8 to out. A BOM decides the
 * encoding and is dropped, as WHATWG's "decode". Invalid or incomplete
 * input becomes U+FFFD, one per run of bad bytes, counted in *replaced
 * (if not NULL). out always receives valid UTF-8. Returns 0, or 1 if the
 * charset is unknown (p was then treated as UTF-8).
 */
int charset_to_utf8(const char *charset, const char *p, size_t n, cm_buf *out, size_t *replaced);

/* Free this thread's cached converters and detector (optional; for leak checkers). */
void charset_free(void);

#endif
