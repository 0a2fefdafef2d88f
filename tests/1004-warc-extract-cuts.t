#!/bin/sh
# warc-extract on real WARC files cut short: at every byte of the first records' headers, at
# points inside every record's block and in its closing line ends, in plain, gzip (a member per
# record, and one member) and zstd files. Each cut must exit 1 with an error naming the file,
# and write every record that ends before the cut, as the whole file gives them. With SLOW=1
# (make check-slow) every byte of every file is a cut, but for the 77 KB Common Crawl WARC.
. "${SRCDIR:-.}/tests/lib.sh"
W=$DATA/warc
ALL="--types warcinfo,response,resource,request,metadata,revisit,conversion --mime any --status any"
CR=$(printf '\r')
SLOW=${SLOW:-}

# starts FILE: the offset of each record start (a "WARC/1.x" line), one a line
starts() {
	grep -abo "^WARC/1\.[01]$CR\$" "$1" | cut -d: -f1
}

# nth N LIST...: the N-th (0-based) of the words that follow
nth() {
	shift $(($1 + 1))
	echo "$1"
}

# below N LIST...: how many of the numbers in LIST are below N
below() {
	b_n=$1 b_k=0
	shift
	for b_x; do
		[ "$b_x" -lt "$b_n" ] && b_k=$((b_k + 1))
	done
	echo $b_k
}

# expect K: before a cut, the output must hold the first K lines of full.jsonl (the whole
# file's output): sets $min to their size in bytes
expect() {
	min=$(head -n "$1" full.jsonl | wc -c)
}

# try CUTFILE OPTS...: run on CUTFILE with OPTS; it must exit 1, say "error: CUTFILE: ..."
# and write a prefix of full.jsonl of at least $min bytes. Failures are counted in $bad (the
# first few are described in bad.txt).
try() {
	t_f=$1
	shift
	warc-extract --source x "$@" "$t_f" >out 2>err
	t_rc=$?
	t_msg=0
	while read -r t_l; do
		case $t_l in
		"warc-extract: error: $t_f: "*) t_msg=1 ;;
		esac
	done <err
	# cmp says how far out is a prefix of full.jsonl
	t_cmp=$(cmp out full.jsonl 2>&1)
	case $t_cmp in
	"") t_sz=$(wc -c <out) ;;
	*"EOF on out which is empty"*) t_sz=0 ;;
	*"EOF on out after byte "*) t_sz=${t_cmp##*after byte }; t_sz=${t_sz%%[!0-9]*} ;;
	*) t_sz=-1 ;;
	esac
	t_why=
	if [ "$t_rc" != 1 ]; then
		t_why="exit $t_rc"
	elif [ "$t_msg" != 1 ]; then
		t_why="no error naming the file"
	elif [ "$t_sz" -lt 0 ]; then
		t_why="output is not a prefix of the whole file's"
	elif [ "$t_sz" -lt "$min" ]; then
		t_why="$t_sz bytes written, want at least $min"
	fi
	if [ -n "$t_why" ]; then
		bad=$((bad + 1))
		[ "$bad" -le 5 ] && echo "cut at $cut of $src ($*): $t_why; stderr: $(head -c 300 err)" >>bad.txt
	fi
	points=$((points + 1))
}

# report WHAT: one assertion for the cuts tried since the last one
report() {
	ok "$([ "$points" -gt 0 ] && echo "$bad" || echo 1)" "$1: $points cuts, each exit 1 naming the file, the records before it written"
	[ -f bad.txt ] && sed 's/^/# /' bad.txt
	rm -f bad.txt
	bad=0 points=0
}
bad=0 points=0

# sweep_plain FILE STEP HEADERS OPTS...: cut a plain file at every byte of the first HEADERS
# records' headers (up to the blank line), every STEP bytes elsewhere, and at the last 6
# bytes of every record (the end of its block and its closing CRLF CRLF)
sweep_plain() {
	src=$1 step=$2 nhead=$3
	shift 3
	[ -n "$SLOW" ] && [ "$(wc -c <"$src")" -lt 10000 ] && step=1
	warc-extract --source x "$@" "$src" >full.jsonl
	offs=$(jq -r .metadata.warc.offset full.jsonl)
	rs=$(starts "$src")
	total=$(wc -c <"$src")
	i=0
	for s in $rs; do
		e=$(nth $((i + 1)) $rs $total)
		expect "$(below "$s" $offs)"	# the records written before this one
		hdr=$(tail -c +$((s + 1)) "$src" | grep -abo -m1 "^$CR\$" | cut -d: -f1)
		c=$((s + 1))
		while [ "$c" -lt "$e" ]; do
			cut=$c
			head -c "$c" "$src" >cut.warc
			try cut.warc "$@"
			if [ "$i" -lt "$nhead" ] && [ "$c" -le $((s + hdr + 2)) ]; then
				c=$((c + 1))
			elif [ "$c" -lt $((e - 6)) ] && [ $((c + step)) -ge $((e - 6)) ]; then
				c=$((e - 6))
			else
				c=$((c + step))
			fi
		done
		i=$((i + 1))
	done
}

