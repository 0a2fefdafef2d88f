#!/bin/sh
# make-lists.sh - make the compressed lists of data/urlfilter/ from the packages they come from:
# datatrove 0.10.1's assets (UT1's adult domains and URLs in url_filterblacklistsv0_3_0.tar.gz,
# and the three word lists) and tldextract 5.4.0's Public Suffix List snapshot.
# Usage: data/urlfilter/make-lists.sh DATATROVE_ASSETS_DIR TLDEXTRACT_PACKAGE_DIR
#   e.g. bench/.venv/lib/python3.11/site-packages/datatrove/assets and .../tldextract
# Domains are sorted by their labels read from the right (neighbours share their endings,
# which compresses a tenth better), preceded by a "#n=COUNT" line (a comment to datatrove; to
# us the size of the set to reserve), in a zstd frame of their own. zstd -19: a window of
# 8 MB, so reading needs no more than that. Needs zstd, awk, sort, tar.
set -eu
assets=$1
tldx=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar xzf "$assets/url_filterblacklistsv0_3_0.tar.gz" -C "$tmp" domains urls
LC_ALL=C awk -F. '{ k = $NF; for (i = NF - 1; i > 0; i--) k = k "." $i; print k "\t" $0 }' "$tmp/domains" |
	LC_ALL=C sort -u | cut -f2 >"$tmp/domains.sorted"
n=$(wc -l <"$tmp/domains.sorted")
{ printf '#n=%d\n' "$n" | zstd -19 -q -c; zstd -19 -q -c "$tmp/domains.sorted"; } >"$here/ut1-adult-domains.zst"
LC_ALL=C sort -u "$tmp/urls" | zstd -19 -q -c >"$here/ut1-adult-urls.zst"
zstd -19 -q -c "$tldx/.tld_set_snapshot" >"$here/public_suffix_list.dat.zst"
for f in banned_words.txt banned_subwords.txt soft_banned_words.txt; do cp "$assets/$f" "$here/$f"; done
ls -l "$here"/*.zst
