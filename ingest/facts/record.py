"""One number of a document as a typed, frozen record: what the figure engine reads. The fact table (schema.py)
is its saved and shown form; pandas stays where tables are stored, shown or exported."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Fact:
    """A number, what it counts, where it holds and where it stands in its document."""

    fact_id: str
    document: str
    line: int  # the line that states it
    first_line: int  # citation span (a table cell cites its header row too)
    last_line: int
    page: int | None
    kind: str  # prose, list, table
    section: str
    context: str  # the headings above it
    value: float
    unit: str  # count, percent, euros, years, days, ratio…
    number_text: str  # as written ("140.113", "62,59 %")
    display: str  # in French format ("140 113", "62,59 %")
    denominator: int | None  # "7 sur 10": 10
    sentence: str  # the sentence (or table row) that states it
    near: str  # the clause around it
    label: str
    operator: str  # the operator it is about ("" when none is named)
    operators: tuple[str, ...]
    operator_source: str  # sentence, table, section…: where the operator was read
    scope: str  # occitanie, national, other:<region>, dep:<département>, or ""
    scopes: tuple[str, ...]
    scope_source: str
    year: int | None
    years: tuple[int, ...]
    year_source: str
    table: str  # a table cell: its table, row and column ("" in prose)
    row_label: str
    column: str
    caption: str

    @property
    def cell(self) -> tuple[str, str, str] | None:
        """(table, row, column) of a table cell; None for a number in prose."""
        return (self.table, self.row_label, self.column) if self.kind == "table" else None


def _text(x: object) -> str:
    return "" if x is None or pd.isna(x) else str(x)  # type: ignore[call-overload]


def _optional_int(x: object) -> int | None:
    return None if x is None or pd.isna(x) else int(x)  # type: ignore[call-overload]


def facts_of(table: pd.DataFrame) -> list[Fact]:
    """The fact table's rows as records, in order (row i of the table is fact i)."""
    out = []
    for r in table.astype(object).itertuples(index=False):
        out.append(
            Fact(
                fact_id=_text(r.fact_id),
                document=_text(r.document),
                line=int(r.line),
                first_line=int(r.first_line),
                last_line=int(r.last_line),
                page=_optional_int(r.page),
                kind=_text(r.kind),
                section=_text(r.section),
                context=_text(r.context),
                value=float(r.value),
                unit=_text(r.unit),
                number_text=_text(r.number_text),
                display=_text(r.display),
                denominator=_optional_int(r.denominator),
                sentence=_text(r.sentence),
                near=_text(r.near),
                label=_text(r.label),
                operator=_text(r.operator),
                operators=tuple(filter(None, _text(r.operators).split(","))),
                operator_source=_text(r.operator_source),
                scope=_text(r.scope),
                scopes=tuple(filter(None, _text(r.scopes).split(","))),
                scope_source=_text(r.scope_source),
                year=_optional_int(r.year),
                years=tuple(int(y) for y in _text(r.years).split(",") if y.strip().isdigit()),
                year_source=_text(r.year_source),
                table=_text(r.table),
                row_label=_text(r.row_label),
                column=_text(r.column),
                caption=_text(r.caption),
            )
        )
    return out
