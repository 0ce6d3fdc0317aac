"""Figures at build time: every table as a DataFrame, every number in prose or lists as a fact row."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ingest.errors import KnowledgeError
from ingest.numbers import Quantity, find_quantities
from ingest.operators import Operator, load_operators
from ingest.records import content_id
from ingest.text import clean_markup, fold, sentences

log = logging.getLogger(__name__)

LEXICON_FILE = "figure_lexicon.toml"
# A table's notes ("* bénéficiaires : nombre d'individus différents…") stand within this many lines under it:
# 7 to 12 in the built-in report (two tables often share one note block), so 15 leaves room.
NOTE_WINDOW = 15
# How far after a number its clause may name its territory ("… des entrées en CEP tout opérateur confondu en
# Occitanie"): the longest such clause of the built-in report runs 75 characters; 40 missed it.
CLAUSE_SPAN = 120
FACTS_VERSION = 15  # bump when extraction changes: it is part of the corpus fingerprint

# Declared schemas: the saved tables always have these columns with these dtypes.
FACT_COLUMNS: dict[str, str] = {
    "fact_id": "string",
    "document": "string",
    "line": "int64",
    "first_line": "int64",  # citation span (a table cell cites its header row too)
    "last_line": "int64",
    "page": "Int64",
    "kind": "string",  # prose, list, table
    "section": "string",
    "context": "string",
    "value": "float64",
    "unit": "string",
    "number_text": "string",
    "display": "string",
    "denominator": "Int64",
    "sentence": "string",  # the sentence (or table row) that states the number
    "near": "string",  # the clause around the number
    "label": "string",
    "operator": "string",
    "operators": "string",  # comma-separated ids: sentence, table, section
    "operator_source": "string",
    "scope": "string",  # occitanie, national, other:<region>, or empty
    "scopes": "string",
    "scope_source": "string",
    "year": "Int64",
    "years": "string",
    "year_source": "string",
    "table": "string",
    "row_label": "string",
    "column": "string",
    "caption": "string",
}
COMPARISON_COLUMNS: dict[str, str] = {
    "operator": "string",
    "operator_name": "string",
    "scope": "string",
    "year": "Int64",
    "entrants": "float64",
    "sortants": "float64",
    "beneficiaires": "float64",
    "document": "string",
    "section": "string",
    "source_lines": "string",  # "2967" or "3186; 3177"
    "tables": "string",
}
COMPARISON_METRICS = ("entrants", "sortants", "beneficiaires")
# A year: four digits not inside a longer number ("2019," ends a clause; "2019,5" or "1.2019" are numbers).
_YEAR = re.compile(r"(?<!\d)(?<!\d[.,])(19[5-9]\d|20[0-4]\d)(?!\d)(?![.,]\d)")


class FactsFormatError(ValueError):
    """A table that cannot be read as rows and columns."""


@dataclass(frozen=True)
class Lexicon:
    """Scope words, masks, qualifiers, question cues and synonyms (knowledge/figure_lexicon.toml)."""

    occitanie: tuple[str, ...]
    regional: tuple[str, ...]
    national: tuple[str, ...]
    other_regions: tuple[str, ...]
    not_scope: tuple[str, ...]
    not_operator: tuple[str, ...]
    qualifiers_before: tuple[str, ...]
    qualifiers_after: tuple[str, ...]
    cues: tuple[str, ...]
    phrases: tuple[str, ...]
    open_words: tuple[str, ...]
    units: dict[str, tuple[str, ...]]
    synonyms: tuple[tuple[str, ...], ...]
    metrics: tuple[int, ...] = ()  # indices of the synonym groups that name what a figure counts
    # words a fact's sentence must hold to answer a unit ("38 ans" answers an age only near "âge")
    unit_evidence: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _strs(path: Path, data: dict, *keys: str) -> tuple[str, ...]:
    node: object = data
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            raise KnowledgeError(f"{path} : entrée « {'.'.join(keys)} » manquante.")
        node = node[k]
    if not isinstance(node, list) or not all(isinstance(x, str) for x in node):
        raise KnowledgeError(f"{path} : « {'.'.join(keys)} » doit être une liste de textes.")
    return tuple(fold(x) for x in node)


@lru_cache(maxsize=8)
def load_lexicon(knowledge_dir: Path) -> Lexicon:
    """The figure lexicon, validated; a clear error names the file and the entry."""
    path = knowledge_dir / LEXICON_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path} : lecture impossible ({exc}).") from exc
    units_node = data.get("question", {}).get("units", {})
    if not isinstance(units_node, dict):
        raise KnowledgeError(f"{path} : « question.units » doit être une table.")
    units = {k: _strs(path, units_node, k) for k in units_node if k != "evidence"}
    evidence_node = units_node.get("evidence", {})
    if not isinstance(evidence_node, dict):
        raise KnowledgeError(f"{path} : « question.units.evidence » doit être une table.")
    unit_evidence = {k: _strs(path, evidence_node, k) for k in evidence_node}
    synonyms = []
    metrics = []
    for i, group in enumerate(data.get("synonyms", []), start=1):
        words = group.get("words") if isinstance(group, dict) else None
        if not isinstance(words, list) or len(words) < 2:
            raise KnowledgeError(f"{path}, synonymes n°{i} : au moins deux mots attendus.")
        if not isinstance(group.get("metric", False), bool):
            raise KnowledgeError(f"{path}, synonymes n°{i} : « metric » doit valoir true ou false.")
        if group.get("metric", False):
            metrics.append(i - 1)
        synonyms.append(tuple(fold(w) for w in words))
    return Lexicon(
        occitanie=_strs(path, data, "scope", "occitanie"),
        regional=_strs(path, data, "scope", "regional"),
        national=_strs(path, data, "scope", "national"),
        other_regions=_strs(path, data, "scope", "other_regions"),
        not_scope=_strs(path, data, "scope", "not_scope"),
        not_operator=_strs(path, data, "operators", "not_operator"),
        qualifiers_before=_strs(path, data, "qualifiers", "before"),
        qualifiers_after=_strs(path, data, "qualifiers", "after"),
        cues=_strs(path, data, "question", "cues"),
        phrases=_strs(path, data, "question", "phrases"),
        open_words=_strs(path, data, "question", "open_words"),
        units=units,
        synonyms=tuple(synonyms),
        metrics=tuple(metrics),
        unit_evidence=unit_evidence,
    )


# --- entity mentions on folded text --------------------------------------------------------------


def _mask(text: str, phrases: Iterable[str]) -> str:
    for p in sorted(phrases, key=len, reverse=True):
        text = re.sub(rf"(?<![a-z0-9]){re.escape(p)}(?![a-z0-9])", lambda m: " " * len(m.group()), text)
    return text


@lru_cache(maxsize=4096)
def _phrase_re(phrase: str, loose: bool) -> re.Pattern[str]:
    """A phrase as a regex; loose accepts plural and feminine endings ("opérateurs régionaux")."""
    if not loose:
        return re.compile(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])")
    parts = []
    for w in phrase.split():
        if w.endswith("al") and len(w) > 4:
            parts.append("(?:" + "|".join(map(re.escape, _adjective_forms(w))) + ")")
        elif len(w) > 3 and w[-1].isalpha():
            parts.append(re.escape(w) + "(?:e|s|es|x)?")
        else:
            parts.append(re.escape(w))
    return re.compile(r"(?<![a-z0-9])" + r"[\s'-]+".join(parts) + r"(?![a-z0-9])")


def _find_all(text: str, phrases: Iterable[tuple[str, str]], loose: bool = False) -> list[tuple[str, int, int]]:
    """(key, start, end) of every phrase of (key, phrase) in text, longest first, no overlaps."""
    taken: list[tuple[int, int]] = []
    out: list[tuple[str, int, int]] = []
    for key, p in sorted(phrases, key=lambda kp: len(kp[1]), reverse=True):
        for m in _phrase_re(p, loose).finditer(text):
            s, e = m.span()
            if any(s < te and ts < e for ts, te in taken):
                continue
            taken.append((s, e))
            out.append((key, s, e))
    return sorted(out, key=lambda x: x[1])


def _adjective_forms(w: str) -> list[str]:
    """A word and, for an adjective in -al or -an, its other forms ("national": nationale, nationales,
    nationaux; "occitan": occitane, occitans, occitanes)."""
    if w.endswith("al"):
        return [w, w + "e", w + "es", w[:-2] + "aux"]
    if w.endswith("an"):
        return [w, w + "e", w + "s", w + "es"]
    return [w]


def _inflected(words: Iterable[str]) -> list[str]:
    """The lexicon's words with the other forms of their one-word adjectives."""
    return list(dict.fromkeys(f for w in words for f in ([w] if " " in w else _adjective_forms(w))))


