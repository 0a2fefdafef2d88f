/* input.c - buffered reading of plain, gzip (zlib or ISA-L) and zstd files, local or remote
 * (remote.c: http://, https://, s3://). */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>
#ifdef CM_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "buf.h"
#include "cli.h"
#include "input.h"
#include "remote.h"

#define RAW_CHUNK (256u << 10)
#define WHOLE_AHEAD (256u << 10)	/* compressed bytes at hand before a whole-member try */
#define WHOLE_RAW (4u << 20)		/* the raw buffer in whole-member mode */
#define WHOLE_IN_MAX (8u << 20)		/* larger members are streamed */
#define WHOLE_OUT_MAX (128u << 20)
#define WINDOW_MIN (4u << 20)
#define DECODE_MIN (64u << 10)

struct member {
	uint64_t dec, raw;	/* decoded offset where a member starts -> its file offset */
};

#define CHUNK (4u << 20)
#define QUEUE_MAX 4

struct chunk {
	char *data;
	size_t len, pos, cap;
	uint64_t raw;		/* file bytes consumed when the chunk was full */
	struct member *m;
	size_t nm;
	struct chunk *next;
};

struct cm_input {
	int fd;			/* -1 for a remote input */
	struct cm_remote *remote;
	char *name;
	enum cm_codec codec;
	int64_t size;

	/* compressed bytes read from fd, not yet decoded */
	unsigned char *raw;
	size_t raw_pos, raw_len, raw_cap;
	uint64_t raw_base;	/* file offset of raw[0] */
	int raw_eof;

	/* decoded window: buf[start..end) is readable, buf has cap + CM_INPUT_PAD bytes */
	char *buf;
	size_t cap, start, end, scanned;
	uint64_t skipped;	/* decoded bytes before buf[start] */

	int done;		/* the decoder has no more bytes (decoder's side) */
	int eof;		/* the reader has had every byte (reader's side) */
	int truncated;		/* ended inside a member, or a decoding error */
	int failed;		/* reading failed (a read error, a transfer that broke off) */
	char err[1024];

	uint64_t member_off;	/* file offset of the member being decoded */
	int in_member;		/* a gzip member or zstd frame is open */
	uint64_t dec_pos;	/* decoded bytes produced so far */
	/* members that start in or after the window: decoded start -> file offset, so that
	 * the member holding the byte being read can be named (the decoder runs ahead) */
	struct member *members;
	size_t nmembers, cap_members, first_member;

	/* With a decoder thread (compressed input, two or more CPUs), the decoder fills
	 * chunks ahead of the reader: inflate on one core, everything else on another. */
	int threaded;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct chunk *queue, *queue_tail, *spare, *cur;
	int queued, finished, stop;
	uint64_t raw_seen;	/* file bytes behind the chunks the reader has taken */
	struct member *pending;	/* member starts the decoder saw since its last chunk */
	size_t npending, cap_pending;
	int use_isal;
	/* Whole gzip members decoded at once by libdeflate (faster than streaming): a member
	 * goes to mbuf, then out in pieces. A member that is too large, cut short or corrupt
	 * sends the rest of the file to the streaming decoder, which says what went wrong. */
	int whole;
	struct libdeflate_decompressor *ld;
	char *mbuf;
	size_t mcap, mlen, mpos;
	size_t last_member;	/* decoded size of the last whole member */
	z_stream z;
	ZSTD_DStream *zs;
#ifdef CM_HAVE_ISAL
	struct inflate_state *isal;
#endif
};

static const char *inflate_choice;

static void note_member(cm_input *in);
static void start_thread(cm_input *in);
static void stop_thread(cm_input *in);

void cm_input_set_inflate(const char *name)
{
	inflate_choice = name;
}

static const char *inflate_name(void)
{
	const char *s = inflate_choice ? inflate_choice : getenv("CRAWL2LM_INFLATE");

	return s ? s : "libdeflate";
}

static int want_isal(void)
{
#ifdef CM_HAVE_ISAL
	return strcmp(inflate_name(), "zlib") != 0;
#else
	return 0;
#endif
}

static int threads_choice = -1;

void cm_input_set_threads(int on)
{
	threads_choice = on;
}

