/* httpd-test - the tests' HTTP server: a folder on 127.0.0.1, with Range requests and faults.
 *
 * Prints the port it listens on (a free one with --port 0) on standard output, then answers
 * GET and HEAD requests with the files under --root until SIGTERM or SIGINT, or until
 * --lifetime seconds have passed (so that a test that dies never leaves it behind). Range
 * requests ("bytes=A-", "bytes=A-B", "bytes=-N") get 206 with a Content-Range, or 416. The
 * faults the remote-input tests need (tests/0031-input-remote.t), each on the first K requests
 * for PATH (every request without /K; PATH '*' is every path): --drop PATH=N[/K] sends N bytes
 * of the body and closes the connection, --stall PATH=N[/K] sends N bytes and then nothing,
 * --status PATH=CODE[/K] answers CODE with an S3-style error body. --no-range answers 200 to
 * Range requests; --log FILE writes each request as a JSON line (method, path, headers with
 * their names in lower case).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "jsonw.h"
#include "opt.h"

enum { F_DROP, F_STALL, F_STATUS };

struct fault {
	char *path;
	int kind;
	long long arg, count;	/* count 0: every request */
};

#define MAX_FAULTS 64
#define MAX_PATHS 4096

static struct fault faults[MAX_FAULTS];
static int nfaults;
static struct {
	char *path;
	long long n;
} seen[MAX_PATHS];
static int nseen;
static const char *root = ".";
static FILE *logf;
static int no_range;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void add_fault(int kind, const char *opt, const char *v)
{
	struct fault *f;
	const char *eq = strrchr(v, '=');
	char *end;

	if (nfaults == MAX_FAULTS)
		cm_usage_error("too many faults");
	if (!eq || eq == v)
		cm_usage_error("option '--%s' wants PATH=N[/K], not '%s'", opt, v);
	f = &faults[nfaults++];
	f->path = cm_xstrdup(v);
	f->path[eq - v] = '\0';
	f->kind = kind;
	errno = 0;
	f->arg = strtoll(eq + 1, &end, 10);
	f->count = 0;
	if (*end == '/')
		f->count = strtoll(end + 1, &end, 10);
	if (errno || *end || f->arg < 0 || f->count < 0)
		cm_usage_error("option '--%s' wants PATH=N[/K], not '%s'", opt, v);
}

static void on_drop(const cm_opt *o, const char *v)
{
	(void)o;
	add_fault(F_DROP, "drop", v);
}

static void on_stall(const cm_opt *o, const char *v)
{
	(void)o;
	add_fault(F_STALL, "stall", v);
}

static void on_status(const cm_opt *o, const char *v)
{
	(void)o;
	add_fault(F_STATUS, "status", v);
}

/* The how-many-th request this is for path (1 for the first). */
static long long count_request(const char *path)
{
	long long n = 0;
	int i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < nseen; i++)
		if (strcmp(seen[i].path, path) == 0) {
			n = ++seen[i].n;
			break;
		}
	if (i == nseen && nseen < MAX_PATHS) {
		seen[nseen].path = cm_xstrdup(path);
		n = seen[nseen++].n = 1;
	}
	pthread_mutex_unlock(&mu);
	return n;
}

static const struct fault *fault_for(const char *path, long long n)
{
	int i;

	for (i = 0; i < nfaults; i++)
		if ((strcmp(faults[i].path, path) == 0 || strcmp(faults[i].path, "*") == 0) &&
		    (faults[i].count == 0 || n <= faults[i].count))
			return &faults[i];
	return NULL;
}

static enum MHD_Result log_header(void *arg, enum MHD_ValueKind kind, const char *key, const char *value)
{
	cm_jw *w = arg;
	char name[128];
	size_t i;

	(void)kind;
	for (i = 0; key[i] && i < sizeof(name) - 1; i++)
		name[i] = (char)tolower((unsigned char)key[i]);
	name[i] = '\0';
	cm_jw_key_str(w, name, value ? value : "");
	return MHD_YES;
}

