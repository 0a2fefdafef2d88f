/* warc.c - reading WARC records from a decoded input stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "warc.h"

struct warc_reader {
	cm_input *in;
	uint64_t max_record;
	struct warc_counts n;
	size_t pending;		/* bytes of the last record still to skip */
	void (*on_skip)(void *ctx, uint64_t offset, const char *what);
	void *skip_ctx;
	int first;
};

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

void warc_on_skip(warc_reader *r, void (*fn)(void *, uint64_t, const char *), void *ctx)
{
	r->on_skip = fn;
	r->skip_ctx = ctx;
}

static void skipped(warc_reader *r, uint64_t off, const char *what)
{
	if (r->on_skip)
		r->on_skip(r->skip_ctx, off, what);
}

int warc_str_eq(struct warc_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

/* Skip n bytes of input, however many are buffered. */
static void skip_bytes(cm_input *in, uint64_t n)
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

/* Offset of the next "WARC/" at a line start in the window, filling as needed; skips
 * everything before it. Returns 0 when found, -1 at the end of input. */
static int find_record_start(warc_reader *r)
{
	cm_input *in = r->in;
	uint64_t garbage = 0, off = cm_input_member_offset(in);

	for (;;) {
		size_t avail = cm_input_fill(in, 5), i;
		char *p = cm_input_data(in);

		if (avail < 5) {
			/* end of input: whitespace is fine, anything else is garbage */
			for (i = 0; i < avail; i++)
				if (p[i] != '\r' && p[i] != '\n' && p[i] != ' ' && p[i] != '\t')
					garbage++;
			cm_input_skip(in, avail);
			if (garbage) {
				r->n.garbage_bytes += garbage;
				r->n.resyncs++;
				skipped(r, off, "garbage at the end of the input");
			}
			return -1;
		}
		if (memcmp(p, "WARC/", 5) == 0) {
			if (garbage) {
				r->n.garbage_bytes += garbage;
				r->n.resyncs++;
				skipped(r, off, "garbage between records skipped");
			}
			return 0;
		}
		if (r->first && memcmp(p, "filed", 5) == 0 && cm_input_fill(in, 11) >= 11 &&
		    memcmp(p, "filedesc://", 11) == 0)
			return -2;
		r->first = 0;
		/* blank lines between records are normal; other bytes are garbage */
		if (p[0] == '\r' || p[0] == '\n') {
			cm_input_skip(in, 1);
			continue;
		}
		if (!garbage)
			off = cm_input_member_offset(in);
		/* skip to the end of this line */
		for (;;) {
			char *nl;

			avail = cm_input_avail(in);
			p = cm_input_data(in);
			nl = memchr(p, '\n', avail);
			if (nl) {
				garbage += (uint64_t)(nl - p) + 1;
				cm_input_skip(in, (size_t)(nl - p) + 1);
				break;
			}
			garbage += avail;
			cm_input_skip(in, avail);
			if (cm_input_fill(in, 1) == 0)
				break;
		}
	}
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

/* Parse the header lines in [p, end): one field per line, "Name: value". */
static int parse_headers(struct warc_record *rec, const char *p, const char *end)
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
static size_t header_end(cm_input *in, size_t *body_at)
{
	size_t scanned = 0;

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
		scanned = i > 2 ? i - 2 : 0;
		if (avail >= WARC_HEADER_MAX)
			return 0;
		if (cm_input_fill(in, avail + 4096 > WARC_HEADER_MAX ? WARC_HEADER_MAX : avail + 4096) == avail)
			return 0;
	}
}

int warc_next(warc_reader *r, struct warc_record *rec)
{
	cm_input *in = r->in;

	if (r->pending) {
		skip_bytes(in, r->pending);
		r->pending = 0;
	}
	for (;;) {
		size_t hend, body_at, avail;
		int found = find_record_start(r);
		const char *p, *eol;

		if (found == -2)
			return -1;
		if (found < 0)
			return 0;
		r->first = 0;
		memset(rec, 0, sizeof(*rec));
		rec->offset = cm_input_member_offset(in);
		hend = header_end(in, &body_at);
		p = cm_input_data(in);
		if (hend == 0) {
			r->n.bad_header++;
			skipped(r, rec->offset, cm_input_avail(in) >= WARC_HEADER_MAX ?
				"record header too long; skipped" : "record header cut short; skipped");
			cm_input_skip(in, 5);	/* past "WARC/": resync from there */
			continue;
		}
		eol = memchr(p, '\n', hend);
		rec->version = trim(p + 5, eol);
		if (parse_headers(rec, eol + 1, p + hend) != 0) {
			r->n.bad_length++;
			skipped(r, rec->offset, "record without a valid Content-Length; skipped");
			cm_input_skip(in, body_at);
			continue;
		}
		if (rec->content_length > r->max_record) {
			r->n.oversized++;
			skipped(r, rec->offset, "record larger than --max-record-size; skipped");
			cm_input_skip(in, body_at);
			skip_bytes(in, rec->content_length);
			continue;
		}
		if (body_at + rec->content_length > SIZE_MAX / 2)
			cm_die("record too large for this machine");
		/* The header pointers move if the window moves: fill first, then parse again. */
		avail = cm_input_fill(in, body_at + (size_t)rec->content_length);
		p = cm_input_data(in);
		eol = memchr(p, '\n', hend);
		parse_headers(rec, eol + 1, p + hend);
		rec->version = trim(p + 5, eol);
		rec->block = p + body_at;
		if (avail < body_at + rec->content_length) {
			rec->cut_short = 1;
			rec->block_len = avail - body_at;
		} else {
			rec->block_len = (size_t)rec->content_length;
		}
		r->pending = body_at + rec->block_len;
		r->n.records++;
		return 1;
	}
}
