/* check.h - shard-pack's readers: --verify and --cat. */
#ifndef SP_CHECK_H
#define SP_CHECK_H
#include "tok.h"

/* Check a shard set (a manifest.json or the folder holding one): every shard's header, size,
 * checksum and ids, and the totals. Returns the exit status. */
int sp_verify(const char *manifest_or_dir);
/* Decode shards (files, or manifests: their shards in order) to out_path or stdout. */
int sp_cat(const cm_tok *tok, char **args, int n, const char *out_path);
#endif
