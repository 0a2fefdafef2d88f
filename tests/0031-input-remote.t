#!/bin/sh
# Remote inputs (libcommon/remote.c): http:// and s3:// URLs, served by the tests' own server
# (tests/tools/httpd-test) on 127.0.0.1, give what the local files give, through warc-extract
# and the JSONL filters; a connection that drops or stalls is resumed with a Range request;
# an input that fails (404, a server that keeps failing, one that cannot resume) is named
# with its URL on stderr and in --stats' failed_inputs, the other inputs are still read, and
# the exit status is 1. Every command runs under a generous timeout: a hang fails, never waits.
. "${SRCDIR:-.}/tests/lib.sh"

command -v httpd-test >/dev/null 2>&1 || skip_all "no httpd-test (make check builds it)"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION \
	AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 CRAWL2LM_S3_ENDPOINT CRAWL2LM_HTTP_TRIES
# short pauses between tries; a stall is given up after 2 s (the server holds one for 120 s)
export CRAWL2LM_HTTP_DELAY=0.05 CRAWL2LM_HTTP_MAX_DELAY=0.2 CRAWL2LM_HTTP_TIMEOUT=2

servers=
trap 'for p in $servers; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

# serve NAME [OPTION]...: a server on the folder srv, its base URL in $NAME, its requests in
# NAME.log
serve() {
	name=$1
	shift
	httpd-test --root srv --log "$name.log" --lifetime 300 "$@" >"$name.port" 2>"$name.err" &
	servers="$servers $!"
	i=0
	while [ ! -s "$name.port" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	eval "$name=http://127.0.0.1:$(cat "$name.port")"
}

# run: a command with a hang guard
run() {
	timeout 120 "$@"
}

# requests NAME PATH: how many requests the server NAME had for PATH
requests() {
	jq -r --arg p "$2" 'select(.path == $p) | .path' "$1.log" | wc -l | tr -d ' '
}

mkdir -p srv/b/crawl
W=dolma_warc_sample-0000.warc.gz
cp "$DATA/warc/$W" srv/b/crawl/a.warc.gz
cp "$DATA/warc/dolma_warc_sample-0001.warc.gz" srv/b/crawl/b.warc.gz
cp "$DATA/warc/warcio_example-iana.org-chunked.warc" srv/b/crawl/plain.warc
gzip -c "$DATA/jsonl/arc_easy-150.jsonl" >srv/b/arc.jsonl.gz
cp "$DATA/jsonl/winogrande-20.jsonl" srv/b/wino.jsonl
# a JSONL file larger than the ring (4 MiB) several times over, zstd-compressed beside it
i=0
while [ $i -lt 60 ]; do cat "$DATA/jsonl/warc-pages.jsonl"; i=$((i + 1)); done >srv/b/big.jsonl
zstd -q -c srv/b/big.jsonl >srv/b/big.jsonl.zst
size_a=$(wc -c <srv/b/crawl/a.warc.gz | tr -d ' ')

serve S
test -n "$(cat S.port)"
ok $? "the test server says its port"

# --- the same bytes as the local file
warc-extract srv/b/crawl/a.warc.gz >local.jsonl 2>/dev/null
run warc-extract "$S/b/crawl/a.warc.gz" >http.jsonl 2>err
ok $? "warc-extract reads an http:// URL"
test_cmp local.jsonl http.jsonl "  the same records as from the local file (source: the file's name)"
is "$(wc -l <local.jsonl | tr -d ' ')" "$(jq -s length http.jsonl)" "  every line a record"
warc-extract srv/b/crawl/plain.warc >local-plain.jsonl 2>/dev/null
run warc-extract "$S/b/crawl/plain.warc" >http-plain.jsonl 2>err
test_cmp local-plain.jsonl http-plain.jsonl "  an uncompressed WARC too"
pii-scrub srv/b/arc.jsonl.gz >local-arc.jsonl
run pii-scrub --stats st.json "$S/b/arc.jsonl.gz" >http-arc.jsonl
ok $? "pii-scrub reads a gzip JSONL over http://"
test_cmp local-arc.jsonl http-arc.jsonl "  the same records"
is "$(jq -c '[.read, .failed_inputs]' st.json)" "[150,[]]" "  --stats: every record read, failed_inputs empty"
passthrough srv/b/big.jsonl >local-big.jsonl
run passthrough "$S/b/big.jsonl.zst" >http-big.jsonl
ok $? "a zstd JSONL of $(wc -c <srv/b/big.jsonl | tr -d ' ') bytes (decoded) over http://"
test_cmp local-big.jsonl http-big.jsonl "  the same records"
if command -v /usr/bin/time >/dev/null 2>&1; then
	/usr/bin/time -f %M -o rss.local passthrough srv/b/big.jsonl >/dev/null
	run /usr/bin/time -f %M -o rss.http passthrough "$S/b/big.jsonl" >/dev/null
	big_kb=$(($(wc -c <srv/b/big.jsonl) / 1024))
	local_kb=$(tail -1 rss.local)
	http_kb=$(tail -1 rss.http)
	test "$http_kb" -lt $((local_kb + big_kb / 2))
	ok $? "  streamed: ${http_kb} KiB at most over http://, ${local_kb} KiB from the file, a file of ${big_kb} KiB"
fi
run passthrough "$S/b/big.jsonl" 2>pipe.err | head -1 >/dev/null
is "$(cat pipe.err)" "" "a reader that stops early (a closed pipe) ends quietly"

# --- the other readers: bpe-encode --raw (a file read whole), bpe-decode's streams,
# shard-pack (whose check of its inputs before it clears the folder lets a URL through)
t=$SRCDIR/data/tokenizers/r50k_base.tiktoken.zst
bpe-encode -q --raw -t "$t" srv/b/wino.jsonl >local.ts
run bpe-encode -q --raw -t "$t" "$S/b/wino.jsonl" >http.ts
test_cmp local.ts http.ts "bpe-encode --raw reads a URL whole"
cp local.ts srv/b/wino.ts
bpe-decode --ids srv/b/wino.ts >local.ids
run bpe-decode --ids "$S/b/wino.ts" >http.ids
test_cmp local.ids http.ids "bpe-decode reads a stream over http://"
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "{\"id\":\"%d\",\"text\":\"The quick brown fox %d jumps.\"}\n", i, i }' |
	gzip >srv/b/docs.jsonl.gz
