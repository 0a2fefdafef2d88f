/* xsort.c - external sort of dm_rec triples (see xsort.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "xsort.h"

struct run {
	int fd;
	dm_rec *buf;
	size_t n, i, cap;	/* records in buf, the next one, buf's size */
	uint64_t left;		/* records still in the file */
};

struct dm_sorter {
	dm_rec *buf;
	size_t n, cap, mem;
	uint64_t count;
	const char *tmpdir;
	struct run *runs;
	size_t nruns;
	size_t *heap, nheap;	/* runs by their current record */
	int reading;
	size_t next;
	dm_rec out;		/* in-memory reading position */
};

static inline int less(const dm_rec *x, const dm_rec *y)
{
	if (x->a != y->a)
		return x->a < y->a;
	if (x->b != y->b)
		return x->b < y->b;
	return x->c < y->c;
}

static void swap(dm_rec *x, dm_rec *y)
{
	dm_rec t = *x;

	*x = *y;
	*y = t;
}

static void sift(dm_rec *r, size_t n, size_t i)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1;

		if (l < n && less(&r[m], &r[l]))
			m = l;
		if (l + 1 < n && less(&r[m], &r[l + 1]))
			m = l + 1;
		if (m == i)
			return;
		swap(&r[i], &r[m]);
		i = m;
	}
}

static void heapsort_recs(dm_rec *r, size_t n)
{
	size_t i;

	for (i = n / 2; i-- > 0;)
		sift(r, n, i);
	for (i = n; i-- > 1;) {
		swap(&r[0], &r[i]);
		sift(r, i, 0);
	}
}

static void introsort(dm_rec *r, size_t n, unsigned depth)
{
	while (n > 16) {
		size_t i, j, m = n / 2;
		dm_rec p;

		if (depth-- == 0) {
			heapsort_recs(r, n);
			return;
		}
		/* median of three to r[0] */
		if (less(&r[m], &r[0]))
			swap(&r[m], &r[0]);
		if (less(&r[n - 1], &r[0]))
			swap(&r[n - 1], &r[0]);
		if (less(&r[n - 1], &r[m]))
			swap(&r[n - 1], &r[m]);
		swap(&r[0], &r[m]);
		p = r[0];
		i = 0;
		j = n;
		for (;;) {
			do
				i++;
			while (i < n && less(&r[i], &p));
			do
				j--;
			while (less(&p, &r[j]));
			if (i >= j)
				break;
			swap(&r[i], &r[j]);
		}
		swap(&r[0], &r[j]);
		/* the smaller side by recursion, the larger by the loop */
		if (j < n - j - 1) {
			introsort(r, j, depth);
			r += j + 1;
			n -= j + 1;
		} else {
			introsort(r + j + 1, n - j - 1, depth);
			n = j;
		}
	}
	for (size_t i = 1; i < n; i++) {
		dm_rec t = r[i];
		size_t j = i;

		for (; j > 0 && less(&t, &r[j - 1]); j--)
			r[j] = r[j - 1];
		r[j] = t;
	}
}

void dm_rec_sort(dm_rec *r, size_t n)
{
	unsigned depth = 0;
	size_t m;

	for (m = n; m > 1; m >>= 1)
		depth += 2;
	introsort(r, n, depth);
}

dm_sorter *dm_sorter_new(size_t mem, const char *tmpdir)
{
	dm_sorter *s = cm_xcalloc(1, sizeof(*s));

	s->mem = mem < 65536 ? 65536 : mem;
	s->tmpdir = tmpdir && *tmpdir ? tmpdir : "/tmp";
	return s;
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			cm_die("cannot write a sort run in %s: %s", "the temporary directory", strerror(errno));
		c += w;
		n -= (size_t)w;
	}
}

static void spill(dm_sorter *s)
{
	char path[4096];
	struct run *r;
	int fd;

	dm_rec_sort(s->buf, s->n);
	if ((size_t)snprintf(path, sizeof(path), "%s/dedup-minhash-run-XXXXXX", s->tmpdir) >= sizeof(path))
		cm_die("temporary directory name too long: %s", s->tmpdir);
	if ((fd = mkstemp(path)) < 0)
		cm_die("cannot create a sort run in %s: %s (--tmp)", s->tmpdir, strerror(errno));
	unlink(path);
	write_all(fd, s->buf, s->n * sizeof(dm_rec));
	s->runs = cm_xrealloc(s->runs, (s->nruns + 1) * sizeof(*s->runs));
	r = &s->runs[s->nruns++];
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->left = s->n;
	s->n = 0;
}

