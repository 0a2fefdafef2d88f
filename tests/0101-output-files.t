#!/bin/sh
# Files the programs write whole: a regular file is replaced through a temporary renamed into
# place (permissions kept, a symbolic link followed, nothing left behind on failure); a device
# or FIFO is written straight through, never replaced; a full device is an error. Standard
# output is checked at exit in every program (--help, --version too).
. "${SRCDIR:-.}/tests/lib.sh"

[ -c /dev/full ] || skip_all "/dev/full is not a character device here"
# As root, a full device of our own: a program that renamed over its target would replace
# this one, not the system's /dev/full.
FULL=/dev/full
if [ "$(id -u)" = 0 ] && mknod -m 666 full c 1 7 2>/dev/null; then
	FULL=$PWD/full
fi

awk 'BEGIN { for (i = 0; i < 600; i++) printf "{\"id\":\"%d\",\"text\":\"The quick brown fox %d jumps over the lazy dog.\"}\n", i, i }' >c.jsonl
awk 'BEGIN { srand(7); split("flour butter bake oven sugar recipe dough cook", f); split("goal match team player score league coach ball", s);
	for (i = 0; i < 200; i++) { t = ""; for (k = 0; k < 20; k++) t = t (i % 2 ? f[int(rand()*8)+1] : s[int(rand()*8)+1]) " ";
	printf "{\"id\":\"t%d\",\"label\":\"%s\",\"text\":\"%s\"}\n", i, i % 2 ? "food" : "sports", t } }' >train.jsonl
bpe-train -q --vocab-size 300 -o tok.json c.jsonl
ok $? "setup: a tokenizer"

# every program that writes a file whole, as: write TARGET
w_bpe_train() { bpe-train -q --vocab-size 300 -o "$1" c.jsonl; }
w_bpe_encode() { bpe-encode -q -t tok.json --write-tokenizer "$1" </dev/null; }
w_sign() { dedup-minhash sign -q -o "$1" c.jsonl; }
# (its training report, which -q does not silence, goes to a file: errors stay on stderr)
w_domain_model() {
	domain-tag -q --train train.jsonl -o "$1" 2>train.err
	st=$?
	grep -v ' held out ' train.err >&2
	return $st
}
w_domain_counts() { domain-tag -q --counts "$1" c.jsonl >/dev/null; }
w_stats() { pii-scrub -q --stats "$1" c.jsonl >/dev/null; }
writers="w_bpe_train w_bpe_encode w_sign w_domain_model w_domain_counts w_stats"
# same WRITER EXPECT ACTUAL DESCRIPTION: the contents agree (--stats: but for options and time)
same() {
	if [ "$1" = w_stats ]; then
		jq -c 'del(.options, .seconds)' "$2" >"$2.n" && jq -c 'del(.options, .seconds)' "$3" >"$3.n"
		test_cmp "$2.n" "$3.n" "$4"
	else
		test_cmp "$2" "$3" "$4"
	fi
}

for w in $writers; do
	$w ref.$w
	ok $? "$w: writes a new file"
	# a regular file: replaced, permissions kept, nothing else left in the folder
	mkdir -p d.$w && printf 'old\n' >d.$w/f && chmod 640 d.$w/f
	$w d.$w/f
	is "$?:$(stat -c %a d.$w/f):$(ls d.$w | tr '\n' ' ')" "0:640:f " "$w: a regular file is replaced, its mode kept, no temporary left"
	same $w ref.$w d.$w/f "$w: with the same contents as a new file"
	# a symbolic link: the file it names is replaced, the link stays
	printf 'old\n' >real.$w && ln -sf real.$w link.$w
	$w link.$w
	is "$?:$(stat -c %F link.$w)" "0:symbolic link" "$w: a symbolic link stays a link"
	same $w ref.$w real.$w "$w: and the file it names gets the contents"
	# a full device: an error, exit 1
	$w $FULL 2>err
	is "$?:$(stat -c %F $FULL)" "1:character special file" "$w: a full device fails (exit 1) and stays a device"
	like "$(cat err)" "error: cannot (write|close).*full.*No space left on device" "$w: saying why"
	# a FIFO: written through, read whole at the other end
	rm -f fifo && mkfifo fifo && { timeout 20 cat fifo >got.$w & }
	$w fifo
	st=$?
	wait
	is "$st:$(stat -c %F fifo)" "0:fifo" "$w: a FIFO is written through and stays a FIFO"
	same $w ref.$w got.$w "$w: the reader gets the whole file"
	# a folder cannot be the target
	mkdir -p isdir
	$w isdir 2>err
	is "$?" 1 "$w: a folder as target fails"
	like "$(cat err)" "isdir.*Is a directory" "$w: saying so"
done

# a device node: never replaced (as root only: mknod)
if [ "$(id -u)" = 0 ] && mknod -m 666 nul c 1 3 2>/dev/null; then
	for w in $writers; do
		$w nul
		is "$?:$(stat -c %F nul)" "0:character special file" "$w: a character device stays a device"
	done
else
	ok 0 "# SKIP device nodes need root"
fi

