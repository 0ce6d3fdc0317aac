"""French text handling shared by ingest, index and assistant: cleaning, folding, tokens."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

# Conversion artefacts of PDF-to-text tools: markup kept for display is removed for search.
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]{0,200}>")
_SUPERSCRIPT = re.compile(r"\^\{([^}]*)\}")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_BULLETS = re.compile(
    "[\u2022\u25aa\u25cf\u25a0\u25a1\u2610\u2611\u2612\u27a4\u27a2\u2794\u2713\u2714\u2705"
    "\u25ba\u25b6\u2023\u2043\uf0b7\uf0a7\uf0d8\U0001f300-\U0001faff]"
)
_SPACES = re.compile(r"[ \t\u00a0\u202f\u2007\u2009]+")

# Digits grouped by thousands with any kind of space: "175 837", "1 809 087", "175\u202f837".
_GROUPED_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3})((?:[ \u00a0\u202f\u2009]\d{3})+)(?![\d])")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_ELISION = re.compile(r"\b([cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)['\u2019`]", re.IGNORECASE)
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+")

STOP_WORDS = frozenset(
    """
    a au aux avec ce ces cet cette ci d dans de des du elle elles en entre est et etc eu il ils je
    j la le les leur leurs lui l m ma mais me meme mes moi mon n ne nos notre nous on ou par pas
    pour qu que qui s sa se ses si son sont sur t ta te tes toi ton tu un une vos votre vous y c ca
    cela ceci celui celle ceux dont ont ete etre avoir fait faire plus moins tres bien aussi donc
    or ni car sous vers chez afin ainsi alors apres avant comme comment quel quelle quels quelles
    quoi combien quand est-ce cest sest peut peuvent doit doivent sera seront etait a-t-il a-t-elle
    ai as avons avez y-a t-il
    """.split()
)

_stemmer = snowballstemmer.stemmer("french")


def clean_markup(text: str) -> str:
    """Remove conversion artefacts (HTML tags, ^{er}, **bold**, links, emoji bullets, stray spaces)."""
    text = _HTML_TAG.sub(" ", text)
    text = _SUPERSCRIPT.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = text.replace("**", "").replace("__", "")
    text = _BULLETS.sub(" ", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = _SPACES.sub(" ", text)
    return text.strip()


class _Combining(dict):
    """str.translate table that drops combining marks, each character's class looked up once."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.combining(chr(code)) else code
        self[code] = value
        return value


_DROP_COMBINING = _Combining()


def unaccented(text: str) -> str:
    """Accents removed, case kept: 'Rhône' -> 'Rhone' (fold lowers the case too)."""
    return unicodedata.normalize("NFD", text).translate(_DROP_COMBINING)


def fold(text: str) -> str:
    """Lower case without accents or ligatures: 'Pôle Emploi' -> 'pole emploi'."""
    text = unicodedata.normalize("NFKD", text).lower()
    text = text.replace("œ", "oe").replace("æ", "ae").replace("\u2019", "'")
    return text.translate(_DROP_COMBINING)  # a C loop: a question folds a few hundred passages


def has(folded: str, phrase: str) -> bool:
    """A phrase (of a lexicon) in folded text, on word boundaries."""
    if not phrase:
        return False
    if not phrase[0].isalnum() or not phrase[-1].isalnum():
        return phrase in folded
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", folded) is not None


def join_numbers(text: str) -> str:
    """Write numbers whole: '175 837' -> '175837', '62,59' -> '62.59'."""
    text = _GROUPED_NUMBER.sub(lambda m: m.group(1) + re.sub(r"\D", "", m.group(2)), text)
    return _DECIMAL_COMMA.sub(".", text)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Light French stem (Snowball); numbers and short words are kept whole."""
    if word[0].isdigit() or len(word) <= 3:
        return word
    return str(_stemmer.stemWord(word))


def words(text: str) -> list[str]:
    """Folded words of a text, elisions split, numbers whole, no stop words, not stemmed."""
    text = join_numbers(fold(clean_markup(text)))
    text = _ELISION.sub(" ", text)
    return [t for t in _TOKEN.findall(text) if t not in STOP_WORDS]


def tokens(text: str) -> list[str]:
    """Search tokens: words() stemmed."""
    return [stem(w) for w in words(text)]


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences (keeps decimals and abbreviations together)."""
    parts = re.split(r"(?<=[.!?;])\s+(?=[A-ZÀ-ÖØ-Þ«\"(*\-•0-9])|\n+", text)
    return [p.strip() for p in parts if p and p.strip()]
