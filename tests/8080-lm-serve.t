#!/bin/sh
# lm-serve on a tiny model, through curl: /v1/models; completions (greedy twice the same,
# max_tokens, stop, a batch of prompts); echo + logprobs on token-id prompts as
# lm-evaluation-harness's local-completions asks, against lm-eval's log-likelihoods; each 4xx
# case with its JSON error; concurrent clients; a client killed mid-request; SIGTERM; chat
# completions through the chat template (greedy: /v1/completions' text for the template's
# prompt), their 4xx cases.
. "${SRCDIR:-.}/tests/lib.sh"
command -v curl >/dev/null || skip_all "no curl"

tiny_run

# start NAME ARGS...: lm-serve ARGS on a free port, in the background: $pid, $port, NAME.err
start() {
	name=$1
	shift
	rm -f "$name.err"
	lm-serve --port 0 "$@" 2>"$name.err" &
	pid=$!
	port=
	i=0
	while [ -z "$port" ] && [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do
		port=$(sed -n 's|^lm-serve: listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' "$name.err" 2>/dev/null)
		[ -n "$port" ] || sleep 0.1
		i=$((i + 1))
	done
}
# stopped PID: waits (60 s at most) for the server to exit; its exit status in $status
stopped() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1"
	wait "$1"
	status=$?
}
# req OUT [CURL ARGS...]: the HTTP status on stdout, the body into OUT
req() {
	out=$1
	shift
	curl -s -m 60 -o "$out" -w '%{http_code}' "$@"
}
# post OUT JSON: POST /v1/completions
post() {
	req "$1" "http://127.0.0.1:$port/v1/completions" -d "$2"
}

start srv -v -j 1 run
pid1=$pid
ok "$([ -n "$port" ]; echo $?)" "lm-serve --port 0 says its port on stderr"

is "$(req m.json "http://127.0.0.1:$port/v1/models"):$(jq -c '[.object, .data[0].id, .data[0].object, .data[0].owned_by]' m.json)" \
	'200:["list","run","model","crawl2lm"]' "GET /v1/models: the model, named after the checkpoint"

# completions
post g1.json '{"prompt": "ROMEO:", "max_tokens": 12, "temperature": 0}' >code1
post g2.json '{"prompt": "ROMEO:", "max_tokens": 12, "temperature": 0, "model": "anything"}' >code2
is "$(cat code1 code2):$(jq -r '[.object, .model, .choices[0].index, (.choices | length)] | map(tostring) | join(" ")' g1.json)" \
	"200200:text_completion run 0 1" "a completion: 200, its shape"
is "$(jq -c .choices g1.json)" "$(jq -c .choices g2.json)" "  greedy twice: the same text"
is "$(jq -r '(.usage.completion_tokens <= 12 and (.usage.completion_tokens == 12 or .choices[0].finish_reason == "stop"))
	and .usage.total_tokens == .usage.prompt_tokens + .usage.completion_tokens and .usage.prompt_tokens > 0' g1.json)" true \
	"  max_tokens honoured, usage adds up"
post g3.json '{"prompt": "ROMEO:", "max_tokens": 3, "temperature": 0}' >/dev/null
is "$(jq -r '.usage.completion_tokens <= 3 and (.choices[0].text as $t | $t | length <= ('"$(jq '.choices[0].text | length' g1.json)"'))' g3.json)" true \
	"  max_tokens 3: at most 3 tokens"
post s1.json '{"prompt": "ROMEO:", "max_tokens": 12, "temperature": 0.7, "top_k": 20, "seed": 7}' >/dev/null
post s3.json '{"prompt": "ROMEO:", "max_tokens": 12, "temperature": 0.7, "top_k": 20, "seed": 7}' >/dev/null
is "$(jq -c .choices s1.json)" "$(jq -c .choices s3.json)" "  sampling with a seed: the same text again"
text=$(jq -r '.choices[0].text' s1.json)
stop=$(jq -r '.choices[0].text[3:5]' s1.json)
post st.json "$(jq -nc --arg s "$stop" '{prompt: "ROMEO:", max_tokens: 12, temperature: 0.7, top_k: 20, seed: 7,
	stop: ["zzzq", $s]}')" >/dev/null