class Entities:
    """Finds operators, scopes and years in folded text, with the lexicon's masks."""

    def __init__(self, operators: dict[str, Operator], lexicon: Lexicon) -> None:
        self.operators = operators
        self.lexicon = lexicon
        self._op_phrases = [(op.id, a) for op in operators.values() for a in op.aliases if a]
        regions = [(f"other:{_region_key(r)}", r) for r in lexicon.other_regions]
        self._scope_phrases = (
            [("occitanie", w) for w in _inflected(lexicon.occitanie)]
            + [("regional", w) for w in _inflected(lexicon.regional)]
            + [("national", w) for w in _inflected(lexicon.national)]
            + regions
        )
        self.home = ""  # the region the current document is about: what "régional" means there

    def operator_mentions(self, folded: str) -> list[tuple[str, int, int]]:
        return _find_all(_mask(folded, self.lexicon.not_operator), self._op_phrases, loose=True)

    def scope_mentions(self, folded: str) -> list[tuple[str, int, int]]:
        masked = _mask(folded, [m for m in self.lexicon.not_scope if m not in self.lexicon.other_regions])
        found = _find_all(masked, self._scope_phrases)
        # "Île-de-France" is a region, not France: region names win over the words inside them.
        return [((self.home or k) if k == "regional" else k, s, e) for k, s, e in found]

    def home_region(self, texts: Iterable[str]) -> str:
        """The region a document is about: its most cited region name, if clearly ahead."""
        counts: dict[str, int] = {}
        saved, self.home = self.home, ""
        for t in texts:
            for k, _, _ in self.scope_mentions(fold(clean_markup(t))):
                if k == "occitanie" or k.startswith("other:"):
                    counts[k] = counts.get(k, 0) + 1
        self.home = saved
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        if ranked and ranked[0][1] >= 3 and (len(ranked) == 1 or ranked[0][1] >= 2 * ranked[1][1]):
            return ranked[0][0]
        return ""

    def operators_in(self, text: str) -> list[str]:
        return list(dict.fromkeys(k for k, _, _ in self.operator_mentions(fold(clean_markup(text)))))

    def scopes_in(self, text: str) -> list[str]:
        return list(dict.fromkeys(k for k, _, _ in self.scope_mentions(fold(clean_markup(text)))))


def _region_key(name: str) -> str:
    return re.sub(r"[^a-z]+", "-", fold(name)).strip("-")


