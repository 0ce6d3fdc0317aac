"""The real tests' kept index: a folder for new code starts from the newest other folder's build."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import seed_from_previous


def _kept(folder: Path, build: str, mtime: float) -> None:
    (folder / "builds" / build).mkdir(parents=True)
    (folder / "builds" / build / "vectors.npy").write_text(build, encoding="utf-8")
    (folder / "current.json").write_text(json.dumps({"build": build}), encoding="utf-8")
    os.utime(folder / "current.json", (mtime, mtime))


def test_a_new_folder_starts_from_the_newest_other_build(tmp_path: Path) -> None:
    _kept(tmp_path / "old", "b1", 1_000)
    _kept(tmp_path / "newer", "b2", 2_000)
    new = tmp_path / "key"
    assert seed_from_previous(new)
    assert json.loads((new / "current.json").read_text(encoding="utf-8")) == {"build": "b2"}
    assert (new / "builds" / "b2" / "vectors.npy").read_text(encoding="utf-8") == "b2"
    assert not seed_from_previous(new)  # already has an index: left as it is


def test_nothing_to_start_from(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert not seed_from_previous(tmp_path / "key")
