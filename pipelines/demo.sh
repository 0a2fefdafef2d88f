#!/bin/sh
# demo.sh - the pipeline so far, on real data bundled in the repository (make demo).
# Today: warc-extract on a Common Crawl excerpt (CC-MAIN-2020-34, 50 records, pages in
# several charsets) and on a CC-MAIN-2024-22 WET file, then boilerplate-strip (WARC -> text)
# quality-score (language, quality rules), pii-scrub (personal data and keys) and domain-tag,
# a tokenizer learnt with bpe-train, token shards by shard-pack, a model trained, sampled,
# evaluated and used to score the texts by perplexity (quality-score --model).
# Then the same stages over several WARC files at once, driven by make (pipelines/crawl.mk);
# last, supervised fine-tuning of the model on HH-RLHF conversations and a chat with it.
# Later stages join as they land.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$root/build}
PATH=$BUILD/bin:$PATH
out=$BUILD/demo
mkdir -p "$out"
warc=$root/tests/data/warc/chatnoir-resiliparse_warcfile.warc.gz
wet=$root/tests/data/warc/whirlwind-python_whirlwind.warc.wet.gz

step() { printf '\n== %s\n$ %s\n' "$1" "$2"; }

step "1. WARC -> JSON Lines: one record per HTML page, decoded to UTF-8" \
	"warc-extract --stats stats.json $(basename "$warc") > pages.jsonl"
warc-extract --stats "$out/stats.json" "$warc" >"$out/pages.jsonl"
jq -r '"read \(.read) WARC records: kept \(.kept) pages, dropped \(.dropped) (\(.dropped_by_reason | to_entries | map("\(.key): \(.value)") | join(", "))), malformed \(.malformed); \(.bytes_in) payload bytes in, \(.bytes_out) bytes out"' "$out/stats.json"

step "2. What came out: the charset found (and how), the size of the page, its URL" \
	"jq -r '[.metadata.warc.charset, .metadata.warc.charset_source, (.html | length), .url] | @tsv' pages.jsonl"
jq -r '[.metadata.warc.charset, .metadata.warc.charset_source, (.html | length), .url] | @tsv' \
	"$out/pages.jsonl" | awk -F'\t' '{ printf "  %-12s %-8s %7d chars  %s\n", $1, $2, $3, $4 }'

step "3. One record, html cut short" "head -1 pages.jsonl | jq '.html |= .[0:200]'"
head -1 "$out/pages.jsonl" | jq '.html |= .[0:200]'

step "4. WET files give text directly" "warc-extract $(basename "$wet") | jq ..."
warc-extract "$wet" | jq -r '"\(.url): \(.text | length) chars: \(.text | .[0:160] | gsub("\n"; " | "))..."'

step "5. HTML -> main text: boilerplate-strip drops menus, footers, sidebars, comments, ads" \
	"boilerplate-strip --stats strip.json pages.jsonl > text.jsonl"
boilerplate-strip --stats "$out/strip.json" "$out/pages.jsonl" >"$out/text.jsonl"
jq -r '"\(.read) pages: \(.kept) with main text, \(.dropped) without (\(.dropped_by_reason | to_entries | map("\(.key): \(.value)") | join(", ")))"' "$out/strip.json"
jq -r '"  \(.metadata.boilerplate.html_bytes) bytes of html -> \(.metadata.boilerplate.text_chars) characters of text  \(.url)"' "$out/text.jsonl"

step "6. A real news page (BBC, from the article-extraction benchmark): title and main text" \
	"boilerplate-strip aeb-4.jsonl.gz | jq -r 'select(.url | test(\"bbc\")) | .text'"
boilerplate-strip "$root/tests/data/html/aeb-4.jsonl.gz" >"$out/aeb.text.jsonl"
jq -r 'select(.url | test("bbc")) | "title: " + .metadata.boilerplate.title + "\n\n" + .text' \
	"$out/aeb.text.jsonl" | head -14 | cut -c1-160

step "7. Language and quality: the FineWeb recipe's rules on the pages' text" \
	"quality-score --preset fineweb --annotate-only text.jsonl"
quality-score --preset fineweb --annotate-only "$out/text.jsonl" >"$out/quality.jsonl"
jq -r '"  \(.metadata.lang.code) \(.metadata.lang.score)  \(if (.metadata.quality.failed | length) == 0 then "kept" else "dropped: " + (.metadata.quality.failed | join(", ")) end)  \(.url)"' \
	"$out/quality.jsonl"

step "8. Duplicates: exact and near (MinHash LSH, 14 x 8), the first of each kept" \
	"dedup-minhash --annotate-only quality.jsonl; then sign / cluster / filter over 2 shards"
{ cat "$out/quality.jsonl"; head -3 "$out/quality.jsonl" | jq -c '.id += ":copy" | .text = (.text | ascii_upcase)'; } |
	dedup-minhash --annotate-only --stats "$out/dedup.json" >"$out/dedup.jsonl"
