/* opt.c - the option table's parser and --help (opt.h). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cli.h"
#include "opt.h"

#define HELP_COL 25	/* where help lines start */
#define MAX_ROWS 256	/* rows of all the nested tables together */

static const cm_opt_info *cur_info;
static const cm_opt *cur_table;

static void on_quiet(const cm_opt *o, const char *v)
{
	(void)o, (void)v;
	cm_verbosity = -1;
}

static void on_verbose(const cm_opt *o, const char *v)
{
	(void)o, (void)v;
	cm_verbosity = cm_verbosity < 0 ? 1 : cm_verbosity + 1;
}

static void on_help(const cm_opt *o, const char *v)
{
	(void)o, (void)v;
	cm_opt_help(cur_table, cur_info);
	exit(CM_EXIT_OK);
}

static void on_version(const cm_opt *o, const char *v)
{
	(void)o, (void)v;
	cm_print_version();
}

static void on_list(const cm_opt *o, const char *v);

/* The options every program has; the row for -v takes its help from cm_opt_info.verbose. */
static const cm_opt std_opts[] = {
	CM_OPT_CALLBACK('q', "quiet", on_quiet, NULL, NULL, "errors only (no warnings)"),
	CM_OPT_CALLBACK('v', "verbose", on_verbose, NULL, NULL, NULL),
	CM_OPT_CALLBACK('h', "help", on_help, NULL, NULL, "this help"),
	CM_OPT_CALLBACK('V', "version", on_version, NULL, NULL, "the version"),
	CM_OPT_END()
};
static const cm_opt list_opt = CM_OPT_CALLBACK(0, "list-options", on_list, NULL, NULL, NULL);

/* The rows of a table with its includes in place, headings and notes left out. */
static int flatten(const cm_opt *t, const cm_opt **rows, int n)
{
	for (; t->type != CM_OPT_END_; t++) {
		if (t->type == CM_OPT_INCLUDE_) {
			n = flatten(t->include, rows, n);
			continue;
		}
		if (t->type == CM_OPT_GROUP_ || t->type == CM_OPT_NOTE_)
			continue;
		if (n == MAX_ROWS)
			cm_die("internal error: more than %d options", MAX_ROWS);
		rows[n++] = t;
	}
	return n;
}

static int has_long(const cm_opt *t, const char *name)
{
	const cm_opt *rows[MAX_ROWS];
	int n = flatten(t, rows, 0), i;

	for (i = 0; i < n; i++)
		if (rows[i]->long_name && strcmp(rows[i]->long_name, name) == 0)
			return 1;
	return 0;
}

/* ... with the standard options and --list-options: rows has room for MAX_ROWS + 8 */
static int all_rows(const cm_opt *opts, const cm_opt **rows)
{
	int n = flatten(opts, rows, 0);

	/* a program may give a standard option its own row (its own help line) */
	for (const cm_opt *s = std_opts; s->type != CM_OPT_END_; s++)
		if (!has_long(opts, s->long_name))
			rows[n++] = s;
	rows[n++] = &list_opt;
	return n;
}

const char *cm_opt_name(const cm_opt *o, char *buf, size_t n)
{
	if (o->long_name)
		snprintf(buf, n, "--%s", o->long_name);
	else
		snprintf(buf, n, "-%c", o->short_name);
	return buf;
}

static void on_list(const cm_opt *o, const char *v)
{
	const cm_opt *rows[MAX_ROWS + 8];
	int n = all_rows(cur_table, rows), i;

	(void)o, (void)v;
	for (i = 0; i < n; i++) {
		if (rows[i] == &list_opt || rows[i]->type == CM_OPT_ALIAS_ || rows[i]->type == CM_OPT_REFUSE_)
			continue;
		if (rows[i]->short_name)
			printf("-%c%s", rows[i]->short_name, rows[i]->long_name ? " " : "");
		if (rows[i]->long_name)
			printf("--%s", rows[i]->long_name);
		putchar('\n');
	}
	exit(CM_EXIT_OK);
}

static void store_int(const cm_opt *o, long long v)
{
	switch (o->size) {
	case 1: { int8_t x = (int8_t)v; memcpy(o->dest, &x, 1); break; }
	case 2: { int16_t x = (int16_t)v; memcpy(o->dest, &x, 2); break; }
	case 4: { int32_t x = (int32_t)v; memcpy(o->dest, &x, 4); break; }
	case 8: memcpy(o->dest, &v, 8); break;
	default: cm_die("internal error: option --%s stores %zu bytes", o->long_name, o->size);
	}
}

/* "a, b or c" */
static void choice_list(const cm_opt *o, char *buf, size_t n)
{
	size_t at = 0, k, count = 0;

	while (o->choices[count])
		count++;
	buf[0] = 0;
	for (k = 0; k < count && at < n; k++)
		at += (size_t)snprintf(buf + at, n - at, "%s%s", k == 0 ? "" : k + 1 == count ? " or " : ", ",
				       o->choices[k]);
}

