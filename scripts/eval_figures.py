"""Measure the figure engine on a question set (dev set by default, or a held-out file).

Usage: python scripts/eval_figures.py [--questions FILE] [--pipeline | --no-hits] [-v]

Hits: by default a plain BM25 over the corpus chunks; with --pipeline the real Assistant is
loaded (hybrid index in $CEP_INDEX_DIR, real encoder) and Assistant.ask(question) is scored,
which is what the product answers. The figure engine is always rebuilt from the current code
(extract_facts), so index facts saved by an older build do not hide a change.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation import score  # noqa: E402
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


def load_questions(path: Path) -> list[dict]:
    """The figure and out-of-scope items of a gold JSONL file."""
    gold = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [g for g in gold if g["kind"] in ("figure", "out_of_scope")]


def summarize(gold: list[dict], answers: dict[str, dict]) -> dict[str, float]:
    """Strict, lenient, wrong and abstain rates per kind, plus faithfulness violations (project scorer)."""
    res = score(gold, answers)
    out: dict[str, float] = {
        "faithfulness_violations": res["faithfulness_violations"],
        "faithfulness_n": res["faithfulness_n"],
    }
    for kind, r in res["kinds"].items():
        n = r["n"] or 1
        out[f"{kind}_n"] = r["n"]
        out[f"{kind}_strict"] = r["ok"] / n
        out[f"{kind}_lenient"] = r["lenient"] / n
        out[f"{kind}_wrong"] = r["wrong"] / n
        out[f"{kind}_abstain"] = r["abstain"] / n
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", "--gold", dest="questions", type=Path, default=DEFAULT_GOLD)
    ap.add_argument("--no-hits", action="store_true", help="score the engine with no retrieval hits")
    ap.add_argument("--pipeline", action="store_true", help="score Assistant.ask with the real hybrid index")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    settings = Settings.from_env()
    t0 = time.perf_counter()
    assistant = None
    if args.pipeline:
        from assistant.pipeline import Assistant

        assistant = Assistant.load(settings)
        corpus = assistant.corpus
    else:
        corpus = load_corpus(settings.corpus_dir)
    facts = extract_facts(corpus, settings.knowledge_dir)
    engine = FigureEngine(facts, corpus, settings.knowledge_dir)
    if assistant is not None:
        assistant.figures = engine
    bm25 = BM25(corpus.chunks)
    elapsed = time.perf_counter() - t0
    print(f"build: {len(facts.facts)} facts, {len(facts.tables)} tables, {elapsed:.1f}s; errors={facts.errors}")
    gold = load_questions(args.questions)
    answers = {}
    not_figure = 0
    for g in gold:
        if assistant is not None:
            a = assistant.ask(g["question"], qid=g["id"])
            not_figure += a.intent not in ("figure", "abstain")
        else:
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
        got = fig.get("value")
        ok = want is not None and got is not None and abs(got - want) <= max(1e-6, 1e-4 * abs(want))
        status = "ok" if ok or (want is None and a.intent == "abstain") else "WRONG" if got is not None else "--"
        if args.v or status != "ok":
            alts = [f.value for f in a.alternatives]
            line = f"{status:5s} {g['id']} [{g['kind']}] {a.intent} got={got} alts={alts} want={want}"
            print(f"{line} :: {g['question']}")
            if args.v:
                print("     text:", a.text[:200])
    s = summarize(gold, answers)
    for kind in ("figure", "out_of_scope"):
        if f"{kind}_n" in s:
            print(
                f"{kind:13s} n={int(s[kind + '_n']):3d} strict={s[kind + '_strict']:.3f} "
                f"lenient={s[kind + '_lenient']:.3f} wrong={s[kind + '_wrong']:.3f} abstain={s[kind + '_abstain']:.3f}"
            )
    print(
        f"faithfulness_violations={int(s['faithfulness_violations'])}/{int(s['faithfulness_n'])}  "
        f"(not answered by the figure engine: {not_figure})"
    )


if __name__ == "__main__":
    main()
