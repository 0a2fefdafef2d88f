#!/bin/sh
# lm-arena: Bradley-Terry ratings equal the closed form where there is one and recover the
# strengths that drew synthetic battles within their bootstrap intervals; online Elo follows
# the order of the file; the length-controlled win rate removes a length bias that the raw one
# shows; infinite and undefined ratings, groups that never met and bad lines are said as such.
. "${SRCDIR:-.}/tests/lib.sh"

battle() {	# A B WINNER [EXTRA]
	printf '{"model_a": "%s", "model_b": "%s", "winner": "%s"%s}\n' "$1" "$2" "$3" "${4:-}"
}
rating() {	# FILE MODEL: its rating, rounded to 1e-6
	jq -r --arg m "$2" '.[$m].rating | if type == "number" then (. * 1e6 | round / 1e6) else . end' "$1"
}
round6() { awk '{ printf "%.6f\n", $1 }'; }

# two models: A beat B three times, B beat A once: theta_A - theta_B = ln 3
{ battle A B model_a; battle B A model_b; battle A B model_a; battle A B model_b; } >two.jsonl
lm-arena --json two.jsonl >two.json
is $? 0 "two models: exit 0"
is "$(rating two.json A)" 1000 "  the first by name at 1000"
is "$(rating two.json B | round6)" "$(awk 'BEGIN { printf "%.6f\n", 1000 - 400 * log(3) / log(10) }')" \
	"  B at 1000 - 400 log10(3)"
is "$(jq -c '[.A.lo, .A.hi, .A.battles, .A.wins, .A.win_rate]' two.json)" "[null,null,4,3,0.75]" \
	"  no intervals without --bootstrap; battles, wins, win rate"
# a tie is half a win to each side: 2 wins, 1 loss, 2 ties give odds (2 + 1) / (1 + 1)
{ battle A B model_a; battle A B model_a; battle A B model_b; battle A B tie; battle B A 'tie (bothbad)'; } >tie.jsonl
is "$(lm-arena --json tie.jsonl | jq '.B.rating' | round6)" \
	"$(awk 'BEGIN { printf "%.6f\n", 1000 - 400 * log(1.5) / log(10) }')" "ties: half a win each (both kinds)"
is "$(lm-arena --json --anchor B tie.jsonl | jq '.B.rating, .A.rating' | round6 | tr '\n' ' ')" \
	"1000.000000 $(awk 'BEGIN { printf "%.6f", 1000 + 400 * log(1.5) / log(10) }') " "--anchor B"

# strengths recovered: 30,000 battles drawn from known ratings, each within its 99% interval
arena-gen -n 30000 -s 5 a=1000 b=1180 c=920 d=1050 e=800 >syn.jsonl
lm-arena --json --bootstrap 200 --level 0.99 -j 2 syn.jsonl >syn.json
for k in b:1180 c:920 d:1050 e:800; do
	m=${k%%:*} v=${k#*:}
	ok "$(jq --arg m "$m" --argjson v "$v" '.[$m] | .lo <= $v and $v <= .hi and .hi - .lo < 60' syn.json |
		grep -qx true; echo $?)" "synthetic: $m = $v within $(jq -c --arg m "$m" '.[$m] | [.lo, .hi]' syn.json)"
done
is "$(jq -c '.a | [.rating, .lo, .hi, .level]' syn.json)" "[1000,1000,1000,0.99]" "  the anchor a: 1000, its interval too; the level"
lm-arena --json --bootstrap 200 --level 0.99 -j 1 syn.jsonl >syn1.json
test_cmp syn.json syn1.json "  the same intervals with 1 thread as with 2"
lm-arena --json --bootstrap 200 --level 0.99 --seed 2 syn.jsonl >syn2.json
ok "$(cmp -s syn.json syn2.json; test $? = 1; echo $?)" "  another --seed, other intervals"
lm-arena --bootstrap 50 syn.jsonl >table.txt
like "$(sed -n 1p table.txt)" "^rank +model +rating +95% interval +battles +win rate$" "the table's header"
like "$(sed -n 2p table.txt)" "^   1  b +11[0-9][0-9]\.[0-9]  \[[0-9.]+, [0-9.]+\] +[0-9]+ +[0-9.]+%$" "  the best model first, with its interval"
is "$(awk 'NR > 1 { print $2 }' table.txt | tr -d '\n')" "bdace" "  ordered by rating"

