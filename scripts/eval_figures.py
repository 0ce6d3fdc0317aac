"""Measure the figure engine on the dev set: BM25 hits over the corpus chunks, then the official scorer.

Usage: python scripts/eval_figures.py [--no-hits] [--gold PATH] [-v]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.figures import FigureEngine  # noqa: E402
from assistant.records import Answer, Chunk, Hit  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.text import tokens  # noqa: E402
from ingest.corpus import load_corpus  # noqa: E402
from ingest.facts import extract_facts  # noqa: E402

DEFAULT_GOLD = Path("/work/shared/eval/dev.jsonl")


class BM25:
    """A plain BM25 over chunk tokens, standing in for the hybrid index."""

    def __init__(self, chunks: list[Chunk], k1: float = 1.2, b: float = 0.75) -> None:
        self.chunks = chunks
        self.docs = [Counter(tokens(f"{c.context} {c.text}")) for c in chunks]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / max(len(self.lengths), 1)
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(chunks)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.k1, self.b = k1, b

    def search(self, text: str, k: int = 5) -> list[Hit]:
        q = tokens(text)
        scores = []
        for i, d in enumerate(self.docs):
            s = 0.0
            for t in q:
                f = d.get(t)
                if f:
                    s += (
                        self.idf[t]
                        * f
                        * (self.k1 + 1)
                        / (f + self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg))
                    )
            scores.append((s, i))
        scores.sort(reverse=True)
        return [Hit(self.chunks[i], s) for s, i in scores[:k] if s > 0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    ap.add_argument("--no-hits", action="store_true")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    settings = Settings()
    t0 = time.perf_counter()
    corpus = load_corpus(settings.corpus_dir)
    facts = extract_facts(corpus, settings.knowledge_dir)
    engine = FigureEngine(facts, corpus, settings.knowledge_dir)
    bm25 = BM25(corpus.chunks)
    elapsed = time.perf_counter() - t0
    print(f"build: {len(facts.facts)} facts, {len(facts.tables)} tables, {elapsed:.1f}s; errors={facts.errors}")
    gold = [json.loads(line) for line in args.gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    gold = [g for g in gold if g["kind"] in ("figure", "out_of_scope")]
    answers = {}
    not_figure = 0
    for g in gold:
        hits = [] if args.no_hits else bm25.search(g["question"])
        a = engine.answer(g["question"], hits) if engine.is_figure_question(g["question"]) else None
        if a is None:
            not_figure += 1
            a = Answer(question=g["question"], intent="passage", text="")
        d = a.to_dict()
        d["id"] = g["id"]
        answers[g["id"]] = d
        fig = d["figure"] or {}
        want = g.get("number")
        status = (
            "ok"
            if want is not None
            and fig.get("value") is not None
            and abs(fig["value"] - want) < 1e-6 * max(1, abs(want))
            else "--"
        )
        if args.v or status != "ok":
            print(f"{g['id']} [{g['kind']}] {a.intent} got={fig.get('value')} want={want} :: {g['question']}")
            if args.v:
                print("     text:", a.text[:200])
    spec = importlib.util.spec_from_file_location("score", args.gold.parent / "score.py")
    assert spec and spec.loader
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    res, fv, fn, _ = score.score(gold, answers)
    for k, r in sorted(res.items()):
        n = r["n"] or 1
        print(
            f"{k:13s} n={r['n']:3d} strict={r['ok'] / n:.3f} lenient={r['lenient'] / n:.3f} "
            f"wrong={r['wrong'] / n:.3f} abstain={r['abstain'] / n:.3f} cited@3={r['cited'] / n:.3f}"
        )
    print(f"faithfulness_violations={fv}/{fn}  (engine returned None on {not_figure})")


if __name__ == "__main__":
    main()
