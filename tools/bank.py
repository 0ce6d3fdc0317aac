"""The training bank of questions (knowledge/training/questions/*.jsonl), split by document section.

Every item names its evidence (document, line, verbatim quote). Its split follows the section of the document
that line belongs to, never the question: held-out sections measure transfer to text no model was fitted on.
  - "sealed": about a fifth of the sections; no fitting, tuning or rule looks at them, only their totals are
    reported;
  - "train": the rest, for every fit.
A document without headings (the CHEOPS survey) is cut into blocks of BLOCK_LINES lines, each a "section".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ingest.corpus import Corpus

BANK = Path("knowledge") / "training" / "questions"
BLOCK_LINES = 40
SEALED_SHARE = 5  # one section in five (by hash of its name)


@dataclass(frozen=True)
class Item:
    """One question of the bank, with its evidence and the split of its section."""

    id: str
    kind: str  # passage | figure | absent
    style: str
    question: str
    document: str
    line: int
    quote: str
    number: float | None
    unit: str | None
    section: str
    split: str


def section_of(corpus: Corpus, document: str, line: int) -> str:
    """The section path of a line (a block of lines where the document has no headings)."""
    doc = corpus.documents[document]
    li = doc.line(line)
    if li is not None and li.section and li.section != "Table des matières":
        return f"{document} › {li.section}"
    return f"{document} › lignes {(line - 1) // BLOCK_LINES * BLOCK_LINES + 1}+"


def split_of(section: str) -> str:
    digest = int(hashlib.sha256(section.encode("utf-8")).hexdigest()[:8], 16)
    return "sealed" if digest % SEALED_SHARE == 0 else "train"


def load(root: Path, corpus: Corpus) -> list[Item]:
    """Every item of the bank with its section and split."""
    out: list[Item] = []
    for path in sorted((root / BANK).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            section = section_of(corpus, r["document"], int(r["line"]))
            out.append(
                Item(r["id"], r["kind"], r.get("style", ""), r["question"], r["document"], int(r["line"]),
                     r["quote"], r.get("number"), r.get("unit"), section, split_of(section))
            )
    return out
