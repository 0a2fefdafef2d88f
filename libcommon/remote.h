/* remote.h - http://, https:// and s3:// inputs, streamed through libcurl.
 *
 * A thread of the input's own runs the transfer and puts the body into a ring of a few MiB
 * that the reader empties, so memory stays bounded whatever the file's size. A transfer that
 * fails is tried again after a pause that doubles each time (CRAWL2LM_HTTP_TRIES,
 * CRAWL2LM_HTTP_DELAY, CRAWL2LM_HTTP_MAX_DELAY, CRAWL2LM_HTTP_TIMEOUT); one that broke off goes
 * on from the byte reached with a Range request, and the answer must be a 206 for exactly
 * that byte of the same file. s3://BUCKET/KEY is fetched over HTTPS, signed with AWS
 * Signature Version 4 when AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set (README,
 * "Remote inputs").
 */
#ifndef CM_REMOTE_H
#define CM_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct cm_remote cm_remote;

/* What the transfer keeps of an HTTP answer's head, read a header line at a time. */
typedef struct cm_http_answer {
	long status;		/* 100 to 999; 0 when the status line had none */
	char reason[64];	/* the reason phrase (cut), control bytes as '?' */
	int64_t cr_start, cr_total;	/* Content-Range's first byte and total, -1 unknown */
	char etag[128];		/* ETag (cut), "" when none */
} cm_http_answer;

/* Forget everything (a new try). */
void cm_http_answer_reset(cm_http_answer *a);
/* One header line p[0..n) (its CR LF may be there): a status line ("HTTP/...") starts a new
 * answer, everything before it forgotten (after a redirect or a 100), and returns 1;
 * Content-Range "bytes A-B/T" (A <= B < T), "bytes A-B/" "*" or "bytes" " " "*" "/T" and ETag
 * are kept, a malformed one ignored; other lines change nothing. */
int cm_http_header(cm_http_answer *a, const char *p, size_t n);

/* Nonzero when path is a URL this module reads (http://, https://, s3://). */
int cm_remote_is_url(const char *path);

/* Start fetching url and wait for the first bytes of the body (or its end, or the last
 * failure): NULL with the reason in err ("HTTP 404 Not Found", "... (5 tries)") when the
 * file cannot be had. A malformed CRAWL2LM_HTTP_* variable is a usage error (exit 2). */
cm_remote *cm_remote_open(const char *url, char *err, size_t errlen);
/* Up to room bytes of the body: > 0, 0 at its end, -1 when the transfer failed for good
 * (cm_remote_error says why and at which byte). */
ssize_t cm_remote_read(cm_remote *r, void *dst, size_t room);
const char *cm_remote_error(const cm_remote *r);
/* The file's size from the server (Content-Length), -1 when it did not say. */
int64_t cm_remote_size(const cm_remote *r);
/* Stop the transfer: a read waiting for bytes returns 0 (for a reader that is closing). */
void cm_remote_stop(cm_remote *r);
/* Stop the transfer (wherever it is) and free everything. */
void cm_remote_close(cm_remote *r);

#endif
