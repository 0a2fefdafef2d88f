// cuda_nccl.cu - sums across processes of a tensor on the GPU, through NCCL: for data
// parallel training (trainer/dp.c), one GPU a process. A sum on every rank (all-reduce), or
// each rank's part of it (kn_part: reduce-scatter) and the parts back to every rank
// (all-gather), for ZeRO-1. libnccl.so.2 (the CUDA toolkit's, or
// NVIDIA's package) is loaded when first asked for, so the backend loads without it.
#include <dlfcn.h>
#include <nccl.h>
#include <string.h>

#include "cuda_common.cuh"

static_assert(sizeof(ncclUniqueId) == NCCL_UNIQUE_ID_BYTES, "ncclUniqueId");
static_assert(NCCL_UNIQUE_ID_BYTES == 128, "kernels.h says 128 bytes");

namespace {
struct nccl_fns {
	ncclResult_t (*get_id)(ncclUniqueId *);
	ncclResult_t (*init_rank)(ncclComm_t *, int, ncclUniqueId, int);
	ncclResult_t (*all_reduce)(const void *, void *, size_t, ncclDataType_t, ncclRedOp_t,
				   ncclComm_t, cudaStream_t);
	ncclResult_t (*reduce_scatter)(const void *, void *, size_t, ncclDataType_t, ncclRedOp_t,
				       ncclComm_t, cudaStream_t);
	ncclResult_t (*all_gather)(const void *, void *, size_t, ncclDataType_t, ncclComm_t,
				   cudaStream_t);
	ncclResult_t (*reduce)(const void *, void *, size_t, ncclDataType_t, ncclRedOp_t, int,
			       ncclComm_t, cudaStream_t);
	ncclResult_t (*broadcast)(const void *, void *, size_t, ncclDataType_t, int, ncclComm_t,
				  cudaStream_t);
	ncclResult_t (*destroy)(ncclComm_t);
	const char *(*str)(ncclResult_t);
};
nccl_fns nc;
int loaded;

template <typename T> int sym(void *h, const char *name, T *fn, char *err, size_t errlen)
{
	*fn = reinterpret_cast<T>(dlsym(h, name));
	if (!*fn)
		snprintf(err, errlen, "libnccl lacks %s", name);
	return *fn ? 0 : -1;
}

int load(char *err, size_t errlen)
{
	if (loaded)
		return 0;
	void *h = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		h = dlopen("libnccl.so", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "NCCL is not available: %s", dlerror());
		return -1;
	}
	if (sym(h, "ncclGetUniqueId", &nc.get_id, err, errlen) < 0 ||
	    sym(h, "ncclCommInitRank", &nc.init_rank, err, errlen) < 0 ||
	    sym(h, "ncclAllReduce", &nc.all_reduce, err, errlen) < 0 ||
	    sym(h, "ncclReduceScatter", &nc.reduce_scatter, err, errlen) < 0 ||
	    sym(h, "ncclAllGather", &nc.all_gather, err, errlen) < 0 ||
	    sym(h, "ncclReduce", &nc.reduce, err, errlen) < 0 ||
	    sym(h, "ncclBroadcast", &nc.broadcast, err, errlen) < 0 ||
	    sym(h, "ncclCommDestroy", &nc.destroy, err, errlen) < 0 ||
	    sym(h, "ncclGetErrorString", &nc.str, err, errlen) < 0)
		return -1;
	loaded = 1;
	return 0;
}

int failed(ncclResult_t r, const char *call, char *err, size_t errlen)
{
	if (r == ncclSuccess)
		return 0;
	snprintf(err, errlen, "%s: %s", call, nc.str(r));
	return -1;
}
} // namespace

extern "C" int kn_cuda_nccl_id(unsigned char *id, char *err, size_t errlen)
{
	ncclUniqueId u;
	if (load(err, errlen) < 0 || failed(nc.get_id(&u), "ncclGetUniqueId", err, errlen) < 0)
		return -1;
	memcpy(id, &u, sizeof u);
	return 0;
}

extern "C" void *kn_cuda_nccl_open(const unsigned char *id, int rank, int size, char *err,
				   size_t errlen)
{
	ncclUniqueId u;
	ncclComm_t c;
	if (load(err, errlen) < 0)
		return NULL;
	memcpy(&u, id, sizeof u);
	if (failed(nc.init_rank(&c, size, u, rank), "ncclCommInitRank", err, errlen) < 0)
		return NULL;
	return c;
}

// in place, on the stream the operations run on (the default one); done when it returns
extern "C" int kn_cuda_nccl_sum(void *comm, kn_tensor *t, char *err, size_t errlen)
{
	if (t->dtype != KN_F32) {
		snprintf(err, errlen, "NCCL sum of a tensor that is not fp32");
		return -1;
	}
	if (failed(nc.all_reduce(t->data, t->data, (size_t)t->n, ncclFloat32, ncclSum,
				 static_cast<ncclComm_t>(comm), 0), "ncclAllReduce", err, errlen) < 0)
		return -1;
	CK(cudaStreamSynchronize(0));
	return 0;
}

// The parts of kn_part: rank i's [i q, (i + 1) q) through NCCL's reduce-scatter or
// all-gather (equal parts, in place), the last rank's n % size more through a reduce to it or
// a broadcast from it. gather 0: this rank's part becomes the sum of every rank's part;
// 1: every rank's part is copied to every rank. In place, on the default stream; done when it
// returns.
extern "C" int kn_cuda_nccl_parts(void *comm, int gather, kn_tensor *t, int rank, int size,
				  char *err, size_t errlen)
{
	if (t->dtype != KN_F32) {
		snprintf(err, errlen, "NCCL reduce-scatter or all-gather of a tensor that is not fp32");
		return -1;
	}
	ncclComm_t c = static_cast<ncclComm_t>(comm);
	float *x = static_cast<float *>(t->data);
	int64_t lo, cnt;
	kn_part(t->n, rank, size, &lo, &cnt);
	size_t q = (size_t)(t->n / size), rest = (size_t)t->n - q * (size_t)size;
	float *mine = x + lo, *tail = x + q * (size_t)size;
	if (!gather) {
		if (q && failed(nc.reduce_scatter(x, mine, q, ncclFloat32, ncclSum, c, 0),
				"ncclReduceScatter", err, errlen) < 0)
			return -1;
		if (rest && failed(nc.reduce(tail, tail, rest, ncclFloat32, ncclSum, size - 1, c, 0),
				   "ncclReduce", err, errlen) < 0)
			return -1;
	} else {
		if (q && failed(nc.all_gather(mine, x, q, ncclFloat32, c, 0), "ncclAllGather", err,
				errlen) < 0)
			return -1;
		if (rest && failed(nc.broadcast(tail, tail, rest, ncclFloat32, size - 1, c, 0),
				   "ncclBroadcast", err, errlen) < 0)
			return -1;
	}
	CK(cudaStreamSynchronize(0));
	return 0;
}

extern "C" void kn_cuda_nccl_close(void *comm)
{
	if (comm && loaded)
		nc.destroy(static_cast<ncclComm_t>(comm));
}
