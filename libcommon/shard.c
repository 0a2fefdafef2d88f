/* shard.c - llm.c token shard headers (see shard.h). */
#include <stdio.h>
#include <string.h>

#include "le.h"
#include "shard.h"

int cm_shard_width(uint32_t vocab_size)
{
	return vocab_size <= 65536 ? 2 : 4;
}

void cm_shard_header(unsigned char h[CM_SHARD_HEADER], int width, uint64_t ntok)
{
	memset(h, 0, CM_SHARD_HEADER);
	cm_put32(h, width == 2 ? CM_SHARD_MAGIC16 : CM_SHARD_MAGIC32);
	cm_put32(h + 4, width == 2 ? 1 : 7);
	cm_put32(h + 8, (uint32_t)ntok);
}

int cm_shard_parse(const unsigned char h[CM_SHARD_HEADER], int64_t file_size, cm_shard_hdr *sh,
		   char *err, size_t errlen)
{
	uint32_t magic = cm_get32(h), version = cm_get32(h + 4), n = cm_get32(h + 8);

	if (magic == CM_SHARD_MAGIC16 && version == 1) {
		sh->width = 2;
	} else if (magic == CM_SHARD_MAGIC32 && version == 7) {
		sh->width = 4;
	} else if (magic == CM_SHARD_MAGIC16 || magic == CM_SHARD_MAGIC32) {
		snprintf(err, errlen, "shard version %u with magic %u is not known", version, magic);
		return -1;
	} else {
		snprintf(err, errlen, "not a token shard (magic %u)", magic);
		return -1;
	}
	if (n > CM_SHARD_MAX_TOKENS) {
		snprintf(err, errlen, "shard header gives a negative token count");
		return -1;
	}
	sh->ntok = n;
	if (file_size >= 0 && (uint64_t)file_size != CM_SHARD_HEADER + sh->ntok * (uint64_t)sh->width) {
		snprintf(err, errlen, "shard is %lld bytes, its header says %llu tokens (%llu bytes)",
			 (long long)file_size, (unsigned long long)sh->ntok,
			 (unsigned long long)(CM_SHARD_HEADER + sh->ntok * (uint64_t)sh->width));
		return -1;
	}
	return 0;
}
