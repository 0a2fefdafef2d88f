#!/bin/sh
# quality-score --model on a tiny lm-train run: each record's bits per byte, mean token
# log-probability and tokens; the same scores whatever the packing and batching (within 1e-5
# relative) and the same as lm-eval's ppl: task; calibration's cut points and the head, middle
# and tail buckets; the filter's semantics (order, rejects, stats, annotate-only); bad models,
# tokenizers and cut files refused.
. "${SRCDIR:-.}/tests/lib.sh"

tiny_run

# documents of 1 to 7 lines of Shakespeare (some past the context of 64 tokens), an empty one
zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 40000 | tail -c 12000 |
	awk '{ buf = buf $0 "\n"; if (NR % (NR % 7 + 1) == 0) { printf "%s%c", buf, 0; buf = "" } }' |
	jq -R -s -c 'split("\u0000") | map(select(length > 0)) | to_entries[] | {id: "d\(.key)", text: .value}' >d.jsonl
printf '%s\n' '{"id": "empty", "text": ""}' >>d.jsonl
n=$(wc -l <d.jsonl | tr -d ' ')
QS="quality-score --preset none --assume-lang en -j 1 --model run"

$QS d.jsonl --stats st.json >a.jsonl 2>err
is "$?:$(cat err)" "0:" "--model: exit 0"
is "$(jq -r .id a.jsonl | tr '\n' ' ')" "$(jq -r .id d.jsonl | tr '\n' ' ')" "  every record, in order"
is "$(jq -s '[.[] | select(.id != "empty") | .metadata.quality.model |
	(.bits_per_byte > 0 and .token_logprob < 0 and .tokens > 0)] | all' a.jsonl)" true \
	"  bits_per_byte, token_logprob and tokens in metadata.quality.model"
is "$(jq -c 'select(.id == "empty") | .metadata.quality.model' a.jsonl)" '{"tokens":0}' \
	"  an empty text: 0 tokens, no score"
is "$(jq -s '[.[] | select(.id != "empty") | .metadata.quality.model as $m |
	(-$m.token_logprob * $m.tokens / (.text | utf8bytelength) / (2 | log)) / $m.bits_per_byte - 1 |
	fabs < 1e-6] | all' a.jsonl)" true "  bits_per_byte = -token_logprob x tokens / bytes / ln 2"
is "$(jq -s '[.[] | select(.metadata.quality.model.tokens > 64)] | length > 3' a.jsonl)" true \
	"  some documents longer than the context (scored in windows)"
is "$(jq -c '.quality.model | [.documents, .empty, (.tokens > 0), (.documents_per_s > 0),
	(.tokens_per_s > 0), (.model_seconds > 0), (.windows > .documents - 1)]' st.json)" \
	"[$n,1,true,true,true,true,true]" "  --stats: documents, tokens, documents/s, tokens/s, windows"

# the packing and batching do not change the scores: one record a batch, one row a pass, and
# the tokens bf16 or not aside, the same to 1e-5 relative
cmp_bpb() {
	jq -s -r '.[] | .metadata.quality.model.bits_per_byte // 0' "$1" >x1
	jq -s -r '.[] | .metadata.quality.model.bits_per_byte // 0' "$2" >x2
	paste x1 x2 | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-5 * ($1 < 0 ? -$1 : $1)) bad++ }
		END { print NR ":" bad + 0 }'
}
$QS --batch-records 1 d.jsonl >b.jsonl
is "$?:$(cmp_bpb a.jsonl b.jsonl)" "0:$n:0" "one document a batch: the same bits_per_byte (1e-5 relative)"
$QS --batch-tokens 64 --batch-records 5 d.jsonl >c.jsonl
is "$?:$(cmp_bpb a.jsonl c.jsonl)" "0:$n:0" "one row a forward pass, 5 records a batch: the same"
jq -c '.metadata.quality.model.tokens' a.jsonl >t1
jq -c '.metadata.quality.model.tokens' c.jsonl >t2
test_cmp t1 t2 "  the same tokens"
$QS --precision bf16 --device cpu d.jsonl >bf.jsonl
is "$?:$(jq -s -r '.[] | .metadata.quality.model.bits_per_byte // 0' a.jsonl >x1
	jq -s -r '.[] | .metadata.quality.model.bits_per_byte // 0' bf.jsonl >x2
	paste x1 x2 | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-2 * $1) bad++ } END { print NR ":" bad + 0 }')" \
	"0:$n:0" "--precision bf16 (on the CPU): within 1e-2 relative of fp32"

