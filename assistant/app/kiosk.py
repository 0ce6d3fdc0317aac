"""The kiosk's guided buttons and frequent questions (knowledge/kiosk.toml), without the UI.

A situation button leads through short choices to a set of facts; the routing engine's ``route_fields``
names the operator from the documented rules. A frequent question is answered by sentences of the
documents, located by their verbatim quote and cited (document, page or lines). Each operator's card
says who it is for in a visitor's words (``[[say]]``), each sentence backed by a verbatim quote.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from assistant.errors import CepError, KnowledgeError
from assistant.records import OPERATOR_IDS, Answer, Citation
from ingest.corpus import Corpus
from ingest.locate import flat
from ingest.text import fold

log = logging.getLogger(__name__)

FILE_NAME = "kiosk.toml"
# How close a typed question must be to one of a frequent question's `asks` (rapidfuzz ratio on the
# folded text, 0-100). Measured on the built-in asks: a missing apostrophe ("cest combien") scores 96,
# "ça coute combien" 100, while other questions on the same words stay well below ("c'est combien de
# conseillers" 63, "qui est le CEP" 81): 90 keeps the typos and leaves the rest to the pipeline.
FAQ_MATCH = 90
_NON_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Option:
    label: str
    facts: Mapping[str, Any]
    next: str | None = None


@dataclass(frozen=True)
class Choice:
    id: str
    question: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Button:
    id: str
    label: str
    facts: Mapping[str, Any]
    next: str | None = None


@dataclass(frozen=True)
class Faq:
    id: str
    label: str
    quote: str
    asks: tuple[str, ...] = ()
    document: str = ""


@dataclass(frozen=True)
class Say:
    """A sentence for the visitor on an operator's card, when the visitor's facts match `when`.

    `quotes` are verbatim passages of the documents that state it (located when the kiosk loads).
    """

    operator: str
    text: str
    quotes: tuple[str, ...]
    when: Mapping[str, Any] = field(default_factory=dict)
    document: str = ""

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return all(k in facts and facts[k] == v for k, v in self.when.items())


@dataclass(frozen=True)
class KioskData:
    """The validated content of knowledge/kiosk.toml."""

    path: Path
    buttons: tuple[Button, ...]
    choices: Mapping[str, Choice]
    faqs: tuple[Faq, ...]
    says: tuple[Say, ...] = ()

    def button(self, button_id: str) -> Button:
        return next(b for b in self.buttons if b.id == button_id)


def _facts(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise KnowledgeError(f"{where} : « facts » doit être une table (champ = valeur).")
    return dict(value)


@lru_cache(maxsize=8)
def load_kiosk(knowledge_dir: Path) -> KioskData:
    """Buttons, choices and frequent questions, validated; a KnowledgeError names the file and the entry."""
    path = knowledge_dir / FILE_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path} : lecture impossible ({exc}).") from exc
    choices: dict[str, Choice] = {}
    for cid, row in data.get("choice", {}).items():
        where = f"{path}, choix « {cid} »"
        if not isinstance(row, Mapping) or not str(row.get("question", "")).strip():
            raise KnowledgeError(f"{where} : question manquante.")
        raw_options = row.get("options", [])
        if not isinstance(raw_options, list) or len(raw_options) < 2:
            raise KnowledgeError(f"{where} : il faut au moins deux réponses (« options »).")
        options = []
        for j, opt in enumerate(raw_options, start=1):
            if not isinstance(opt, Mapping) or not str(opt.get("label", "")).strip():
                raise KnowledgeError(f"{where}, réponse n°{j} : libellé manquant.")
            options.append(
                Option(str(opt["label"]), _facts(f"{where}, réponse n°{j}", opt.get("facts", {})), opt.get("next"))
            )
        choices[cid] = Choice(cid, str(row["question"]), tuple(options))
    buttons = []
    for i, row in enumerate(data.get("button", []), start=1):
        where = f"{path}, bouton n°{i}"
        if not row.get("id") or not str(row.get("label", "")).strip():
            raise KnowledgeError(f"{where} : « id » et « label » sont obligatoires.")
        buttons.append(Button(str(row["id"]), str(row["label"]), _facts(where, row.get("facts", {})), row.get("next")))
    if len({b.id for b in buttons}) != len(buttons):
        raise KnowledgeError(f"{path} : deux boutons ont le même identifiant.")
    targets = [(f"bouton « {b.id} »", b.next) for b in buttons]
    targets += [(f"choix « {c.id} »", o.next) for c in choices.values() for o in c.options]
    for who, target in targets:
        if target is not None and target not in choices:
            raise KnowledgeError(f"{path}, {who} : choix suivant inconnu « {target} ».")
    for b in buttons:
        _check_no_cycle(path, choices, b.next, (b.id,))
    faqs = []
    for i, row in enumerate(data.get("faq", []), start=1):
        where = f"{path}, question fréquente n°{i}"
        if not row.get("id") or not str(row.get("label", "")).strip() or not str(row.get("quote", "")).strip():
            raise KnowledgeError(f"{where} : « id », « label » et « quote » sont obligatoires.")
        asks = row.get("asks", [])
        if not isinstance(asks, list) or not all(isinstance(a, str) for a in asks):
            raise KnowledgeError(f"{where} : « asks » doit être une liste de textes.")
        faqs.append(
            Faq(str(row["id"]), str(row["label"]), str(row["quote"]), tuple(asks), str(row.get("document", "")))
        )
    return KioskData(path, tuple(buttons), choices, tuple(faqs), _says(path, data.get("say", [])))


def _says(path: Path, rows: Any) -> tuple[Say, ...]:
    says = []
    for i, row in enumerate(rows, start=1):
        where = f"{path}, phrase n°{i}"
        if not isinstance(row, Mapping) or row.get("operator") not in OPERATOR_IDS:
            raise KnowledgeError(f"{where} : « operator » doit être l'un de {', '.join(OPERATOR_IDS)}.")
        quotes = row.get("quote", [])
        quotes = [quotes] if isinstance(quotes, str) else quotes
        if not str(row.get("text", "")).strip() or not quotes or not all(isinstance(q, str) and q for q in quotes):
            raise KnowledgeError(f"{where} : « text » et « quote » (la phrase des documents) sont obligatoires.")
        when = _facts(where, row.get("when", {}))
        says.append(Say(str(row["operator"]), str(row["text"]), tuple(quotes), when, str(row.get("document", ""))))
    return tuple(says)


def _check_no_cycle(path: Path, choices: Mapping[str, Choice], cid: str | None, seen: tuple[str, ...]) -> None:
    if cid is None:
        return
    if cid in seen:
        raise KnowledgeError(f"{path} : le choix « {cid} » revient sur lui-même ({' → '.join((*seen, cid))}).")
    for o in choices[cid].options:
        _check_no_cycle(path, choices, o.next, (*seen, cid))


# --- the guided path of a button ---------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """Where a visitor is on a button's path: the facts so far, the labels chosen, the pending choice."""

    button: str
    facts: tuple[tuple[str, Any], ...]
    path: tuple[str, ...]
    choice: str | None = None

    @property
    def done(self) -> bool:
        return self.choice is None

    def fact_dict(self) -> dict[str, Any]:
        return dict(self.facts)


