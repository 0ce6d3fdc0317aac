"""Add or remove a corpus document from the app: checked, written atomically, re-indexed, rolled back on failure.

A new document is read before it is written (size, extension, readable text); the index is rebuilt
atomically by the library, so until the new one is complete the previous index stays in use; a
failure puts the corpus folder back as it was and reports the reason in French.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assistant.errors import CepError, DocumentError
from assistant.pipeline import Assistant
from assistant.settings import Settings
from index.encoders import Encoder
from ingest.corpus import MANIFEST, document_files
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


@dataclass
class Change:
    """What an add or a remove did: the file name, the outcome and the reloaded assistant."""

    name: str
    status: Literal["added", "replaced", "unchanged", "removed"]
    assistant: Assistant | None
    message: str


def sanitize_filename(name: str) -> str:
    """A safe file name inside the corpus folder: no folder part, ASCII letters, digits, '-', '_', '.'.

    Refuses names whose extension is not PDF, TXT or MD, and names left empty once cleaned.
    """
    raw = str(name or "")
    base = re.split(r"[\\/]", raw)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip(".-_ ")
    base = re.sub(r"\.{2,}", ".", base)
    stem, dot, suffix = base.rpartition(".")
    suffix = suffix.lower()
    if not dot or f".{suffix}" not in SUPPORTED_SUFFIXES:
        shown = Path(raw.replace("\\", "/")).suffix or "sans extension"
        raise DocumentRejected(
            f"Le fichier « {_shown(raw)} » n'est pas accepté : format « {_shown(shown)} » non pris en charge "
            "(PDF, TXT ou MD uniquement)."
        )
    stem = stem.strip(".-_")[: MAX_NAME_CHARS - len(suffix) - 1]
    if not stem:
        raise DocumentRejected(f"Le nom de fichier « {_shown(raw)} » est vide une fois nettoyé ; renommez le fichier.")
    return f"{stem}.{suffix}"


def _shown(text: str) -> str:
    text = re.sub(r"[\x00-\x1f\x7f]", "?", str(text))
    return text if len(text) <= 80 else text[:77] + "…"


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} Mo".replace(".", ",") if n >= 1024 * 1024 else f"{max(1, n // 1024)} Ko"


def list_documents(settings: Settings, assistant: Assistant | None = None) -> list[DocumentRow]:
    """The corpus files with their manifest title and, when an assistant is loaded, their chunk counts."""
    counts: dict[str, int] = {}
    docs = {}
    if assistant is not None:
        docs = assistant.corpus.documents
        for c in assistant.corpus.chunks:
            counts[c.document] = counts.get(c.document, 0) + 1
    rows = []
    for path in document_files(settings.corpus_dir):
        info = docs[path.name].info if path.name in docs else None
        rows.append(
            DocumentRow(
                name=path.name,
                title=info.title if info else "(illisible ou pas encore indexé)",
                publisher=info.publisher if info else "",
                year=info.year if info else None,
                size_bytes=path.stat().st_size,
                chunks=counts.get(path.name, 0),
            )
        )
    return rows


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


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")  # not a corpus suffix: never read
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _with_title(manifest: bytes | None, name: str, title: str, source_name: str) -> bytes:
    data = json.loads(manifest) if manifest else {"documents": []}
    docs = [d for d in data.get("documents", []) if d.get("file") != name]
    docs.append({"file": name, "title": title, "kind": "document ajouté", "original_name": source_name})
    data["documents"] = docs
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def add_document(
    settings: Settings,
    filename: str,
    data: bytes,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    title: str = "",
    replace: bool = False,
) -> Change:
    """Add a document to the corpus and re-index; the same bytes twice change nothing."""
    name = check_document(settings, filename, data)
    folder = settings.corpus_dir
    digest = hashlib.sha256(data).hexdigest()
    with _lock:
        for path in document_files(folder):
            if hashlib.sha256(path.read_bytes()).hexdigest() == digest:
                return Change(
                    path.name,
                    "unchanged",
                    None,
                    f"Ce document est déjà dans le corpus (« {path.name} ») : rien à faire.",
                )
        target = folder / name
        old = target.read_bytes() if target.exists() else None
        if old is not None and not replace:
            raise DocumentRejected(
                f"Un document « {name} » existe déjà avec un autre contenu : "
                "cochez « Remplacer » ou renommez le fichier."
            )
        manifest_path = folder / MANIFEST
        old_manifest = manifest_path.read_bytes() if manifest_path.exists() else None
        try:
            _write_atomically(target, data)
            if title.strip():
                source = _shown(re.split(r"[\\/]", str(filename))[-1])
                _write_atomically(manifest_path, _with_title(old_manifest, name, title.strip()[:200], source))
            assistant = Assistant.load(settings, encoder=encoder, progress=progress)
            failure = next((e for e in assistant.corpus.errors if getattr(e, "name", "") == name), None)
            if failure is not None or name not in assistant.corpus.documents:
                raise DocumentRejected(str(failure) if failure else f"Le document « {name} » n'a pas pu être indexé.")
        except BaseException:
            _restore(target, old)
            _restore(manifest_path, old_manifest)
            raise
    status: Literal["added", "replaced"] = "replaced" if old is not None else "added"
    n = sum(1 for c in assistant.corpus.chunks if c.document == name)
    verb = "remplacé" if old is not None else "ajouté"
    return Change(
        name,
        status,
        assistant,
        f"Document « {name} » {verb} et indexé ({n} passages) : il est interrogeable dès maintenant.",
    )


def remove_document(
    settings: Settings, name: str, encoder: Encoder | None = None, progress: Progress | None = None
) -> Change:
    """Remove a corpus document and re-index; the file comes back if the re-indexing fails."""
    with _lock:
        files = {p.name: p for p in document_files(settings.corpus_dir)}
        if name not in files:
            raise DocumentRejected(f"Le document « {_shown(name)} » n'est pas dans le corpus.")
        if len(files) == 1:
            raise DocumentRejected("C'est le dernier document du corpus : ajoutez-en un autre avant de le retirer.")
        path = files[name]
        old = path.read_bytes()
        try:
            path.unlink()
            assistant = Assistant.load(settings, encoder=encoder, progress=progress)
        except BaseException:
            _restore(path, old)
            raise
    return Change(name, "removed", assistant, f"Document « {name} » retiré du corpus et de l'index.")


def _restore(path: Path, data: bytes | None) -> None:
    if data is None:
        path.unlink(missing_ok=True)
    else:
        _write_atomically(path, data)
