"""The saved fact tables: their version and declared column schemas."""

from __future__ import annotations

import pandas as pd

FACTS_VERSION = 23  # bump when extraction changes: it is part of the corpus fingerprint

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
    "scope": "string",  # occitanie, national, other:<region>, dep:<département>, or empty
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


def typed(frame: pd.DataFrame, schema: dict[str, str]) -> pd.DataFrame:
    """The frame with exactly the schema's columns (missing ones empty), cast to its dtypes."""
    for c in schema:
        if c not in frame.columns:
            frame[c] = pd.NA
    frame = frame[list(schema)]
    return frame.astype(schema)
