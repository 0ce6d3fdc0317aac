"""Questions asking how to reach an operator (address, phone, hours, website) or where it is (« où est la
Mission Locale de Toulouse ? »): only what the documents state, and saying so when they state nothing."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.errors import KnowledgeError
from assistant.operators import Operator, load_operators, locate_operator_sources
from assistant.query import Query, QueryReader
from assistant.records import Answer, Citation
from ingest.corpus import Corpus
from ingest.text import fold, has


@dataclass(frozen=True)
class ContactKind:
    """A kind of contact detail: the words that ask for it and the patterns that show it."""

    name: str
    ask: tuple[str, ...]
    evidence: tuple[re.Pattern[str], ...]
    label: str
    general: bool = False  # asks for any channel ("comment les contacter ?"): only when no precise kind is asked


@lru_cache(maxsize=8)
def load_contact_kinds(knowledge_dir: Path) -> tuple[ContactKind, ...]:
    """Contact kinds from knowledge/lexicon.toml [contact.*], validated."""
    path = knowledge_dir / "lexicon.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8")).get("contact", {})
    kinds = []
    for name, row in data.items():
        try:
            kinds.append(
                ContactKind(
                    name,
                    tuple(fold(a) for a in row["ask"]),
                    tuple(re.compile(p) for p in row["evidence"]),
                    row["label"],
                    bool(row.get("general", False)),
                )
            )
        except (KeyError, TypeError, re.error) as exc:
            raise KnowledgeError(f"{path}, [contact.{name}] : entrée invalide ({exc}).") from exc
    return tuple(kinds)


# A question asking where an operator is: « où est / où sont / où se trouve / où trouver / où aller »
# followed by the operator's name, or « <operator> (de <ville>), c'est où ? » (folded, apostrophes as
# spaces). « ou » alone is also "or", and « où trouver les services de Pôle emploi ? » asks for a
# document: the operator must be what is looked for.
_WHERE_VERB = r"ou (?:est|sont|se trouve|se trouvent|se situe|trouver|aller|y a t il|y a)"
_LEAD = r"(?:(?:la|le|les|l|une|un|des|du|de|d|agence|agences|antenne|antennes|locaux|bureau|bureaux)\s+)*"
_WHERE_LAST = r"\s+(?:c est|est|sont|se trouve|se trouvent) ou\s*$"
# A place after the operator's name (« la mission locale de Toulouse », « l'APEC à Montpellier »), or
# « à <ville> » before it; up to three words.
_PLACE_AFTER = r"\s+(de|d|a|au|sur|pres de|vers|en)\s+([a-z][a-z-]+(?:\s[a-z][a-z-]+){0,2})\s*$"
_PLACE_BEFORE = r"^(?:a|sur|en)\s+([a-z][a-z-]+(?:\s[a-z][a-z-]+){0,2}?)\s+ou\s"
# ... or closing the question (« Transitions Pro a-t-elle un bureau à Rodez ? »).
_PLACE_LAST = r"\s(a|au|sur|en|pres de)\s+([a-z][a-z-]+(?:\s[a-z][a-z-]+){0,2})\s*$"
# Whether an operator is found at a place: « ya une Apec à Perpignan ? », « y a-t-il une mission locale à
# Albi ? », « Transitions Pro a-t-elle un site d'accueil à Perpignan ? ».
_THERE_IS = r"(?:il\s+)?(?:y a|ya)(?:-t-il|\s+t\s+il)?"
_AT = r"\s+(?:a|au|sur|en|pres de)\s+[a-z]"
_PREMISES = (
    r"(?:site d accueil|sites d accueil|bureau|bureaux|agence|agences|antenne|antennes|permanence|permanences|"
    r"point d accueil|points d accueil|lieu d accueil|locaux)"
)
_SHOWN_PREPOSITION = {"en": "en", "sur": "sur", "vers": "vers", "pres de": "près de"}  # others: « à »
# Words that are not a place
_NOT_PLACE = frozenset(
    "la le les l un une de du des d a au aux sur pres vers en plus proche proches il y t est sont se trouve ou "
    "trouver aller quelle quel adresse adresses agence agences antenne site sites bureau bureaux locaux "
    "svp stp moi chez mon ma ici dans c cela ca quoi".split()
)


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text)


def _alias_pattern(aliases: tuple[str, ...]) -> str:
    names = sorted((a.replace("'", " ") for a in aliases), key=len, reverse=True)
    return "(?:" + "|".join(re.escape(n) for n in names) + ")"


def asks_where(question: str, aliases: tuple[str, ...]) -> bool:
    """Whether the question asks where the operator of these (folded) names is."""
    folded = " ".join(fold(w) for w in _words(question))
    name = _alias_pattern(aliases)
    if re.search(rf"(?<![a-z0-9]){_WHERE_VERB}\s+{_LEAD}{name}(?![a-z0-9])", folded):
        return True
    if re.search(rf"(?<![a-z0-9]){_THERE_IS}\s+{_LEAD}{name}{_AT}", folded):
        return True
    has = r"(?:a|a-t-elle|a-t-il|possede|dispose d)"
    if re.search(rf"(?<![a-z0-9]){name}(?:\s+[a-z-]+)?\s+{has}\s+(?:un|une|des)\s+{_PREMISES}{_AT}", folded):
        return True
    return re.search(rf"^{_LEAD}{name}(?:\s+[a-z-]+){{0,4}}{_WHERE_LAST}", folded) is not None


def place_in(question: str, aliases: tuple[str, ...]) -> str:
    """The place a question names around an operator's name, with its preposition (« à Toulouse », « en
    Occitanie »), as typed; "" when it names none.

    `aliases` are the operator's folded names; the place follows them after « de / à / sur / en… »
    (« la mission locale de Toulouse ») or opens the question (« à Albi, où est Pôle emploi ? »).
    """
    words = _words(question)
    folded = " ".join(fold(w) for w in words)
    folded = re.sub(_WHERE_LAST, "", folded)
    m = re.search(rf"(?<![a-z0-9]){_alias_pattern(aliases)}{_PLACE_AFTER}", folded)
    preposition, found = (m.group(1), m.group(2)) if m else ("a", "")
    if not m and (m := re.search(_PLACE_BEFORE, folded)):
        found = m.group(1)
    elif not m and (m := re.search(_PLACE_LAST, folded)):
        preposition, found = m.group(1), m.group(2)
    kept = found.split()
    if not kept or any(w in _NOT_PLACE for w in kept) or any(has(found, a.replace("'", " ")) for a in aliases):
        return ""
    shown = {fold(w): w for w in words}
    return _SHOWN_PREPOSITION.get(preposition, "à") + " " + " ".join(_place_case(shown.get(w, w)) for w in kept)


def _place_case(word: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in word.split("-")) if word.islower() else word


def _of(op: Operator) -> str:
    """« de l'APEC », « du Réseau EVA », « d'une Mission Locale », « de Pôle emploi »."""
    call = op.call
    if call.startswith("le "):
        return "du " + call[3:]
    if call.startswith("les "):
        return "des " + call[4:]
    return ("d'" if fold(call[:1]) in "aeiouy" else "de ") + call


def channel_gaps(op: Operator, kinds: tuple[ContactKind, ...], wanted: tuple[str, ...]) -> list[ContactKind]:
    """The contact kinds among `wanted` (« adresse », « telephone », « site ») that no channel of the operator
    states, in the order of `wanted`."""
    texts = [fold(f.text + " " + f.quote) for f in op.facts_of("canal")]
    by_name = {k.name: k for k in kinds}
    return [
        by_name[w] for w in wanted if w in by_name and not any(p.search(t) for p in by_name[w].evidence for t in texts)
    ]


class ContactDesk:
    """Answers "adresse / téléphone / horaires / site de X ?" from the channels the documents state."""

    def __init__(self, knowledge_dir: Path, corpus: Corpus, analyzer: QueryReader | None = None) -> None:
        """analyzer: the question reader shared with the engines (the operators a question names are its reading's,
        « conseil en évolution professionnelle » naming the service, not Réseau EVA); by default, the corpus' one."""
        self.kinds = load_contact_kinds(knowledge_dir)
        self.operators, _ = locate_operator_sources(load_operators(knowledge_dir), corpus)  # Router logs the lost
        self.corpus = corpus
        self.analyzer = analyzer or QueryReader.load(knowledge_dir, corpus)

    def asked(self, question: Query | str) -> tuple[list[ContactKind], list[Operator]]:
        """The contact kinds asked for and the operators named (both empty when not a contact question)."""
        q = self.analyzer.of(question)
        f = fold(q.normalized).replace("'", " ")
        if has(f, "combien") or has(f, "nombre"):  # "combien de sites ?" asks a figure
            return [], []
        kinds = [k for k in self.kinds if any(has(f, a) for a in k.ask)]
        kinds = [k for k in kinds if not k.general] or kinds
        ops = [op for op in self.operators.values() if op.id in q.operators]
        if not kinds and any(asks_where(q.normalized, op.aliases) for op in ops):  # « où est … ? »: an address
            kinds = [k for k in self.kinds if k.name == "adresse"]
        return (kinds, ops) if kinds and ops else ([], [])

    def answer(self, question: Query | str) -> Answer | None:
        """The stated channels of the kind asked, or an honest "not in the documents"; None if not asked."""
        q = self.analyzer.of(question)
        kinds, ops = self.asked(q)
        if not kinds:
            return None
        question = q.normalized
        if [k.name for k in kinds] == ["adresse"]:
            places = {op.id: place_in(question, op.aliases) for op in ops}
            if any(places.values()):
                return self._place_answer(question, ops, places, kinds[0])
        found: list[tuple[Operator, str, Citation]] = []
        stated: list[Citation] = []
        for op in ops:
            for fact in op.facts_of("canal"):
                if fact.lines is None:  # its quote was not found in this corpus: nothing to cite
                    continue
                try:
                    cite = self.corpus.citation(fact.document, *fact.lines, highlight=fact.quote)
                except KnowledgeError:
                    continue
                stated.append(cite)
                text = fold(fact.text + " " + fact.quote)
                if any(p.search(text) for k in kinds for p in k.evidence):
                    found.append((op, fact.text, cite))
        what = " ni ".join(k.label for k in kinds)
        names = ", ".join(op.name for op in ops)
        if found:
            lines = [f"{op.name} : {text}" for op, text, _ in found]
            return Answer(question, "passage", "D'après les documents — " + " ; ".join(lines), [c for *_, c in found])
        text = f"Les documents ne donnent pas {what} (opérateur : {names})."
        if stated:
            text += " Ils indiquent seulement les moyens de contact cités ci-dessous."
        return Answer(question, "abstain", text, stated[:3])

    def _cite(self, op: Operator, kind: str = "canal") -> list[tuple[str, Citation]]:
        out = []
        for fact in op.facts_of(kind):
            if fact.lines is None:  # its quote was not found in this corpus: nothing to cite
                continue
            try:
                out.append((fact.text, self.corpus.citation(fact.document, *fact.lines, highlight=fact.quote)))
            except KnowledgeError:
                continue
        return out

    def _place_answer(self, question: str, ops: list[Operator], places: dict[str, str], kind: ContactKind) -> Answer:
        """« Où est X à <ville> ? »: an address the documents give there, else saying they give none, with
        what they say of the place and the operator's website (or where to look for it)."""
        found: list[tuple[str, Citation]] = []
        said: list[str] = []
        cited: list[Citation] = []
        site = next((k for k in self.kinds if k.name == "site"), None)
        for op in ops:
            place = places.get(op.id) or ""
            here = fold(place.split(" ", 1)[-1]) if place else ""
            channels = self._cite(op)
            at_place = [(t, c) for t, c in channels if here and has(_words_only(t), here)]
            address = [(t, c) for t, c in at_place if any(p.search(fold(t)) for p in kind.evidence)]
            if address:
                found += [(f"{op.name} : {t}", c) for t, c in address]
                continue
            said.append(f"Les documents ne donnent pas l'adresse {_of(op)}{' ' + place if place else ''}.")
            said += [f"Ils indiquent : {t}" for t, _ in at_place]
            cited += [c for _, c in at_place]
            sites = [(t, c) for t, c in channels if site and any(p.search(fold(t)) for p in site.evidence)]
            sites = [(t, c) for t, c in sites if (t, c) not in at_place]
            if sites:
                said += [t if fold(t).startswith("site") else f"Son site : {t}" for t, _ in sites]
                cited += [c for _, c in sites]
            else:
                said.append(f"Ils ne donnent pas non plus l'adresse de son site internet : {where_to_look(op, place)}")
                cited += [c for _, c in channels if c not in cited]
        text = " ".join([*("D'après les documents — " + t for t, _ in found), *said])
        return Answer(question, "abstain" if said else "passage", text, [c for _, c in found] + cited[:3])


def _words_only(text: str) -> str:
    """Folded words of a text, web addresses left out (« occitanie » in « mon-cep.org/occitanie » is no place)."""
    return " ".join(fold(w) for w in _words(" ".join(t for t in text.split() if not re.search(r"\w[./]\w", t))))


def where_to_look(op: Operator, place: str = "") -> str:
    """Where a visitor can look for what the documents do not give: the operator's own website."""
    town = place.split(" ", 1)[-1] if place else "votre ville"
    return f"cherchez « {op.name} {town} » sur internet pour trouver le site {_of(op)}."
