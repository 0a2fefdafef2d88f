#!/bin/sh
# shard-pack over 2 GB (make check-slow): a sparse shard of 1.2 billion uint16 tokens (2.4 GB)
# and one of 600 million uint32 tokens (2.4 GB): --verify reads sizes and offsets in 64 bits
# (the checksum is the only thing wrong with them), --cat of the header's count.
. "${SRCDIR:-.}/tests/lib.sh"
[ -n "${SLOW:-}" ] || skip_all "make check-slow runs this"
avail=$(df -Pk . | awk 'NR == 2 { print $4 }')
[ "$avail" -gt 100000 ] || skip_all "no room for the test's files"

r50k=$SRCDIR/data/tokenizers/r50k_base.tiktoken.zst
mkdir big
for spec in "2 20240520 1 1200000000" "4 20240801 7 600000000"; do
	set -- $spec
	width=$1 magic=$2 version=$3 ntok=$4
	f=big/shard_train_000000.bin
	rm -f $f
	# header: magic, version, count as little-endian int32, then zeros; the tokens are a hole
	printf "$(printf '\\%03o' $((magic & 255)) $((magic >> 8 & 255)) $((magic >> 16 & 255)) $((magic >> 24)) \
		$version 0 0 0 $((ntok & 255)) $((ntok >> 8 & 255)) $((ntok >> 16 & 255)) $((ntok >> 24)))" >$f
	truncate -s $((1024 + width * ntok)) $f
	is "$(stat -c %s $f)" $((1024 + width * ntok)) "a sparse shard of $ntok tokens of $width bytes ($(($(stat -c %s $f) / 1000000)) MB)"
	jq -n --argjson n $ntok --argjson w $width --argjson m $magic '{format: "llm.c", token_bytes: $w, magic: $m,
		tokenizer: {vocab_size: 50257, hash: "x"}, splits: {train: {tokens: $n}, val: {tokens: 0}},
		shards: [{file: "shard_train_000000.bin", split: "train", tokens: $n, xxh3: "0000000000000000"}]}' >big/manifest.json
	shard-pack --verify big >out 2>err
	is "$?" 1 "--verify reads it to the end"
	like "$(cat err)" "checksum [0-9a-f]{16}, the manifest says 0{16}" "only the checksum disagrees (sizes and counts in 64 bits)"
	truncate -s -$width $f
	shard-pack --verify big >out 2>err
	like "$(cat err)" "header says $ntok tokens" "one token short: the size check holds past 2 GB"
done
rm -rf big
done_testing