# Words before a year that make it the reference of a comparison, not the year the number is about.
_COMPARED_YEAR = re.compile(r"(?:comme en|qu'en|qu en|par rapport a(?: l'annee)?|rapport a|contre|vs\.?|depuis)\s*$")


def _label_lines(lines: list, k: int, table_lines: set[int], most: int = 3) -> list:
    """The label of a number standing alone on its line, as infographics converted from PDF lay them out:
    the lines right below it (one blank line may sit between) when they start in lower case, up to a blank."""
    qs = find_quantities(clean_markup(lines[k].text))
    bare = len(qs) == 1 and not re.search(r"[^\W\d_]", clean_markup(lines[k].text).replace(qs[0].text, ""))
    if not bare:
        return []
    j = k + 1
    if j < len(lines) and not lines[j].text.strip():
        j += 1
    out: list = []
    while j < len(lines) and len(out) < most and lines[j].text.strip() and lines[j].number not in table_lines:
        if not out and not lines[j].text.strip()[0].islower():
            return []
        if lines[j].is_heading or lines[j].in_toc:
            break
        out.append(lines[j])
        j += 1
    return out


def years_in(text: str) -> list[int]:
    """Years written in a text (1950-2049), in order."""
    return [int(y) for y in _YEAR.findall(text)]


# --- tables ---------------------------------------------------------------------------------------


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
class _Block:
    kind: str  # tab, markdown, html
    lines: list[int]  # source line numbers of the rows
    rows: list[list[str]]  # raw cells


def _cell(text: str) -> str:
    return clean_markup(text).strip()


def _is_value_cell(text: str) -> bool:
    """A cell that holds numbers only (maybe with a unit and 'soit'): '175 837', '43 %', '529 soit 46,24 %'."""
    qs = [q for q in find_quantities(text) if not (q.unit == "count" and _YEAR.fullmatch(q.text))]
    if not qs:
        return False
    rest = text
    for q in reversed(qs):
        rest = rest[: q.start] + rest[q.end :]
    return len(re.findall(r"[A-Za-zÀ-ÿ]{2,}", rest)) <= 1


def _split_tab(text: str) -> list[str]:
    cells = text.split("\t")
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


_MD_ROW = re.compile(r"^\s*\|.*\|\s*$")
_MD_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def find_blocks(lines: list) -> tuple[list[_Block], list[tuple[int, int, str]]]:
    """Table blocks of a document's annotated lines, and malformed blocks (first, last, reason)."""
    blocks: list[_Block] = []
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
                blocks.append(_Block("html", [li.number] * len(rows), rows))
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
                blocks.append(_Block("markdown", nums, rows))
            i = max(j, i + 1)
            continue
        if "\t" in text and text.strip() and not li.is_heading:
            j = i
            while j < n and "\t" in lines[j].text and lines[j].text.strip() and not lines[j].in_toc:
                j += 1
            if j - i >= 2:
                rows = [lines[i].text.split("\t")] + [_split_tab(lines[k].text) for k in range(i + 1, j)]
                blocks.append(_Block("tab", [lines[k].number for k in range(i, j)], rows))
            i = max(j, i + 1)
            continue
        i += 1
    return blocks, bad


def _header_of(rows: list[list[str]]) -> bool:
    first = [c for c in rows[0] if c.strip()]
    values = sum(_is_value_cell(_cell(c)) for c in first)
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


def block_frame(block: _Block) -> tuple[pd.DataFrame, bool]:
    """The DataFrame of a table block (numeric columns as float64, others as string), and whether it has a header."""
    rows = [[_cell(c) for c in r] for r in block.rows]
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


# --- extraction -----------------------------------------------------------------------------------


@dataclass
class _Ctx:
    """What the surroundings say: operators, scope, years, from a caption, a table or a section."""

    operators: list[str] = field(default_factory=list)
    scope: str = ""
    years: list[int] = field(default_factory=list)


