/* remote.c - http://, https:// and s3:// inputs, streamed through libcurl.
 *
 * The fetch thread runs curl_easy_perform; its write callback copies the body into the ring
 * and waits there while the ring is full, so the reader's pace sets the transfer's (TCP
 * holds the rest). Each try is checked before its first byte goes into the ring: a 2xx
 * status, and on a resumed try a 206 whose Content-Range starts at the byte reached, of
 * the same total size (and ETag, when the server gives one). A try that breaks off, stalls
 * for CRAWL2LM_HTTP_TIMEOUT seconds or gets 408, 429 or 5xx is tried again; other 4xx
 * answers, a server that ignores the Range request and a file that changed are final.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "cli.h"
#include "remote.h"

#define RING (4u << 20)
#define ERRBODY 2048		/* the start of an error answer's body (S3's <Code>) */
/* SHA-256 of the empty body: a GET's payload hash, which S3 wants in a header */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

enum { TRY_DONE, TRY_AGAIN, TRY_FATAL, TRY_STOPPED };

struct cm_remote {
	char *url;		/* as given */
	char *fetch;		/* what is requested (an s3:// URL mapped to HTTPS) */
	CURL *curl;
	struct curl_slist *hdrs;
	int tries;
	double delay, max_delay, timeout;

	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* under mu */
	unsigned char *ring;
	size_t head, len;	/* ring[head ..] holds len unread bytes, wrapping around */
	int opened;		/* the body started (or ended empty): size is known */
	int finished;		/* the fetch thread is done; failed: for good */
	int failed, stop;
	char err[1024];

	/* the fetch thread's own */
	int64_t size;		/* total, from the first good answer; -1 unknown */
	int size_known;
	uint64_t got;		/* body bytes put into the ring: where a resumed try starts */
	cm_http_answer a;	/* the answer being received: status, reason, range, ETag */
	int checked, verdict;	/* the answer was checked: 0 good, 1 an error status, -1 refused */
	char first_etag[128];
	char fatal[512];	/* why a callback stopped the try for good */
	int stalled;
	double last;		/* when bytes last came (or the try started) */
	char body[ERRBODY];
	size_t body_len;
	unsigned rng;
	char cerr[CURL_ERROR_SIZE];
};

int cm_remote_is_url(const char *path)
{
	return path && (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0 ||
			strncmp(path, "s3://", 5) == 0);
}

/* A number from the environment, or dflt; a malformed one is a usage error. */
static double env_num(const char *name, double dflt, double min, double max, int integer)
{
	const char *s = getenv(name);
	char *end;
	double v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max) || (integer && v != (double)(long)v))
		cm_usage_error("environment variable %s wants %s in %g..%g, not '%s'", name,
			       integer ? "an integer" : "a number of seconds", min, max, s);
	return v;
}

static const char *env(const char *name)
{
	const char *s = getenv(name);

	return s && *s ? s : NULL;
}

/* The key, percent-encoded as S3 wants it in a path: all but A-Z a-z 0-9 - . _ ~ and '/'. */
static void add_key(cm_buf *b, const char *key)
{
	for (; *key; key++) {
		unsigned char c = (unsigned char)*key;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/')
			cm_buf_addc(b, (char)c);
		else
			cm_buf_printf(b, "%%%02X", c);
	}
}

/* s3://BUCKET/KEY to the URL to fetch; *sign when the request is to be signed. An endpoint
 * from the environment takes BUCKET/KEY in its path; unsigned, Common Crawl's bucket is read
 * from its public HTTPS endpoint; else the bucket's virtual-hosted AWS endpoint (path style
 * for a name with dots, which the wildcard certificate does not cover). */
