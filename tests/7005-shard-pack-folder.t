#!/bin/sh
# shard-pack's output folder: a rerun removes the earlier set's shards it does not write again
# (saying which) and leaves other files alone (saying which); the folder is locked, so a second
# run at once fails naming the first's pid; a run killed midway leaves a folder that fails
# --verify and holds none of the earlier shards; --verify fails on a shard-like file or a
# temporary that the manifest does not list, and on a file listed twice.
. "${SRCDIR:-.}/tests/lib.sh"

r50k=$SRCDIR/data/tokenizers/r50k_base.tiktoken.zst
zstd -dc "$DATA/tok/mix.jsonl.zst" | head -400 >docs400.jsonl
head -100 docs400.jsonl >docs.jsonl
nbin() { ls "$1" | grep -c '\.bin$'; }

# a rerun with fewer shards
shard-pack -q -t "$r50k" -o s --shard-tokens 20000 --val-fraction 0.05 docs.jsonl
many=$(nbin s)
ok $([ "$many" -gt 5 ] && echo 0 || echo 1) "a first run writes $many shards"
shard-pack -t "$r50k" -o s --shard-tokens 100000 --val-fraction 0.05 docs.jsonl 2>err
ok $? "a rerun with larger shards"
few=$(jq '.shards | length' s/manifest.json)
is "$(nbin s)" "$few" "the folder holds the $few shards of the new manifest, no more"
is "$(ls s | grep '\.bin$' | sort | tr '\n' ' ')" "$(jq -r '.shards[].file' s/manifest.json | sort | tr '\n' ' ')" \
	"and they are the ones it lists"
gone=$((many - few))
is "$(cat err)" "shard-pack: removed $gone shards of the earlier set in 's' that this run did not write again (shard_train_*.bin)" \
	"the rerun says how many it removed and their pattern"
like "$(shard-pack --verify s)" "OK: $few shards" "--verify: OK"
shard-pack -q -t "$r50k" -o s --shard-tokens 20000 --val-fraction 0.05 docs.jsonl
shard-pack -v -t "$r50k" -o s --shard-tokens 100000 --val-fraction 0.05 docs.jsonl 2>err
is "$(grep -c "^shard-pack: removed 's/shard_train_[0-9]*\.bin'$" err)" "$gone" "-v names each shard removed"
shard-pack -t "$r50k" -o s --shard-tokens 20000 --val-fraction 0.05 -q docs.jsonl 2>err
is "$(cat err)" "" "-q: nothing said"

# another --name: the earlier manifest's shards go too
shard-pack -t "$r50k" -o s --name web --shard-tokens 100000 --val-fraction 0.05 docs.jsonl 2>err
is "$(ls s | grep -c '^shard_')" 0 "a rerun with another --name removes the shards the earlier manifest lists"
like "$(cat err)" "removed $many shards .*\(shard_train_\*\.bin, shard_val_\*\.bin\)" "and says so"
like "$(shard-pack --verify s)" "OK: $few shards" "--verify: OK"

# files that are not ours stay, and are mentioned
echo notes >s/notes.txt
cp s/web_train_000000.bin s/other_train_000000.bin
shard-pack -t "$r50k" -o s --name web --shard-tokens 100000 --val-fraction 0.05 docs.jsonl 2>err
ok $? "a rerun into a folder with other files"
is "$(cat s/notes.txt)" "notes" "a file that is not shard-pack's stays"
ok_run "a shard-like file that no manifest lists stays" test -f s/other_train_000000.bin
like "$(cat err)" "warning: 's' holds files that are not shard-pack's \(1: notes.txt\), left as they are" \
	"the rerun names the other file"
like "$(cat err)" "warning: 's' holds shard-like files that are not this run's \(1: other_train_000000.bin\), left as they are: --verify fails" \
	"and the shard-like one, with what it does to --verify"