is "$(jq -c '.choices[0] | [.text, .finish_reason]' st.json)" "$(jq -c --arg s "$stop" '.choices[0].text | [split($s)[0], "stop"]' s1.json)" \
	"  stop: the text ends before the stop string ('$stop' in '$text')"

# a batch: a choice per prompt, in order, each as when asked alone
post b.json '{"prompt": ["First", "ROMEO:", "Citizen"], "max_tokens": 12, "temperature": 0}' >/dev/null
post b0.json '{"prompt": "First", "max_tokens": 12, "temperature": 0}' >/dev/null
post b2.json '{"prompt": "Citizen", "max_tokens": 12, "temperature": 0}' >/dev/null
is "$(jq -c '[.choices[].index]' b.json)" "[0,1,2]" "a batch of three prompts: three choices, in order"
is "$(jq -c '[.choices[].text]' b.json)" "$(jq -s -c '[.[].choices[0].text]' b0.json g1.json b2.json)" \
	"  each the text it gets alone"

# echo + logprobs on token ids, as lm-evaluation-harness's loglikelihood asks, against lm-eval
printf '%s\n' '{"context": "First Citizen: Before we proceed any further, hear", "continuation": "me speak."}' \
	'{"context": "ROMEO: I", "continuation": "do"}' '{"context": "", "continuation": "All: Speak, speak."}' >lam.jsonl
lm-eval -q -j 1 run --task lam.jsonl --log-samples ls.jsonl >/dev/null
ok $? "lm-eval scores three requests"
jq -s -c '{prompt: [.[].requests[0].tokens], max_tokens: 1, temperature: 0, logprobs: 1, echo: true, seed: 1234}' ls.jsonl >h.json
is "$(post hr.json "$(cat h.json)")" 200 "the harness's request: 200"
is "$(jq -r --slurpfile h h.json '[.choices[] | .index as $i | .logprobs | ($h[0].prompt[$i] | length) as $n |
	(.tokens | length) == $n + 1 and (.token_logprobs | length) == $n + 1 and (.top_logprobs | length) == $n + 1
	and (.text_offset | length) == $n + 1 and .token_logprobs[0] == null and .top_logprobs[0] == null
	and ([.token_logprobs[1:][] | . < 0] | all) and ([.top_logprobs[1:][] | length >= 1] | all)] | all' hr.json)" true \
	"  every prompt token's log-probability (the first null), then the generated one's"
jq -c '[.requests[0] | (.tokens | length) - .continuation_tokens, .loglikelihood, .is_greedy]' ls.jsonl >want
jq -c --slurpfile w want '.choices[] | .index as $i | $w[$i] as $x | .logprobs |
	[.token_logprobs[$x[0]:-1] | add] + [[.token_logprobs[$x[0]:-1], .top_logprobs[$x[0]:-1]] | transpose |
	 map(.[0] == (.[1] | [.[]] | max)) | all] | [$x[0], .[0], .[1], ((.[0] - $x[1]) | fabs) < 1e-4, .[1] == $x[2]]' hr.json >got
is "$(jq -r '.[3] and .[4]' got | sort -u)" true \
	"  the harness's sums over the continuations: lm-eval's log-likelihoods and is_greedy ($(jq -c '.[1]' got | tr '\n' ' '))"
post e0.json "$(jq -c '.max_tokens = 0' h.json)" >/dev/null
is "$(jq -n -r --slurpfile a e0.json --slurpfile b hr.json '[range(3) as $i | $a[0].choices[$i] as $x |
	$b[0].choices[$i].logprobs.token_logprobs[1:-1] as $y | $x.finish_reason == "length" and
	($x.logprobs.token_logprobs[1:] | length) == ($y | length) and
	([[$x.logprobs.token_logprobs[1:], $y] | transpose[] | (.[0] - .[1]) | fabs < 1e-5] | all)] | all')" true \
	"  max_tokens 0 with echo: the prompt's log-probabilities alone"
