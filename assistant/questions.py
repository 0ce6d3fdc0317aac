"""Question shapes that change how passages are ranked (definitions: "qu'est-ce que X ?")."""

from __future__ import annotations

import re

from assistant.text import clean_markup, fold

_DEFINITION = re.compile(
    r"(?:qu'?\s?est[- ]ce (?:que|qu')\s*|c'?est quoi\s+|c'est quoi\s+|que (?:signifie|veut dire)\s+|"
    r"definition d[eu']\s*|a quoi sert\s+)"
    r"(?:(?:le|la|les|l'|un|une|des|du)\s*)?(?P<term>[^?!.;,]{2,60})",
)


def definition_term(question: str) -> str | None:
    """The term a definition question asks about ("Qu'est-ce que CHEOPS ?" -> "cheops"), else None."""
    m = _DEFINITION.search(fold(question))
    if not m:
        return None
    term = re.split(r"\s(?:selon|dans|pour|chez|d'apres|en|au|aux)\s", m.group("term"))[0]
    term = re.sub(r"\s+", " ", term).strip(" «»\"'")
    term = re.sub(r"^(?:le|la|les|l'|un|une|des|du)\s+", "", term)
    return term or None


def defines(text: str, term: str) -> bool:
    """True when a passage reads as defining the term: "X (…)", "(X)", "X est …", "X : …"."""
    t = fold(clean_markup(text))
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
