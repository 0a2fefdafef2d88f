#!/bin/sh
# warc-extract when its outputs cannot be written (/dev/full): every output is an error with
# exit 1, never a silent exit 0.
. "${SRCDIR:-.}/tests/lib.sh"
[ -w /dev/full ] || skip_all "no /dev/full"
f=$DATA/warc/chatnoir-resiliparse_warcfile.warc.gz

full() { # full WHAT PATTERN COMMAND...: the command exits 1 and says PATTERN
	what=$1 pat=$2
	shift 2
	"$@" 2>err
	is "$?" 1 "$what: exit 1"
	like "$(cat err)" "$pat" "$what: says so"
}
full "records to stdout" "warc-extract: error: cannot write to standard output: No space left on device" \
	sh -c 'warc-extract "$1" >/dev/full' sh "$f"
full "-z to stdout" "cannot write to standard output: No space left" \
	sh -c 'warc-extract -z "$1" >/dev/full' sh "$f"
full "--text to stdout" "cannot write to standard output: No space left" \
	sh -c 'warc-extract --text "$1" >/dev/full' sh "$f"
full "-o" "cannot write to '/dev/full': No space left" warc-extract -o /dev/full "$f"
full "-z -o" "cannot write to '/dev/full': No space left" warc-extract -z -o /dev/full "$f"
full "--rejects" "cannot write to '/dev/full': No space left" warc-extract -o out --rejects /dev/full "$f"
full "--stats" "cannot write '/dev/full': No space left" warc-extract -o out --stats /dev/full "$f"
# nothing kept: only the gzip header and trailer are left to write, at the close
full "-z -o, no record kept" "cannot write to '/dev/full': No space left" \
	warc-extract --types revisit -z -o /dev/full "$f"
full "--help" "cannot write to standard output: No space left" sh -c 'warc-extract --help >/dev/full'
full "--version" "cannot write to standard output: No space left" sh -c 'warc-extract --version >/dev/full'
done_testing