class _TableFacts:
    """Facts of table cells: each cell with its row, column, caption and section (a part of _Extractor)."""

    entities: Entities
    lexicon: Lexicon

    def add(self, *, q: Quantity, operators: list[str], scopes: list[str], years: list[int], **cols) -> None:
        raise NotImplementedError  # _Extractor keeps the rows

    def _caption(self, lines: list, first: int, previous: TableRecord | None) -> list:
        """Up to three text lines just above a table (nearest first), skipping sources and notes."""
        out: list = []
        idx = next(i for i, li in enumerate(lines) if li.number == first)
        stop = previous.last_line if previous is not None else 0
        for li in reversed(lines[max(0, idx - 12) : idx]):
            if li.number <= stop or len(out) >= 3:
                break
            t = clean_markup(li.text)
            if not t or re.match(r"^(source|champs?|\*|note)", fold(t)):
                continue
            out.append(li)
        return out

    def _notes(self, doc, last_line: int, labels: Iterable[str]) -> dict[str, str]:
        """What a starred label means, from the note under its table: "Bénéficiaires*" with
        "* bénéficiaires : nombre d'individus différents…" or "Bénéficiaires* : nombre d'individus…"."""
        starred = {x for x in labels if x.endswith("*") and x.rstrip("*").strip()}
        if not starred:
            return {}
        after = [li for li in doc.lines if last_line < li.number <= last_line + NOTE_WINDOW and li.text.strip()]
        out: dict[str, str] = {}
        for label in starred:
            key = re.escape(label.rstrip("*").strip())
            for li in after:
                m = re.search(rf"(?:^\*+\s*{key}|{key}\s*\*+)\s*:\s*(.+)", li.text.strip(), re.IGNORECASE)
                if m:
                    out[label] = clean_markup(m.group(1)).strip()
                    break
        return out

    def table_facts(self, doc, record: TableRecord, block: _Block, has_header: bool, cap: _Ctx, sect: _Ctx) -> None:
        rows = [[_cell(c) for c in r] for r in block.rows]
        header = rows[0] if has_header else []
        notes = self._notes(doc, record.last_line, [c for r in rows for c in r])
        body = (
            list(zip(block.lines[1:], rows[1:], strict=True))
            if has_header
            else list(zip(block.lines, rows, strict=True))
        )
        # Operators named across the header: a column naming none ("Total") is about no single one.
        op_columns = sum(bool(self.entities.operator_mentions(fold(h))) for h in header)
        group = ""
        for number, cells in body:
            labels = [c for c in cells if c and not _is_value_cell(c)]
            if not any(_is_value_cell(c) for c in cells if c):
                group = " ".join(labels)  # a row without numbers titles the rows below ("Sexe", "Ages")
                continue
            group_here = "" if cells and cells[0] else group
            row_label = " ".join(labels)
            for j, c in enumerate(cells):
                if not c or not _is_value_cell(c):
                    continue
                column = header[j] if j < len(header) else ""
                for q in find_quantities(c):
                    if _YEAR.fullmatch(q.text) and q.unit == "count":
                        continue
                    own_op = bool(self.entities.operator_mentions(fold(f"{column} {row_label}")))
                    shared = op_columns >= 2 and not own_op
                    self.table_fact(
                        doc,
                        record,
                        number,
                        q,
                        row_label,
                        column,
                        group_here,
                        cells,
                        _Ctx([], cap.scope, cap.years) if shared else cap,
                        _Ctx([], sect.scope, sect.years) if shared else sect,
                        " ".join(notes[x] for x in (row_label, column) if x in notes),
                    )

    def table_fact(
        self, doc, record, number, q: Quantity, row_label, column, group, cells, cap: _Ctx, sect: _Ctx, note: str = ""
    ) -> None:
        e = self.entities
        own = fold(f"{column} {row_label} {group}")
        row_ops = [k for k, _, _ in e.operator_mentions(own)]
        row_scopes = [k for k, _, _ in e.scope_mentions(fold(f"{column} {row_label}"))]
        ops, op_src = (
            (row_ops, "table")
            if row_ops
            else (cap.operators, "caption")
            if cap.operators
            else (sect.operators, "section")
        )
        scope, scope_src = (
            (row_scopes[0], "table") if row_scopes else (cap.scope, "caption") if cap.scope else (sect.scope, "section")
        )
        years = years_in(f"{column} {row_label}") or cap.years or sect.years
        year_src = "table" if years_in(f"{column} {row_label}") else "caption" if cap.years else "section"
        if not years and doc.info.year:
            years, year_src = [doc.info.year], "document"
        label = " — ".join(x for x in (group, row_label, column) if x)
        sentence = " | ".join(c for c in cells if c)
        all_ops = list(dict.fromkeys([*row_ops, *cap.operators, *sect.operators]))
        li = doc.line(number)
        self.add(
            document=record.document,
            line=number,
            first_line=record.header_line or number,
            last_line=number,
            page=li.page if li else None,
            kind="table",
            section=record.section,
            context=li.context if li else "",
            q=q,
            sentence=sentence,
            near=f"{group} {row_label} {column} {note}".strip(),
            label=label,
            operator=ops[0] if ops else "",
            operators=all_ops,
            operator_source=op_src if ops else "",
            scope=scope,
            scopes=list(dict.fromkeys([s for s in (*row_scopes, scope) if s])),
            scope_source=scope_src if scope else "",
            years=years,
            year_source=year_src if years else "",
            table=record.name,
            row_label=row_label,
            column=column,
            caption=record.caption,
        )


