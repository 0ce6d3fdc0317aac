"""Add or remove a corpus document from the app: checked, written atomically, re-indexed, rolled back on failure.

An added document goes to the data directory (see library.py), never into the built-in corpus; removing
a built-in document records a hide. A new document is read before it is written (size, extension,
readable text); the index is rebuilt atomically by the library, so until the new one is complete the
previous index stays in use; a failure puts the data directory back as it was and reports the reason
in French.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from assistant.app.library import ADDED, BUILTIN, Library, Origin, read_bytes, restore, write_atomically
from assistant.errors import CepError, DocumentError
from assistant.pipeline import Assistant
from assistant.settings import Settings
from index.encoders import Encoder
from ingest.corpus import MANIFEST
from ingest.readers import SUPPORTED_SUFFIXES, read_lines

Progress = Callable[[str, int, int], None]
MAX_NAME_CHARS = 120
_lock = threading.Lock()  # one corpus change at a time in this process


class DocumentRejected(CepError):
    """A document the admin cannot add or remove as asked; the message says why and what to do."""


@dataclass(frozen=True)
class DocumentRow:
    """A corpus document as listed in the admin."""

    name: str
    title: str
    publisher: str
    year: int | None
    size_bytes: int
    chunks: int
    origin: Origin = BUILTIN


@dataclass
class Change:
    """What an add or a remove did: the file name, the outcome and the reloaded assistant."""

    name: str
    status: Literal["added", "replaced", "unchanged", "removed", "hidden", "restored"]
    assistant: Assistant | None
    message: str


def sanitize_filename(name: str) -> str:
    """A safe file name inside the corpus folder: no folder part, ASCII letters, digits, '-', '_', '.'.

    Refuses names whose extension is not PDF, TXT or MD, and names with nothing before the extension.
    """
    raw = str(name or "")
    base = re.split(r"[\\/]", raw)[-1]
    ascii_base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, suffix = ascii_base.rpartition(".")
    suffix = re.sub(r"[^A-Za-z0-9]", "", suffix).lower()
    if not dot or f".{suffix}" not in SUPPORTED_SUFFIXES:
        shown = PurePosixPath(raw.replace("\\", "/")).suffix if dot else ""
        kind = f"format « {_shown(shown)} »" if shown else "fichier sans extension"
        raise DocumentRejected(
            f"Le fichier « {_shown(raw)} » n'est pas accepté : {kind} non pris en charge (PDF, TXT ou MD uniquement)."
        )
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem)
    stem = re.sub(r"\.{2,}", ".", stem).strip(".-_ ")[: MAX_NAME_CHARS - len(suffix) - 1].strip(".-_ ")
    if not stem:
        raise DocumentRejected(
            f"Le fichier « {_shown(raw)} » n'a pas de nom avant l'extension « .{suffix} » : "
            f"renommez-le (par exemple « rapport.{suffix} ») puis envoyez-le de nouveau."
        )
    return f"{stem}.{suffix}"


def _shown(text: str) -> str:
    text = re.sub(r"[\x00-\x1f\x7f]", "?", str(text))
    return text if len(text) <= 80 else text[:77] + "…"


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} Mo".replace(".", ",") if n >= 1024 * 1024 else f"{max(1, n // 1024)} Ko"


def size_text(n: int) -> str:
    """A file size in French: "12 Ko", "1,5 Mo"."""
    return _size(n)


def list_documents(settings: Settings, assistant: Assistant | None = None) -> list[DocumentRow]:
    """The documents the assistant reads, with origin, manifest title and, when loaded, their chunk counts."""
    counts: dict[str, int] = {}
    docs = {}
    if assistant is not None:
        docs = assistant.corpus.documents
        for c in assistant.corpus.chunks:
            counts[c.document] = counts.get(c.document, 0) + 1
    rows = []
    for doc in Library(settings).visible().values():
        info = docs[doc.name].info if doc.name in docs else None
        rows.append(
            DocumentRow(
                name=doc.name,
                title=info.title if info else "(illisible ou pas encore indexé)",
                publisher=info.publisher if info else "",
                year=info.year if info else None,
                size_bytes=doc.path.stat().st_size,
                chunks=counts.get(doc.name, 0),
                origin=doc.origin,
            )
        )
    return rows


def hidden_documents(settings: Settings) -> list[str]:
    """Built-in documents staff removed (they can be put back)."""
    lib = Library(settings)
    hidden = lib.hidden()
    return [d.name for d in lib.documents() if d.origin == BUILTIN and d.name in hidden]


def check_document(settings: Settings, filename: str, data: bytes) -> str:
    """The safe name of an uploaded document once checked (size, extension, readable text), or DocumentRejected."""
    name = sanitize_filename(filename)
    if not data:
        raise DocumentRejected(f"Le fichier « {name} » est vide (0 octet).")
    if len(data) > settings.max_document_bytes:
        raise DocumentRejected(
            f"Le fichier « {name} » est trop volumineux ({_size(len(data))}) : "
            f"{_size(settings.max_document_bytes)} au plus."
        )
    try:
        lines = read_lines(name, data)
    except DocumentError as exc:
        raise DocumentRejected(str(exc)) from exc
    if not any(line.text.strip() for line in lines):
        raise DocumentRejected(f"Le fichier « {name} » ne contient aucun texte lisible.")
    return name


def _with_title(manifest: bytes | None, name: str, title: str, source_name: str) -> bytes:
    data = json.loads(manifest) if manifest else {"documents": []}
    docs = [d for d in data.get("documents", []) if d.get("file") != name]
    if title:
        docs.append({"file": name, "title": title, "kind": "document ajouté", "original_name": source_name})
    data["documents"] = docs
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def _reload(settings: Settings, encoder: Encoder | None, progress: Progress | None) -> Assistant:
    return Assistant.load(Library(settings).corpus_settings(), encoder=encoder, progress=progress)


def add_document(
    settings: Settings,
    filename: str,
    data: bytes,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    title: str = "",
    replace: bool = False,
) -> Change:
    """Add a document to the data directory and re-index; the same bytes twice change nothing."""
    name = check_document(settings, filename, data)
    lib = Library(settings)
    digest = hashlib.sha256(data).hexdigest()
    with _lock:
        visible = lib.visible()
        for doc in visible.values():
            if hashlib.sha256(doc.path.read_bytes()).hexdigest() == digest:
                return Change(
                    doc.name, "unchanged", None, f"Ce document est déjà dans le corpus (« {doc.name} ») : rien à faire."
                )
        if name in lib.builtin():
            raise DocumentRejected(
                f"« {name} » est le nom d'un document intégré à l'assistant : renommez le fichier avant de l'ajouter."
            )
        target = lib.added_dir / name
        old = read_bytes(target)
        if old is not None and not replace:
            raise DocumentRejected(
                f"Un document « {name} » existe déjà avec un autre contenu : "
                "cochez « Remplacer » ou renommez le fichier."
            )
        manifest_path = lib.added_dir / MANIFEST
        old_manifest = read_bytes(manifest_path)
        try:
            write_atomically(target, data)
            if title.strip():
                source = _shown(re.split(r"[\\/]", str(filename))[-1])
                write_atomically(manifest_path, _with_title(old_manifest, name, title.strip()[:200], source))
            assistant = _reload(settings, encoder, progress)
            failure = next((e for e in assistant.corpus.errors if getattr(e, "name", "") == name), None)
            if failure is not None or name not in assistant.corpus.documents:
                raise DocumentRejected(str(failure) if failure else f"Le document « {name} » n'a pas pu être indexé.")
        except BaseException:
            restore(target, old)
            restore(manifest_path, old_manifest)
            lib.corpus_settings()  # the composed corpus as it was
            raise
    status: Literal["added", "replaced"] = "replaced" if old is not None else "added"
    n = sum(1 for c in assistant.corpus.chunks if c.document == name)
    verb = "remplacé" if old is not None else "ajouté"
    return Change(
        name,
        status,
        assistant,
        f"Document « {name} » {verb} et indexé ({n} passage{'s' if n > 1 else ''}) : "
        "il est interrogeable dès maintenant.",
    )


def remove_document(
    settings: Settings, name: str, encoder: Encoder | None = None, progress: Progress | None = None
) -> Change:
    """Remove a document and re-index: an added one is deleted, a built-in one hidden; undone on failure."""
    lib = Library(settings)
    with _lock:
        visible = lib.visible()
        doc = visible.get(name)
        if doc is None:
            raise DocumentRejected(f"Le document « {_shown(name)} » n'est pas dans le corpus.")
        if len(visible) == 1:
            raise DocumentRejected("C'est le dernier document du corpus : ajoutez-en un autre avant de le retirer.")
        old_hidden = read_bytes(lib.hidden_path)
        manifest_path = lib.added_dir / MANIFEST
        old_manifest = read_bytes(manifest_path)
        old = doc.path.read_bytes() if doc.origin == ADDED else None
        try:
            if doc.origin == ADDED:
                doc.path.unlink()
                if old_manifest is not None:
                    write_atomically(manifest_path, _with_title(old_manifest, name, "", ""))
            else:
                lib.set_hidden(lib.hidden() | {name})
            assistant = _reload(settings, encoder, progress)
        except BaseException:
            if old is not None:
                restore(doc.path, old)
            restore(manifest_path, old_manifest)
            restore(lib.hidden_path, old_hidden)
            lib.corpus_settings()
            raise
    if doc.origin == ADDED:
        return Change(name, "removed", assistant, f"Document « {name} » retiré du corpus et de l'index.")
    return Change(
        name,
        "hidden",
        assistant,
        f"Document intégré « {name} » retiré du corpus et de l'index (il peut être rétabli plus bas).",
    )


def restore_document(
    settings: Settings, name: str, encoder: Encoder | None = None, progress: Progress | None = None
) -> Change:
    """Put back a built-in document staff removed, and re-index."""
    lib = Library(settings)
    with _lock:
        hidden = lib.hidden()
        if name not in hidden:
            raise DocumentRejected(f"Le document « {_shown(name)} » n'est pas un document intégré retiré.")
        old_hidden = read_bytes(lib.hidden_path)
        try:
            lib.set_hidden(hidden - {name})
            assistant = _reload(settings, encoder, progress)
        except BaseException:
            restore(lib.hidden_path, old_hidden)
            lib.corpus_settings()
            raise
    return Change(name, "restored", assistant, f"Document intégré « {name} » rétabli et indexé.")


def document_path(settings: Settings, name: str) -> Path | None:
    """Where a visible document's file is (for tests and diagnostics)."""
    doc = Library(settings).visible().get(name)
    return doc.path if doc else None