static void take(const cm_opt *o, const char *v)
{
	char name[128], list[512];

	cm_opt_name(o, name, sizeof(name));
	switch (o->type) {
	case CM_OPT_FLAG_:
		store_int(o, o->value);
		break;
	case CM_OPT_INT_:
		store_int(o, cm_parse_ll(name, v, o->min, o->max));
		break;
	case CM_OPT_SIZE_: {
		size_t s = cm_parse_size(name, v);
		/* max 0: any size the destination holds (a size_t takes all cm_parse_size gives) */
		unsigned long long max = o->max ? (unsigned long long)o->max :
					 o->size >= 8 ? UINT64_MAX : (1ULL << (8 * o->size)) - 1;

		if (s < (unsigned long long)o->min || s > max)
			cm_usage_error("option '%s' wants a size from %lld to %llu, not '%s'", name, o->min,
				       max, v);
		store_int(o, (long long)s);
		break;
	}
	case CM_OPT_DOUBLE_: {
		double d = cm_parse_double(name, v, o->dmin, o->dmax);

		if (o->size == sizeof(float)) {
			float f = (float)d;

			memcpy(o->dest, &f, sizeof(f));
		} else {
			memcpy(o->dest, &d, sizeof(d));
		}
		break;
	}
	case CM_OPT_STRING_:
		*(const char **)o->dest = v;
		break;
	case CM_OPT_CHOICE_: {
		long long k;

		for (k = 0; o->choices[k]; k++)
			if (strcmp(o->choices[k], v) == 0)
				break;
		if (!o->choices[k]) {
			choice_list(o, list, sizeof(list));
			cm_usage_error("option '%s' wants %s, not '%s'", name, list, v);
		}
		store_int(o, k);
		break;
	}
	case CM_OPT_CALLBACK_:
		o->fn(o, v);
		break;
	case CM_OPT_REFUSE_:
		cm_usage_error("%s", o->help);
	default:
		break;
	}
}

static const cm_opt *resolve(const cm_opt **rows, int n, const cm_opt *o);

/* The option --name (its first len bytes) names: exactly, or as the prefix of one option's
 * names (an alias and its target are one option). */
static const cm_opt *find_long(const cm_opt **rows, int n, const char *name, size_t len)
{
	const cm_opt *hit = NULL;
	char cands[512];
	size_t at = 0;
	int i, hits = 0;

	for (i = 0; i < n; i++) {
		const char *ln = rows[i]->long_name;

		if (!ln || strncmp(ln, name, len) != 0)
			continue;
		if (ln[len] == 0)
			return rows[i];	/* an exact name wins */
		/* the hidden option is never abbreviated: it is not one a user types */
		if (rows[i] == &list_opt)
			continue;
		if (hit && resolve(rows, n, rows[i]) == resolve(rows, n, hit))
			continue;
		hit = rows[i];
		hits++;
		if (at < sizeof(cands))
			at += (size_t)snprintf(cands + at, sizeof(cands) - at, "%s--%s", hits > 1 ? ", " : "", ln);
	}
	if (hits > 1)
		cm_usage_error("option '--%.*s' is ambiguous (%s)", (int)len, name, cands);
	return hit;
}

static const cm_opt *resolve(const cm_opt **rows, int n, const cm_opt *o)
{
	int i;

	if (o->type != CM_OPT_ALIAS_)
		return o;
	for (i = 0; i < n; i++)
		if (rows[i]->type != CM_OPT_ALIAS_ && rows[i]->long_name &&
		    strcmp(rows[i]->long_name, o->target) == 0)
			return rows[i];
	cm_die("internal error: alias --%s of an unknown option --%s", o->long_name, o->target);
}

int cm_opt_parse(int argc, char **argv, const cm_opt *opts, const cm_opt_info *info)
{
	const cm_opt *rows[MAX_ROWS + 8];
	int n, i, j, nargs = 0, done = 0;
	char name[128];

	cur_table = opts;
	cur_info = info;
	n = all_rows(opts, rows);
	/* the arguments are gathered in place: argv[1..nargs] */
	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (done || a[0] != '-' || a[1] == 0) {
			argv[++nargs] = a;
			continue;
		}
		if (a[1] == '-' && a[2] == 0) {
			done = 1;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
			const cm_opt *o = len ? find_long(rows, n, a + 2, len) : NULL;

			if (!o)
				cm_usage_error("unknown option '%.*s'", len ? (int)len + 2 : (int)strlen(a), a);
			o = resolve(rows, n, o);
			cm_opt_name(o, name, sizeof(name));
			if (!o->argh) {
				if (eq && o->type != CM_OPT_REFUSE_)
					cm_usage_error("option '%s' takes no value", name);
				take(o, NULL);
			} else if (eq) {
				take(o, eq + 1);
			} else {
				if (i + 1 >= argc)
					cm_usage_error("option '%s' wants a value (%s)", name, o->argh);
				take(o, argv[++i]);
			}
			continue;
		}
		/* short options, clustered: -qv, -j4, -o FILE */
		for (j = 1; a[j]; j++) {
			const cm_opt *o = NULL;
			int k;

			for (k = 0; k < n && !o; k++)
				if (rows[k]->short_name == (unsigned char)a[j])
					o = rows[k];
			/* '-' or a byte that is no letter ("-q-", "-\xc3\xa9"): the whole argument */
			if (!o && (a[j] == '-' || a[j] <= ' ' || a[j] > '~'))
				cm_usage_error("unknown option in '%s'", a);
			if (!o)
				cm_usage_error("unknown option '-%c'", a[j]);
			cm_opt_name(o, name, sizeof(name));
			if (!o->argh) {
				take(o, NULL);
				continue;
			}
			if (a[j + 1]) {
				take(o, a + j + 1);
			} else {
				if (i + 1 >= argc)
					cm_usage_error("option '%s' wants a value (%s)", name, o->argh);
				take(o, argv[++i]);
			}
			break;
		}
	}
	argv[nargs + 1] = NULL;
	return nargs;
}

