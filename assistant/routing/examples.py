"""The bank of labeled example questions (knowledge/routing_examples.jsonl): routing or not, and the operator."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import KnowledgeError
from assistant.records import OPERATOR_IDS

OTHER_KINDS = ("figure", "passage", "contact", "out_of_scope")


@dataclass(frozen=True)
class Example:
    """One labeled question. operator: an id, "" when the documents designate none, None when a fact is missing."""

    text: str
    routing: bool
    operator: str | None = None
    kind: str = "routing"


@dataclass(frozen=True)
class ExampleBank:
    """The validated examples and the digest of the file they come from (a cache key)."""

    path: Path
    examples: tuple[Example, ...]
    digest: str

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    @property
    def labels(self) -> list[bool]:
        return [e.routing for e in self.examples]


def load_examples(path: Path) -> ExampleBank:
    """Read and validate the bank; a KnowledgeError names the file and the line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(f"{path} : lecture impossible ({exc}).") from exc
    examples: list[Example] = []
    seen: set[str] = set()
    for n, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}, ligne {n}"
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise KnowledgeError(f"{where} : JSON invalide ({exc}).") from exc
        text = row.get("text")
        routing = row.get("routing")
        if not isinstance(text, str) or not text.strip() or not isinstance(routing, bool):
            raise KnowledgeError(f"{where} : « text » (texte) et « routing » (true/false) sont requis.")
        if text in seen:
            raise KnowledgeError(f"{where} : question en double « {text[:60]} ».")
        seen.add(text)
        operator = row.get("operator")
        kind = row.get("kind", "routing" if routing else "")
        if routing and operator not in (*OPERATOR_IDS, "", None):
            raise KnowledgeError(f"{where} : opérateur inconnu « {operator} ».")
        if not routing and kind not in OTHER_KINDS:
            raise KnowledgeError(f"{where} : « kind » attendu parmi {', '.join(OTHER_KINDS)}.")
        examples.append(Example(text, routing, operator if routing else None, kind))
    if len({e.routing for e in examples}) < 2:
        raise KnowledgeError(f"{path} : il faut des exemples des deux sortes (routing true et false).")
    return ExampleBank(path, tuple(examples), hashlib.sha256(raw).hexdigest())
