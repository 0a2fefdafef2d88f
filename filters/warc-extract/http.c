/* http.c - parse HTTP response heads and undo transfer and content codings of WARC payloads. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include "ascii.h"
#include "buf.h"
#include "http.h"

#define CHUNK_LINE_MAX 4096	/* longest chunk-size line, extensions included */
#define ZSTD_WINDOW_LOG 23	/* 8 MiB, what RFC 8878 asks HTTP decoders to support */

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Copy s lower-cased into dst (size cap), truncating; NUL-terminated. */
static void copy_lower(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i;

	if (n > cap - 1)
		n = cap - 1;
	for (i = 0; i < n; i++)
		dst[i] = (char)cm_lower((unsigned char)s[i]);
	dst[n] = '\0';
}

/* Next comma-separated item of s[*i..n) outside double quotes, trimmed; 0 when none is left. */
static int next_item(const char *s, size_t n, size_t *i, const char **v, size_t *vn)
{
	size_t j = *i;
	int q = 0;

	if (j >= n)
		return 0;
	for (; j < n && (q || s[j] != ','); j++)
		if (s[j] == '"')
			q = !q;
	*v = s + *i;
	*vn = j - *i;
	trim(v, vn);
	*i = j + 1;
	return 1;
}

/* The value of the charset parameter in the parameters s[0..n) of a MIME type, unquoted. */
static int charset_param(const char *s, size_t n, const char **v, size_t *vn)
{
	size_t i = 0, a, b;

	while (i < n) {
		while (i < n && (s[i] == ';' || is_space((unsigned char)s[i])))
			i++;
		a = i;
		while (i < n && s[i] != '=' && s[i] != ';')
			i++;
		b = i;
		while (b > a && is_space((unsigned char)s[b - 1]))
			b--;
		if (i >= n || s[i] != '=')
			continue;
		i++;
		while (i < n && is_space((unsigned char)s[i]))
			i++;
		if (i < n && (s[i] == '"' || s[i] == '\'')) {
			char q = s[i++];

			*v = s + i;
			while (i < n && s[i] != q)
				i++;
			*vn = (size_t)(s + i - *v);
		} else {
			*v = s + i;
			while (i < n && s[i] != ';')
				i++;
			*vn = (size_t)(s + i - *v);
			trim(v, vn);
		}
		if (CM_EQ_CI(s + a, b - a, "charset") && *vn)
			return 1;
	}
	return 0;
}

/* Fold one Content-Type header value into h, as WHATWG Fetch's "extract a MIME type". */
static void content_type(struct http_head *h, const char *s, size_t n)
{
	const char *v, *cs = NULL;
	size_t i = 0, vn, e, slash, csn;
	char mime[sizeof(h->mime)];
	int valid = 0;

	while (next_item(s, n, &i, &v, &vn)) {
		for (e = 0; e < vn && v[e] != ';'; e++)
			;
		slash = 0;
		while (slash < e && v[slash] != '/')
			slash++;
		while (e > 0 && is_space((unsigned char)v[e - 1]))
			e--;
		if (slash == 0 || slash + 1 >= e)
			continue;	/* not type/subtype */
		valid = 1;
		copy_lower(mime, sizeof(mime), v, e);
		if (!charset_param(v + e, vn - e, &cs, &csn))
			csn = 0;
		if (strcmp(mime, h->mime)) {
			memcpy(h->mime, mime, sizeof(mime));
			copy_lower(h->charset, sizeof(h->charset), cs, csn);
		} else if (csn) {
			copy_lower(h->charset, sizeof(h->charset), cs, csn);
		}
	}
	if (valid) {
		h->content_type = s;
		h->content_type_len = n;
	}
}

enum field { F_OTHER, F_CTYPE, F_TE, F_CE };

