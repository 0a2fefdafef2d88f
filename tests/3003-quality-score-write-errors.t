#!/bin/sh
# quality-score on a full disk: every output (standard output, -o, --rejects, --stats, with
# and without -z) that cannot be written is an error (exit 1, the file named), never a
# silent truncation; with /dev/full, and with a full tmpfs where we may mount one.
. "${SRCDIR:-.}/tests/lib.sh"

# 400 records, kept ones (an English text) and rejected ones (too short): over 64 KiB out
good="The committee met on Tuesday to discuss the proposal for the new park. After a long debate, the members agreed that the plan would go ahead in the spring of next year, and that the town would pay for it with the money that had been set aside for the purpose.
Critics of the plan said that it was too expensive. They argued that the money would be better spent on the schools of the town, which have been waiting for repairs for many years, and that the park could wait.
The mayor said that both were important and that the council would look at the schools again in the autumn. The vote was seven to two, with one member absent."
jq -cn --arg t "$good" '{id: "x", text: $t}' >good.jsonl
# (the record through the environment: awk -v would unescape its JSON)
G=$(cat good.jsonl) awk 'BEGIN {
	good = ENVIRON["G"];
	for (i = 0; i < 400; i++)
		if (i % 2) { r = good; sub(/"x"/, "\"" i "\"", r); print r }
		else printf "{\"id\":\"%d\",\"text\":\"too short %d\"}\n", i, i;
}' >in.jsonl
head -2 in.jsonl >two.jsonl
full="No space left on device"

# run STDOUT ARG...: quality-score's exit status and first message, on one line
run() {
	out=$1
	shift
	quality-score "$@" >"$out" 2>err
	echo "$? $(head -1 err)"
}

is "$(run /dev/full --annotate-only in.jsonl)" "1 quality-score: error: cannot write to standard output: $full" \
	"standard output full"
is "$(run /dev/full --annotate-only two.jsonl)" "1 quality-score: error: cannot write to standard output: $full" \
	"standard output full, two records (the error at the close)"
is "$(run /dev/full -z --annotate-only in.jsonl)" "1 quality-score: error: cannot write to standard output: $full" \
	"standard output full, -z"
is "$(run /dev/null -o /dev/full in.jsonl)" "1 quality-score: error: cannot write to '/dev/full': $full" "-o full"
is "$(run /dev/null -o /dev/full two.jsonl)" "1 quality-score: error: cannot write to '/dev/full': $full" "-o full, two records"
is "$(run /dev/null -z -o /dev/full in.jsonl)" "1 quality-score: error: cannot write to '/dev/full': $full" "-z -o full"
is "$(run /dev/null --rejects /dev/full in.jsonl)" "1 quality-score: error: cannot write to '/dev/full': $full" \
	"--rejects full"
is "$(run /dev/null --rejects /dev/full two.jsonl)" "1 quality-score: error: cannot write to '/dev/full': $full" \
	"--rejects full, one rejected record"
is "$(run /dev/null --annotate-only --rejects /dev/full in.jsonl)" "0 " \
	"--rejects on a full device with nothing rejected: nothing to write, no error"
is "$(run /dev/null --stats /dev/full two.jsonl)" "1 quality-score: error: cannot write '/dev/full': $full" \
	"--stats full"

# a full file system: the output cut short must not pass for whole
if [ "$(id -u)" != 0 ]; then
	ok 0 "# SKIP a full tmpfs: not root"
	ok 0 "# SKIP a full tmpfs: not root"
elif ! mkdir mnt || ! mount -t tmpfs -o size=64k tmpfs mnt 2>/dev/null; then
	ok 0 "# SKIP a full tmpfs: cannot mount one here"
	ok 0 "# SKIP a full tmpfs: cannot mount one here"
else
	trap 'umount "$TMP/mnt" 2>/dev/null; rm -rf "$TMP"' EXIT
	is "$(run /dev/null --annotate-only -o mnt/out.jsonl in.jsonl)" \
		"1 quality-score: error: cannot write to 'mnt/out.jsonl': $full" "-o on a full tmpfs (64 KiB)"
	rm -f mnt/out.jsonl
	dd if=/dev/zero of=mnt/fill bs=4k 2>/dev/null
	is "$(run /dev/null --annotate-only --stats mnt/stats.json two.jsonl)" \
		"1 quality-score: error: cannot write 'mnt/stats.json': $full" "--stats on a full tmpfs"
	umount mnt
fi
done_testing
