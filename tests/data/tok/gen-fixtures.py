#!/usr/bin/env python3
"""Reference fixtures for bpe-encode: tiktoken's ids for a mixed corpus, for exact comparison.

Makes (from the repository root):
  data/tokenizers/{r50k_base,cl100k_base,o200k_base}.tiktoken.zst
      the shared rank files (/work/shared/data/tokenizers/, sha256 checked against its README
      and tiktoken's pinned hashes), zstd -19.
  tests/data/tok/mix.jsonl.zst
      >= 10.5 MB of text, {"id": "mix-NNNNN", "text": ...} a line (json.dumps,
      ensure_ascii=False): English prose (/usr/share/doc, tinyshakespeare, aeb articleBody),
      C headers (/usr/include), Python (/usr/lib/python3*), translated man pages (roff source,
      /usr/share/man/LANG/), seeded synthetic documents (emoji, whitespace runs, digit runs,
      contractions, combining marks, many scripts, special-token look-alikes), tiktoken's
      "catastrophically repetitive" strings, a few empty and one-character documents.
      Only characters assigned in Unicode 14 (Python 3.11's unicodedata), never U+180E (PCRE2
      counts it as \\s, tiktoken does not), no NUL.
  tests/data/tok/mix-bytes.bin.zst
      one ~1 MB binary document: text as above with ill-formed UTF-8 planted at ~2,000 seeded
      places (and at the very start, the very end, and right before a space).
  tests/data/tok/mix.N.ids.zst, mix-bytes.N.ids.zst   (N = r50k_base, cl100k_base, o200k_base)
      the expected ids, one line per document, space separated, "\\n" after every line.
      mix: enc.encode(text, allowed_special=set(), disallowed_special=()), i.e. special-token
      strings are ordinary text.
      mix-bytes (the documented rule for ill-formed UTF-8): decode with 'surrogateescape', split
      into maximal runs of ordinary characters and of escaped bytes (U+DC80..U+DCFF); encode an
      ordinary run with enc.encode(run, disallowed_special=()), an escaped run (its raw bytes)
      with enc.encode_single_piece(raw); concatenate.
  tests/data/tok/vectors.tsv
      small hand-checkable cases: NAME <TAB> text as a JSON string <TAB> ids (space separated);
      tiktoken's own test vectors (asserted) and ~50 tricky strings for each tokenizer. In the
      JSON string, controls, separators, format characters and non-ASCII whitespace are written
      as \\uXXXX escapes (surrogate pairs above U+FFFF); everything else is literal UTF-8.
  tests/data/tok/gpt2-tokenizer.json.zst
      a Hugging Face tokenizer.json for GPT-2 (pip tokenizers; BPE from gpt2-encoder.json and
      gpt2-vocab.bpe, ByteLevel pre-tokenizer without prefix space, ByteLevel decoder and
      post-processor, added special token <|endoftext|> = 50256). The generator compares its ids
      with tiktoken r50k on mix.jsonl and prints the result.

The Encoding objects are built by tiktoken's own constructors (tiktoken_ext/openai_public.py:
r50k_base(), cl100k_base(), o200k_base(); so pat_str, special_tokens and explicit_n_vocab are
tiktoken's), with the rank files read from the shared copies instead of downloaded; the
patterns are also checked against the copies below (the same as the shared README).

Rerun (needs zstd on PATH and the venv: python3 -m venv bench/.venv &&
bench/.venv/bin/pip install tiktoken tokenizers):
    bench/.venv/bin/python tests/data/tok/gen-fixtures.py
Deterministic: fixed seeds, sorted file lists; the same machine contents and the same
tiktoken / tokenizers / zstd versions give byte-identical outputs (the real-text sources are
this machine's /usr/share/doc, /usr/include, /usr/lib/python3*, /usr/share/man).
"""
import gzip
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

os.environ["TIKTOKEN_CACHE_DIR"] = ""  # read the local rank files, cache nothing in /tmp

import tiktoken  # noqa: E402
import tiktoken.load  # noqa: E402
import tiktoken_ext.openai_public as openai_public  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "tests" / "data" / "tok"
OUT_TOK = ROOT / "data" / "tokenizers"
SHARED = Path("/work/shared/data")
SHARED_TOK = SHARED / "tokenizers"

NAMES = ["r50k_base", "cl100k_base", "o200k_base"]
SHA256 = {  # /work/shared/data/tokenizers/README.md (= the hashes tiktoken pins)
    "r50k_base.tiktoken": "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
    "cl100k_base.tiktoken": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base.tiktoken": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "gpt2-encoder.json": "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "gpt2-vocab.bpe": "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
}

