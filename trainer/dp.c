/* dp.c - data parallel training over MPI: rank and size from the launcher, gradients summed
 * (reduce-scatter then all-gather, so every rank holds the same bits), or only each rank's
 * part of them (ZeRO-1), parameters gathered, moments gathered to rank 0, options compared. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dp.h"

/* a tensor goes through MPI in pieces of at most this many elements (the host buffer) */
#define CHUNK (16 << 20)

static int started, ended;

/* A rank that exits on an error before lm_dp_end takes the others with it. */
static void abort_others(void)
{
	if (started && !ended)
		MPI_Abort(MPI_COMM_WORLD, 1);
}

static int env_int(const char *name, int *v)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return 0;
	char *e;
	long x = strtol(s, &e, 10);
	if (*e || x < 0 || x > 1 << 24)
		return 0;
	*v = (int)x;
	return 1;
}

int lm_dp_init(lm_dp *d, char *err, size_t errlen)
{
	static const char *const vars[][2] = { { "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE" },
					       { "PMI_RANK", "PMI_SIZE" },
					       { "SLURM_PROCID", "SLURM_NTASKS" } };
	*d = (lm_dp){ .rank = 0, .size = 1 };
	int launched = 0, rank = 0, size = 1;
	const char *rv = NULL;
	for (size_t i = 0; i < sizeof vars / sizeof *vars && !launched; i++)
		if (env_int(vars[i][0], &rank) && env_int(vars[i][1], &size)) {
			launched = 1;
			rv = vars[i][0];
		}
	/* srun's variables alone with one task: a plain run inside an allocation */
	if (!launched || (size <= 1 && !strcmp(rv, "SLURM_PROCID")))
		return 0;
	if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
		snprintf(err, errlen, "MPI_Init failed");
		return -1;
	}
	started = 1;
	d->mpi = 1;
	atexit(abort_others);
	MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &d->size);
	if (d->rank != rank || d->size != size) {
		snprintf(err, errlen, "the launcher says rank %d of %d (%s) but MPI says %d of %d: "
			 "is this OpenMPI's mpirun, or srun with --mpi=pmix?", rank, size, rv,
			 d->rank, d->size);
		return -1;
	}
	return 0;
}

int lm_dp_device(lm_dp *d, kn_backend *be, char *err, size_t errlen)
{
	if (!d->mpi || d->size == 1 || be->host)
		return 0;
	unsigned char id[129] = { 0 };	/* NCCL's id, then whether rank 0 made one */
	if (d->rank == 0)
		id[128] = kn_nccl_id(be, id, err, errlen) == 0;
	MPI_Bcast(id, sizeof id, MPI_UNSIGNED_CHAR, 0, MPI_COMM_WORLD);
	if (!id[128])
		return 0;
	d->nccl = kn_nccl_open(be, id, d->rank, d->size, err, errlen);
	return d->nccl ? 1 : -1;
}

int lm_dp_same(lm_dp *d, uint64_t v, char *err, size_t errlen)
{
	if (!d->mpi)
		return 0;
	uint64_t *all = cm_xmalloc((size_t)d->size * sizeof *all);
	MPI_Allgather(&v, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD);
	int bad = -1;
	for (int i = 1; i < d->size && bad < 0; i++)
		if (all[i] != all[0])
			bad = i;
	free(all);
	if (bad < 0)
		return 0;
	snprintf(err, errlen, "rank %d was started with other options than rank 0 (every rank "
		 "needs the same model, data, batch and optimizer options)", bad);
	return -1;
}

void lm_dp_sum(lm_dp *d, double *v, int n)
{
	if (!d->mpi || d->size == 1)
		return;
	double *all = cm_xmalloc((size_t)d->size * (size_t)n * sizeof *all);
	MPI_Allgather(v, n, MPI_DOUBLE, all, n, MPI_DOUBLE, MPI_COMM_WORLD);
	for (int j = 0; j < n; j++) {
		double s = 0;
		for (int i = 0; i < d->size; i++)
			s += all[(size_t)i * n + j];
		v[j] = s;
	}
	free(all);
}

