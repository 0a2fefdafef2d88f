/* record.c - writing a record back: the original line with fields replaced, added or removed.
 *
 * The line is rebuilt field by field: kept fields are copied with the bytes around them,
 * replaced values are swapped in, and added members are appended with the commas the result
 * needs, whatever was removed. Only the top level and the members of "metadata" are edited.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonw.h"
#include "record.h"

void cm_rw_init(cm_rw *w)
{
	memset(w, 0, sizeof(*w));
}

void cm_rw_free(cm_rw *w)
{
	free(w->edits);
	cm_buf_free(&w->text);
	cm_buf_free(&w->line);
}

void cm_rw_begin(cm_rw *w, const cm_jrec *rec)
{
	w->rec = rec;
	w->n = 0;
	cm_buf_reset(&w->text);
}

static void add_edit(cm_rw *w, enum cm_redit_kind kind, size_t field, size_t text)
{
	size_t i;

	/* a later edit of the same field or key replaces an earlier one */
	if (kind == CM_RE_SET || kind == CM_RE_DEL || kind == CM_RE_META_SET)
		for (i = 0; i < w->n; i++)
			if ((w->edits[i].kind == CM_RE_SET || w->edits[i].kind == CM_RE_DEL) ==
			    (kind == CM_RE_SET || kind == CM_RE_DEL) &&
			    w->edits[i].kind != CM_RE_ADD && w->edits[i].kind != CM_RE_META_ADD &&
			    w->edits[i].field == field) {
				w->edits[i] = (cm_redit){ kind, field, text, w->text.len - text };
				return;
			}
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->edits = cm_xrealloc(w->edits, w->cap * sizeof(*w->edits));
	}
	w->edits[w->n++] = (cm_redit){ kind, field, text, w->text.len - text };
}

/* "key":json into the text buffer; returns where it starts. */
static size_t member(cm_rw *w, const char *key, const char *json, size_t n)
{
	size_t start = w->text.len;

	cm_json_escape(&w->text, key, strlen(key));
	cm_buf_addc(&w->text, ':');
	cm_buf_add(&w->text, json, n);
	return start;
}

/* Drop an earlier ADD of the same key, so that setting a key twice keeps the last value. */
static void drop_added(cm_rw *w, enum cm_redit_kind kind, const char *key)
{
	cm_buf k = CM_BUF_INIT;
	size_t i;

	cm_json_escape(&k, key, strlen(key));
	cm_buf_addc(&k, ':');
	for (i = 0; i < w->n; i++)
		if (w->edits[i].kind == kind && w->edits[i].len >= k.len &&
		    memcmp(w->text.p + w->edits[i].text, k.p, k.len) == 0) {
			memmove(w->edits + i, w->edits + i + 1, (w->n - i - 1) * sizeof(*w->edits));
			w->n--;
			break;
		}
	cm_buf_free(&k);
}

/* Replace the value of field f (index i of its object), or add "key":json to that object. */
static void set_member(cm_rw *w, const cm_jfield *f, size_t i, enum cm_redit_kind set,
		       enum cm_redit_kind add, const char *key, const char *json, size_t n)
{
	size_t start;

	if (f) {
		start = w->text.len;
		cm_buf_add(&w->text, json, n);
		add_edit(w, set, i, start);
		return;
	}
	drop_added(w, add, key);
	start = member(w, key, json, n);
	add_edit(w, add, 0, start);
}

void cm_rw_set_raw(cm_rw *w, const char *key, const char *json, size_t n)
{
	const cm_jrec *r = w->rec;
	const cm_jfield *f = cm_jrec_get(r, key);

	set_member(w, f, f ? (size_t)(f - r->fields) : 0, CM_RE_SET, CM_RE_ADD, key, json, n);
}

void cm_rw_set_str(cm_rw *w, const char *key, const char *s, size_t n)
{
	cm_buf tmp = CM_BUF_INIT;

	cm_json_escape(&tmp, s, n);
	cm_rw_set_raw(w, key, tmp.p, tmp.len);
	cm_buf_free(&tmp);
}

void cm_rw_del(cm_rw *w, const char *key)
{
	const cm_jrec *r = w->rec;
	const cm_jfield *f = cm_jrec_get(r, key);

	drop_added(w, CM_RE_ADD, key);
	if (f)
		add_edit(w, CM_RE_DEL, (size_t)(f - r->fields), w->text.len);
}

void cm_rw_meta_raw(cm_rw *w, const char *key, const char *json, size_t n)
{
	const cm_jrec *r = w->rec;
	const cm_jfield *f = r->meta_index >= 0 ? cm_jrec_meta(r, key) : NULL;

	set_member(w, f, f ? (size_t)(f - r->meta) : 0, CM_RE_META_SET, CM_RE_META_ADD, key, json, n);
}

static void meta_object(cm_rw *w, cm_buf *out);

static const cm_redit *find_edit(const cm_rw *w, int meta, size_t field)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		const cm_redit *e = &w->edits[i];

		if (e->field == field && (meta ? e->kind == CM_RE_META_SET :
					  (e->kind == CM_RE_SET || e->kind == CM_RE_DEL)))
			return e;
	}
	return NULL;
}

