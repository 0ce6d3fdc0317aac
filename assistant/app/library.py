"""The corpus the assistant reads: the built-in documents (minus those staff hid) and the documents staff added.

The built-in corpus (``Settings.corpus_dir``, tracked with the code) is never written to. What staff
change lives in the data directory (``Settings.data_dir``)::

    documents/       documents added by staff, and their manifest.json (titles)
    hidden.json      built-in documents staff removed from the assistant
    corpus/          the composed corpus: links to the files the assistant reads, one merged manifest

``corpus/`` is rebuilt from the two others each time the assistant loads, so it follows a code update
(or a fresh checkout elsewhere) over the same data directory. With nothing added and nothing hidden,
the assistant reads the built-in folder itself and nothing is written.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from assistant.errors import KnowledgeError
from assistant.settings import Settings
from ingest.corpus import MANIFEST, document_files

Origin = Literal["intégré", "ajouté"]
BUILTIN: Origin = "intégré"
ADDED: Origin = "ajouté"


@dataclass(frozen=True)
class LibraryDocument:
    """A document file of the corpus and where it comes from."""

    name: str
    origin: Origin
    path: Path
    hidden: bool = False


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file in one step (a temporary file renamed over it): readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")  # not a corpus suffix: never read
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def restore(path: Path, data: bytes | None) -> None:
    """Put a file back as it was (None: it did not exist)."""
    if data is None:
        path.unlink(missing_ok=True)
    else:
        write_atomically(path, data)


def read_bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


class Library:
    """Built-in and added documents, the hides, and the composed corpus folder of one data directory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.builtin_dir = settings.corpus_dir
        self.added_dir = settings.data_dir / "documents"
        self.hidden_path = settings.data_dir / "hidden.json"
        self.view_dir = settings.data_dir / "corpus"

    # -- reading --------------------------------------------------------------------------------
    def builtin(self) -> dict[str, Path]:
        return {p.name: p for p in document_files(self.builtin_dir)}

    def added(self) -> dict[str, Path]:
        return {p.name: p for p in document_files(self.added_dir)} if self.added_dir.is_dir() else {}

    def hidden(self) -> set[str]:
        """Names of the built-in documents staff removed."""
        if not self.hidden_path.exists():
            return set()
        try:
            data = json.loads(self.hidden_path.read_text(encoding="utf-8"))
            return {str(n) for n in data["hidden"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise KnowledgeError(
                f"{self.hidden_path} : liste des documents retirés illisible (JSON invalide) ; "
                "corrigez-la ou supprimez-la pour rétablir tous les documents intégrés."
            ) from exc

    def documents(self) -> list[LibraryDocument]:
        """Every document, built-in first; hidden built-in ones flagged (an added one wins a name clash)."""
        added = self.added()
        hidden = self.hidden()
        out = [LibraryDocument(n, BUILTIN, p, hidden=n in hidden or n in added) for n, p in self.builtin().items()]
        out += [LibraryDocument(n, ADDED, p) for n, p in added.items()]
        return out

    def visible(self) -> dict[str, LibraryDocument]:
        """The documents the assistant reads, by name."""
        return {d.name: d for d in self.documents() if not d.hidden}

    # -- changing -------------------------------------------------------------------------------
    def set_hidden(self, names: set[str]) -> None:
        data = {"hidden": sorted(names)}
        write_atomically(self.hidden_path, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))

    def added_manifest(self) -> dict[str, Any]:
        path = self.added_dir / MANIFEST
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"documents": []}

    # -- the composed corpus --------------------------------------------------------------------
    def corpus_settings(self) -> Settings:
        """Settings whose corpus_dir holds exactly the visible documents (the built-in folder when unchanged)."""
        added = self.added()
        hidden = self.hidden() & set(self.builtin())
        if not added and not hidden:
            return self.settings
        self._compose()
        return replace(self.settings, corpus_dir=self.view_dir)

    def _compose(self) -> None:
        visible = self.visible()
        view = self.view_dir
        view.mkdir(parents=True, exist_ok=True)
        for doc in visible.values():
            _link(view / doc.name, doc.path)
        for p in view.iterdir():
            if p.name not in visible and p.name != MANIFEST and (p.is_symlink() or p.is_file()):
                p.unlink(missing_ok=True)
        entries = []
        for folder, origin in ((self.builtin_dir, BUILTIN), (self.added_dir, ADDED)):
            path = folder / MANIFEST
            if not path.exists():
                continue
            for entry in json.loads(path.read_text(encoding="utf-8")).get("documents", []):
                listed = visible.get(str(entry.get("file")))
                if listed is not None and listed.origin == origin:
                    entries.append(entry)
        manifest = (json.dumps({"documents": entries}, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        if read_bytes(view / MANIFEST) != manifest:
            write_atomically(view / MANIFEST, manifest)


def _link(link: Path, target: Path) -> None:
    """`link` made to read `target`: a symbolic link, or a copy where links are not available."""
    target = target.resolve()
    if link.is_symlink() and os.readlink(link) == str(target):
        return
    tmp = link.with_name(f".{link.name}.{uuid.uuid4().hex}.part")
    try:
        try:
            os.symlink(target, tmp)
        except OSError:
            shutil.copyfile(target, tmp)
        os.replace(tmp, link)
    finally:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()


def corpus_settings(settings: Settings) -> Settings:
    """The settings the assistant loads with: built-in documents (minus hidden ones) and added documents."""
    return Library(settings).corpus_settings()
