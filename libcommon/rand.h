/* rand.h - splitmix64 (Steele, Lea and Flood; Vigna's reference code): the next number of a
 * sequence from a 64-bit state, for seeds and reproducible choices (MinHash coefficients, model
 * initialisation, sampling, tests). Not for anything secret. */
#ifndef CM_RAND_H
#define CM_RAND_H
#include <stdint.h>

static inline uint64_t cm_splitmix64(uint64_t *s)
{
	uint64_t z = *s += 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
#endif
