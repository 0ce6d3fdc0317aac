"""A non-editable install ships the whole project: every subpackage and the knowledge it reads at run time.

The full check (`pip install .` in a fresh virtual environment, then `cep-assistant ask` from another
directory) takes minutes; this test builds the same wheel and looks inside it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from assistant.settings import PROJECT_ROOT

pytestmark = pytest.mark.real  # builds a wheel from the checkout (about 10 s)

SKIP = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache")


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    source = tmp_path_factory.mktemp("source") / "project"
    shutil.copytree(PROJECT_ROOT, source, ignore=SKIP)
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out)]
    done = subprocess.run([*command, str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("cep_assistant-*.whl")
    with zipfile.ZipFile(wheel) as z:
        return set(z.namelist())


def test_the_wheel_holds_every_package_of_the_checkout(wheel_names: set[str]) -> None:
    for top in ("assistant", "ingest", "index"):
        for init in (PROJECT_ROOT / top).rglob("__init__.py"):
            assert init.relative_to(PROJECT_ROOT).as_posix() in wheel_names


def test_the_wheel_holds_the_knowledge_read_at_run_time(wheel_names: set[str]) -> None:
    knowledge = PROJECT_ROOT / "knowledge"
    for path in knowledge.rglob("*"):
        if path.is_file() and path.suffix in {".toml", ".json", ".jsonl", ".txt", ".safetensors"}:
            assert path.relative_to(PROJECT_ROOT).as_posix() in wheel_names, path