/* A decoder thread pays for itself on large inputs when a second CPU is there. */
static int want_thread(const cm_input *in)
{
	const char *s = getenv("CRAWL2LM_INPUT_THREAD");

	if (threads_choice >= 0)
		return threads_choice;
	if (s)
		return strcmp(s, "0") != 0;
	if (in->size >= 0 && in->size < (1 << 20))
		return 0;
	return sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

static void set_error(cm_input *in, const char *what)
{
	in->truncated = 1;
	in->done = 1;
	if (!in->failed)	/* the decoder's view of a failed read says less */
		snprintf(in->err, sizeof(in->err), "%s", what);
}

/* Reading stopped before the end: what came before stays, the input counts as cut short. */
static void read_failed(cm_input *in, const char *why)
{
	in->failed = 1;
	in->truncated = 1;
	snprintf(in->err, sizeof(in->err), "%s", why);
}

/* read(2) into dst, again when a signal interrupts it (or the next bytes of a remote input):
 * 0 at the end of the file, or after a read error or a failed transfer (read_failed). */
static size_t read_some(cm_input *in, void *dst, size_t room)
{
	ssize_t n;

	if (in->failed)
		return 0;
	if (in->remote) {
		n = cm_remote_read(in->remote, dst, room);
		if (n < 0) {
			read_failed(in, cm_remote_error(in->remote));
			return 0;
		}
		return (size_t)n;
	}
	do
		n = read(in->fd, dst, room);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "read error: %s", strerror(errno));
		read_failed(in, msg);
		return 0;
	}
	return (size_t)n;
}

/* Read more raw bytes; returns 0 at end of file (or after a read error). */
static size_t raw_refill(cm_input *in)
{
	size_t n;

	if (in->raw_pos > 0) {
		memmove(in->raw, in->raw + in->raw_pos, in->raw_len - in->raw_pos);
		in->raw_base += in->raw_pos;
		in->raw_len -= in->raw_pos;
		in->raw_pos = 0;
	}
	if (in->raw_eof || in->raw_len == in->raw_cap)
		return in->raw_len;
	n = read_some(in, in->raw + in->raw_len, in->raw_cap - in->raw_len);
	if (n == 0)
		in->raw_eof = 1;
	in->raw_len += n;
	return in->raw_len;
}

/* Open path (a file, standard input or a URL): NULL with the bare reason in why, *dir set
 * for a folder. */
static cm_input *open_any(const char *path, char *why, size_t whylen, int *dir)
{
	cm_input *in;
	struct stat st;
	struct cm_remote *remote = NULL;
	int fd;
	char name[4096];

	*dir = 0;
	if (!path || strcmp(path, "-") == 0) {
		fd = 0;
		snprintf(name, sizeof(name), "standard input");
	} else if (cm_remote_is_url(path)) {
		if (!(remote = cm_remote_open(path, why, whylen)))
			return NULL;
		fd = -1;
		snprintf(name, sizeof(name), "'%s'", path);
	} else {
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			snprintf(why, whylen, "%s", strerror(errno));
			return NULL;
		}
		snprintf(name, sizeof(name), "'%s'", path);
	}
	in = cm_xcalloc(1, sizeof(*in));
	in->fd = fd;
	in->remote = remote;
	in->name = cm_xstrdup(name);
	in->size = -1;
	if (remote) {
		in->size = cm_remote_size(remote);
	} else if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		in->size = st.st_size;
	} else if (fd != 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "Is a directory");
		*dir = 1;
		close(fd);
		free(in->name);
		free(in);
		return NULL;
	}
	in->raw_cap = RAW_CHUNK;
	in->raw = cm_xmalloc(in->raw_cap);
	/* a small file gets a small window to start with; it grows as needed */
	in->cap = WINDOW_MIN;
	if (in->size >= 0 && (uint64_t)in->size < WINDOW_MIN / 4)
		in->cap = (size_t)in->size * 2 + DECODE_MIN;
	in->buf = cm_xmalloc(in->cap + CM_INPUT_PAD);
	memset(in->buf + in->cap, 0, CM_INPUT_PAD);

	while (in->raw_len < 4 && !in->raw_eof)
		raw_refill(in);
	if (in->raw_len >= 2 && in->raw[0] == 0x1f && in->raw[1] == 0x8b) {
		in->codec = CM_CODEC_GZIP;
		in->use_isal = want_isal();
		in->in_member = 1;
		in->whole = strcmp(inflate_name(), "libdeflate") == 0;
		if (in->whole) {
			in->raw_cap = WHOLE_RAW;
			in->raw = cm_xrealloc(in->raw, in->raw_cap);
			in->ld = libdeflate_alloc_decompressor();
			if (!in->ld)
				cm_die("out of memory");
		} else {
			note_member(in);	/* whole members note themselves */
		}
#ifdef CM_HAVE_ISAL
		if (in->use_isal) {
			in->isal = cm_xmalloc(sizeof(*in->isal));
			isal_inflate_init(in->isal);
			in->isal->crc_flag = ISAL_GZIP;
		}
#endif
		if (!in->use_isal && inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK)
			cm_die("cannot initialise zlib");
	} else if (in->raw_len >= 4 && memcmp(in->raw, "\x28\xb5\x2f\xfd", 4) == 0) {
		in->codec = CM_CODEC_ZSTD;
		in->zs = ZSTD_createDStream();
		if (!in->zs || ZSTD_isError(ZSTD_initDStream(in->zs)))
			cm_die("cannot initialise zstd");
		/* Frames of up to 2 GiB windows (zstd --long=31) are accepted. */
		ZSTD_DCtx_setParameter(in->zs, ZSTD_d_windowLogMax, 31);
	} else {
		in->codec = CM_CODEC_PLAIN;
	}
	if (in->codec != CM_CODEC_PLAIN && want_thread(in))
		start_thread(in);
	return in;
}

