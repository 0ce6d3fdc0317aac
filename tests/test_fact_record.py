"""A fact as the figure engine reads it: a typed, frozen record (ingest/facts/record.py)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from ingest.facts import FACT_COLUMNS, Fact, facts_of
from ingest.facts.schema import typed


def _table(**row: object) -> pd.DataFrame:
    return typed(pd.DataFrame([row]), FACT_COLUMNS)


def test_the_record_has_the_saved_table_columns() -> None:
    assert [f.name for f in dataclasses.fields(Fact)] == list(FACT_COLUMNS)


def test_a_row_becomes_a_typed_record() -> None:
    [fact] = facts_of(
        _table(
            fact_id="f1", document="rapport.txt", line=12, first_line=10, last_line=12, kind="table",
            value=5900.0, unit="count", number_text="5 900", display="5 900", operators="apec,pole_emploi",
            scopes="occitanie", years="2020,2021", year=2021, table="t3", row_label="Apec", column="2021",
        )
    )  # fmt: skip
    assert fact.operators == ("apec", "pole_emploi") and fact.scopes == ("occitanie",)
    assert fact.years == (2020, 2021) and fact.year == 2021
    assert fact.page is None and fact.denominator is None  # missing in the table: None, not a pandas NA
    assert fact.cell == ("t3", "Apec", "2021")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fact.value = 1.0  # type: ignore[misc]


def test_a_number_in_prose_has_no_cell_and_may_have_no_year() -> None:
    [fact] = facts_of(
        _table(fact_id="f2", document="d.txt", line=1, first_line=1, last_line=1, kind="prose", value=3.0)
    )
    assert fact.cell is None and fact.year is None and fact.years == () and fact.operators == ()
