"""Read corpus files (.txt, .md, .pdf) into numbered source lines, keeping page numbers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import DocumentError

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf")


@dataclass(frozen=True)
class RawLine:
    """One line of a source document: 1-based line number in the text, page if known."""

    number: int
    text: str
    page: int | None = None


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
    return out


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
