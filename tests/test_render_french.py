"""What the chat shows, in French: figures « label — value », plurals, document markup never shown raw."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app import render
from assistant.app.views.common import chrome_css
from assistant.records import Citation, Figure

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize(
    ("value", "display", "unit", "shown"),
    [
        (62.59, "62.59 %", "percent", f"62,59{NBSP}%"),
        (62.59, "62,59 %", "percent", f"62,59{NBSP}%"),
        (1742, "1742", "count", f"1{NNBSP}742"),
        (1742, "1 742", "count", f"1{NNBSP}742"),
        (5933185, "5 933 185", "count", f"5{NNBSP}933{NNBSP}185"),
        (1809087, "1.809.087", "count", f"1{NNBSP}809{NNBSP}087"),
        (72700, "72 700 km²", "km2", f"72{NNBSP}700{NBSP}km²"),
        (450, "450 M€", "meur", f"450{NBSP}M€"),
        (8.5, "8,5/10", "score", "8,5/10"),
        (1, "1 jours", "days", f"1{NBSP}jour"),
        (233, "233 jours", "days", f"233{NBSP}jours"),
        (6158, "", "count", f"6{NNBSP}158"),
        (57, "57", "count", "57"),
        (2020, "1er janvier 2020", "date", "1er janvier 2020"),  # a date keeps its year whole
        (5, "5 mars 2014", "day", "5 mars 2014"),
    ],
)
def test_figures_are_written_the_french_way(value: float, display: str, unit: str, shown: str) -> None:
    assert render.french_figure(value, display, unit) == shown


@pytest.mark.parametrize(
    ("label", "unit", "headline"),
    [
        ("de ces bénéficiaires sont des femmes et", "percent", "Ces bénéficiaires sont des femmes"),
        ("des bénéficiaires du réseau EVA en 2021 étaient", "percent", "Bénéficiaires du réseau EVA en 2021"),
        ("sites d'accueil) et par les", "count", "Sites d'accueil"),
        ("entrées) et", "count", "Entrées"),
        ("), .", "percent", "Part"),
        ("sur", "meur", "Montant"),
        ("- de", "years", "Durée"),
        ("", "count", "Nombre"),
        ("**entrées** en CEP", "count", "Entrées en CEP"),
        ("« Organisme Placement Spécialisé »", "count", "« Organisme Placement Spécialisé »"),
    ],
)
def test_a_figure_headline_names_what_it_counts(label: str, unit: str, headline: str) -> None:
    assert render.figure_label(Figure(10, "10", unit, label)) == headline


def test_headline_is_label_dash_value() -> None:
    figure = Figure(62.59, "62.59 %", "percent", "de ces bénéficiaires sont des femmes et")
    assert render.figure_headline(figure) == f"Ces bénéficiaires sont des femmes — 62,59{NBSP}%"


def test_plurals_from_two() -> None:
    assert render.count_label(0, "passage") == "0 passage"
    assert render.count_label(1, "passage") == "1 passage"
    assert render.count_label(2, "passage") == "2 passages"
    assert render.count_label(1742, "document") == f"1{NNBSP}742 documents"
    assert render.count_label(3, "avis", "avis") == "3 avis"


def test_document_markup_is_removed_never_shown_raw() -> None:
    text = "Pôle Emploi a enregistré **175 837** entrées ; le 1^{er} niveau ; voir <https://www.apec.fr/cadres>."
    plain = render.plain(text)
    assert "**" not in plain and "^{" not in plain and "<" not in plain
    assert "175 837" in plain and "1er niveau" in plain and "https://www.apec.fr/cadres" in plain
    assert "\\*" not in render.answer_markdown(text)
    citation = Citation(
        document="d.txt", title="T", section="", page=None, lines=(1, 1), quote=text, highlight="enregistré **175 837**"
    )
    quote = render.quote_markdown(citation)
    assert "\\*" not in quote and ":orange-background[**" in quote  # bold markup of the highlight only


def test_streamlit_english_is_hidden_or_replaced_in_french() -> None:
    css = chrome_css(30)
    for testid in ("stMainMenu", "stElementToolbar", "InputInstructions", "stDataFrameColumnMenu"):
        assert f'[data-testid="{testid}"]' in css
    for french in ("Aller au contenu principal", "Parcourir", "30 Mo au plus", "Aucun résultat", "Tout sélectionner"):
        assert french in css
    assert "<script" not in css.lower()


def test_an_unreadable_file_is_reported_in_french(tmp_path: Path) -> None:
    from ingest.errors import DocumentError, os_reason
    from ingest.readers import read_file

    with pytest.raises(DocumentError) as missing:
        read_file(tmp_path / "absent.txt")
    assert "fichier ou dossier introuvable" in str(missing.value)
    assert "No such file" not in str(missing.value)
    with pytest.raises(DocumentError) as folder:
        read_file(tmp_path)
    assert "c'est un dossier" in str(folder.value)
    assert os_reason(OSError(9999, "Strange")) == "erreur système 9999"
