/* shard.h - llm.c token shards: a 256 x int32 header, then the tokens.
 *
 * Header (little-endian int32): [0] magic, [1] version, [2] number of tokens, the rest zero.
 * magic 20240520, version 1: uint16 tokens (llm.c, modded-nanogpt); magic 20240801, version 7:
 * uint32 tokens, for vocabularies over 65,536 (llm.c's Llama 3 scripts). A file holds exactly
 * 1024 + tokens x width bytes. Sizes and offsets are 64-bit; the header's count is an int32,
 * so a shard holds at most 2^31 - 1 tokens.
 */
#ifndef CM_SHARD_H
#define CM_SHARD_H
#include <stddef.h>
#include <stdint.h>

#define CM_SHARD_HEADER 1024
#define CM_SHARD_MAGIC16 20240520
#define CM_SHARD_MAGIC32 20240801
#define CM_SHARD_MAX_TOKENS 2147483647u

typedef struct cm_shard_hdr {
	int width;		/* bytes per token: 2 or 4 */
	uint64_t ntok;
} cm_shard_hdr;

/* The width a vocabulary needs: 2 up to 65,536 ids, else 4. */
int cm_shard_width(uint32_t vocab_size);
void cm_shard_header(unsigned char h[CM_SHARD_HEADER], int width, uint64_t ntok);
/* Check a header (and, when file_size >= 0, that the file is as long as it says). */
int cm_shard_parse(const unsigned char h[CM_SHARD_HEADER], int64_t file_size, cm_shard_hdr *sh,
		   char *err, size_t errlen);

/* A shard folder's lock: the file CM_SHARD_LOCK_FILE in it, flock()ed exclusively by the run
 * writing the folder (which keeps its pid in it) and shared by readers. The file stays; the
 * lock goes with the process. */
#define CM_SHARD_LOCK_FILE ".shard-pack.lock"
#define CM_SHARD_LOCK_NONE (-2)

typedef struct cm_shard_holder {
	int writing;		/* 1: a writer holds it; 0: readers only */
	long pid;		/* the writer's pid from the file; 0 when unknown */
} cm_shard_holder;

/* Lock the folder dir without waiting: a writer (exclusive) makes the lock file, a reader
 * (shared) uses it when there is one. Returns the lock's descriptor (closing it unlocks);
 * CM_SHARD_LOCK_NONE for a reader of a folder without a lock file; -1 with errno otherwise:
 * EWOULDBLOCK when another holds the lock (described in *who). */
int cm_shard_lock(const char *dir, int exclusive, cm_shard_holder *who);
/* The same for a reader (--verify, --cat, lm-train), with the message for a folder being
 * written ("cannot read the shards in 'dir': shard-pack (pid N) is writing them") in err. */
int cm_shard_lock_read(const char *dir, char *err, size_t errlen);
/* The shards a manifest lists: an object of file name -> token count (the names as written;
 * callers check them). NULL with a message in err when it cannot be read. */
struct json_t;
struct json_t *cm_shard_manifest_files(const char *path, char *err, size_t errlen);
#endif
