"""Refit every learned artefact from data in the repository: `make fit`.

Usage: python scripts/fit.py [--only figure_detector,routing_detector,figure_ranker,situation_slots]

Each artefact goes to knowledge/ with a manifest (data hash, base model, seed, cross-validated scores) and
nothing else that changes from one run to the next (no date, no path): run twice, the files are identical.
The app and the CLI only load them; nothing is fitted at load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")  # a fixed thread count: the same sums in the same order
os.environ.setdefault("MKL_NUM_THREADS", "2")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from assistant import learned  # noqa: E402
from assistant.settings import Settings  # noqa: E402

KNOWLEDGE = ROOT / "knowledge"
SEED = 0


def fit_figure_detector() -> str:
    """Is this a figure question? TF-IDF n-grams + logistic regression, 5-fold CV reported."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from assistant.figures.detect import (
        DETECTOR,
        EXAMPLES,
        FIGURE_QUESTIONS,
        FigureQuestionDetector,
        labeled_questions,
        make_classifier,
    )

    texts, labels = labeled_questions(KNOWLEDGE)
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    cv = float(cross_val_score(make_classifier(), texts, labels, cv=folds).mean())
    detector = FigureQuestionDetector.fit(texts, labels)
    manifest = {
        "artefact": "figure question detector",
        "data_sha256": learned.data_hash(KNOWLEDGE / FIGURE_QUESTIONS, KNOWLEDGE / EXAMPLES),
        "n": len(texts),
        "seed": SEED,
        "cv_accuracy_5fold": round(cv, 4),
    }
    learned.save(KNOWLEDGE / DETECTOR, manifest, detector.params())
    return f"figure_detector: n={len(texts)} CV accuracy {cv:.3f}"


def fit_routing_detector() -> str:
    """Is this a routing question? e5 embedding + situation signals, logistic regression, 5-fold CV reported."""
    from assistant.routing import Router
    from assistant.routing.detector import bank_vectors, cross_validate
    from assistant.routing.engine import DETECTOR, EXAMPLES
    from assistant.routing.examples import load_examples
    from index.encoders import make_encoder
    from ingest.corpus import load_corpus

    settings = Settings()
    encoder = make_encoder(settings.model_name)
    router = Router.load(KNOWLEDGE, load_corpus(settings.corpus_dir))
    bank = load_examples(KNOWLEDGE / EXAMPLES)
    vectors = bank_vectors(encoder, bank)
    signals = np.stack([router.signals(t) for t in bank.texts])
    cv = cross_validate(vectors, signals, bank.labels, seed=SEED)
    detector = router.fit_detector(encoder, KNOWLEDGE / EXAMPLES)
    manifest = {
        "artefact": "routing question detector",
        "data_sha256": learned.data_hash(KNOWLEDGE / EXAMPLES, KNOWLEDGE / "routing_lexicon.toml"),
        "model": encoder.fingerprint,
        "n": cv.n,
        "seed": SEED,
        "cv_accuracy_5fold": round(cv.accuracy, 4),
        "cv_precision": round(cv.precision, 4),
        "cv_recall": round(cv.recall, 4),
    }
    learned.save(KNOWLEDGE / DETECTOR, manifest, detector.params())
    return f"routing_detector: {cv}"


def fit_figure_ranker() -> str:
    """The listwise figure ranker and its calibrated levels (scripts/fit_figure_ranker.py)."""
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "fit_figure_ranker.py")], capture_output=True,
                         text=True, check=True)
    return "figure_ranker: " + (out.stdout.strip().splitlines() or [""])[-1]


STEPS = {
    "figure_detector": fit_figure_detector,
    "routing_detector": fit_routing_detector,
    "figure_ranker": fit_figure_ranker,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(STEPS), help="comma-separated steps: " + ", ".join(STEPS))
    args = ap.parse_args()
    for name in args.only.split(","):
        start = time.perf_counter()
        print(STEPS[name.strip()](), f"({time.perf_counter() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