shard-pack -q -t "$t" -o sl --val-fraction 0.1 srv/b/docs.jsonl.gz
run shard-pack -q -t "$t" -o sh --val-fraction 0.1 "$S/b/docs.jsonl.gz"
ok $? "shard-pack reads a URL into its folder"
is "$(jq -c '[.documents_in, .shards]' sh/manifest.json)" "$(jq -c '[.documents_in, .shards]' sl/manifest.json)" \
	"  the same shards (3000 documents)"

# --- s3:// through the endpoint override (path style: ENDPOINT/BUCKET/KEY)
: >S.log
CRAWL2LM_S3_ENDPOINT=$S run warc-extract s3://b/crawl/a.warc.gz >s3.jsonl 2>err
ok $? "s3:// with CRAWL2LM_S3_ENDPOINT"
test_cmp local.jsonl s3.jsonl "  the same records"
is "$(jq -r '.path + " " + (.headers.authorization // "unsigned")' S.log)" "/b/crawl/a.warc.gz unsigned" \
	"  one unsigned request for /BUCKET/KEY"
: >S.log
AWS_ENDPOINT_URL=$S/ AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY \
	AWS_SESSION_TOKEN=session-token-x AWS_REGION=eu-west-2 run warc-extract s3://b/crawl/a.warc.gz >s3s.jsonl 2>err
ok $? "s3:// signed (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; AWS_ENDPOINT_URL)"
test_cmp local.jsonl s3s.jsonl "  the same records"
auth=$(jq -r '.headers.authorization' S.log)
like "$auth" "^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/[0-9]{8}/eu-west-2/s3/aws4_request, " \
	"  Authorization: AWS4-HMAC-SHA256 with the key, the region (AWS_REGION) and s3"
