"""Measure retrieval cited@3 on question files for chunk sizes, granularity and fusion settings.

Every question with an evidence span (passage and figure kinds) is asked through the pipeline's own
`Assistant.retrieve` (normalization, lexicon expansion, definition boost); a question counts when one of
the first three chunks contains the evidence, as the scorer checks citations. Each file is reported
apart (dev.jsonl was used to write the rules, dev2.jsonl was not: a setting is kept when it helps both).

Usage:
  python scripts/tune_retrieval.py ../shared/eval/dev.jsonl ../shared/eval/dev2.jsonl \\
      [--sizes 700,1000] [--weights 0,0.3,0.5,0.7,1] [--methods minmax,raw] [--depths 10,20,40] \\
      [--sentence-weights 0,0.5,1] [--no-sentences] [--cache /tmp/vectors.npz]

Vectors are cached by model fingerprint and text (--cache), so a second run embeds nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant import citations, pipeline
from assistant.evaluation import read_jsonl, supports
from assistant.normalize import clean_input
from assistant.pipeline import Assistant
from assistant.query import QueryReader
from assistant.settings import Settings
from index import units
from index.encoders import Encoder, make_encoder
from index.lexical import LexicalIndex
from index.queries import encode_queries
from index.store import Fusion, HybridIndex, model_key, search_text
from ingest.corpus import load_corpus


class CachedEncoder:
    """An encoder whose vectors are kept in a file, by model fingerprint, side (passage/query) and text."""

    def __init__(self, inner: Encoder, path: Path | None) -> None:
        self.inner = inner
        self.name = inner.name
        self.fingerprint = model_key(inner)
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            data = np.load(path)
            self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self.added = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def _key(self, side: str, text: str) -> str:
        return hashlib.sha256(f"{self.fingerprint}\x00{side}\x00{text}".encode()).hexdigest()

    def _get(self, side: str, texts: list[str]) -> np.ndarray:
        keys = [self._key(side, t) for t in texts]
        todo = [i for i, k in enumerate(keys) if k not in self.vectors]
        if todo:
            batch = [texts[i] for i in todo]
            fresh = self.inner.encode(batch) if side == "passage" else encode_queries(self.inner, batch)
            for i, v in zip(todo, fresh, strict=True):
                self.vectors[keys[i]] = v
            self.added += len(todo)
        return np.stack([self.vectors[k] for k in keys]).astype(np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._get("passage", texts)

    def encode_query(self, texts: list[str]) -> np.ndarray:
        return self._get("query", texts)

    def save(self) -> None:
        if self.path is not None and self.added:
            keys = list(self.vectors)
            np.savez(self.path, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
            self.added = 0


def evidence_rank(hits: list, evidence: str) -> int | None:
    return next((i + 1 for i, h in enumerate(hits) if supports(h.chunk.quote, evidence)), None)


def show_misses(assistant: Assistant, items: list, typed: list[str], k: int) -> None:
    """Each question missed at k, with the evidence's rank in hybrid, lexical-only and dense-only search."""
    for (name, g), question in zip(items, typed, strict=True):
        r = assistant.retrieve(question, k=30, spelled_out=g["kind"] == "figure")
        rank = evidence_rank(r.hits, g["evidence"])
        if rank is not None and rank <= k:
            continue
        modes = {
            m: evidence_rank(assistant.index.search(r.query, k=30, mode=m, dense_query=question), g["evidence"])
            for m in ("lexical", "dense")
        }
        print(f"    {name} {g['id']} hybrid={rank} lexical={modes['lexical']} dense={modes['dense']} | {g['question']}")