static enum field field_name(struct http_head *h, const char *s, size_t n)
{
	if (CM_EQ_CI(s, n, "content-type"))
		return F_CTYPE;
	if (CM_EQ_CI(s, n, "transfer-encoding"))
		return F_TE;
	if (CM_EQ_CI(s, n, "content-encoding"))
		return F_CE;
	if (n > 10 && cm_eq_ci(s, 10, "x-crawler-")) {
		if (CM_EQ_CI(s + 10, n - 10, "transfer-encoding"))
			h->crawler |= HTTP_CRAWLER_TE;
		else if (CM_EQ_CI(s + 10, n - 10, "content-encoding"))
			h->crawler |= HTTP_CRAWLER_CE;
		else if (CM_EQ_CI(s + 10, n - 10, "content-length"))
			h->crawler |= HTTP_CRAWLER_CL;
	}
	return F_OTHER;
}

static void field_done(struct http_head *h, enum field f, const char *v, size_t n)
{
	trim(&v, &n);
	if (!n)
		return;
	switch (f) {
	case F_CTYPE:
		content_type(h, v, n);
		break;
	case F_TE:
		h->transfer_encoding = v;
		h->transfer_encoding_len = n;
		break;
	case F_CE:
		h->content_encoding = v;
		h->content_encoding_len = n;
		break;
	case F_OTHER:
		break;
	}
}

/* "HTTP/" digit ["." digit] SP 3digit [SP reason]; 1 if p[0..n) is such a line. */
static int status_line(const char *p, size_t n, struct http_head *h)
{
	size_t i = 5;
	int major, minor = 0;

	if (n < 5 || !cm_eq_ci(p, 5, "http/") || i >= n || !is_digit(p[i]))
		return 0;
	major = p[i++] - '0';
	if (i < n && p[i] == '.') {
		if (++i >= n || !is_digit(p[i]))
			return 0;
		minor = p[i++] - '0';
	}
	if (i >= n || (p[i] != ' ' && p[i] != '\t'))
		return 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (n - i < 3 || !is_digit(p[i]) || !is_digit(p[i + 1]) || !is_digit(p[i + 2]) ||
	    (n - i > 3 && is_digit(p[i + 3])) || p[i] == '0')
		return 0;
	h->status = (p[i] - '0') * 100 + (p[i + 1] - '0') * 10 + (p[i + 2] - '0');
	h->version = major * 10 + minor;
	return 1;
}

int http_parse(const char *p, size_t n, struct http_head *h)
{
	size_t lim = n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX, i, end, next;
	const char *nl, *v = NULL;
	size_t vn = 0;
	enum field f = F_OTHER;

	memset(h, 0, sizeof(*h));
	nl = memchr(p, '\n', lim);
	end = nl ? (size_t)(nl - p) : lim;
	while (end > 0 && p[end - 1] == '\r')
		end--;
	if (!status_line(p, end, h))
		return -1;
	for (i = nl ? (size_t)(nl - p) + 1 : lim; ; i = next) {
		if (i >= n) {	/* the head runs to the end of the block: no body */
			h->body_off = n;
			break;
		}
		nl = i < lim ? memchr(p + i, '\n', lim - i) : NULL;
		if (!nl && lim < n)
			return -2;
		end = nl ? (size_t)(nl - p) : n;
		next = nl ? end + 1 : n;
		while (end > i && p[end - 1] == '\r')
			end--;
		if (end == i) {	/* blank line */
			h->body_off = next;
			break;
		}
		if (p[i] == ' ' || p[i] == '\t') {	/* obsolete line folding */
			if (v)
				vn = end - (size_t)(v - p);
			continue;
		}
		if (v)
			field_done(h, f, v, vn);
		v = memchr(p + i, ':', end - i);
		if (v) {
			size_t k = (size_t)(v - p) - i;

			while (k && (p[i + k - 1] == ' ' || p[i + k - 1] == '\t'))
				k--;
			f = field_name(h, p + i, k);
			v++;
			vn = end - (size_t)(v - p);
		}
	}
	if (v)
		field_done(h, f, v, vn);
	return 0;
}

/* The last item of a comma-separated list. */
static void last_item(const char *s, size_t n, const char **v, size_t *vn)
{
	size_t i = 0;
	const char *w;
	size_t wn;

	*v = s;
	*vn = 0;
	while (next_item(s, n, &i, &w, &wn))
		if (wn) {
			*v = w;
			*vn = wn;
		}
}

