#!/bin/sh
# shard-pack: llm.c headers (uint16 v1, uint32 v7), the text back from the shards, a
# deterministic split by id, mixing ratios within 1% of the weights on 60,000 documents,
# --verify finding damage, --stdout, an interrupted run leaving no whole-looking shard, bad input.
. "${SRCDIR:-.}/tests/lib.sh"

toks=$SRCDIR/data/tokenizers
r50k=$toks/r50k_base.tiktoken.zst
o200k=$toks/o200k_base.tiktoken.zst
zstd -dc "$DATA/tok/mix.jsonl.zst" | head -400 >docs.jsonl

# header: 256 int32, magic/version/count; size = 1024 + count * width
hdr() { od -A n -t d4 -N 12 "$1" | tr -s ' ' | sed 's/^ //'; }
shard-pack -t "$r50k" -o s --shard-tokens 300000 --val-fraction 0.05 docs.jsonl 2>err
ok $? "packs 400 documents with r50k"
first=s/shard_train_000000.bin
is "$(hdr $first)" "20240520 1 300000" "llm.c header: magic 20240520, version 1, token count"
is "$(wc -c <$first)" $((1024 + 2 * 300000)) "1024 header bytes then uint16 tokens"
is "$(od -A n -t d4 -j 12 -N 1012 $first | tr -s ' \n' '\n' | grep -c '[1-9]')" 0 "the rest of the header is zero"
is "$(od -A n -t u2 -j 1024 -N 2 $first | tr -d ' ')" 50256 "the first token is <|endoftext|>"
n=$(ls s/shard_train_*.bin | wc -l)
is "$(jq '.splits.train.shards' s/manifest.json)" "$n" "manifest lists $n train shards"
is "$(jq '[.shards[] | select(.split == "train") | .tokens] | add' s/manifest.json)" "$(jq .splits.train.tokens s/manifest.json)" \
	"shard tokens add up to the split's"
is "$(jq '[.shards[] | .tokens] | .[0:-2] | map(select(. != 300000)) | length' s/manifest.json)" 0 \
	"every shard but the last of each split is full"
is "$(jq -r '.tokenizer.hash' s/manifest.json)" "$(bpe-encode -t "$r50k" --info | sed -n 's/^hash\t//p')" \
	"the manifest names the tokenizer by its hash"
is "$(shard-pack --verify s)" "s/manifest.json: OK: $((n + 1)) shards, $(jq '.splits.train.tokens + .splits.val.tokens' s/manifest.json) tokens (train $(jq .splits.train.tokens s/manifest.json), val $(jq .splits.val.tokens s/manifest.json))" \
	"--verify: OK"

# text -> shards -> text
shard-pack -t "$r50k" -o all --val-fraction 0 --shard-tokens 100000 docs.jsonl
jq -j '"<|endoftext|>" + .text' docs.jsonl >want.txt
shard-pack --cat -t "$r50k" all/manifest.json >got.txt
test_cmp want.txt got.txt "--cat gives back every document's text, in order, after <|endoftext|>"
shard-pack --cat -t "$r50k" all/shard_train_*.bin >got2.txt
test_cmp want.txt got2.txt "--cat of the shard files does the same"
shard-pack --cat -t "$o200k" all/manifest.json >/dev/null 2>err
is "$?" 1 "--cat with another tokenizer is refused"

# uint32 tokens for a vocabulary over 65,536
shard-pack -t "$o200k" -o big --val-fraction 0 --shard-tokens 50000 docs.jsonl
is "$(hdr big/shard_train_000000.bin)" "20240801 7 50000" "o200k: magic 20240801, version 7"
is "$(wc -c <big/shard_train_000000.bin)" $((1024 + 4 * 50000)) "with uint32 tokens"
shard-pack --cat -t "$o200k" big/manifest.json >got.txt
test_cmp want.txt got.txt "and the text comes back"
ok_run "--verify checks them" shard-pack -q --verify big

# the split: by id hash alone, the same every run, another with another seed
shard-pack -t "$r50k" -o s2 --shard-tokens 300000 --val-fraction 0.05 docs.jsonl
ok $(cd s && for f in *.bin manifest.json; do cmp -s $f ../s2/$f || echo $f; done | grep -c . | grep -q '^0$'; echo $?) \
	"a second run writes the same shards and manifest"
