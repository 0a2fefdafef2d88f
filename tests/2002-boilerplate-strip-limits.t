#!/bin/sh
# boilerplate-strip at the HTML parser's limits: pages nested past libxml2's 256 levels, NUL
# bytes, text after </html> keep their text and are counted (metadata.boilerplate.flags,
# --stats, -v); memory stays linear; a full disk is an error on every output.
. "${SRCDIR:-.}/tests/lib.sh"

para() { # para N: a paragraph that reads as prose
	printf '<p>Paragraph %s is written in plain sentences, one after another, so that it reads as prose and the extractor keeps it.</p>' "$1"
}
# page ID MARKUP N: paragraph 1, MARKUP N times, paragraphs 2 and 3, as a JSON record
page() {
	printf '{"id":"%s","html":"<html><body>%s' "$1" "$(para 1)"
	awk -v m="$2" -v n="$3" 'BEGIN { for (i = 0; i < n; i++) printf "%s", m }'
	printf '%s%s</body></html>"}\n' "$(para 2)" "$(para 3)"
}
# in order: the ids whose text has paragraphs 1, 2 and 3 in that order
in_order() {
	jq -r 'select(.text | test("Paragraph 1 is(.|\n)*Paragraph 2 is(.|\n)*Paragraph 3 is")) | .id' "$1" | tr '\n' ' '
}

# the issue's page: 300 unclosed <font> between paragraphs lost the paragraphs after them
page font300 '<font>' 300 >font.jsonl
boilerplate-strip -v --stats s.json font.jsonl >out.jsonl 2>err
is "$(in_order out.jsonl)" "font300 " "300 unclosed <font>: the paragraphs after them are kept"
is "$(jq -c .metadata.boilerplate.flags out.jsonl)" '["deep"]' "metadata.boilerplate.flags says deep"
is "$(jq -c ".boilerplate | del(.extract_cpu_seconds)" s.json)" '{"deep":1,"nul":0,"parse_stopped":0}' "--stats counts it"
is "$(jq -r '.seconds as $s | ($s | type == "number") and (.boilerplate.extract_cpu_seconds | type == "number" and . >= 0 and . <= $s + 1)' s.json)" true \
	"--stats: extract_cpu_seconds, the seconds spent extracting"
like "$(cat err)" "pages nested deeper than 256 levels \(flattened\): 1; with NUL bytes \(left out\): 0; where the parser stopped early: 0" \
	"-v says so"

# other shapes, far deeper
{
	page div '<div>' 3000
	page b '<b>' 3000
	page span '<span>' 3000
	page table '<table><tr><td>' 1000
	page lists '<ul><li><ol><li>' 1000
	page blockquote '<blockquote>' 3000
	page div100k '<div>' 100000
	page flat '<div>' 100
} >shapes.jsonl
boilerplate-strip --stats s.json shapes.jsonl >out.jsonl
is "$(in_order out.jsonl)" "div b span table lists blockquote div100k flat " "every deep shape keeps its text, in order"
is "$(jq -r 'select(.metadata.boilerplate.flags == ["deep"]) | .id' out.jsonl | tr '\n' ' ')" \
	"div b span table lists blockquote div100k " "each flagged deep, the 100-level page not"
is "$(jq .boilerplate.deep s.json)" 7 "--stats: 7 deep pages"

# memory: 10 times the depth, at most about 10 times the memory (the tree, not the stack)
page d100k '<div>' 100000 >d1.jsonl
page d1m '<div>' 1000000 >d10.jsonl
m1=$( { /usr/bin/time -f %M boilerplate-strip d1.jsonl >o1; } 2>&1 )
m10=$( { /usr/bin/time -f %M boilerplate-strip d10.jsonl >o10; } 2>&1 )
is "$(in_order o10)" "d1m " "1,000,000 levels: the text kept"
ok "$([ "$m10" -lt $((m1 * 12)) ] && echo 0 || echo 1)" "memory linear in the depth: ${m1} KB for 100,000 levels, ${m10} KB for 1,000,000"

# a NUL byte ended the page; text after </html> was put where the extractor never looked
{
	printf '{"id":"nul","html":"%s\\u0000%s%s"}\n' "$(para 1)" "$(para 2)" "$(para 3)"
	printf '{"id":"nul-first","html":"\\u0000%s%s%s"}\n' "$(para 1)" "$(para 2)" "$(para 3)"
	printf '{"id":"after-html","html":"<!DOCTYPE html><html><body>%s</body></html>%s%s"}\n' "$(para 1)" "$(para 2)" "$(para 3)"
} >odd.jsonl
boilerplate-strip --stats s.json odd.jsonl >out.jsonl
is "$(in_order out.jsonl)" "nul nul-first after-html " "NUL bytes and text after </html>: all kept"
is "$(jq -c '[.id, .metadata.boilerplate.flags]' out.jsonl | tr '\n' ' ')" \
	'["nul",["nul"]] ["nul-first",["nul"]] ["after-html",null] ' "NUL bytes flagged"
is "$(jq -c ".boilerplate | del(.extract_cpu_seconds)" s.json)" '{"deep":0,"nul":2,"parse_stopped":0}' "--stats counts them"

# a full disk: every output is checked, exit 1 with the reason
if [ -c /dev/full ]; then
	for args in "" "-z" "-o /dev/full" "-z -o /dev/full" "--min-chars 100000 --rejects /dev/full" "--stats /dev/full"; do
		out=/dev/full
		case $args in *-o*|*rejects*|*stats*) out=/dev/null;; esac
		# shellcheck disable=SC2086
		boilerplate-strip $args font.jsonl >$out 2>err
		rc=$?
		like "$rc $(cat err)" "^1 boilerplate-strip: error: cannot write (to )?(standard output|'/dev/full'): No space left on device" \
			"/dev/full: ${args:-stdout}: exit 1 with the reason"
	done
	boilerplate-strip --help >/dev/full 2>err
	like "$? $(cat err)" "^1 boilerplate-strip: error: cannot write to standard output" "--help to /dev/full: exit 1"
else
	ok 0 "# SKIP no /dev/full"
fi
done_testing