cm_input *cm_input_try(const char *path, char *err, size_t errlen)
{
	char why[1200];
	int dir;
	cm_input *in = open_any(path, why, sizeof(why), &dir);

	if (!in)
		snprintf(err, errlen, "cannot %s '%s': %s", dir ? "read" : "open", path, why);
	return in;
}

cm_input *cm_input_open(const char *path)
{
	char err[1400];
	cm_input *in = cm_input_try(path, err, sizeof(err));

	if (!in)
		cm_error("%s", err);
	return in;
}

cm_input *cm_input_open_err(const char *path, char *err, size_t errlen)
{
	char why[1200];
	int dir;
	cm_input *in = open_any(path, why, sizeof(why), &dir);

	if (!in)
		snprintf(err, errlen, "%s: %s", path, why);
	return in;
}

void cm_input_close(cm_input *in)
{
	if (!in)
		return;
	if (in->remote)
		cm_remote_stop(in->remote);	/* a decoder thread waiting for bytes gets its end */
	if (in->threaded)
		stop_thread(in);
	if (in->fd > 0)
		close(in->fd);
	cm_remote_close(in->remote);
	if (in->codec == CM_CODEC_GZIP && !in->use_isal)
		inflateEnd(&in->z);
#ifdef CM_HAVE_ISAL
	free(in->isal);
#endif
	if (in->zs)
		ZSTD_freeDStream(in->zs);
	if (in->ld)
		libdeflate_free_decompressor(in->ld);
	free(in->mbuf);
	free(in->members);
	free(in->raw);
	free(in->buf);
	free(in->name);
	free(in);
}

static void push_member(struct member **arr, size_t *n, size_t *cap, uint64_t dec, uint64_t raw)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*arr = cm_xrealloc(*arr, *cap * sizeof(**arr));
	}
	(*arr)[*n].dec = dec;
	(*arr)[*n].raw = raw;
	(*n)++;
}

/* Keep the reader's member list short: drop what lies behind it. */
static void trim_members(cm_input *in)
{
	if (in->first_member > 0 && in->first_member == in->nmembers) {
		in->first_member = in->nmembers = 0;
	} else if (in->first_member > 1024 && in->first_member * 2 > in->nmembers) {
		memmove(in->members, in->members + in->first_member,
			(in->nmembers - in->first_member) * sizeof(*in->members));
		in->nmembers -= in->first_member;
		in->first_member = 0;
	}
}

static void note_member(cm_input *in)
{
	if (in->threaded) {
		push_member(&in->pending, &in->npending, &in->cap_pending, in->dec_pos, in->member_off);
		return;
	}
	trim_members(in);
	push_member(&in->members, &in->nmembers, &in->cap_members, in->dec_pos, in->member_off);
}

/* Make the streaming gzip decoder ready for a member that starts at raw_pos. */
static void reset_stream(cm_input *in)
{
	in->in_member = 1;
#ifdef CM_HAVE_ISAL
	if (in->use_isal) {
		isal_inflate_reset(in->isal);
		in->isal->crc_flag = ISAL_GZIP;
		return;
	}
#endif
	inflateReset(&in->z);
}

