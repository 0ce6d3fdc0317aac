"""Typed records of the corpus: document, chunk, retrieval hit, citation. They flow from ingest to answer;
assistant.records adds the answer's own (operators, figure, answer)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
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
    span: tuple[int, int] | None = None  # the source lines it holds, of any document (cited by `lines` or `page`)

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
    cells: str = ""  # the quote's table rows as « a | b | c », header row first; "" when it holds no table row

    def to_dict(self) -> dict[str, Any]:
        """The citation as JSON: quote and highlight without Markdown markers (cells stay TAB-separated in
        the quote, as in the document), and the quote's table rows written as cells."""
        out = asdict(self)
        out["quote"] = plain_quote(self.quote, keep_numbers_apart=True)
        out["highlight"] = plain_quote(self.highlight, keep_numbers_apart=True)
        out["cells"] = self.cells or table_cells(self.quote)
        return out


_MARKERS = re.compile(r"\*\*|__")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?: +|$)", re.MULTILINE)
_NUMBER_CELL = re.compile(r"[\d\s.,%€+\-–−]*\d[\d\s.,%€+\-–−]*")
_YEAR = re.compile(r"(?:19|20)\d\d")


_DIGIT_BEFORE = re.compile(r"\d[\s\u202f\u00a0.,]*$")
_DIGIT_AFTER = re.compile(r"[\s\u202f\u00a0.,]*\d")


def _runs_together(before: str, after: str) -> bool:
    """True when `before` and `after`, put side by side, read as one number to a reader that joins digits
    across spaces, dots and commas (« en 2021, 89,9 % » read as 2021899)."""
    return bool(_DIGIT_BEFORE.search(before)) and bool(_DIGIT_AFTER.match(after))


def plain_quote(text: str, keep_numbers_apart: bool = False) -> str:
    """A quote without the conversion's Markdown markers (bold `**`, `__`, leading `#` of a heading); the
    rest, line breaks and TABs between table cells included, stays as in the document. With
    `keep_numbers_apart`, a marker whose removal would run two numbers together (« en 2021, **89,9%** »)
    is kept, with its pair, so that a strict reader still finds each number the quote states."""
    text = _HEADING.sub("", text or "")
    if not keep_numbers_apart:
        return _MARKERS.sub("", text)
    marks = list(_MARKERS.finditer(text))
    out, pos, i = "", 0, 0
    while i < len(marks):
        m = marks[i]
        out += text[pos : m.start()]
        pair = next((j for j in range(i + 1, len(marks)) if marks[j].group() == m.group()), None)
        if pair is None:  # a lone marker
            out += m.group() if _runs_together(out, _MARKERS.sub("", text[m.end() :])) else ""
            pos, i = m.end(), i + 1
            continue
        end = marks[pair]
        inner = text[m.end() : end.start()]
        after = _MARKERS.sub("", text[end.end() :])
        plain_inner = _MARKERS.sub("", inner)
        keep = _runs_together(out, plain_inner) or _runs_together(out + plain_inner, after)
        out += m.group() + inner + end.group() if keep else plain_inner
        pos, i = end.end(), pair + 1
    return out + text[pos:]


def row_cells(line: str) -> list[str]:
    """The cells of a TAB-separated table row, spaces tidied, without the empty cells at its ends."""
    cells = [" ".join(c.split()) for c in plain_quote(line).split("\t")]
    while cells and not cells[0]:
        cells.pop(0)
    while cells and not cells[-1]:
        cells.pop()
    return cells


def is_header_row(line: str) -> bool:
    """A table row that names columns: TAB-separated, and none of its cells a number (years aside)."""
    cells = row_cells(line)
    return "\t" in line and bool(cells) and not any(_NUMBER_CELL.fullmatch(c) and not _YEAR.fullmatch(c) for c in cells)


def table_header(line_of: Callable[[int], str | None], first: int) -> str:
    """The header row of the table a quote starting at line `first` falls in, when the quote starts below it
    ("" otherwise): the top row of the TAB-separated lines running up to `first`, when it names columns."""
    text = line_of(first)
    if text is None or "\t" not in text:
        return ""
    top = first
    while (above := line_of(top - 1)) is not None and "\t" in above:
        top -= 1
    header = line_of(top) or ""
    return header if top < first and is_header_row(header) else ""


def table_cells(quote: str, header: str = "") -> str:
    """The quote as a reader reads a table: each TAB-separated row as « a | b | c » on its own line, the
    table's `header` row first when the quote starts below it, other lines with their spaces tidied, no
    Markdown markers. "" when the quote holds no table row."""
    lines = [line for line in plain_quote(quote).split("\n") if line.strip()]
    if not any("\t" in line for line in lines):
        return ""
    if header and "\t" in lines[0] and row_cells(lines[0]) != row_cells(header):
        lines.insert(0, header)
    return "\n".join(" | ".join(row_cells(line)) if "\t" in line else " ".join(line.split()) for line in lines)
