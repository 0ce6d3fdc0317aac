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
    assert main(["batch", str(questions)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a["id"] for a in out] == ["a", "b"]
    assert out[1]["intent"] == "abstain"


def test_cli_reports_errors_in_french(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("CEP_CORPUS_DIR", str(tmp_path / "absent"))
    monkeypatch.setenv("CEP_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("CEP_MODEL", "hash-fake")
    assert main(["ask", "bonjour"]) == 2
    assert "introuvable" in capsys.readouterr().err
