#!/usr/bin/env python3
"""Measure routing on a gold set: extract + route each routing question, print metrics and misses.

Usage: python scripts/eval_routing.py [GOLD.jsonl] [--questions FILE] [-v] [--out ANSWERS.jsonl]
Also checks that is_routing_question says False on the other kinds (figure, passage, out_of_scope,
not_routing). `end-to-end` counts a routing question right only when it is also detected as one
(what the pipeline does); strict and lenient route every routing question whatever the detection.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation import score, supports  # noqa: E402
from assistant.routing import Router  # noqa: E402
from assistant.settings import Settings  # noqa: E402
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
    args = parser.parse_args()
    settings = Settings.from_env()
    router = Router.load(settings.knowledge_dir, load_corpus(settings.corpus_dir))
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


if __name__ == "__main__":
    raise SystemExit(main())
