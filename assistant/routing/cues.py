"""Cues the learned situation slots read the caller's gender and work from, as tokens for a TF-IDF vectorizer.

Written in French the person's gender shows in agreement and in a few nouns: what follows « je suis » / « il est »
(« inscrite », « magasinier »), the first words of a clause of an advisor's note (« Caissière en CDI, … »,
« 44 ans, ancienne DRH »), the pronouns il / elle, titles (« Mme », « H 52a »), kinship nouns (« ma fille »).
Each such word gives tokens for itself and its last letters (« D:s3=ite »); the slot weighs them, fitted by
`make fit`. What the text says of the person's work comes as groups of words (an employer of the public sector,
one's own business, schooling...), each group found one token, marked when a past or a negation stands before it.
The word lists are data: knowledge/slot_cues.toml.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ingest.text import fold

CUES = Path("slot_cues.toml")
_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z]+)*|[,;:!?()]|\.")
_INCLUSIVE = re.compile(r"\w\((?:e|ere|euse|trice|ne|le|te)\)|\w·\w|\w\.e\b|/elle|il/elle|elle/il")
_WORD = re.compile(r"[a-z0-9]+")  # work phrases are matched on these words: hyphens and apostrophes as spaces
_CLAUSE = frozenset({",", ".", ";", ":", "(", "!", "?"})
SUFFIXES = (1, 2, 3, 4)  # last letters of a describing word kept as tokens
DESCRIBED = 2  # words read after a copula


@dataclass(frozen=True)
class Cues:
    copula: frozenset[str]
    skip: frozenset[str]
    stop: frozenset[str]
    pronouns: frozenset[str]
    impersonal: frozenset[str]
    feminine: frozenset[str]
    masculine: frozenset[str]
    before_number: frozenset[str]
    before_stop: frozenset[str]
    possessive: frozenset[str]
    work: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (group, its phrases: folded words joined by spaces)
    past: frozenset[str] = frozenset()
    negation: frozenset[str] = frozenset()
    window: int = 3  # tokens before a phrase where a past or a negation word marks it

    @classmethod
    def load(cls, knowledge_dir: Path) -> Cues:
        data = tomllib.loads((knowledge_dir / CUES).read_text(encoding="utf-8"))
        person = data["person"]
        work = data.get("work", {})
        return cls(
            **{name: frozenset(person[name]) for name in _PERSON},
            work=tuple((g, tuple(words)) for g, words in work.get("groups", {}).items()),
            past=frozenset(work.get("past", ())),
            negation=frozenset(work.get("negation", ())),
            window=int(work.get("window", 3)),
        )

    def tokens(self, text: str) -> list[str]:
        """The cue tokens of one text (an analyzer for TfidfVectorizer)."""
        raw = fold(text)
        out = ["INCL"] if _INCLUSIVE.search(raw) else []
        toks = _TOKEN.findall(raw.replace("'", " "))
        n = len(toks)
        for i, t in enumerate(toks):
            prev = toks[i - 1] if i else ""
            nxt = toks[i + 1] if i + 1 < n else ""
            if t in self.copula:
                j, taken = i + 1, 0
                while j < n and taken < DESCRIBED:
                    w = toks[j]
                    if not w[0].isalnum() or w in self.stop:
                        break
                    j += 1
                    if w not in self.skip:
                        out += _described(w, "D")
                        taken += 1
            if (i == 0 or prev in _CLAUSE) and t[0].isalpha():
                out += _described(t, "C")
            if t in self.pronouns and nxt not in self.impersonal:
                out.append(f"P={t}")
            if t in self.feminine or t in self.masculine:
                if t in self.before_number and not nxt[:1].isdigit():
                    continue
                if t in self.before_stop and nxt != ".":
                    continue
                gender = "f" if t in self.feminine else "m"
                out.append(f"L={gender}")
                if prev in self.possessive:
                    out.append(f"K={gender}:{prev}")
        if not any(o.startswith(("D", "P", "L")) for o in out):
            out.append("NONE")
        return out + self.work_tokens(raw)

    def work_tokens(self, folded: str) -> list[str]:
        """One token per group of work words found (« E=propre_affaire »), « :avant » or « :non » when a word of
        the past or a negation stands within `window` words before it (« ancien fonctionnaire », « pas inscrit »)."""
        words = _WORD.findall(folded)
        padded = f" {' '.join(words)} "
        out = []
        for group, phrases in self.work:
            for phrase in phrases:
                at = padded.find(f" {phrase} ")
                while at >= 0:
                    before = padded[:at].split()[-self.window :]
                    mark = ":avant" if self.past & set(before) else ":non" if self.negation & set(before) else ""
                    out.append(f"E={group}{mark}")
                    at = padded.find(f" {phrase} ", at + 1)
        return out


_PERSON = ("copula", "skip", "stop", "pronouns", "impersonal", "feminine", "masculine", "before_number", "before_stop",
           "possessive")


def _described(word: str, where: str) -> list[str]:
    return [f"{where}w={word}", *(f"{where}s{k}={word[-k:]}" for k in SUFFIXES if len(word) > k + 1)]
