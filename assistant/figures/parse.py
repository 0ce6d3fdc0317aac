"""Reading a figure question: operators, territories, years, the unit asked and the weighted content words."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache

from assistant.query import Query
from assistant.questions import acronyms
from ingest.facts import DATE_ASKED, Entities, Lexicon
from ingest.operators import Operator
from ingest.text import STOP_WORDS, clean_markup, fold, has, stem, tokens, words

# Units a question may ask for, and the fact units that answer each.
UNIT_FAMILIES: dict[str, set[str]] = {
    "percent": {"percent"},
    "years": {"years"},  # an age ("moyenne d'âge : 38 ans")
    "money": {"eur", "keur", "meur", "beur"},
    "km2": {"km2"},
    "score": {"score", "ratio"},
    "days": {"days"},
    "minutes": {"minutes"},
    "hours": {"hours"},
    "months": {"months"},
    "duration": {"days", "minutes", "hours", "weeks", "months", "years"},
    "count": {"count"},
    "day": {"day"},  # a date's day of the month (« quel jour ? »)
    "date": {"date"},  # a date's year (« en quelle année ? », « depuis quand ? »)
}
RARE_UNITS = {"money", "km2", "score"}  # few numbers of these kinds: the unit itself is strong evidence
_QUESTION_WORDS = {"combien", "quel", "quell", "nombr", "chiffr", "valeur", "etai", "etait", "etaient"}
# "entre 25 et 44 ans", "entre les opérateurs": the preposition, not "entrés" (same stem)
ENTRE = re.compile(r"\bentre(?=\s+(?:\d|les?\b|la\b|l'|l’|deux\b|eux\b|autres?\b))", re.I)
_ASKED_OBJECT = re.compile(r"\b(?:combien|nombre|nb)\s+(?:de|d')\s*(?:la |les |l')?([a-z]+)")


@dataclass
class FigureAsk:
    """What a figure question asks: operators, scopes, years, unit and content words."""

    text: str
    folded: str
    operators: list[str]
    scopes: list[str]
    years: list[int]
    unit: str | None
    weights: dict[str, float] = field(default_factory=dict)  # content stem -> idf weight
    expansions: dict[str, str] = field(default_factory=dict)  # synonym stem -> question stem
    metrics: frozenset[int] = frozenset()  # metric groups the question names (lexicon, metric = true)
    asked_object: str = ""  # stem of what a count question counts ("combien d'agences" -> agenc)
    numbers: tuple[str, ...] = ()  # numbers the question states, years aside ("44 à 54 ans", "niveau 4", "7 sur 10")
    total: bool = False  # a total is asked ("au total", "tous opérateurs confondus")
    all_operators: bool = False  # ... the total of all operators ("tous opérateurs confondus")
    change: bool = False  # a change is asked ("de combien ont-elles baissé ?")

    def slots(self) -> dict[str, list]:
        """The slots a follow-up may change: years, operators, scopes."""
        return {"years": self.years, "operators": self.operators, "scopes": self.scopes}


class QuestionReader:
    """Parses figure questions against the lexicon, the operators and the corpus vocabulary."""

    def __init__(self, lexicon: Lexicon, operators: dict[str, Operator], entities: Entities, lines: list[str]) -> None:
        """entities: what finds operators and places in a fact's text (a question's are in its Query)."""
        self.lexicon = lexicon
        self.operators = operators
        self.entities = entities
        counts: Counter[str] = Counter()
        for text in lines:
            counts.update(set(tokens(text)))
        n = max(len(lines), 1)
        self.idf = {t: math.log(1 + n / c) for t, c in counts.items()}
        self.default_idf = math.log(1 + n)
        self.acronyms = acronyms(lines)  # spelled out in the documents: "PPS" -> "prestations personnalisees …"
        self.synonyms = [{t for w in group for t in tokens(w)} for group in lexicon.synonyms]
        # Metric groups: single words only ("entrée en CEP" would make "cep" a metric word).
        self.metric_groups: dict[int, set[str]] = {
            i: {t for w in lexicon.synonyms[i] if " " not in w for t in tokens(w)} for i in lexicon.metrics
        }
        self._cue_words = {w for w in lexicon.cues if " " not in w}
        self._cue_phrases = [w for w in lexicon.cues if " " in w] + list(lexicon.phrases)
        # Words that only say "a number, please": not what the number is about.
        self._ask_stems = set(_QUESTION_WORDS)
        # (not a date's words: « mars » of « jour de mars » is what « enquête de mars 2022 » is about)
        for w in [*lexicon.phrases, *lexicon.measure_words]:
            self._ask_stems.update(tokens(w))

    def metrics_in(self, text: str) -> frozenset[int]:
        """The metric groups a text names (entrées, sortants, bénéficiaires, femmes...)."""
        stems = set(tokens(ENTRE.sub(" ", clean_markup(text))))
        return frozenset(i for i, group in self.metric_groups.items() if stems & group)

    def is_figure_question(self, query: Query) -> bool:
        """True for questions asking a number: combien, nombre, taux, part, moyenne, budget, "en %"..."""
        f = query.folded
        words = set(re.findall(r"[a-z0-9%€²]+", f)) | ({"%"} if "%" in f else set())
        if words & self._cue_words or any(has(f, p) for p in self._cue_phrases) or query.unit in DATE_ASKED:
            return True
        if any(has(f, w) for w in self.lexicon.open_words):
            return False
        # Terse advisor style: "Entrées CEP Pôle Emploi Occitanie 2021 ?" names a metric and a year,
        # with no question word ("Quel lien…", "Que fait…" are open questions).
        if re.match(r"^\W*(?:quel|quelle|quels|quelles|que|qui|quoi|ou|est-ce|est ce)\b", f):
            return False
        q = self.parse(query)
        metric_words = any(t in s for s in self.synonyms[:3] for t in q.weights)
        return len(f.split()) <= 14 and (bool(q.years) or metric_words) and bool(q.operators or q.scopes or q.years)

    def parse(self, query: Query) -> FigureAsk:
        """What a question's reading asks of the figures: its operators, places, years and unit, and the content
        words weighted by their rarity in the corpus."""
        f, text = query.folded, query.folded
        ops, scopes, years, unit = list(query.operators), list(query.places), list(query.years), query.unit
        if unit == "when":  # « GTO 6 : date février 2022 ? » asks the day; « date de la loi ? » its year
            unit = "day" if years else "date"
        skip: set[str] = set(self._ask_stems)
        for op in ops:
            for a in self.operators[op].aliases:
                if has(f, a):
                    skip.update(tokens(a))
        for k, s, e in self.entities.scope_mentions(f):
            if not k.startswith(("other:", "dep:")):  # a place's name is also what a table row is about
                skip.update(tokens(f[s:e]))
        weights: dict[str, float] = {}
        for t in tokens(text):
            if t in skip or re.fullmatch(r"\d+(\.\d+)?", t):
                continue
            weights[t] = self.idf.get(t, self.default_idf)
        expansions: dict[str, str] = {}
        self._expand_acronyms(text, weights, expansions)
        for group in self.synonyms:
            hit = next((t for t in weights if t in group), None)
            if hit:
                for g in group:
                    if g not in weights:
                        expansions[g] = hit
        return FigureAsk(
            query.text,
            f,
            list(dict.fromkeys(ops)),
            list(dict.fromkeys(scopes)),
            years,
            unit,
            weights,
            expansions,
            self.metrics_in(text),
            asked_object(query.respelled) if unit in (None, "count") else "",
            stated_numbers(query.respelled, years),
            any(has(f, w) for w in self.lexicon.totals),
            any(has(f, w) for w in self.lexicon.all_operators),
            any(has(f, w) for w in self.lexicon.changes),
        )

    def _expand_acronyms(self, text: str, weights: dict[str, float], expansions: dict[str, str]) -> None:
        """An acronym the documents spell out stands for its words, and its words for it ("PPS" <-> "prestations
        personnalisées spécifiques"): each side counts as a synonym of the other."""
        folded = fold(clean_markup(text))
        for acronym, spelled in self.acronyms.items():
            source, long_stems = _acronym_stems(acronym, spelled)
            if has(folded, acronym):
                if source in weights:
                    for t in long_stems:
                        if t not in weights:
                            expansions.setdefault(t, source)
            elif long_stems and has(folded, spelled):
                head = next((t for t in long_stems if t in weights), None)
                if head:
                    expansions.setdefault(source, head)

    def follow_up(self, query: Query, previous: FigureAsk) -> FigureAsk | None:
        """An elliptic follow-up ("et en 2020 ?", "et pour l'APEC ?") as the previous query with the changed slot.

        A follow-up names a year, an operator or a territory and almost nothing else; None otherwise.
        """
        q = self.parse(query)
        changed = {k: v for k, v in q.slots().items() if v}
        if not changed:
            return None
        content = [t for t in q.weights if t not in STOP_WORDS and len(t) > 2]
        f = q.folded.strip()
        if len(content) > 1 or not re.match(r"^\W*(?:et|pour|en|au|a|a l'|chez|meme chose|idem)\b", f + " "):
            return None
        merged = replace(previous, **changed)  # type: ignore[arg-type]
        merged.text = f"{previous.text} [{query.text}]"
        return merged


@lru_cache(maxsize=1024)
def _acronym_stems(acronym: str, spelled: str) -> tuple[str, tuple[str, ...]]:
    """An acronym's stem and the content stems of its spelled-out words, read once."""
    return stem(acronym), tuple(t for t in tokens(spelled) if t not in STOP_WORDS and len(t) > 2)


def stated_numbers(text: str, years: list[int]) -> tuple[str, ...]:
    """Numbers a question states as words of what it asks (an age band, a level, a score), years aside."""
    found = [t for t in words(text) if t[0].isdigit()]
    return tuple(dict.fromkeys(t for t in found if not (t.isdigit() and int(t) in years)))


def asked_object(question: str) -> str:
    """Stem of what a count question counts: "Combien d'agences…" -> stem("agences")."""
    m = _ASKED_OBJECT.search(fold(question).replace("\u2019", "'"))
    word = m.group(1) if m else ""
    return stem(word) if len(word) > 3 and word not in STOP_WORDS else ""
