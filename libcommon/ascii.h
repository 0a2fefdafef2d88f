/* ascii.h - ASCII case folding and comparison for protocol text (headers, labels, tags). */
#ifndef CM_ASCII_H
#define CM_ASCII_H

#include <stddef.h>

static inline int cm_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
}

/* 1 if the n bytes at s equal the lower-case literal lit, ignoring case (lit[n] must end it). */
static inline int cm_eq_ci(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cm_lower((unsigned char)s[i]) != lit[i])
			return 0;
	return lit[n] == '\0';
}

/* The same, for a string literal, checking the length first. */
#define CM_EQ_CI(s, n, lit) ((n) == sizeof(lit) - 1 && cm_eq_ci(s, n, lit))

#endif
