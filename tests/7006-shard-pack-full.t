#!/bin/sh
# shard-pack on a full disk: /dev/full for standard output (--stdout, --cat, --verify), --cat-output,
# --stats and --rejects; a full file system under the shards and under TMPDIR (repeated
# documents). Each is exit 1 with "cannot write", and a run that fails leaves no manifest, so
# no set that verifies, and takes back the shards it wrote.
. "${SRCDIR:-.}/tests/lib.sh"

[ -w /dev/full ] || skip_all "no /dev/full"
r50k=$SRCDIR/data/tokenizers/r50k_base.tiktoken.zst
zstd -dc "$DATA/tok/mix.jsonl.zst" | head -100 >docs.jsonl
shard-pack -q -t "$r50k" -o s --shard-tokens 100000 docs.jsonl

# full_run DESCRIPTION EXPECTED-MESSAGE COMMAND...: exit 1 and the message
full_run() {
	desc=$1 msg=$2
	shift 2
	"$@" >out 2>err
	is "$?" 1 "$desc: exit 1"
	like "$(cat err)" "$msg" "$desc: says so"
}

full_run "--stdout >/dev/full" "cannot write to standard output: No space left on device" \
	sh -c "shard-pack -t '$r50k' --stdout --val-fraction 0 docs.jsonl >/dev/full"
# a train shard small enough to wait in stdio's buffer until the end
head -3 docs.jsonl >three.jsonl
full_run "--stdout -o DIR >/dev/full" "cannot write to standard output: No space left on device" \
	sh -c "shard-pack -t '$r50k' --stdout -o so --val-fraction 0.5 three.jsonl >/dev/full"
ok_run "and no manifest says the stream is whole" test ! -e so/manifest.json
ok_run "nor are its val shards left" test -z "$(ls so | grep '\.bin')"
full_run "--cat >/dev/full" "cannot write to standard output: No space left on device" \
	sh -c "shard-pack --cat -t '$r50k' s/manifest.json >/dev/full"
full_run "--cat-output /dev/full" "cannot write to '/dev/full': No space left on device" \
	shard-pack --cat -t "$r50k" --cat-output /dev/full s/manifest.json
full_run "--verify >/dev/full" "cannot write to standard output: No space left on device" \
	sh -c "shard-pack --verify s >/dev/full"
full_run "--stats /dev/full" "cannot write '/dev/full': No space left on device" \
	shard-pack -t "$r50k" -o st --stats /dev/full docs.jsonl
ok_run "and no manifest" test ! -e st/manifest.json
full_run "--rejects /dev/full" "cannot write to '/dev/full': No space left on device" \
	shard-pack -t "$r50k" -o rj --rejects /dev/full --default-weight 0.5 docs.jsonl
ok_run "and no manifest" test ! -e rj/manifest.json

# a small file system that the shards outgrow: a tmpfs (root), else a limit on file sizes
if [ "$(id -u)" = 0 ] && mkdir small && mount -t tmpfs -o size=256k tmpfs small 2>/dev/null; then
	trap 'umount "$TMP/small"; rm -rf "$TMP"' EXIT
	limit() { "$@"; }
	why="No space left on device"
	echo "# a 256 KB tmpfs"
else
	mkdir -p small
	limit() { (trap '' XFSZ; ulimit -f 256; exec "$@"); }
	why="File too large"
	echo "# not root or no mount: a limit of 128 KB a file instead of a full tmpfs"
fi
head -2 docs.jsonl >two.jsonl
limit shard-pack -q -t "$r50k" -o small/s --shard-tokens 100000 --val-fraction 0 two.jsonl
ok $? "a small set fits"
like "$(shard-pack --verify small/s)" "OK" "and verifies"
full_run "shards outgrow the disk" "cannot write 'small/s/shard_train_[0-9]*\.bin\.tmp': $why" \
	limit shard-pack -t "$r50k" -o small/s --shard-tokens 100000 --val-fraction 0 docs.jsonl
ok_run "no manifest is left" test ! -e small/s/manifest.json
is "$(ls small/s)" "" "nor any shard of either run"
shard-pack --verify small/s >out 2>err
is "$?" 1 "--verify fails"

# repeated documents wait in TMPDIR: a full one is an error, not documents lost
printf 'none\t2\n' >w.tsv
if [ "$why" = "No space left on device" ]; then
	# few enough tokens to wait in stdio's buffer until they are read back
	awk 'BEGIN { for (i = 0; i < 20; i++) printf "{\"id\":\"%d\",\"text\":\"short %d\"}\n", i, i }' >twenty.jsonl
	dd if=/dev/zero of=small/fill bs=1k count=256 2>/dev/null
	full_run "a full TMPDIR" "cannot write the temporary file of repeated documents: $why" \
		env TMPDIR="$TMP/small" shard-pack -t "$r50k" -o rep --weights w.tsv --val-fraction 0 twenty.jsonl
else
	# 20 documents' tokens over the limit, in shards under it
	head -20 docs.jsonl >twenty.jsonl
	full_run "a TMPDIR over the size limit" "cannot write the temporary file of repeated documents: $why" \
		limit env TMPDIR="$TMP/small" shard-pack -t "$r50k" -o rep --weights w.tsv --val-fraction 0 \
		--shard-tokens 10000 twenty.jsonl
fi
ok_run "and no manifest" test ! -e rep/manifest.json
shard-pack -q -t "$r50k" -o rep --weights w.tsv --val-fraction 0 twenty.jsonl
is "$(jq .splits.train.documents rep/manifest.json)" 40 "with room, each of the 20 documents twice"
done_testing
