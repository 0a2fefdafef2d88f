#!/bin/sh
# lm-eval on a tiny model: the task formats recognised from their fields, acc within [0, 1]
# and the item counts on the small copies of arc_easy and lambada_openai, --limit, the
# samples log consistent with the metrics, the white space move and the empty context as
# lm-evaluation-harness makes them, perplexity's metrics consistent with each other, and bad
# task files refused with the file and line. (tests/unit/8070-harness.c checks the scores
# against a plain forward pass.)
. "${SRCDIR:-.}/tests/lib.sh"

tiny_run

E=$DATA/eval
lm-eval -q -j 1 run --task "$E/arc_easy.jsonl" --task "$E/lambada_openai.jsonl" -o r.json \
	--log-samples s.jsonl >out 2>err
is "$?:$(cat err)" "0:" "arc_easy and lambada_openai: exit 0"
is "$(jq -c '.config.items' r.json)" '{"arc_easy":40,"lambada_openai":40}' "  40 items each"
is "$(jq -r '.results.arc_easy | [.acc, .acc_norm, .acc_stderr, .acc_norm_stderr] |
	map(. >= 0 and . <= 1) | all' r.json)" true "  arc_easy: acc, acc_norm and their stderrs within [0, 1]"
is "$(jq -r '.results.lambada_openai | (.acc >= 0 and .acc <= 1 and .perplexity > 1)' r.json)" true \
	"  lambada_openai: acc and perplexity"
is "$(grep -c '^arc_easy  *acc' out):$(grep -c '^lambada_openai  *perplexity' out)" 2:1 "  the table"
is "$(wc -l <s.jsonl | tr -d ' ')" 80 "  a sample line per item"
is "$(jq -r 'select(.task == "arc_easy") | .requests | length' s.jsonl | sort -u | tr '\n' ' ')" "4 " \
	"  a request per choice"
is "$(jq -s '[.[] | select(.task == "arc_easy") | .pred == ([.requests[].loglikelihood] | index(max))]
	| all' s.jsonl)" true "  pred: the choice of the highest log-likelihood"
is "$(jq -s '[.[] | select(.task == "arc_easy") | if .pred == .gold then 1 else 0 end] | add / length' s.jsonl)" \
	"$(jq '.results.arc_easy.acc' r.json)" "  acc: the mean of pred == gold"
is "$(jq -r 'select(.task == "arc_easy") | .requests[0].continuation[0:1]' s.jsonl | sort -u)" " " \
	"  continuations after a space"

lm-eval -q -j 1 --limit 5 run --task "$E/arc_easy.jsonl" -o r5.json --log-samples s5.jsonl >out
is "$?:$(jq '.config.items.arc_easy' r5.json):$(jq '.config.limit' r5.json):$(wc -l <s5.jsonl | tr -d ' ')" \
	"0:5:5:5" "--limit 5: 5 items"

# the white space move and the empty context
printf '%s\n' '{"query": "Q: ", "choices": ["a", "b"], "gold": 1}' >ws.jsonl
printf '%s\n' '{"context": "", "continuation": "First Citizen"}' >empty.jsonl
printf '%s\n' '{"text": " First Citizen"}' >same.jsonl
lm-eval -q -j 1 run --task ws.jsonl --task empty.jsonl --task ppl:same.jsonl --log-samples l.jsonl >out
is "$?" 0 "hand-made tasks: exit 0"
is "$(jq -c 'select(.task == "ws") | .requests[0] | [.context, .continuation]' l.jsonl)" '["Q:","  a"]' \
	"a context's trailing space moves to the continuation"
is "$(jq -c 'select(.task == "empty") | .requests[0] | [.context, (.tokens | length) - .continuation_tokens]' l.jsonl)" \
	'["",1]' "an empty context: end-of-text, then the continuation"
a=$(jq 'select(.task == "empty") | .requests[0].loglikelihood' l.jsonl)
b=$(jq 'select(.task == "same") | .requests[0].loglikelihood' l.jsonl)
is "$(awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; print (d <= 1e-5 * -b && b < 0) }')" 1 \
	"  the same tokens after end-of-text as perplexity's first window ($a, $b)"