# The patterns as tiktoken_ext/openai_public.py has them (checked against the constructors).
PAT = {
    "r50k_base": r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s""",
    "cl100k_base": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
    "o200k_base": "|".join([
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]),
}
SPECIALS = {
    "r50k_base": {"<|endoftext|>": 50256},
    "cl100k_base": {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                    "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276},
    "o200k_base": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
}

MIN_BYTES = 10_500_000
MAX_DOC = 200_000


def log(*a):
    print(*a, flush=True)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def zstd_write(path, data, level=19):
    """Write data to path compressed with the zstd CLI (single thread, --long: deterministic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".raw-", delete=False) as f:
        f.write(data)
        tmp = f.name
    try:
        subprocess.run(["zstd", f"-{level}", "--long=27", "-T1", "-q", "-f", "--no-progress",
                        tmp, "-o", str(path)], check=True)
    finally:
        os.unlink(tmp)
    os.chmod(path, 0o644)  # zstd copies the temporary file's 0600
    back = subprocess.run(["zstd", "-dc", "--long=27", str(path)], check=True,
                          capture_output=True).stdout
    assert back == data, path
    return path.stat().st_size


# ---------------------------------------------------------------- encodings

def load_encodings():
    def local_load(url, expected_hash=None):
        name = url.rsplit("/", 1)[1]
        return tiktoken.load.load_tiktoken_bpe(str(SHARED_TOK / name), expected_hash=expected_hash)

    openai_public.load_tiktoken_bpe = local_load
    encs = {}
    for name in NAMES:
        params = getattr(openai_public, name)()
        if params["pat_str"] != PAT[name]:
            sys.exit(f"{name}: tiktoken's pat_str differs from the copy here:\n{params['pat_str']}")
        if params["special_tokens"] != SPECIALS[name]:
            sys.exit(f"{name}: tiktoken's special_tokens differ: {params['special_tokens']}")
        encs[name] = tiktoken.Encoding(**params)
        log(f"{name}: {len(params['mergeable_ranks'])} ranks, specials {params['special_tokens']},"
            f" explicit_n_vocab {params.get('explicit_n_vocab')}, n_vocab {encs[name].n_vocab}")
    return encs


def copy_rank_files():
    readme = (SHARED_TOK / "README.md").read_text()
    for name in NAMES:
        fn = f"{name}.tiktoken"
        data = (SHARED_TOK / fn).read_bytes()
        if sha256(data) != SHA256[fn] or SHA256[fn] not in readme:
            sys.exit(f"{fn}: sha256 {sha256(data)} is not the one in the README")
        size = zstd_write(OUT_TOK / f"{fn}.zst", data)
        log(f"data/tokenizers/{fn}.zst: {size} bytes (raw {len(data)})")
    for fn in ["gpt2-encoder.json", "gpt2-vocab.bpe"]:
        if sha256((SHARED_TOK / fn).read_bytes()) != SHA256[fn]:
            sys.exit(f"{fn}: sha256 mismatch")


# ---------------------------------------------------------------- text hygiene

def clean(text):
    """None if the text has characters we keep out (unassigned in Unicode 14); drop NUL/U+180E."""
    text = text.replace("\x00", "").replace("\u180e", "")
    for c in set(text):
        if unicodedata.category(c) in ("Cn", "Cs"):
            return None
    return text


def read_text(path):
    try:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    return clean(text)


def list_files(root, accept):
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            if p.is_symlink() or not p.is_file():
                continue
            if accept(p):
                out.append(p)
    return sorted(out)


def split_doc(text, rng, max_doc=MAX_DOC):
    """Cut a long text at line ends into pieces of random size (2 KB .. max_doc bytes)."""
    b = text.encode()
    if len(b) <= max_doc:
        return [text]
    pieces, i = [], 0
    while i < len(b):
        target = int(math.exp(rng.uniform(math.log(2_000), math.log(max_doc))))
        if len(b) - i <= target:
            pieces.append(b[i:])
            break
        cut = b.rfind(b"\n", i, i + target)
        if cut > i:
            cut += 1
        else:  # no line end: cut at a character boundary
            cut = i + target
            while 0x80 <= b[cut] < 0xC0:
                cut -= 1
        pieces.append(b[i:cut])
        i = cut
    return [p.decode() for p in pieces]


def take_files(files, budget, rng, label, min_len=300):
    """Texts from a seeded sample of files until budget bytes, duplicates skipped."""
    files = list(files)
    rng.shuffle(files)
    docs, total, seen, skipped = [], 0, set(), 0
    for p in files:
        if total >= budget:
            break
        t = read_text(p)
        if t is None:
            skipped += 1
            continue
        if len(t.encode()) < min_len:
            continue
        h = sha256(t.encode())
        if h in seen:
            continue
        seen.add(h)
        pieces = split_doc(t, rng)
        if len(pieces) > 2:  # a big file: two random pieces of it, more files instead
            pieces = [pieces[i] for i in sorted(rng.sample(range(len(pieces)), 2))]
        for piece in pieces:
            docs.append(piece)
            total += len(piece.encode())
    log(f"  {label}: {len(docs)} docs, {total} bytes ({skipped} files skipped: not UTF-8 or"
        f" unassigned characters)")
    return docs


# ---------------------------------------------------------------- real sources

DOC_NAMES = ("readme", "news", "changelog", "copyright", "authors", "thanks", "todo", "faq",
             "history", "credits", "bugs", "install", "notice", "release")
DOC_EXT = (".txt", ".md", ".rst")

MAN_BUDGET = {  # bytes per language (the last file may overshoot)
    "ja": 384_000, "zh_CN": 336_000, "zh_TW": 320_000, "ko": 160_000, "ru": 304_000,
    "uk": 208_000, "de": 240_000, "fr": 208_000, "pl": 160_000, "tr": 88_000, "cs": 56_000,
    "sv": 80_000, "es": 120_000, "it": 80_000, "pt_BR": 64_000, "pt": 32_000, "nl": 64_000,
    "da": 32_000, "fi": 16_000, "hr": 24_000, "hu": 32_000, "id": 32_000, "ro": 32_000,
    "sl": 24_000, "sr": 48_000,
}


def doc_accept(p):
    name = p.name.lower()
    base = name[:-3] if name.endswith(".gz") else name
    if any(base.endswith(e) for e in DOC_EXT):
        return True
    stem = base.split(".")[0]
    return any(stem.startswith(n) for n in DOC_NAMES)


def real_docs():
    docs = []  # (kind, text)
    log("real text:")
    rng = random.Random(1001)
    for t in take_files(list_files("/usr/share/doc", doc_accept), 2_300_000, rng, "/usr/share/doc"):
        docs.append(("prose", t))

    rng = random.Random(1002)
    shakes = (SHARED / "text" / "tinyshakespeare.txt").read_text()
    n = 0
    for piece in split_doc(shakes, rng, max_doc=150_000):
        # split_doc keeps pieces >= ~2 KB; cut some further into short ones
        if rng.random() < 0.3 and len(piece) > 4000:
            k = rng.randrange(300, 3000)
            cut = piece.find("\n", k) + 1 or len(piece)
            docs.append(("prose", piece[:cut]))
            piece = piece[cut:]
            n += 1
        if piece:
            docs.append(("prose", piece))
            n += 1
    log(f"  tinyshakespeare: {n} docs, {len(shakes.encode())} bytes")

    gt = json.loads((SHARED / "aeb" / "ground-truth.json").read_text())
    n = b = 0
    for key in sorted(gt):
        t = clean(gt[key].get("articleBody") or "")
        if t:
            docs.append(("prose", t))
            n += 1
            b += len(t.encode())
    log(f"  aeb articleBody: {n} docs, {b} bytes")

    rng = random.Random(1003)
    for t in take_files(list_files("/usr/include", lambda p: p.suffix == ".h"), 1_400_000, rng,
                        "/usr/include *.h"):
        docs.append(("code", t))
    rng = random.Random(1004)
    py = sorted(set(list_files("/usr/lib/python3", lambda p: p.suffix == ".py")
                    + list_files("/usr/lib/python3.11", lambda p: p.suffix == ".py")))
    for t in take_files(py, 1_200_000, rng, "/usr/lib/python3* *.py"):
        docs.append(("code", t))

    for i, (lang, budget) in enumerate(sorted(MAN_BUDGET.items())):
        rng = random.Random(2000 + i)
        root = Path("/usr/share/man") / lang
        files = list_files(root, lambda p: p.name.endswith(".gz") and p.parent.name.startswith("man"))
        for t in take_files(files, budget, rng, f"man {lang}"):
            docs.append(("man", t))
    return docs


# ---------------------------------------------------------------- synthetic text

EMOJI = [
    "😀", "😂", "🥲", "🫠", "👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "✌🏾", "👋🏻", "🤝",
    "👨‍👩‍👧‍👦", "👩🏽‍💻", "🧑🏿‍🤝‍🧑🏻", "👨‍❤️‍💋‍👨", "🧔‍♀️", "😶‍🌫️", "❤️‍🔥", "🏳️‍🌈",
    "🏴‍☠️", "👁️‍🗨️", "🏃🏽‍♀️‍", "❤️", "❤︎", "☺️", "✔️", "✔︎", "☀️", "⚠️", "™️", "©", "®️", "↔️",
    "🇺🇸", "🇯🇵", "🇩🇪", "🇺🇦", "🇧🇷", "🇮🇳", "🇪🇺", "🇦", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁷󠁬󠁳󠁿",
    "1️⃣", "2️⃣", "#️⃣", "*️⃣", "0⃣", "🔟", "🀄", "🃏", "🎉🎉🎉", "🔥🔥", "💯", "🙏🏾", "👩‍🚀",
]
WS_CHARS = [" ", "\t", "\n", "\r\n", "\r", "\x0b", "\x0c", "\u0085", "\u00a0", "\u1680",
            *[chr(c) for c in range(0x2000, 0x200B)], "\u2028", "\u2029", "\u202f", "\u205f",
            "\u3000"]
WS_FIXED = [" ", "  ", "   ", "    ", "\t", "\t\t", "\t\t\t", "\r\n", "\r\n\r\n", "\n", "\n\n",
            "\n\n\n", "\n\n\n\n\n", " \n", "  \n", " \t \n", "\t\n", "\n ", "\n  ", "\n    ",
            "\u00a0", " \u00a0", "\u3000", "\u3000\u3000", "\u2028", "\u2029", "\u0085", "\u2003",
            "\u2009", "\u200a", " \r\n ", "\r\n\t"]
SPECIAL_LIKE = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
                "<|endofprompt|>", "<|endoftext|><|endoftext|>", " <|endoftext|>",
                "<|endoftext|>\n", "x<|endoftext|>y", "<|endoftext", "<|endoftext|", "|endoftext|>",
                "<||>", "<|ENDOFTEXT|>", "<| endoftext |>", "<|im_start|>", "<|im_end|>",
                "<|startoftext|>", "<|endoftext|>Hello", "1<|fim_middle|>2"]
