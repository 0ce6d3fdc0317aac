"""Dense index: FAISS over L2-normalized embeddings (inner product equals cosine on normalized vectors)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

# A flat scan is exact; it stays the index until it costs more than embedding the question itself. Measured by
# `cep-assistant bench --scale 100`: 4.6 ms for 41 800 vectors of 384 floats on 2 cores (0.11 µs a vector),
# against 15 to 30 ms for one question's embedding: the two meet near 270 000 vectors. Below that, HNSW only
# lost recall (recall@10 against flat 0.22 on the benchmark's near-duplicate synthetic corpus at ×100).
HNSW_MIN_VECTORS = 250_000
HNSW_M = 32  # graph degree
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
