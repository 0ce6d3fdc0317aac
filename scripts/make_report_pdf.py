"""Render a CEP annual report written as text (PDF-to-text conventions) into a real-looking A4 PDF.

The text follows the conventions of the corpus (knowledge/documents/*.txt): headings on their own line
("I. Préambule", "A. …", "1. …", "Annexe 1 – …"), paragraphs separated by blank lines, ``**bold**``
markdown, bullets "- …", and tables as consecutive lines whose cells are separated by tabs (first line =
header row). The PDF gets a title page, bold headings, wrapped paragraphs, tables drawn with borders and a
bold header row, a running header "Rapport annuel 2023 — CEP Occitanie" and page numbers.

    python scripts/make_report_pdf.py [src.txt] [out.pdf]

Defaults: tests/data/rapport-2023/rapport-annuel-cep-occitanie-2023.txt → same name with .pdf.
Needs fpdf2 (dev dependency) and the DejaVu TTF fonts in /usr/share/fonts/truetype/dejavu/
(Debian package fonts-dejavu-core), or a directory given by the CEP_PDF_FONT_DIR variable.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = ROOT / "tests" / "data" / "rapport-2023" / "rapport-annuel-cep-occitanie-2023.txt"
FONT_DIR = Path(os.environ.get("CEP_PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = {
    "": "DejaVuSans.ttf",
    "B": "DejaVuSans-Bold.ttf",
    "I": "DejaVuSans-Oblique.ttf",
    "BI": "DejaVuSans-BoldOblique.ttf",
}
RUNNING_HEADER = "Rapport annuel 2023 — CEP Occitanie"

H1 = re.compile(r"^(?:[IVX]+\.\s|Remerciements$|Annexes$|Table des matières$)")
H2 = re.compile(r"^(?:[A-H]\.\s|Annexe \d+ – )")
H3 = re.compile(r"^(?:\d+\.\s|➤ )")
CAPTION = re.compile(r"^Tableau \d+ – ")
BULLET = re.compile(r"^(\s*)- (?:❖ )?")


@dataclass
class Block:
    """One unit of layout: a heading, a paragraph, a bullet, a table or the table of contents."""

    kind: str  # cover, h1, h2, h3, caption, para, bullet, subbullet, table, toc, label
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)


def clean(text: str) -> str:
    """Drop the HTML tags left by PDF conversion (<i>, <small>) and stray spaces."""
    return re.sub(r"\s+", " ", re.sub(r"</?[a-z]+[^>]*>", "", text)).strip()


def parse(lines: list[str]) -> list[Block]:
    """Split the report text into layout blocks (tables = runs of tab-separated lines)."""
    blocks: list[Block] = []
    try:
        toc_at = lines.index("Table des matières")
    except ValueError:
        toc_at = 0
    cover = [clean(x) for x in lines[:toc_at] if x.strip()]
    if cover:
        blocks.append(Block("cover", rows=[[c] for c in cover]))
    i = toc_at
    while i < len(lines):
        raw = lines[i].rstrip("\n")
        if not raw.strip():
            i += 1
            continue
        if "\t" in raw:
            j = i
            while j < len(lines) and "\t" in lines[j] and lines[j].strip():
                j += 1
            rows = [[clean(c) for c in line.split("\t")] for line in lines[i:j]]
            is_toc = bool(blocks) and blocks[-1].text == "Table des matières"
            blocks.append(Block("toc" if is_toc else "table", rows=rows))
            i = j
            continue
        text = clean(raw)
        bullet = BULLET.match(raw)
        if bullet:
            kind = "subbullet" if bullet.group(1) else "bullet"
            blocks.append(Block(kind, clean(raw[bullet.end() :])))
        elif CAPTION.match(text):
            blocks.append(Block("caption", text))
        elif H1.match(text) and len(text) < 120:
            blocks.append(Block("h1", text))
        elif H2.match(text) and len(text) < 120:
            blocks.append(Block("h2", text))
        elif H3.match(text) and len(text) < 100 and not text.endswith((",", ";")):
            blocks.append(Block("h3", text.removeprefix("➤ ")))
        elif len(text) < 60 and not text.endswith((".", ",", ";", ")", "%")) and "**" not in text:
            blocks.append(Block("label", text))
        else:
            blocks.append(Block("para", text))
        i += 1
    return blocks


def make_pdf_class():
    """The FPDF subclass with the running header and the page-number footer (fpdf2 imported lazily)."""
    from fpdf import FPDF

    class ReportPDF(FPDF):
        """A4 report: running header and 'Page n / N' footer on every page but the cover."""

        def header(self) -> None:
            if self.page_no() == 1:
                return
            self.set_font("DejaVu", "I", 8)
            self.set_text_color(90, 90, 90)
            self.cell(0, 6, RUNNING_HEADER, align="R")
            self.ln(4)
            self.set_draw_color(170, 170, 170)
            self.line(self.l_margin, self.get_y() + 2, self.w - self.r_margin, self.get_y() + 2)
            self.ln(8)
            self.set_text_color(0, 0, 0)

        def footer(self) -> None:
            if self.page_no() == 1:
                return
            self.set_y(-15)
            self.set_font("DejaVu", "", 8)
            self.set_text_color(90, 90, 90)
            self.cell(0, 10, f"Page {self.page_no()} / {{nb}}", align="C")
            self.set_text_color(0, 0, 0)

    return ReportPDF


def load_fonts(pdf) -> None:
    """Register DejaVu Sans in four styles, or stop with a clear message when a file is missing."""
    missing = [name for name in FONT_FILES.values() if not (FONT_DIR / name).is_file()]
    if missing:
        raise SystemExit(
            f"Police DejaVu introuvable dans {FONT_DIR} ({', '.join(missing)}). "
            "Installez le paquet fonts-dejavu-core ou indiquez un dossier avec CEP_PDF_FONT_DIR."
        )
    for style, name in FONT_FILES.items():
        pdf.add_font("DejaVu", style, str(FONT_DIR / name))


def col_widths(pdf, rows: list[list[str]], nowrap: list[bool]) -> tuple[float, ...]:
    """Column widths in mm from text widths (headings measured in bold); numeric/phone columns never wrap."""
    family, size = pdf.font_family, pdf.font_size_pt
    need = []
    for c in range(len(rows[0])):
        body = [r[c] for r in rows[1:]] or [rows[0][c]]
        cell_w = max(pdf.get_string_width(x) for x in body)
        word_w = max([pdf.get_string_width(w) for r in rows[1:] for w in r[c].split()] or [0])
        pdf.set_font(family, "B", size)
        head_w = max([pdf.get_string_width(w) for w in rows[0][c].split()] or [0])
        pdf.set_font(family, "", size)
        need.append(max(word_w, head_w, cell_w if nowrap[c] else min(cell_w, 60)) + 4)
    if sum(need) <= pdf.epw:  # room to spare: widen every column alike
        return tuple(w * pdf.epw / sum(need) for w in need)
    free = pdf.epw - sum(w for w, f in zip(need, nowrap, strict=True) if f)
    flex = sum(w for w, f in zip(need, nowrap, strict=True) if not f) or 1
    return tuple(w if f else w * free / flex for w, f in zip(need, nowrap, strict=True))


def render_table(pdf, rows: list[list[str]]) -> None:
    """Draw a bordered table; first row bold and shaded; numbers right-aligned."""
    from fpdf.fonts import FontFace

    n = max(len(r) for r in rows)
    rows = [r + [""] * (n - len(r)) for r in rows]
    pdf.set_font("DejaVu", "", 8.5 if n <= 4 else 7.5)
    numeric = re.compile(r"^(?!0\d(?: \d\d){4}$)(?:[-+]?[\d\s.,]+\s?%?|n\.c\.)$")  # not phone numbers
    phone = re.compile(r"^0\d(?: \d\d){4}$")
    is_num = [c > 0 and all(numeric.match(r[c]) for r in rows[1:] if r[c]) for c in range(n)]
    nowrap = [is_num[c] or all(phone.match(r[c]) for r in rows[1:] if r[c]) for c in range(n)]
    align = tuple("RIGHT" if x else "LEFT" for x in is_num)
    with pdf.table(
        col_widths=col_widths(pdf, rows, nowrap),
        width=pdf.epw,
        headings_style=FontFace(emphasis="BOLD", fill_color=(220, 228, 240)),
        line_height=5,
        text_align=align,
        first_row_as_headings=True,
    ) as table:
        for row in rows:
            table.row(row)
    pdf.ln(3)


def render_toc(pdf, rows: list[list[str]]) -> None:
    """Table of contents: entry left, page number right, with dot leaders."""
    pdf.set_font("DejaVu", "", 9.5)
    for row in rows:
        title, page = row[0], (row[-1] if len(row) > 1 else "")
        indent = 0 if H1.match(title) else 6 if H2.match(title) else 12
        pdf.set_x(pdf.l_margin + indent)
        width = pdf.epw - indent - 12
        title = title.rstrip(". ")
        while pdf.get_string_width(title) > width - 4:
            title = title[:-2]
        dots = "." * max(2, int((width - pdf.get_string_width(title)) / pdf.get_string_width(".")) - 1)
        pdf.cell(width, 5.5, f"{title} {dots}")
        pdf.cell(12, 5.5, page, align="R", new_x="LMARGIN", new_y="NEXT")


def render(blocks: list[Block], out: Path) -> None:
    """Lay the blocks out on A4 pages and write the PDF."""
    pdf = make_pdf_class()(format="A4")
    load_fonts(pdf)
    pdf.set_title("Rapport annuel 2023 — Suivi de la mise en œuvre du CEP en Occitanie")
    pdf.set_author("Transitions Pro Occitanie")
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_margins(20, 18, 20)
    pdf.add_page()
    poster = False  # an infographic page ("Bilan …" annex): short lines centred, big figures
    for b in blocks:
        if b.kind in ("h1", "h2"):
            poster = "Bilan" in b.text
            if poster:
                pdf.add_page()
        if poster and b.kind in ("label", "para"):
            big = bool(re.fullmatch(r"[\d\s,]+(?:\s?%)?|\d+ \w+(?:\.\w\.\w)?", b.text))
            pdf.set_font("DejaVu", "B" if big else "", 16 if big else 10)
            pdf.multi_cell(0, 8 if big else 5.5, b.text, markdown=True, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
            continue
        if b.kind == "cover":
            render_cover(pdf, [r[0] for r in b.rows])
        elif b.kind == "h1":
            if b.text in ("Table des matières", "Remerciements") or re.match(r"^[IVX]+\.\s|Annexes$", b.text):
                pdf.add_page()
            pdf.set_font("DejaVu", "B", 15)
            pdf.set_text_color(20, 60, 120)
            pdf.multi_cell(0, 8, b.text, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(3)
        elif b.kind in ("h2", "h3", "caption", "label"):
            size = {"h2": 12.5, "h3": 11, "caption": 9.5, "label": 10}[b.kind]
            pdf.ln(2)
            if pdf.will_page_break(30 if b.kind == "caption" else 14):
                pdf.add_page()
            pdf.set_font("DejaVu", "BI" if b.kind == "caption" else "B", size)
            pdf.multi_cell(0, 6, b.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        elif b.kind in ("bullet", "subbullet"):
            indent = 5 if b.kind == "bullet" else 11
            pdf.set_font("DejaVu", "", 10)
            pdf.set_x(pdf.l_margin + indent)
            pdf.cell(4, 5.5, "•" if b.kind == "bullet" else "–")
            pdf.multi_cell(pdf.epw - indent - 4, 5.5, b.text, markdown=True, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(0.8)
        elif b.kind == "para":
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(0, 5.5, b.text, markdown=True, align="J", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
        elif b.kind == "toc":
            render_toc(pdf, b.rows)
        elif b.kind == "table":
            render_table(pdf, b.rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))


def render_cover(pdf, lines: list[str]) -> None:
    """Title page: the report title block centred, the publisher at the bottom."""
    title = [x for x in lines if x.upper() == x and "RAPPORT" in x]
    publisher = [x for x in lines if x.startswith(("TRANSITIONS", "PRO "))]
    subtitle = [x for x in lines if x not in title and x not in publisher and x != "PARTENAIRE D'AVENIR"]
    pdf.set_y(80)
    pdf.set_font("DejaVu", "B", 28)
    pdf.set_text_color(20, 60, 120)
    for t in title:
        pdf.multi_cell(0, 14, t, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("DejaVu", "", 18)
    pdf.set_text_color(0, 0, 0)
    pdf.multi_cell(0, 10, " ".join(subtitle), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(230)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 8, " ".join(publisher), align="C", new_x="LMARGIN", new_y="NEXT")
    if "PARTENAIRE D'AVENIR" in lines:
        pdf.set_font("DejaVu", "I", 10)
        pdf.multi_cell(0, 6, "Partenaire d'avenir", align="C", new_x="LMARGIN", new_y="NEXT")


def main(argv: list[str]) -> int:
    """Read the text report, render it, print where the PDF went."""
    src = Path(argv[1]) if len(argv) > 1 else DEFAULT_SRC
    out = Path(argv[2]) if len(argv) > 2 else src.with_suffix(".pdf")
    try:
        import fpdf  # noqa: F401
    except ImportError:
        print("fpdf2 manque : pip install fpdf2 (dépendance de développement du projet).", file=sys.stderr)
        return 2
    if not src.is_file():
        print(f"Fichier source introuvable : {src}", file=sys.stderr)
        return 2
    blocks = parse(src.read_text(encoding="utf-8").split("\n"))
    render(blocks, out)
    print(f"{out} ({sum(b.kind == 'table' for b in blocks)} tableaux)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
