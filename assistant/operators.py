"""The five CEP operators as data (knowledge/operators.toml), validated when loaded."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from assistant.errors import KnowledgeError
from assistant.records import OPERATOR_IDS
from assistant.text import fold


@dataclass(frozen=True)
class Operator:
    """A CEP operator: id, display name and the names people use for it."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False, hash=False)


@lru_cache(maxsize=8)
def load_operators(knowledge_dir: Path) -> dict[str, Operator]:
    """Operators by id; a clear error names the file and the row when one is invalid."""
    path = knowledge_dir / "operators.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path} : lecture impossible ({exc}).") from exc
    out: dict[str, Operator] = {}
    for i, row in enumerate(data.get("operator", []), start=1):
        oid = row.get("id")
        if oid not in OPERATOR_IDS:
            raise KnowledgeError(f"{path}, opérateur n°{i} : identifiant inconnu « {oid} ».")
        if not row.get("name"):
            raise KnowledgeError(f"{path}, opérateur « {oid} » : nom manquant.")
        aliases = tuple(dict.fromkeys(fold(a) for a in [row["name"], *row.get("aliases", [])]))
        extra = {k: v for k, v in row.items() if k not in ("id", "name", "aliases")}
        out[oid] = Operator(oid, row["name"], aliases, extra)
    missing = set(OPERATOR_IDS) - set(out)
    if missing:
        raise KnowledgeError(f"{path} : opérateur(s) manquant(s) : {', '.join(sorted(missing))}.")
    return out
