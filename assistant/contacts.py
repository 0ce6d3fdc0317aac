"""Questions asking how to reach an operator (address, phone, hours, website): only what the documents state."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.errors import KnowledgeError
from assistant.operators import Operator, load_operators, locate_operator_sources
from assistant.records import Answer, Citation
from ingest.corpus import Corpus
from ingest.text import fold


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


def _has(folded: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", folded) is not None


class ContactDesk:
    """Answers "adresse / téléphone / horaires / site de X ?" from the channels the documents state."""

    def __init__(self, knowledge_dir: Path, corpus: Corpus) -> None:
        self.kinds = load_contact_kinds(knowledge_dir)
        self.operators, _ = locate_operator_sources(load_operators(knowledge_dir), corpus)  # Router logs the lost
        self.corpus = corpus

    def asked(self, question: str) -> tuple[list[ContactKind], list[Operator]]:
        """The contact kinds asked for and the operators named (both empty when not a contact question)."""
        f = fold(question).replace("'", " ")
        if _has(f, "combien") or _has(f, "nombre"):  # "combien de sites ?" asks a figure
            return [], []
        kinds = [k for k in self.kinds if any(_has(f, a) for a in k.ask)]
        kinds = [k for k in kinds if not k.general] or kinds
        ops = [op for op in self.operators.values() if any(_has(f, a.replace("'", " ")) for a in op.aliases)]
        return (kinds, ops) if kinds and ops else ([], [])

    def answer(self, question: str) -> Answer | None:
        """The stated channels of the kind asked, or an honest "not in the documents"; None if not asked."""
        kinds, ops = self.asked(question)
        if not kinds:
            return None
        found: list[tuple[Operator, str, Citation]] = []
        stated: list[Citation] = []
        for op in ops:
            for fact in op.facts_of("canal"):
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
