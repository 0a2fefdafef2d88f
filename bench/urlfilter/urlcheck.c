/* urlcheck.c - the URL filter alone, for bench/urlfilter/run.sh: loads the filter files named
 * (as --url-filter does; "default" for the built-in lists), reads URLs one a line from stdin,
 * writes "drop REASON" or "keep" a line, and on stderr the process CPU seconds of the load and
 * the CPU nanoseconds per URL over --repeat passes (default 20) of all the URLs.
 * Usage: urlcheck [--repeat N] FILTER... <urls.txt >decisions.txt */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "urlfilter.h"

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	cm_urlfilter *u = cm_urlfilter_new();
	char err[512], *line = NULL;
	size_t cap = 0, nurl = 0, i, r, repeat = 20, total = 0;
	char **urls = NULL;
	size_t *lens = NULL;
	double t0, t1;
	ssize_t got;
	int a = 1;
	volatile size_t dropped = 0;

	if (argc > 2 && strcmp(argv[1], "--repeat") == 0) {
		repeat = strtoul(argv[2], NULL, 10);
		a = 3;
	}
	if (a >= argc) {
		fprintf(stderr, "usage: urlcheck [--repeat N] FILTER... <urls.txt\n");
		return 2;
	}
	t0 = cpu_now();
	for (; a < argc; a++)
		if (cm_urlfilter_load(u, argv[a], err, sizeof(err)) != 0) {
			fprintf(stderr, "urlcheck: %s\n", err);
			return 1;
		}
	t1 = cpu_now();
	fprintf(stderr, "load_cpu_s %.3f\n", t1 - t0);
	while ((got = getline(&line, &cap, stdin)) > 0) {
		size_t n = (size_t)got;

		if (line[n - 1] == '\n')
			n--;
		urls = cm_xrealloc(urls, (nurl + 1) * sizeof(*urls));
		lens = cm_xrealloc(lens, (nurl + 1) * sizeof(*lens));
		urls[nurl] = cm_xmalloc(n + 1);
		memcpy(urls[nurl], line, n);
		urls[nurl][n] = '\0';
		lens[nurl++] = n;
	}
	for (i = 0; i < nurl; i++) {
		const char *why = cm_urlfilter_check(u, urls[i], lens[i]);

		printf(why ? "drop %s\n" : "keep\n", why);
	}
	t0 = cpu_now();
	for (r = 0; r < repeat; r++)
		for (i = 0; i < nurl; i++, total++)
			dropped += cm_urlfilter_check(u, urls[i], lens[i]) != NULL;
	t1 = cpu_now();
	if (total)
		fprintf(stderr, "lookup_ns_per_url %.1f (%zu urls x %zu)\n", (t1 - t0) * 1e9 / (double)total, nurl,
			repeat);
	for (i = 0; i < nurl; i++)
		free(urls[i]);
	free(urls);
	free(lens);
	free(line);
	cm_urlfilter_free(u);
	if (fclose(stdout) != 0) {
		perror("urlcheck: stdout");
		return 1;
	}
	return 0;
}
