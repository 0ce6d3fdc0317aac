"""A loaded assistant saved beside its index, so that a new process (the CLI) answers without re-reading the
documents nor rebuilding the routing and figure engines.

``Assistant.load`` reads and cuts every document and builds the engines (4 s of the CLI's 15 s). When the index
is current, :func:`load_assistant` takes them from ``assistant.pickle`` in the index's build folder instead. The
file is used only when its key matches: the index build, the corpus files, the model, the knowledge files and
the project's code (any edit of a ``.py`` file under ``assistant/``, ``ingest/`` or ``index/`` makes it stale);
else the ordinary load runs and writes a new one. The index and the encoder are not in the file: they are loaded
as usual and plugged back in. Like the index, the file lives in the data directory the application owns.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import sys
import threading
import uuid
from collections import namedtuple
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]

SNAPSHOT = "assistant.pickle"
SNAPSHOT_ENV = "CEP_SNAPSHOT"  # "0": always the ordinary load (no file read or written)
CODE_DIRS = ("assistant", "ingest", "index")
_FORMAT = 1
_LOCKS = {type(threading.Lock()): "lock", type(threading.RLock()): "rlock"}  # made anew at load


def enabled() -> bool:
    """False when CEP_SNAPSHOT is 0/non/off."""
    return os.environ.get(SNAPSHOT_ENV, "1").strip().lower() not in ("0", "false", "no", "non", "off")


def _digest_files(h: Any, root: Path, files: list[Path]) -> None:
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        h.update(str(path.relative_to(root)).encode("utf-8", "surrogateescape"))
        h.update(hashlib.sha256(data).digest())


def snapshot_key(settings: Settings, build: Path, corpus_fingerprint: str, model: str) -> str:
    """What the saved engines depend on: code, knowledge files, corpus, index build, model, Python."""
    h = hashlib.sha256(f"{_FORMAT}|{sys.version}|{build.name}|{corpus_fingerprint}|{model}".encode())
    for name in CODE_DIRS:
        _digest_files(h, PROJECT_ROOT, sorted((PROJECT_ROOT / name).rglob("*.py")))
    knowledge = settings.knowledge_dir
    if knowledge.is_dir():
        _digest_files(h, knowledge, sorted(p for p in knowledge.rglob("*") if p.is_file()))
    return h.hexdigest()


class _Pickler(pickle.Pickler):
    """Leaves the index and the encoder out of the file (plugged back in at load), and locks (made anew)."""

    def __init__(self, file: io.BufferedWriter, live: dict[int, str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.live = live

    def persistent_id(self, obj: Any) -> str | None:
        return _LOCKS.get(type(obj)) or self.live.get(id(obj))

    def reducer_override(self, obj: Any) -> Any:
        """Rows of ``DataFrame.itertuples`` (a namedtuple class made on the fly): by their fields and values."""
        cls = type(obj)
        if isinstance(obj, tuple) and hasattr(cls, "_fields"):
            module = sys.modules.get(cls.__module__)
            if getattr(module, cls.__qualname__, None) is not cls:
                return _row, (cls.__name__, tuple(cls._fields), tuple(obj))
        return NotImplemented


@lru_cache(maxsize=64)
def _row_class(name: str, fields: tuple[str, ...]) -> Any:
    return namedtuple(name, fields, rename=True)  # the same class as itertuples makes


def _row(name: str, fields: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    return _row_class(name, fields)(*values)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedReader, live: dict[str, Any]) -> None:
        super().__init__(file)
        self.live = live

    def persistent_load(self, pid: Any) -> Any:
        if pid == "lock":
            return threading.Lock()
        if pid == "rlock":
            return threading.RLock()
        if pid not in self.live:
            raise pickle.UnpicklingError(f"objet externe inconnu : {pid}")
        return self.live[pid]


def save(assistant: Any, key: str) -> Path | None:
    """Write the assistant's corpus, question reader and engines beside its index; None when they cannot be saved."""
    folder = getattr(assistant.index, "folder", None)
    if folder is None:
        return None
    path = Path(folder) / SNAPSHOT
    tmp = path.with_name(f".{SNAPSHOT}.{uuid.uuid4().hex}.part")
    live = {id(assistant.index): "index", id(assistant.index.encoder): "encoder"}
    payload = (assistant.corpus, assistant.analyzer, assistant.router, assistant.figures)
    try:
        with open(tmp, "wb") as f:
            pickle.dump(key, f, protocol=pickle.HIGHEST_PROTOCOL)
            _Pickler(f, live).dump(payload)
        os.replace(tmp, path)
    except Exception as exc:  # an engine that cannot be pickled, a full disk: the ordinary load stays
        log.info("Instantané de l'assistant non écrit (%s : %s).", type(exc).__name__, exc)
        return None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _read(path: Path, key: str, live: dict[str, Any]) -> tuple[Any, Any, Any, Any] | None:
    try:
        with open(path, "rb") as f:
            if pickle.load(f) != key:
                return None
            return _Unpickler(f, live).load()  # type: ignore[no-any-return]
    except FileNotFoundError:
        return None
    except Exception as exc:  # damaged, or written by code that no longer matches: the ordinary load
        log.info("Instantané de l'assistant ignoré (%s : %s).", type(exc).__name__, exc)
        return None


def load_assistant(settings: Settings, progress: Progress | None = None, rebuild: bool = False) -> Any:
    """The assistant of settings: from the snapshot when the index and everything else are current, else loaded
    (and built when needed) as ``Assistant.load`` does, then saved for the next process."""
    from assistant.pipeline import Assistant
    from index.encoders import make_encoder
    from index.store import HybridIndex, current_build, is_fresh, model_key
    from ingest.corpus import fingerprint

    encoder = make_encoder(settings.model_name)
    if not enabled():
        return Assistant.load(settings, encoder=encoder, progress=progress, rebuild=rebuild)
    if not rebuild:
        corpus_fingerprint = fingerprint(settings.corpus_dir)
        folder = current_build(settings.index_dir)
        if folder is not None and is_fresh(settings.index_dir, encoder, corpus_fingerprint):
            key = snapshot_key(settings, folder, corpus_fingerprint, model_key(encoder))
            index = None
            try:
                index = HybridIndex.load(folder, encoder, settings.dense_weight)
            except Exception as exc:  # damaged: the ordinary load rebuilds it
                log.info("Index illisible (%s) : chargement complet.", exc)
            if index is not None:
                saved = _read(folder / SNAPSHOT, key, {"index": index, "encoder": encoder})
                if saved is not None:
                    corpus, analyzer, router, figures = saved
                    return Assistant(settings, corpus, index, analyzer, router, figures)
    assistant = Assistant.load(settings, encoder=encoder, progress=progress, rebuild=rebuild)
    build = getattr(assistant.index, "folder", None)
    if build is not None:
        key = snapshot_key(settings, Path(build), assistant.corpus.fingerprint, model_key(assistant.index.encoder))
        save(assistant, key)
    return assistant
