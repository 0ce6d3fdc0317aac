"""Is this a routing question? The example bank, the detector fitted on it (fake encoder: exact and
fast; real model: marked `real`), its cache, and statements told without a question."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import KnowledgeError
from assistant.routing import Router
from assistant.routing.detector import bank_vectors, cross_validate
from assistant.routing.engine import EXAMPLES
from assistant.routing.examples import load_examples
from assistant.settings import Settings
from index.encoders import HashEncoder
from ingest.corpus import load_corpus

KNOWLEDGE = Settings().knowledge_dir
# Measured by 5-fold cross-validation on the bank (scripts/eval_routing.py --cv), detector defaults:
# hash-seeded fake encoder accuracy 0.912, precision 0.939, recall 0.901; all-MiniLM-L6-v2 0.959,
# 0.977, 0.949; multilingual-e5-small 0.977, 0.985, 0.974. The floors leave a margin for new examples.
FAKE_FLOOR = {"accuracy": 0.88, "precision": 0.91, "recall": 0.87}
REAL_FLOOR = {"accuracy": 0.95, "precision": 0.96, "recall": 0.95}

# Situations told as statements, the operators the documents give (any of them first), or a
# clarifying question whose provisional operator is one of them.
STATEMENTS = [
    ("j'ai 19 ans je cherche du travail", {"mission_locale"}),
    ("je suis au chômage depuis 2 ans", {"pole_emploi"}),
    ("je veux démissionner pour me reconvertir", {"reseau_eva"}),
    ("je suis intérimaire", {"reseau_eva"}),
    ("en arrêt maladie, je ne peux plus faire mon métier", {"cap_emploi"}),
]
NOT_ROUTING = [
    "combien d'entrées CEP à l'APEC en 2021 ?",
    "c'est quoi le niveau 2 du CEP ?",
    "comment l'APEC accompagne les cadres ?",
    "Qu'est-ce que le PACEA ?",
]


@lru_cache(maxsize=1)
def fake_router() -> Router:
    return Router.load(KNOWLEDGE, load_corpus(Settings().corpus_dir), HashEncoder())


def test_bank_is_large_varied_and_valid() -> None:
    bank = load_examples(KNOWLEDGE / EXAMPLES)
    routing = [e for e in bank.examples if e.routing]
    assert len(bank.examples) >= 400 and len(routing) >= 200 and len(bank.examples) - len(routing) >= 150
    assert {e.operator for e in routing} >= {"reseau_eva", "apec", "pole_emploi", "mission_locale", "cap_emploi"}
    assert {e.kind for e in bank.examples if not e.routing} == {"figure", "passage", "contact", "out_of_scope"}
    assert sum("?" not in e.text for e in routing) >= 50  # statements, not only questions


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "q", "routing": true, "operator": "anpe"}', "opérateur inconnu"),
        ('{"text": "q", "routing": "oui"}', "« routing »"),
        ('{"text": "q", "routing": false, "kind": "autre"}', "kind"),
        ("{pas du json", "JSON invalide"),
    ],
)
def test_bad_bank_rows_are_named(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bank.jsonl"
    path.write_text('{"text": "ok", "routing": false, "kind": "figure"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="ligne 2") as err:
        load_examples(path)
    assert message in str(err.value)


def test_duplicate_questions_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bank.jsonl"
    row = {"text": "je suis cadre", "routing": True, "operator": "apec"}
    path.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="en double"):
        load_examples(path)


def test_cross_validated_accuracy_on_the_bank_fake_encoder() -> None:
    router = fake_router()
    bank = load_examples(KNOWLEDGE / EXAMPLES)
    signals = np.stack([router.signals(t) for t in bank.texts])
    cv = cross_validate(bank_vectors(HashEncoder(), bank), signals, bank.labels)
    assert all(getattr(cv, name) >= floor for name, floor in FAKE_FLOOR.items()), str(cv)


class CountingEncoder(HashEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return super().encode(texts)


def test_bank_embeddings_are_cached_by_model_and_bank(tmp_path: Path) -> None:
    bank = load_examples(KNOWLEDGE / EXAMPLES)
    encoder = CountingEncoder()
    first = bank_vectors(encoder, bank, tmp_path)
    again = bank_vectors(encoder, bank, tmp_path)
    assert encoder.calls == 1 and np.array_equal(first, again)
    other = tmp_path / "other.jsonl"
    extra = '{"text": "nouvelle", "routing": false, "kind": "figure"}\n'
    other.write_text(bank.path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    bank_vectors(encoder, load_examples(other), tmp_path)
    assert encoder.calls == 2  # another bank, another cache entry
    (next(tmp_path.glob("bank-*.npy"))).write_bytes(b"abime")
    bank_vectors(encoder, bank, tmp_path)  # a damaged cache is computed again, never trusted


def test_router_without_encoder_falls_back_to_the_lexicon() -> None:
    router = Router.load(KNOWLEDGE, load_corpus(Settings().corpus_dir))
    assert router.detector is None
    text = "Appelant 45 ans CDI, quel opérateur ?"
    assert router.is_routing_question(text, router.extract(text))


@pytest.mark.parametrize(("text", "operators"), STATEMENTS)
def test_statements_are_routed(text: str, operators: set[str]) -> None:
    """The router's answer (detection is the real model's test below: the fake encoder knows no French)."""
    router = fake_router()
    sit = router.extract(text)
    answer = router.route(sit, text)
    assert answer.intent in ("routing", "clarify")
    assert answer.operators[0].id in operators
    assert answer.intent == "routing" or answer.follow_up


@pytest.mark.parametrize("text", NOT_ROUTING)
def test_figure_and_definition_questions_are_not_routing_fake_encoder(text: str) -> None:
    router = fake_router()
    assert not router.is_routing_question(text, router.extract(text))


# ---------------------------------------------------------------- real model


@pytest.mark.real
def test_cross_validated_accuracy_on_the_bank_real_model(real_assistant) -> None:
    router = real_assistant.router
    bank = load_examples(KNOWLEDGE / EXAMPLES)
    signals = np.stack([router.signals(t) for t in bank.texts])
    vectors = bank_vectors(real_assistant.index.encoder, bank, real_assistant.settings.index_dir / "routing")
    cv = cross_validate(vectors, signals, bank.labels)
    assert all(getattr(cv, name) >= floor for name, floor in REAL_FLOOR.items()), str(cv)


@pytest.mark.real
@pytest.mark.parametrize(("text", "operators"), STATEMENTS)
def test_statements_get_a_routing_answer_real_model(real_assistant, text: str, operators: set[str]) -> None:
    answer = real_assistant.ask(text)
    assert answer.intent in ("routing", "clarify"), answer.text
    assert answer.operators[0].id in operators
    assert answer.citations and (answer.intent == "routing" or answer.follow_up)


@pytest.mark.real
@pytest.mark.parametrize("text", NOT_ROUTING)
def test_figure_and_definition_questions_are_not_routing_real_model(real_assistant, text: str) -> None:
    assert real_assistant.ask(text).intent not in ("routing", "clarify")
