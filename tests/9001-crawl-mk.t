#!/bin/sh
# pipelines/crawl.mk: real WARC files to token shards under make -j, every stage's stats kept,
# the funnel; reruns skip what is done; one bad file among many (garbage, an unreadable URL) is
# reported by name and the build exits 1 with the others done; a full disk and a stage killed
# leave no output that looks whole, and a rerun finishes the build as a clean one would.
. "${SRCDIR:-.}/tests/lib.sh"

MK=$SRCDIR/pipelines/crawl.mk
mkdir in
for f in chatnoir-resiliparse_warcfile.warc.gz dolma_warc_sample-0000.warc.gz dolma_warc_sample-0001.warc.gz \
	whirlwind-python_whirlwind.warc.gz warcio_example.warc.gz; do
	cp "$DATA/warc/$f" in/
done
# the settings a tiny corpus needs: a small vocabulary, small shards, every language
set -- LANGS= VOCAB=400 SHARD_TOKENS=5000 VAL_FRACTION=0.1 BIN="$BUILD/bin"
crawl() {	# OUT [make arguments]: the build, its stdout and stderr in OUT.log and OUT.err
	o=$1
	shift
	make -f "$MK" -j 2 IN="${IN:-in}" OUT="$o" "$@" >"$o.log" 2>"$o.err"
}

IN=in crawl a "$@"
is "$?" 0 "a clean build: exit 0"
ok $([ -s a/shards/manifest.json ] && echo 0 || echo 1) "  ends with OUT/shards/manifest.json"
is "$(shard-pack --verify a/shards >/dev/null 2>&1; echo $?)" 0 "  the shards verify"
for s in extract strip quality pii domain sig filter; do
	is "$(ls a/stats/$s/*.json 2>/dev/null | wc -l | tr -d ' ')" 5 "  stats of every file: $s"
done
ok $([ -s a/stats/cluster.json ] && [ -s a/stats/bpe-train.json ] && [ -s a/stats/shard-pack.json ] && echo 0 || echo 1) \
	"  and of the global stages"