# perplexity: two documents, the second longer than the context (rolling windows)
zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 3000 | tail -c 600 | jq -R -s '{text: .}' -c >p.jsonl
printf '%s\n' '{"text": "  two  words "}' >>p.jsonl
lm-eval -q -j 1 run --task ppl:p.jsonl -o rp.json --log-samples lp.jsonl >out
is "$?:$(jq '.config.items.p' rp.json)" "0:2" "ppl:FILE: 2 documents"
is "$(jq -r 'select(.index == 0) | [.requests[].continuation_tokens] | length > 1' lp.jsonl)" true \
	"  the long one in several windows"
bytes=$(jq -j .text p.jsonl | wc -c | tr -d ' ')
words=$(python3 -c '
import json, re, sys
print(sum(len(re.split(r"\s+", json.loads(l)["text"])) for l in open("p.jsonl")))' 2>/dev/null)
ll=$(jq -s '[.[].requests[].loglikelihood] | add' lp.jsonl)
is "$(jq -r --argjson ll "$ll" --argjson b "$bytes" '.results.p |
	[((.bits_per_byte - (.byte_perplexity | log) / (2 | log)) | fabs) < 1e-6,
	 ((.byte_perplexity | log) * $b + $ll | fabs) < 1e-4 * -$ll] | all' rp.json)" true \
	"  bits_per_byte = log2(byte_perplexity), byte_perplexity = exp(-sum ll / bytes)"
if [ -n "$words" ]; then
	is "$(jq -r --argjson ll "$ll" --argjson w "$words" '.results.p |
		((.word_perplexity | log) * $w + $ll | fabs) < 1e-4 * -$ll' rp.json)" true \
		"  word_perplexity = exp(-sum ll / words), words as re.split(r\"\\s+\") counts them ($words)"
fi

# winogrande's format
printf '%s\n' '{"context_options": ["The cat sat on the mat because the cat", "The cat sat on the mat because the mat"], "continuation": "was tired.", "gold": 0}' \
	'{"context_options": ["A", "B", "C"], "continuation": "x", "gold": 2}' >wino.jsonl
lm-eval -q -j 1 run --task wino.jsonl -o rw.json --log-samples lw.jsonl >out
is "$?:$(jq -c '.results.wino | keys' rw.json)" '0:["acc","acc_stderr"]' "winogrande: acc"
is "$(jq -c '[.requests[].continuation]' lw.jsonl | head -1)" '[" was tired."," was tired."]' \
	"  the continuation after each option"

# a token spanning the boundary ("?\n" after the white space move): the harness feeds
# tok(context) and the continuation's tokens past len(tok(context)) of tok(context + continuation)
bpe-train -q --vocab-size 1000 -o tok1k.json t.jsonl
shard-pack -q -t tok1k.json -o s1k --val-fraction 0 t.jsonl &&
	lm-train --data 's1k/*.bin' -t tok1k.json --model model.json --context 64 -b 4 -j 1 --steps 2 -q -o run1k
printf '%s\n' '{"query": "Who is it?\n", "choices": ["First Citizen"], "gold": 0}' >span.jsonl
lm-eval -q -j 1 run1k --task span.jsonl --log-samples lspan.jsonl >out
ctx=$(printf '{"text": "Who is it?"}\n' | bpe-encode -t tok1k.json --jsonl | jq -c .ids)
whole=$(printf '{"text": "Who is it?\\n First Citizen"}\n' | bpe-encode -t tok1k.json --jsonl | jq -c .ids)
is "$(jq -c --argjson c "$ctx" --argjson w "$whole" '.requests[0] |
	[(.tokens == $c + $w[($c | length):]), .continuation_tokens == ($w | length) - ($c | length), ($w != .tokens)]' lspan.jsonl)" \
	'[true,true,true]' "a token across the boundary: tok(context) + tok(whole)[len(tok(context)):] fed, as the harness does"

# few-shot: K examples from the other items, never the item itself, the same whatever --limit
printf '%s\n' '{"query": "Q0", "choices": ["a0", "b0"], "gold": 0}' '{"query": "Q1", "choices": ["a1", "b1"], "gold": 1}' \
	'{"query": "Q2", "choices": ["a2", "b2"], "gold": 0}' '{"query": "Q3", "choices": ["a3", "b3"], "gold": 1}' >fs.jsonl
lm-eval -q -j 1 run --task fs.jsonl --num-fewshot 2 --log-samples f2.jsonl >out
is "$?" 0 "--num-fewshot 2: exit 0"
is "$(jq -r '.requests[0].context' f2.jsonl | grep -c '^Q[0-3] [ab][0-3]$')" 8 "  two examples an item, prompt, \" \", gold"
is "$(jq -r '.requests[0].context | split("\n\n") | length' f2.jsonl | sort -u)" 3 "  each followed by an empty line"
is "$(jq -r '.index as $i | .requests[0].context | split("\n\n") | (.[2] == "Q\($i)") and
	(.[0:2] | map(startswith("Q\($i) ")) | any | not)' f2.jsonl | sort -u)" true "  never the item itself"
is "$(jq -r '.requests[0].context | split("\n\n")[0:2] | map(. as $e |
	["Q0 a0", "Q1 b1", "Q2 a2", "Q3 b3"] | index($e) != null) | all' f2.jsonl | sort -u)" true "  each with its gold answer"
