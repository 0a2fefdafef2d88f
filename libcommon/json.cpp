// json.cpp - the C interface to simdjson On-Demand used by every filter (the one C++ file).
//
// simdjson picks its On-Demand kernels when it is compiled, so this file is compiled once per
// instruction set (CM_JSON_VARIANT: haswell with AVX2, generic without) and json.c chooses
// one at run time.
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "json.h"

#ifndef CM_JSON_VARIANT
#define CM_JSON_VARIANT generic
#endif
#define CM_CAT2(a, b) a##_##b
#define CM_CAT(a, b) CM_CAT2(a, b)
#define VARIANT(name) CM_CAT(name, CM_JSON_VARIANT)

using namespace simdjson;

// Everything here lives in a namespace of its own per variant, so the two compilations never
// share an inline definition (the linker would keep just one of them).
namespace VARIANT(cm) {

struct cm_json_impl {
	ondemand::parser parser;
	std::vector<cm_jfield> fields, meta;
	std::vector<std::string_view> keys;	// scratch for repeated_key
	std::vector<std::string> want_top, want_meta;
};

extern "C" cm_json_impl *VARIANT(cm_json_new)(void)
{
	return new (std::nothrow) cm_json_impl();
}

extern "C" void VARIANT(cm_json_free)(cm_json_impl *j)
{
	delete j;
}

extern "C" void VARIANT(cm_json_want)(cm_json_impl *j, const char *path)
{
	if (strncmp(path, "metadata.", 9) == 0)
		j->want_meta.emplace_back(path + 9);
	else
		j->want_top.emplace_back(path);
}

static bool wanted(const std::vector<std::string> &w, std::string_view key)
{
	for (const auto &s : w)
		if (s.size() == key.size() && memcmp(s.data(), key.data(), key.size()) == 0)
			return true;
	return false;
}

struct walker {
	const char *line;
	size_t len;
	ondemand::document *doc;
	error_code err = SUCCESS;
	const char *what = "";

	bool fail(error_code e, const char *w)
	{
		if (err == SUCCESS) {
			err = e;
			what = w;
		}
		return false;
	}

	// Offset just past the current value: the next token, less whitespace before it.
	size_t value_end(size_t start)
	{
		const char *p;
		size_t end;

		if (doc->current_location().get(p) != SUCCESS)
			end = len;
		else
			end = (size_t)(p - line);
		while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t' ||
				       line[end - 1] == '\n' || line[end - 1] == '\r'))
			end--;
		return end;
	}

	// Validate a value and everything below it; unescape strings into *str when asked.
	bool walk(ondemand::value v, int depth, enum cm_jtype *type, std::string_view *str)
	{
		ondemand::json_type t;
		error_code e;

		if (depth > 256)
			return fail(DEPTH_ERROR, "nested too deeply");
		if ((e = v.type().get(t)) != SUCCESS)
			return fail(e, "bad value");
		switch (t) {
		case ondemand::json_type::object: {
			ondemand::object o;

			*type = CM_J_OBJECT;
			if ((e = v.get_object().get(o)) != SUCCESS)
				return fail(e, "bad object");
			for (auto f : o) {
				ondemand::field fld;
				std::string_view k;
				enum cm_jtype ct;

				if ((e = std::move(f).get(fld)) != SUCCESS)
					return fail(e, "bad object member");
				if ((e = fld.unescaped_key().get(k)) != SUCCESS)
					return fail(e, "bad key");
				if (!walk(fld.value(), depth + 1, &ct, nullptr))
					return false;
			}
			return true;
		}
		case ondemand::json_type::array: {
			ondemand::array a;

			*type = CM_J_ARRAY;
			if ((e = v.get_array().get(a)) != SUCCESS)
				return fail(e, "bad array");
			for (auto el : a) {
				ondemand::value cv;
				enum cm_jtype ct;

				if ((e = std::move(el).get(cv)) != SUCCESS)
					return fail(e, "bad array element");
				if (!walk(cv, depth + 1, &ct, nullptr))
					return false;
			}
			return true;
		}
		case ondemand::json_type::string: {
			std::string_view s;

			*type = CM_J_STRING;
			if ((e = v.get_string().get(s)) != SUCCESS)
				return fail(e, "bad string");
			if (str)
				*str = s;
			return true;
		}
		case ondemand::json_type::number: {
			ondemand::number n;

			*type = CM_J_NUMBER;
			if ((e = v.get_number().get(n)) != SUCCESS)
				return fail(e, "bad number");
			return true;
		}
		case ondemand::json_type::boolean: {
			bool b;

			*type = CM_J_BOOL;
			if ((e = v.get_bool().get(b)) != SUCCESS)
				return fail(e, "bad literal");
			return true;
		}
		case ondemand::json_type::null: {
			bool isnull = false;

			*type = CM_J_NULL;
			if ((e = v.is_null().get(isnull)) != SUCCESS || !isnull)
				return fail(e == SUCCESS ? TAPE_ERROR : e, "bad literal");
			return true;
		}
		}
		return fail(TAPE_ERROR, "bad value");
	}
};


