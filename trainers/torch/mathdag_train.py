#!/usr/bin/env python3
"""A Llama-style decoder trained on mathdag's packed token windows, with PyTorch alone.

Model (as in Llemma / Llama 2): token embeddings, pre-norm blocks of RMSNorm -> causal self-attention
with rotary position embeddings -> RMSNorm -> SwiGLU MLP, no biases, untied output head.
Optimiser: AdamW, linear warm-up then cosine decay, gradient clipping, gradient accumulation.
bf16 autocast on CUDA, fp32 on the CPU (seeded and deterministic there).

Talks to the engine through stdout, one JSON object per line:
  {"event": "start", ...}  {"event": "step", "step", "loss", "lr", "tokens_per_s", "device"}
  {"event": "checkpoint", "step"}  {"event": "done", ...}  {"event": "interrupted", "step"}
SIGINT / SIGTERM: the current step finishes, a checkpoint is written, exit code 130.

Input: --windows FILE, little-endian int32 token ids, --seq-len + 1 ids per window (the packed
windows of tokens/pack). Output (--out DIR): config.json in the Hugging Face LlamaForCausalLM
layout and model.safetensors (written here, by the format's definition: an 8-byte header length,
a JSON header of names, dtypes, shapes and byte offsets, then the raw little-endian tensors).
"""
import argparse
import json
import math
import os
import signal
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


# ---------------------------------------------------------------- model

class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rotary_tables(seq_len, head_dim, theta, device):
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim))
    angles = torch.outer(torch.arange(seq_len, device=device, dtype=torch.float32), inv)
    return torch.cos(angles), torch.sin(angles)


def rotate(x, cos, sin):
    # the "rotate half" layout of the Hugging Face Llama implementation, so exported weights load there
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    cos = torch.cat([cos, cos], dim=-1)[None, None, : x.shape[2]]
    sin = torch.cat([sin, sin], dim=-1)[None, None, : x.shape[2]]
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin


def attention(q, k, v):
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    # PyTorch < 2.0 (Debian bookworm ships 1.13): the same computation, written out
    t = q.shape[-2]
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    mask = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
    return torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1) @ v


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, h = cfg["hidden_size"], cfg["num_attention_heads"]
        self.heads = h
        self.input_layernorm = RMSNorm(d, cfg["rms_norm_eps"])
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.o_proj = nn.Linear(d, d, bias=False)
        self.post_attention_layernorm = RMSNorm(d, cfg["rms_norm_eps"])
        self.gate_proj = nn.Linear(d, cfg["intermediate_size"], bias=False)
        self.up_proj = nn.Linear(d, cfg["intermediate_size"], bias=False)
        self.down_proj = nn.Linear(cfg["intermediate_size"], d, bias=False)

    def forward(self, x, cos, sin):
        b, t, d = x.shape
        h = self.input_layernorm(x)
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q_proj(h)), split(self.k_proj(h)), split(self.v_proj(h))
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        a = attention(q, k, v).transpose(1, 2).reshape(b, t, d)
        x = x + self.o_proj(a)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids, last_only=False):
        x = self.embed_tokens(ids)
        head_dim = self.cfg["hidden_size"] // self.cfg["num_attention_heads"]
        cos, sin = rotary_tables(ids.shape[1], head_dim, self.cfg["rope_theta"], ids.device)
        for layer in self.layers:
            x = layer(x, cos, sin)
        if last_only:  # generation needs the next token only: skip the vocabulary-wide product elsewhere
            x = x[:, -1:, :]
        return self.lm_head(self.norm(x))

    def hf_state(self):
        """Parameters under the names transformers' LlamaForCausalLM uses."""
        out = {"model.embed_tokens.weight": self.embed_tokens.weight, "model.norm.weight": self.norm.weight, "lm_head.weight": self.lm_head.weight}
        for i, l in enumerate(self.layers):
            p = f"model.layers.{i}."
            out[p + "input_layernorm.weight"] = l.input_layernorm.weight
            out[p + "post_attention_layernorm.weight"] = l.post_attention_layernorm.weight
            for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
                out[p + f"self_attn.{name}.weight"] = getattr(l, name).weight
            for name in ("gate_proj", "up_proj", "down_proj"):
                out[p + f"mlp.{name}.weight"] = getattr(l, name).weight
        return out


def hf_config(args):
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": args.vocab,
        "hidden_size": args.width,
        "intermediate_size": args.ffn or 4 * args.width * 2 // 3 // 8 * 8 or 8,
        "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads,
        "num_key_value_heads": args.heads,
        "max_position_embeddings": args.seq_len,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": "float32",
    }


# ---------------------------------------------------------------- safetensors

DTYPES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16", torch.int64: "I64", torch.int32: "I32"}


def save_safetensors(tensors, path, metadata=None):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        # raw little-endian bytes of the tensor, through a byte view (no extra packages)
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # the data starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---------------------------------------------------------------- training

def lr_at(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * min(1.0, progress)))


