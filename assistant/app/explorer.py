"""The figures explorer's data: the operator comparison and the fact table, filtered, with their sources.

Numbers are written the French way everywhere a person reads them: "6 158" and "62,5" in tables and
charts, ";" separators and comma decimals in CSV, counts without ".0".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from assistant.app.render import plain, scope_label
from assistant.pipeline import Assistant
from ingest.facts import FactTables
from ingest.text import fold

THOUSANDS = "\u202f"  # narrow no-break space, the French thousands separator
# Vega-Lite number locale for the charts (d3-format): "1 000 000" and "2,5", never "1,000,000".
CHART_LOCALE = {"decimal": ",", "thousands": THOUSANDS, "grouping": [3], "currency": ["", "\u00a0€"]}

METRICS = {"entrants": "Entrants", "sortants": "Sortants", "beneficiaires": "Bénéficiaires"}
CHART_SCOPES = ("occitanie", "national")


def fact_tables(assistant: Assistant | None) -> FactTables | None:
    """The figure engine's FactTables (facts, tables, comparison), or None before it is ready."""
    engine = assistant.figures if assistant is not None else None
    return engine.tables if engine is not None else None


def _lines(value: object) -> str:
    parts = sorted({p.strip() for p in str(value or "").split(";") if p.strip() and p.strip() != "<NA>"}, key=_num)
    return ("l. " + ", ".join(parts)) if parts else ""


def _num(text: str) -> int:
    digits = "".join(ch for ch in text if ch.isdigit())
    return int(digits) if digits else 0


def _title(titles: Mapping[str, str], document: object) -> str:
    doc = "" if pd.isna(document) else str(document)
    return titles.get(doc, doc)