// JSON allows no raw byte below 0x20 inside a string, and only tab and CR (LF ends the line)
// between tokens. simdjson does not check the former, so: a word-at-a-time scan for such
// bytes, and for the rare line that has tabs or CRs, whether any stands inside a string.
static bool controls_ok(const char *p, size_t n)
{
	size_t i = 0;
	bool seen = false;

	for (; i + 8 <= n; i += 8) {
		uint64_t x;

		memcpy(&x, p + i, 8);
		// high bit of a byte set where that byte is < 0x20
		if (((x - 0x2020202020202020ULL) & ~x & 0x8080808080808080ULL) != 0) {
			seen = true;
			break;
		}
	}
	if (!seen) {
		for (; i < n; i++)
			if ((unsigned char)p[i] < 0x20)
				break;
		if (i == n)
			return true;
	}
	bool in_str = false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			else if (c < 0x20)
				return false;
		} else if (c == '"') {
			in_str = true;
		} else if (c < 0x20 && c != '\t' && c != '\r') {
			return false;
		}
	}
	return true;
}

// RFC 8259 leaves a repeated name's meaning open: jq and Python take the last, a reader of
// the first one here would act on one value while the record went on with both (a PII
// scrubber masking one "text" while another carried the address). A record with a repeated
// top-level or metadata key is malformed. Keys are compared unescaped ("a" and "\u0061" are
// one key); small objects pairwise, large ones sorted.
static const cm_jfield *repeated_key(const std::vector<cm_jfield> &v, std::vector<std::string_view> &scratch)
{
	size_t n = v.size();

	if (n <= 24) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (v[i].key_len == v[j].key_len && memcmp(v[i].key, v[j].key, v[i].key_len) == 0)
					return &v[i];
		return nullptr;
	}
	scratch.clear();
	for (const auto &f : v)
		scratch.emplace_back(f.key, f.key_len);
	std::sort(scratch.begin(), scratch.end());
	for (size_t i = 1; i < n; i++)
		if (scratch[i] == scratch[i - 1])
			for (const auto &f : v)
				if (std::string_view(f.key, f.key_len) == scratch[i])
					return &f;
	return nullptr;
}

