/* 0030-input.c - reading plain, gzip (zlib and ISA-L) and zstd input: members, lines, damage. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "buf.h"
#include "input.h"
#include "tap.h"

static char path[] = "/tmp/crawl2lm-input-XXXXXX";

static void gzip_member(cm_buf *out, const char *p, size_t n)
{
	z_stream z;
	unsigned char buf[1 << 16];
	int ret;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)n;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		ret = deflate(&z, Z_FINISH);
		cm_buf_add(out, buf, sizeof(buf) - z.avail_out);
	} while (ret != Z_STREAM_END);
	deflateEnd(&z);
}

static void write_file(const cm_buf *b)
{
	FILE *f = fopen(path, "wb");

	fwrite(b->p, 1, b->len, f);
	fclose(f);
}

/* Read the whole file through cm_input; returns the bytes, sets *trunc. */
static void read_all(cm_buf *out, int *trunc, size_t chunk)
{
	cm_input *in = cm_input_open(path);
	size_t n;

	cm_buf_reset(out);
	while ((n = cm_input_fill(in, chunk)) > 0) {
		cm_buf_add(out, cm_input_data(in), n);
		cm_input_skip(in, n);
	}
	*trunc = cm_input_truncated(in);
	cm_input_close(in);
}

static void make_text(cm_buf *b, size_t lines)
{
	size_t i;

	cm_buf_reset(b);
	for (i = 0; i < lines; i++)
		cm_buf_printf(b, "line %zu %s\n", i, i % 7 ? "short" :
			      "a longer line with more words in it so that it compresses differently");
}

