#!/usr/bin/env python3
"""Serves a model written by mathdag_train.py on 127.0.0.1 with an OpenAI-compatible completions API.

    python3 mathdag_serve.py --model DIR_OR_SAFETENSORS [--config config.json] [--tokenizer tokenizer.json]

POST /v1/completions takes the fields mathdag's evaluation sends and most clients use:
  prompt       a string, a list of token ids, or a list of either (a batch)
  max_tokens   new tokens per completion (0 with echo: only score the prompt)
  temperature  0 = greedy; otherwise softmax sampling at that temperature
  n            completions per prompt (sampled together, as one batch)
  stop         strings that end a completion (not included in the text)
  echo, logprobs   with echo, choices[].logprobs.token_logprobs holds the log-probability of every
                   prompt token given the ones before (the first is null): perplexity over HTTP
  seed         makes sampling repeatable
GET /v1/models lists the one model; GET /health answers "ok".

The first line on stdout is {"event": "serving", "port": P, ...} once the socket listens (--port 0
picks a free port). Only PyTorch and the standard library are used; the tokenizer is read from the
Hugging Face tokenizer.json written beside the model (BPE with byte fallback, as Llama 2).
"""
import argparse
import json
import os
import re
import signal
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mathdag_train import Llama  # noqa: E402  (the same model definition as training)

