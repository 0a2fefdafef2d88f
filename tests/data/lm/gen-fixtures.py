#!/usr/bin/env python3
# gen-fixtures.py -- make the small reference fixtures for the C transformer
# trainer's model tests.
#
# What it makes (all under tests/data/lm/):
#   gpt2/        GPT2LMHeadModel, 2 layers, d=32, 4 heads, gelu_new, tied lm_head
#   llama/       LlamaForCausalLM, 2 layers, d=32, 4 heads / 2 kv heads, SwiGLU
#                (ff=80), RMSNorm, default RoPE (theta=1e4), untied lm_head
#   llama-tied/  same Llama, but tie_word_embeddings=True
# Each directory holds:
#   config.json, model.safetensors  as model.save_pretrained(dir) writes them
#                                   (float32; nothing else is kept)
#   expect.safetensors              reference tensors, all computed in float64
#                                   from the same float32 weights:
#     tokens   int32 [2,8]      input ids in [0,101)
#     targets  int32 [2,8]      target for position t (no shift); -1 = ignored
#                               (targets[0,3] and targets[1,7])
#     logits   float32 [2,8,101]
#     logprobs float32 [2,8]    log_softmax(logits)[target], 0 where target=-1
#     loss     float32 [1]      mean cross-entropy over the 14 kept positions
#     grad.<name> float32       d loss / d param, one per key of model.safetensors
# The models are run in eval mode, no attention mask (plain causal), positions
# 0..T-1, use_cache=False, eager attention.
#
# Weights: random, fixed seeds. Every 1-D "weight" (LayerNorm / RMSNorm gain)
# is 1 + 0.1*randn, every bias is 0.02*randn, every other tensor (embeddings,
# projections, including the residual projections) is W_STD*randn. W_STD=0.2
# is larger than the usual 0.02 so that attention is far from uniform and the
# logits are far from zero, which makes the comparison discriminating.
#
# Deterministic. Rerun from the repository root with:
#   bench/.venv/bin/python tests/data/lm/gen-fixtures.py
# It needs torch, transformers, safetensors and numpy; it never touches the
# network (models are built from configs).

import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F
import transformers
import safetensors
from safetensors.numpy import load_file as np_load_file
from safetensors.torch import save_file as torch_save_file

HERE = os.path.dirname(os.path.abspath(__file__))
B, T, V = 2, 8, 101
W_STD = 0.2
IGNORED = [(0, 3), (1, 7)]


def gpt2_config():
    return transformers.GPT2Config(
        vocab_size=V, n_positions=16, n_embd=32, n_layer=2, n_head=4,
        activation_function="gelu_new", layer_norm_epsilon=1e-5,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        tie_word_embeddings=True)


def llama_config(tied):
    cfg = transformers.LlamaConfig(
        vocab_size=V, hidden_size=32, intermediate_size=80,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=16, rms_norm_eps=1e-5, rope_theta=10000.0,
        tie_word_embeddings=tied, attention_bias=False, mlp_bias=False,
        hidden_act="silu", rope_scaling=None)
    # transformers >= 5 folds rope_theta/rope_scaling into rope_parameters.
    rp = getattr(cfg, "rope_parameters", None)
    if rp is not None:
        assert rp.get("rope_type", "default") == "default", rp
        assert set(rp) <= {"rope_type", "rope_theta"}, rp
    rs = getattr(cfg, "rope_scaling", None)
    assert rs is None or rs.get("rope_type", "default") == "default", rs
    return cfg


MODELS = [
    # (dir, model class, config factory, weight seed)
    ("gpt2", transformers.GPT2LMHeadModel, gpt2_config, 1001),
    ("llama", transformers.LlamaForCausalLM, lambda: llama_config(False), 1002),
    ("llama-tied", transformers.LlamaForCausalLM, lambda: llama_config(True), 1003),
]


def build(cls, cfg, seed):
    torch.manual_seed(seed)
    cfg._attn_implementation = "eager"
    model = cls(cfg).float()
    gen = torch.Generator().manual_seed(seed + 50000)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            if name.endswith(".bias"):
                v = 0.02 * r
            elif p.dim() == 1:          # LayerNorm / RMSNorm gain
                v = 1.0 + 0.1 * r
            else:
                v = W_STD * r
            p.copy_(v.to(torch.float32))
    model.eval()
    return model


def inputs(seed):
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, V, (B, T), generator=gen, dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), generator=gen, dtype=torch.int64)
    for b, t in IGNORED:
        targets[b, t] = -1
    return tokens, targets


def forward_loss(model, tokens, targets):
    out = model(input_ids=tokens, use_cache=False)
    logits = out.logits
    tgt = targets.clone()
    tgt[tgt < 0] = -100
    loss = F.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1),
                           ignore_index=-100, reduction="mean")
    return logits, loss


