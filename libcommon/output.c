/* output.c - buffered output to stdout or a file, plain or gzip (-z). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#ifdef CM_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "cli.h"
#include "output.h"

#define OUT_BUF (1u << 20)

struct cm_output {
	int fd;
	char *name;
	int gzip;
	char *buf;
	size_t len;
	uint64_t bytes;
	unsigned char *zbuf;
	z_stream z;
#ifdef CM_HAVE_ISAL
	struct isal_zstream *isal;
	uint8_t *level_buf;
#endif
};

static void write_all(cm_output *o, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t k = write(o->fd, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			if (errno == EPIPE)
				raise(SIGPIPE);
			cm_die("cannot write to %s: %s", o->name, strerror(errno));
		}
		s += k;
		n -= (size_t)k;
	}
}

cm_output *cm_output_open(const char *path, int gzip)
{
	cm_output *o = cm_xcalloc(1, sizeof(*o));
	char name[4096];

	if (!path || strcmp(path, "-") == 0) {
		/* Whatever stdio holds goes first. */
		fflush(stdout);
		o->fd = 1;
		snprintf(name, sizeof(name), "standard output");
	} else {
		o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (o->fd < 0)
			cm_die("cannot create '%s': %s", path, strerror(errno));
		snprintf(name, sizeof(name), "'%s'", path);
	}
	o->name = cm_xstrdup(name);
	o->gzip = gzip;
	o->buf = cm_xmalloc(OUT_BUF);
	if (gzip) {
		o->zbuf = cm_xmalloc(OUT_BUF);
#ifdef CM_HAVE_ISAL
		o->isal = cm_xcalloc(1, sizeof(*o->isal));
		isal_deflate_init(o->isal);
		o->isal->level = 1;
		o->level_buf = cm_xmalloc(ISAL_DEF_LVL1_DEFAULT);
		o->isal->level_buf = o->level_buf;
		o->isal->level_buf_size = ISAL_DEF_LVL1_DEFAULT;
		o->isal->gzip_flag = IGZIP_GZIP;
#else
		if (deflateInit2(&o->z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			cm_die("cannot initialise zlib");
#endif
	}
	return o;
}

static void compress_out(cm_output *o, const char *p, size_t n, int last)
{
#ifdef CM_HAVE_ISAL
	struct isal_zstream *s = o->isal;

	s->next_in = (uint8_t *)p;
	s->avail_in = (uint32_t)n;
	s->end_of_stream = (uint16_t)last;
	do {
		s->next_out = o->zbuf;
		s->avail_out = OUT_BUF;
		if (isal_deflate(s) != COMP_OK)
			cm_die("gzip compression failed");
		write_all(o, o->zbuf, OUT_BUF - s->avail_out);
	} while (s->avail_in > 0 || (last && s->internal_state.state != ZSTATE_END));
#else
	z_stream *z = &o->z;
	int ret;

	z->next_in = (Bytef *)p;
	z->avail_in = (uInt)n;
	do {
		z->next_out = o->zbuf;
		z->avail_out = OUT_BUF;
		ret = deflate(z, last ? Z_FINISH : Z_NO_FLUSH);
		if (ret == Z_STREAM_ERROR)
			cm_die("gzip compression failed");
		write_all(o, o->zbuf, OUT_BUF - z->avail_out);
	} while (z->avail_in > 0 || (last && ret != Z_STREAM_END));
#endif
}

static void flush(cm_output *o, int last)
{
	if (o->gzip)
		compress_out(o, o->buf, o->len, last);
	else
		write_all(o, o->buf, o->len);
	o->len = 0;
}

void cm_output_write(cm_output *o, const void *p, size_t n)
{
	if (!n)
		return;	/* p may be NULL then */
	o->bytes += n;
	/* large pieces skip the copy into the buffer */
	if (n >= OUT_BUF / 8 && !o->gzip) {
		flush(o, 0);
		write_all(o, p, n);
		return;
	}
	if (n >= OUT_BUF) {
		flush(o, 0);
		if (o->gzip) {
			const char *s = p;

			while (n > 0) {
				size_t k = n > OUT_BUF ? OUT_BUF : n;

				compress_out(o, s, k, 0);
				s += k;
				n -= k;
			}
		} else {
			write_all(o, p, n);
		}
		return;
	}
	if (OUT_BUF - o->len < n)
		flush(o, 0);
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void cm_output_close(cm_output *o)
{
	if (!o)
		return;
	flush(o, 1);
	if (o->fd == 1) {
		/* stdout stays open for stdio's own checked close */
	} else if (close(o->fd) != 0) {
		cm_die("cannot close %s: %s", o->name, strerror(errno));
	}
#ifdef CM_HAVE_ISAL
	free(o->isal);
	free(o->level_buf);
#else
	if (o->gzip)
		deflateEnd(&o->z);
#endif
	free(o->zbuf);
	free(o->buf);
	free(o->name);
	free(o);
}

uint64_t cm_output_bytes(const cm_output *o)
{
	return o->bytes;
}