post e1.json '{"prompt": "ROMEO:", "max_tokens": 4, "temperature": 0, "echo": true, "logprobs": 2}' >/dev/null
is "$(jq -r --slurpfile g g1.json '.choices[0] | (.text | startswith("ROMEO:")) and
	(.logprobs.top_logprobs[1] | length) >= 2 and (.text[6:] as $t | $g[0].choices[0].text | startswith($t))' e1.json)" true \
	"  echo with generation: the prompt, then the greedy text"

# the errors: a status and OpenAI's JSON error each
err() {
	code=$(req e.json "$@")
	printf '%s:%s' "$code" "$(jq -r '.error | [(.message | length > 0), .type] | map(tostring) | join(" ")' e.json 2>/dev/null)"
}
U=http://127.0.0.1:$port
is "$(err "$U/v1/completions" -d '{"prompt": "x",')" "400:true invalid_request_error" "malformed JSON: 400"
is "$(err "$U/v1/completions" -d '{"prompt": "x", "prompt": "y"}')" "400:true invalid_request_error" "a duplicate key: 400"
is "$(err "$U/v1/completions" -d '{"prompt": "x", "max_tokens": "2"}'):$(jq -r .error.param e.json)" \
	"400:true invalid_request_error:max_tokens" "a field of the wrong type: 400, naming it"
is "$(err "$U/v1/completions" -d '{"prompt": 3}')" "400:true invalid_request_error" "a prompt of the wrong type: 400"
is "$(err "$U/v1/completions" -d '{"prompt": [1, 300]}')" "400:true invalid_request_error" "a token id outside the vocabulary: 400"
is "$(err "$U/v1/completions" -d "{\"prompt\": [$(seq -s, 1 60)], \"max_tokens\": 5}"):$(jq -r .error.code e.json)" \
	"400:true invalid_request_error:context_length_exceeded" "prompt + max_tokens over the context: 400"