lm-eval -q -j 1 run --task fs.jsonl --num-fewshot 2 --limit 2 --log-samples f2l.jsonl >out
is "$(jq -c '.requests[0].context' f2l.jsonl)" "$(head -2 f2.jsonl | jq -c '.requests[0].context')" "  --limit: the same prompts"
lm-eval -q -j 1 run --task fs.jsonl --num-fewshot 2 --fewshot-seed 7 --log-samples f7.jsonl >out
lm-eval -q -j 1 run --task fs.jsonl --num-fewshot 9 --log-samples f9.jsonl >out
is "$?:$(jq -r '.requests[0].context | split("\n\n") | length' f9.jsonl | sort -u)" "0:4" \
	"  more than the task has: all the others"
[ "$(jq -c .requests[0].context f7.jsonl)" != "$(jq -c .requests[0].context f2.jsonl)" ]
ok $? "  another seed, another draw"

# MMLU's and HellaSwag's layouts, and --map
printf '%s\n' '{"question": " What is 2+2? ", "subject": "high_school_math", "choices": ["3", "4", "5", "6"], "answer": 1}' >mmlu.jsonl
lm-eval -q -j 1 run --task mmlu.jsonl --log-samples lm.jsonl -o rm.json >out
is "$?:$(jq -c '[.gold, [.requests[].continuation]]' lm.jsonl)" '0:[1,[" A"," B"," C"," D"]]' "MMLU's layout: letters scored"
is "$(jq -r '.requests[0].context' lm.jsonl)" "The following are multiple choice questions (with answers) about high school math.

What is 2+2?
A. 3
B. 4
C. 5
D. 6
Answer:" "  the harness's MMLU prompt"
printf '%s\n' '{"activity_label": "Cooking", "ctx_a": "A man  cuts [header] an onion.", "ctx_b": "then he", "endings": [" chops it [title] fast.", "eats it."], "label": "1"}' >hs.jsonl
lm-eval -q -j 1 run --task hs.jsonl --log-samples lh.jsonl >out
is "$?:$(jq -c '[.gold, .requests[0].context, [.requests[].continuation]]' lh.jsonl)" \
	'0:[1,"Cooking: A man cuts an onion. Then he",[" chops it. fast."," eats it."]]' "HellaSwag's layout, prepared as the harness does"
printf '%s\n' '{"q": "Q", "opts": ["x", "y"], "label": 1}' >mapped.jsonl
lm-eval -q -j 1 run --task mapped.jsonl --map query=q --map choices=opts --map gold=label --log-samples lmp.jsonl >out
is "$?:$(jq -c '[.gold, .requests[0].context, [.requests[].continuation]]' lmp.jsonl)" '0:[1,"Q",[" x"," y"]]' \
	"--map: other field names"
fails 2 "lm-eval: error: --map: want FIELD=NAME" "--map without =" lm-eval -q run --task mapped.jsonl --map query

# the tokenizer must be the model's; NaN weights stop the run
bpe-train -q --vocab-size 280 -o other.json t.jsonl
fails 1 "lm-eval: error: the tokenizer 'other.json' \(280 tokens, hash [0-9a-f]*\) is not the checkpoint's" \
	"another tokenizer than the checkpoint's: an error" lm-eval -q -j 1 run -t other.json --task ws.jsonl
