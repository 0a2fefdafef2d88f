/* buf.c - growable byte buffer. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "cli.h"

void cm_buf_grow(cm_buf *b, size_t n)
{
	size_t need, cap;

	if (n > SIZE_MAX - b->len - 1)
		cm_die("buffer size overflow");
	need = b->len + n + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->p = cm_xrealloc(b->p, cap);
	b->cap = cap;
}

void cm_buf_free(cm_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void cm_buf_printf(cm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->cap ? b->p + b->len : NULL, b->cap ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		cm_die("vsnprintf failed");
	if ((size_t)n >= (b->cap ? b->cap - b->len : 0)) {
		cm_buf_grow(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}