/* Append the members of an object: fields f[0..n) of the line (value spans edited by
 * edits of the given kind), then the added members; from the first key to the end of the
 * last value. Returns how many members were written. */
static size_t members(cm_rw *w, const cm_jfield *f, size_t n, int meta, cm_buf *out)
{
	const cm_jrec *r = w->rec;
	const char *line = r->line;
	size_t i, written = 0;
	enum cm_redit_kind add = meta ? CM_RE_META_ADD : CM_RE_ADD;
	ptrdiff_t prev = -1;	/* index of the last field written */

	for (i = 0; i < n; i++) {
		const cm_redit *e = find_edit(w, meta, i);

		if (e && e->kind == CM_RE_DEL)
			continue;
		if (written) {
			if (prev == (ptrdiff_t)i - 1)	/* original separator */
				cm_buf_add(out, line + f[i - 1].val_off + f[i - 1].val_len,
					   f[i].key_off - (f[i - 1].val_off + f[i - 1].val_len));
			else
				cm_buf_addc(out, ',');
		}
		cm_buf_add(out, line + f[i].key_off, f[i].val_off - f[i].key_off);
		if (e)
			cm_buf_add(out, w->text.p + e->text, e->len);
		else if (!meta && (int)i == r->meta_index)
			meta_object(w, out);
		else
			cm_buf_add(out, line + f[i].val_off, f[i].val_len);
		prev = (ptrdiff_t)i;
		written++;
	}
	for (i = 0; i < w->n; i++)
		if (w->edits[i].kind == add) {
			if (written++)
				cm_buf_addc(out, ',');
			cm_buf_add(out, w->text.p + w->edits[i].text, w->edits[i].len);
		}
	return written;
}

/* The metadata object with its edits: the bytes before its first member and after its last
 * stay as they were. */
static void meta_object(cm_rw *w, cm_buf *out)
{
	const cm_jrec *r = w->rec;
	const cm_jfield *m = &r->fields[r->meta_index];
	size_t head_end, tail_start;

	if (r->nmeta) {
		head_end = r->meta[0].key_off;
		tail_start = r->meta[r->nmeta - 1].val_off + r->meta[r->nmeta - 1].val_len;
	} else {
		head_end = tail_start = r->meta_close_off;
	}
	cm_buf_add(out, r->line + m->val_off, head_end - m->val_off);
	members(w, r->meta, r->nmeta, 1, out);
	cm_buf_add(out, r->line + tail_start, m->val_off + m->val_len - tail_start);
}

const cm_buf *cm_rw_finish(cm_rw *w)
{
	const cm_jrec *r = w->rec;
	size_t i, head_end, tail_start;
	int has_meta_adds = 0;

	/* metadata keys for a record without a metadata object: one new "metadata" member */
	for (i = 0; i < w->n; i++)
		has_meta_adds |= w->edits[i].kind == CM_RE_META_ADD;
	if (has_meta_adds && r->meta_index < 0) {
		cm_buf obj = CM_BUF_INIT;
		size_t k = 0;

		cm_buf_addc(&obj, '{');
		for (i = 0; i < w->n; i++)
			if (w->edits[i].kind == CM_RE_META_ADD) {
				if (k++)
					cm_buf_addc(&obj, ',');
				cm_buf_add(&obj, w->text.p + w->edits[i].text, w->edits[i].len);
			}
		cm_buf_addc(&obj, '}');
		for (i = 0; i < w->n;)
			if (w->edits[i].kind == CM_RE_META_ADD) {
				memmove(w->edits + i, w->edits + i + 1, (w->n - i - 1) * sizeof(*w->edits));
				w->n--;
			} else {
				i++;
			}
		/* "metadata" may exist but not be an object: it is replaced then */
		cm_rw_set_raw(w, "metadata", obj.p, obj.len);
		cm_buf_free(&obj);
	}

	cm_buf_reset(&w->line);
	cm_buf_grow(&w->line, r->len + w->text.len + 16);
	if (w->n == 0) {
		cm_buf_add(&w->line, r->line, r->len);
	} else {
		if (r->nfields) {
			head_end = r->fields[0].key_off;
			tail_start = r->fields[r->nfields - 1].val_off + r->fields[r->nfields - 1].val_len;
		} else {
			head_end = tail_start = r->close_off;
		}
		cm_buf_add(&w->line, r->line, head_end);
		members(w, r->fields, r->nfields, 0, &w->line);
		cm_buf_add(&w->line, r->line + tail_start, r->len - tail_start);
	}
	/* a CR from a CRLF file is dropped: output lines end with LF */
	while (w->line.len && (w->line.p[w->line.len - 1] == '\r' || w->line.p[w->line.len - 1] == ' ' ||
			       w->line.p[w->line.len - 1] == '\t'))
		w->line.len--;
	cm_buf_addc(&w->line, '\n');
	return &w->line;
}