lm-eval -q -j 1 run -t run/step-0000010/tokenizer.json --task ws.jsonl >out
is "$?" 0 "  the same one by another path: fine"
mkdir -p nan && cp run/step-0000010/config.json run/step-0000010/tokenizer.json run/step-0000010/model.safetensors nan/
size=$(wc -c <nan/model.safetensors)
printf '\377\377\377\377\377\377\377\377' | dd of=nan/model.safetensors bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null
fails 1 "lm-eval: error: ws: the model gave NaN or infinite logits in 2 of 2 requests \(the first in item 0\)" \
	"NaN weights: an error naming the task and item" lm-eval -q -j 1 nan --task ws.jsonl

# generation: greedy until a stop string or a length, exact match after the harness's normalisation
printf '%s\n' '{"context": "First Citizen:\nBefore we proceed any further, hear me", "answers": ["speak"]}' \
	'{"question": "Who wrote Hamlet", "answer": {"aliases": ["Shakespeare", "W. Shakespeare"]}}' \
	'{"context": "", "answers": "x"}' '{"context": "The king", "answer": ["a", "b"], "until": ["e", "o"]}' >gen.jsonl
lm-eval -q -j 1 run --task gen.jsonl --max-gen-tokens 12 -o rg.json --log-samples lg.jsonl >out
is "$?:$(jq -c '.results.gen | keys' rg.json)" '0:["exact_match","exact_match_stderr"]' "generation: exact_match"
is "$(jq -c '.requests[0].until' lg.jsonl | tr -d '\n')" '["\n"]["\n",".",","]["\n"]["e","o"]' \
	"  stop strings: a newline, TriviaQA's, an item's own"
is "$(jq -r 'select(.index == 1) | .requests[0].context' lg.jsonl)" "Question: Who wrote Hamlet?
Answer:" "  TriviaQA's layout: the harness's prompt"
is "$(jq -r 'select(.index == 3) | [(.pred | test("[eo]") | not), .finish] | @tsv' lg.jsonl)" "true	stop" \
	"  an item's until: the output ends before it" "$(jq -c 'select(.index == 3)' lg.jsonl)"
is "$(jq -r 'select(.finish == "length") | .index' lg.jsonl | wc -l | tr -d ' '):$(jq -r 'select(.index == 2) | .requests[0].tokens | length' lg.jsonl)" \
	"$(jq -r 'select(.finish == "length") | .index' lg.jsonl | wc -l | tr -d ' '):1" "  an empty context: end-of-text alone"
# the outputs as answers, upper case, with punctuation: all match
jq -c '{context: .requests[0].context, answers: ["no", "\(.pred | sub("^\\s+"; "") | ascii_upcase)!?"], until: .requests[0].until}' lg.jsonl >gen2.jsonl
lm-eval -q -j 1 run --task gen2.jsonl --max-gen-tokens 12 -o rg2.json --log-samples lg2.jsonl >out
is "$?:$(jq -c '[.pred]' lg2.jsonl | tr -d '\n')" "0:$(jq -c '[.pred]' lg.jsonl | tr -d '\n')" "  greedy: the same outputs again"
is "$(jq '.results.gen2.exact_match' rg2.json)" 1 "  exact match: leading white space, case and punctuation ignored"
lm-eval -q -j 1 run --task gen.jsonl --max-gen-tokens 3 --until zzz --log-samples lg3.jsonl >out
is "$?:$(jq -c '[.finish, .requests[0].until]' lg3.jsonl | sort -u | grep -v '"eot"' | tr -d '\n')" '0:["length",["zzz"]]' \
	"  --until for every item; --max-gen-tokens 3"

# contamination: items sharing a 13-gram with training data, metrics without them
jq -c 'select(.gold == 0) | {text: ("Once: " + .query + " " + .choices[0] + " and more.")}' "$E/arc_easy.jsonl" | head -20 >train.jsonl
printf 'not json\n' >>train.jsonl
lm-eval -j 1 run --task "$E/arc_easy.jsonl" --contamination train.jsonl --contamination s -o rc.json --log-samples lc.jsonl >out 2>err
is "$?:$(cat err)" "0:lm-eval: warning: --contamination: 'train.jsonl': 1 lines skipped (not JSON, no \"text\" string, or over 256 MiB)" \
	"--contamination JSONL and shards: exit 0, the bad line counted"