# --verify on a folder with an extra shard file
shard-pack --verify s >out 2>err
is "$?" 1 "--verify fails on a shard the manifest does not list"
like "$(cat err)" "'s/other_train_000000.bin': a shard-like file that s/manifest.json does not list" "naming it"
is "$(cat out)" "" "no OK line"
shard-pack --verify s/manifest.json >out 2>err
like "$(cat err)" "other_train_000000.bin': a shard-like" "the same given the manifest"
rm s/other_train_000000.bin s/notes.txt
: >s/web_val_000004.bin.tmp
shard-pack --verify s >out 2>err
like "$(cat err)" "'s/web_val_000004.bin.tmp': a temporary file of an unfinished run" "--verify fails on a leftover temporary"
shard-pack -t "$r50k" -o s --name web --shard-tokens 100000 --val-fraction 0.05 docs.jsonl 2>err
like "$(cat err)" "removed 1 temporary files of an interrupted run from 's'" "a rerun removes it, saying so"
ok_run "and it is gone" test ! -e s/web_val_000004.bin.tmp
# --cat reads a folder as its manifest, and checks each shard against it as --verify does
shard-pack --cat -t "$r50k" s/manifest.json >want.txt
shard-pack --cat -t "$r50k" s >got.txt
test_cmp want.txt got.txt "--cat DIR is --cat DIR/manifest.json"
cp -r s dmg && printf 'x' | dd of=dmg/web_train_000001.bin bs=1 seek=3000 conv=notrunc 2>/dev/null
shard-pack --cat -t "$r50k" dmg/manifest.json >out 2>err
is "$?" 1 "--cat of a manifest fails on a damaged shard"
like "$(cat err)" "'dmg/web_train_000001.bin': [0-9]+ tokens with checksum [0-9a-f]+, dmg/manifest.json says .*: the shard is damaged" \
	"saying which"
cp -r s fifo && rm fifo/web_val_000000.bin && mkfifo fifo/web_val_000000.bin
timeout 20 shard-pack --verify fifo >out 2>err
is "$?" 1 "--verify fails on a FIFO in a shard's place, without waiting on it"
like "$(cat err)" "'fifo/web_val_000000.bin' is not a regular file" "saying so"
timeout 20 shard-pack --cat -t "$r50k" fifo >out 2>err
like "$(cat err)" "'fifo/web_val_000000.bin' is not a regular file" "so does --cat"
cp -r s twice && jq '.shards[1] = .shards[0]' s/manifest.json >twice/manifest.json
shard-pack --verify twice >out 2>err
like "$(cat err)" "'web_train_000000.bin' is listed more than once" "--verify fails on a shard listed twice"

