"""Read corpus files (.txt, .md, .pdf) into numbered source lines, keeping page numbers."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.errors import DocumentError, os_reason

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
_MID_SENTENCE_START = "%‰€),;"
_SENTENCE_END = re.compile(r"[.!?:;…]\s*(?:\*\*|__|</[a-z]+>)?\s*[»\"')\]]?\s*$")
# French words after which a line cannot end a sentence: articles, prepositions, conjunctions.
_OPEN_WORDS = frozenset(
    "à au aux avec chez dans de des du en entre et la le les l' leur leurs ou par pour sans sur un une vers "
    "d' qu' que qui dont ce cette ces son sa ses notre nos votre vos afin ainsi mais".split()
)


def starts_mid_sentence(text: str) -> bool:
    """True when a line opens with what no sentence starts with: a lower-case letter, or "%", "€", ")", ","."""
    first = text.strip()[:1]
    return first.islower() or (bool(first) and first in _MID_SENTENCE_START)


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
    if starts_mid_sentence(cur):
        return True
    last = prev.split()[-1].lower() if prev.split() else ""
    return last in _OPEN_WORDS or prev.endswith((",", "-", "–"))


def join_wrapped(lines: list[RawLine]) -> list[RawLine]:
    """Join lines wrapped mid-sentence (PDF extraction) so a quoted sentence is whole; a joined line keeps
    the number and page of its first part. Across a page break, only a line starting in lower case (or with
    "%", "€", …) joins."""
    out: list[RawLine] = []
    for r in lines:
        prev = out[-1] if out else None
        if prev is not None and (prev.page == r.page or starts_mid_sentence(r.text)) and continues(prev.text, r.text):
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


# Running headers and footers: looked for among the first and last lines of each page.
_EDGE_LINES = 2
_RUNNING_SHARE = 0.6
_RUNNING_MIN_PAGES = 3


def _running_key(text: str) -> str:
    """A line as compared across pages: spaces collapsed, every number as "#" ("Page # / #")."""
    return re.sub(r"\d+", "#", " ".join(text.split())).lower()


def _edge_indexes(lines: list[str]) -> set[int]:
    """Indexes of the first and last non-empty lines of a page (never a table row)."""
    filled = [i for i, t in enumerate(lines) if t.strip() and "\t" not in t]
    return set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:])


def _page_like(seen: list[tuple[int, str]]) -> set[int]:
    """Of the pages where one running-line pattern was seen, those whose numbers are the same everywhere or
    follow the page number (at the most common offset): "Page 3 / 21", not "Article 12" at the top of a page."""
    numbers = {page: [int(n) for n in re.findall(r"\d+", text)] for page, text in seen}
    keep = set(numbers)
    for pos in range(min((len(v) for v in numbers.values()), default=0)):
        if len({v[pos] for v in numbers.values()}) == 1:
            continue
        offset = Counter(v[pos] - page for page, v in numbers.items()).most_common(1)[0][0]
        keep &= {page for page, v in numbers.items() if v[pos] - page == offset}
    return keep


def drop_running_lines(pages: list[list[str]], page_numbers: list[int] | None = None) -> list[list[str]]:
    """Remove running headers and footers: a line at the top or bottom of a page whose text (numbers as #)
    comes back at the top or bottom of at least 60 % of the pages, and of 3 pages at least; a number that
    changes must follow the page number."""
    page_numbers = page_numbers or list(range(1, len(pages) + 1))
    seen: dict[str, list[tuple[int, str]]] = {}
    for page, lines in zip(page_numbers, pages, strict=True):
        for i in _edge_indexes(lines):
            key = _running_key(lines[i])
            if key and all(p != page for p, _ in seen.get(key, [])):
                seen.setdefault(key, []).append((page, lines[i]))
    filled = sum(1 for lines in pages if any(t.strip() for t in lines))
    need = max(_RUNNING_MIN_PAGES, _RUNNING_SHARE * filled)
    running = {k: _page_like(v) for k, v in seen.items() if len(v) >= need}
    running = {k: found for k, found in running.items() if len(found) >= need}
    if not running:
        return pages
    out = []
    for page, lines in zip(page_numbers, pages, strict=True):
        edges = _edge_indexes(lines)
        out.append([t for i, t in enumerate(lines) if i not in edges or page not in running.get(_running_key(t), ())])
    return out


@dataclass(frozen=True)
class _Table:
    """A ruled table found by pdfplumber: its box (x0, top, x1, bottom) and its rows as TAB-joined cells."""

    bbox: tuple[float, float, float, float]
    rows: list[str]


_UNBROKEN_TAIL = re.compile(r"(?:www\.|https?://|@)\S*$|\w-$")


def _cell(text: str | None) -> str:
    """A table cell on one line: wrapped text joined by spaces, an empty cell as "". A web address or an
    e-mail cut by the wrap, or a word cut after its hyphen, is joined without a space."""
    out = ""
    for part in (text or "").splitlines():
        part = " ".join(part.split())
        if part:
            out += ("" if not out or _UNBROKEN_TAIL.search(out) else " ") + part
    return out


def _chars(text: str) -> Counter[str]:
    return Counter("".join(text.split()))


def find_tables(page: Any) -> list[_Table]:
    """The ruled tables of a pdfplumber page, top first; a lone box (one row or one column) is not a table."""
    tables = []
    for found in page.find_tables():
        rows = [[_cell(c) for c in row] for row in found.extract()]
        rows = [r for r in rows if any(r)]
        if len(rows) < 2 or max(len(r) for r in rows) < 2:
            continue
        tables.append(_Table(tuple(found.bbox), ["\t".join(r) for r in rows]))
    return sorted(tables, key=lambda t: (t.bbox[1], t.bbox[0]))


def _find_block(lines: list[str], want: Counter[str], start: int) -> tuple[int, int] | None:
    """The run of consecutive lines, from `start` on, holding the same characters as a table (spaces aside);
    a difference of 2 % is tolerated, the closest run wins."""
    total = sum(want.values())
    slack = max(2, total // 50)
    best: tuple[int, int, int] | None = None
    for i in range(start, len(lines)):
        if not lines[i].strip():
            continue
        have: Counter[str] = Counter()
        for j in range(i, len(lines)):
            have += _chars(lines[j])
            size = sum(have.values())
            if size > total + slack:
                break
            if size >= total - slack:
                diff = sum(((have - want) + (want - have)).values())
                if diff <= slack and (best is None or diff < best[0]):
                    best = (diff, i, j + 1)
        if best is not None and best[0] == 0:
            break
    return None if best is None else (best[1], best[2])


def splice_tables(lines: list[str], tables: list[_Table]) -> list[str] | None:
    """Replace in pypdf's lines of a page the loose lines of each table by its TAB-separated rows;
    None when a table cannot be located in the text."""
    out = list(lines)
    at = 0
    for table in tables:
        block = _find_block(out, sum((_chars(r) for r in table.rows), Counter()), at)
        if block is None:
            return None
        i, j = block
        out[i:j] = table.rows
        at = i + len(table.rows)
    return out


def layout_with_tables(page: Any, tables: list[_Table]) -> list[str]:
    """pdfplumber's text of a page outside its tables, each table's rows put back at its height."""
    rest = page
    for table in tables:
        rest = rest.outside_bbox(table.bbox, strict=False)
    items = [(line["top"], [line["text"]]) for line in rest.extract_text_lines(return_chars=False)]
    items += [(table.bbox[1], table.rows) for table in tables]
    return [text for _, texts in sorted(items, key=lambda item: item[0]) for text in texts]


_PATH_OP = re.compile(rb"\s(?:re|l)(?=\s|$)")  # a rectangle or a line segment in a content stream
_FORM_OP = re.compile(rb"\sDo(?=\s|$)")  # a form or an image drawn from elsewhere


def may_hold_a_table(page: Any) -> bool:
    """A cheap look at a pypdf page's drawing operators, before pdfplumber's much slower layout parse:
    a ruled table takes at least 4 rectangles or line segments; a page drawing forms is always looked at."""
    try:
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
    except Exception:  # unreadable stream: let pdfplumber decide
        return True
    return bool(_FORM_OP.search(data)) or len(_PATH_OP.findall(data)) >= 4


def _open_plumber(name: str, data: bytes, page_count: int) -> Any:
    """The same PDF opened with pdfplumber (table finder), or None with a warning."""
    import io

    try:
        import pdfplumber

        plumber = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfplumber missing or pdfminer refusing the file: the text stays pypdf's
        log.warning("%s : recherche des tableaux impossible (%s) ; texte pypdf conservé.", name, exc)
        return None
    if len(plumber.pages) != page_count:  # the two readers disagree on the pages: tables would go astray
        log.warning(
            "%s : %d pages pour pdfplumber, %d pour pypdf ; tableaux non lus, texte pypdf conservé.",
            name,
            len(plumber.pages),
            page_count,
        )
        plumber.close()
        return None
    return plumber


def _with_tables(name: str, plumber: Any, page_no: int, lines: list[str]) -> list[str]:
    """A page's pypdf lines with its ruled tables written as TAB-separated rows (header first)."""
    try:
        page = plumber.pages[page_no - 1]
        tables = find_tables(page)
        if not tables:
            return lines
        spliced = splice_tables(lines, tables)
        if spliced is None:  # pypdf's reading order lost a table: take pdfplumber's text for this page
            spliced = layout_with_tables(page, tables)
        return spliced
    except Exception as exc:  # a damaged page: keep what pypdf read
        log.warning("%s : tableaux de la page %d illisibles (%s) ; texte pypdf conservé.", name, page_no, exc)
        return lines
    finally:
        plumber.pages[page_no - 1].close()  # free the parsed layout of the page


_SPACES = re.compile(r"(?<=\S)[ \u00a0]{2,}(?=\S)")


def read_pdf_bytes(name: str, data: bytes) -> list[RawLine]:
    """Extract a PDF page by page with pypdf; pages without text are skipped with a warning.

    Ruled tables (found by pdfplumber) become TAB-separated rows, header row first; running headers and
    footers are dropped; a sentence cut by a page break is joined again."""
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
    texts: list[tuple[int, list[str]]] = []
    plumber: Any = None  # pdfplumber document, False when unusable
    try:
        for page_no, page in enumerate(pages, start=1):
            try:
                text = page.extract_text() or ""
            except Exception as exc:  # pypdf raises many kinds on damaged pages
                log.warning("%s : page %d illisible (%s), ignorée.", name, page_no, exc)
                continue
            if not text.strip():
                log.warning("%s : page %d sans texte (scannée ?), ignorée.", name, page_no)
                continue
            lines = text.splitlines()
            if may_hold_a_table(page):
                if plumber is None:  # opened once, at the first page that may hold a table
                    plumber = _open_plumber(name, data, len(pages)) or False
                if plumber:
                    lines = _with_tables(name, plumber, page_no, lines)
            texts.append((page_no, lines))
    finally:
        if plumber:
            plumber.close()
    kept = drop_running_lines([lines for _, lines in texts], [page_no for page_no, _ in texts])
    out: list[RawLine] = []
    number = 0
    for k, ((page_no, _), lines) in enumerate(zip(texts, kept, strict=True)):
        for line in lines:
            number += 1
            # justified text comes out with runs of spaces ("compte  1  236  conseillers"): one space, as
            # written, so that digit groups and words read as in the text version
            out.append(RawLine(number, _SPACES.sub(" ", line), page_no))
        if _runs_on(texts, kept, k):
            continue
        number += 1
        out.append(RawLine(number, "", page_no))  # a page break ends a paragraph
    if not any(r.text.strip() for r in out):
        raise DocumentError(name, "aucun texte extractible (PDF scanné ?) ; fournissez une version texte.")
    return paragraphs(join_wrapped(out))


_BULLET = re.compile(r"^\s*[•\-–*▪◦●✓❖]")  # a bulleted item ("1." or "A." may open a heading instead)


def paragraphs(lines: list[RawLine]) -> list[RawLine]:
    """A blank line between the paragraphs of an extracted PDF, as its text version has them: pypdf gives none,
    and a heading ("3. Le Pôle emploi, opérateur de droit") or a paragraph title is known by standing alone.
    Rows of a table and items of a list stay together; lines are numbered again."""
    out: list[RawLine] = []
    for r in lines:
        prev = out[-1].text if out else ""
        together = ("\t" in prev and "\t" in r.text) or bool(_BULLET.match(prev) and _BULLET.match(r.text))
        if prev.strip() and r.text.strip() and not together:
            out.append(RawLine(len(out) + 1, "", r.page))
        out.append(RawLine(len(out) + 1, r.text, r.page))
    return out


def _runs_on(texts: list[tuple[int, list[str]]], kept: list[list[str]], k: int) -> bool:
    """True when page k ends mid-sentence and the next page (the very next one) carries on in lower case."""
    if k + 1 >= len(kept) or texts[k + 1][0] != texts[k][0] + 1:
        return False
    last = next((t for t in reversed(kept[k]) if t.strip()), "")
    first = next((t for t in kept[k + 1] if t.strip()), "")
    return bool(last and starts_mid_sentence(first) and continues(last, first))


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
        raise DocumentError(path.name, f"lecture impossible ({os_reason(exc)}).") from exc
    return read_lines(path.name, data)