void dm_sorter_add(dm_sorter *s, uint64_t a, uint64_t b, uint64_t c)
{
	if (s->reading)
		cm_die("internal error: dm_sorter_add after reading began");
	if (s->n == s->cap) {
		size_t max = s->mem / sizeof(dm_rec);

		if (s->cap < max) {	/* grow toward the budget rather than taking it at once */
			s->cap = s->cap ? (s->cap * 2 < max ? s->cap * 2 : max) : (max < 65536 ? max : 65536);
			s->buf = cm_xrealloc(s->buf, s->cap * sizeof(dm_rec));
		} else {
			spill(s);
		}
	}
	s->buf[s->n].a = a;
	s->buf[s->n].b = b;
	s->buf[s->n].c = c;
	s->n++;
	s->count++;
}

/* Refill run r's buffer; 0 at its end. */
static int refill(struct run *r)
{
	size_t want = r->left < r->cap ? (size_t)r->left : r->cap, got = 0;

	if (!want)
		return 0;
	while (got < want * sizeof(dm_rec)) {
		ssize_t n = read(r->fd, (char *)r->buf + got, want * sizeof(dm_rec) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			cm_die("cannot read back a sort run: %s", n < 0 ? strerror(errno) : "it ended early");
		got += (size_t)n;
	}
	r->n = want;
	r->i = 0;
	r->left -= want;
	return 1;
}

static int heap_less(const dm_sorter *s, size_t x, size_t y)
{
	return less(&s->runs[x].buf[s->runs[x].i], &s->runs[y].buf[s->runs[y].i]);
}

static void heap_down(dm_sorter *s, size_t i)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1, t;

		if (l < s->nheap && heap_less(s, s->heap[l], s->heap[m]))
			m = l;
		if (l + 1 < s->nheap && heap_less(s, s->heap[l + 1], s->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
}

static void start_reading(dm_sorter *s)
{
	size_t i, each;

	s->reading = 1;
	if (!s->nruns) {
		dm_rec_sort(s->buf, s->n);
		return;
	}
	if (s->n)
		spill(s);
	free(s->buf);
	s->buf = NULL;
	/* the budget shared among the runs' read buffers */
	each = s->mem / s->nruns / sizeof(dm_rec);
	if (each < 1024)
		each = 1024;
	s->heap = cm_xmalloc(s->nruns * sizeof(*s->heap));
	for (i = 0; i < s->nruns; i++) {
		struct run *r = &s->runs[i];

		if (lseek(r->fd, 0, SEEK_SET) != 0)
			cm_die("cannot rewind a sort run: %s", strerror(errno));
		r->cap = each;
		r->buf = cm_xmalloc(each * sizeof(dm_rec));
		if (refill(r))
			s->heap[s->nheap++] = i;
	}
	for (i = s->nheap / 2; i-- > 0;)
		heap_down(s, i);
}

const dm_rec *dm_sorter_next(dm_sorter *s)
{
	struct run *r;

	if (!s->reading)
		start_reading(s);
	if (!s->nruns)
		return s->next < s->n ? &s->buf[s->next++] : NULL;
	if (!s->nheap)
		return NULL;
	r = &s->runs[s->heap[0]];
	s->out = r->buf[r->i++];
	if (r->i == r->n && !refill(r))
		s->heap[0] = s->heap[--s->nheap];
	if (s->nheap)
		heap_down(s, 0);
	return &s->out;
}

uint64_t dm_sorter_count(const dm_sorter *s)
{
	return s->count;
}

size_t dm_sorter_runs(const dm_sorter *s)
{
	return s->nruns;
}

void dm_sorter_free(dm_sorter *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nruns; i++) {
		close(s->runs[i].fd);
		free(s->runs[i].buf);
	}
	free(s->runs);
	free(s->heap);
	free(s->buf);
	free(s);
}