int http_is_chunked(const struct http_head *h)
{
	const char *v;
	size_t vn;

	if (!h->transfer_encoding || (h->crawler & HTTP_CRAWLER_TE))
		return 0;
	last_item(h->transfer_encoding, h->transfer_encoding_len, &v, &vn);
	return CM_EQ_CI(v, vn, "chunked");
}

int http_is_encoded(const struct http_head *h)
{
	const char *v;
	size_t i = 0, vn;

	if (!h->content_encoding || (h->crawler & HTTP_CRAWLER_CE))
		return 0;
	while (next_item(h->content_encoding, h->content_encoding_len, &i, &v, &vn))
		if (vn && !CM_EQ_CI(v, vn, "identity") && !CM_EQ_CI(v, vn, "none"))
			return 1;
	return 0;
}

/* Append n bytes to out, at most max_out in all since base; -1 if they did not fit. */
static int add_capped(cm_buf *out, size_t base, size_t max_out, const char *s, size_t n)
{
	size_t room = max_out - (out->len - base);

	if (n > room) {
		cm_buf_add(out, s, room);
		return -1;
	}
	cm_buf_add(out, s, n);
	return 0;
}

/*
 * Parse the chunk-size line at p[*i..n): hex digits, optional blanks and
 * extensions, LF or CRLF. Returns 1 and sets *size, 0 if the line is
 * malformed, -1 if it is cut off by the end of the input.
 */
static int chunk_line(const char *p, size_t n, size_t *i, size_t *size)
{
	size_t j = *i, sz = 0, lim = n - j < CHUNK_LINE_MAX ? n : j + CHUNK_LINE_MAX;
	const char *nl;
	int d, digits = 0;

	for (; j < n; j++, digits++) {
		int c = cm_lower((unsigned char)p[j]);

		if (is_digit(c))
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			break;
		if (sz > (SIZE_MAX >> 4))
			return 0;
		sz = sz << 4 | (size_t)d;
	}
	if (!digits)
		return j < n ? 0 : -1;
	while (j < n && (p[j] == ' ' || p[j] == '\t'))
		j++;
	if (j < n && p[j] != ';' && p[j] != '\r' && p[j] != '\n')
		return 0;
	nl = j < lim ? memchr(p + j, '\n', lim - j) : NULL;
	if (!nl)
		return lim < n ? 0 : -1;
	if (p[j] == '\r' && p + j + 1 != nl)
		return 0;	/* CR inside the line, not before LF */
	*i = (size_t)(nl - p) + 1;
	*size = sz;
	return 1;
}

int http_dechunk(const char *p, size_t n, cm_buf *out, size_t max_out)
{
	size_t i = 0, base = out->len, size;
	int first = 1, r;

	for (;;) {
		r = chunk_line(p, n, &i, &size);
		if (r <= 0 && first)	/* no complete chunk-size line: not chunked */
			return add_capped(out, base, max_out, p, n) < 0 ? -1 : 2;
		if (r <= 0)
			return 1;
		if (size == 0)
			break;
		if (size > n - i)	/* truncated inside the data */
			return add_capped(out, base, max_out, p + i, n - i) < 0 ? -1 : 1;
		if (i + size < n && p[i + size] != '\n' &&
		    (p[i + size] != '\r' || (i + size + 1 < n && p[i + size + 1] != '\n'))) {
			if (first)	/* data not followed by a line end: not chunked after all */
				return add_capped(out, base, max_out, p, n) < 0 ? -1 : 2;
			if (add_capped(out, base, max_out, p + i, size) < 0)
				return -1;
			return 1;
		}
		if (add_capped(out, base, max_out, p + i, size) < 0)
			return -1;
		i += size;
		if (i < n && p[i] == '\r')
			i++;
		if (i < n && p[i] == '\n')
			i++;
		else
			return 1;	/* truncated right after the data */
		first = 0;
	}
	/* last chunk: trailer lines up to a blank line; a missing end is tolerated */
	return 0;
}

