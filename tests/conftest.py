"""Shared fixtures: a tiny French corpus built in tmp_path, settings pointing at it, the fake encoder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT, Settings
from index.encoders import HashEncoder

SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl"

RAPPORT = """RAPPORT DE TEST

Table des matières

I. Présentation\t2
A. Le service\t2
II. Les chiffres\t3
1. Le Pôle Emploi\t3

I. Présentation

A. Le service

Le conseil en évolution professionnelle est un service **gratuit** et confidentiel.

Il est délivré par cinq opérateurs, dont l'APEC pour les cadres.

II. Les chiffres

1. Le Pôle Emploi

En 2021, Pôle Emploi a enregistré **12 345** entrées en CEP en Occitanie.

\tEntrants\tSortants
Pôle Emploi\t12 345\t11 000

La durée moyenne d'un entretien est de 2,5 heures.
"""

ENQUETE = """Enquête sur les jardins

Les jardiniers arrosent les tomates le matin, avant la chaleur.

Le compost améliore la terre des potagers.
"""


@pytest.fixture()
def corpus_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "rapport-test.txt").write_text(RAPPORT, encoding="utf-8")
    (folder / "enquete-jardins.txt").write_text(ENQUETE, encoding="utf-8")
    return folder


@pytest.fixture()
def settings(tmp_path: Path, corpus_dir: Path) -> Settings:
    return replace(
        Settings(),
        corpus_dir=corpus_dir,
        index_dir=tmp_path / "index",
        data_dir=tmp_path / "data",
        model_name="hash-fake",
    )


@pytest.fixture()
def fake_encoder() -> HashEncoder:
    return HashEncoder()


@pytest.fixture(scope="session")
def real_assistant(tmp_path_factory: pytest.TempPathFactory):
    """The built-in corpus with the real model, built once per test session in a temporary index."""
    from assistant.pipeline import Assistant

    index_dir = tmp_path_factory.mktemp("real-index")
    return Assistant.load(replace(Settings.from_env(), index_dir=index_dir, model_name=Settings().model_name))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `-n 2 --dist loadgroup` (make test), the browser tests run one after another on one worker and the
    tests of the real model on the other, so the real index is built once; the rest fill in beside them."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif item.get_closest_marker("real"):
            item.add_marker(pytest.mark.xdist_group("real"))
