"""Recover a document's heading structure (I./A./1./a., Annexe, markdown) and its table of contents."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from ingest.readers import RawLine, is_item
from ingest.text import clean_markup, fold

SEPARATOR = " › "

_ROMAN = r"(?:I{1,3}|IV|V|VI{0,3}|IX|X)"
_HEADING_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("markdown", re.compile(r"^(#{1,6})\s+(.+)$")),
    ("annexe", re.compile(r"^(annexe\s*(?:n\s*°\s*)?\d+)\s*[:.\-–]?\s*(.*)$", re.IGNORECASE)),
    ("roman", re.compile(rf"^({_ROMAN})\s*[.\-–]\s*(.+)$")),
    ("upper", re.compile(r"^([A-H])\s*\.\s+(.+)$")),
    ("digit", re.compile(r"^(\d{1,2})\s*\.\s+(.+)$")),
    ("lower", re.compile(r"^([a-h])\s*[.)]\s+(.+)$")),
]
_LEVEL = {"annexe": 1, "roman": 1, "upper": 2, "digit": 3, "lower": 5}
_TOC_TITLE = re.compile(r"^(table des mati[eè]res|sommaire)\s*$", re.IGNORECASE)
# "Préambule\t4" (text) or "Préambule ........ 4" (dot leaders of a PDF)
_TOC_ENTRY = re.compile(r"^(.*?[^\s.…])(?:[\s.…]*\t+|\s*[.…]{3,}[\s.…]*)\s*(\d{1,4})\s*$")


@dataclass(frozen=True)
class TocEntry:
    """A table-of-contents line: heading text and its page."""

    title: str
    page: int


@dataclass(frozen=True)
class LineInfo:
    """A source line with the section path it belongs to and its page if known."""

    number: int
    text: str
    section: str
    page: int | None
    is_heading: bool = False
    in_toc: bool = False
    context: str = ""  # the full heading titles, for search


def _strip(text: str) -> str:
    return clean_markup(text).strip(" *#\t").rstrip(".… ").strip()


def parse_toc(lines: list[RawLine]) -> tuple[list[TocEntry], set[int]]:
    """Find a table of contents ("Table des matières", "Sommaire"): entries and their line numbers."""
    entries: list[TocEntry] = []
    toc_lines: set[int] = set()
    start = next((i for i, r in enumerate(lines) if _TOC_TITLE.match(_strip(r.text))), None)
    if start is None:
        return entries, toc_lines
    toc_lines.add(lines[start].number)
    misses = 0
    for r in lines[start + 1 :]:
        text = r.text.strip()
        if not text:
            toc_lines.add(r.number)
            continue
        m = _TOC_ENTRY.match(r.text.rstrip())
        if m:
            title = re.sub(rf"^(?:{_ROMAN}|[A-H]|\d{{1,2}}|[a-h])\s*[.)]\s*", "", _strip(m.group(1)))
            entries.append(TocEntry(title, int(m.group(2))))
            toc_lines.add(r.number)
            misses = 0
        elif re.match(r"^annexes?\s*$", text, re.IGNORECASE):
            toc_lines.add(r.number)
        else:
            misses += 1
            if misses >= 1:
                break
    return entries, toc_lines


def heading_of(text: str, prev_blank: bool, next_blank: bool) -> tuple[str, str, str] | None:
    """(kind, label, title) when a line is a heading, else None."""
    raw = text.strip()
    if not raw or len(raw) > 300:
        return None
    if "\t" in raw and not re.match(r"^[A-Z0-9IVX]{1,4}\.\t[^\t]+$", raw):  # "2.\tLe Territoire"
        return None
    stripped = clean_markup(raw).strip("* ")
    stripped = re.sub(r"\t+", " ", stripped)
    for kind, pattern in _HEADING_PATTERNS:
        m = pattern.match(stripped)
        if not m:
            continue
        if kind == "markdown":
            if not raw.startswith("#"):
                return None
            return kind, m.group(1), _strip(m.group(2))
        if kind == "annexe":
            if not re.match(r"^annexe", stripped, re.IGNORECASE) or len(stripped) > 120:
                return None
            return kind, _strip(m.group(1)).title(), _strip(m.group(2))
        title = _strip(m.group(2))
        # A heading stands alone between blank lines and does not read as a list item or a sentence.
        if not (prev_blank and next_blank):
            return None
        if stripped.endswith((",", ";")) or len(title) < 3:
            return None
        if kind != "digit" and len(stripped) > 180:
            return None
        if stripped.endswith(":") and len(stripped) > 100:
            return None
        return kind, m.group(1), title
    return None


def lead_of(text: str, prev_blank: bool, next_blank: bool) -> str | None:
    """The title of a paragraph ("Perspectives 2022", "L'organisation du CEP actifs occupés"): a short line
    standing alone, starting with a capital, that neither ends a sentence, opens a list nor labels a value
    ("Source : …"); else None."""
    raw = text.strip()
    if not (prev_blank and next_blank) or not raw or "\t" in raw or is_item(raw):
        return None
    title = _strip(raw)
    if not (3 <= len(title) <= LEAD_MAX_CHARS) or not title[0].isupper():
        return None
    if raw.rstrip("* ").endswith((".", ";", ",", "!", "?")) or ":" in title:  # "Source : …" is a label
        return None
    return title


LEAD_MAX_CHARS = 90  # longer standalone lines are sentences, not titles


def annotate(lines: list[RawLine]) -> list[LineInfo]:
    """Give every line its section path ("IV › D › 5. Le Pôle Emploi") and page."""
    toc, toc_lines = parse_toc(lines)
    toc_keys = [(fold(e.title), e) for e in toc]
    numbered = any(re.match(rf"^\**{_ROMAN}\s*[.\-–]\s", r.text.strip()) for r in lines)
    stack: list[tuple[float, str, str]] = []  # (level, short label, full title)
    last_digit: dict[float, int] = {}
    page_of_section: int | None = None
    lead = ""  # the paragraph title in force, added to the context of the lines after it
    annex_titles = _annex_titles(lines, toc_lines)
    out: list[LineInfo] = []
    for i, r in enumerate(lines):
        if r.number in toc_lines:
            out.append(LineInfo(r.number, r.text, "Table des matières", r.page, False, True, "Table des matières"))
            continue
        prev_blank = i == 0 or not lines[i - 1].text.strip()
        next_blank = i + 1 >= len(lines) or not lines[i + 1].text.strip()
        h = heading_of(r.text, prev_blank, next_blank)
        if h is not None:
            kind, label, title = h
            if kind == "annexe" and not title:  # "ANNEXE 5" alone: its title in the list of annexes
                title = annex_titles.get(fold(label), "")
            toc_hit = _match_toc(toc_keys, title)
            if kind == "markdown":
                # Markdown headings nest under numbered ones when a document mixes both.
                level: float = float(len(label)) + (5.0 if numbered else 0.0)
                display = full = title
            else:
                level = float(_LEVEL[kind])
                display = f"{label}. {title}" if kind in ("digit", "lower") else label
                full = f"{label}. {title}"
                if kind == "annexe":
                    display = full = f"{label} {title}".strip()
            if kind == "digit":
                n = int(label)
                # A list numbered again from 1 under a numbered heading is one level deeper,
                # unless the table of contents names it.
                sub_open = 3.5 in last_digit and any(e[0] == 3.5 for e in stack)
                continues_sub = sub_open and last_digit.get(3.5) == n - 1
                restarts = n == 1 and any(e[0] == 3 for e in stack) and last_digit.get(3, 0) >= 1
                if toc_hit is None and (continues_sub or restarts):
                    level = 3.5
                last_digit[level] = n
            stack = [e for e in stack if e[0] < level]
            stack.append((level, display, full))
            for lv in list(last_digit):
                if lv > level:
                    del last_digit[lv]
            if toc_hit is not None:
                page_of_section = toc_hit.page
            elif level <= 2:
                page_of_section = None
            page = r.page or page_of_section
            lead = ""
            out.append(LineInfo(r.number, r.text, _path(stack), page, True, False, _context(stack)))
            continue
        lead = lead_of(r.text, prev_blank, next_blank) or lead
        context = " ; ".join(p for p in (_context(stack), lead) if p)
        out.append(LineInfo(r.number, r.text, _path(stack), r.page or page_of_section, False, False, context))
    return out


def _annex_titles(lines: list[RawLine], toc_lines: set[int]) -> dict[str, str]:
    """Titles of annexes, by label ("annexe 5" -> "Bilan CEP 2021 en Occitanie - Réseau Eva"), from a list of
    annexes that names each on the line after it; the annex itself often opens on its label alone."""
    titles: dict[str, str] = {}
    for i, r in enumerate(lines):
        if r.number in toc_lines or "nnexe" not in r.text[:20].lower():  # a cheap look before the heading rules
            continue
        h = heading_of(r.text, True, True)
        if h is None or h[0] != "annexe" or h[2]:
            continue
        nxt = [x for x in lines[i + 1 : i + 3] if x.text.strip()][:1]
        if nxt and heading_of(nxt[0].text, True, True) is None:
            title = lead_of(nxt[0].text, True, True)
            if title:
                titles.setdefault(fold(h[1]), title)
    return titles


def _path(stack: list[tuple[float, str, str]]) -> str:
    return SEPARATOR.join(short for _, short, _ in stack)


def _context(stack: list[tuple[float, str, str]]) -> str:
    return " ; ".join(full for _, _, full in stack)


def _match_toc(toc_keys: list[tuple[str, TocEntry]], title: str) -> TocEntry | None:
    key = fold(title)
    best: tuple[float, TocEntry | None] = (0.0, None)
    for k, entry in toc_keys:
        score = fuzz.ratio(key, k)
        if score > best[0]:
            best = (score, entry)
    return best[1] if best[0] >= 90 else None
