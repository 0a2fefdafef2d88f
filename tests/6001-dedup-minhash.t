#!/bin/sh
# dedup-minhash: exact, near and url duplicates, the first kept, annotations, options, bad input.
. "${SRCDIR:-.}/tests/lib.sh"

base="The committee met on Tuesday to discuss the proposal for the new park. After a long debate, the members agreed that the plan would go ahead in the spring of next year, and that the town would pay for it with the money that had been set aside for the purpose. Critics said it was too expensive and that the schools should come first."
other="Work on the bridge will begin in March. The first part, a footpath along the river, should be open by the summer holidays, the engineers said, if the weather allows it and the steel arrives on time from the mill in the north."
rec() { jq -cn --arg id "$1" --arg t "$2" --arg u "$3" '{id: $id, text: $t, url: $u}'; }
base="$base $base $base $base $base"	# about 300 words: one word changed is J ~ 0.97
rec a "$base" u1 >in.jsonl
rec b "$other" u2 >>in.jsonl
rec c "$(echo "$base" | tr 'a-z' 'A-Z')" u3 >>in.jsonl
rec d "$(echo "$base" | sed 's/Tuesday/Wednesday/')" u4 >>in.jsonl
rec e "" u5 >>in.jsonl
rec f "" u6 >>in.jsonl
rec g "$other" u2 >>in.jsonl

dedup-minhash --stats s.json --rejects rej.jsonl in.jsonl >out.jsonl
is "$(jq -r .id out.jsonl | tr '\n' ' ')" "a b e f " "the first of each group kept; empty texts kept"
is "$(jq -r '.id + ":" + .metadata.reject.reason' rej.jsonl | tr '\n' ' ')" \
	"c:exact_duplicate d:near_duplicate g:exact_duplicate " "exact after normalisation, near with a word changed"
is "$(jq -c '[.dedup.documents, .dedup.kept, .dedup.exact_duplicates, .dedup.near_duplicates, .dedup.empty]' s.json)" \
	"[7,4,2,1,2]" "--stats: counts"
dedup-minhash --annotate-only in.jsonl >ann.jsonl
is "$(wc -l <ann.jsonl)" 7 "--annotate-only keeps every record"
is "$(jq -c '.metadata.dedup' ann.jsonl | tr '\n' ' ')" \
	'{"cluster":0} {"cluster":1} {"cluster":0,"duplicate_of":0,"kind":"exact","similarity":1} {"cluster":0,"duplicate_of":0,"kind":"near"} {"cluster":4} {"cluster":5} {"cluster":1,"duplicate_of":1,"kind":"exact","similarity":1} ' \
	"metadata.dedup: cluster, duplicate_of, kind, similarity"
like "$(dedup-minhash --annotate-only --verify in.jsonl | jq -r 'select(.id == "d") | .metadata.dedup.similarity')" "^0\\.[6-9]" \
	"--verify: the estimated similarity"
is "$(dedup-minhash --verify --threshold 1 in.jsonl | jq -r .id | tr '\n' ' ')" "a b d e f " "--threshold 1: the near one is kept"
is "$(dedup-minhash --no-exact in.jsonl | jq -r .id | tr '\n' ' ')" "a b e f " "--no-exact: identical texts are near duplicates still"
is "$(dedup-minhash --no-exact --annotate-only in.jsonl | jq -r 'select(.id == "c") | .metadata.dedup.kind')" "near" "as near ones"
rec h "$base and more words added to it here" u1 >u.jsonl
rec i "a text of its own, unlike the others, about the sea and the boats" u1 >>u.jsonl
is "$(cat in.jsonl u.jsonl | dedup-minhash --urls --stats s2.json | jq -r .id | tr '\n' ' ')" "a b e f " "--urls: a url seen before"
is "$(jq -r .dedup.url_duplicates s2.json)" 3 "counted (g, h, i: checked before the text)"
is "$(dedup-minhash --bands 20 --rows 5 --ngram 3 --seed 9 in.jsonl | jq -r .id | tr '\n' ' ')" "a b e f " "other parameters"
is "$(jq -r '.dedup.table_bytes_per_document > 0' s.json)" true "table bytes reported"

