"""French lexical index: BM25 over folded, elision-split, stemmed tokens, with typo-tolerant queries."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from ingest.spelling import Speller
from ingest.text import stem, words


@dataclass
class LexicalIndex:
    """BM25 (k1, b) over a sparse term-document matrix; vocabulary kept for typo correction."""

    vocab: dict[str, int] = field(default_factory=dict)  # stem -> column
    surface: dict[str, str] = field(default_factory=dict)  # surface word -> stem, for typo lookup
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    matrix: sparse.csr_matrix | None = None  # docs x terms, BM25 weights
    k1: float = 1.2
    b: float = 0.75
    _speller: Speller | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(cls, texts: list[str], k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        """Index texts (one per chunk, in order)."""
        idx = cls(k1=k1, b=b)
        rows, cols, vals = [], [], []
        lengths = np.zeros(len(texts), dtype=np.float32)
        df: Counter[int] = Counter()
        for i, text in enumerate(texts):
            ws = words(text)
            counts: Counter[int] = Counter()
            for w in ws:
                s = stem(w)
                idx.surface.setdefault(w, s)
                col = idx.vocab.setdefault(s, len(idx.vocab))
                counts[col] += 1
            lengths[i] = len(ws)
            for col, count in counts.items():
                rows.append(i)
                cols.append(col)
                vals.append(count)
                df[col] += 1
        n = float(max(len(texts), 1))
        avg = float(lengths.mean()) if len(texts) else 1.0
        dfa = np.array([df[c] for c in range(len(idx.vocab))], dtype=np.float32)
        idx.idf = np.log(1.0 + (n - dfa + 0.5) / (dfa + 0.5)).astype(np.float32)
        tf = np.array(vals, dtype=np.float32)
        norm = k1 * (1 - b + b * lengths[np.array(rows, dtype=np.int64)] / max(avg, 1e-6)) if rows else tf
        weights = tf * (k1 + 1) / (tf + norm) if rows else tf
        idx.matrix = sparse.csr_matrix((weights, (rows, cols)), shape=(len(texts), len(idx.vocab)), dtype=np.float32)
        return idx

    def query_terms(self, text: str, added: str = "", added_weight: float = 1.0) -> dict[int, float]:
        """Columns of the query's terms (typos mapped to the closest indexed word) and their weight; the terms
        of `added` (words a lexicon adds to the question) weigh added_weight."""
        terms: dict[int, float] = {}
        if added:
            terms = {c: v * added_weight for c, v in self.query_terms(added).items()}
        for w in words(text):
            s = stem(w)
            col = self.vocab.get(s)
            weight = 1.0
            if col is None and len(w) >= 5 and not w.isdigit():
                col = self._closest(w)
                weight = 0.8
            if col is not None:
                terms[col] = max(terms.get(col, 0.0), weight)
        return terms

    def _closest(self, word: str) -> int | None:
        """Column of the indexed word a typo stands for (the one typo policy, ingest.spelling; memoized there, as
        coverage() asks again for every hit)."""
        if self._speller is None:
            self._speller = Speller(self.surface)
        fixed = self._speller.correct(word)
        return self.vocab.get(self.surface[fixed]) if fixed in self.surface else None

    def scores(self, text: str, added: str = "", added_weight: float = 1.0) -> np.ndarray:
        """BM25 score of every document for the query (and the added words, weighing added_weight)."""
        if self.matrix is None or self.matrix.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        terms = self.query_terms(text, added, added_weight)
        if not terms:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        cols = np.fromiter(terms.keys(), dtype=np.int64)
        q = np.fromiter(terms.values(), dtype=np.float32) * self.idf[cols]
        return np.asarray(self.matrix[:, cols] @ q).ravel()

    def rows_with(self, text: str) -> np.ndarray:
        """Rows of the documents holding every word of a text (typos mapped as in queries)."""
        if self.matrix is None:
            return np.zeros(0, dtype=np.int64)
        cols = list(self.query_terms(text))
        if not cols or len(cols) < len({stem(w) for w in words(text)}):
            return np.zeros(0, dtype=np.int64)  # a word found nowhere: no document holds them all
        present = np.asarray((self.matrix[:, cols] > 0).sum(axis=1)).ravel()
        return np.flatnonzero(present == len(cols))

    def coverage(self, text: str, row: int) -> float:
        """Share of the query's weight (idf) found in one document; unknown words weigh most."""
        ws = words(text)
        if not ws or self.matrix is None:
            return 0.0
        max_idf = float(self.idf.max()) if len(self.idf) else 1.0
        total = found = 0.0
        doc = self.matrix.getrow(row)
        present = set(doc.indices.tolist())
        for w in dict.fromkeys(ws):
            col = self.query_terms(w)
            if not col:
                total += max_idf
                continue
            c = next(iter(col))
            weight = float(self.idf[c])
            total += weight
            if c in present:
                found += weight
        return found / total if total else 0.0

    def save(self, folder: Path, name: str = "lexical") -> None:
        assert self.matrix is not None
        sparse.save_npz(folder / f"{name}.npz", self.matrix)
        np.save(folder / f"{name}_idf.npy", self.idf)
        (folder / f"{name}_vocab.json").write_text(
            json.dumps({"vocab": self.vocab, "surface": self.surface, "k1": self.k1, "b": self.b}), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path, name: str = "lexical") -> LexicalIndex:
        meta = json.loads((folder / f"{name}_vocab.json").read_text(encoding="utf-8"))
        return cls(
            vocab=meta["vocab"],
            surface=meta["surface"],
            idf=np.load(folder / f"{name}_idf.npy"),
            matrix=sparse.load_npz(folder / f"{name}.npz").tocsr(),
            k1=meta["k1"],
            b=meta["b"],
        )
