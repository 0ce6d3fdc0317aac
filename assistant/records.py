"""Typed records that flow from ingest to answer: chunk, hit, citation, answer."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Intent = Literal["routing", "figure", "passage", "clarify", "abstain"]
OPERATOR_IDS = ("reseau_eva", "apec", "pole_emploi", "mission_locale", "cap_emploi")


def content_id(*parts: str) -> str:
    """Stable id: sha256 of the content, so re-ingesting the same text changes nothing."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class DocumentInfo:
    """One corpus document and what the manifest says of it."""

    name: str  # file name inside the corpus folder
    title: str
    publisher: str = ""
    year: int | None = None
    kind: str = "rapport"
    source_name: str = ""


@dataclass(frozen=True)
class Chunk:
    """A passage of a document with its locator (section path, page or line span)."""

    id: str
    document: str
    title: str
    section: str
    text: str  # cleaned text, for search and display
    quote: str  # verbatim source text of the span
    lines: tuple[int, int] | None = None  # 1-based inclusive, text documents
    page: int | None = None  # 1-based, PDF pages or table of contents page
    context: str = ""  # full heading titles of the section path, for search

    def citation(self, quote: str | None = None) -> Citation:
        """The citation of this chunk (optionally of a narrower verbatim quote)."""
        return Citation(
            document=self.document,
            title=self.title,
            section=self.section,
            page=self.page,
            lines=list(self.lines) if self.lines else None,
            quote=quote if quote is not None else self.quote,
            chunk_id=self.id,
        )


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk and its score (higher is better)."""

    chunk: Chunk
    score: float


@dataclass(frozen=True)
class Citation:
    """Where a claim stands: document, section, page or lines, and the verbatim quote."""

    document: str
    title: str
    section: str
    page: int | None
    lines: list[int] | None
    quote: str
    chunk_id: str = ""
    highlight: str = ""  # the sentence or number that answers, inside quote

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OperatorChoice:
    """An operator proposed by routing, with its role and the reason."""

    id: str
    name: str
    role: Literal["primary", "alternative"]
    why: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FigureCandidate:
    """A number shown when the assistant is not sure enough to state one: with its clause, year, territory."""

    value: float | int
    display: str
    unit: str
    label: str  # the clause the number quantifies, verbatim
    scope: str | None = None
    year: int | None = None
    probability: float = 0.0  # the ranker's calibrated probability that it is the number asked
    citation: int = 0  # index of its citation in the answer


@dataclass(frozen=True)
class Figure:
    """A number stated in the documents, as answered; value None when only candidates are shown."""

    value: float | int | None
    display: str
    unit: str
    label: str
    scope: str | None = None
    year: int | None = None
    candidates: list[FigureCandidate] = field(default_factory=list)
    probability: float | None = None  # calibrated probability that value is the number asked

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """The answer record handed to the CLI, the app and the scorers (contract of issue 2)."""

    question: str
    intent: Intent
    text: str
    citations: list[Citation] = field(default_factory=list)
    operators: list[OperatorChoice] = field(default_factory=list)
    figure: Figure | None = None
    id: str = ""
    latency_ms: float = 0.0
    normalized_question: str = ""
    follow_up: str = ""  # the one question that settles a provisional routing
    alternatives: list[Figure] = field(default_factory=list)  # other values found (conflicts)
    message: str = ""  # a user-facing notice (bad input, weak evidence)
    query: Any = field(default=None, repr=False, compare=False)  # what was understood, for follow-ups

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "intent": self.intent,
            "text": self.text,
            "operators": [o.to_dict() for o in self.operators],
            "figure": self.figure.to_dict() if self.figure else None,
            "citations": [c.to_dict() for c in self.citations],
            "latency_ms": round(self.latency_ms, 2),
            "normalized_question": self.normalized_question,
            "follow_up": self.follow_up,
            "alternatives": [f.to_dict() for f in self.alternatives],
            "message": self.message,
        }