tail -200 docs.jsonl >half.jsonl
shard-pack -t "$r50k" -o h --val-fraction 0.05 half.jsonl
jq -j '"<|endoftext|>" + .text' half.jsonl >half.txt
shard-pack --cat -t "$r50k" s/shard_val_*.bin >val_all.txt
shard-pack --cat -t "$r50k" h/shard_val_*.bin >val_half.txt
# val documents of the whole that are in the half, against the half's val documents
cmpsplit=$(awk 'BEGIN { RS = "<\\|endoftext\\|>" } FNR == 1 { f++ } !length($0) { next }
	f == 1 { inhalf[$0] = 1 } f == 2 && ($0 in inhalf) { a[$0] = 1 } f == 3 { b[$0] = 1 }
	END { for (k in a) if (!(k in b)) d++; for (k in b) if (!(k in a)) d++; print d + 0, length(b) }' \
	half.txt val_all.txt val_half.txt)
like "$cmpsplit" "^0 [1-9]" "a document's split does not depend on the other documents ($cmpsplit)"
shard-pack -t "$r50k" -o s3 --val-fraction 0.05 --seed 7 docs.jsonl
ok $(cmp -s s/shard_val_000000.bin s3/shard_val_000000.bin; [ $? != 0 ]; echo $?) "another --seed, another split"
v=$(jq .splits.val.documents s/manifest.json)
ok $([ "$v" -ge 8 ] && [ "$v" -le 35 ] && echo 0 || echo 1) "about 5% to val ($v of 400)"

# mixing: 60,000 short documents in three domains, weights 0.3, 1 and 2.5
awk 'BEGIN { for (i = 0; i < 60000; i++) {
	d = i % 3 == 0 ? "news" : i % 3 == 1 ? "code" : "forum"
	if (i % 3 == 2) m = "{\"domain\":{\"label\":\"forum\",\"source\":\"model\",\"score\":0.9}}"
	else m = "{\"domain\":\"" d "\"}"
	printf "{\"id\":\"doc-%d\",\"text\":\"text %d of %s\",\"metadata\":%s}\n", i, i, d, m } }' >mix.jsonl
