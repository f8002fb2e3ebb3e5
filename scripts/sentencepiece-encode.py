"""Encodes JSON Lines of strings on stdin with SentencePiece and prints one JSON id array per line.

Used by the tokenizer parity test and the tokenize benchmark:
  python3 scripts/sentencepiece-encode.py MODEL [--time] < strings.jsonl
With --time it prints only the seconds spent in encode(), for MB/s figures.
"""
import json
import sys
import time

import sentencepiece

model = sentencepiece.SentencePieceProcessor(model_file=sys.argv[1])
texts = [json.loads(line) for line in sys.stdin if line.strip()]
start = time.perf_counter()
ids = [model.encode(t) for t in texts]
elapsed = time.perf_counter() - start
if "--time" in sys.argv:
    print(json.dumps({"seconds": elapsed, "bytes": sum(len(t.encode("utf-8")) for t in texts)}))
else:
    for row in ids:
        print(json.dumps(row))
