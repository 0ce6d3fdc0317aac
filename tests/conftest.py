"""Shared fixtures: a tiny French corpus built in tmp_path, settings pointing at it, the fake encoder."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
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


def _code_key() -> str:
    """A hash of what an index of the built-in corpus depends on beyond the corpus and the model, which the
    index's own freshness check covers: the code of the three packages and the knowledge (banks aside)."""
    h = hashlib.sha256()
    roots = [PROJECT_ROOT / name for name in ("assistant", "ingest", "index", "knowledge")]
    for path in sorted(p for root in roots for p in root.rglob("*") if p.is_file() and p.suffix != ".pyc"):
        if "training" in path.parts:  # the banks are read by fitting, not by an index build
            continue
        h.update(str(path.relative_to(PROJECT_ROOT)).encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


def real_index_dir() -> Path:
    """Where the real tests keep the index of the built-in corpus between runs: built by the first run after
    the code, the documents or the model change (a 1 to 4 minute build), loaded by the next ones. The folders
    of other keys go once a day old (another checkout's tests may be using one). CI starts from an empty HOME,
    so it always builds."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cep-assistant" / "test-index"
    key = _code_key()
    if cache.is_dir():
        for old in cache.iterdir():
            if old.name != key and time.time() - old.stat().st_mtime > 86_400:
                shutil.rmtree(old, ignore_errors=True)
    return cache / key


def seed_from_previous(index_dir: Path) -> bool:
    """A new code key starts from the newest other key's index: its build is copied in as the current one, and
    the rebuild that follows reuses its vectors (only passages whose text changed are embedded again: 21 s
    instead of 45 s for the built-in corpus on a quiet machine). False when there is nothing to start from."""
    from index.store import CURRENT, current_build

    if (index_dir / CURRENT).exists() or not index_dir.parent.is_dir():
        return False
    others = [d for d in index_dir.parent.iterdir() if d != index_dir and (d / CURRENT).is_file()]
    for other in sorted(others, key=lambda d: (d / CURRENT).stat().st_mtime, reverse=True):
        build = current_build(other)
        if build is None or not build.is_dir():
            continue
        shutil.copytree(build, index_dir / "builds" / build.name)
        (index_dir / CURRENT).write_text(json.dumps({"build": build.name}), encoding="utf-8")
        return True
    return False


@pytest.fixture(scope="session")
def real_assistant():
    """The built-in corpus with the real model, its index built once and reused by later test runs (the
    index's own check rebuilds it when the documents or the model differ, the folder name when the code does;
    a new folder is rebuilt from the previous one's vectors)."""
    from assistant.pipeline import Assistant

    index_dir = real_index_dir()
    index_dir.mkdir(parents=True, exist_ok=True)
    settings = replace(Settings.from_env(), index_dir=index_dir, model_name=Settings().model_name)
    with open(index_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two xdist workers: one seeds and builds, the other waits, then loads
        seeded = seed_from_previous(index_dir)
        return Assistant.load(settings, rebuild=seeded)


def _browser_group(item: pytest.Item) -> str:
    """A browser test that shares a module-scoped fixture (an app started once) runs with its module; any
    other starts its own app and is a group of its own, so the two workers balance the long ones."""
    info = getattr(item, "_fixtureinfo", None)
    for name in getattr(item, "fixturenames", ()):
        defs = info.name2fixturedefs.get(name) if info is not None else None
        if defs and defs[-1].scope == "module":
            return item.path.stem
    return item.nodeid


def pytest_itemcollected(item: pytest.Item) -> None:
    """Under `-n 2 --dist loadgroup` (make test), the tests of the real model run on one worker, so the real
    index is built or loaded once; browser tests that share an app run on one worker, the others each on
    whichever worker is free; the rest fill in. Marked as each item is collected, before any
    `pytest_collection_modifyitems` (where xdist reads the groups). pytest 9.2 broke the groups silently
    (pytest-xdist#1386): pyproject.toml keeps pytest under 9.2."""
    if item.get_closest_marker("browser"):
        item.add_marker(pytest.mark.xdist_group(f"browser:{_browser_group(item)}"))
    elif item.get_closest_marker("real"):
        item.add_marker(pytest.mark.xdist_group("real"))