printf '# weights\nnews\t0.3\ncode\t1\n\nforum\t2.5\n' >w.tsv
shard-pack -t "$r50k" -o m --val-fraction 0 --weights w.tsv --rejects rej.jsonl mix.jsonl
ok $? "packs with weights"
for d in news:0.3 code:1 forum:2.5; do
	name=${d%:*} w=${d#*:}
	r=$(jq -r ".domains.$name | .train_documents / .documents_in" m/manifest.json)
	ok $(awk -v r="$r" -v w="$w" 'BEGIN { exit !(r > w * 0.99 && r < w * 1.01) }'; echo $?) \
		"$name: $r documents out for each in, weight $w (within 1%)"
done
is "$(grep -c sampled_out rej.jsonl)" "$(jq .sampled_out m/manifest.json)" "sampled-out documents go to --rejects"
shard-pack --cat -t "$r50k" m/manifest.json | sed 's/<|endoftext|>/\n/g' | grep -c . >count
is "$(cat count)" "$(jq .splits.train.documents m/manifest.json)" "the shards hold that many documents"
shard-pack --cat -t "$r50k" m/manifest.json | sed 's/<|endoftext|>/\n/g' | grep -n 'text 2 of forum$' | cut -d: -f1 | tr '\n' ' ' >pos
first=$(cut -d' ' -f1 pos) second=$(cut -d' ' -f2 pos)
ok $([ $((second - first)) -gt 40000 ] && echo 0 || echo 1) "a repeated document's copies are far apart (lines $first and $second)"

# --stdout: the same shards, one after another
shard-pack -t "$r50k" --stdout --shard-tokens 100000 docs.jsonl >stream.bin
cat all/shard_train_*.bin >want.bin
test_cmp want.bin stream.bin "--stdout streams the shards that -o writes"
shard-pack -t "$r50k" --stdout --val-fraction 0.1 docs.jsonl >/dev/null 2>err
is "$?" 2 "--stdout without -o has nowhere for val shards"
shard-pack -t "$r50k" --stdout -o sv --val-fraction 0.05 --shard-tokens 300000 docs.jsonl >stream.bin
ok_run "--stdout with -o: val shards and the manifest in DIR" test -f sv/shard_val_000000.bin -a -f sv/manifest.json
is "$(jq '[.shards[] | select(.file == null)] | length' sv/manifest.json)" "$n" "the streamed shards are listed without files"
like "$(shard-pack --verify sv)" "OK: .* not checked" "--verify checks what is on disk"

# --verify finds damage
cp -r s d1 && printf 'x' | dd of=d1/shard_train_000001.bin bs=1 seek=5000 conv=notrunc 2>/dev/null
shard-pack --verify d1 >out 2>err
is "$?" 1 "a changed byte fails --verify"
like "$(cat err)" "checksum .* damaged" "by its checksum"
cp -r s d2 && truncate -s -2 d2/shard_train_000000.bin
shard-pack --verify d2 >out 2>err
like "$(cat err)" "header says 300000 tokens" "a cut shard: size and header disagree"
shard-pack --cat -t "$r50k" d2/shard_train_000000.bin >out 2>err
is "$?" 1 "--cat refuses a cut shard"
cp -r s d3 && rm d3/shard_train_000001.bin
shard-pack --verify d3 >out 2>err
like "$(cat err)" "cannot open" "a missing shard"
cp -r s d4 && printf '\002' | dd of=d4/shard_train_000000.bin bs=1 seek=4 conv=notrunc 2>/dev/null
shard-pack --verify d4 >out 2>err
like "$(cat err)" "shard version 2 with magic 20240520 is not known" "another version in the header"
shard-pack --cat -t "$r50k" "$DATA/tok/vectors.tsv" >out 2>err
like "$(cat err)" "not a token shard" "a foreign file is not a shard"
cp -r s d5 && jq '.shards[0].tokens = 5' s/manifest.json >d5/manifest.json
shard-pack --verify d5 >out 2>err
is "$?" 1 "a manifest that disagrees fails"

# an interrupted run leaves .tmp files, never a whole-looking .bin
mkfifo in.fifo
shard-pack -j1 -t "$r50k" -o kill --shard-tokens 300000 --val-fraction 0 in.fifo 2>/dev/null &
pid=$!
exec 3>in.fifo
cat docs.jsonl docs.jsonl docs.jsonl >&3
i=0
while [ ! -f kill/shard_train_000001.bin ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 $pid 2>/dev/null
exec 3>&-
wait $pid 2>/dev/null
bad=0
for f in kill/*.bin; do
	shard-pack --cat -t "$r50k" "$f" >/dev/null 2>&1 || bad=$((bad + 1))
done
is "$bad" 0 "after kill -9 every .bin is whole ($(ls kill/*.bin | wc -l) of them)"
ok $([ ! -f kill/manifest.json ] && echo 0 || echo 1) "and there is no manifest"

# bad input
printf '{"id":"a","text":"x"}\n{"text":"no id"}\n{"id":"b"}\n{"id":null,"text":"y"}\n' >bad.jsonl
shard-pack -t "$r50k" -o b --val-fraction 0 --rejects rej.jsonl bad.jsonl
is "$(jq -r .metadata.reject.reason rej.jsonl | sort | tr '\n' ' ')" "no_id no_id no_text " "records without id or text are rejected"
shard-pack -t "$r50k" -o e --val-fraction 0 </dev/null
is "$(jq -c '[.splits.train.tokens, (.shards | length)]' e/manifest.json)" "[0,0]" "empty input: no shards, a manifest"
printf 'news\t-1\n' >neg.tsv
shard-pack -t "$r50k" -o x --weights neg.tsv docs.jsonl 2>err
is "$?" 1 "a negative weight is an error"
like "$(cat err)" "neg.tsv:1: weight" "naming the line"
printf 'news 0.5\n' >nt.tsv
shard-pack -t "$r50k" -o x --weights nt.tsv docs.jsonl 2>err
like "$(cat err)" "not 'domain<TAB>weight'" "a line without a tab"
bpe-train --raw "$SRCDIR/tests/data/tok/vectors.tsv" --vocab-size 300 --special '<|pad|>' -o noeot.json
shard-pack -t noeot.json -o x docs.jsonl 2>err
like "$(cat err)" "no <\|endoftext\|>" "a tokenizer without <|endoftext|> is refused"
shard-pack -t "$r50k" docs.jsonl 2>err
is "$?" 2 "-o or --stdout is needed"
awk 'BEGIN { printf "{\"id\":\"big\",\"text\":\""; for (i = 0; i < 1200000; i++) printf "word %d, ", i; printf "\"}\n" }' >big.jsonl
shard-pack -t "$r50k" -o bigdoc --val-fraction 0 --shard-tokens 1000000 big.jsonl
ok $? "a 50 MB document"
is "$(jq '.shards | length' bigdoc/manifest.json)" "$(jq '(.splits.train.tokens + 999999) / 1000000 | floor' bigdoc/manifest.json)" \
	"runs across $(jq '.shards | length' bigdoc/manifest.json) shards"
shard-pack --cat -t "$r50k" bigdoc/manifest.json | cmp - "$(jq -j '"<|endoftext|>" + .text' big.jsonl >bigwant.txt; echo bigwant.txt)"
ok $? "and comes back whole"
done_testing