static void log_request(struct MHD_Connection *c, const char *method, const char *url)
{
	cm_buf b = CM_BUF_INIT;
	cm_jw w;

	if (!logf)
		return;
	cm_jw_init(&w, &b);
	cm_jw_obj(&w);
	cm_jw_key_str(&w, "method", method);
	cm_jw_key_str(&w, "path", url);
	cm_jw_key(&w, "headers");
	cm_jw_obj(&w);
	MHD_get_connection_values(c, MHD_HEADER_KIND, log_header, &w);
	cm_jw_end(&w, '}');
	cm_jw_end(&w, '}');
	cm_buf_addc(&b, '\n');
	pthread_mutex_lock(&mu);
	cm_fwrite(b.p, b.len, logf, "the log");
	cm_fflush(logf, "the log");
	pthread_mutex_unlock(&mu);
	cm_buf_free(&b);
}

static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned status, const char *body,
				   const char *range)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/xml");
	if (range)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, range);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A body being sent: the file's bytes [off, off + len), cut or held after limit bytes. */
struct body {
	int fd;
	uint64_t off, len;
	long long limit;	/* -1: none */
	int kind;
	struct MHD_Connection *c;
};

static ssize_t read_body(void *arg, uint64_t pos, char *buf, size_t max)
{
	struct body *b = arg;
	ssize_t n;

	if (b->limit >= 0 && pos >= (uint64_t)b->limit) {
		if (b->kind == F_STALL) {
			/* nothing more, until the client gives up (or two minutes pass) */
			const union MHD_ConnectionInfo *ci =
				MHD_get_connection_info(b->c, MHD_CONNECTION_INFO_CONNECTION_FD);
			int i;

			for (i = 0; ci && i < 1200; i++) {
				struct pollfd p = { ci->connect_fd, POLLRDHUP, 0 };

				if (poll(&p, 1, 100) > 0)
					break;
			}
		}
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (pos >= b->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max > b->len - pos)
		max = (size_t)(b->len - pos);
	if (b->limit >= 0 && max > (uint64_t)b->limit - pos)
		max = (size_t)((uint64_t)b->limit - pos);
	n = pread(b->fd, buf, max, (off_t)(b->off + pos));
	return n > 0 ? n : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void free_body(void *arg)
{
	struct body *b = arg;

	close(b->fd);
	free(b);
}

/* Parse a Range header against size: 0 and [*a, *b] for a range to send, -1 for one that
 * cannot be satisfied, 1 for none or one not understood (the whole file). */
static int parse_range(const char *h, uint64_t size, uint64_t *a, uint64_t *b)
{
	unsigned long long x, y;
	int n = 0;

	if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 1;
	h += 6;
	if (*h == '-') {
		if (sscanf(h + 1, "%llu%n", &x, &n) != 1 || h[1 + n] || x == 0)
			return 1;
		if (size == 0)
			return -1;
		*a = x >= size ? 0 : size - x;
		*b = size - 1;
		return 0;
	}
	if (sscanf(h, "%llu-%n", &x, &n) != 1)
		return 1;
	if (h[n] == '\0') {
		y = size ? size - 1 : 0;
	} else {
		int m = 0;

		if (sscanf(h + n, "%llu%n", &y, &m) != 1 || h[n + m] || y < x)
			return 1;
		if (y >= size)
			y = size - 1;
	}
	if (x >= size)
		return -1;
	*a = x;
	*b = y;
	return 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **state)
{
	static int marker;
	const struct fault *f;
	struct MHD_Response *r;
	struct body *b;
	struct stat st;
	cm_buf path = CM_BUF_INIT;
	char hdr[128], etag[64];
	uint64_t a = 0, e = 0;
	unsigned status = 200;
	int fd, rng;
	enum MHD_Result ret;

	(void)cls, (void)version, (void)upload;
	if (!*state) {
		*state = &marker;
		return MHD_YES;
	}
	*upload_size = 0;
	log_request(c, method, url);
	f = fault_for(url, count_request(url));
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return answer_text(c, 405, "<Error><Code>MethodNotAllowed</Code></Error>\n", NULL);
	if (f && f->kind == F_STATUS) {
		snprintf(hdr, sizeof(hdr), "<Error><Code>Fault%lld</Code></Error>\n", f->arg);
		return answer_text(c, (unsigned)f->arg, hdr, NULL);
	}
	if (url[0] != '/' || strstr(url, "/../") || (strlen(url) >= 3 && !strcmp(url + strlen(url) - 3, "/..")))
		return answer_text(c, 400, "<Error><Code>BadPath</Code></Error>\n", NULL);
	cm_buf_printf(&path, "%s%s", root, url);
	fd = open(path.p, O_RDONLY);
	cm_buf_free(&path);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return answer_text(c, 404, "<Error><Code>NoSuchKey</Code></Error>\n", NULL);
	}
	rng = no_range ? 1 : parse_range(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE),
					  (uint64_t)st.st_size, &a, &e);
	if (rng < 0) {
		close(fd);
		snprintf(hdr, sizeof(hdr), "bytes */%lld", (long long)st.st_size);
		return answer_text(c, 416, "<Error><Code>InvalidRange</Code></Error>\n", hdr);
	}
	b = cm_xcalloc(1, sizeof(*b));
	b->fd = fd;
	b->c = c;
	b->limit = f ? f->arg : -1;
	b->kind = f ? f->kind : -1;
	if (rng == 0) {
		status = 206;
		b->off = a;
		b->len = e - a + 1;
	} else {
		b->len = (uint64_t)st.st_size;
	}
	r = MHD_create_response_from_callback(b->len, 64 << 10, read_body, b, free_body);
	if (!r) {
		free_body(b);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtime);
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	if (status == 206) {
		snprintf(hdr, sizeof(hdr), "bytes %llu-%llu/%lld", (unsigned long long)a, (unsigned long long)e,
			 (long long)st.st_size);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, hdr);
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static const cm_opt_info info = {
	"[OPTION]...",
	"Serve the files under --root on 127.0.0.1 over HTTP, with Range requests and the faults\n"
	"below (the tests' server for remote inputs). Prints the port, then serves until SIGTERM.\n",
	"PATH is the request's path (/dir/file), or '*' for every path; /K limits a fault to the\n"
	"first K requests for that path.\n",
	NULL
};

int main(int argc, char **argv)
{
	long long port = 0, lifetime = 600;
	const char *log_path = NULL;
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;
	sigset_t set;
	struct timespec ts;

	cm_init("httpd-test");
	const cm_opt opts[] = {
		CM_OPT_INT('p', "port", &port, "N", 0, 65535, "the TCP port (default: 0, a free one)"),
		CM_OPT_STRING(0, "root", &root, "DIR", "the folder to serve (default: .)"),
		CM_OPT_STRING(0, "log", &log_path, "FILE", "write each request (method, path, headers) there"),
		CM_OPT_INT(0, "lifetime", &lifetime, "SECONDS", 1, 86400, "stop after this long (default: 600)"),
		CM_OPT_CALLBACK(0, "drop", on_drop, NULL, "PATH=N[/K]", "send N bytes of the body, then close"),
		CM_OPT_CALLBACK(0, "stall", on_stall, NULL, "PATH=N[/K]", "send N bytes of the body, then nothing"),
		CM_OPT_CALLBACK(0, "status", on_status, NULL, "PATH=CODE[/K]", "answer with that status"),
		CM_OPT_FLAG(0, "no-range", &no_range, "ignore Range requests (answer 200 with the whole file)"),
		CM_OPT_END()
	};
	if (cm_opt_parse(argc, argv, opts, &info) != 0)
		cm_usage_error("unexpected argument '%s'", argv[1]);
	if (log_path && !(logf = fopen(log_path, "a")))
		cm_die("cannot open '%s': %s", log_path, strerror(errno));

	/* the signals go to this thread alone, through sigtimedwait */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			     MHD_USE_ITC, (uint16_t)port, NULL, NULL, handle, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
			     MHD_OPTION_END);
	if (!d)
		cm_die("cannot listen on 127.0.0.1 port %lld: %s", port, errno ? strerror(errno) : "libmicrohttpd failed");
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("%u\n", di ? (unsigned)di->port : (unsigned)port);
	cm_fflush(stdout, "standard output");

	ts.tv_sec = (time_t)lifetime;
	ts.tv_nsec = 0;
	while (sigtimedwait(&set, NULL, &ts) < 0 && errno == EINTR)
		;	/* (the time starts again: a bound, not a clock) */
	/* connections may be held in a stall: no waiting for them */
	if (logf)
		fflush(logf);
	_exit(0);
}
