"""Retrieval alone on the question bank and the 2023 report: top-3 at chunk level, one model or several.

Usage:
  python scripts/eval_retrieval_bank.py [--model multilingual-e5-small] [--model multilingual-e5-small-cep]
      [--modes dense,lexical,hybrid] [--split sealed] [--k 3] [--json FILE] [--record]

A question is right when one of the first k chunks comes from its document, its lines cover the evidence line
and its verbatim text holds the flattened quote (ingest.locate.flat). Chunks are ranked as the index ranks them
(index.store.HybridIndex, its default Fusion), on the question as written (no lexicon, no shorthand):
  - dense: each chunk's cosine mixed half and half with its best sentence's (chunk and sentence vectors);
  - lexical: BM25 over chunks mixed with BM25 over their sentences;
  - hybrid: both, min-max scaled, dense weight 0.35;
  - reranked: hybrid, then its first passages rescored by late interaction (index/late.py), as the app does.
Questions: the bank's `--split` items (sealed by default: report only, never for choices) of kinds passage and
figure on the built-in corpus, and tests/data/rapport-2023/questions.jsonl (passage and figure) on the
built-in corpus plus the 2023 report. `--record` writes the figures into knowledge/models/e5-cep-lora/
manifest.json ("measured"), by model name.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.encoders import Encoder, make_encoder  # noqa: E402
from index.store import HybridIndex  # noqa: E402
from ingest.corpus import Corpus, load_corpus  # noqa: E402
from ingest.locate import flat  # noqa: E402
from ingest.records import Chunk  # noqa: E402

DOCUMENTS = ROOT / "knowledge" / "documents"
REPORT_2023 = ROOT / "tests" / "data" / "rapport-2023"
REPORT_2023_FILE = "rapport-annuel-cep-occitanie-2023.txt"
ADAPTER_MANIFEST = ROOT / "knowledge" / "models" / "e5-cep-lora" / "manifest.json"
KINDS = ("passage", "figure")


@dataclass(frozen=True)
class Question:
    question: str
    kind: str
    document: str
    line: int
    quote: str


def answers(chunk: Chunk, q: Question) -> bool:
    """The chunk holds the evidence: same document, lines covering its line, the flattened quote in its text."""
    return (
        chunk.document == q.document
        and chunk.lines is not None
        and chunk.lines[0] <= q.line <= chunk.lines[1]
        and flat(q.quote) in flat(chunk.quote)
    )


def bank_questions(corpus: Corpus, split: str, keep: Callable[[str], bool] | None = None) -> list[Question]:
    """The bank's passage and figure items of a split (and of the sections `keep` accepts)."""
    from tools import bank

    return [
        Question(it.question, it.kind, it.document, it.line, it.quote)
        for it in bank.load(ROOT, corpus)
        if it.split == split and it.kind in KINDS and (keep is None or keep(it.section))
    ]


def report_questions(path: Path = REPORT_2023 / "questions.jsonl") -> list[Question]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            if r["kind"] in KINDS:
                out.append(Question(r["question"], r["kind"], r["source_file"], int(r["line"]), r["evidence"]))
    return out


