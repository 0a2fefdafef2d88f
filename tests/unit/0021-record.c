/* 0021-record.c - editing records: replaced, added and removed fields keep the rest byte for byte. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonw.h"
#include "record.h"
#include "tap.h"

static cm_json *j;
static cm_jrec rec;
static char line[4096];

static int parse(const char *s)
{
	char err[200];
	size_t n = strlen(s);

	memcpy(line, s, n);
	memset(line + n, ' ', CM_JSON_PAD);
	if (cm_json_parse(j, line, n, &rec, err, sizeof(err)) != 0) {
		printf("# parse: %s\n", err);
		return -1;
	}
	return 0;
}

static const char *edited(cm_rw *w)
{
	static char out[4096];
	const cm_buf *b = cm_rw_finish(w);

	snprintf(out, sizeof(out), "%.*s", (int)b->len, b->p);
	return out;
}

int main(void)
{
	cm_rw w;
	cm_buf b = CM_BUF_INIT;

	j = cm_json_new();
	cm_rw_init(&w);

	parse("{\"id\": \"x\",  \"text\":\"old\" , \"z\":[1, 2]}");
	cm_rw_begin(&w, &rec);
	is_str(edited(&w), "{\"id\": \"x\",  \"text\":\"old\" , \"z\":[1, 2]}\n", "no edit: same bytes");

	cm_rw_begin(&w, &rec);
	cm_rw_set_str(&w, "text", "new \"one\"\n", 10);
	is_str(edited(&w), "{\"id\": \"x\",  \"text\":\"new \\\"one\\\"\\n\" , \"z\":[1, 2]}\n",
	       "replace a string keeps the spacing around it");

	cm_rw_begin(&w, &rec);
	cm_rw_set_raw(&w, "n", "5", 1);
	cm_rw_set_raw(&w, "m", "true", 4);
	is_str(edited(&w), "{\"id\": \"x\",  \"text\":\"old\" , \"z\":[1, 2],\"n\":5,\"m\":true}\n",
	       "two new fields go at the end, in order");

	cm_rw_begin(&w, &rec);
	cm_rw_meta_raw(&w, "quality", "{\"a\":1}", 7);
	cm_rw_meta_raw(&w, "lang", "\"en\"", 4);
	is_str(edited(&w), "{\"id\": \"x\",  \"text\":\"old\" , \"z\":[1, 2],\"metadata\":{\"quality\":{\"a\":1},\"lang\":\"en\"}}\n",
	       "metadata created when absent");

	cm_rw_begin(&w, &rec);
	cm_rw_del(&w, "text");
	is_str(edited(&w), "{\"id\": \"x\",\"z\":[1, 2]}\n", "delete a middle field");
	cm_rw_begin(&w, &rec);
	cm_rw_del(&w, "z");
	is_str(edited(&w), "{\"id\": \"x\",  \"text\":\"old\"}\n", "delete the last field");
	cm_rw_begin(&w, &rec);
	cm_rw_del(&w, "id");
	cm_rw_set_str(&w, "text", "t", 1);
	is_str(edited(&w), "{\"text\":\"t\" , \"z\":[1, 2]}\n", "delete the first and replace the next");

	parse("{\"id\":1}");
	cm_rw_begin(&w, &rec);
	cm_rw_del(&w, "id");
	cm_rw_set_raw(&w, "a", "2", 1);
	cm_rw_meta_raw(&w, "m", "3", 1);
	is_str(edited(&w), "{\"a\":2,\"metadata\":{\"m\":3}}\n", "the only field deleted, two added: commas right");
	cm_rw_begin(&w, &rec);
	cm_rw_set_raw(&w, "a", "1", 1);
	cm_rw_set_raw(&w, "a", "2", 1);
	cm_rw_set_raw(&w, "id", "5", 1);
	cm_rw_set_raw(&w, "id", "6", 1);
	is_str(edited(&w), "{\"id\":6,\"a\":2}\n", "setting a key twice keeps the last value");

	parse("{\"a\":1,\"b\":2,\"c\":3}");
	cm_rw_begin(&w, &rec);
	cm_rw_del(&w, "b");
	cm_rw_del(&w, "c");
	is_str(edited(&w), "{\"a\":1}\n", "two adjacent fields deleted");

	parse("{\"id\":1,\"metadata\":{}}");
	cm_rw_begin(&w, &rec);
	cm_rw_meta_raw(&w, "k", "1", 1);
	cm_rw_meta_raw(&w, "l", "2", 1);
	is_str(edited(&w), "{\"id\":1,\"metadata\":{\"k\":1,\"l\":2}}\n", "keys into an empty metadata");

	parse("{\"metadata\":{\"warc\":{\"x\":1},\"k\":\"old\"},\"text\":\"\"}\r");
	cm_rw_begin(&w, &rec);
	cm_rw_meta_raw(&w, "k", "\"new\"", 5);
	cm_rw_meta_raw(&w, "q", "0.5", 3);
	is_str(edited(&w), "{\"metadata\":{\"warc\":{\"x\":1},\"k\":\"new\",\"q\":0.5},\"text\":\"\"}\n",
	       "metadata key replaced in place, new one appended, CR dropped");

	parse("{\"metadata\":\"not an object\",\"a\":1}");
	cm_rw_begin(&w, &rec);
	cm_rw_meta_raw(&w, "k", "1", 1);
	is_str(edited(&w), "{\"metadata\":{\"k\":1},\"a\":1}\n", "metadata that is no object is replaced");

	parse("{}");
	cm_rw_begin(&w, &rec);
	cm_rw_set_raw(&w, "a", "1", 1);
	is_str(edited(&w), "{\"a\":1}\n", "a field into an empty record");

	/* escaper */
	cm_json_escape(&b, "a\"b\\c\x01\x1f\t\xc3\xa9/<>0123456789abcdef\"", 30);
	is_str(b.p, "\"a\\\"b\\\\c\\u0001\\u001f\\t\xc3\xa9/<>0123456789abcdef\\\"\"", "escaper");
	{
		/* long strings cross the vector loop's boundaries at every offset */
		char src[100], want[300];
		size_t i, k;
		int good = 1;

		for (k = 0; k < 40; k++) {
			char *o = want;

			for (i = 0; i < sizeof(src); i++)
				src[i] = (char)(i % 37 == k % 37 ? '"' : 'a' + (int)(i % 26));
			*o++ = '"';
			for (i = 0; i < sizeof(src); i++) {
				if (src[i] == '"')
					*o++ = '\\';
				*o++ = src[i];
			}
			*o++ = '"';
			*o = 0;
			cm_buf_reset(&b);
			cm_json_escape(&b, src, sizeof(src));
			good &= strcmp(b.p, want) == 0;
		}
		ok(good, "escaper at every alignment");
	}
	cm_buf_free(&b);
	cm_rw_free(&w);
	cm_json_free(j);
	return tap_done();
}