# the batch and malformed lines: skipped and counted, or with --strict the records held
# before it still written
{ head -3 d.jsonl; echo '{"text": bad'; sed -n 4,5p d.jsonl; } >m.jsonl
$QS m.jsonl --stats st.m >m.out 2>/dev/null
is "$?:$(jq -r .id m.out | tr '\n' ' '):$(jq -c '[.read, .kept, .malformed]' st.m)" "0:d0 d1 d2 d3 d4 :[6,5,1]" \
	"a malformed line among the batch: skipped, the others in order"
$QS --strict m.jsonl --stats st.m >m.out 2>/dev/null
is "$?:$(jq -r .id m.out | tr '\n' ' '):$(jq -c '[.read, .kept, .malformed]' st.m)" "1:d0 d1 d2 :[4,3,1]" \
	"  --strict: the records before it written, exit 1"

# as lm-eval's perplexity task, for a document in one window and one in several
for id in d3 d0; do
	jq -c "select(.id == \"$id\")" d.jsonl >one.jsonl
	lm-eval -q -j 1 run --task ppl:one.jsonl -o r.json >/dev/null
	want=$(jq .results.one.bits_per_byte r.json)
	got=$(jq "select(.id == \"$id\") | .metadata.quality.model.bits_per_byte" a.jsonl)
	is "$(awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; print (d <= 1e-5 * b) }')" 1 \
		"lm-eval's ppl: bits_per_byte for $id ($got, lm-eval $want; 1e-5 relative)"
done
is "$(jq 'select(.id == "d0") | .metadata.quality.model.tokens > 64' a.jsonl)" true "  d0 past the context"

# calibration: the thirds of bits per byte, per language and for all
$QS d.jsonl --ppl-calibrate cuts.json >/dev/null
is "$?" 0 "--ppl-calibrate: exit 0"
scored=$((n - 1))
is "$(jq -c '[.metric, .percentiles[0] < .percentiles[1], .languages.en.documents, .all.documents,
	(.languages.en.cuts | .[0] < .[1]), .languages.en.cuts == .all.cuts]' cuts.json)" \
	"[\"bits_per_byte\",true,$scored,$scored,true,true]" "  cut points for en and all, ascending"
for b in head middle tail; do
	$QS d.jsonl --ppl-cuts cuts.json --ppl-bucket $b --rejects r.$b --stats st.$b >k.$b
	is "$?" 0 "--ppl-bucket $b: exit 0"
done
is "$(cat k.head k.middle k.tail | jq -r .id | sort | tr '\n' ' ')" \
	"$(jq -r 'select(.id != "empty") | .id' d.jsonl | sort | tr '\n' ' ')" \
	"  the three buckets: every scored record once"
is "$(jq -s '[(.[] | .metadata.quality.model.bucket == "head")] | all' k.head)" true "  head's records marked head"
$QS d.jsonl --ppl-cuts cuts.json --ppl-bucket tail --annotate-only >ann.jsonl
is "$?:$(wc -l <ann.jsonl | tr -d ' '):$(jq -r '.metadata.quality.model.bucket // "none"' ann.jsonl | sort -u | tr '\n' ' ')" \
	"0:$n:head middle none tail " "--annotate-only: every record kept, its bucket written"
is "$(jq -r .id k.middle | tr '\n' ' ')" \
	"$(jq -r 'select(.metadata.quality.model.bucket == "middle") | .id' ann.jsonl | tr '\n' ' ')" \
	"  middle: its records in input order"
lo=$(jq -s 'map(.metadata.quality.model.bits_per_byte) | max' k.head)
hi=$(jq -s 'map(.metadata.quality.model.bits_per_byte) | min' k.tail)
c0=$(jq '.languages.en.cuts[0]' cuts.json)
c1=$(jq '.languages.en.cuts[1]' cuts.json)
is "$(awk -v a="$lo" -v b="$hi" -v c="$c0" -v d="$c1" 'BEGIN { print (a < c && c <= d && d <= b) }')" 1 \
	"  head below the first cut, tail from the second"
