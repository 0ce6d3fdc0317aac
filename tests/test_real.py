"""Integration: the built-in corpus with the real embedding model (marked `real`, run in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluation import read_jsonl, score, unfaithful_numbers
from assistant.pipeline import Assistant
from tests.conftest import SHARED_EVAL

pytestmark = pytest.mark.real


@pytest.fixture(scope="session")
def real(real_assistant: Assistant) -> Assistant:
    return real_assistant


def test_corpus_reads_both_documents(real: Assistant) -> None:
    assert set(real.corpus.documents) == {
        "rapport-annuel-cep-occitanie-2021.txt",
        "enquete-cheops-cap-emploi-cep-cpf.txt",
    }
    assert not real.corpus.errors
    assert real.index.dense.dim == 384


def test_sections_carry_the_report_structure(real: Assistant) -> None:
    doc = real.corpus.documents["rapport-annuel-cep-occitanie-2021.txt"]
    line = next(li for li in doc.lines if "Pôle Emploi a enregistré **175 837**" in li.text)
    assert line.section == "IV › D › 5. Le Pôle Emploi (données DGEFP)"
    assert line.page == 116


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Le CEP est-il gratuit ?", "gratuit"),
        ("qu'est ce que la plateforme agora", "Caisse des Dépôts"),
        ("Quels sont les deux niveaux du conseil en évolution professionnelle ?", "accompagnement personnalisé"),
        ("kit CEP de CHEOPS pour former les conseillers", "kit"),
    ],
)
def test_passages_are_found_and_cited(real: Assistant, question: str, expected: str) -> None:
    answer = real.ask(question)
    assert answer.intent in ("passage", "figure", "routing")
    assert any(expected.lower() in c.quote.lower() for c in answer.citations[:3])
    assert not unfaithful_numbers(answer.to_dict())


def test_what_is_the_cep_is_answered_by_its_definition(real: Assistant) -> None:
    """Many passages spell CEP out (a slogan among them); the one that also says what it is answers."""
    for question in ("Qu'est-ce que le CEP ?", "c quoi le cep"):
        answer = real.ask(question)
        assert answer.intent == "passage"
        assert "(CEP) est un service d'accompagnement gratuit" in answer.citations[0].quote


def test_off_topic_question_abstains(real: Assistant) -> None:
    assert real.ask("Quel temps fera-t-il à Toulouse ce week-end ?").intent == "abstain"


@pytest.mark.skipif(not SHARED_EVAL.exists(), reason="jeu de développement absent (../shared)")
def test_development_set_quality(real: Assistant) -> None:
    gold = read_jsonl(Path(SHARED_EVAL))
    answers = {g["id"]: real.ask(g["question"], qid=g["id"]).to_dict() for g in gold}
    report = score(gold, answers)
    kinds = report["kinds"]
    passage = kinds["passage"]
    assert passage["cited"] / passage["n"] >= 0.85
    assert report["faithfulness_violations"] == 0
    in_scope = sum(k["n"] for name, k in kinds.items() if name != "out_of_scope")
    wrongly_abstained = sum(k["abstain"] for name, k in kinds.items() if name != "out_of_scope")
    assert wrongly_abstained / in_scope <= 0.05
    assert kinds["out_of_scope"]["abstain"] >= 3


def _shown(answer) -> list[float]:
    f = answer.figure
    if f is None:
        return []
    return [f.value] if f.value is not None else [c.value for c in f.candidates]


def test_figure_follow_ups_keep_the_context(real: Assistant) -> None:
    """ "et en 2020 ?" and "et pour l'APEC ?" reuse the previous figure question with the slot they change."""
    first = real.ask("Entrées CEP Pôle emploi Occitanie 2021 ?")
    assert 175837 in _shown(first)
    year = real.ask("et en 2020 ?", previous=first)
    assert 151345 in _shown(year)
    operator = real.ask("et pour l'APEC ?", previous=year)
    assert 5900 in _shown(operator)  # still 2020: the APEC's 2020 entries
    alone = real.ask("et en 2020 ?")  # out of a conversation: which figure?
    assert alone.intent == "abstain" and not _shown(alone)


def test_absent_figures_are_said_absent(real: Assistant) -> None:
    for question in ("Entrées CEP Pôle emploi Occitanie 2022 ?", "Combien de bénéficiaires EVA en Bretagne en 2021 ?"):
        answer = real.ask(question)
        assert answer.intent == "abstain" and (answer.figure is None or answer.figure.value is None)
        assert "ne donnent pas" in answer.text
