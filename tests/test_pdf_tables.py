"""PDF reading: ruled tables become TAB-separated rows, running headers and footers go, and a sentence cut by
a page break is whole again."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from ingest.readers import RawLine, drop_running_lines, read_pdf_bytes

REPORT = Path(__file__).parent / "data" / "rapport-2023" / "rapport-annuel-cep-occitanie-2023"
RUNNING_HEADER = "Guide du CEP - Occitanie 2023"
HEADER_ROW = "Opérateur\tEntrées en CEP en 2022 (Occitanie)\tEntrées en CEP en 2023 (Occitanie)"
ROWS = ["Réseau EVA\t12 345\t13 210", "APEC\t6 712\t7 046", "Cap emploi\t15 264\t"]  # an empty cell stays
SENTENCE = (
    "Le conseil en évolution professionnelle accompagne gratuitement toute personne qui souhaite faire le point "
    "sur sa situation professionnelle et construire un projet d'évolution, quel que soit son statut, avec un "
    "conseiller de l'un des opérateurs habilités sur le territoire régional, sans condition d'ancienneté ni de "
    "diplôme, et dans le respect de la confidentialité des échanges."
)


def make_report(path: Path) -> bytes:
    """Three A4 pages (core font Helvetica, latin-1 text): a title, a paragraph, a ruled table whose header
    cells wrap, a sentence that runs from page 1 to page 2, a running header and a "Page n / N" footer (three
    pages: a line seen on fewer than 3 pages is never taken for a running header)."""
    from fpdf import FPDF

    class Report(FPDF):
        def header(self) -> None:
            self.set_font("helvetica", "I", 8)
            self.cell(0, 6, RUNNING_HEADER, align="R", new_x="LMARGIN", new_y="NEXT")
            self.ln(6)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("helvetica", "", 8)
            self.cell(0, 10, f"Page {self.page_no()} / {{nb}}", align="C")

    pdf = Report(format="A4")
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 15)
    pdf.cell(0, 10, "Les entrées en CEP en Occitanie", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 11)
    pdf.multi_cell(0, 6, "Le tableau suivant donne les entrées en CEP par opérateur.", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    with pdf.table(col_widths=(60, 40, 40), width=140, line_height=6, text_align=("LEFT", "RIGHT", "RIGHT")) as table:
        for line in [HEADER_ROW, *ROWS]:
            table.row(line.split("\t"))
    pdf.ln(4)
    pdf.multi_cell(0, 6, "Les chiffres viennent des opérateurs.", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(pdf.h - 20 - 6 * 3)  # three lines of room left: the sentence goes on to page 2
    pdf.multi_cell(0, 6, SENTENCE, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.multi_cell(0, 6, "Le CEP est gratuit.", new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.multi_cell(0, 6, "Conclusion : le service est connu.", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path.read_bytes()


@pytest.fixture()
def report(tmp_path: Path) -> bytes:
    return make_report(tmp_path / "guide.pdf")


def test_a_ruled_table_becomes_tab_separated_rows_header_first(report: bytes) -> None:
    lines = [r.text for r in read_pdf_bytes("guide.pdf", report) if r.text]  # paragraphs apart, as in a text file
    at = lines.index(HEADER_ROW)  # the wrapped header cells are joined by a space
    assert lines[at : at + 1 + len(ROWS)] == [HEADER_ROW, *ROWS]
    assert sum("\t" in t for t in lines) == 1 + len(ROWS)
    assert lines.index("Le tableau suivant donne les entrées en CEP par opérateur.") < at
    assert lines.index("Les chiffres viennent des opérateurs.") == at + 1 + len(ROWS)
    assert not any("12 345" in t and "\t" not in t for t in lines)  # no loose copy of the cells left


def test_running_header_and_footer_are_dropped(report: bytes) -> None:
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(report)).pages]
    assert len(pages) == 3 and all(RUNNING_HEADER in p and "Page " in p for p in pages)  # they are in the PDF
    lines = [r.text for r in read_pdf_bytes("guide.pdf", report)]
    assert not any(RUNNING_HEADER in t or re.fullmatch(r"\s*Page \d+ / \d+\s*", t) for t in lines)
    assert "Les entrées en CEP en Occitanie" in lines


def test_a_sentence_cut_by_the_page_break_is_one_line(report: bytes) -> None:
    first, second = (p.extract_text() for p in PdfReader(io.BytesIO(report)).pages[:2])
    tail = " ".join(SENTENCE.split()[-3:])
    assert tail in second and tail not in first  # the PDF does cut the sentence, mid-sentence
    raw = read_pdf_bytes("guide.pdf", report)
    whole = [r for r in raw if " ".join(r.text.split()) == SENTENCE]
    assert len(whole) == 1 and whole[0].page == 1  # the joined line keeps the page where it starts
    assert any(r.text == "Le CEP est gratuit." and r.page == 2 for r in raw)
    last_of_page_2 = max(i for i, r in enumerate(raw) if r.page == 2)
    assert raw[last_of_page_2].text == ""  # a sentence that ends with its page still ends the paragraph


def test_a_table_finder_failure_keeps_the_pypdf_text(
    report: bytes, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import ingest.readers as readers

    def broken(page: object) -> list[object]:
        raise ValueError("flux endommagé")

    monkeypatch.setattr(readers, "find_tables", broken)
    with caplog.at_level(logging.WARNING, logger="ingest.readers"):
        lines = [r.text for r in read_pdf_bytes("guide.pdf", report)]
    assert "tableaux de la page 1 illisibles" in caplog.text and "texte pypdf conservé" in caplog.text
    assert any("12 345" in t for t in lines) and not any("\t" in t for t in lines)


def test_running_lines_need_three_pages_and_most_of_them() -> None:
    pages = [["Titre courant", "Texte."], ["Titre courant", "Suite."]]
    assert drop_running_lines(pages) == pages  # two pages are too few to tell
    body = ["Le CEP est gratuit.", "Il est confidentiel.", "Il est personnalisé.", "Cinq opérateurs.", "Fin."]
    pages = [["Titre courant", text, "", f"Page {i} / 5"] for i, text in enumerate(body, start=1)]
    assert drop_running_lines(pages) == [[text, ""] for text in body]
    pages = [[f"Article {n}", text] for n, text in zip((4, 9, 10, 15, 21), body, strict=True)]
    assert drop_running_lines(pages) == pages  # same pattern on every page, but the number is no page number
    pages = [["Rapport 2023", text, f"{i + 2}"] for i, text in enumerate(body, start=1)]  # printed: page + 2
    assert drop_running_lines(pages) == [[text] for text in body]


def cells(row: str) -> str:
    return "\t".join(" ".join(c.split()) for c in row.split("\t"))


@pytest.mark.skipif(not REPORT.with_suffix(".pdf").is_file(), reason="rapport PDF de test absent")
def test_the_2023_report_pdf_gives_the_table_rows_of_its_text_version() -> None:
    text = REPORT.with_suffix(".txt").read_text(encoding="utf-8").splitlines()
    toc = text.index("Table des matières")
    toc_end = next(i for i in range(toc + 1, len(text)) if text[i].strip() and "\t" not in text[i])
    rows = [cells(t) for i, t in enumerate(text) if "\t" in t and not toc < i < toc_end]  # the contents aside
    assert len(rows) >= 50
    raw: list[RawLine] = read_pdf_bytes(REPORT.name + ".pdf", REPORT.with_suffix(".pdf").read_bytes())
    got = {cells(r.text) for r in raw if "\t" in r.text}
    found = sum(row in got for row in rows)
    assert found >= 0.9 * len(rows), f"{found}/{len(rows)} lignes de tableau retrouvées"
    assert not any("Rapport annuel 2023 — CEP Occitanie" in r.text for r in raw)
    assert not any(re.fullmatch(r"Page \d+ / \d+", r.text.strip()) for r in raw)


@pytest.mark.skipif(not REPORT.with_suffix(".pdf").is_file(), reason="rapport PDF de test absent")
def test_the_2023_report_pdf_has_the_sections_of_its_text_version(tmp_path) -> None:
    """Paragraphs stand apart and the dotted contents are read: the PDF's headings give the same sections."""
    import shutil

    from ingest.corpus import load_corpus

    sections = []
    for suffix in (".txt", ".pdf"):
        folder = tmp_path / suffix[1:]
        folder.mkdir()
        shutil.copy(REPORT.with_suffix(suffix), folder)
        doc = next(iter(load_corpus(folder).documents.values()))
        assert doc.info.year == 2023
        sections.append({li.section for li in doc.lines if li.section})
    text, pdf = sections
    assert "IV › A › 2. Le nombre d'entrées en CEP par opérateur" in pdf
    assert len(text & pdf) >= 0.9 * len(text)


def test_a_table_lost_in_the_pypdf_text_is_placed_from_the_layout(
    report: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ingest.readers as readers

    monkeypatch.setattr(readers, "splice_tables", lambda lines, tables: None)  # pypdf's order gave it away
    lines = [r.text for r in read_pdf_bytes("guide.pdf", report) if r.text]
    at = lines.index(HEADER_ROW)
    assert lines[at : at + 1 + len(ROWS)] == [HEADER_ROW, *ROWS]
    assert lines[at - 1] == "Le tableau suivant donne les entrées en CEP par opérateur."
    assert lines[at + 1 + len(ROWS)] == "Les chiffres viennent des opérateurs."
    assert not any(RUNNING_HEADER in t for t in lines)