nh=$(wc -l <k.head | tr -d ' ')
is "$(jq -c '.quality.model.buckets | [.head, .middle + .tail]' st.head)" "[$nh,$((scored - nh))]" \
	"  --stats: the buckets' counts"
is "$(jq -r '.metadata.reject.reason' r.head | sort | uniq -c | awk '{ printf "%s %s ", $1, $2 }')" \
	"1 no_perplexity $((scored - nh)) perplexity " "  --rejects: the reason (no_perplexity: the empty text)"
is "$(jq -s '[.[] | select(.metadata.reject.reason == "perplexity") | .metadata.quality.model.bits_per_byte > 0] | all' r.head)" \
	true "  and the score"
like "$(jq -c .dropped_by_reason st.head)" '"perplexity":' "  --stats: the drops by reason"

# a language without cut points: the "all" ones, counted; without "all": kept, counted
quality-score --preset none --assume-lang fr -j 1 --model run d.jsonl --ppl-cuts cuts.json \
	--ppl-bucket head --stats st.fr >k.fr
is "$?:$(jq -c '.quality.model | [.all_cuts, .no_cuts]' st.fr):$(wc -l <k.fr | tr -d ' ')" "0:[$scored,0]:$nh" \
	"another language: the \"all\" cut points"
jq -c 'del(.all)' cuts.json >en.json
quality-score --preset none --assume-lang fr -j 1 --model run d.jsonl --ppl-cuts en.json \
	--ppl-bucket head --stats st.fr2 >k.fr2
is "$?:$(jq -c '.quality.model | [.all_cuts, .no_cuts]' st.fr2):$(wc -l <k.fr2 | tr -d ' ')" \
	"0:[0,$scored]:$scored" "  no \"all\": kept and counted"

# -v: the throughput
$QS -v d.jsonl >/dev/null 2>err
like "$(cat err)" "model: $n documents, [0-9]+ tokens in [0-9.]+ s .*documents/s, [0-9]+ tokens/s" "-v: documents/s and tokens/s"

# bad models, tokenizers, options
mkdir notmodel
echo '{}' >notmodel/config.json
fails 2 "--model" "a directory that is not a model" $QS d.jsonl --model notmodel
fails 2 "--model" "a missing model" $QS d.jsonl --model nothere
bpe-train -q --vocab-size 400 -o big.json t.jsonl
fails 2 "tokenizer.*not the checkpoint's|do not belong" "another tokenizer than the model's" \
	$QS d.jsonl --tokenizer big.json
# a Hugging Face directory: config.json, model.safetensors, tokenizer.json
mkdir hf
cp run/step-0000010/config.json run/step-0000010/model.safetensors hf/
cp tok.json hf/tokenizer.json
$QS d.jsonl --model hf >h.jsonl
is "$?:$(cmp_bpb a.jsonl h.jsonl)" "0:$n:0" "a Hugging Face directory of the same model: the same scores"
cp big.json hf/tokenizer.json
fails 2 "the tokenizer has 400 tokens, the model 300" "a tokenizer larger than the model's vocabulary" \
	$QS d.jsonl --model hf
fails 2 "want --model" "--ppl-bucket without --model" quality-score --ppl-bucket head d.jsonl
fails 2 "--ppl-bucket' wants the cut points" "--ppl-bucket without --ppl-cuts" $QS --ppl-bucket head d.jsonl
fails 2 "head, middle or tail" "--ppl-bucket of another name" $QS --ppl-bucket top d.jsonl
echo '{"languages": {"en": {"cuts": [1]}}}' >bad.json
fails 2 "'en' has no \"cuts\"" "a cut file without two cut points" $QS --ppl-cuts bad.json --ppl-bucket head d.jsonl
echo 'not json' >bad2.json
fails 2 "--ppl-cuts': 'bad2.json'" "a cut file that is not JSON" $QS --ppl-cuts bad2.json --ppl-bucket head d.jsonl
fails 1 "--ppl-calibrate" "a calibration file that cannot be written" $QS d.jsonl --ppl-calibrate nodir/c.json

done_testing
