#!/bin/sh
# quality-score: language identification, each rule family on documents made to pass or fail
# it, the options, and bad input.
. "${SRCDIR:-.}/tests/lib.sh"

good="The committee met on Tuesday to discuss the proposal for the new park. After a long debate, the members agreed that the plan would go ahead in the spring of next year, and that the town would pay for it with the money that had been set aside for the purpose.
Critics of the plan said that it was too expensive. They argued that the money would be better spent on the schools of the town, which have been waiting for repairs for many years, and that the park could wait.
The mayor said that both were important and that the council would look at the schools again in the autumn. The vote was seven to two, with one member absent.
Work on the park will begin in March. The first part, a playground near the river, should be open by the summer holidays."
rec() { jq -cn --arg id "$1" --arg t "$2" '{id: $id, text: $t}'; }

rec good "$good" >in.jsonl
rec short "Too short to be a document." >>in.jsonl
rec bullets "$(for i in $(seq 1 40); do echo "- item number $i of a long list of things that are all listed here."; done)" >>in.jsonl
rec lorem "$good
Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor." >>in.jsonl
rec curly "$good
Write the code between { and } when you use the language for the first time." >>in.jsonl
rec dups "$(for i in $(seq 1 12); do echo "$good" | head -1; done)" >>in.jsonl
rec empty "" >>in.jsonl
rec punct "!!! ... ??? --- *** ### ... !!!" >>in.jsonl

quality-score --annotate-only --stats s.json in.jsonl >out.jsonl
is "$(wc -l <out.jsonl)" 8 "--annotate-only keeps every record"
is "$(jq -r 'select(.id == "good") | .metadata.quality.failed | length' out.jsonl)" 0 "a good English document passes every rule"
is "$(jq -r 'select(.id == "good") | .metadata.lang.code' out.jsonl)" en "metadata.lang: English"
like "$(jq -r 'select(.id == "good") | .metadata.lang.score' out.jsonl)" "^0\\.9" "with a high score"
is "$(jq -r 'select(.id == "short") | .metadata.quality.failed | index("gopher_short_doc") != null' out.jsonl)" true "short document: gopher_short_doc"
is "$(jq -r 'select(.id == "bullets") | .metadata.quality.failed | index("gopher_too_many_bullets") != null' out.jsonl)" true "bullet lines: gopher_too_many_bullets"
is "$(jq -r 'select(.id == "lorem") | .metadata.quality.failed | index("lorem_ipsum") != null' out.jsonl)" true "C4: lorem ipsum"
is "$(jq -r 'select(.id == "curly") | .metadata.quality.failed | index("curly_bracket") != null' out.jsonl)" true "C4: curly bracket"
is "$(jq -r 'select(.id == "dups") | .metadata.quality.pass.gopher_repetition' out.jsonl)" false "repeated lines fail Gopher repetition"
is "$(jq -r 'select(.id == "dups") | .metadata.quality.frac_dup_lines > 0.9' out.jsonl)" true "and the signal is recorded"
is "$(jq -r 'select(.id == "empty") | .metadata.quality.pass.fineweb' out.jsonl)" false "empty text: a clear outcome (fails)"
is "$(jq -c 'select(.id == "empty") | .metadata.quality | [.frac_lines_terminal_punct, .frac_short_lines, .frac_dup_line_chars_fineweb, .newlines_per_word]' out.jsonl)" \
	"[0,0,0,0]" "and FineWeb's signals 0 (not those of the record before)"
is "$(jq -r 'select(.id == "punct") | .metadata.quality.failed | length > 0' out.jsonl)" true "only punctuation: fails, no crash"
is "$(jq -r 'select(.id == "good") | .metadata.quality | [.words > 100, .mean_word_length > 3, .frac_words_alpha > 0.8, .stop_words >= 5] | all' out.jsonl)" true \
	"signals recorded"

# each odd text alone, as the first record (a fresh process, no buffers from before)
for t in "" " " "!!!" "word" "
" "a b" "... ..."; do
	rec one "$t" >one.jsonl
	for w in unicode spacy; do
		quality-score --annotate-only --words $w one.jsonl >one.out 2>one.err
		echo "$? $(jq -r '.metadata.quality.pass | length' one.out)"
	done
done >alone.txt
is "$(sort -u alone.txt | tr '\n' ' ')" "0 5 " "texts of nothing, a space, marks, one or two words, alone: annotated, no crash"

# dropping, rejects with reasons, accounting
quality-score --rejects rej.jsonl --stats s.json in.jsonl >kept.jsonl
is "$(jq -r .id kept.jsonl)" "good" "by default failing records are dropped"
is "$(jq -r '.id + ":" + .metadata.reject.reason' rej.jsonl | sort | tr '\n' ' ')" \
	"bullets:top_3_gram curly:curly_bracket dups:dup_line_frac empty:empty lorem:lorem_ipsum punct:top_2_gram short:top_2_gram " \
	"rejects carry the first failed rule, in FineWeb's order (repetition, quality, C4, FineWeb)"
is "$(jq -r '.read == .kept + .dropped + .malformed' s.json)" true "read = kept + dropped + malformed"

# options
is "$(quality-score --set min_words=5 --rules gopher_quality in.jsonl | jq -r .id | tr '\n' ' ')" "good short lorem curly dups " \
	"--set and --rules: only Gopher quality decides, with 5 words enough"
