/* dp.c - data parallel training over MPI: rank and size from the launcher, gradients summed
 * (reduce-scatter then all-gather, so every rank holds the same bits), options compared. */
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

/* rank i's share of n elements: counts[i] at displs[i] */
static void shares(const lm_dp *d, int n, int *counts, int *displs)
{
	int q = n / d->size, r = n % d->size, off = 0;
	for (int i = 0; i < d->size; i++) {
		counts[i] = q + (i < r);
		displs[i] = off;
		off += counts[i];
	}
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

void lm_dp_allreduce(lm_dp *d, kn_tensor *t)
{
	if (!d->mpi || d->size == 1)
		return;
	const kn_ops *ops = t->be->ops;
	int host = t->be->host;
	if (d->nccl) {
		char err[1024];
		ops->sync(t->be);
		if (kn_nccl_sum(d->nccl, t, err, sizeof err) < 0)
			cm_die("data parallel: %s", err);
		return;
	}
	int *counts = cm_xmalloc((size_t)d->size * sizeof *counts);
	int *displs = cm_xmalloc((size_t)d->size * sizeof *displs);
	ops->sync(t->be);
	for (int64_t off = 0; off < t->n; off += CHUNK) {
		int n = (int)(t->n - off < CHUNK ? t->n - off : CHUNK);
		shares(d, n, counts, displs);
		size_t at = (size_t)off * sizeof(float), bytes = (size_t)n * sizeof(float);
		/* the host's tensor in place; a device's through the staging buffer */
		float *b = host_buf(d, (host ? 0 : (size_t)n) + (size_t)counts[d->rank]);
		float *all = host ? (float *)t->data + off : b, *mine = host ? b : b + n;
		if (!host)
			ops->download(t, all, bytes, at);
		MPI_Reduce_scatter(all, mine, counts, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
		MPI_Allgatherv(mine, counts[d->rank], MPI_FLOAT, all, counts, displs, MPI_FLOAT,
			       MPI_COMM_WORLD);
		if (!host)
			ops->upload(t, all, bytes, at);
	}
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