# the lock: a run waiting for input holds the folder; a second run fails at once
mkfifo in.fifo
shard-pack -q -t "$r50k" -o c --shard-tokens 50000 in.fifo 2>err1 &
pid=$!
i=0
while [ ! -s c/.shard-pack.lock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
shard-pack -q -t "$r50k" -o c --seed 3 docs.jsonl 2>err2
is "$?" 1 "a second run into a locked folder fails"
is "$(cat err2)" "shard-pack: error: cannot write shards into 'c': another shard-pack (pid $pid) is writing there" \
	"naming the folder and the holder's pid"
shard-pack --verify c >out 2>err
is "$(cat err)" "shard-pack: error: cannot read the shards in 'c': shard-pack (pid $pid) is writing them" "--verify meanwhile says who writes it"
shard-pack --cat -t "$r50k" c >out 2>err
like "$(cat err)" "cannot read the shards in 'c': shard-pack \(pid $pid\) is writing them" "so does --cat"
cat docs.jsonl >in.fifo
wait $pid
ok $? "the first run finishes"
like "$(shard-pack --verify c)" "OK" "and its set verifies"
is "$(jq .seed c/manifest.json)" 0 "it is the first run's"
if command -v flock >/dev/null; then
	# a reader's shared lock, held until the fifo has a line
	mkfifo hold.fifo
	flock -s c/.shard-pack.lock sh -c 'echo held >held; read x <hold.fifo' &
	rpid=$!
	i=0
	while [ ! -s held ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	shard-pack -q -t "$r50k" -o c docs.jsonl 2>err
	is "$(cat err)" "shard-pack: error: cannot write shards into 'c': it is being read (by lm-train, or shard-pack --verify or --cat)" \
		"a run does not write a folder being read"
	echo >hold.fifo
	wait $rpid
else
	ok 0 "# SKIP no flock(1)"
fi

# two runs at once, several times: one fails with the lock message, the set verifies
bad=0
for t in 1 2 3 4; do
	shard-pack -q -t "$r50k" -o r --shard-tokens 20000 --seed 1 docs.jsonl 2>e1 &
	p1=$!
	shard-pack -q -t "$r50k" -o r --shard-tokens 30000 --seed 2 docs.jsonl 2>e2
	s2=$?
	wait $p1
	s1=$?
	for e in e1 e2; do
		[ ! -s $e ] || grep -q "cannot write shards into 'r': another shard-pack (pid [0-9]*) is writing there" $e ||
			{ bad=$((bad + 1)); sed 's/^/# /' $e; }
	done
	[ $((s1 + s2)) -le 1 ] || bad=$((bad + 1))
	shard-pack -q --verify r || bad=$((bad + 1))
	[ "$(nbin r)" = "$(jq '.shards | length' r/manifest.json)" ] || bad=$((bad + 1))
done
is "$bad" 0 "two runs at once, 4 times: one fails with the lock message or they take turns; the set verifies"

# a rerun killed midway: no manifest, none of the earlier shards (5,000 tokens each, more
# than the rerun writes; its own hold 30,000)
ntok() { od -A n -t d4 -j 8 -N 4 "$1" | tr -d ' '; }
shard-pack -q -t "$r50k" -o k --shard-tokens 5000 --val-fraction 0 docs400.jsonl
old=$(nbin k)
shard-pack -q -j1 -t "$r50k" -o k --shard-tokens 30000 --val-fraction 0 in.fifo &
pid=$!
exec 3>in.fifo
# enough for two of -j1's 4 MB batches, so shards are written before the input ends
cat docs400.jsonl docs400.jsonl docs400.jsonl >&3
i=0
while ! { [ -f k/shard_train_000001.bin ] && [ "$(ntok k/shard_train_000001.bin)" = 30000 ]; } && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 $pid
exec 3>&-
wait $pid 2>/dev/null
ok_run "after kill -9 of a rerun there is no manifest" test ! -e k/manifest.json
is "$(for f in k/*.bin; do ntok $f; done | sort -u | tr '\n' ' ')" "30000 " \
	"and none of the earlier run's $old shards ($(nbin k) of its own)"
shard-pack --verify k >out 2>err
is "$?" 1 "--verify fails"

# a FIFO in the manifest's place: refused at once, not waited on
shard-pack -q -t "$r50k" -o ff --shard-tokens 20000 docs.jsonl
rm ff/manifest.json && mkfifo ff/manifest.json
timeout 60 shard-pack --verify ff >out 2>err
is "$?" 1 "--verify: a FIFO as the manifest is refused"
like "$(cat err)" "'ff/manifest.json' is not a regular file" "  saying so"
timeout 60 shard-pack --cat -t "$r50k" ff >out 2>err
is "$?" 1 "--cat: the same"
timeout 60 shard-pack -q -t "$r50k" -o ff --shard-tokens 20000 docs.jsonl 2>err
is "$?:$(shard-pack --verify ff >/dev/null 2>&1; echo $?)" "0:0" "a rerun replaces it with a manifest"

# a folder shared by users: another user's lock file does not stop a run that may write there
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$r50k"; then
	chmod 755 . && chmod 644 docs.jsonl && mkdir -m 777 shared
	shard-pack -q -t "$r50k" -o shared --shard-tokens 20000 docs.jsonl
	setpriv --reuid=65534 --regid=65534 --clear-groups shard-pack -q -t "$r50k" -o shared --shard-tokens 20000 docs.jsonl 2>err
	is "$?:$(cat err)" "0:" "a run by another user, in a folder both may write, takes the lock"
	is "$(shard-pack --verify shared >/dev/null 2>&1; echo $?)" 0 "  and the set verifies"
else
	ok 0 "# SKIP needs root, setpriv and a tokenizer others can read"
	ok 0 "# SKIP"
fi

# a failed input: a typo leaves the earlier set alone; a cut input leaves no set that verifies
shard-pack -q -t "$r50k" -o fi --shard-tokens 20000 docs.jsonl
before=$(ls fi | tr '\n' ' ')
shard-pack -q -t "$r50k" -o fi missing.jsonl 2>err
is "$?:$(ls fi | tr '\n' ' ')" "1:$before" "an input that cannot be opened: the earlier set is left as it was"
like "$(cat err)" "cannot open 'missing.jsonl': No such file or directory \(the folder 'fi' is left as it was\)" "  saying so"
gzip -c docs.jsonl | head -c 20000 >cut.jsonl.gz
shard-pack -q -t "$r50k" -o fi --shard-tokens 20000 cut.jsonl.gz 2>err
is "$?:$(ls fi | tr '\n' ' ')" "1:" "a cut input: exit 1, no manifest, no shards"
like "$(cat err)" "an input failed: no manifest written in 'fi'" "  saying so"
shard-pack -q -t "$r50k" -o fi --shard-tokens 20000 --allow-truncated cut.jsonl.gz 2>err
is "$?:$(shard-pack --verify fi >/dev/null 2>&1; echo $?)" "0:0" "  --allow-truncated: the set of what could be read"

# something not a regular file under one of this run's shard names: never renamed over
mkdir nr && mkfifo nr/shard_train_000000.bin
shard-pack -q -t "$r50k" -o nr --shard-tokens 20000 docs.jsonl 2>err
is "$?:$(stat -c %F nr/shard_train_000000.bin)" "1:fifo" "a FIFO named as a shard is refused, not replaced"
like "$(cat err)" "'nr/shard_train_000000.bin' has the name of one of this run's shards but is not a regular file" "  saying so"
done_testing