def score_answers(assistant: Assistant, items: list, typed: list[str]) -> None:
    """Passage answers of passage questions: evidence in the first three citations, and in the quoted text."""
    res: dict[str, list[tuple[int, int]]] = {}
    for (name, g), question in zip(items, typed, strict=True):
        if g["kind"] != "passage":
            continue
        answer = assistant.passage_answer(g["question"], assistant.retrieve(question))
        cited = any(supports(c.quote, g["evidence"]) for c in answer.citations[:3])
        res.setdefault(name, []).append((int(cited), int(supports(answer.text, g["evidence"]))))
    for name, v in sorted(res.items()):
        n = len(v)
        print(f"    answers {name}: cited@3={sum(c for c, _ in v) / n:.3f} text={sum(t for _, t in v) / n:.3f} (n={n})")


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="+")
    ap.add_argument("--sizes", default="1000")
    ap.add_argument("--weights", default="0,0.3,0.5,0.7,1")
    ap.add_argument("--lexical", default="minmax", help="normalizations of the lexical side, comma-separated")
    ap.add_argument("--dense", default="minmax", help="normalizations of the dense side, comma-separated")
    ap.add_argument("--depths", default="20")
    ap.add_argument("--sentence-weights", default="0.5")
    ap.add_argument("--lexical-sentence-weights", default="", help="mix of the best sentence's BM25, lexical side")
    ap.add_argument("--added-weights", default="", help="weights of the words the lexicon adds (spelled-out acronyms)")
    ap.add_argument("--no-sentences", action="store_true", help="chunk vectors only")
    ap.add_argument("--sentence-min-chars", default="", help="chunk lengths from which sentences get vectors")
    ap.add_argument("--bm25-b", default="", help="BM25 length normalizations b to try (default: the index's)")
    ap.add_argument("--sentence-context", choices=("yes", "no"), help="sentence vectors with section titles")
    ap.add_argument("--quote-dense", default="", help="answers: dense weights in the sentence scores to try")
    ap.add_argument("--source", default="", help="answers: SOURCE_SENTENCE_WEIGHT values to try")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--misses", action="store_true", help="list the questions missed (last setting of the grid)")
    ap.add_argument("--answers", action="store_true", help="also score passage answers: citations and quoted text")
    args = ap.parse_args()
    settings = Settings.from_env()
    if args.sentence_context:
        units.SENTENCE_CONTEXT = args.sentence_context == "yes"
    items = []
    for path in args.questions:
        for g in read_jsonl(Path(path)):
            if g["kind"] in ("passage", "figure") and g.get("evidence"):
                items.append((Path(path).stem, g))
    encoder = CachedEncoder(make_encoder(settings.model_name), args.cache)
    print(f"model {encoder.fingerprint}; {len(items)} questions")
    min_chars: list[int | None] = [int(x) for x in args.sentence_min_chars.split(",") if x] or [None]
    for size, least in itertools.product([int(s) for s in args.sizes.split(",")], min_chars):
        corpus = load_corpus(settings.corpus_dir, target_chars=size)
        started = time.perf_counter()
        index = HybridIndex.build(corpus.chunks, encoder, sentences=not args.no_sentences, sentence_min_chars=least)
        encoder.save()
        took = time.perf_counter() - started
        print(
            f"size={size} sentence_min_chars={least} chunks={len(corpus.chunks)} vectors={index.dense.size} "
            f"build={took:.1f}s",
            flush=True,
        )
        analyzer = QueryReader.load(settings.knowledge_dir, corpus)
        assistant = Assistant(replace(settings, index_dir=Path("/nonexistent")), corpus, index, analyzer)
        typed = [clean_input(g["question"], 10_000) for _, g in items]
        lexicals = {None: index.lexical}
        for b in floats(args.bm25_b):
            lexicals[b] = LexicalIndex.build([search_text(c) for c in corpus.chunks], b=b)
        grid = itertools.product(
            list(lexicals),
            args.lexical.split(","),
            args.dense.split(","),
            [int(d) for d in args.depths.split(",")],
            floats(args.sentence_weights),
            floats(args.lexical_sentence_weights) or [Fusion().lexical_sentence_weight],
            floats(args.added_weights) or [Fusion().added_weight],
        )
        for b, lexical_norm, dense_norm, depth, a, la, aw in grid:
            index.lexical = lexicals[b]
            for w in floats(args.weights):
                index.fusion = Fusion(w, lexical_norm, dense_norm, depth, a, la, aw)
                res: dict[str, list[int]] = {}
                for (name, g), question in zip(items, typed, strict=True):
                    hits = assistant.retrieve(question, k=args.k, spelled_out=g["kind"] == "figure").hits
                    ok = any(supports(h.chunk.quote, g["evidence"]) for h in hits[: args.k])
                    res.setdefault(f"{name}/{g['kind']}", []).append(int(ok))
                if args.misses:
                    show_misses(assistant, items, typed, args.k)
                if args.answers:
                    answer_grid = itertools.product(
                        floats(args.quote_dense) or [citations.SENTENCE_DENSE_WEIGHT],
                        floats(args.source) or [pipeline.SOURCE_SENTENCE_WEIGHT],
                    )
                    for quote_dense, source in answer_grid:
                        citations.SENTENCE_DENSE_WEIGHT = quote_dense
                        pipeline.SOURCE_SENTENCE_WEIGHT = source
                        print(f"    sentence scores: dense weight {quote_dense}, source choice {source}")
                        score_answers(assistant, items, typed)
                cells = " ".join(f"{key}={sum(v) / len(v):.3f}" for key, v in sorted(res.items()))
                total = sum(map(sum, res.values())) / len(items)
                name = f"{lexical_norm}+{dense_norm}" + (f" b={b}" if b is not None else "")
                print(
                    f"  {name:13s} depth={depth:3d} sent={a:.2f} lexsent={la:.2f} added={aw:.2f} w={w:.2f}  "
                    f"all={total:.3f} {cells}",
                    flush=True,
                )
        encoder.save()


if __name__ == "__main__":
    main()
