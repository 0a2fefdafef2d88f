/* sft.c - post-training examples (sft.h). */
#include "sft.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rand.h"

int lm_sft_enc_init(lm_sft_enc *e, const cm_tok *tok, char *err, size_t errlen)
{
	memset(e, 0, sizeof *e);
	e->tok = tok;
	e->eot = cm_tok_eot(tok);
	if (e->eot < 0) {
		snprintf(err, errlen, "the tokenizer has no end-of-text token to close a response");
		return -1;
	}
	e->start = cm_tok_special(tok, LM_CHAT_START);
	e->end = cm_tok_special(tok, LM_CHAT_END);
	e->ctx = cm_tok_ctx_new(tok);
	return 0;
}

void lm_sft_enc_free(lm_sft_enc *e)
{
	if (e->ctx)
		cm_tok_ctx_free(e->ctx);
	cm_ids_free(&e->ids);
	cm_ids_free(&e->tmp);
	free(e->mask);
	free(e->buf);
	memset(e, 0, sizeof *e);
}

/* mask[i] for ids [from, e->ids.n) */
static void mark(lm_sft_enc *e, size_t from, int train)
{
	if (e->ids.n > e->mask_cap) {
		e->mask_cap = e->ids.n * 2 + 64;
		e->mask = cm_xrealloc(e->mask, e->mask_cap);
	}
	for (size_t i = from; i < e->ids.n; i++)
		e->mask[i] = (uint8_t)train;
}

static void push(lm_sft_enc *e, uint32_t id, int train)
{
	cm_ids_push(&e->ids, id);
	mark(e, e->ids.n - 1, train);
}

/* a + b into e->buf */
static const char *cat(lm_sft_enc *e, const char *a, size_t na, const char *b, size_t nb)
{
	if (na + nb + 1 > e->buf_cap) {
		e->buf_cap = (na + nb) * 2 + 64;
		e->buf = cm_xrealloc(e->buf, e->buf_cap);
	}
	memcpy(e->buf, a, na);
	memcpy(e->buf + na, b, nb);
	e->buf[na + nb] = 0;
	return e->buf;
}

/* The ids of head + body, those of body (the ids past those of head alone) trained when
 * train_body. */
static void encode_split(lm_sft_enc *e, const char *head, size_t nh, const char *body, size_t nb,
			 int train_body)
{
	size_t at = e->ids.n;
	e->tmp.n = 0;
	cm_tok_encode(e->ctx, head, nh, 0, &e->tmp);
	size_t nhead = e->tmp.n;
	const char *s = cat(e, head, nh, body, nb);
	cm_tok_encode(e->ctx, s, nh + nb, 0, &e->ids);
	mark(e, at, 0);
	/* as TRL: the ids after as many as the head alone has (the same ids unless a merge
	 * crosses the boundary) */
	if (train_body && at + nhead < e->ids.n)
		mark(e, at + nhead, 1);
}

typedef lm_chat_msg turn;

/* need: an assistant message to train on */
static int encode_turns(lm_sft_enc *e, const turn *t, size_t nt, int need, char *err,
			size_t errlen)
{
	if (e->start < 0 || e->end < 0) {
		snprintf(err, errlen, "the chat template's token '%s' is not in the tokenizer "
			 "(lm-train --chat-tokens adds it)",
			 e->start < 0 ? LM_CHAT_START : LM_CHAT_END);
		return -2;
	}
	int assistant = 0;
	for (size_t i = 0; i < nt; i++) {
		const char *r = t[i].role;
		if (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant")) {
			snprintf(err, errlen, "unknown role '%.40s' (system, user or assistant)", r);
			return -1;
		}
		if (!strcmp(r, "assistant") && t[i].n > 0)
			assistant = 1;
	}
	if (need && !assistant) {
		snprintf(err, errlen, "no assistant message with content to train on");
		return -1;
	}
	for (size_t i = 0; i < nt; i++) {
		int a = !strcmp(t[i].role, "assistant");
		char head[16];
		int nh = snprintf(head, sizeof head, "%s\n", t[i].role);
		push(e, (uint32_t)e->start, 0);
		encode_split(e, head, (size_t)nh, t[i].text, t[i].n, a);
		push(e, (uint32_t)e->end, a);
		size_t at = e->ids.n;
		cm_tok_encode(e->ctx, "\n", 1, 0, &e->ids);
		mark(e, at, 0);
	}
	return 0;
}