class _ProseFacts:
    """Facts of numbers in sentences: each with its clause, operators, territory and years (a part of _Extractor)."""

    entities: Entities
    lexicon: Lexicon

    def add(self, *, q: Quantity, operators: list[str], scopes: list[str], years: list[int], **cols) -> None:
        raise NotImplementedError  # _Extractor keeps the rows

    def section_ctx(self, context: str, doc_year: int | None) -> _Ctx:
        raise NotImplementedError  # _Extractor caches what each section says

    def prose_facts(self, name: str, doc, li, last_line: int | None = None) -> None:
        """Facts of the numbers of one line (last_line: where its text ends, when it was joined to the next)."""
        text = clean_markup(li.text)
        if not any(ch.isdigit() for ch in text):
            return
        kind = "list" if re.match(r"^\s*([-*•✓❖➤⇒]|\d+[.)]\s)", li.text.strip()) else "prose"
        sect = self.section_ctx(li.context, doc.info.year)
        for sent in sentences(text):
            qs = find_quantities(sent)
            if not qs:
                continue
            kept = [q for q in qs if self._is_figure(sent, q)]
            if not kept:
                continue
            f_sent = fold(sent)
            sent_ops = self.entities.operator_mentions(f_sent)
            sent_years = years_in(sent)
            resp = self._respectively(sent, kept)
            spans = [
                (kept[i - 1].end if i else 0, q.start, q.end, kept[i + 1].start if i + 1 < len(kept) else len(sent))
                for i, q in enumerate(kept)
            ]
            named_after = [self._scope_after(sent[e:n]) for _, _, e, n in spans]  # each number's own territory
            own_after = [Counter(k for k, _, _ in m) for m in named_after]
            for i, q in enumerate(kept):
                prev_end, _, _, next_start = spans[i]
                before, after = sent[prev_end : q.start], sent[q.end : next_start]
                # a number in parentheses ("(sur 149 625 entrées)") reads with the clause it stands in
                aside = sent[: q.start].count("(") > sent[: q.start].count(")")
                claimed = None if aside else sum((own_after[j] for j in range(len(kept)) if j != i), Counter())
                scope, scopes = self._scope(sent, before, named_after[i], resp.get(i), bool(i), claimed)
                scope_src = "sentence" if scope else ""
                if not scope:
                    scope, scope_src = (sect.scope, "section") if sect.scope else ("", "")
                ops = self._nearest_ops(f_sent, sent_ops, q, len(sent))
                op_src = "sentence" if ops else ""
                if not ops and sect.operators:
                    ops, op_src = sect.operators[:1], "section"
                years = sent_years
                year_src = "sentence" if years else ""
                if not years:
                    years, year_src = (sect.years, "section") if sect.years else ([], "")
                if not years and doc.info.year:
                    years, year_src = [doc.info.year], "document"
                default_years = sect.years or ([doc.info.year] if doc.info.year else [])
                own = _own_before(before, bool(i), len(kept) > 1, after)[-160:]
                near = f"{own}{q.text}{_own_after(after, before)[:160]}"
                self.add(
                    document=name,
                    line=li.number,
                    first_line=li.number,
                    last_line=last_line or li.number,
                    page=li.page,
                    kind=kind,
                    section=li.section,
                    context=li.context,
                    q=q,
                    sentence=sent,
                    near=near.strip(),
                    label=_label(before, after),
                    operator=ops[0] if ops else "",
                    operators=list(dict.fromkeys([k for k, _, _ in sent_ops] + sect.operators)),
                    operator_source=op_src,
                    scope=scope,
                    scopes=scopes or ([scope] if scope else []),
                    scope_source=scope_src,
                    years=list(dict.fromkeys([*self._nearest_years(sent, q, years), *default_years])),
                    year_source=year_src,
                    table="",
                    row_label="",
                    column="",
                    caption="",
                )

    def _is_figure(self, sent: str, q: Quantity) -> bool:
        """False for years, dates, ordinals, ranges and numbers that name things ('niveau 6')."""
        if q.unit == "count" and not q.signed and _YEAR.fullmatch(q.number):
            return False
        before = fold(sent[max(0, q.start - 30) : q.start])
        after = fold(sent[q.end : q.end + 20])
        last = re.search(r"([a-z0-9°.+]+)\s*$", before)  # the word right before, no punctuation between
        if last and last.group(1).rstrip(".") in {w.rstrip(".") for w in self.lexicon.qualifiers_before}:
            return False
        if re.search(r"(?:n\s?°|l\.|r\.|d\.)\s*$", before):
            return False
        first_after = re.findall(r"[a-z]+", after[:15])
        if q.unit == "count" and first_after and first_after[0] in self.lexicon.qualifiers_after:
            return False
        if re.search(r"\d\s?[-–/]\s?$", sent[max(0, q.start - 3) : q.start]) or re.match(
            r"^\s?[-–/]\s?\d", sent[q.end : q.end + 3]
        ):
            return False  # a range "25-44 ans", a date "01/02"
        if re.search(r"\bentre\s*$", before) and re.match(r"^\s*(?:et|a)\s+\d", after):
            return False
        if re.match(r"^\s*(?:a|et)\s+\d+\s*ans\b", after):
            return False  # the lower bound of an age range: "jeunes de 16 à 25 ans" counts no one
        if re.search(r"\bentre\s+\d+\s+(?:et|a)\s*$", before) or re.search(r"\bde\s+\d+\s+a\s*$", before):
            return False
        if q.unit == "count" and re.match(r"^[.)]\s", sent[q.end : q.end + 2]) and not sent[: q.start].strip(" -*•✓"):
            return False  # "1. SI Parcours H": a list number
        return not (q.unit == "count" and re.match(r"^\s*(?:etoiles?|etoile)\b", after))

    def _respectively(self, sent: str, kept: list[Quantity]) -> dict[int, str]:
        """'En Occitanie et au national ... respectivement 24 % et 26 %': scopes in order."""
        f = fold(sent)
        pos = f.find("respectivement")
        if pos < 0:
            return {}
        scopes = [k for k, s, _ in self.entities.scope_mentions(f[:pos])]
        scopes = list(dict.fromkeys(scopes))
        after = [i for i, q in enumerate(kept) if q.start > pos]
        if len(scopes) < 2 or len(after) < 2:
            return {}
        return {i: scopes[k] for k, i in enumerate(after[: len(scopes)])}

    def _scope(
        self,
        sent: str,
        before: str,
        named_after: list[tuple[str, int, int]],
        forced: str | None,
        multi: bool,
        claimed: Counter[str] | None = None,
    ) -> tuple[str, list[str]]:
        """A number's territory and all those it is about. named_after: the territories right after the number, in
        its clause (_scope_after); claimed: those named right after the other numbers of the sentence."""
        e = self.entities
        mentioned = Counter(k for k, _, _ in e.scope_mentions(fold(sent)))
        all_found = list(mentioned)
        if forced:
            return forced, [forced]
        # right after the number, in the same clause: "19.22 % sur l'Occitanie", "41 % au niveau national"
        m = named_after
        if m:
            return m[0][0], [m[0][0]]
        # before the number, only its own clause: "… au niveau national et 68.86 % …" is not about the national
        fb = re.split(r"[,;:(]|\bcontre\b|\bet\b|\bvs\b", fold(before))[-1] if multi else fold(before)
        found = e.scope_mentions(fb)
        main = [
            k
            for k, s, _ in found
            if not re.search(r"(?:comme|ainsi qu|tout comme)\s+(?:au|en|a|le|la|l')?\s*(?:niveau\s+)?$", fb[:s])
        ]
        also = [k for k, _, _ in found if k not in main]
        if main:
            chosen = main[-1] if len(main) == 1 or not fb.strip().startswith(("en ", "au ", "a ", "sur ")) else main[0]
            # "La moyenne d'âge en Occitanie et au national est de 21 ans": every territory of its clause
            return chosen, list(dict.fromkeys([chosen, *main, *also]))
        # a territory named right after another number of the sentence is that number's ("9 731 membres …
        # dont 3 810 en Occitanie"): the sentence lends the others only the territories no number claims
        free = [k for k in all_found if mentioned[k] > (claimed or Counter())[k]]
        if free:
            return free[0], free
        return "", []

    def _scope_after(self, after: str) -> list[tuple[str, int, int]]:
        """Territories named right after a number, in its clause ("19.22 % sur l'Occitanie")."""
        clause = re.split(r"[,;:(]|\bcontre\b|\bet\b|\bvs\b", fold(after), maxsplit=1)[0]
        return self.entities.scope_mentions(clause[:CLAUSE_SPAN])

    def _nearest_ops(self, f_sent: str, mentions: list[tuple[str, int, int]], q: Quantity, n: int) -> list[str]:
        if not mentions:
            return []
        scale = len(f_sent) / max(n, 1)
        pos = q.start * scale
        ordered = sorted(mentions, key=lambda m: min(abs(m[1] - pos), abs(m[2] - pos)))
        return list(dict.fromkeys(k for k, _, _ in ordered))

    def _nearest_years(self, sent: str, q: Quantity, years: list[int]) -> list[int]:
        """Years of the sentence, nearest first; a year of comparison ("comme en 2020") comes last."""
        found = [(int(m.group()), m.start()) for m in _YEAR.finditer(sent)]
        if not found:
            return years

        def compared(start: int) -> bool:
            return bool(_COMPARED_YEAR.search(fold(sent[max(0, start - 25) : start])))

        found.sort(key=lambda ym: (compared(ym[1]), abs(ym[1] - q.start)))
        return list(dict.fromkeys(y for y, _ in found))


