/* record.h - writing a record back: the original line with fields replaced, added or removed.
 *
 * Edits refer to spans of the parsed line (json.h); everything else is copied as it was, so
 * unknown fields keep their bytes and their order. New top-level fields go before the closing
 * brace; new metadata keys go at the end of "metadata" (created when absent).
 */
#ifndef CM_RECORD_H
#define CM_RECORD_H

#include <stddef.h>

#include "buf.h"
#include "json.h"
#include "output.h"

enum cm_redit_kind { CM_RE_SET, CM_RE_DEL, CM_RE_ADD, CM_RE_META_SET, CM_RE_META_ADD };

typedef struct cm_redit {
	enum cm_redit_kind kind;
	size_t field;		/* index in fields (or meta) for SET, DEL, META_SET */
	size_t text, len;	/* the new value, or "key":value for ADD, in the text buffer */
} cm_redit;

typedef struct cm_rw {
	const cm_jrec *rec;
	cm_redit *edits;
	size_t n, cap;
	cm_buf text;		/* replacement bytes */
	cm_buf line;		/* the rebuilt line */
} cm_rw;

void cm_rw_init(cm_rw *w);
void cm_rw_free(cm_rw *w);
/* Start editing a parsed record (drops edits of the previous one). */
void cm_rw_begin(cm_rw *w, const cm_jrec *rec);

/* Set a top-level field to a raw JSON value / to a string. */
void cm_rw_set_raw(cm_rw *w, const char *key, const char *json, size_t n);
void cm_rw_set_str(cm_rw *w, const char *key, const char *s, size_t n);
/* Remove a top-level field (no-op when absent). */
void cm_rw_del(cm_rw *w, const char *key);
/* Set metadata.<key> to a raw JSON value. */
void cm_rw_meta_raw(cm_rw *w, const char *key, const char *json, size_t n);

/* Build the edited line, with a final '\n'; the result stays valid until the next begin. */
const cm_buf *cm_rw_finish(cm_rw *w);

#endif
