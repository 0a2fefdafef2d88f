/* passthrough - the record-I/O benchmark filter: reads one field, adds one metadata key.
 *
 * Every record is parsed and validated, the --text-field string is unescaped and measured,
 * and metadata.<key> = {"bytes": B, "chars": C} is spliced in; all other bytes are copied.
 * The tests use it to exercise the options every filter shares; bench/record-io times it.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "filter.h"
#include "jsonw.h"
#include "utf8.h"


struct opts {
	const char *key;
	int drop_empty;
	cm_buf val;
};

static const cm_opt_info info = {
	"[OPTION]... [FILE]...",
	"Copy JSON Lines records, adding metadata.KEY = {\"bytes\": B, \"chars\": C} for the\n"
	"text field (the record-I/O benchmark and test filter).\n",
	CM_FILTER_EPILOG, CM_FILTER_VERBOSE
};

static const char *one(cm_filter *f, const cm_jrec *rec, void *ctx)
{
	struct opts *o = ctx;
	const cm_jfield *t = cm_jrec_get(rec, f->text_field);
	size_t chars = t && t->str ? cm_utf8_chars(t->str, t->str_len) : 0;
	cm_jw w;

	if (o->drop_empty && (!t || !t->str || t->str_len == 0))
		return "empty";
	cm_buf_reset(&o->val);
	cm_jw_init(&w, &o->val);
	cm_jw_obj(&w);
	cm_jw_key_uint(&w, "bytes", t && t->str ? t->str_len : 0);
	cm_jw_key_uint(&w, "chars", chars);
	cm_jw_end(&w, '}');
	cm_rw_meta_raw(&f->rw, o->key, o->val.p, o->val.len);
	return NULL;
}

int main(int argc, char **argv)
{
	struct opts o = { "passthrough", 0, CM_BUF_INIT };
	cm_filter f;

	cm_filter_init(&f, argc, argv);
	const cm_opt opts[] = {
		CM_OPT_STRING(0, "key", &o.key, "KEY", "the metadata key to add (default: passthrough)"),
		CM_OPT_FLAG(0, "drop-empty", &o.drop_empty, "drop records whose text field is missing or empty"),
		CM_OPT_INCLUDE(cm_filter_opts(&f, CM_FILTER_ALL | CM_FILTER_ID_FIELD)),
		CM_OPT_END()
	};
	int nf = cm_opt_parse(argc, argv, opts, &info);

	f.json = cm_json_new();
	cm_json_want(f.json, f.text_field);
	cm_filter_start(&f, cm_filter_total_size(argv + 1, nf));
	cm_filter_run(&f, argv + 1, nf, one, &o);
	cm_buf_free(&o.val);
	return cm_filter_finish(&f);
}