jq -r 'select(.metadata.dedup.duplicate_of != null) | "  \(.id | .[0:40]): \(.metadata.dedup.kind) duplicate of document \(.metadata.dedup.duplicate_of)"' "$out/dedup.jsonl"
jq -r '"  \(.dedup.documents) documents, \(.dedup.kept) kept; tables \(.dedup.table_bytes) bytes"' "$out/dedup.json"
# the same in steps, as over shards on many machines: sign each shard, cluster, filter each
{ cat "$out/quality.jsonl"; head -3 "$out/quality.jsonl" | jq -c '.id += ":copy" | .text = (.text | ascii_upcase)'; } >"$out/dedup-in.jsonl"
n=$(wc -l <"$out/dedup-in.jsonl")
head -n $((n / 2)) "$out/dedup-in.jsonl" >"$out/part-a.jsonl"
tail -n +$((n / 2 + 1)) "$out/dedup-in.jsonl" >"$out/part-b.jsonl"
for p in part-a part-b; do dedup-minhash sign --annotate-only -o "$out/$p.sig" "$out/$p.jsonl"; done
dedup-minhash cluster "$out/part-a.sig" "$out/part-b.sig"
for p in part-a part-b; do dedup-minhash filter --list "$out/$p.dups" "$out/$p.jsonl"; done >"$out/dedup-steps.jsonl"
if cmp -s "$out/dedup.jsonl" "$out/dedup-steps.jsonl"; then
	echo "  in steps (sign 2 shards, cluster, filter): the same records, byte for byte"
else
	echo "  in steps: DIFFERENT from the streaming pass" >&2
	exit 1
fi

step "9. PII: e-mail and IP addresses, phones, cards, IBANs, SSNs and keys replaced by tags" \
	"pii-scrub --stats pii.json quality.jsonl > safe.jsonl"
pii-scrub --stats "$out/pii.json" "$out/quality.jsonl" >"$out/safe.jsonl"
jq -r '"\(.read) records, \(.pii.records_with_pii) with a find: " + ([.pii | to_entries[] | select(.key != "records_with_pii" and .key != "records_without_text" and .value > 0) | "\(.value) \(.key)"] | join(", "))' "$out/pii.json"
printf '%s\n' "Write to Jane at jane.roe@example.org, +1 415 555 2671, IBAN GB82 WEST 1234 5698 7654 32; server 93.184.216.34, key AKIAIOSFODNN7EXAMPLE." |
	jq -Rc '{id: "planted", text: .}' | pii-scrub --mode pseudonym --salt demo | jq -r '"  planted: " + .text'

step "10. Domains: URL rules first (a classifier, trained with --train, takes the rest)" \
	"domain-tag --counts counts.tsv safe.jsonl > tagged.jsonl"
domain-tag --counts "$out/counts.tsv" "$out/safe.jsonl" >"$out/tagged.jsonl"
boilerplate-strip "$root/tests/data/html/aeb-4.jsonl.gz" | domain-tag | jq -r '"  \(.metadata.domain.label) (\(.metadata.domain.source))  \(.url)"'
printf '  per label (documents, bytes): %s\n' "$(grep -v '^#' "$out/counts.tsv" | tr '\t\n' ', ')"

step "11. A tokenizer of our own: byte-level BPE learnt from the pages and tinyshakespeare" \
	"bpe-train --vocab-size 2048 -o tok.json tagged.jsonl shakespeare.jsonl"
zstd -dc "$root/tests/data/tok/tinyshakespeare.txt.zst" | jq -R -s -c '{id: "shakespeare", text: .}' >"$out/shakespeare.jsonl"
bpe-train -q --vocab-size 2048 --stats "$out/bpe.json" -o "$out/tok.json" "$out/tagged.jsonl" "$out/shakespeare.jsonl"
jq -r '"  \(.bpe.text_bytes) bytes, \(.bpe.unique_pieces) distinct pieces -> \(.bpe.merges) merges in \(.bpe.merge_seconds) s"' "$out/bpe.json"
printf '  first merges: %s\n' "$(jq -r '.model.merges[0:8] | map(join("+")) | join("  ")' "$out/tok.json")"
for t in "$out/tok.json" "$root/data/tokenizers/r50k_base.tiktoken.zst" "$root/data/tokenizers/o200k_base.tiktoken.zst"; do
	printf '  %-22s %s\n' "$(basename "$t" | sed 's/\.tiktoken.zst//')" \
		"$(bpe-encode -t "$t" -v "$out/tagged.jsonl" 2>&1 >/dev/null | sed -n 's/.*-> \([0-9]*\) tokens (\([0-9.]*\) bytes a token).*/\1 tokens, \2 bytes a token/p')"