/* What follows a gzip member is not the next one: the file ends on the first byte of a
 * member's magic (cut there), or something else follows (garbage). */
static void not_a_member(const cm_input *in, char *msg, size_t n)
{
	if (in->raw_len - in->raw_pos == 1 && in->raw[in->raw_pos] == 0x1f)
		snprintf(msg, n, "unexpected end of file in gzip member at offset %llu",
			 (unsigned long long)(in->raw_base + in->raw_pos));
	else
		snprintf(msg, n, "trailing garbage after gzip data at offset %llu",
			 (unsigned long long)(in->raw_base + in->raw_pos));
}

/* At the end of a gzip member: start the next one, or finish at end of file. */
static void next_member(cm_input *in)
{
	char msg[160];

	in->in_member = 0;
	if (in->raw_pos == in->raw_len)
		raw_refill(in);
	if (in->raw_pos == in->raw_len) {
		in->done = 1;
		return;
	}
	if (in->raw_len - in->raw_pos < 2 && !in->raw_eof)
		raw_refill(in);
	if (in->raw_len - in->raw_pos < 2 || in->raw[in->raw_pos] != 0x1f ||
	    in->raw[in->raw_pos + 1] != 0x8b) {
		not_a_member(in, msg, sizeof(msg));
		set_error(in, msg);
		return;
	}
	in->member_off = in->raw_base + in->raw_pos;
	note_member(in);
	reset_stream(in);
}

static void member_error(cm_input *in, const char *what)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "%s in gzip member at offset %llu", what,
		 (unsigned long long)in->member_off);
	set_error(in, msg);
}

/* Have at least `need` compressed bytes after raw_pos, or all that is left of the file. */
static void raw_reserve(cm_input *in, size_t need)
{
	while (in->raw_len - in->raw_pos < need && !in->raw_eof) {
		if (in->raw_pos == 0 && in->raw_len == in->raw_cap) {
			in->raw_cap *= 2;
			in->raw = cm_xrealloc(in->raw, in->raw_cap);
		}
		raw_refill(in);
	}
}

/* Leave whole-member decoding: the streaming decoder goes on from the current member. */
static void to_streaming(cm_input *in)
{
	in->whole = 0;
	reset_stream(in);
}

#define NOFIT ((size_t)-1)

/* Decode the next whole member into out (cap bytes). Returns its size; NOFIT when it needs
 * more room than cap (nothing consumed); 0 at the end of input, after an error, or when it
 * handed over to the streaming decoder (in->whole is then 0). */
static size_t whole_member(cm_input *in, char *out, size_t cap)
{
	size_t ain, aout;
	enum libdeflate_result res;

	for (;;) {
		raw_reserve(in, WHOLE_AHEAD);
		if (in->raw_pos == in->raw_len) {
			in->done = 1;
			return 0;
		}
		if (in->raw_len - in->raw_pos < 2 || in->raw[in->raw_pos] != 0x1f ||
		    in->raw[in->raw_pos + 1] != 0x8b) {
			char msg[160];

			not_a_member(in, msg, sizeof(msg));
			set_error(in, msg);
			return 0;
		}
		in->member_off = in->raw_base + in->raw_pos;
		res = libdeflate_gzip_decompress_ex(in->ld, in->raw + in->raw_pos,
						    in->raw_len - in->raw_pos, out, cap, &ain, &aout);
		if (res == LIBDEFLATE_INSUFFICIENT_SPACE && cap < WHOLE_OUT_MAX)
			return NOFIT;
		if (res == LIBDEFLATE_BAD_DATA && !in->raw_eof && in->raw_len - in->raw_pos < WHOLE_IN_MAX) {
			/* the member may just not be all here yet */
			raw_reserve(in, (in->raw_len - in->raw_pos) * 2);
			continue;
		}
		if (res != LIBDEFLATE_SUCCESS) {
			note_member(in);
			to_streaming(in);
			return 0;
		}
		note_member(in);
		in->raw_pos += ain;
		in->dec_pos += aout;
		in->last_member = aout;
		if (aout)
			return aout;
		/* an empty member: on to the next */
	}
}

/* Whole-member decoding through mbuf, handed out in pieces of any size. Returns 0 at the
 * end of input, or when it handed over to the streaming decoder. */