like "$auth" "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$" \
	"  the session token and the payload hash are signed"
is "$(jq -r '.headers["x-amz-security-token"] + " " + .headers["x-amz-content-sha256"]' S.log)" \
	"session-token-x e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
	"  x-amz-security-token from AWS_SESSION_TOKEN, x-amz-content-sha256 of the empty body"
fails 1 "cannot open 's3://b': not an s3://BUCKET/KEY URL" "an s3:// URL without a key" run warc-extract s3://b
fails 2 "CRAWL2LM_HTTP_TRIES wants an integer" "a malformed CRAWL2LM_HTTP_TRIES is a usage error" \
	env CRAWL2LM_HTTP_TRIES=x warc-extract "$S/b/crawl/a.warc.gz"

# --- a dropped connection goes on from the byte reached (206 from that byte)
serve D --drop /b/crawl/a.warc.gz=50000/2 --drop /b/big.jsonl=5000000/1
run warc-extract "$D/b/crawl/a.warc.gz" >drop.jsonl 2>err
ok $? "a connection dropped twice: exit 0"
test_cmp local.jsonl drop.jsonl "  the same records"
is "$(jq -r 'select(.path == "/b/crawl/a.warc.gz") | .headers.range // "-"' D.log | tr '\n' ' ')" \
	"- bytes=50000- bytes=100000- " "  resumed with Range requests from the bytes reached"
like "$(cat err)" "warning: '$D/b/crawl/a.warc.gz': .*trying again" "  each retry is a warning"
run passthrough "$D/b/big.jsonl" >drop-big.jsonl 2>err
test_cmp local-big.jsonl drop-big.jsonl "a large file dropped after 5 MB (the ring full): the same records"

# --- a stalled transfer is given up after CRAWL2LM_HTTP_TIMEOUT and resumed
serve T --stall /b/crawl/a.warc.gz=60000/1
run warc-extract "$T/b/crawl/a.warc.gz" >stall.jsonl 2>err
ok $? "a transfer that stalls: exit 0"
test_cmp local.jsonl stall.jsonl "  the same records"
like "$(cat err)" "no data for 2 s; trying again" "  the stall is named"

# --- failures: named with the URL, the other inputs read, exit 1, listed in --stats
serve F --status /b/crawl/fail.warc.gz=500 --status /b/wino-5xx.jsonl=503/2 --drop /b/crawl/empty.warc.gz=0 \
	--drop /b/crawl/cut.warc.gz=50000/1 --status /b/crawl/cut.warc.gz=503 \
	--drop /b/crawl/cut2.warc.gz=50000/1 --status /b/crawl/cut2.warc.gz=503
cp srv/b/wino.jsonl srv/b/wino-5xx.jsonl
for f in cut cut2 empty; do cp srv/b/crawl/a.warc.gz srv/b/crawl/$f.warc.gz; done
warc-extract srv/b/crawl/b.warc.gz >local-b.jsonl 2>/dev/null
CRAWL2LM_HTTP_TRIES=3 run warc-extract --stats st.json "$F/b/crawl/missing.warc.gz" srv/b/crawl/a.warc.gz \
	"$F/b/crawl/fail.warc.gz" "$F/b/crawl/b.warc.gz" >fail.jsonl 2>err
is "$?" 1 "warc-extract with a 404 and a 500 among four inputs: exit 1"
cat local.jsonl local-b.jsonl >want.jsonl
test_cmp want.jsonl fail.jsonl "  the other two are read whole"
like "$(cat err)" "warc-extract: error: cannot open '$F/b/crawl/missing.warc.gz': HTTP 404 Not Found \(NoSuchKey\)" \
	"  the 404 is named with its URL and status"