WORDS = ["don", "won", "can", "isn", "it", "he", "she", "they", "we", "you", "I", "John",
         "Anna", "there", "who", "that", "what", "y", "o", "rock", "n", "ma", "ol", "Mary",
         "MCDONALD", "ain", "shouldn", "would", "could", "let", "we", "here"]
SUFFIX = ["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'rE", "'ve", "'VE", "'Ve", "'m", "'M",
          "'ll", "'Ll", "'LL", "'lL", "'d", "'D", "’s", "’re", "’Re", "’LL", "’t", "’ve", "n't",
          "N'T", "'", "''", "'''s", "`s", "'x", "'st"]
SCRIPTS = [
    "한국어 텍스트를 처리합니다", "대한민국의 수도는 서울이다.", "안녕하세요!",
    "\u1100\u1161\u11a8\u1100\u1161", "हिन्दी भाषा", "नमस्ते दुनिया", "संस्कृतम्", "क्षत्रिय",
    "العربية لغة جميلة", "مَرْحَبًا بِكُمْ", "السَّلامُ عَلَيْكُم", "ภาษาไทยเป็นภาษาที่สวยงาม",
    "สวัสดีครับ", "עִבְרִית", "שָׁלוֹם עֲלֵיכֶם", "בְּרֵאשִׁית בָּרָא", "Ελληνικά γράμματα",
    "Привет, мир!", "Україна — це Європа", "Ქართული ენა", "Հայերեն", "አማርኛ", "தமிழ் மொழி",
    "বাংলা ভাষা", "བོད་ཡིག", "ភាសាខ្មែរ", "မြန်မာဘာသာ", "ᠮᠣᠩᠭᠣᠯ", "日本語のテキストです。",
    "カタカナとひらがな", "ラーメン", "中文分词测试", "繁體中文測試", "我非常渴望与人工智能一起工作",
    "漢字かな交じり文", "𠀀𠀁𪚥", "ǅungla ǈubljana ǋegoš", "ᾈᾉᾊ", "ʰʲʷ ˈstres", "ﬁnance ﬂow",
    "Ⅻ Ⅳ ⅷ", "ｆｕｌｌｗｉｄｔｈ　ＡＢＣ", "İstanbul ıi", "Straße ß ẞ", "Ŀl ŉ", "ᏣᎳᎩ",
    "Tiếng Việt có dấu", "Ñandú pingüino", "naïve café résumé", "Ångström", "Ærøskøbing",
    "Þórsmörk", "ℌ𝔢𝔩𝔩𝔬 𝓦𝓸𝓻𝓵𝓭", "𝐀𝐁𝐂 𝟏𝟐𝟑", "x² + y³ = z⁴", "H₂O", "½ ¾ ⅓", "№ 5", "°C",
]
COMBINING = [chr(c) for c in range(0x300, 0x370)] + ["\u0483", "\u0591", "\u05b0", "\u064b",
                                                     "\u0901", "\u093c", "\u0e31", "\u20dd",
                                                     "\u20e3", "\ufe0f", "\ufe0e", "\u200d",
                                                     "\u200c", "\u2060", "\u00ad"]
