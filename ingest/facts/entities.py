"""Operators, territories and years named in folded text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from ingest.facts.lexicon import Lexicon
from ingest.operators import Operator
from ingest.text import clean_markup, fold, unaccented

# A year: four digits not inside a longer number ("2019," ends a clause; "2019,5" or "1.2019" are numbers).
YEAR = re.compile(r"(?<!\d)(?<!\d[.,])(19[5-9]\d|20[0-4]\d)(?!\d)(?![.,]\d)")


def years_in(text: str) -> list[int]:
    """Years written in a text (1950-2049), in order."""
    return [int(y) for y in YEAR.findall(text)]


@dataclass
class Context:
    """What the surroundings say: operators, scope, years, from a caption, a table or a section."""

    operators: list[str] = field(default_factory=list)
    scope: str = ""
    years: list[int] = field(default_factory=list)


def _mask(text: str, phrases: Iterable[str]) -> str:
    for p in sorted(phrases, key=len, reverse=True):
        text = re.sub(rf"(?<![a-z0-9]){re.escape(p)}(?![a-z0-9])", lambda m: " " * len(m.group()), text)
    return text


@lru_cache(maxsize=4096)
def _phrase_re(phrase: str, loose: bool) -> re.Pattern[str]:
    """A phrase as a regex; loose accepts plural and feminine endings ("opérateurs régionaux")."""
    if not loose:
        return re.compile(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])")
    parts = []
    for w in phrase.split():
        if w.endswith("al") and len(w) > 4:
            parts.append("(?:" + "|".join(map(re.escape, _adjective_forms(w))) + ")")
        elif len(w) > 3 and w[-1].isalpha():
            parts.append(re.escape(w) + "(?:e|s|es|x)?")
        else:
            parts.append(re.escape(w))
    return re.compile(r"(?<![a-z0-9])" + r"[\s'-]+".join(parts) + r"(?![a-z0-9])")


def _find_all(text: str, phrases: Iterable[tuple[str, str]], loose: bool = False) -> list[tuple[str, int, int]]:
    """(key, start, end) of every phrase of (key, phrase) in text, longest first, no overlaps."""
    taken: list[tuple[int, int]] = []
    out: list[tuple[str, int, int]] = []
    for key, p in sorted(phrases, key=lambda kp: len(kp[1]), reverse=True):
        for m in _phrase_re(p, loose).finditer(text):
            s, e = m.span()
            if any(s < te and ts < e for ts, te in taken):
                continue
            taken.append((s, e))
            out.append((key, s, e))
    return sorted(out, key=lambda x: x[1])


def _adjective_forms(w: str) -> list[str]:
    """A word and, for an adjective in -al or -an, its other forms ("national": nationale, nationales,
    nationaux; "occitan": occitane, occitans, occitanes)."""
    if w.endswith("al"):
        return [w, w + "e", w + "es", w[:-2] + "aux"]
    if w.endswith("an"):
        return [w, w + "e", w + "s", w + "es"]
    return [w]


def _inflected(words: Iterable[str]) -> list[str]:
    """The lexicon's words with the other forms of their one-word adjectives."""
    return list(dict.fromkeys(f for w in words for f in ([w] if " " in w else _adjective_forms(w))))


class Entities:
    """Finds operators, scopes and years in folded text, with the lexicon's masks."""

    def __init__(self, operators: dict[str, Operator], lexicon: Lexicon) -> None:
        self.operators = operators
        self.lexicon = lexicon
        self._op_phrases = [(op.id, a) for op in operators.values() for a in op.aliases if a]
        regions = [(f"other:{_region_key(r)}", r) for r in lexicon.other_regions]
        departements = [(departement_key(d), form) for d in lexicon.departements for form in _spellings(d)]
        self._scope_phrases = (
            [("occitanie", w) for w in _inflected(lexicon.occitanie)]
            + [("regional", w) for w in _inflected(lexicon.regional)]
            + [("national", w) for w in _inflected(lexicon.national)]
            + regions
            + departements
        )
        self.home = ""  # the region the current document is about: what "régional" means there
        self._town_phrases = [(f"city:{_region_key(t)}", form) for t in lexicon.cities for form in _spellings(t)]
        # Départements whose name is also a common word (« lot », « nord », « var »): named as a place when written
        # with a capital inside a sentence (« dans le Lot »), not only after « département ».
        self._capitalized = [
            (
                departement_key(d),
                re.compile(
                    rf"(?<=[^\W\d_])[^\w-]+{re.escape(unaccented(DEPARTEMENT.sub('', fold(d))).title())}(?![\w-])"
                ),
            )
            for d in lexicon.departements
            if DEPARTEMENT.match(fold(d))
        ]

    def operator_mentions(self, folded: str) -> list[tuple[str, int, int]]:
        return _find_all(_mask(folded, self.lexicon.not_operator), self._op_phrases, loose=True)

    def scope_mentions(self, folded: str) -> list[tuple[str, int, int]]:
        masked = _mask(folded, [m for m in self.lexicon.not_scope if m not in self.lexicon.other_regions])
        found = _find_all(masked, self._scope_phrases)
        # "Île-de-France" is a region, not France: region names win over the words inside them.
        return [((self.home or k) if k == "regional" else k, s, e) for k, s, e in found]

    def home_region(self, texts: Iterable[str]) -> str:
        """The region a document is about: its most cited region name, if clearly ahead."""
        counts: dict[str, int] = {}
        saved, self.home = self.home, ""
        for t in texts:
            for k, _, _ in self.scope_mentions(fold(clean_markup(t))):
                if k == "occitanie" or k.startswith("other:"):
                    counts[k] = counts.get(k, 0) + 1
        self.home = saved
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        if ranked and ranked[0][1] >= 3 and (len(ranked) == 1 or ranked[0][1] >= 2 * ranked[1][1]):
            return ranked[0][0]
        return ""

    def towns_in(self, folded: str) -> list[str]:
        """Towns of the lexicon named in folded text, as scope keys ("city:toulouse"); hyphens or spaces."""
        found = {k for k, _, _ in _find_all(folded, self._town_phrases)}
        return [k for k in dict.fromkeys(k for k, _ in self._town_phrases) if k in found]  # in the lexicon's order

    def capitalized_places(self, text: str) -> list[str]:
        """Départements named by a capitalized common word inside a sentence, in text as written (not folded):
        « entrées dans le Lot » names the Lot; « un lot de », « Lot-et-Garonne » and a sentence's first word do
        not."""
        plain = unaccented(text)
        return [key for key, pattern in self._capitalized if pattern.search(plain)]

    def operators_in(self, text: str) -> list[str]:
        return list(dict.fromkeys(k for k, _, _ in self.operator_mentions(fold(clean_markup(text)))))

    def scopes_in(self, text: str) -> list[str]:
        return list(dict.fromkeys(k for k, _, _ in self.scope_mentions(fold(clean_markup(text)))))


def _region_key(name: str) -> str:
    return re.sub(r"[^a-z]+", "-", fold(name)).strip("-")


DEPARTEMENT = re.compile(r"^departement (?:du |de la |de l'|des |de )?")


def departement_key(name: str) -> str:
    """The scope key of a département: "dep:haute-garonne" (« département du Lot » -> "dep:lot")."""
    return "dep:" + _region_key(DEPARTEMENT.sub("", fold(name)))


def _spellings(name: str) -> list[str]:
    """A place name as written with hyphens and with spaces ("haute-garonne", "haute garonne")."""
    return list(dict.fromkeys([name, name.replace("-", " ")]))
