#!/bin/sh
# lm-judge against judge-fake (tests/tools: canned answers chosen by the prompt: the longer
# response, always the first shown, MT-Bench's [[A]], garbage, 500, 429, 400, a slow answer, a
# body that is not JSON) and against lm-serve on a tiny model: verdicts in both orders (position
# bias cancelled into a tie), nonsense counted and retried, retries on 5xx/429/timeouts and not
# on 400, errors written and counted, output in input order at any -j, HH-RLHF pairs and human
# agreement, battles for lm-arena, the API key, the template's checks.
. "${SRCDIR:-.}/tests/lib.sh"

printf 'P={prompt}|A={response_a}|B={response_b}|' >t.txt

# fake ARGS...: judge-fake on a free port in the background: $fpid, $fport
fake() {
	rm -f fport
	judge-fake --lifetime 300 "$@" >fport &
	fpid=$!
	i=0
	while [ ! -s fport ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
	fport=$(cat fport)
}
fake --log log
url=http://127.0.0.1:$fport/v1
J="lm-judge --endpoint $url --template t.txt --backoff 0.01"

cat >in.jsonl <<'EOF'
{"prompt": "longer", "response_a": "short", "response_b": "a longer one", "model_a": "m1", "model_b": "m2"}
{"prompt": "first", "response_a": "xx", "response_b": "y", "model_a": "m1", "model_b": "m2"}
{"prompt": "shorter", "responses": ["xx", "y"], "model_a": "m2"}
{"prompt": "mtbench", "responses": ["xx", "yyy"]}
{"prompt": "tie", "responses": ["xx", "yyy"]}
{"prompt": "garbage-once", "responses": ["xxx", "yy"]}
{"prompt": "garbage", "responses": ["xx", "yyy"]}
not a record
{"prompt": "500-once,429-once,notjson-once", "responses": ["xx", "yyy"]}
{"prompt": "400", "responses": ["xx", "yyy"]}

{"prompt": "slow-once", "response_a": "long answer", "response_b": "short"}
{"chosen": "\n\nHuman: hi\n\nAssistant: hello, how are you", "rejected": "\n\nHuman: hi\n\nAssistant: go"}
{"prompt": "x", "response_a": "", "response_b": "y"}
EOF
$J --timeout 1 --retries 3 --stats s.json --verdicts v.jsonl --rejects r.jsonl --battles b.jsonl -o pairs.jsonl in.jsonl 2>err
is "$?:$(tail -1 err)" "1:lm-judge: error: 4 of 13 records not judged (2 errors, 2 malformed)" \
	"records not judged: exit 1, counted"
cat >expect <<'EOF'
{"prompt":"longer","chosen":"a longer one","rejected":"short"}
{"prompt":"shorter","chosen":"y","rejected":"xx"}
{"prompt":"mtbench","chosen":"yyy","rejected":"xx"}
{"prompt":"garbage-once","chosen":"xxx","rejected":"yy"}
{"prompt":"500-once,429-once,notjson-once","chosen":"yyy","rejected":"xx"}
{"prompt":"slow-once","chosen":"long answer","rejected":"short"}
{"prompt":"\n\nHuman: hi\n\nAssistant:","chosen":" hello, how are you","rejected":" go"}
EOF
test_cmp expect pairs.jsonl "preference pairs in input order; an HH-RLHF pair split as TRL does"
is "$(jq -c '[.line, .verdict, .a_first, .b_first]' v.jsonl | tr '\n' ' ')" \
	'[1,"b","B","A"] [2,"tie","A","A"] [3,"b","B","A"] [4,"b","B","A"] [5,"tie","C","C"] [6,"a","A","B"] [7,"error",null,null] [8,"malformed",null,null] [9,"b","B","A"] [10,"error",null,null] [12,"a","A","B"] [13,"a","A","B"] [14,"malformed",null,null] ' \
	"--verdicts: each record, each order's answer (position bias: a tie)"
is "$(jq -c '[.records, .judged, .agree, .ties, .errors, .malformed, .nonsense, .retries, .judge_ties, .pairs]' s.json)" \
	'[13,9,7,2,2,2,10,16,2,7]' "--stats: judged, agree, ties, errors, malformed, nonsense, retries"
# each order is a body of its own to the fake: nonsense 2 (garbage-once) + 2 x 4 (garbage);
# retries 2 + 2 x 3 + 2 x 3 (500, 429, notjson) + 2 (slow-once: timeouts); requests: 2 per
# record that is not malformed, and the retries; A (the first shown) in 4 of 8 and 5 of 8
is "$(jq -c '[.requests, .a_rate, .first_rate]' s.json)" '[38,[0.5,0.625],0.5625]' \
	"--stats: requests, each order's rate of A (the first shown)"
is "$(grep -c ' garbage$' log) $(grep -c ' 500$' log) $(grep -c ' 429$' log) $(grep -c ' notjson$' log) $(grep -c ' 400$' log) $(grep -c ' slow$' log)" \
	"10 2 2 2 2 2" "the server saw the retries (per order): garbage 1 + 4, 5xx/429/bad body/slow once each, 400 never again"
is "$(jq -r '[.line, .reason, .why] | map(tostring) | join(" | ")' r.jsonl)" \
"7 | error | no verdict in the answer 'I cannot decide.' (after 4 tries)
8 | malformed | not a JSON object: '[' or '{' expected near 'not'
10 | error | HTTP 400: canned failure
14 | malformed | an empty response" "--rejects: errors and malformed records with the reason"
is "$(jq -r .record r.jsonl | sed -n 3p)" '{"prompt": "400", "responses": ["xx", "yyy"]}' "  and the record as it was"
is "$(jq -c '[.labelled, .human_agree, .agreement]' s.json)" '[1,1,1]' "an HH-RLHF pair counts toward agreement with humans"
is "$(cat b.jsonl | tr '\n' ' ')" \
	'{"model_a":"m1","model_b":"m2","winner":"model_b","len_a":5,"len_b":12} {"model_a":"m1","model_b":"m2","winner":"tie","len_a":2,"len_b":1} ' \
	"--battles: records naming both models"
like "$(cat err)" "named one model only" "  a record naming one model only: said"
lm-arena b.jsonl >arena.out 2>&1
ok $? "  lm-arena reads them"

# a line that is not UTF-8: malformed, its reason still valid JSON (the line itself left out)
printf '{"prompt": "\377\376", "responses": ["a", "b"]}\n' >latin.jsonl
$J --rejects lr.jsonl --verdicts lv.jsonl latin.jsonl >/dev/null 2>err
is "$?:$(jq -c '[.reason, has("record")]' lr.jsonl):$(jq -r .verdict lv.jsonl)" '1:["malformed",false]:malformed' \
	"a record that is not UTF-8: malformed, --rejects and --verdicts stay JSON"

# order kept at any -j: 60 records, the longer side alternating, answers out of order
i=0
while [ $i -lt 60 ]; do
	a=$(head -c $((i % 7 + 1)) /dev/zero | tr '\0' a)
	b=$(head -c $((i % 5 + 1)) /dev/zero | tr '\0' b)
	echo "{\"prompt\": \"longer\", \"responses\": [\"$a\", \"$b$i\"]}"
	i=$((i + 1))
done >many.jsonl
$J -j 1 -o one.jsonl many.jsonl && $J -j 16 -o sixteen.jsonl --stats m.json many.jsonl
ok $? "-j 1 and -j 16 run"
test_cmp one.jsonl sixteen.jsonl "  the same pairs in the same order"
is "$(jq -c '[.judged, .pairs + .ties]' m.json):$(wc -l <one.jsonl | tr -d ' ')" "[60,60]:$(jq .pairs m.json)" \
	"  every record judged (equal lengths tie)"

$J --progress -o /dev/null many.jsonl 2>perr
like "$(tail -1 perr)" "^lm-judge: 60 records: 60 judged \\([0-9]+ ties\\), 0 errors, 0 malformed; 0 retries; " \
	"--progress: the records done, how they went"

# text completions (base models) at the same server: the same pairs
$J --api completions -o comp.jsonl many.jsonl && test_cmp one.jsonl comp.jsonl "--api completions: the same verdicts"
$J --endpoint "$url/completions" -o comp2.jsonl many.jsonl && test_cmp one.jsonl comp2.jsonl "  a full /completions URL picks that API"
fails 2 "--api chat with a text completions URL" "a URL and --api that disagree: usage error" \
	$J --endpoint "$url/completions" --api chat many.jsonl

# the default template asks in its own words; the fake does not know it
head -1 many.jsonl | lm-judge --endpoint "$url" --retries 0 --verdicts dv.jsonl >/dev/null 2>err
is "$?:$(jq -r .error dv.jsonl)" "1:HTTP 400: not the test template" "a 4xx is an error at once, with the server's message"

# a timeout with no retries left; a connection refused
head -1 many.jsonl | sed 's/longer/slow/' | $J --timeout 0.3 --retries 1 --verdicts tv.jsonl >/dev/null 2>err
is "$?:$(jq -r .error tv.jsonl)" "1:no answer within --timeout (after 2 tries)" "--timeout: a slow judge is an error after --retries"
head -2 many.jsonl | lm-judge --endpoint http://127.0.0.1:1/v1 --retries 2 --backoff 0 --stats cs.json >/dev/null 2>err
is "$?:$(jq -c '[.errors, .retries, .requests]' cs.json)" "1:[2,8,12]" "no server: each request retried, then an error"
head -3 many.jsonl | lm-judge --endpoint http://127.0.0.1:1/v1 --retries 0 --keep-going -q >/dev/null 2>err
is "$?:$(cat err)" "0:" "--keep-going -q: exit 0, nothing said"

# the API key, from the environment only
kill $fpid
fake --key s3cret
url=http://127.0.0.1:$fport/v1
head -3 many.jsonl >three.jsonl
JUDGE_KEY=s3cret lm-judge --endpoint "$url" --template t.txt --api-key-env JUDGE_KEY -o k.jsonl three.jsonl
is "$?:$(wc -l <k.jsonl | tr -d ' ')" "0:3" "--api-key-env: the key is sent as a bearer token"
JUDGE_KEY=wrong lm-judge --endpoint "$url" --template t.txt --api-key-env JUDGE_KEY --verdicts kv.jsonl three.jsonl >/dev/null 2>err
is "$?:$(jq -r .error kv.jsonl | head -1)" "1:HTTP 401: a wrong or missing API key" "  a wrong key: 401, not retried"
fails 2 "--api-key-env: the environment variable 'NO_SUCH_KEY_VAR' is not set" "  an unset variable: usage error" \
	env -u NO_SUCH_KEY_VAR lm-judge --endpoint "$url" --api-key-env NO_SUCH_KEY_VAR three.jsonl
kill $fpid

# usage and template errors
fails 2 "--endpoint \(or --reward\) is required" "no --endpoint: usage error" lm-judge three.jsonl
fails 2 "not an http:// or https:// URL" "an endpoint that is not http: usage error" lm-judge --endpoint ftp://x/v1 three.jsonl
printf 'P={prompt}|A={response_a}|' >bad.txt
fails 1 "--template 'bad.txt': the template lacks \{response_b\}" "a template without {response_b}" \
	lm-judge --endpoint "$url" --template bad.txt three.jsonl
printf '{prompt} {response_a} {response_b} {reference}' >bad2.txt
fails 1 "unknown field '\{reference\}'" "a template with an unknown field" \
	lm-judge --endpoint "$url" --template bad2.txt three.jsonl

# lm-serve: any OpenAI-compatible server plugs in unchanged. Its tiny model answers nonsense
# (counted, retried, then errors); a prompt longer than its context is refused with 400;
# it has no chat completions (404, said, not retried).
command -v curl >/dev/null || { done_testing; }
tiny_run
lm-serve --port 0 -j 1 run 2>srv.err &
spid=$!
sport=
i=0
while [ -z "$sport" ] && [ $i -lt 600 ] && kill -0 $spid 2>/dev/null; do
	sport=$(sed -n 's|^lm-serve: listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' srv.err)
	[ -n "$sport" ] || sleep 0.1
	i=$((i + 1))
done
printf 'Q {prompt} A {response_a} B {response_b} Better:' >short.txt
cat >serve.jsonl <<'EOF'
{"prompt": "ROMEO:", "response_a": "Ay.", "response_b": "No."}
{"prompt": "a prompt far too long for a context of sixty-four tokens, going on and on and on and on and on and on and on", "response_a": "Ay.", "response_b": "No."}
EOF
lm-judge --endpoint "http://127.0.0.1:$sport/v1" --api completions --template short.txt --max-tokens 4 \
	--retries 1 --backoff 0 --stats ss.json --verdicts sv.jsonl -o sp.jsonl serve.jsonl 2>err
st=$?
is "$st:$(jq -r '.requests >= 4 and .requests == 2 * (.judged + .errors) + .retries and .nonsense <= .retries + .errors * 2 and .records == 2' ss.json)" \
	"$([ "$(jq .errors ss.json)" = 0 ] && echo 0 || echo 1):true" "lm-serve /v1/completions: every request answered and accounted for"
like "$(jq -r 'select(.line == 2) | .error' sv.jsonl)" "^HTTP 400: this model's maximum context length is 64 tokens" \
	"  a prompt longer than the context: an error with lm-serve's reason"
lm-judge --endpoint "http://127.0.0.1:$sport/v1" --template short.txt --retries 3 --stats sc.json --verdicts scv.jsonl serve.jsonl >/dev/null 2>err
is "$?:$(jq -c '[.errors, .retries]' sc.json):$(jq -r .error scv.jsonl | head -1 | cut -c1-40)" \
	"1:[2,0]:HTTP 404: chat completions need the chat" "  its /v1/chat/completions says 404 (no chat template): errors, not retried"
kill $spid
wait $spid

# --reward: a local reward model as the judge; its verdicts are the order of its scores,
# the same scores lm-eval --pairs gives
bpe-train -q --vocab-size 259 --special '<|endoftext|>' --special '<|im_start|>' --special '<|im_end|>' \
	-o chat.json t.jsonl && shard-pack -q -t chat.json -o cs --val-fraction 0 t.jsonl &&
	lm-train --data 'cs/*.bin' -t chat.json --model model.json --context 64 -b 2 -j 1 --steps 3 -q -o cbase
ok $? "a base model with the chat tokens"
# lm-serve on it answers chat completions: the default API, unchanged
lm-serve --port 0 -j 1 cbase 2>csrv.err &
spid=$!
sport=
i=0
while [ -z "$sport" ] && [ $i -lt 600 ] && kill -0 $spid 2>/dev/null; do
	sport=$(sed -n 's|^lm-serve: listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' csrv.err)
	[ -n "$sport" ] || sleep 0.1
	i=$((i + 1))
done
head -1 serve.jsonl | lm-judge --endpoint "http://127.0.0.1:$sport/v1" --template short.txt --max-tokens 4 --retries 1 \
	--backoff 0 --stats cc.json --verdicts ccv.jsonl >/dev/null 2>err
ok "$([ -n "$sport" ] && echo 0 || echo 1)" "lm-serve on the chat model listens"
# every request answered: each one either judged (two a pair) or read as no verdict (a tiny
# model's words); a server that never answered gives neither
is "$(jq -r '.requests >= 2 and .requests == 2 * (.judged + .errors) + .retries and .nonsense <= .retries + .errors * 2 and
	.requests == 2 * .judged + .nonsense' cc.json):$(grep -c 'HTTP' ccv.jsonl)" \
	"true:0" "lm-serve /v1/chat/completions (a model with the chat tokens): answered, no HTTP error"
kill $spid
wait $spid
awk 'BEGIN { for (i = 0; i < 40; i++) { p = substr("Question: what is the word number NNN?\n", 1, 12 + i % 17);
	c = substr("the answer is a word of some length, said slowly", 1, 8 + (i * 7) % 30);
	r = substr("no idea, really", 1, 2 + i % 9);
	printf "{\"prompt\": \"%s\\n\", \"chosen\": \"%s\", \"rejected\": \"%s\"}\n", p, c, r } }' >rpairs.jsonl
