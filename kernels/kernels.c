/* kernels.c - opening a backend, and the tensor bookkeeping every backend shares.
 *
 * The CUDA backend is a library of its own (libkn_cuda.so, beside the program in ../lib, or
 * on the loader's path), loaded here when asked for: a program built with CUDA starts and
 * runs on the CPU where the CUDA libraries or a GPU are missing. */
#include <cblas.h>
#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kernels.h"
#include "kmath.h"

size_t kn_dtype_size(kn_dtype dt)
{
	return dt == KN_BF16 ? 2 : 4;
}

static void *cuda_lib;	/* libkn_cuda.so, once loaded */

/* The CUDA backend's plain (fp32) operations and its fused ones (*fused; a NULL entry: none),
 * or NULL with the reason. */
static const kn_ops *open_cuda(const kn_ops **fused, char *err, size_t errlen)
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	void *h = NULL;
	if (n > 0) {
		exe[n] = 0;
		char *sl = strrchr(exe, '/');
		if (sl)
			*sl = 0;
		snprintf(path, sizeof path, "%s/../lib/libkn_cuda.so", exe);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
	if (!h)
		h = dlopen("libkn_cuda.so", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "the CUDA backend is not available: %s", dlerror());
		return NULL;
	}
	cuda_lib = h;
	const kn_ops *(*open)(char *, size_t, const kn_ops **) =
		(const kn_ops *(*)(char *, size_t, const kn_ops **))dlsym(h, "kn_cuda_open");
	if (!open) {
		snprintf(err, errlen, "libkn_cuda.so lacks kn_cuda_open");
		return NULL;
	}
	return open(err, errlen, fused);
}

/* name is in the comma-separated list (or the list is "all") */
static int listed(const char *list, const char *name)
{
	if (!list)
		return 0;
	if (!strcmp(list, "all"))
		return 1;
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && !strncmp(p, name, n))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* Each operation: the fused one where there is one and it is not listed as plain, else the
 * base's through the mixed-precision wrapper. */
