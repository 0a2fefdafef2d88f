/* tokfile.c - the tokenizer's files: tiktoken rank files (checked against the SHA-256
 * tiktoken pins) and Hugging Face tokenizer.json, read and written, and the byte-level strings
 * (GPT-2's bytes_to_unicode) that tokenizer.json spells tokens in. The tables are tok.c's
 * (tok_impl.h).
 */
#include <jansson.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "input.h"
#include "output.h"
#include "tok.h"
#include "tok_impl.h"
#include "utf8.h"

/* Hugging Face's ByteLevel pre-tokenizer (use_regex): GPT-2's original pattern. */
static const char pat_hf_bytelevel[] =
	"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* ---- byte-level strings (GPT-2's bytes_to_unicode) ---- */

static uint32_t bl_char(unsigned b)
{
	/* printable Latin-1 bytes stand for themselves; the others map to U+0100 on, in order */
	static uint32_t tab[256];
	static int init;

	if (!__atomic_load_n(&init, __ATOMIC_ACQUIRE)) {
		uint32_t k, next = 256;

		for (k = 0; k < 256; k++) {
			int keep = (k >= 33 && k <= 126) || (k >= 161 && k <= 172) || (k >= 174);
			tab[k] = keep ? k : next++;
		}
		__atomic_store_n(&init, 1, __ATOMIC_RELEASE);
	}
	return tab[b];
}

void cm_tok_bl_encode(const void *bytes, size_t n, cm_buf *out)
{
	const unsigned char *p = bytes;
	size_t i;

	for (i = 0; i < n; i++) {
		char u[4];

		cm_buf_add(out, u, cm_utf8_encode(bl_char(p[i]), u));
	}
}

int cm_tok_bl_decode(const char *s, size_t n, cm_buf *out)
{
	static unsigned char inv[324];
	static int init;
	size_t i = 0;

	if (!__atomic_load_n(&init, __ATOMIC_ACQUIRE)) {
		unsigned b;

		for (b = 0; b < 256; b++)
			inv[bl_char(b)] = (unsigned char)b;
		__atomic_store_n(&init, 1, __ATOMIC_RELEASE);
	}
	while (i < n) {
		uint32_t cp;
		size_t l = cm_utf8_decode(s + i, n - i, &cp);

		if (cp == CM_UTF8_INVALID || cp >= 324 || (cp < 256 && bl_char(cp) != cp))
			return -1;
		cm_buf_addc(out, (char)inv[cp]);
		i += l;
	}
	return 0;
}

/* ---- files ---- */

static int b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Standard base64 with padding; -1 on anything else. */
static int b64_decode(const char *s, size_t n, cm_buf *out)
{
	size_t i;

	if (n == 0 || n % 4)
		return -1;
	for (i = 0; i < n; i += 4) {
		int v[4], k, pad = 0;

		for (k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = b64_value((unsigned char)s[i + k])) < 0)
				return -1;
		}
		cm_buf_addc(out, (char)(v[0] << 2 | v[1] >> 4));
		if (pad < 2)
			cm_buf_addc(out, (char)((v[1] & 15) << 4 | v[2] >> 2));
		if (pad < 1)
			cm_buf_addc(out, (char)((v[2] & 3) << 6 | v[3]));
	}
	return 0;
}

/* OpenAI's rank files, known by their names: the ranks each holds and the SHA-256 of the
 * file that tiktoken pins (tiktoken_ext/openai_public.py, load_tiktoken_bpe's expected_hash).
 * gpt2 is r50k's ranks under GPT-2's name; tiktoken pins no rank file for it. */
struct tiktoken_preset {
	const char *prefix, *pattern;	/* the pattern: a preset's name (cm_tok_preset) */
	uint32_t nranks;
	const char *sha256;
	struct { const char *text; uint32_t id; } sp[6];
};

static const struct tiktoken_preset tiktoken_presets[] = {
	{ "r50k_base", "r50k", 50256,
	  "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
	  { { "<|endoftext|>", 50256 } } },
	{ "gpt2", "r50k", 50256, NULL, { { "<|endoftext|>", 50256 } } },
	{ "p50k_base", "r50k", 50280,
	  "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069",
	  { { "<|endoftext|>", 50256 } } },
	{ "cl100k_base", "cl100k", 100256,
	  "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
	  { { "<|endoftext|>", 100257 }, { "<|fim_prefix|>", 100258 }, { "<|fim_middle|>", 100259 },
	    { "<|fim_suffix|>", 100260 }, { "<|endofprompt|>", 100276 } } },
	{ "o200k_base", "o200k", 199998,
	  "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
	  { { "<|endoftext|>", 199999 }, { "<|endofprompt|>", 200018 } } },
};

