"""Every table and every number of a corpus, with what each is about."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pandas as pd

from ingest.facts.comparison import build_comparison
from ingest.facts.entities import Context, Entities, years_in
from ingest.facts.lexicon import load_lexicon
from ingest.facts.prose import ProseFactsMixin, label_lines
from ingest.facts.schema import FACT_COLUMNS, typed
from ingest.facts.store import FactTables
from ingest.facts.table_facts import TableFactsMixin
from ingest.facts.tables import (
    FactsFormatError,
    TableRecord,
    block_frame,
    find_blocks,
    is_coded_label,
    is_value_cell,
    split_tab,
)
from ingest.numbers import Quantity
from ingest.operators import load_operators
from ingest.records import content_id
from ingest.text import clean_markup, fold

log = logging.getLogger(__name__)


class _Extractor(TableFactsMixin, ProseFactsMixin):
    """Every number of a corpus as a fact row, with what it is about; tables as DataFrames."""

    def __init__(self, corpus, knowledge_dir: Path) -> None:  # corpus: ingest.corpus.Corpus
        self.corpus = corpus
        self.lexicon = load_lexicon(knowledge_dir)
        self.entities = Entities(load_operators(knowledge_dir), self.lexicon)
        self.rows: list[dict] = []
        self.tables: list[TableRecord] = []
        self.errors: list[str] = []
        self._section_cache: dict[str, Context] = {}

    # context of a section path (its full heading titles)
    def section_ctx(self, context: str, doc_year: int | None) -> Context:
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
            self._section_cache[key] = Context(list(dict.fromkeys(ops)), scope, years)
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
            cap_ctx = Context([k for k, _, _ in self.entities.operator_mentions(cap_f)], scope, years)
            self.table_facts(doc, record, block, has_header, cap_ctx, sect)
        labels: set[int] = set()  # lines read as the label of a bare number above them
        for k, li in enumerate(lines):
            if li.in_toc or li.is_heading or not li.text.strip() or li.number in labels:
                continue
            label = [] if li.number in table_lines else label_lines(lines, k, table_lines)
            if label:  # "13678" / "personnes accompagnées dans leur" / "projet d'évolution professionnelle"
                labels.update(x.number for x in label)
                text = " ".join([li.text.strip(), *(x.text.strip() for x in label)])
                self.prose_facts(name, doc, dataclasses.replace(li, text=text), last_line=label[-1].number)
                continue
            if li.number in table_lines:
                # a cell that is a sentence ("2,66 jours par conseiller") reads as prose, each on its own
                cells = [
                    c
                    for c in split_tab(li.text)
                    if any(ch.isdigit() for ch in c) and not is_value_cell(c) and not is_coded_label(c)
                ]
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
        day_part = ("day",) if q.unit == "day" else ()
        row.update(
            # a date gives two facts, its year and its day: the day's id has one more part, the others keep theirs
            fact_id=content_id(cols["document"], str(cols["line"]), str(q.start), q.text, cols["sentence"], *day_part),
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


def extract_facts(corpus, knowledge_dir: Path) -> FactTables:
    """Every table and every number of a corpus, with what each is about; bad tables are reported and skipped."""
    ex = _Extractor(corpus, knowledge_dir)
    ex.run()
    facts = typed(pd.DataFrame(ex.rows, columns=list(FACT_COLUMNS)), FACT_COLUMNS)
    facts = facts.drop_duplicates("fact_id").reset_index(drop=True)
    comparison = build_comparison(facts, ex.entities.operators)
    return FactTables(facts, ex.tables, comparison, ex.errors)
