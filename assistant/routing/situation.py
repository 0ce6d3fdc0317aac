"""A caller's situation as a typed record, and its extraction from French free text."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from assistant.clauses import WORD, clause_before
from assistant.errors import KnowledgeError
from assistant.operators import Operator
from assistant.query import Query
from assistant.records import OPERATOR_IDS
from ingest.text import clean_markup, fold

Status = Literal["salarie_prive", "demandeur_emploi", "independant", "agent_public", "etudiant"]
STATUSES: tuple[str, ...] = ("salarie_prive", "demandeur_emploi", "independant", "agent_public", "etudiant")
NEEDS: tuple[str, ...] = ("reconversion", "ptp", "transco", "psop", "social", "langue", "premier_emploi")
NO_OPERATOR = "aucun"  # current_operator when the caller is in no CEP
STATUS_LABELS = {
    "salarie_prive": "salarié du privé",
    "demandeur_emploi": "demandeur d'emploi",
    "independant": "travailleur indépendant",
    "agent_public": "agent public",
    "etudiant": "étudiant",
}


@dataclass(frozen=True)
class FieldSpec:
    """What a situation field may hold: its kind, its values or its bounds."""

    name: str
    kind: Literal["bool", "enum", "int", "set"]
    values: tuple[Any, ...] = ()
    bounds: tuple[int, int] = (0, 0)


FIELD_SPECS: dict[str, FieldSpec] = {
    s.name: s
    for s in (
        FieldSpec("status", "enum", STATUSES),
        FieldSpec("resigning", "bool", (True, False)),
        FieldSpec("cadre", "bool", (True, False)),
        FieldSpec("young_graduate", "bool", (True, False)),
        FieldSpec("diploma_level", "int", bounds=(0, 8)),
        FieldSpec("age", "int", bounds=(14, 80)),
        FieldSpec("disability", "bool", (True, False)),
        FieldSpec("disability_impact", "bool", (True, False)),
        FieldSpec("inaptitude_risk", "bool", (True, False)),
        FieldSpec("registered_pe", "bool", (True, False)),
        FieldSpec("current_operator", "enum", (*OPERATOR_IDS, NO_OPERATOR)),
        FieldSpec("better_fit", "enum", OPERATOR_IDS),
        FieldSpec("job_search_months", "int", bounds=(0, 600)),
        FieldSpec("reduced_activity", "bool", (True, False)),
        FieldSpec("project_clear", "bool", (True, False)),
        FieldSpec("status_changed", "bool", (True, False)),
        FieldSpec("needs", "set", NEEDS),
    )
}


@dataclass(frozen=True)
class Situation:
    """What is known of a caller; None means not said. Numbers may be known as bounds only."""

    status: Status | None = None
    resigning: bool | None = None  # prepares a resignation (dispositif démissionnaire, PRP)
    cadre: bool | None = None
    young_graduate: bool | None = None
    diploma_level: int | None = None  # 2019 nomenclature: 3 CAP, 4 bac, 5 bac+2, 6 bac+3/4, 7 bac+5, 8
    age: int | None = None
    age_min: int | None = None  # "plus de 50 ans" -> 51 (bounds included)
    age_max: int | None = None  # "moins de 26 ans" -> 25
    disability: bool | None = None  # RQTH, BOETH, situation de handicap
    disability_impact: bool | None = None  # the disability weighs on the job or the project
    inaptitude_risk: bool | None = None
    registered_pe: bool | None = None
    current_operator: str | None = None  # operator id of a CEP under way, or "aucun"
    better_fit: str | None = None  # operator the caller and the advisor find better suited
    job_search_months: int | None = None
    job_search_months_min: int | None = None
    reduced_activity: bool | None = None
    project_clear: bool | None = None
    status_changed: bool | None = None
    needs: frozenset[str] = frozenset()
    mentioned: tuple[str, ...] = field(default=(), compare=False)  # operators named, not a fact

    def interval(self, name: str) -> tuple[int, int]:
        """What is known of a number field, as inclusive bounds (the field's range if unknown)."""
        lo, hi = FIELD_SPECS[name].bounds
        value = getattr(self, name)
        if value is not None:
            return value, value
        lo = max(lo, getattr(self, f"{name}_min", None) or lo)
        hi = min(hi, getattr(self, f"{name}_max", None) or hi)
        return lo, hi

    def known(self) -> dict[str, Any]:
        """The facts stated (for display and tests)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name != "mentioned" and v not in (None, frozenset(), ()):
                out[f.name] = sorted(v) if isinstance(v, frozenset) else v
        return out

    def is_empty(self) -> bool:
        """True when the text states no fact of a situation."""
        return not self.known()


def situation_from_fields(**facts: Any) -> Situation:
    """A Situation from form fields; unknown names and bad values raise ValueError (French)."""
    names = {f.name for f in fields(Situation)} - {"mentioned"}
    unknown = set(facts) - names
    if unknown:
        raise ValueError(f"Champ(s) inconnu(s) : {', '.join(sorted(unknown))}.")
    clean: dict[str, Any] = {}
    for name, value in facts.items():
        if value is None or value == "":
            continue
        spec = FIELD_SPECS.get(name.removesuffix("_min").removesuffix("_max"))
        if name == "needs":
            items = {value} if isinstance(value, str) else set(value)
            bad = items - set(NEEDS)
            if bad:
                raise ValueError(f"Besoin(s) inconnu(s) : {', '.join(sorted(bad))}.")
            clean[name] = frozenset(items)
        elif spec and spec.kind == "enum" and value not in spec.values:
            raise ValueError(f"Valeur « {value} » invalide pour « {name} ».")
        elif spec and spec.kind == "bool" and not isinstance(value, bool):
            raise ValueError(f"« {name} » attend oui ou non (True/False).")
        elif spec and spec.kind == "int":
            clean[name] = int(value)
            continue
        else:
            clean[name] = value
    return Situation(**clean)


# ---------------------------------------------------------------- the lexicon


@dataclass(frozen=True)
class Cue:
    """A group of patterns that, when found, give a value to a field."""

    field: str
    value: Any
    patterns: tuple[re.Pattern[str], ...]
    raw_patterns: tuple[re.Pattern[str], ...] = ()
    negatable: bool = True


@dataclass(frozen=True)
class Lexicon:
    """Cue words as data (knowledge/routing_lexicon.toml), compiled."""

    job_search: re.Pattern[str]  # words before "depuis 8 mois" that make it a job search duration
    cues: tuple[Cue, ...]
    diplomas: tuple[tuple[re.Pattern[str], int], ...]
    op_alias: re.Pattern[str]  # any operator alias, as a named group
    alias_to_id: Mapping[str, str]
    current: tuple[re.Pattern[str], ...]
    request: frozenset[str]  # words that make a `current` match a CEP asked for ("démarrer un CEP à l'APEC")
    followed_not_cep: frozenset[str]
    no_cep: tuple[re.Pattern[str], ...]
    better_fit: tuple[re.Pattern[str], ...]
    routing: tuple[re.Pattern[str], ...]
    either: re.Pattern[str]
    not_routing: tuple[re.Pattern[str], ...]


def _compile(path: Path, where: str, pattern: str, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise KnowledgeError(f"{path}, {where} : expression invalide « {pattern} » ({exc}).") from exc


def load_lexicon(path: Path, operators: Mapping[str, Operator]) -> Lexicon:
    """Read and compile the lexicon; a clear error names the file and the entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path} : lecture impossible ({exc}).") from exc
    ops = data.get("operators", {})
    ignore = {fold(a) for a in ops.get("ignore_aliases", [])}
    alias_to_id = {a: o.id for o in operators.values() for a in (*o.aliases, fold(o.name)) if a and a not in ignore}
    alias_re = "|".join(re.escape(a) for a in sorted(alias_to_id, key=len, reverse=True))
    op_group = rf"(?P<op>{alias_re})\b"
    determiner = ops.get("determiner", "(?:le |la |les |l')?")

    def with_op(p: str, where: str) -> re.Pattern[str]:
        p = p.replace("{det}", determiner)
        return _compile(path, where, p.replace("{op}", op_group, 1).replace("{op}", rf"(?:{alias_re})\b"))

    cues: list[Cue] = []
    for i, row in enumerate(data.get("cue", []), start=1):
        name = row.get("field")
        spec = FIELD_SPECS.get(name)
        if spec is None:
            raise KnowledgeError(f"{path}, cue n°{i} : champ inconnu « {name} ».")
        value = row.get("value")
        ok = value in spec.values if spec.kind in ("bool", "enum", "set") else False
        if not ok:
            raise KnowledgeError(f"{path}, cue n°{i} ({name}) : valeur invalide « {value} ».")
        where = f"cue n°{i} ({name} = {value})"
        cues.append(
            Cue(
                name,
                value,
                tuple(_compile(path, where, p) for p in row.get("patterns", [])),
                tuple(_compile(path, where, p) for p in row.get("raw_patterns", [])),
                bool(row.get("negatable", True)),
            )
        )
    kinds = data.get("question_kind", {})
    return Lexicon(
        job_search=_compile(
            path, "job_search.context", "|".join(data.get("job_search", {}).get("context", [])) or "(?!)"
        ),
        cues=tuple(cues),
        diplomas=tuple(
            (_compile(path, f"diploma n°{i}", d["pattern"]), int(d["level"]))
            for i, d in enumerate(data.get("diploma", []), start=1)
        ),
        op_alias=_compile(path, "operators", rf"\b{op_group}"),
        alias_to_id=alias_to_id,
        current=tuple(with_op(p, "operators.current") for p in ops.get("current", [])),
        request=frozenset(ops.get("request", [])),
        followed_not_cep=frozenset(ops.get("followed_not_cep", [])),
        no_cep=tuple(_compile(path, "operators.none", p) for p in ops.get("none", [])),
        better_fit=tuple(with_op(p, "operators.better_fit") for p in ops.get("better_fit", [])),
        routing=tuple(with_op(p, "question_kind.routing") for p in kinds.get("routing", [])),
        either=with_op(kinds.get("either", "(?!)"), "question_kind.either"),
        not_routing=tuple(with_op(p, "question_kind.not_routing") for p in kinds.get("not_routing", [])),
    )


