"""The question pipeline on a tiny corpus: passage answers with citations, abstention, bad input, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.evaluation import unfaithful_numbers
from assistant.pipeline import Assistant
from assistant.settings import Settings
from index.encoders import HashEncoder


@pytest.fixture()
def assistant(settings: Settings, fake_encoder: HashEncoder) -> Assistant:
    return Assistant.load(settings, encoder=fake_encoder)


def test_passage_answer_quotes_the_document(assistant: Assistant) -> None:
    answer = assistant.ask("Le conseil en évolution professionnelle est-il gratuit ?", qid="q1")
    assert answer.id == "q1"
    assert answer.intent == "passage"
    assert "gratuit" in answer.text
    first = answer.citations[0]
    assert first.document == "rapport-test.txt"
    assert first.section == "I › A"
    assert first.page == 2
    assert first.lines is not None
    assert "**gratuit**" in first.quote  # verbatim, markup kept
    assert "gratuit" in first.highlight
    assert answer.latency_ms > 0


def test_answer_numbers_stand_in_the_cited_quotes(assistant: Assistant) -> None:
    answer = assistant.ask("Combien d'entrées en CEP Pôle Emploi a-t-il enregistré en Occitanie ?")
    assert answer.citations
    assert not unfaithful_numbers(answer.to_dict())


def test_unrelated_question_abstains_with_leads(assistant: Assistant) -> None:
    answer = assistant.ask("Quelle est la météo à Lisbonne demain matin ?")
    assert answer.intent == "abstain"
    assert "ne permettent pas" in answer.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [("", "vide"), ("   ", "vide"), ("x" * 20_000, "trop longue"), ("🙂🙂", "aucun mot")],
)
def test_bad_input_gets_a_french_message(assistant: Assistant, question: str, expected: str) -> None:
    answer = assistant.ask(question)
    assert answer.intent == "abstain"
    assert expected in answer.message
    assert answer.text == answer.message


def test_answer_record_contract(assistant: Assistant) -> None:
    d = assistant.ask("Qui délivre le conseil aux cadres ?", qid="x").to_dict()
    assert set(d) >= {"id", "question", "intent", "text", "operators", "figure", "citations", "latency_ms"}
    c = d["citations"][0]
    assert set(c) >= {"document", "title", "section", "page", "lines", "quote"}
    json.dumps(d)


def test_cli_batch_keeps_ids(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("CEP_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("CEP_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("CEP_MODEL", "hash-fake")
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "a", "question": "Le CEP est-il gratuit ?"}\nnot json\n{"id": "b", "question": ""}\n', encoding="utf-8"
    )
    assert main(["batch", str(questions)]) == 1  # exit status 1: some lines got no answer
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a["id"] for a in out] == ["a", "b"]
    assert out[1]["intent"] == "abstain"


def test_cli_reports_errors_in_french(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("CEP_CORPUS_DIR", str(tmp_path / "absent"))
    monkeypatch.setenv("CEP_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("CEP_MODEL", "hash-fake")
    assert main(["ask", "bonjour"]) == 2
    assert "introuvable" in capsys.readouterr().err


CEP_GUIDE = """Guide du conseil

I. Le service

Le conseil en évolution professionnelle est un service gratuit pour toute personne active.
Un conseiller accompagne chaque bénéficiaire pas à pas.

Le second niveau de conseil doit permettre au bénéficiaire :

- de formaliser son projet d'évolution,
- d'élaborer une stratégie de mise en œuvre,
- de suivre un parcours de formation.
"""

SURVEY = """Enquête sur le conseil

Un conseil en évolution professionnelle est réussi lorsque le bénéficiaire est satisfait de son parcours.
"""


@pytest.fixture()
def two_documents(tmp_path: Path, fake_encoder: HashEncoder) -> Assistant:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "guide.txt").write_text(CEP_GUIDE, encoding="utf-8")
    (folder / "enquete.txt").write_text(SURVEY, encoding="utf-8")
    settings = Settings(corpus_dir=folder, index_dir=tmp_path / "i", data_dir=tmp_path / "d", model_name="hash-fake")
    return Assistant.load(settings, encoder=fake_encoder)


def quoted(text: str) -> str:
    return " ".join(text.split("« ", 1)[1].rsplit(" »", 1)[0].split())


def test_the_answer_quotes_one_passage_never_two_documents(two_documents: Assistant) -> None:
    answer = two_documents.ask("c quoi le conseil en évolution professionnelle ? c'est payant ?")
    assert answer.intent == "passage"
    assert quoted(answer.text) in " ".join(answer.citations[0].quote.split())
    assert "réussi" not in answer.text  # the survey's sentence answers nothing here


def test_a_sentence_announcing_a_list_is_quoted_with_its_items(two_documents: Assistant) -> None:
    answer = two_documents.ask("Que doit permettre le second niveau de conseil au bénéficiaire ?")
    text = quoted(answer.text)
    assert text.startswith("Le second niveau de conseil doit permettre au bénéficiaire :")
    assert "d'élaborer une stratégie de mise en œuvre" in text and "de suivre un parcours de formation." in text


def test_citations_are_what_retrieval_found_and_highlight_whole_sentences(two_documents: Assistant) -> None:
    question = "Un conseiller accompagne-t-il le bénéficiaire ?"
    retrieval = two_documents.retrieve(question)
    answer = two_documents.ask(question)
    assert {c.chunk_id for c in answer.citations[:3]} == {h.chunk.id for h in retrieval.hits[:3]}
    for c in answer.citations:
        assert c.highlight == "" or (c.highlight in c.quote and len(c.highlight.split()) >= 4)
