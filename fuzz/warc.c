/* warc.c - libFuzzer target: the WARC and ARC readers, HTTP parsing and decoding, charsets,
 * JSON output.
 *
 * The input is read as a WARC or ARC file (plain, gzip or zstd, as cm_input detects), every
 * record goes through warc-extract's record conversion with every type, MIME type and status
 * selected; the input is also given to the HTTP and charset functions as one block. Inputs
 * of odd size are read with a small record size limit (4 KiB), so that the streaming skip
 * of oversized records, and its going back into them, are reached too.
 * Build and run: make fuzz [FUZZ_SECONDS=600].
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "charset.h"
#include "cli.h"
#include "extract.h"
#include "http.h"
#include "input.h"
#include "warc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cm_input *reopen(void *path)
{
	return cm_input_open(path);
}

static void http_block(const char *p, size_t n)
{
	static cm_buf a, b, c;
	struct http_head h;
	const char *cs;
	size_t replaced = 0;
	int src;

	if (http_parse(p, n, &h) == 0) {
		const char *body = p + h.body_off;
		size_t len = n - h.body_off;

		cm_buf_reset(&a);
		cm_buf_reset(&b);
		http_dechunk(body, len, &a, 1 << 20);
		http_decode("gzip", 4, body, len, &b, 1 << 20);
		cm_buf_reset(&b);
		http_decode("deflate", 7, body, len, &b, 1 << 20);
		cm_buf_reset(&b);
		http_decode("br", 2, body, len, &b, 1 << 20);
		cm_buf_reset(&b);
		http_decode("zstd", 4, body, len, &b, 1 << 20);
		cs = charset_detect(h.charset[0] ? h.charset : NULL, body, len, &src);
		cm_buf_reset(&c);
		charset_to_utf8(cs, body, len, &c, &replaced);
	}
	cs = charset_detect(NULL, p, n, &src);
	cm_buf_reset(&c);
	charset_to_utf8(cs, p, n, &c, &replaced);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wx_opts o;
	static struct wx x;
	static int init;
	struct warc_record r;
	warc_reader *wr;
	cm_input *in;
	char path[64];
	int fd;

	if (!init) {
		cm_verbosity = -1;
		wx_opts_default(&o);
		o.types = ~0u;
		o.mime_any = o.status_any = 1;
		o.max_record = 1 << 20;
		wx_init(&x, &o);
		init = 1;
	}
	http_block((const char *)data, size);

	fd = memfd_create("fuzz", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	in = cm_input_open(path);
	if (!in) {
		close(fd);
		return 0;
	}
	wr = warc_open(in, size & 1 ? 4096 : o.max_record);
	warc_on_reopen(wr, reopen, path);
	while (warc_next(wr, &r) > 0)
		wx_record(&x, &r, "fuzz");
	cm_input_close(warc_input(wr));
	warc_close(wr);
	close(fd);
	return 0;
}
