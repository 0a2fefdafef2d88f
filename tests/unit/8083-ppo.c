/* 8083-ppo.c - PPO's arithmetic (trainer/ppo.c) and its prompts (trainer/dpo.c's
 * lm_dpo_encode_prompt): per-token rewards and GAE against a hand computation (gamma and
 * lambda 1 and 0 as limits: Monte Carlo returns and one-step TD errors), whitening (mean 0,
 * unbiased variance 1, a single token centred), each loss on hand-computable cases (ratio 1,
 * a clipped ratio, a clipped value) and their gradients against finite differences on random
 * inputs (away from the kinks), the adaptive KL coefficient, and prompt records of every form
 * to ids (strings as they are, messages and transcripts through the chat template with the
 * generation prompt, the last answer left out), bad ones refused with a reason. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytetok.h"
#include "dpo.h"
#include "ppo.h"
#include "tap.h"

#define near(a, b, tol) (fabs((double)(a) - (double)(b)) <= (tol))

static double urand(void)
{
	return (double)(tap_next() >> 11) * (1.0 / 9007199254740992.0);
}

/* two responses: 3 and 1 tokens */
static void batch2(lm_ppo_batch *b)
{
	lm_ppo_batch_alloc(b, 2, 4);
	b->at[0] = 0, b->len[0] = 3, b->at[1] = 3, b->len[1] = 1;
	const float lp[] = { -1, -2, -0.5f, -3 }, ref[] = { -1.5f, -2, -1, -2 },
		    v[] = { 0.5f, 0.25f, -0.5f, 1 };
	memcpy(b->lp, lp, sizeof lp);
	memcpy(b->ref, ref, sizeof ref);
	memcpy(b->value, v, sizeof v);
	b->score[0] = 2;
	b->score[1] = -1;
}

static void advantages(void)
{
	lm_ppo_batch b;
	batch2(&b);
	/* kl = (0.5, 0, 0.5 | -1); coef 0.1: rewards -0.05, 0, -0.05 + 2 | 0.1 - 1 */
	lm_ppo_advantages(&b, 0.1, 1, 1, 0);
	ok(near(b.reward[0], -0.05, 1e-7) && near(b.reward[1], 0, 1e-7) &&
	   near(b.reward[2], 1.95, 1e-6) && near(b.reward[3], -0.9, 1e-6),
	   "rewards: -kl_coef x kl at every token, the score added at the last");
	/* gamma = lambda = 1: the advantage is the return to go less the value */
	ok(near(b.ret[0], 1.9, 1e-6) && near(b.ret[1], 1.95, 1e-6) && near(b.ret[2], 1.95, 1e-6) &&
	   near(b.ret[3], -0.9, 1e-6), "gamma 1, lambda 1: the returns are the rewards to go");
	ok(near(b.adv[0], 1.4, 1e-6) && near(b.adv[1], 1.7, 1e-6) && near(b.adv[2], 2.45, 1e-6) &&
	   near(b.adv[3], -1.9, 1e-6), "  the advantages the returns less the values");
	/* lambda = 0: one-step TD errors r_t + gamma v_{t+1} - v_t */
	lm_ppo_advantages(&b, 0.1, 0.9, 0, 0);
	ok(near(b.adv[0], -0.05 + 0.9 * 0.25 - 0.5, 1e-6) &&
	   near(b.adv[1], 0 + 0.9 * -0.5 - 0.25, 1e-6) && near(b.adv[2], 1.95 + 0.5, 1e-6) &&
	   near(b.adv[3], -0.9 - 1, 1e-6), "lambda 0: one-step TD errors, no value after the last");
	/* gamma 0.9, lambda 0.95 by the recursion */
	lm_ppo_advantages(&b, 0.1, 0.9, 0.95, 0);
	double d2 = 1.95 + 0.5, d1 = 0 + 0.9 * -0.5 - 0.25, d0 = -0.05 + 0.9 * 0.25 - 0.5;
	double a2 = d2, a1 = d1 + 0.855 * a2, a0 = d0 + 0.855 * a1;
	ok(near(b.adv[0], a0, 1e-6) && near(b.adv[1], a1, 1e-6) && near(b.adv[2], a2, 1e-6),
	   "GAE: A_t = delta_t + gamma lambda A_{t+1}");
	ok(near(b.ret[0], a0 + 0.5, 1e-6) && near(b.ret[2], a2 - 0.5, 1e-6), "  returns A + V");
	/* whitened over the batch's tokens */
	lm_ppo_advantages(&b, 0.1, 0.9, 0.95, 1);
	double m = 0, s = 0;
	for (int i = 0; i < 4; i++)
		m += b.adv[i];
	for (int i = 0; i < 4; i++)
		s += (b.adv[i] - m / 4) * (b.adv[i] - m / 4);
	ok(near(m / 4, 0, 1e-6) && near(s / 3, 1, 1e-6), "whitened: mean 0, unbiased variance 1");
	ok(near(b.ret[0], a0 + 0.5, 1e-6), "  the returns from the advantages before whitening");
	float one[] = { 3.5f };
	lm_ppo_whiten(one, 1);
	ok(one[0] == 0, "a single token is centred only");
	lm_ppo_batch_free(&b);
}

