"""Dense index: FAISS over L2-normalized embeddings (inner product equals cosine on normalized vectors)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

# A flat scan is exact; it stays the index until it costs more than embedding the question itself. Measured on
# the bench's ×100 corpus (277 746 vectors of 384 floats, one thread): 24.6 ms a search, against 15 to 30 ms for
# one question's embedding. Past that (distinct vectors: copies are held once), HNSW. Its setting was measured
# (8 Dec) on 277 745 distinct vectors, the ×100 corpus with every synthetic variant turned from its template by
# the angle measured on real variants (assistant.bench.vectors), against the flat index on the 245 dev and dev2
# questions: recall@10 0.946 / 0.981 at efSearch 256 / 512 with efConstruction 100 (build 55 s on 2 cores,
# 0.93 ms a search at 512); 0.970 / 0.993 with efConstruction 200 (build 106 s). faiss's default
# efConstruction 40 reached 0.25-0.45 on the copies the index held then.
HNSW_MIN_VECTORS = 250_000
HNSW_M = 32  # graph degree
HNSW_EF_CONSTRUCTION = 100  # candidates visited while building
HNSW_EF_SEARCH = 512  # candidates visited a search


class DenseIndex:
    """build / search / save / load over one FAISS index of distinct vectors.

    Units whose vectors are identical (a text met twice: a repeated heading, the sentences a yearly report
    keeps from one year to the next) share one FAISS row; `rows[u]` is unit u's row, and a search answers in
    units. Copies cost a flat scan time and lead an HNSW graph astray: on the bench's ×100 corpus, 277 746 units
    have 56 729 distinct texts (README, « Vitesse »).
    """

    def __init__(self, index: faiss.Index, rows: np.ndarray | None = None) -> None:
        self.index = index
        self.rows = np.arange(index.ntotal, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        # units of each FAISS row, in unit order: _units[_starts[r]:_starts[r + 1]]
        self._units = np.argsort(self.rows, kind="stable")
        self._starts = np.searchsorted(self.rows[self._units], np.arange(index.ntotal + 1))

    @classmethod
    def build(cls, vectors: np.ndarray) -> DenseIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        seen: dict[bytes, int] = {}
        rows = np.fromiter((seen.setdefault(v.tobytes(), len(seen)) for v in vectors), np.int64, len(vectors))
        # rows are numbered in order of first meeting: their first units come in unit order
        distinct = vectors[np.unique(rows, return_index=True)[1]] if len(seen) < len(vectors) else vectors
        dim = vectors.shape[1]
        if len(distinct) >= HNSW_MIN_VECTORS:
            index: faiss.Index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION  # type: ignore[attr-defined]
            index.hnsw.efSearch = HNSW_EF_SEARCH  # type: ignore[attr-defined]
        else:
            index = faiss.IndexFlatIP(dim)
        index.add(distinct)
        return cls(index, rows)

    @property
    def size(self) -> int:
        """Units (vectors as the caller gave them, copies included)."""
        return len(self.rows)

    @property
    def distinct(self) -> int:
        """Vectors FAISS holds."""
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, units) of the k nearest distinct vectors, each with every unit that shares it (so possibly
        more than k), best first."""
        k = max(1, min(k, self.distinct))
        scores, found = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        scores, found = scores[0], found[0]
        found_ok = found >= 0
        scores, found = scores[found_ok], found[found_ok]
        counts = self._starts[found + 1] - self._starts[found]
        offsets = np.repeat(self._starts[found] - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        return np.repeat(scores, counts), self._units[offsets]

    def vectors(self, units: np.ndarray | None = None) -> np.ndarray:
        """The vector of each unit (all units when none are given)."""
        if units is None:
            return self.index.reconstruct_n(0, self.distinct)[self.rows] if self.size else self._none()
        rows = self.rows[np.asarray(units, dtype=np.int64)]
        return np.stack([self.index.reconstruct(int(r)) for r in rows]) if len(rows) else self._none()

    def _none(self) -> np.ndarray:
        return np.zeros((0, self.dim), dtype=np.float32)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))
        np.save(_rows_path(path), self.rows.astype(np.int32))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        index = faiss.read_index(str(path))
        rows_file = _rows_path(path)
        rows = np.load(rows_file).astype(np.int64) if rows_file.exists() else None
        if rows is not None and len(rows) and (rows.min() < 0 or rows.max() >= index.ntotal):
            raise ValueError("unit rows out of range")
        return cls(index, rows)


def _rows_path(path: Path) -> Path:
    return path.with_name(path.stem + "_rows.npy")
