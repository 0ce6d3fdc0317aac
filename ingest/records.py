"""Typed records of the corpus: document, chunk, retrieval hit, citation. They flow from ingest to answer;
assistant.records adds the answer's own (operators, figure, answer)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

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