def corpus_with_2023() -> Corpus:
    """The built-in documents plus the 2023 report, read from a temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for path in DOCUMENTS.iterdir():
            if path.is_file():
                shutil.copy(path, folder / path.name)
        shutil.copy(REPORT_2023 / REPORT_2023_FILE, folder / REPORT_2023_FILE)
        return load_corpus(folder)


def top_k(index: HybridIndex, questions: list[Question], mode: str, k: int = 3) -> list[bool]:
    """Per question: one of the first k chunks holds its evidence. "hybrid" is the fused search alone,
    "reranked" the fused search with the late-interaction rescoring (when the encoder has a projection)."""
    out = []
    late = index.late
    index.late = late if mode == "reranked" else None
    try:
        for q in questions:
            hits = index.search(q.question, k=k, mode="hybrid" if mode == "reranked" else mode)
            out.append(any(answers(h.chunk, q) for h in hits))
    finally:
        index.late = late
    return out


def by_kind(questions: list[Question], right: list[bool]) -> dict[str, list[int]]:
    """kind -> [right, asked], and "all"."""
    out: dict[str, list[int]] = {}
    for q, ok in zip(questions, right, strict=True):
        for key in (q.kind, "all"):
            cell = out.setdefault(key, [0, 0])
            cell[0] += int(ok)
            cell[1] += 1
    return out


def reachable(corpus: Corpus, questions: list[Question]) -> int:
    """Questions some chunk can answer at all (a quote across two chunks is never right)."""
    return sum(any(answers(c, q) for c in corpus.chunks) for q in questions)


def evaluate(
    encoder: Encoder,
    sets: dict[str, tuple[Corpus, list[Question]]],
    modes: tuple[str, ...] = ("dense",),
    k: int = 3,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, dict[str, list[int]]]]:
    """set name -> mode -> kind -> [right, asked]. Corpora met twice are indexed once; texts already embedded
    for an earlier set are not embedded again."""
    results: dict[str, dict[str, dict[str, list[int]]]] = {}
    built: dict[int, HybridIndex] = {}
    previous: HybridIndex | None = None
    for name, (corpus, questions) in sets.items():
        index = built.get(id(corpus))
        if index is None:
            t0 = time.time()
            index = HybridIndex.build(corpus.chunks, encoder, previous=previous)
            built[id(corpus)] = previous = index
            log(f"  index {name}: {len(corpus.chunks)} chunks, {index.dense.size} vectors, {time.time() - t0:.0f} s")
        results[name] = {mode: by_kind(questions, top_k(index, questions, mode, k)) for mode in modes}
    return results


def rate(cell: list[int]) -> str:
    return f"{cell[0] / max(cell[1], 1):.3f} ({cell[0]}/{cell[1]})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", help="encoder name (repeatable); default: base and -cep")
    parser.add_argument("--modes", default="dense,lexical,hybrid,reranked")
    parser.add_argument("--split", default="sealed", choices=("sealed", "train"))
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--record", action="store_true", help="write them into the adapter's manifest")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    models = args.model or ["multilingual-e5-small", "multilingual-e5-small-cep"]
    modes = tuple(m for m in args.modes.split(",") if m)

    base = load_corpus(DOCUMENTS)
    extended = corpus_with_2023()
    bank = bank_questions(base, args.split)
    later = report_questions()
    sets = {args.split: (base, bank), "2023": (extended, later)}
    print(
        f"{args.split}: {len(bank)} questions ({reachable(base, bank)} answerable by one chunk); "
        f"2023: {len(later)} ({reachable(extended, later)} answerable by one chunk)"
    )
    figures: dict[str, dict] = {}
    for i, name in enumerate(models):
        # lexical alone does not depend on the model: measured with the first one only
        wanted = modes if i == 0 else tuple(m for m in modes if m != "lexical")
        t0 = time.time()
        print(f"{name}:")
        encoder = make_encoder(name)
        print(f"  {encoder.fingerprint}, dim {encoder.dim}")  # loads the model, which sets 2 threads: back to 1
        torch.set_num_threads(1)
        figures[name] = evaluate(encoder, sets, wanted, args.k)
        print(f"  {time.time() - t0:.0f} s")
    print(f"\ntop-{args.k} at chunk level (right / asked)")
    print(f"{'model':32} {'mode':8} " + " ".join(f"{s + ' ' + kind:>22}" for s in sets for kind in KINDS))
    for name, result in figures.items():
        for mode in modes:
            if mode in result[args.split]:
                cells = [rate(result[s][mode].get(kind, [0, 0])) for s in sets for kind in KINDS]
                print(f"{name:32} {mode:8} " + " ".join(f"{c:>22}" for c in cells))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    if args.record:
        manifest = json.loads(ADAPTER_MANIFEST.read_text(encoding="utf-8"))
        manifest["measured"] = {
            "how": f"scripts/eval_retrieval_bank.py: top-{args.k} at chunk level, raw question, default Fusion",
            "split": args.split,
            "figures": figures,
        }
        ADAPTER_MANIFEST.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"recorded in {ADAPTER_MANIFEST.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
