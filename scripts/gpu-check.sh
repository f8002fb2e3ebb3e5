#!/usr/bin/env bash
# GPU check for the PyTorch trainer alone (no Node.js needed): trains a ~100M-parameter Llama-style
# model on random token windows for about 2 minutes and prints one line
#   BENCH train_gpu device=… params_m=… tokens_per_s=… mfu_pct=… final_loss=…
# Model FLOP utilisation = 6·N·tokens (+ attention) / seconds / the GPU's dense bf16 peak
# (PEAK_TFLOPS, default 989: H100/H200 SXM). Usage: bash scripts/gpu-check.sh [STEPS]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
steps="${1:-300}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work/windows.i32" <<'PY'
import sys, torch
g = torch.Generator().manual_seed(1)
# 4,096 windows of 1,025 ids (seq_len 1,024) from the Llama-2 vocabulary
torch.randint(0, 32000, (4096, 1025), generator=g, dtype=torch.int32).numpy().tofile(sys.argv[1])
PY
python3 -u "$here/trainers/torch/mathdag_train.py" --windows "$work/windows.i32" --out "$work/out" --seq-len 1024 \
  --vocab 32000 --layers 12 --heads 12 --width 768 --batch 32 --accumulate 1 --steps "$steps" --lr 6e-4 --warmup 20 \
  --device cuda | tee "$work/log.jsonl" | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "step" and e["step"] % 50 == 0:
        print(f"step {e[\"step\"]} loss {e[\"loss\"]:.3f} {e[\"tokens_per_s\"]:.0f} tokens/s", file=sys.stderr)
'
python3 - "$work/log.jsonl" "${PEAK_TFLOPS:-989}" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
done = next(e for e in events if e["event"] == "done")
start = next(e for e in events if e["event"] == "start")
mfu = done["flops"] / done["seconds"] / (float(sys.argv[2]) * 1e12) * 100
print(f"BENCH train_gpu device={done['device']} params_m={done['parameters'] / 1e6:.1f} tokens_per_s={done['tokens_per_s']:.0f} mfu_pct={mfu:.1f} final_loss={done['loss']:.3f} torch={start['torch']}")
PY
