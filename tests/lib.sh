# lib.sh - shared by the shell tests: TAP output, comparisons, a temporary directory.
# Each test: . "$SRCDIR/tests/lib.sh" (prove runs tests from the source tree), then ok/is/...
# and done_testing at the end.

set -u
: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BUILD:=$SRCDIR/build}"
export LC_ALL=C PATH="$BUILD/bin:$PATH" SOURCE_DATE_EPOCH=1700000000
DATA=$SRCDIR/tests/data

test_count=0
test_failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/crawl2lm-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1

# ok CONDITION-EXIT-STATUS DESCRIPTION: ok "$?" "what"; or: run a command with ok_run
ok() {
	test_count=$((test_count + 1))
	if [ "$1" = 0 ]; then
		echo "ok $test_count - $2"
	else
		echo "not ok $test_count - $2"
		test_failed=$((test_failed + 1))
	fi
}

# ok_run DESCRIPTION COMMAND...: passes when the command exits 0
ok_run() {
	desc=$1
	shift
	"$@"
	ok $? "$desc"
}

# is GOT WANT DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}

# test_cmp EXPECT ACTUAL DESCRIPTION: files equal (a diff is shown when not)
test_cmp() {
	if cmp -s "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diff -u "$1" "$2" | head -40 | sed 's/^/# /'
	fi
}

# like STRING PATTERN(grep -E) DESCRIPTION
like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   %s\n#   does not match: %s\n' "$(printf '%s' "$1" | head -c 400)" "$2"
	fi
}

# fails STATUS ERE DESCRIPTION COMMAND...: the command exits with STATUS and the first line of its
# stderr matches ERE (grep -E, anywhere in the line); its stdout and stderr are left in the files
# out and err
fails() {
	fails_status=$1 fails_re=$2 fails_desc=$3
	shift 3
	"$@" >out 2>err
	like "$?: $(cat err)" "^$fails_status: .*$fails_re" "$fails_desc"
}

# tiny_run: a 300-token tokenizer (tok.json), shards (s/) and a 1-layer model of context 64
# trained 10 steps (run/) from tinyshakespeare's first 20,000 bytes (t.jsonl); two test lines
tiny_run() {
	zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 20000 | jq -R -s '{id: "t", text: .}' -c >t.jsonl
	bpe-train -q --vocab-size 300 -o tok.json t.jsonl && shard-pack -q -t tok.json -o s --val-fraction 0 t.jsonl
	ok $? "a tokenizer and shards"
	echo '{"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 64}' >model.json
	lm-train --data 's/*.bin' -t tok.json --model model.json --context 64 -b 4 -j 1 --steps 10 --lr 1e-2 \
		--warmup 2 -q -o run
	ok $? "a tiny model"
}

# st_floats FILE: the tensors of a safetensors file as text, one float a line (f32 files)
st_floats() {
	st_hl=$(od -A n -t u8 -N 8 "$1" | tr -d ' ')
	tail -c +$((9 + st_hl)) "$1" | od -A n -v -t f4 | tr -s ' ' '\n' | grep -v '^$'
}

# rel_diff A B: |a - b| / |a| over two safetensors files of the same shapes (%.3g)
rel_diff() {
	st_floats "$1" >rel_diff.a && st_floats "$2" >rel_diff.b &&
		paste rel_diff.a rel_diff.b | awk '{ d += ($1 - $2) ^ 2; n += $1 ^ 2 } END { printf "%.3g", sqrt(d / n) }'
	rm -f rel_diff.a rel_diff.b
}

# kill_rank1 PID DIR: once DIR/latest exists (the run's first checkpoint), SIGKILL the child of
# PID (mpirun) whose environment says it is rank 1; fails when there is none
kill_rank1() {
	kr_i=0
	while [ ! -f "$2/latest" ] && [ $kr_i -lt 1200 ]; do sleep 0.05; kr_i=$((kr_i + 1)); done
	sleep 0.1
	kr_victim=
	for kr_c in $(ps -o pid= --ppid "$1"); do
		tr '\0' '\n' </proc/$kr_c/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && kr_victim=$kr_c
	done
	[ -n "$kr_victim" ] && kill -9 "$kr_victim"
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

done_testing() {
	echo "1..$test_count"
	[ "$test_failed" = 0 ]
	exit $?
}

