"""The hybrid index on disk: chunks, lexical and dense indexes, a manifest; atomic builds, checked loads."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from assistant.errors import IndexUnavailable
from assistant.records import Chunk, Hit
from index.dense import DenseIndex
from index.encoders import Encoder
from index.lexical import LexicalIndex

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
QUERY_CACHE_SIZE = 1024
CURRENT = "current.json"
Progress = Callable[[str, int, int], None]
BuildHook = Callable[[Path], None]  # writes extra artefacts (figure tables) into a build folder


def search_text(chunk: Chunk) -> str:
    """What the indexes see of a chunk: its section titles, then its text."""
    return f"{chunk.context}\n{chunk.text}" if chunk.context else chunk.text


@dataclass(frozen=True)
class Manifest:
    """What an index was built from; a mismatch means rebuild, never a silent wrong answer."""

    format: int
    model: str
    dim: int
    corpus: str  # corpus fingerprint
    chunk_ids: list[str]
    files: dict[str, str]  # file name -> sha256, to detect truncation or corruption
    built_at: float
    build_seconds: float


class HybridIndex:
    """Lexical BM25 + dense FAISS over the same chunks, fused by weighted normalized scores."""

    def __init__(
        self, chunks: list[Chunk], lexical: LexicalIndex, dense: DenseIndex, encoder: Encoder, dense_weight: float
    ) -> None:
        self.chunks = chunks
        self.lexical = lexical
        self.dense = dense
        self.encoder = encoder
        self.dense_weight = dense_weight
        self.folder: Path | None = None
        self._vectors: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()

    # -- build -------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        chunks: list[Chunk],
        encoder: Encoder,
        dense_weight: float = 0.35,
        progress: Progress | None = None,
        batch: int = 128,
        previous: HybridIndex | None = None,
    ) -> HybridIndex:
        texts = [search_text(c) for c in chunks]
        if progress:
            progress("Index lexical", 0, len(texts))
        lexical = LexicalIndex.build(texts)
        # Unchanged passages keep their vectors (same model, same text): adding a document embeds only it.
        known = previous.vectors_by_text() if previous is not None else {}
        vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        todo = []
        for i, text in enumerate(texts):
            vector = known.get(_text_key(text))
            if vector is None:
                todo.append(i)
            else:
                vectors[i] = vector
        # Calls of 128: the model sorts a call's texts by length (less padding) and progress still moves.
        for start in range(0, len(todo), batch):
            rows = todo[start : start + batch]
            vectors[rows] = encoder.encode([texts[i] for i in rows])
            if progress:
                progress("Calcul des embeddings", min(start + batch, len(todo)), len(todo))
        return cls(chunks, lexical, DenseIndex.build(vectors), encoder, dense_weight)

    def vectors_by_text(self) -> dict[str, np.ndarray]:
        """This index's vectors by search text hash, for reuse by the next build."""
        vectors = self.dense.index.reconstruct_n(0, self.dense.size)
        return {_text_key(search_text(c)): v for c, v in zip(self.chunks, vectors, strict=True)}

    # -- search ------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        mode: str = "hybrid",
        dense_weight: float | None = None,
        dense_query: str | None = None,
    ) -> list[Hit]:
        """Best chunks for a query; mode is "hybrid", "lexical" or "dense".

        Fusion (chosen by measurement on the development set): BM25 divided by the best BM25 of the
        query, plus w times the raw cosine. The dense side reads `dense_query` (the question as typed,
        shorthand expanded) since the English-trained model does worse on the filtered lexical query.
        """
        n = len(self.chunks)
        if n == 0 or not query.strip():
            return []
        w = self.dense_weight if dense_weight is None else dense_weight
        w = 0.0 if mode == "lexical" else 1.0 if mode == "dense" else w
        combined = np.zeros(n, dtype=np.float32)
        if w < 1.0:
            lex = self.lexical.scores(query)
            top = float(lex.max()) if lex.size else 0.0
            if top > 0:
                combined += (1.0 - w) * lex / top
        if w > 0.0:
            vec = self._query_vector(dense_query or query)
            scores, rows = self.dense.search(vec, min(n, max(100, 10 * k)))
            valid = rows >= 0
            combined[rows[valid]] += w * np.maximum(scores[valid], 0.0)
        order = np.argsort(-combined, kind="stable")[:k]
        return [Hit(self.chunks[i], float(combined[i])) for i in order if combined[i] > 0]

    def _query_vector(self, text: str) -> np.ndarray:
        """Embedding of a query; repeated questions (suggested ones, kiosk buttons) are not encoded again."""
        with self._cache_lock:
            vec = self._vectors.get(text)
        if vec is None:
            vec = self.encoder.encode([text])[0]
            with self._cache_lock:
                if len(self._vectors) >= QUERY_CACHE_SIZE:
                    self._vectors.pop(next(iter(self._vectors)))  # oldest first
                self._vectors[text] = vec
        return vec

    def row_of(self, chunk_id: str) -> int:
        if not hasattr(self, "_rows"):
            self._rows = {c.id: i for i, c in enumerate(self.chunks)}
        return self._rows[chunk_id]

    # -- save / load -------------------------------------------------------------------------
    def save(self, folder: Path, corpus_fingerprint: str, build_seconds: float) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in self.chunks:
                f.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
        self.lexical.save(folder)
        self.dense.save(folder / "dense.faiss")
        files = {p.name: _sha256(p) for p in sorted(folder.iterdir()) if p.is_file() and p.name != "manifest.json"}
        manifest = Manifest(
            FORMAT_VERSION,
            self.encoder.name,
            self.dense.dim,
            corpus_fingerprint,
            [c.id for c in self.chunks],
            files,
            time.time(),
            build_seconds,
        )
        (folder / "manifest.json").write_text(json.dumps(asdict(manifest), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, encoder: Encoder, dense_weight: float, verify: bool = True) -> HybridIndex:
        manifest = read_manifest(folder)
        if verify:
            for name, digest in manifest.files.items():
                path = folder / name
                if not path.exists() or _sha256(path) != digest:
                    raise IndexUnavailable(f"Index endommagé : le fichier « {name} » est absent ou modifié.")
        try:
            chunks = []
            with open(folder / "chunks.jsonl", encoding="utf-8") as f:
                for line in f:
                    d = json.loads(line)
                    d["lines"] = tuple(d["lines"]) if d.get("lines") else None
                    chunks.append(Chunk(**d))
            lexical = LexicalIndex.load(folder)
            dense = DenseIndex.load(folder / "dense.faiss")
        except Exception as exc:  # any damaged artefact means the same thing: rebuild
            raise IndexUnavailable(f"Index illisible ({type(exc).__name__}) : reconstruisez-le.") from exc
        if [c.id for c in chunks] != manifest.chunk_ids or dense.size != len(chunks):
            raise IndexUnavailable("Index incohérent (segments et vecteurs ne correspondent pas) : reconstruisez-le.")
        idx = cls(chunks, lexical, dense, encoder, dense_weight)
        idx.folder = folder
        return idx


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(folder: Path) -> Manifest:
    path = folder / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(**data)
    except FileNotFoundError as exc:
        raise IndexUnavailable("Aucun index construit : lancez « cep-assistant build ».") from exc
    except (ValueError, TypeError) as exc:
        raise IndexUnavailable(f"Manifeste d'index illisible ({exc}) : reconstruisez l'index.") from exc


def current_build(index_dir: Path) -> Path | None:
    """The folder of the index in use, from the pointer file."""
    try:
        name = json.loads((index_dir / CURRENT).read_text(encoding="utf-8"))["build"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    folder = index_dir / "builds" / name
    return folder if folder.is_dir() else None


def is_fresh(index_dir: Path, model: str, corpus_fingerprint: str) -> bool:
    """True when the index in use was built from this corpus with this model."""
    folder = current_build(index_dir)
    if folder is None:
        return False
    try:
        m = read_manifest(folder)
    except IndexUnavailable:
        return False
    return m.format == FORMAT_VERSION and m.model == model and m.corpus == corpus_fingerprint


def build_atomically(
    index_dir: Path,
    chunks: list[Chunk],
    encoder: Encoder,
    corpus_fingerprint: str,
    dense_weight: float,
    progress: Progress | None = None,
    hooks: tuple[BuildHook, ...] = (),
) -> Path:
    """Build into a fresh folder, then switch the pointer file in one rename; the old index stays usable."""
    started = time.perf_counter()
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    name = f"{int(time.time() * 1000)}-{os.getpid()}-{corpus_fingerprint[:10]}"
    tmp = builds / f".tmp-{name}"
    previous = None
    old = current_build(index_dir)
    if old is not None:
        try:
            if read_manifest(old).model == encoder.name:  # vectors of another model are never reused
                previous = HybridIndex.load(old, encoder, dense_weight)
        except IndexUnavailable:
            previous = None  # damaged or another format: embed everything
    try:
        index = HybridIndex.build(chunks, encoder, dense_weight, progress, previous=previous)
        for hook in hooks:
            tmp.mkdir(parents=True, exist_ok=True)
            hook(tmp)
        index.save(tmp, corpus_fingerprint, time.perf_counter() - started)
        final = builds / name
        os.replace(tmp, final)
        pointer = index_dir / f".{CURRENT}.tmp-{os.getpid()}"
        pointer.write_text(json.dumps({"build": name}), encoding="utf-8")
        os.replace(pointer, index_dir / CURRENT)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(builds, keep=name)
    if progress:
        progress("Index prêt", len(chunks), len(chunks))
    return final


def _prune(builds: Path, keep: str) -> None:
    """Remove older builds and leftovers of interrupted ones (keeps the current one)."""
    for p in builds.iterdir():
        if p.name != keep and p.is_dir():
            age = time.time() - p.stat().st_mtime
            if not p.name.startswith(".tmp-") or age > 3600:
                shutil.rmtree(p, ignore_errors=True)
