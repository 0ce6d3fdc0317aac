#!/usr/bin/env python3
"""Measure routing on a gold set: extract + route each routing question, print metrics and misses.

Usage: python scripts/eval_routing.py [GOLD.jsonl] [--questions FILE] [-v] [--out ANSWERS.jsonl]
                                      [--model NAME | --model none] [--cv]
Also checks that is_routing_question says False on the other kinds (figure, passage, out_of_scope,
not_routing). `end-to-end` counts a routing question right only when it is also detected as one
(what the pipeline does); strict and lenient route every routing question whatever the detection.
The detector is fitted on knowledge/routing_examples.jsonl with the model CEP_MODEL names (--model
to choose another, "none" for the lexicon's cues alone). --cv prints its 5-fold cross-validation on
the bank (5-fold, mean of 5 shuffles) for a grid of C, signal scales and thresholds, and the operators
the router gives the bank's examples.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from assistant.evaluation import score, supports  # noqa: E402
from assistant.routing import Router  # noqa: E402
from assistant.routing.detector import SIGNAL_SCALE, C, bank_vectors, cross_validate  # noqa: E402
from assistant.routing.engine import EXAMPLES  # noqa: E402
from assistant.routing.examples import load_examples  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from index.encoders import make_encoder  # noqa: E402
from ingest.corpus import load_corpus  # noqa: E402

DEFAULT_GOLD = ROOT.parent / "shared" / "eval" / "dev.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="?", type=Path, default=None)
    parser.add_argument(
        "--questions", type=Path, help="gold file to read (e.g. tests/data/routing_heldout.jsonl); default dev.jsonl"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every answer")
    parser.add_argument("--out", type=Path, help="write the answers as JSONL (for the shared score.py)")
    parser.add_argument("--model", help="encoder of the detector (default CEP_MODEL; none: lexicon cues only)")
    parser.add_argument("--cv", action="store_true", help="cross-validate the detector on the example bank")
    args = parser.parse_args()
    settings = Settings.from_env()
    model = args.model or settings.model_name
    encoder = None if model == "none" else make_encoder(model)
    cache = settings.index_dir / "routing"
    router = Router.load(settings.knowledge_dir, load_corpus(settings.corpus_dir), encoder, cache)
    if args.cv and encoder is not None:
        cross_validation(router, encoder, settings.knowledge_dir / EXAMPLES, cache)
    path = args.questions or args.gold or DEFAULT_GOLD
    gold = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    routing = [g for g in gold if g["kind"] == "routing"]
    answers: dict[str, dict] = {}
    not_detected: list[str] = []
    end_to_end = 0
    started = time.perf_counter()
    for g in routing:
        sit = router.extract(g["question"])
        detected = router.is_routing_question(g["question"], sit)
        if not detected:
            not_detected.append(g["id"])
        a = router.route(sit, g["question"])
        answers[g["id"]] = {**a.to_dict(), "id": g["id"]}
        top = a.operators[0].id if a.operators else None
        end_to_end += detected and top == g["primary"]
        cited = any(supports(c.quote, g["evidence"]) for c in a.citations[:3])
        if args.verbose or top != g["primary"] or not cited or not detected:
            print(f"{g['id']} {a.intent} got={top} want={g['primary']} cited@3={cited} detected={detected}")
            print(f"   Q: {g['question']}\n   situation: {sit.known()}\n   A: {a.text}")
    elapsed = (time.perf_counter() - started) * 1000 / max(len(routing), 1)
    false_pos = [
        g["id"]
        for g in gold
        if g["kind"] != "routing" and router.is_routing_question(g["question"], router.extract(g["question"]))
    ]
    for g in gold:
        if g["id"] in false_pos:
            print(f"{g['id']} false positive ({g['kind']}): {g['question']}")
    if args.out:
        args.out.write_text(
            "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in answers.values()), encoding="utf-8"
        )
    result = score(routing, answers)
    r = result["kinds"].get("routing", {"n": 0})
    n = r["n"] or 1
    print(
        f"routing n={r['n']} strict={r['ok'] / n:.3f} lenient={r['lenient'] / n:.3f} "
        f"wrong={r['wrong'] / n:.3f} cited@3={r['cited'] / n:.3f} end-to-end={end_to_end / n:.3f} "
        f"faithfulness_violations={result['faithfulness_violations']}/{result['faithfulness_n']} "
        f"({elapsed:.1f} ms/question)"
    )
    print(
        f"is_routing_question: missed {len(not_detected)}/{len(routing)} {not_detected}; "
        f"false positives {len(false_pos)}/{len(gold) - len(routing)} {false_pos}"
    )
    return 0


def cross_validation(router: Router, encoder, path: Path, cache: Path) -> None:
    """5-fold detection scores on the bank, the misclassified examples, and the bank's operators."""
    bank = load_examples(path)
    vectors = bank_vectors(encoder, bank, cache)
    signals = np.stack([router.signals(t) for t in bank.texts])

    def mean(c: float, scale: float, threshold: float) -> str:
        runs = [
            cross_validate(vectors, signals, bank.labels, c=c, signal_scale=scale, seed=seed).at(threshold)
            for seed in range(5)
        ]
        scores = {k: np.mean([getattr(r, k) for r in runs]) for k in ("accuracy", "precision", "recall")}
        return " ".join(f"{k}={v:.3f}" for k, v in scores.items())

    for c in (4.0, 16.0, 64.0, 256.0):
        for scale in (0.0, 1.0, 2.0):
            for threshold in (0.5, 0.7):
                print(f"cv C={c:<5} signal_scale={scale} threshold={threshold}: {mean(c, scale, threshold)}")
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        print(f"cv defaults threshold={threshold}: {mean(C, SIGNAL_SCALE, threshold)}")
    cv = cross_validate(vectors, signals, bank.labels)
    print(f"cv (defaults, one shuffle): {cv}")
    for i in cv.wrong:
        e = bank.examples[i]
        print(f"   cv miss ({'routing' if e.routing else e.kind}): {e.text}")
    wrong = 0
    labeled = [e for e in bank.examples if e.routing and e.operator]
    for e in labeled:
        answer = router.route(router.extract(e.text), e.text)
        top = answer.operators[0].id if answer.operators else None
        if top != e.operator:
            wrong += 1
            print(f"   bank operator: got={top} want={e.operator} ({answer.intent}) {e.text}")
    print(f"bank operators: {len(labeled) - wrong}/{len(labeled)} right (first operator, provisional included)")


if __name__ == "__main__":
    raise SystemExit(main())
