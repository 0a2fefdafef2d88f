#!/bin/sh
# Every program's options come from one table (libcommon/opt.h). From the table itself
# (--list-options, not the C source): --help names every option, the man page's OPTIONS
# section documents exactly the table's options, the conventions hold everywhere (--version
# and -V, -q, -v, --help on stdout, options after arguments), and malformed options are usage
# errors (exit 2) that name the option.
. "${SRCDIR:-.}/tests/lib.sh"

# the options a man page's OPTIONS section defines: the line after each .TP
man_opts() {
	awk '/^\.SH OPTIONS/ { on = 1; next } /^\.SH / { on = 0 } on && prev == ".TP" { print } { prev = $0 }' "$1" |
		grep -o '\\-\\-[a-z0-9\\-]*\|\\-[a-zA-Z]\b' | sed 's/\\//g' | sort -u
}

for bin in "$BUILD"/bin/* "$BUILD"/tests/tools/passthrough; do
	prog=$(basename "$bin")
	"$bin" --list-options >list 2>err
	ok $? "$prog --list-options exits 0"
	tr ' ' '\n' <list | sort -u >table
	test -s table
	ok $? "$prog: the table has options"
	"$bin" --help >help 2>err
	ok $? "$prog --help exits 0"
	is "$(cat err)" "" "$prog --help: nothing on stderr"
	missing=
	for o in $(cat table); do
		case $o in
		--*) grep -q -- "$o\b" help ;;
		*) grep -q -- "^ *$o[ ,]" help ;;
		esac || missing="$missing $o"
	done
	is "$missing" "" "$prog --help names every option of its table"
	man=$SRCDIR/man/$prog.1
	case $bin in
	*/tests/tools/*) man= ;;	# a test tool: no man page
	*) test -f "$man"; ok $? "man page for $prog" ;;
	esac
	if [ -n "$man" ]; then
		man_opts "$man" >man
		is "$(comm -3 table man | tr -s '\t\n' '  ')" "" \
			"man/$prog.1 OPTIONS documents the table's options, no more (left: table only, right: man only)"
		for s in OPTIONS 'EXIT STATUS' EXAMPLES; do
			grep -q "^\.SH $s" "$man"
			ok $? "man/$prog.1 has $s"
		done
	fi
	v=$("$bin" --version)
	like "$v" "^$prog .*[0-9]+\.[0-9]+" "$prog --version: $v"
	is "$("$bin" -V)" "$v" "$prog -V is --version"
	for o in -q --quiet -v --verbose -h --help -V --version; do
		grep -qx -- "$o" table || grep -q -- "^$o \| $o$" table
		ok $? "$prog has $o"
	done
	"$bin" --no-such-option >out 2>err
	is "$?" 2 "$prog: unknown option exits 2"
	like "$(cat err)" "Try '$prog --help'" "$prog: usage error says how to get help"
	"$bin" --help=x >out 2>err
	is "$?" 2 "$prog: a value for an option that takes none exits 2"
	if grep -qx -- "--shard" table; then
		"$bin" --shard 3/2 </dev/null >out 2>err
		is "$?" 2 "$prog: bad --shard value exits 2"
		like "$(cat err)" "^$prog: error: option '--shard'" "$prog: names the bad option"
		"$bin" --shard </dev/null >out 2>err
		is "$?" 2 "$prog: --shard without its value exits 2"
		like "$(cat err)" "^$prog: error: option '--shard' wants a value" "$prog: says the value is missing"
	fi
	if grep -q -- "--threads" table; then
		"$bin" --threads 0 </dev/null >out 2>err
		is "$?" 2 "$prog: bad --threads value exits 2"
		like "$(cat err)" "^$prog: error: option '--threads'" "$prog: names the bad option"
	fi
done

# GNU order: options after the arguments, clustered short options, --name=value, unambiguous
# prefixes, "--" ending the options
printf '{"id":"a","text":"mail me at someone@example.com"}\n' >in.jsonl
pii-scrub --mode remove in.jsonl >want.jsonl
pii-scrub in.jsonl --mode remove >got.jsonl
test_cmp want.jsonl got.jsonl "an option after the file"
pii-scrub in.jsonl --mode=remove >got.jsonl
test_cmp want.jsonl got.jsonl "--name=value"
pii-scrub in.jsonl --mo remove >got.jsonl
test_cmp want.jsonl got.jsonl "an unambiguous prefix"
pii-scrub --s x in.jsonl >out 2>err
is "$?" 2 "an ambiguous prefix exits 2"
like "$(cat err)" "option '--s' is ambiguous \(--salt, --spans" "naming the candidates"
pii-scrub -qzo got.gz in.jsonl --mode remove 2>err
is "$? $(gzip -dc got.gz | cmp - want.jsonl && echo same)" "0 same" "-qzo FILE: clustered short options, the last taking a value"
cp in.jsonl ./--mode
pii-scrub --mode remove -- --mode >got.jsonl
test_cmp want.jsonl got.jsonl "-- ends the options: a file named --mode"
pii-scrub --mode nonsense in.jsonl >out 2>err
is "$?" 2 "a choice outside the list exits 2"
like "$(cat err)" "option '--mode' wants tag, datatrove, pseudonym, remove or count, not 'nonsense'" \
	"naming the choices"
pii-scrub --max-line 0 in.jsonl >out 2>err
is "$?" 2 "a size outside its bounds exits 2"
like "$(cat err)" "option '--max-line' wants a size from 1 to" "saying the bounds"
done_testing