static void losses(void)
{
	lm_ppo_stats st = { 0 };
	double g[4];
	/* ratio 1: the loss is -A, its gradient -A */
	float lp[] = { -1, -2 }, old[] = { -1, -2 }, adv[] = { 2, -0.5f };
	double l = lm_ppo_policy_loss(2, lp, old, adv, 0.2, g, &st);
	ok(near(l, -1.5, 1e-12) && near(g[0], -2, 1e-12) && near(g[1], 0.5, 1e-12),
	   "policy loss at ratio 1: -A, gradient -A");
	ok(st.clipfrac == 0 && st.approxkl == 0 && near(st.ratio, 2, 1e-12) && st.tokens == 2,
	   "  nothing clipped, approximate KL 0");
	/* ratio e^0.5 > 1.2 with A > 0: the clipped term -1.2 A is the larger, no gradient;
	 * with A < 0 the unclipped one, gradient -A r */
	float lp2[] = { -0.5f, -0.5f }, old2[] = { -1, -1 }, adv2[] = { 1, -1 };
	st = (lm_ppo_stats){ 0 };
	l = lm_ppo_policy_loss(2, lp2, old2, adv2, 0.2, g, &st);
	double r = exp(0.5);
	ok(near(l, -1.2 + r, 1e-6) && g[0] == 0 && near(g[1], r, 1e-6),
	   "a ratio past 1 + clip: the clipped term holds for A > 0 (no gradient), not for A < 0");
	ok(st.clipfrac == 1 && near(st.approxkl, 0.25, 1e-6) && near(st.policykl, -1, 1e-6),
	   "  clipfrac counts the token the clip held; approxkl 0.5 d^2, policykl -d");
	/* the value loss: inside the clip range 0.5 (v - R)^2; outside the larger of the two */
	float v[] = { 1, 2, 0 }, vo[] = { 1, 1, 1 }, ret[] = { 0, 3, 3 };
	st = (lm_ppo_stats){ 0 };
	l = lm_ppo_value_loss(3, v, vo, ret, 0.2, g, &st);
	/* token 1: v 2 clipped to 1.2, (2-3)^2 = 1 < (1.2-3)^2 = 3.24: the clipped one, no
	 * gradient; token 2: v 0 clipped to 0.8, 9 > 4.84: unclipped, gradient v - R = -3 */
	ok(near(l, 0.5 * (1 + 3.24 + 9), 1e-6) && near(g[0], 1, 1e-6) && g[1] == 0 &&
	   near(g[2], -3, 1e-6), "value loss: 0.5 max of the unclipped and clipped squares");
	ok(st.vclipfrac == 1 && near(st.verror, 1 + 1 + 9, 1e-6) && near(st.vpred, 3, 1e-6),
	   "  val/clipfrac, val/error (the unclipped square), val/vpred");
	/* gradients against finite differences, random inputs */
	enum { N = 200 };
	float a[N], b[N], c[N], x[N];
	double gp[N], gv[N];
	int bad_p = 0, bad_v = 0;
	for (int i = 0; i < N; i++) {
		a[i] = (float)(-3 * urand());
		b[i] = a[i] + (float)(0.6 * urand() - 0.3);
		c[i] = (float)(4 * urand() - 2);
		x[i] = (float)(4 * urand() - 2);
	}
	lm_ppo_policy_loss(N, b, a, c, 0.2, gp, NULL);
	lm_ppo_value_loss(N, x, a, c, 0.3, gv, NULL);
	for (int i = 0; i < N; i++) {
		double h = 1e-3, d[1];
		float p = b[i] + (float)h, q = b[i] - (float)h;
		double rp = exp((double)b[i] - a[i]), vp = (double)x[i] - a[i];
		/* skip the kinks: within h of a clip bound */
		if (fabs(rp - 1.2) > 0.01 && fabs(rp - 0.8) > 0.01) {
			double fd = (lm_ppo_policy_loss(1, &p, &a[i], &c[i], 0.2, d, NULL) -
				     lm_ppo_policy_loss(1, &q, &a[i], &c[i], 0.2, d, NULL)) / (2 * h);
			bad_p += !near(fd, gp[i], 1e-3 * (1 + fabs(fd)));
		}
		if (fabs(fabs(vp) - 0.3) > 0.01 && fabs(x[i] - c[i]) > 0.01) {
			float p2 = x[i] + (float)h, q2 = x[i] - (float)h;
			double fd = (lm_ppo_value_loss(1, &p2, &a[i], &c[i], 0.3, d, NULL) -
				     lm_ppo_value_loss(1, &q2, &a[i], &c[i], 0.3, d, NULL)) / (2 * h);
			bad_v += !near(fd, gv[i], 1e-3 * (1 + fabs(fd)));
		}
	}
	is_int(bad_p, 0, "the policy loss's gradient: finite differences on %d random tokens", N);
	is_int(bad_v, 0, "the value loss's gradient: finite differences on %d random tokens", N);
	/* the adaptive KL coefficient */
	ok(near(lm_ppo_kl_update(0.2, 6, 64, 6, 10000), 0.2, 1e-12), "KL on target: the coefficient stays");
	ok(near(lm_ppo_kl_update(0.2, 12, 64, 6, 10000), 0.2 * (1 + 0.2 * 64 / 10000.0), 1e-12),
	   "  twice the target: up by the clamped error 0.2 x n / horizon");
	ok(near(lm_ppo_kl_update(0.2, 3, 64, 6, 10000), 0.2 * (1 - 0.2 * 64 / 10000.0), 1e-12),
	   "  half the target: down by the clamped error -0.2 x n / horizon");
	ok(near(lm_ppo_kl_update(0.2, 5.4, 64, 6, 10000), 0.2 * (1 - 0.1 * 64 / 10000.0), 1e-12),
	   "  0.9 of the target: down by 0.1 x n / horizon");
	ok(lm_ppo_kl_update(0.2, 100, 64, 0, 10000) == 0.2, "  no target: a fixed coefficient");
}

