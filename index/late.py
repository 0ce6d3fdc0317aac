"""Late interaction: the question's token vectors read against each passage's, every question token taking its
best match in the passage (MaxSim), in a space learned on the training bank (scripts/fit_late.py).

It rescores the first passages of the fused search, so that a passage which says what the question asks, in its
own words, rises over one that only shares the question's topic. The question's token vectors come from the one
forward pass that also gives its embedding (no second model, no second pass); the passages' are computed at
build time, projected to a few dimensions and kept in half precision beside the index.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.encoders import MODELS_DIR

LATE_DIR = MODELS_DIR / "late_interaction"


@dataclass(frozen=True, eq=False)
class LateInteraction:
    """A learned projection of token vectors, and how its MaxSim mixes with the fused score."""

    projection: np.ndarray  # (model dim, d), float32
    weight: float  # share of the late score among the first `depth` passages (cross-validated by section)
    depth: int  # passages rescored
    encoder: str  # the encoder fingerprint it was fitted on: another model's tokens mean nothing to it

    def digest(self) -> str:
        """What projected token vectors depend on: the projection (a refit makes the index's stale)."""
        return hashlib.sha256(np.ascontiguousarray(self.projection, dtype=np.float32).tobytes()).hexdigest()[:16]

    def project(self, states: np.ndarray) -> np.ndarray:
        """Token vectors (n, model dim) into the learned space, normalized, float16."""
        out = np.asarray(states, dtype=np.float32) @ self.projection
        out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-9
        return out.astype(np.float16)

    def maxsim(self, question: np.ndarray, tokens: PackedTokens, rows: list[int]) -> np.ndarray:
        """For each row: the mean over the question's tokens of their best cosine in the passage."""
        q = question.astype(np.float32)
        out = np.zeros(len(rows), dtype=np.float32)
        spans = [(k, tokens.offsets[r], tokens.offsets[r + 1]) for k, r in enumerate(rows)]
        spans = [(k, a, b) for k, a, b in spans if b > a]
        if not spans or not len(q):
            return out
        # one product for all the rows (0.8 ms a question less than one per row): starts of each row's columns
        passages = np.concatenate([tokens.vectors[a:b] for _, a, b in spans]).astype(np.float32)
        starts = np.cumsum([0, *(b - a for _, a, b in spans[:-1])])
        best = np.maximum.reduceat(q @ passages.T, starts, axis=1)  # (question tokens, rows)
        for j, (k, _, _) in enumerate(spans):
            out[k] = float(best[:, j].mean())
        return out

    def rescore(self, question: np.ndarray, tokens: PackedTokens, scores: np.ndarray) -> np.ndarray:
        """The fused scores with the first `depth` passages reordered by (1 - weight) × fused + weight × late,
        both min-max scaled among them, mapped back onto the fused scores' range there (the others unchanged)."""
        n = min(self.depth, len(scores))
        if n < 2:
            return scores
        rows = np.argsort(-scores, kind="stable")[:n]
        fused = scores[rows].astype(np.float64)
        late = self.maxsim(question, tokens, rows.tolist()).astype(np.float64)
        mixed = (1.0 - self.weight) * _minmax(fused) + self.weight * _minmax(late)
        out = scores.copy()
        out[rows] = (fused.min() + mixed * (fused.max() - fused.min())).astype(scores.dtype)
        return out

    def save(self, folder: Path, measured: dict) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "projection.npy", self.projection.astype(np.float32))
        manifest = {"weight": self.weight, "depth": self.depth, "encoder": self.encoder, "measured": measured}
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")


def load_late(encoder_fingerprint: str, folder: Path = LATE_DIR) -> LateInteraction | None:
    """The committed projection when it was fitted for this encoder, else None (the fused search alone)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("encoder") != encoder_fingerprint:
            return None
        projection = np.load(folder / "projection.npy").astype(np.float32)
        return LateInteraction(projection, float(manifest["weight"]), int(manifest["depth"]), encoder_fingerprint)
    except (OSError, ValueError, KeyError):
        return None


class PackedTokens:
    """The projected token vectors of every passage, end to end, with each passage's offsets."""

    def __init__(self, vectors: np.ndarray, offsets: np.ndarray, digest: str) -> None:
        self.vectors = vectors  # (total tokens, d) float16
        self.offsets = offsets  # (passages + 1,) int64
        self.digest = digest  # LateInteraction.digest of the projection they were made with

    @classmethod
    def pack(cls, per_passage: list[np.ndarray], late: LateInteraction) -> PackedTokens:
        offsets = np.cumsum([0, *(len(t) for t in per_passage)]).astype(np.int64)
        dim = late.projection.shape[1]
        vectors = np.concatenate(per_passage) if per_passage else np.zeros((0, dim), dtype=np.float16)
        return cls(vectors.astype(np.float16), offsets, late.digest())

    def of(self, row: int) -> np.ndarray:
        return self.vectors[self.offsets[row] : self.offsets[row + 1]]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def save(self, folder: Path) -> None:
        np.save(folder / "late_tokens.npy", self.vectors)
        np.save(folder / "late_offsets.npy", self.offsets)
        (folder / "late.json").write_text(json.dumps({"projection": self.digest}), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> PackedTokens | None:
        if not (folder / "late_tokens.npy").exists():
            return None
        digest = json.loads((folder / "late.json").read_text(encoding="utf-8"))["projection"]
        return cls(np.load(folder / "late_tokens.npy"), np.load(folder / "late_offsets.npy").astype(np.int64), digest)


def _minmax(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min())
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)
