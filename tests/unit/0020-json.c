/* 0020-json.c - the record parser against jansson, on real, random and mutated records. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "tap.h"

/* Parse with jansson: the reference. NULL when it rejects the line or it is no object. */
static json_t *ref_parse(const char *p, size_t n, int *big)
{
	json_error_t e;
	json_t *j = json_loadb(p, n, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);

	/* jansson refuses integers beyond 64 bits, and NUL in keys; JSON allows both */
	*big = !j && (strstr(e.text, "too big") || strstr(e.text, "NUL byte in object key"));
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Does our view of the line agree with jansson's object? Returns NULL or what differs. */
static const char *compare(const cm_jrec *r, json_t *ref, const char *line)
{
	static char why[256];
	size_t i = 0;
	const char *key;
	json_t *val;

	/* jansson's object iteration follows insertion order */
	if (json_object_size(ref) > r->nfields)
		return "fewer fields than jansson";
	json_object_foreach(ref, key, val) {
		const cm_jfield *f;
		json_t *mine;
		json_error_t e;

		/* duplicate keys: jansson keeps the last value, at the first position */
		f = NULL;
		for (size_t k = r->nfields; k-- > 0;)
			if (r->fields[k].key_len == strlen(key) &&
			    memcmp(r->fields[k].key, key, r->fields[k].key_len) == 0) {
				f = &r->fields[k];
				break;
			}
		if (!f) {
			snprintf(why, sizeof(why), "key '%s' missing", key);
			return why;
		}
		mine = json_loadb(line + f->val_off, f->val_len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);
		if (!mine || !json_equal(mine, val)) {
			snprintf(why, sizeof(why), "value of '%s' differs (span %zu+%zu)", key,
				 f->val_off, f->val_len);
			json_decref(mine);
			return why;
		}
		if (f->str && (!json_is_string(val) || json_string_length(val) != f->str_len ||
			       memcmp(json_string_value(val), f->str, f->str_len) != 0)) {
			snprintf(why, sizeof(why), "unescaped '%s' differs", key);
			json_decref(mine);
			return why;
		}
		json_decref(mine);
		i++;
	}
	(void)i;
	return NULL;
}

static char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)len + CM_JSON_PAD + 1);
	if (fread(p, 1, (size_t)len, f) != (size_t)len)
		len = 0;
	fclose(f);
	memset(p + len, 0, CM_JSON_PAD + 1);
	*n = (size_t)len;
	return p;
}

static int ndup;	/* records refused for a repeated key, jansson agreeing */

/* Check one line both ways; returns 1 when the verdicts (and values) agree. */
static int check_line(cm_json *j, const char *line, size_t n, int *valid, const char **why)
{
	char err[256], *copy = malloc(n + CM_JSON_PAD);
	cm_jrec rec;
	int big, ours, agree;
	json_t *ref;

	memcpy(copy, line, n);
	memset(copy + n, ' ', CM_JSON_PAD);
	ours = cm_json_parse(j, copy, n, &rec, err, sizeof(err)) == 0;
	ref = ref_parse(copy, n, &big);
	*why = NULL;
	if (big) {
		agree = 1;
		ndup += !ours && strncmp(err, "duplicate key", 13) == 0;
	} else if (ref && !ours && strncmp(err, "duplicate key", 13) == 0) {
		/* a repeated top-level or metadata key: jansson keeps one value, we refuse the
		 * record; jansson asked to refuse repeated keys must find one */
		json_t *strict = json_loadb(copy, n, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL);

		agree = strict == NULL;
		*why = agree ? NULL : "we see a repeated key where jansson sees none";
		json_decref(strict);
		ndup++;
	} else if (!!ref != ours) {
		agree = 0;
		*why = ours ? "we accept what jansson rejects" : err;
	} else {
		agree = 1;
		if (ref && (*why = compare(&rec, ref, copy)))
			agree = 0;
	}
	*valid = ours;
	json_decref(ref);
	free(copy);
	return agree;
}

