"""Write one split of the training bank as an evaluation set in the scorer's format (dev.jsonl's fields).

Usage: python scripts/bank_eval_set.py [--split sealed] > sealed.jsonl
then:  cep-assistant batch sealed.jsonl > answers.jsonl && python ../shared/eval/score.py sealed.jsonl answers.jsonl
(or `cep-assistant eval sealed.jsonl`). Absent near-misses become out_of_scope: the right answer says the
documents do not give the figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.settings import Settings  # noqa: E402
from ingest.corpus import load_corpus  # noqa: E402
from tools import bank  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="sealed", choices=("sealed", "train"))
    args = ap.parse_args()
    corpus = load_corpus(Settings().corpus_dir)
    for it in bank.load(ROOT, corpus):
        if it.split != args.split:
            continue
        row = {
            "id": it.id,
            "kind": {"absent": "out_of_scope"}.get(it.kind, it.kind),
            "style": it.style,
            "question": it.question,
            "evidence": it.quote,
            "source_file": it.document,
            "line": it.line,
            "section": it.section,
        }
        if it.kind == "figure":
            row.update(number=it.number, unit=it.unit)
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
