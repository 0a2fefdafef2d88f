/* http.h - HTTP response heads and body decoding for WARC response payloads. */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include "buf.h"

#define HTTP_HEAD_MAX 65536	/* status line and header lines must end within this many bytes */

/* Headers Common Crawl renames when it stores a payload already decoded. */
enum {
	HTTP_CRAWLER_TE = 1,	/* X-Crawler-Transfer-Encoding: body is not chunked any more */
	HTTP_CRAWLER_CE = 2,	/* X-Crawler-Content-Encoding: body is not compressed any more */
	HTTP_CRAWLER_CL = 4,	/* X-Crawler-Content-Length */
};

struct http_head {
	int status;			/* 100 to 999 */
	int version;			/* 10 for HTTP/1.0, 11, 20 for HTTP/2 and HTTP/2.0 */
	size_t body_off;		/* where the body starts in the block; n when there is none */
	const char *content_type;	/* value of the last valid Content-Type, trimmed, or NULL */
	size_t content_type_len;
	const char *transfer_encoding;	/* value of the last Transfer-Encoding, or NULL */
	size_t transfer_encoding_len;
	const char *content_encoding;	/* value of the last Content-Encoding, or NULL */
	size_t content_encoding_len;
	unsigned crawler;		/* HTTP_CRAWLER_* flags */
	char mime[128];			/* "type/subtype", lower case, no parameters; "" if none */
	char charset[40];		/* charset parameter, unquoted, lower case; "" if none */
};

/*
 * Parse the status line and headers at the start of a WARC response block.
 * Values point into p; a folded value spans its line breaks. Several
 * Content-Type headers combine as in WHATWG Fetch (a later one without a
 * charset keeps the charset of an earlier one with the same MIME type).
 * Returns 0, -1 if p does not start with an HTTP status line, -2 if the
 * head does not end within HTTP_HEAD_MAX bytes.
 */
int http_parse(const char *p, size_t n, struct http_head *h);

/* 1 if the body should be de-chunked: Transfer-Encoding ends in chunked and the crawler did not decode it. */
int http_is_chunked(const struct http_head *h);

/* 1 if the body should go through http_decode(): a Content-Encoding the crawler did not decode. */
int http_is_encoded(const struct http_head *h);

/*
 * Append the de-chunked body p to out. Returns 0, 1 if truncated or
 * malformed midway (out holds what was decoded), 2 if p does not look
 * chunked (appended unchanged), -1 if more than max_out bytes would be
 * appended (out gets the first max_out).
 */
int http_dechunk(const char *p, size_t n, cm_buf *out, size_t max_out);

/*
 * Append the body p decoded from the content coding named by coding (a
 * header value: gzip, x-gzip, deflate, x-deflate, br, zstd, identity or
 * none, any case; a list is fine if at most one entry is not identity;
 * NULL means identity) to out.
 * gzip may hold several members (bytes after the last are ignored, as by
 * browsers); deflate may be zlib-wrapped or raw.
 * Returns 0, 1 if corrupt or truncated (out holds what was decoded), 2 if
 * the body said gzip but is not (appended unchanged), -1 if more than
 * max_out bytes would be appended (out gets the first max_out), -2 for an
 * unknown coding (out untouched).
 */
int http_decode(const char *coding, size_t coding_len, const char *p, size_t n,
		cm_buf *out, size_t max_out);

/* 1 if mime (type/subtype, any case, no parameters) is HTML or XHTML. */
int http_mime_is_html(const char *mime);

/* Free this thread's cached decoder state (optional; for leak checkers). */
void http_free(void);

#endif