static int preset_special(const struct tiktoken_preset *pre, uint32_t id)
{
	size_t k;

	for (k = 0; pre && k < 6 && pre->sp[k].text; k++)
		if (pre->sp[k].id == id)
			return 1;
	return 0;
}

/* A rank file against what its name claims: every rank there, the very file tiktoken pins.
 * Any other: ranks 0 to n - 1, each once (duplicates were refused as they came). */
static int check_ranks(const cm_tok *t, const struct tiktoken_preset *pre, const char *data,
		       size_t n, size_t nranks, char *err, size_t errlen)
{
	uint32_t id;

	if (pre && nranks != pre->nranks) {
		seterr(err, errlen, "%zu ranks where %s has %u: %s", nranks, pre->prefix, pre->nranks,
		       nranks < pre->nranks ? "ranks are missing (a file cut short?)" : "not that file");
		return -1;
	}
	if (pre && pre->sha256) {
		struct sha256_ctx h;
		uint8_t md[SHA256_DIGEST_SIZE];
		char hex[2 * SHA256_DIGEST_SIZE + 1];
		int k;

		sha256_init(&h);
		sha256_update(&h, n, (const uint8_t *)data);
		sha256_digest(&h, sizeof md, md);
		for (k = 0; k < SHA256_DIGEST_SIZE; k++)
			snprintf(hex + 2 * k, 3, "%02x", md[k]);
		if (strcmp(hex, pre->sha256)) {
			seterr(err, errlen, "SHA-256 %s, not tiktoken's %s for %s: the file differs"
			       " (changed or damaged)", hex, pre->sha256, pre->prefix);
			return -1;
		}
		return 0;
	}
	for (id = 0; id < t->ntok; id++) {
		if (t->len[id] == NONE && !preset_special(pre, id)) {
			seterr(err, errlen, "rank %u is missing (%zu ranks up to %u): a damaged file", id,
			       nranks, t->ntok - 1);
			return -1;
		}
	}
	return 0;
}

static cm_tok *load_tiktoken(const char *path, const char *data, size_t n, const char *pattern,
			     char *err, size_t errlen)
{
	const char *base = strrchr(path, '/');
	const struct tiktoken_preset *pre = NULL;
	cm_buf bytes = CM_BUF_INIT;
	cm_tok *t;
	size_t i, line = 0, k, nranks = 0;
	char e[200];

	base = base ? base + 1 : path;
	for (i = 0; i < sizeof tiktoken_presets / sizeof *tiktoken_presets; i++)
		if (!strncmp(base, tiktoken_presets[i].prefix, strlen(tiktoken_presets[i].prefix)))
			pre = &tiktoken_presets[i];
	if (!pre && !pattern) {
		seterr(err, errlen, "a rank file not named r50k_base, gpt2, p50k_base, cl100k_base or"
		       " o200k_base needs a pattern (--pattern)");
		return NULL;
	}
	t = cm_tok_create(cm_tok_pattern_arg(pattern ? pattern : pre->pattern), err, errlen);
	if (!t)
		return NULL;
	for (i = 0; i < n;) {
		const char *eol = memchr(data + i, '\n', n - i), *sp;
		size_t len = eol ? (size_t)(eol - (data + i)) : n - i;
		const char *s = data + i;
		uint64_t rank = 0;

		line++;
		i += len + 1;
		if (len && s[len - 1] == '\r')
			len--;
		if (!len)
			continue;
		sp = memchr(s, ' ', len);
		cm_buf_reset(&bytes);
		if (!sp || sp + 1 == s + len || b64_decode(s, (size_t)(sp - s), &bytes) < 0)
			goto bad_line;
		for (k = (size_t)(sp + 1 - s); k < len; k++) {
			if (s[k] < '0' || s[k] > '9' || rank >= CM_TOK_MAX_VOCAB)
				goto bad_line;
			rank = rank * 10 + (uint64_t)(s[k] - '0');
		}
		if (cm_tok_add_token(t, (uint32_t)rank, bytes.p, bytes.len, e, sizeof e) < 0) {
			seterr(err, errlen, "line %zu: %s", line, e);
			goto fail;
		}
		nranks++;
		continue;
bad_line:
		seterr(err, errlen, "line %zu: not 'base64 rank' (a tiktoken rank file?)", line);
		goto fail;
	}
	if (!t->ntok) {
		seterr(err, errlen, "no tokens in the file");
		goto fail;
	}
	if (check_ranks(t, pre, data, n, nranks, err, errlen) < 0)
		goto fail;
	for (k = 0; pre && k < 6 && pre->sp[k].text; k++) {
		if (cm_tok_add_special(t, pre->sp[k].text, pre->sp[k].id, e, sizeof e) < 0) {
			seterr(err, errlen, "%s", e);
			goto fail;
		}
	}
	cm_tok_merges_from_ranks(t);
	if (cm_tok_finish(t, err, errlen) < 0)
		goto fail;
	cm_buf_free(&bytes);
	return t;
fail:
	cm_buf_free(&bytes);
	cm_tok_free(t);
	return NULL;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A boolean member, def when absent; -1 when present and not a boolean. */
static int jbool(json_t *o, const char *key, int def)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return def;
	return json_is_boolean(v) ? json_is_true(v) : -1;
}

