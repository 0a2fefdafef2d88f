/* urlrules.c - a page's domain from its URL (see urlrules.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data.h"
#include "input.h"
#include "urlfilter.h"
#include "urlrules.h"

enum { R_HOST, R_LABEL, R_PATH };

typedef struct rule {
	int kind, cat;
	char *pat;
	size_t len;
} rule;

struct dt_rules {
	rule *r;
	size_t n, cap;
	const char *cats[DT_MAX_CATS];
	size_t ncats;
};

dt_rules *dt_rules_new(void)
{
	return cm_xcalloc(1, sizeof(dt_rules));
}

void dt_rules_free(dt_rules *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		free(d->r[i].pat);
	for (i = 0; i < d->ncats; i++)
		free((char *)d->cats[i]);
	free(d->r);
	free(d);
}

size_t dt_rules_categories(const dt_rules *d, const char *const **names)
{
	*names = d->cats;
	return d->ncats;
}

static int category(dt_rules *d, const char *p, size_t n)
{
	size_t i;
	char *s;

	for (i = 0; i < d->ncats; i++)
		if (strlen(d->cats[i]) == n && memcmp(d->cats[i], p, n) == 0)
			return (int)i;
	if (d->ncats == DT_MAX_CATS)
		return -1;
	s = cm_xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	d->cats[d->ncats] = s;
	return (int)d->ncats++;
}

/* "CATEGORY KIND PATTERN": 0, 1 for a blank or comment line, -1 when malformed */
static int add_line(dt_rules *d, const char *p, size_t n)
{
	const char *f[3];
	size_t fl[3], k = 0, i = 0, j;
	rule r;

	while (k < 3) {
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i >= n || (k == 0 && p[i] == '#'))
			break;
		f[k] = p + i;
		while (i < n && p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			i++;
		fl[k] = (size_t)(p + i - f[k]);
		k++;
	}
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
		i++;
	if (k == 0)
		return 1;
	if (k < 3 || i < n)
		return -1;
	if (fl[1] == 4 && memcmp(f[1], "host", 4) == 0)
		r.kind = R_HOST;
	else if (fl[1] == 5 && memcmp(f[1], "label", 5) == 0)
		r.kind = R_LABEL;
	else if (fl[1] == 4 && memcmp(f[1], "path", 4) == 0)
		r.kind = R_PATH;
	else
		return -1;
	if ((r.cat = category(d, f[0], fl[0])) < 0)
		return -1;
	r.len = fl[2];
	r.pat = cm_xmalloc(r.len + 1);
	for (j = 0; j < r.len; j++)
		r.pat[j] = (char)((f[2][j] >= 'A' && f[2][j] <= 'Z') ? f[2][j] + 32 : f[2][j]);
	r.pat[r.len] = '\0';
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 64;
		d->r = cm_xrealloc(d->r, d->cap * sizeof(*d->r));
	}
	d->r[d->n++] = r;
	return 0;
}

static int load_text(dt_rules *d, const char *name, const char *p, size_t n, char *err, size_t errlen)
{
	const char *end = p + n;
	size_t line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			nl = end;
		line++;
		if (add_line(d, p, (size_t)(nl - p)) < 0) {
			snprintf(err, errlen, "%s:%zu: not CATEGORY host|label|path PATTERN (or too many categories)",
				 name, line);
			return -1;
		}
		p = nl + 1;
	}
	return 0;
}

int dt_rules_load(dt_rules *d, const char *path, char *err, size_t errlen)
{
	cm_input *in;
	char *line;
	size_t len, lineno = 0;
	int r;

	if (strcmp(path, "default") == 0) {
		size_t n = 0;
		const char *p = cm_data("domain/rules.txt", &n);

		if (!p) {
			snprintf(err, errlen, "built without data/domain/rules.txt");
			return -1;
		}
		return load_text(d, "data/domain/rules.txt", p, n, err, errlen);
	}
	if (!(in = cm_input_open_err(path, err, errlen)))
		return -1;
	while ((r = cm_input_line(in, &line, &len, 1 << 20)) != 0) {
		lineno++;
		if (r < 0 || add_line(d, line, len) < 0) {
			snprintf(err, errlen, "%s:%zu: not CATEGORY host|label|path PATTERN (or too many categories)",
				 path, lineno);
			cm_input_close(in);
			return -1;
		}
	}
	cm_input_close(in);
	return 0;
}

const char *dt_rules_match(const dt_rules *d, const char *url, size_t n)
{
	char host[256], path[1024];
	size_t hn = cm_url_host(url, n, host, sizeof(host)), pn = 0, i, best_len = 0;
	const char *s;
	int best = -1, kind;

	if (!hn)
		return NULL;
	/* the path: from the first '/' after the host, lower-cased, with a '/' at its end */
	s = memchr(url, ':', n);
	i = s && (size_t)(s - url) + 2 < n && s[1] == '/' && s[2] == '/' ? (size_t)(s - url) + 3 : 0;
	while (i < n && url[i] != '/' && url[i] != '?' && url[i] != '#')
		i++;
	for (; i < n && url[i] != '?' && url[i] != '#' && pn + 2 < sizeof(path); i++)
		path[pn++] = (char)((url[i] >= 'A' && url[i] <= 'Z') ? url[i] + 32 : url[i]);
	path[pn++] = '/';
	path[pn] = '\0';
	for (i = 0; i < d->n; i++) {	/* the longest host suffix */
		const rule *r = &d->r[i];

		if (r->kind == R_HOST && r->len > best_len && r->len <= hn &&
		    memcmp(host + hn - r->len, r->pat, r->len) == 0 && (r->len == hn || host[hn - r->len - 1] == '.')) {
			best = r->cat;
			best_len = r->len;
		}
	}
	if (best >= 0)
		return d->cats[best];
	for (kind = R_PATH; kind >= R_LABEL; kind--)
		for (i = 0; i < d->n; i++) {
			const rule *r = &d->r[i];

			if (r->kind != kind)
				continue;
			if (kind == R_PATH && memmem(path, pn, r->pat, r->len))
				return d->cats[r->cat];
			if (kind == R_LABEL) {
				const char *h = host, *e = host + hn;

				while (h < e) {
					const char *dot = memchr(h, '.', (size_t)(e - h));
					size_t l = dot ? (size_t)(dot - h) : (size_t)(e - h);

					if (l == r->len && memcmp(h, r->pat, l) == 0)
						return d->cats[r->cat];
					h += l + 1;
				}
			}
		}
	return NULL;
}