# ---------------------------------------------------------------- extraction

_NUMBER_WORDS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "dix-huit": 18, "vingt-quatre": 24,
}  # fmt: skip
_NUM = r"(\d{1,3}|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|dix-huit|vingt-quatre)"
_DURATION_BEFORE = re.compile(
    r"(?:depuis|pendant|durant|il y a|dans|sur|apres|avant|fait)\s*(?:plus d'|plus de|moins de|pres de)?\s*$"
)
_AGE = re.compile(r"(?<![\d,.])(\d{1,2})(?:\s*(?:ans|an)|a)\b")  # "45a": advisors' notes
_AGE_LESS = re.compile(r"(?:moins de|de moins de|-\s?de)\s*(\d{2})\s*ans")
_AGE_MORE = re.compile(r"(?:plus de|de plus de|\+\s?de)\s*(\d{2})\s*ans")
_AGE_OR_LESS = re.compile(r"(\d{2})\s*ans (?:et|ou) moins")
_AGE_OR_MORE = re.compile(r"(\d{2})\s*ans (?:et|ou) plus")
_AGED = re.compile(r"\bage(?:e)? de (\d{2})\b")
_SEARCH = re.compile(rf"(?:depuis|ca fait|cela fait|il y a)\s*(plus d'|plus de|pres de)?\s*{_NUM}\s*(mois|ans?)\b")
_LONG_TERM = re.compile(r"\bdeld\b|longue duree|plus d'un an de chomage")


