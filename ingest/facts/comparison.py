"""Entrants, sortants and bénéficiaires per operator and territory, from table cells."""

from __future__ import annotations

import re

import pandas as pd

from ingest.facts.schema import COMPARISON_COLUMNS, COMPARISON_METRICS, typed
from ingest.operators import Operator
from ingest.text import fold


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
    return typed(pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS)), COMPARISON_COLUMNS)
