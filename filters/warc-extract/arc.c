/* arc.c - reading ARC files (the Internet Archive's format before WARC, versions 1 and 2) as
 * WARC records, for the rest of warc-extract to treat alike.
 *
 * An ARC file is a version block (a "filedesc://" record: the file's name, the ARC version
 * and the names of the header fields) and then records, each a header line and as many bytes
 * as the line's last field says, then a line end. Version 1 header lines are "URL IP-address
 * Archive-date Content-type Archive-length"; version 2 puts "Result-code Checksum Location
 * Offset Filename" before the length. A version 1 line is read from the right, so a URL may
 * hold spaces. The block of an http(s) record is the HTTP response as received, as in a WARC
 * response record; the version block reads as a warcinfo record, other URLs (dns:, ftp:) as
 * resource records with the line's content type. ARC records have no id: each gets a UUID
 * made from a hash of its header line and its bytes, the same wherever the record is read.
 *
 * Damage is met as in WARC files (warc.c): a record starts at a line that reads as a header
 * line, garbage before one is skipped and counted, and a length that runs past the next
 * record or the end of the input is found out by what follows the block.
 */
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "ascii.h"
#include "cli.h"
#include "warc.h"
#include "warcread.h"

#define ARC_LOOKAHEAD 4096	/* bytes read past a block: the next record's header line */

enum { ARC_NOT, ARC_HEAD, ARC_BAD_HEADER, ARC_BAD_LENGTH };

struct arc_head {
	struct warc_str url, date, type;
	uint64_t length;
};

/* The length of the scheme of a URL at p (a letter, then letters, digits, '+', '-' or '.',
 * then ':'), or 0 when there is none. */
static size_t scheme_len(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || cm_lower((unsigned char)p[0]) < 'a' || cm_lower((unsigned char)p[0]) > 'z')
		return 0;
	for (i = 1; i < n && i < 32; i++) {
		int c = cm_lower((unsigned char)p[i]);

		if (c == ':')
			return i;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 0;
}

static int all_digits(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return n > 0;
}

/* An archive date: 12 to 18 digits (14 in the format; some writers add or drop some), or
 * "-" for none. */
static int is_date(const char *p, size_t n)
{
	return (n == 1 && p[0] == '-') || (n >= 12 && n <= 18 && all_digits(p, n));
}

static struct warc_str str(const char *p, size_t n)
{
	struct warc_str s = { p, n };

	return s;
}

/* Read a header line p[0..n) (without its line end): ARC_HEAD with h filled; ARC_BAD_LENGTH
 * when it reads as one but for its length, ARC_BAD_HEADER when a URL and four fields or more
 * follow but they do not read (a date that is not one, an empty field); ARC_NOT when it is
 * not a header line. */
static int parse_line(const char *p, size_t n, struct arc_head *h)
{
	const char *tok[10], *len_p;
	size_t tlen[10], ntok = 0, i, start = 0, len_n;

	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n > ARC_LINE_MAX || scheme_len(p, n) == 0 || memchr(p, '\0', n))
		return ARC_NOT;
	/* ten fields with a date third: version 2 */
	for (i = 0; i <= n && ntok <= 10; i++) {
		if (i == n || p[i] == ' ') {
			if (ntok < 10) {
				tok[ntok] = p + start;
				tlen[ntok] = i - start;
			}
			ntok++;
			start = i + 1;
		}
	}
	if (ntok == 10 && is_date(tok[2], tlen[2]) && tlen[1] && tlen[3]) {
		h->url = str(tok[0], tlen[0]);
		h->date = str(tok[2], tlen[2]);
		h->type = str(tok[3], tlen[3]);
		len_p = tok[9];
		len_n = tlen[9];
	} else {
		/* version 1, from the right: length, content type, date, IP address, the URL */
		size_t end = n;

		for (ntok = 0; ntok < 4; ntok++) {
			const char *sp = NULL;

			for (i = end; i > 0; i--)
				if (p[i - 1] == ' ') {
					sp = p + i - 1;
					break;
				}
			if (!sp)
				return ARC_NOT;
			tok[ntok] = sp + 1;
			tlen[ntok] = end - (size_t)(sp + 1 - p);
			end = (size_t)(sp - p);
		}
		if (end == 0)
			return ARC_NOT;
		if (!tlen[1] || !tlen[3] || !is_date(tok[2], tlen[2]))
			return ARC_BAD_HEADER;
		h->url = str(p, end);
		h->date = str(tok[2], tlen[2]);
		h->type = str(tok[1], tlen[1]);
		len_p = tok[0];
		len_n = tlen[0];
	}
	if (len_n == 0 || len_n > 19 || !all_digits(len_p, len_n))
		return ARC_BAD_LENGTH;
	h->length = 0;
	for (i = 0; i < len_n; i++)
		h->length = h->length * 10 + (uint64_t)(len_p[i] - '0');
	return ARC_HEAD;
}

