"""The figure ranker: a listwise (conditional logit) model over a question's candidate facts, with a "none" option.

Each candidate gets a score w·x (standardized features); a "none of them" option gets a learned score b.
A softmax over the options gives the probability that each candidate states the answer; a value's
probability is the sum over the facts stating it (the same number stated twice corroborates itself),
and the "none" probability says how likely the documents do not hold the figure. It is fitted on
labeled questions (knowledge/training/figure_questions.jsonl) by `scripts/fit_figure_ranker.py`, which
scores it by cross-validation on questions left out of each fit and stores weights, thresholds and
the cross-validated precision/coverage curve in knowledge/figure_ranker.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.errors import KnowledgeError
from assistant.figures.features import FEATURES, QUESTION_FEATURES

RANKER_FILE = "figure_ranker.json"


@dataclass
class Example:
    """One training list: candidate features, which candidates state the gold number, a weight."""

    X: np.ndarray
    G: np.ndarray  # question-level features, which move the "none" score
    positive: np.ndarray  # bool per row; none true: the right choice is "none of them"
    weight: float = 1.0
    group: str = ""  # the question it comes from (cross-validation folds never split a group)


@dataclass
class Ranker:
    """Weights over FEATURES, the "none" score, standardization, and the calibrated decision levels."""

    features: tuple[str, ...]
    weights: np.ndarray
    none_score: float
    none_weights: np.ndarray  # over QUESTION_FEATURES
    mean: np.ndarray
    scale: np.ndarray
    answer_level: float = 1.0  # least value probability to state one number (calibrated, see fit script)
    absent_level: float = 1.0  # least "none" probability to say the documents do not give the figure
    weak_level: float = 0.0  # below this, the best value is too unlikely: the figure is most likely not given
    report: dict = field(default_factory=dict)  # how the levels were measured (cross-validation)

    def scores(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean) / self.scale) @ self.weights

    def probabilities(self, X: np.ndarray, G: np.ndarray) -> tuple[np.ndarray, float]:
        """Probability of each candidate, and of "none of them"."""
        s = self.scores(X) if len(X) else np.zeros(0)
        b = self.none_score + float(G @ self.none_weights)
        top = max(float(s.max()) if len(s) else b, b)
        e = np.exp(s - top)
        e0 = float(np.exp(b - top))
        z = e.sum() + e0
        return e / z, e0 / z

    def save(self, path: Path) -> None:
        data = {
            "features": list(self.features),
            "weights": [round(float(w), 6) for w in self.weights],
            "none_score": round(self.none_score, 6),
            "question_features": list(QUESTION_FEATURES),
            "none_weights": [round(float(w), 6) for w in self.none_weights],
            "mean": [round(float(x), 6) for x in self.mean],
            "scale": [round(float(x), 6) for x in self.scale],
            "answer_level": self.answer_level,
            "absent_level": self.absent_level,
            "weak_level": self.weak_level,
            "report": self.report,
        }
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, knowledge_dir: Path) -> Ranker:
        """The fitted ranker of knowledge/figure_ranker.json; a clear error if absent or for other features."""
        path = knowledge_dir / RANKER_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            ranker = cls(
                tuple(data["features"]),
                np.asarray(data["weights"], dtype=np.float64),
                float(data["none_score"]),
                np.asarray(data["none_weights"], dtype=np.float64),
                np.asarray(data["mean"], dtype=np.float64),
                np.asarray(data["scale"], dtype=np.float64),
                float(data["answer_level"]),
                float(data["absent_level"]),
                float(data.get("weak_level", 0.0)),
                dict(data.get("report", {})),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KnowledgeError(
                f"{path} : classement des chiffres illisible ({exc}) ; lancez scripts/fit_figure_ranker.py."
            ) from exc
        if ranker.features != FEATURES or tuple(data.get("question_features", ())) != QUESTION_FEATURES:
            raise KnowledgeError(
                f"{path} : ajusté sur d'autres caractéristiques ; relancez scripts/fit_figure_ranker.py."
            )
        return ranker


def fit(examples: list[Example], l2: float = 1.0) -> Ranker:
    """Maximum likelihood of the right option of each list (weighted), with an L2 penalty on the weights.

    l2 = 1.0 on standardized features: chosen by cross-validation in scripts/fit_figure_ranker.py.
    """
    from scipy.optimize import minimize

    d, g = len(FEATURES), len(QUESTION_FEATURES)
    rows = np.vstack([e.X for e in examples if len(e.X)]) if examples else np.zeros((0, d))
    mean = rows.mean(axis=0) if len(rows) else np.zeros(d)
    scale = rows.std(axis=0) if len(rows) else np.ones(d)
    scale = np.where(scale > 1e-9, scale, 1.0)
    lists = [((e.X - mean) / scale, e.G, e.positive, e.weight) for e in examples]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b0, v = theta[:d], theta[d], theta[d + 1 :]
        total = 0.5 * l2 * (float(w @ w) + float(v @ v))
        grad = np.zeros(d + 1 + g)
        grad[:d] = l2 * w
        grad[d + 1 :] = l2 * v
        for Z, G, pos, weight in lists:
            b = b0 + float(G @ v)
            s = Z @ w if len(Z) else np.zeros(0)
            top = max(float(s.max()) if len(s) else b, b)
            e = np.exp(s - top)
            e0 = np.exp(b - top)
            z = e.sum() + e0
            p, p0 = e / z, e0 / z
            if pos.any():
                num = e[pos].sum()
                q = np.where(pos, e / num, 0.0)  # the posterior over the right options
                q0 = 0.0
                total -= weight * (np.log(num) - np.log(z))
            else:
                q = np.zeros_like(p)
                q0 = 1.0
                total -= weight * (np.log(e0) - np.log(z))
            grad[:d] += weight * ((p - q) @ Z if len(Z) else 0.0)
            grad[d] += weight * (p0 - q0)
            grad[d + 1 :] += weight * (p0 - q0) * G
        return total, grad

    theta0 = np.zeros(d + 1 + g)
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return Ranker(FEATURES, res.x[:d], float(res.x[d]), res.x[d + 1 :], mean, scale)


def value_probabilities(values: list[float], p: np.ndarray) -> list[tuple[float, float, int]]:
    """(value, probability, best candidate index) per distinct value, most probable first."""
    by_value: dict[float, tuple[float, int]] = {}
    for k, v in enumerate(values):
        prob, best = by_value.get(v, (0.0, k))
        if p[k] > p[best]:
            best = k
        by_value[v] = (prob + float(p[k]), best)
    return sorted(((v, pb, k) for v, (pb, k) in by_value.items()), key=lambda t: -t[1])
