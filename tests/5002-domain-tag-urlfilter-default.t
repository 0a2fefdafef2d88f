#!/bin/sh
# --url-filter default: datatrove 0.10.1's URLFilter with its integrated lists (UT1's adult
# domains and URLs, banned words, sub-words, soft words), through domain-tag's --rejects.
. "${SRCDIR:-.}/tests/lib.sh"

n=0
rec() { n=$((n + 1)); jq -cn --arg id "$n" --arg u "$1" '{id: $id, url: $u, text: "x"}'; }
{
	rec "http://0-1sex.com/"                          # 1 a UT1 domain
	rec "https://www.0-1sex.com/videos?p=2"           # 2 a host under it
	rec "http://WWW.0-1SEX.COM/"                      # 3 upper case: datatrove compares as written
	rec "https://pornolatras.blogspot.li/"            # 4 a listed host (a blogspot subdomain)
	rec "https://www.pornolatras.blogspot.li/"        # 5 under it: neither its registrable domain nor itself
	rec "https://www.example.com/porn/clip"           # 6 a banned word
	rec "https://www.example.com/Porn/clip"           # 7 the word in other case: a different word
	rec "https://www.example.com/pornography"         # 8 glued to other letters: not "porn", one soft word
	rec "https://www.example.com/babes"               # 9 one soft word
	rec "https://www.example.com/babes/bastard"       # 10 two soft words
	rec "https://www.example.com/babes/babes"         # 11 one soft word twice
	rec "https://www.example.com/2-Girls_1.cup"       # 12 a sub-word, punctuation and case aside
	rec "https://www.bbc.co.uk/news/world-europe-1"   # 13 ordinary
	rec "https://en.wikipedia.org/wiki/Sex_education" # 14 ordinary, one soft word
	rec "http://[2001:db8::1]:8080/index.html"        # 15 an IPv6 host
	rec "not a url"                                   # 16 malformed: words only
	rec "http://"                                     # 17 malformed, no host
	rec "0-1sex.com/no-scheme"                        # 18 no scheme: a host all the same
} >in.jsonl
domain-tag --url-filter default --rejects rej.jsonl --stats s.json in.jsonl >kept.jsonl
is "$?" 0 "runs"
is "$(jq -r '.id + ":" + .metadata.reject.reason' rej.jsonl | tr '\n' ' ')" \
	"1:url_domain 2:url_domain 4:url_domain 6:url_word 10:url_soft_words 12:url_subword 18:url_domain " \
	"blocked as datatrove's URLFilter blocks them, with the reason"
is "$(jq -r .id kept.jsonl | tr '\n' ' ')" "3 5 7 8 9 11 13 14 15 16 17 " "the others kept"
is "$(jq -cS .dropped_by_reason s.json)" '{"url_domain":4,"url_soft_words":1,"url_subword":1,"url_word":1}' \
	"--stats: counts by reason"
printf 'word clip\nsoft-threshold 1\n' >more.txt
is "$(domain-tag --url-filter default --url-filter more.txt in.jsonl | jq -r .id | tr '\n' ' ')" \
	"3 5 13 14 15 16 17 " "a file of one's own adds to the built-in lists (a word; a soft threshold of 1)"
done_testing
