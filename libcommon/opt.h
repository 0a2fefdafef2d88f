/* opt.h - one option table per program: it parses the command line and prints --help.
 *
 * The model is git's parse-options: each option is written once, as a row of a table, with
 * its names, its kind, where its value goes, its bounds or choices and its help line. The
 * parser takes options anywhere among the arguments (GNU order; "--" ends them, "-" is an
 * argument), long names as --name=VALUE or --name VALUE, unambiguous prefixes of long names,
 * and clustered short ones (-qv, -j4, -o FILE). Every malformed value, unknown option or
 * missing value is a usage error naming the option (exit 2). Tables nest (CM_OPT_INCLUDE), so
 * programs share fragments: the filters' input and output options (filter.h), the trainer's
 * device options. Every program gets -q/--quiet, -v/--verbose, -h/--help and -V/--version,
 * and a hidden --list-options (the table's names, one option a line, for tests and shell
 * completion; the model: git's --git-completion-helper).
 *
 *	static const char *const modes[] = { "tag", "remove", NULL };
 *	int mode = 0, strict = 0;
 *	long long threads = 0;
 *	const cm_opt opts[] = {
 *		CM_OPT_GROUP("What to do:"),
 *		CM_OPT_CHOICE(0, "mode", &mode, "MODE", modes, "tag (default) or remove"),
 *		CM_OPT_FLAG(0, "strict", &strict, "stop at the first malformed input"),
 *		CM_OPT_INT('j', "threads", &threads, "N", 1, 4096, "threads (default: all)"),
 *		CM_OPT_END()
 *	};
 *	static const cm_opt_info info = { "[OPTION]... [FILE]...", "Does a thing.\n", NULL };
 *	int n = cm_opt_parse(argc, argv, opts, &info);	// argv[1..n]: the arguments
 */
#ifndef CM_OPT_H
#define CM_OPT_H

#include <stddef.h>

typedef enum cm_opt_type {
	CM_OPT_END_ = 0,
	CM_OPT_GROUP_,		/* a heading in --help */
	CM_OPT_NOTE_,		/* a line of text in --help, under the options before it */
	CM_OPT_FLAG_,		/* no value: store .value in an integer */
	CM_OPT_INT_,		/* a decimal integer in [min, max] into an integer of any width */
	CM_OPT_SIZE_,		/* a size with K, M, G suffixes (powers of 1024) in [min, max] */
	CM_OPT_DOUBLE_,		/* a number in [dmin, dmax] into a double or a float */
	CM_OPT_STRING_,		/* the value itself into a const char * */
	CM_OPT_CHOICE_,		/* one of .choices: its index into an integer (an enum) */
	CM_OPT_CALLBACK_,	/* .fn(opt, value), value NULL when .argh is NULL */
	CM_OPT_ALIAS_,		/* an old spelling of .target's option: accepted, not listed */
	CM_OPT_REFUSE_,		/* an option that belongs elsewhere: a usage error saying .help */
	CM_OPT_INCLUDE_,	/* the rows of another table, in place */
} cm_opt_type;

typedef struct cm_opt cm_opt;
typedef void (*cm_opt_fn)(const cm_opt *o, const char *value);

struct cm_opt {
	cm_opt_type type;
	int short_name;		/* 0: none */
	const char *long_name;	/* NULL: a short option only */
	void *dest;
	size_t size;		/* sizeof *dest */
	const char *argh;	/* the value's name in --help (FILE, N); NULL: takes none */
	const char *help;	/* continuation lines after '\n', indented by --help */
	long long min, max;
	double dmin, dmax;
	long long value;	/* what a flag stores */
	const char *const *choices;	/* NULL-terminated */
	cm_opt_fn fn;
	void *ctx;		/* for a callback */
	const char *target;	/* an alias's option (long name) */
	const cm_opt *include;
};

#define CM_OPT_END() { .type = CM_OPT_END_ }
#define CM_OPT_GROUP(h) { .type = CM_OPT_GROUP_, .help = (h) }
#define CM_OPT_NOTE(h) { .type = CM_OPT_NOTE_, .help = (h) }
#define CM_OPT_SET(s, l, d, v, h) \
	{ .type = CM_OPT_FLAG_, .short_name = (s), .long_name = (l), .dest = (d), \
	  .size = sizeof(*(d)), .value = (v), .help = (h) }