def make(dirname, cls, cfgf, seed):
    out = os.path.join(HERE, dirname)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)

    model = build(cls, cfgf(), seed)
    model.save_pretrained(out, safe_serialization=True)
    for f in sorted(os.listdir(out)):
        if f not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(out, f))

    saved = np_load_file(os.path.join(out, "model.safetensors"))
    for k, a in saved.items():
        assert a.dtype == np.float32, (k, a.dtype)

    tokens, targets = inputs(seed + 100000)

    # float64 reference from the exact float32 weights.
    m64 = build(cls, cfgf(), seed).double()
    for name, p in m64.named_parameters():
        assert np.array_equal(p.detach().float().numpy(), saved[name]), name
    m64.zero_grad(set_to_none=True)
    logits64, loss64 = forward_loss(m64, tokens, targets)
    loss64.backward()

    logp = torch.log_softmax(logits64.detach(), dim=-1)
    idx = targets.clamp(min=0)
    logprobs = logp.gather(-1, idx.unsqueeze(-1)).squeeze(-1)
    logprobs[targets < 0] = 0.0

    expect = {
        "tokens": tokens.to(torch.int32),
        "targets": targets.to(torch.int32),
        "logits": logits64.detach().to(torch.float32),
        "logprobs": logprobs.to(torch.float32),
        "loss": loss64.detach().reshape(1).to(torch.float32),
    }
    grad_names = []
    for name, p in m64.named_parameters():
        assert p.grad is not None, name
        expect["grad." + name] = p.grad.detach().to(torch.float32)
        grad_names.append(name)
    assert sorted(grad_names) == sorted(saved.keys()), (
        sorted(grad_names), sorted(saved.keys()))
    for name in grad_names:
        assert expect["grad." + name].shape == tuple(saved[name].shape), name
    expect = {k: v.contiguous() for k, v in expect.items()}
    torch_save_file(expect, os.path.join(out, "expect.safetensors"),
                    metadata={"format": "pt"})

    # Sanity: the float32 model reloaded from disk agrees with float64.
    m32 = cls.from_pretrained(out, attn_implementation="eager",
                              dtype=torch.float32)
    m32.eval()
    with torch.no_grad():
        logits32, loss32 = forward_loss(m32, tokens, targets)
    rel = abs(loss32.item() - loss64.item()) / abs(loss64.item())
    assert rel < 1e-4, (dirname, loss32.item(), loss64.item(), rel)
    lrel = ((logits32.double() - logits64.detach()).norm()
            / logits64.detach().norm()).item()
    assert lrel < 1e-4, (dirname, lrel)

    print(f"== {dirname}: loss64 = {loss64.item():.9f}  "
          f"loss32 = {loss32.item():.9f}  rel = {rel:.2e}  "
          f"logits rel-norm = {lrel:.2e}")
    print(f"  {os.path.relpath(out)}/model.safetensors:")
    for k in sorted(np_load_file(os.path.join(out, "model.safetensors"))):
        a = saved[k]
        print(f"    {k:50s} {str(a.dtype):8s} {list(a.shape)}")
    print(f"  {os.path.relpath(out)}/expect.safetensors:")
    ex = np_load_file(os.path.join(out, "expect.safetensors"))
    for k in sorted(ex):
        print(f"    {k:50s} {str(ex[k].dtype):8s} {list(ex[k].shape)}")
    for f in sorted(os.listdir(out)):
        fp = os.path.join(out, f)
        print(f"  wrote {os.path.relpath(fp)} ({os.path.getsize(fp)} bytes)")
    return loss64.item()


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    losses = {}
    for dirname, cls, cfgf, seed in MODELS:
        losses[dirname] = make(dirname, cls, cfgf, seed)

    readme = os.path.join(HERE, "README")
    with open(readme, "w") as f:
        f.write(
            "Reference fixtures for the C transformer trainer's LM tests.\n"
            "Made by gen-fixtures.py; rerun from the repository root with\n"
            "  bench/.venv/bin/python tests/data/lm/gen-fixtures.py\n"
            "\n"
            "gpt2/, llama/, llama-tied/: config.json and model.safetensors as\n"
            "transformers' save_pretrained writes them (float32, random\n"
            "weights with fixed seeds), and expect.safetensors: tokens and\n"
            "targets (int32 [2,8], target -1 = ignored, no shift), logits\n"
            "[2,8,101], logprobs [2,8], loss [1] (mean cross-entropy over the\n"
            "kept positions) and grad.<name> for every tensor in\n"
            "model.safetensors, all computed in float64 and stored as float32.\n"
            "See the header of gen-fixtures.py for details.\n"
            "\n"
            f"Made with python {sys.version.split()[0]}, "
            f"torch {torch.__version__}, "
            f"transformers {transformers.__version__}, "
            f"safetensors {safetensors.__version__}, "
            f"numpy {np.__version__}.\n"
            "\n"
            "Losses (float64):\n")
        for k, v in losses.items():
            f.write(f"  {k}: {v:.9f}\n")
    print(f"wrote {os.path.relpath(readme)} ({os.path.getsize(readme)} bytes)")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
