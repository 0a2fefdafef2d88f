/* json.c - libFuzzer target: the record parser against jansson, and record editing.
 *
 * Every input line is parsed by cm_json_parse and by jansson; the verdicts must agree (but
 * for where jansson is not JSON: it refuses integers beyond 64 bits and NUL in keys, and
 * accepts raw NUL bytes between tokens), and an accepted
 * record, edited, must still be valid JSON that jansson reads.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cm_json *j;
	static cm_rw w;
	char *line, err[256];
	cm_jrec rec;
	json_error_t e;
	json_t *ref;
	int ours, theirs, excused;

	if (!j) {
		j = cm_json_new();
		cm_json_want(j, "text");
		cm_json_want(j, "metadata.lang");
		cm_rw_init(&w);
	}
	if (memchr(data, '\n', size))
		return 0;	/* one line per record */
	line = malloc(size + CM_JSON_PAD);
	memcpy(line, data, size);
	memset(line + size, 0, CM_JSON_PAD);
	ours = cm_json_parse(j, line, size, &rec, err, sizeof(err)) == 0;
	ref = json_loadb(line, size, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);
	theirs = ref && json_is_object(ref);
	excused = (!ref && (strstr(e.text, "too big") || strstr(e.text, "NUL byte in object key"))) ||
		  memchr(line, '\0', size) != NULL;	/* jansson accepts a raw NUL; JSON does not */
	if (!ours && strstr(err, "duplicate key")) {
		/* ours refuses a repeated top-level or metadata key; jansson must see one too */
		json_t *strict = json_loadb(line, size, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &e);

		if (strict) {
			fprintf(stderr, "ours: %s, but jansson finds no duplicate key\n", err);
			abort();
		}
		excused = 1;
	}
	if (ours != theirs && !excused) {
		fprintf(stderr, "verdicts differ: ours %d (%s), jansson %d (%s)\n", ours, ours ? "" : err,
			theirs, ref ? "" : e.text);
		abort();
	}
	if (ours) {
		const cm_buf *out;
		json_t *edited;

		cm_rw_begin(&w, &rec);
		cm_rw_set_str(&w, "text", "new", 3);
		cm_rw_meta_raw(&w, "fuzz", "{\"a\":[1,2]}", 11);
		cm_rw_del(&w, "id");
		out = cm_rw_finish(&w);
		edited = json_loadb(out->p, out->len, JSON_ALLOW_NUL, &e);
		if (!edited && !strstr(e.text, "too big") && !strstr(e.text, "NUL byte in object key")) {
			fprintf(stderr, "edited record invalid: %s\n%.*s\n", e.text, (int)out->len, out->p);
			abort();
		}
		json_decref(edited);
	}
	json_decref(ref);
	free(line);
	return 0;
}