static int s3_url(const char *url, cm_buf *out, int *sign, const char **region, char *err, size_t errlen)
{
	const char *bucket = url + 5, *slash = strchr(bucket, '/'), *key, *ep, *p;
	size_t blen;
	int dots = 0;

	if (!slash || slash == bucket || !slash[1]) {
		snprintf(err, errlen, "not an s3://BUCKET/KEY URL");
		return -1;
	}
	blen = (size_t)(slash - bucket);
	key = slash + 1;
	for (p = bucket; p < slash; p++) {
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '.')) {
			snprintf(err, errlen, "'%.*s' is not an S3 bucket name (a-z, 0-9, '-' and '.')",
				 (int)blen, bucket);
			return -1;
		}
		dots += *p == '.';
	}
	*sign = env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY");
	*region = env("AWS_REGION");
	if (!*region)
		*region = env("AWS_DEFAULT_REGION");
	ep = env("CRAWL2LM_S3_ENDPOINT");
	if (!ep)
		ep = env("AWS_ENDPOINT_URL_S3");
	if (!ep)
		ep = env("AWS_ENDPOINT_URL");
	cm_buf_reset(out);
	if (ep) {
		size_t n = strlen(ep);

		if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0) {
			snprintf(err, errlen, "the S3 endpoint '%s' is not an http:// or https:// URL", ep);
			return -1;
		}
		while (n > 0 && ep[n - 1] == '/')
			n--;
		cm_buf_add(out, ep, n);
		cm_buf_addc(out, '/');
		cm_buf_add(out, bucket, blen);
		cm_buf_addc(out, '/');
	} else if (!*sign && blen == 11 && memcmp(bucket, "commoncrawl", 11) == 0) {
		cm_buf_adds(out, "https://data.commoncrawl.org/");
	} else if (dots) {
		cm_buf_printf(out, "https://s3.%s.amazonaws.com/%.*s/", *region ? *region : "us-east-1",
			      (int)blen, bucket);
	} else if (*region) {
		cm_buf_printf(out, "https://%.*s.s3.%s.amazonaws.com/", (int)blen, bucket, *region);
	} else {
		cm_buf_printf(out, "https://%.*s.s3.amazonaws.com/", (int)blen, bucket);
	}
	add_key(out, key);
	if (!*region)
		*region = "us-east-1";
	return 0;
}

static int stopping(cm_remote *r)
{
	int s;

	pthread_mutex_lock(&r->mu);
	s = r->stop;
	pthread_mutex_unlock(&r->mu);
	return s;
}

