"""The routing decision table (knowledge/routing_rules.toml): loaded, validated, evaluated."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from assistant.errors import KnowledgeError
from assistant.records import OPERATOR_IDS
from assistant.routing.situation import FIELD_SPECS, Situation, with_fields
from ingest.corpus import Corpus
from ingest.text import clean_markup

NONE_DESIGNATED = ""  # primary of a rule that records the documents' silence
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class Condition:
    """One test on a situation field: a set of allowed values, or inclusive number bounds."""

    field: str
    values: frozenset[Any] = frozenset()
    lo: int | None = None
    hi: int | None = None

    @property
    def kind(self) -> str:
        return FIELD_SPECS[self.field].kind

    def test(self, sit: Situation) -> bool | None:
        """True, False, or None when the situation does not say enough."""
        if self.kind == "set":
            return bool(self.values & getattr(sit, self.field))
        if self.kind == "int":
            lo, hi = sit.interval(self.field)
            rlo = self.lo if self.lo is not None else -(10**9)
            rhi = self.hi if self.hi is not None else 10**9
            if rlo <= lo and hi <= rhi:
                return True
            if hi < rlo or lo > rhi:
                return False
            return None
        value = getattr(sit, self.field)
        return None if value is None else value in self.values

    def overlaps(self, other: Condition) -> bool:
        """Can one situation satisfy both conditions (same field)?"""
        if self.kind == "set":
            return True  # a caller may have several needs at once
        if self.kind == "int":
            lo = max(self.lo if self.lo is not None else -(10**9), other.lo if other.lo is not None else -(10**9))
            hi = min(self.hi if self.hi is not None else 10**9, other.hi if other.hi is not None else 10**9)
            return lo <= hi
        return bool(self.values & other.values)

    def thresholds(self) -> set[int]:
        """Number values around the bounds, to try when the field is unknown."""
        out: set[int] = set()
        for b in (self.lo, self.hi):
            if b is not None:
                out |= {b - 1, b, b + 1}
        return out


def test_all(conditions: Iterable[Condition], sit: Situation) -> bool | None:
    """All conditions hold (True), one fails (False), or the situation is not enough (None)."""
    unknown = False
    for c in conditions:
        r = c.test(sit)
        if r is False:
            return False
        unknown |= r is None
    return None if unknown else True


@dataclass(frozen=True)
class Source:
    """A passage behind a rule: document, inclusive line span, verbatim quote inside it."""

    document: str
    first: int
    last: int
    quote: str
    when: tuple[Condition, ...] = ()
    say: str = ""


@dataclass(frozen=True)
class Alternative:
    """Another operator the documents allow for the rule's situations."""

    operator: str
    why: str
    when: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A row of the decision table."""

    id: str
    row: int
    when: tuple[Condition, ...]
    primary: str
    why: str
    sources: tuple[Source, ...]
    alternatives: tuple[Alternative, ...] = ()
    overrides: tuple[str, ...] = ()

    def test(self, sit: Situation) -> bool | None:
        return test_all(self.when, sit)

    def overlaps(self, other: Rule) -> bool:
        """Can one situation satisfy both rules?"""
        mine = {c.field: c for c in self.when}
        return all(c.overlaps(mine[c.field]) for c in other.when if c.field in mine)


@dataclass(frozen=True)
class Question:
    """A fact to ask for when it would change the operator, with its provisional value.

    `when`: the question (its wording and provisional value) is for situations where these conditions
    hold; several questions may ask for the same field in different situations.
    """

    field: str
    text: str
    provisional: Any = None
    sources: tuple[Source, ...] = ()
    when: tuple[Condition, ...] = ()

    def applies(self, sit: Situation) -> bool:
        return test_all(self.when, sit) is True


@dataclass(frozen=True)
class Decision:
    """What the rules say for one (completed) situation."""

    situation: Situation
    primary: str | None  # None: no rule holds; "": the documents designate no operator
    rules: tuple[Rule, ...]  # the rules that decide, most specific first
    overridden: tuple[Rule, ...]  # rules that hold but give way to an exception

    @property
    def rule(self) -> Rule | None:
        return self.rules[0] if self.rules else None


@dataclass(frozen=True)
class RuleTable:
    """The validated decision table."""

    path: Path
    rules: tuple[Rule, ...]
    questions: tuple[Question, ...]
    assume: Mapping[str, Any]
    beats: Mapping[str, frozenset[str]] = field(default_factory=dict)  # rule id -> ids it overrides
    lost: tuple[str, ...] = ()  # sources (and rules) the corpus lacks, said at load

    def complete(self, sit: Situation) -> Situation:
        """The situation with the documented defaults for facts not stated."""
        missing = {k: v for k, v in self.assume.items() if getattr(sit, k) is None}
        return with_fields(sit, **missing) if missing else sit

    def fired(self, sit: Situation) -> tuple[list[Rule], list[Rule]]:
        """(rules that decide, rules that hold but are overridden), most specific first."""
        matched = [r for r in self.rules if r.test(sit) is True]
        beaten = set().union(*(self.beats[r.id] for r in matched)) if matched else set()
        kept = [r for r in matched if r.id not in beaten]
        kept.sort(key=lambda r: -len(r.when))
        return kept, [r for r in matched if r.id in beaten]

    def thresholds(self, name: str) -> set[int]:
        """Values of a number field that the rules tell apart."""
        return set().union(*(c.thresholds() for r in self.rules for c in r.when if c.field == name))


# ---------------------------------------------------------------- loading and validation


class _Reader:
    """Builds records from the TOML rows, raising errors that name the file and the row."""

    def __init__(self, path: Path, corpus: Corpus, default_document: str) -> None:
        self.path = path
        self.corpus = corpus
        self.default_document = default_document
        self.lost: list[str] = []  # sources whose quote no document of the corpus holds

    def fail(self, where: str, message: str) -> KnowledgeError:
        return KnowledgeError(f"{self.path}, {where} : {message}")

    def conditions(self, raw: Any, where: str) -> tuple[Condition, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            raise self.fail(where, "« when » doit être une table de conditions.")
        out = []
        for name, spec in raw.items():
            fs = FIELD_SPECS.get(name)
            if fs is None:
                raise self.fail(where, f"champ inconnu « {name} » dans « when ».")
            if fs.kind == "int":
                if not isinstance(spec, dict) or not set(spec) <= {"min", "max"} or not spec:
                    raise self.fail(where, f"« {name} » attend {{ min = .., max = .. }}.")
                out.append(Condition(name, lo=spec.get("min"), hi=spec.get("max")))
                continue
            values = spec if isinstance(spec, list) else [spec]
            bad = [v for v in values if v not in fs.values or (fs.kind == "bool") != isinstance(v, bool)]
            if bad or not values:
                raise self.fail(where, f"valeur(s) invalide(s) pour « {name} » : {bad or values}.")
            out.append(Condition(name, frozenset(values)))
        return tuple(out)

    def sources(self, raw: Any, where: str) -> tuple[Source, ...]:
        """The rule's passages, each located in the corpus by its quote (its `lines` are a hint only).

        A quote no document holds is left out and noted in self.lost: the rule keeps its other sources."""
        if not raw:
            raise self.fail(where, "aucune source (passage qui justifie la règle).")
        out = []
        for j, s in enumerate(raw, start=1):
            w = f"{where}, source n°{j}"
            lines = s.get("lines")
            quote = s.get("quote", "")
            if lines is not None and not (
                isinstance(lines, list) and len(lines) == 2 and all(isinstance(n, int) for n in lines)
            ):
                raise self.fail(w, "« lines » attend [première, dernière].")
            if not quote.strip():
                raise self.fail(w, "citation (« quote ») manquante.")
            when = self.conditions(s.get("when"), w)
            try:
                doc, first, last = self.corpus.locate(
                    quote, s.get("document", self.default_document), tuple(lines) if lines else None
                )
            except KnowledgeError as exc:
                self.lost.append(f"{self.path.name}, {w} : {exc}")
                continue
            out.append(Source(doc, first, last, quote, when, s.get("say", "")))
        return tuple(out)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", clean_markup(text)).strip()


def _check_numbers(reader: _Reader, where: str, texts: Iterable[str], raw_sources: Any) -> None:
    """Every number a rule says must stand in one of its quotes (as written, found in the corpus or not)."""
    quotes = [str(s.get("quote", "")) for s in raw_sources or ()]
    quoted = {n.replace(",", ".") for q in quotes for n in _NUMBER.findall(_flat(q))}
    for t in texts:
        for n in _NUMBER.findall(t):
            if n.replace(",", ".") not in quoted:
                raise reader.fail(where, f"le nombre {n} de « {t[:60]}… » n'est dans aucune citation de la règle.")


def _operator(reader: _Reader, where: str, value: Any, allow_none: bool = False) -> str:
    if value in OPERATOR_IDS or (allow_none and value == NONE_DESIGNATED):
        return str(value)
    raise reader.fail(where, f"identifiant d'opérateur inconnu « {value} ».")


def load_rules(path: Path, corpus: Corpus) -> RuleTable:
    """Read the decision table and validate it against the corpus; errors name the file and row."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path} : lecture impossible ({exc}).") from exc
    reader = _Reader(path, corpus, data.get("default_document", ""))
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, row in enumerate(data.get("rule", []), start=1):
        rid = row.get("id") or ""
        where = f"règle n°{i} « {rid} »"
        if not rid or rid in seen:
            raise reader.fail(where, "identifiant manquant ou en double.")
        seen.add(rid)
        if "primary" not in row:
            raise reader.fail(where, "opérateur « primary » manquant.")
        primary = _operator(reader, where, row["primary"], allow_none=True)
        why = row.get("why", "").strip()
        if not why:
            raise reader.fail(where, "raison (« why ») manquante.")
        sources = reader.sources(row.get("source"), where)
        alternatives = []
        for j, a in enumerate(row.get("alternatives", []), start=1):
            w = f"{where}, alternative n°{j}"
            op = _operator(reader, w, a.get("operator"))
            if op == primary or not a.get("why"):
                raise reader.fail(w, "l'alternative doit différer du primaire et dire pourquoi (« why »).")
            alternatives.append(Alternative(op, a["why"], reader.conditions(a.get("when"), w)))
        said = [why, *(a.why for a in alternatives), *(s.say for s in sources)]
        _check_numbers(reader, where, said, row.get("source"))
        rules.append(
            Rule(
                rid,
                i,
                reader.conditions(row.get("when"), where),
                primary,
                why,
                sources,
                tuple(alternatives),
                tuple(row.get("overrides", [])),
            )
        )
    if not rules:
        raise KnowledgeError(f"{path} : aucune règle.")
    beats = _override_closure(reader, rules)
    for r in rules:
        if not r.sources:
            reader.lost.append(f"{path.name}, règle « {r.id} » désactivée : aucune de ses sources dans le corpus.")
    _check_overlaps(reader, rules, beats)
    questions = []
    for i, q in enumerate(data.get("question", []), start=1):
        where = f"question n°{i} « {q.get('field')} »"
        fs = FIELD_SPECS.get(q.get("field", ""))
        if fs is None or not q.get("text"):
            raise reader.fail(where, "champ inconnu ou texte manquant.")
        prov = q.get("provisional")
        if prov is not None and fs.kind != "int" and prov not in fs.values:
            raise reader.fail(where, f"valeur provisoire invalide « {prov} ».")
        srcs = reader.sources(q["source"], where) if q.get("source") else ()
        _check_numbers(reader, where, [q["text"]], q.get("source"))
        questions.append(Question(fs.name, q["text"], prov, srcs, reader.conditions(q.get("when"), where)))
    assume = dict(data.get("assume", {}))
    for name, value in assume.items():
        fs = FIELD_SPECS.get(name)
        if fs is None or (fs.kind != "int" and value not in fs.values):
            raise reader.fail(f"[assume] « {name} »", f"champ ou valeur invalide ({value}).")
    kept = tuple(r for r in rules if r.sources)  # a rule decides only with a passage to cite
    return RuleTable(path, kept, tuple(questions), assume, beats, tuple(reader.lost))