DIGIT_SETS = ["0123456789", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "০১২৩৪৫৬৭৮৯",
              "０１２３４５６７８９", "๐๑๒๓๔๕๖๗๘๙", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"]
PUNCT = ["...", "…", "—", "–", "--", "!!!", "?!", "“quoted”", "‘single’", "«guillemets»",
         "„deutsch“", "「括弧」", "（全角）", "、。", "!?", "***", "===", "-----", "•", "→", "✓",
         "§ 12", "¶", "#hashtag", "@user", "$100", "€50", "£3", "¥", "100%", "&&", "||", "::",
         "->", "=>", "!=", "<=", ">>", "/*", "*/", "//", "\\", "\\n", "~/", "../", "./a.out"]
CODE = ["int main(void) { return 0; }", "if (x != NULL && *x) {", "for (i = 0; i < n; i++)",
        "def f(x, *args, **kw):", "    return [y for y in x if y]", "#include <stdio.h>",
        "<div class=\"x\">&nbsp;</div>", "https://example.com/a/b?c=d&e=f#g", "foo@bar.example",
        "SELECT * FROM t WHERE id=42;", "a_b_c = 0x7fffffff", "ÄÖÜ = 1;", "λx.x", "x => x*2",
        "{\"k\": [1, 2.5e-3, null]}", "C:\\Windows\\System32", "/usr/local/bin/", "1.2.3-rc4",
        "snake_case_name", "camelCaseName", "PascalCaseName", "SCREAMING_CASE", "iPhone", "HTTPServer",
        "base64: SGVsbG8gV29ybGQ=", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
LATIN = ("the quick brown fox jumps over the lazy dog while Pack my box with five dozen "
         "liquor jugs and THE QUICK BROWN FOX Lorem ipsum dolor sit amet consectetur adipiscing "
         "elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua").split()


def check_assigned(strings):
    for s in strings:
        for c in s:
            if unicodedata.category(c) in ("Cn", "Cs") or c == "\u180e":
                sys.exit(f"synthetic atom {s!r} has {c!r} (unassigned in Unicode 14 or U+180E)")


class Synth:
    def __init__(self, rng, lines):
        self.rng = rng
        self.lines = lines  # real lines (prose, code, man) to mix in

    def ws(self):
        r = self.rng
        if r.random() < 0.6:
            return r.choice(WS_FIXED)
        return "".join(r.choice(WS_CHARS) for _ in range(r.randint(1, 24)))

    def digits(self):
        r = self.rng
        k = r.random()
        if k < 0.5:
            return "".join(r.choice("0123456789") for _ in range(int(math.exp(r.uniform(0, 6)))))
        if k < 0.65:
            return f"{r.randrange(10**9):,}" + (f".{r.randrange(100):02d}" if r.random() < .5 else "")
        if k < 0.75:
            return r.choice(["0" * r.randint(1, 40), "9" * r.randint(1, 40), "3.14159265358979",
                             "2024-01-31", "12:34:56", "+1 (555) 010-9999", "1e-10", "0xDEADBEEF",
                             "192.168.0.1", "v2", "x86_64", "H2O"])
        ds = r.choice(DIGIT_SETS)
        return "".join(r.choice(ds) for _ in range(r.randint(1, 30)))

    def contraction(self):
        r = self.rng
        w = r.choice(WORDS)
        w = r.choice([w, w.upper(), w.capitalize(), w.lower()])
        s = r.choice(SUFFIX)
        return r.choice(["", " "]) + w + s + r.choice(["", " ", ".", "\n", r.choice(SUFFIX)])

    def combining(self):
        r = self.rng
        base = r.choice(["e", "a", "o", "Z", "i", " ", "", "ก", "न", "ب", "ש", "1", "-", "한"])
        return base + "".join(r.choice(COMBINING) for _ in range(r.choice([1, 1, 1, 2, 3, 8])))

    def word(self):
        r = self.rng
        w = r.choice(LATIN)
        return r.choice([w, w, w.upper(), w.capitalize(), w[:1] + w[1:].upper()])

    def atom(self):
        r = self.rng
        k = r.random()
        if k < 0.25:
            line = r.choice(self.lines)
            a = r.randrange(len(line))
            return line[a:a + r.randint(1, 200)]
        if k < 0.37:
            return " ".join(self.word() for _ in range(r.randint(1, 8)))
        if k < 0.45:
            return "".join(r.choice(EMOJI) for _ in range(r.choice([1, 1, 2, 3, 6])))
        if k < 0.55:
            return self.ws()
        if k < 0.62:
            return self.digits()
        if k < 0.70:
            return self.contraction()
        if k < 0.75:
            return self.combining()
        if k < 0.85:
            return r.choice(SCRIPTS)
        if k < 0.88:
            return r.choice(SPECIAL_LIKE)
        if k < 0.94:
            return r.choice(PUNCT)
        return r.choice(CODE)

    def doc(self, size):
        r = self.rng
        parts, n = [], 0
        while n < size:
            a = self.atom()
            sep = r.choice(["", " ", " ", " ", "\n", ""]) if r.random() < 0.8 else self.ws()
            parts.append(a + sep)
            n += len((a + sep).encode())
        return "".join(parts)


def synthetic_docs(real):
    check_assigned(EMOJI + WS_CHARS + WS_FIXED + SPECIAL_LIKE + SUFFIX + SCRIPTS + COMBINING
                   + DIGIT_SETS + PUNCT + CODE)
    rng = random.Random(3001)
    lines = [ln for _, t in real for ln in t.splitlines() if ln.strip()]
    lines = [lines[i] for i in sorted(rng.sample(range(len(lines)), 20_000))]
    s = Synth(rng, lines)
    docs = []
    for _ in range(110):
        size = int(math.exp(rng.uniform(math.log(200), math.log(30_000))))
        docs.append(("synth", s.doc(size)))
    # dense single-feature documents
    docs.append(("synth", "".join(s.ws() + s.word() for _ in range(3000))))
    docs.append(("synth", " ".join(s.digits() for _ in range(2000))))
    docs.append(("synth", "".join(s.contraction() for _ in range(2000))))
    docs.append(("synth", " ".join(rng.choice(EMOJI) + s.ws() for _ in range(2000))))
    docs.append(("synth", "".join(s.combining() + rng.choice(["", " ", "x"]) for _ in range(3000))))
    docs.append(("synth", " ".join(rng.choice(SPECIAL_LIKE) for _ in range(500))))
    docs.append(("synth", "".join(s.ws() for _ in range(3000))))
    # tiktoken's test_catastrophically_repetitive strings
    for c in ["^", "0", "a", "'s", " ", "\n"]:
        docs.append(("repeat", " " + c * 10_000 + "\n"))
    docs.append(("repeat", "9" * 20_000))
    docs.append(("repeat", "ab" * 5_000 + " " + "\u00e9" * 3_000))
    # ends of documents: whitespace at the very end
    for tail in ["   ", "\n\n\n", " \n", "\t", "\r\n", "\u3000", "\u00a0", " \u2028", "\u0085",
                 "  \n  ", "x  "]:
        docs.append(("synth", s.doc(rng.randint(200, 2000)).rstrip() + tail))
    return docs


def vary(kind, text, rng):
    """Perturb some real documents: CRLF, special-token look-alikes, whitespace tails."""
    if kind in ("synth", "repeat"):
        return text
    if rng.random() < 0.05:
        text = text.replace("\n", "\r\n")
    if rng.random() < 0.04:
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rng.choice(SPECIAL_LIKE) + text[i:]
    k = rng.random()
    if k < 0.04:
        text = text.rstrip("\n")
    elif k < 0.08:
        text = text + rng.choice(["   ", "\n\n\n", " ", "\t\n", "\n \n ", "\u3000", " \u00a0"])
    return text


def build_corpus():
    real = real_docs()
    synth = synthetic_docs(real)
    rng = random.Random(4001)
    docs = [vary(k, t, rng) for k, t in real] + [t for _, t in synth]
    rng.shuffle(docs)
    # a few empty and one-character documents at seeded places, one empty first and last
    for t in ["", "a", " ", "\n", "😀", "\u3000", "0", "'", "é", "<", "", "\t"]:
        docs.insert(rng.randrange(len(docs) + 1), t)
    docs.insert(0, "")
    docs.append("")
    kinds = {}
    for k, t in real + synth:
        kinds[k] = kinds.get(k, 0) + len(t.encode())
    total = sum(len(t.encode()) for t in docs)
    log(f"corpus: {len(docs)} docs, {total} bytes; by kind {dict(sorted(kinds.items()))}")
    if total < MIN_BYTES:
        sys.exit(f"corpus too small: {total} < {MIN_BYTES}")
    for t in docs:
        assert clean(t) == t
    return docs


# ---------------------------------------------------------------- ill-formed UTF-8

def plant_bytes(docs, seed):
    rng = random.Random(seed)
    pool = [t for t in docs if len(t) > 100]
    parts, n = [], 0
    for i in sorted(rng.sample(range(len(pool)), len(pool))):
        t = pool[i]
        if len(t.encode()) > 60_000:
            a = rng.randrange(len(t) - 20_000)
            t = t[a:a + 20_000]
        parts.append(t)
        n += len(t.encode())
        if n >= 1_000_000:
            break
    rng.shuffle(parts)
    base = "\n".join(parts).encode()

    def bad():
        r = rng.random()
        if r < 0.15:
            return bytes(rng.randrange(0x80, 0xC0) for _ in range(rng.choice([1, 1, 1, 2, 3])))
        if r < 0.25:
            return bytes([rng.randrange(0xC2, 0xE0)])  # truncated 2-byte
        if r < 0.37:
            full = rng.choice(["€", "한", "中", "ข", "‘", "\u3000"]).encode()
            return full[:rng.randint(1, 2)]  # truncated 3-byte
        if r < 0.49:
            full = rng.choice(["😀", "𠀀", "🇺", "𝟏"]).encode()
            return full[:rng.randint(1, 3)]  # truncated 4-byte
        if r < 0.59:
            return rng.choice([b"\xc0\x80", b"\xc1\xbf", b"\xc0\xaf", b"\xe0\x80\x80",
                               b"\xe0\x9f\xbf", b"\xf0\x80\x80\x80", b"\xf0\x8f\xbf\xbf"])  # overlong
        if r < 0.69:
            return rng.choice([b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xb2\xa9",
                               b"\xed\xa0\xbd\xed\xb8\x80"])  # encoded surrogates
        if r < 0.79:
            return rng.choice([bytes([rng.randrange(0xF5, 0x100)]), b"\xfe\xff", b"\xff\xfe",
                               b"\xf4\x90\x80\x80", b"\xff"])
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))  # random run

    pos = sorted(rng.sample(range(1, len(base)), 2_000))
    out, last = [], 0
    for p in pos:
        if rng.random() < 0.95:  # mostly at character boundaries, some inside a character
            while p < len(base) and 0x80 <= base[p] < 0xC0:
                p += 1
        p = max(p, last)
        out.append(base[last:p])
        out.append(bad())
        last = p
    out.append(base[last:])
    data = b"".join(out)
    sp = data.find(b" the ", len(data) // 2)
    data = b"\xa9" + data[:sp] + b"\xe2\x82" + data[sp:] + b"\xf0\x9f\x98"  # start, before a space, end
    return data


def runs_of(data):
    """The documented split: maximal runs of ordinary characters / escaped bytes."""
    s = data.decode("utf-8", "surrogateescape")
    runs, i = [], 0
    while i < len(s):
        esc = 0xDC80 <= ord(s[i]) <= 0xDCFF
        j = i
        while j < len(s) and (0xDC80 <= ord(s[j]) <= 0xDCFF) == esc:
            j += 1
        piece = s[i:j]
        if esc:
            runs.append((True, piece.encode("utf-8", "surrogateescape")))
        else:
            runs.append((False, piece))
        i = j
    return runs


def encode_bytes_doc(enc, runs):
    ids = []
    for esc, piece in runs:
        if esc:
            ids += enc._encode_single_piece(piece)  # public name in older tiktoken: encode_single_piece
        else:
            ids += enc.encode(piece, disallowed_special=())
    return ids


# ---------------------------------------------------------------- vectors

TIKTOKEN_VECTORS = [  # tiktoken tests/test_encoding.py (gpt2 has r50k's ranks)
    ("r50k_base", "hello world", [31373, 995]),
    ("cl100k_base", "hello world", [15339, 1917]),
    ("cl100k_base", " \x850", [220, 126, 227, 15]),
    ("cl100k_base", "rer", [38149]),
    ("cl100k_base", "'rer", [2351, 81]),
    ("cl100k_base", "today\n ", [31213, 198, 220]),
    ("cl100k_base", "today\n \n", [31213, 27907]),
    ("cl100k_base", "today\n  \n", [31213, 14211]),
    ("cl100k_base", "👍", [9468, 239, 235]),
    ("r50k_base", "", []),
] + [("r50k_base", "0" * (i + 1), ids) for i, ids in enumerate([
    [15], [405], [830], [2388], [20483], [10535], [24598], [8269], [10535, 830], [8269, 405],
    [8269, 830], [8269, 2388], [8269, 20483], [8269, 10535], [8269, 24598], [25645],
    [8269, 10535, 830]])]

TRICKY = [
    "", " ", "  ", "  \n", "\n", "\n\n\n", "hello world", "don't", "DON'T", "Don't", "don’t",
    "He'S here", "They'Ll go", "we’re", "I'M", "'s", "'S", "x'll've", "   x", "x   ", "a  b",
    "a\r\n\r\nb", "a\r\n", "\t\t\tx", "\t\t\t", "x\t\t\n", "1234567", "12345678901234567890",
    "3.14159", "1,000,000", "٣٤٥", "😀👍🏽", "👨‍👩‍👧‍👦", "🇺🇸🇯🇵", "1️⃣ #️⃣", "❤️", "<|endoftext|>",
    "hello <|endoftext|>", "<|fim_prefix|>def f():<|fim_suffix|>", "<|endofprompt|>", "中文分词测试",
    "日本語のテキスト", "한국어 텍스트", "हिन्दी भाषा", "مرحبا بالعالم", "שָׁלוֹם", "ภาษาไทย", "e\u0301",
    " \u0301x", "a\u00a0b", "\u00a0\u00a0x", "a\u3000b", "a\u2028b", "x\u0085y", "a\u2003\u2009b",
    "ǅungla HTTPServer iPhone", "foo/bar/baz\n", "/* c */\n\tint x;\n", "  \t\n  \n", "x  \n  ",
]


def json_str(s):
    """A JSON string: controls, separators, format characters, non-ASCII whitespace, variation
    selectors and combining marks after ASCII (or after an escaped mark) as \\uXXXX."""
    out = ['"']
    prev_escaped, prev = False, ""
    for c in s:
        o = ord(c)
        cat = unicodedata.category(c)
        esc = False
        if c in '"\\':
            out.append("\\" + c)
        elif c in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c])
        elif ((cat[0] in "CZ" or c.isspace()) and c != " ") or 0xFE00 <= o <= 0xFE0F \
                or 0xE0100 <= o <= 0xE01EF or (cat[0] == "M" and (prev_escaped or prev < "\x80")):
            esc = True
            if o > 0xFFFF:
                o -= 0x10000
                out.append(f"\\u{0xD800 + (o >> 10):04x}\\u{0xDC00 + (o & 0x3FF):04x}")
            else:
                out.append(f"\\u{o:04x}")
        else:
            out.append(c)
        prev_escaped, prev = esc, c
    out.append('"')
    r = "".join(out)
    assert json.loads(r) == s
    return r


