/* arena-gen - synthetic battles for lm-arena's tests: JSONL lines drawn, seeded, from known
 * Bradley-Terry ratings, with response lengths and an optional bias towards the longer answer.
 *
 *   arena-gen [-n BATTLES] [-s SEED] [-t TIES] [-b BIAS] NAME=RATING[:LENGTH]...
 *
 * Each battle: two different models drawn uniformly, a and b; each response's length is the
 * model's LENGTH (default 500) times exp(0.3 z), z standard normal; with probability TIES the
 * winner is "tie", else model_a with probability
 *	sigmoid((R_a - R_b) ln 10 / 400 + BIAS tanh((len_a - len_b) / 500))
 * Lines: {"model_a", "model_b", "winner", "len_a", "len_b"}. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"

static double uniform(uint64_t *s)
{
	return ((double)(cm_splitmix64(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(uint64_t *s)
{
	return sqrt(-2 * log(uniform(s))) * cos(6.283185307179586 * uniform(s));
}

int main(int argc, char **argv)
{
	long n = 1000;
	uint64_t seed = 1;
	double ties = 0, bias = 0;
	int i = 1;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "-n"))
			n = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "-s"))
			seed = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "-t"))
			ties = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "-b"))
			bias = atof(argv[i + 1]);
		else
			break;
	}
	int nm = argc - i;
	if (nm < 2 || n < 0) {
		fprintf(stderr, "usage: arena-gen [-n BATTLES] [-s SEED] [-t TIES] [-b BIAS] NAME=RATING[:LENGTH]...\n");
		return 2;
	}
	char **name = calloc((size_t)nm, sizeof *name);
	double *r = calloc((size_t)nm, sizeof *r), *len = calloc((size_t)nm, sizeof *len);
	if (!name || !r || !len)
		return 1;
	for (int k = 0; k < nm; k++) {
		char *a = argv[i + k], *eq = strchr(a, '=');
		if (!eq) {
			fprintf(stderr, "arena-gen: '%s': want NAME=RATING[:LENGTH]\n", a);
			return 2;
		}
		*eq = 0;
		name[k] = a;
		r[k] = strtod(eq + 1, &eq);
		len[k] = *eq == ':' ? strtod(eq + 1, NULL) : 500;
	}
	uint64_t s = seed;
	for (long b = 0; b < n; b++) {
		int x = (int)(cm_splitmix64(&s) % (uint64_t)nm), y = (int)(cm_splitmix64(&s) % (uint64_t)(nm - 1));
		y += y >= x;
		double la = round(len[x] * exp(0.3 * normal(&s))), lb = round(len[y] * exp(0.3 * normal(&s)));
		double eta = (r[x] - r[y]) * log(10) / 400 + bias * tanh((la - lb) / 500);
		double u = uniform(&s), v = uniform(&s);
		const char *w = u < ties ? "tie" : v < 1 / (1 + exp(-eta)) ? "model_a" : "model_b";
		if (printf("{\"model_a\":\"%s\",\"model_b\":\"%s\",\"winner\":\"%s\",\"len_a\":%.0f,\"len_b\":%.0f}\n",
			   name[x], name[y], w, la, lb) < 0)
			return 1;
	}
	free(name);
	free(r);
	free(len);
	return fclose(stdout) ? 1 : 0;
}
