"""The five CEP operators as data (knowledge/operators.toml), validated when loaded."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import KnowledgeError
from ingest.records import OPERATOR_IDS
from ingest.text import fold

if TYPE_CHECKING:
    from ingest.corpus import Corpus

FACT_KINDS = ("statut", "public", "offre", "service", "engagement", "canal")


@dataclass(frozen=True)
class OperatorFact:
    """One thing the documents say of an operator, with where they say it."""

    kind: str  # one of FACT_KINDS
    text: str
    document: str
    lines: tuple[int, int] | None  # a hint where the quote stands; located in the corpus at load
    quote: str  # verbatim; located in the corpus by locate_operator_sources


@dataclass(frozen=True)
class Operator:
    """A CEP operator: id, display name, the names people use for it, and what the documents say."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    facts: tuple[OperatorFact, ...] = field(default=(), compare=False)

    @property
    def call(self) -> str:
        """How a sentence names it (operators.toml `call`: « l'APEC », « le Réseau EVA »), else its name."""
        return str(self.extra.get("call", self.name))

    def facts_of(self, kind: str) -> tuple[OperatorFact, ...]:
        """The facts of one kind (public, service, canal...)."""
        return tuple(f for f in self.facts if f.kind == kind)


def _facts(path: Path, oid: str, rows: list[dict], default_document: str) -> tuple[OperatorFact, ...]:
    out = []
    for j, row in enumerate(rows, start=1):
        where = f"{path}, opérateur « {oid} », fait n°{j}"
        kind, text, quote = row.get("kind"), row.get("text", ""), row.get("quote", "")
        lines = row.get("lines")
        if kind not in FACT_KINDS:
            raise KnowledgeError(f"{where} : type inconnu « {kind} » (attendu : {', '.join(FACT_KINDS)}).")
        if not text.strip():
            raise KnowledgeError(f"{where} : texte manquant.")
        if lines is not None and not (
            isinstance(lines, list) and len(lines) == 2 and all(isinstance(n, int) for n in lines)
        ):
            raise KnowledgeError(f"{where} : « lines » attend [première, dernière].")
        if not quote.strip():
            raise KnowledgeError(f"{where} : source manquante (citation « quote » à retrouver dans le corpus).")
        span = (lines[0], lines[1]) if lines else None
        out.append(OperatorFact(kind, text, row.get("document", default_document), span, quote))
    return tuple(out)


@lru_cache(maxsize=8)
def load_operators(knowledge_dir: Path) -> dict[str, Operator]:
    """Operators by id; a clear error names the file and the row when one is invalid."""
    path = knowledge_dir / "operators.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path} : lecture impossible ({exc}).") from exc
    default_document = data.get("default_document", "")
    out: dict[str, Operator] = {}
    for i, row in enumerate(data.get("operator", []), start=1):
        oid = row.get("id")
        if oid not in OPERATOR_IDS:
            raise KnowledgeError(f"{path}, opérateur n°{i} : identifiant inconnu « {oid} ».")
        if not row.get("name"):
            raise KnowledgeError(f"{path}, opérateur « {oid} » : nom manquant.")
        aliases = tuple(dict.fromkeys(fold(a) for a in [row["name"], *row.get("aliases", [])]))
        extra = {k: v for k, v in row.items() if k not in ("id", "name", "aliases", "fact")}
        facts = _facts(path, oid, row.get("fact", []), default_document)
        out[oid] = Operator(oid, row["name"], aliases, extra, facts)
    missing = set(OPERATOR_IDS) - set(out)
    if missing:
        raise KnowledgeError(f"{path} : opérateur(s) manquant(s) : {', '.join(sorted(missing))}.")
    return out


def locate_operator_sources(operators: dict[str, Operator], corpus: Corpus) -> tuple[dict[str, Operator], list[str]]:
    """The operators with each fact located in the corpus by its quote (its lines are a hint), and what was lost:
    a fact whose quote no document holds is left out and named."""
    lost: list[str] = []
    out: dict[str, Operator] = {}
    for op in operators.values():
        facts = []
        for j, f in enumerate(op.facts, start=1):
            try:
                doc, first, last = corpus.locate(f.quote, f.document, f.lines)
            except KnowledgeError as exc:
                lost.append(f"operators.toml, opérateur « {op.id} », fait n°{j} : {exc}")
                continue
            facts.append(replace(f, document=doc, lines=(first, last)))
        out[op.id] = replace(op, facts=tuple(facts))
    return out, lost