SPACE = "\u2581"
BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def load_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] not in DTYPES:
            raise SystemExit(f"error: {path}: tensor {name} has dtype {meta['dtype']}, not one of {', '.join(DTYPES)}")
        a, b = meta["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=DTYPES[meta["dtype"]]).reshape(meta["shape"]) if b > a else torch.zeros(meta["shape"])
    return out


class Tokenizer:
    """Llama-2 BPE from a tokenizer.json: merges by rank, leftmost first; unknown characters as bytes."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            model = json.load(f)["model"]
        self.ids = model["vocab"]
        self.pieces = [""] * (max(self.ids.values()) + 1)
        for p, i in self.ids.items():
            self.pieces[i] = p
        self.rank = {}
        for r, line in enumerate(model["merges"]):
            left, right = (line if isinstance(line, list) else line.split(" ", 1))
            self.rank.setdefault((left, right), r)
        self.byte_ids = [self.ids.get(f"<0x{b:02X}>", 0) for b in range(256)]
        self.cache = {}

    def _word(self, word):
        if word in self.cache:
            return self.cache[word]
        syms = list(word)
        while len(syms) > 1:
            best, at = None, -1
            for i in range(len(syms) - 1):
                r = self.rank.get((syms[i], syms[i + 1]))
                if r is not None and (best is None or r < best) and syms[i] + syms[i + 1] in self.ids:
                    best, at = r, i
            if at < 0:
                break
            syms[at : at + 2] = [syms[at] + syms[at + 1]]
        out = []
        for s in syms:
            if s in self.ids:
                out.append(self.ids[s])
            else:
                out.extend(self.byte_ids[b] for b in s.encode("utf-8"))
        if len(self.cache) < 100_000:
            self.cache[word] = out
        return out

    def encode(self, text):
        if not text:
            return []
        s = SPACE + text.replace(" ", SPACE)
        # words start at a "▁" that follows another character: no merge crosses such a start
        words = re.findall(SPACE + "*[^" + SPACE + "]*", s)
        return [i for w in words if w for i in self._word(w)]

    def decode(self, ids):
        raw = bytearray()
        for i in ids:
            p = self.pieces[i] if 0 <= i < len(self.pieces) else ""
            if p in ("<unk>", "<s>", "</s>"):
                continue
            m = BYTE_PIECE.match(p)
            raw.extend(bytes([int(m.group(1), 16)]) if m else p.replace(SPACE, " ").encode("utf-8"))
        return raw.decode("utf-8", errors="replace")


class Model:
    def __init__(self, weights, config, tokenizer, device):
        with open(config) as f:
            self.cfg = json.load(f)
        self.device = device
        self.model = Llama(self.cfg)
        tensors = load_safetensors(weights)
        targets = self.model.hf_state()
        missing = sorted(set(targets) - set(tensors))
        if missing:
            raise SystemExit(f"error: {weights} lacks {len(missing)} tensor(s) of this config, e.g. {missing[0]}")
        with torch.no_grad():
            for name, p in targets.items():
                if tuple(tensors[name].shape) != tuple(p.shape):
                    raise SystemExit(f"error: {weights}: {name} has shape {list(tensors[name].shape)}, the config wants {list(p.shape)}")
                p.copy_(tensors[name].float())
        self.model.to(device).eval()
        self.tok = Tokenizer(tokenizer)
        self.eos = self.cfg.get("eos_token_id", 2)

    @torch.no_grad()
    def score(self, prompts):
        """token_logprobs of each prompt (first null), batched by length."""
        out = [None] * len(prompts)
        by_len = {}
        for i, p in enumerate(prompts):
            by_len.setdefault(len(p), []).append(i)
        for length, idx in by_len.items():
            if length < 2:
                for i in idx:
                    out[i] = [None] * length
                continue
            for s in range(0, len(idx), 16):
                part = idx[s : s + 16]
                ids = torch.tensor([prompts[i] for i in part], dtype=torch.long, device=self.device)
                logp = torch.log_softmax(self.model(ids[:, :-1]).float(), dim=-1)
                got = logp.gather(-1, ids[:, 1:, None])[..., 0].cpu().tolist()
                for j, i in enumerate(part):
                    out[i] = [None] + got[j]
        return out

    @torch.no_grad()
    def generate(self, prompt, n, max_tokens, temperature, stop, generator):
        """n completions of one prompt, sampled together; returns (text, finish_reason, new ids) each."""
        ctx = int(self.cfg.get("max_position_embeddings", 4096))
        ids = torch.tensor([prompt] * n, dtype=torch.long, device=self.device)
        new = [[] for _ in range(n)]
        done = [None] * n
        for _ in range(max_tokens):
            logits = self.model(ids[:, -ctx:], last_only=True)[:, -1, :].float()
            if temperature > 0:
                probs = torch.softmax(logits / temperature, dim=-1).cpu()
                nxt = torch.multinomial(probs, 1, generator=generator)[:, 0]
            else:
                nxt = logits.argmax(-1).cpu()
            for r in range(n):
                if done[r] is not None:
                    continue
                t = int(nxt[r])
                if t == self.eos:
                    done[r] = "stop"
                    continue
                new[r].append(t)
                if stop and any(s in self.tok.decode(new[r]) for s in stop):
                    done[r] = "stop"
            if all(d is not None for d in done):
                break
            ids = torch.cat([ids, nxt.to(self.device)[:, None]], dim=1)
        results = []
        for r in range(n):
            text = self.tok.decode(new[r])
            for s in stop:
                cut = text.find(s)
                if cut >= 0:
                    text = text[:cut]
            results.append((text, done[r] or "length", new[r]))
        return results


class BadRequest(Exception):
    pass


def completions(model, name, body, counter):
    prompt = body.get("prompt", "")
    if isinstance(prompt, str) or (isinstance(prompt, list) and prompt and all(isinstance(t, int) for t in prompt)):
        prompts = [prompt]
    elif isinstance(prompt, list) and all(isinstance(p, (str, list)) for p in prompt):
        prompts = list(prompt)
    else:
        raise BadRequest("prompt must be a string, a list of token ids, or a list of either")
    ids = [model.tok.encode(p) if isinstance(p, str) else [int(t) for t in p] for p in prompts]
    vocab = model.cfg["vocab_size"]
    for p in ids:
        if any(t < 0 or t >= vocab for t in p):
            raise BadRequest(f"token ids must be in [0, {vocab})")
    max_tokens = int(body.get("max_tokens", 16))
    n = int(body.get("n", 1))
    temperature = float(body.get("temperature", 1.0))
    stop = body.get("stop") or []
    stop = [stop] if isinstance(stop, str) else [str(s) for s in stop]
    echo = bool(body.get("echo", False))
    want_logprobs = body.get("logprobs") is not None
    if max_tokens < 0 or n < 1 or n > 128 or temperature < 0:
        raise BadRequest("max_tokens ≥ 0, 1 ≤ n ≤ 128 and temperature ≥ 0 are required")
    seed = body.get("seed")
    generator = torch.Generator().manual_seed(int(seed) if seed is not None else counter)
    scored = model.score(ids) if echo and want_logprobs else None
    choices, generated = [], 0
    for pi, p in enumerate(ids):
        outs = model.generate(p, n, max_tokens, temperature, stop, generator) if max_tokens > 0 else [("", "length", [])] * n
        for text, reason, new in outs:
            generated += len(new)
            choice = {"index": len(choices), "text": (prompts[pi] if echo and isinstance(prompts[pi], str) else "") + text, "finish_reason": reason, "logprobs": None}
            if scored is not None:
                choice["logprobs"] = {"tokens": [model.tok.pieces[t] for t in p], "token_logprobs": scored[pi], "top_logprobs": None, "text_offset": None}
            choices.append(choice)
    return {
        "id": f"cmpl-{counter}",
        "object": "text_completion",
        "model": name,
        "choices": choices,
        "usage": {"prompt_tokens": sum(len(p) for p in ids), "completion_tokens": generated, "total_tokens": sum(len(p) for p in ids) + generated},
    }


def make_handler(model, name):
    state = {"counter": 0}
    # one request computes at a time (a model's forward pass is not shared between threads); the
    # server itself is threaded, so a client's idle keep-alive connection never blocks another's
    busy = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):  # requests are not logged: stdout is the engine's channel
            pass

        def reply(self, status, obj):
            raw = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self):
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                return self.reply(200, {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "mathdag"}]})
            if self.path == "/health":
                return self.reply(200, {"status": "ok"})
            self.reply(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

        def do_POST(self):
            try:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return self.reply(400, {"error": {"message": "the body is not JSON", "type": "invalid_request_error"}})
            if self.path.rstrip("/") not in ("/v1/completions", "/completions"):
                return self.reply(404, {"error": {"message": f"no route {self.path}; use /v1/completions", "type": "not_found"}})
            try:
                with busy:
                    state["counter"] += 1
                    result = completions(model, name, body, state["counter"])
                self.reply(200, result)
            except (BadRequest, TypeError, ValueError) as e:
                self.reply(400, {"error": {"message": str(e), "type": "invalid_request_error"}})
            except Exception as e:  # the server keeps serving; the client sees why
                self.reply(500, {"error": {"message": f"{type(e).__name__}: {e}", "type": "server_error"}})

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="model.safetensors, or the folder holding it with config.json and tokenizer.json")
    ap.add_argument("--config", default="")
    ap.add_argument("--tokenizer", default="")
    ap.add_argument("--name", default="mathdag-torch")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    folder = args.model if os.path.isdir(args.model) else os.path.dirname(args.model)
    weights = os.path.join(args.model, "model.safetensors") if os.path.isdir(args.model) else args.model
    config = args.config or os.path.join(folder, "config.json")
    tokenizer = args.tokenizer or os.path.join(folder, "tokenizer.json")
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    if args.threads:
        torch.set_num_threads(args.threads)
    model = Model(weights, config, tokenizer, device)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(model, args.name))
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    emit("serving", host=args.host, port=server.server_address[1], device=device, model=args.name, parameters=sum(p.numel() for p in model.model.parameters()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