def start(data: KioskData, button_id: str) -> Step:
    b = data.button(button_id)
    return Step(b.id, tuple(b.facts.items()), (b.label,), b.next)


def choose(data: KioskData, step: Step, option: int) -> Step:
    """The step after picking an option of the pending choice."""
    if step.choice is None:
        raise ValueError("aucun choix en attente")
    choice = data.choices[step.choice]
    opt = choice.options[option]
    facts = {**step.fact_dict(), **opt.facts}
    return Step(step.button, tuple(facts.items()), (*step.path, f"{choice.question} {opt.label}"), opt.next)


def question_of(data: KioskData, step: Step) -> Choice | None:
    return data.choices[step.choice] if step.choice is not None else None


def outcome(router: Any, step: Step) -> Answer:
    """The routing engine's answer for the facts gathered (its documented rules name the operator)."""
    answer = router.route_fields(**step.fact_dict())
    answer.question = "\n".join(step.path)
    return answer


def paths(data: KioskData, button_id: str) -> list[Step]:
    """Every finished path of a button (to check that each one ends on a documented operator)."""
    out: list[Step] = []
    todo = [start(data, button_id)]
    while todo:
        step = todo.pop()
        if step.done:
            out.append(step)
            continue
        choice = data.choices[step.choice or ""]
        todo.extend(choose(data, step, i) for i in range(len(choice.options)))
    return out


