"""Table blocks of a document (tab, Markdown, HTML) read as typed DataFrames."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from ingest.facts.entities import YEAR
from ingest.numbers import find_quantities
from ingest.text import clean_markup


class FactsFormatError(ValueError):
    """A table that cannot be read as rows and columns."""


@dataclass
class TableRecord:
    """A table of a document: its cells as a DataFrame, where it stands and what it is about."""

    name: str
    document: str
    section: str
    first_line: int
    last_line: int
    header_line: int | None
    caption: str
    frame: pd.DataFrame
    scope: str = ""
    year: int | None = None
    row_lines: list[int] = field(default_factory=list)

    def meta(self) -> dict:
        return {
            "name": self.name,
            "document": self.document,
            "section": self.section,
            "first_line": self.first_line,
            "last_line": self.last_line,
            "header_line": self.header_line,
            "caption": self.caption,
            "scope": self.scope,
            "year": self.year,
            "row_lines": self.row_lines,
            "columns": [str(c) for c in self.frame.columns],
            "dtypes": {str(c): str(t) for c, t in self.frame.dtypes.items()},
        }


@dataclass
class Block:
    """Raw rows of a table as found in a document."""

    kind: str  # tab, markdown, html
    lines: list[int]  # source line numbers of the rows
    rows: list[list[str]]  # raw cells


def cell_text(text: str) -> str:
    return clean_markup(text).strip()


_MISSING = re.compile(r"^\s*(?:n\.?\s?[cdr]\.?|s\.?\s?o\.?|nc|nd|ns|[-–—*/]|\?)\s*$", re.IGNORECASE)


def is_missing_cell(text: str) -> bool:
    """A cell that says the value is not given ("n.c.", "n.d.", "s.o.", "–"): neither a value nor a label."""
    return bool(_MISSING.match(text))


# A class of a table's rows or columns: "16-25 ans", "45 à 54 ans", "10-19 salariés" names, it does not count.
_RANGE = re.compile(r"^\s*\d+\s*(?:[-–]|à|a)\s*\d+\s*[^\W\d]*\s*$")


def is_value_cell(text: str) -> bool:
    """A cell that holds numbers only (maybe with a unit and 'soit'): '175 837', '43 %', '529 soit 46,24 %'."""
    qs = [q for q in find_quantities(text) if not (q.unit == "count" and YEAR.fullmatch(q.text))]
    if not qs or _RANGE.match(text):
        return False
    if is_coded_label(text):
        return False
    rest = text
    for q in reversed(qs):
        rest = rest[: q.start] + rest[q.end :]
    return len(re.findall(r"[A-Za-zÀ-ÿ]{2,}", rest)) <= 1


def is_coded_label(text: str) -> bool:
    """A name with its numbers in brackets only ("Aude (11)", "Hérault (34)"): a row label, its code no figure."""
    inside = re.findall(r"\(([^)]*)\)", text)
    outside = re.sub(r"\([^)]*\)", " ", text)
    return (
        bool(inside)
        and all(re.fullmatch(r"\s*\d{1,3}[AB]?\s*", x) for x in inside)
        and not re.search(r"\d", outside)
        and bool(re.search(r"[A-Za-zÀ-ÿ]{2,}", outside))
    )


def split_tab(text: str) -> list[str]:
    cells = text.split("\t")
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


_MD_ROW = re.compile(r"^\s*\|.*\|\s*$")
_MD_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def find_blocks(lines: list) -> tuple[list[Block], list[tuple[int, int, str]]]:
    """Table blocks of a document's annotated lines, and malformed blocks (first, last, reason)."""
    blocks: list[Block] = []
    bad: list[tuple[int, int, str]] = []
    i = 0
    n = len(lines)
    while i < n:
        li = lines[i]
        text = li.text
        if li.in_toc:
            i += 1
            continue
        low = text.lower()
        if "<table" in low:
            j = i
            chunk = []
            while j < n:
                chunk.append(lines[j].text)
                if "</table" in lines[j].text.lower():
                    break
                j += 1
            if j >= n:
                bad.append((li.number, lines[-1].number, "balise <table> sans </table>"))
                i += 1
                continue
            html = "\n".join(chunk)
            rows = []
            for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S | re.I):
                rows.append(
                    [re.sub(r"<[^>]+>", " ", c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S | re.I)]
                )
            if not rows:
                bad.append((li.number, lines[j].number, "tableau HTML sans ligne <tr>"))
            else:
                blocks.append(Block("html", [li.number] * len(rows), rows))
            i = j + 1
            continue
        if _MD_ROW.match(text):
            j = i
            while j < n and _MD_ROW.match(lines[j].text):
                j += 1
            rows, nums = [], []
            for k in range(i, j):
                t = lines[k].text
                if _MD_SEP.match(t):
                    continue
                rows.append([c for c in t.strip().strip("|").split("|")])
                nums.append(lines[k].number)
            if j - i >= 2:
                blocks.append(Block("markdown", nums, rows))
            i = max(j, i + 1)
            continue
        if "\t" in text and text.strip() and not li.is_heading:
            j = i
            while j < n and "\t" in lines[j].text and lines[j].text.strip() and not lines[j].in_toc:
                j += 1
            if j - i >= 2:
                rows = [lines[i].text.split("\t")] + [split_tab(lines[k].text) for k in range(i + 1, j)]
                blocks.append(Block("tab", [lines[k].number for k in range(i, j)], rows))
            i = max(j, i + 1)
            continue
        i += 1
    return blocks, bad


def _header_of(rows: list[list[str]]) -> bool:
    first = [c for c in rows[0] if c.strip()]
    values = sum(is_value_cell(cell_text(c)) for c in first)
    return bool(first) and len(rows) >= 2 and values * 2 < len(first)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        base = name or ("libellé" if i == 0 else f"colonne {i + 1}")
        k = seen.get(base, 0)
        seen[base] = k + 1
        out.append(base if k == 0 else f"{base} ({k + 1})")
    return out


def block_frame(block: Block) -> tuple[pd.DataFrame, bool]:
    """The DataFrame of a table block (numeric columns as float64, others as string), and whether it has a header."""
    rows = [[cell_text(c) for c in r] for r in block.rows]
    has_header = _header_of(rows)
    header = rows[0] if has_header else []
    body = rows[1:] if has_header else rows
    width = max(len(r) for r in rows)
    if block.kind == "markdown" and has_header and any(len(r) != len(header) for r in body):
        raise FactsFormatError(f"{len(header)} colonnes d'en-tête mais des lignes de largeur différente")
    if has_header and any(len([c for c in r[len(header) :] if c]) > 0 for r in body):
        raise FactsFormatError("une ligne a plus de cellules remplies que l'en-tête n'a de colonnes")
    if not body or width < 2:
        raise FactsFormatError("moins de deux colonnes ou aucune ligne de données")
    columns = _unique((header + [""] * width)[:width])
    data = [(r + [""] * width)[:width] for r in body]
    frame = pd.DataFrame(data, columns=columns).astype("string")
    for c in columns:
        cells = frame[c]
        filled = cells[cells.str.len() > 0]
        qs = [find_quantities(v) for v in filled]
        if len(filled) and all(
            len(q) == 1 and q[0].text == v.strip() and q[0].unit == qs[0][0].unit
            for q, v in zip(qs, filled, strict=True)
        ):
            frame[c] = pd.Series([q[0].value for q in qs], index=filled.index).reindex(frame.index).astype("float64")
    return frame, has_header