def write_vectors(encs):
    lines = []
    for name, text, want in TIKTOKEN_VECTORS:
        got = encs[name].encode(text, disallowed_special=())
        if got != want:
            sys.exit(f"tiktoken vector {name} {text!r}: got {got}, want {want}")
    seen = set()
    for name in NAMES:
        cases = [t for n, t, _ in TIKTOKEN_VECTORS if n == name] + TRICKY
        for text in cases:
            if (name, text) in seen:
                continue
            seen.add((name, text))
            ids = encs[name].encode(text, allowed_special=set(), disallowed_special=())
            lines.append(f"{name}\t{json_str(text)}\t{' '.join(map(str, ids))}\n")
    data = "".join(lines).encode()
    (OUT / "vectors.tsv").write_bytes(data)
    log(f"vectors.tsv: {len(lines)} cases, {len(data)} bytes")


# ---------------------------------------------------------------- Hugging Face GPT-2

def hf_tokenizer(with_special=True):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors
    bpe = models.BPE.from_file(str(SHARED_TOK / "gpt2-encoder.json"),
                               str(SHARED_TOK / "gpt2-vocab.bpe"))
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    if with_special:
        tok.add_special_tokens([AddedToken("<|endoftext|>", special=True)])
        assert tok.token_to_id("<|endoftext|>") == 50256
    return tok