class _Extractor(_TableFacts, _ProseFacts):
    """Every number of a corpus as a fact row, with what it is about; tables as DataFrames."""

    def __init__(self, corpus, knowledge_dir: Path) -> None:  # corpus: ingest.corpus.Corpus
        self.corpus = corpus
        self.lexicon = load_lexicon(knowledge_dir)
        self.entities = Entities(load_operators(knowledge_dir), self.lexicon)
        self.rows: list[dict] = []
        self.tables: list[TableRecord] = []
        self.errors: list[str] = []
        self._section_cache: dict[str, _Ctx] = {}

    # context of a section path (its full heading titles)
    def section_ctx(self, context: str, doc_year: int | None) -> _Ctx:
        key = f"{context}|{doc_year}|{self.entities.home}"
        if key not in self._section_cache:
            parts = [p for p in context.split(" ; ") if p and p != "Table des matières"]
            ops: list[str] = []
            scope = ""
            years: list[int] = []
            for p in reversed(parts):  # the deepest heading speaks first
                f = fold(clean_markup(p))
                ops = ops or [k for k, _, _ in self.entities.operator_mentions(f)]
                found = [k for k, _, _ in self.entities.scope_mentions(f)]
                scope = scope or (found[0] if found else "")
                years = years or years_in(p)
            self._section_cache[key] = _Ctx(list(dict.fromkeys(ops)), scope, years)
        return self._section_cache[key]

    def run(self) -> None:
        for name, doc in self.corpus.documents.items():
            try:
                self.document(name, doc)
            except Exception as exc:  # one bad document never breaks the build
                log.warning("%s : extraction des chiffres impossible (%s).", name, exc)
                self.errors.append(f"{name} : extraction des chiffres impossible ({type(exc).__name__}: {exc}).")

    def document(self, name: str, doc) -> None:
        lines = doc.lines
        if not doc.info.year:  # no manifest year: the year in the document's title, if any
            from dataclasses import replace

            title_years = years_in(doc.info.title)
            if title_years:
                doc = type(doc)(replace(doc.info, year=title_years[0]), doc.lines, doc.sha256)
        self.entities.home = self.entities.home_region(li.text for li in lines)
        by_number = {li.number: li for li in lines}
        blocks, bad = find_blocks(lines)
        for first, last, reason in bad:
            self._report(name, first, last, reason)
        table_lines: set[int] = set()
        previous: TableRecord | None = None
        for block in blocks:
            first, last = block.lines[0], block.lines[-1]
            tname = f"{name} · tableau lignes {first}-{last}"
            try:
                frame, has_header = block_frame(block)
            except (FactsFormatError, ValueError, KeyError) as exc:
                self._report(name, first, last, str(exc))
                continue
            li = by_number[first]
            caption_lines = self._caption(lines, first, previous)
            caption = " / ".join(clean_markup(c.text) for c in caption_lines)
            if caption_lines:
                tname = f"{tname} « {clean_markup(caption_lines[0].text)[:80]} »"
            sect = self.section_ctx(li.context, doc.info.year)
            cap_f = fold(caption)
            cap_scopes = [k for k, _, _ in self.entities.scope_mentions(cap_f)]
            scope = cap_scopes[0] if cap_scopes else ""
            near_previous = (
                previous is not None
                and previous.section.split(" › ")[:3] == li.section.split(" › ")[:3]
                and first - previous.last_line <= 40
            )
            if not scope and near_previous and previous is not None:
                scope = previous.scope
            years = next((years_in(c.text) for c in caption_lines if years_in(c.text)), [])
            if not years and near_previous and previous is not None:
                years = [previous.year] if previous.year else []
            record = TableRecord(
                name=tname,
                document=name,
                section=li.section,
                first_line=first,
                last_line=last,
                header_line=block.lines[0] if has_header else None,
                caption=caption,
                frame=frame,
                scope=scope,
                year=years[0] if years else None,
                row_lines=block.lines[1:] if has_header else list(block.lines),
            )
            self.tables.append(record)
            previous = record
            table_lines.update(block.lines)
            cap_ctx = _Ctx([k for k, _, _ in self.entities.operator_mentions(cap_f)], scope, years)
            self.table_facts(doc, record, block, has_header, cap_ctx, sect)
        labels: set[int] = set()  # lines read as the label of a bare number above them
        for k, li in enumerate(lines):
            if li.in_toc or li.is_heading or not li.text.strip() or li.number in labels:
                continue
            label = [] if li.number in table_lines else _label_lines(lines, k, table_lines)
            if label:  # "13678" / "personnes accompagnées dans leur" / "projet d'évolution professionnelle"
                labels.update(x.number for x in label)
                text = " ".join([li.text.strip(), *(x.text.strip() for x in label)])
                self.prose_facts(name, doc, dataclasses.replace(li, text=text), last_line=label[-1].number)
                continue
            if li.number in table_lines:
                # a cell that is a sentence ("2,66 jours par conseiller") reads as prose, each on its own
                cells = [c for c in _split_tab(li.text) if any(ch.isdigit() for ch in c) and not _is_value_cell(c)]
                if cells:
                    self.prose_facts(name, doc, dataclasses.replace(li, text="\n".join(cells)))
                continue
            self.prose_facts(name, doc, li)

    def _report(self, name: str, first: int, last: int, reason: str) -> None:
        msg = f"{name} : tableau lignes {first}-{last} ignoré ({reason})."
        log.warning("%s", msg)
        self.errors.append(msg)

    def add(self, *, q: Quantity, operators: list[str], scopes: list[str], years: list[int], **cols) -> None:
        row = dict(cols)
        row.update(
            fact_id=content_id(cols["document"], str(cols["line"]), str(q.start), q.text, cols["sentence"]),
            value=q.value,
            unit=q.unit,
            number_text=q.text,
            display=q.display,
            denominator=q.denominator,
            operators=",".join(operators),
            scopes=",".join(scopes),
            year=years[0] if years else None,
            years=",".join(str(y) for y in years),
        )
        self.rows.append(row)


