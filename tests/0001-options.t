#!/bin/sh
# Every program: --help names every long option of its table, the man page documents each,
# --version works, a bad option is a usage error (exit 2).
. "${SRCDIR:-.}/tests/lib.sh"

common=$(sed -n '/^#define CM_FILTER_LONGOPTS/,/^$/p' "$SRCDIR/libcommon/filter.h" |
	grep -o '{ "[a-z0-9-]*"' | cut -d'"' -f2)
for bin in "$BUILD"/bin/* "$BUILD"/tests/tools/passthrough; do
	prog=$(basename "$bin")
	src=$SRCDIR/filters/$prog/$prog.c
	[ -f "$src" ] || src=$SRCDIR/trainer/$prog.c
	[ -f "$src" ] || src=$SRCDIR/tests/tools/$prog.c
	opts=$(sed -n '/longopts\[\] = {/,/^};/p' "$src" | grep -o '{ "[a-z0-9-]*"' | cut -d'"' -f2)
	grep -q CM_FILTER_LONGOPTS "$src" && opts="$opts $common"
	help=$("$bin" --help)
	ok $? "$prog --help exits 0"
	missing=
	for o in $opts; do
		printf '%s' "$help" | grep -q -- "--$o\b" || missing="$missing --$o"
	done
	is "$missing" "" "$prog --help names every long option"
	man=$SRCDIR/man/$prog.1
	if [ -f "$man" ]; then
		missing=
		for o in $opts; do
			pat=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
			grep -q -- "\\\\-\\\\-$pat\b" "$man" || missing="$missing --$o"
		done
		is "$missing" "" "man/$prog.1 documents every long option"
		for s in OPTIONS 'EXIT STATUS' EXAMPLES; do
			grep -q "^\.SH $s" "$man"
			ok $? "man/$prog.1 has $s"
		done
	fi
	v=$("$bin" --version)
	like "$v" "^$prog .*[0-9]+\.[0-9]+" "$prog --version: $v"
	"$bin" --no-such-option >out 2>err
	is "$?" 2 "$prog: unknown option exits 2"
	like "$(cat err)" "Try '$prog --help'" "$prog: usage error says how to get help"
	case " $(echo $opts) " in
	*" shard "*)
		"$bin" --shard 3/2 </dev/null >out 2>err
		is "$?" 2 "$prog: bad --shard value exits 2"
		like "$(cat err)" "^$prog: error: option '--shard'" "$prog: names the bad option"
		;;
	*)
		"$bin" --threads 0 </dev/null >out 2>err
		is "$?" 2 "$prog: bad --threads value exits 2"
		like "$(cat err)" "^$prog: error: option '--threads'" "$prog: names the bad option"
		;;
	esac
done
# the installed set of man pages covers the installed programs
for bin in "$BUILD"/bin/*; do
	test -f "$SRCDIR/man/$(basename "$bin").1"
	ok $? "man page for $(basename "$bin")"
done
done_testing