def write_hf(docs, r50k_ids):
    import tokenizers
    tok = hf_tokenizer()
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "tokenizer.json"
        tok.save(str(p))
        data = p.read_bytes()
    size = zstd_write(OUT / "gpt2-tokenizer.json.zst", data)
    log(f"gpt2-tokenizer.json.zst: {size} bytes (raw {len(data)}), tokenizers {tokenizers.__version__}")

    plain = hf_tokenizer(with_special=False)
    t0 = time.time()
    hf = [e.ids for e in tok.encode_batch(docs, add_special_tokens=False)]
    hf_plain = [e.ids for e in plain.encode_batch(docs, add_special_tokens=False)]
    log(f"HF encode: {time.time() - t0:.1f} s for two passes")
    with_sp = [i for i, t in enumerate(docs) if "<|endoftext|>" in t]
    same = sum(hf[i] == r50k_ids[i] for i in range(len(docs)))
    same_plain = sum(hf_plain[i] == r50k_ids[i] for i in range(len(docs)))
    diff_sp = [i for i in with_sp if hf[i] != r50k_ids[i]]
    diff_other = [i for i in range(len(docs)) if hf[i] != r50k_ids[i] and i not in set(with_sp)]
    diff_plain = [i for i in range(len(docs)) if hf_plain[i] != r50k_ids[i]]
    log(f"HF GPT-2 (with added <|endoftext|>) vs tiktoken r50k: {same}/{len(docs)} docs identical;"
        f" {len(with_sp)} docs contain '<|endoftext|>' ({len(diff_sp)} of them differ),"
        f" {len(diff_other)} other docs differ")
    log(f"HF GPT-2 without the added token vs tiktoken r50k: {same_plain}/{len(docs)} identical")
    for i in diff_plain[:10]:
        a, b = hf_plain[i], r50k_ids[i]
        k = next((j for j in range(min(len(a), len(b))) if a[j] != b[j]), min(len(a), len(b)))
        enc = ENCS["r50k_base"]
        ctx = enc.decode(b[max(0, k - 3):k + 4])
        log(f"  doc {i}: first difference at token {k}: HF {a[k:k + 4]} tiktoken {b[k:k + 4]}"
            f" near {ctx!r}; doc ends {docs[i][-20:]!r}")
    return same, len(docs), with_sp, diff_sp, diff_other, diff_plain


