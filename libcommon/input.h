/* input.h - buffered reading of plain, gzip and zstd files, detected by their magic bytes.
 *
 * The reader keeps a window of decoded bytes that a caller can look at in place (lines for
 * JSONL, whole records for WARC), so nothing is copied twice. The window always has
 * CM_INPUT_PAD readable bytes past its end (simdjson reads that far). A gzip file may hold
 * many members (one per WARC record, or pigz/bgzip output); they are read as one stream, and
 * the offset of the member being decoded is kept for error messages. Input that ends inside a
 * member or frame is reported as truncated.
 *
 * A path that is an http://, https:// or s3:// URL is read over the network (remote.h): the
 * same bytes as the file, through the same decoders, in bounded memory; a transfer that
 * fails for good after its retries ends the input like a read error (cm_input_failed).
 */
#ifndef CM_INPUT_H
#define CM_INPUT_H

#include <stddef.h>
#include <stdint.h>

#define CM_INPUT_PAD 64
struct cm_buf;

enum cm_codec { CM_CODEC_PLAIN, CM_CODEC_GZIP, CM_CODEC_ZSTD };

typedef struct cm_input cm_input;

/* Open a file ("-" or NULL is standard input) or URL. Returns NULL and prints an error on
 * failure. */
cm_input *cm_input_open(const char *path);
/* The same without printing: NULL with the message cm_input_open would print in err
 * ("cannot open 'path': why"). */
cm_input *cm_input_try(const char *path, char *err, size_t errlen);
/* Open a file the caller names in its own message: NULL with "path: reason" in err when it
 * cannot be opened. */
cm_input *cm_input_open_err(const char *path, char *err, size_t errlen);
void cm_input_close(cm_input *in);

/* Make at least `want` decoded bytes readable at cm_input_data(); returns how many are
 * (fewer only at the end of input or on a decoding error). Grows the window as needed. */
size_t cm_input_fill(cm_input *in, size_t want);
/* Readable bytes right now, without reading more. */
size_t cm_input_avail(const cm_input *in);
char *cm_input_data(cm_input *in);
void cm_input_skip(cm_input *in, size_t n);

/* Next line (without its '\n'; a trailing '\r' is kept) in *line, valid until the next call.
 * Returns 1 for a line, 0 at the end of input, -1 when the line is longer than max (it is
 * skipped up to its newline and *len says how long it was). */
int cm_input_line(cm_input *in, char **line, size_t *len, size_t max);

/* Open a regular file for reading, its status in *sb: -1 with a message in err when it cannot
 * be opened or is not a regular file (a FIFO is refused without blocking on it, a folder
 * without reading it as empty). */
struct stat;
int cm_open_regular(const char *path, struct stat *sb, char *err, size_t errlen);

/* A JSON file (a manifest, trainer.json): a regular file of at most max bytes, a repeated key
 * refused. NULL with a message in err ("'path': line N: what"). */
struct json_t;
struct json_t *cm_json_load_file(const char *path, size_t max, char *err, size_t errlen);

/* Read a whole file (any codec) into out (replacing its contents). Returns 0, or -1 after
 * printing an error: it cannot be opened, is larger than max bytes decoded, or ends early. */
int cm_input_read_all(const char *path, struct cm_buf *out, size_t max);
/* The same without printing: -1 with the message in err. */
int cm_input_load(const char *path, struct cm_buf *out, size_t max, char *err, size_t errlen);
const char *cm_input_name(const cm_input *in);	/* "'file'" style name for messages */
enum cm_codec cm_input_codec(const cm_input *in);
uint64_t cm_input_raw_offset(const cm_input *in);	/* file bytes consumed so far */
uint64_t cm_input_member_offset(const cm_input *in);	/* file offset of the current gzip member */
uint64_t cm_input_decoded_offset(const cm_input *in);	/* decoded bytes skipped so far */
int64_t cm_input_size(const cm_input *in);		/* file size, -1 when unknown (a pipe) */
/* After the end of input: nonzero when the file ended inside a compressed member or frame,
 * or a decoding error stopped reading; cm_input_error() says what happened. */
int cm_input_truncated(const cm_input *in);
/* After the end of input: nonzero when reading itself failed (a read error, a transfer that
 * broke off and could not be resumed), not the file's own damage: never "allowed". */
int cm_input_failed(const cm_input *in);
const char *cm_input_error(const cm_input *in);

/* Decode compressed input in a thread of its own: 1 on, 0 off, -1 automatic (default: on for
 * inputs of 1 MiB or more, or of unknown size, when two or more CPUs are online). Also read
 * from the environment variable CRAWL2LM_INPUT_THREAD (0 or 1). */
void cm_input_set_threads(int on);

/* Pick the gzip decoder: "libdeflate" (the default: whole members at once, streaming with
 * ISA-L for members over 8 MiB or damaged ones), "isal" (streaming) or "zlib" (streaming).
 * Also read from the environment variable CRAWL2LM_INFLATE. NULL: the default. */
void cm_input_set_inflate(const char *name);

#endif
