/* 0032-http-answer.c - the head of an HTTP answer as remote inputs read it (cm_http_header):
 * status lines (a new answer forgets the last: redirects, 100 Continue), reason phrases cut
 * and cleaned, Content-Range in its three forms and malformed ones ignored (a negative or
 * reversed range, a first byte past the total, numbers of 19 digits), ETag, other lines. */
#include <stdint.h>
#include <string.h>

#include "remote.h"
#include "tap.h"

static int line(cm_http_answer *a, const char *s)
{
	return cm_http_header(a, s, strlen(s));
}

int main(void)
{
	cm_http_answer a;
	cm_http_answer_reset(&a);
	is_int(line(&a, "HTTP/1.1 206 Partial Content\r\n"), 1, "a status line starts an answer");
	ok(a.status == 206 && !strcmp(a.reason, "Partial Content"), "  status 206, reason '%s'", a.reason);
	line(&a, "Content-Range: bytes 100-199/1000\r\n");
	ok(a.cr_start == 100 && a.cr_total == 1000, "Content-Range bytes 100-199/1000");
	line(&a, "ETag:   \"abc\"  \r\n");
	is_str(a.etag, "\"abc\"", "ETag trimmed");
	is_int(line(&a, "X-Other: 1\r\n"), 0, "another header changes nothing");
	ok(a.cr_start == 100 && !strcmp(a.etag, "\"abc\""), "  the answer kept");
	line(&a, "HTTP/2 200\r\n");
	ok(a.status == 200 && !a.reason[0] && a.cr_start == -1 && a.cr_total == -1 && !a.etag[0],
	   "HTTP/2 200 without a reason: the last answer's range and ETag forgotten");
	line(&a, "content-range: bytes 0-9/*\r\n");
	ok(a.cr_start == 0 && a.cr_total == -1, "a range of an unknown total (case-blind name)");
	line(&a, "HTTP/1.1 416 Range Not Satisfiable\r\n");
	line(&a, "Content-Range: bytes */500\r\n");
	ok(a.status == 416 && a.cr_start == -1 && a.cr_total == 500, "416's bytes */500: the total alone");
	line(&a, "Content-Range: bytes 100-199/1000");
	line(&a, "Content-Range: bytes */50");
	ok(a.cr_start == -1 && a.cr_total == 50, "  a later bytes */50 drops an earlier range (found by fuzzing)");
	const char *bad[] = { "Content-Range: bytes -5-3/10", "Content-Range: bytes 9-3/10",
			      "Content-Range: bytes 5-10/10", "Content-Range: bytes 1-2",
			      "Content-Range: items 1-2/3", "Content-Range: bytes 1-2/3x",
			      "Content-Range: bytes 1234567890123456789-1234567890123456790/1",
			      "Content-Range: bytes 1-2/*x", "Content-Range: bytes */", "Content-Range:" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		line(&a, "HTTP/1.1 206 OK");
		line(&a, bad[i]);
		ok(a.cr_start == -1 && a.cr_total == -1, "ignored: '%s'", bad[i]);
	}
	const char *nostatus[] = { "HTTP/1.1 -200 No", "HTTP/1.1 20 Short", "HTTP/1.1 2000 Long",
				   "HTTP/1.1", "HTTP/1.1 099 Low", "HTTP/1.1 99999999999999999999 Big" };
	for (size_t i = 0; i < sizeof nostatus / sizeof nostatus[0]; i++) {
		line(&a, nostatus[i]);
		ok(a.status == 0 && !a.reason[0], "no status: '%s'", nostatus[i]);
	}
	line(&a, "HTTP/1.1 503 Slow\x01\x7f down and a reason far longer than the sixty-three bytes kept of it\r\n");
	ok(a.status == 503 && strlen(a.reason) == 63 && !strncmp(a.reason, "Slow?? down", 11),
	   "a reason: control bytes as '?', cut to 63 bytes");
	char big[600];
	memset(big, 'e', sizeof big);
	memcpy(big, "ETag: ", 6);
	cm_http_header(&a, big, sizeof big);
	is_int(strlen(a.etag), 127, "a long ETag cut to 127 bytes");
	return tap_done();
}