#define CM_OPT_FLAG(s, l, d, h) CM_OPT_SET(s, l, d, 1, h)
#define CM_OPT_INT(s, l, d, a, lo, hi, h) \
	{ .type = CM_OPT_INT_, .short_name = (s), .long_name = (l), .dest = (d), \
	  .size = sizeof(*(d)), .argh = (a), .min = (lo), .max = (hi), .help = (h) }
#define CM_OPT_SIZE(s, l, d, a, lo, hi, h) \
	{ .type = CM_OPT_SIZE_, .short_name = (s), .long_name = (l), .dest = (d), \
	  .size = sizeof(*(d)), .argh = (a), .min = (lo), .max = (hi), .help = (h) }
#define CM_OPT_DOUBLE(s, l, d, a, lo, hi, h) \
	{ .type = CM_OPT_DOUBLE_, .short_name = (s), .long_name = (l), .dest = (d), \
	  .size = sizeof(*(d)), .argh = (a), .dmin = (lo), .dmax = (hi), .help = (h) }
#define CM_OPT_STRING(s, l, d, a, h) \
	{ .type = CM_OPT_STRING_, .short_name = (s), .long_name = (l), .dest = (d), \
	  .size = sizeof(*(d)), .argh = (a), .help = (h) }
#define CM_OPT_CHOICE(s, l, d, a, c, h) \
	{ .type = CM_OPT_CHOICE_, .short_name = (s), .long_name = (l), .dest = (d), \
	  .size = sizeof(*(d)), .argh = (a), .choices = (c), .help = (h) }
/* a: the value's name, or NULL for an option without one */
#define CM_OPT_CALLBACK(s, l, f, x, a, h) \
	{ .type = CM_OPT_CALLBACK_, .short_name = (s), .long_name = (l), .fn = (f), .ctx = (x), \
	  .argh = (a), .help = (h) }
#define CM_OPT_ALIAS(l, t) { .type = CM_OPT_ALIAS_, .long_name = (l), .target = (t) }
/* --l (and -s) refused with the usage error why, not listed: an option of another step */
#define CM_OPT_REFUSE(s, l, why) { .type = CM_OPT_REFUSE_, .short_name = (s), .long_name = (l), .help = (why) }
#define CM_OPT_INCLUDE(t) { .type = CM_OPT_INCLUDE_, .include = (t) }

/* What --help prints around the table: "Usage: PROG USAGE", ABOUT, the options, EPILOG. */
typedef struct cm_opt_info {
	const char *usage;	/* "[OPTION]... [FILE]..."; more lines after '\n' */
	const char *about;	/* what the program does, ending in '\n' */
	const char *epilog;	/* after the options (NULL: none) */
	const char *verbose;	/* what -v adds (NULL: "more detail") */
} cm_opt_info;

/* Parse argv against the table (standard options added), acting on --help, --version and
 * --list-options (exit 0) and on any error (a usage error, exit 2). Returns the number of
 * arguments left; they are moved to argv[1..n] in their order, argv[n + 1] = NULL. */
int cm_opt_parse(int argc, char **argv, const cm_opt *opts, const cm_opt_info *info);

/* Lists of inputs: each argument "@FILE" (an @ and a name) among args[0..n) is replaced by
 * FILE's lines, one argument a line (blank lines and lines starting with # left out), so that
 * a program can take more inputs than a command line holds (a crawl's 100,000 files); a name
 * that starts with @ is given as ./@name. Returns the new count; *args is then a new array
 * (kept to the end of the program), NULL-terminated. A list that cannot be read or names no
 * input (which would leave the program reading standard input) is a usage error. */
int cm_opt_lists(int n, char ***args);

/* --help: print to f what cm_opt_parse prints for --help. */
void cm_opt_help(const cm_opt *opts, const cm_opt_info *info);

/* The option's name for messages: "--long", or "-s" when it has no long name. */
const char *cm_opt_name(const cm_opt *o, char *buf, size_t n);

#endif