/* Per-thread decoder state kept between records. */
static _Thread_local z_stream zs;
static _Thread_local int zs_ready;
static _Thread_local ZSTD_DCtx *zd;

void http_free(void)
{
	if (zs_ready)
		inflateEnd(&zs);
	zs_ready = 0;
	ZSTD_freeDCtx(zd);
	zd = NULL;
}

/*
 * Make room for decoder output in out and return how much may be written:
 * at most one byte past max_out in all since base, so that going over can
 * be seen, and at most UINT_MAX for zlib.
 */
static size_t out_room(cm_buf *out, size_t base, size_t max_out, size_t in_n)
{
	size_t made = out->len - base, limit, allow, space, want;

	limit = max_out < SIZE_MAX ? max_out + 1 : SIZE_MAX;
	allow = limit - made;
	space = out->cap ? out->cap - out->len - 1 : 0;
	if (space == 0) {
		want = made ? made : (in_n < SIZE_MAX / 4 ? in_n * 4 : in_n);
		if (want < 16384)
			want = 16384;
		if (want > allow)
			want = allow;
		cm_buf_grow(out, want);
		space = out->cap - out->len - 1;
	}
	if (space > allow)
		space = allow;
	return space < UINT_MAX ? space : UINT_MAX;
}

/* Finish a streaming decode: NUL-terminate, cut at max_out. */
static int out_done(cm_buf *out, size_t base, size_t max_out, int rc)
{
	if (out->len - base > max_out) {
		out->len = base + max_out;
		rc = -1;
	}
	if (out->cap)
		out->p[out->len] = '\0';
	return rc;
}

/* Inflate p with zlib window bits wbits; gzip members may follow one another. */
static int inflate_body(const char *p, size_t n, cm_buf *out, size_t max_out, int wbits)
{
	size_t base = out->len, in_left = n, room;
	int ret, rc = 0;

	if (!zs_ready) {
		memset(&zs, 0, sizeof(zs));
		if (inflateInit2(&zs, wbits) != Z_OK)
			return 1;
		zs_ready = 1;
	} else if (inflateReset2(&zs, wbits) != Z_OK) {
		return 1;
	}
	zs.next_in = (Bytef *)p;
	zs.avail_in = 0;
	for (;;) {
		if (zs.avail_in == 0 && in_left) {
			zs.avail_in = in_left < (1u << 30) ? (uInt)in_left : 1u << 30;
			in_left -= zs.avail_in;
		}
		room = out_room(out, base, max_out, n);
		zs.next_out = (Bytef *)out->p + out->len;
		zs.avail_out = (uInt)room;
		ret = inflate(&zs, Z_NO_FLUSH);
		out->len += room - zs.avail_out;
		if (out->len - base > max_out)
			break;
		if (ret == Z_OK)
			continue;
		if (ret == Z_STREAM_END) {
			/* another gzip member? trailing garbage is ignored, as browsers do */
			if (wbits > 15 && zs.avail_in + in_left >= 2 &&
			    zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
				inflateReset(&zs);
				continue;
			}
			break;
		}
		rc = 1;	/* truncated (Z_BUF_ERROR: no input left) or corrupt */
		break;
	}
	return out_done(out, base, max_out, rc);
}

static int gunzip(const char *p, size_t n, cm_buf *out, size_t max_out)
{
	if (n == 0)
		return 0;
	if (n == 1 && (unsigned char)p[0] == 0x1f)
		return 1;
	if (n < 2 || (unsigned char)p[0] != 0x1f || (unsigned char)p[1] != 0x8b)
		return add_capped(out, out->len, max_out, p, n) < 0 ? -1 : 2;
	return inflate_body(p, n, out, max_out, 15 + 16);
}

/* "deflate" is meant to be zlib-wrapped but servers often send raw deflate. */
static int inflate_any(const char *p, size_t n, cm_buf *out, size_t max_out)
{
	const unsigned char *s = (const unsigned char *)p;
	int zlib = n >= 2 && (s[0] & 0x0f) == 8 && (s[0] >> 4) <= 7 && (s[0] << 8 | s[1]) % 31 == 0;

	size_t base = out->len;
	int r;

	if (n == 0)
		return 0;
	r = inflate_body(p, n, out, max_out, zlib ? 15 : -15);
	if (r == 1 && zlib && out->len == base)	/* a raw stream that only looked zlib-wrapped */
		r = inflate_body(p, n, out, max_out, -15);
	return r;
}

