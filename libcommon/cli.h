/* cli.h - program name, messages, exit codes, allocation that dies, stdout checks. */
#ifndef CM_CLI_H
#define CM_CLI_H

#include <stddef.h>
#include <stdio.h>

/* Exit codes shared by every program. */
enum { CM_EXIT_OK = 0, CM_EXIT_FAIL = 1, CM_EXIT_USAGE = 2 };

extern const char *cm_prog;	/* program name used in messages */
extern int cm_verbosity;	/* -q: -1, default 0, -v: 1, -vv: 2 */

#define CM_VERSION "0.1.0"

/* Set the program name, make SIGPIPE kill the process, check stdout at exit. */
void cm_init(const char *prog);

void cm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cm_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: error: ..." then exit 1. */
void cm_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* "prog: error: ..." plus "Try 'prog --help'" then exit 2. */
void cm_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Print "prog VERSION" to stdout, exit 0. */
void cm_print_version(void) __attribute__((noreturn));

void *cm_xmalloc(size_t n);
void *cm_xcalloc(size_t n, size_t size);
void *cm_xrealloc(void *p, size_t n);
char *cm_xstrdup(const char *s);

/* Parse option values; usage error naming the option when malformed. */
long long cm_parse_ll(const char *opt, const char *s, long long min, long long max);
double cm_parse_double(const char *opt, const char *s, double min, double max);
/* Sizes with optional K, M, G suffix (powers of 1024). */
size_t cm_parse_size(const char *opt, const char *s);
/* "i/N" with 0 <= i < N. */
void cm_parse_shard(const char *opt, const char *s, unsigned long *i, unsigned long *n);

/* Write to a stream, dying with EPIPE's signal or an error message on failure. */
void cm_fwrite(const void *p, size_t n, FILE *f, const char *name);
/* Flush a stream, dying with EPIPE's signal or an error message on failure. */
void cm_fflush(FILE *f, const char *name);
/* Flush and close stdout; die if it fails (full disk, closed pipe). Every program also does
 * this at exit (cm_init), so only a program that must know before it goes on calls it. */
void cm_close_stdout(void);

/* Monotonic seconds. */
double cm_now(void);
/* The calling thread's CPU seconds. */
double cm_thread_cpu(void);

#endif
