"""What the ranker sees: the hard filters a fact must pass and the features of each (question, fact) pair."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assistant.figures.parse import UNIT_FAMILIES, Query, QuestionReader, has
from assistant.records import Hit
from ingest.text import STOP_WORDS, clean_markup, fold, stem, tokens

FEATURES = (
    "coverage",  # share of the question's weighted words found around the number (graded by distance)
    "cov_clause",  # ... in the number's own clause
    "cov_sentence",  # ... in its sentence or table row
    "cov_line",  # ... in its line, the line before, the table caption
    "cov_heading",  # ... in its section headings
    "cov_own",  # ... in words of its clause that no other number of the same sentence has in its clause
    "cov_synonym",  # ... through a synonym of the lexicon only
    "counted_agrees",  # "combien d'agences": the word after the number is "agences"
    "counted_differs",  # ... it is another word ("8 Directions")
    "retrieved",  # 1 / (1 + rank) of the passage holding the number in the retrieval hits
    "operator_explicit",  # the operator asked is named by the number's sentence or table row
    "operator_inherited",  # ... only by its section
    "operator_unstated",  # an operator is asked, the fact names none
    "scope_explicit",  # the territory asked is stated next to the number
    "scope_inherited",  # ... only by the section or the document
    "scope_other",  # the number is explicitly about another territory than the one asked
    "region_unasked",  # the number is about another region, none asked
    "year_primary",  # the year asked is the number's own year
    "year_secondary",  # ... one of the years of its sentence
    "year_unasked_old",  # no year asked, the number is about an earlier year than the newest in the corpus
    "unit_asked",  # the unit asked (percent, days...) is the number's unit
    "unit_rare",  # ... and it is a rare unit (money, area, score)
    "percent_unasked",  # no unit asked ("combien") and the number is a share
    "metric_agrees",  # the number's clause names the metric asked (entrées, sortants, femmes...)
    "metric_silent",  # a metric is asked, neither clause nor sentence names one
    "is_table",
    "numbers_in_sentence",  # log(1 + how many numbers its sentence states)
    "first_in_sentence",  # the number is the first of its sentence
    "in_parentheses",  # "(les 4 % restants)": an aside
    "sim_clause",  # cosine of question and clause (semantic model)
    "sim_sentence",  # cosine of question and sentence
    "sim_heading",  # cosine of question and section headings
)

# What the question as a whole looks like: these move the score of "none of the candidates".
QUESTION_FEATURES = (
    "best_blocked_coverage",  # coverage of the best fact that breaks a year, territory, operator or metric
    "best_coverage",  # coverage of the best candidate
    "candidate_count",  # log(1 + number of candidates)
    "best_similarity",  # best cosine of question and candidate clause
)


@dataclass(frozen=True)
class Candidates:
    """Facts that pass the hard filters for a question, their features, and the facts filtered out."""

    rows: list[int]
    X: np.ndarray  # len(rows) x len(FEATURES)
    G: np.ndarray  # QUESTION_FEATURES
    blocked: list[tuple[int, list[str], float]]  # (fact row, what it breaks, its coverage), best first


class FactView:
    """Per-fact word sets and vectors, computed once from the fact table and the corpus."""

    def __init__(self, facts: pd.DataFrame, corpus, reader: QuestionReader, vectors: np.ndarray | None) -> None:
        self.df = facts
        self.reader = reader
        line_text: dict[tuple[str, int], str] = {}
        previous: dict[tuple[str, int], str] = {}
        for name, doc in corpus.documents.items():
            last = ""
            for li in doc.lines:
                if li.text.strip():
                    line_text[(name, li.number)] = li.text
                    # a short line, or one after "...:", reads with the line before it
                    if len(li.text) < 100 or last.rstrip().endswith(":"):
                        previous[(name, li.number)] = last
                    last = li.text
        self.rows = list(facts.astype(object).itertuples(index=False))
        self.near: list[set[str]] = []
        self.before: list[set[str]] = []
        self.sent: list[set[str]] = []
        self.line: list[set[str]] = []
        self.ctx: list[set[str]] = []
        self.around: list[str] = []
        self.counted: list[str] = []
        self.n_numbers: list[int] = []
        self.first: list[bool] = []
        self.paren: list[bool] = []
        per_sentence: dict[tuple[str, int, str], list[int]] = {}
        for i, r in enumerate(self.rows):
            near = str(r.near)
            self.near.append(set(tokens(near)))
            cut = near.find(str(r.number_text))
            self.before.append(set(tokens(near[:cut])) if cut > 0 and r.kind != "table" else self.near[-1])
            self.sent.append(set(tokens(str(r.sentence))))
            key = (str(r.document), int(r.line))
            around = " ".join(
                [line_text.get(key, ""), previous.get(key, "") if r.kind != "table" else "", str(r.caption)]
            )
            self.line.append(set(tokens(around)))
            self.around.append(fold(clean_markup(f"{r.sentence} {around}")))
            self.counted.append(counted_after(str(r.sentence), str(r.number_text)))
            self.ctx.append(set(tokens(str(r.context))))
            per_sentence.setdefault((key[0], key[1], str(r.sentence)), []).append(i)
            sentence = str(r.sentence)
            at = sentence.find(str(r.number_text))
            self.paren.append(at > 0 and sentence[:at].count("(") > sentence[:at].count(")"))
        n_numbers = [0] * len(self.rows)
        first = [False] * len(self.rows)
        self.own: list[set[str]] = [set() for _ in self.rows]
        for members in per_sentence.values():
            for j, i in enumerate(members):
                n_numbers[i] = len(members)
                first[i] = j == 0
                others = set().union(*(self.near[k] for k in members if k != i)) if len(members) > 1 else set()
                self.own[i] = self.near[i] - others
        self.n_numbers, self.first = n_numbers, first
        self.ops = [set(filter(None, str(x).split(","))) for x in facts["operators"]]
        self.scopes = [set(filter(None, str(x).split(","))) for x in facts["scopes"]]
        self.years = [{int(y) for y in str(x).split(",") if y.strip().isdigit()} for x in facts["years"]]
        self.metrics = [reader.metrics_in(str(r.near)) for r in self.rows]
        self.sent_metrics = [reader.metrics_in(f"{r.sentence} {self.around[i]}") for i, r in enumerate(self.rows)]
        self.caption_metrics = [
            reader.metrics_in(str(r.caption)) if r.kind == "table" else frozenset() for r in self.rows
        ]
        known = [int(y) for y in facts["year"].dropna()]
        self.newest_year = max(known) if known else None
        self.by_line: dict[tuple[str, int], list[int]] = {}
        for i, r in enumerate(self.rows):
            self.by_line.setdefault((str(r.document), int(r.line)), []).append(i)
        self.vectors = vectors  # (n_facts, 3, dim): clause, sentence, headings; None without a model

    @staticmethod
    def texts(facts: pd.DataFrame) -> list[str]:
        """The texts embedded per fact, in order: clause, sentence, headings."""
        out = []
        for r in facts.astype(object).itertuples(index=False):
            if r.kind == "table":  # a cell reads as its table's caption, its row and its column
                clause = " — ".join(x for x in (str(r.caption), str(r.row_label), str(r.column)) if x and x != "nan")
            else:
                clause = str(r.near)
            out += [clean_markup(clause), clean_markup(str(r.sentence)), clean_markup(str(r.context))]
        return out

    def same_statement_other_year(self, i: int, among: list[int]) -> list[int]:
        """Facts among `among` that say the same thing as fact i about another year (same words, other numbers):
        the same indicator in the reports of two years."""
        year = self.rows[i].year
        key = self.statement_key(i)
        return [
            j
            for j in among
            if j != i and not pd.isna(self.rows[j].year) and self.rows[j].year != year and self.statement_key(j) == key
        ]

    def statement_key(self, i: int) -> str:
        """A fact's sentence or table row without its numbers, years and spacing."""
        r = self.rows[i]
        text = f"{r.row_label} {r.column}" if r.kind == "table" else str(r.near)
        return re.sub(r"[\d\s.,%]+", " ", fold(clean_markup(text))).strip()

    # --- hard filters ------------------------------------------------------------------------------

    def violations(self, q: Query, i: int) -> list[str] | None:
        """What a fact breaks in the question (None: not even the unit fits, it is no candidate)."""
        r = self.rows[i]
        units = UNIT_FAMILIES.get(q.unit or "")
        if units is not None and r.unit not in units:
            return None
        if units is None and r.unit == "years":
            return None
        evidence = self.reader.lexicon.unit_evidence.get(q.unit or "")
        if evidence and not any(has(self.around[i], w) for w in evidence):
            return None
        out: list[str] = []
        if q.operators and not set(q.operators) & self.ops[i] and self.ops[i]:
            out.append("operator")
        wanted_regions = [s for s in q.scopes if s.startswith("other:")]
        if wanted_regions:
            if not set(wanted_regions) & self.scopes[i]:
                out.append("region")
        elif q.scopes and not set(q.scopes) & self.scopes[i] and any(s.startswith("other:") for s in self.scopes[i]):
            out.append("region")
        if q.years and self.years[i] and not self.years[i] & set(q.years):
            out.append("year")
        if q.metrics:
            fm, from_caption = self.metrics[i], False
            if not fm and r.kind == "table":
                fm, from_caption = self.caption_metrics[i], True
            if (fm and not fm & q.metrics) or (from_caption and fm - q.metrics):
                out.append("metric")
        return out

    # --- features ----------------------------------------------------------------------------------

    def candidates(self, q: Query, hits: list[Hit], qvec: np.ndarray | None) -> Candidates:
        """Every fact that passes the hard filters, with its feature vector."""
        hit_rank: dict[tuple[str, int], int] = {}
        for rank, h in enumerate(hits[:8]):
            if h.chunk.lines:
                for n in range(h.chunk.lines[0], h.chunk.lines[1] + 1):
                    hit_rank.setdefault((h.chunk.document, n), rank)
        rows: list[int] = []
        broken: list[tuple[int, list[str]]] = []
        for i in range(len(self.rows)):
            v = self.violations(q, i)
            if v is None:
                continue
            if v:
                broken.append((i, v))
            else:
                rows.append(i)
        X = np.zeros((len(rows), len(FEATURES)), dtype=np.float64)
        sims = None
        if qvec is not None and self.vectors is not None and rows:
            sims = self.vectors[rows] @ qvec  # (n, 3): cosines on normalized vectors
        for k, i in enumerate(rows):
            X[k] = self._features(q, i, hit_rank, sims[k] if sims is not None else None)
        blocked = sorted(((i, v, self._coverage(q, i)) for i, v in broken), key=lambda b: -b[2])[:20]
        G = np.array(
            [
                blocked[0][2] if blocked else 0.0,
                float(X[:, 0].max()) if len(rows) else 0.0,
                float(np.log1p(len(rows))),
                float(X[:, FEATURES.index("sim_clause")].max()) if len(rows) else 0.0,
            ]
        )
        return Candidates(rows, X, G, blocked)

    def _coverage(self, q: Query, i: int) -> float:
        """Graded share of the question's words around a fact (the first feature alone)."""
        total = sum(q.weights.values()) or 1.0
        fields = (self.before[i], self.near[i], self.sent[i], self.line[i], self.ctx[i])
        grades = (1.0, 0.9, 0.75, 0.6, 0.3)
        got = sum(
            w * next((g for f, g in zip(fields, grades, strict=True) if t in f), 0.0) for t, w in q.weights.items()
        )
        return got / total if q.weights else 0.3

    def _features(self, q: Query, i: int, hit_rank: dict, sims: np.ndarray | None) -> np.ndarray:
        r = self.rows[i]
        total = sum(q.weights.values()) or 1.0
        fields = (self.before[i], self.near[i], self.sent[i], self.line[i], self.ctx[i])
        grades = (1.0, 0.9, 0.75, 0.6, 0.3)
        found = [0.0] * 5
        got = syn = own = 0.0
        for t, w in q.weights.items():
            if t in self.own[i]:
                own += w
            m = next((g for f, g in zip(fields, grades, strict=True) if t in f), 0.0)
            for j, f in enumerate(fields[1:], start=1):
                if t in f:
                    found[j] += w
            if m < 0.75:
                alts = [a for a, src in q.expansions.items() if src == t]
                via = max([0.8 if a in self.near[i] else 0.6 if a in self.sent[i] else 0.0 for a in alts] + [0.0])
                if via > m:
                    syn += w
                    m = via
            got += w * m
        coverage = got / total if q.weights else 0.3
        fops = self.ops[i]
        op_explicit = bool(q.operators) and r.operator in q.operators and r.operator_source in ("sentence", "table")
        op_any = bool(set(q.operators) & fops)
        explicit_scope = r.scope_source in ("sentence", "table", "caption")
        fscopes = self.scopes[i]
        scope_match = bool(q.scopes) and bool(set(q.scopes) & fscopes)
        year = None if pd.isna(r.year) else int(r.year)
        units = UNIT_FAMILIES.get(q.unit or "")
        metric_agrees = metric_silent = 0.0
        if q.metrics and q.unit in (None, "count"):  # a share's "des bénéficiaires" is its base, not its metric
            fm = self.metrics[i] or (self.caption_metrics[i] if r.kind == "table" else frozenset())
            if fm & q.metrics:
                metric_agrees = 1.0
            elif not self.sent_metrics[i] & q.metrics:
                metric_silent = 1.0
        at = hit_rank.get((str(r.document), int(r.line)))
        return np.array(
            [
                coverage,
                found[1] / total,
                found[2] / total,
                found[3] / total,
                found[4] / total,
                own / total,
                syn / total,
                float(bool(q.asked_object) and self.counted[i] == q.asked_object),
                float(bool(q.asked_object) and bool(self.counted[i]) and self.counted[i] != q.asked_object),
                0.0 if at is None else 1.0 / (1 + at),
                float(op_explicit),
                float(op_any and not op_explicit),
                float(bool(q.operators) and not fops),
                float(scope_match and explicit_scope),
                float(scope_match and not explicit_scope),
                float(bool(q.scopes) and not scope_match and explicit_scope and bool(fscopes)),
                float(not q.scopes and any(s.startswith("other:") for s in fscopes)),
                float(bool(q.years) and year in q.years),
                float(bool(q.years) and year not in q.years and bool(self.years[i] & set(q.years))),
                float(not q.years and year is not None and self.newest_year is not None and year < self.newest_year),
                float(bool(q.unit) and units is not None),
                float(q.unit in ("money", "km2", "score")),
                float(q.unit is None and r.unit == "percent"),
                metric_agrees,
                metric_silent,
                float(r.kind == "table"),
                math.log1p(self.n_numbers[i]),
                float(self.first[i]),
                float(self.paren[i]),
                *(sims if sims is not None else (0.0, 0.0, 0.0)),
            ]
        )


def counted_after(sentence: str, number_text: str) -> str:
    """Stem of the word right after the number in its sentence ("77 agences" -> stem("agences"))."""
    text = fold(clean_markup(sentence))
    num = fold(clean_markup(number_text))
    at = text.find(num)
    if at < 0:
        return ""
    m = re.match(r"\W*([a-z]{4,})", text[at + len(num) :])
    word = m.group(1) if m else ""
    return stem(word) if word and word not in STOP_WORDS else ""
