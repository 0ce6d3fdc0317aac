"""One reading of a question, made once per question by one `QueryReader` and read by every part of the assistant:
retrieval, the contact desk, the kiosk, the routing engine and the figure engine. Spellings, shorthand, typos,
operators, places, years and the kind of answer asked are worked out here only, from the lexicons in knowledge/."""

from __future__ import annotations

import re
import threading
import tomllib
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from assistant.clauses import Negation
from assistant.errors import KnowledgeError
from assistant.normalize import Lexicon, contract_shorthand, expand_shorthand, load_lexicon, respell, search_query
from assistant.questions import definition_term
from assistant.records import Answer
from ingest.corpus import Corpus
from ingest.facts import Entities, years_in
from ingest.facts import Lexicon as FigureLexicon
from ingest.facts import load_lexicon as load_figure_lexicon
from ingest.numbers import find_quantities
from ingest.operators import load_operators
from ingest.spelling import Speller, pattern_words
from ingest.text import clean_markup, fold, has

# The kinds of answer a question may ask for, specific first: « combien de jours » asks days, not a count.
UNIT_ORDER = (
    "years", "money", "km2", "score", "day", "days", "minutes", "hours", "months", "duration", "percent", "count",
    "date", "when",
)
# A period written in words states when, it does not ask for a duration (« jugent, six mois après, … »).
_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{1,2}/0\d\b")
_STATED_PERIOD = re.compile(
    r"\b(?:un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|dix-huit|vingt|trente)"
    r"\s+(?:jours?|semaines?|mois|ans|annees?|heures?|minutes?)\b"
)
_LETTERS = re.compile(r"[a-z]+")
RECENT = 256  # questions whose reading is kept
_READERS: dict[tuple[str, str], QueryReader] = {}  # the readers made, by knowledge and corpus
_LOCK = threading.Lock()
# Routing lexicon entries whose patterns hold words a question may misspell (knowledge/routing_lexicon.toml).
_PATTERN_KEYS = ("patterns", "current", "none", "better_fit", "routing", "either", "not_routing")


@dataclass(frozen=True)
class Query:
    """A question as every part of the assistant reads it."""

    text: str  # cleaned, as typed: what the meaning side embeds
    respelled: str  # kiosk spellings of asking words written out (« cb de jeunes » -> « combien de jeunes »)
    normalized: str  # shorthand spelled out too (« jsuis DE » -> « je suis demandeur d'emploi »)
    asked: str  # normalized with acronyms kept short (« CEP »): the question's shape
    search: str  # what the words side reads: filler out, synonyms in
    own: str  # the same, of the question's own words (the lexicon's additions weigh less)
    definition: str | None  # the term a definition question asks about (« qu'est-ce que CHEOPS ? »)
    previous: Answer | None = None  # the answer before it in the conversation (elliptic follow-ups)
    folded: str = ""  # respelled, folded, informal forms rewritten, typos corrected: what the engines' cues read
    operators: tuple[str, ...] = ()  # operator ids named (« pole emlpoi » names Pôle emploi)
    places: tuple[str, ...] = ()  # territories named, as scope keys (« occitanie », « dep:31 », « city:albi »)
    years: tuple[int, ...] = ()  # years named, in order
    unit: str | None = None  # the kind of answer asked (UNIT_ORDER), None when no number kind is asked
    focus: str = ""  # the folded text about the person the question is for (a relative's clauses, when named)
    about_relative: bool = False  # the question tells a relative's situation (« mon fils de 19 ans… »)
    negation: Negation = field(default_factory=Negation, compare=False, repr=False)  # the lexicon's negators

    def negated(self, start: int, end: int) -> bool:
        """Whether a negation scopes the phrase at [start, end) of `focus`: a negator shortly before it in its
        clause (« pas cadre », « sans impact »), or right after it (« il bosse pas »)."""
        return self.negation.before(self.focus, start) or self.negation.after(self.focus, end)


