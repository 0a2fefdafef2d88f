/* warc.c - reading WARC records from a decoded input stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "warc.h"
#include "warcread.h"

#define LOOKAHEAD 72	/* bytes read past a block: its closing line ends, the next "WARC/" */

static const char *const type_names[WARC_NTYPES] = {
	"other", "warcinfo", "response", "resource", "request", "metadata", "revisit",
	"conversion", "continuation",
};

const char *warc_type_name(enum warc_type t)
{
	return type_names[t < WARC_NTYPES ? t : WARC_OTHER];
}

warc_reader *warc_open(cm_input *in, uint64_t max_record)
{
	warc_reader *r = cm_xcalloc(1, sizeof(*r));

	r->in = in;
	r->max_record = max_record;
	r->first = 1;
	r->fmt = &warc_format_warc;
	/* a plain regular file's size is its decoded size: a length past it is known at once */
	r->end = cm_input_codec(in) == CM_CODEC_PLAIN && cm_input_size(in) >= 0 ?
		 (uint64_t)cm_input_size(in) : NO_END;
	return r;
}

void warc_close(warc_reader *r)
{
	free(r);
}

const struct warc_counts *warc_counts(const warc_reader *r)
{
	return &r->n;
}

cm_input *warc_input(const warc_reader *r)
{
	return r->in;
}

void warc_on_reopen(warc_reader *r, cm_input *(*fn)(void *), void *ctx)
{
	r->reopen = fn;
	r->reopen_ctx = ctx;
}

void warc_on_skip(warc_reader *r, void (*fn)(void *, uint64_t, const char *), void *ctx)
{
	r->on_skip = fn;
	r->skip_ctx = ctx;
}

void warc_skipped(warc_reader *r, uint64_t off, const char *what)
{
	if (r->on_skip)
		r->on_skip(r->skip_ctx, off, what);
}

