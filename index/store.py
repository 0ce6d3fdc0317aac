"""The hybrid index on disk: chunks, lexical and dense indexes, a manifest; atomic builds, checked loads."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from index.dense import DenseIndex
from index.encoders import Encoder, calls
from index.late import LateInteraction, PackedTokens, load_late
from index.lexical import LexicalIndex
from index.queries import QueryEmbeddings
from index.units import WHOLE, fine_rows, fine_texts, search_text, unit_table, unit_texts_of
from ingest.errors import IndexUnavailable
from ingest.records import Chunk, Hit

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 2: sentence vectors, encoder fingerprint in the manifest; 3: sentence-level BM25
CURRENT = "current.json"
# Late interaction keeps ~28 KB per passage (the built-in corpus: 220 tokens on average × 64 dimensions × 2 bytes):
# 10 000 passages are 280 MB beside a process of ~1.4 GB at peak; a larger corpus searches without it.
LATE_MAX_PASSAGES = 10_000
Progress = Callable[[str, int, int], None]
BuildHook = Callable[[Path], None]  # writes extra artefacts (figure tables) into a build folder


def model_key(encoder: Encoder) -> str:
    """What vectors depend on: the encoder's fingerprint (model and prompts)."""
    return str(encoder.fingerprint or encoder.name)


@dataclass(frozen=True)
class Manifest:
    """What an index was built from; a mismatch means rebuild, never a silent wrong answer."""

    format: int
    model: str
    encoder: str  # the encoder's fingerprint: model and prompts (see model_key)
    dim: int
    corpus: str  # corpus fingerprint
    chunk_ids: list[str]
    units: int  # vectors: one per chunk and one per sentence
    files: dict[str, str]  # file name -> sha256, to detect truncation or corruption
    built_at: float
    build_seconds: float


@dataclass(frozen=True)
class Fusion:
    """How lexical and dense scores are combined per query.

    Chosen with scripts/tune_retrieval.py on dev.jsonl + dev2.jsonl (170 passage and figure questions,
    evidence in the first three chunks, multilingual-e5-small; each file reported apart):
    - min-max on both sides beat max-scaling, z-scores and reciprocal rank fusion (0.871 against 0.853,
      0.853 and 0.865 at best, chunk-level BM25); depth 20 beat 10 and 40;
    - the dense sentence mix is flat between 0.25 and 0.75;
    - the lexical sentence mix: 0 gives 0.871, 0.4-0.6 gives 0.882-0.888 at dense weights 0.3-0.4
      (passages unchanged, figures +2 to +3 questions), 0.75 hurts passages;
    - the dense weight, with that mix: 0.25 0.876, 0.3-0.4 0.882-0.888, 0.45 0.865; lexical alone 0.853,
      dense alone 0.735: each side finds what the other misses;
    - the words the lexicon adds to a passage question ("PTP" -> "PTP projet de transition professionnelle"),
      against the question's own words: 0 and 0.25 give 0.888, 0.5 0.894 (dev passages 0.95 -> 1.00, dev2
      0.90 -> 0.925), 0.75 and 1 0.882. Figure questions keep them whole (Assistant.retrieve).
    """

    dense_weight: float = 0.35  # lexical gets 1 - w (Settings.dense_weight, CEP_DENSE_WEIGHT)
    lexical: str = "minmax"  # how each side is put on one scale per query (see _normalize)
    dense: str = "minmax"
    depth: int = 20  # minmax: the depth-th best score and below map to 0
    sentence_weight: float = 0.5  # a chunk's dense score: (1 - a) * chunk cosine + a * its best sentence
    lexical_sentence_weight: float = 0.5  # the same mix on the lexical side, each part scaled per query
    added_weight: float = 0.5  # words the lexicon adds to a question (an acronym spelled out), against its own


