"""Ingest: sections and pages, chunk ids, tables, PDF pages, and every kind of unreadable file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import DocumentError
from ingest.corpus import load_corpus
from ingest.readers import read_file, read_lines
from ingest.sections import annotate


def make_pdf(path: Path, pages: list[str], password: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    if password:
        pdf.set_encryption(owner_password=password, user_password=password)
    pdf.output(str(path))
    return path


def test_sections_and_toc_pages(corpus_dir: Path) -> None:
    lines = annotate(read_file(corpus_dir / "rapport-test.txt"))
    by_text = {li.text: li for li in lines}
    fact = by_text["En 2021, Pôle Emploi a enregistré **12 345** entrées en CEP en Occitanie."]
    assert fact.section == "II › 1. Le Pôle Emploi"
    assert fact.page == 3
    assert fact.context == "II. Les chiffres ; 1. Le Pôle Emploi"
    assert by_text["Il est délivré par cinq opérateurs, dont l'APEC pour les cadres."].section == "I › A"
    assert all(li.in_toc for li in lines if li.text.startswith("A. Le service\t"))


def test_chunks_have_line_spans_and_stable_ids(corpus_dir: Path) -> None:
    first = load_corpus(corpus_dir)
    second = load_corpus(corpus_dir)
    assert [c.id for c in first.chunks] == [c.id for c in second.chunks]
    table = next(c for c in first.chunks if "Entrants" in c.quote)
    assert "Pôle Emploi\t12 345\t11 000" in table.quote  # the row stays with its header
    assert table.lines is not None
    lines = (corpus_dir / "rapport-test.txt").read_text(encoding="utf-8").splitlines()
    a, b = table.lines
    assert table.quote == "\n".join(lines[a - 1 : b]).strip("\n")  # the quote is verbatim


def test_toc_is_not_a_chunk(corpus_dir: Path) -> None:
    corpus = load_corpus(corpus_dir)
    assert not any("Table des matières" in c.quote for c in corpus.chunks)


def test_pdf_pages_reach_the_citation(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    make_pdf(folder / "guide.pdf", ["Introduction au guide.", "", "Le bilan de compétences dure 24 heures."])
    corpus = load_corpus(folder)
    assert not corpus.errors
    chunk = next(c for c in corpus.chunks if "24 heures" in c.text)
    assert chunk.page == 3  # page 2 has no text and is skipped, numbering is kept
    assert chunk.citation().page == 3


def test_bad_files_are_reported_and_the_rest_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "vide.pdf").write_bytes(b"")
    (folder / "corrompu.pdf").write_bytes(b"%PDF-1.4\n garbage \x00\x01 not a pdf")
    make_pdf(folder / "chiffre.pdf", ["Secret."], password="motdepasse")
    make_pdf(folder / "scan.pdf", [""])
    (folder / "latin1.txt").write_bytes("Le conseiller reçoit à Béziers.".encode("latin-1"))
    (folder / "bon.txt").write_text("Le CEP est gratuit.", encoding="utf-8")
    corpus = load_corpus(folder)
    failed = {e.name: e.reason for e in corpus.errors}
    assert set(failed) == {"vide.pdf", "corrompu.pdf", "chiffre.pdf", "scan.pdf"}
    assert "vide" in failed["vide.pdf"]
    assert "corrompu" in failed["corrompu.pdf"]
    assert "mot de passe" in failed["chiffre.pdf"]
    assert "scann" in failed["scan.pdf"]
    assert {c.document for c in corpus.chunks} == {"latin1.txt", "bon.txt"}
    assert any("Béziers" in c.text for c in corpus.chunks)  # detected encoding, converted


def test_wrong_extension_is_refused_in_french() -> None:
    with pytest.raises(DocumentError, match="non pris en charge"):
        read_lines("notes.docx", b"PK\x03\x04")


def test_undecodable_text_is_refused_in_french() -> None:
    with pytest.raises(DocumentError) as err:
        read_lines("binaire.txt", bytes(range(256)) * 4)
    assert "binaire.txt" in str(err.value)


def test_pdf_lines_wrapped_mid_sentence_are_joined(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    sentence = (
        "Le conseil en evolution professionnelle accompagne gratuitement toute personne qui souhaite faire le "
        "point sur sa situation professionnelle et construire un projet d'evolution."
    )
    make_pdf(folder / "guide.pdf", [f"Présentation\n\n{sentence}\n\n- un premier point,\n- un second point."])
    raw = read_file(folder / "guide.pdf")
    assert any(r.text.strip() == sentence for r in raw)  # the PDF wrapped it; ingest joins it back
    assert sum(r.text.strip().startswith("- un") for r in raw) == 2  # list items stay apart
    chunk = next(c for c in load_corpus(folder).chunks if "gratuitement" in c.quote)
    assert sentence in chunk.quote and chunk.page == 1


def test_a_list_announced_by_a_colon_is_not_cut_from_its_sentence(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    filler = "\n\n".join(f"Paragraphe {i} sur le conseil en évolution professionnelle." for i in range(10))
    items = "\n".join(f"- l'étape {i} du parcours," for i in range(6))
    text = f"Titre\n\n{filler}\n\nLe second niveau doit permettre au bénéficiaire :\n\n{items}\n"
    (folder / "guide.txt").write_text(text, encoding="utf-8")
    chunks = load_corpus(folder, target_chars=700).chunks
    chunk = next(c for c in chunks if "doit permettre au bénéficiaire :" in c.quote)
    assert "- l'étape 0 du parcours," in chunk.quote and "- l'étape 5 du parcours," in chunk.quote
    assert all(len(c.quote) <= 700 + 200 for c in chunks)


def test_a_paragraph_title_reaches_the_context_of_what_follows(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    text = "I. Annexes\n\nL'organisation du marché national\n\n- 18 opérateurs régionaux,\n- un budget sur 4 ans.\n"
    (folder / "annexe.txt").write_text(text, encoding="utf-8")
    chunk = next(c for c in load_corpus(folder).chunks if "18 opérateurs" in c.quote)
    assert chunk.context == "I. Annexes ; L'organisation du marché national"


def test_an_annex_opened_by_its_label_alone_takes_its_title_from_the_list_of_annexes() -> None:
    from ingest.readers import RawLine

    text = (
        "Annexe 5\n\nBilan CEP 2021 en Occitanie - Réseau Eva\n\nAnnexe 6\n\nArticle de presse :\n\n"
        "ANNEXE 5\n\nbilan\n\n13678 personnes accompagnées\n\nANNEXE 6\n\nLe CEP salariés en 2021.\n"
    )
    lines = annotate([RawLine(i + 1, t) for i, t in enumerate(text.split("\n"))])
    by_text = {li.text: li for li in lines}
    assert by_text["13678 personnes accompagnées"].section == "Annexe 5 Bilan CEP 2021 en Occitanie - Réseau Eva"
    assert by_text["Le CEP salariés en 2021."].section == "Annexe 6"  # "Article de presse :" is no title


def test_justified_pdf_spaces_read_as_one_and_a_report_takes_the_year_of_its_title(tmp_path: Path) -> None:
    """Runs of spaces of a justified PDF line become one ("1  236" is 1 236); a document outside the manifest
    takes the one year its title names as the year of its figures."""
    folder = tmp_path / "docs"
    folder.mkdir()
    make_pdf(
        folder / "rapport.pdf", ["RAPPORT ANNUEL 2023\n\nPole emploi  compte  74  agences  et  1  236  conseillers."]
    )
    (folder / "note.txt").write_text("Note de service\n\nLa permanence est ouverte le mardi.\n", encoding="utf-8")
    raw = read_file(folder / "rapport.pdf")
    assert any(r.text == "Pole emploi compte 74 agences et 1 236 conseillers." for r in raw)
    corpus = load_corpus(folder)
    assert corpus.documents["rapport.pdf"].info.year == 2023
    assert corpus.documents["note.txt"].info.year is None