# --- frequent questions ------------------------------------------------------------------------------


def locate(corpus: Corpus, quote: str, document: str = "") -> Citation:
    """The citation (document, section, page, lines) of a verbatim quote; KnowledgeError when absent."""
    name, first, last = corpus.locate(quote, document)
    return corpus.citation(name, first, last, highlight=flat(quote))


@dataclass
class Kiosk:
    """The kiosk content checked against a corpus: the frequent questions' answers and sources ready."""

    data: KioskData
    answers: dict[str, Answer] = field(default_factory=dict)  # faq id -> answer
    problems: list[str] = field(default_factory=list)
    says: list[tuple[Say, list[Citation]]] = field(default_factory=list)  # with their located sources

    @classmethod
    def load(cls, knowledge_dir: Path, corpus: Corpus) -> Kiosk:
        """Read kiosk.toml and find each frequent question's quote in the corpus (missing ones are reported)."""
        data = load_kiosk(knowledge_dir)
        kiosk = cls(data)
        for faq in data.faqs:
            try:
                citation = locate(corpus, faq.quote, faq.document)
            except KnowledgeError as exc:
                kiosk.problems.append(f"{data.path}, question fréquente « {faq.id} » : {exc}")
                continue
            text = flat(faq.quote)
            kiosk.answers[faq.id] = Answer(faq.label, "passage", text, citations=[citation])
        for i, say in enumerate(data.says, start=1):
            try:
                kiosk.says.append((say, [locate(corpus, q, say.document) for q in say.quotes]))
            except KnowledgeError as exc:
                kiosk.problems.append(f"{data.path}, phrase n°{i} ({say.operator}) : {exc}")
        for p in kiosk.problems:
            log.warning("%s", p)
        return kiosk

    def faq_answer(self, faq_id: str) -> Answer | None:
        answer = self.answers.get(faq_id)
        if answer is None:
            return None
        return Answer(answer.question, answer.intent, answer.text, citations=list(answer.citations))

    def say(self, operator: str, facts: Mapping[str, Any]) -> tuple[Say, list[Citation]] | None:
        """The visitor's sentence for an operator: the one whose conditions hold with the most of them
        (the most specific), the first in the file on a tie; None when none holds."""
        best: tuple[int, tuple[Say, list[Citation]] | None] = (-1, None)
        for say, sources in self.says:
            if say.operator == operator and say.holds(facts) and len(say.when) > best[0]:
                best = (len(say.when), (say, sources))
        return best[1]

    def match(self, *typed: str) -> Faq | None:
        """The frequent question a typed kiosk question asks, if it is one of them (typos tolerated).

        Several forms of the same question may be given (as typed, shorthand expanded): the closest counts.
        """
        texts = [t for t in (_key(x) for x in typed) if t]
        best: tuple[float, Faq | None] = (0.0, None)
        for faq in self.data.faqs:
            for ask in (faq.label, *faq.asks):
                for text in texts:
                    score = fuzz.ratio(text, _key(ask))
                    if score > best[0]:
                        best = (score, faq)
        return best[1] if best[0] >= FAQ_MATCH else None


def _key(text: str) -> str:
    return _NON_WORD.sub(" ", fold(str(text))).strip()


def check_paths(kiosk: KioskData, router: Any) -> list[str]:
    """Problems of the buttons against the routing engine: invalid facts, a path left undecided."""
    problems = []
    for b in kiosk.buttons:
        for step in paths(kiosk, b.id):
            try:
                answer = outcome(router, step)
            except (CepError, TypeError, ValueError) as exc:
                problems.append(f"{kiosk.path}, bouton « {b.id} » ({' · '.join(step.path)}) : {exc}")
                continue
            if answer.intent != "routing" or not answer.operators:
                problems.append(
                    f"{kiosk.path}, bouton « {b.id} » ({' · '.join(step.path)}) : les règles ne désignent pas "
                    f"d'opérateur ({answer.intent})."
                )
    return problems
