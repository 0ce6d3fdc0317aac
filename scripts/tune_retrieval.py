"""Measure retrieval cited@3 on a question file for chunk sizes, modes and fusion weights.

Usage: python scripts/tune_retrieval.py ../shared/eval/dev.jsonl [--sizes 400,700,1000] [--weights 0,0.2,0.35,0.5,1]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from assistant.evaluation import read_jsonl, supports
from assistant.settings import Settings
from index.encoders import make_encoder
from index.store import HybridIndex
from ingest.corpus import load_corpus


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions")
    ap.add_argument("--sizes", default="700")
    ap.add_argument("--weights", default="0,0.2,0.35,0.5,1")
    ap.add_argument("--k", type=int, default=3)
    args = ap.parse_args()
    settings = Settings.from_env()
    gold = read_jsonl(Path(args.questions))
    gold = [g for g in gold if g["kind"] in ("passage", "figure", "routing")]
    encoder = make_encoder(settings.model_name)
    for size in [int(s) for s in args.sizes.split(",")]:
        corpus = load_corpus(settings.corpus_dir, target_chars=size)
        t = time.perf_counter()
        index = HybridIndex.build(corpus.chunks, encoder)
        print(f"size={size} chunks={len(corpus.chunks)} build={time.perf_counter() - t:.1f}s")
        for w in [float(x) for x in args.weights.split(",")]:
            res: dict[str, list[int]] = {}
            for g in gold:
                hits = index.search(g["question"], k=args.k, dense_weight=w)
                ok = any(supports(h.chunk.quote, g["evidence"]) for h in hits)
                res.setdefault(g["kind"], []).append(int(ok))
            print(f"  w_dense={w:.2f} " + " ".join(f"{k}={sum(v) / len(v):.3f}" for k, v in sorted(res.items())))


if __name__ == "__main__":
    main()
