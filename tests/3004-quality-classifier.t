#!/bin/sh
# quality-score's linear classifier: --train on labelled records (reference text against
# raw-page text), --classifier scoring and dropping, the model shared with domain-tag, and bad
# models and options.
. "${SRCDIR:-.}/tests/lib.sh"

# hq: lines of Shakespeare; web: navigation and sharing boilerplate with a few of the same words
zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 200000 >shake.txt
awk 'BEGIN { srand(7) }
	NR == FNR { if (length($0) > 20) l[n++] = $0; next }
	END {
		split("home about contact login register share facebook twitter cookies privacy terms menu search subscribe newsletter next previous page comments reply posted by tags categories archive copyright all rights reserved advertisement sponsored click here read more", w, " ")
		for (i = 0; i < 400; i++) {
			t = ""
			if (i % 2) { for (k = 0; k < 12; k++) t = t l[int(rand() * n)] "\\n"; lab = "hq" }
			else { for (k = 0; k < 120; k++) t = t (rand() < 0.15 ? "the " : "") w[1 + int(rand() * 32)] (k % 9 ? " " : "\\n"); lab = "web" }
			printf "{\"id\":\"d%d\",\"label\":\"%s\",\"text\":\"%s\"}\n", i, lab, t
		}
	}' shake.txt shake.txt >labelled.jsonl
is "$(jq -r .label labelled.jsonl | sort | uniq -c | awk '{ printf "%s %s ", $1, $2 }')" "200 hq 200 web " "400 labelled records"

quality-score --train labelled.jsonl --holdout 0.25 --positive hq -o q.model 2>train.err
is "$?" 0 "--train writes a model"
like "$(cat train.err)" "400 labelled in 2 labels.*held out [0-9]+: accuracy (0\.9|1\.0)" "  its held-out accuracy"
like "$(cat train.err)" "; hq at 0\.5: precision (0\.9|1\.0)[0-9]*, recall (0\.9|1\.0)" "  hq's precision and recall"
quality-score --train labelled.jsonl --holdout 0.25 --positive hq -o q2.model 2>/dev/null
test_cmp q.model q2.model "  the same data and seed: the same model, byte for byte"
quality-score -q --train labelled.jsonl --holdout 0.25 --seed 2 -o q3.model
ok "$(cmp -s q.model q3.model; test $? = 1; echo $?)" "  another --seed: another model"

# scoring: the held-out pages and new ones
jq -c 'select(.id | test("^d1[0-9]$")) | del(.label)' labelled.jsonl >pages.jsonl
quality-score --preset none --assume-lang en --classifier q.model --positive hq --annotate-only \
	--stats s.json pages.jsonl >scored.jsonl
is "$(wc -l <scored.jsonl | tr -d ' ')" 10 "--classifier --annotate-only: every record kept"
is "$(jq -r '.metadata.quality.classifier.label' scored.jsonl | sort -u)" hq "  metadata.quality.classifier.label: the --positive label"
is "$(jq -r 'select((.id | ltrimstr("d") | tonumber) % 2 == 1) | .metadata.quality.classifier.score > 0.5' scored.jsonl | sort -u)" true \
	"  Shakespeare scores above 0.5"
is "$(jq -r 'select((.id | ltrimstr("d") | tonumber) % 2 == 0) | .metadata.quality.classifier.score < 0.5' scored.jsonl | sort -u)" true \
	"  boilerplate below"
like "$(jq -r .quality.classifier_seconds s.json)" "^[0-9.e-]+$" "  --stats: the classifier's time"
quality-score --preset none --assume-lang en --classifier q.model --positive hq --rejects rej.jsonl pages.jsonl >kept.jsonl
is "$(jq -r .id kept.jsonl | tr '\n' ' ')" "d11 d13 d15 d17 d19 " "--min-score 0.5 (default): the pages below dropped, order kept"
is "$(jq -r .metadata.reject.reason rej.jsonl | sort -u)" classifier "  to --rejects, the reason 'classifier'"
is "$(quality-score --preset none --assume-lang en --classifier q.model --positive web --min-score 0.5 pages.jsonl | jq -r .id | tr '\n' ' ')" \
	"d10 d12 d14 d16 d18 " "--positive web: the other label scored, the other pages kept"
is "$(quality-score --preset none --assume-lang en --classifier q.model --min-score 0 pages.jsonl | jq -r .metadata.quality.classifier.label | sort -u)" web \
	"  of two labels, the second by name by default"
quality-score --assume-lang en --classifier q.model --positive hq --rejects rej2.jsonl pages.jsonl >/dev/null
is "$(jq -r 'select(.id == "d10") | .metadata.reject.reason != "classifier"' rej2.jsonl)" true \
	"the rules decide first: boilerplate dropped for a rule, not the classifier"

# the model file is domain-tag's: either program reads the other's
domain-tag --model q.model pages.jsonl >dt.jsonl
is "$(jq -r 'select(.id == "d11") | .metadata.domain.label' dt.jsonl)" hq "domain-tag reads quality-score's model"
domain-tag -q --train labelled.jsonl -o dt.model
is "$(quality-score --preset none --assume-lang en --classifier dt.model --positive hq --min-score 0 pages.jsonl | jq -r 'select(.id == "d11") | .metadata.quality.classifier.score > 0.5')" true \
	"quality-score reads domain-tag's (character 4-grams)"

# bad models and options
fails 2 "'--classifier': .*checksum mismatch" "a damaged model: usage error" sh -c \
	'cp q.model bad.model && printf X | dd of=bad.model bs=1 seek=5000 conv=notrunc 2>/dev/null && quality-score --classifier bad.model pages.jsonl'
head -c 3000 q.model >short.model
fails 2 "'--classifier': .*(checksum|not a text classifier)" "a truncated model: usage error" quality-score --classifier short.model pages.jsonl
fails 2 "'--classifier': .*not a text classifier model" "a file that is not a model" quality-score --classifier pages.jsonl pages.jsonl
fails 2 "'--positive': the model 'q.model' has no label 'good'" "--positive: a label the model lacks" \
	quality-score --classifier q.model --positive good pages.jsonl
jq -c '.label = (if (.id | ltrimstr("d") | tonumber) % 3 == 0 then "other" else .label end)' labelled.jsonl >three.jsonl
quality-score -q --train three.jsonl -o three.model
fails 2 "has 3 labels: say which is good with --positive" "a model of 3 labels without --positive" \
	quality-score --classifier three.model pages.jsonl
fails 2 "--train wants -o MODEL" "--train without -o" quality-score --train labelled.jsonl
jq -c '.label = "hq"' labelled.jsonl >one.jsonl
fails 1 "need two labels at least" "--train on one label" quality-score --train one.jsonl -o one.model
ok "$(test ! -e one.model; echo $?)" "  no model written"
printf '{"id":"a","label":"hq","text":"x"}\nnot json\n{"id":"b","label":"web"}\n' >>labelled.jsonl
quality-score --train labelled.jsonl -o q4.model 2>train.err
like "$(cat train.err)" "403 records: 401 labelled in 2 labels \(1 without a label or text, 1 malformed\)" \
	"--train: malformed records and records without text counted"
done_testing
