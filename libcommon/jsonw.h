/* jsonw.h - writing JSON: a fast string escaper and a small object/array builder. */
#ifndef CM_JSONW_H
#define CM_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Append p as a JSON string with its quotes. p must be valid UTF-8 (bytes are copied). */
void cm_json_escape(cm_buf *b, const char *p, size_t n);

/* A builder that inserts commas: begin/end nest objects and arrays. */
typedef struct cm_jw {
	cm_buf *b;
	int depth;
	unsigned char count[64];	/* per depth: 0 before the first member */
} cm_jw;

void cm_jw_init(cm_jw *w, cm_buf *b);
void cm_jw_obj(cm_jw *w);		/* { */
void cm_jw_arr(cm_jw *w);		/* [ */
void cm_jw_end(cm_jw *w, char close);	/* } or ] */
void cm_jw_key(cm_jw *w, const char *key);
void cm_jw_str(cm_jw *w, const char *s);
void cm_jw_strn(cm_jw *w, const char *s, size_t n);
void cm_jw_int(cm_jw *w, long long v);
void cm_jw_uint(cm_jw *w, unsigned long long v);
void cm_jw_double(cm_jw *w, double v);
void cm_jw_bool(cm_jw *w, int v);
void cm_jw_null(cm_jw *w);
void cm_jw_raw(cm_jw *w, const char *json, size_t n);	/* an already-encoded value */

/* A member of the object being written: its key, then its value. */
static inline void cm_jw_key_str(cm_jw *w, const char *key, const char *s)
{
	cm_jw_key(w, key);
	cm_jw_str(w, s);
}

static inline void cm_jw_key_strn(cm_jw *w, const char *key, const char *s, size_t n)
{
	cm_jw_key(w, key);
	cm_jw_strn(w, s, n);
}

static inline void cm_jw_key_int(cm_jw *w, const char *key, long long v)
{
	cm_jw_key(w, key);
	cm_jw_int(w, v);
}

static inline void cm_jw_key_uint(cm_jw *w, const char *key, unsigned long long v)
{
	cm_jw_key(w, key);
	cm_jw_uint(w, v);
}

static inline void cm_jw_key_double(cm_jw *w, const char *key, double v)
{
	cm_jw_key(w, key);
	cm_jw_double(w, v);
}

static inline void cm_jw_key_bool(cm_jw *w, const char *key, int v)
{
	cm_jw_key(w, key);
	cm_jw_bool(w, v);
}

#endif
