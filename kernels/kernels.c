/* kernels.c - opening a backend, and the tensor bookkeeping every backend shares. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kernels.h"

size_t kn_dtype_size(kn_dtype dt)
{
	return dt == KN_BF16 ? 2 : 4;
}

kn_backend *kn_open(const char *name, char *err, size_t errlen)
{
	if (!name || !strcmp(name, "auto") || !strcmp(name, "cpu")) {
		kn_backend *be = cm_xcalloc(1, sizeof *be);
		be->ops = &kn_cpu_ops;
		be->threads = omp_get_max_threads();
		return be;
	}
	if (!strcmp(name, "cuda"))
		snprintf(err, errlen, "this build has no CUDA backend yet");
	else
		snprintf(err, errlen, "unknown device '%s' (cpu or cuda)", name);
	return NULL;
}

void kn_close(kn_backend *be)
{
	free(be);
}

void kn_reshape(kn_tensor *t, int ndim, const int64_t *shape)
{
	int64_t n = 1;
	if (ndim < 1 || ndim > KN_MAXDIM)
		cm_die("kernels: tensor with %d dimensions", ndim);
	for (int i = 0; i < ndim; i++)
		n *= shape[i];
	if (t->data && n != t->n)
		cm_die("kernels: reshape of %lld elements to %lld", (long long)t->n, (long long)n);
	t->ndim = ndim;
	memset(t->shape, 0, sizeof t->shape);
	memcpy(t->shape, shape, ndim * sizeof *shape);
	t->n = n;
}

kn_tensor *kn_new(kn_backend *be, kn_dtype dt, int ndim, const int64_t *shape)
{
	return be->ops->alloc(be, dt, ndim, shape);
}

kn_tensor *kn_new1(kn_backend *be, kn_dtype dt, int64_t n0)
{
	return kn_new(be, dt, 1, &n0);
}

kn_tensor *kn_new2(kn_backend *be, kn_dtype dt, int64_t n0, int64_t n1)
{
	int64_t s[2] = { n0, n1 };
	return kn_new(be, dt, 2, s);
}

kn_tensor *kn_view(kn_tensor *base, int64_t off, int ndim, const int64_t *shape)
{
	kn_tensor *t = cm_xcalloc(1, sizeof *t);
	t->be = base->be;
	t->dtype = base->dtype;
	kn_reshape(t, ndim, shape);
	if (off < 0 || off + t->n > base->n)
		cm_die("kernels: view [%lld, +%lld) outside a tensor of %lld", (long long)off,
		       (long long)t->n, (long long)base->n);
	t->data = (char *)base->data + off * kn_dtype_size(base->dtype);
	t->base = base;
	return t;
}

void kn_free(kn_tensor *t)
{
	if (t)
		t->be->ops->free(t);
}

void kn_upload(kn_tensor *t, const void *host, size_t bytes)
{
	if (bytes > kn_bytes(t))
		cm_die("kernels: upload of %zu bytes into %zu", bytes, kn_bytes(t));
	t->be->ops->upload(t, host, bytes, 0);
}

void kn_download(const kn_tensor *t, void *host, size_t bytes)
{
	if (bytes > kn_bytes(t))
		cm_die("kernels: download of %zu bytes from %zu", bytes, kn_bytes(t));
	t->be->ops->download(t, host, bytes, 0);
}