want=$(jq -r 'select(.gold == 0) | .query' "$E/arc_easy.jsonl" | head -20 | awk 'NF >= 13' | wc -l | tr -d ' ')
is "$(jq '.results.arc_easy.contaminated_items' rc.json)" "$want" "  the items with 13 words or more among those copied"
is "$(jq -r 'select(.contaminated) | .index' lc.jsonl | wc -l | tr -d ' ')" "$want" "  marked in the samples log"
is "$(jq '.results.arc_easy | [.contaminated * 40, .clean.items] | map(round)' rc.json | jq -c .)" "[$want,$((40 - want))]" \
	"  the fraction, and the clean items"
is "$(jq -s --slurpfile r rc.json '[.[] | select(.contaminated | not) | if .pred == .gold then 1 else 0 end] |
	add / length - $r[0].results.arc_easy.clean.acc | fabs < 1e-8' lc.jsonl)" true "  acc on the clean items"
is "$(grep -c '^arc_easy  *acc (clean)' out):$(grep -c '^arc_easy  *contaminated' out)" 1:1 "  in the table"
lm-eval -q -j 1 run --task "$E/arc_easy.jsonl" --contamination s -o rs.json >out
is "$?:$(jq '.results.arc_easy.contaminated' rs.json)" "0:0" "  shards of other text: none"
jq -c '{text: (.query + " " + .choices[0])}' "$E/arc_easy.jsonl" | head -20 | jq -r .text | jq -R -s -c '{id: "a", text: .}' >arc20.jsonl
shard-pack -q -t tok.json -o sa --val-fraction 0 arc20.jsonl
lm-eval -q -j 1 run --task "$E/arc_easy.jsonl" --contamination 'sa/*.bin' -o rg.json >out
is "$?:$(jq '.results.arc_easy.contaminated_items' rg.json)" "0:$(jq -r .query "$E/arc_easy.jsonl" | head -20 | awk 'NF >= 13' | wc -l | tr -d ' ')" \
	"  a pattern of shards, decoded: the items in them"
fails 1 "lm-eval: error: --contamination: 'sa/[*].zz': no file matches" "  a pattern matching nothing" \
	lm-eval -q -j 1 run --task ws.jsonl --contamination 'sa/*.zz'
printf 'c2lm-sig\001\000\000\000' >x.sig
fails 1 "lm-eval: error: --contamination: 'x.sig': a dedup-minhash signature file holds" \
	"  a signature file: refused, saying why" lm-eval -q -j 1 run --task ws.jsonl --contamination x.sig
fails 1 "lm-eval: error: --contamination: cannot open 'nowhere.jsonl'" "  a missing file" \
	lm-eval -q -j 1 run --task ws.jsonl --contamination nowhere.jsonl

# an n-gram index (dedup-minhash sign --ngram-index): the same items as the JSONL it indexes
dedup-minhash sign -q -o train.sig --ngram-index train.ngx train.jsonl 2>/dev/null
lm-eval -q -j 1 run --task "$E/arc_easy.jsonl" --contamination train.ngx -o ri.json --log-samples li.jsonl >out
is "$?:$(jq '.results.arc_easy.contaminated_items' ri.json)" "0:$want" \
	"  an n-gram index of the training JSONL: the same items"
is "$(jq -c 'select(.contaminated) | .index' li.jsonl | tr '\n' ' ')" "$(jq -c 'select(.contaminated) | .index' lc.jsonl | tr '\n' ' ')" \
	"    each of them"
dedup-minhash sign -q -o t5.sig --against-ngram 5 --ngram-index t5.ngx train.jsonl 2>/dev/null
fails 1 "lm-eval: error: --contamination: 't5.ngx': an index of 5-word n-grams, the check's are of 13" \
	"    one of other n-grams: refused" lm-eval -q -j 1 run --task ws.jsonl --contamination t5.ngx
lm-eval -q -j 1 --contamination-ngram 5 run --task "$E/arc_easy.jsonl" --contamination t5.ngx -o r5i.json >out
lm-eval -q -j 1 --contamination-ngram 5 run --task "$E/arc_easy.jsonl" --contamination train.jsonl -o r5j.json >out 2>/dev/null
n5=$(jq '.results.arc_easy.contaminated_items' r5j.json)
is "$(jq '.results.arc_easy.contaminated_items' r5i.json):$([ "${n5:-0}" -gt "$want" ] 2>/dev/null && echo more)" "$n5:more" \
	"    with --contamination-ngram 5: as the JSONL (more items than with 13-grams)"