rec noterm "$(echo "$good" | sed '$s/\.$//')
A line without an end
Another line without one" >t.jsonl
is "$(quality-score --annotate-only --rules c4 t.jsonl | jq -r '.metadata.quality.c4_lines_removed')" 3 "C4 removes lines without terminal punctuation"
is "$(quality-score --annotate-only --rules c4 t.jsonl | jq -r '.text | split("\n") | length')" 3 "and edits the text"
is "$(quality-score --annotate-only --no-edit --rules c4 t.jsonl | jq -r '.text | split("\n") | length')" 6 "--no-edit leaves it"
is "$(quality-score --annotate-only --preset fineweb --rules c4 t.jsonl | jq -r '.metadata.quality.c4_lines_removed')" 0 \
	"--preset fineweb: C4 without the terminal punctuation rule"
# C4's sentences: with --words spacy as spaCy's sentencizer counts them (the danda ends a
# sentence; "Dr." and "e.g." do not; "Hello.World" is two), by default at . ! ? before a space
hi="यह एक वाक्य है। यह दूसरा वाक्य है।"
rec sent "$hi
$hi
$hi
Dr. Smith saw e.g. this one.
It said Hello.World twice." >s.jsonl
c4s() { quality-score --annotate-only --preset fineweb --rules c4 "$@" s.jsonl | jq -c '[.metadata.quality.c4_sentences, .metadata.quality.pass.c4]'; }
is "$(c4s --words spacy)" "[9,true]" "--words spacy: C4 counts sentences as spaCy's sentencizer does"
is "$(c4s)" "[7,true]" "by default: at . ! ? before a space or the line's end, at least one a line"
# C4's lines are Python's splitlines() (U+2028, a lone CR, ...), stripped and cut into words at
# any white space (U+3000, U+00A0), as C4's code and datatrove do
printf '{"id":"lines","text":"%s"}\n' 'one\u3000two\u3000three.\u2028four\u00a0five six.\rseven eight nine.\u3000\nten eleven twelve.\u000bthirteen fourteen fifteen.\u0085too short' >s.jsonl
is "$(c4s --words spacy)" "[5,true]" "C4: lines at every line break Python knows, words at any white space"
is "$(quality-score --annotate-only --rules c4 s.jsonl | jq -c '.text | split("\n")')" \
	"$(jq -cn '["one\u3000two\u3000three.","four\u00a0five six.","seven eight nine.","ten eleven twelve.","thirteen fourteen fifteen."]')" \
	"the five lines kept (the short one removed), stripped, joined by newlines"
rec de "Der Ausschuss hat sich am Dienstag getroffen, um über den Vorschlag für den neuen Park zu sprechen. Nach einer langen Debatte waren sich die Mitglieder einig, dass der Plan im nächsten Frühjahr umgesetzt wird." >l.jsonl
rec ru "Комитет собрался во вторник, чтобы обсудить предложение о новом парке. После долгих споров члены комитета согласились, что план будет осуществлён весной следующего года." >>l.jsonl
rec zh "委员会周二开会讨论了新公园的提案。经过长时间的辩论，成员们同意该计划将在明年春天实施，镇上将用为此目的预留的资金支付。" >>l.jsonl
is "$(quality-score --annotate-only l.jsonl | jq -r .metadata.lang.code | tr '\n' ' ')" "de ru zh " "German, Russian, Chinese identified"
is "$(quality-score --preset none --lang de l.jsonl | jq -r .id)" "de" "--lang keeps one language"
is "$(quality-score --preset none --lang de --lang-threshold 1 l.jsonl | wc -l)" 0 "--lang-threshold"
is "$(quality-score --annotate-only --assume-lang de l.jsonl | jq -r '.metadata | has("lang")' | sort -u)" false \
	"--assume-lang: nothing identified, metadata.lang not written"
is "$(quality-score --preset none --assume-lang de --lang de l.jsonl | wc -l)" 3 "--assume-lang: --lang compares with it"
head -1 in.jsonl >good.jsonl
is "$(quality-score --annotate-only --preset gopher --assume-lang en good.jsonl | jq -c .metadata.quality)" \
	"$(quality-score --annotate-only --preset gopher good.jsonl | jq -c .metadata.quality)" \
	"--assume-lang en: the same signals as identified English"

# bad input
printf '{"id":"bad","text":"caf\\udc00e"}\nnot json\n' >bad.jsonl
quality-score --annotate-only --stats s.json bad.jsonl >/dev/null 2>err
is "$(jq -r .malformed s.json)" 2 "invalid JSON and a lone surrogate escape: counted as malformed"
awk 'BEGIN { printf "{\"id\":\"big\",\"text\":\""; for (i = 0; i < 5000000; i++) printf "word%d ", i % 1000; print "\"}" }' >big.jsonl
quality-score --annotate-only big.jsonl | jq -r '.metadata.quality.words' >bigw
is "$(cat bigw)" 5000000 "a 44 MB single-line document"
is "$(quality-score --annotate-only --words spacy --preset gopher big.jsonl | jq -r '.metadata.quality.words')" 5000000 \
	"--words spacy: the same 44 MB document"
awk 'BEGIN { printf "{\"id\":\"blob\",\"text\":\"x "; for (i = 0; i < 300000; i++) printf "=(a)."; print " y\"}" }' >blob.jsonl
is "$(quality-score --annotate-only --words spacy blob.jsonl | jq -r '.metadata.quality.words')" 3 \
	"--words spacy: 1.5 MB without white space is one word, uncut"
printf '{"id":"p","text":"!?.,;:)(][ ... ---"}\n' >punct.jsonl
is "$(quality-score --annotate-only --words spacy punct.jsonl | jq -c '[.metadata.quality.words, .metadata.quality.non_symbol_words]')" \
	"[11,0]" "--words spacy: text of only punctuation, as spaCy cuts it, all symbols"
done_testing