/* A random JSON value as text, built by hand so that odd but valid forms appear. */
static void gen_value(cm_buf *b, int depth);

static void gen_string(cm_buf *b)
{
	static const char *const pieces[] = {
		"a", "Z", " ", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041",
		"\\u00e9", "\\u20AC", "\\ud83d\\ude00", "\\u0000", "é", "€", "😀", "日本", "<p>",
		"&amp;", "'", "{", "}", "[", "]", ":", ",", "0",
	};
	int i, n = (int)tap_rand(12);

	cm_buf_addc(b, '"');
	for (i = 0; i < n; i++)
		cm_buf_adds(b, pieces[tap_rand(sizeof(pieces) / sizeof(*pieces))]);
	cm_buf_addc(b, '"');
}

static void ws(cm_buf *b)
{
	static const char *const w[] = { "", "", "", " ", "\t", "  ", "\r" };

	cm_buf_adds(b, w[tap_rand(7)]);
}

static void gen_value(cm_buf *b, int depth)
{
	static const char *const nums[] = {
		"0", "-0", "1", "-17", "3.25", "1e10", "-2.5E-3", "123456789012", "0.000001",
		"1.7976931348623157e308", "9007199254740993",
	};
	int k = (int)tap_rand(depth > 4 ? 5 : 7), i, n;

	switch (k) {
	case 0: gen_string(b); break;
	case 1: cm_buf_adds(b, nums[tap_rand(sizeof(nums) / sizeof(*nums))]); break;
	case 2: cm_buf_adds(b, tap_rand(2) ? "true" : "false"); break;
	case 3: cm_buf_adds(b, "null"); break;
	case 4: gen_string(b); break;
	default:	/* 5: an array, 6: an object; up to three members */
		cm_buf_addc(b, k == 5 ? '[' : '{');
		n = (int)tap_rand(4);
		for (i = 0; i < n; i++) {
			if (i)
				cm_buf_addc(b, ',');
			ws(b);
			if (k != 5) {
				gen_string(b);
				ws(b);
				cm_buf_addc(b, ':');
				ws(b);
			}
			gen_value(b, depth + 1);
			ws(b);
		}
		cm_buf_addc(b, k == 5 ? ']' : '}');
	}
}

static void gen_record(cm_buf *b)
{
	static const char *const keys[] = { "id", "text", "url", "metadata", "source", "x\\u0079" };
	int i, n = 1 + (int)tap_rand(6), order[6] = { 0, 1, 2, 3, 4, 5 }, repeat = tap_rand(10) == 0;

	/* distinct keys, but for one record in ten (a repeated key makes a record malformed) */
	for (i = 5; i > 0; i--) {
		int k = (int)tap_rand((unsigned)i + 1), t = order[i];

		order[i] = order[k];
		order[k] = t;
	}

	cm_buf_reset(b);
	ws(b);
	cm_buf_addc(b, '{');
	for (i = 0; i < n; i++) {
		if (i)
			cm_buf_addc(b, ',');
		ws(b);
		cm_buf_addc(b, '"');
		cm_buf_adds(b, keys[repeat ? tap_rand(6) : (unsigned)order[i]]);
		cm_buf_addc(b, '"');
		ws(b);
		cm_buf_addc(b, ':');
		ws(b);
		gen_value(b, 1);
		ws(b);
	}
	cm_buf_addc(b, '}');
	ws(b);
}

static void mutate(cm_buf *b)
{
	static const char junk[] = "{}[]:,\"\\ \t0123456789.eE+-tfnulra\x01\x1f\x7f\xc3\xa9\xff\xe2\x82";
	int k = 1 + (int)tap_rand(3);

	while (k--) {
		size_t at = b->len ? tap_rand((unsigned)b->len) : 0;

		switch (tap_rand(3)) {
		case 0:		/* delete a byte */
			if (b->len) {
				memmove(b->p + at, b->p + at + 1, b->len - at - 1);
				b->len--;
			}
			break;
		case 1:		/* overwrite a byte */
			if (b->len)
				b->p[at] = junk[tap_rand(sizeof(junk) - 1)];
			break;
		default:	/* insert a byte */
			cm_buf_addc(b, ' ');
			memmove(b->p + at + 1, b->p + at, b->len - at - 1);
			b->p[at] = junk[tap_rand(sizeof(junk) - 1)];
		}
	}
}

