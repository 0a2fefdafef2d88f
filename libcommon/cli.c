/* cli.c - program name, messages, exit codes, allocation that dies, stdout checks. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const char *cm_prog = "crawl2lm";
int cm_verbosity;
static int stdout_closed;

/* Standard output failed: die of SIGPIPE when the reader went away, else say so. At exit
 * (atexit), without running the exit handlers again. */
static void stdout_failed(const char *what, int e, int at_exit)
{
	if (e == EPIPE) {
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	if (!at_exit)
		cm_die("cannot %s standard output: %s", what, strerror(e));
	fprintf(stderr, "%s: error: cannot %s standard output: %s\n", cm_prog, what, strerror(e));
	_exit(CM_EXIT_FAIL);
}

static void close_stdout(int at_exit)
{
	int err, before = errno;	/* a failed write earlier left its reason there */

	if (stdout_closed)
		return;
	stdout_closed = 1;
	err = ferror(stdout);
	errno = 0;
	if (fflush(stdout) != 0)
		stdout_failed("write to", errno ? errno : EIO, at_exit);
	if (err)
		stdout_failed("write to", before ? before : EIO, at_exit);
	if (fclose(stdout) != 0)
		stdout_failed("close", errno, at_exit);
}

/* Whatever way a program ends (--help, --version, a return from main), what it wrote to
 * standard output is flushed and checked: a full disk is exit 1, never a silent cut. */
static void check_stdout_at_exit(void)
{
	close_stdout(1);
}

void cm_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');
	static int registered;

	cm_prog = slash ? slash + 1 : prog;
	/* Die quietly of SIGPIPE when the reader goes away, as git does. */
	signal(SIGPIPE, SIG_DFL);
	if (!registered) {
		atexit(check_stdout_at_exit);
		registered = 1;
	}
}

static void vmsg(const char *kind, const char *fmt, va_list ap)
{
	char line[4096];
	int n;

	n = snprintf(line, sizeof(line), "%s: %s%s", cm_prog, kind, kind[0] ? ": " : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	fflush(stdout);
	fprintf(stderr, "%s\n", line);
}

void cm_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error", fmt, ap);
	va_end(ap);
}

void cm_warn(const char *fmt, ...)
{
	va_list ap;

	if (cm_verbosity < 0)
		return;
	va_start(ap, fmt);
	vmsg("warning", fmt, ap);
	va_end(ap);
}

void cm_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void cm_die(const char *fmt, ...)
{
	va_list ap;

	stdout_closed = 1;	/* one message: not a second one about stdout at exit */
	va_start(ap, fmt);
	vmsg("error", fmt, ap);
	va_end(ap);
	exit(CM_EXIT_FAIL);
}

void cm_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", cm_prog);
	exit(CM_EXIT_USAGE);
}

void cm_print_version(void)
{
	printf("%s (crawl2lm) %s\n", cm_prog, CM_VERSION);
	cm_close_stdout();
	exit(CM_EXIT_OK);
}

void *cm_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		cm_die("out of memory allocating %zu bytes", n);
	return p;
}

void *cm_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		cm_die("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *cm_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		cm_die("out of memory allocating %zu bytes", n);
	return q;
}

char *cm_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(cm_xmalloc(n), s, n);
}

long long cm_parse_ll(const char *opt, const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		cm_usage_error("option '%s' wants an integer in %lld..%lld, not '%s'", opt, min, max, s);
	return v;
}

double cm_parse_double(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || isnan(v) || v < min || v > max)
		cm_usage_error("option '%s' wants a number in %g..%g, not '%s'", opt, min, max, s);
	return v;
}

size_t cm_parse_size(const char *opt, const char *s)
{
	char *end;
	unsigned long long v, mul = 1;

	errno = 0;
	if (*s == '-')
		cm_usage_error("option '%s' wants a size, not '%s'", opt, s);
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		cm_usage_error("option '%s' wants a size, not '%s'", opt, s);
	switch (*end) {
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	}
	if (*end == 'i' && mul > 1)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v > SIZE_MAX / mul)
		cm_usage_error("option '%s' wants a size, not '%s'", opt, s);
	return (size_t)(v * mul);
}

void cm_parse_shard(const char *opt, const char *s, unsigned long *i, unsigned long *n)
{
	char *end, *end2;
	unsigned long a, b;

	errno = 0;
	a = strtoul(s, &end, 10);
	if (errno || end == s || *end != '/' || *s == '-')
		cm_usage_error("option '%s' wants i/N, not '%s'", opt, s);
	b = strtoul(end + 1, &end2, 10);
	if (errno || end2 == end + 1 || *end2 || end[1] == '-' || b == 0 || a >= b)
		cm_usage_error("option '%s' wants i/N with 0 <= i < N, not '%s'", opt, s);
	*i = a;
	*n = b;
}

void cm_fwrite(const void *p, size_t n, FILE *f, const char *name)
{
	if (n && fwrite(p, 1, n, f) != n) {
		if (errno == EPIPE)
			raise(SIGPIPE);
		cm_die("cannot write to %s: %s", name, strerror(errno));
	}
}

void cm_fflush(FILE *f, const char *name)
{
	if (fflush(f) != 0) {
		if (errno == EPIPE)
			raise(SIGPIPE);
		cm_die("cannot write to %s: %s", name, strerror(errno));
	}
}

void cm_close_stdout(void)
{
	close_stdout(0);
}

double cm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double cm_thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
