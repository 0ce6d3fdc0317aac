"""Typed records that flow from ingest to answer: chunk, hit, citation, answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ingest.records import OPERATOR_IDS, Chunk, Citation, DocumentInfo, Hit, content_id

__all__ = [
    "OPERATOR_IDS",
    "Answer",
    "Chunk",
    "Citation",
    "DocumentInfo",
    "Figure",
    "FigureCandidate",
    "Hit",
    "Intent",
    "OperatorChoice",
    "content_id",
]

Intent = Literal["routing", "figure", "passage", "clarify", "abstain"]


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
