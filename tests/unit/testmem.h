/* testmem.h - what the kernel unit tests share: splitmix64 random numbers, and host memory a
 * check allocates, released when it ends. Include once, in a test's one source file. */
#ifndef TESTMEM_H
#define TESTMEM_H
#include <stdint.h>
#include <stdlib.h>

#include "cli.h"
#include "rand.h"

#ifndef TESTMEM_MAX
#define TESTMEM_MAX 4096
#endif

static uint64_t rng;

/* uniform in [0, 1) */
static double urand(void)
{
	return (double)(cm_splitmix64(&rng) >> 11) * 0x1p-53;
}

static void *mem[TESTMEM_MAX];
static int nmem;

static void *keep(void *p)
{
	if (nmem == TESTMEM_MAX)
		cm_die("test: more than %d allocations in one check", TESTMEM_MAX);
	return mem[nmem++] = p;
}

static void release_mem(void)
{
	while (nmem)
		free(mem[--nmem]);
}

/* n floats uniform in [-a, a) */
static float *frand(size_t n, double a)
{
	float *x = keep(cm_xmalloc(n * sizeof *x));
	for (size_t i = 0; i < n; i++)
		x[i] = (float)((2 * urand() - 1) * a);
	return x;
}
#endif
