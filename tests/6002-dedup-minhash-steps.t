#!/bin/sh
# dedup-minhash sign / cluster / filter: the streaming result exactly, over shards, with sorts
# spilled to disk; the files checked on read (truncated, damaged, foreign, other version, other
# parameters); the input checked against the list; options where they belong.
. "${SRCDIR:-.}/tests/lib.sh"

ev=$DATA/eval
# A corpus of real texts with planted duplicates: paragraphs of extracted pages, dialogues,
# questions and story passages (these match the lambada evaluation set); copies upper-cased
# (exact after normalisation), with a word changed or the end cut (near), at a url seen
# before (url); empty and one-word texts, a record without text, a malformed line.
{
	boilerplate-strip "$DATA/jsonl/warc-pages.jsonl" 2>/dev/null |
		jq -c '.url as $u | .text | split("\n") | .[] | select(length > 60) | {text: ., url: $u}'
	jq -c '{text: .chosen, url: "https://hh.example/\(input_line_number)"}' "$DATA/jsonl/hh-rlhf-40.jsonl"
	jq -c '{text: .query, url: "https://arc.example/\(input_line_number)"}' "$DATA/jsonl/arc_easy-150.jsonl"
	jq -c '{text: (.context + " " + .continuation), url: "https://story.example/\(input_line_number)"}' \
		"$ev/lambada_openai.jsonl"
} >base.jsonl
jq -c -n '[inputs] | to_entries | map(.key as $i | .value as $d | [$d + {id: "o\($i)"}]
	+ (if $i % 4 == 0 then [{id: "e\($i)", text: ($d.text | ascii_upcase), url: "\($d.url)#e"}] else [] end)
	+ (if $i % 4 == 1 then [{id: "n\($i)", text: ($d.text | sub("(?<w>[A-Za-z]+)(?<r>[^A-Za-z]*)$"; "word\(.r)")), url: "\($d.url)#n"}] else [] end)
	+ (if $i % 6 == 2 then [{id: "t\($i)", text: ($d.text | .[0:(length * 9 / 10 | floor)]), url: "\($d.url)#t"}] else [] end)
	+ (if $i % 7 == 3 then [{id: "u\($i)", text: "another text at the same address, number \($i)", url: $d.url}] else [] end))
	| flatten | to_entries | sort_by((.key * 2654435761) % 1000003) | .[].value' base.jsonl >corpus.jsonl
printf '{"id":"empty1","text":""}\n{"id":"w1","text":"word"}\n{"id":"w2","text":"Word!"}\n{"id":"none"}\n{"id":"bad","text":"x\n{"id":"empty2","text":"  ..  "}\n' >>corpus.jsonl
docs=$(grep -c . corpus.jsonl)
ok $([ "$docs" -gt 450 ] && echo 0 || echo 1) "a corpus of $docs records"
total=$(($(wc -l <corpus.jsonl) + 2))
split -l $((total / 3)) -d --additional-suffix=.jsonl corpus.jsonl shard
shards="shard00.jsonl shard01.jsonl shard02.jsonl"
is "$(ls shard*.jsonl | wc -l)" 3 "three shards"

# streaming vs steps: output, rejects (reasons and metadata) and counts the same
same() {
	name=$1
	shift
	dedup-minhash "$@" --stats s.json --rejects srej.jsonl $shards >sout.jsonl 2>/dev/null
	for s in $shards; do
		dedup-minhash sign "$@" -o "${s%.jsonl}.sig" "$s" 2>/dev/null || echo "sign $s failed"
	done
	dedup-minhash cluster --memory 64K --stats c.json shard0*.sig || echo "cluster failed"
	for s in $shards; do
		dedup-minhash filter --list "${s%.jsonl}.dups" --rejects "r-$s" "$s" 2>/dev/null
	done >mout.jsonl
	cat r-shard0*.jsonl >mrej.jsonl
	test_cmp sout.jsonl mout.jsonl "$name: the records kept and their metadata.dedup equal the streaming mode's"
	test_cmp srej.jsonl mrej.jsonl "$name: the records dropped, with reasons, equal"
	is "$(jq -c '.dedup | [.documents, .kept, .exact_duplicates, .near_duplicates, .url_duplicates, .empty]' c.json)" \
		"$(jq -c '.dedup | [.documents, .kept, .exact_duplicates, .near_duplicates, .url_duplicates, .empty]' s.json)" \
		"$name: cluster's counts equal"
}
same "defaults"
is "$(jq -r '[.dedup.exact_duplicates > 20, .dedup.near_duplicates > 10, .dedup.sort_runs > 1] | all' c.json)" true \
	"exact and near duplicates found, sorts spilled (--memory 64K)"