# online Elo: K 4 and ratings from 1000 in the file's order (Chatbot Arena's compute_online_elo)
{ battle A B model_a; battle B C model_a; battle C A tie; } >elo.jsonl
want=$(awk 'function upd(x, y, s,  ea) { ea = 1 / (1 + 10 ^ ((r[y] - r[x]) / 400)); r[x] += 4 * (s - ea); r[y] -= 4 * (s - ea) }
	BEGIN { r["A"] = r["B"] = r["C"] = 1000; upd("A", "B", 1); upd("B", "C", 1); upd("C", "A", 0.5)
		printf "%.6f %.6f %.6f", r["A"], r["B"], r["C"] }')
is "$(lm-arena --elo --json elo.jsonl | jq '.A.rating, .B.rating, .C.rating' | round6 | tr '\n' ' ' | sed 's/ $//')" \
	"$want" "--elo: K 4, from 1000, in order: $want"
tac elo.jsonl >elo-rev.jsonl
ok "$(test "$(lm-arena --elo --json elo-rev.jsonl | jq -c '[.A.rating, .B.rating]')" != \
	"$(lm-arena --elo --json elo.jsonl | jq -c '[.A.rating, .B.rating]')"; echo $?)" "  another order, other ratings"
is "$(lm-arena --elo --k-factor 32 --json elo.jsonl | jq .B.rating | round6)" \
	"$(awk 'BEGIN { b = 1000 - 16; eb = 1 / (1 + 10 ^ ((1000 - b) / 400)); printf "%.6f", b + 32 * (1 - eb) }')" \
	"  --k-factor 32"
fails 2 "--bootstrap is for the Bradley-Terry ratings" "--elo with --bootstrap: a usage error" lm-arena --elo --bootstrap 10 elo.jsonl
fails 2 "--anchor is for the Bradley-Terry ratings" "  with --anchor too" lm-arena --elo --anchor B elo.jsonl

# length control: "long" is as good as "base" but twice as long, and the judge favours length
arena-gen -n 40000 -s 9 -b 1 base=1000:500 long=1000:1000 short=1100:300 m1=950:600 >len.jsonl
lm-arena --json --baseline base len.jsonl >len.json
raw=$(jq '.long.vs_baseline.win_rate' len.json) lc=$(jq '.long.vs_baseline.lc_win_rate' len.json)
ok "$(awk -v r="$raw" -v l="$lc" 'BEGIN { exit !(r > 0.6 && l < r - 0.1 && l > 0.45 && l < 0.55) }'; echo $?)" \
	"length bias: long's raw win rate $raw, length-controlled $lc (true 0.5)"
raw=$(jq '.short.vs_baseline.win_rate' len.json) lc=$(jq '.short.vs_baseline.lc_win_rate' len.json)
ok "$(awk -v r="$raw" -v l="$lc" 'BEGIN { exit !(l > r + 0.05) }'; echo $?)" \
	"  short (better, shorter): raw $raw, length-controlled $lc higher"
ok "$(jq '.long.vs_baseline.length_coef > 0.5 and .long.vs_baseline.lc_status == "ok" and (.base | has("vs_baseline") | not)' len.json |
	grep -qx true; echo $?)" "  a positive length coefficient; the baseline has no row of its own"
lm-arena --baseline base len.jsonl >len.txt
like "$(cat len.txt)" "against base: win rates, raw and length-controlled" "  the table of win rates against the baseline"
like "$(grep '^long ' len.txt)" "^long +[0-9]+ +6[0-9]\.[0-9]+% +4[5-9]\.[0-9]+%|^long +[0-9]+ +6[0-9]\.[0-9]+% +5[0-4]\.[0-9]+%" "  long's row"
# lengths from the responses' characters (UTF-8 code points); wins split by length: no LC
{ battle x base model_a ', "response_a": "\u00e9\u00e9\u00e9", "response_b": "ab"'
  battle base x model_a ', "response_a": "abc", "response_b": "ab"'
  battle x base model_b ', "response_a": "a", "response_b": "abcd"'; } >resp.jsonl
lm-arena --json --baseline base resp.jsonl >resp.json 2>resp.err
is "$(jq -c '.x.vs_baseline | [.battles, .with_lengths, .lc_win_rate, .lc_status]' resp.json)" \
	'[3,3,null,"separated by length"]' "response_a/response_b as lengths; wins separated by length: LC null, said"
