/* buf.h - growable byte buffer (after redis sds, without the header trick). */
#ifndef CM_BUF_H
#define CM_BUF_H

#include <stddef.h>
#include <string.h>

typedef struct cm_buf {
	char *p;	/* bytes, always NUL-terminated when cap > 0 */
	size_t len;	/* bytes used, not counting the NUL */
	size_t cap;	/* bytes allocated */
} cm_buf;

#define CM_BUF_INIT { NULL, 0, 0 }

/* Make room for n more bytes (plus the NUL); dies on overflow or out of memory. */
void cm_buf_grow(cm_buf *b, size_t n);
void cm_buf_free(cm_buf *b);

static inline void cm_buf_reset(cm_buf *b)
{
	b->len = 0;
	if (b->cap)
		b->p[0] = '\0';
}

static inline void cm_buf_add(cm_buf *b, const void *src, size_t n)
{
	if (b->cap - b->len <= n)
		cm_buf_grow(b, n);
	if (n)	/* src may be NULL then (an empty buffer's) */
		memcpy(b->p + b->len, src, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void cm_buf_addc(cm_buf *b, char c)
{
	if (b->cap - b->len <= 1)
		cm_buf_grow(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static inline void cm_buf_adds(cm_buf *b, const char *s)
{
	cm_buf_add(b, s, strlen(s));
}

void cm_buf_printf(cm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
