/* json.c - picks the simdjson build for this CPU and offers field lookups. */
#include <string.h>

#include "json.h"

struct cm_json;
#define VARIANT_DECL(v) \
	struct cm_json *cm_json_new_##v(void); \
	void cm_json_free_##v(struct cm_json *j); \
	void cm_json_want_##v(struct cm_json *j, const char *path); \
	int cm_json_parse_##v(struct cm_json *j, const char *line, size_t len, cm_jrec *rec, \
			      char *err, size_t errlen); \
	const char *cm_json_implementation_##v(void);

VARIANT_DECL(generic)
#ifdef CM_JSON_HASWELL
VARIANT_DECL(haswell)
#endif

static struct {
	struct cm_json *(*new_)(void);
	void (*free_)(struct cm_json *);
	void (*want)(struct cm_json *, const char *);
	int (*parse)(struct cm_json *, const char *, size_t, cm_jrec *, char *, size_t);
	const char *(*impl)(void);
} fn;

static void pick(void)
{
	if (fn.parse)
		return;
#ifdef CM_JSON_HASWELL
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
	    __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("pclmul")) {
		fn.new_ = cm_json_new_haswell;
		fn.free_ = cm_json_free_haswell;
		fn.want = cm_json_want_haswell;
		fn.parse = cm_json_parse_haswell;
		fn.impl = cm_json_implementation_haswell;
		return;
	}
#endif
	fn.new_ = cm_json_new_generic;
	fn.free_ = cm_json_free_generic;
	fn.want = cm_json_want_generic;
	fn.parse = cm_json_parse_generic;
	fn.impl = cm_json_implementation_generic;
}

cm_json *cm_json_new(void)
{
	pick();
	return fn.new_();
}

void cm_json_free(cm_json *j)
{
	if (j)
		fn.free_(j);
}

void cm_json_want(cm_json *j, const char *path)
{
	fn.want(j, path);
}

int cm_json_parse(cm_json *j, const char *line, size_t len, cm_jrec *rec, char *err, size_t errlen)
{
	return fn.parse(j, line, len, rec, err, errlen);
}

const char *cm_json_implementation(void)
{
	pick();
	return fn.impl();
}

static const cm_jfield *find(const cm_jfield *f, size_t n, const char *key)
{
	size_t klen = strlen(key), i;

	for (i = 0; i < n; i++)
		if (f[i].key_len == klen && memcmp(f[i].key, key, klen) == 0)
			return &f[i];
	return NULL;
}

const cm_jfield *cm_jrec_get(const cm_jrec *rec, const char *key)
{
	return find(rec->fields, rec->nfields, key);
}

const cm_jfield *cm_jrec_meta(const cm_jrec *rec, const char *key)
{
	return find(rec->meta, rec->nmeta, key);
}