static size_t decode_whole(cm_input *in, unsigned char *dst, size_t room)
{
	size_t k;

	while (in->mpos == in->mlen) {
		if (!in->mbuf) {
			in->mcap = 1u << 20;
			in->mbuf = cm_xmalloc(in->mcap);
		}
		k = whole_member(in, in->mbuf, in->mcap);
		if (k == NOFIT) {
			in->mcap *= 2;
			in->mbuf = cm_xrealloc(in->mbuf, in->mcap);
			continue;
		}
		if (k == 0)
			return 0;
		in->mlen = k;
		in->mpos = 0;
		in->dec_pos -= k;	/* counted as it is handed out */
	}
	k = in->mlen - in->mpos;
	if (k > room)
		k = room;
	memcpy(dst, in->mbuf + in->mpos, k);
	in->mpos += k;
	in->dec_pos += k;
	return k;
}

/* The decoder thread's way with whole members: straight into the chunk, no copy. A member
 * is tried only where it should fit (twice the last one); one that does not fit goes
 * to the next chunk, which grows if it is still too small. */
static void fill_chunk_whole(cm_input *in, struct chunk *c)
{
	while (c->len < CHUNK && in->whole && !in->done && in->mpos == in->mlen) {
		size_t room = c->cap - c->len, k;

		if (c->len > 0 && room < 2 * in->last_member + 4096)
			return;
		k = whole_member(in, c->data + c->len, room);
		if (k == NOFIT) {
			if (c->len > 0)
				return;
			c->cap *= 2;
			c->data = cm_xrealloc(c->data, c->cap);
			continue;
		}
		c->len += k;
	}
}

/* Decode into dst (room bytes); returns bytes produced, 0 only when done. */
static size_t decode_gzip(cm_input *in, unsigned char *dst, size_t room)
{
	size_t made = 0;

	if (room > (1u << 30))
		room = 1u << 30;
	if (in->whole) {
		made = decode_whole(in, dst, room);
		if (made || in->done)
			return made;
	}
	while (made == 0 && !in->done) {
		size_t avail;

		if (in->raw_pos == in->raw_len)
			raw_refill(in);
		avail = in->raw_len - in->raw_pos;
		if (avail == 0 && in->raw_eof) {
			member_error(in, "unexpected end of file");
			break;
		}
#ifdef CM_HAVE_ISAL
		if (in->use_isal) {
			struct inflate_state *s = in->isal;
			int ret;

			s->next_in = in->raw + in->raw_pos;
			s->avail_in = (uint32_t)avail;
			s->next_out = dst + made;
			s->avail_out = (uint32_t)(room - made);
			ret = isal_inflate(s);
			in->raw_pos += avail - s->avail_in;
			in->dec_pos += room - s->avail_out - made;
			made = room - s->avail_out;
			if (ret < 0 && ret != ISAL_END_INPUT && ret != ISAL_OUT_OVERFLOW) {
				member_error(in, ret == ISAL_INCORRECT_CHECKSUM ?
					     "checksum mismatch" : "corrupt data");
				break;
			}
			if (s->block_state == ISAL_BLOCK_FINISH)
				next_member(in);
			continue;
		}
#endif
		{
			z_stream *z = &in->z;
			int ret;

			z->next_in = in->raw + in->raw_pos;
			z->avail_in = (uInt)avail;
			z->next_out = dst + made;
			z->avail_out = (uInt)(room - made);
			ret = inflate(z, Z_NO_FLUSH);
			in->raw_pos += avail - z->avail_in;
			in->dec_pos += room - z->avail_out - made;
			made = room - z->avail_out;
			if (ret == Z_STREAM_END)
				next_member(in);
			else if (ret != Z_OK && ret != Z_BUF_ERROR)
				member_error(in, ret == Z_DATA_ERROR ? "corrupt data" : "inflate error");
		}
	}
	return made;
}

