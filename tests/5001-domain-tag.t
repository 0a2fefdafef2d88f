#!/bin/sh
# domain-tag: labels from URL rules, a trained classifier for the rest, counts, URL filtering,
# training, bad input.
. "${SRCDIR:-.}/tests/lib.sh"

rec() { jq -cn --arg id "$1" --arg u "$2" --arg t "$3" '{id: $id, url: $u, text: $t}'; }
rec a "https://en.wikipedia.org/wiki/Paris" "Paris is the capital of France." >in.jsonl
rec b "https://www.bbc.co.uk/news/world-1" "The minister said on Tuesday that talks would go on." >>in.jsonl
rec c "https://unknown.example/page" "Mix the flour and the butter, then bake for twenty minutes." >>in.jsonl
jq -c 'del(.url)' <<EOF2 >>in.jsonl
{"id":"d","text":"no url here"}
EOF2

domain-tag --counts counts.tsv --stats s.json in.jsonl >out.jsonl
is "$(jq -c '[.id, .metadata.domain.label, .metadata.domain.source]' out.jsonl | tr '\n' ' ')" \
	'["a","reference","url"] ["b","news","url"] ["c","other","none"] ["d","other","none"] ' \
	"URL rules first; without a model, other"
is "$(grep -v '^#' counts.tsv | sort | tr '\t\n' ': ')" "news:1:52 other:2:70 reference:1:31 " "--counts: documents and text bytes per label"
is "$(jq -c '[.domain.by_url, .domain.by_none]' s.json)" "[2,2]" "--stats: by source"

# training: a label field, or the URL rules' label (weak supervision)
awk 'BEGIN { srand(7); split("flour butter bake oven sugar recipe dough cook", f); split("goal match team player score league coach ball", s);
	for (i = 0; i < 300; i++) { t = ""; for (k = 0; k < 25; k++) t = t (rand() < 0.5 ? "the " : (i % 2 ? f[int(rand()*8)+1] : s[int(rand()*8)+1]) " ");
	printf "{\"id\":\"t%d\",\"label\":\"%s\",\"text\":\"%s\"}\n", i, i % 2 ? "food" : "sports", t } }' >train.jsonl
domain-tag --train train.jsonl -o m.bin 2>train.err
is "$?" 0 "--train writes a model"
like "$(cat train.err)" "300 labelled in 2 labels.*held out [0-9]+: accuracy (0\.9|1\.0)" "and reports its held-out accuracy"
like "$(cat train.err)" "; sports at 0\.5: precision (0\.9|1\.0)[0-9]*, recall (0\.9|1\.0)" \
	"  and of two labels, the second's precision and recall"
domain-tag --train train.jsonl -o m2.bin --positive food --threshold 0.9 2>train.err
like "$(cat train.err)" "; food at 0\.9: precision" "  --positive, --threshold: another label, another cut"
fails 1 "--positive drinks: no record has that label" "  --positive: a label the records lack" \
	domain-tag --train train.jsonl -o m3.bin --positive drinks
domain-tag -q --train train.jsonl -o mq.bin 2>train.err
is "$?: $(cat train.err)" "0: " "-q: errors only, no report"
is "$(domain-tag --model m.bin in.jsonl | jq -r 'select(.id == "c") | .metadata.domain | .label + " " + .source')" "food model" \
	"--model: the classifier labels what the URL does not decide"
like "$(domain-tag --model m.bin in.jsonl | jq -r 'select(.id == "c") | .metadata.domain.score')" "^0\\.[5-9]|^1" "with its probability"
is "$(domain-tag --model m.bin --min-score 1 in.jsonl | jq -r 'select(.id == "c") | .metadata.domain.label')" "other" "--min-score"
rec w "https://www.bbc.co.uk/news/x" "w" >weak.jsonl
rec s "https://www.espn.com/nba/x" "s" >>weak.jsonl
rec n "https://nowhere.example/" "n" >>weak.jsonl
domain-tag --train weak.jsonl --holdout 0 -o w.bin 2>w.err
like "$(cat w.err)" "3 records: 2 labelled in 2 labels \\(1 without a label" "weak labels from the URL rules"
domain-tag --train weak.jsonl 2>/dev/null
is "$?" 2 "--train without -o: usage error"

# URL filtering and rules files
printf 'wikipedia.org\n' >f.txt
domain-tag --url-filter f.txt --rejects rej.jsonl in.jsonl >kept.jsonl
is "$(jq -r .id kept.jsonl | tr '\n' ' ')" "b c " "--url-filter drops a blocked page, and one without a URL"
is "$(jq -r '.id + ":" + .metadata.reject.reason' rej.jsonl | tr '\n' ' ')" "a:url_domain d:url_missing " "to --rejects, with the reason"
printf 'travel host example\n' >r.txt
is "$(domain-tag --rules r.txt in.jsonl | jq -r 'select(.id == "c") | .metadata.domain.label')" "travel" "--rules: a rules file of one's own"
is "$(domain-tag --rules r.txt in.jsonl | jq -r 'select(.id == "a") | .metadata.domain.label')" "other" "instead of the built-in rules"
printf 'oops\n' >bad.txt
domain-tag --rules bad.txt in.jsonl >/dev/null 2>err
is "$?" 2 "a malformed rules file: usage error"
printf 'garbage' >g.bin
domain-tag --model g.bin in.jsonl >/dev/null 2>err
is "$?" 2 "a file that is not a model: usage error"
like "$(cat err)" "not a text classifier model" "said clearly"

# bad input
printf '{"id":"x","url":42,"text":null}\nnot json\n{"id":"y","text":"caf\\udc00e"}\n' >bad.jsonl
domain-tag --stats s2.json bad.jsonl >bad.out 2>/dev/null
is "$(jq -c '[.id, .metadata.domain.label]' bad.out)" '["x","other"]' "a non-string url and text: labelled other"
is "$(jq -r .malformed s2.json)" 2 "invalid JSON and a lone surrogate: malformed"
awk 'BEGIN { printf "{\"id\":\"big\",\"url\":\"https://x.example/recipes/a\",\"text\":\""; for (i = 0; i < 2000000; i++) printf "word "; print "\"}" }' >big.jsonl
is "$(domain-tag --model m.bin big.jsonl | jq -r .metadata.domain.label)" "food" "a 10 MB record"
done_testing
