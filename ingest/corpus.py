"""The corpus: every readable document of a folder, annotated with sections and cut into chunks."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ingest.chunks import CHUNK_VERSION, DEFAULT_TARGET_CHARS, chunk_document
from ingest.errors import DocumentError, KnowledgeError
from ingest.locate import FlatText, span_holds
from ingest.readers import SUPPORTED_SUFFIXES, read_file
from ingest.records import Chunk, Citation, DocumentInfo, table_cells, table_header
from ingest.sections import LineInfo, annotate

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
Progress = Callable[[str, int, int], None]  # (step, done, total)

CHUNK_IDS_KEPT = 4096  # remembered chunk ids of cited lines (a few bytes each)


@dataclass
class ParsedDocument:
    """A document with its manifest entry and annotated lines."""

    info: DocumentInfo
    lines: list[LineInfo]
    sha256: str

    def span(self, first: int, last: int) -> list[LineInfo]:
        """Lines first..last; lines are numbered from 1 in order, so this is a slice (a scan if not)."""
        lo, hi = max(first, 1) - 1, max(last, 0)
        lines = self.lines[lo:hi]
        if lines and lines[0].number == lo + 1 and lines[-1].number == lo + len(lines):
            return lines
        return [li for li in self.lines if first <= li.number <= last]

    @cached_property
    def flat(self) -> FlatText:
        """The document as one flat string, for finding quotes whatever the line breaks."""
        return FlatText.of(self)

    def line(self, number: int) -> LineInfo | None:
        i = number - 1
        if 0 <= i < len(self.lines) and self.lines[i].number == number:
            return self.lines[i]
        return next((li for li in self.lines if li.number == number), None)


@dataclass
class Corpus:
    """Documents, their chunks and the errors met while reading them."""

    documents: dict[str, ParsedDocument]
    chunks: list[Chunk]
    errors: list[DocumentError] = field(default_factory=list)
    fingerprint: str = ""

    def locate(self, quote: str, document: str = "", lines: tuple[int, int] | None = None) -> tuple[str, int, int]:
        """Where a quote stands: (document, first line, last line). The given lines are kept when they hold it;
        else it is searched in the named document, then in every other one. KnowledgeError when no document
        holds it (knowledge written for documents this corpus lacks)."""
        doc = self.documents.get(document)
        if doc is not None and lines is not None and span_holds(doc, lines[0], lines[1], quote):
            return document, lines[0], lines[1]
        names = [document] if doc is not None else []
        names += [n for n in self.documents if n != document]
        for name in names:
            found = self.documents[name].flat.find(quote)
            if found is not None:
                return name, found[0], found[1]
        where = f"ni dans « {document} » ni ailleurs" if document else "dans aucun document"
        raise KnowledgeError(f"citation introuvable {where} : « {quote[:80]} »")

    def citation(self, document: str, first: int, last: int | None = None, highlight: str = "") -> Citation:
        """A citation of lines first..last of a document, quoted verbatim with its section."""
        doc = self.documents.get(document)
        if doc is None:
            raise KnowledgeError(f"Document inconnu dans le corpus : « {document} ».")
        last = last or first
        span = doc.span(first, last)
        if not span:
            raise KnowledgeError(f"Lignes {first}-{last} absentes du document « {document} ».")
        quote = "\n".join(li.text for li in span).strip("\n")
        header = table_header(lambda n: li.text if (li := doc.line(n)) is not None else None, first)
        return Citation(
            document=document,
            title=doc.info.title,
            section=span[0].section,
            page=span[0].page,
            lines=[first, last],
            quote=quote,
            chunk_id=self.chunk_of(document, first, last, quote),
            highlight=highlight,
            cells=table_cells(quote, header) if header else "",
        )

    @cached_property
    def _chunks_by_document(self) -> dict[str, list[Chunk]]:
        out: dict[str, list[Chunk]] = {}
        for chunk in self.chunks:
            out.setdefault(chunk.document, []).append(chunk)
        return out

    @cached_property
    def _chunk_ids(self) -> dict[tuple[str, int, int, str], str]:
        return {}

    def chunk_of(self, document: str, first: int, last: int, quote: str = "") -> str:
        """The id of the chunk holding lines first..last of a document (the one sharing most of them; for a
        heading, which no chunk holds, the first chunk below it when only headings and blank lines lie
        between), else of the chunk whose text holds the quote (PDF chunks have pages, not lines); "" when
        none does. Remembered: every answer cites a few lines, often the same ones (0.5 ms a search)."""
        key = (document, first, last, quote)
        found = self._chunk_ids.get(key)
        if found is None:
            if len(self._chunk_ids) >= CHUNK_IDS_KEPT:
                self._chunk_ids.clear()
            found = self._chunk_ids[key] = self._find_chunk(document, first, last, quote)
        return found

    def _find_chunk(self, document: str, first: int, last: int, quote: str) -> str:
        chunks = self._chunks_by_document.get(document, [])
        best, shared = "", 0
        below, below_start = "", 0
        for c in chunks:
            if c.lines is None:
                continue
            n = min(last, c.lines[1]) - max(first, c.lines[0]) + 1
            if n > shared:
                best, shared = c.id, n
            elif c.lines[0] > last and (not below or c.lines[0] < below_start):
                below, below_start = c.id, c.lines[0]
        if best:
            return best
        doc = self.documents.get(document)
        if below and doc is not None:
            between = [doc.line(n) for n in range(last + 1, below_start)]
            if all(li is None or li.is_heading or not li.text.strip() for li in between):
                return below
        if not quote.strip():
            return ""
        return next((c.id for c in chunks if c.lines is None and quote.strip() in c.quote), "")


def load_manifest(folder: Path) -> dict[str, DocumentInfo]:
    """Manifest entries (title, publisher, year, kind, original name) by file name."""
    path = folder / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            d["file"]: DocumentInfo(
                name=d["file"],
                title=d.get("title") or d["file"],
                publisher=d.get("publisher", ""),
                year=d.get("year"),
                kind=d.get("kind", ""),
                source_name=d.get("original_name", ""),
            )
            for d in data["documents"]
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise KnowledgeError(f"{path} : manifeste invalide ({exc}).") from exc


def document_files(folder: Path) -> list[Path]:
    """Corpus files in a stable order."""
    if not folder.is_dir():
        raise KnowledgeError(f"Dossier du corpus introuvable : {folder}.")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)


def fingerprint(folder: Path, target_chars: int = DEFAULT_TARGET_CHARS) -> str:
    """A hash of the corpus files, the manifest and the chunking settings."""
    from ingest.facts import FACTS_VERSION  # figure tables are saved with the index

    h = hashlib.sha256(f"chunks:{CHUNK_VERSION}:{target_chars}:facts:{FACTS_VERSION}".encode())
    for p in [*document_files(folder), folder / MANIFEST]:
        if p.exists():
            h.update(p.name.encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _default_info(path: Path, lines: list[LineInfo]) -> DocumentInfo:
    """A document outside the manifest: its first line as title, and its year when the title or the file name
    names exactly one ("RAPPORT ANNUEL 2023", "rapport-2023.pdf"): the year its figures are of by default."""
    first = next((li.text.strip() for li in lines if li.text.strip()), path.stem)
    title = first if 5 <= len(first) <= 120 else path.stem.replace("-", " ").replace("_", " ")
    from ingest.facts.entities import years_in  # the facts' own year pattern (ingest.facts imports this module)

    year = None
    for text in (title, path.stem.replace("_", " ").replace("-", " ")):
        found = set(years_in(text))
        if len(found) == 1:
            year = found.pop()
            break
    return DocumentInfo(name=path.name, title=title, year=year, kind="document ajouté", source_name=path.name)


def load_corpus(folder: Path, target_chars: int = DEFAULT_TARGET_CHARS, progress: Progress | None = None) -> Corpus:
    """Read every document of a folder; an unreadable one is reported and skipped."""
    manifest = load_manifest(folder)
    files = document_files(folder)
    documents: dict[str, ParsedDocument] = {}
    chunks: list[Chunk] = []
    errors: list[DocumentError] = []
    for i, path in enumerate(files, start=1):
        if progress:
            progress(f"Lecture de {path.name}", i - 1, len(files))
        try:
            raw = read_file(path)
        except DocumentError as exc:
            log.warning("%s", exc)
            errors.append(exc)
            continue
        lines = annotate(raw)
        info = manifest.get(path.name) or _default_info(path, lines)
        documents[path.name] = ParsedDocument(info, lines, hashlib.sha256(path.read_bytes()).hexdigest())
        chunks.extend(chunk_document(info, lines, target_chars))
    if progress:
        progress("Lecture terminée", len(files), len(files))
    seen: set[str] = set()
    unique = [c for c in chunks if not (c.id in seen or seen.add(c.id))]  # type: ignore[func-returns-value]
    return Corpus(documents, unique, errors, fingerprint(folder, target_chars))
