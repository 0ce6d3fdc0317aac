"""Read corpus files (.txt, .md, .pdf) into numbered source lines, keeping page numbers."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import DocumentError

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf")


@dataclass(frozen=True)
class RawLine:
    """One line of a source document: 1-based line number in the text, page if known."""

    number: int
    text: str
    page: int | None = None


# A line that starts a list item, a table row or a heading never continues the line before it.
_ITEM = re.compile(r"^\s*(?:[-+•▪●■□❖✓✔➤➢⇒→✚📌]|\*(?!\*)|\d{1,2}\s*[.)°]|[a-hA-H]\s*[.)]\s|[IVX]{1,4}\s*[.\-–]\s|#)")
_SENTENCE_END = re.compile(r"[.!?:;…]\s*(?:\*\*|__|</[a-z]+>)?\s*[»\"')\]]?\s*$")
# French words after which a line cannot end a sentence: articles, prepositions, conjunctions.
_OPEN_WORDS = frozenset(
    "à au aux avec chez dans de des du en entre et la le les l' leur leurs ou par pour sans sur un une vers "
    "d' qu' que qui dont ce cette ces son sa ses notre nos votre vos afin ainsi mais".split()
)


def is_item(text: str) -> bool:
    """True when a line opens a list item (dash, bullet, "1.", "a)")."""
    return bool(_ITEM.match(text))


def continues(previous: str, line: str) -> bool:
    """True when `line` carries on the sentence `previous` left open (a line wrapped mid-sentence).

    Tables, list items and headings are never joined; the previous line must not end a sentence,
    and the new one must start in lower case, or follow a word that cannot end a sentence.
    """
    prev, cur = previous.rstrip(), line.strip()
    if not prev.strip() or not cur or "\t" in prev or "\t" in line or is_item(cur):
        return False
    if _SENTENCE_END.search(prev):
        return False
    if cur[0].islower():
        return True
    last = prev.split()[-1].lower() if prev.split() else ""
    return last in _OPEN_WORDS or prev.endswith((",", "-", "–"))


def join_wrapped(lines: list[RawLine]) -> list[RawLine]:
    """Join lines wrapped mid-sentence (PDF extraction) so a quoted sentence is whole; a joined line keeps
    the number and page of its first part."""
    out: list[RawLine] = []
    for r in lines:
        prev = out[-1] if out else None
        if prev is not None and prev.page == r.page and continues(prev.text, r.text):
            sep = "" if prev.text.rstrip().endswith("-") else " "
            out[-1] = RawLine(prev.number, prev.text.rstrip() + sep + r.text.strip(), prev.page)
            continue
        out.append(r)
    return out


def read_text_bytes(name: str, data: bytes) -> str:
    """Decode a text file: UTF-8, else a detected encoding, else a clear refusal."""
    if not data.strip():
        raise DocumentError(name, "le fichier est vide.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise DocumentError(name, "encodage inconnu ; enregistrez le fichier en UTF-8.")
    log.warning("%s : encodage %s détecté (pas UTF-8), converti.", name, best.encoding)
    return str(best)


def read_pdf_bytes(name: str, data: bytes) -> list[RawLine]:
    """Extract a PDF page by page with pypdf; pages without text are skipped with a warning."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.strip():
        raise DocumentError(name, "le fichier est vide.")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(name, "le PDF est protégé par un mot de passe ; fournissez une version non chiffrée.")
        pages = list(reader.pages)
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(name, f"PDF illisible ou corrompu ({type(exc).__name__}).") from exc
    out: list[RawLine] = []
    number = 0
    for page_no, page in enumerate(pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # pypdf raises many kinds on damaged pages
            log.warning("%s : page %d illisible (%s), ignorée.", name, page_no, exc)
            continue
        if not text.strip():
            log.warning("%s : page %d sans texte (scannée ?), ignorée.", name, page_no)
            continue
        for line in text.splitlines():
            number += 1
            out.append(RawLine(number, line, page_no))
        number += 1
        out.append(RawLine(number, "", page_no))  # a page break ends a paragraph
    if not any(r.text.strip() for r in out):
        raise DocumentError(name, "aucun texte extractible (PDF scanné ?) ; fournissez une version texte.")
    return join_wrapped(out)


def read_lines(name: str, data: bytes) -> list[RawLine]:
    """Numbered lines of a document given its file name and bytes."""
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf":
        return read_pdf_bytes(name, data)
    if suffix in (".txt", ".md"):
        text = read_text_bytes(name, data)
        return [RawLine(i, line) for i, line in enumerate(text.splitlines(), start=1)]
    raise DocumentError(name, f"format « {suffix or 'sans extension'} » non pris en charge (PDF, TXT ou MD).")


def read_file(path: Path) -> list[RawLine]:
    """Numbered lines of a document on disk."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(path.name, f"lecture impossible ({exc.strerror}).") from exc
    return read_lines(path.name, data)