/* The value of header `name` in the line p[0..n), trimmed, into v; 0 when it is another. */
static int header_value(const char *p, size_t n, const char *name, char *v, size_t vn)
{
	size_t k = strlen(name), i, j;

	if (n <= k || strncasecmp(p, name, k) != 0 || p[k] != ':')
		return 0;
	for (i = k + 1; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	for (j = n; j > i && (p[j - 1] == '\r' || p[j - 1] == '\n' || p[j - 1] == ' ' || p[j - 1] == '\t'); j--)
		;
	if (j - i >= vn)
		j = i + vn - 1;
	memcpy(v, p + i, j - i);
	v[j - i] = '\0';
	return 1;
}

/* a decimal number of at most 18 digits at *s (then past it), or -1 */
static int64_t number(const char **s)
{
	int64_t v = 0;
	int d = 0;

	while (**s >= '0' && **s <= '9') {
		if (++d > 18)
			return -1;
		v = v * 10 + (**s - '0');
		(*s)++;
	}
	return d ? v : -1;
}

void cm_http_answer_reset(cm_http_answer *a)
{
	a->status = 0;
	a->reason[0] = '\0';
	a->cr_start = a->cr_total = -1;
	a->etag[0] = '\0';
}

int cm_http_header(cm_http_answer *a, const char *p, size_t len)
{
	char v[256];

	if (len > 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* a new answer (after a redirect or a 100): forget the last one's headers */
		size_t i = 5;

		cm_http_answer_reset(a);
		while (i < len && p[i] != ' ')	/* the version */
			i++;
		while (i < len && p[i] == ' ')
			i++;
		if (i + 3 <= len && p[i] >= '1' && p[i] <= '9' && p[i + 1] >= '0' && p[i + 1] <= '9' &&
		    p[i + 2] >= '0' && p[i + 2] <= '9' && (i + 3 == len || p[i + 3] == ' ' ||
							   p[i + 3] == '\r' || p[i + 3] == '\n')) {
			a->status = (p[i] - '0') * 100 + (p[i + 1] - '0') * 10 + (p[i + 2] - '0');
			i += 3;
			while (i < len && p[i] == ' ')
				i++;
			size_t j = i, k = 0;
			while (j < len && p[j] != '\r' && p[j] != '\n')
				j++;
			/* the reason phrase, its control bytes as '?' (it goes into messages) */
			for (; i < j && k + 1 < sizeof(a->reason); i++, k++)
				a->reason[k] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i];
			a->reason[k] = '\0';
		}
		return 1;
	}
	if (header_value(p, len, "content-range", v, sizeof(v))) {
		/* "bytes A-B/T" (A <= B < T); the total may be a star (unknown), or the range
		 * ("bytes" star "/T": a 416's) */
		const char *s = v;
		int64_t x, y, t;

		if (strncmp(s, "bytes ", 6) != 0)
			return 0;
		s += 6;
		if (*s == '*') {
			s++;
			if (*s++ == '/' && (t = number(&s)) >= 0 && !*s) {
				a->cr_start = -1;	/* no range: a 416's */
				a->cr_total = t;
			}
			return 0;
		}
		x = number(&s);
		if (x < 0 || *s++ != '-' || (y = number(&s)) < x || *s++ != '/')
			return 0;
		t = *s == '*' ? (s++, -1) : number(&s);
		if (*s || (t >= 0 && y >= t) || (t < 0 && s[-1] != '*'))
			return 0;
		a->cr_start = x;
		a->cr_total = t;
	} else if (header_value(p, len, "etag", v, sizeof(v))) {
		snprintf(a->etag, sizeof(a->etag), "%.*s", (int)sizeof(a->etag) - 1, v);
	}
	return 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	cm_remote *r = arg;
	size_t len = size * n;

	r->last = cm_now();
	if (cm_http_header(&r->a, p, len)) {
		r->checked = r->verdict = 0;
		r->body_len = 0;
	}
	return len;
}

/* The answer, before its first byte is used: 0 good, 1 an error status, -1 refused (fatal). */
static int check_answer(cm_remote *r)
{
	int64_t total;

	if (r->a.status < 200 || r->a.status > 299)
		return 1;
	if (r->a.status == 206) {
		if (r->a.cr_start < 0) {
			snprintf(r->fatal, sizeof(r->fatal), "the server answered 206 without a Content-Range");
			return -1;
		}
		if ((uint64_t)r->a.cr_start != r->got) {
			snprintf(r->fatal, sizeof(r->fatal), "asked for the bytes from %llu on, the server sent "
				 "them from %lld on", (unsigned long long)r->got, (long long)r->a.cr_start);
			return -1;
		}
		total = r->a.cr_total;
	} else {
		curl_off_t cl = -1;

		if (r->got > 0) {
			snprintf(r->fatal, sizeof(r->fatal), "the server does not resume: it answered %ld, not "
				 "206, to a request for the bytes from %llu on", r->a.status,
				 (unsigned long long)r->got);
			return -1;
		}
		curl_easy_getinfo(r->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		total = cl;
	}
	if (!r->size_known) {
		r->size_known = 1;
		r->size = total;
		snprintf(r->first_etag, sizeof(r->first_etag), "%s", r->a.etag);
	} else if ((r->size >= 0 && total >= 0 && total != r->size) ||
		   (r->first_etag[0] && r->a.etag[0] && strcmp(r->first_etag, r->a.etag) != 0)) {
		snprintf(r->fatal, sizeof(r->fatal), "the file changed on the server while it was read "
			 "(%lld bytes, now %lld; ETag %s, now %s)", (long long)r->size, (long long)total,
			 r->first_etag[0] ? r->first_etag : "none", r->a.etag[0] ? r->a.etag : "none");
		return -1;
	}
	return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	cm_remote *r = arg;
	size_t len = size * n, done = 0;

	r->last = cm_now();
	if (!r->checked) {
		r->checked = 1;
		r->verdict = check_answer(r);
	}
	if (r->verdict < 0)
		return 0;	/* stops the transfer: CURLE_WRITE_ERROR */
	if (r->verdict > 0) {
		/* an error's body: its start names the error (S3's XML) */
		size_t k = len < ERRBODY - 1 - r->body_len ? len : ERRBODY - 1 - r->body_len;

		memcpy(r->body + r->body_len, p, k);
		r->body_len += k;
		r->body[r->body_len] = '\0';
		return len;
	}
	if (r->size >= 0 && r->got + len > (uint64_t)r->size) {
		snprintf(r->fatal, sizeof(r->fatal), "the server sent more than the %lld bytes it announced",
			 (long long)r->size);
		return 0;
	}
	pthread_mutex_lock(&r->mu);
	while (done < len) {
		size_t tail, k;

		while (r->len == RING && !r->stop)
			pthread_cond_wait(&r->cond, &r->mu);
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			return 0;
		}
		tail = (r->head + r->len) % RING;
		k = len - done;
		if (k > RING - r->len)
			k = RING - r->len;
		if (k > RING - tail)
			k = RING - tail;
		memcpy(r->ring + tail, p + done, k);
		r->len += k;
		r->got += k;
		done += k;
		r->opened = 1;
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->mu);
	r->last = cm_now();	/* time waiting for the reader is not a stall */
	return len;
}

