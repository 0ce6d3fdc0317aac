"""Contact questions: only the channels the documents state, or an honest "not in the documents"."""

from __future__ import annotations

import pytest

from assistant.contacts import ContactDesk
from assistant.settings import Settings
from ingest.corpus import load_corpus


@pytest.fixture(scope="module")
def desk() -> ContactDesk:
    settings = Settings()
    return ContactDesk(settings.knowledge_dir, load_corpus(settings.corpus_dir))


def test_a_stated_channel_is_given_with_its_source(desk: ContactDesk) -> None:
    answer = desk.answer("site internet du reseau eva ?")
    assert answer is not None and answer.intent == "passage"
    assert "mon-cep.org" in answer.text
    assert any("mon-cep.org" in c.quote for c in answer.citations)


def test_asking_how_to_reach_an_operator_gives_every_stated_channel(desk: ContactDesk) -> None:
    answer = desk.answer("comment contacter le reseau eva")
    both = desk.answer("quand joindre le reseau eva ? quels horaires ?")
    assert both is not None and "8h à 19h" in both.text and "mon-cep.org" not in both.text
    assert answer is not None and answer.intent == "passage"
    assert "09 72 01 02 03" in answer.text and "mon-cep.org" in answer.text


def test_a_channel_the_documents_do_not_state_is_not_invented(desk: ContactDesk) -> None:
    answer = desk.answer("c quoi l'adresse de la mission locale de Montpellier ?")
    assert answer is not None and answer.intent == "abstain"
    assert "ne donnent pas l'adresse" in answer.text


@pytest.mark.parametrize(
    "question",
    ["Combien de sites APEC en Occitanie ?", "Qu'est-ce que le CEP ?", "Quel est le numéro de téléphone ?"],
)
def test_other_questions_are_left_alone(desk: ContactDesk, question: str) -> None:
    assert desk.answer(question) is None


@pytest.mark.parametrize(
    ("question", "place"),
    [
        ("ya une apec a perpignan ?", "à Perpignan"),
        ("Y a-t-il un Cap emploi en Lozère ?", "en Lozère"),
        ("Pôle emploi a-t-il une agence à Rodez ?", "à Rodez"),
    ],
)
def test_asking_whether_an_operator_is_at_a_place_asks_where_it_is(
    desk: ContactDesk, question: str, place: str
) -> None:
    answer = desk.answer(question)
    assert answer is not None and answer.intent == "abstain"
    assert "ne donnent pas l'adresse" in answer.text and place in answer.text


def test_an_operator_at_a_place_without_asking_where_is_left_alone(desk: ContactDesk) -> None:
    assert desk.answer("Les agences Pôle emploi accompagnent-elles les demandeurs d'emploi handicapés ?") is None


def test_the_operator_is_read_from_the_question_s_one_reading(desk: ContactDesk) -> None:
    """The desk reads the operators of the question's reading: a typo in the name (« pole emlpoi »), the service
    named in full (« conseil en évolution professionnelle ») not taken for Réseau EVA (alias « évolution
    professionnelle »)."""
    kinds, ops = desk.asked("site internet de pole emlpoi ?")
    assert [op.id for op in ops] == ["pole_emploi"] and [k.name for k in kinds] == ["site"]
    assert desk.asked("site internet du conseil en évolution professionnelle ?") == ([], [])