is "$(req e.json "$U/v1/completions" -d "{\"prompt\": [$(seq -s, 1 64)], \"max_tokens\": 1, \"temperature\": 0, \"echo\": true, \"logprobs\": 1}"):$(jq '.choices[0].logprobs.token_logprobs | length' e.json)" \
	"200:65" "a full context and one greedy token (the harness's log-likelihood request): scored"
is "$(err "$U/v1/completions" -d "{\"prompt\": [$(seq -s, 1 64)], \"max_tokens\": 1, \"temperature\": 1}"):$(jq -r .error.code e.json)" \
	"400:true invalid_request_error:context_length_exceeded" "  sampled, it needs one position more: 400"
is "$(err "$U/v1/completions" -d '{"prompt": "x", "n": 2}')" "400:true invalid_request_error" "n 2: 400"
is "$(err "$U/v1/completions" -d '{"prompt": "x", "logprobs": 6}')" "400:true invalid_request_error" "logprobs 6: 400"
is "$(err "$U/v1/nothing")" "404:true invalid_request_error" "an unknown endpoint: 404"
is "$(err "$U/v1/chat/completions" -d '{"messages": []}'):$(jq -r .error.message e.json | grep -c 'chat template')" \
	"404:true invalid_request_error:1" "chat completions: 404, no chat template"
is "$(err "$U/v1/completions")" "405:true invalid_request_error" "GET /v1/completions: 405"
is "$(err -X DELETE "$U/v1/models")" "405:true invalid_request_error" "DELETE /v1/models: 405"
head -c 1100000 /dev/zero | tr '\0' ' ' >big
is "$(err "$U/v1/completions" --data-binary @big)" "413:true invalid_request_error" "a body over --max-body: 413"
is "$(err "$U/v1/completions" -H 'Transfer-Encoding: chunked' --data-binary @big)" "413:true invalid_request_error" \
	"  chunked too"
is "$(post ok.json '{"prompt": "ROMEO:", "max_tokens": 12, "temperature": 0}'):$(jq -c .choices ok.json)" \
	"200:$(jq -c .choices g1.json)" "  and the server still answers"

# concurrent clients
pids=
for c in 1 2 3 4 5 6 7 8; do
	post "c$c.json" '{"prompt": "ROMEO:", "max_tokens": 12, "temperature": 0}' >"c$c.code" &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p"
done
is "$(cat c?.code)" "200200200200200200200200" "eight clients at once: all answered"
is "$(jq -c .choices c?.json | sort -u)" "$(jq -c .choices g1.json)" "  each with the greedy text"
is "$(grep -c '^lm-serve: POST /v1/completions 413 0+0 tokens [0-9]* ms' srv.err):$(grep -c '^lm-serve: GET /v1/models 200 0+0 tokens [0-9]* ms$' srv.err)" \
	"2:1" "  -v: a line per request on stderr"

kill -TERM $pid1
stopped $pid1
is "$status:$(tail -1 srv.err)" "0:lm-serve: stopped" "SIGTERM: exit 0"

# a model slow enough that work is in flight: a killed client, SIGTERM during a request
echo '{"model_type": "gpt2", "n_embd": 256, "n_layer": 4, "n_head": 4, "n_positions": 1024}' >big.json
lm-train --data 's/*.bin' -t tok.json --model big.json --context 1024 -b 1 -j 1 --steps 1 --lr 1e-3 \
	--warmup 0 -q -o bigrun
ok $? "a larger model"
start big -vv -j 1 --model-name big bigrun
is "$(req m.json "http://127.0.0.1:$port/v1/models/big"):$(jq -r .id m.json)" "200:big" "--model-name: the model's id"
is "$(post em.json '{"prompt": "", "max_tokens": 2, "temperature": 0}'):$(jq .usage.prompt_tokens em.json)" "200:1" \
	"an empty prompt: end-of-text"
long=$(jq -nc '{prompt: [range(16) | "ROMEO:"], max_tokens: 1000, temperature: 1, stop: "no such text"}')
curl -s -m 60 -o k.json "http://127.0.0.1:$port/v1/completions" -d "$long" &
cpid=$!
sleep 1
# while it runs, six clients' log-likelihood requests queue, to be scored together
pids=
for c in 1 2 3 4 5 6; do
	post "q$c.json" "$(jq -c '.prompt = [.prompt[0]]' h.json)" >"q$c.code" &
	pids="$pids $!"
done
sleep 1
{ kill $cpid && wait $cpid; } 2>/dev/null
for p in $pids; do
	wait "$p"
done
is "$(cat q?.code):$(jq -c '.choices[0].logprobs.token_logprobs' q?.json | sort -u | wc -l | tr -d ' ')" \
	"200200200200200200:1" "six clients' requests queued behind a generation: answered, the same"
is "$(grep -c '^lm-serve: a batch of 6 requests: 6 prompts scored, 0 to generate from$' big.err)" 1 \
	"  scored together in one batch (-vv)"
is "$(post n.json '{"prompt": "ROMEO:", "max_tokens": 3, "temperature": 0}'):$(jq .usage.completion_tokens n.json)" "200:3" \
	"a client killed mid-request: the next one is answered"
i=0
while ! grep -q '^lm-serve: POST /v1/completions 499 ' big.err && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
is "$(grep -c '^lm-serve: POST /v1/completions 499 .* (connection closed)$' big.err)" 1 "  its work dropped (499 in the log)"

post t.json "$(jq -nc '{prompt: [range(4) | "ROMEO:"], max_tokens: 200, temperature: 1, seed: 1}')" >t.code &
cpid=$!
sleep 1
kill -TERM $pid
stopped $pid
wait $cpid
is "$status:$(cat t.code):$(jq '.choices | length' t.json)" "0:200:4" "SIGTERM during a request: it is answered, then exit 0"
is "$(curl -s -m 10 "http://127.0.0.1:$port/v1/models" >/dev/null; echo $?)" 7 "  nothing listens after"

start big2 -j 1 bigrun
post t2.json "$long" >t2.code &
cpid=$!
sleep 1
kill -TERM $pid
sleep 0.5
kill -INT $pid
stopped $pid
wait $cpid
is "$status:$(cat t2.code):$(jq -r .error.code t2.json)" "0:503:shutting_down" \
	"a second signal: the work in flight cancelled (503), exit 0"

# chat completions: a model whose tokenizer has the chat template's tokens
bpe-train -q --vocab-size 259 --special '<|endoftext|>' --special '<|im_start|>' --special '<|im_end|>' \
	-o chat.json t.jsonl && shard-pack -q -t chat.json -o cs --val-fraction 0 t.jsonl &&
	lm-train --data 'cs/*.bin' -t chat.json --model model.json --context 64 -b 4 -j 1 --steps 5 -q -o chatrun
ok $? "a model with the chat tokens"
start chat -j 1 chatrun
U=http://127.0.0.1:$port
chat() { req "$1" "$U/v1/chat/completions" -d "$2"; }
chat c1.json '{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 10, "temperature": 0}' >code
is "$(cat code):$(jq -c '[.object, .model, (.choices | length), .choices[0].index, .choices[0].message.role,
	(.choices[0].message.content | type), .choices[0].finish_reason, .usage.prompt_tokens]' c1.json)" \
	'200:["chat.completion","chatrun",1,0,"assistant","string","length",21]' \
	"a chat completion: the message's shape; the prompt the template's 21 byte ids"
