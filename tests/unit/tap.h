/* tap.h - minimal TAP producer for the C unit tests (prove reads their output). */
#ifndef TAP_H
#define TAP_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_mem((got), (got) ? strlen(got) : 0, (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_mem(got, gotlen, want, ...) tap_is_mem((got), (gotlen), (want), __FILE__, __LINE__, __VA_ARGS__)

static inline int tap_ok(int cond, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static inline int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return cond;
}

#define tap_is_int(got, want, file, line, ...) \
	(tap_ok((got) == (want), file, line, __VA_ARGS__) ? 1 : \
	 (printf("#   got %lld, want %lld\n", (long long)(got), (long long)(want)), 0))

static inline int tap_mem_eq(const char *got, size_t gotlen, const char *want)
{
	return got && strlen(want) == gotlen && memcmp(got, want, gotlen) == 0;
}

#define tap_is_mem(got, gotlen, want, file, line, ...) \
	(tap_ok(tap_mem_eq((got), (gotlen), (want)), file, line, __VA_ARGS__) ? 1 : \
	 (printf("#   got  '%.*s'\n#   want '%s'\n", (int)((got) ? (gotlen) : 6), (got) ? (got) : "(null)", (want)), 0))

/* xorshift64: the tests' random inputs, the same on every run from the seed a test sets */
static uint64_t tap_rng = 88172645463325252ULL;

static inline uint64_t tap_next(void)
{
	tap_rng ^= tap_rng << 13;
	tap_rng ^= tap_rng >> 7;
	tap_rng ^= tap_rng << 17;
	return tap_rng;
}

/* 0 <= r < n */
static inline unsigned tap_rand(unsigned n)
{
	return (unsigned)(tap_next() % n);
}

/* Print the plan at the end; exit status says whether anything failed. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