/* A record start at p: a whole header line in the n bytes there. */
static int is_start(const char *p, size_t n)
{
	const char *nl;
	struct arc_head h;

	if (scheme_len(p, n) == 0)
		return 0;
	nl = memchr(p, '\n', n < ARC_LINE_MAX + 1 ? n : ARC_LINE_MAX + 1);
	return nl && parse_line(p, (size_t)(nl - p), &h) == ARC_HEAD;
}

/* What follows a block: line ends, then the next record's header line or the end of the
 * input (the format puts a line end before each header line, none after the last block). A
 * line too long to be seen whole here, or cut by the end of the input, is given the benefit
 * of the doubt when it starts with a URL scheme: it is the next record's business. */
static int block_end(const char *q, size_t n, int at_end)
{
	size_t i;

	(void)at_end;
	for (i = 0; i < n && (q[i] == '\n' || q[i] == '\r'); i++)
		;
	if (i == n || is_start(q + i, n - i))
		return END_OK;
	return scheme_len(q + i, n - i) && !memchr(q + i, '\n', n - i) ? END_OK : END_BAD;
}

/* A record start inside an oversized block is looked for with 4 KiB of lookahead: a header
 * line longer than that (a URL of over 4 KiB) is not seen there. */
const struct warc_format warc_format_arc = {
	is_start, block_end, ARC_LOOKAHEAD, ARC_LOOKAHEAD, "length"
};

int arc_file_start(const char *p, size_t n)
{
	return (n >= 11 && memcmp(p, "filedesc://", 11) == 0) || is_start(p, n);
}

/* Count and report garbage skipped before a record start (or the end of the input), unless
 * it is inside a record already reported. */
static void garbage_done(warc_reader *r, uint64_t garbage, uint64_t off, const char *what)
{
	if (garbage && !r->quiet) {
		r->n.garbage_bytes += garbage;
		r->n.resyncs++;
		warc_skipped(r, off, what);
	}
	r->quiet = 0;
}

/* Skip to the next header line at a line start and leave it at the window's start, its
 * length (without the line end) in *len. Returns 1, or 0 at the end of the input. */
static int find_head(warc_reader *r, size_t *len)
{
	cm_input *in = r->in;
	uint64_t garbage = 0, off = 0;

	for (;;) {
		size_t avail = cm_input_fill(in, 1), lim;
		const char *p = cm_input_data(in), *nl;
		struct arc_head h;

		if (avail == 0) {
			garbage_done(r, garbage, off, "garbage at the end of the input");
			return 0;
		}
		if (p[0] == '\n' || p[0] == '\r') {	/* the line ends between records */
			cm_input_skip(in, 1);
			continue;
		}
		avail = cm_input_fill(in, ARC_LINE_MAX + 1);
		p = cm_input_data(in);
		lim = avail < ARC_LINE_MAX + 1 ? avail : ARC_LINE_MAX + 1;
		nl = memchr(p, '\n', lim);
		if (nl) {
			size_t n = (size_t)(nl - p);
			int k = parse_line(p, n, &h);

			if (k == ARC_HEAD) {
				garbage_done(r, garbage, off, "garbage between records skipped");
				*len = n;
				return 1;
			}
			if (k == ARC_BAD_LENGTH || k == ARC_BAD_HEADER) {
				/* its block follows, of unknown length: skipped as garbage, quietly */
				garbage_done(r, garbage, off, "garbage between records skipped");
				garbage = 0;
				if (k == ARC_BAD_LENGTH)
					r->n.bad_length++;
				else
					r->n.bad_header++;
				warc_skipped(r, cm_input_member_offset(in), k == ARC_BAD_LENGTH ?
					     "record without a valid length; skipped" :
					     "record header line not readable; skipped");
				r->quiet = 1;
				cm_input_skip(in, n + 1);
				continue;
			}
			if (!garbage)
				off = cm_input_member_offset(in);
			garbage += n + 1;
			cm_input_skip(in, n + 1);
			continue;
		}
		if (!garbage)
			off = cm_input_member_offset(in);
		if (avail <= ARC_LINE_MAX) {
			/* the input ends inside this line: a header line cut short, or garbage */
			if (scheme_len(p, avail) && !r->quiet) {
				garbage_done(r, garbage, off, "garbage between records skipped");
				r->n.cut_headers++;
				r->n.cut++;
				warc_skipped(r, cm_input_member_offset(in),
					     "record header cut short by the end of the input");
				cm_input_skip(in, avail);
				return 0;
			}
			garbage += avail;
			cm_input_skip(in, avail);
			continue;
		}
		/* a line longer than any header line: garbage to its end */
		garbage += warc_skip_line(in);
	}
}

