/* safetensors.c - libFuzzer target: safetensors files from any bytes (header length, JSON
 * header, offsets, dtypes, shapes): a clear error or tensors whose every byte lies inside the
 * file, converted to fp32 without reading outside it; writing them back gives a file that reads
 * back the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("st", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	char path[64], err[512];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	cm_st *st = cm_st_open(path, err, sizeof err);
	if (!st) {
		if (!err[0])
			abort();	/* an error always says why */
		close(fd);
		return 0;
	}
	cm_st_writer *w = cm_st_writer_new();
	for (size_t i = 0; i < st->n; i++) {
		const cm_st_tensor *t = &st->t[i];
		if ((const uint8_t *)t->data < (const uint8_t *)st->map ||
		    (const uint8_t *)t->data + t->bytes > (const uint8_t *)st->map + st->size)
			abort();
		int64_t n = t->n < 4096 ? t->n : 4096;
		float *f = malloc((size_t)n * sizeof(float) + 1);
		cm_st_to_f32(t, 0, n, f);
		free(f);
		cm_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data);
	}
	char out[] = "/tmp/fuzz-st-XXXXXX";
	int ofd = mkstemp(out);
	close(ofd);
	if (cm_st_write(w, out, err, sizeof err) == 0) {
		cm_st *back = cm_st_open(out, err, sizeof err);
		if (!back || back->n != st->n)
			abort();
		for (size_t i = 0; i < st->n; i++) {
			const cm_st_tensor *a = &st->t[i], *b = cm_st_find(back, a->name);
			if (!b || b->bytes != a->bytes || b->dtype != a->dtype ||
			    (a->bytes && memcmp(a->data, b->data, a->bytes)))
				abort();
		}
		cm_st_close(back);
	}
	unlink(out);
	cm_st_writer_free(w);
	cm_st_close(st);
	close(fd);
	return 0;
}
