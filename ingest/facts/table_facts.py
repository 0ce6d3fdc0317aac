"""Facts of table cells: each cell with its row, column, caption, notes and section."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache

from ingest.facts.entities import YEAR, Context, Entities, years_in
from ingest.facts.lexicon import Lexicon
from ingest.facts.tables import Block, TableRecord, cell_text, is_missing_cell, is_value_cell
from ingest.numbers import Quantity, find_quantities
from ingest.text import clean_markup, fold

# A table's notes ("* bénéficiaires : nombre d'individus différents…") stand within this many lines under it:
# 7 to 12 in the built-in report (two tables often share one note block), so 15 leaves room.
NOTE_WINDOW = 15


class TableFactsMixin:
    """Facts of table cells: each cell with its row, column, caption and section (a part of extract._Extractor)."""

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

    def table_facts(
        self, doc, record: TableRecord, block: Block, has_header: bool, cap: Context, sect: Context
    ) -> None:
        rows = [[cell_text(c) for c in r] for r in block.rows]
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
            labels = [c for c in cells if c and not is_value_cell(c) and not is_missing_cell(c)]
            if not any(is_value_cell(c) for c in cells if c):
                group = " ".join(labels)  # a row without numbers titles the rows below ("Sexe", "Ages")
                continue
            group_here = "" if cells and cells[0] else group
            row_label = " ".join(labels)
            for j, c in enumerate(cells):
                if not c or not is_value_cell(c):
                    continue
                column = header[j] if j < len(header) else ""
                for q in find_quantities(c):
                    if YEAR.fullmatch(q.text) and q.unit == "count":
                        continue
                    if q.unit == "count" and q.denominator is None:  # "104" under "Durée … (jours)"
                        q = replace(q, unit=header_unit(column) or header_unit(row_label) or "count")
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
                        Context([], cap.scope, cap.years) if shared else cap,
                        Context([], sect.scope, sect.years) if shared else sect,
                        " ".join(notes[x] for x in (row_label, column) if x in notes),
                    )

    def table_fact(
        self,
        doc,
        record,
        number,
        q: Quantity,
        row_label,
        column,
        group,
        cells,
        cap: Context,
        sect: Context,
        note: str = "",
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


_UNIT_NOTE = re.compile(r"\((?:en\s+)?([^()\d]{1,15})\)\s*$")  # "Durée moyenne 2023 (jours)", "Budget (en €)"


@lru_cache(maxsize=1024)
def header_unit(header: str) -> str | None:
    """The unit a column or row header gives its cells, in parentheses at its end; None when it gives none."""
    m = _UNIT_NOTE.search(header.strip())
    if not m:
        return None
    found = find_quantities(f"1 {m.group(1).strip()}")
    return found[0].unit if found and found[0].unit != "count" else None
