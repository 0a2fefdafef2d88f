#!/usr/bin/env python3
"""Build the input of the quality benchmark: real documents plus synthetic edge cases.

    make-input.py [OUT] [--bin DIR] [--seed N] [--en N] [--lang N]

OUT defaults to bench/data/quality-docs.jsonl; DIR (where warc-extract lives) to
<repo>/build/bin. One record per document, {"id", "text"}, in this order:

  aeb:<id>                 the 181 hand-made articleBody texts of the article extraction
                           benchmark ($CRAWL2LM_SHARED_DATA/aeb/ground-truth.json), sorted by id
  warc:<file>:<n>          the main text of every page of the real WARC files in
                           $CRAWL2LM_SHARED_DATA/warc/ (*.warc, *.warc.gz), as
                           `warc-extract --text --allow-truncated -q FILE` gives it (record n of
                           that file's output, 0-based); empty texts are left out, and so is a
                           text already seen (the .warc and .warc.gz copies of the same archive)
  corpus-en:<id>           a seeded sample of bench/data/corpus-en.jsonl (default 300)
  corpus-lang:<lang>:<id>  a seeded sample of bench/data/corpus-lang.jsonl (default 200), its
                           English pages left out (they repeat corpus-en's man pages)
  synth:<rule>:<variant>   181 generated documents that put one rule of Gopher, C4 or FineWeb
                           just below, at and just above its threshold (<rule> is datatrove's
                           reason name; most sweeps hit the threshold exactly, e.g. a ratio of
                           exactly 0.1, which passes), plus traps: CRLF, U+2028 and other line
                           separators, '*' and en-dash bullets, citations, lines of 30 vs 31
                           non-ASCII characters, CJK, empty and whitespace-only text, ...

Any text seen before (exact match) is left out. Standard library only; for the same inputs
(Debian package versions of the corpora, warc-extract's output) the output is byte for byte the
same.
"""
import argparse
import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent


# ------------------------------------------------------------------------------------------------
# Synthetic documents
# ------------------------------------------------------------------------------------------------
# Plain lowercase words that spaCy's English tokenizer keeps whole (no contractions such as
# "cannot" or "gonna", no hyphens, no periods). Stop words of Gopher's list are added on purpose.
NOUNS = """house garden river window market teacher village letter morning evening winter summer
station bridge forest mountain kitchen doctor student library office street company picture
engine harbor island journey meeting museum painter patient pocket question record season
signal silver soldier stone table theater ticket tower valley voice wagon water weather writer
answer basket bottle button camera candle carpet castle circle cloud coffee corner cotton desert
dinner engineer farmer feather finger flower garage guitar hammer helmet hunter jacket kettle
ladder lemon lesson magnet meadow mirror needle orange palace parcel pencil pepper pillow planet
rabbit ribbon saddle sailor shadow shelter spider spring stream sugar tailor tunnel velvet wallet
whistle wizard""".split()
VERBS = """carries builds paints opens closes finds keeps moves reads writes watches follows helps
brings changes covers crosses fills holds joins lifts marks needs offers pulls pushes reaches
repairs saves sells sends shows turns visits washes wraps""".split()
ADJS = """quiet heavy bright narrow gentle ancient modern simple careful golden wooden silent
distant local rapid humble yellow purple hidden famous tired eager polite clever""".split()
PREPS = "near behind under over beside across along through around beyond".split()


