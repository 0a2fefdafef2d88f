#!/bin/sh
# quality-score on single huge, hostile documents (one line each, tens of MB): every one comes
# out annotated in bounded memory (a 1 GB address-space limit; 'a a a ...' of 25 MB took over
# 1.5 GB before the limits), and the limits it went past are said in metadata.quality.limited.
. "${SRCDIR:-.}/tests/lib.sh"

rec() { printf '{"id":"%s","text":"' "$1"; cat; printf '"}\n'; }
q() { jq -r "select(.id == \"$1\") | .q | $2" meta.jsonl; }

yes a | head -n 12500000 | tr '\n' ' ' | rec aaa >big.jsonl			# 25 MB of 'a a a ...'
head -c 5000000 /dev/zero | tr '\0' a | rec word >>big.jsonl			# one word
yes '\n' | head -n 3000000 | tr -d '\n' | rec newlines >>big.jsonl		# newlines only
seq 1 600000 | sed 's/.*/line &\\n/' | tr -d '\n' | rec lines >>big.jsonl	# distinct lines
seq 1 1000000 | tr '\n' ' ' | rec numbers >>big.jsonl				# distinct words
yes '日本語の文章です。' | head -n 500000 | tr -d '\n' | rec cjk >>big.jsonl	# a word a character

if grep -q __asan_init "$BUILD/bin/quality-score" 2>/dev/null; then
	quality-score --annotate-only --stats s.json big.jsonl >out.jsonl 2>err
	ok $? "six hostile documents (a sanitizer build: no address-space limit)"
else
	(ulimit -v 1048576 && exec quality-score --annotate-only --stats s.json big.jsonl >out.jsonl 2>err)
	ok $? "six hostile documents of up to 25 MB, under a 1 GB address-space limit"
fi
sed 's/^/# /' err
jq -c '{id, q: .metadata.quality}' out.jsonl >meta.jsonl
is "$(jq -r .id meta.jsonl | tr '\n' ' ')" "aaa word newlines lines numbers cjk " "each annotated, in order"
is "$(q aaa '[.words, .limited.ngram_words] | @tsv')" "12500000	4194304" \
	"'a a a ...': every word counted, the n-grams of the first 4194304"
is "$(q aaa '[.frac_top_2_gram_chars > 1.49, .frac_dup_10_gram_chars > 0.49, .frac_dup_lines == 0] | all')" true \
	"and they repeat (the signals of 'a a a')"
is "$(q word '[.words, .mean_word_length, has("limited")] | @tsv')" "1	5000000	false" "one word of 5 MB"
is "$(q newlines '[.words, .frac_dup_lines, .pass.fineweb] | @tsv')" "0	0.5	false" \
	"3 million newlines (two empty lines, around them)"
is "$(q lines '[.words, .frac_dup_lines, has("limited")] | @tsv')" "1200000	0	false" "600,000 distinct lines"
is "$(q numbers '[.words, .frac_top_2_gram_chars < 0.001, has("limited")] | @tsv')" "1000000	true	false" \
	"a million distinct words"
is "$(q cjk '[.words, .limited.ngram_words] | @tsv')" "4500000	4194304" "CJK: a word a character"
is "$(jq -r .quality.limited s.json)" 2 "--stats counts the texts past a limit"

# the limits, smaller: what a text past them gets
printf 'one.\ntwo.\nthree.\none.\ntwo.\nthree.\n' | jq -Rsc '{id: "l", text: .}' >l.jsonl
is "$(quality-score --annotate-only --set max_distinct_lines=2 l.jsonl | jq -c .metadata.quality.limited)" \
	'{"distinct_lines":2}' "--set max_distinct_lines: the limit a text went past, said"
is "$(quality-score --annotate-only --set max_distinct_lines=2 l.jsonl | jq -r .metadata.quality.frac_dup_lines)" \
	0.285714286 \
	"a line first seen past it is not remembered (2 duplicates of 7 lines, not 3)"
is "$(quality-score --annotate-only --set max_distinct_lines=4 l.jsonl | jq -c '.metadata.quality | [.frac_dup_lines, has("limited")]')" \
	"[0.428571429,false]" "within it (four distinct, the last empty): as without a limit"
quality-score --set max_ngram_words=0 l.jsonl >/dev/null 2>err
is "$? $(cat err)" "2 quality-score: error: option '--set' wants an integer in 1..2147483648, not '0'
Try 'quality-score --help' for more information." "max_ngram_words must be at least 1"
done_testing