static int on_progress(void *arg, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
	cm_remote *r = arg;

	(void)dlt, (void)dln, (void)ult, (void)uln;
	if (stopping(r))
		return 1;
	if (cm_now() - r->last > r->timeout) {
		r->stalled = 1;
		return 1;
	}
	return 0;
}

/* "HTTP 404 Not Found (NoSuchKey)" */
static void http_error(cm_remote *r, char *why, size_t n)
{
	const char *c = strstr(r->body, "<Code>"), *e;
	char code[80] = "";

	if (c && (e = strstr(c, "</Code>")) && e - c - 6 < (long)sizeof(code) - 3)
		snprintf(code, sizeof(code), " (%.*s)", (int)(e - c - 6), c + 6);
	snprintf(why, n, "HTTP %ld%s%s%s", r->a.status, r->a.reason[0] ? " " : "", r->a.reason, code);
}

/* curl errors that another try will not mend */
static int final_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_LOGIN_DENIED:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_BAD_CONTENT_ENCODING:
		return 1;
	default:
		return 0;
	}
}

/* One request, from the byte reached. */
static int try_once(cm_remote *r, char *why, size_t n)
{
	char range[32];
	CURLcode rc;

	cm_http_answer_reset(&r->a);
	r->checked = r->verdict = r->stalled = 0;
	r->fatal[0] = r->cerr[0] = '\0';
	r->body_len = 0;
	r->body[0] = '\0';
	r->last = cm_now();
	if (r->got > 0) {
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)r->got);
		curl_easy_setopt(r->curl, CURLOPT_RANGE, range);
	} else {
		curl_easy_setopt(r->curl, CURLOPT_RANGE, NULL);
	}
	rc = curl_easy_perform(r->curl);
	if (stopping(r))
		return TRY_STOPPED;
	if (r->fatal[0]) {
		snprintf(why, n, "%s", r->fatal);
		return TRY_FATAL;
	}
	if (rc == CURLE_OK && !r->checked) {
		/* an empty body: checked at its end */
		r->checked = 1;
		r->verdict = check_answer(r);
		if (r->verdict < 0) {
			snprintf(why, n, "%s", r->fatal);
			return TRY_FATAL;
		}
	}
	if (r->checked && r->verdict > 0) {
		if (r->a.status == 416 && r->got > 0 && r->a.cr_total == (int64_t)r->got)
			return TRY_DONE;	/* a resume at the very end (the size was not known) */
		http_error(r, why, n);
		return r->a.status == 408 || r->a.status == 429 || r->a.status >= 500 ? TRY_AGAIN : TRY_FATAL;
	}
	if (rc != CURLE_OK) {
		if (r->stalled)
			snprintf(why, n, "no data for %g s", r->timeout);
		else
			snprintf(why, n, "%s", r->cerr[0] ? r->cerr : curl_easy_strerror(rc));
		return final_error(rc) ? TRY_FATAL : TRY_AGAIN;
	}
	if (r->size >= 0 && r->got < (uint64_t)r->size) {
		snprintf(why, n, "the transfer ended at byte %llu of %lld", (unsigned long long)r->got,
			 (long long)r->size);
		return TRY_AGAIN;
	}
	return TRY_DONE;
}

