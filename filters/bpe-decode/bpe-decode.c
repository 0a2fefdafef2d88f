/* bpe-decode - token ids back to text: the token streams bpe-encode writes, or its JSONL. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "input.h"
#include "jsonw.h"
#include "output.h"
#include "tok.h"
#include "tokstream.h"
#include "utf8.h"

enum {
	OPT_IDS = 1100,
	OPT_JSONL,
	OPT_SEPARATOR,
	OPT_ANY_TOKENIZER,
	OPT_SHARD,
	OPT_VERSION,
};

static const struct option longopts[] = {
	{ "tokenizer", required_argument, NULL, 't' },
	{ "ids", no_argument, NULL, OPT_IDS },
	{ "jsonl", no_argument, NULL, OPT_JSONL },
	{ "separator", required_argument, NULL, OPT_SEPARATOR },
	{ "any-tokenizer", no_argument, NULL, OPT_ANY_TOKENIZER },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

static void usage(void)
{
	printf("Usage: %s -t TOKENIZER [OPTION]... [FILE]...\n"
	       "Decode token streams written by bpe-encode (plain, gzip or zstd; '-' or none reads\n"
	       "standard input) back to the bytes they came from.\n"
	       "\n"
	       "  -t, --tokenizer FILE   the tokenizer that encoded them (its hash must match the\n"
	       "                         stream's)\n"
	       "      --any-tokenizer    decode even when the hashes differ\n"
	       "      --separator STR    write STR after each document (escapes \\n \\t \\0 \\\\;\n"
	       "                         default: nothing, so one encoded file decodes to itself)\n"
	       "      --jsonl            write one record {\"text\": ...} a document (ill-formed UTF-8\n"
	       "                         becomes U+FFFD there, counted at -v)\n"
	       "      --ids              print each document's ids, space-separated, one line a\n"
	       "                         document (no tokenizer needed)\n"
	       "      --shard i/N        decode every N-th document, starting with the i-th (0-based)\n"
	       "  -o, --output FILE      write to FILE (default: standard output)\n"
	       "  -q, --quiet            no warnings\n"
	       "  -v, --verbose          a summary line at the end\n"
	       "  -h, --help             this help\n"
	       "      --version          the version\n",
	       cm_prog);
}

static void unescape(const char *s, cm_buf *out)
{
	for (; *s; s++) {
		if (*s != '\\' || !s[1]) {
			cm_buf_addc(out, *s);
			continue;
		}
		s++;
		switch (*s) {
		case 'n': cm_buf_addc(out, '\n'); break;
		case 't': cm_buf_addc(out, '\t'); break;
		case '0': cm_buf_addc(out, '\0'); break;
		default: cm_buf_addc(out, *s); break;
		}
	}
}

int main(int argc, char **argv)
{
	const char *tok_path = NULL, *out_path = NULL;
	int ch, mode_ids = 0, jsonl = 0, any = 0, status = 0, i, nfiles;
	cm_buf sep = CM_BUF_INIT, text = CM_BUF_INIT, line = CM_BUF_INIT, fixed = CM_BUF_INIT;
	cm_ids ids = { 0 };
	uint64_t docs = 0, tokens = 0, bytes = 0, repaired = 0, index = 0;
	unsigned long shard_i = 0, shard_n = 1;
	cm_tok *tok = NULL;
	cm_output *out;
	char err[256];

	cm_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "t:o:qvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 't': tok_path = optarg; break;
		case 'o': out_path = optarg; break;
		case OPT_IDS: mode_ids = 1; break;
		case OPT_JSONL: jsonl = 1; break;
		case OPT_SEPARATOR: cm_buf_reset(&sep); unescape(optarg, &sep); break;
		case OPT_ANY_TOKENIZER: any = 1; break;
		case OPT_SHARD: cm_parse_shard("--shard", optarg, &shard_i, &shard_n); break;
		case 'q': cm_verbosity = -1; break;
		case 'v': cm_verbosity++; break;
		case 'h': usage(); exit(0);
		case OPT_VERSION: cm_print_version();
		default: cm_usage_error("unknown option");
		}
	}
	if (mode_ids && jsonl)
		cm_usage_error("--ids and --jsonl do not go together");
	if (!mode_ids && !tok_path)
		cm_usage_error("a tokenizer is needed (-t FILE), except with --ids");
	if (tok_path && !(tok = cm_tok_load(tok_path, NULL, err, sizeof err)))
		cm_die("cannot load the tokenizer '%s': %s", tok_path, err);
	out = cm_output_open(out_path, 0);
	nfiles = argc - optind;
	for (i = 0; i < (nfiles ? nfiles : 1); i++) {
		const char *path = nfiles ? argv[optind + i] : "-";
		cm_input *in = cm_input_open(path);
		cm_ts_header h;
		uint64_t n = 0;
		int r;

		if (!in) {
			status = 1;
			continue;
		}
		if (cm_ts_read_header(in, &h, err, sizeof err) < 0) {
			cm_error("%s: %s", cm_input_name(in), err);
			status = 1;
			cm_input_close(in);
			continue;
		}
		if (tok && h.tok_hash != cm_tok_hash(tok) && !any) {
			cm_error("%s was encoded by another tokenizer (hash %016" PRIx64 ", '%s' has %016"
				 PRIx64 "; --any-tokenizer decodes anyway)", cm_input_name(in), h.tok_hash,
				 tok_path, cm_tok_hash(tok));
			status = 1;
			cm_input_close(in);
			continue;
		}
		while ((r = cm_ts_read_doc(in, &h, &ids, &n, err, sizeof err)) > 0) {
			size_t bad, k;

			if (index++ % shard_n != shard_i)
				continue;
			docs++;
			tokens += ids.n;
			if (mode_ids) {
				cm_buf_reset(&line);
				for (k = 0; k < ids.n; k++)
					cm_buf_printf(&line, k ? " %u" : "%u", ids.v[k]);
				cm_buf_addc(&line, '\n');
				cm_output_write(out, line.p, line.len);
				continue;
			}
			cm_buf_reset(&text);
			if (cm_tok_decode(tok, ids.v, ids.n, &text, &bad) < 0) {
				cm_error("%s: document %" PRIu64 ": id %u is not in the tokenizer",
					 cm_input_name(in), n, ids.v[bad]);
				status = 1;
				break;
			}
			bytes += text.len;
			if (jsonl) {
				cm_jw w;

				cm_buf_reset(&fixed);
				repaired += cm_utf8_repair(text.p, text.len, &fixed);
				cm_buf_reset(&line);
				cm_jw_init(&w, &line);
				cm_jw_obj(&w);
				cm_jw_key(&w, "text");
				cm_jw_strn(&w, fixed.p, fixed.len);
				cm_jw_end(&w, '}');
				cm_buf_addc(&line, '\n');
				cm_output_write(out, line.p, line.len);
			} else {
				cm_output_write(out, text.p, text.len);
				cm_output_write(out, sep.p, sep.len);
			}
		}
		if (r < 0) {
			if (cm_input_truncated(in))
				cm_error("%s: %s", cm_input_name(in), cm_input_error(in));
			else
				cm_error("%s: %s", cm_input_name(in), err);
			status = 1;
		}
		cm_input_close(in);
	}
	cm_output_close(out);
	cm_close_stdout();
	if (cm_verbosity > 0)
		cm_info("%" PRIu64 " documents, %" PRIu64 " tokens -> %" PRIu64 " bytes%s", docs, tokens,
			bytes, repaired ? " (ill-formed UTF-8 replaced in the JSONL)" : "");
	cm_tok_free(tok);
	cm_ids_free(&ids);
	cm_buf_free(&sep);
	cm_buf_free(&text);
	cm_buf_free(&line);
	cm_buf_free(&fixed);
	return status;
}
