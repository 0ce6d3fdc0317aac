"""The answer policy: one number when the ranker is sure enough, the few best with their context when not,
"the documents do not give it" when nothing fits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from assistant.figures.features import Candidates
from assistant.figures.rank import Ranker, value_probabilities

MAX_SHOWN = 3  # candidate numbers shown when not sure (the "up to three")


@dataclass(frozen=True)
class Choice:
    """One distinct value among the candidates: its probability and the fact that states it best."""

    value: float
    probability: float
    fact: int  # row of the fact table
    corroborating: tuple[int, ...] = ()  # other facts stating the same value


@dataclass(frozen=True)
class Decision:
    """What to answer: one value, several candidates, or that the documents do not give the figure."""

    kind: Literal["answer", "candidates", "absent"]
    choices: list[Choice]
    none_probability: float
    missing: list[str]  # for "absent": what the closest facts break (year, region, operator, metric)
    elsewhere: bool = False  # "absent" choices are the same figure for a wider territory, shown as such


def decide(
    ranker: Ranker, cands: Candidates, values: list[float], other_years: Callable[[int], list[int]] | None = None
) -> Decision:
    """Apply the calibrated levels of the ranker to a question's candidates.

    other_years(fact) gives the candidate facts that state the same thing for another year (a question
    that names no year, over reports of several years): those are shown side by side, never one picked.
    """
    if not cands.rows:
        missing = _missing(cands)
        return Decision("absent", [], 1.0, missing)
    p, p_none = ranker.probabilities(cands.X, cands.G)
    ranked = value_probabilities(values, p)
    choices = []
    for value, prob, k in ranked[: MAX_SHOWN * 2]:
        same = [cands.rows[j] for j in np.argsort(-p) if values[j] == value and j != k][:2]
        choices.append(Choice(value, prob, cands.rows[k], tuple(same)))
    best = choices[0]
    if is_absent(best.probability, p_none, ranker.absent_level, ranker.weak_level):
        return Decision("absent", choices[:MAX_SHOWN], p_none, _missing(cands))
    if other_years is not None:
        years = set(other_years(best.fact))
        same = [c for c in choices[1:] if c.fact in years]
        if same:
            return Decision("candidates", [best, *same][:MAX_SHOWN], p_none, [])
    if best.probability >= ranker.answer_level:
        return Decision("answer", choices[:1], p_none, [])
    return Decision("candidates", choices[:MAX_SHOWN], p_none, [])


def is_absent(p_best: float, p_none: float, absent_level: float, weak_level: float) -> bool:
    """The documents most likely do not give the figure: "none" is likely, or the best value is very unlikely.
    Both levels are calibrated together by cross-validation (scripts/fit_figure_ranker.py)."""
    return (p_none >= absent_level and p_none > p_best) or p_best < weak_level


def _missing(cands: Candidates) -> list[str]:
    """What the best blocked facts break, most telling first (the year or territory asked is not covered)."""
    if not cands.blocked:
        return []
    best = cands.blocked[0][2]
    close = [v for _, v, cov in cands.blocked if cov >= best - 0.1]
    order = ("region", "year", "operator", "metric")
    counts = {k: sum(k in v for v in close) for k in order}
    return [k for k in order if counts[k] and counts[k] * 2 >= len(close)] or list(cands.blocked[0][1])
