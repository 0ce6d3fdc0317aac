"""The figures of a corpus as saved with the index: parquet (or csv) files and a manifest."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ingest.errors import KnowledgeError
from ingest.facts.schema import COMPARISON_COLUMNS, FACT_COLUMNS, FACTS_VERSION, typed
from ingest.facts.tables import TableRecord


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
        facts = typed(_read(directory / f"facts.{fmt}", fmt), FACT_COLUMNS)
        comparison = typed(_read(directory / f"comparison.{fmt}", fmt), COMPARISON_COLUMNS)
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