class HybridIndex:
    """Lexical BM25 + dense FAISS over the same chunks, fused per query (see Fusion).

    The dense side holds one vector per chunk and one per sentence of a chunk (a "unit"); a chunk's
    dense score mixes its own cosine with its best sentence's, so one sentence that answers counts
    even in a long passage.
    """

    def __init__(
        self,
        chunks: list[Chunk],
        lexical: LexicalIndex,
        dense: DenseIndex,
        encoder: Encoder,
        dense_weight: float,
        units: np.ndarray | None = None,
        fine: LexicalIndex | None = None,
        late_tokens: PackedTokens | None = None,
        late: LateInteraction | None = None,
    ) -> None:
        self.chunks = chunks
        self.lexical = lexical
        # BM25 over the sentences of long chunks and the whole text of short ones (fine_rows: their chunk)
        self.fine = fine
        self.dense = dense
        self.encoder = encoder
        self.dense_weight = dense_weight
        self.fusion = Fusion(dense_weight=dense_weight)
        # units[i] = (chunk row, sentence index or WHOLE) of dense vector i
        self.units = units if units is not None else np.stack([np.arange(len(chunks)), np.full(len(chunks), WHOLE)], 1)
        self.folder: Path | None = None
        self._rows: dict[str, int] = {}
        self._units_of: dict[int, list[int]] = {}
        self.fine_rows = fine_rows(self.units)
        # late interaction (index.late): the projection, and the passages' token vectors made with it
        usable = (
            late is not None
            and late_tokens is not None
            and late_tokens.digest == late.digest()
            and len(late_tokens) == len(chunks)
        )
        self.late = late if usable else None
        self.late_tokens = late_tokens if usable else None
        self.queries = QueryEmbeddings(encoder, self.late)

    # -- build -------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        chunks: list[Chunk],
        encoder: Encoder,
        dense_weight: float = 0.35,
        progress: Progress | None = None,
        batch: int = 64,
        previous: HybridIndex | None = None,
        sentences: bool = True,
        sentence_min_chars: int | None = None,
        late: bool = True,
    ) -> HybridIndex:
        texts = [search_text(c) for c in chunks]
        if progress:
            progress("Index lexical", 0, len(texts))
        lexical = LexicalIndex.build(texts)
        units, unit_texts = unit_table(chunks, sentences, sentence_min_chars)
        # Unchanged passages keep their vectors (same model, same text): adding a document embeds only it.
        known = _reusable_vectors(previous)
        projection = load_late(model_key(encoder)) if late else None
        tokens = late_tokens_of(chunks, encoder, projection, previous, batch, progress, known)
        vectors = embed_units(unit_texts, encoder, known, batch, progress)
        fine = LexicalIndex.build(fine_texts(chunks, units, unit_texts))
        dense = DenseIndex.build(vectors)
        return cls(chunks, lexical, dense, encoder, dense_weight, units, fine, tokens, projection)

    def vectors_by_text(self) -> dict[str, np.ndarray]:
        """This index's vectors by embedded text hash, for reuse by the next build."""
        vectors = self.dense.vectors()
        texts = unit_texts_of(self.chunks, self.units)
        return {_text_key(t): v for t, v in zip(texts, vectors, strict=True)}

    # -- search ------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        mode: str = "hybrid",
        dense_weight: float | None = None,
        dense_query: str | None = None,
        fusion: Fusion | None = None,
    ) -> list[Hit]:
        """Best chunks for a query; mode is "hybrid", "lexical" or "dense".

        The lexical side reads `query` (filler words out, lexicon synonyms in); the dense side reads
        `dense_query` (the question as typed, shorthand expanded) when given.
        """
        combined = self.scores(query, mode, dense_weight, dense_query, fusion)
        return [Hit(self.chunks[i], float(combined[i])) for i in top_rows(combined, k)]

    def scores(
        self,
        query: str,
        mode: str = "hybrid",
        dense_weight: float | None = None,
        dense_query: str | None = None,
        fusion: Fusion | None = None,
        added: str = "",
    ) -> np.ndarray:
        """Fused score of every chunk (0 to 1; 0 when neither side finds it); `added`: words the lexicon adds
        to the query, weighing Fusion.added_weight on the lexical side."""
        n = len(self.chunks)
        combined = np.zeros(n, dtype=np.float32)
        if n == 0 or not query.strip():
            return combined
        f = fusion or self.fusion
        w = f.dense_weight if dense_weight is None else dense_weight
        w = 0.0 if mode == "lexical" else 1.0 if mode == "dense" else w
        if w < 1.0:
            combined += (1.0 - w) * self.lexical_scores(query, f, added)
        if w > 0.0:
            combined += w * _normalize(self.dense_scores(dense_query or query, f), f.dense, f.depth)
        if mode == "hybrid" and self.late is not None and self.late_tokens is not None:
            tokens = self.queries.token_vectors(dense_query or query)
            combined = self.late.rescore(tokens, self.late_tokens, combined)
        return combined

    def lexical_scores(self, query: str, fusion: Fusion | None = None, added: str = "") -> np.ndarray:
        """Lexical score of every chunk, scaled per query: its BM25 mixed with its best sentence's."""
        f = fusion or self.fusion
        scores = _normalize(self.lexical.scores(query, added, f.added_weight), f.lexical, f.depth)
        a = f.lexical_sentence_weight
        if a <= 0 or self.fine is None:
            return scores
        best = np.zeros(len(self.chunks), dtype=np.float32)
        np.maximum.at(best, self.fine_rows, self.fine.scores(query, added, f.added_weight))
        return (1.0 - a) * scores + a * _normalize(best, f.lexical, f.depth)

    def dense_scores(self, text: str, fusion: Fusion | None = None) -> np.ndarray:
        """Dense score of every chunk: its cosine mixed with its best sentence's (0 for chunks not reached)."""
        f = fusion or self.fusion
        n = len(self.chunks)
        vec = self.query_vector(text)
        depth = min(self.dense.size, max(200, 4 * f.depth))
        scores, rows = self.dense.search(vec, depth)
        valid = rows >= 0
        scores, rows = np.maximum(scores[valid], 0.0), rows[valid]
        chunk_rows = self.units[rows, 0]
        is_whole = self.units[rows, 1] == WHOLE
        floor = float(scores.min()) if scores.size else 0.0  # what a chunk beyond the searched depth gets
        whole = np.full(n, floor, dtype=np.float32)
        whole[chunk_rows[is_whole]] = scores[is_whole]
        best = whole.copy()  # a chunk of one sentence has no sentence vectors: the chunk is its sentence
        np.maximum.at(best, chunk_rows[~is_whole], scores[~is_whole])
        a = f.sentence_weight
        out = (1.0 - a) * whole + a * best
        reached = np.zeros(n, dtype=bool)
        reached[chunk_rows] = True
        out[~reached] = floor
        return out

    def sentence_similarities(self, text: str, chunk_id: str) -> dict[int, float]:
        """Cosine of the query with each sentence vector of a chunk, by index in
        `passage_sentences(chunk.quote, lists=False)` (list items apart)."""
        units = self.units_of(self.row_of(chunk_id))
        sentences = [u for u in units if self.units[u, 1] != WHOLE]
        if not sentences:
            return {}
        vec = self.query_vector(text)
        vectors = self.dense.vectors(np.array(sentences))
        return {int(self.units[u, 1]): float(s) for u, s in zip(sentences, vectors @ vec, strict=True)}

    def query_vector(self, text: str) -> np.ndarray:
        """Embedding of a question, computed once (index.queries): the routing detector and the figure engine ask
        here too, so one question gets one embedding."""
        return self.queries.vector(text)

    def row_of(self, chunk_id: str) -> int:
        if not self._rows:
            self._rows = {c.id: i for i, c in enumerate(self.chunks)}
        return self._rows[chunk_id]

    def units_of(self, row: int) -> list[int]:
        """Dense vector numbers of one chunk (itself and its sentences)."""
        if not self._units_of:
            for u, r in enumerate(self.units[:, 0].tolist()):
                self._units_of.setdefault(r, []).append(u)
        return self._units_of.get(row, [])

    # -- save / load -------------------------------------------------------------------------
    def save(self, folder: Path, corpus_fingerprint: str, build_seconds: float) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in self.chunks:
                f.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
        self.lexical.save(folder)
        if self.fine is not None:
            self.fine.save(folder, "lexical_sentences")
        self.dense.save(folder / "dense.faiss")
        np.save(folder / "units.npy", self.units.astype(np.int32))
        if self.late_tokens is not None:
            self.late_tokens.save(folder)
        files = {p.name: file_sha256(p) for p in sorted(folder.iterdir()) if p.is_file() and p.name != "manifest.json"}
        manifest = Manifest(
            FORMAT_VERSION,
            self.encoder.name,
            model_key(self.encoder),
            self.dense.dim,
            corpus_fingerprint,
            [c.id for c in self.chunks],
            int(self.dense.size),
            files,
            time.time(),
            build_seconds,
        )
        (folder / "manifest.json").write_text(json.dumps(asdict(manifest), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, encoder: Encoder, dense_weight: float, verify: bool = True) -> HybridIndex:
        manifest = checked_manifest(folder, encoder, verify)
        try:
            chunks = []
            with open(folder / "chunks.jsonl", encoding="utf-8") as f:
                for line in f:
                    d = json.loads(line)
                    d["lines"] = tuple(d["lines"]) if d.get("lines") else None
                    d["span"] = tuple(d["span"]) if d.get("span") else None
                    chunks.append(Chunk(**d))
            lexical = LexicalIndex.load(folder)
            fine = LexicalIndex.load(folder, "lexical_sentences")
            dense = DenseIndex.load(folder / "dense.faiss")
            units = np.load(folder / "units.npy").astype(np.int64)
            late_tokens = PackedTokens.load(folder)
        except Exception as exc:  # any damaged artefact means the same thing: rebuild
            raise IndexUnavailable(f"Index illisible ({type(exc).__name__}) : reconstruisez-le.") from exc
        if (
            [c.id for c in chunks] != manifest.chunk_ids
            or dense.size != len(units)
            or units.ndim != 2
            or (len(units) and (units[:, 0].min() < 0 or units[:, 0].max() >= len(chunks)))
        ):
            raise IndexUnavailable("Index incohérent (segments et vecteurs ne correspondent pas) : reconstruisez-le.")
        late = load_late(model_key(encoder))
        idx = cls(chunks, lexical, dense, encoder, dense_weight, units, fine, late_tokens, late)
        if late is not None and idx.late is None and getattr(encoder, "gives_tokens", False) and not _too_many(chunks):
            # a projection refitted (or added) since the build: the passages' token vectors are made again
            # (a corpus past LATE_MAX_PASSAGES never has them: rebuilding would not make them)
            raise IndexUnavailable("Index sans les vecteurs de mots de la projection actuelle : reconstruisez-le.")
        if fine.matrix is None or fine.matrix.shape[0] != len(idx.fine_rows):
            raise IndexUnavailable("Index incohérent (phrases et segments ne correspondent pas) : reconstruisez-le.")
        idx.folder = folder
        return idx


def top_rows(scores: np.ndarray, k: int) -> list[int]:
    """Rows of the k best positive scores, best first (ties in row order)."""
    order = np.argsort(-scores, kind="stable")[:k]
    return [int(i) for i in order if scores[i] > 0]


def _normalize(scores: np.ndarray, how: str, depth: int) -> np.ndarray:
    """Scores of one query on a common scale, 0 meaning no evidence.

    "minmax": the best maps to 1, the depth-th best and below to 0; "max": divided by the best;
    "zscore": standard deviations above the mean (0 below it); "rank": reciprocal rank fusion,
    (61) / (60 + rank); "raw": unchanged.
    """
    if not scores.size or how == "raw":
        return scores
    top = float(scores.max())
    if top <= 0 and how != "zscore":
        return np.zeros_like(scores)
    if how == "max":
        return scores / top
    if how == "zscore":
        sd = float(scores.std())
        return np.clip((scores - scores.mean()) / sd, 0.0, None).astype(np.float32) if sd > 0 else scores * 0
    if how == "rank":
        ranks = np.empty(scores.size, dtype=np.float32)
        ranks[np.argsort(-scores, kind="stable")] = np.arange(1, scores.size + 1)
        return np.where(scores > 0, 61.0 / (60.0 + ranks), 0.0).astype(np.float32)
    d = min(max(depth, 1), scores.size)
    low = float(np.partition(scores, -d)[-d])
    if top <= low:
        return (scores >= top).astype(np.float32)
    return np.clip((scores - low) / (top - low), 0.0, None).astype(np.float32)


def embed_units(
    texts: list[str],
    encoder: Encoder,
    known: dict[str, np.ndarray],
    batch: int = 64,
    progress: Progress | None = None,
) -> np.ndarray:
    """The vector of each unit text: a known one (by text hash) is kept, the others are embedded."""
    vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    # A text met twice is embedded once: 55 of the 2 761 texts of the built-in corpus ("Source :", a repeated
    # table heading).
    copies: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        vector = known.get(_text_key(text))
        if vector is None:
            copies.setdefault(text, []).append(i)
        else:
            vectors[i] = vector
    todo = [rows[0] for rows in copies.values()]
    # Longest first, in calls of at most `batch` texts and CALL_CHARS characters: the texts of a call
    # have about the same length (little padding), its attention buffers stay small (peak memory),
    # and progress moves.
    todo.sort(key=lambda i: -len(texts[i]))
    done = 0
    for rows in calls(todo, [len(texts[i]) for i in todo], batch):
        vectors[rows] = encoder.encode([texts[i] for i in rows])
        done += len(rows)
        if progress:
            progress("Calcul des embeddings", done, len(todo))
    for same in copies.values():
        vectors[same[1:]] = vectors[same[0]]
    return vectors


def late_tokens_of(
    chunks: list[Chunk],
    encoder: Encoder,
    late: LateInteraction | None,
    previous: HybridIndex | None = None,
    batch: int = 64,
    progress: Progress | None = None,
    vectors: dict[str, np.ndarray] | None = None,
) -> PackedTokens | None:
    """The token vectors of every chunk projected by `late`, when there is one and the encoder gives token vectors
    (else None: the fused search alone). A chunk of the previous build keeps its vectors. The same
    forward pass gives the chunks' embeddings: they go into `vectors` (by text), not to be embedded again.
    Above LATE_MAX_PASSAGES, none (their memory would outgrow the rest of the index)."""
    if late is None or not getattr(encoder, "gives_tokens", False):
        return None
    if _too_many(chunks):
        log.warning("%d passages : sans relecture mot à mot (au-delà de %d).", len(chunks), LATE_MAX_PASSAGES)
        return None
    texts = [search_text(c) for c in chunks]
    known: dict[str, np.ndarray] = {}
    if previous is not None and previous.late_tokens is not None and previous.late_tokens.digest == late.digest():
        known = {_text_key(search_text(c)): previous.late_tokens.of(i) for i, c in enumerate(previous.chunks)}
    out: list[np.ndarray | None] = [known.get(_text_key(t)) for t in texts]
    todo = sorted((i for i, v in enumerate(out) if v is None), key=lambda i: -len(texts[i]))
    done = 0
    for rows in calls(todo, [len(texts[i]) for i in todo], batch):
        embedded, states = encoder.encode_with_tokens([texts[i] for i in rows], query=False)  # type: ignore[attr-defined]
        for i, state, vector in zip(rows, states, embedded, strict=True):
            out[i] = late.project(state)
            if vectors is not None:
                vectors[_text_key(texts[i])] = vector
        done += len(rows)
        if progress:
            progress("Calcul des embeddings (passages et leurs mots)", done, len(todo))
    return PackedTokens.pack([v for v in out if v is not None], late)


def _too_many(chunks: list[Chunk]) -> bool:
    """Past LATE_MAX_PASSAGES, an index has no token vectors (built without them, loaded without asking)."""
    return len(chunks) > LATE_MAX_PASSAGES


def _reusable_vectors(previous: HybridIndex | None) -> dict[str, np.ndarray]:
    """The previous build's vectors by text, or none when they cannot be matched to their texts: an index
    written by another version of the code (its sentences cut differently) is embedded again, not a failure."""
    if previous is None:
        return {}
    try:
        return previous.vectors_by_text()
    except (IndexError, ValueError, KeyError) as exc:
        log.warning("Index précédent d'une autre version (%s) : tous les passages sont recalculés.", exc)
        return {}


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checked_manifest(folder: Path, encoder: Encoder, verify: bool = True) -> Manifest:
    """The manifest of an index this encoder can search, its files intact (verify: checked against their sha256)."""
    manifest = read_manifest(folder)
    if manifest.format != FORMAT_VERSION:
        raise IndexUnavailable("Index d'un format ancien : reconstruisez-le.")
    if manifest.encoder != model_key(encoder):
        raise IndexUnavailable(
            f"Index construit avec un autre modèle ou d'autres consignes ({manifest.encoder}) : reconstruisez-le."
        )
    if verify:
        for name, digest in manifest.files.items():
            path = folder / name
            if not path.exists() or file_sha256(path) != digest:
                raise IndexUnavailable(f"Index endommagé : le fichier « {name} » est absent ou modifié.")
    return manifest


def read_manifest(folder: Path) -> Manifest:
    path = folder / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(**data)
    except FileNotFoundError as exc:
        raise IndexUnavailable("Aucun index construit : lancez « cep-assistant build ».") from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise IndexUnavailable(f"Manifeste d'index illisible ({exc}) : reconstruisez l'index.") from exc


def current_build(index_dir: Path) -> Path | None:
    """The folder of the index in use, from the pointer file."""
    try:
        name = json.loads((index_dir / CURRENT).read_text(encoding="utf-8"))["build"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    folder = index_dir / "builds" / name
    return folder if folder.is_dir() else None


def is_fresh(index_dir: Path, model: str | Encoder, corpus_fingerprint: str) -> bool:
    """True when the index in use was built from this corpus with this model (and its prompts, given an encoder)."""
    folder = current_build(index_dir)
    if folder is None:
        return False
    try:
        m = read_manifest(folder)
    except IndexUnavailable:
        return False
    same_model = m.model == model if isinstance(model, str) else m.encoder == model_key(model)
    return m.format == FORMAT_VERSION and same_model and m.corpus == corpus_fingerprint


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
            if read_manifest(old).encoder == model_key(encoder):  # vectors of another model are never reused
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
