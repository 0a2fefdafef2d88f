#!/bin/sh
# quality-score's c4_badwords family: C4's bad-words filter as datatrove's C4BadWordsFilter
# applies it, per language: word boundaries (not in ja, th, zh), lower-casing, the allow-list,
# languages without a list, presets, --rejects, keep_fraction.
. "${SRCDIR:-.}/tests/lib.sh"

# verdict LANG TEXT: pass.c4_badwords and the list applied, for TEXT read in language LANG
verdict() {
	jq -cn --arg t "$2" '{id: "x", text: $t}' | quality-score --annotate-only --assume-lang "$1" |
		jq -r '.metadata.quality | "\(.pass.c4_badwords) \(.c4_badwords_lang)"'
}

is "$(verdict en 'what a load of bullshit, really')" "false en" "en: a listed word between a space and a comma"
is "$(verdict en 'Bullshit.')" "false en" "en: at the start, in capitals (the text is lower-cased)"
is "$(verdict en 'it was all bullshit')" "false en" "en: at the end"
is "$(verdict en "it was all bullshit
")" "false en" "en: before a final newline"
is "$(verdict en 'bullshitting all day')" "true en" "en: followed by a letter: not the word"
is "$(verdict en 'no_bullshit here')" "true en" "en: after an underscore (a word character)"
is "$(verdict en 'bullshit2 here')" "true en" "en: followed by a digit"
is "$(verdict en 'a garden with old trees')" "true en" "en: no listed word"
is "$(verdict en 'so verdammt ein arschloch')" "true en" "en: a German word is not on the English list"
is "$(verdict de 'so verdammt ein Arschloch!')" "false de" "de: the German list"
is "$(verdict zh '这是三级片的网站')" "false zh" "zh: inside other characters (no word boundaries in zh)"
is "$(verdict zh '男性和女性')" "true zh" "zh: 性 is allow-listed (datatrove's allow-list)"
is "$(verdict ja 'sm と 女の子')" "true ja" "ja: sm and 女の子 are allow-listed"
is "$(verdict zh-Hant '這是三级片')" "false zh" "CLD2's zh-Hant reads the zh list"
is "$(verdict tr 'sen bir orospu')" "false tr" "tr: the Turkish list"
is "$(verdict tr 'SİKTİR git')" "true tr" "tr: dotted capital I lower-cases to i and a combining dot (Python's lower()), not the word"
is "$(verdict tr 'SIKTIR git')" "false tr" "tr: ASCII capital I lower-cases to i: the word"
is "$(verdict xx 'bullshit')" "true null" "a language without a list passes (fail_on_missing_language=False)"

rec() { jq -cn --arg id "$1" --arg t "$2" '{id: $id, text: $t}'; }
{
	rec a "The garden is big and green. We plant trees there every spring. The river runs by it. Birds sing in the morning. It is a quiet place to rest."
	rec b "The garden is big and green. We plant trees there every spring. The river runs by it. Birds sing in the bullshit morning. It is a quiet place to rest."
} >in.jsonl
quality-score --assume-lang en --rules c4_badwords --rejects rej.jsonl in.jsonl >kept.jsonl
is "$(jq -r .id kept.jsonl)" "a" "--rules c4_badwords: the page with a bad word is dropped"
is "$(jq -r '.metadata.reject.reason' rej.jsonl)" "document_removed_with_badwords" "with datatrove's reason"
is "$(quality-score --assume-lang en --preset fineweb --annotate-only in.jsonl | jq -r '.metadata.quality.failed | index("document_removed_with_badwords")' | tr '\n' ' ')" \
	"null null " "--preset fineweb: not a FineWeb family (not listed in failed)"
is "$(quality-score --assume-lang en --preset c4 --annotate-only in.jsonl | jq -r '.metadata.quality.pass.c4_badwords' | tr '\n' ' ')" \
	"true false " "--preset c4: C4's bad words too"
is "$(quality-score --assume-lang en --rules c4_badwords --set c4_badwords_keep=1 in.jsonl | jq -r .id | tr '\n' ' ')" \
	"a b " "--set c4_badwords_keep=1 keeps every page (datatrove's keep_fraction)"
done_testing
