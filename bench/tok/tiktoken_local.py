"""tiktoken's own Encodings (tiktoken_ext.openai_public: its patterns and special tokens) built
from the shared rank files instead of downloads; shared by bench/tok's scripts."""
import os
from pathlib import Path

import tiktoken
import tiktoken.load
import tiktoken_ext.openai_public as openai_public

ROOT = Path(__file__).resolve().parent.parent.parent
SHARED_TOK = Path(os.environ.get("CRAWL2LM_SHARED_DATA", ROOT.parent / "shared" / "data")) / "tokenizers"
NAMES = ["r50k_base", "cl100k_base", "o200k_base"]


def load_encoding(name):
    def local_load(url, expected_hash=None):
        return tiktoken.load.load_tiktoken_bpe(str(SHARED_TOK / url.rsplit("/", 1)[1]),
                                               expected_hash=expected_hash)
    openai_public.load_tiktoken_bpe = local_load
    return tiktoken.Encoding(**getattr(openai_public, name)())