static int unbrotli(const char *p, size_t n, cm_buf *out, size_t max_out)
{
	BrotliDecoderState *st = BrotliDecoderCreateInstance(NULL, NULL, NULL);
	BrotliDecoderResult r;
	const uint8_t *in = (const uint8_t *)p;
	size_t base = out->len, avail_in = n, room, avail;
	uint8_t *o;
	int rc = 1;

	if (!st)
		return 1;
	for (;;) {
		room = out_room(out, base, max_out, n);
		avail = room;
		o = (uint8_t *)out->p + out->len;
		r = BrotliDecoderDecompressStream(st, &avail_in, &in, &avail, &o, NULL);
		out->len += room - avail;
		if (out->len - base > max_out)
			break;
		if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT)
			continue;
		if (r == BROTLI_DECODER_RESULT_SUCCESS)
			rc = 0;
		break;	/* error, or more input needed: corrupt or truncated */
	}
	BrotliDecoderDestroyInstance(st);
	return out_done(out, base, max_out, rc);
}

static int unzstd(const char *p, size_t n, cm_buf *out, size_t max_out)
{
	ZSTD_inBuffer in = { p, n, 0 };
	ZSTD_outBuffer o;
	size_t base = out->len, r;
	int rc = 0;

	if (!zd) {
		zd = ZSTD_createDCtx();
		if (!zd || ZSTD_isError(ZSTD_DCtx_setParameter(zd, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG)))
			return 1;
	}
	ZSTD_DCtx_reset(zd, ZSTD_reset_session_only);
	if (n == 0)
		return 0;
	for (;;) {
		o.size = out_room(out, base, max_out, n);
		o.dst = out->p + out->len;
		o.pos = 0;
		r = ZSTD_decompressStream(zd, &o, &in);
		out->len += o.pos;
		if (out->len - base > max_out)
			break;
		if (ZSTD_isError(r)) {
			rc = 1;
			break;
		}
		if (in.pos == in.size && o.pos < o.size) {
			rc = r != 0;	/* r != 0: the frame wants more input */
			break;
		}
	}
	return out_done(out, base, max_out, rc);
}

int http_decode(const char *coding, size_t coding_len, const char *p, size_t n,
		cm_buf *out, size_t max_out)
{
	const char *c = NULL, *v;
	size_t i = 0, cn = 0, vn;

	while (coding && next_item(coding, coding_len, &i, &v, &vn)) {
		if (!vn || CM_EQ_CI(v, vn, "identity") || CM_EQ_CI(v, vn, "none"))
			continue;
		if (c)
			return -2;	/* stacked codings: not supported */
		c = v;
		cn = vn;
	}
	if (!c)
		return add_capped(out, out->len, max_out, p, n);
	if (CM_EQ_CI(c, cn, "gzip") || CM_EQ_CI(c, cn, "x-gzip"))
		return gunzip(p, n, out, max_out);
	if (CM_EQ_CI(c, cn, "deflate") || CM_EQ_CI(c, cn, "x-deflate"))
		return inflate_any(p, n, out, max_out);
	if (CM_EQ_CI(c, cn, "br"))
		return unbrotli(p, n, out, max_out);
	if (CM_EQ_CI(c, cn, "zstd"))
		return unzstd(p, n, out, max_out);
	return -2;
}

int http_mime_is_html(const char *mime)
{
	static const char *const html[] = {
		"text/html", "application/xhtml+xml", "application/vnd.wap.xhtml+xml",
		"text/xhtml", "application/xhtml", "text/x-html",
	};
	size_t i;

	for (i = 0; i < sizeof(html) / sizeof(html[0]); i++)
		if (!strcasecmp(mime, html[i]))
			return 1;
	return 0;
}
