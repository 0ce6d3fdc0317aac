"""A document staff add is preferred for its own subject: a place only it names ranks its passage first."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.settings import KNOWLEDGE_DIR, Settings

pytestmark = pytest.mark.real

NOTE = """Note d'information — Nouvelle permanence CEP à Auch

Depuis le 3 avril 2024, une permanence du conseil en évolution professionnelle est ouverte à Auch (Gers), dans les \
locaux de la Maison de l'emploi.

La permanence d'Auch est ouverte le mardi et le jeudi, de 9 h à 12 h 30, sur rendez-vous.

En 2024, la permanence a compté 12 points d'accueil dans le Gers et 1 284 rendez-vous.
"""


@pytest.fixture(scope="session")  # not "module": xdist interleaves modules and would build it twice
def with_note(tmp_path_factory: pytest.TempPathFactory, real_assistant):
    """The built-in corpus plus a one-page note; the index starts from the session's (its vectors reused)."""
    from assistant.pipeline import Assistant

    corpus = tmp_path_factory.mktemp("corpus-with-note")
    for path in (KNOWLEDGE_DIR / "documents").iterdir():
        shutil.copy(path, corpus / path.name)
    (corpus / "note-permanence-auch.txt").write_text(NOTE, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("index-with-note") / "index"
    shutil.copytree(Path(real_assistant.settings.index_dir), index_dir)
    settings = replace(Settings.from_env(), corpus_dir=corpus, index_dir=index_dir, model_name=Settings().model_name)
    return Assistant.load(settings)


def test_a_place_only_the_added_note_names_is_answered_from_it(with_note) -> None:
    answer = with_note.ask("Quand est ouverte la permanence CEP d'Auch ?")
    assert answer.intent == "passage"
    assert answer.citations[0].document == "note-permanence-auch.txt"
    assert not answer.operators  # the service's name (« évolution professionnelle ») names no operator


def test_a_figure_of_the_added_note_is_found_and_a_document_without_a_year_does_not_fail(with_note) -> None:
    answer = with_note.ask("combien de rendez-vous à la permanence d'Auch ?")
    assert answer.intent == "figure"
    values = [answer.figure.value] if answer.figure.value is not None else [c.value for c in answer.figure.candidates]
    assert 1284 in values
