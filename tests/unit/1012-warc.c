/* 1012-warc.c - unit tests for warc-extract's WARC reader: wrong Content-Lengths, records
 * over the size limit whose length proves wrong as they stream by (a record start inside
 * them at every place around where the reader's window ends), cuts at the end of a record. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include "buf.h"
#include "input.h"
#include "tap.h"
#include "warc.h"

/* a response record with the body given and a Content-Length of len (-1: the right one) */
static void add_rec(cm_buf *b, const char *id, const char *body, size_t n, long long len)
{
	char h[256];

	snprintf(h, sizeof(h), "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <%s>\r\n"
		 "Content-Length: %lld\r\n\r\n", id, len < 0 ? (long long)n : len);
	cm_buf_add(b, h, strlen(h));
	cm_buf_add(b, body, n);
	cm_buf_add(b, "\r\n\r\n", 4);
}

static void add_str(cm_buf *b, const char *s)
{
	cm_buf_add(b, s, strlen(s));
}

/* p as a gzip member appended to out */
static void add_gz(cm_buf *out, const char *p, size_t n)
{
	z_stream z;
	size_t cap = compressBound(n) + 64;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	cm_buf_grow(out, cap);
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out->p + out->len;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	out->len += cap - z.avail_out;
	deflateEnd(&z);
}

static char path[64];

static cm_input *reopen(void *ctx)
{
	(void)ctx;
	return cm_input_open(path);
}

/* Read data (as a file) with a size limit; the ids of the records read, space-separated,
 * "!" after a too_large one and "~" after a cut one, in ids; the counts in *n. */
static void read_ids(const char *data, size_t size, uint64_t max, int can_reopen, char *ids,
		     size_t cap, struct warc_counts *n)
{
	int fd = memfd_create("warc", 0);
	cm_input *in;
	warc_reader *r;
	struct warc_record rec;
	size_t len = 0;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		printf("# memfd: failed\n");
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	in = cm_input_open(path);
	r = warc_open(in, max);
	if (can_reopen)
		warc_on_reopen(r, reopen, NULL);
	ids[0] = '\0';
	while (warc_next(r, &rec) > 0 && len + rec.record_id.len + 3 < cap) {
		len += (size_t)snprintf(ids + len, cap - len, "%s%.*s%s", len ? " " : "",
					(int)rec.record_id.len, rec.record_id.p,
					rec.too_large ? "!" : rec.cut_short ? "~" : "");
	}
	*n = *warc_counts(r);
	cm_input_close(warc_input(r));
	warc_close(r);
	close(fd);
}

/* read_ids (no size limit to speak of) of a record "a" with the body given and a wrong
 * Content-Length, then a good record "b", made in w */
static void read_wrong_length(cm_buf *w, const char *body, long long len, char *ids, size_t cap,
			      struct warc_counts *n)
{
	cm_buf_reset(w);
	add_rec(w, "a", body, strlen(body), len);
	add_rec(w, "b", "B", 1, -1);
	read_ids(w->p, w->len, 1 << 20, 1, ids, cap, n);
}