void lm_dp_part(const lm_dp *d, int rank, int64_t n, int64_t *lo, int64_t *cnt)
{
	kn_part(n, rank, d->size, lo, cnt);
}

static float *host_buf(lm_dp *d, size_t n)
{
	if (d->bufn < n) {
		free(d->buf);
		d->buf = cm_xmalloc((n + 1) * sizeof(float));
		d->bufn = n;
	}
	return d->buf;
}

/* Round j of moving the parts of n elements in pieces of at most c a rank: rank i's piece is
 * counts[i] elements at element at[i] (its part's j-th c), displs[i] where it goes in a
 * buffer of the pieces in rank order; the pieces' total is returned. */
static int round_pieces(const lm_dp *d, int64_t n, int64_t c, int64_t j, int *counts,
			int *displs, int64_t *at)
{
	int total = 0;
	for (int i = 0; i < d->size; i++) {
		int64_t lo, cnt;
		lm_dp_part(d, i, n, &lo, &cnt);
		int64_t a = j * c, k = cnt > a ? cnt - a : 0;
		counts[i] = (int)(k < c ? k : c);
		displs[i] = total;
		at[i] = lo + a;
		total += counts[i];
	}
	return total;
}

/* the rounds of pieces of at most c elements a rank that move the parts of n elements (the
 * last rank's part is the longest) */
static int64_t rounds(const lm_dp *d, int64_t n, int64_t c)
{
	int64_t lo, cnt;
	lm_dp_part(d, d->size - 1, n, &lo, &cnt);
	return (cnt + c - 1) / c;
}

/* The MPI side of a reduce-scatter (gather 0) or an all-gather (1) of t's parts: in rounds,
 * each rank's piece of the round copied into a host buffer in rank order (at most CHUNK
 * elements in all), summed onto or copied from its rank by MPI. */