/* The thread is done: at the end of the body (why NULL) or for good. */
static void finish(cm_remote *r, const char *why, int tries)
{
	char n[48] = "";

	if (tries > 1)
		snprintf(n, sizeof(n), " (%d tries)", tries);
	pthread_mutex_lock(&r->mu);
	r->finished = 1;
	if (why && !r->stop) {
		r->failed = 1;
		if (r->got == 0)
			snprintf(r->err, sizeof(r->err), "%s%s", why, n);
		else
			snprintf(r->err, sizeof(r->err), "the transfer failed after byte %llu%s%lld: %s%s",
				 (unsigned long long)r->got, r->size >= 0 ? " of " : "",
				 r->size >= 0 ? (long long)r->size : 0LL, why, n);
		if (strcmp(r->url, r->fetch) != 0) {
			size_t k = strlen(r->err);

			snprintf(r->err + k, sizeof(r->err) - k, " [%s]", r->fetch);
		}
	} else if (!why) {
		r->opened = 1;
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
}

/* Wait `secs`, unless the reader stops first: returns nonzero then. */
static int pause_for(cm_remote *r, double secs)
{
	struct timespec ts;
	int s;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)secs;
	ts.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->mu);
	while (!r->stop && pthread_cond_timedwait(&r->cond, &r->mu, &ts) != ETIMEDOUT)
		;
	s = r->stop;
	pthread_mutex_unlock(&r->mu);
	return s;
}