int main(void)
{
	cm_buf w = CM_BUF_INIT, z = CM_BUF_INIT, pad = CM_BUF_INIT;
	struct warc_counts n;
	char buf[512], *ids = buf;	/* a pointer: is_str() tests it for NULL */
	size_t k;
	int bad_plain = 0, bad_gz = 0, bad_pipe = 0, tried = 0;

	/* A record over the limit whose Content-Length is too large by far: it runs past the
	 * records after it, and its declared end lands inside a later one. The record start
	 * inside it is put at every place around 64 KiB, 128 KiB and 256 KiB (where the reader's
	 * first reads end): it must be found wherever the window ends, from a plain file and
	 * from gzip. */
	for (k = 0; k < 8192; k++)
		cm_buf_addc(&pad, (char)('a' + k % 26));
	static const size_t bases[] = { 65536, 131072, 262144 };

	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		size_t base = bases[b];

		for (size_t at = base - 80; at <= base + 40; at++) {
			size_t body = at - 200;	/* the record start lands near at in the file */
			cm_buf big = CM_BUF_INIT;

			for (k = 0; k < body; k++)
				cm_buf_addc(&big, (char)('a' + k % 26));
			cm_buf_reset(&w);
			cm_buf_reset(&z);
			add_rec(&w, "a", "HTTP/1.1 200 OK\r\n\r\nA", 20, -1);
			/* B claims far more than it holds: its end lands inside E */
			add_rec(&w, "b", big.p, big.len, (long long)big.len + 900);
			add_rec(&w, "c", "C", 1, -1);
			add_rec(&w, "d", "D", 1, -1);
			add_rec(&w, "e", pad.p, 2000, -1);
			add_rec(&w, "f", "F", 1, -1);
			read_ids(w.p, w.len, 4096, 1, ids, sizeof(buf), &n);
			if (strcmp(ids, "<a> <b>! <c> <d> <e> <f>") != 0 || n.rewinds != 1 || n.cut) {
				if (bad_plain++ < 3)
					printf("# plain, record start near %zu: got '%s', %llu rewinds\n", at,
					       ids, (unsigned long long)n.rewinds);
			}
			/* the same, a gzip member a record */
			{
				cm_buf one = CM_BUF_INIT;

				add_rec(&one, "a", "HTTP/1.1 200 OK\r\n\r\nA", 20, -1);
				add_gz(&z, one.p, one.len);
				cm_buf_reset(&one);
				add_rec(&one, "b", big.p, big.len, (long long)big.len + 900);
				add_gz(&z, one.p, one.len);
				cm_buf_reset(&one);
				add_rec(&one, "c", "C", 1, -1);
				add_rec(&one, "d", "D", 1, -1);
				add_rec(&one, "e", pad.p, 2000, -1);
				add_gz(&z, one.p, one.len);
				cm_buf_reset(&one);
				add_rec(&one, "f", "F", 1, -1);
				add_gz(&z, one.p, one.len);
				cm_buf_free(&one);
			}
			read_ids(z.p, z.len, 4096, 1, ids, sizeof(buf), &n);
			if (strcmp(ids, "<a> <b>! <c> <d> <e> <f>") != 0 || n.rewinds != 1 || n.cut) {
				if (bad_gz++ < 3)
					printf("# gzip, record start near %zu: got '%s', %llu rewinds\n", at,
					       ids, (unsigned long long)n.rewinds);
			}
			/* without a way back (a pipe), C, D and E (where B's end lands) are lost */
			read_ids(z.p, z.len, 4096, 0, ids, sizeof(buf), &n);
			if (strcmp(ids, "<a> <b>! <f>") != 0 || n.rewinds != 0 || n.resyncs != 1 || n.lost != 1) {
				if (bad_pipe++ < 3)
					printf("# gzip without reopen, near %zu: got '%s'\n", at, ids);
			}
			tried++;
			cm_buf_free(&big);
		}
	}
	ok(!bad_plain, "plain: a record start inside an oversized record found at %d places", tried);
	ok(!bad_gz, "gzip: the same, the file read again up to it");
	ok(!bad_pipe, "without a way back: the records inside are lost (counted), the next one found");

	/* a length past the end of the file (over the limit, then under it) */
	cm_buf_reset(&w);
	add_rec(&w, "a", "A", 1, -1);
	add_rec(&w, "b", "B", 1, 100000);
	add_rec(&w, "c", "C", 1, -1);
	read_ids(w.p, w.len, 4096, 1, ids, sizeof(buf), &n);
	is_str(ids, "<a> <b>! <c>", "plain: a length past the end: the record inside it read");
	is_int(n.cut, 1, "and the input counted as cut");
	is_int(n.rewinds, 0, "without reading it again (the file's size tells)");
	cm_buf_reset(&z);
	add_gz(&z, w.p, w.len);
	read_ids(z.p, z.len, 4096, 1, ids, sizeof(buf), &n);
	is_str(ids, "<a> <b>! <c>", "gzip: the same");
	is_int(n.cut * 10 + n.rewinds, 11, "cut, read again once");
	read_ids(w.p, w.len, 1 << 20, 1, ids, sizeof(buf), &n);
	is_str(ids, "<a> <c>", "under the limit: the record is skipped, the one inside it read");
	is_int(n.bad_length * 10 + n.cut, 11, "counted as a bad length, the input as cut");

	/* an honest record over the limit */
	cm_buf_reset(&w);
	add_rec(&w, "a", "A", 1, -1);
	add_rec(&w, "b", pad.p, 5000, -1);
	add_rec(&w, "c", "C", 1, -1);
	read_ids(w.p, w.len, 4096, 1, ids, sizeof(buf), &n);
	is_str(ids, "<a> <b>! <c>", "an honest record over the limit: skipped, the next read");
	is_int(n.oversized * 100 + n.cut * 10 + n.rewinds, 100, "counted; nothing cut, not read again");
	/* its block holds a record start: an honest length is trusted */
	cm_buf_reset(&w);
	add_rec(&w, "a", "A", 1, -1);
	cm_buf_reset(&z);
	cm_buf_add(&z, pad.p, 4000);
	add_str(&z, "\nWARC/1.0\r\nContent-Length: 1\r\n\r\nX\r\n\r\n");
	cm_buf_add(&z, pad.p, 1000);
	add_rec(&w, "b", z.p, z.len, -1);
	add_rec(&w, "c", "C", 1, -1);
	read_ids(w.p, w.len, 4096, 1, ids, sizeof(buf), &n);
	is_str(ids, "<a> <b>! <c>", "a WARC record inside an honest block is not read as one");
	read_ids(w.p, w.len, 1 << 20, 1, ids, sizeof(buf), &n);
	is_str(ids, "<a> <b> <c>", "nor under the limit");

	/* a length too large by a little, under the limit: it runs into the next record */
	read_wrong_length(&w, "A", 12, ids, sizeof(buf), &n);
	is_str(ids, "<b>", "a length running into the next record: skipped, the next one read");
	is_int(n.bad_length * 10 + n.resyncs, 10, "a bad length, no garbage");
	/* too large by one or two: the closing line ends are eaten, nothing else */
	read_wrong_length(&w, "A", 3, ids, sizeof(buf), &n);
	is_str(ids, "<a> <b>", "a length into the closing line ends: tolerated");
	/* too small: the rest is garbage, the record kept */
	read_wrong_length(&w, "AAAA", 2, ids, sizeof(buf), &n);
	is_str(ids, "<a> <b>", "a length too small: both read");
	is_int(n.resyncs, 1, "the rest skipped as garbage");

	/* the end of the input after a block */
	static const struct {
		const char *tail;
		int cut;
	} ends[] = {
		{ "\r\n\r\n", 0 }, { "\r\n\r\n\r\n", 0 }, { "\n\n", 0 }, { "\r\n", 1 },
		{ "\r\n\r", 1 }, { "", 1 }, { "\r\n\r\nWA", 1 }, { "\r\n\r\nWARC/1.1\r\n", 1 },
	};
	for (k = 0; k < sizeof(ends) / sizeof(ends[0]); k++) {
		cm_buf_reset(&w);
		add_rec(&w, "a", "A", 1, -1);
		w.len -= 4;
		add_str(&w, ends[k].tail);
		read_ids(w.p, w.len, 1 << 20, 1, ids, sizeof(buf), &n);
		ok(strcmp(ids, "<a>") == 0 && (n.cut != 0) == ends[k].cut,
		   "the input ending with %zu bytes after the block: %s", strlen(ends[k].tail),
		   ends[k].cut ? "cut" : "complete");
	}

	/* a header cut short by the next record */
	cm_buf_reset(&w);
	add_str(&w, "WARC/1.0\r\nWARC-Type: resource\r\nWARC-Record-ID: <lost>\r\n");
	add_rec(&w, "b", "B", 1, -1);
	read_ids(w.p, w.len, 1 << 20, 1, ids, sizeof(buf), &n);
	is_str(ids, "<b>", "a header cut short by the next record: the next one read");
	is_int(n.bad_header, 1, "a bad header");

	cm_buf_free(&w);
	cm_buf_free(&z);
	cm_buf_free(&pad);
	return tap_done();
}