same "urls and decontamination" --urls --against "$ev/lambada_openai.jsonl" --against "$ev/arc_easy.jsonl"
is "$(jq -r '[.dedup.url_duplicates > 5, .dedup.contaminated > 5] | all' c.json)" true "url duplicates and contaminated documents found"
is "$(jq -r '.metadata.reject.reason' mrej.jsonl | sort -u | tr '\n' ' ')" \
	"contaminated exact_duplicate near_duplicate url_duplicate " "every reason met"
same "--annotate-only with contamination" --annotate-only --urls --against "$ev/lambada_openai.jsonl"
is "$(jq -r 'select(.metadata.dedup.contaminated and .metadata.dedup.duplicate_of) | .id' mout.jsonl | wc -l | tr -d ' ')" \
	"$(jq -r 'select(.metadata.dedup.contaminated and .metadata.dedup.duplicate_of) | .id' sout.jsonl | wc -l | tr -d ' ')" \
	"contaminated documents kept take part in deduplication"
same "--verify" --verify --threshold 0.7
is "$(jq -r '.dedup.verified_pairs > 0' c.json)" true "candidate pairs verified from the signature files"
same "--no-exact, other bands" --no-exact --ngram 3 --bands 9 --rows 4 --seed 7
# one shard, the default memory (no spill), is the streaming run over that file
dedup-minhash sign -o one.sig corpus.jsonl 2>/dev/null
dedup-minhash cluster -o lists one.sig 2>/dev/null
ok $? "cluster -o DIR"
dedup-minhash filter --list lists/one.dups corpus.jsonl 2>/dev/null >one.jsonl
dedup-minhash corpus.jsonl 2>/dev/null >one-s.jsonl
test_cmp one-s.jsonl one.jsonl "one shard, sorted in memory: the same"
is "$(ls lists)" "one.dups" "no temporary files left"

# the files checked on read
head -c -5 one.sig >cut.sig
dedup-minhash cluster cut.sig 2>err
is "$?" 1 "a truncated signature file: exit 1"
like "$(cat err)" "cut.sig: truncated" "named, and said"
size=$(wc -c <one.sig)
head -c $((size - 32)) one.sig >notrailer.sig
dedup-minhash cluster notrailer.sig 2>err
like "$(cat err)" "notrailer.sig: truncated: no end mark" "cut at a record's end: no end mark"
cp one.sig flip.sig
printf '\377' | dd of=flip.sig bs=1 seek=200 conv=notrunc 2>/dev/null
dedup-minhash cluster flip.sig 2>err
is "$?" 1 "a damaged byte: exit 1"
like "$(cat err)" "flip.sig: damaged: checksum mismatch" "found by the checksum"
ls flip.dups 2>/dev/null
is "$?" 2 "and no list written"
dedup-minhash cluster corpus.jsonl 2>err
like "$(cat err)" "not a dedup-minhash signature file" "a foreign file"
: >empty.sig
dedup-minhash cluster empty.sig 2>err
like "$(cat err)" "empty.sig: not a dedup-minhash signature file" "an empty file"
cp one.sig v2.sig
printf '\002' | dd of=v2.sig bs=1 seek=8 conv=notrunc 2>/dev/null
dedup-minhash cluster v2.sig 2>err
like "$(cat err)" "version 2: this dedup-minhash reads version 1" "another version"
dedup-minhash cluster lists/one.dups 2>err
like "$(cat err)" "a duplicate list, not a signature file" "a list given for a signature file"
dedup-minhash sign --bands 10 -o other.sig shard00.jsonl 2>/dev/null
dedup-minhash cluster one.sig other.sig 2>err
is "$?" 1 "signature files with other parameters: exit 1"
like "$(cat err)" "other.sig: signed with other parameters than one.sig \\(--bands differs\\)" "the option named"
mkdir -p a b
cp shard00.sig a/x.sig
cp shard01.sig b/x.sig
dedup-minhash cluster -o lists a/x.sig b/x.sig 2>err
is "$?" 2 "two files that would write one list: usage error"

# filter checks its list and its input
dedup-minhash filter --list shard00.dups shard01.jsonl >wrong.jsonl 2>err
is "$?" 1 "filter on another shard's input: exit 1"
like "$(cat err)" "not the same input" "said"
sed 's/the /THE /' shard00.jsonl >edited.jsonl
dedup-minhash filter --list shard00.dups edited.jsonl >/dev/null 2>err
like "$(cat err)" "texts differ from the shard signed" "same count, other texts: found by the fingerprint"
head -c -3 shard00.dups >cut.dups
dedup-minhash filter --list cut.dups shard00.jsonl >cut-out.jsonl 2>err
is "$?" 1 "a truncated list: exit 1"
is "$(wc -c <cut-out.jsonl | tr -d ' ')" 0 "before any record is written"
cp shard00.dups flip.dups
printf '\377' | dd of=flip.dups bs=1 seek=100 conv=notrunc 2>/dev/null
dedup-minhash filter --list flip.dups shard00.jsonl >/dev/null 2>err
like "$(cat err)" "checksum mismatch|damaged" "a damaged list"
dedup-minhash filter --list shard00.sig shard00.jsonl >/dev/null 2>err
like "$(cat err)" "a signature file, not a duplicate list" "a signature file given for a list"