int main(int argc, char **argv)
{
	tap_rng = 88172645463325252ULL;
	static const char *const files[] = {
		"arc_easy-150.jsonl", "hh-rlhf-40.jsonl", "winogrande-20.jsonl", "warc-pages.jsonl",
	};
	const char *dir = argc > 1 ? argv[1] : getenv("SRCDIR");
	cm_json *j = cm_json_new();
	cm_buf b = CM_BUF_INIT, path = CM_BUF_INIT;
	size_t fi;
	int i, bad, valid, nvalid, ninvalid;
	const char *why, *first_why = NULL;

	cm_json_want(j, "text");
	cm_json_want(j, "html");
	cm_json_want(j, "query");
	cm_json_want(j, "chosen");
	cm_json_want(j, "metadata.warc");
	for (fi = 0; fi < sizeof(files) / sizeof(*files); fi++) {
		size_t n = 0, lines = 0;
		char *data, *p, *end;

		cm_buf_reset(&path);
		cm_buf_printf(&path, "%s/tests/data/jsonl/%s", dir ? dir : ".", files[fi]);
		data = read_file(path.p, &n);
		if (!ok(data != NULL, "read %s", files[fi]))
			continue;
		bad = 0;
		for (p = data, end = data + n; p < end; p = memchr(p, '\n', (size_t)(end - p)) + 1) {
			char *nl = memchr(p, '\n', (size_t)(end - p));

			if (!nl)
				break;
			lines++;
			if (!check_line(j, p, (size_t)(nl - p), &valid, &why) || !valid) {
				if (!bad++)
					printf("# line %zu: %s\n", lines, why ? why : "rejected");
			}
		}
		ok(bad == 0 && lines > 0, "%s: %zu real records parse as jansson parses them", files[fi], lines);
		free(data);
	}

	bad = nvalid = ndup = 0;
	for (i = 0; i < 20000; i++) {
		gen_record(&b);
		if (!check_line(j, b.p, b.len, &valid, &why)) {
			if (!bad++)
				printf("# %s\n#   %s\n", why ? why : "?", b.p);
		}
		nvalid += valid;
	}
	ok(bad == 0 && nvalid + ndup == 20000 && nvalid > 17000 && ndup > 0,
	   "20000 random valid records agree with jansson (%d valid, %d with a repeated key)", nvalid, ndup);

	bad = ninvalid = 0;
	for (i = 0; i < 50000; i++) {
		gen_record(&b);
		mutate(&b);
		if (!check_line(j, b.p, b.len, &valid, &why)) {
			if (!bad++) {
				first_why = why;
				printf("# %s\n#   ", why ? why : "?");
				for (size_t k = 0; k < b.len; k++)
					printf(b.p[k] >= 0x20 && b.p[k] < 0x7f ? "%c" : "\\x%02x",
					       (unsigned char)b.p[k]);
				printf("\n");
			}
		}
		ninvalid += !valid;
	}
	ok(bad == 0, "50000 mutated records: same verdict as jansson (%d rejected)%s%s", ninvalid,
	   first_why ? ": " : "", first_why ? first_why : "");
	ok(ninvalid > 10000, "mutations do produce invalid records (%d)", ninvalid);

	/* What the parser reports */
	{
		static char line[] = "{\"id\":\"a\\u0062\", \"metadata\" : {\"x\":1,\"warc\":\"w\"} ,\"n\":[1,2] }"
				     "                                                                ";
		size_t n = strlen(line) - 64;
		cm_jrec r;
		char err[200];
		const cm_jfield *f;

		is_int(cm_json_parse(j, line, n, &r, err, sizeof(err)), 0, "parses a record");
		is_int(r.nfields, 3, "three fields");
		f = cm_jrec_get(&r, "metadata");
		ok(f && f->type == CM_J_OBJECT, "metadata is an object");
		is_int(r.meta_index, 1, "metadata is the second field");
		is_int(r.nmeta, 2, "metadata has two fields");
		f = cm_jrec_meta(&r, "warc");
		ok(f && f->str && f->str_len == 1 && f->str[0] == 'w', "metadata.warc unescaped on request");
		is_mem(line + r.fields[0].val_off, r.fields[0].val_len, "\"a\\u0062\"", "raw span of id");
		is_int(line[r.close_off], '}', "closing brace found");
		is_int(line[r.meta_close_off], '}', "metadata's closing brace found");
		is_mem(line + r.fields[2].val_off, r.fields[2].val_len, "[1,2]", "raw span of an array");
		ok(cm_json_parse(j, "[1]", 3, &r, err, sizeof(err)) != 0 && strstr(err, "object"),
		   "an array is not a record: %s", err);
		ok(cm_json_parse(j, "{\"a\":1} x", 9, &r, err, sizeof(err)) != 0, "trailing junk rejected");
		ok(cm_json_parse(j, "{\"a\":\"\x01\"}", 8, &r, err, sizeof(err)) != 0,
		   "raw control character in a string rejected");
		ok(cm_json_parse(j, "{\"a\":\"\xc3\"}", 8, &r, err, sizeof(err)) != 0,
		   "invalid UTF-8 rejected");
		ok(cm_json_parse(j, "{\"a\":1}\t\r", 9, &r, err, sizeof(err)) == 0,
		   "trailing tab and CR accepted");
		/* a repeated key: jq and Python read the last value, a filter the first */
		{
			static const struct {
				const char *line, *why;
			} dup[] = {
				{ "{\"id\":\"k\",\"text\":\"hi\",\"text\":\"x@example.org\"}", "duplicate key \"text\"" },
				{ "{\"text\":1,\"t\\u0065xt\":2}", "duplicate key \"text\"" },
				{ "{\"metadata\":{\"lang\":\"en\",\"lang\":\"fr\"},\"text\":\"\"}", "duplicate key \"metadata.lang\"" },
				{ "{\"metadata\":{},\"text\":\"\",\"metadata\":{\"a\":1}}", "duplicate key \"metadata\"" },
			};
			cm_buf big = CM_BUF_INIT;

			for (size_t d = 0; d < sizeof(dup) / sizeof(dup[0]); d++) {
				size_t n = strlen(dup[d].line);
				char *l = calloc(1, n + CM_JSON_PAD);

				memcpy(l, dup[d].line, n);
				ok(cm_json_parse(j, l, n, &r, err, sizeof(err)) != 0 && strcmp(err, dup[d].why) == 0,
				   "%s: %s", dup[d].line, err);
				free(l);
			}
			/* many keys (the sorted path): the last one a repeat from far back, or new */
			for (int rep = 1; rep >= 0; rep--) {
				int parsed;

				cm_buf_reset(&big);
				cm_buf_adds(&big, "{");
				for (int k = 0; k < 5000; k++)
					cm_buf_printf(&big, "\"k%d\":%d,", k, k);
				cm_buf_adds(&big, rep ? "\"k17\":0}" : "\"last\":0}");
				cm_buf_grow(&big, CM_JSON_PAD);
				memset(big.p + big.len, 0, CM_JSON_PAD);
				parsed = cm_json_parse(j, big.p, big.len, &r, err, sizeof(err)) == 0;
				if (rep)
					ok(!parsed && strcmp(err, "duplicate key \"k17\"") == 0,
					   "5001 keys, one repeated: %s", err);
				else
					ok(parsed && r.nfields == 5001, "5001 distinct keys accepted");
			}
			cm_buf_free(&big);
		}
	}
	printf("# simdjson implementation: %s\n", cm_json_implementation());
	cm_json_free(j);
	cm_buf_free(&b);
	cm_buf_free(&path);
	return tap_done();
}
