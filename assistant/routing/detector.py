"""Is this a routing question? A logistic regression on the question's embedding and the situation
extractor's signals, fitted by `make fit` on the labeled example bank and saved in knowledge/models/."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant import learned
from assistant.learned import Logistic
from assistant.routing.examples import ExampleBank
from index.encoders import Encoder
from index.queries import Embed, encode_queries

log = logging.getLogger(__name__)

# Chosen by cross-validation on the bank (scripts/eval_routing.py --cv: 5-fold, mean of 5 shuffles,
# multilingual-e5-small). C: 4 → accuracy 0.979, 16 → 0.983, 64 → 0.983, 256 → 0.982 at threshold
# 0.5; at 0.7, 64 is best (0.977; 16: 0.969). Signals scaled by 1 or 2 are within 0.002; without
# them (scale 0) recall drops. The threshold is above 0.5 because a figure or definition question
# answered with an operator misleads more than a situation answered with passages: at 0.7 precision
# 0.984 and recall 0.974, at 0.5 precision 0.979 and recall 0.990.
C = 64.0
SIGNAL_SCALE = 1.0
THRESHOLD = 0.7
QUERY_CACHE = 512


def bank_vectors(encoder: Encoder, bank: ExampleBank, cache_dir: Path | None = None) -> np.ndarray:
    """Embeddings of the bank, read from cache_dir when computed before with this model and bank."""
    model = encoder.fingerprint  # the name and the prompts
    key = hashlib.sha256(f"{model}|query|{bank.digest}".encode()).hexdigest()[:24]
    path = cache_dir / f"bank-{key}.npy" if cache_dir else None
    if path is not None and path.exists():
        try:
            vectors = np.load(path)
            if vectors.shape[0] == len(bank.examples):
                return vectors
        except (OSError, ValueError) as exc:  # damaged cache: computed again below
            log.warning("Cache des exemples d'orientation illisible (%s) : recalcul.", exc)
    vectors = np.asarray(encode_queries(encoder, bank.texts), dtype=np.float32)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp-{os.getpid()}.npy")
            np.save(tmp, vectors)
            os.replace(tmp, path)
        except OSError as exc:  # a read-only disk costs a recomputation at the next start, nothing else
            log.warning("Cache des exemples d'orientation non écrit (%s).", exc)
    return vectors


def features(vectors: np.ndarray, signals: np.ndarray, signal_scale: float = SIGNAL_SCALE) -> np.ndarray:
    """One row per question: its embedding, then its situation signals (scaled)."""
    return np.hstack([vectors, signal_scale * np.atleast_2d(signals)]).astype(np.float32)


def _classifier(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression  # fitting only: answering never imports scikit-learn

    return LogisticRegression(C=c, class_weight="balanced", max_iter=2000)


@dataclass
class RoutingDetector:
    """A fitted classifier and the encoder that embeds the questions it is asked about."""

    encoder: Encoder
    classifier: Logistic
    signal_scale: float = SIGNAL_SCALE
    threshold: float = THRESHOLD
    embed: Embed | None = field(default=None, repr=False)  # a shared query cache; None: the detector's own
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def fit(
        cls,
        encoder: Encoder,
        vectors: np.ndarray,
        signals: np.ndarray,
        labels: list[bool],
        c: float = C,
        signal_scale: float = SIGNAL_SCALE,
        threshold: float = THRESHOLD,
    ) -> RoutingDetector:
        """Fit on the bank's embeddings and signals."""
        model = _classifier(c).fit(features(vectors, signals, signal_scale), np.asarray(labels, dtype=int))
        return cls(encoder, Logistic.of(model), signal_scale, threshold)

    def params(self) -> dict:
        """What `make fit` saves (with a manifest naming the encoder it was fitted with)."""
        return {**self.classifier.params(), "signal_scale": self.signal_scale, "threshold": self.threshold}

    @classmethod
    def load(cls, path: Path, encoder: Encoder, embed: Embed | None = None) -> RoutingDetector | None:
        """The detector fitted by `make fit` for this encoder; None (the lexicon's cues decide) for another model.
        embed: the question embedder to read (a shared cache); by default, the detector's own cache."""
        manifest, params = learned.load(path)
        if manifest.get("model") != encoder.fingerprint:
            log.info(
                "Détecteur d'orientation ajusté pour « %s », pas « %s » : les indices du lexique décident.",
                manifest.get("model"),
                encoder.fingerprint,
            )
            return None
        return cls(encoder, Logistic.from_params(params), params["signal_scale"], params["threshold"], embed)

    def vector(self, text: str) -> np.ndarray:
        if self.embed is not None:
            return self.embed(text)
        with self._lock:
            vec = self._cache.get(text)
        if vec is None:
            vec = np.asarray(encode_queries(self.encoder, [text]), dtype=np.float32)[0]
            with self._lock:
                if len(self._cache) >= QUERY_CACHE:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[text] = vec
        return vec

    def probability(self, text: str, signals: np.ndarray) -> float:
        """Probability that the text asks where a person in a situation should go."""
        row = features(self.vector(text)[None, :], signals, self.signal_scale)
        return float(self.classifier.probability(row)[0])

    def is_routing(self, text: str, signals: np.ndarray) -> bool:
        return self.probability(text, signals) >= self.threshold


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold probabilities on the bank, scored at a threshold."""

    probabilities: np.ndarray
    labels: np.ndarray
    threshold: float = THRESHOLD

    def at(self, threshold: float) -> CrossValidation:
        return CrossValidation(self.probabilities, self.labels, threshold)

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities >= self.threshold

    @property
    def n(self) -> int:
        return len(self.labels)

    @property
    def accuracy(self) -> float:
        return float((self.predicted == self.labels).mean())

    @property
    def precision(self) -> float:
        return float((self.predicted & self.labels).sum() / max(int(self.predicted.sum()), 1))

    @property
    def recall(self) -> float:
        return float((self.predicted & self.labels).sum() / max(int(self.labels.sum()), 1))

    @property
    def wrong(self) -> tuple[int, ...]:
        """Indexes of the examples misclassified out of fold."""
        return tuple(int(i) for i in np.flatnonzero(self.predicted != self.labels))

    def __str__(self) -> str:
        return (
            f"n={self.n} threshold={self.threshold} accuracy={self.accuracy:.3f} "
            f"precision={self.precision:.3f} recall={self.recall:.3f}"
        )


def cross_validate(
    vectors: np.ndarray,
    signals: np.ndarray,
    labels: list[bool],
    folds: int = 5,
    c: float = C,
    signal_scale: float = SIGNAL_SCALE,
    threshold: float = THRESHOLD,
    seed: int = 0,
) -> CrossValidation:
    """Stratified k-fold: fit on k-1 folds, predict the last; every example is predicted once."""
    x = features(vectors, signals, signal_scale)
    y = np.asarray(labels, dtype=bool)
    probabilities = np.zeros(len(y), dtype=np.float64)
    from sklearn.model_selection import StratifiedKFold

    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        model = _classifier(c).fit(x[train], y[train].astype(int))
        probabilities[test] = model.predict_proba(x[test])[:, 1]
    return CrossValidation(probabilities, y, threshold)