static int fields_of(walker &w, ondemand::object obj, std::vector<cm_jfield> &out,
		     const std::vector<std::string> &want, bool top, cm_json_impl *j, cm_jrec *rec)
{
	error_code e;

	for (auto f : obj) {
		ondemand::field fld;
		cm_jfield jf;
		std::string_view k, s;
		const char *vp;
		size_t scalar_len = SIZE_MAX;

		if ((e = std::move(f).get(fld)) != SUCCESS)
			return w.fail(e, "bad object member"), -1;
		memset(&jf, 0, sizeof(jf));
		jf.key_off = (size_t)(fld.key().raw() - 1 - w.line);
		if ((e = fld.unescaped_key().get(k)) != SUCCESS)
			return w.fail(e, "bad key"), -1;
		jf.key = k.data();
		jf.key_len = k.size();
		if ((e = fld.value().current_location().get(vp)) != SUCCESS)
			return w.fail(e, "missing value"), -1;
		jf.val_off = (size_t)(vp - w.line);
		if (top && k == "metadata" && *vp == '{') {
			ondemand::object mo;

			jf.type = CM_J_OBJECT;
			if ((e = fld.value().get_object().get(mo)) != SUCCESS)
				return w.fail(e, "bad metadata object"), -1;
			j->meta.clear();
			if (fields_of(w, mo, j->meta, j->want_meta, false, j, rec) < 0)
				return -1;
			rec->meta_index = (int)out.size();
		} else {
			std::string_view tok;

			// A scalar's raw token runs to the next structural character: trim it.
			if (*vp != '{' && *vp != '[') {
				tok = fld.value().raw_json_token();
				scalar_len = tok.size();
			}
			s = std::string_view();
			if (!w.walk(fld.value(), 1, &jf.type, &s))
				return -1;
			if (jf.type == CM_J_STRING && wanted(want, k)) {
				jf.str = s.data();
				jf.str_len = s.size();
			}
		}
		if (scalar_len != SIZE_MAX) {
			while (scalar_len > 0 && (vp[scalar_len - 1] == ' ' || vp[scalar_len - 1] == '\t' ||
						  vp[scalar_len - 1] == '\r' || vp[scalar_len - 1] == '\n'))
				scalar_len--;
			jf.val_len = scalar_len;
		} else {
			jf.val_len = w.value_end(jf.val_off) - jf.val_off;
		}
		if (top && rec->meta_index == (int)out.size())
			rec->meta_close_off = jf.val_off + jf.val_len - 1;
		out.push_back(jf);
	}
	return 0;
}

extern "C" int VARIANT(cm_json_parse)(cm_json_impl *j, const char *line, size_t len, cm_jrec *rec, char *err,
			     size_t errlen)
{
	ondemand::document doc;
	ondemand::object obj;
	walker w;
	error_code e;
	size_t end = len;

	memset(rec, 0, sizeof(*rec));
	rec->line = line;
	rec->len = len;
	rec->meta_index = -1;
	j->fields.clear();
	j->meta.clear();
	while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r'))
		end--;
	if (end == 0 || line[end - 1] != '}') {
		snprintf(err, errlen, "invalid JSON: %s", end && line[0] == '{' ?
			 "the object does not end on this line" : "not an object");
		return -1;
	}
	if (!controls_ok(line, len)) {
		snprintf(err, errlen, "invalid JSON: raw control character");
		return -1;
	}
	w.line = line;
	w.len = len;
	w.doc = &doc;
	e = j->parser.iterate(padded_string_view(line, len, len + CM_JSON_PAD)).get(doc);
	if (e == SUCCESS)
		e = doc.get_object().get(obj);
	if (e != SUCCESS) {
		snprintf(err, errlen, "invalid JSON: %s", error_message(e));
		return -1;
	}
	if (fields_of(w, obj, j->fields, j->want_top, true, j, rec) < 0) {
		snprintf(err, errlen, "invalid JSON: %s (%s)", w.what, error_message(w.err));
		return -1;
	}
	for (int m = 0; m < 2; m++) {
		const cm_jfield *d = repeated_key(m ? j->meta : j->fields, j->keys);

		if (d) {
			char k[80];
			size_t i, n = d->key_len < sizeof(k) - 1 ? d->key_len : sizeof(k) - 1;

			// the key as a message can show it: no control characters on a terminal
			for (i = 0; i < n; i++)
				k[i] = (unsigned char)d->key[i] < 0x20 || d->key[i] == 0x7f ? '?' : d->key[i];
			k[n] = 0;
			snprintf(err, errlen, "duplicate key \"%s%s%s\"", m ? "metadata." : "", k,
				 d->key_len > n ? "..." : "");
			return -1;
		}
	}
	{
		const char *p;

		if (doc.current_location().get(p) == SUCCESS) {
			snprintf(err, errlen, "invalid JSON: trailing content after the object");
			return -1;
		}
	}
	rec->close_off = end - 1;
	rec->fields = j->fields.data();
	rec->nfields = j->fields.size();
	rec->meta = j->meta.data();
	rec->nmeta = j->meta.size();
	return 0;
}

extern "C" const char *VARIANT(cm_json_implementation)(void)
{
	return SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION);
}

} // namespace