static size_t decode_zstd(cm_input *in, unsigned char *dst, size_t room)
{
	ZSTD_outBuffer out = { dst, room, 0 };

	while (out.pos == 0 && !in->done) {
		ZSTD_inBuffer zin;
		size_t ret;

		if (in->raw_pos == in->raw_len)
			raw_refill(in);
		if (in->raw_pos == in->raw_len) {
			if (in->in_member) {
				char msg[120];

				snprintf(msg, sizeof(msg), "unexpected end of file in zstd frame at offset %llu",
					 (unsigned long long)in->member_off);
				set_error(in, msg);
			}
			in->done = 1;
			break;
		}
		if (!in->in_member) {
			in->member_off = in->raw_base + in->raw_pos;
			in->in_member = 1;
			in->dec_pos += out.pos;
			note_member(in);
			in->dec_pos -= out.pos;
		}
		zin.src = in->raw + in->raw_pos;
		zin.size = in->raw_len - in->raw_pos;
		zin.pos = 0;
		{
			size_t before = out.pos;

			ret = ZSTD_decompressStream(in->zs, &out, &zin);
			in->dec_pos += out.pos - before;
		}
		in->raw_pos += zin.pos;
		if (ZSTD_isError(ret)) {
			char msg[200];

			snprintf(msg, sizeof(msg), "corrupt zstd data at offset %llu: %s",
				 (unsigned long long)in->member_off, ZSTD_getErrorName(ret));
			set_error(in, msg);
			break;
		}
		if (ret == 0)
			in->in_member = 0;
	}
	return out.pos;
}

static size_t decode_plain(cm_input *in, unsigned char *dst, size_t room)
{
	size_t n;

	if (in->raw_pos < in->raw_len) {
		size_t k = in->raw_len - in->raw_pos;

		if (k > room)
			k = room;
		memcpy(dst, in->raw + in->raw_pos, k);
		in->raw_pos += k;
		return k;
	}
	if (in->raw_eof) {
		in->done = 1;
		return 0;
	}
	n = read_some(in, dst, room);
	if (n == 0)
		in->done = 1;
	in->raw_base += n;
	return n;
}

static size_t decode(cm_input *in, unsigned char *dst, size_t room)
{
	switch (in->codec) {
	case CM_CODEC_GZIP:
		return decode_gzip(in, dst, room);
	case CM_CODEC_ZSTD:
		return decode_zstd(in, dst, room);
	default:
		return decode_plain(in, dst, room);
	}
}

static void *decoder_main(void *arg)
{
	cm_input *in = arg;

	for (;;) {
		struct chunk *c;

		pthread_mutex_lock(&in->mu);
		while (!in->stop && (in->queued >= QUEUE_MAX || !in->spare))
			pthread_cond_wait(&in->cond, &in->mu);
		if (in->stop) {
			pthread_mutex_unlock(&in->mu);
			break;
		}
		c = in->spare;
		in->spare = c->next;
		pthread_mutex_unlock(&in->mu);

		c->len = c->pos = 0;
		if (in->whole)
			fill_chunk_whole(in, c);
		while (c->len < CHUNK && !in->done && (!in->whole || c->len == 0))
			c->len += decode(in, (unsigned char *)c->data + c->len, CHUNK - c->len);
		c->raw = in->raw_base + in->raw_pos;
		/* the member starts seen travel with the bytes they describe */
		free(c->m);
		c->m = in->pending;
		c->nm = in->npending;
		in->pending = NULL;
		in->npending = in->cap_pending = 0;

		pthread_mutex_lock(&in->mu);
		c->next = NULL;
		if (in->queue_tail)
			in->queue_tail->next = c;
		else
			in->queue = c;
		in->queue_tail = c;
		in->queued++;
		if (in->done)
			in->finished = 1;
		pthread_cond_broadcast(&in->cond);
		pthread_mutex_unlock(&in->mu);
		if (in->done)
			break;
	}
	return NULL;
}

/* The reader's side: bytes from the decoder's chunks. */
static size_t take(cm_input *in, unsigned char *dst, size_t room)
{
	struct chunk *c = in->cur;
	size_t k;

	while (!c || c->pos == c->len) {
		pthread_mutex_lock(&in->mu);
		if (c) {
			c->next = in->spare;
			in->spare = c;
			in->cur = c = NULL;
			pthread_cond_broadcast(&in->cond);
		}
		while (!in->queue && !in->finished)
			pthread_cond_wait(&in->cond, &in->mu);
		if (!in->queue) {
			/* finished: its error fields are final */
			pthread_mutex_unlock(&in->mu);
			in->eof = 1;
			return 0;
		}
		c = in->queue;
		in->queue = c->next;
		if (!in->queue)
			in->queue_tail = NULL;
		in->queued--;
		pthread_cond_broadcast(&in->cond);
		pthread_mutex_unlock(&in->mu);
		in->cur = c;
		in->raw_seen = c->raw;
		for (k = 0; k < c->nm; k++) {
			trim_members(in);
			push_member(&in->members, &in->nmembers, &in->cap_members, c->m[k].dec, c->m[k].raw);
		}
		c->nm = 0;
	}
	k = c->len - c->pos;
	if (k > room)
		k = room;
	memcpy(dst, c->data + c->pos, k);
	c->pos += k;
	return k;
}

