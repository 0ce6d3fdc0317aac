"""Fitted artefacts, one lifecycle: fitted by `make fit` (scripts/fit.py) from data in the repository, saved as
JSON with a manifest (data hash, base model, seed, cross-validated scores) under knowledge/models/, loaded at
start and never fitted there. JSON keeps every float exactly (repr round-trips), so a refit is byte-identical.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import KnowledgeError

MODELS = "models"  # under the knowledge folder


def data_hash(*paths: Path) -> str:
    """sha256 of the files a model is fitted on (names and contents), in the given order."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def save(path: Path, manifest: dict[str, Any], params: dict[str, Any]) -> None:
    """Write an artefact: the manifest first, then the parameters; stable key order, one line per key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"manifest": manifest, "params": params}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, indent=0, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")


def load(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(manifest, params) of an artefact; KnowledgeError names the file and says how to refit it."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return dict(body["manifest"]), dict(body["params"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KnowledgeError(f"{path} : modèle ajusté illisible ({exc}) ; relancez « make fit ».") from exc


def floats(values: np.ndarray, decimals: int | None = None) -> list[float]:
    """A float array as JSON numbers (float64 repr: exact); `decimals` rounds away a solver's last-bit noise
    (sums in a thread-dependent order), so that a refit writes the same file."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if decimals is not None:
        array = np.round(array, decimals) + 0.0  # + 0.0: no "-0.0"
    return [float(v) for v in array]


def tfidf_params(vectorizers: Iterable[Any]) -> dict[str, Any]:
    """Fitted TF-IDF vectorizers as JSON: the n-th one's terms by column (terms_n) and idf weights (idf_n)."""
    out: dict[str, Any] = {}
    for n, v in enumerate(vectorizers):
        out[f"terms_{n}"] = sorted(v.vocabulary_, key=v.vocabulary_.__getitem__)
        out[f"idf_{n}"] = floats(v.idf_)
    return out


def restore_tfidf(vectorizers: tuple[Any, ...], params: dict[str, Any]) -> tuple[Any, ...]:
    """Unfitted TF-IDF vectorizers given what tfidf_params saved: they transform as the fitted ones did."""
    for n, v in enumerate(vectorizers):
        v.vocabulary_ = {t: i for i, t in enumerate(params[f"terms_{n}"])}
        v.idf_ = np.asarray(params[f"idf_{n}"], dtype=np.float64)
    return vectorizers


class Logistic:
    """A fitted binary logistic regression, read from its weights (scikit-learn's coef_ and intercept_)."""

    def __init__(self, coef: np.ndarray, intercept: float) -> None:
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = float(intercept)

    @classmethod
    def of(cls, model: Any) -> Logistic:
        """From a fitted sklearn LogisticRegression (classes 0/1)."""
        return cls(model.coef_[0], float(model.intercept_[0]))

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Logistic:
        return cls(np.asarray(params["coef"], dtype=np.float64), params["intercept"])

    def params(self) -> dict[str, Any]:
        return {"coef": floats(self.coef), "intercept": float(self.intercept)}

    def probability(self, x: Any) -> np.ndarray:
        """P(class 1) for each row of x (dense array or sparse matrix)."""
        z = np.asarray(x @ self.coef).ravel() + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


def tfidf_transform(vectorizer: Any, texts: list[str]) -> Any:
    """What a fitted TfidfVectorizer's `transform` gives (CSR, float64, the same values to the last bit, tested),
    without scikit-learn's per-call validation: 0.05 ms a question instead of 0.9 (measured on dev questions), and
    several vectorizers read every question."""
    from scipy.sparse import csr_matrix

    if vectorizer.norm not in ("l2", None) or not vectorizer.use_idf or vectorizer.binary:
        return vectorizer.transform(texts)
    analyze = vectorizer.build_analyzer()
    vocabulary, idf = vectorizer.vocabulary_, vectorizer.idf_
    indptr, indices, data = [0], [], []
    for text in texts:
        counts: dict[int, int] = {}
        for term in analyze(text):
            col = vocabulary.get(term)
            if col is not None:
                counts[col] = counts.get(col, 0) + 1
        cols = sorted(counts)
        values = np.array([counts[c] for c in cols], dtype=np.float64)
        if vectorizer.sublinear_tf:
            values = np.log(values) + 1.0
        values *= idf[cols]
        if vectorizer.norm == "l2":
            total = 0.0
            for v in values.tolist():  # in column order, one by one, as scikit-learn sums a row
                total += v * v
            if total > 0.0:
                values /= np.sqrt(total)
        indices.extend(cols)
        data.extend(values.tolist())
        indptr.append(len(indices))
    return csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int32)),
        shape=(len(texts), len(idf)),
    )