long lm_hh_turns(const char *s, size_t n, lm_chat_msg *t, size_t max)
{
	static const char H[] = "\n\nHuman:", A[] = "\n\nAssistant:";
	size_t nt = 0;
	const char *end = s + n;
	const char *p = s;
	while (p < end) {
		const char *h = memmem(p, (size_t)(end - p), H, sizeof H - 1);
		const char *a = memmem(p, (size_t)(end - p), A, sizeof A - 1);
		const char *m = h && (!a || h < a) ? h : a;
		if (!m)
			break;
		if (nt == 0 && m != s)
			return -1;	/* text before the first turn */
		if (nt > 0)
			t[nt - 1].n = (size_t)(m - t[nt - 1].text);
		if (nt == max)
			return -1;
		size_t ml = m == h ? sizeof H - 1 : sizeof A - 1;
		t[nt].role = m == h ? "user" : "assistant";
		t[nt].text = m + ml;
		if (t[nt].text < end && *t[nt].text == ' ')
			t[nt].text++;
		t[nt].n = (size_t)(end - t[nt].text);
		nt++;
		p = m + ml;
	}
	return nt ? (long)nt : -1;
}

enum { MAX_TURNS = 256 };

int lm_sft_encode(lm_sft_enc *e, const char *rec, size_t n, char *err, size_t errlen)
{
	e->ids.n = 0;
	json_t *j = lm_jsonl_object(rec, n, err, errlen);
	if (!j)
		return -1;
	int rc = 0;
	json_t *p = json_object_get(j, "prompt"), *r = json_object_get(j, "response");
	json_t *msgs = json_object_get(j, "messages");
	json_t *hh = json_object_get(j, "chosen");
	if (!hh)
		hh = json_object_get(j, "text");
	turn t[MAX_TURNS];
	if (p || r) {
		if (!json_is_string(p) || !json_is_string(r)) {
			snprintf(err, errlen, "\"prompt\" and \"response\" must both be strings");
			rc = -1;
		} else if (json_string_length(r) == 0) {
			snprintf(err, errlen, "an empty response");
			rc = -1;
		} else {
			encode_split(e, json_string_value(p), json_string_length(p),
				     json_string_value(r), json_string_length(r), 1);
			push(e, (uint32_t)e->eot, 1);
		}
	} else if (msgs) {
		size_t nt = json_is_array(msgs) ? json_array_size(msgs) : 0;
		if (nt == 0 || nt > MAX_TURNS) {
			snprintf(err, errlen, "\"messages\" must be an array of 1 to %d messages",
				 MAX_TURNS);
			rc = -1;
		}
		for (size_t i = 0; rc == 0 && i < nt; i++) {
			json_t *m = json_array_get(msgs, i);
			json_t *ro = json_object_get(m, "role"), *c = json_object_get(m, "content");
			if (!json_is_string(ro) || !json_is_string(c)) {
				snprintf(err, errlen, "message %zu: \"role\" and \"content\" must be "
					 "strings", i + 1);
				rc = -1;
				break;
			}
			t[i] = (turn){ json_string_value(ro), json_string_value(c),
				       json_string_length(c) };
		}
		if (rc == 0)
			rc = encode_turns(e, t, nt, 1, err, errlen);
	} else if (json_is_string(hh)) {
		long nt = lm_hh_turns(json_string_value(hh), json_string_length(hh), t, MAX_TURNS);
		if (nt < 0) {
			snprintf(err, errlen, "not an HH-RLHF transcript (\"\\n\\nHuman: ...\\n\\n"
				 "Assistant: ...\", at most %d turns)", MAX_TURNS);
			rc = -1;
		} else {
			rc = encode_turns(e, t, (size_t)nt, 1, err, errlen);
		}
	} else {
		snprintf(err, errlen, "neither \"prompt\" and \"response\", \"messages\" nor an "
			 "HH-RLHF transcript (\"chosen\" or \"text\")");
		rc = -1;
	}
	json_decref(j);
	return rc;
}