# a failed run leaves the old file as it was, and no temporary
printf 'old signature\n' >keep.sig
head -c 20000 c.jsonl | gzip -c | head -c 500 >cut.jsonl.gz
dedup-minhash sign -q -o keep.sig cut.jsonl.gz 2>err
is "$?" 1 "sign on a truncated input fails"
is "$(cat keep.sig):$(ls | grep -c 'keep.sig.tmp')" "old signature:0" "the old file is untouched, no temporary left"
# a target in a missing folder: the message names it, not a temporary
bpe-train -q --vocab-size 300 -o missing-dir/tok.json c.jsonl 2>err
is "$?" 1 "a target in a missing folder fails"
like "$(cat err)" "cannot create 'missing-dir/tok.json': No such file or directory" "naming the target, not a temporary"

# a name of standard output: appended to as the shell opened it, never replaced
printf 'precious\n' >log
bpe-train -q --vocab-size 300 -o /dev/stdout c.jsonl >>log
is "$?:$(head -1 log)" "0:precious" "-o /dev/stdout >>log: the log keeps what it had"
tail -c "$(wc -c <ref.w_bpe_train)" log >log.tail
test_cmp ref.w_bpe_train log.tail "  the tokenizer follows, whole"
dedup-minhash sign -q -o /proc/self/fd/1 c.jsonl >>log
is "$?:$(head -1 log)" "0:precious" "-o /proc/self/fd/1: the same"

# --stats to standard output, by name or as -
is "$(pii-scrub --stats - -o /dev/null c.jsonl | jq -c '[.program, .read]')" '["pii-scrub",600]' "--stats -: written to standard output"
is "$(pii-scrub --stats /dev/stdout -o /dev/null c.jsonl | jq -c '[.program, .read]')" '["pii-scrub",600]' "--stats /dev/stdout: the same"

# a long name: the temporary beside it must not be too long for the file system
long=$(printf 'n%.0s' $(seq 250))
w_bpe_train "$long"
is "$?:$(ls | grep -c '^nnn'):$(ls -A | grep -c 'tmp')" "0:1:0" "a 250-character name is written, no temporary left"

# killed by SIGTERM: the temporary goes with the program
rm -f in.fifo && mkfifo in.fifo
dedup-minhash sign -q -o term.sig in.fifo &
pid=$!
exec 3>in.fifo
n=0
while [ "$(ls | grep -c '^term.sig.tmp')" = 0 ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
kill -TERM $pid
wait $pid 2>/dev/null	# (the shell would say "Terminated")
st=$?
exec 3>&-
is "$n:$st:$(ls | grep -c '^term.sig')" "$n:143:0" "SIGTERM: the program dies of it and leaves no temporary"
ok "$([ $n -lt 200 ]; echo $?)" "  (the temporary was there before the signal)"

# a folder the user may not write, holding a file they may: written in place
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 755 . && chmod 644 c.jsonl && mkdir ro && printf 'old\n' >ro/stats.json && chmod 666 ro/stats.json && chmod 755 ro
	setpriv --reuid=65534 --regid=65534 --clear-groups pii-scrub -q --stats ro/stats.json c.jsonl >/dev/null 2>err
	is "$?:$(jq .read ro/stats.json 2>/dev/null)" "0:600" "a writable file in a read-only folder is written in place"
	printf 'old\n' >ro/stats.json && chmod 644 ro/stats.json
	setpriv --reuid=65534 --regid=65534 --clear-groups pii-scrub -q --stats ro/stats.json c.jsonl >/dev/null 2>err
	is "$?:$(cat ro/stats.json)" "1:old" "a file the user may not write is left alone"
	like "$(cat err)" "cannot write 'ro/stats.json': Permission denied" "  saying why"
else
	ok 0 "# SKIP needs root and setpriv"
fi

# standard output checked at exit in every program, whatever path ends it
for p in warc-extract boilerplate-strip quality-score pii-scrub dedup-minhash domain-tag bpe-train bpe-encode \
	bpe-decode shard-pack lm-train lm-sample; do
	$p --help >/dev/full 2>err
	is "$?" 1 "$p --help >/dev/full: exit 1"
	like "$(cat err)" "$p: error: cannot write to standard output: No space left on device" "$p --help: says why"
	$p --version >/dev/full 2>/dev/null
	is "$?" 1 "$p --version >/dev/full: exit 1"
done

# the record filters' outputs on a full device: stdout, -o, --rejects, --stats
printf '{"id":"k","text":"mail jane.roe@example.org"}\n' >p.jsonl
for p in pii-scrub dedup-minhash domain-tag; do
	$p p.jsonl >/dev/full 2>err
	is "$?:$(grep -c error err)" "1:1" "$p >/dev/full: exit 1, one message"
	$p -o /dev/full p.jsonl 2>err
	is "$?" 1 "$p -o /dev/full: exit 1"
	like "$(cat err)" "cannot write to '/dev/full'" "$p -o: says why"
	$p --stats /dev/full p.jsonl >/dev/null 2>err
	is "$?" 1 "$p --stats /dev/full: exit 1"
	like "$(cat err)" "cannot write '/dev/full': No space left on device" "$p --stats: says why"
done
cat p.jsonl p.jsonl >pp.jsonl
dedup-minhash --rejects /dev/full pp.jsonl >/dev/null 2>err
is "$?" 1 "dedup-minhash --rejects /dev/full: exit 1"
like "$(cat err)" "cannot write to '/dev/full': No space left on device" "  says why"

done_testing
