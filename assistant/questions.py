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


_SMALL_WORDS = {"de", "du", "des", "d", "la", "le", "les", "l", "et", "en", "a", "au", "aux", "pour", "sur", "par"}


def defines_strongly(text: str, term: str) -> bool:
    """A definition proper: the term spelled out, or "X est un/une/le/la …", "X désigne …"."""
    if expands(text, term):
        return True
    x = re.escape(term)
    proper = rf"\b{x}\b\s+(?:est|sont)\s+(?:un|une|le|la|les|l')\b|\b{x}\b\s+designe\b"
    return re.search(proper, _folded(text)) is not None


def expands(text: str, term: str) -> bool:
    """True when a passage spells an acronym out: "CHEOPS (Conseil National Handicap et Emploi pour les Organismes
    de Placement Spécialisés)" or "conseil en évolution professionnelle (CEP)". The acronym's letters must be the
    initials of the spelled-out words, in order (small words may be skipped, or count)."""
    if " " in term or not 2 <= len(term) <= 10 or not term.isalpha():
        return False
    t = _folded(text)
    x = re.escape(term)
    after = [m.group(1) for m in re.finditer(rf"\b{x}\b\s*\(([^)]{{4,160}})\)", t)]
    before = [t[max(0, m.start() - 160) : m.start()] for m in re.finditer(rf"\(\s*{x}\s*\)", t)]
    for words, tail in [(a, False) for a in after] + [(b, True) for b in before]:
        ws = re.findall(r"[a-z]+", words)
        if tail:  # the spelled-out words end right before "(CEP)": try each start
            for k in range(len(ws)):
                if ws[k] not in _SMALL_WORDS and _initials_match(ws[k:], term):
                    return True
        elif _initials_match(ws, term):
            return True
    return False


def _initials_match(words: list[str], term: str) -> bool:
    """The term's letters are initials of the words, in order, from the first content word to the last one, and
    at most one content word is left out ("Conseil National Handicap et Emploi…" -> CHEOPS). Small words count
    only when that makes the letters fit ("Conseil en Evolution Professionnelle" -> CEP is tried both ways)."""
    content = [w for w in words if w not in _SMALL_WORDS]
    if not content or content[0][0] != term[0]:
        return False
    for seq in (content, words):
        i, skipped = 0, 0
        for w in seq:
            if i < len(term) and w[0] == term[i]:
                i += 1
            elif w not in _SMALL_WORDS:
                skipped += 1
        if i == len(term) and skipped <= 1 and seq[-1][0] == term[-1]:
            return True
    return False


_SPELLED_BEFORE = re.compile(r"([^()]{4,160}?)[\s«»\"*]*\(\s*([A-Z][A-Za-z]{1,9})\s*\)")
_SPELLED_AFTER = re.compile(r"\b([A-Z][A-Za-z]{1,9})\s*\(([^)]{4,160})\)")


def acronyms(lines: list[str]) -> dict[str, str]:
    """Acronyms the documents spell out, folded: {"pps": "prestations personnalisees specifiques", …}.

    Read from "Prestations Personnalisées Spécifiques (PPS)" and "LUA (Lieu Unique d'Accompagnement)": the
    acronym's letters must be the initials of the words (expands), so "(cf page 108)" or "LUA (dès 2021)" are not.
    """
    found: dict[str, str] = {}
    for line in lines:
        text = clean_markup(line)
        pairs = [(m.group(2), m.group(1)) for m in _SPELLED_BEFORE.finditer(text)]
        pairs += [(m.group(1), m.group(2)) for m in _SPELLED_AFTER.finditer(text)]
        for acronym, words in pairs:
            if sum(ch.isupper() for ch in acronym) < 2:
                continue
            term = fold(acronym)
            if term in found:
                continue
            spelled = f"{words} ({acronym})" if text.find(words) < text.find(acronym) else f"{acronym} ({words})"
            if expands(spelled, term):
                found[term] = _spelled_words(fold(words), term)
    return found


def _spelled_words(words: str, term: str) -> str:
    """The words that spell the term out, without what precedes them ("… l'offre appelée « Prestations …»")."""
    ws = re.findall(r"[a-z]+", words)
    for k in range(len(ws)):
        if ws[k] not in _SMALL_WORDS and _initials_match(ws[k:], term):
            return " ".join(ws[k:])
    return " ".join(ws)