int lm_chat_encode(lm_sft_enc *e, const lm_chat_msg *m, size_t n, int gen, char *err,
		   size_t errlen)
{
	e->ids.n = 0;
	int rc = encode_turns(e, m, n, 0, err, errlen);
	if (rc == 0 && gen) {	/* the generation prompt: <|im_start|>assistant\n */
		push(e, (uint32_t)e->start, 0);
		size_t at = e->ids.n;
		cm_tok_encode(e->ctx, "assistant\n", 10, 0, &e->ids);
		mark(e, at, 0);
	}
	return rc;
}

/* ---- the chat template's tokens ---- */

cm_tok *lm_chat_tokenizer(const char *path, const cm_tok *tok, int *added, char *err,
			  size_t errlen)
{
	static const char *const want[2] = { LM_CHAT_START, LM_CHAT_END };
	*added = 0;
	for (int i = 0; i < 2; i++)
		*added += cm_tok_special(tok, want[i]) < 0;
	if (!*added)
		return NULL;
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	json_t *at = j ? json_object_get(j, "added_tokens") : NULL;
	if (!j || (at && !json_is_array(at))) {
		snprintf(err, errlen, "%s: %s", path, j ? "\"added_tokens\" is not an array" : je.text);
		json_decref(j);
		*added = -1;
		return NULL;
	}
	if (!at) {
		at = json_array();
		json_object_set_new(j, "added_tokens", at);
	}
	uint32_t id = cm_tok_vocab_size(tok);
	for (int i = 0; i < 2; i++) {
		if (cm_tok_special(tok, want[i]) >= 0)
			continue;
		json_array_append_new(at, json_pack("{s:i,s:s,s:b,s:b,s:b,s:b,s:b}", "id", (int)id++,
						    "content", want[i], "single_word", 0, "lstrip", 0,
						    "rstrip", 0, "normalized", 0, "special", 1));
	}
	char *d = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	cm_tok *t = d ? cm_tok_parse(path, d, strlen(d), NULL, err, errlen) : NULL;
	free(d);
	if (!t)
		*added = -1;
	return t;
}

/* ---- a file of examples ---- */

const char *lm_jsonl_line(const char **s, const char *end, size_t *len)
{
	while (*s && *s < end) {
		const char *line = *s, *nl = memchr(line, '\n', (size_t)(end - line));
		*len = nl ? (size_t)(nl - line) : (size_t)(end - line);
		*s = nl ? nl + 1 : end;
		if (*len > 1 || (*len == 1 && line[0] != '\r'))
			return line;
	}
	return NULL;
}

uint32_t lm_epoch_pick(uint32_t *perm, size_t n, uint64_t seed, uint64_t g, int64_t *epoch)
{
	int64_t e = (int64_t)(g / n);
	if (e != *epoch) {
		for (size_t r = 0; r < n; r++)
			perm[r] = (uint32_t)r;
		uint64_t s = seed, t = cm_splitmix64(&s);
		lm_sft_shuffle(perm, n, t + (uint64_t)e * 0x9e3779b97f4a7c15ull);
		*epoch = e;
	}
	return perm[g % n];
}