fails 1 "--baseline 'nobody': no battle names it" "an unknown --baseline" lm-arena --baseline nobody two.jsonl

# infinite and undefined ratings: a never lost, d never won, e neither above nor below b
{ battle a b model_a; battle b c model_a; battle c b model_a; battle c d model_a; battle e d model_a; } >inf.jsonl
lm-arena --json --anchor b inf.jsonl >inf.json 2>inf.err
is "$(jq -c '[.a.rating, .b.rating, .d.rating, .e.rating]' inf.json)" '["inf",1000,"-inf",null]' \
	"never lost: inf; never won: -inf; not comparable: null"
like "$(cat inf.err)" "1 model neither above nor below 'b'" "  said on standard error"
like "$(cat inf.err)" "2 models never lost \(inf\) or never won \(-inf\)" "  the infinite ones too"
lm-arena --anchor b inf.jsonl 2>/dev/null >inf.txt
like "$(sed -n 2p inf.txt)" "^   1  a +inf " "  the table: inf first"
like "$(sed -n 6p inf.txt)" "^   -  e +- " "  the undefined last, unranked"
lm-arena --json --bootstrap 30 --anchor b inf.jsonl 2>/dev/null >infb.json
is "$(jq -c '[.a.lo, .a.hi, .d.lo, .d.hi]' infb.json)" '["inf","inf","-inf","-inf"]' "  their intervals"

# groups that never met: an error naming them
{ battle A B model_a; battle B A model_a; battle C D model_a; battle D C tie; } >two-groups.jsonl
fails 1 "the battles form 2 groups of models that never met.*'A' and 1 more; 'C' and 1 more" \
	"a disconnected comparison graph: an error" lm-arena two-groups.jsonl
lm-arena --elo two-groups.jsonl >/dev/null
is $? 0 "  not for --elo"

# bad lines: counted, said, kept with --rejects; --strict stops at the first
{ battle A B model_a; echo 'not json'; echo '[1, 2]'; echo '{"model_a": "A", "winner": "model_a"}'
  battle A B model_c; battle A A tie; battle A B tie ', "len_a": -1, "len_b": 3'; battle A B tie ', "len_a": 4'
  echo '{"model_a": "A", "model_b": "B", "winner": 1}'; battle "" B tie; echo '{"model_a": "A", "model_a": "B"}'
  echo; battle B A model_a; } >bad.jsonl
lm-arena --json --rejects rej.jsonl bad.jsonl >bad.json 2>bad.err
is $? 0 "bad lines: exit 0"
like "$(cat bad.err)" "warning: 10 of 12 lines skipped: 3 not JSON, 1 no model, 1 bad model name, 1 no winner, 1 unknown winner, 1 same model, 2 bad length" \
	"  counted by reason"
is "$(jq .A.battles bad.json)" 2 "  the two battles counted"
is "$(jq -r '"\(.line) \(.reason)"' rej.jsonl | tr '\n' ',')" \
	"2 not JSON,3 not JSON,4 no model,5 unknown winner,6 same model,7 bad length,8 bad length,9 no winner,10 bad model name,11 not JSON," \
	"  --rejects: each line with its number and reason"
is "$(jq -r 'select(.line == 6) | .text' rej.jsonl)" '{"model_a": "A", "model_b": "A", "winner": "tie"}' "  and its text"
fails 1 "bad.jsonl:2: not JSON: .*\(--strict\)" "--strict: the first bad line is an error" lm-arena --strict bad.jsonl
printf '' >empty.jsonl
fails 1 "no battles in the input" "no battles" lm-arena empty.jsonl
gzip -c syn.jsonl | head -c 20000 >cut.jsonl.gz
fails 1 "cut.jsonl.gz: .*" "a truncated gzip file: an error" lm-arena cut.jsonl.gz
fails 1 "more than 2 models \(--max-models\)" "--max-models" lm-arena --max-models 2 inf.jsonl
fails 1 "--anchor 'Z': no battle names it" "an unknown --anchor" lm-arena --anchor Z two.jsonl
cat two.jsonl | lm-arena --json >stdin.json
is "$(rating stdin.json B)" "$(rating two.json B)" "standard input"
done_testing