def _own_before(before: str, has_previous: bool, has_siblings: bool = False, after: str = "") -> str:
    """The words before a number that speak of it: after the last ')' or ';' (or 'et', ',', 'dont' after another).

    When a sentence states several numbers, its opening words are everyone's subject: the first
    number keeps only the few words right before it ("au recours fort (13%)").
    """
    cut = max(before.rfind(")"), before.rfind(";"), before.rfind(" – "))
    opened = before.rfind("(")
    aside = after.split(")", 1)[0] if opened >= 0 else ""
    if opened > cut and re.search(r"[^\W\d_]", before[opened:]) and re.search(r"[^\W\d_]{2,}", aside):
        cut = opened  # "(les 4 % restants estiment …)": an aside with its own subject, not "(à hauteur de 9 %)"
    if has_previous:
        # "84 % … en recherche d'emploi dont 61 % inscrits": "dont" and "soit" open the next number's clause
        cut = max(cut, before.rfind(" et "), before.rfind(","), before.rfind(" contre "))
        cut = max(cut, before.rfind(" dont "), before.rfind(" soit "))
    own = before[cut + 1 :] if cut >= 0 else before
    if has_siblings and not has_previous:
        own = " ".join(own.split()[-4:]) + (" " if own.endswith(" ") else "")
    return own


def _own_after(after: str, before: str) -> str:
    """The words after a number that speak of it: up to '(' or ';' (or ')' when the number is in parentheses)."""
    stops = [";", " – "] + ([")"] if before.rstrip().endswith("(") else [])
    cuts = [after.find(c) for c in stops if after.find(c) >= 0]
    paren = re.search(r"\((?=[^)]{0,30}\d)", after)  # "(92 sites": another number's parenthesis
    if paren:
        cuts.append(paren.start())
    return after[: min(cuts)] if cuts else after


def _label(before: str, after: str) -> str:
    """A short name of what a number counts: the words after it, else the words before it."""
    a = re.split(r"[.;:,(]", clean_markup(after), maxsplit=1)[0].strip()
    words_after = a.split()
    if len(words_after) >= 2 and not re.match(r"^(soit|contre|et|ou|par|en|au|sur|pour)\b", a):
        return " ".join(words_after[:8])
    b = re.split(r"[.;:(]", clean_markup(before))[-1].strip()
    return " ".join(b.split()[-8:]) or a


# --- the result -----------------------------------------------------------------------------------


def _typed(frame: pd.DataFrame, schema: dict[str, str]) -> pd.DataFrame:
    for c in schema:
        if c not in frame.columns:
            frame[c] = pd.NA
    frame = frame[list(schema)]
    return frame.astype(schema)