int main(void)
{
	cm_buf text = CM_BUF_INIT, z = CM_BUF_INIT, got = CM_BUF_INIT;
	const char *decoders[] = { "libdeflate", "isal", "zlib", "libdeflate+thread", "isal+thread",
				   "zlib+thread" };
	int fd = mkstemp(path), trunc, d;
	size_t half;

	close(fd);
	make_text(&text, 100000);
	half = text.len / 2;
	while (text.p[half] != '\n')
		half++;
	half++;

	/* plain */
	write_file(&text);
	read_all(&got, &trunc, 1000);
	ok(got.len == text.len && memcmp(got.p, text.p, text.len) == 0 && !trunc, "plain file read whole");

	for (d = 0; d < 6; d++) {
		cm_input_set_inflate(decoders[d % 3]);
		cm_input_set_threads(d >= 3);
		cm_buf_reset(&z);
		gzip_member(&z, text.p, half);
		gzip_member(&z, text.p + half, text.len - half);
		gzip_member(&z, "", 0);		/* an empty member, as some writers leave */
		write_file(&z);
		read_all(&got, &trunc, 4096);
		ok(got.len == text.len && memcmp(got.p, text.p, text.len) == 0 && !trunc,
		   "%s: three gzip members read as one stream", decoders[d]);
		read_all(&got, &trunc, 3 << 20);
		ok(got.len == text.len && !trunc, "%s: in large chunks too", decoders[d]);

		/* cut inside the second member */
		z.len -= 1000;
		write_file(&z);
		read_all(&got, &trunc, 4096);
		ok(trunc, "%s: truncated member reported", decoders[d]);
		ok(got.len >= half && got.len < text.len && memcmp(got.p, text.p, got.len) == 0,
		   "%s: everything before the damage is read (%zu of %zu bytes)", decoders[d], got.len, text.len);
		{
			cm_input *in = cm_input_open(path);

			while (cm_input_fill(in, 1 << 16) > 0)
				cm_input_skip(in, cm_input_avail(in));
			ok(strstr(cm_input_error(in), "unexpected end of file") != NULL, "%s: says why: %s",
			   decoders[d], cm_input_error(in));
			ok(cm_input_member_offset(in) > 0, "%s: offset of the damaged member: %llu", decoders[d],
			   (unsigned long long)cm_input_member_offset(in));
			cm_input_close(in);
		}

		/* trailing garbage after a whole member */
		cm_buf_reset(&z);
		gzip_member(&z, text.p, half);
		cm_buf_adds(&z, "this is not gzip");
		write_file(&z);
		read_all(&got, &trunc, 4096);
		ok(trunc && got.len == half, "%s: garbage after a member is an error after its data",
		   decoders[d]);

		/* cut on the first byte of the next member: a cut, not garbage */
		cm_buf_reset(&z);
		gzip_member(&z, text.p, half);
		cm_buf_addc(&z, 0x1f);
		write_file(&z);
		{
			cm_input *in = cm_input_open(path);

			while (cm_input_fill(in, 1 << 16) > 0)
				cm_input_skip(in, cm_input_avail(in));
			ok(cm_input_truncated(in) && strstr(cm_input_error(in), "unexpected end of file") != NULL,
			   "%s: a file cut one byte into a member: %s", decoders[d], cm_input_error(in));
			cm_input_close(in);
		}

		/* a corrupted byte in the middle */
		cm_buf_reset(&z);
		gzip_member(&z, text.p, text.len);
		z.p[z.len / 2] ^= 0x55;
		write_file(&z);
		read_all(&got, &trunc, 4096);
		ok(trunc, "%s: corrupt data reported", decoders[d]);
	}
	cm_input_set_inflate(NULL);

	/* zstd, two frames, then cut; with and without the decoder thread */
	for (d = 0; d < 2; d++) {
		cm_input_set_threads(d);
		{
			size_t cap = ZSTD_compressBound(text.len), a, b;

			cm_buf_reset(&z);
			cm_buf_grow(&z, 2 * cap);
			a = ZSTD_compress(z.p, cap, text.p, half, 3);
			b = ZSTD_compress(z.p + a, cap, text.p + half, text.len - half, 3);
			z.len = a + b;
			write_file(&z);
			read_all(&got, &trunc, 4096);
			ok(got.len == text.len && memcmp(got.p, text.p, text.len) == 0 && !trunc, "zstd: two frames");
			z.len -= 100;
			write_file(&z);
			read_all(&got, &trunc, 4096);
			ok(trunc && got.len < text.len && memcmp(got.p, text.p, got.len) == 0, "zstd: truncated frame reported");
		}
	}
	cm_input_set_threads(1);

	/* lines */
	{
		cm_input *in;
		char *line;
		size_t len, n = 0;
		int r, bad = 0;

		cm_buf_reset(&z);
		cm_buf_adds(&z, "one\r\ntwo\n\n");
		for (size_t i = 0; i < 300000; i++)
			cm_buf_addc(&z, 'x');
		cm_buf_adds(&z, "\nlast");
		write_file(&z);
		in = cm_input_open(path);
		r = cm_input_line(in, &line, &len, 100000);
		ok(r == 1 && len == 4 && memcmp(line, "one\r", 4) == 0, "first line keeps its CR");
		r = cm_input_line(in, &line, &len, 100000);
		ok(r == 1 && len == 3 && memcmp(line, "two", 3) == 0, "second line");
		r = cm_input_line(in, &line, &len, 100000);
		ok(r == 1 && len == 0, "empty line");
		r = cm_input_line(in, &line, &len, 100000);
		ok(r == -1 && len == 300000, "overlong line reported with its length (%zu)", len);
		r = cm_input_line(in, &line, &len, 100000);
		ok(r == 1 && len == 4 && memcmp(line, "last", 4) == 0, "last line without a newline");
		r = cm_input_line(in, &line, &len, 100000);
		ok(r == 0, "then the end");
		cm_input_close(in);

		/* many lines through a gzip stream: none lost or split */
		cm_buf_reset(&z);
		gzip_member(&z, text.p, text.len);
		write_file(&z);
		in = cm_input_open(path);
		while ((r = cm_input_line(in, &line, &len, 1 << 20)) == 1) {
			char want[200];
			int k = snprintf(want, sizeof(want), "line %zu ", n);

			bad += len < (size_t)k || memcmp(line, want, (size_t)k) != 0;
			n++;
		}
		ok(n == 100000 && bad == 0, "100000 gzip lines in order (%zu, %d bad)", n, bad);
		cm_input_close(in);
	}
	/* a missing file: NULL and an error that names it, kept out of the test's output */
	{
		const char *want = "cannot open '/nonexistent/file'";
		int saved = dup(2);
		cm_input *in;

		fd = open(path, O_WRONLY | O_TRUNC);
		dup2(fd, 2);
		close(fd);
		in = cm_input_open("/nonexistent/file");
		dup2(saved, 2);
		close(saved);
		ok(in == NULL, "missing file: NULL");
		read_all(&got, &trunc, 4096);
		ok(memmem(got.p, got.len, want, strlen(want)) != NULL,
		   "and says so on stderr");
	}

	unlink(path);
	cm_buf_free(&text);
	cm_buf_free(&z);
	cm_buf_free(&got);
	return tap_done();
}