static int hf_bytelevel(json_t *o, int regex_wanted, int *aps, char *err, size_t errlen)
{
	int use_regex = jbool(o, "use_regex", 1);

	*aps = jbool(o, "add_prefix_space", 1);
	if (use_regex < 0 || *aps < 0) {
		seterr(err, errlen, "ByteLevel pre-tokenizer: options are not booleans");
		return -1;
	}
	if (use_regex != regex_wanted) {
		seterr(err, errlen, regex_wanted ? "ByteLevel pre-tokenizer without use_regex and no"
		       " Split before it" : "ByteLevel pre-tokenizer after a Split uses its own regex too");
		return -1;
	}
	return 0;
}

/* The pre-tokenizers this reader knows: ByteLevel (GPT-2's pattern), or a Sequence of a
 * Split (a regex, Isolated) and a ByteLevel without its regex (Llama 3, tiktoken converts). */
static int hf_pretok(json_t *pt, const char **pat, int *aps, char *err, size_t errlen)
{
	const char *type = pt ? jstr(pt, "type") : NULL;
	json_t *list, *split, *bl, *p;

	if (!type) {
		seterr(err, errlen, "no pre-tokenizer: not a byte-level BPE tokenizer");
		return -1;
	}
	if (!strcmp(type, "ByteLevel")) {
		*pat = pat_hf_bytelevel;
		return hf_bytelevel(pt, 1, aps, err, errlen);
	}
	list = json_object_get(pt, "pretokenizers");
	if (strcmp(type, "Sequence") || !json_is_array(list) || json_array_size(list) != 2) {
		seterr(err, errlen, "pre-tokenizer '%s' is not supported (ByteLevel, or Split then"
		       " ByteLevel)", type);
		return -1;
	}
	split = json_array_get(list, 0);
	bl = json_array_get(list, 1);
	p = json_object_get(split, "pattern");
	if (!jstr(split, "type") || strcmp(jstr(split, "type"), "Split") || !jstr(bl, "type") ||
	    strcmp(jstr(bl, "type"), "ByteLevel") || !jstr(p, "Regex") || !jstr(split, "behavior") ||
	    strcmp(jstr(split, "behavior"), "Isolated") || jbool(split, "invert", 0) != 0) {
		seterr(err, errlen, "pre-tokenizer sequence is not supported (a Split by a Regex,"
		       " Isolated, then ByteLevel)");
		return -1;
	}
	*pat = jstr(p, "Regex");
	return hf_bytelevel(bl, 0, aps, err, errlen);
}

static int hf_token_id(cm_tok *t, const char *s, size_t n, cm_buf *tmp, uint32_t *id)
{
	cm_buf_reset(tmp);
	if (cm_tok_bl_decode(s, n, tmp) < 0)
		return -1;
	*id = map_find(t, tmp->p, tmp->len);
	return *id == NONE ? -1 : 0;
}

/* Whether a token's bytes are two vocabulary tokens end to end: what a merge would make it of. */
static int splits(const cm_tok *t, uint32_t id)
{
	const char *p = tok_ptr(t, id);
	uint32_t i, n = t->len[id];

	for (i = 1; i < n; i++)
		if (map_find(t, p, i) != NONE && map_find(t, p + i, n - i) != NONE)
			return 1;
	return 0;
}

/* A merges list cut short leaves vocabulary tokens no merge makes, though a merge of two
 * tokens could. A token with no such split (<|endoftext|> kept in the vocabulary, as GPT-2's
 * files saved by Hugging Face have it) is a token of its own, not a sign of missing merges;
 * so are a few hand-added ones. */
