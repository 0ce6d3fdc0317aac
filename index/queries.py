"""Question embeddings, computed once per question text and kept (suggested questions, kiosk buttons, and the
routing detector, the figure engine and the search asking about the same question), with the question's token
vectors when the index rescores by late interaction (index/late.py): both from one forward pass."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from index.encoders import Encoder
from index.late import LateInteraction

QUERY_CACHE_SIZE = 1024

# The one question embedder the engines are given (the index's cached query_vector in the application).
Embed = Callable[[str], np.ndarray]


def encode_queries(encoder: Encoder, texts: list[str]) -> np.ndarray:
    """Question vectors: the encoder's query side (e5's "query: " prompt)."""
    return encoder.encode_query(texts)


def embedder(encoder: Encoder) -> Embed:
    """A question embedder without a cache, straight from an encoder (tools, tests, an engine used alone)."""
    return lambda text: np.asarray(encoder.encode_query([text]), dtype=np.float32)[0]


class QueryEmbeddings:
    """A bounded cache of question vectors (oldest out first), and of their projected token vectors."""

    def __init__(self, encoder: Encoder, late: LateInteraction | None = None) -> None:
        self.encoder = encoder
        self.late = late
        self.vectors: dict[str, np.ndarray] = {}
        self.tokens: dict[str, np.ndarray] = {}
        self.lock = threading.Lock()

    def vector(self, text: str) -> np.ndarray:
        with self.lock:
            vec = self.vectors.get(text)
        if vec is None:
            tokens = None
            if self.late is not None:
                vectors, states = self.encoder.encode_with_tokens([text], query=True)  # type: ignore[attr-defined]
                vec, tokens = vectors[0], self.late.project(states[0])
            else:
                vec = encode_queries(self.encoder, [text])[0]
            with self.lock:
                if len(self.vectors) >= QUERY_CACHE_SIZE:
                    oldest = next(iter(self.vectors))
                    self.vectors.pop(oldest)
                    self.tokens.pop(oldest, None)
                self.vectors[text] = vec
                if tokens is not None:
                    self.tokens[text] = tokens
        return vec

    def token_vectors(self, text: str) -> np.ndarray:
        """The question's projected token vectors (computed with its embedding; late interaction only)."""
        with self.lock:
            tokens = self.tokens.get(text)
            if tokens is None:
                self.vectors.pop(text, None)  # embedded before the cache kept tokens: once more, with them
        if tokens is None:
            self.vector(text)
            with self.lock:
                tokens = self.tokens[text]
        return tokens

    def clear(self) -> None:
        with self.lock:
            self.vectors.clear()
            self.tokens.clear()