like "$(cat err)" "error: cannot open '$F/b/crawl/fail.warc.gz': HTTP 500 Internal Server Error \(Fault500\) \(3 tries\)" \
	"  the 500 too, after CRAWL2LM_HTTP_TRIES tries"
is "$(requests F /b/crawl/missing.warc.gz) $(requests F /b/crawl/fail.warc.gz)" "1 3" \
	"  a 404 is not tried again, a 500 three times"
is "$(jq -r '.failed_inputs[] | .input + " " + .reason' st.json)" \
"$F/b/crawl/missing.warc.gz cannot open '$F/b/crawl/missing.warc.gz': HTTP 404 Not Found (NoSuchKey)
$F/b/crawl/fail.warc.gz cannot open '$F/b/crawl/fail.warc.gz': HTTP 500 Internal Server Error (Fault500) (3 tries)" \
	"  --stats lists both in failed_inputs, with the reason"

CRAWL2LM_HTTP_TRIES=3 run warc-extract --stats st.json "$F/b/crawl/cut.warc.gz" srv/b/crawl/b.warc.gz >cut.jsonl 2>err
is "$?" 1 "a transfer that breaks off and cannot be resumed: exit 1"
like "$(cat err)" "error: $F/b/crawl/cut.warc.gz: the transfer failed after byte 50000 of $size_a: HTTP 503 Service Unavailable \(Fault503\) \(3 tries\)" \
	"  says at which byte and why"
n=$(grep -c . cut.jsonl)
test "$n" -gt "$(grep -c . local-b.jsonl)" && test "$n" -lt "$(cat local.jsonl local-b.jsonl | grep -c .)"
ok $? "  the records before the break are kept, the next input read whole ($n records)"
is "$(jq -r '.failed_inputs | map(.input) | join(" ")' st.json)" "$F/b/crawl/cut.warc.gz" "  --stats lists it"
CRAWL2LM_HTTP_TRIES=3 run warc-extract --allow-truncated "$F/b/crawl/cut2.warc.gz" >/dev/null 2>err
is "$?" 1 "  --allow-truncated does not excuse a failed transfer"

CRAWL2LM_HTTP_TRIES=3 run warc-extract "$F/b/crawl/empty.warc.gz" >/dev/null 2>err
is "$?" 1 "a server that drops every connection before the body: exit 1"
like "$(cat err)" "cannot open '$F/b/crawl/empty.warc.gz': .*\(3 tries\)" "  after the tries"

run passthrough --stats st.json "$F/b/wino-5xx.jsonl" "$F/b/nothing.jsonl" srv/b/wino.jsonl >p.jsonl 2>err
is "$?" 1 "passthrough: a 503 twice then the file, a 404, a local file: exit 1"
is "$(grep -c . p.jsonl)" 40 "  both copies of the file read whole"
is "$(jq -c '[.read, (.failed_inputs | map(.input | sub(".*/"; "")))]' st.json)" '[40,["nothing.jsonl"]]' \
	"  --stats: the 404 alone failed"
like "$(cat err)" "cannot open '$F/b/nothing.jsonl': HTTP 404" "  named on stderr"

run passthrough http://127.0.0.1:1/x.jsonl srv/b/wino.jsonl >p.jsonl 2>err
is "$?:$(grep -c . p.jsonl)" "1:20" "nothing listening: exit 1, the next input read"
like "$(cat err)" "cannot open 'http://127.0.0.1:1/x.jsonl': .*(onnect|refused).*\(5 tries\)" \
	"  after five tries (the default)"

# --- a server that answers a resume with the whole file (200): an error, not a doubled start
serve N --no-range --drop /b/crawl/a.warc.gz=50000/1
run warc-extract --stats st.json "$N/b/crawl/a.warc.gz" >/dev/null 2>err
is "$?" 1 "a 200 to a Range request after bytes were passed on: exit 1"
like "$(cat err)" "the server does not resume: it answered 200, not 206, to a request for the bytes from 50000 on" \
	"  says so"
is "$(requests N /b/crawl/a.warc.gz)" 2 "  not tried again"
done_testing