static void *fetch_main(void *arg)
{
	cm_remote *r = arg;
	double delay = r->delay;
	int fails = 0;
	char why[600];

	for (;;) {
		uint64_t before = r->got;
		int res = try_once(r, why, sizeof(why));
		double wait;

		if (res == TRY_DONE || res == TRY_STOPPED) {
			finish(r, NULL, 0);
			return NULL;
		}
		if (r->got > before) {
			/* it got somewhere: a new run of tries */
			fails = 0;
			delay = r->delay;
		}
		fails++;
		if (res == TRY_FATAL || fails >= r->tries) {
			finish(r, why, fails);
			return NULL;
		}
		/* "full jitter" halved: between half the delay and all of it, so that many
		 * processes that failed together do not come back together */
		r->rng = r->rng * 1103515245u + 12345u;
		wait = delay * (0.5 + 0.5 * (double)(r->rng >> 8) / (double)(1u << 24));
		cm_warn("'%s': %s; trying again in %.2g s (try %d of %d)", r->url, why, wait, fails + 1,
			r->tries);
		if (pause_for(r, wait)) {
			finish(r, NULL, 0);
			return NULL;
		}
		delay = delay * 2 < r->max_delay ? delay * 2 : r->max_delay;
	}
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_start(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

cm_remote *cm_remote_open(const char *url, char *err, size_t errlen)
{
	cm_remote *r;
	cm_buf u = CM_BUF_INIT;
	int sign = 0;
	const char *region = NULL;

	if (strncmp(url, "s3://", 5) == 0) {
		if (s3_url(url, &u, &sign, &region, err, errlen) < 0)
			return NULL;
	} else {
		cm_buf_adds(&u, url);
	}
	pthread_once(&curl_once, curl_start);
	r = cm_xcalloc(1, sizeof(*r));
	r->tries = (int)env_num("CRAWL2LM_HTTP_TRIES", 5, 1, 100, 1);
	r->delay = env_num("CRAWL2LM_HTTP_DELAY", 1, 0, 3600, 0);
	r->max_delay = env_num("CRAWL2LM_HTTP_MAX_DELAY", 30, 0, 86400, 0);
	r->timeout = env_num("CRAWL2LM_HTTP_TIMEOUT", 60, 0.1, 86400, 0);
	if (!curl_ok || !(r->curl = curl_easy_init())) {
		snprintf(err, errlen, "cannot initialise libcurl");
		cm_buf_free(&u);
		free(r);
		return NULL;
	}
	r->url = cm_xstrdup(url);
	r->fetch = u.p;
	r->size = -1;
	r->rng = (unsigned)getpid() ^ (unsigned)(cm_now() * 1e6);
	curl_easy_setopt(r->curl, CURLOPT_URL, r->fetch);
	curl_easy_setopt(r->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->curl, CURLOPT_USERAGENT, "crawl2lm/" CM_VERSION);
	curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, r->cerr);
	curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(r->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(r->curl, CURLOPT_XFERINFODATA, r);
	curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(r->timeout * 1000));
	curl_easy_setopt(r->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(r->curl, CURLOPT_BUFFERSIZE, 256L << 10);
	if (sign) {
		/* the keys in the environment sign each request (SigV4); a redirect would need a
		 * signature of its own, so none is followed */
		char sigv4[96];
		const char *token = env("AWS_SESSION_TOKEN");

		snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", region);
		curl_easy_setopt(r->curl, CURLOPT_AWS_SIGV4, sigv4);
		curl_easy_setopt(r->curl, CURLOPT_USERNAME, getenv("AWS_ACCESS_KEY_ID"));
		curl_easy_setopt(r->curl, CURLOPT_PASSWORD, getenv("AWS_SECRET_ACCESS_KEY"));
		/* headers given here are signed too (libcurl signs host, x-amz-date and these) */
		r->hdrs = curl_slist_append(r->hdrs, "x-amz-content-sha256: " EMPTY_SHA256);
		if (token) {
			cm_buf t = CM_BUF_INIT;

			cm_buf_printf(&t, "x-amz-security-token: %s", token);
			r->hdrs = curl_slist_append(r->hdrs, t.p);
			cm_buf_free(&t);
		}
		if (!r->hdrs)
			cm_die("out of memory");
		curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->hdrs);
	} else {
		curl_easy_setopt(r->curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(r->curl, CURLOPT_MAXREDIRS, 10L);
		curl_easy_setopt(r->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	}
	r->ring = cm_xmalloc(RING);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cond, NULL);
	if (pthread_create(&r->thread, NULL, fetch_main, r) != 0)
		cm_die("cannot start a thread: %s", strerror(errno));
	pthread_mutex_lock(&r->mu);
	while (!r->opened && !r->finished)
		pthread_cond_wait(&r->cond, &r->mu);
	if (!r->opened) {
		snprintf(err, errlen, "%s", r->err);
		pthread_mutex_unlock(&r->mu);
		cm_remote_close(r);
		return NULL;
	}
	pthread_mutex_unlock(&r->mu);
	return r;
}

ssize_t cm_remote_read(cm_remote *r, void *dst, size_t room)
{
	size_t k;

	pthread_mutex_lock(&r->mu);
	while (r->len == 0 && !r->finished)
		pthread_cond_wait(&r->cond, &r->mu);
	if (r->len == 0) {
		int failed = r->failed;

		pthread_mutex_unlock(&r->mu);
		return failed ? -1 : 0;
	}
	k = r->len;
	if (k > room)
		k = room;
	if (k > RING - r->head)
		k = RING - r->head;
	memcpy(dst, r->ring + r->head, k);
	r->head = (r->head + k) % RING;
	r->len -= k;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
	return (ssize_t)k;
}

const char *cm_remote_error(const cm_remote *r)
{
	return r->err;
}

int64_t cm_remote_size(const cm_remote *r)
{
	return r->size;
}

void cm_remote_stop(cm_remote *r)
{
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
}

void cm_remote_close(cm_remote *r)
{
	if (!r)
		return;
	cm_remote_stop(r);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cond);
	curl_easy_cleanup(r->curl);
	curl_slist_free_all(r->hdrs);
	free(r->ring);
	free(r->fetch);
	free(r->url);
	free(r);
}