f=$W/warcio_example.warc
is "$(starts "$f" | wc -l) $(warc-extract $ALL "$f" | jq -r .metadata.warc.type | tr '\n' ' ')" \
	"6 warcinfo warcinfo response request revisit request " "warcio_example.warc: six records found by grep, the same six read"
sweep_plain "$f" 97 2 $ALL
report "plain WARC (warcinfo, response, request, revisit), every type selected"
sweep_plain "$f" 71 0
report "the same with the default selection (warcinfo, request and revisit not selected)"
sweep_plain "$W/whirlwind-python_whirlwind.warc" 2999 0 $ALL
report "plain Common Crawl WARC (warcinfo, request, response, metadata)"
sweep_plain "$W/whirlwind-python_whirlwind.warc.wet" 97 0
report "plain WET (warcinfo, conversion)"

# the same records as gzip, one member a record: split at the record starts
src=$W/warcio_example.warc
rs=$(starts "$src")
total=$(wc -c <"$src")
: >members.warc.gz
i=0 mb=
for s in $rs; do
	e=$(nth $((i + 1)) $rs $total)
	mb="$mb $(wc -c <members.warc.gz)"
	tail -c +$((s + 1)) "$src" | head -c $((e - s)) | gzip -9n >>members.warc.gz
	i=$((i + 1))
done
mtotal=$(wc -c <members.warc.gz)
plain=$src
warc-extract --source x $ALL "$plain" | jq -c 'del(.metadata.warc.offset)' >plain.jsonl
src=members.warc.gz
warc-extract --source x $ALL members.warc.gz >full.jsonl
jq -c 'del(.metadata.warc.offset)' full.jsonl >b.jsonl
test_cmp plain.jsonl b.jsonl "gzip, a member a record: the same records as plain"
# every byte of each member's gzip header (its first 12 bytes) and trailer (its last 10),
# every 17th byte between; member boundaries are not cuts
i=0
for m in $mb; do
	e=$(nth $((i + 1)) $mb $mtotal)
	expect "$i"
	c=$((m + 1))
	while [ "$c" -lt "$e" ]; do
		cut=$c
		head -c "$c" members.warc.gz >cut.warc.gz
		try cut.warc.gz $ALL
		if [ -n "$SLOW" ] || [ "$c" -lt $((m + 12)) ] || [ "$c" -ge $((e - 10)) ]; then
			c=$((c + 1))
		elif [ $((c + 17)) -ge $((e - 10)) ]; then
			c=$((e - 10))
		else
			c=$((c + 17))
		fi
	done
	i=$((i + 1))
done
report "gzip, a member a record"

# one gzip member, and zstd: the records that end before what a decoder recovers are written
# sweep_whole FILE DECODER...
sweep_whole() {
	src=$1
	shift
	ctotal=$(wc -c <"$src")
	c=1
	while [ "$c" -lt "$ctotal" ]; do
		cut=$c
		head -c "$c" "$src" >cut.$src
		got=$("$@" <cut.$src 2>/dev/null | wc -c)
		k=0
		for s in $rs $total; do
			[ "$s" -gt 0 ] && [ "$s" -le "$got" ] && k=$((k + 1))
		done
		expect "$k"
		try cut.$src $ALL
		c=$((c + (c < 24 || ${#SLOW} > 0 ? 1 : 41)))
	done
}
gzip -9nc "$plain" >whole.warc.gz
zstd -q -19 -c "$plain" >whole.warc.zst
warc-extract --source x $ALL whole.warc.gz >full.jsonl
jq -c 'del(.metadata.warc.offset)' full.jsonl >b.jsonl
test_cmp plain.jsonl b.jsonl "gzip, one member: the same records"
sweep_whole whole.warc.gz gzip -dc
report "gzip, one member for the whole file"
warc-extract --source x $ALL whole.warc.zst >full.jsonl
jq -c 'del(.metadata.warc.offset)' full.jsonl >b.jsonl
test_cmp plain.jsonl b.jsonl "zstd: the same records"
sweep_whole whole.warc.zst zstd -dc
report "zstd"

# --allow-truncated accepts a cut; the messages still name the file and the place
head -c 700 "$W/warcio_example.warc" >cut.warc
warc-extract --allow-truncated $ALL cut.warc >out 2>err
is "$?" 0 "--allow-truncated: exit 0"
like "$(cat err)" "cut\.warc: offset 488: record header cut short by the end of the input" "the cut header named"
like "$(cat err)" "cut\.warc: the input ends inside a record \(accepted: --allow-truncated\)" "and accepted"
is "$(wc -l <out)" 1 "the record before it written"
done_testing
