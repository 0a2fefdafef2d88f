#!/usr/bin/env python3
"""make-tasks.py - lm-evaluation-harness task definitions over the shared eval files.

Usage: make-tasks.py OUTDIR EVALDIR PPL_JSONL

Writes OUTDIR/<prefix><task>.yaml for arc_easy, arc_challenge, piqa, winogrande and
lambada_openai (the JSONL files of EVALDIR, ../shared/data/eval) and a perplexity task
over PPL_JSONL ({"text"} lines), plus OUTDIR/ppl_utils.py (its process_results), for
`lm_eval --include_path OUTDIR`. It also makes a task of its own, OUTDIR/long.jsonl
(and c2l_long.yaml): up to 100 multiple-choice items (98 from tinyshakespeare's last tenth)
built from PPL_JSONL, whose query (consecutive documents joined, at least 3,000 characters)
is longer than a 512-token context, so that both tools truncate it on the left; the choices
are the first 60 characters of the next four documents, gold 0. The harness's own tasks
of those names exist in its registry, so these are named with the prefix "c2l_" (crawl2lm).
The prompts are those of ../shared/data/README.md, which lm-eval (trainer/lm-eval.c) implements:

  query/choices/gold             context = query, continuation = " " + choice;
                                 acc and acc_norm (log-likelihood / len(choice) in characters)
  context_options/continuation   the harness's winogrande layout: doc_to_text gives the gold
                                 index, doc_to_choice the contexts, doc_to_target the shared
                                 continuation (scored as " " + continuation after each context)
  context/continuation           lambada: context, " " + continuation; acc (greedy) and
                                 perplexity
  text (ppl)                     loglikelihood_rolling as the harness's wikitext task:
                                 word_perplexity, byte_perplexity, bits_per_byte (words by
                                 re.split(r"\\s+"), bytes of the UTF-8 text)
Only the standard library; the YAML is written by hand (JSON strings are valid YAML scalars).
"""
import json
import os
import sys

PREFIX = "c2l_"
MC = ["arc_easy", "arc_challenge", "piqa"]


def q(s):
    """A YAML double-quoted scalar (JSON string syntax is a subset)."""
    return json.dumps(s)


def head(name, path, output_type):
    return (f"task: {PREFIX}{name}\n"
            f"dataset_path: json\n"
            f"dataset_kwargs:\n  data_files:\n    test: {q(path)}\n"
            f"test_split: test\n"
            f"output_type: {output_type}\n")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    out, evaldir, ppl = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    files = {}
    for t in MC:
        files[t] = (head(t, f"{evaldir}/{t}.jsonl", "multiple_choice") +
                    'doc_to_text: "{{query}}"\n'
                    'doc_to_choice: "{{choices}}"\n'
                    'doc_to_target: "{{gold}}"\n'
                    'target_delimiter: " "\n'
                    "metric_list:\n"
                    "  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n"
                    "  - metric: acc_norm\n    aggregation: mean\n    higher_is_better: true\n")
    files["winogrande"] = (head("winogrande", f"{evaldir}/winogrande.jsonl", "multiple_choice") +
                           'doc_to_text: "{{gold}}"\n'
                           'doc_to_choice: "{{context_options}}"\n'
                           'doc_to_target: "{{continuation}}"\n'
                           'target_delimiter: " "\n'
                           "metric_list:\n"
                           "  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n")
    files["lambada_openai"] = (head("lambada_openai", f"{evaldir}/lambada_openai.jsonl", "loglikelihood") +
                               'doc_to_text: "{{context}}"\n'
                               "doc_to_target: \"{{' ' + continuation}}\"\n"
                               "metric_list:\n"
                               "  - metric: perplexity\n    aggregation: perplexity\n    higher_is_better: false\n"
                               "  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n")
    files["ppl"] = (head("ppl", ppl, "loglikelihood_rolling") +
                    'doc_to_text: ""\n'
                    "doc_to_target: !function ppl_utils.doc_to_target\n"
                    "process_results: !function ppl_utils.process_results\n"
                    "metric_list:\n"
                    "  - metric: word_perplexity\n  - metric: byte_perplexity\n  - metric: bits_per_byte\n")
    docs = []
    with open(ppl, encoding="utf-8") as f:
        docs = [json.loads(line)["text"] for line in f if line.strip()]
    with open(os.path.join(out, "long.jsonl"), "w", encoding="utf-8") as f:
        i = n = 0
        while n < 100 and i < len(docs):
            j, query = i, ""
            while j < len(docs) and len(query) < 3000:
                query += docs[j] + "\n\n"
                j += 1
            if j + 4 > len(docs):
                break
            f.write(json.dumps({"query": query.rstrip("\n"),
                                "choices": [docs[j + k][:60] for k in range(4)], "gold": 0}) + "\n")
            n += 1
            i += 7
    files["long"] = (head("long", os.path.join(os.path.abspath(out), "long.jsonl"), "multiple_choice") +
                     files["arc_easy"].split("output_type: multiple_choice\n")[1])
    for name, text in files.items():
        with open(os.path.join(out, f"{PREFIX}{name}.yaml"), "w") as f:
            f.write(text + "metadata:\n  version: 1.0\n")
    with open(os.path.join(out, "ppl_utils.py"), "w") as f:
        f.write('''import re


def doc_to_target(doc):
    return doc["text"]


def process_results(doc, results):
    # as the harness's wikitext task (without its detokenizer): sums of the log-likelihood
    # over the words (re.split(r"\\s+")) and the UTF-8 bytes of the text
    (loglikelihood,) = results
    words = len(re.split(r"\\s+", doc["text"]))
    nbytes = len(doc["text"].encode("utf-8"))
    return {
        "word_perplexity": (loglikelihood, words),
        "byte_perplexity": (loglikelihood, nbytes),
        "bits_per_byte": (loglikelihood, nbytes),
    }
''')


if __name__ == "__main__":
    main()
