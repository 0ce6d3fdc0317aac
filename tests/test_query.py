"""One reading of a question (assistant/query.py): spellings, shorthand, search words and shape, made once."""

from __future__ import annotations

import tomllib

import pytest

from assistant.normalize import load_lexicon
from assistant.pipeline import Assistant
from assistant.query import read_query
from assistant.settings import KNOWLEDGE_DIR, Settings
from index.encoders import HashEncoder


def test_a_kiosk_question_is_read_with_its_spellings_and_shorthand() -> None:
    q = read_query("cb de jeunes en CEP a la ML ?", load_lexicon(KNOWLEDGE_DIR))
    assert q.text == "cb de jeunes en CEP a la ML ?"
    assert q.respelled == "combien de jeunes en CEP a la ML ?"
    assert q.normalized == "combien de jeunes en CEP conseil en évolution professionnelle a la Mission Locale ?"
    assert q.asked == "combien de jeunes en CEP a la Mission Locale ?"
    assert "conseil" in q.search.split() and "conseil" not in q.own.split()  # the lexicon's additions, apart
    assert q.definition is None


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("Qu'est-ce que CHEOPS ?", "cheops"),
        ("c quoi le CEP", "cep"),
        ("la garantie jeunes c'est quoi ?", "garantie jeunes"),
    ],
)
def test_a_definition_question_names_its_term(question: str, term: str) -> None:
    assert read_query(question, load_lexicon(KNOWLEDGE_DIR)).definition == term


def test_kiosk_spellings_are_one_table_read_by_every_part() -> None:
    """« cb » is written once (knowledge/lexicon.toml [spellings]); the figure reader reads that table."""
    figures = tomllib.loads((KNOWLEDGE_DIR / "figure_lexicon.toml").read_text(encoding="utf-8"))
    words = tomllib.loads((KNOWLEDGE_DIR / "lexicon.toml").read_text(encoding="utf-8"))
    assert "spellings" not in figures.get("question", {})
    assert "cb" in words["spellings"] and "cb" not in words["shorthand"]


def test_retrieval_reads_the_reading_or_the_text_alike(settings: Settings, fake_encoder: HashEncoder) -> None:
    assistant = Assistant.load(settings, encoder=fake_encoder)
    question = "Le CEP est-il gratuit ?"
    by_text = assistant.retrieve(question)
    by_query = assistant.retrieve(read_query(question, assistant.lexicon))
    assert [h.chunk.id for h in by_text.hits] == [h.chunk.id for h in by_query.hits]
    assert by_text.query == by_query.query and by_text.dense_query == question