done
printf '{"text":"Tokenizers split text: caf\\u00e9, \\u65e5\\u672c\\u8a9e, 12345!"}\n' |
	bpe-encode -t "$root/data/tokenizers/cl100k_base.tiktoken.zst" --jsonl | jq -c '"  cl100k (GPT-4): \(.ids)"' -r

step "12. Shards for the trainer: llm.c format, train/val by id, domains mixed by weight" \
	"shard-pack -t tok.json --weights weights.tsv --shard-tokens 20000 -o shards tagged.jsonl shakespeare.jsonl"
printf 'other\t0.5\nnone\t3\n' >"$out/weights.tsv"
rm -rf "$out/shards"
shard-pack -t "$out/tok.json" --weights "$out/weights.tsv" --val-fraction 0.1 --shard-tokens 20000 \
	-o "$out/shards" "$out/tagged.jsonl" "$out/shakespeare.jsonl"
jq -r '"  train \(.splits.train.tokens) tokens in \(.splits.train.shards) shards, val \(.splits.val.tokens) in \(.splits.val.shards)"' "$out/shards/manifest.json"
jq -r '.domains | to_entries[] | "  \(.key): weight \(.value.weight), \(.value.documents_in) documents in, \(.value.train_documents) out"' "$out/shards/manifest.json"
first=$(ls "$out"/shards/*.bin | head -1)
printf '  header of %s (magic, version, tokens):%s\n' "$(basename "$first")" "$(od -A n -t d4 -N 12 "$first" | tr -s ' ')"
printf '  '
shard-pack --verify "$out/shards"
printf '  the end of the text back from the shards: ...'
shard-pack --cat -t "$out/tok.json" "$out"/shards/shard_train_*.bin | tail -c 100 | tr '\n' ' '
printf '\n'

step "13. A model: GPT-2 style, 4 layers, width 128, trained for about a minute on Shakespeare" \
	"lm-train --model tiny -t tok.json --data 'lm/shard_train_*.bin' --val 'lm/shard_val_*.bin' --steps 800 -o run"
# one document a speech, so that the split by id holds out a tenth of them
jq -r .text "$out/shakespeare.jsonl" | jq -R -s -c 'split("\n\n") | to_entries[] | {id: "speech-\(.key)", text: .value}' >"$out/speeches.jsonl"
rm -rf "$out/lm" "$out/run"
shard-pack -q -t "$out/tok.json" --val-fraction 0.1 -o "$out/lm" "$out/speeches.jsonl"
lm-train --model tiny -t "$out/tok.json" --data "$out/lm/shard_train_*.bin" --val "$out/lm/shard_val_*.bin" \
	--context 128 -b 8 --steps 800 --lr 2e-3 --warmup 40 --eval-every 200 --save-every 400 -q -o "$out/run"
jq -r 'select(.loss != null and (.step == 1 or .step % 200 == 0)) | "  step \(.step): loss \(.loss * 1000 | round / 1000), \(.tokens_per_s | round) tokens/s"' "$out/run/metrics.jsonl"
jq -r 'select(.val_loss != null) | "  step \(.step): validation loss \(.val_loss * 1000 | round / 1000), \(.val_bpb * 1000 | round / 1000) bits per byte"' "$out/run/metrics.jsonl"
printf '  checkpoint %s/%s: %s\n' "run" "$(cat "$out/run/latest")" "$(ls "$out/run/$(cat "$out/run/latest")" | tr '\n' ' ')"
if command -v gnuplot >/dev/null; then
	sh "$root/pipelines/plot-loss.sh" "$out/run" "$out/loss.png" >/dev/null && echo "  loss curves: $out/loss.png"
fi

step "14. Samples, with the KV cache" "lm-sample -n 60 --top-k 40 --seed 1 run 'ROMEO:'"
for seed in 1 2; do
	printf '  ---\n'
	lm-sample -n 60 --top-k 40 --temperature 0.8 --seed $seed "$out/run" "ROMEO:" | sed 's/^/  /'
done
lm-sample -v -n 100 --no-stop --seed 3 "$out/run" "KING" 2>&1 >/dev/null | sed 's/^lm-sample: /  /'

step "15. Evaluation: six tasks as lm-evaluation-harness scores them, the held-out speeches' perplexity, contamination" \
	"lm-eval run --task arc_easy.jsonl ... --task ppl:held-out.jsonl --contamination 'lm/shard_train_*.bin' -o results.json"
# the validation speeches, back from their shards, are the held-out text
shard-pack --cat -t "$out/tok.json" "$out"/lm/shard_val_*.bin | jq -R -s -c '{text: .}' >"$out/held-out.jsonl"
E=$root/tests/data/eval
lm-eval "$out/run" --task "$E/arc_easy.jsonl" --task "$E/arc_challenge.jsonl" \
	--task "$E/piqa.jsonl" --task "$E/winogrande.jsonl" --task "$E/copa.jsonl" \
	--task "$E/lambada_openai.jsonl" --task "ppl:$out/held-out.jsonl" --contamination "$out/lm/shard_train_*.bin" \
	-o "$out/results.json" --log-samples "$out/samples.jsonl" >"$out/results.txt"
grep -v '(clean)' "$out/results.txt" | sed 's/^/  /'
jq -r '"  \(.config.items | add) items in \(.config.time_s * 10 | round / 10) s; results in results.json, every request in samples.jsonl"' "$out/results.json"

step "16. Model-based quality (CCNet's method): each text's bits per byte under the model of step 13" \
	"quality-score --preset none --model run --annotate-only --stats model.json scored.jsonl"
# the model knows Shakespeare: his held-out speeches first, then a news article, then the pages
{ jq -c '{id: "held-out speeches", text: .text[0:3000]}' "$out/held-out.jsonl"
  jq -c 'select(.url | test("bbc")) | {id: "news article", url, text}' "$out/aeb.text.jsonl"
  jq -c '{id: "page", url, text}' "$out/text.jsonl"; } >"$out/scored.jsonl"
quality-score --preset none --model "$out/run" --annotate-only --stats "$out/model.json" "$out/scored.jsonl" \
	>"$out/model.jsonl"
jq -r '.metadata.quality.model as $m | "\($m.bits_per_byte * 100 | round / 100)\t\($m.tokens)\t\(.id) \(.url // "")"' \
	"$out/model.jsonl" | sort -n | head -8 | awk -F'\t' '{ printf "  %5.2f bits/byte %5d tokens  %s\n", $1, $2, $3 }'
jq -r '.quality.model | "  \(.documents) texts, \(.tokens) tokens in \(.forward_passes) forward passes: \(.documents_per_s | round) texts/s, \(.tokens_per_s | round) tokens/s"' \
	"$out/model.json"

step "17. Many WARC files: the make-driven build (per file in parallel, then over all), and its funnel" \
	"make -f pipelines/crawl.mk IN=warcs OUT=crawl -j 2 LANGS= VOCAB=1000; pipelines/funnel crawl"
rm -rf "$out/warcs" "$out/crawl"
mkdir -p "$out/warcs"
for f in chatnoir-resiliparse_warcfile.warc.gz dolma_warc_sample-0000.warc.gz dolma_warc_sample-0001.warc.gz \
	whirlwind-python_whirlwind.warc.gz warcio_example.warc.gz; do
	cp "$root/tests/data/warc/$f" "$out/warcs/"
done
# through files, not pipes: a failing build stops the demo
make --no-print-directory -f "$root/pipelines/crawl.mk" -j 2 IN="$out/warcs" OUT="$out/crawl" BIN="$BUILD/bin" LANGS= VOCAB=1000 \
	SHARD_TOKENS=20000 VAL_FRACTION=0.1 >"$out/crawl.log"
sed 's/^/  /' "$out/crawl.log"
sh "$root/pipelines/funnel" "$out/crawl" >"$out/funnel.txt"
sed 's/^/  /' "$out/funnel.txt"

step "18. Supervised fine-tuning on HH-RLHF conversations (chat tokens added), then a chat" \
	"lm-train --sft hh.jsonl --init run --chat-tokens --context 256 --epochs 4 --val-fraction 0.1 -o sft; lm-sample --chat sft"
rm -rf "$out/sft"
zstd -dc "$root/tests/data/sft/hh-rlhf-harmless-base-test-300.jsonl.zst" | jq -c '{chosen}' >"$out/hh.jsonl"
lm-train --sft "$out/hh.jsonl" --init "$out/run" --chat-tokens --context 256 -b 8 --epochs 4 --lr 1e-3 \
	--warmup 5 --val-fraction 0.1 --eval-every 30 -o "$out/sft" 2>&1 | grep -E 'sft|added|held-out' | sed 's/^lm-train: /  /'
printf '  tokenizer_config.json chat_template: %s\n' "$(jq -r .chat_template "$out/sft/$(cat "$out/sft/latest")/tokenizer_config.json" | head -c 70)..."
printf 'Hello, who are you?\nWhat is the best way to learn to cook?\n' |
	lm-sample -v --chat --system "You are a helpful assistant." -n 80 --temperature 0.7 --seed 1 "$out/sft" \
		2>"$out/chat.err" | sed 's/^/  /'
grep 'turn' "$out/chat.err" | sed 's/^lm-sample: /  /'

printf '\nOutputs are in %s\n' "$out"
