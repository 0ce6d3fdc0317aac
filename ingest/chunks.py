"""Cut annotated lines into chunks by section, keeping tables whole and the line span of each chunk."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.readers import continues, is_item
from ingest.records import Chunk, DocumentInfo, content_id
from ingest.sections import LineInfo
from ingest.text import clean_markup

CHUNK_VERSION = "8"  # bump when chunking changes, so indexes are rebuilt
DEFAULT_TARGET_CHARS = 1000  # tune_retrieval.py --sizes 700,1000,1400 (e5, hybrid): 0.847, 0.871, 0.853


@dataclass(frozen=True)
class Block:
    """A run of non-blank lines in one section (a paragraph, a list or a table)."""

    lines: tuple[LineInfo, ...]

    @property
    def chars(self) -> int:
        return sum(len(li.text) for li in self.lines)

    @property
    def is_table(self) -> bool:
        return sum("\t" in li.text for li in self.lines) >= 2


def blocks_of(lines: list[LineInfo]) -> list[Block]:
    """Group lines into blocks: blank lines, headings and section changes end a block."""
    out: list[Block] = []
    run: list[LineInfo] = []

    def flush() -> None:
        if run:
            out.append(Block(tuple(run)))
            run.clear()

    for li in lines:
        if li.in_toc or li.is_heading or not li.text.strip():
            flush()
            continue
        if run and (
            run[-1].section != li.section or run[-1].page != li.page or ("\t" in li.text) != ("\t" in run[-1].text)
        ):
            flush()
        run.append(li)
    flush()
    return _merge_tables(out)


def _merge_tables(blocks: list[Block]) -> list[Block]:
    """Keep a table with its caption and the rows split by blank lines."""
    out: list[Block] = []
    for b in blocks:
        prev = out[-1] if out else None
        if prev is not None and (prev.lines[-1].section, prev.lines[-1].page) == (b.lines[0].section, b.lines[0].page):
            gap = b.lines[0].number - prev.lines[-1].number
            joins_table = b.is_table and gap <= 3 and (prev.is_table or (prev.chars < 120 and len(prev.lines) <= 2))
            if joins_table or (prev.is_table and gap <= 2 and "\t" in b.lines[0].text):
                out[-1] = Block(prev.lines + b.lines)
                continue
        out.append(b)
    return out


def chunk_document(info: DocumentInfo, lines: list[LineInfo], target_chars: int = DEFAULT_TARGET_CHARS) -> list[Chunk]:
    """Chunks of about target_chars per section; a block is never split."""
    by_number = {li.number: li for li in lines}
    chunks: list[Chunk] = []
    group: list[Block] = []

    def emit() -> None:
        if not group:
            return
        first, last = group[0].lines[0], group[-1].lines[-1]
        span = [by_number[n] for n in range(first.number, last.number + 1) if n in by_number]
        quote = "\n".join(li.text for li in span).strip("\n")
        body = "\n".join(clean_markup(li.text) for b in group for li in b.lines)
        chunks.append(
            Chunk(
                id=content_id(info.name, first.section, quote),
                document=info.name,
                title=info.title,
                section=first.section,
                text=body,
                quote=quote,
                lines=(first.number, last.number) if first.page is None or _is_text(info) else None,
                page=first.page,
                context=first.context,
                span=(first.number, last.number),
            )
        )
        group.clear()

    for block in blocks_of(lines):
        if group and (
            group[-1].lines[-1].section != block.lines[0].section
            or group[-1].lines[-1].page != block.lines[0].page
            or block.is_table != group[-1].is_table
        ):
            emit()
        elif group and sum(b.chars for b in group) + block.chars > target_chars:
            # A block announcing what follows (":") starts the next chunk with it, not ends this one.
            carried = group.pop() if len(group) > 1 and announces(group[-1].lines[-1].text) else None
            emit()
            if carried is not None:
                group.append(carried)
        group.append(block)
    emit()
    return chunks


def _is_text(info: DocumentInfo) -> bool:
    return not info.name.lower().endswith(".pdf")


# A sentence ends at . ! ? (or …) followed by a space and a capital, digit, quote or bullet.
_BREAK = re.compile(r"(?<=[.!?…])[\s*_]*\s(?=[\"«(*\-•]*\s*[A-ZÀ-ÖØ-Þ0-9«\"])")
# Abbreviations whose period does not end a sentence.
_ABBREVIATION = re.compile(r"(?:\b(?:cf|etc|ex|art|p|pp|n|no|M|Mme|Dr|env|vol|chap)|\b[A-Z])\.$", re.IGNORECASE)
_NUMBERING = re.compile(r"^[\s*_\-•]*(?:\d{1,3}|[IVX]{1,4})\.$")  # "2." opening a numbered item
_ANNOUNCES = re.compile(r":\s*(?:\*\*|__)?\s*$")
MAX_LIST_CHARS = 1500  # a list announced by ":" is kept whole up to this size (longest list of the corpus: 1 200)


def announces(text: str) -> bool:
    """True when a sentence announces what follows (ends with ":")."""
    return bool(_ANNOUNCES.search(text))


def _logical_lines(quote: str) -> list[tuple[int, int]]:
    """Spans of the quote's lines, lines wrapped mid-sentence joined to the line they continue."""
    spans: list[tuple[int, int]] = []
    start = 0
    previous = ""
    for line in quote.split("\n"):
        end = start + len(line)
        if line.strip():
            if spans and previous and continues(previous, line):
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
            previous = line
        else:
            previous = ""
        start = end + 1
    return spans


def _split(quote: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """Sentence spans inside one logical line."""
    a, b = span
    out: list[tuple[int, int]] = []
    cut = a
    for m in _BREAK.finditer(quote, a, b):
        piece = quote[cut : m.start()]
        if _ABBREVIATION.search(piece) or _NUMBERING.match(piece):
            continue
        out.append((cut, m.start()))
        cut = m.end()
    out.append((cut, b))
    return [(x, y) for x, y in out if quote[x:y].strip()]


def sentence_spans(quote: str, lists: bool = True) -> list[tuple[int, int]]:
    """Sentence spans of a passage: wrapped lines joined; with `lists`, a sentence ending with ":" kept
    with the list items that follow it (or, without items, with the line it announces)."""
    units: list[tuple[int, int, bool]] = []  # (start, end, starts a list item)
    for span in _logical_lines(quote):
        item = is_item(quote[span[0] : span[1]])
        for i, piece in enumerate(_split(quote, span)):
            units.append((piece[0], piece[1], item and i == 0))
    if not lists:
        return [(a, b) for a, b, _ in units]
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        start, end, _ = units[i]
        i += 1
        while announces(quote[start:end]) and i < len(units) and units[i][1] - start <= MAX_LIST_CHARS:
            if not units[i][2]:  # no list: the line announced ("… les objectifs sont divers :")
                end = units[i][1]
                i += 1
                continue
            while i < len(units) and units[i][2] and units[i][1] - start <= MAX_LIST_CHARS:
                end = units[i][1]
                i += 1
                while i < len(units) and not units[i][2] and not _line_start(quote, units[i][0]):
                    end = units[i][1]  # the rest of a list item that holds several sentences
                    i += 1
            break
        out.append((start, end))
    return out


def _line_start(quote: str, offset: int) -> bool:
    return offset == 0 or quote[:offset].rstrip(" \t*_").endswith("\n")


def passage_sentences(quote: str, lists: bool = True) -> list[str]:
    """The sentences of a passage, verbatim (a sentence may span wrapped lines; see sentence_spans)."""
    return [quote[a:b].strip() for a, b in sentence_spans(quote, lists)]
