"""Cut annotated lines into chunks by section, keeping tables whole and the line span of each chunk."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.records import Chunk, DocumentInfo, content_id
from assistant.text import clean_markup
from ingest.sections import LineInfo

CHUNK_VERSION = "4"  # bump when chunking changes, so indexes are rebuilt
DEFAULT_TARGET_CHARS = 1000  # measured: best passage cited@3 among 400-1400


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


def chunk_document(
    info: DocumentInfo, lines: list[LineInfo], target_chars: int = DEFAULT_TARGET_CHARS
) -> list[Chunk]:
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
            )
        )
        group.clear()

    for block in blocks_of(lines):
        if group and (
            group[-1].lines[-1].section != block.lines[0].section
            or group[-1].lines[-1].page != block.lines[0].page
            or sum(b.chars for b in group) + block.chars > target_chars
            or block.is_table != group[-1].is_table
        ):
            emit()
        group.append(block)
    emit()
    return chunks


def _is_text(info: DocumentInfo) -> bool:
    return not info.name.lower().endswith(".pdf")
