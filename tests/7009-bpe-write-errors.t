#!/bin/sh
# bpe-encode and bpe-decode on a full device (every output: standard output, -o, the token
# stream, --jsonl, --info, --ids, --help, --stats, --rejects): an error and exit 1, never 0;
# token streams in gzip or zstd files cut in their trailer (once decoded without a word).
# bpe-train's are in 7007; bpe-train -o and bpe-encode --write-tokenizer write through the
# tokenizer writer (cm_tok_save_json), tested with it.
. "${SRCDIR:-.}/tests/lib.sh"

[ -c /dev/full ] || skip_all "no /dev/full"
t=$SRCDIR/data/tokenizers/r50k_base.tiktoken.zst
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "{\"id\":\"%d\",\"text\":\"The quick brown fox %d jumps.\"}\n", i, i }' >c.jsonl
bpe-encode -t "$t" c.jsonl >c.ts

# full: "cannot write", exit 1
full() {	# DESCRIPTION COMMAND...: runs the command, which must fail for the full device
	desc=$1
	shift
	fails 1 "error: cannot (write|close)" "$desc" "$@"
}
full "bpe-encode: the token stream to standard output" sh -c 'bpe-encode -t "$0" c.jsonl >/dev/full' "$t"
full "bpe-encode: an empty input's stream (header and end mark only)" sh -c 'bpe-encode -t "$0" </dev/null >/dev/full' "$t"
full "bpe-encode --jsonl" sh -c 'bpe-encode -t "$0" --jsonl c.jsonl >/dev/full' "$t"
full "bpe-encode -o" bpe-encode -t "$t" -o /dev/full c.jsonl
full "bpe-encode -z -o" bpe-encode -t "$t" -z -o /dev/full c.jsonl
full "bpe-encode --raw" sh -c 'bpe-encode -t "$0" --raw c.jsonl >/dev/full' "$t"
full "bpe-encode --info" sh -c 'bpe-encode -t "$0" --info >/dev/full' "$t"
full "bpe-encode --stats" bpe-encode -t "$t" --stats /dev/full -o out.ts c.jsonl
printf '{"x":1}\n' >nt.jsonl
full "bpe-encode --rejects" bpe-encode -t "$t" --rejects /dev/full -o out.ts nt.jsonl
full "bpe-encode --version" sh -c 'bpe-encode --version >/dev/full'
full "bpe-decode: text to standard output" sh -c 'bpe-decode -t "$0" c.ts >/dev/full' "$t"
full "bpe-decode --jsonl" sh -c 'bpe-decode -t "$0" --jsonl c.ts >/dev/full' "$t"
full "bpe-decode --ids" sh -c 'bpe-decode --ids c.ts >/dev/full'
full "bpe-decode -o" bpe-decode -t "$t" -o /dev/full c.ts
full "bpe-decode --help" sh -c 'bpe-decode --help >/dev/full'
full "bpe-decode --version" sh -c 'bpe-decode --version >/dev/full'
is "$(bpe-decode --ids c.ts | wc -l)" 3000 "(the same commands write 3,000 documents when there is room)"

# a compressed token stream cut in its trailer: the stream is whole, the file is not
gzip -c c.ts >c.ts.gz
zstd -q -c c.ts >c.ts.zst
bpe-decode --ids c.ts.gz >out 2>err
is "$?: $(wc -l <out)" "0: 3000" "a gzip stream decodes"
for cut in 1 4 8; do
	head -c $(($(wc -c <c.ts.gz) - cut)) c.ts.gz >cut.gz
	fails 1 "bpe-decode: error: 'cut.gz': unexpected end of file in gzip member" \
		"gzip without its last $cut bytes (CRC and size) is an error" bpe-decode --ids cut.gz
done
head -c $(($(wc -c <c.ts.zst) - 2)) c.ts.zst >cut.zst
fails 1 "bpe-decode: error: 'cut.zst': unexpected end of file in zstd frame" "zstd cut short is an error" \
	bpe-decode --ids cut.zst
head -c 20 c.ts.gz >head.gz
fails 1 "bpe-decode: error: 'head.gz': unexpected end of file" \
	"a gzip file cut before the header says so (not 'not a token stream')" bpe-decode --ids head.gz
cat c.ts.gz c.ts.gz >two.gz
fails 1 "bytes after the token stream's end mark" "two streams in one file" bpe-decode --ids two.gz
done_testing