def load_windows(path, seq_len):
    """The windows, memory-mapped: pages are read as batches touch them, so memory does not grow with the corpus."""
    size = os.path.getsize(path)
    width = seq_len + 1
    if size % (4 * width) != 0:
        raise SystemExit(f"error: {path} holds {size} bytes, not a whole number of windows of {width} int32 ids")
    if size == 0:
        return torch.zeros((0, width), dtype=torch.int32)
    # shared=True maps the file (MAP_SHARED) instead of reading it; nothing here writes to it
    return torch.from_file(path, shared=True, size=size // 4, dtype=torch.int32).view(-1, width)


def max_id(path, chunk_bytes=1 << 22):
    """The largest id in the file, read 4 MiB at a time (through the map, every page would stay resident)."""
    largest = -1
    with open(path, "rb") as f:
        while True:
            raw = f.read(chunk_bytes)
            if not raw:
                return largest
            largest = max(largest, int(torch.frombuffer(bytearray(raw), dtype=torch.int32).max()))


def save_checkpoint(path, model, opt, step, key, generator, losses):
    tmp = path + ".tmp"
    torch.save({"key": key, "step": step, "model": model.state_dict(), "opt": opt.state_dict(), "rng": generator.get_state(), "losses": losses}, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def train(args):
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda, but torch.cuda.is_available() is false (no GPU, or a CPU-only PyTorch)")
    torch.manual_seed(args.seed)
    if device == "cpu":
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(max(1, args.threads or os.cpu_count() or 1))
    windows = load_windows(args.windows, args.seq_len)
    if windows.shape[0] == 0:
        raise SystemExit("error: no windows to train on")
    largest = max_id(args.windows)
    if largest >= args.vocab:
        raise SystemExit(f"error: token id {largest} is outside the vocabulary of {args.vocab}")
    cfg = hf_config(args)
    model = Llama(cfg).to(device)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    generator = torch.Generator().manual_seed(args.seed)
    start = 0
    losses = []  # (step, loss) of every step so far, kept in checkpoints: a resumed run's curve is whole
    if args.checkpoint and os.path.exists(args.checkpoint):
        try:
            ck = torch.load(args.checkpoint, map_location=device)
            if ck.get("key") != args.key:
                emit("note", message=f"discarded the checkpoint in {args.checkpoint}: made for another cache key ({str(ck.get('key'))[:12]}), not this one ({args.key[:12]})")
            else:
                model.load_state_dict(ck["model"])
                opt.load_state_dict(ck["opt"])
                generator.set_state(ck["rng"])
                start = ck["step"]
                losses = list(ck.get("losses", []))
                emit("note", message=f"resuming from the checkpoint of step {start} in {args.checkpoint}")
        except Exception as e:  # a damaged checkpoint is set aside, never fatal
            emit("note", message=f"discarded the checkpoint in {args.checkpoint}: it does not load ({e})")
    params = sum(p.numel() for p in model.parameters())
    emit("start", device=device, parameters=params, windows=int(windows.shape[0]), start_step=start, torch=torch.__version__)

    stop = {"signal": None}

    def on_signal(signum, _frame):
        stop["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    amp = torch.autocast(device_type="cuda", dtype=torch.bfloat16) if device == "cuda" else None
    n = windows.shape[0]
    tokens_per_step = args.batch * args.accumulate * args.seq_len
    started = time.time()
    done_tokens = 0
    loss_value = float("nan")
    step = start
    for step in range(start, args.steps):
        if stop["signal"] is not None:
            if args.checkpoint:
                save_checkpoint(args.checkpoint, model, opt, step, args.key, generator, losses)
            emit("interrupted", step=step)
            sys.exit(130)
        lr = lr_at(step, args)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for _ in range(args.accumulate):
            idx = torch.randint(0, n, (args.batch,), generator=generator)
            batch = windows[idx].long().to(device, non_blocking=True)
            x, y = batch[:, :-1], batch[:, 1:]
            if amp:
                with amp:
                    logits = model(x)
            else:
                logits = model(x)
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1)) / args.accumulate
            loss.backward()
            total += loss.item()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        loss_value = total
        if not math.isfinite(loss_value):
            raise SystemExit(f"error: loss became {loss_value} at step {step + 1}; lower the learning rate")
        losses.append([step + 1, loss_value])
        done_tokens += tokens_per_step
        elapsed = max(1e-9, time.time() - started)
        emit("step", step=step + 1, loss=loss_value, lr=lr, tokens_per_s=done_tokens / elapsed, device=device)
        if args.checkpoint and (step + 1) % args.checkpoint_every == 0 and step + 1 < args.steps:
            save_checkpoint(args.checkpoint, model, opt, step + 1, args.key, generator, losses)
            emit("checkpoint", step=step + 1)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    with open(os.path.join(args.out, "losses.json"), "w") as f:
        json.dump(losses, f)
    save_safetensors(model.hf_state(), os.path.join(args.out, "model.safetensors"), {"format": "pt", "mathdag_key": args.key})
    elapsed = time.time() - started
    # model FLOPs per token: 6 × parameters (forward and backward) + attention's 12 × layers × width × seq_len
    flops = (6 * params + 12 * args.layers * args.width * args.seq_len) * done_tokens
    emit("done", step=args.steps, loss=loss_value, seconds=elapsed, tokens=done_tokens, tokens_per_s=done_tokens / max(1e-9, elapsed), flops=flops, parameters=params, device=device)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--windows", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--checkpoint", default="")
    ap.add_argument("--key", default="")
    ap.add_argument("--seq-len", type=int, required=True)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--ffn", type=int, default=0)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--accumulate", type=int, default=1)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--checkpoint-every", type=int, default=50)
    ap.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    train(args)


if __name__ == "__main__":
    main()