class Gen:
    """Deterministic prose: sentences of 9 to 16 words, stop words included."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def sentence(self):
        r = self.r
        parts = ["the", r.choice(ADJS), r.choice(NOUNS), r.choice(VERBS), "a", r.choice(NOUNS),
                 r.choice(PREPS), "the", r.choice(NOUNS)]
        tail = r.choice([["of", "the", r.choice(NOUNS)], ["and", r.choice(VERBS), "it"],
                         ["with", "a", r.choice(ADJS), r.choice(NOUNS)], ["to", "the", r.choice(NOUNS)],
                         []])
        words = parts + tail
        if r.random() < 0.5:
            words = [r.choice(["today", "often", "later", "again", "slowly", "sometimes"])] + words
        s = " ".join(words)
        return s[0].upper() + s[1:] + "."

    def para(self, n):
        return " ".join(self.sentence() for _ in range(n))

    def doc(self, paras=5, sents=4):
        return "\n\n".join(self.para(sents) for _ in range(paras))

    def lines(self, n, sents=1):
        return [self.para(sents) for _ in range(n)]


def words_of_len(n, r):
    """A word of exactly n letters (made of syllables, so no tokenizer exception applies)."""
    syl = ["ka", "lo", "mi", "ne", "ru", "ta", "po", "se", "vi", "do", "ba", "ge"]
    w = ""
    while len(w) < n:
        w += r.choice(syl)
    return w[:n]


def synthetic():
    out = []

    def add(rule, variant, text):
        out.append((f"synth:{rule}:{variant}", text))

    g = Gen(20240611)
    r = random.Random(7)

    # --- clean baselines ------------------------------------------------------------------------
    add("baseline", "prose", g.doc(6, 4))
    add("baseline", "one-line", g.para(12))
    add("baseline", "crlf", g.doc(6, 4).replace("\n", "\r\n"))  # FineWeb: lines end in '\r'
    add("baseline", "trailing-space", "\n".join(l + " " for l in g.lines(12, 2)))  # '. ' != '.'
    add("baseline", "leading-trailing-newlines", "\n\n\n" + g.doc(5, 4) + "\n\n\n")
    add("baseline", "u2028-lines", "\u2028".join(g.lines(12, 2)))   # splitlines() vs split("\n")
    add("baseline", "mixed-separators", "\x0b".join(g.lines(4, 2)) + "\x0c" + "\x1c".join(g.lines(4, 2))
        + "\x85" + "\u2029".join(g.lines(4, 2)))
    add("baseline", "tabs-nbsp", "\n".join(l.replace(" ", "\t", 3).replace(" ", "\u00a0", 2)
                                            for l in g.lines(12, 2)))
    add("empty", "empty", "")
    add("empty", "whitespace", "  \n \n\t\n")
    add("empty", "one-word", "Hello")

    # --- Gopher quality -------------------------------------------------------------------------
    # gopher_short_doc: fewer than 50 words that are not all punctuation
    for n in (48, 49, 50, 51):
        ws = [g.r.choice(NOUNS) for _ in range(n)]
        ws[1], ws[5], ws[12] = "the", "of", "and"
        chunks = [" ".join(ws[i:i + 10]) + "." for i in range(0, n, 10)]
        add("gopher_short_doc", f"{n}-words", " ".join(c[0].upper() + c[1:] for c in chunks))
    for n in (48, 49, 50):   # n words, plus '—' and '--' (punctuation only: not counted) and '•' (counted)
        ws = [g.r.choice(NOUNS) for _ in range(n)]
        ws[1], ws[5], ws[12] = "the", "of", "and"
        ws[20:20] = ["—", "--", "•"]    # '•' is not in datatrove's PUNCTUATION: a word like any other
        add("gopher_short_doc", f"{n}-words-plus-symbols", " ".join(ws) + ".")
    # gopher_long_doc: more than 100,000 words (sentences of 10 words: 10 words + '.')
    for n in (100000, 100001):
        ws = [g.r.choice(NOUNS + ADJS + ["the", "of", "and", "with"]) for _ in range(n)]
        sents = [" ".join(ws[i:i + 10]) + "." for i in range(0, n, 10)]
        add("gopher_long_doc", f"{n}-words", "\n".join(" ".join(sents[i:i + 5]) for i in range(0, len(sents), 5)))
    # gopher_below_avg_threshold / above: mean word length (letters) of the non-symbol words
    stops = ["the", "of", "and", "to"]    # 3, 2, 3, 2 letters: 10 letters for 4 words
    for tag, lo, hi, target in (("below", 2, 4, 3.0), ("above", 10, 12, 10.0)):
        n = 200
        for delta in (-2, -1, 0, 1, 2):
            # k words of length lo, n-4-k of length hi, plus the 4 stop words: total letters =
            # 10 + k*lo + (n-4-k)*hi; choose k so that the mean is target + delta/100
            want = round((target + delta / 100) * n)
            k = ((n - 4) * hi + 10 - want) // (hi - lo)
            ws = stops + [words_of_len(lo, r) for _ in range(k)] + [words_of_len(hi, r) for _ in range(n - 4 - k)]
            r.shuffle(ws)
            mean = sum(map(len, ws)) / n
            sents = [" ".join(ws[i:i + 10]) + "." for i in range(0, n, 10)]
            add(f"gopher_{tag}_avg_threshold", f"mean-{mean:.2f}", " ".join(sents))
    # gopher_too_many_hashes: count('#') / words > 0.1, where words are all spaCy tokens (punctuation
    # included). '#tag' is two tokens ('#', 'tag'), a sentence of k words k + 1 (the final '.').
    def sents_with_tokens(mult):
        sents = []
        while len(sents) < 10 or sum(len(x.split()) + 1 for x in sents) % mult:
            sents.append(g.sentence())
        return sents, sum(len(x.split()) + 1 for x in sents)

    sents, w = sents_with_tokens(8)            # h / (w + 2h) = 0.1 exactly when h = w / 8
    for dh in (-3, -1, 0, 1, 3):
        h = w // 8 + dh
        ws = " ".join(sents).split(" ")
        for i in range(h):
            ws.insert((i * 7 + 1) % len(ws), "#tag" + str(i % 5))
        add("gopher_too_many_hashes", f"{h}-in-{w + 2 * h}-tokens", " ".join(ws))
    add("gopher_too_many_hashes", "markdown-headings", "\n".join(
        ("## " if i % 2 == 0 else "") + l for i, l in enumerate(g.lines(16, 1))))
    # gopher_too_many_ellipsis: (count('...') + count('…')) / words > 0.1; 'word...' is two tokens
    sents, w = sents_with_tokens(9)            # e / (w + e) = 0.1 exactly when e = w / 9
    for de, mark, name in ((-2, "...", "dots"), (0, "...", "dots"), (1, "...", "dots"), (0, "…", "u2026"),
                           (1, "…", "u2026"), (-1 - w // 18, "......", "six-dots"), (1, "....", "four-dots")):
        e = w // 9 + de
        ws = " ".join(sents).split(" ")
        spots = [j for j, x in enumerate(ws) if not x.endswith(".")]
        for i in range(e):
            j = spots[(i * 5 + 2) % len(spots)]
            ws[j] = ws[j] + mark
        add("gopher_too_many_ellipsis", f"{e}-{name}-in-{w + e}-tokens", " ".join(ws))
    # gopher_too_many_bullets: > 90 % of lines (splitlines) start with '•' or '-' after lstrip
    for nb, marker, name in ((17, "- ", "dash"), (18, "- ", "dash"), (19, "- ", "dash"), (19, "• ", "u2022"),
                             (19, "   - ", "indented-dash"), (20, "* ", "star"), (20, "– ", "en-dash"),
                             (20, "1. ", "numbered")):
        lines = g.lines(20, 1)
        lines = [(marker + l if i < nb else l) for i, l in enumerate(lines)]
        add("gopher_too_many_bullets", f"{nb}of20-{name}", "\n".join(lines))
    # gopher_too_many_end_ellipsis: > 30 % of lines end with '...' or '…' after rstrip
    for ne, mark, name in ((3, "...", "dots"), (4, "...", "dots"), (4, "…", "u2026"), (4, "... ", "dots-space"),
                           (4, "..", "two-dots")):
        lines = [g.sentence()[:-1] + (mark if i < ne else ".") for i in range(10)]
        add("gopher_too_many_end_ellipsis", f"{ne}of10-{name}", "\n".join(lines))
    # gopher_below_alpha_threshold: < 80 % of words (tokens, punctuation included) hold a letter
    for pct in (10, 15, 18, 20, 22, 25, 35):
        sents = [g.sentence() for _ in range(10)]
        ws = " ".join(sents).split(" ")
        nn = round(len(ws) * pct / 100)
        for i in range(nn):
            ws.insert((i * 5) % len(ws), str(1000 + i * 37))
        add("gopher_below_alpha_threshold", f"{pct}pct-numbers", " ".join(ws))
    add("gopher_below_alpha_threshold", "table-of-numbers",
        g.para(3) + "\n" + "\n".join(" | ".join(str((i * 31 + j * 17) % 1000) for j in range(6)) for i in range(20)))
    # gopher_enough_stop_words: at least 2 distinct of the, be, to, of, and, that, have, with
    base = [w for w in " ".join(g.lines(8, 1)).replace(".", "").split()
            if w.lower() not in {"the", "be", "to", "of", "and", "that", "have", "with", "a", "it"}]
    add("gopher_enough_stop_words", "none", " ".join(base) + ".")
    add("gopher_enough_stop_words", "capitalised-only", "The " + " ".join(base[:40]) + ". And " + " ".join(base[40:]) + ".")
    add("gopher_enough_stop_words", "one-the", " ".join(base[:30]) + " the " + " ".join(base[30:]) + ".")
    add("gopher_enough_stop_words", "the-and-of", " ".join(base[:30]) + " the " + " ".join(base[30:60]) + " of "
        + " ".join(base[60:]) + ".")
    add("gopher_enough_stop_words", "the-twice", " ".join(base[:30]) + " the " + " ".join(base[30:60]) + " the "
        + " ".join(base[60:]) + ".")
    add("gopher_enough_stop_words", "glued-the.", " ".join(base[:30]) + " of the. " + " ".join(base[30:]) + ".")

    # --- Gopher repetition ----------------------------------------------------------------------
    # dup_para_frac: duplicate paragraphs / paragraphs > 0.3 (short duplicates: char fraction low)
    for nd in (2, 3, 4):
        paras = [g.para(4) for _ in range(10 - nd - 1)] + ["Read more."] * nd
        paras.insert(0, "Read more.")
        add("dup_para_frac", f"{nd}of{len(paras)}", "\n\n".join(paras))
    # dup_line_frac: paragraphs differ but lines repeat across them
    for nd in (3, 4, 5):
        lines = g.lines(10 - nd - 1, 2) + ["Posted by admin."] * nd
        lines.insert(0, "Posted by admin.")
        text = ""
        for i, l in enumerate(lines):
            text += l + ("\n\n" if i % 3 == 2 else "\n")
        add("dup_line_frac", f"{nd}of{len(lines)}", text.rstrip("\n"))
    # dup_para_char_frac / dup_line_char_frac: chars of the repeated paragraph (line) / len(text) > 0.2.
    # One long passage D appears twice; the last unique paragraph is padded so that len(text) is
    # exactly 5.5, 5 (ratio 0.2: passes), 5 less one char (fails) or 4.5 times len(D).
    filler = " ".join(g.sentence() for _ in range(400))

    def dup_text(kind, dup, unique, pad):
        u = unique[:-1] + [unique[-1] + filler[:pad]]
        if kind == "dup_para_char_frac":
            return "\n\n".join(u[:6] + [dup] + u[6:] + [dup])
        doc = u[:6] + [dup] + u[6:9] + [dup] + u[9:]      # D glued to different neighbours by '\n'
        return "".join(p + ("\n\n" if i in (2, 8) else "\n") for i, p in enumerate(doc)).rstrip("\n")

    for tag in ("dup_para_char_frac", "dup_line_char_frac"):
        unique = [g.para(2) for _ in range(12)]
        dup = g.para(2)
        while 4.5 * len(dup) < len(dup_text(tag, dup, unique, 0)) + 10:
            dup += " " + g.sentence()
        d, base = len(dup), len(dup_text(tag, dup, unique, 0))
        for name, total in (("0.18", int(5.5 * d)), ("0.2", 5 * d), ("0.2-plus", 5 * d - 1), ("0.22", int(4.5 * d))):
            text = dup_text(tag, dup, unique, total - base)
            assert len(text) == total, (tag, name)
            add(tag, name, text)
    add("dup_line_frac", "blank-line-edges", "\n" + "\n".join(g.lines(8, 2)) + "\n")  # '' twice
    # top_2_gram, top_3_gram, top_4_gram: len(top n-gram, words joined by ' ') * count / len(text)
    for n, phrase in ((2, "click here"), (3, "buy it now"), (4, "sign up for free")):
        for pct in (12, 15, 17, 19, 21, 24):
            sents = g.lines(20, 1)
            text = " ".join(sents)
            reps = 0
            while len(phrase) * reps < (len(text) + (len(phrase) + 3) * reps) * pct / 100:
                reps += 1
            ws = text.split(" ")
            for i in range(reps):
                ws.insert((i * 13 + 3) % len(ws), phrase)
            add(f"top_{n}_gram", f"{pct}pct", " ".join(ws))
    # duplicated_n_n_grams: a repeated passage of n..n+2 words (chars of the repeats / len(text))
    for n, thr in ((5, 15), (7, 13), (10, 10)):
        for pct in (thr - 3, thr - 1, thr + 1, thr + 4):
            frag_words = [g.r.choice(NOUNS) for _ in range(n)]
            frag = " ".join(frag_words)
            sents = g.lines(24, 1)
            out_sents = []
            total = sum(len(s) + 1 for s in sents)
            dup_chars = 0
            k = 0
            for i, s in enumerate(sents):
                out_sents.append(s)
                if i % 2 == 1 and dup_chars < total * pct / 100:
                    out_sents.append(frag.capitalize() + ".")
                    dup_chars += len(frag) - (n - 1) if k else 0
                    k += 1
            add(f"duplicated_{n}_n_grams", f"{pct}pct", " ".join(out_sents))

    # --- C4 (filter_no_terminal_punct=False, as FineWeb runs it) --------------------------------
    lines = g.lines(8, 1)
    add("lorem_ipsum", "in-line", "\n".join(lines[:4] + ["Lorem ipsum dolor sit amet, consectetur."] + lines[4:]))
    add("lorem_ipsum", "upper", "\n".join(lines[:4] + ["Some text LOREM IPSUM here."] + lines[4:]))
    add("lorem_ipsum", "two-word-line", "\n".join(lines[:4] + ["Lorem ipsum"] + lines[4:]))
    add("lorem_ipsum", "citation-between", "\n".join(lines[:4] + ["This lorem[12] ipsum text here."] + lines[4:]))
    add("lorem_ipsum", "long-word-line", "\n".join(lines[:4] + ["Lorem ipsum " + "x" * 1001 + " text."] + lines[4:]))
    add("lorem_ipsum", "1000-char-word", "\n".join(lines[:4] + ["Lorem ipsum " + "x" * 1000 + " text."] + lines[4:]))
    add("curly_bracket", "in-line", "\n".join(lines[:4] + ["The value is {x} in this case."] + lines[4:]))
    add("curly_bracket", "closing-only", "\n".join(lines[:4] + ["The value is x} in this case."] + lines[4:]))
    add("curly_bracket", "two-word-line", "\n".join(lines[:4] + ["function() {"] + lines[4:]))
    add("curly_bracket", "javascript-line", "\n".join(lines[:4] + ["Enable JavaScript to see {this} page."] + lines[4:]))
    add("curly_bracket", "code-block", g.para(6) + "\nint main(void) {\n    return 0;\n}\n")
    add("curly_bracket", "after-lorem", "\n".join(lines[:2] + ["lorem ipsum is here now", "a {b} c d"] + lines[2:]))
    for ns in (3, 4, 5, 6):
        add("too_few_sentences", f"{ns}-lines", "\n".join(g.lines(ns, 1)))
        add("too_few_sentences", f"{ns}-in-one-line", g.para(ns))
    add("too_few_sentences", "4-plus-short-lines", "\n".join(g.lines(4, 1) + ["Yes indeed.", "Thanks!", "OK."]))
    add("too_few_sentences", "question-exclaim", "Is the house near? It is! The river runs. Where now? Here it is!")
    add("too_few_sentences", "abbreviations", "Dr. Smith met Mr. Jones at 5 p.m. on Jan. 3. They talked. "
        "The U.S. team won. Prof. Lee left e.g. early.")
    add("too_few_sentences", "no-punct-lines", "\n".join(l[:-1] for l in g.lines(8, 1)))
    add("too_few_sentences", "ellipsis-sentences", "The house is old... The river is wide... It rains... "
        "We wait... It ends... Done now...")
    add("too_few_sentences", "javascript-lines", "\n".join(g.lines(4, 1) + ["Please enable JavaScript in your browser.",
                                                                           "This site needs javascript to work."]))
    add("too_few_sentences", "policy-lines", "\n".join(g.lines(4, 1) + ["Read our privacy policy before you go.",
                                                                       "This site uses cookies to work well.",
                                                                       "See the Terms of Use for details."]))
    add("too_few_sentences", "citations-edit", "\n".join(l[:-1] + "[1][edit][citation needed]." for l in g.lines(6, 1)))
    add("too_few_sentences", "cjk", "。".join(["今天天气很好我们去公园散步"] * 3 + ["他说这是一个好主意", "我们一起走吧",
                                                                        "公园里有很多人"]) + "。")

    # --- FineWeb ------------------------------------------------------------------------------------
    # line_punct_ratio: lines ending in terminal punctuation / non-blank lines < 0.12
    for np_, n in ((2, 25), (3, 25), (4, 25), (1, 9), (1, 8)):
        lines = [g.sentence()[:-1] for _ in range(n)]
        lines = [l + "." if i < np_ else l for i, l in enumerate(lines)]
        add("line_punct_ratio", f"{np_}of{n}", "\n".join(lines))
    for end, name in (('"', "quote"), (")", "paren"), ("。", "ideographic-stop"), ("!", "exclaim"), (":", "colon"),
                      ("…", "u2026"), (". ", "dot-space")):
        lines = [g.sentence()[:-1] + end for _ in range(10)]
        add("line_punct_ratio", f"all-end-{name}", "\n".join(lines))
    # short_line_ratio: lines of at most 30 characters / non-blank lines > 0.67
    for ns, n in ((2, 3), (6, 9), (67, 100), (68, 100), (7, 10)):
        lines = []
        for i in range(n):
            if i < ns:
                lines.append(("The " + g.r.choice(NOUNS) + " " + g.r.choice(VERBS) + " it.")[:30])
            else:
                lines.append(g.sentence())
        g.r.shuffle(lines)
        add("short_line_ratio", f"{ns}of{n}", "\n".join(lines))
    w30 = "Die Straße führt über Brücken."   # 30 characters, 33 bytes
    assert len(w30) == 30
    add("short_line_ratio", "30-chars-non-ascii", "\n".join([w30[:-2] + str(i) + "." for i in range(8)]
                                                           + g.lines(2, 1)))
    add("short_line_ratio", "31-chars-non-ascii", "\n".join([w30[:-1] + str(i) + "." for i in range(8)]
                                                           + g.lines(2, 1)))
    # char_dup_ratio: characters of repeated non-blank lines / characters other than '\n' > 0.01.
    # "Share this." (11 chars) twice, text padded to exactly 1000, 1099, 1100 (0.01: passes), 2000 chars.
    for size in (1000, 1099, 1100, 2000):
        lines = []
        while sum(len(l) for l in lines) < size - 100:
            lines.append(g.sentence())
        lines.insert(3, "Share this.")
        lines.append("Share this.")
        lines[-2] += filler[:size - sum(len(l) for l in lines)]
        assert len("".join(lines)) == size
        add("char_dup_ratio", f"11-of-{size}", "\n".join(lines))
    lines = g.lines(20, 2)
    add("char_dup_ratio", "blank-lines-ignored", "\n\n\n".join(lines))
    add("char_dup_ratio", "whitespace-line-dup", "\n".join(lines[:10] + ["   ", "   "] + lines[10:]))
    # list_ratio: count('\n') / words > 0.3 (every '\n' counts, blank lines too)
    for nl in (2, 3, 4, 5):
        sents = g.lines(20, 1)
        ws = sum(len(s.split()) + 1 for s in sents)  # + the '.' token
        per = max(1, round(ws * nl / 10 / len(sents)))
        add("list_ratio", f"{nl}0pct", ("\n" * per).join(sents))
    add("list_ratio", "short-items", "\n".join(f"Item {g.r.choice(NOUNS)} here." for _ in range(40)))

    # --- mixed traps ----------------------------------------------------------------------------
    add("mixed", "cjk-article", "\n".join("".join(["北京是中国的首都，", "也是政治和文化中心。", "这里有很多名胜古迹，",
                                                    "每年吸引大量游客。"][(i + j) % 4] for j in range(3)) for i in range(8)))
    add("mixed", "russian", "\n".join(["Москва — столица России и крупнейший город страны.",
                                       "Город расположен на реке Москве в центре Восточно-Европейской равнины.",
                                       "Население города превышает двенадцать миллионов человек."] * 1
                                      + [g.sentence() for _ in range(6)]))
    add("mixed", "urls-emails", "\n".join(g.sentence()[:-1] + " at https://example.com/a/b?c=d or mail@example.org."
                                          for _ in range(10)))
    add("mixed", "hyphens-contractions", "\n".join("It's a well-known fact that the state-of-the-art house "
                                                   "doesn't fail; we'll see what they've done. " + g.sentence()
                                                   for _ in range(8)))
    add("mixed", "very-long-word", g.para(6) + "\n" + "a" * 5000 + "\n" + g.para(3))
    add("mixed", "emoji", "\n".join(g.sentence() + " 🙂👍" for _ in range(10)))
    add("mixed", "combining-marks", "\n".join(g.sentence().replace("e", "e\u0301") for _ in range(10)))
    return out


# ------------------------------------------------------------------------------------------------
def main():
    shared = Path(os.environ.get("CRAWL2LM_SHARED_DATA", ROOT.parent / "shared" / "data"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", nargs="?", type=Path, default=BENCH / "data" / "quality-docs.jsonl")
    ap.add_argument("--bin", type=Path, default=Path(os.environ.get("BIN", ROOT / "build" / "bin")))
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--en", type=int, default=300, help="documents sampled from corpus-en.jsonl")
    ap.add_argument("--lang", type=int, default=200, help="documents sampled from corpus-lang.jsonl")
    args = ap.parse_args()

    docs = []      # (id, text)
    seen = set()
    counts = {}

    def take(source, did, text):
        if not text or text in seen:
            return False
        seen.add(text)
        docs.append((did, text))
        counts[source] = counts.get(source, 0) + 1
        return True

    # (a) article extraction benchmark: the hand-made article bodies
    truth = json.loads((shared / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    for i in sorted(truth):
        take("aeb", f"aeb:{i}", truth[i].get("articleBody", ""))

    # (b) real WARC pages, main text by warc-extract --text
    we = args.bin / "warc-extract"
    if not os.access(we, os.X_OK):
        sys.exit(f"{we} not found: build it (make) or pass --bin DIR")
    warcs = sorted(p for p in (shared / "warc").iterdir() if p.name.endswith((".warc", ".warc.gz")))
    for p in warcs:
        res = subprocess.run([str(we), "--text", "--allow-truncated", "-q", str(p)], capture_output=True)
        if res.returncode != 0:
            print(f"warning: warc-extract exited {res.returncode} on {p.name}: "
                  f"{res.stderr.decode(errors='replace').strip()[:200]}", file=sys.stderr)
        for n, line in enumerate(res.stdout.decode("utf-8").splitlines()):
            rec = json.loads(line)
            take("warc", f"warc:{p.name}:{n}", rec.get("text") or "")

    # (c) seeded samples of the Debian corpora
    def sample(path, k, seed, keep=lambda rec: True):
        recs = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                if keep(rec):
                    recs.append(rec)
        idx = sorted(random.Random(seed).sample(range(len(recs)), min(k, len(recs))))
        return [recs[i] for i in idx]

    data = BENCH / "data"
    for rec in sample(data / "corpus-en.jsonl", args.en, args.seed):
        take("corpus-en", f"corpus-en:{rec['id']}", rec["text"])
    for rec in sample(data / "corpus-lang.jsonl", args.lang, args.seed + 1,
                      keep=lambda rec: rec.get("metadata", {}).get("lang") != "en"):
        take("corpus-lang", f"corpus-lang:{rec['metadata']['lang']}:{rec['id']}", rec["text"])

    # (e) more real web text, of many languages: Mozilla Readability's test pages, their
    # hand-checked article text and what boilerplate-strip makes of the pages; the pages of the
    # tests' WARC files through warc-extract and boilerplate-strip
    rd = shared / "readability"
    rtruth = json.loads((rd / "ground-truth.json").read_text(encoding="utf-8"))
    for name in sorted(rtruth):
        take("readability", f"readability:{name}", rtruth[name].get("articleBody", ""))
    bs = args.bin / "boilerplate-strip"
    if not os.access(bs, os.X_OK):
        sys.exit(f"{bs} not found: build it (make) or pass --bin DIR")
    pages = []
    for p in sorted((rd / "html").glob("*.html.gz")):
        pages.append(json.dumps({"id": p.name[:-len(".html.gz")],
                                 "html": gzip.decompress(p.read_bytes()).decode("utf-8", "replace")}))
    res = subprocess.run([str(bs), "-q"], input=("\n".join(pages) + "\n").encode(), capture_output=True)
    if res.returncode != 0:
        sys.exit(f"boilerplate-strip exited {res.returncode}: {res.stderr.decode(errors='replace')[:200]}")
    for line in res.stdout.decode("utf-8").splitlines():
        rec = json.loads(line)
        take("readability-bs", f"readability-bs:{rec['id']}", rec.get("text") or "")
    twarc = ROOT / "tests" / "data" / "warc"
    for p in sorted(twarc.iterdir()):
        if not p.name.endswith((".warc", ".warc.gz", ".arc", ".arc.gz")):
            continue
        we_res = subprocess.run([str(we), "--allow-truncated", "-q", str(p)], capture_output=True)
        res = subprocess.run([str(bs), "-q"], input=we_res.stdout, capture_output=True)
        for n, line in enumerate(res.stdout.decode("utf-8").splitlines()):
            rec = json.loads(line)
            take("warc-tests", f"warc-tests:{p.name}:{n}", rec.get("text") or "")

    # (d) synthetic edge cases (kept even when empty: they test the empty-text paths)
    ids = set()
    for did, text in synthetic():
        assert did not in ids, did
        ids.add(did)
        if text in seen and text:
            continue
        seen.add(text)
        docs.append((did, text))
        counts["synth"] = counts.get("synth", 0) + 1

    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    nbytes = 0
    with open(tmp, "w", encoding="utf-8", newline="\n") as out:
        for did, text in docs:
            nbytes += len(text.encode("utf-8"))
            out.write(json.dumps({"id": did, "text": text}, ensure_ascii=False) + "\n")
    os.replace(tmp, args.out)
    print(f"{args.out}: {len(docs)} documents, {nbytes} text bytes; "
          + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