/* the prompt of rec as text, '<' '>' the chat tokens, '$' end of text; or "skip: reason" */
static const char *prompt(lm_dpo_enc *e, const char *rec, int *chat)
{
	static char b[4096], why[400];
	int rc = lm_dpo_encode_prompt(e, rec, strlen(rec), chat, why, sizeof why);
	if (rc < 0) {
		snprintf(b, sizeof b, "skip%d: %s", rc, why);
		return b;
	}
	size_t k = 0;
	for (size_t i = 0; i < e->e.ids.n && k + 2 < sizeof b; i++) {
		uint32_t id = e->e.ids.v[i];
		b[k++] = id == 256 ? '$' : id == 257 ? '<' : id == 258 ? '>' : (char)id;
	}
	b[k] = 0;
	return b;
}

static void prompts(void)
{
	char err[400];
	cm_tok *tk = byte_tokenizer_chat(1), *plain = byte_tokenizer();
	lm_dpo_enc e, p;
	ok(lm_dpo_enc_init(&e, tk, err, sizeof err) == 0 &&
	   lm_dpo_enc_init(&p, plain, err, sizeof err) == 0, "encoders");
	int chat = -1;
	is_str(prompt(&e, "{\"prompt\": \"Q: 2+2?\\nA:\"}", &chat), "Q: 2+2?\nA:",
	       "a prompt string as it is");
	is_int(chat, 0, "  not a chat prompt: the response ends with end-of-text");
	is_str(prompt(&e, "{\"prompt\": \"Hi\", \"chosen\": \"a\", \"rejected\": \"a\"}", &chat), "Hi",
	       "a pair's prompt string, whatever its responses (identical ones too)");
	is_str(prompt(&e, "{\"prompt\": [{\"role\": \"user\", \"content\": \"Hi\"}]}", &chat),
	       "<user\nHi>\n<assistant\n", "prompt messages through the template, the generation prompt");
	is_int(chat, 1, "  a chat prompt");
	is_str(prompt(&e, "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": "
		      "\"user\", \"content\": \"Q\"}, {\"role\": \"assistant\", \"content\": \"A\"}]}", &chat),
	       "<system\nS>\n<user\nQ>\n<assistant\n", "messages: the last answer left out");
	is_str(prompt(&e, "{\"chosen\": \"\\n\\nHuman: Where?\\n\\nAssistant: Here.\\n\\nHuman: "
		      "Sure?\\n\\nAssistant: Yes.\", \"rejected\": \"\\n\\nHuman: Where?\\n\\nAssistant: "
		      "Here.\\n\\nHuman: Sure?\\n\\nAssistant: No.\"}", &chat),
	       "<user\nWhere?>\n<assistant\nHere.>\n<user\nSure?>\n<assistant\n",
	       "HH-RLHF transcripts: every turn before the last answer");
	is_str(prompt(&e, "{\"chosen\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": "
		      "\"assistant\", \"content\": \"Hello\"}], \"rejected\": [{\"role\": \"user\", "
		      "\"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Go\"}]}", &chat),
	       "<user\nHi>\n<assistant\n", "chosen and rejected messages: their shared prompt");
	is_str(prompt(&e, "{\"text\": \"\\n\\nHuman: Hey\\n\\nAssistant: Ho\"}", &chat),
	       "<user\nHey>\n<assistant\n", "a \"text\" transcript");
	const char *bad[][2] = {
		{ "not json", "skip-1: not a JSON object" },
		{ "[1]", "skip-1: not a JSON object" },
		{ "{\"prompt\": \"\"}", "skip-1: an empty prompt" },
		{ "{\"prompt\": 3}", "skip-1: \"prompt\" must be a string or a list of messages" },
		{ "{\"prompt\": [{\"role\": \"user\", \"content\": \"\"}]}", "skip-1: an empty prompt" },
		{ "{\"prompt\": [{\"role\": \"user\"}]}", "skip-1: \"prompt\" message 1: \"role\" and" },
		{ "{\"messages\": [{\"role\": \"assistant\", \"content\": \"A\"}]}", "skip-1: an empty prompt" },
		{ "{\"prompt\": [{\"role\": \"robot\", \"content\": \"x\"}]}", "skip-1: unknown role 'robot'" },
		{ "{\"chosen\": \"no turns here\"}", "skip-1: not an HH-RLHF transcript" },
		{ "{\"response\": \"x\"}", "skip-1: no \"prompt\", \"messages\", \"chosen\" or \"text\"" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *got = prompt(&e, bad[i][0], &chat);
		ok(!strncmp(got, bad[i][1], strlen(bad[i][1])), "%s: %s", bad[i][0], got);
	}
	ok(!strncmp(prompt(&p, "{\"prompt\": [{\"role\": \"user\", \"content\": \"Hi\"}]}", &chat),
		    "skip-2: the chat template's token", 33),
	   "messages without the template's tokens in the tokenizer: -2, a fatal error");
	lm_dpo_enc_free(&e);
	lm_dpo_enc_free(&p);
	cm_tok_free(tk);
	cm_tok_free(plain);
}

int main(void)
{
	advantages();
	losses();
	prompts();
	return tap_done();
}