/* The record's fields from its header line (line[0..len), read into h) and its block. */
static void set_fields(warc_reader *r, struct warc_record *rec, const char *line, size_t len,
		       const struct arc_head *h)
{
	size_t sl = scheme_len(h->url.p, h->url.len), i;
	const char *d = h->date.p;
	unsigned char b[16];
	XXH128_hash_t x;

	if (CM_EQ_CI(h->url.p, sl, "http") || CM_EQ_CI(h->url.p, sl, "https")) {
		rec->type = WARC_RESPONSE;
		rec->target_uri = h->url;
		rec->content_type = str("application/http; msgtype=response", 34);
	} else if (CM_EQ_CI(h->url.p, sl, "filedesc")) {
		/* the version block: "filedesc://" and the file's name */
		rec->type = WARC_WARCINFO;
		for (i = sl + 1; i < h->url.len && h->url.p[i] == '/'; i++)
			;
		rec->filename = str(h->url.p + i, h->url.len - i);
		rec->content_type = h->type;
	} else {
		rec->type = WARC_RESOURCE;
		rec->target_uri = h->url;
		rec->content_type = h->type;
	}
	rec->type_name = str(warc_type_name(rec->type), strlen(warc_type_name(rec->type)));
	/* YYYYMMDDhhmmss as WARC-Date writes it; another length as written; "-": none */
	if (h->date.len >= 14) {
		snprintf(r->arc_date, sizeof(r->arc_date), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ",
			 d, d + 4, d + 6, d + 8, d + 10, d + 12);
		rec->date = str(r->arc_date, strlen(r->arc_date));
	} else if (h->date.len > 1) {
		rec->date = h->date;
	}
	/* the id: a version 8 (custom) UUID holding XXH3-128 of the block, seeded with XXH3-64
	 * of the header line (without its line end) */
	x = XXH3_128bits_withSeed(rec->block ? rec->block : "", rec->block_len, XXH3_64bits(line, len));
	for (i = 0; i < 8; i++) {
		b[i] = (unsigned char)(x.high64 >> (56 - 8 * i));
		b[8 + i] = (unsigned char)(x.low64 >> (56 - 8 * i));
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x80);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(r->arc_id, sizeof(r->arc_id),
		 "<urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x>",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
	rec->record_id = str(r->arc_id, strlen(r->arc_id));
}

int arc_next(warc_reader *r, struct warc_record *rec)
{
	for (;;) {
		cm_input *in = r->in;
		struct arc_head h;
		const char *p;
		size_t len;

		if (!find_head(r, &len))
			return 0;
		memset(rec, 0, sizeof(*rec));
		rec->offset = cm_input_member_offset(in);
		p = cm_input_data(in);
		parse_line(p, len, &h);
		rec->content_length = h.length;
		if (!warc_take_block(r, rec, len + 1))
			continue;
		/* the line's pointers moved with the window: read it again */
		p = cm_input_data(in);
		parse_line(p, len, &h);
		set_fields(r, rec, p, len, &h);
		return 1;
	}
}
