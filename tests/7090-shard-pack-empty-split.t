#!/bin/sh
# shard-pack: a split that gets no document although documents were read is said on stderr
# (a few documents against the default --val-fraction; weights that sample everything out),
# not under -q, and not for the split --val-fraction 0 or 1 leaves empty on purpose.
. "${SRCDIR:-.}/tests/lib.sh"

r50k=$SRCDIR/data/tokenizers/r50k_base.tiktoken.zst
zstd -dc "$DATA/tok/mix.jsonl.zst" | head -3 >few.jsonl
zstd -dc "$DATA/tok/mix.jsonl.zst" | head -400 >docs.jsonl

# three documents, the default --val-fraction (0.01): none of their ids hashes below 0.01
shard-pack -t "$r50k" -o s few.jsonl 2>err
st=$?
is "$st:$(jq .splits.val.documents s/manifest.json)" "0:0" "three documents, default --val-fraction: none to val"
is "$(cat err)" "shard-pack: warning: no document of 3 went to val (--val-fraction 0.01, by id hash): there is no val shard; a larger --val-fraction gives one, --val-fraction 0 says none is wanted" \
	"  said on stderr, with what to do"
shard-pack -q -t "$r50k" -o s few.jsonl 2>err
is "$?:$(cat err)" "0:" "  -q: not said"
shard-pack -t "$r50k" -o s --val-fraction 0 few.jsonl 2>err
is "$?:$(cat err)" "0:" "  --val-fraction 0 asks for no val: not said"
shard-pack -t "$r50k" --stdout few.jsonl >out.bin 2>err
is "$?:$(cat err)" "0:" "  --stdout alone has no val split: not said"

# every document to val: train is empty on purpose with --val-fraction 1
shard-pack -t "$r50k" -o v --val-fraction 1 few.jsonl 2>err
is "$?:$(jq -c '[.splits.train.documents, .splits.val.documents]' v/manifest.json):$(cat err)" "0:[0,3]:" \
	"--val-fraction 1: all to val, nothing said"

# weights that sample out every train document
printf 'web\t0\n' >w.tsv
jq -c '.metadata.domain = "web"' few.jsonl >web.jsonl
shard-pack -t "$r50k" -o z --weights w.tsv --val-fraction 0 web.jsonl 2>err
is "$?:$(jq .splits.train.documents z/manifest.json)" "0:0" "weight 0: no train document"
is "$(cat err)" "shard-pack: warning: no document of 3 went to train (0 to val, 3 sampled out by weight): there is no train shard" \
	"  said on stderr"

# enough documents for both splits: nothing said
shard-pack -t "$r50k" -o d --val-fraction 0.05 docs.jsonl 2>err
is "$?:$(cat err)" "0:" "400 documents, --val-fraction 0.05: both splits, nothing said"
ok "$([ "$(jq .splits.val.documents d/manifest.json)" -gt 0 ]; echo $?)" "  val has documents"

# no document read at all: nothing to say about the split
: >empty.jsonl
shard-pack -t "$r50k" -o e empty.jsonl 2>err
is "$?:$(grep -c 'went to' err)" "0:0" "an empty input: no split warning"
done_testing