static void mpi_parts(lm_dp *d, kn_tensor *t, int gather)
{
	const kn_ops *ops = t->be->ops;
	int64_t c = CHUNK / d->size > 0 ? CHUNK / d->size : 1, n = t->n;
	int *counts = cm_xmalloc((size_t)d->size * sizeof *counts);
	int *displs = cm_xmalloc((size_t)d->size * sizeof *displs);
	int64_t *at = cm_xmalloc((size_t)d->size * sizeof *at);
	float *all = host_buf(d, (size_t)(c * d->size + c)), *mine = all + c * d->size;
	const size_t f = sizeof(float);
	int me = d->rank;
	ops->sync(t->be);
	for (int64_t j = 0, nr = rounds(d, n, c); j < nr; j++) {
		round_pieces(d, n, c, j, counts, displs, at);
		if (!gather) {
			for (int i = 0; i < d->size; i++)
				if (counts[i])
					ops->download(t, all + displs[i], (size_t)counts[i] * f,
						      (size_t)at[i] * f);
			MPI_Reduce_scatter(all, mine, counts, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
			if (counts[me])
				ops->upload(t, mine, (size_t)counts[me] * f, (size_t)at[me] * f);
			continue;
		}
		if (counts[me])
			ops->download(t, mine, (size_t)counts[me] * f, (size_t)at[me] * f);
		MPI_Allgatherv(mine, counts[me], MPI_FLOAT, all, counts, displs, MPI_FLOAT,
			       MPI_COMM_WORLD);
		for (int i = 0; i < d->size; i++)
			if (i != me && counts[i])
				ops->upload(t, all + displs[i], (size_t)counts[i] * f, (size_t)at[i] * f);
	}
	free(counts);
	free(displs);
	free(at);
}

/* NCCL's reduce-scatter (gather 0) or all-gather of t's parts */
static void nccl_parts(lm_dp *d, kn_tensor *t, int gather)
{
	char err[1024];
	t->be->ops->sync(t->be);
	if ((gather ? kn_nccl_all_gather(d->nccl, t, err, sizeof err) :
	     kn_nccl_reduce_scatter(d->nccl, t, err, sizeof err)) < 0)
		cm_die("data parallel: %s", err);
}

void lm_dp_reduce_scatter(lm_dp *d, kn_tensor *t)
{
	if (!d->mpi || d->size == 1)
		return;
	if (d->nccl)
		nccl_parts(d, t, 0);
	else
		mpi_parts(d, t, 0);
}

void lm_dp_allgather(lm_dp *d, kn_tensor *t)
{
	if (!d->mpi || d->size == 1)
		return;
	if (d->nccl)
		nccl_parts(d, t, 1);
	else
		mpi_parts(d, t, 1);
}

void lm_dp_allreduce(lm_dp *d, kn_tensor *t)
{
	if (!d->mpi || d->size == 1)
		return;
	if (d->nccl) {
		char err[1024];
		t->be->ops->sync(t->be);
		if (kn_nccl_sum(d->nccl, t, err, sizeof err) < 0)
			cm_die("data parallel: %s", err);
		return;
	}
	/* the parts summed, then sent to all: the bits of lm_dp_reduce_scatter's parts */
	mpi_parts(d, t, 0);
	mpi_parts(d, t, 1);
}

void lm_dp_gather(lm_dp *d, const kn_tensor *part, int64_t n, int64_t off, int64_t len,
		  float *out)
{
	const kn_ops *ops = part->be->ops;
	const size_t f = sizeof(float);
	int64_t lo, cnt;
	lm_dp_part(d, d->rank, n, &lo, &cnt);
	if (!d->mpi || d->size == 1) {
		ops->sync(part->be);
		ops->download(part, out, (size_t)len * f, (size_t)(off - lo) * f);
		return;
	}
	int *counts = cm_xmalloc((size_t)d->size * sizeof *counts);
	int *displs = cm_xmalloc((size_t)d->size * sizeof *displs);
	/* each rank's share of [off, off + len): where its part meets it */
	for (int i = 0; i < d->size; i++) {
		int64_t l, k;
		lm_dp_part(d, i, n, &l, &k);
		int64_t a = l > off ? l : off, b = l + k < off + len ? l + k : off + len;
		counts[i] = (int)(b > a ? b - a : 0);
		displs[i] = counts[i] ? (int)(a - off) : 0;
	}
	int me = d->rank;
	float *send = d->rank == 0 ? out + displs[0] : host_buf(d, (size_t)counts[me]);
	ops->sync(part->be);
	if (counts[me])
		ops->download(part, send, (size_t)counts[me] * f, (size_t)(off + displs[me] - lo) * f);
	MPI_Gatherv(d->rank == 0 ? MPI_IN_PLACE : send, counts[me], MPI_FLOAT, out, counts, displs,
		    MPI_FLOAT, 0, MPI_COMM_WORLD);
	free(counts);
	free(displs);
}

void lm_dp_bcast(lm_dp *d, kn_tensor *t)
{
	if (!d->mpi || d->size == 1)
		return;
	const kn_ops *ops = t->be->ops;
	ops->sync(t->be);
	for (int64_t off = 0; off < t->n; off += CHUNK) {
		int n = (int)(t->n - off < CHUNK ? t->n - off : CHUNK);
		if (t->be->host) {
			MPI_Bcast((float *)t->data + off, n, MPI_FLOAT, 0, MPI_COMM_WORLD);
			continue;
		}
		float *b = host_buf(d, (size_t)n);
		ops->download(t, b, (size_t)n * sizeof(float), (size_t)off * sizeof(float));
		MPI_Bcast(b, n, MPI_FLOAT, 0, MPI_COMM_WORLD);
		ops->upload(t, b, (size_t)n * sizeof(float), (size_t)off * sizeof(float));
	}
}

void lm_dp_end(lm_dp *d)
{
	kn_nccl_close(d->nccl);
	d->nccl = NULL;
	if (d->mpi) {
		ended = 1;
		MPI_Finalize();
	}
	free(d->buf);
	d->buf = NULL;
	d->bufn = 0;
}
