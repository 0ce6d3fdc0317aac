"""Question shapes that change how passages are ranked (definitions: "qu'est-ce que X ?")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from ingest.text import clean_markup, fold, tokens

_DEFINITION = re.compile(
    r"(?:qu'?\s?est[- ]ce (?:que|qu')\s*|c'?est quoi\s+|c'est quoi\s+|que (?:signifie|veut dire)\s+|"
    r"definition d[eu']\s*|a quoi sert\s+)"
    r"(?:(?:les|le|la|une|un|des|du)\s+|l'\s*)?(?P<term>[^?!.;,]{2,60})",
)


# Words that qualify the asking, not the thing asked: "c'est quoi exactement ?", "en fait".
_HEDGES = re.compile(r"\b(?:exactement|en fait|au juste|concretement|vraiment|donc|alors)\b")
# "la garantie jeunes c'est quoi ?": the term stands before the asking words.
_TERM_BEFORE = re.compile(r"(?P<term>[^?!.;,]{2,60}?)\s*,?\s*c'?\s?(?:est)?\s?quoi\b")
# ... and nothing but a hedge follows them ("psop c quoi", "handi formation c est quoi ?").
_ENDS_ASKING = re.compile(r"\bc'?\s?(?:est)?\s?quoi\s*(?:exactement|en fait|au juste|concretement|donc|alors)?\W*$")


def definition_term(question: str) -> str | None:
    """The term a definition question asks about ("Qu'est-ce que CHEOPS ?" -> "cheops"), else None."""
    folded = fold(question)
    m = _DEFINITION.search(folded) or _ENDS_ASKING.search(folded)
    if not m:
        return None
    if m.re is _ENDS_ASKING:
        before = _TERM_BEFORE.search(folded[: m.end()])
        term = _clean_term(re.split(r"[?!.;]", before.group("term"))[-1]) if before else ""
        term = " ".join(term.split()[-4:])
        return term if tokens(term) else None  # "et pour les cadres c'est quoi ?" names no term
    term = _clean_term(_HEDGES.split(m.group("term"))[0])
    if not term:  # "la garantie jeunes c'est quoi exactement ?"
        before = _TERM_BEFORE.search(folded[: m.end()])
        term = _clean_term(re.split(r"[?!.;]", before.group("term"))[-1]) if before else ""
        term = " ".join(term.split()[-4:])
    return term or None


def _clean_term(text: str) -> str:
    term = re.split(r"\s(?:selon|dans|pour|chez|d'apres|en|au|aux)\s", text)[0]
    term = re.sub(r"\s+", " ", term).strip(" «»\"'")
    return re.sub(r"^(?:(?:les|le|la|un|une|des|du)\s+|l')", "", term).strip()


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
        if _found(t, cand, r"\b\*?\s*(?:\(|:|est une?\b|est le\b|est la\b|designe\b|sont\b)") or re.search(
            rf"\(\s*{re.escape(cand)}\s*\)", t
        ):
            return True
    return False


@lru_cache(maxsize=512)
def _after_term(term: str, tail: str) -> re.Pattern[str]:
    return re.compile(re.escape(term) + tail)


def _matches(t: str, term: str, tail: str) -> Iterator[re.Match[str]]:
    r"""Matches of the term as a whole word followed by `tail` (a regex), as rf"\b{term}{tail}" would find them.
    The word boundary is checked by hand: a pattern opening on \b is not searched by its literal, and a
    definition question reads up to 500 passages (4.4 ms against 0.3 ms for "cep" on the built-in corpus)."""
    return (m for m in _after_term(term, tail).finditer(t) if not m.start() or not _is_word(t[m.start() - 1]))


def _found(t: str, term: str, tail: str) -> bool:
    return next(_matches(t, term, tail), None) is not None


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


_SMALL_WORDS = {"de", "du", "des", "d", "la", "le", "les", "l", "et", "en", "a", "au", "aux", "pour", "sur", "par"}


def definition_strength(text: str, term: str) -> int:
    """How much a passage reads as a definition proper: 1 for the term spelled out ("conseil en évolution
    professionnelle (CEP)"), 1 for "X est un/une/le/la …" or "X désigne …" (also "… (CEP) est un …"); 2 for
    both. A slogan spells the acronym out too; the passage that also says what it is comes first."""
    copula = r"\s+(?:(?:est|sont)\s+(?:un|une|le|la|les|l')\b|designe\b)"
    t = _folded(text)
    says = _found(t, term, r"\b" + copula) or re.search(rf"\(\s*{re.escape(term)}\s*\){copula}", t) is not None
    return int(expands(text, term)) + int(says)


def expands(text: str, term: str) -> bool:
    """True when a passage spells an acronym out: "CHEOPS (Conseil National Handicap et Emploi pour les Organismes
    de Placement Spécialisés)" or "conseil en évolution professionnelle (CEP)". The acronym's letters must be the
    initials of the spelled-out words, in order (small words may be skipped, or count)."""
    if " " in term or not 2 <= len(term) <= 10 or not term.isalpha():
        return False
    t = _folded(text)
    after = [(m.group(1), False) for m in _matches(t, term, r"\b\s*\(([^)]{4,160})\)")]
    before = [(t[max(0, m.start() - 160) : m.start()], True) for m in re.finditer(rf"\(\s*{re.escape(term)}\s*\)", t)]
    return any(_spelled(re.findall(r"[a-z]+", words), term, tail) for words, tail in after + before)


def _spelled(ws: list[str], term: str, tail: bool) -> list[str]:
    """The words that spell the term out: all of ws, or (tail: they end right before "(CEP)") ws from the first
    start that fits; [] when none does."""
    if not tail:
        return ws if _initials_match(ws, term) else []
    for k, w in enumerate(ws):
        if w[0] == term[0] and w not in _SMALL_WORDS and _initials_match(ws[k:], term):
            return ws[k:]
    return []


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


_ACRONYM_IN_PARENS = re.compile(r"\(\s*([A-Z][A-Za-z]{1,9})\s*\)")
_SPELLED_AFTER = re.compile(r"\b([A-Z][A-Za-z]{1,9})\s*\(([^)]{4,160})\)")


def acronyms(lines: list[str]) -> dict[str, str]:
    """Acronyms the documents spell out, folded: {"pps": "prestations personnalisees specifiques", …}.

    Read from "Prestations Personnalisées Spécifiques (PPS)" and "LUA (Lieu Unique d'Accompagnement)": the
    acronym's letters must be the initials of the words (_spelled), so "(cf page 108)" or "LUA (dès 2021)" are not.
    """
    found: dict[str, str] = {}
    for line in lines:
        text = clean_markup(line)
        pairs = [(m.group(1), _words_before(text, m.start()), True) for m in _ACRONYM_IN_PARENS.finditer(text)]
        pairs += [(m.group(1), m.group(2), False) for m in _SPELLED_AFTER.finditer(text)]
        for acronym, words, tail in pairs:
            term = fold(acronym)
            if sum(ch.isupper() for ch in acronym) < 2 or term in found:
                continue
            spelled = _spelled(re.findall(r"[a-z]+", fold(words)), term, tail)
            if spelled:
                found[term] = " ".join(spelled)
    return found


def _words_before(text: str, at: int) -> str:
    """Up to 160 characters before the parenthesis at `at`, since the parenthesis before it, without the
    quotes or stars right before it: where "Prestations Personnalisées Spécifiques » (PPS)" spells PPS out.
    (A regex looking for them from every position took half a second on the built-in corpus at each start.)"""
    run = max(text.rfind("(", 0, at), text.rfind(")", 0, at)) + 1
    end = at
    while end > run and (text[end - 1].isspace() or text[end - 1] in '«»"*'):
        end -= 1
    words = text[max(run, end - 160) : end]
    return words if len(words) >= 4 else ""