static void compose(kn_backend *be, const kn_ops *fused, const char *plain)
{
	be->table = kn_mixed_ops;
	be->table.name = be->base->name;
	size_t d = 0;
	d += snprintf(be->desc + d, sizeof be->desc - d, "%s", be->base->name);
	if (fused && plain && !strcmp(plain, "all")) {
		snprintf(be->desc + d, sizeof be->desc - d, " (plain)");
		return;
	}
	if (!fused)
		return;
	int nplain = 0;
#define PICK(op)                                                                             \
	if (fused->op && !listed(plain, #op))                                                \
		be->table.op = fused->op;                                                    \
	else if (fused->op && d < sizeof be->desc)                                           \
		d += snprintf(be->desc + d, sizeof be->desc - d, "%s%s",                     \
			      nplain++ ? "," : " (plain: ", #op);
	KN_OPS(PICK)
#undef PICK
	if (nplain && d < sizeof be->desc)
		snprintf(be->desc + d, sizeof be->desc - d, ")");
}

#ifdef KN_CPU_LEVELS
extern const kn_ops kn_cpu_ops_v3, kn_cpu_ops_v4;
#endif

const kn_ops *kn_cpu_table(char *err, size_t errlen)
{
	static const struct {
		const char *name;
		const kn_ops *ops;
		int level;	/* x86-64-vN */
	} levels[] = {
		{ "x86-64", &kn_cpu_ops, 1 },
#ifdef KN_CPU_LEVELS
		{ "x86-64-v3", &kn_cpu_ops_v3, 3 },
		{ "x86-64-v4", &kn_cpu_ops_v4, 4 },
#endif
	};
	int have = 1;
#if defined(KN_CPU_LEVELS) && defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
	    __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("f16c"))
		have = 3;
	if (have == 3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512cd"))
		have = 4;
#endif
	const char *want = getenv("KN_CPU_ISA");
	const kn_ops *best = &kn_cpu_ops;
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		if (want && *want && !strcmp(want, levels[i].name)) {
			if (levels[i].level > have) {
				snprintf(err, errlen, "KN_CPU_ISA=%s: this processor lacks it", want);
				return NULL;
			}
			return levels[i].ops;
		}
		if (levels[i].level <= have)
			best = levels[i].ops;
	}
	if (want && *want) {
		snprintf(err, errlen, "KN_CPU_ISA=%s: unknown (x86-64%s)", want,
#ifdef KN_CPU_LEVELS
			 ", x86-64-v3 or x86-64-v4"
#else
			 " only, in this build"
#endif
		);
		return NULL;
	}
	return best;
}

/* A GPU the CUDA driver could reach: NVIDIA's device nodes, or WSL's /dev/dxg. "auto" looks for
 * one before loading the CUDA libraries, which costs ~0.1 s of CPU (their relocations) in every
 * program started where there is none. */
static int gpu_present(void)
{
	return !access("/dev/nvidiactl", F_OK) || !access("/dev/nvidia0", F_OK) ||
	       !access("/dev/dxg", F_OK);
}

kn_backend *kn_open(const char *name, int threads, char *err, size_t errlen)
{
	const kn_ops *base = NULL, *fused = NULL;
	if (!name)
		name = "auto";
	/* OpenBLAS (built for OpenMP) runs its products on the same threads as the loops */
	if (threads > 0)
		omp_set_num_threads(threads);
	openblas_set_num_threads(omp_get_max_threads());
	int plain = !strcmp(name, "cuda:plain");
	if (!strcmp(name, "auto") && !gpu_present()) {
		snprintf(err, errlen, "no NVIDIA device (/dev/nvidiactl)");
	} else if (!strcmp(name, "cuda") || plain || !strcmp(name, "auto")) {
		base = open_cuda(&fused, err, errlen);
		if (!base && strcmp(name, "auto"))
			return NULL;
	} else if (strcmp(name, "cpu")) {
		snprintf(err, errlen, "unknown device '%s' (cpu, cuda, cuda:plain or auto)", name);
		return NULL;
	}
	const kn_ops *cpu = NULL;
	if (!base && !(cpu = kn_cpu_table(err, errlen)))
		return NULL;
	kn_backend *be = cm_xcalloc(1, sizeof *be);
	be->base = base ? base : cpu;
	compose(be, base ? fused : NULL, plain ? "all" : getenv("KN_PLAIN_OPS"));
	be->ops = &be->table;
	be->threads = omp_get_max_threads();
	be->host = !base;
	/* bf16 where it is the fast path (a GPU's tensor cores); on the CPU, bf16 goes through
	 * fp32 copies (mixed.c) and only saves memory */
	be->precision = be->host ? KN_F32 : KN_BF16;
	return be;
}

void kn_close(kn_backend *be)
{
	free(be);
}

/* a function of libkn_cuda.so for the backend be, or NULL with the reason */
static void *cuda_fn(const kn_backend *be, const char *name, char *err, size_t errlen)
{
	void *f = !be->host && cuda_lib ? dlsym(cuda_lib, name) : NULL;
	if (!f)
		snprintf(err, errlen, be->host ? "NCCL needs the CUDA backend" :
			 "libkn_cuda.so lacks %s", name);
	return f;
}

struct kn_nccl {
	void *comm;
	int rank, size;
	int (*sum)(void *, kn_tensor *, char *, size_t);
	/* reduce-scatter (0) or all-gather (1) of the parts */
	int (*parts)(void *, int, kn_tensor *, int, int, char *, size_t);
	void (*close)(void *);
};

int kn_nccl_id(kn_backend *be, unsigned char id[128], char *err, size_t errlen)
{
	int (*f)(unsigned char *, char *, size_t) = (int (*)(unsigned char *, char *, size_t))
		cuda_fn(be, "kn_cuda_nccl_id", err, errlen);
	return f ? f(id, err, errlen) : -1;
}

kn_nccl *kn_nccl_open(kn_backend *be, const unsigned char id[128], int rank, int size,
		      char *err, size_t errlen)
{
	void *(*open)(const unsigned char *, int, int, char *, size_t) =
		(void *(*)(const unsigned char *, int, int, char *, size_t))
		cuda_fn(be, "kn_cuda_nccl_open", err, errlen);
	kn_nccl c = {
		.rank = rank,
		.size = size,
		.sum = (int (*)(void *, kn_tensor *, char *, size_t))
			cuda_fn(be, "kn_cuda_nccl_sum", err, errlen),
		.parts = (int (*)(void *, int, kn_tensor *, int, int, char *, size_t))
			cuda_fn(be, "kn_cuda_nccl_parts", err, errlen),
		.close = (void (*)(void *))cuda_fn(be, "kn_cuda_nccl_close", err, errlen),
	};
	if (!open || !c.sum || !c.parts || !c.close ||
	    !(c.comm = open(id, rank, size, err, errlen)))
		return NULL;
	kn_nccl *p = cm_xmalloc(sizeof *p);
	*p = c;
	return p;
}

int kn_nccl_sum(kn_nccl *c, kn_tensor *t, char *err, size_t errlen)
{
	return c->sum(c->comm, t, err, errlen);
}

int kn_nccl_reduce_scatter(kn_nccl *c, kn_tensor *t, char *err, size_t errlen)
{
	return c->parts(c->comm, 0, t, c->rank, c->size, err, errlen);
}

int kn_nccl_all_gather(kn_nccl *c, kn_tensor *t, char *err, size_t errlen)
{
	return c->parts(c->comm, 1, t, c->rank, c->size, err, errlen);
}

void kn_nccl_close(kn_nccl *c)
{
	if (c) {
		c->close(c->comm);
		free(c);
	}
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
	kn_tensor *t = be->ops->alloc(be, dt, ndim, shape);
	be->bytes += (int64_t)kn_bytes(t);
	if (be->bytes > be->peak)
		be->peak = be->bytes;
	return t;
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
	if (!t)
		return;
	if (!t->base)
		t->be->bytes -= (int64_t)kn_bytes(t);
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

int kn_logits_row(const float *x, int64_t V, double *lse, int64_t *argmax)
{
	float mx = -INFINITY, z = 0.0f;
	/* x * 0 is NaN for an infinite or NaN x, 0 otherwise */
#pragma omp simd reduction(max:mx) reduction(+:z)
	for (int64_t i = 0; i < V; i++) {
		mx = x[i] > mx ? x[i] : mx;
		z += x[i] * 0.0f;
	}
	if (V < 1 || z != 0.0f)
		return 0;
	double s = 0.0;
#pragma omp simd reduction(+:s)
	for (int64_t i = 0; i < V; i++)
		s += (double)kn_fexp(x[i] - mx);
	*lse = (double)mx + log(s);
	int64_t b = 0;
	while (x[b] != mx)
		b++;
	*argmax = b;
	return 1;
}
