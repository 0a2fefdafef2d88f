/* 0022-jsonw.c - numbers written by the JSON writer: doubles exactly as printf's "%.9g" (the
 * writer formats most of them itself), integers in full. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "tap.h"

/* the writer's text for v, and printf's (integers: "%.0f") */
static int same(double v, char *got, char *want, size_t size)
{
	cm_buf b = CM_BUF_INIT;
	cm_jw w;

	cm_jw_init(&w, &b);
	cm_jw_double(&w, v);
	snprintf(got, size, "%.*s", (int)b.len, b.p);
	cm_buf_free(&b);
	if (!isfinite(v))
		snprintf(want, size, "null");
	else if (fabs(v) < 1e15 && v == (double)(long long)v)
		snprintf(want, size, "%.0f", v);
	else
		snprintf(want, size, "%.9g", v);
	return strcmp(got, want) == 0;
}

/* n values from gen: all as printf writes them */
static void check(const char *what, double (*gen)(long), long n)
{
	char got[64], want[64];
	long i, bad = 0;

	for (i = 0; i < n; i++) {
		double v = gen(i);

		if (!same(v, got, want, sizeof(got)) && bad++ < 5)
			printf("# %s: %.17g written %s, printf %s\n", what, v, got, want);
	}
	ok(bad == 0, "%s: %ld values as printf writes them (%ld differ)", what, n, bad);
}

/* random bits: every magnitude, sign, subnormals, NaN and infinities */
static double any_bits(long i)
{
	uint64_t u = tap_next();
	double v;

	(void)i;
	memcpy(&v, &u, sizeof(v));
	return v;
}

/* random mantissas over the magnitudes the writer formats itself, and past them */
static double magnitudes(long i)
{
	double m = (double)(tap_next() >> 11) / 9007199254740992.0;

	return (i & 1 ? -1 : 1) * m * pow(10, (double)(int)(tap_next() % 70) - 30);
}

/* ratios of small counts, as the quality signals are */
static double ratios(long i)
{
	long a = (long)(tap_next() % 100000), b = 1 + (long)(tap_next() % 100000);

	return i % 3 == 0 ? (double)a / (double)b : (double)a / (double)(b * 7 + 3);
}

/* near the halves between nine-digit values (where only the exact value decides), and at
 * the changes of exponent (9.99999999x rounding up to 10) */
static double halves(long i)
{
	double d = (double)(100000000 + (long)(tap_next() % 900000000)) + 0.5;
	double e = pow(10, (double)(int)(tap_next() % 40) - 20);
	uint64_t u;
	double v = i % 4 == 3 ? 9.9999999995 * e : d / 1e8 * e;

	memcpy(&u, &v, sizeof(u));
	u += (uint64_t)(int)(tap_next() % 5) - 2;	/* and a few ulps either side */
	memcpy(&v, &u, sizeof(v));
	return v;
}

static double decimals(long i)
{
	static const double fixed[] = { 0.1, 0.2, 0.3, 1.5, -2.25, 1e-5, 1e-4, 0.0001234, 123456789.5,
					999999999.5, 1e15 + 0.5, 1e16, 1.5e300, 5e-324, 0.5, 1e-19, 1e36,
					9.999999995e-5, 99999.99995, 0.00010000000005 };
	long k = i % (long)(sizeof(fixed) / sizeof(*fixed));

	return i < (long)(sizeof(fixed) / sizeof(*fixed)) ? fixed[k] : -fixed[k];
}

int main(void)
{
	tap_rng = 0x9e3779b97f4a7c15ULL;
	check("random bits", any_bits, 200000);
	check("mantissas over 1e-30..1e40", magnitudes, 200000);
	check("ratios", ratios, 200000);
	check("near halves and exponent changes", halves, 200000);
	check("fixed cases", decimals, 40);
	return tap_done();
}