void lm_sft_shuffle(uint32_t *a, size_t n, uint64_t seed)
{
	uint64_t s = seed;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(cm_splitmix64(&s) % i);
		uint32_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

int lm_jsonl_map(const char *path, void **map, size_t *size, char *err, size_t errlen)
{
	*map = NULL;
	*size = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {	/* records are read again at every step */
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	*size = (size_t)st.st_size;
	if (*size > 0) {
		*map = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (*map == MAP_FAILED) {
			*map = NULL;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	close(fd);
	const unsigned char *u = *map;
	if (*size >= 4 && ((u[0] == 0x1f && u[1] == 0x8b) ||
			   (u[0] == 0x28 && u[1] == 0xb5 && u[2] == 0x2f && u[3] == 0xfd))) {
		snprintf(err, errlen, "%s: compressed: decompress it first (its records are read "
			 "again at every step)", path);
		return -1;
	}
	return 0;
}

json_t *lm_jsonl_object(const char *rec, size_t n, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(rec, n, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		snprintf(err, errlen, "not a JSON object%s%s", j ? "" : ": ", j ? "" : je.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

void lm_jsonl_skip(uint64_t record, const char *why, uint64_t *skipped, char *first,
		   size_t firstlen)
{
	if (!(*skipped)++)
		snprintf(first, firstlen, "record %llu: %s", (unsigned long long)record, why);
}

int lm_jsonl_split(const char *path, const char *noun, size_t n, uint64_t records,
		   uint64_t skipped, const char *first_skip, uint64_t seed, double val_fraction,
		   uint32_t **train, size_t *ntrain, uint32_t **val, size_t *nval, char *err,
		   size_t errlen)
{
	if (n == 0) {
		snprintf(err, errlen, "%s: no usable %s in %llu records%s%s", path, noun,
			 (unsigned long long)records, skipped ? "; " : "", first_skip);
		return -1;
	}
	if (lm_split(n, seed, val_fraction, train, ntrain, val, nval) < 0) {
		snprintf(err, errlen, "%s: the validation split takes all %zu usable %ss", path, n,
			 noun);
		return -1;
	}
	return 0;
}

int lm_split(size_t n, uint64_t seed, double val_fraction, uint32_t **train, size_t *ntrain,
	     uint32_t **val, size_t *nval)
{
	size_t nv = val_fraction > 0 ? (size_t)(val_fraction * (double)n + 0.5) : 0;
	if (val_fraction > 0 && nv == 0)
		nv = 1;
	if (nv >= n)
		return -1;
	uint32_t *all = cm_xmalloc(n * sizeof *all);
	for (size_t i = 0; i < n; i++)
		all[i] = (uint32_t)i;
	if (val_fraction >= 0)
		lm_sft_shuffle(all, n, seed);
	*nval = nv;
	*ntrain = n - nv;
	*val = cm_xmalloc((nv + 1) * sizeof **val);
	memcpy(*val, all, nv * sizeof *all);
	*train = cm_xmalloc((n - nv) * sizeof **train);
	memcpy(*train, all + nv, (n - nv) * sizeof *all);
	free(all);
	return 0;
}

/* Pack examples ex[0..n) in order into rows of T positions (an example of k ids takes k - 1):
 * the start of each row into *row (rows + 1 entries). */
static uint64_t pack(const lm_sft_data *d, const uint32_t *ex, size_t n, uint32_t **row)
{
	uint32_t *r = cm_xmalloc((n + 1) * sizeof *r);
	uint64_t rows = 0;
	int used = d->T;
	for (size_t i = 0; i < n; i++) {
		int k = (int)d->ntok[ex[i]] - 1;
		if (used + k > d->T) {
			r[rows++] = (uint32_t)i;
			used = 0;
		}
		used += k;
	}
	r[rows] = (uint32_t)n;
	*row = r;
	return rows;
}

int lm_sft_open(lm_sft_data *d, const char *path, const cm_tok *tok, int T, uint64_t seed,
		double val_fraction, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	d->T = T;
	d->seed = seed;
	d->perm_epoch = -1;
	snprintf(d->path, sizeof d->path, "%s", path);
	if (lm_jsonl_map(path, &d->map, &d->size, err, errlen) < 0)
		return -1;
	if (lm_sft_enc_init(&d->enc, tok, err, errlen) < 0)
		return -1;
	size_t cap = 0;
	const char *s = d->map, *end = s ? s + d->size : NULL;
	char why[400];
	const char *line;
	size_t len;
	while ((line = lm_jsonl_line(&s, end, &len))) {
		d->records++;
		int rc = len > UINT32_MAX ? -1 : lm_sft_encode(&d->enc, line, len, why, sizeof why);
		if (len > UINT32_MAX)
			snprintf(why, sizeof why, "a record over 4 GiB");
		if (rc == -2) {
			snprintf(err, errlen, "%s: record %llu: %s", path,
				 (unsigned long long)d->records, why);
			return -1;
		}
		size_t n = d->enc.ids.n;
		int cut = rc == 0 && n > (size_t)T + 1;
		if (cut)
			n = (size_t)T + 1;
		int targets = 0;
		for (size_t i = 1; rc == 0 && i < n; i++)
			targets += d->enc.mask[i];
		if (rc == 0 && targets == 0) {
			snprintf(why, sizeof why, "no response token within the context of %d "
				 "(the prompt is too long)", T);
			rc = -1;
		}
		if (rc < 0) {
			lm_jsonl_skip(d->records, why, &d->skipped, d->first_skip,
				      sizeof d->first_skip);
			continue;
		}
		d->truncated += (uint64_t)cut;
		if (d->n == cap) {
			cap = cap ? cap * 2 : 1024;
			d->off = cm_xrealloc(d->off, cap * sizeof *d->off);
			d->len = cm_xrealloc(d->len, cap * sizeof *d->len);
			d->ntok = cm_xrealloc(d->ntok, cap * sizeof *d->ntok);
		}
		d->off[d->n] = (uint64_t)(line - (const char *)d->map);
		d->len[d->n] = (uint32_t)len;
		d->ntok[d->n] = (uint32_t)n;
		d->n++;
	}
	if (lm_jsonl_split(path, "example", d->n, d->records, d->skipped, d->first_skip,
			   seed ^ 0x7366742d73706c74ull, val_fraction, &d->train, &d->ntrain, &d->val,
			   &d->nval, err, errlen) < 0)
		return -1;
	d->rows = pack(d, d->train, d->ntrain, &d->row);
	d->vrows = pack(d, d->val, d->nval, &d->vrow);
	d->perm = cm_xmalloc(d->rows * sizeof *d->perm);
	return 0;
}

void lm_sft_close(lm_sft_data *d)
{
	if (d->map)
		munmap(d->map, d->size);
	lm_sft_enc_free(&d->enc);
	free(d->off);
	free(d->len);
	free(d->ntok);
	free(d->train);
	free(d->val);
	free(d->row);
	free(d->vrow);
	free(d->perm);
	memset(d, 0, sizeof *d);
}

/* Examples ex[a..b) into one row of T positions at x, y, pos, doc; returns the trained
 * targets. */
static int64_t fill_row(lm_sft_data *d, const uint32_t *ex, uint32_t a, uint32_t b, int32_t *x,
			int32_t *y, int32_t *pos, int32_t *doc)
{
	int T = d->T, at = 0;
	int64_t targets = 0;
	char why[400];
	for (uint32_t i = a; i < b; i++) {
		uint32_t e = ex[i];
		int rc = lm_sft_encode(&d->enc, (const char *)d->map + d->off[e], d->len[e], why,
				       sizeof why);
		int k = (int)d->ntok[e] - 1;
		if (rc < 0 || d->enc.ids.n < (size_t)k + 1 || at + k > T)
			cm_die("%s: example %u changed under the run", d->path, e);
		const uint32_t *id = d->enc.ids.v;
		const uint8_t *mk = d->enc.mask;
		for (int j = 0; j < k; j++) {
			x[at + j] = (int32_t)id[j];
			y[at + j] = mk[j + 1] ? (int32_t)id[j + 1] : -1;
			targets += mk[j + 1];
			pos[at + j] = j;
			doc[at + j] = at;
		}
		at += k;
	}
	for (int j = at; j < T; j++) {	/* padding: a document of its own, no loss */
		x[j] = (int32_t)d->enc.eot;
		y[j] = -1;
		pos[j] = j - at;
		doc[j] = at;
	}
	return targets;
}

int64_t lm_sft_rows(lm_sft_data *d, uint64_t k, int first, int stride, int B, int32_t *x,
		    int32_t *y, int32_t *pos, int32_t *doc)
{
	int64_t targets = 0;
	int T = d->T;
	for (int i = 0; i < B; i++) {
		uint64_t g = (k * (uint64_t)B + (uint64_t)i) * (uint64_t)stride + (uint64_t)first;
		uint32_t r = lm_epoch_pick(d->perm, d->rows, d->seed ^ 0x6570, g, &d->perm_epoch);
		size_t o = (size_t)i * T;
		targets += fill_row(d, d->train, d->row[r], d->row[r + 1], x + o, y + o, pos + o,
				    doc + o);
	}
	return targets;
}

int64_t lm_sft_val_row(lm_sft_data *d, uint64_t r, int32_t *x, int32_t *y, int32_t *pos,
		       int32_t *doc)
{
	return fill_row(d, d->val, d->vrow[r], d->vrow[r + 1], x, y, pos, doc);
}
