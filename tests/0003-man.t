#!/bin/sh
# Every man page formats without a single groff warning: a line that starts with ' or . is a
# request (troff drops the text), a table wider than the page, an unknown escape or macro.
# groff is what man(1) runs; groff-base comes with make check's Debian packages (mk/deps.sh).
. "${SRCDIR:-.}/tests/lib.sh"

for page in "$SRCDIR"/man/*.1; do
	name=man/$(basename "$page")
	# -K utf8: the pages are UTF-8 whatever the locale; -t: tables; -ww: every warning;
	# -z: format, print nothing (at the default width, 78 ens: man's on 80 columns)
	groff -K utf8 -t -ww -man -z -Tutf8 "$page" >out 2>err
	ok $? "$name: groff formats it"
	is "$(cat err)" "" "$name: no warnings"
done
# the check would see the fault it is for: a text line that starts with a quote
printf ".TH X 1\n.SH NAME\nx\n'+', a plus sign\n" >bad.1
groff -K utf8 -t -ww -man -z -Tutf8 bad.1 >out 2>err
like "$(cat err)" "warning" "a line starting with ' is a warning"
done_testing
