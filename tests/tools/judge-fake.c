/* judge-fake - the tests' stand-in for an OpenAI-compatible judge: POST /v1/chat/completions
 * and /v1/completions on 127.0.0.1 (libmicrohttpd), answering from canned behaviours.
 *
 * The judge prompt must come from the template "P={prompt}|A={response_a}|B={response_b}|".
 * The prompt names the behaviour: a list with commas, "NAME-once" items first; the K-th
 * request with the same body (from 0) takes the K-th -once item, and after them the first
 * plain item, or "longer" ("500-once,429-once,first": 500, then 429, then always A):
 *   longer     the letter of the longer response (the same response in both orders)
 *   shorter    the letter of the shorter response
 *   first      always "A" (the first shown: pure position bias)
 *   mtbench    an explanation, then "[[A]]" or "[[B]]" for the longer response
 *   tie        "[[C]]"
 *   garbage    "I cannot decide." (no verdict)
 *   500, 429   that HTTP status with an OpenAI-style error body (429 with Retry-After: 0)
 *   400        HTTP 400 (not worth a retry)
 *   slow       wait 5 seconds, then as longer
 *   notjson    200 with a body that is not JSON
 * Prints the port (a free one with --port 0) on standard output, then serves until SIGTERM
 * or --lifetime seconds. --log FILE: each request as a line "PATH BEHAVIOUR". --key KEY: a
 * request without "Authorization: Bearer KEY" gets 401. */
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "jsonw.h"
#include "opt.h"

static const char *key;
static FILE *logf;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* bodies seen, for the -once behaviours: how often each */
#define MAX_SEEN 65536
static uint64_t seen[MAX_SEEN];
static unsigned nth[MAX_SEEN];
static size_t nseen;

static uint64_t fnv(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* how many times this body came before */
static unsigned times_seen(const char *body, size_t n)
{
	uint64_t h = fnv(body, n);
	unsigned k = 0;
	pthread_mutex_lock(&mu);
	size_t i;
	for (i = 0; i < nseen && seen[i] != h; i++)
		;
	if (i < nseen)
		k = nth[i]++;
	else if (nseen < MAX_SEEN)
		seen[nseen] = h, nth[nseen++] = 1;
	pthread_mutex_unlock(&mu);
	return k;
}

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *body,
			    const char *retry_after)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (retry_after)
		MHD_add_response_header(r, "Retry-After", retry_after);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result fail(struct MHD_Connection *c, int status, const char *msg)
{
	char b[512];
	snprintf(b, sizeof b, "{\"error\": {\"message\": \"%s\", \"type\": \"test\"}}", msg);
	return reply(c, status, b, status == 429 ? "0" : NULL);
}

/* the span of the template's field "X=" up to the next "|X2=" or the final "|" */
static int field(const char *t, const char *name, const char *next, const char **p, size_t *n)
{
	const char *s = strstr(t, name);
	if (!s)
		return -1;
	s += strlen(name);
	const char *e = next ? strstr(s, next) : strrchr(s, '|');
	if (!e)
		return -1;
	*p = s;
	*n = (size_t)(e - s);
	return 0;
}

