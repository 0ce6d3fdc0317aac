"""The figure lexicon (knowledge/figure_lexicon.toml): scope words, masks, qualifiers, question cues."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ingest.errors import KnowledgeError
from ingest.text import fold

LEXICON_FILE = "figure_lexicon.toml"
DATE_ASKED = ("day", "date", "when")  # question units that ask a date ("when": the day or the year, see query.py)


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
    departements: tuple[str, ...] = ()  # a département named: a figure there needs a fact about it
    cities: tuple[str, ...] = ()  # a town named: a figure there needs a fact whose text names it
    place_names: dict[str, str] = field(default_factory=dict)  # scope key -> name with its article ("le Gard")
    totals: tuple[str, ...] = ()  # words asking (in a question) or stating (near a number) a total
    all_operators: tuple[str, ...] = ()  # words asking the total of all operators ("tous opérateurs confondus")
    changes: tuple[str, ...] = ()  # words asking or stating a change ("baisse", "progression")
    named: tuple[str, ...] = ()  # names holding numbers ("1 jeune 1 solution"): their numbers are no figures

    @property
    def measure_words(self) -> tuple[str, ...]:
        """The words of the units that measure something (not those asking a date)."""
        return tuple(w for unit, ws in self.units.items() if unit not in DATE_ASKED for w in ws)


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
    names_node = data.get("scope", {}).get("names", {})
    if not isinstance(names_node, dict) or not all(isinstance(v, str) for v in names_node.values()):
        raise KnowledgeError(f"{path} : « scope.names » doit être une table de textes.")
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
        departements=_optional(path, data, "scope", "departements"),
        cities=_optional(path, data, "scope", "cities"),
        place_names=dict(names_node),
        totals=_optional(path, data, "question", "total"),
        all_operators=_optional(path, data, "question", "all_operators"),
        changes=_optional(path, data, "question", "change"),
        named=_optional(path, data, "qualifiers", "names"),
    )


def _optional(path: Path, data: dict, *keys: str) -> tuple[str, ...]:
    """A list of words that a lexicon may leave out (an older file): empty when absent."""
    node: object = data
    for k in keys[:-1]:
        node = node.get(k, {}) if isinstance(node, dict) else {}
    return _strs(path, data, *keys) if isinstance(node, dict) and keys[-1] in node else ()