# decontamination against evaluation sets (excerpts in tests/data/eval)
ev=$DATA/eval
ctx=$(sed -n 3p "$ev/lambada_openai.jsonl" | jq -r '.context + " " + .continuation')
q=$(sed -n 7p "$ev/arc_easy.jsonl" | jq -r .query)
rec l1 "From a novel: $ctx The end." x1 >c.jsonl
rec a1 "A quiz. $q Think about it." x2 >>c.jsonl
rec ok1 "$other" x3 >>c.jsonl
rec s1 "$(sed -n 5p "$ev/arc_easy.jsonl" | jq -r '.choices[0]')" x4 >>c.jsonl
dedup-minhash --against "$ev/lambada_openai.jsonl" --against "$ev/arc_easy.jsonl" --stats cs.json --rejects crej.jsonl c.jsonl >cout.jsonl
is "$(jq -r .id cout.jsonl | tr '\n' ' ')" "ok1 s1 " "--against: documents sharing a 13-gram with an item dropped (a short answer alone is not)"
is "$(jq -r '.id + ":" + .metadata.reject.reason' crej.jsonl | tr '\n' ' ')" "l1:contaminated a1:contaminated " "reason: contaminated"
is "$(jq -c '[.contamination.documents, .contamination.by_set.lambada_openai.documents, .contamination.by_set.arc_easy.documents, .contamination.by_set.lambada_openai.items]' cs.json)" \
	"[2,1,1,40]" "--stats: counts per set, and the items read"
is "$(dedup-minhash --annotate-only --against "$ev/arc_easy.jsonl" c.jsonl | jq -c 'select(.id == "a1") | .metadata.dedup.contaminated')" \
	'["arc_easy"]' "--annotate-only: the sets named in metadata.dedup.contaminated"
printf '{"query": "unterminated\n' >bad-eval.jsonl
dedup-minhash --against bad-eval.jsonl c.jsonl >/dev/null 2>err
is "$?" 2 "a malformed evaluation file: usage error"
like "$(cat err)" "bad-eval.jsonl:1:" "naming the file and line"

# --lines: lines seen before removed (compared normalised), the first kept
printf '{"id":"1","text":"Welcome to our site!\\nThe first story is about boats.\\nCopyright 2021 ACME."}\n{"id":"2","text":"WELCOME to our site\\nA second story, about trains.\\nCopyright 2024 Acme"}\n{"id":"3","text":"Welcome to our site"}\n' >lines.jsonl
dedup-minhash --lines --stats ls.json lines.jsonl >lout.jsonl
is "$(jq -c '[.id, .text]' lout.jsonl | tr '\n' ' ')" '["1","Welcome to our site!\nThe first story is about boats.\nCopyright 2021 ACME."] ["2","A second story, about trains."] ["3",""] ' \
	"--lines: the repeated lines go from later documents (case, digits, punctuation aside)"
is "$(jq -c '[.lines.lines, .lines.removed]' ls.json)" "[7,3]" "counted in --stats"
is "$(jq -c '.metadata.dedup.lines_removed' lout.jsonl | tr '\n' ' ')" "null 2 1 " "and per record"

# bad input
printf '{"id":"x","text":42}\nnot json\n{"id":"y","text":"caf\\udc00e"}\n{"id":"z"}\n' >bad.jsonl
dedup-minhash --stats s3.json bad.jsonl >bad.out 2>/dev/null
is "$(jq -r .id bad.out | tr '\n' ' ')" "x z " "records without a text string: kept"
is "$(jq -r .malformed s3.json)" 2 "invalid JSON and a lone surrogate: malformed"
printf '{"id":"w","text":"word"}\n{"id":"w2","text":"Word!"}\n' >one.jsonl
is "$(dedup-minhash one.jsonl | jq -r .id)" "w" "one-word documents: the second an exact duplicate"
awk 'BEGIN { for (d = 0; d < 2; d++) { printf "{\"id\":\"big%d\",\"text\":\"", d; for (i = 0; i < 6000000; i++) printf "w%d ", (i * 7919) % 100003; print "\"}" } }' >big.jsonl
is "$(dedup-minhash big.jsonl | jq -r .id)" "big0" "two 50 MB documents: the second dropped"
dedup-minhash --bands 100 --rows 100 in.jsonl >/dev/null 2>err
is "$?" 2 "too many hashes: usage error"
done_testing