# empty input: a valid file of no documents
: >none.jsonl
dedup-minhash sign -o none.sig none.jsonl && dedup-minhash cluster none.sig && dedup-minhash filter --list none.dups none.jsonl >none.out
ok $? "an empty shard signs, clusters and filters"
is "$(wc -c <none.out | tr -d ' ')" 0 "to nothing"
# a failed input leaves no signature file
head -c 2000 corpus.jsonl | gzip | head -c 700 >trunc.jsonl.gz
dedup-minhash sign -o trunc.sig trunc.jsonl.gz 2>err
is "$?" 1 "sign of a truncated input: exit 1"
ok $([ ! -e trunc.sig ] && [ ! -e trunc.sig.tmp ] && echo 0 || echo 1) "and no signature file, whole or part"

# the n-gram index: every 13-word n-gram's hash once, ascending; the same whatever the memory
dedup-minhash sign -o i.sig --ngram-index i.ngx --stats i.json corpus.jsonl 2>/dev/null
ok $? "sign --ngram-index"
is "$(jq -r '.ngram_index | [.ngram == 13, .ngrams > .distinct, .distinct > 1000, .runs == 0] | all' i.json)" true \
	"  the n-grams counted, each distinct one kept once, sorted in memory"
is "$(($(wc -c <i.ngx) - 48))" "$(($(jq .ngram_index.distinct i.json) * 8))" "  8 bytes a hash, a header and a trailer"
is "$(od -A n -t x8 -j 24 -v i.ngx | tr -s ' ' '\n' | grep . | head -n -3 | sort -c 2>&1 && echo sorted)" "sorted" \
	"  ascending"
dedup-minhash sign -o i2.sig --ngram-index i2.ngx --memory 64K --stats i2.json corpus.jsonl 2>/dev/null
test_cmp i.ngx i2.ngx "  --memory 64K, spilled to runs: the same file"
is "$(jq '.ngram_index.runs > 1' i2.json)" true "  (in runs)"
test_cmp i.sig i2.sig "  the signature file as without the index"
dedup-minhash sign -o i5.sig --against-ngram 5 --ngram-index i5.ngx --stats i5.json corpus.jsonl 2>/dev/null
is "$(jq -r '.ngram_index | [.ngram == 5, .distinct > 1000] | all' i5.json)" true "  --against-ngram 5: 5-word n-grams"
printf '{"text":"cut' >cut.jsonl
dedup-minhash sign -o c.sig --ngram-index c.ngx shard00.jsonl cut.jsonl 2>/dev/null
ok $([ ! -e c.ngx ] && echo 0 || echo 1) "  a failed input: no index"
dedup-minhash --ngram-index x.ngx shard00.jsonl 2>err >/dev/null
is "$?" 2 "--ngram-index in the streaming mode: usage error"
like "$(cat err)" "belongs to .dedup-minhash sign" "  it belongs to sign"

# options where they belong
dedup-minhash sign --lines -o x.sig shard00.jsonl 2>err
is "$?" 2 "sign --lines: usage error"
like "$(cat err)" "streaming mode only" "said why"
dedup-minhash sign shard00.jsonl 2>/dev/null
is "$?" 2 "sign without -o: usage error"
dedup-minhash filter --list shard00.dups --ngram 3 shard00.jsonl 2>err
is "$?" 2 "filter --ngram: usage error"
like "$(cat err)" "given to sign" "it belongs to sign"
dedup-minhash filter shard00.jsonl 2>/dev/null
is "$?" 2 "filter without --list: usage error"
dedup-minhash --list shard00.dups shard00.jsonl 2>/dev/null
is "$?" 2 "--list in the streaming mode: usage error"
dedup-minhash cluster 2>/dev/null
is "$?" 2 "cluster without files: usage error"
for step in sign cluster filter; do
	dedup-minhash $step --help >h.txt
	ok $? "$step --help"
done
like "$(dedup-minhash filter --help)" "--list" "filter --help names --list"
like "$(dedup-minhash cluster --help)" "--memory" "cluster --help names --memory"
done_testing
