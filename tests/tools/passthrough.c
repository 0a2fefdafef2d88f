/* passthrough - the record-I/O benchmark filter: reads one field, adds one metadata key.
 *
 * Every record is parsed and validated, the --text-field string is unescaped and measured,
 * and metadata.<key> = {"bytes": B, "chars": C} is spliced in; all other bytes are copied.
 * The tests use it to exercise the options every filter shares; bench/record-io times it.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "filter.h"
#include "jsonw.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { OPT_KEY = CM_OPT_PROGRAM, OPT_DROP_EMPTY };

static const struct option longopts[] = {
	{ "key", required_argument, NULL, OPT_KEY },
	{ "drop-empty", no_argument, NULL, OPT_DROP_EMPTY },
	CM_FILTER_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

struct opts {
	const char *key;
	int drop_empty;
	cm_buf val;
};

static void usage(void)
{
	printf("Usage: %s [OPTION]... [FILE]...\n"
	       "Copy JSON Lines records, adding metadata.KEY = {\"bytes\": B, \"chars\": C} for the\n"
	       "text field (the record-I/O benchmark and test filter).\n"
	       "\n"
	       "      --key KEY          the metadata key to add (default: passthrough)\n"
	       "      --drop-empty       drop records whose text field is missing or empty\n"
	       CM_FILTER_USAGE, cm_prog);
}

/* Characters in valid UTF-8: the bytes that do not continue a sequence. */
static size_t utf8_chars(const char *p, size_t n)
{
	size_t i = 0, chars = 0;

#ifdef __SSE2__
	const __m128i cont = _mm_set1_epi8((char)0xbf);	/* > -65 as signed: not 0x80..0xbf */

	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(p + i));

		chars += (size_t)__builtin_popcount((unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(v, cont)));
	}
#endif
	for (; i < n; i++)
		chars += ((unsigned char)p[i] & 0xc0) != 0x80;
	return chars;
}

static const char *one(cm_filter *f, const cm_jrec *rec, void *ctx)
{
	struct opts *o = ctx;
	const cm_jfield *t = cm_jrec_get(rec, f->text_field);
	size_t chars = t && t->str ? utf8_chars(t->str, t->str_len) : 0;
	cm_jw w;

	if (o->drop_empty && (!t || !t->str || t->str_len == 0))
		return "empty";
	cm_buf_reset(&o->val);
	cm_jw_init(&w, &o->val);
	cm_jw_obj(&w);
	cm_jw_key(&w, "bytes");
	cm_jw_uint(&w, t && t->str ? t->str_len : 0);
	cm_jw_key(&w, "chars");
	cm_jw_uint(&w, chars);
	cm_jw_end(&w, '}');
	cm_rw_meta_raw(&f->rw, o->key, o->val.p, o->val.len);
	return NULL;
}

int main(int argc, char **argv)
{
	struct opts o = { "passthrough", 0, CM_BUF_INIT };
	cm_filter f;
	int c;

	cm_filter_init(&f, argc, argv);
	while ((c = getopt_long(argc, argv, CM_FILTER_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_KEY: o.key = optarg; break;
		case OPT_DROP_EMPTY: o.drop_empty = 1; break;
		default: cm_filter_option(&f, c, optarg, usage); break;
		}
	}
	f.json = cm_json_new();
	cm_json_want(f.json, f.text_field);
	cm_filter_start(&f, cm_filter_total_size(argv + optind, argc - optind));
	cm_filter_run(&f, argv + optind, argc - optind, one, &o);
	cm_buf_free(&o.val);
	return cm_filter_finish(&f);
}