def _requested(query: Query, start: int, lexicon: Lexicon) -> bool:
    """A request word among the few words before position start, in the same clause: a CEP asked for."""
    words = WORD.findall(clause_before(query.focus, start))
    return any(w in lexicon.request for w in words[-query.negation.window :])


def _cue_hits(cue: Cue, query: Query, raw: str) -> list[bool]:
    """For each match of a cue: True when affirmed, False when negated."""
    hits = [
        not (cue.negatable and query.negated(m.start(), m.end())) for p in cue.patterns for m in p.finditer(query.focus)
    ]
    hits += [True for p in cue.raw_patterns for _ in p.finditer(raw)]
    return hits


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word, 0)


def _ages(norm: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for rx, key, delta in ((_AGE_LESS, "age_max", -1), (_AGE_OR_LESS, "age_max", 0)):
        for m in rx.finditer(norm):
            out[key] = int(m.group(1)) + delta
    for rx, key, delta in ((_AGE_MORE, "age_min", 1), (_AGE_OR_MORE, "age_min", 0)):
        for m in rx.finditer(norm):
            out[key] = int(m.group(1)) + delta
    bounded = {m.start(1) for rx in (_AGE_LESS, _AGE_MORE, _AGE_OR_LESS, _AGE_OR_MORE) for m in rx.finditer(norm)}
    for m in [*_AGED.finditer(norm), *_AGE.finditer(norm)]:
        if m.start(1) in bounded or _DURATION_BEFORE.search(norm[max(0, m.start() - 25) : m.start()]):
            continue
        n = int(m.group(1))
        if 14 <= n <= 80:
            out["age"] = n
            break
    return out


def _operator_at(m: re.Match[str], lexicon: Lexicon) -> str | None:
    alias = m.groupdict().get("op")
    return lexicon.alias_to_id.get(alias) if alias else None


def extract(query: Query, lexicon: Lexicon) -> Situation:
    """Read a situation from a question's reading (its folded text: advisor shorthand rewritten, typos corrected)."""
    norm = query.focus
    raw = clean_markup(query.text)
    facts: dict[str, Any] = {}
    needs: set[str] = set()
    for cue in lexicon.cues:
        hits = _cue_hits(cue, query, raw)
        if not hits:
            continue
        if cue.field == "needs":
            if any(hits):
                needs.add(cue.value)
        elif FIELD_SPECS[cue.field].kind == "bool":
            # An explicit negation wins ("salarié non cadre"); else the cue's value.
            value = cue.value if all(hits) else (not cue.value)
            if cue.field not in facts or value is False:
                facts[cue.field] = value
        elif any(hits) and cue.field not in facts:
            facts[cue.field] = cue.value
    facts.update(_ages(norm))
    for m in _SEARCH.finditer(norm):
        # "en CDI depuis 6 ans" is not a job search: the duration must follow job-search words.
        before = clause_before(norm, m.start())[-50:]
        if not lexicon.job_search.search(before):
            continue
        n = _number(m.group(2)) * (12 if m.group(3).startswith("an") else 1)
        if m.group(1):
            facts["job_search_months_min"] = n + 1
        else:
            facts["job_search_months"] = n
    if "job_search_months" not in facts and _LONG_TERM.search(norm):
        facts["job_search_months_min"] = 12
    for rx, level in lexicon.diplomas:
        if rx.search(norm):
            facts["diploma_level"] = level
            break
    for rx in lexicon.no_cep:
        if rx.search(norm):
            facts["current_operator"] = NO_OPERATOR
    for rx in lexicon.current:
        for m in rx.finditer(norm):
            op = _operator_at(m, lexicon) or ("mission_locale" if "pacea" in m.group(0) else None)
            if op is None or query.negation.before(norm, m.start()) or _requested(query, m.start(), lexicon):
                continue
            if op in lexicon.followed_not_cep and "suivi" in m.group(0):
                facts["registered_pe"] = True
                continue
            facts["current_operator"] = op
    for rx in lexicon.better_fit:
        fit = rx.search(norm)
        if fit and _operator_at(fit, lexicon):
            facts["better_fit"] = _operator_at(fit, lexicon)
    mentioned = tuple(dict.fromkeys(lexicon.alias_to_id[m.group("op")] for m in lexicon.op_alias.finditer(norm)))
    _infer(facts, needs)
    return Situation(**facts, needs=frozenset(needs), mentioned=mentioned)


def _infer(facts: dict[str, Any], needs: set[str]) -> None:
    """Facts that follow from others (a registered person with no job is a job seeker...)."""
    if facts.get("resigning"):
        facts["status"] = "salarie_prive"
    if facts.get("status") is None and facts.get("registered_pe"):
        facts["status"] = "demandeur_emploi"
    if facts.get("status") is None and facts.get("inaptitude_risk"):
        facts["status"] = "salarie_prive"
    if facts.get("status") == "demandeur_emploi" and "registered_pe" not in facts and facts.get("reduced_activity"):
        facts["registered_pe"] = True
    if facts.get("inaptitude_risk") and facts.get("disability"):
        facts.setdefault("disability_impact", True)
    if facts.get("disability_impact") and "disability" not in facts:
        facts["disability"] = True
    if facts.get("disability") is False:
        facts.pop("disability_impact", None)
    if "psop" in needs:
        facts.setdefault("disability", True)
    # Looking for a first job with a bac+3 or more: a young graduate (APEC's public).
    if "premier_emploi" in needs and (facts.get("diploma_level") or 0) >= 6:
        facts.setdefault("young_graduate", True)


def with_fields(sit: Situation, **changes: Any) -> Situation:
    """A copy of a situation with some fields changed."""
    return replace(sit, **changes)


def field_names() -> Iterable[str]:
    """The situation fields a rule may test."""
    return FIELD_SPECS.keys()
