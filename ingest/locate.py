"""Find a verbatim quote in a corpus, whatever its line breaks: knowledge cites passages by quote, not by line.

A quote is compared with the documents flattened (markup out, every run of spaces and line breaks one space),
so a document re-wrapped, re-converted or re-numbered still holds the quotes of the rules written for it.
Small differences (accents, case, a typographic apostrophe, a word changed by a new conversion) are met by a
fuzzy match on the folded text, accepted at FUZZY_CUTOFF.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from ingest.text import clean_markup

if TYPE_CHECKING:
    from ingest.corpus import ParsedDocument

# A quote of 40 characters with one word changed scores about 90; two documents' unrelated sentences that share
# their words score under 80. 92 keeps a re-typed apostrophe or accent and refuses a different sentence.
FUZZY_CUTOFF = 92.0
_NUMBER = re.compile(r"\d+")
FUZZY_MIN_CHARS = 30  # a shorter quote is looked for exactly: a few characters changed make it another phrase


def flat(text: str) -> str:
    """Markup out, spaces and line breaks collapsed."""
    return re.sub(r"\s+", " ", clean_markup(text)).strip()


def _fold_char(c: str) -> str:
    """One character for one: lower case without its accent (keeps positions)."""
    base = unicodedata.normalize("NFD", c)[:1] or c
    return base.lower()


def folded(text: str) -> str:
    return "".join(_fold_char(c) for c in text)


@dataclass(frozen=True)
class FlatText:
    """A document as one flat string, with where each line starts in it."""

    text: str
    folded: str
    starts: tuple[int, ...]  # offset of each kept line in text
    numbers: tuple[int, ...]  # its line number

    @classmethod
    def of(cls, doc: ParsedDocument) -> FlatText:
        parts: list[str] = []
        starts: list[int] = []
        numbers: list[int] = []
        at = 0
        for li in doc.lines:
            piece = flat(li.text)
            if not piece:
                continue
            starts.append(at)
            numbers.append(li.number)
            parts.append(piece)
            at += len(piece) + 1
        text = " ".join(parts)
        return cls(text, folded(text), tuple(starts), tuple(numbers))

    def lines_of(self, start: int, end: int) -> tuple[int, int]:
        """The first and last line numbers covering text[start:end]."""
        first = bisect.bisect_right(self.starts, start) - 1
        last = bisect.bisect_right(self.starts, max(start, end - 1)) - 1
        return self.numbers[max(first, 0)], self.numbers[max(last, 0)]

    def find(self, quote: str) -> tuple[int, int] | None:
        """Lines holding the quote: exactly, else folded, else fuzzily (FUZZY_CUTOFF)."""
        wanted = flat(quote)
        if not wanted:
            return None
        at = self.text.find(wanted)
        if at >= 0:
            return self.lines_of(at, at + len(wanted))
        low = folded(wanted)
        at = self.folded.find(low)
        if at >= 0:
            return self.lines_of(at, at + len(low))
        if len(low) < FUZZY_MIN_CHARS:
            return None
        match = fuzz.partial_ratio_alignment(low, self.folded, score_cutoff=FUZZY_CUTOFF)
        if match is None or _NUMBER.findall(low) != _NUMBER.findall(self.folded[match.dest_start : match.dest_end]):
            return None  # near enough in words, but a number differs: another fact
        return self.lines_of(match.dest_start, match.dest_end)


def span_holds(doc: ParsedDocument, first: int, last: int, quote: str) -> bool:
    """True when lines first..last of the document hold the quote (flattened)."""
    wanted = flat(quote)
    return bool(wanted) and wanted in flat(" ".join(li.text for li in doc.span(first, last)))