@dataclass
class FactTables:
    """The figures of a corpus: fact rows, tables as DataFrames, the operator comparison, errors."""

    facts: pd.DataFrame
    tables: list[TableRecord]
    comparison: pd.DataFrame
    errors: list[str] = field(default_factory=list)

    def save(self, directory: Path) -> None:
        """Write facts, comparison and tables as parquet (csv if pyarrow is missing) with a manifest."""
        directory.mkdir(parents=True, exist_ok=True)
        tdir = directory / "tables"
        tdir.mkdir(exist_ok=True)
        for old in tdir.iterdir():
            old.unlink()
        fmt = _format()
        _write(self.facts, directory / f"facts.{fmt}", fmt)
        _write(self.comparison, directory / f"comparison.{fmt}", fmt)
        metas = []
        for i, t in enumerate(self.tables):
            file = f"table_{i:04d}.{fmt}"
            _write(t.frame, tdir / file, fmt)
            metas.append({**t.meta(), "file": file})
        manifest = {"version": FACTS_VERSION, "format": fmt, "errors": self.errors, "tables": metas}
        (directory / "facts_manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> FactTables:
        """Read what save() wrote; a missing or old manifest raises a clear error."""
        path = directory / "facts_manifest.json"
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise KnowledgeError(
                f"{path} : tables de chiffres absentes ou illisibles ({exc}) ; reconstruisez l'index."
            ) from exc
        if manifest.get("version") != FACTS_VERSION:
            raise KnowledgeError(
                f"{path} : version {manifest.get('version')} des tables de chiffres ; reconstruisez l'index."
            )
        fmt = manifest["format"]
        facts = _typed(_read(directory / f"facts.{fmt}", fmt), FACT_COLUMNS)
        comparison = _typed(_read(directory / f"comparison.{fmt}", fmt), COMPARISON_COLUMNS)
        tables = []
        for m in manifest["tables"]:
            frame = _read(directory / "tables" / m["file"], fmt)
            frame.columns = m["columns"]
            frame = frame.astype(m["dtypes"])
            tables.append(
                TableRecord(
                    m["name"],
                    m["document"],
                    m["section"],
                    m["first_line"],
                    m["last_line"],
                    m["header_line"],
                    m["caption"],
                    frame,
                    m["scope"],
                    m["year"],
                    m["row_lines"],
                )
            )
        return cls(facts, tables, comparison, list(manifest.get("errors", [])))


def _format() -> str:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return "csv"
    return "parquet"


def _write(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def _read(path: Path, fmt: str) -> pd.DataFrame:
    return pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path, keep_default_na=False)


def _metric_of(column: str, row_label: str) -> str | None:
    text = fold(f"{column} {row_label}")
    for metric, pattern in (
        ("entrants", r"\bentr(?:ants?|ees?)\b"),
        ("sortants", r"\bsort(?:ants?|ies?)\b"),
        ("beneficiaires", r"\bbeneficiaires?\b"),
    ):
        if re.search(pattern, text):
            return metric
    return None


def build_comparison(facts: pd.DataFrame, operators: dict[str, Operator]) -> pd.DataFrame:
    """Entrants / sortants / bénéficiaires per operator and scope (Occitanie, national), from table cells."""
    cells = facts[
        (facts["kind"] == "table") & (facts["unit"] == "count") & facts["scope"].isin(["occitanie", "national"])
    ]
    # Per (operator, scope, year) and per table: the metrics that table gives. One table per series:
    # entrants of one table are never compared with sortants of a sub-table.
    found: dict[tuple[str, str, int | None], dict[str, dict]] = {}
    for _, r in cells.iterrows():
        metric = _metric_of(str(r["column"]), str(r["row_label"]))
        op = r["operator"] if r["operator_source"] in ("table", "caption") else ""
        if not metric or not op:
            continue
        year = None if pd.isna(r["year"]) else int(r["year"])
        key = (op, str(r["scope"]), year)
        table = str(r["table"])
        entry = found.setdefault(key, {}).setdefault(
            table, {"values": {}, "docs": set(), "sections": set(), "order": len(found[key])}
        )
        is_total = "total" in fold(str(r["column"]))
        have = entry["values"].get(metric)
        # One value per cell: a "Total" column wins; otherwise the first met in the table.
        if have is None or (is_total and not have[2]):
            entry["values"][metric] = (float(r["value"]), int(r["line"]), is_total, table)
        entry["docs"].add(str(r["document"]))
        entry["sections"].add(str(r["section"]))
    rows = []
    for (op, scope, year), tables in sorted(found.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or 0)):
        # a table of totals first (sub-tables count part of the public), then the one giving the most
        # metrics, then the first met (the operator's own)
        entry = max(
            tables.values(),
            key=lambda e: (any(v[2] for v in e["values"].values()), len(e["values"]), -e["order"]),
        )
        vals = entry["values"]
        rows.append(
            {
                "operator": op,
                "operator_name": operators[op].name if op in operators else op,
                "scope": scope,
                "year": year,
                **{m: vals[m][0] if m in vals else float("nan") for m in COMPARISON_METRICS},
                "document": "; ".join(sorted(entry["docs"])),
                "section": "; ".join(sorted(entry["sections"])),
                "source_lines": "; ".join(str(vals[m][1]) for m in COMPARISON_METRICS if m in vals),
                "tables": "; ".join(dict.fromkeys(vals[m][3] for m in COMPARISON_METRICS if m in vals)),
            }
        )
    return _typed(pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS)), COMPARISON_COLUMNS)


def extract_facts(corpus, knowledge_dir: Path) -> FactTables:
    """Every table and every number of a corpus, with what each is about; bad tables are reported and skipped."""
    ex = _Extractor(corpus, knowledge_dir)
    ex.run()
    facts = _typed(pd.DataFrame(ex.rows, columns=list(FACT_COLUMNS)), FACT_COLUMNS)
    facts = facts.drop_duplicates("fact_id").reset_index(drop=True)
    comparison = build_comparison(facts, ex.entities.operators)
    return FactTables(facts, ex.tables, comparison, ex.errors)