static void start_thread(cm_input *in)
{
	int i;

	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->cond, NULL);
	for (i = 0; i < QUEUE_MAX + 1; i++) {
		struct chunk *c = cm_xcalloc(1, sizeof(*c));

		c->cap = CHUNK;
		c->data = cm_xmalloc(c->cap);
		c->next = in->spare;
		in->spare = c;
	}
	in->threaded = 1;
	if (pthread_create(&in->thread, NULL, decoder_main, in) != 0)
		cm_die("cannot start the decoder thread");
}

static void stop_thread(cm_input *in)
{
	struct chunk *lists[3], *c;
	int i;

	pthread_mutex_lock(&in->mu);
	in->stop = 1;
	pthread_cond_broadcast(&in->cond);
	pthread_mutex_unlock(&in->mu);
	pthread_join(in->thread, NULL);
	lists[0] = in->queue;
	lists[1] = in->spare;
	lists[2] = in->cur;
	if (in->cur)
		in->cur->next = NULL;
	for (i = 0; i < 3; i++)
		while ((c = lists[i])) {
			lists[i] = c->next;
			free(c->data);
			free(c->m);
			free(c);
		}
	free(in->pending);
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->cond);
}

size_t cm_input_fill(cm_input *in, size_t want)
{
	while (in->end - in->start < want && !in->eof) {
		size_t room = in->cap - in->end, made;

		if (room < DECODE_MIN || room < want - (in->end - in->start)) {
			if (in->start > 0) {
				memmove(in->buf, in->buf + in->start, in->end - in->start);
				in->end -= in->start;
				in->scanned = in->scanned > in->start ? in->scanned - in->start : 0;
				in->skipped += in->start;
				in->start = 0;
			}
			room = in->cap - in->end;
			if (room < DECODE_MIN) {
				/* grown as the bytes arrive, not to what the caller asks for: a
				 * length read from the input may be a lie */
				size_t cap = in->cap * 2;

				if (in->end > SIZE_MAX / 4 - DECODE_MIN)
					cm_die("input window too large");
				while (cap < in->end + DECODE_MIN)
					cap *= 2;
				in->buf = cm_xrealloc(in->buf, cap + CM_INPUT_PAD);
				in->cap = cap;
				memset(in->buf + cap, 0, CM_INPUT_PAD);
			}
			room = in->cap - in->end;
		}
		if (in->threaded) {
			made = take(in, (unsigned char *)in->buf + in->end, room);
		} else {
			made = decode(in, (unsigned char *)in->buf + in->end, room);
			in->eof = in->done;
		}
		in->end += made;
	}
	return in->end - in->start;
}

size_t cm_input_avail(const cm_input *in)
{
	return in->end - in->start;
}

char *cm_input_data(cm_input *in)
{
	return in->buf + in->start;
}

void cm_input_skip(cm_input *in, size_t n)
{
	if (n > in->end - in->start)
		n = in->end - in->start;
	in->start += n;
	in->scanned = in->scanned > in->start ? in->scanned : in->start;
}

int cm_input_line(cm_input *in, char **line, size_t *len, size_t max)
{
	char *nl;
	size_t n;

	if (in->scanned < in->start)
		in->scanned = in->start;
	for (;;) {
		nl = memchr(in->buf + in->scanned, '\n', in->end - in->scanned);
		if (nl)
			break;
		in->scanned = in->end;
		if (in->end - in->start > max) {
			/* Too long: drop what we have and everything up to the next newline. */
			size_t total = in->end - in->start;

			for (;;) {
				in->start = in->scanned = in->end;
				if (cm_input_fill(in, 1) == 0)
					break;
				nl = memchr(in->buf + in->start, '\n', in->end - in->start);
				if (nl) {
					total += (size_t)(nl - (in->buf + in->start));
					in->start = in->scanned = (size_t)(nl - in->buf) + 1;
					break;
				}
				total += in->end - in->start;
			}
			*len = total;
			*line = NULL;
			return -1;
		}
		n = in->end - in->start;
		if (cm_input_fill(in, n + (n < DECODE_MIN ? DECODE_MIN : n)) == n) {
			if (n == 0)
				return 0;
			/* Last line without a newline. */
			*line = in->buf + in->start;
			*len = n;
			in->start = in->scanned = in->end;
			in->buf[in->end] = '\0';
			return 1;
		}
	}
	*line = in->buf + in->start;
	*len = (size_t)(nl - *line);
	if (*len > max) {
		in->start = in->scanned = (size_t)(nl - in->buf) + 1;
		*line = NULL;
		return -1;
	}
	in->start = in->scanned = (size_t)(nl - in->buf) + 1;
	return 1;
}

