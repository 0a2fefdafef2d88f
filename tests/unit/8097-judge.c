/* 8097-judge - lm-judge's verdict reader, records and template (trainer/judge.c). */
#include <string.h>

#include "judge.h"
#include "tap.h"

static int v(const char *s)
{
	return lm_judge_verdict(s, strlen(s));
}

static void verdicts(void)
{
	static const struct {
		const char *s;
		int want;
	} t[] = {
		{ "A", LM_JV_A }, { "B", LM_JV_B }, { " B\n", LM_JV_B }, { "A.", LM_JV_A },
		{ "**B**", LM_JV_B }, { "(A)", LM_JV_A }, { "\"B\" is better", LM_JV_B },
		{ "[[A]]", LM_JV_A }, { "[[C]]", LM_JV_TIE },
		{ "Both are fine, but the second says more. [[B]]", LM_JV_B },
		{ "A is shorter, but [[B]] is better", LM_JV_B },	/* [[X]] first, wherever it is */
		{ "Output (a)", LM_JV_A }, { "Output (b)", LM_JV_B }, { "Response B", LM_JV_B },
		{ "Answer: A", LM_JV_A }, { "option b", LM_JV_NONSENSE },
		{ "Absolutely A", LM_JV_NONSENSE }, { "a", LM_JV_NONSENSE }, { "C", LM_JV_NONSENSE },
		{ "", LM_JV_NONSENSE }, { "   ", LM_JV_NONSENSE }, { "I cannot decide.", LM_JV_NONSENSE },
		{ "Both", LM_JV_NONSENSE }, { "AB", LM_JV_NONSENSE }, { "-A", LM_JV_NONSENSE },
		{ "[[D]]", LM_JV_NONSENSE }, { "[[A", LM_JV_A }, { "Response (c)", LM_JV_NONSENSE },
		{ "Output", LM_JV_NONSENSE },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		is_int(v(t[i].s), t[i].want, "verdict of '%s'", t[i].s);
	/* the length is honoured: no read past n */
	is_int(lm_judge_verdict("BA", 1), LM_JV_B, "only n bytes are read");
	is_int(lm_judge_verdict("[[B]]", 3), LM_JV_B, "  a [[B]] cut short is still B");
	is_int(lm_judge_verdict("x [[B]]", 5), LM_JV_NONSENSE, "  and after a word, none");
}

static int parse(const char *s, lm_judge_rec *r, char *why)
{
	return lm_judge_parse(s, strlen(s), r, why, 256);
}

static void records(void)
{
	lm_judge_rec r;
	char why[256];
	int rc = parse("{\"prompt\": \"p\", \"response_a\": \"x\", \"response_b\": \"yy\", "
		       "\"model_a\": \"m1\", \"model_b\": \"m2\", \"winner\": \"model_b\"}", &r, why);
	ok(rc == LM_JR_OK && r.np == 1 && r.na == 1 && r.nb == 2 && !strcmp(r.model_a, "m1") &&
	   !strcmp(r.model_b, "m2") && r.label == LM_JV_B && r.out_a == r.a,
	   "response_a/response_b with models and a human winner");
	lm_judge_rec_free(&r);
	rc = parse("{\"prompt\": \"p\", \"responses\": [\"x\", \"yy\"]}", &r, why);
	ok(rc == LM_JR_OK && r.na == 1 && r.nb == 2 && r.label == -1 && !r.model_a, "responses: [a, b]");
	lm_judge_rec_free(&r);
	rc = parse("{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: yes\\n\\nHuman: more\\n\\n"
		   "Assistant: sure thing\", \"rejected\": \"\\n\\nHuman: hi\\n\\nAssistant: yes\\n\\n"
		   "Human: more\\n\\nAssistant: no\"}", &r, why);
	ok(rc == LM_JR_OK && r.label == LM_JV_A, "an HH-RLHF pair: label A (chosen)");
	is_mem(r.prompt, r.np, "Human: hi\n\nAssistant: yes\n\nHuman: more", "  the judge sees the conversation");
	is_mem(r.a, r.na, "sure thing", "  and the last responses");
	is_mem(r.b, r.nb, "no", "  (both)");
	is_mem(r.out_prompt, r.nop, "\n\nHuman: hi\n\nAssistant: yes\n\nHuman: more\n\nAssistant:",
	       "  the pair's prompt: TRL's split");
	is_mem(r.out_a, r.noa, " sure thing", "  the pair's responses keep their space");
	lm_judge_rec_free(&r);
	static const struct {
		const char *s;
		int rc;
		const char *why;
	} bad[] = {
		{ "[1]", LM_JR_NOT_JSON, "not a JSON object" },
		{ "{\"a\": 1, \"a\": 2}", LM_JR_NOT_JSON, "not a JSON object" },
		{ "{\"prompt\": \"p\"}", LM_JR_NO_PAIR, "neither" },
		{ "{\"prompt\": 1, \"response_a\": \"x\", \"response_b\": \"y\"}", LM_JR_BAD_FIELD, "\"prompt\" is not a string" },
		{ "{\"prompt\": \"p\", \"response_a\": \"x\"}", LM_JR_BAD_FIELD, "\"response_b\" is missing" },
		{ "{\"prompt\": \"p\", \"responses\": [\"x\"]}", LM_JR_BAD_FIELD, "two strings" },
		{ "{\"prompt\": \"p\", \"responses\": [\"\", \"y\"]}", LM_JR_BAD_FIELD, "an empty response" },
		{ "{\"chosen\": \"x\"}", LM_JR_BAD_FIELD, "must both be strings" },
		{ "{\"chosen\": \"hi\", \"rejected\": \"ho\"}", LM_JR_BAD_HH, "not an HH-RLHF transcript" },
		{ "{\"chosen\": \"\\n\\nHuman: a\\n\\nAssistant: x\", \"rejected\": \"\\n\\nHuman: b\\n\\nAssistant: y\"}",
		  LM_JR_BAD_HH, "differ before their last response" },
		{ "{\"chosen\": \"\\n\\nHuman: a\", \"rejected\": \"\\n\\nHuman: a\"}", LM_JR_BAD_HH,
		  "does not end with the assistant" },
		{ "{\"chosen\": \"\\n\\nHuman: a\\n\\nAssistant: \", \"rejected\": \"\\n\\nHuman: a\\n\\nAssistant: y\"}",
		  LM_JR_BAD_HH, "empty last response" },
		{ "{\"prompt\": \"p\", \"responses\": [\"x\", \"y\"], \"model_a\": 3}", LM_JR_BAD_FIELD, "\"model_a\" is not a string" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = 0;
		rc = parse(bad[i].s, &r, why);
		ok(rc == bad[i].rc && strstr(why, bad[i].why), "refused: %s (%s)", bad[i].s, why);
		lm_judge_rec_free(&r);
	}
}

static void templates(void)
{
	char err[256];
	is_int(lm_judge_template_check(lm_judge_default_template, err, sizeof err), 0, "the default template");
	is_int(lm_judge_template_check("{prompt}{response_a}", err, sizeof err), -1, "a field missing");
	ok(strstr(err, "{response_b}") != NULL, "  named (%s)", err);
	is_int(lm_judge_template_check("{prompt}{response_a}{response_b}{x}", err, sizeof err), -1,
	       "an unknown field");
	is_int(lm_judge_template_check("{{json}} {prompt}{response_a}{response_b}", err, sizeof err), 0,
	       "{{ and }} are braces");
	cm_buf b = CM_BUF_INIT;
	lm_judge_render(&b, "{{x}} P={prompt} A={response_a} B={response_b} {prompt}", "p", 1, "aa", 2,
			"{prompt}", 8);
	is_str(b.p, "{x} P=p A=aa B={prompt} p", "rendered; a field's value is not read as a field");
	cm_buf_free(&b);
}

int main(void)
{
	verdicts();
	records();
	templates();
	return tap_done();
}
