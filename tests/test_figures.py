"""The figure engine on a tiny corpus: answers, conflicts, abstentions, faithfulness."""

from __future__ import annotations

import json
from pathlib import Path

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


def engine_for(tmp_path_factory, text: str) -> FigureEngine:
    """A figure engine over one document made in a temporary folder."""
    folder = tmp_path_factory.mktemp("docs")
    (folder / "rapport.txt").write_text(text, encoding="utf-8")
    corpus = load_corpus(folder)
    return FigureEngine(extract_facts(corpus, KNOWLEDGE_DIR), corpus, KNOWLEDGE_DIR)


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> FigureEngine:
    return engine_for(tmp_path_factory, DOC)


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
    assert a is not None and a.intent == "figure"
    # Equally supported: no single value is chosen, both are given with their sources.
    values = {*(f.value for f in a.alternatives), *([a.figure.value] if a.figure else [])}
    assert values == {72700, 73000}
    assert "72 700" in a.text and "73 000" in a.text
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


# --- general agreement rules: unit asked, metric asked, conflicts of one measure only -------------

AGREEMENT_DOC = """Rapport 2021 du CEP en Occitanie

I. Activité

A. Réseau EVA

En 2021, en Occitanie, le réseau EVA a réalisé une campagne de prospection auprès de 900 entreprises.

En 2021, en Occitanie, le réseau EVA a enregistré 13 670 bénéficiaires entrés en CEP.

En Occitanie, 62,59 % de ces bénéficiaires sont des femmes et 37,41 % des hommes.

En 3 ans, le réseau EVA a doublé ses sites.

La moyenne d'âge en Occitanie est de 38 ans et 21,79 % des bénéficiaires ont entre 16 et 25 ans.

B. Démissionnaires

Nombre de clients ayant bénéficié d'un CEP pour préparer le dispositif démissionnaires, par région :

\tEn volume
Normandie\t170
Bretagne\t195

C. Cap emploi

En 2021, en Occitanie, Cap emploi a enregistré 941 entrées en CEP de salariés.

En 2021, en Occitanie, Cap emploi a enregistré 5 494 sorties du CEP de salariés.
"""


@pytest.fixture(scope="module")
def agreement(tmp_path_factory) -> FigureEngine:
    return engine_for(tmp_path_factory, AGREEMENT_DOC)


def test_metric_words_agree_entrees_entres(agreement: FigureEngine) -> None:
    # "entrées" asked, "entrés en CEP" stated: the metric wins over a rare word shared with another number
    a = agreement.answer("Combien d'entrées en CEP le Réseau EVA a-t-il réalisées en Occitanie en 2021 ?", [])
    assert a is not None and a.figure is not None and a.figure.value == 13670


def test_unit_asked_is_an_age(agreement: FigureEngine) -> None:
    a = agreement.answer("Quelle est la moyenne d'âge des bénéficiaires du réseau EVA en Occitanie ?", [])
    assert a is not None and a.figure is not None
    assert (a.figure.value, a.figure.unit) == (38, "years")  # not 21,79 %, not "en 3 ans"


def test_other_metric_group_is_not_an_answer(agreement: FigureEngine) -> None:
    a = agreement.answer("Réseau EVA Occitanie 2021 : part des hommes ?", [])
    assert a is not None and a.figure is not None and a.figure.value == 37.41
    assert not a.alternatives  # 62,59 % measures women: not a conflicting value


def test_table_of_a_narrower_population_abstains(agreement: FigureEngine) -> None:
    # The table counts clients preparing a resignation, not the beneficiaries asked for.
    a = agreement.answer("Combien de bénéficiaires l'APEC a-t-elle accompagnés en Normandie ?", [])
    assert a is None or (a.intent == "abstain" and a.figure is None)


def test_conflict_only_between_facts_of_the_same_measure(agreement: FigureEngine) -> None:
    a = agreement.answer("Cap emploi Occitanie : nombre d'entrées en CEP des salariés ?", [])
    assert a is not None and a.figure is not None and a.figure.value == 941
    assert a.alternatives == []  # 5 494 counts exits


def test_metric_groups_read_from_the_lexicon(agreement: FigureEngine) -> None:
    groups = agreement.metrics_in
    assert groups("entrés en CEP") == groups("entrées") != frozenset()
    assert groups("ont entre 25 et 44 ans") == frozenset()  # the preposition, not "entrés"
    assert groups("sortants") != groups("entrants")


# --- held-out questions through the real pipeline --------------------------------------------------

HELDOUT = Path(__file__).parent / "data" / "figures_heldout.jsonl"
# Measured with scripts/eval_figures.py --pipeline (2026-11-22): figure strict 0.697, wrong answers
# (a value that is not the gold, figure and out-of-scope items) 11/91 = 0.121 (it was 0.209 before
# ties were refused and counted objects compared). The product target is wrong <= 0.05: it is
# asserted separately and expected to fail until the engine gets there.
HELDOUT_MIN_STRICT = 0.65
HELDOUT_MAX_WRONG = 0.15
HELDOUT_TARGET_WRONG = 0.05


def test_heldout_file_is_well_formed() -> None:
    items = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    figures = [g for g in items if g["kind"] == "figure"]
    assert len(figures) >= 60 and len(items) - len(figures) >= 12
    docs = Path(KNOWLEDGE_DIR) / "documents"
    for g in figures:
        line = (docs / g["source_file"]).read_text(encoding="utf-8").splitlines()[g["line"] - 1]
        assert g["evidence"] in line, g["id"]


def _heldout_rates(assistant) -> tuple[float, float]:
    """Figure strict rate and the share of all items answered with a wrong value."""
    from assistant.evaluation import score

    gold = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    answers = {g["id"]: {**assistant.ask(g["question"], qid=g["id"]).to_dict(), "id": g["id"]} for g in gold}
    kinds = score(gold, answers)["kinds"]
    fig, oos = kinds["figure"], kinds["out_of_scope"]
    return fig["ok"] / fig["n"], (fig["wrong"] + oos["wrong"]) / (fig["n"] + oos["n"])


@pytest.fixture(scope="module")
def heldout_rates(real_assistant) -> tuple[float, float]:
    return _heldout_rates(real_assistant)


@pytest.mark.real
def test_heldout_figures_with_real_assistant(heldout_rates: tuple[float, float]) -> None:
    strict, wrong = heldout_rates
    assert strict >= HELDOUT_MIN_STRICT
    assert wrong <= HELDOUT_MAX_WRONG


@pytest.mark.real
@pytest.mark.xfail(reason="held-out wrong rate is 0.12, the target is 0.05 (see HELDOUT_* above)", strict=False)
def test_heldout_wrong_rate_target(heldout_rates: tuple[float, float]) -> None:
    assert heldout_rates[1] <= HELDOUT_TARGET_WRONG


def test_what_a_count_question_counts_is_the_word_after_the_number() -> None:
    from assistant.figures import _asked_object, _counted_after

    sentence = "Le réseau, c'est **77 agences** réparties au sein de **8 Directions Territoriales**."
    assert _asked_object("Combien d'agences compte le réseau ?") == _counted_after(sentence, "77")
    assert _asked_object("Combien d'agences compte le réseau ?") != _counted_after(sentence, "8")
    assert _asked_object("Quelle part des bénéficiaires ?") == ""
