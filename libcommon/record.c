/* record.c - writing a record back: the original line with fields replaced, added or removed. */
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
	cm_buf_free(&w->meta_new);
	cm_buf_free(&w->line);
}

void cm_rw_begin(cm_rw *w, const cm_jrec *rec)
{
	w->rec = rec;
	w->n = 0;
	cm_buf_reset(&w->text);
	cm_buf_reset(&w->meta_new);
}

static void add_edit(cm_rw *w, size_t off, size_t end, size_t text, size_t len)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->edits = cm_xrealloc(w->edits, w->cap * sizeof(*w->edits));
	}
	w->edits[w->n] = (cm_redit){ off, end, text, len, (int)w->n };
	w->n++;
}

/* Replace the value of f, or insert "key":value before the brace at close_off. */
static void set_in(cm_rw *w, const cm_jfield *f, size_t nfields, size_t close_off,
		   const char *key, const char *json, size_t n)
{
	size_t start = w->text.len;

	if (f) {
		cm_buf_add(&w->text, json, n);
		add_edit(w, f->val_off, f->val_off + f->val_len, start, n);
		return;
	}
	if (nfields)
		cm_buf_addc(&w->text, ',');
	cm_json_escape(&w->text, key, strlen(key));
	cm_buf_addc(&w->text, ':');
	cm_buf_add(&w->text, json, n);
	add_edit(w, close_off, close_off, start, w->text.len - start);
}

/* A field added earlier in this edit: later adds must see it for their commas. */
static size_t added_top(const cm_rw *w)
{
	size_t i, k = 0;

	for (i = 0; i < w->n; i++)
		if (w->edits[i].off == w->rec->close_off && w->edits[i].end == w->edits[i].off)
			k++;
	return k;
}

void cm_rw_set_raw(cm_rw *w, const char *key, const char *json, size_t n)
{
	const cm_jrec *r = w->rec;

	set_in(w, cm_jrec_get(r, key), r->nfields + added_top(w), r->close_off, key, json, n);
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
	size_t i, off, end;

	if (!f)
		return;
	i = (size_t)(f - r->fields);
	if (i + 1 < r->nfields) {
		/* up to the next key: takes the comma after */
		off = f->key_off;
		end = r->fields[i + 1].key_off;
	} else if (i > 0) {
		/* the last field: take the comma before */
		off = r->fields[i - 1].val_off + r->fields[i - 1].val_len;
		end = f->val_off + f->val_len;
	} else {
		off = f->key_off;
		end = f->val_off + f->val_len;
	}
	add_edit(w, off, end, w->text.len, 0);
}

void cm_rw_meta_raw(cm_rw *w, const char *key, const char *json, size_t n)
{
	const cm_jrec *r = w->rec;

	if (r->meta_index >= 0) {
		size_t i, added = 0;

		for (i = 0; i < w->n; i++)
			if (w->edits[i].off == r->meta_close_off && w->edits[i].end == w->edits[i].off)
				added++;
		set_in(w, cm_jrec_meta(r, key), r->nmeta + added, r->meta_close_off, key, json, n);
		return;
	}
	/* No metadata object: collect keys, added as one field at finish. */
	if (w->meta_new.len)
		cm_buf_addc(&w->meta_new, ',');
	cm_json_escape(&w->meta_new, key, strlen(key));
	cm_buf_addc(&w->meta_new, ':');
	cm_buf_add(&w->meta_new, json, n);
}

static int cmp_edit(const void *a, const void *b)
{
	const cm_redit *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->order - y->order;
}

const cm_buf *cm_rw_finish(cm_rw *w)
{
	const cm_jrec *r = w->rec;
	size_t i, pos = 0;

	if (w->meta_new.len) {
		cm_buf tmp = CM_BUF_INIT;

		cm_buf_addc(&tmp, '{');
		cm_buf_add(&tmp, w->meta_new.p, w->meta_new.len);
		cm_buf_addc(&tmp, '}');
		/* "metadata" may exist but not be an object: replace it then */
		cm_rw_set_raw(w, "metadata", tmp.p, tmp.len);
		cm_buf_free(&tmp);
		cm_buf_reset(&w->meta_new);
	}
	if (w->n > 1)
		qsort(w->edits, w->n, sizeof(*w->edits), cmp_edit);
	cm_buf_reset(&w->line);
	cm_buf_grow(&w->line, r->len + w->text.len + 1);
	for (i = 0; i < w->n; i++) {
		const cm_redit *e = &w->edits[i];

		if (e->off < pos)
			cm_die("internal error: overlapping record edits");
		cm_buf_add(&w->line, r->line + pos, e->off - pos);
		cm_buf_add(&w->line, w->text.p + e->text, e->len);
		pos = e->end;
	}
	cm_buf_add(&w->line, r->line + pos, r->len - pos);
	/* a CR from a CRLF file is dropped: output lines end with LF */
	if (w->line.len && w->line.p[w->line.len - 1] == '\r')
		w->line.len--;
	cm_buf_addc(&w->line, '\n');
	return &w->line;
}