static const char *verbose_help(const cm_opt_info *info)
{
	return info->verbose ? info->verbose : "more detail (twice: more still)";
}

/* One option's lines: "  -o, --output FILE      help", continuation lines indented. */
static void help_row(const cm_opt *o, const char *help)
{
	int w;
	const char *p;

	if (o->short_name && o->long_name)
		w = printf("  -%c, --%s", o->short_name, o->long_name);
	else if (o->short_name)
		w = printf("  -%c", o->short_name);
	else
		w = printf("      --%s", o->long_name);
	if (o->argh)
		w += printf(" %s", o->argh);
	if (!help) {
		putchar('\n');
		return;
	}
	if (w >= HELP_COL)
		printf("\n%*s", HELP_COL, "");
	else
		printf("%*s", HELP_COL - w, "");
	for (p = help; *p; p++) {
		putchar(*p);
		if (*p == '\n' && p[1])
			printf("%*s", HELP_COL, "");
	}
	putchar('\n');
}

static const char *last_group;	/* the heading --help printed last */

static void help_table(const cm_opt *t, const cm_opt_info *info)
{
	for (; t->type != CM_OPT_END_; t++) {
		switch (t->type) {
		case CM_OPT_INCLUDE_:
			help_table(t->include, info);
			break;
		case CM_OPT_GROUP_:
			printf("%s\n", t->help);
			last_group = t->help;
			break;
		case CM_OPT_NOTE_:
			printf("%s\n", t->help);
			break;
		case CM_OPT_ALIAS_:
		case CM_OPT_REFUSE_:
			break;
		default:
			help_row(t, t->fn == on_verbose ? verbose_help(info) : t->help);
			break;
		}
	}
}

void cm_opt_help(const cm_opt *opts, const cm_opt_info *info)
{
	const cm_opt *s;

	printf("Usage: %s %s\n", cm_prog, info->usage);
	if (info->about)
		fputs(info->about, stdout);
	putchar('\n');
	last_group = NULL;
	help_table(opts, info);
	/* the standard options go under the table's last heading when it is "Messages:" */
	if (!last_group || strcmp(last_group, "Messages:") != 0)
		printf("Messages:\n");
	for (s = std_opts; s->type != CM_OPT_END_; s++)
		if (!has_long(opts, s->long_name))
			help_row(s, s->fn == on_verbose ? verbose_help(info) : s->help);
	if (info->epilog)
		printf("\n%s", info->epilog);
}

int cm_opt_lists(int n, char ***args)
{
	char **in = *args, **out = NULL;
	size_t m = 0, cap = 0;
	int any = 0;

	for (int i = 0; i < n; i++)
		any |= in[i][0] == '@' && in[i][1] != 0;
	if (!any)
		return n;
	for (int i = 0; i < n; i++) {
		if (in[i][0] != '@' || in[i][1] == 0) {
			if (m + 2 > cap) {
				cap = cap ? 2 * cap : 64;
				out = cm_xrealloc(out, cap * sizeof(*out));
			}
			out[m++] = in[i];
			continue;
		}
		FILE *f = fopen(in[i] + 1, "r");
		char *line = NULL;
		size_t lcap = 0, m0 = m;
		ssize_t len;

		if (!f)
			cm_usage_error("cannot read the list '%s': %s", in[i] + 1, strerror(errno));
		while ((len = getline(&line, &lcap, f)) >= 0) {
			while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = 0;
			if (len == 0 || line[0] == '#')
				continue;
			if (m + 2 > cap) {
				cap = cap ? 2 * cap : 64;
				out = cm_xrealloc(out, cap * sizeof(*out));
			}
			out[m++] = cm_xstrdup(line);
		}
		if (ferror(f))
			cm_usage_error("cannot read the list '%s': %s", in[i] + 1, strerror(errno));
		free(line);
		fclose(f);
		if (m == m0)	/* no input at all would read standard input */
			cm_usage_error("the list '%s' names no inputs", in[i] + 1);
	}
	if (m > (size_t)INT_MAX - 1)
		cm_usage_error("more than %d inputs", INT_MAX - 1);
	if (!out)
		out = cm_xmalloc(sizeof(*out));
	out[m] = NULL;
	*args = out;
	return (int)m;
}
