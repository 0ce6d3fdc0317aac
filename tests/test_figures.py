"""The figure engine on a tiny corpus: answers, conflicts, abstentions, faithfulness."""

from __future__ import annotations

import pytest

from assistant.figures import FigureEngine, faithful
from assistant.settings import KNOWLEDGE_DIR
from ingest.corpus import load_corpus
from ingest.facts import extract_facts

DOC = """Rapport 2021 de suivi du CEP en Occitanie

I. Activité des opérateurs

A. Pôle emploi

En Occitanie

\tEntrants\tSortants\tBénéficiaires*
Pôle Emploi\t175 837\t170 167\t310 985

En 2021, en Occitanie, Pôle Emploi a enregistré **175 837** entrées en CEP.

B. Missions locales

En Occitanie, 61,82 % des jeunes accompagnés par les Missions Locales sont inscrits au Pôle Emploi.

La durée moyenne d'accompagnement en Mission Locale est de 45 jours.

C. Le territoire

La superficie de l'Occitanie est de 72 700 km².

La superficie de la région couvre, selon l'annexe, 73 000 km².
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> FigureEngine:
    folder = tmp_path_factory.mktemp("docs")
    (folder / "rapport.txt").write_text(DOC, encoding="utf-8")
    corpus = load_corpus(folder)
    return FigureEngine(extract_facts(corpus, KNOWLEDGE_DIR), corpus, KNOWLEDGE_DIR)


def test_recognizes_figure_questions(engine: FigureEngine) -> None:
    assert engine.is_figure_question("Combien d'entrées en CEP chez Pôle emploi ?")
    assert engine.is_figure_question("ca fait combien en %")
    assert engine.is_figure_question("À combien s'établissait le taux de chômage ?")
    assert not engine.is_figure_question("Comment fonctionne le CEP ?")


def test_answers_from_table_and_prose(engine: FigureEngine) -> None:
    a = engine.answer("Combien d'entrées en CEP pour pole emploie en Occitanie en 2021 ?", [])
    assert a is not None and a.intent == "figure"
    assert a.figure is not None and a.figure.value == 175837 and a.figure.display == "175 837"
    assert a.figure.scope == "occitanie" and a.figure.year == 2021
    assert "175 837" in a.citations[0].quote
    assert faithful(a.text, [c.quote for c in a.citations], a.question)


def test_percent_and_typo(engine: FigureEngine) -> None:
    a = engine.answer("mission local : combien de % des jeunes sont inscrits a pole emploi ?", [])
    assert a is not None and a.figure is not None
    assert (a.figure.value, a.figure.unit) == (61.82, "percent")
    d = engine.answer("Quelle est la durée moyenne d'accompagnement en Mission Locale ?", [])
    assert d is not None and d.figure is not None and (d.figure.value, d.figure.unit) == (45, "days")


def test_conflicting_values_show_both(engine: FigureEngine) -> None:
    a = engine.answer("Quelle est la superficie de l'Occitanie en km2 ?", [])
    assert a is not None and a.figure is not None
    values = {a.figure.value, *(f.value for f in a.alternatives)}
    assert values == {72700, 73000}
    quotes = " ".join(c.quote for c in a.citations)
    assert "72 700" in quotes and "73 000" in quotes


def test_missing_year_or_region_abstains(engine: FigureEngine) -> None:
    a = engine.answer("Combien d'entrées en CEP Pôle Emploi a-t-il enregistrées en Occitanie en 2022 ?", [])
    assert a is not None and a.intent == "abstain" and a.figure is None
    assert "2022" in a.text and a.citations
    b = engine.answer("Combien d'entrées en CEP Pôle Emploi a-t-il enregistrées en Bretagne en 2021 ?", [])
    assert b is not None and b.intent == "abstain"


def test_unrelated_question_returns_none(engine: FigureEngine) -> None:
    assert engine.answer("Combien de psychologues du travail à l'APEC ?", []) is None
