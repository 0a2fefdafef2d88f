/* 0005-opt.c - unit tests for libcommon/opt.c: every kind of row, integer widths, aliases,
 * prefixes, clusters, GNU order, "--", and the usage errors (exit 2, the option named). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "opt.h"
#include "tap.h"

enum { RED, GREEN, BLUE };
static const char *const colours[] = { "red", "green", "blue", NULL };

static struct {
	int flag, set;
	int8_t i8;
	int16_t i16;
	int i32;
	long long i64;
	unsigned u32;
	size_t size, any;
	double d;
	float f;
	const char *s;
	int colour;
	char seen[64];
} v;

static void cb(const cm_opt *o, const char *val)
{
	strncat(v.seen, o->ctx, sizeof(v.seen) - strlen(v.seen) - 1);
	strncat(v.seen, val ? val : "-", sizeof(v.seen) - strlen(v.seen) - 1);
}

static const cm_opt part[] = {
	CM_OPT_GROUP("Part:"),
	CM_OPT_INT(0, "small", &v.i8, "N", -100, 100, "an int8"),
	CM_OPT_INT(0, "short", &v.i16, "N", -30000, 30000, "an int16"),
	CM_OPT_END()
};

static const cm_opt table[] = {
	CM_OPT_GROUP("Things:"),
	CM_OPT_FLAG('f', "flag", &v.flag, "a flag"),
	CM_OPT_SET(0, "set-seven", &v.set, 7, "sets seven"),
	CM_OPT_INT('n', "number", &v.i32, "N", 1, 1000, "an int"),
	CM_OPT_INT(0, "big", &v.i64, "N", 0, 1LL << 50, "an int64"),
	CM_OPT_INT(0, "unsigned", &v.u32, "N", 0, 4000000000LL, "a u32"),
	CM_OPT_SIZE(0, "size", &v.size, "SIZE", 1, 1LL << 40, "a size"),
	CM_OPT_ALIAS("max-sz", "max-size"),	/* before its option: a prefix of both is one option */
	CM_OPT_SIZE(0, "max-size", &v.any, "SIZE", 0, 0, "a size, no bound but size_t's"),
	CM_OPT_DOUBLE(0, "double", &v.d, "F", 0, 1, "a double"),
	CM_OPT_DOUBLE(0, "float", &v.f, "F", -1, 1, "a float"),
	CM_OPT_STRING('s', "string", &v.s, "TEXT", "a string"),
	CM_OPT_CHOICE(0, "colour", &v.colour, "C", colours, "red, green or blue"),
	CM_OPT_CALLBACK('c', "call", cb, "c", "X", "a callback with a value"),
	CM_OPT_CALLBACK(0, "bare", cb, "b", NULL, "a callback without one"),
	CM_OPT_ALIAS("color", "colour"),
	CM_OPT_INCLUDE(part),
	CM_OPT_END()
};

static const cm_opt_info info = { "[OPTION]... [FILE]...", "Tests.\n", NULL, NULL };

/* argv from a string of words (no quoting) */
static int parse(const char *line, char ***out)
{
	static char buf[512];
	static char *argv[64];
	int argc = 0;
	char *p;

	memset(&v, 0, sizeof(v));
	snprintf(buf, sizeof(buf), "t %s", line);
	for (p = strtok(buf, " "); p; p = strtok(NULL, " "))
		argv[argc++] = p;
	argv[argc] = NULL;
	*out = argv;
	return cm_opt_parse(argc, argv, table, &info);
}

