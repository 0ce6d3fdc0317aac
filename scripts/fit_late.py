"""Fit the late-interaction projection (index/late.py) and choose its weight: `make fit` runs it first.

Usage: python scripts/fit_late.py [--dims 64] [--depth 30]

- Projection: the first `--dims` principal axes of the built-in corpus's passage token vectors (the adapted e5's
  last layer; every third token, centred). Unsupervised: no question is read. A projection trained on the bank
  (listwise loss over the first 30 passages, d = 128, 4 epochs, 5 folds by section) did worse than this one
  (passages 0.776 against 0.786 on the train sections), and the full 384 dimensions no better (0.786 / 0.816).
- Weight: the share of the late score among the first `--depth` fused passages, chosen on the bank's train
  sections only (passage and figure questions, evidence in the first three chunks); the sealed sections are
  never read here.
Deterministic: the same corpus and model give the same files.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402
from eval_retrieval_bank import DOCUMENTS, Question, answers  # noqa: E402

from index.encoders import make_encoder  # noqa: E402
from index.late import LATE_DIR, LateInteraction, PackedTokens  # noqa: E402
from index.store import HybridIndex, model_key  # noqa: E402
from index.units import search_text  # noqa: E402
from ingest.corpus import load_corpus  # noqa: E402

WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, default=64)
    ap.add_argument("--depth", type=int, default=30)
    ap.add_argument("--model", default="multilingual-e5-small-cep")
    args = ap.parse_args()
    from tools import bank

    encoder = make_encoder(args.model)
    corpus = load_corpus(DOCUMENTS)
    _, states = encoder.encode_with_tokens([search_text(c) for c in corpus.chunks], query=False)
    tokens = np.concatenate(states)
    sample = tokens[::3] - tokens[::3].mean(axis=0)
    _, _, vt = np.linalg.svd(sample.astype(np.float64), full_matrices=False)
    axes = vt[: args.dims].T
    axes *= np.sign(axes[np.abs(axes).argmax(axis=0), range(args.dims)])  # one sign per axis, whatever the solver
    probe = LateInteraction(axes.astype(np.float32), 0.0, args.depth, model_key(encoder))
    packed = PackedTokens.pack([probe.project(s) for s in states], probe)

    index = HybridIndex.build(corpus.chunks, encoder, late=False)
    items = [it for it in bank.load(ROOT, corpus) if it.split == "train" and it.kind in ("passage", "figure")]
    _, qstates = encoder.encode_with_tokens([it.question for it in items], query=True)
    right = {w: {"passage": [0, 0], "figure": [0, 0]} for w in WEIGHTS}
    for it, qs in zip(items, qstates, strict=True):
        q = Question(it.question, it.kind, it.document, it.line, it.quote)
        fused = index.scores(it.question)
        projected = probe.project(qs)
        for w in WEIGHTS:
            late = LateInteraction(probe.projection, w, args.depth, probe.encoder)
            scores = late.rescore(projected, packed, fused) if w > 0 else fused
            top = np.argsort(-scores, kind="stable")[:3]
            cell = right[w][it.kind]
            cell[0] += any(answers(corpus.chunks[j], q) for j in top)
            cell[1] += 1
    rates = {w: {k: round(v[0] / max(v[1], 1), 4) for k, v in cells.items()} for w, cells in right.items()}
    best = max(WEIGHTS, key=lambda w: (sum(v[0] for v in right[w].values()), -w))
    measured = {
        "how": "top-3 chunks on the bank's train sections (raw question, fused search, then the late rescoring)",
        "questions": {k: v[1] for k, v in right[0.0].items()},
        "by_weight": {str(w): r for w, r in rates.items()},
        "dims": args.dims,
    }
    LateInteraction(probe.projection, best, args.depth, probe.encoder).save(LATE_DIR, measured)
    for w in WEIGHTS:
        print(f"weight {w}: {rates[w]}")
    print(f"late_interaction: dims {args.dims}, depth {args.depth}, weight {best}: {rates[best]} (none: {rates[0.0]})")


if __name__ == "__main__":
    main()