post p1.json "$(jq -n -c '{prompt: "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", max_tokens: 10,
	temperature: 0, stop: ["<|im_end|>", "<|endoftext|>"]}')" >/dev/null
is "$(jq -r '.choices[0].message.content' c1.json)" "$(jq -r '.choices[0].text' p1.json)" \
	"  greedy: the text /v1/completions gives for the template's prompt"
chat c2.json '{"messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "H"}, {"type": "text", "text": "i"}]}], "max_completion_tokens": 4, "temperature": 0}' >code
is "$(cat code):$(jq -c '[.usage.completion_tokens <= 4, .usage.prompt_tokens]' c2.json)" "200:[true,40]" \
	"  developer as system, text parts joined, max_completion_tokens"
chat c3.json '{"messages": [{"role": "user", "content": "Hi"}], "temperature": 0}' >code
is "$(cat code):$(jq -c '(.usage.prompt_tokens + .usage.completion_tokens) as $n | .choices[0].finish_reason as $f |
	[$n <= 64, ($f == "length" and $n == 64) or $f == "stop"]' c3.json)" \
	"200:[true,true]" "  without max_tokens: at most the rest of the context (ended by it, or stopped)"
is "$(err "$U/v1/chat/completions" -d '{"messages": []}')" "400:true invalid_request_error" "no messages: 400"
is "$(err "$U/v1/chat/completions" -d '{"messages": [{"role": "user", "content": "x"}], "max_tokens": 3, "max_completion_tokens": 4}'):$(jq -r .error.param e.json)" \
	"400:true invalid_request_error:max_tokens" "max_tokens and max_completion_tokens that differ: 400"
is "$(err "$U/v1/chat/completions" -d '{}'):$(jq -r .error.code e.json)" "400:true invalid_request_error:missing_required_parameter" \
	"  'messages' missing: 400"
is "$(err "$U/v1/chat/completions" -d '{"messages": [{"role": "robot", "content": "x"}]}'):$(jq -r .error.message e.json | grep -c "unknown role 'robot'")" \
	"400:true invalid_request_error:1" "an unknown role: 400, said"
is "$(err "$U/v1/chat/completions" -d '{"messages": [{"role": "user", "content": 3}]}')" "400:true invalid_request_error" \
	"content neither text nor parts: 400"
is "$(err "$U/v1/chat/completions" -d '{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}')" \
	"400:true invalid_request_error" "an image part: 400"
is "$(err "$U/v1/chat/completions" -d '{"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}')" \
	"400:true invalid_request_error" "tools: 400"
is "$(err "$U/v1/chat/completions" -d '{"messages": [{"role": "user", "content": "x"}], "logprobs": true}')" \
	"400:true invalid_request_error" "logprobs: 400"
is "$(err "$U/v1/chat/completions" -d "$(jq -n -c '{messages: [{role: "user", content: ("x" * 80)}]}')"):$(jq -r .error.code e.json)" \
	"400:true invalid_request_error:context_length_exceeded" "messages longer than the context: 400"
is "$(err "$U/v1/chat/completions")" "405:true invalid_request_error" "GET /v1/chat/completions: 405"
kill -TERM $pid
stopped $pid

fails 2 "lm-serve: error: --host: cannot use 'no such host" "a bad --host: a usage error" \
	lm-serve --host 'no such host' run
done_testing
