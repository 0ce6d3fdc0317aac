"""Dense index: FAISS over L2-normalized embeddings (inner product equals cosine on normalized vectors)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

# A flat scan is exact; it stays the index until it costs more than embedding the question itself. Measured on
# the bench's ×100 corpus (277 746 vectors of 384 floats, one thread): 24.6 ms a search, against 15 to 30 ms for
# one question's embedding. Past that, HNSW with the setting below, whose recall is poor there (recall@10 against
# flat 0.25 at efSearch 64, 0.45 at 512; README, « Vitesse »): no setting reaching 0.95 was found.
HNSW_MIN_VECTORS = 250_000
HNSW_M = 32  # graph degree
HNSW_EF_CONSTRUCTION = 40  # candidates visited while building (faiss's default)
HNSW_EF_SEARCH = 64  # candidates visited a search


class DenseIndex:
    """build / search / save / load over one FAISS index."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray) -> DenseIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if len(vectors) >= HNSW_MIN_VECTORS:
            index: faiss.Index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION  # type: ignore[attr-defined]
            index.hnsw.efSearch = HNSW_EF_SEARCH  # type: ignore[attr-defined]
        else:
            index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return cls(index)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the k nearest vectors; rows are -1 when fewer exist."""
        k = max(1, min(k, self.size))
        scores, rows = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        return scores[0], rows[0]

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        return cls(faiss.read_index(str(path)))
