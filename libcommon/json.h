/* json.h - reading JSONL records with simdjson's On-Demand API behind a small C interface.
 *
 * A record is one JSON object on one line. cm_json_parse validates the whole line, records
 * where each top-level field (and each field of "metadata") sits in the line, and unescapes
 * only the string fields the caller asked for. Filters then write untouched fields back as
 * their original bytes (see record.h). The line must have CM_JSON_PAD readable bytes after
 * its end (cm_input guarantees that).
 */
#ifndef CM_JSON_H
#define CM_JSON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CM_JSON_PAD 64

enum cm_jtype { CM_J_NONE, CM_J_OBJECT, CM_J_ARRAY, CM_J_STRING, CM_J_NUMBER, CM_J_BOOL, CM_J_NULL };

typedef struct cm_jfield {
	const char *key;	/* unescaped key (not NUL-terminated) */
	size_t key_len;
	size_t key_off;		/* offset of the key's opening quote in the line */
	size_t val_off;		/* offset of the value's first byte */
	size_t val_len;		/* raw value length, without surrounding whitespace */
	enum cm_jtype type;
	const char *str;	/* unescaped string value, when asked for (else NULL) */
	size_t str_len;
} cm_jfield;

typedef struct cm_jrec {
	const char *line;
	size_t len;
	cm_jfield *fields;	/* top-level fields in order */
	size_t nfields;
	cm_jfield *meta;	/* fields of the top-level "metadata" object, in order */
	size_t nmeta;
	int meta_index;		/* index of "metadata" in fields, -1 when absent or not an object */
	size_t close_off;	/* offset of the record's closing brace */
	size_t meta_close_off;	/* offset of metadata's closing brace */
} cm_jrec;

typedef struct cm_json cm_json;

cm_json *cm_json_new(void);
void cm_json_free(cm_json *j);

/* Ask for the unescaped value of a string field: "text", or "metadata.lang" for a field of
 * metadata. Other string fields are still validated. */
void cm_json_want(cm_json *j, const char *path);

/* Parse and validate one line. Returns 0, or -1 with a message in err. Pointers in rec stay
 * valid until the next call. */
int cm_json_parse(cm_json *j, const char *line, size_t len, cm_jrec *rec, char *err, size_t errlen);

/* Field lookup by (unescaped) key; NULL when absent. */
const cm_jfield *cm_jrec_get(const cm_jrec *rec, const char *key);
const cm_jfield *cm_jrec_meta(const cm_jrec *rec, const char *key);

/* Which simdjson kernels parse: "haswell" (AVX2) or the portable build's. */
const char *cm_json_implementation(void);

#ifdef __cplusplus
}
#endif

#endif