#define UNMADE_MAX 16
static int unmade(const cm_tok *t, const unsigned char *made, char *err, size_t errlen)
{
	uint32_t id, first = NONE;
	size_t n = 0, k;

	for (id = 0; id < t->ntok; id++) {
		if (t->len[id] == NONE || t->len[id] < 2 || (made && made[id]))
			continue;
		for (k = 0; k < t->nsp && t->sp[k].id != id; k++)
			;
		if (k < t->nsp || !splits(t, id))
			continue;
		if (!n++)
			first = id;
	}
	if (n > UNMADE_MAX) {
		seterr(err, errlen, "%zu tokens of the vocabulary (the first: id %u) are made by no merge:"
		       " the merges cut short?", n, first);
		return -1;
	}
	return 0;
}

static cm_tok *load_hf(const char *data, size_t n, const char *pattern, char *err, size_t errlen)
{
	json_error_t je;
	/* a key given twice is an error, not the last one silently winning (as in Python) */
	json_t *root = json_loadb(data, n, JSON_REJECT_DUPLICATES, &je), *model, *vocab, *merges;
	json_t *added, *v;
	const char *pat = NULL, *type, *key;
	cm_buf tmp = CM_BUF_INIT, cat = CM_BUF_INIT;
	cm_tok *t = NULL;
	unsigned char *made = NULL;	/* ids a merge makes */
	int aps = 0, ign;
	size_t i;
	char e[200];

	if (!root) {
		seterr(err, errlen, "not valid JSON: line %d: %s", je.line, je.text);
		return NULL;
	}
	model = json_object_get(root, "model");
	type = model ? jstr(model, "type") : NULL;
	vocab = model ? json_object_get(model, "vocab") : NULL;
	merges = model ? json_object_get(model, "merges") : NULL;
	if ((type && strcmp(type, "BPE")) || !json_is_object(vocab) || !json_is_array(merges)) {
		seterr(err, errlen, "not a BPE model (model.type, model.vocab, model.merges)");
		goto out;
	}
	if ((v = json_object_get(root, "normalizer")) && !json_is_null(v)) {
		seterr(err, errlen, "normalizers are not supported");
		goto out;
	}
	if (jbool(model, "byte_fallback", 0) != 0 ||
	    (jstr(model, "continuing_subword_prefix") && *jstr(model, "continuing_subword_prefix")) ||
	    (jstr(model, "end_of_word_suffix") && *jstr(model, "end_of_word_suffix"))) {
		seterr(err, errlen, "only byte-level BPE is supported (byte_fallback, subword"
		       " prefixes or suffixes are set)");
		goto out;
	}
	if ((ign = jbool(model, "ignore_merges", 0)) < 0) {
		seterr(err, errlen, "model.ignore_merges is not a boolean");
		goto out;
	}
	if (hf_pretok(json_object_get(root, "pre_tokenizer"), &pat, &aps, err, errlen) < 0)
		goto out;
	if (!(t = cm_tok_create(pattern ? cm_tok_pattern_arg(pattern) : pat, err, errlen)))
		goto out;
	t->add_prefix_space = aps;
	t->ignore_merges = ign;
	json_object_foreach(vocab, key, v) {
		json_int_t id = json_is_integer(v) ? json_integer_value(v) : -1;

		cm_buf_reset(&tmp);
		if (id < 0 || id >= CM_TOK_MAX_VOCAB) {
			seterr(err, errlen, "vocabulary entry '%.40s' has no valid id", key);
			goto fail;
		}
		if (cm_tok_bl_decode(key, strlen(key), &tmp) < 0) {
			seterr(err, errlen, "vocabulary entry '%.40s' is not byte-level", key);
			goto fail;
		}
		if (cm_tok_add_token(t, (uint32_t)id, tmp.p, tmp.len, e, sizeof e) < 0) {
			seterr(err, errlen, "vocabulary: %s", e);
			goto fail;
		}
	}
	for (i = 0; i < json_array_size(merges); i++) {
		json_t *m = json_array_get(merges, i);
		const char *a = NULL, *b = NULL, *sp;
		size_t alen = 0, blen = 0;
		uint32_t ia, ib, id;

		if (json_is_string(m) && (sp = strchr(json_string_value(m), ' '))) {
			a = json_string_value(m);
			alen = (size_t)(sp - a);
			b = sp + 1;
			blen = strlen(b);
		} else if (json_is_array(m) && json_array_size(m) == 2 &&
			   json_is_string(json_array_get(m, 0)) && json_is_string(json_array_get(m, 1))) {
			a = json_string_value(json_array_get(m, 0));
			b = json_string_value(json_array_get(m, 1));
			alen = strlen(a);
			blen = strlen(b);
		}
		if (!a || hf_token_id(t, a, alen, &tmp, &ia) < 0 || hf_token_id(t, b, blen, &tmp, &ib) < 0) {
			seterr(err, errlen, "merge %zu: not two tokens of the vocabulary", i);
			goto fail;
		}
		cm_buf_reset(&cat);
		cm_buf_add(&cat, tok_ptr(t, ia), t->len[ia]);
		cm_buf_add(&cat, tok_ptr(t, ib), t->len[ib]);
		if ((id = map_find(t, cat.p, cat.len)) == NONE || i >= NONE) {
			seterr(err, errlen, "merge %zu: the merged token is not in the vocabulary", i);
			goto fail;
		}
		if (cm_tok_add_merge(t, ia, ib, (uint32_t)i, id, e, sizeof e) < 0) {
			seterr(err, errlen, "merge %zu: %s", i, e);
			goto fail;
		}
		if (!made)
			made = cm_xcalloc(t->ntok, 1);
		made[id] = 1;
	}
	added = json_object_get(root, "added_tokens");
	for (i = 0; json_is_array(added) && i < json_array_size(added); i++) {
		json_t *a = json_array_get(added, i), *idv = json_object_get(a, "id");
		const char *content = jstr(a, "content");
		json_int_t id = json_is_integer(idv) ? json_integer_value(idv) : -1;
		uint32_t other;

		if (!content || id < 0 || id >= CM_TOK_MAX_VOCAB) {
			seterr(err, errlen, "added token %zu: no content or id", i);
			goto fail;
		}
		/* Hugging Face gives an added token that is a vocabulary entry the entry's id */
		if (!hf_token_id(t, content, strlen(content), &tmp, &other) && other != (uint32_t)id) {
			seterr(err, errlen, "added token %zu: '%.40s' has the id %u, the vocabulary gives"
			       " it %u", i, content, (uint32_t)id, other);
			goto fail;
		}
		if (cm_tok_add_special(t, content, (uint32_t)id, e, sizeof e) < 0) {
			seterr(err, errlen, "added token %zu: %s", i, e);
			goto fail;
		}
	}
	if (!ign && unmade(t, made, err, errlen) < 0)
		goto fail;
	if (cm_tok_finish(t, err, errlen) < 0)
		goto fail;
	goto out;
fail:
	cm_tok_free(t);
	t = NULL;
out:
	free(made);
	cm_buf_free(&tmp);
	cm_buf_free(&cat);
	json_decref(root);
	return t;
}