int warc_str_eq(struct warc_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

void warc_skip_bytes(cm_input *in, uint64_t n)
{
	while (n > 0) {
		size_t avail = cm_input_avail(in);

		if (avail == 0 && (avail = cm_input_fill(in, 1)) == 0)
			return;
		if (avail > n)
			avail = (size_t)n;
		cm_input_skip(in, avail);
		n -= avail;
	}
}

uint64_t warc_skip_line(cm_input *in)
{
	uint64_t n = 0;

	for (;;) {
		size_t avail = cm_input_avail(in);
		const char *p = cm_input_data(in), *nl = memchr(p, '\n', avail);

		if (nl) {
			cm_input_skip(in, (size_t)(nl - p) + 1);
			return n + (uint64_t)(nl - p) + 1;
		}
		n += avail;
		cm_input_skip(in, avail);
		if (cm_input_fill(in, 1) == 0)
			return n;
	}
}

static int is_blank(char c)
{
	return c == '\r' || c == '\n' || c == ' ' || c == '\t';
}

/* A record start at p: "WARC/", a digit and a point (7 readable bytes). */
static int is_start(const char *p)
{
	return memcmp(p, "WARC/", 5) == 0 && p[5] >= '0' && p[5] <= '9' && p[6] == '.';
}

static int is_start_n(const char *p, size_t n)
{
	return n >= 7 && is_start(p);
}

const char *warc_find_start(const struct warc_format *f, const char *p, size_t n, size_t lim)
{
	size_t i = 0;

	while (i < n) {
		const char *nl;

		if (f->is_start(p + i, lim - i))
			return p + i;
		nl = memchr(p + i, '\n', n - i);
		if (!nl)
			break;
		i = (size_t)(nl - p) + 1;
	}
	return NULL;
}

/* What follows a block (q[0..n), at_end: the input ends at q[n]): blank lines, then the next
 * record or, at the end of the input, nothing after the two line ends that close a record.
 * END_CUT: the input ends before those line ends; END_BAD: something else follows. */
static int block_end(const char *q, size_t n, int at_end)
{
	size_t i, lf = 0;

	for (i = 0; i < n && is_blank(q[i]); i++)
		lf += q[i] == '\n';
	if (i == n)	/* blank to the end, or a long run of blank lines */
		return !at_end || lf >= 2 ? END_OK : END_CUT;
	/* "WARC/" cut short by the end of the input is the next record's business */
	return memcmp(q + i, "WARC/", n - i < 5 ? n - i : 5) == 0 ? END_OK : END_BAD;
}

const struct warc_format warc_format_warc = {
	is_start_n, block_end, 8, LOOKAHEAD, "Content-Length"
};

/* Offset of the next "WARC/" at a line start in the window, filling as needed; skips
 * everything before it. Returns 0 when found, -1 at the end of input, -2 when the input is
 * an ARC file (at its first line). */
static int find_record_start(warc_reader *r)
{
	cm_input *in = r->in;
	uint64_t garbage = 0, off = cm_input_member_offset(in);

	for (;;) {
		size_t avail = cm_input_fill(in, 5), i;
		char *p = cm_input_data(in);

		if (avail < 5) {
			/* end of input: whitespace is fine, the start of "WARC/" is a record cut
			 * short (unless it is one already reported), anything else is garbage */
			for (i = 0; i < avail && is_blank(p[i]); i++)
				;
			cm_input_skip(in, i);
			if (i < avail && memcmp(p + i, "WARC/", avail - i) == 0 && !r->quiet) {
				r->n.cut_headers++;
				r->n.cut++;
				warc_skipped(r, cm_input_member_offset(in), "record header cut short by the end of the input");
			} else {
				for (; i < avail; i++)
					garbage += !is_blank(p[i]);
			}
			cm_input_skip(in, avail);
			if (garbage && !r->quiet) {
				r->n.garbage_bytes += garbage;
				r->n.resyncs++;
				warc_skipped(r, off, "garbage at the end of the input");
			}
			r->quiet = 0;
			return -1;
		}
		if (memcmp(p, "WARC/", 5) == 0) {
			if (garbage && !r->quiet) {
				r->n.garbage_bytes += garbage;
				r->n.resyncs++;
				warc_skipped(r, off, "garbage between records skipped");
			}
			r->quiet = 0;
			return 0;
		}
		/* blank lines between records are normal; other bytes are garbage */
		if (p[0] == '\r' || p[0] == '\n') {
			cm_input_skip(in, 1);
			continue;
		}
		/* the first line of an ARC file: its version block, or a record's header line */
		if (r->first) {
			avail = cm_input_fill(in, ARC_LINE_MAX + 1);
			if (arc_file_start(cm_input_data(in), avail))
				return -2;
			r->first = 0;
		}
		if (!garbage)
			off = cm_input_member_offset(in);
		garbage += warc_skip_line(in);
	}
}

/* Read the input again from its start, up to the decoded offset pos. Returns 0, -1 when
 * it cannot be read again (a pipe), -2 when it has been too often already. */
static int rewind_to(warc_reader *r, uint64_t pos)
{
	cm_input *in;

	if (!r->reopen || cm_input_size(r->in) < 0)
		return -1;
	if (r->n.rewinds >= WARC_REWINDS_MAX)
		return -2;
	in = r->reopen(r->reopen_ctx);
	if (!in)
		return -1;
	cm_input_close(r->in);
	r->in = in;
	r->n.rewinds++;
	warc_skip_bytes(in, pos);	/* r->end stays: the same file */
	return cm_input_decoded_offset(in) == pos ? 0 : -1;	/* else the file changed */
}

/* Skip the block of an oversized record, n bytes, as it streams by. When the input ends
 * first, or the block is not followed by the end of a record, its length was wrong (or the
 * file is cut): go back to the first record start seen inside it, if any. */
void warc_skip_oversized(warc_reader *r, uint64_t n)
{
	const struct warc_format *f = r->fmt;
	cm_input *in = r->in;
	uint64_t from = cm_input_decoded_offset(in), got = 0, cand = NO_END;
	size_t avail;
	char msg[160];
	int e;

	if (r->end != NO_END && (r->end < from || r->end - from < n)) {
		/* the bytes are not there: read on inside it, to the next record start */
		r->n.cut++;
		r->quiet = 1;
		snprintf(msg, sizeof(msg), "its %s runs past the end of the input; "
			 "looking for a record inside it", f->length_name);
		warc_skipped(r, r->big_offset, msg);
		return;
	}
	while (got < n) {
		const char *p, *s;
		size_t k;

		avail = cm_input_fill(in, 1u << 16);
		p = cm_input_data(in);
		if (avail == 0)
			break;
		k = avail;
		if (k > n - got)
			k = (size_t)(n - got);
		else if (avail > f->need)
			k = avail - f->need;	/* a record start may straddle the window's end */
		if (cand == NO_END) {
			if (got == 0 && f->is_start(p, avail))
				cand = from;
			for (s = p; cand == NO_END && (s = memchr(s, '\n', k - (size_t)(s - p))); s++)
				if ((uint64_t)(s - p) + 1 < n - got && f->is_start(s + 1, avail - (size_t)(s + 1 - p)))
					cand = from + got + (uint64_t)(s - p) + 1;
		}
		cm_input_skip(in, k);
		got += k;
	}
	if (got < n) {
		r->n.cut++;
		r->end = cm_input_decoded_offset(in);
		if (cand == NO_END) {
			warc_skipped(r, r->big_offset, "record cut short by the end of the input");
			return;
		}
	} else {
		avail = cm_input_fill(in, f->lookahead);
		e = f->block_end(cm_input_data(in), avail, avail < f->lookahead);
		if (e == END_CUT) {
			r->n.cut++;
			warc_skipped(r, r->big_offset, "the input ends inside the line ends closing this record");
		}
		if (e != END_BAD || cand == NO_END)
			return;
	}
	e = rewind_to(r, cand);
	snprintf(msg, sizeof(msg), "its %s runs past a record start inside it; %s", f->length_name,
		 e == 0 ? "read the input again up to there" :
		 e == -1 ? "records inside it are lost (cannot read this input again)" :
		 "records inside it are lost (the input was read again too often)");
	if (e != 0)
		r->n.lost++;
	warc_skipped(r, r->big_offset, msg);
}

static struct warc_str trim(const char *p, const char *end)
{
	struct warc_str s;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	s.p = p;
	s.len = (size_t)(end - p);
	return s;
}

static enum warc_type parse_type(struct warc_str s)
{
	int t;

	for (t = 1; t < WARC_NTYPES; t++)
		if (warc_str_eq(s, type_names[t]))
			return (enum warc_type)t;
	return WARC_OTHER;
}

/* Content-Length: digits only, no overflow; -1 when absent or absurd. */
static int parse_length(struct warc_str s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s.len == 0 || s.len > 19)
		return -1;
	for (i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	*out = v;
	return 0;
}

#define NAME_IS(lit) (nlen == sizeof(lit) - 1 && strncasecmp(line, lit, sizeof(lit) - 1) == 0)

/* Parse the header lines in [p, end): one field per line, "Name: value". Returns 0, -1
 * without a valid Content-Length, or -2 with *next at a "WARC/" line: the next record's,
 * this header having been cut short. */
static int parse_headers(struct warc_record *rec, const char *p, const char *end, const char **next)
{
	int have_length = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *colon, *line = p;
		size_t nlen;

		if (!nl)
			nl = end;
		p = nl + 1;
		if (line[0] == ' ' || line[0] == '\t')
			continue;	/* folded continuation: values we use are one line */
		if (line[0] == 'W' && nl - line >= 5 && memcmp(line, "WARC/", 5) == 0) {
			*next = line;
			return -2;
		}
		colon = memchr(line, ':', (size_t)(nl - line));
		if (!colon)
			continue;	/* not a field; tolerated */
		nlen = (size_t)(colon - line);
		while (nlen > 0 && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'))
			nlen--;
		struct warc_str v = trim(colon + 1, nl);

		if (NAME_IS("WARC-Type")) {
			rec->type_name = v;
			rec->type = parse_type(v);
		} else if (NAME_IS("Content-Length")) {
			have_length = parse_length(v, &rec->content_length) == 0;
		} else if (NAME_IS("WARC-Record-ID")) {
			rec->record_id = v;
		} else if (NAME_IS("WARC-Target-URI")) {
			rec->target_uri = v;
		} else if (NAME_IS("WARC-Date")) {
			rec->date = v;
		} else if (NAME_IS("Content-Type")) {
			rec->content_type = v;
		} else if (NAME_IS("WARC-Truncated")) {
			rec->truncated = v;
		} else if (NAME_IS("WARC-Identified-Payload-Type")) {
			rec->payload_type = v;
		} else if (NAME_IS("WARC-Filename")) {
			rec->filename = v;
		}
	}
	return have_length ? 0 : -1;
}

/* Find the blank line ending the header block; returns its end offset or 0 if not found
 * within the limit (or the input ended). */
static size_t header_end(warc_reader *r, cm_input *in, size_t *body_at)
{
	uint64_t at = cm_input_decoded_offset(in);
	/* a later start inside a block scanned before in vain: not again (a run of WARC/ lines
	 * with no blank line between them was quadratic) */
	size_t scanned = r->no_hend > at ? (size_t)(r->no_hend - at) : 0;

	if (scanned && scanned + 2 > cm_input_avail(in))
		cm_input_fill(in, scanned + 2 < WARC_HEADER_MAX ? scanned + 2 : WARC_HEADER_MAX);

	for (;;) {
		size_t avail = cm_input_avail(in), i;
		const char *p = cm_input_data(in);

		for (i = scanned; i + 1 < avail; i++) {
			const char *nl = memchr(p + i, '\n', avail - i - 1);

			if (!nl)
				break;
			i = (size_t)(nl - p);
			/* "\n\r\n" or "\n\n" ends the block */
			if (p[i + 1] == '\n') {
				*body_at = i + 2;
				return i + 1;
			}
			if (p[i + 1] == '\r') {
				if (i + 2 >= avail)
					break;	/* need one more byte */
				if (p[i + 2] == '\n') {
					*body_at = i + 3;
					return i + 1;
				}
			}
		}
		if (i > avail)
			i = avail;
		scanned = i > 2 ? i - 2 : 0;
		if (avail >= WARC_HEADER_MAX || cm_input_fill(in, avail + 4096 > WARC_HEADER_MAX ?
							       WARC_HEADER_MAX : avail + 4096) == avail) {
			r->no_hend = at + scanned;
			return 0;
		}
	}
}

int warc_take_block(warc_reader *r, struct warc_record *rec, size_t body_at)
{
	const struct warc_format *f = r->fmt;
	cm_input *in = r->in;
	size_t avail, end;
	const char *p, *next;
	char msg[160];

	if (rec->content_length > r->max_record) {
		/* returned without its block, which the next call skips */
		r->n.oversized++;
		warc_skipped(r, rec->offset, "record larger than --max-record-size; skipped");
		rec->too_large = 1;
		r->pending = body_at;
		r->pending_big = rec->content_length;
		r->big_offset = rec->offset;
		r->n.records++;
		return 1;
	}
	if (body_at + rec->content_length > SIZE_MAX / 2)
		cm_die("record too large for this machine");
	end = body_at + (size_t)rec->content_length;
	avail = cm_input_fill(in, end + f->lookahead);
	p = cm_input_data(in);
	rec->block = p + body_at;
	if (avail < end) {
		/* the input ends inside the block: the file is cut, or the length is wrong */
		r->n.cut++;
		next = warc_find_start(f, rec->block, avail - body_at, avail - body_at);
		if (next) {
			r->n.bad_length++;
			snprintf(msg, sizeof(msg), "record's %s runs past the end of the input; "
				 "skipped up to a record start inside it", f->length_name);
			warc_skipped(r, rec->offset, msg);
			cm_input_skip(in, (size_t)(next - p));
			return 0;
		}
		warc_skipped(r, rec->offset, "record cut short by the end of the input");
		rec->cut_short = 1;
		rec->block_len = avail - body_at;
		r->pending = avail;
		r->n.records++;
		return 1;
	}
	switch (f->block_end(p + end, avail - end, avail < end + f->lookahead)) {
	case END_CUT:
		r->n.cut++;
		warc_skipped(r, rec->offset, "the input ends inside the line ends closing this record");
		break;
	case END_BAD:
		/* a length too large runs into the next record: look for its start */
		next = warc_find_start(f, rec->block, (size_t)rec->content_length, avail - body_at);
		if (next) {
			r->n.bad_length++;
			snprintf(msg, sizeof(msg), "record's %s runs over the next record; skipped up to it",
				 f->length_name);
			warc_skipped(r, rec->offset, msg);
			cm_input_skip(in, (size_t)(next - p));
			return 0;
		}
		break;	/* a length too small: what follows is skipped as garbage */
	}
	rec->block_len = (size_t)rec->content_length;
	r->pending = end;
	r->n.records++;
	return 1;
}

int warc_next(warc_reader *r, struct warc_record *rec)
{
	if (r->pending) {
		warc_skip_bytes(r->in, r->pending);
		r->pending = 0;
	}
	if (r->pending_big) {
		uint64_t n = r->pending_big;

		r->pending_big = 0;
		warc_skip_oversized(r, n);
	}
	if (r->fmt == &warc_format_arc)
		return arc_next(r, rec);
	for (;;) {
		cm_input *in = r->in;
		size_t hend, body_at;
		int found = find_record_start(r), ret;
		const char *p, *eol, *next = NULL;

		if (found == -2) {
			r->fmt = &warc_format_arc;
			return arc_next(r, rec);
		}
		if (found < 0)
			return 0;
		r->first = 0;
		memset(rec, 0, sizeof(*rec));
		rec->offset = cm_input_member_offset(in);
		hend = header_end(r, in, &body_at);
		p = cm_input_data(in);
		if (hend == 0) {
			if (cm_input_avail(in) >= WARC_HEADER_MAX) {
				r->n.bad_header++;
				warc_skipped(r, rec->offset, "record header too long; skipped");
			} else {
				r->n.cut_headers++;
				r->n.cut++;
				r->quiet = 1;	/* its lines are not garbage */
				warc_skipped(r, rec->offset, "record header cut short by the end of the input");
			}
			cm_input_skip(in, 5);	/* past "WARC/": resync from there */
			continue;
		}
		eol = memchr(p, '\n', hend);
		rec->version = trim(p + 5, eol);
		ret = parse_headers(rec, eol + 1, p + hend, &next);
		if (ret == -2) {
			r->n.bad_header++;
			warc_skipped(r, rec->offset, "record header cut short by the next record; skipped");
			cm_input_skip(in, (size_t)(next - p));
			continue;
		}
		if (ret != 0) {
			r->n.bad_length++;
			warc_skipped(r, rec->offset, "record without a valid Content-Length; skipped");
			cm_input_skip(in, body_at);
			continue;
		}
		if (!warc_take_block(r, rec, body_at))
			continue;
		/* the header's pointers moved with the window: parse it again */
		p = cm_input_data(in);
		eol = memchr(p, '\n', hend);
		parse_headers(rec, eol + 1, p + hend, &next);
		rec->version = trim(p + 5, eol);
		return 1;
	}
}
