"""What a question's clauses scope: the negations (« pas cadre », « il bosse pas ») and the person the question is
about (« mon fils de 19 ans… »), from the [negation] and [subject] tables of knowledge/lexicon.toml."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import KnowledgeError

WORD = re.compile(r"[a-z]+")
CLAUSE_END = re.compile(r"[.;:!?()\[\],\n]")
_SPOKEN_NEGATION = re.compile(r"\s+(pas|plus|jamais)\b")
_CLAUSE_SPLIT = re.compile(r"\s*[.;:!?,\n]+\s*|\s+(?:et|mais|alors que|parce que)\s+")
_NEVER = re.compile("(?!)")


def clause_before(text: str, start: int) -> str:
    """The part of a folded text's clause that comes before position start (60 characters at most)."""
    before = text[max(0, start - 60) : start]
    return before[max((m.end() for m in CLAUSE_END.finditer(before)), default=0) :]


@dataclass(frozen=True)
class Negation:
    """Negators and how far they reach, in folded text."""

    words: frozenset[str] = frozenset()
    unless_after: Mapping[str, frozenset[str]] = field(default_factory=dict)  # « un peu »: « peu » negates nothing
    window: int = 4  # words looked at before a phrase, inside its clause
    clause_words: frozenset[str] = frozenset()  # words that open a new clause: a negator before them stays there
    absorbers: frozenset[str] = frozenset()  # nouns that take a negation for themselves (« aucun impact du … »)

    def before(self, text: str, start: int) -> bool:
        """A negator among the few words before position start, inside the same clause."""
        context = WORD.findall(clause_before(text, start))
        words = context[-self.window :]
        offset = len(context) - len(words)
        # "sans diplome qui cherche du travail": the negator stays in its own clause;
        # "aucun impact du handicap": the negation is the noun's, not the handicap's.
        for i in range(len(words) - 1, -1, -1):
            if words[i] in self.clause_words or words[i] in self.absorbers:
                offset += i + 1
                words = words[i + 1 :]
                break
        for i, w in enumerate(words):
            previous = context[offset + i - 1] if offset + i > 0 else ""
            if w in self.words and previous not in self.unless_after.get(w, ()):
                return True
        return False

    def after(self, text: str, end: int) -> bool:
        """Spoken French drops the « ne »: « il bosse pas », « je travaille plus ». A negator right after."""
        found = _SPOKEN_NEGATION.match(text, end)  # right after, no punctuation between: not ", pas de RQTH"
        return found is not None and found.group(1) in self.words


@dataclass(frozen=True)
class Subject:
    """Words telling whose situation a text tells: a relative's (« mon fils »), or the speaker's own."""

    relatives: re.Pattern[str] = _NEVER  # « mon fils », « sa fille »
    speaker: re.Pattern[str] = _NEVER  # first-person words
    third_person: re.Pattern[str] = _NEVER  # pronouns that refer to the relative

    def focus(self, folded: str) -> tuple[str, bool]:
        """The part of a folded text about the person the question is for, and whether that is a relative.

        When the caller tells a relative's situation (« j'ai 50 ans et mon fils de 19 ans cherche du travail »),
        the clauses about the caller alone (first person, no relative, no pronoun for them) are left out, so
        that their facts do not mix with the relative's.
        """
        if not self.relatives.search(folded):
            return folded, False
        clauses = [c for c in _CLAUSE_SPLIT.split(folded) if c]
        kept = [
            c for c in clauses if self.relatives.search(c) or self.third_person.search(c) or not self.speaker.search(c)
        ]
        return (" , ".join(kept) if kept else folded), True


def negation_of(path: Path, data: Mapping[str, Any]) -> Negation:
    """The [negation] table, validated."""
    table = data.get("negation", {})
    try:
        return Negation(
            words=frozenset(table.get("words", [])),
            unless_after={k: frozenset(v) for k, v in table.get("unless_after", {}).items()},
            window=int(table.get("window", 4)),
            clause_words=frozenset(table.get("clause_words", [])),
            absorbers=frozenset(table.get("absorbers", [])),
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise KnowledgeError(f"{path}, [negation] : entrée invalide ({exc}).") from exc


def subject_of(path: Path, data: Mapping[str, Any]) -> Subject:
    """The [subject] table, compiled."""
    table = data.get("subject", {})

    def words_re(key: str, template: str) -> re.Pattern[str]:
        items = table.get(key, [])
        if not (isinstance(items, list) and all(isinstance(w, str) for w in items)):
            raise KnowledgeError(f"{path}, [subject] {key} : une liste de mots est attendue.")
        alternation = "|".join(re.escape(w) for w in sorted(items, key=len, reverse=True))
        return re.compile(template.format(alternation)) if items else _NEVER

    return Subject(
        relatives=words_re("relatives", r"\b(?:mon|ma|mes|son|sa|ses|notre|nos|votre|leur|un|une) (?:{})s?\b"),
        speaker=words_re("speaker", r"(?:^|\W)(?:{})(?=\W|$)"),
        third_person=words_re("third_person", r"(?:^|\W)(?:{})(?=\W|$)"),
    )