cm_tok *cm_tok_parse(const char *name, const char *data, size_t n, const char *pattern, char *err,
		     size_t errlen)
{
	size_t i = 0;

	while (i < n && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
		i++;
	if (i < n && data[i] == '{')
		return load_hf(data, n, pattern, err, errlen);
	return load_tiktoken(name, data, n, pattern, err, errlen);
}

cm_tok *cm_tok_load(const char *path, const char *pattern, char *err, size_t errlen)
{
	cm_buf data = CM_BUF_INIT;
	cm_tok *t;

	if (cm_input_read_all(path, &data, CM_TOK_FILE_MAX) < 0) {
		seterr(err, errlen, "cannot read it");
		cm_buf_free(&data);
		return NULL;
	}
	t = cm_tok_parse(path, data.p ? data.p : "", data.len, pattern, err, errlen);
	cm_buf_free(&data);
	return t;
}

static json_t *bl_json(const cm_tok *t, uint32_t id, cm_buf *tmp)
{
	cm_buf_reset(tmp);
	cm_tok_bl_encode(tok_ptr(t, id), t->len[id], tmp);
	return json_stringn(tmp->p, tmp->len);
}

struct merge_json {
	const cm_tok *t;
	json_t *merges;
	cm_buf *tmp;
};

static void add_merge_json(uint32_t a, uint32_t b, uint32_t id, void *arg)
{
	struct merge_json *mj = arg;
	json_t *m = json_array();

	(void)id;
	json_array_append_new(m, bl_json(mj->t, a, mj->tmp));
	json_array_append_new(m, bl_json(mj->t, b, mj->tmp));
	json_array_append_new(mj->merges, m);
}

int cm_tok_save_json(const cm_tok *t, const char *path, char *err, size_t errlen)
{
	json_t *root = json_object(), *added = json_array(), *model = json_object();
	json_t *vocab = json_object(), *merges = json_array(), *seq = json_array(), *pt, *bl;
	cm_buf tmp = CM_BUF_INIT;
	struct merge_json ma = { t, merges, &tmp };
	size_t k;
	uint32_t id;
	int rc = 0;

	json_object_set_new(root, "version", json_string("1.0"));
	json_object_set_new(root, "truncation", json_null());
	json_object_set_new(root, "padding", json_null());
	for (k = 0; k < t->nsp; k++) {
		json_t *a = json_object();

		json_object_set_new(a, "id", json_integer(t->sp[k].id));
		json_object_set_new(a, "content", json_string(t->sp[k].text));
		json_object_set_new(a, "single_word", json_false());
		json_object_set_new(a, "lstrip", json_false());
		json_object_set_new(a, "rstrip", json_false());
		json_object_set_new(a, "normalized", json_false());
		json_object_set_new(a, "special", json_true());
		json_array_append_new(added, a);
	}
	json_object_set_new(root, "added_tokens", added);
	json_object_set_new(root, "normalizer", json_null());
	pt = json_object();
	json_object_set_new(pt, "type", json_string("Split"));
	json_object_set_new(pt, "pattern", json_pack("{s:s}", "Regex", t->pattern));
	json_object_set_new(pt, "behavior", json_string("Isolated"));
	json_object_set_new(pt, "invert", json_false());
	json_array_append_new(seq, pt);
	bl = json_pack("{s:s,s:b,s:b,s:b}", "type", "ByteLevel", "add_prefix_space",
		       t->add_prefix_space, "trim_offsets", 1, "use_regex", 0);
	json_array_append_new(seq, bl);
	json_object_set_new(root, "pre_tokenizer", json_pack("{s:s,s:o}", "type", "Sequence",
							     "pretokenizers", seq));
	json_object_set_new(root, "post_processor", json_null());
	json_object_set_new(root, "decoder", json_pack("{s:s,s:b,s:b,s:b}", "type", "ByteLevel",
						       "add_prefix_space", 1, "trim_offsets", 1,
						       "use_regex", 1));
	json_object_set_new(model, "type", json_string("BPE"));
	json_object_set_new(model, "dropout", json_null());
	json_object_set_new(model, "unk_token", json_null());
	json_object_set_new(model, "continuing_subword_prefix", json_null());
	json_object_set_new(model, "end_of_word_suffix", json_null());
	json_object_set_new(model, "fuse_unk", json_false());
	json_object_set_new(model, "byte_fallback", json_false());
	json_object_set_new(model, "ignore_merges", json_boolean(t->ignore_merges));
	for (id = 0; id < t->ntok; id++) {
		if (t->len[id] == NONE)
			continue;
		cm_buf_reset(&tmp);
		cm_tok_bl_encode(tok_ptr(t, id), t->len[id], &tmp);
		json_object_set_new(vocab, tmp.p, json_integer(id));
	}
	/* special tokens are in the vocabulary too, at their ids: Hugging Face numbers an added
	 * token that is not from the vocabulary size on, whatever its id says */
	for (k = 0; k < t->nsp; k++) {
		if (known(t, t->sp[k].id))
			continue;
		cm_buf_reset(&tmp);
		cm_tok_bl_encode(t->sp[k].text, t->sp[k].len, &tmp);
		if (!json_object_get(vocab, tmp.p))
			json_object_set_new(vocab, tmp.p, json_integer(t->sp[k].id));
	}
	json_object_set_new(model, "vocab", vocab);
	for (k = 0; k < t->nml; k++)
		add_merge_json(t->mlist[k][0], t->mlist[k][1], t->mlist[k][3], &ma);
	if (t->from_ranks)
		cm_tok_rank_merges(t, add_merge_json, &ma);
	json_object_set_new(model, "merges", merges);
	json_object_set_new(root, "model", model);
	/* replaced whole (a temporary renamed into place), or written through to a device */
	{
		char *js = json_dumps(root, JSON_COMPACT);

		if (!js) {
			seterr(err, errlen, "cannot write '%s': out of memory", path);
			rc = -1;
		} else {
			rc = cm_afile_put(path, js, strlen(js), err, errlen);
		}
		free(js);
	}
	json_decref(root);
	cm_buf_free(&tmp);
	return rc;
}