size=$(wc -c <train.ngx)
head -c $((size - 5)) train.ngx >cut.ngx
fails 1 "lm-eval: error: --contamination: 'cut.ngx': cut short or grown" "    cut short: refused" \
	lm-eval -q -j 1 run --task ws.jsonl --contamination cut.ngx
head -c $((size - 8)) train.ngx >cut.ngx
fails 1 "lm-eval: error: --contamination: 'cut.ngx': no end mark" "    a hash short: refused" \
	lm-eval -q -j 1 run --task ws.jsonl --contamination cut.ngx
cp train.ngx bad.ngx
printf '\377' | dd of=bad.ngx bs=1 seek=40 conv=notrunc 2>/dev/null
fails 1 "lm-eval: error: --contamination: 'bad.ngx': " "    a byte changed: refused" \
	lm-eval -q -j 1 run --task ws.jsonl --contamination bad.ngx

# memory: checked before the model is made
fails 1 "lm-eval: error: evaluation needs about .* of memory \(weights .*\), more than the 1.0 MiB available \(CRAWL2LM_MEMORY\): lower --batch-tokens" \
	"too little memory: an error before allocating, saying what to lower" env CRAWL2LM_MEMORY=1M lm-eval -q -j 1 run --task ws.jsonl

# bad task files: errors naming the file and line
: >none.jsonl
printf '%s\n' '{"query": "q", "choices": ["a"], "gold": 0}' '{"query": "q", "choices": ["a"]}' >nogold.jsonl
printf '%s\n' '{"query": "q", "choices": ["a", "b"], "gold": 2}' >range.jsonl
printf '%s\n' '{"query": "q", "choices": ["a"], "gold": 0}' '{"query": "q", ' >bad.jsonl
printf '%s\n' '{"question": "q"}' >other.jsonl
printf '%s\n' '{"query": "q", "choices": ["a"], "gold": 0}' '{"context": "c", "continuation": "x"}' >mixed.jsonl
fails 1 "lm-eval: error: 'none.jsonl': no items$" "an empty task file: an error" \
	lm-eval -q -j 1 run --task none.jsonl
fails 1 "lm-eval: error: 'nogold.jsonl': line 2: no integer \"gold\"$" "an item without gold" \
	lm-eval -q -j 1 run --task nogold.jsonl
fails 1 "lm-eval: error: 'range.jsonl': line 1: gold 2 is not one of the 2 choices$" "a gold out of range" \
	lm-eval -q -j 1 run --task range.jsonl
fails 1 "lm-eval: error: 'bad.jsonl': line 2: " "a malformed line" lm-eval -q -j 1 run --task bad.jsonl
fails 1 "lm-eval: error: 'other.jsonl': line 1: not a task item" "an unknown format" \
	lm-eval -q -j 1 run --task other.jsonl
printf '%s\n' '{"query": "q", "choices": ["a"], "gold": 0, "gold": 1}' >dup.jsonl
fails 1 "lm-eval: error: 'dup.jsonl': line 1: duplicate object key" "a duplicate key: an error" \
	lm-eval -q -j 1 run --task dup.jsonl
fails 1 "lm-eval: error: 'mixed.jsonl': line 2: a lambada item in a multiple choice task" "formats mixed" \
	lm-eval -q -j 1 run --task mixed.jsonl
fails 1 "lm-eval: error: .*'missing.jsonl'.*No such file" "a missing task file, named" \
	lm-eval -q -j 1 run --task missing.jsonl
mkdir -p d && cp ws.jsonl d/
lm-eval -q -j 1 run --task ws.jsonl --task ppl:d/ws.jsonl >out 2>err
is "$?:$(head -1 err)" "2:lm-eval: error: --task: 'ws.jsonl' and 'd/ws.jsonl' are both named 'ws'" \
	"two tasks of the same name: a usage error"
lm-eval -q -j 1 run >out 2>err
is "$?" 2 "no --task: a usage error"

done_testing