# ---------------------------------------------------------------- main

ENCS = {}


def ids_text(list_of_ids):
    return "".join(" ".join(map(str, ids)) + "\n" for ids in list_of_ids).encode()


def main():
    t_start = time.time()
    log(f"tiktoken {tiktoken.__version__}, zstd {subprocess.run(['zstd', '-V'], capture_output=True, text=True).stdout.strip()}")
    OUT.mkdir(parents=True, exist_ok=True)
    copy_rank_files()
    ENCS.update(load_encodings())
    write_vectors(ENCS)

    docs = build_corpus()
    jsonl = "".join(json.dumps({"id": f"mix-{i:05d}", "text": t}, ensure_ascii=False) + "\n"
                    for i, t in enumerate(docs)).encode("utf-8")
    size = zstd_write(OUT / "mix.jsonl.zst", jsonl)
    log(f"mix.jsonl.zst: {size} bytes (raw {len(jsonl)}), {len(docs)} docs, "
        f"{sum(len(t.encode()) for t in docs)} text bytes")

    for seed in range(5001, 5100):  # planted bytes must not make unassigned chars or U+180E
        data = plant_bytes(docs, seed)
        runs = runs_of(data)
        odd = sorted({c for esc, piece in runs if not esc for c in piece
                      if unicodedata.category(c) == "Cn" or c == "\u180e"})
        if not odd:
            break
        log(f"mix-bytes: seed {seed} made {[hex(ord(c)) for c in odd]} (unassigned or U+180E),"
            " next seed")
    n_bad = sum(1 for esc, _ in runs if esc)
    size = zstd_write(OUT / "mix-bytes.bin.zst", data)
    log(f"mix-bytes.bin.zst: {size} bytes (raw {len(data)}), {n_bad} runs of ill-formed bytes, "
        f"{sum(len(p) for e, p in runs if e)} ill-formed bytes")

    r50k_ids = None
    for name in NAMES:
        enc = ENCS[name]
        t0 = time.time()
        ids = [enc.encode(t, allowed_special=set(), disallowed_special=()) for t in docs]
        t1 = time.time()
        raw = ids_text(ids)
        size = zstd_write(OUT / f"mix.{name}.ids.zst", raw)
        log(f"mix.{name}.ids.zst: {size} bytes (raw {len(raw)}), {sum(map(len, ids))} tokens,"
            f" encode {t1 - t0:.1f} s")
        bids = encode_bytes_doc(enc, runs)
        raw = ids_text([bids])
        size = zstd_write(OUT / f"mix-bytes.{name}.ids.zst", raw)
        log(f"mix-bytes.{name}.ids.zst: {size} bytes (raw {len(raw)}), {len(bids)} tokens")
        if name == "r50k_base":
            r50k_ids = ids

    write_hf(docs, r50k_ids)
    log(f"done in {time.time() - t_start:.0f} s")


if __name__ == "__main__":
    main()