/* run a parse in a child: its exit status and the first line of stderr */
static int child(const char *line, char *err, size_t n)
{
	int fd[2], st;
	pid_t pid;
	ssize_t got;

	if (pipe(fd) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char **a;

		dup2(fd[1], 2);
		dup2(open("/dev/null", 1), 1);
		parse(line, &a);
		_exit(0);
	}
	close(fd[1]);
	got = read(fd[0], err, n - 1);
	err[got > 0 ? got : 0] = 0;
	if (strchr(err, '\n'))
		*strchr(err, '\n') = 0;
	close(fd[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
	char **a, err[512];
	int n;

	cm_init("t");
	n = parse("-f --set-seven --number 12 --big 1125899906842624 --unsigned 3000000000 "
		  "--size 3M --double 0.25 --float -0.5 -s hi --colour blue --small -5 --short -300", &a);
	is_int(n, 0, "no arguments");
	is_int(v.flag, 1, "flag");
	is_int(v.set, 7, "a flag's own value");
	is_int(v.i32, 12, "int");
	is_int(v.i64, 1LL << 50, "int64 at its bound");
	ok(v.u32 == 3000000000u, "u32 above INT32_MAX");
	is_int(v.size, 3 << 20, "size with a suffix");
	ok(v.d == 0.25, "double");
	ok(v.f == -0.5f, "float");
	is_str(v.s, "hi", "string");
	is_int(v.colour, BLUE, "choice as its index");
	is_int(v.i8, -5, "int8 from an included table");
	is_int(v.i16, -300, "int16 from an included table");

	n = parse("a --number=5 b -- -f --number", &a);
	is_int(n, 4, "GNU order: arguments among options, all after --");
	is_str(a[1], "a", "first argument");
	is_str(a[2], "b", "second");
	is_str(a[3], "-f", "-- ends the options");
	is_str(a[4], "--number", "everything after --");
	ok(a[5] == NULL, "argv ends in NULL");
	is_int(v.i32, 5, "--name=value");
	is_int(v.flag, 0, "-f after -- is an argument");

	n = parse("- -fn7 -shello -c x --call=y --bare --col green --color red --num 9", &a);
	is_int(n, 1, "'-' is an argument");
	is_str(a[1], "-", "'-' kept");
	is_int(v.flag, 1, "-fn7: flag in a cluster");
	is_int(v.i32, 9, "the last value wins; --num a prefix");
	is_str(v.s, "hello", "-sVALUE");
	is_str(v.seen, "cxcyb-", "callbacks in order, with and without values");
	is_int(v.colour, RED, "the alias and a prefix of the name");

	is_int(child("--number 0", err, sizeof(err)), 2, "below the bound: exit 2");
	ok(strstr(err, "option '--number' wants an integer in 1..1000, not '0'") != NULL, "%s", err);
	is_int(child("-n x", err, sizeof(err)), 2, "a short option's bad value: exit 2");
	ok(strstr(err, "option '--number'") != NULL, "named by its long name: %s", err);
	is_int(child("--unsigned -1", err, sizeof(err)), 2, "negative for a u32: exit 2");
	is_int(child("--small 101", err, sizeof(err)), 2, "above an int8's bound: exit 2");
	is_int(child("--size 0", err, sizeof(err)), 2, "size below its bound: exit 2");
	ok(strstr(err, "option '--size' wants a size from 1") != NULL, "%s", err);
	is_int(child("--double 2", err, sizeof(err)), 2, "number above its bound: exit 2");
	is_int(child("--double nan", err, sizeof(err)), 2, "NaN: exit 2");
	is_int(child("--colour pink", err, sizeof(err)), 2, "not a choice: exit 2");
	ok(strstr(err, "option '--colour' wants red, green or blue, not 'pink'") != NULL, "%s", err);
	is_int(child("--s x", err, sizeof(err)), 2, "ambiguous prefix: exit 2");
	ok(strstr(err, "ambiguous (--set-seven, --size, --string, --small, --short)") != NULL, "%s", err);
	n = parse("--max-s 18446744073709551615", &a);
	ok(v.any == SIZE_MAX, "a size without a bound takes all of size_t; a prefix of an alias and its option");
	is_int(child("--max-size 18446744073709551616", err, sizeof(err)), 2, "a size beyond size_t: exit 2");
	ok(strstr(err, "option '--max-size' wants a size") != NULL, "%s", err);
	is_int(child("--l", err, sizeof(err)), 2, "the hidden --list-options is not abbreviated");
	ok(strstr(err, "unknown option '--l'") != NULL, "%s", err);
	is_int(child("--list-options", err, sizeof(err)), 0, "--list-options in full");
	is_int(child("--=x", err, sizeof(err)), 2, "an empty long name: exit 2");
	ok(strstr(err, "unknown option '--=x'") != NULL, "%s", err);
	is_int(child("-f-", err, sizeof(err)), 2, "'-' in a cluster: exit 2");
	ok(strstr(err, "unknown option in '-f-'") != NULL, "%s", err);
	is_int(child("-f\xc3\xa9", err, sizeof(err)), 2, "a byte not ASCII in a cluster: exit 2");
	ok(strstr(err, "unknown option in '-f\xc3\xa9'") != NULL, "%s", err);
	is_int(child("--number", err, sizeof(err)), 2, "missing value: exit 2");
	ok(strstr(err, "option '--number' wants a value") != NULL, "%s", err);
	is_int(child("--flag=1", err, sizeof(err)), 2, "value for a flag: exit 2");
	ok(strstr(err, "option '--flag' takes no value") != NULL, "%s", err);
	is_int(child("-x", err, sizeof(err)), 2, "unknown short option: exit 2");
	ok(strstr(err, "unknown option '-x'") != NULL, "%s", err);
	is_int(child("--nope", err, sizeof(err)), 2, "unknown long option: exit 2");
	ok(strstr(err, "unknown option '--nope'") != NULL, "%s", err);
	is_int(child("--help", err, sizeof(err)), 0, "--help exits 0");
	is_int(child("-V", err, sizeof(err)), 0, "-V exits 0");
	is_int(child("-qv", err, sizeof(err)), 0, "-q and -v");
	{
		char *qv[] = { "t", "-q", NULL }, *vv[] = { "t", "-vv", NULL };

		cm_opt_parse(2, qv, table, &info);
		is_int(cm_verbosity, -1, "-q: errors only");
		cm_opt_parse(2, vv, table, &info);
		is_int(cm_verbosity, 2, "-vv after -q: more detail");
	}
	return tap_done();
}
