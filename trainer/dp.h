/* dp.h - data parallel training: N processes (ranks) started by mpirun or srun, each on its
 * own rows of every batch, their gradients summed through MPI (Debian's OpenMPI), or NCCL
 * between GPUs. Under ZeRO-1 each rank keeps AdamW's moments of its part of the parameters
 * only (lm_dp_part), gets the summed gradients of that part (lm_dp_reduce_scatter), updates
 * it and sends it to the others (lm_dp_allgather).
 *
 * The rank and the number of ranks come from the launcher's environment
 * (OMPI_COMM_WORLD_RANK/SIZE, PMI_RANK/PMI_SIZE, SLURM_PROCID/SLURM_NTASKS); MPI is started
 * only under a launcher, so a plain run is one process as before. Once started, a process
 * that exits before lm_dp_end (an error on one rank) aborts every rank: none waits forever
 * for a rank that is gone. */
#ifndef LM_DP_H
#define LM_DP_H
#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

typedef struct lm_dp {
	int rank, size;		/* this process and how many; 0 and 1 without a launcher */
	int mpi;		/* MPI was started */
	float *buf;		/* host staging for a slice of a tensor */
	size_t bufn;
	kn_nccl *nccl;		/* GPUs: the sums through NCCL, on the device */
} lm_dp;

/* Read the launcher's environment and start MPI under one. 0, or -1 with the reason (the
 * launcher's rank and size are not MPI's). */
int lm_dp_init(lm_dp *d, char *err, size_t errlen);
/* On a GPU backend, sum through NCCL from now on (every rank calls this at the same point):
 * 1, or 0 where NCCL is not available (rank 0 says why in err: the sums go through the
 * host), or -1 with the reason. */
int lm_dp_device(lm_dp *d, kn_backend *be, char *err, size_t errlen);
/* Every rank passes its own v: 0 when all are equal, else -1 with the first rank whose v is
 * not rank 0's in err (on every rank). */
int lm_dp_same(lm_dp *d, uint64_t v, char *err, size_t errlen);
/* The sum of each rank's v[0..n), added in rank order: the same bits on every rank. */
void lm_dp_sum(lm_dp *d, double *v, int n);
/* Rank `rank`'s part of a flat tensor of n elements: [*lo, *lo + *cnt), n / size each, the
 * last rank the rest too (kn_part). The parts are the slices a sum adds up on one rank each,
 * and ZeRO-1's shards of AdamW's moments. */
void lm_dp_part(const lm_dp *d, int rank, int64_t n, int64_t *lo, int64_t *cnt);
/* t (fp32) becomes the sum of every rank's t, the same bits on every rank (each part is
 * added up on its rank, then sent to all: on the host, the bits of lm_dp_reduce_scatter's
 * parts; NCCL's all-reduce on GPUs). */
void lm_dp_allreduce(lm_dp *d, kn_tensor *t);
/* ZeRO-1: this rank's part of t (fp32) becomes the sum of every rank's part, the rest of t
 * is left undefined. Through the host in pieces of a bounded buffer, or NCCL's
 * reduce-scatter. */
void lm_dp_reduce_scatter(lm_dp *d, kn_tensor *t);
/* Each rank's part of t copied to every rank (after each updated its own). */
void lm_dp_allgather(lm_dp *d, kn_tensor *t);
/* Elements [off, off + len) of a flat tensor of n elements held in parts (part: this rank's,
 * lm_dp_part's) into out on rank 0 (len floats; unused elsewhere). Every rank calls it with
 * the same off and len; for a checkpoint's moments under ZeRO-1, a piece at a time. */
void lm_dp_gather(lm_dp *d, const kn_tensor *part, int64_t n, int64_t off, int64_t len,
		  float *out);
/* t (fp32) becomes rank 0's t on every rank. */
void lm_dp_bcast(lm_dp *d, kn_tensor *t);
/* Leave MPI (every rank, at the same point): after this an exit aborts no one. */
void lm_dp_end(lm_dp *d);
#endif