def comparison_table(
    comparison: pd.DataFrame,
    titles: Mapping[str, str],
    year: int | None = 2021,
    scopes: Iterable[str] = CHART_SCOPES,
    operators: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Entrants, sortants, bénéficiaires per operator and scope for a year, with the source of each row."""
    df = comparison.copy()
    if year is not None:
        df = df[df["year"] == year]
    df = df[df["scope"].isin(list(scopes))]
    if operators is not None:
        df = df[df["operator"].isin(list(operators))]
    out = pd.DataFrame(
        {
            "Opérateur": df["operator_name"].astype(str),
            "Périmètre": df["scope"].map(scope_label),
            "Année": df["year"].astype("Int64"),
            **{label: _counts(df[key]) for key, label in METRICS.items()},
            "Source": [
                " — ".join(p for p in (_title(titles, d), str(s) if pd.notna(s) else "", _lines(li)) if p)
                for d, s, li in zip(df["document"], df["section"], df["source_lines"], strict=True)
            ],
        }
    )
    return out.sort_values(["Périmètre", "Opérateur"], kind="stable").reset_index(drop=True)


def chart_data(comparison: pd.DataFrame, metric: str, scope: str, year: int = 2021) -> pd.DataFrame:
    """One bar per operator: the metric for a scope and year (rows without the value are left out)."""
    df = comparison[(comparison["year"] == year) & (comparison["scope"] == scope)]
    df = df[df[metric].notna()]
    return (
        pd.DataFrame({"Opérateur": df["operator_name"].astype(str), METRICS[metric]: _counts(df[metric])})
        .sort_values(METRICS[metric], ascending=False)
        .reset_index(drop=True)
    )


def bar_chart(data: pd.DataFrame, metric_label: str, height: int = 260) -> Any:
    """A horizontal bar chart (Altair) with French axis titles and number formats."""
    import altair as alt

    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{metric_label}:Q", title=metric_label, axis=alt.Axis(format=",d", tickMinStep=1)),
            y=alt.Y("Opérateur:N", sort="-x", title=None),
            tooltip=[alt.Tooltip("Opérateur:N"), alt.Tooltip(f"{metric_label}:Q", format=",d")],
        )
        .properties(height=height)
        .configure(locale={"number": CHART_LOCALE})
    )


def _counts(values: pd.Series) -> pd.Series:
    """Whole numbers as integers (no "97746.0"), other numbers unchanged."""
    numeric = pd.to_numeric(values, errors="coerce")
    known = numeric.dropna()
    if len(known) and (known == known.round()).all():
        return numeric.round().astype("Int64")
    return numeric


def facts_table(
    facts: pd.DataFrame,
    titles: Mapping[str, str],
    operator_names: Mapping[str, str],
    operators: Iterable[str] | None = None,
    scopes: Iterable[str] | None = None,
    text: str = "",
) -> pd.DataFrame:
    """Every figure of the documents with its label, operator, scope, year and source, filtered."""
    df = facts
    if operators:
        wanted = set(operators)
        df = df[df["operator"].fillna("").astype(str).isin(wanted)]
    if scopes:
        df = df[df["scope"].fillna("").astype(str).map(_scope_key).isin(set(scopes))]
    if text.strip():
        needle = fold(" ".join(text.split()))  # "entrees" finds "entrées", "POLE" finds "Pôle"
        hay = (df["label"].fillna("").astype(str) + " " + df["sentence"].fillna("").astype(str)).map(fold)
        df = df[hay.str.contains(needle, regex=False)]
    lines = [f"l. {a}" if a == b else f"l. {a}-{b}" for a, b in zip(df["first_line"], df["last_line"], strict=True)]
    return pd.DataFrame(
        {
            "Valeur": df["display"].astype(str),
            "Libellé": df["label"].fillna("").astype(str).map(plain),
            "Opérateur": df["operator"].fillna("").astype(str).map(lambda o: operator_names.get(o, o)),
            "Périmètre": df["scope"].fillna("").astype(str).map(scope_label),
            "Année": df["year"],
            "Document": [_title(titles, d) for d in df["document"]],
            "Section": df["section"].fillna("").astype(str),
            "Page": df["page"],
            "Lignes": lines,
            "Phrase source": df["sentence"].fillna("").astype(str).map(plain),
        }
    ).reset_index(drop=True)


def _scope_key(scope: str) -> str:
    return "other" if scope.startswith("other:") else scope


def scope_choices(facts: pd.DataFrame) -> list[str]:
    """The scopes present in the facts, "other:*" regions grouped."""
    keys = {_scope_key(str(s)) for s in facts["scope"].fillna("")}
    order = ["occitanie", "national", "regional", "other", ""]
    return [k for k in order if k in keys]


def scope_choice_label(key: str) -> str:
    return "Autres régions" if key == "other" else scope_label(key)


def french_number(value: object, decimals: int | None = None) -> str:
    """6158 -> "6 158", 62.5 -> "62,5", None -> "" (the thousands separator is a narrow no-break space)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        return value
    number = float(value)  # type: ignore[arg-type]
    if decimals is None:
        decimals = 0 if number == round(number) else 2
    text = f"{number:,.{decimals}f}".replace(",", THOUSANDS).replace(".", ",")
    if decimals and "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def plain_cells(df: pd.DataFrame) -> pd.DataFrame:
    """A table read from a document with its text cells free of Markdown markers (« **175 837** »)."""
    out = df.copy()
    for i in range(out.shape[1]):  # by position: a header may repeat
        if not pd.api.types.is_numeric_dtype(out.iloc[:, i]):
            out.iloc[:, i] = out.iloc[:, i].map(lambda v: plain(v) if isinstance(v, str) else v)
    return out


def styled(df: pd.DataFrame) -> Any:
    """The table for st.dataframe: numbers shown the French way, still sorted as numbers."""
    if not (df.columns.is_unique and df.index.is_unique):
        return df  # a Styler needs unique labels (tables read from documents may repeat a header)
    labels = [c for c in ("Année", "Page") if c in df.columns]  # numbers that are names: "2021", not "2 021"
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and c not in labels]
    # "—" for a missing value: an empty cell would be shown as "None"
    styler = df.style.format(french_number, subset=numeric, na_rep="—")
    return styler.format(lambda v: str(int(v)), subset=labels, na_rep="—") if labels else styler


def to_csv(df: pd.DataFrame) -> bytes:
    """CSV for a French spreadsheet: semicolons, comma decimals, whole counts without ".0", UTF-8 with BOM."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = _counts(out[col])
    return out.to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")