def _override_closure(reader: _Reader, rules: list[Rule]) -> dict[str, frozenset[str]]:
    """Rule id -> the rules it overrides (direct, not transitive: each exception is stated)."""
    ids = [r.id for r in rules]
    direct: dict[str, frozenset[str]] = {}
    for r in rules:
        targets: set[str] = set()
        for pattern in r.overrides:
            hit = {i for i in fnmatch.filter(ids, pattern) if i != r.id}
            if not hit and pattern != "*":
                raise reader.fail(
                    f"règle n°{r.row} « {r.id} »", f"« overrides » nomme une règle inconnue « {pattern} »."
                )
            targets |= hit
        direct[r.id] = frozenset(targets)
    for r in rules:
        mutual = sorted(x for x in direct[r.id] if r.id in direct[x])
        if mutual:
            raise reader.fail(f"règle n°{r.row} « {r.id} »", f"« overrides » réciproque avec « {mutual[0]} ».")
    return direct


def _check_overlaps(reader: _Reader, rules: list[Rule], beats: Mapping[str, frozenset[str]]) -> None:
    """Two rules that can hold together and disagree must be ordered by `overrides`."""
    for a, b in combinations(rules, 2):
        if a.primary == b.primary or not a.overlaps(b):
            continue
        if b.id in beats[a.id] or a.id in beats[b.id]:
            continue
        raise reader.fail(
            f"règles n°{a.row} « {a.id} » et n°{b.row} « {b.id} »",
            f"elles peuvent s'appliquer à la même situation avec des opérateurs différents "
            f"({a.primary or 'aucun'} / {b.primary or 'aucun'}) ; restreignez « when » ou ajoutez « overrides ».",
        )
