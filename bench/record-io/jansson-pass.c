/* jansson-pass - the same pass-through as passthrough, done the usual way: parse each line
 * fully with jansson, add metadata.passthrough, serialise the whole record again. The
 * reference point for the record-I/O benchmark. Usage: jansson-pass FIELD < in > out */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *field = argc > 1 ? argv[1] : "text";
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_error_t e;
		json_t *r = json_loadb(line, (size_t)n, 0, &e), *t, *m;
		size_t bytes = 0, chars = 0, i;
		char *out;

		if (!r)
			continue;
		t = json_object_get(r, field);
		if (json_is_string(t)) {
			const char *s = json_string_value(t);

			bytes = json_string_length(t);
			for (i = 0; i < bytes; i++)
				chars += ((unsigned char)s[i] & 0xc0) != 0x80;
		}
		m = json_object_get(r, "metadata");
		if (!json_is_object(m)) {
			m = json_object();
			json_object_set_new(r, "metadata", m);
		}
		json_object_set_new(m, "passthrough", json_pack("{s:I,s:I}", "bytes", (json_int_t)bytes,
								 "chars", (json_int_t)chars));
		out = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputs(out, stdout);
		fputc('\n', stdout);
		free(out);
		json_decref(r);
	}
	free(line);
	return 0;
}
