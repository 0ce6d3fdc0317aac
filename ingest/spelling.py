"""One typo policy for every reader of a question: a word that is no known word, nor its plural or feminine form,
becomes the known word within a few edits (optimal string alignment: a swap of two letters is one edit) that starts
with the same letter."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from ingest.text import STOP_WORDS

# [word length from, edits allowed], longest first: 1 edit from 5 letters, 2 from 9. Measured by
# tests/test_routing_situations.py (the facts kept after one typo in every situation of the bank).
MAX_EDITS: tuple[tuple[int, int], ...] = ((9, 2), (5, 1))
MEMO = 50_000  # corrections kept (a kiosk open for months meets many words once)
_WORD = re.compile(r"[a-z]+")
# French elisions typed without their apostrophe: « loccitanie », « lapec », « dentrees », « quil ».
_ELIDED = ("qu", "l", "d", "j", "n", "s", "c", "m", "t")
_ESCAPES = re.compile(r"\\[bBwWdDsS]")
_ENDINGS = re.compile(r"\(\?:([a-z]+(?:\|[a-z]+)+)\)(?![?*+])")


class Speller:
    """Corrects folded words towards a vocabulary; `preferred` words win a tie (the lexicons' words before the
    corpus' words). Corrections are memoized: a question's words are looked up once per process."""

    def __init__(
        self, vocabulary: Iterable[str], preferred: Iterable[str] = (), max_edits: tuple[tuple[int, int], ...] = ()
    ) -> None:
        ordered = list(dict.fromkeys([*preferred, *vocabulary, *sorted(STOP_WORDS)]))  # « dans » is no « d'ans »
        self.known = frozenset(ordered)
        self.max_edits = tuple(sorted(max_edits or MAX_EDITS, reverse=True))
        self._by_letter: dict[str, list[str]] = defaultdict(list)
        for word in ordered:
            if word:
                self._by_letter[word[0]].append(word)
        self._memo: dict[str, str] = {}

    def allowed(self, word: str) -> int:
        """Edits a word of this length may hold."""
        return next((edits for length, edits in self.max_edits if len(word) >= length), 0)

    def correct(self, word: str) -> str:
        """The known word a typo stands for (same first letter: « mission » never becomes « demission »), or an
        elision whose apostrophe was left out (« lapec » -> « l'apec »); the word itself when it is known, short,
        or near nothing."""
        if word in self.known or not word:
            return word
        if word not in self._memo:
            head = next((h for h in _ELIDED if word.startswith(h) and len(word) - len(h) >= 4), None)
            if head is not None and word[len(head) :] in self.known:  # an apostrophe left out: « l'occitanie »
                return f"{head}'{word[len(head) :]}"
            allowed = self.allowed(word)
            near: list = []
            if allowed and not word[0].isdigit() and not self._inflected(word):
                near = process.extract(
                    word, self._by_letter.get(word[0], ()), scorer=OSA.distance, score_cutoff=allowed, limit=None
                )
            # Fewest edits first; among as few, the most letters in common (« demarchage » -> « demarche », not
            # « demarrage »), then the vocabulary's order (the lexicons' words first).
            best = min(near, key=lambda m: (m[1], -fuzz.ratio(word, m[0]), m[2]), default=None)
            if len(self._memo) >= MEMO:
                self._memo.clear()
            self._memo[word] = best[0] if best else word
        return self._memo[word]

    def _inflected(self, word: str) -> bool:
        """A plural or feminine form of a known word, or the other way round: « prestations » is no typo of
        « prestation » (the corpus may hold one form only), « garone » is one of « garonne »."""
        forms = [word + "s", word + "e", word + "es"]
        if word.endswith(("s", "x", "e")):
            forms.append(word[:-1])
        if word.endswith("es"):
            forms.append(word[:-2])
        return any(f in self.known for f in forms)

    def correct_folded(self, folded: str) -> str:
        """A folded text with each unknown word of letters corrected."""
        return _WORD.sub(lambda m: self.correct(m.group(0)), folded)


def pattern_words(pattern: str) -> set[str]:
    """The whole words (5 letters or more) a regular expression looks for: "salariee?s?" gives "salarie" and
    "salariee"; stems and endings ("travailleu(?:r|se)") are not words."""
    p = _ESCAPES.sub(" ", pattern)
    out: set[str] = set()
    for m in re.finditer(r"[a-z]+", p):
        before = p[m.start() - 1] if m.start() else " "
        after = p[m.end()] if m.end() < len(p) else " "
        word = m.group(0)
        endings = _ENDINGS.match(p, m.end())
        if endings and before not in ")]}":  # "demandeu(?:r|se)" gives "demandeur" and "demandeuse"
            out.update(word + e for e in endings.group(1).split("|"))
            continue
        if before in ")]}" or after in "([{*+":
            continue
        if after == "?":  # the last letter is optional
            out.add(word[:-1])
        out.add(word)
    return {w for w in out if len(w) >= 5}