int cm_input_load(const char *path, cm_buf *out, size_t max, char *err, size_t errlen)
{
	cm_input *in = cm_input_try(path, err, errlen);
	size_t have = 0, got;

	if (!in)
		return -1;
	for (;;) {
		size_t want = have < (1 << 20) ? (1 << 20) : have * 2;

		if (want > max)
			want = max + 1;
		got = cm_input_fill(in, want);
		if (got > max) {
			snprintf(err, errlen, "%s is larger than %zu bytes", cm_input_name(in), max);
			cm_input_close(in);
			return -1;
		}
		if (got < want)
			break;
		have = got;
	}
	if (cm_input_truncated(in)) {
		snprintf(err, errlen, "%s: %s", cm_input_name(in), cm_input_error(in));
		cm_input_close(in);
		return -1;
	}
	cm_buf_reset(out);
	cm_buf_add(out, cm_input_data(in), got);
	cm_input_close(in);
	return 0;
}

int cm_input_read_all(const char *path, cm_buf *out, size_t max)
{
	char err[1400];

	if (cm_input_load(path, out, max, err, sizeof(err)) < 0) {
		cm_error("%s", err);
		return -1;
	}
	return 0;
}

const char *cm_input_name(const cm_input *in)
{
	return in->name;
}

enum cm_codec cm_input_codec(const cm_input *in)
{
	return in->codec;
}

uint64_t cm_input_raw_offset(const cm_input *in)
{
	if (in->threaded)
		return in->eof ? in->raw_base + in->raw_pos : in->raw_seen;
	return in->raw_base + in->raw_pos;
}

uint64_t cm_input_member_offset(const cm_input *in)
{
	uint64_t pos = in->skipped + in->start;
	size_t lo, hi;

	if (in->codec == CM_CODEC_PLAIN)
		return pos;
	if (in->nmembers == in->first_member)
		return in->member_off;
	/* the last member that starts at or before pos */
	lo = in->first_member;
	hi = in->nmembers;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (in->members[mid].dec <= pos)
			lo = mid;
		else
			hi = mid;
	}
	((cm_input *)in)->first_member = lo;	/* earlier members are behind the reader */
	return in->members[lo].raw;
}

uint64_t cm_input_decoded_offset(const cm_input *in)
{
	return in->skipped + in->start;
}

int64_t cm_input_size(const cm_input *in)
{
	return in->size;
}

int cm_input_truncated(const cm_input *in)
{
	return in->truncated;
}

int cm_input_failed(const cm_input *in)
{
	return in->failed;
}

const char *cm_input_error(const cm_input *in)
{
	return in->err;
}

int cm_open_regular(const char *path, struct stat *sb, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, sb) < 0 || !S_ISREG(sb->st_mode)) {
		snprintf(err, errlen, "'%s' is not a regular file", path);
		close(fd);
		return -1;
	}
	if (fcntl(fd, F_SETFL, 0) < 0) {	/* blocking reads from here */
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

json_t *cm_json_load_file(const char *path, size_t max, char *err, size_t errlen)
{
	struct stat sb;
	json_error_t je;
	json_t *j;
	int fd = cm_open_regular(path, &sb, err, errlen);

	if (fd < 0)
		return NULL;
	if ((uint64_t)sb.st_size > max) {
		snprintf(err, errlen, "'%s' is %lld bytes, more than the %zu expected", path, (long long)sb.st_size, max);
		close(fd);
		return NULL;
	}
	j = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
	close(fd);
	if (!j)
		snprintf(err, errlen, "'%s': line %d: %s", path, je.line, je.text);
	return j;
}
