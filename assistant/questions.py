"""Question shapes that change how passages are ranked (definitions: "qu'est-ce que X ?")."""

from __future__ import annotations

import re
from functools import lru_cache

from ingest.text import clean_markup, fold

_DEFINITION = re.compile(
    r"(?:qu'?\s?est[- ]ce (?:que|qu')\s*|c'?est quoi\s+|c'est quoi\s+|que (?:signifie|veut dire)\s+|"
    r"definition d[eu']\s*|a quoi sert\s+)"
    r"(?:(?:le|la|les|l'|un|une|des|du)\s*)?(?P<term>[^?!.;,]{2,60})",
)


# Words that qualify the asking, not the thing asked: "c'est quoi exactement ?", "en fait".
_HEDGES = re.compile(r"\b(?:exactement|en fait|au juste|concretement|vraiment|donc|alors)\b")
# "la garantie jeunes c'est quoi ?": the term stands before the asking words.
_TERM_BEFORE = re.compile(r"(?P<term>[^?!.;,]{2,60}?)\s*,?\s*c'?\s?(?:est)?\s?quoi\b")


def definition_term(question: str) -> str | None:
    """The term a definition question asks about ("Qu'est-ce que CHEOPS ?" -> "cheops"), else None."""
    folded = fold(question)
    m = _DEFINITION.search(folded)
    if not m:
        return None
    term = _clean_term(_HEDGES.split(m.group("term"))[0])
    if not term:  # "la garantie jeunes c'est quoi exactement ?"
        before = _TERM_BEFORE.search(folded[: m.end()])
        term = _clean_term(re.split(r"[?!.;]", before.group("term"))[-1]) if before else ""
        term = " ".join(term.split()[-4:])
    return term or None


def _clean_term(text: str) -> str:
    term = re.split(r"\s(?:selon|dans|pour|chez|d'apres|en|au|aux)\s", text)[0]
    term = re.sub(r"\s+", " ", term).strip(" «»\"'")
    return re.sub(r"^(?:le|la|les|l'|un|une|des|du)\s*", "", term).strip()


@lru_cache(maxsize=8192)
def _folded(text: str) -> str:
    """A passage as `defines` reads it; a definition question checks up to 500 passages (pipeline.DEFINITION_ROWS):
    folding them again for each question took up to 22 ms of a 27 ms retrieval (built-in corpus, measured)."""
    return fold(clean_markup(text))


def defines(text: str, term: str) -> bool:
    """True when a passage reads as defining the term: "X (…)", "(X)", "X est …", "X : …"."""
    t = _folded(text)
    candidates = [term]
    if " " in term:  # "plateforme agora": the name itself may stand alone
        candidates.append(term.split()[-1])
    for cand in candidates:
        x = re.escape(cand)
        if re.search(rf"\b{x}\b\*?\s*(?:\(|:|est une?\b|est le\b|est la\b|designe\b|sont\b)", t) or re.search(
            rf"\(\s*{x}\s*\)", t
        ):
            return True
    return False
