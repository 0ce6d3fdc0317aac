"""Citations as JSON: quotes without Markdown markers, table rows as cells with their header, chunk ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.citations import readable
from assistant.evaluation import numbers_in
from assistant.pipeline import Assistant
from assistant.records import Citation
from assistant.settings import Settings
from index.encoders import HashEncoder
from ingest.corpus import load_corpus
from ingest.records import is_header_row, plain_quote, table_cells, table_header


def test_plain_quote_drops_bold_and_heading_markers() -> None:
    assert plain_quote("## Le **CEP** est __gratuit__") == "Le CEP est gratuit"
    assert plain_quote("Titre\n# Partie 1\nTexte #3") == "Titre\nPartie 1\nTexte #3"
    assert plain_quote("Pôle Emploi\t**175 837**\t170 167") == "Pôle Emploi\t175 837\t170 167"  # TABs kept
    assert plain_quote("5 * 3 = 15 *") == "5 * 3 = 15 *"  # a lone star is text


@pytest.mark.parametrize(
    "raw",
    [
        "Pour l'Occitanie, en 2021, **89,9%** des jeunes sont satisfaits.",
        "En 2021, **638** candidatures ont été certifiées.",
        "**2021**, **89,9 %** et **12** ateliers",
        "Moins de **5%** des bénéficiaires, **1 284** rendez-vous.",
    ],
)
def test_json_quote_keeps_every_number_a_strict_reader_finds(raw: str) -> None:
    plain = plain_quote(raw, keep_numbers_apart=True)
    assert numbers_in(raw) <= numbers_in(plain)  # no two numbers run together once the markers are gone
    assert plain.count("**") <= raw.count("**")


def test_json_quote_drops_markers_that_separate_no_numbers() -> None:
    assert plain_quote("Moins de **5%** des bénéficiaires", keep_numbers_apart=True) == "Moins de 5% des bénéficiaires"
    assert plain_quote("en 2021, **89,9%** des", keep_numbers_apart=True) == "en 2021, **89,9%** des"


def test_header_rows_name_columns() -> None:
    assert is_header_row("\tEntrants\tSortants\tBénéficiaires*")
    assert is_header_row("Nombre d'entrées\t2020\t2021")  # years name columns
    assert not is_header_row("Pôle Emploi\t175 837\t170 167")
    assert not is_header_row("Une phrase sans cellule")


def test_table_cells_with_header_and_without_table() -> None:
    row = "Pôle Emploi\t175 837\t170 167\t310 985"
    header = "\tEntrants\tSortants\tBénéficiaires*"
    assert table_cells(row, header) == "Entrants | Sortants | Bénéficiaires*\nPôle Emploi | 175 837 | 170 167 | 310 985"
    assert table_cells(f"{header}\n{row}", header) == table_cells(f"{header}\n{row}")  # header not repeated
    assert table_cells("Une phrase **en gras**.") == ""
    assert "6 158 43 626" not in table_cells("Nombre d'entrées\t6 158\t43 626\t175 837")


def test_table_header_is_the_top_row_above_the_quote() -> None:
    lines = {1: "Titre", 2: "\tEntrants\tSortants", 3: "Pôle Emploi\t12\t11", 4: "APEC\t3\t2", 5: ""}
    assert table_header(lines.get, 4) == "\tEntrants\tSortants"
    assert table_header(lines.get, 2) == ""  # the quote starts with the header
    assert table_header(lines.get, 1) == ""  # not a table row
    numbers_only = {1: "Pôle Emploi\t12\t11", 2: "APEC\t3\t2"}
    assert table_header(numbers_only.get, 2) == ""  # no row names the columns


def test_readable_quote_on_one_line() -> None:
    assert readable("Les entrées :\nPôle Emploi\t**175 837**\t170 167\nAPEC\t6 158\t5 900") == (
        "Les entrées : ; Pôle Emploi | 175 837 | 170 167 ; APEC | 6 158 | 5 900"
    )
    assert readable("Le CEP est\n**gratuit**.") == "Le CEP est gratuit."


def test_corpus_citation_of_a_row_has_its_header_cells_and_chunk(corpus_dir: Path) -> None:
    corpus = load_corpus(corpus_dir)
    doc = corpus.documents["rapport-test.txt"]
    row = next(li.number for li in doc.lines if li.text.startswith("Pôle Emploi\t"))
    cit = corpus.citation("rapport-test.txt", row)
    assert cit.quote == "Pôle Emploi\t12 345\t11 000"  # verbatim
    assert cit.cells == "Entrants | Sortants\nPôle Emploi | 12 345 | 11 000"
    holder = next(c for c in corpus.chunks if c.lines and c.lines[0] <= row <= c.lines[1])
    assert cit.chunk_id == holder.id
    data = cit.to_dict()
    assert data["chunk_id"] == holder.id and data["cells"] == cit.cells
    assert Citation(**data).chunk_id == holder.id  # a citation rebuilt from its JSON keeps every field


def test_every_citation_of_a_line_has_a_chunk(corpus_dir: Path) -> None:
    corpus = load_corpus(corpus_dir)
    for name, doc in corpus.documents.items():
        for li in doc.lines:
            if li.text.strip() and not li.in_toc:  # the table of contents is not a passage
                assert corpus.citation(name, li.number).chunk_id, (name, li.number, li.text)


def test_json_answers_have_plain_quotes_and_chunk_ids(settings: Settings, fake_encoder: HashEncoder) -> None:
    assistant = Assistant.load(settings, encoder=fake_encoder)
    for question in (
        "Le conseil en évolution professionnelle est-il gratuit ?",
        "Combien d'entrées en CEP Pôle Emploi a-t-il enregistré en Occitanie ?",
        "Combien de sortants chez Pôle Emploi ?",
    ):
        answer = assistant.ask(question).to_dict()
        assert answer["citations"], question
        for c in answer["citations"]:
            assert c["chunk_id"], (question, c)
            assert "**" not in c["quote"] and "**" not in c["highlight"] and "**" not in c["cells"]
            assert not c["quote"].lstrip().startswith("#")
        assert "**" not in answer["text"]
