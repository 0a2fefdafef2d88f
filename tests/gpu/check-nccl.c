/* check-nccl - the NCCL path of data parallel training on one GPU: libkn_cuda.so loads
 * libnccl, a group of one rank is made from its id, and a sum over it leaves an fp32 tensor
 * of 3 million values (more than one NCCL chunk) as it was, and again after the values change;
 * so do ZeRO-1's reduce-scatter and all-gather of the parts (one part here: the calls, their
 * symbols and pointers, not the split between ranks).
 * Exit 0: passed; 1: failed, with the reason; 77: no GPU or no CUDA backend (skipped).
 * make check-gpu runs it where a device has one GPU (with two, a 2-rank lm-train run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kernels.h"

int main(void)
{
	cm_init("check-nccl");
	char err[1024];
	kn_backend *be = kn_open("cuda", 0, err, sizeof err);
	if (!be) {
		printf("check-nccl: SKIP: %s\n", err);
		return 77;
	}
	unsigned char id[128];
	kn_nccl *c;
	if (kn_nccl_id(be, id, err, sizeof err) < 0 || !(c = kn_nccl_open(be, id, 0, 1, err, sizeof err))) {
		printf("check-nccl: FAIL: %s\n", err);
		return 1;
	}
	int64_t n = 3000000;
	float *a = cm_xmalloc((size_t)n * sizeof *a), *b = cm_xmalloc((size_t)n * sizeof *b);
	kn_tensor *t = kn_new1(be, KN_F32, n);
	int bad = 0;
	for (int round = 0; round < 2 && !bad; round++) {
		for (int64_t i = 0; i < n; i++)
			a[i] = (float)((i * 7919 + round * 104729) % 100003) / 1024.0f - 40.0f;
		kn_upload(t, a, (size_t)n * sizeof *a);
		int (*const ops[])(kn_nccl *, kn_tensor *, char *, size_t) = {
			kn_nccl_sum, kn_nccl_reduce_scatter, kn_nccl_all_gather };
		static const char *const names[] = { "sum", "reduce-scatter", "all-gather" };
		for (int k = 0; k < 3 && !bad; k++) {
			if (ops[k](c, t, err, sizeof err) < 0) {
				printf("check-nccl: FAIL: %s: %s\n", names[k], err);
				return 1;
			}
			kn_download(t, b, (size_t)n * sizeof *b);
			bad = memcmp(a, b, (size_t)n * sizeof *a) != 0;
			if (bad)
				printf("check-nccl: the %s changed the values (round %d)\n", names[k],
				       round);
		}
	}
	kn_free(t);
	kn_nccl_close(c);
	kn_close(be);
	free(a);
	free(b);
	printf("check-nccl: %s: a 1-rank NCCL sum, reduce-scatter and all-gather of %lld floats, "
	       "twice, give them back\n",
	       bad ? "FAIL" : "PASS", (long long)n);
	return bad;
}