lm-train --reward rpairs.jsonl --init cbase --context 64 -j 1 --lr 1e-3 --seed 3 -b 4 --epochs 2 -q -o RM
ok $? "a reward model"
lm-eval RM --pairs rpairs.jsonl -j 1 --log-samples rlog.jsonl >/dev/null 2>&1
# both ways round: response_a the chosen one in even records, the rejected one in odd ones
jq -c 'if input_line_number % 2 == 0 then {prompt, response_a: .chosen, response_b: .rejected, winner: "model_a"}
	else {prompt, response_a: .rejected, response_b: .chosen, winner: "model_b"} end' rpairs.jsonl >rin.jsonl
printf '%s\n' '{"chosen": "\n\nHuman: hi\n\nAssistant: the answer", "rejected": "\n\nHuman: hi\n\nAssistant: no"}' >>rin.jsonl
lm-judge --reward RM --stats rs.json --verdicts rv.jsonl -o rp.jsonl rin.jsonl 2>err
is "$?:$(jq -c '[.records, .judged, .agree, .errors, .requests]' rs.json)" "0:[41,41,41,0,0]" \
	"--reward: every record judged, no request made"
is "$(jq -r 'if .correct then "agree" else "disagree" end' rlog.jsonl | tr '\n' ' ')" \
	"$(head -40 rv.jsonl | jq -r 'if .verdict == .label then "agree" else "disagree" end' | tr '\n' ' ')" \
	"  its verdicts are lm-eval --pairs's scores' order, pair by pair"
is "$(jq .human_agree rs.json)" "$(( $(jq -s '[.[] | select(.correct)] | length' rlog.jsonl) + $(tail -1 rv.jsonl | jq '[select(.verdict == "a")] | length') ))" \
	"  agreement with the labels counted"
fails 2 "one judge: --endpoint or --reward" "--reward with --endpoint: usage error" \
	lm-judge --reward RM --endpoint http://127.0.0.1:1/v1 rin.jsonl
fails 1 "--reward: 'cbase' is not a reward model" "--reward with a language model: an error" \
	lm-judge --reward cbase rin.jsonl
done_testing