is "$(jq -c .failed a/stats/build.json)" "[]" "  build.json: no file failed"
is "$(find a -name '*.tmp' | wc -l | tr -d ' ')" 0 "  no temporary left"
is "$(grep -c '^crawl: [a-z]* [^ ]*: done$' a.log)" 30 "  a line per file and stage (5 files x 6 stages)"
# what the stages kept: the next stage read it
kept_strip=$(jq -s 'map(.kept) | add' a/stats/strip/*.json)
read_quality=$(jq -s 'map(.read) | add' a/stats/quality/*.json)
is "$read_quality" "$kept_strip" "  quality read what strip kept ($kept_strip records)"
docs=$(jq '.splits.train.documents + .splits.val.documents' a/shards/manifest.json)
kept_filter=$(jq -s 'map(.kept) | add' a/stats/filter/*.json)
is "$docs" "$kept_filter" "  the shards hold the documents dedup kept ($kept_filter)"

# the funnel
sh "$SRCDIR/pipelines/funnel" a >funnel.txt 2>funnel.err
is "$?" 0 "funnel: exit 0"
like "$(cat funnel.txt)" "^stage " "  a table"
is "$(grep -c '^\(extract\|strip\|quality\|pii\|domain\|sig\|filter\|shard-pack\) ' funnel.txt)" 8 "  a row per stage"
is "$(jq '.stages[0].read' a/stats/funnel.json)" "$(jq -s 'map(.read) | add' a/stats/extract/*.json)" \
	"  funnel.json: the WARC records read, summed over the files"
like "$(grep '^overall' funnel.txt)" "^overall: [0-9]+ records in .* [0-9]+ out" "  the overall line"
if command -v gnuplot >/dev/null; then
	is "$(head -c 8 a/funnel.png | od -A n -t x1 | tr -d ' ')" 89504e470d0a1a0a "  a PNG"
else
	ok 0 "  a PNG # SKIP no gnuplot"
fi

# a rerun: nothing to do, nothing rewritten
sleep 1
IN=in crawl a "$@"
is "$?:$(grep -c 'done$' a.log)" "0:0" "a rerun: exit 0, no stage run again"
is "$(find a/text a/quality a/pii a/domain a/sig a/dedup a/shards -type f -newer a/stats/build.json | wc -l | tr -d ' ')" 0 \
	"  no output rewritten"
make -f "$MK" IN=in OUT=a status >st.txt 2>&1
like "$(cat st.txt)" "sig +5 of 5 files" "  status: every file signed"

# one bad file among many: garbage named as a WARC, and a list with a URL nothing answers
cp -r in in2
head -c 3000 /dev/urandom | gzip >in2/garbage.warc.gz
IN=in2 crawl b "$@"
is "$?" 2 "a bad file among good ones: exit status non-zero (make's 2)"
ok $([ -s b/shards/manifest.json ] && echo 0 || echo 1) "  the others made it to the shards"
is "$(jq -c '[.failed[] | [.name, .stage]]' b/stats/build.json)" '[["garbage","text"]]' \
	"  build.json names the file and the stage"
like "$(cat b.err)" "crawl: +garbage: text, exit [0-9]+" "  the report on stderr names it"
ok $([ -e b/failed/garbage ] && [ ! -e b/text/garbage.jsonl.gz ] && echo 0 || echo 1) \
	"  recorded in OUT/failed, no output under its name"
is "$(jq '.splits.train.documents + .splits.val.documents' b/shards/manifest.json)" "$docs" \
	"  the shards: what the clean build has"
printf '%s\n' "$PWD/in/warcio_example.warc.gz" "# a comment" "" "http://127.0.0.1:9/nothing.warc.gz" >list.txt
IN=list.txt CRAWL2LM_HTTP_TRIES=1 crawl c "$@"	# one try at the closed port, not five
st=$?
ok $([ $st != 0 ] && echo 0 || echo 1) "a list with an unreadable URL: exit status non-zero"
is "$(jq -c '[.inputs, [.failed[] | .name]]' c/stats/build.json)" '[2,["nothing"]]' "  the URL's file named"
ok $([ -s c/sig/warcio_example.sig ] && echo 0 || echo 1) "  the other file signed"

# a full disk mid-stage (a file size limit: writes fail), then a rerun without it
cp -r in in3
( ulimit -f 40; IN=in3 crawl d "$@" )
ok $([ $? != 0 ] && echo 0 || echo 1) "a full disk: the build fails"
ok $([ -n "$(ls d/failed 2>/dev/null)" ] && echo 0 || echo 1) "  the files it stopped recorded"
bad=0
for f in d/text/*.jsonl.gz d/quality/*.jsonl.gz; do
	[ -e "$f" ] && ! gzip -t "$f" 2>/dev/null && bad=$((bad + 1))
done
is "$bad" 0 "  every output there is whole (gzip -t)"
IN=in3 crawl d "$@"
is "$?" 0 "  the rerun finishes"
ok $([ -z "$(ls d/failed)" ] && echo 0 || echo 1) "  and forgets the failures"
is "$(cat d/shards/*.bin | cksum)" "$(cat a/shards/*.bin | cksum)" "  the same shards as the clean build"

# a stage killed (quality-score killed by a signal), then a rerun with the real one
mkdir kbin
for p in "$BUILD"/bin/*; do ln -s "$p" kbin/; done
rm kbin/quality-score
printf '#!/bin/sh\ncat >/dev/null\nkill -9 $$\n' >kbin/quality-score
chmod +x kbin/quality-score
IN=in crawl e "$@" BIN="$PWD/kbin"
ok $([ $? != 0 ] && echo 0 || echo 1) "a stage killed: the build fails"
is "$(ls e/failed | wc -l | tr -d ' '):$(ls e/quality 2>/dev/null | wc -l | tr -d ' ')" "5:0" \
	"  every file recorded at quality, no quality output"
is "$(cut -f 2,3 e/failed/warcio_example)" "quality	137" "  the stage and its status (killed: 137)"
IN=in crawl e "$@"
is "$?" 0 "  a rerun with the real stage finishes"
is "$(cat e/shards/*.bin | cksum)" "$(cat a/shards/*.bin | cksum)" "  the same shards as the clean build"

# the global stages read their inputs from lists (@FILE): a crawl's names do not fit a
# command line
is "$(grep -c . a/dups/sigs.txt):$(grep -c . a/dups/dedup.txt)" "5:5" "the lists of the global stages"
: >empty.txt
fails 2 "dedup-minhash cluster: error: the list 'empty.txt' names no inputs" "an empty list: a usage error" \
	dedup-minhash cluster @empty.txt
fails 2 "bpe-train: error: cannot read the list 'nowhere.txt'" "a missing list: a usage error" \
	bpe-train -o t.json @nowhere.txt
printf '# the texts\n%s\n\n%s\n' a/dedup/warcio_example.jsonl.gz a/dedup/chatnoir-resiliparse_warcfile.jsonl.gz >two.txt
bpe-train -q --vocab-size 300 -o t1.json @two.txt && bpe-train -q --vocab-size 300 -o t2.json \
	a/dedup/warcio_example.jsonl.gz a/dedup/chatnoir-resiliparse_warcfile.jsonl.gz
test_cmp t1.json t2.json "a list (comments and blank lines left out) = its files on the command line"

# an ARC file (Common Crawl's oldest format) among the inputs
mkdir inarc
cp "$DATA/warc/jwat_1-1-20110922131213-00000-svc-VirtualBox.arc" "$DATA/warc/warcio_example.warc.gz" inarc/
IN=inarc crawl f "$@"
is "$?" 0 "an ARC file and a WARC file: exit 0"
is "$(jq -c '[.read, .kept > 0]' f/stats/extract/jwat_1-1-20110922131213-00000-svc-VirtualBox.json)" "[102,true]" \
	"  the ARC file's 102 records read, pages kept"

# inputs over HTTP (the tests' own server on 127.0.0.1): the same shards as from the files
if command -v httpd-test >/dev/null 2>&1; then
	mkdir -p srv inh
	cp in/warcio_example.warc.gz in/chatnoir-resiliparse_warcfile.warc.gz srv/
	cp in/warcio_example.warc.gz in/chatnoir-resiliparse_warcfile.warc.gz inh/
	httpd-test --root srv --log srv.log --lifetime 300 >srv.port 2>srv.err &
	srv=$!
	i=0
	while [ ! -s srv.port ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	printf 'http://127.0.0.1:%s/%s\n' "$(cat srv.port)" warcio_example.warc.gz \
		"$(cat srv.port)" chatnoir-resiliparse_warcfile.warc.gz >urls.txt
	IN=urls.txt timeout 300 make -f "$MK" -j 2 OUT=g "$@" >g.log 2>g.err
	is "$?" 0 "inputs over HTTP: exit 0"
	IN=inh crawl h "$@"
	is "$(cat g/shards/*.bin | cksum)" "$(cat h/shards/*.bin | cksum)" "  the same shards as from the local files"
	kill $srv 2>/dev/null
else
	ok 0 "inputs over HTTP # SKIP no httpd-test"
	ok 0 "  the same shards # SKIP"
fi

# a crawl's number of inputs: 20,000 names (none on a command line: status and the report)
seq -f 'http://127.0.0.1:9/CC-MAIN-%06g.warc.gz' 1 20000 >big.txt
make -f "$MK" IN=big.txt OUT=big status >st.txt 2>&1
is "$?:$(sed -n 1p st.txt | tr -s ' ')" "0:text 0 of 20000 files" "20,000 inputs: status"
mkdir -p big/failed
for i in 1 2 3; do printf 'CC-MAIN-00000%d\ttext\t1\tcannot open\n' $i >big/failed/CC-MAIN-00000$i; done
make -f "$MK" IN=big.txt OUT=big report >out 2>err
is "$?:$(jq -c '[.inputs, (.failed | length)]' big/stats/build.json)" "2:[20000,3]" "  and the report"

# usage
make -f "$MK" OUT=x >out 2>err
like "$?:$(cat err)" "^2:.*IN is not set" "no IN: make stops, saying so"
mkdir empty
make -f "$MK" IN=empty OUT=x >out 2>err
like "$?:$(cat err)" "^2:.*no inputs" "a folder without WARC files: saying so"
done_testing