class QueryReader:
    """The one analyzer of questions: the question lexicon (spellings, shorthand, rewrites, synonyms), one speller
    over the corpus' and the lexicons' words, and the figure lexicon's operators, places and units."""

    def __init__(self, lexicon: Lexicon, speller: Speller, entities: Entities | None = None) -> None:
        self.lexicon = lexicon
        self.speller = speller
        self.entities = entities
        self._recent: dict[str, Query] = {}  # the last questions read (the kiosk reads, then asks, the same text)

    @classmethod
    def load(cls, knowledge_dir: Path, corpus: Corpus | None = None) -> QueryReader:
        """The reader of a corpus: its words are real words, never « corrected »; typos are corrected towards them
        and towards the lexicons' words (which win a tie). Made once per corpus and knowledge (the engines loaded
        apart, as tools and tests do, share it)."""
        key = (str(Path(knowledge_dir).resolve()), corpus.fingerprint if corpus else "")
        if corpus is not None and not corpus.fingerprint:
            return cls._make(knowledge_dir, corpus)
        with _LOCK:
            if key not in _READERS:
                while len(_READERS) >= 4:
                    _READERS.pop(next(iter(_READERS)))
                _READERS[key] = cls._make(knowledge_dir, corpus)
            return _READERS[key]

    @classmethod
    def _make(cls, knowledge_dir: Path, corpus: Corpus | None) -> QueryReader:
        lexicon = load_lexicon(knowledge_dir)
        figure_lexicon = load_figure_lexicon(knowledge_dir)
        operators = load_operators(knowledge_dir)
        entities = Entities(operators, figure_lexicon)
        lines = [li.text for doc in corpus.documents.values() for li in doc.lines] if corpus else []
        entities.home = entities.home_region(lines)
        corpus_words = {w for line in lines for w in _LETTERS.findall(fold(line))}
        preferred = sorted(
            _routing_words(knowledge_dir / "routing_lexicon.toml")
            | _figure_words(figure_lexicon)
            | {w for op in operators.values() for a in op.aliases for w in _LETTERS.findall(fold(a))}
        )
        return cls(lexicon, Speller(sorted(corpus_words), preferred, lexicon.max_edits), entities)

    def of(self, question: Query | str) -> Query:
        """A question's reading: given, or read now (the engines accept either)."""
        return question if isinstance(question, Query) else self.read(question)

    def read(self, text: str, previous: Answer | None = None) -> Query:
        """The reading of a cleaned question (assistant.normalize.clean_input); a text read a moment ago is not
        read again."""
        query = self._recent.get(text)
        if query is None:
            query = self._read(text)
            if len(self._recent) >= RECENT:
                self._recent.clear()
            self._recent[text] = query
        return query if previous is None else replace(query, previous=previous)

    def _read(self, text: str) -> Query:
        lexicon = self.lexicon
        respelled = respell(text, lexicon)
        normalized = expand_shorthand(respelled, lexicon)
        asked = contract_shorthand(normalized, lexicon)
        folded = self.speller.correct_folded(lexicon.rewrite(fold(clean_markup(respelled))))
        focus, about_relative = lexicon.subject.focus(folded)
        operators: list[str] = []
        places: list[str] = []
        entities = self.entities
        if entities is not None:
            operators = [k for k, _, _ in entities.operator_mentions(folded)]
            places = [k for k, _, _ in entities.scope_mentions(folded)] + entities.capitalized_places(text)
            places += entities.towns_in(folded)
        return Query(
            text=text,
            respelled=respelled,
            normalized=normalized,
            asked=asked,
            search=search_query(normalized, lexicon),
            own=search_query(asked, lexicon),
            definition=definition_term(asked),
            folded=folded,
            operators=tuple(dict.fromkeys(operators)),
            places=tuple(dict.fromkeys(places)),
            years=tuple(years_in(respelled)),
            unit=self.unit_asked(folded),
            focus=focus,
            about_relative=about_relative,
            negation=lexicon.negation,
        )

    def unit_asked(self, folded: str) -> str | None:
        """The kind of answer a folded question asks for: a unit of the figure lexicon, "%" a percentage."""
        if self.entities is None:
            return None
        units = self.entities.lexicon.units
        asked = folded
        for qty in reversed(find_quantities(asked)):  # "2016 (6 mois)" states a period, it does not ask one
            asked = asked[: qty.start] + " " + asked[qty.end :]
        asked = _STATED_PERIOD.sub(" ", asked)  # "six mois après" too
        asked = _DATE.sub(" ", asked)  # "(28/04–07/10/2021)" states a period, "/10" there is no score
        asked = self._rate_base.sub(" ", asked)  # "habitants au km²", "par mois": a rate's base, not its unit
        unit = next((name for name in UNIT_ORDER if any(has(asked, w) for w in units.get(name, ()))), None)
        return "percent" if "%" in asked else unit

    @cached_property
    def _rate_base(self) -> re.Pattern[str]:
        measures = self.entities.lexicon.measure_words if self.entities is not None else ()
        words = {w for w in measures if w[:1].isalnum()}
        unit_words = sorted(words, key=len, reverse=True)
        return re.compile(rf"(?:\b(?:au|aux|par)\s+|/\s?)(?:{'|'.join(map(re.escape, unit_words)) or '(?!)'})\b")


def read_query(text: str, lexicon: Lexicon, previous: Answer | None = None) -> Query:
    """The reading of a question by the lexicon alone (no corpus, no typo correction): for tools and tests."""
    return QueryReader(lexicon, Speller(())).read(text, previous)


def _routing_words(path: Path) -> set[str]:
    """The words the routing lexicon looks for: its [vocabulary] and every whole word of its patterns."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path} : lecture impossible ({exc}).") from exc
    vocabulary = data.get("vocabulary", {})
    words = set(vocabulary.get("words", []))

    def walk(node: object, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in _PATTERN_KEYS:
            words.update(pattern_words(node))

    if vocabulary.get("harvest", False):
        walk(data)
    return words


def _figure_words(lexicon: FigureLexicon) -> set[str]:
    """The words of the figure lexicon's cues, phrases, units and synonyms."""
    phrases = [*lexicon.cues, *lexicon.phrases, *(w for ws in lexicon.units.values() for w in ws)]
    phrases += [w for group in lexicon.synonyms for w in group]
    return {w for p in phrases for w in _LETTERS.findall(fold(p)) if len(w) >= 5}