static enum MHD_Result answer(struct MHD_Connection *c, const char *url, const char *body,
			      size_t blen)
{
	int chat = !strcmp(url, "/v1/chat/completions");
	json_t *j = json_loadb(body, blen, 0, NULL);
	json_t *t = chat ? json_object_get(json_array_get(json_object_get(j, "messages"), 0), "content")
			 : json_object_get(j, "prompt");
	const char *pp, *ap, *bp;
	size_t pn, an, bn;
	if (!json_is_string(t) || field(json_string_value(t), "P=", "|A=", &pp, &pn) ||
	    field(json_string_value(t), "|A=", "|B=", &ap, &an) ||
	    field(json_string_value(t), "|B=", NULL, &bp, &bn)) {
		json_decref(j);
		return fail(c, 400, "not the test template");
	}
	/* the behaviour: the first of the list that applies */
	char beh[64] = "longer";
	unsigned k = times_seen(body, blen);	/* each -once item takes one earlier request */
	const char *s = pp, *end = pp + pn;
	while (s < end) {
		const char *e = memchr(s, ',', (size_t)(end - s));
		if (!e)
			e = end;
		size_t l = (size_t)(e - s);
		int once = l >= 5 && !memcmp(e - 5, "-once", 5);
		if (!once || k == 0) {
			snprintf(beh, sizeof beh, "%.*s", (int)(once ? l - 5 : l), s);
			break;
		}
		k--;
		s = e + 1;
	}
	if (logf) {
		pthread_mutex_lock(&mu);
		fprintf(logf, "%s %s\n", url, beh);
		fflush(logf);
		pthread_mutex_unlock(&mu);
	}
	const char *text;
	char buf[128];
	int longer_a = an >= bn;
	if (!strcmp(beh, "slow")) {
		sleep(5);
		strcpy(beh, "longer");
	}
	if (!strcmp(beh, "500") || !strcmp(beh, "429") || !strcmp(beh, "400")) {
		json_decref(j);
		return fail(c, atoi(beh), "canned failure");
	}
	if (!strcmp(beh, "notjson")) {
		json_decref(j);
		return reply(c, 200, "<html>oops</html>", NULL);
	}
	if (!strcmp(beh, "shorter"))
		text = longer_a ? "B" : "A";
	else if (!strcmp(beh, "first"))
		text = "A";
	else if (!strcmp(beh, "mtbench"))
		text = snprintf(buf, sizeof buf, "Both are fine, but one says more. [[%c]]",
				longer_a ? 'A' : 'B') > 0 ? buf : "";
	else if (!strcmp(beh, "tie"))
		text = "[[C]]";
	else if (!strcmp(beh, "garbage"))
		text = "I cannot decide.";
	else
		text = longer_a ? "A" : "B";
	json_decref(j);
	cm_buf b = CM_BUF_INIT;
	cm_jw w;
	cm_jw_init(&w, &b);
	cm_jw_obj(&w);
	cm_jw_key_str(&w, "object", chat ? "chat.completion" : "text_completion");
	cm_jw_key(&w, "choices");
	cm_jw_arr(&w);
	cm_jw_obj(&w);
	cm_jw_key_int(&w, "index", 0);
	if (chat) {
		cm_jw_key(&w, "message");
		cm_jw_obj(&w);
		cm_jw_key_str(&w, "role", "assistant");
		cm_jw_key_str(&w, "content", text);
		cm_jw_end(&w, '}');
	} else {
		cm_jw_key_str(&w, "text", text);
	}
	cm_jw_key_str(&w, "finish_reason", "stop");
	cm_jw_end(&w, '}');
	cm_jw_end(&w, ']');
	cm_jw_end(&w, '}');
	enum MHD_Result r = reply(c, 200, b.p, NULL);
	cm_buf_free(&b);
	return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	(void)cls, (void)version;
	cm_buf *b = *state;
	if (!b) {
		b = cm_xcalloc(1, sizeof *b);
		*state = b;
		return MHD_YES;
	}
	if (*upload_size) {
		cm_buf_add(b, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST"))
		return fail(c, 405, "POST only");
	if (strcmp(url, "/v1/chat/completions") && strcmp(url, "/v1/completions"))
		return fail(c, 404, "no such endpoint");
	if (key) {
		const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		if (!a || strncmp(a, "Bearer ", 7) || strcmp(a + 7, key))
			return fail(c, 401, "a wrong or missing API key");
	}
	return answer(c, url, b->p ? b->p : "", b->len);
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	cm_buf *b = *state;
	if (b) {
		cm_buf_free(b);
		free(b);
	}
	*state = NULL;
}

static const cm_opt_info info = {
	"[OPTION]...",
	"A canned OpenAI-compatible judge on 127.0.0.1 for lm-judge's tests: the behaviour comes\n"
	"from the judge prompt (see the source). Prints the port, then serves until SIGTERM.\n",
	NULL, NULL
};

int main(int argc, char **argv)
{
	long long port = 0, lifetime = 600;
	const char *log_path = NULL;
	cm_init("judge-fake");
	const cm_opt opts[] = {
		CM_OPT_INT('p', "port", &port, "N", 0, 65535, "the TCP port (default: 0, a free one)"),
		CM_OPT_STRING(0, "log", &log_path, "FILE", "write each request's path and behaviour there"),
		CM_OPT_STRING(0, "key", &key, "KEY", "require Authorization: Bearer KEY"),
		CM_OPT_INT(0, "lifetime", &lifetime, "SECONDS", 1, 86400, "stop after this long (default: 600)"),
		CM_OPT_END()
	};
	if (cm_opt_parse(argc, argv, opts, &info) != 0)
		cm_usage_error("unexpected argument '%s'", argv[1]);
	if (log_path && !(logf = fopen(log_path, "a")))
		cm_die("cannot open '%s': %s", log_path, strerror(errno));
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
		MHD_USE_ITC, (uint16_t)port, NULL, NULL, handle, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
		MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	if (!d)
		cm_die("cannot listen on 127.0.0.1 port %lld: %s", port,
		       errno ? strerror(errno) : "libmicrohttpd failed");
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("%u\n", di ? (unsigned)di->port : (unsigned)port);
	cm_fflush(stdout, "standard output");
	struct timespec ts = { (time_t)lifetime, 0 };
	while (sigtimedwait(&set, NULL, &ts) < 0 && errno == EINTR)
		;
	if (logf)
		fflush(logf);
	_exit(0);
}
