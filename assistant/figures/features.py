"""What the ranker sees: the hard filters a fact must pass and the features of each (question, fact) pair."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from assistant.figures.parse import UNIT_FAMILIES, FigureAsk, QuestionReader, has
from assistant.records import Hit
from ingest.facts import Fact, years_in
from ingest.numbers import DATE_UNITS
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
    "year_inherited_other",  # the year asked is not the one its caption, section or document gives it
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
    # against the best candidate of the same question (0 for the best): a fact that leads its list is likelier
    "rel_coverage",
    "rel_cov_clause",
    "rel_cov_own",
    "rel_sim_clause",
    "rel_sim_sentence",
    "coverage_retrieved",  # coverage × retrieved: the words are there and retrieval found the passage
    "cov_contrast",  # coverage with each word weighted by how few candidates have it near their number
    "operator_clause",  # the text before the number in its clause names the operator asked
    "operator_clause_other",  # ... names only another operator than the one asked
    "scope_clause",  # the number's clause names the territory asked ("dont 3 810 en Occitanie")
    "scope_clause_other",  # ... names only another territory
    "subset",  # the number's clause opens with "dont" or "parmi": a part of the number before it
    "decimal",  # the number is written with decimals ("51.44 %"): a detailed figure, not a rounded recall
    "numbers_near",  # share of the numbers the question states ("44 à 54 ans") found in the number's clause
    "numbers_line",  # ... found in its sentence or line
)
# Features of one fact whose value against the best of its list is also a feature (chosen by cross-validation
# in scripts/fit_figure_ranker.py: +6 points of questions answered at the same wrong rate, 318 questions).
RELATIVE = ("coverage", "cov_clause", "cov_own", "sim_clause", "sim_sentence")
PLACES = ("other:", "dep:", "city:")  # a region other than the document's, a département, a town: asked, a fact
# must name it (a town: in its text, facts carry no town scope)
_AT = {name: k for k, name in enumerate(FEATURES)}  # column of each feature

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

    def __init__(self, facts: list[Fact], corpus, reader: QuestionReader, vectors: np.ndarray | None) -> None:
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
        self.rows = facts
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
        self.near_scopes: list[set[str]] = []  # territories named in the number's clause
        self.lead_ops: list[set[str]] = []  # operators named before the number in its clause
        per_sentence: dict[tuple[str, int, str, bool], list[int]] = {}
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
            date = r.unit in DATE_UNITS  # a date is no sibling of its sentence's numbers
            per_sentence.setdefault((key[0], key[1], str(r.sentence), date), []).append(i)
            sentence = str(r.sentence)
            at = sentence.find(str(r.number_text))
            self.paren.append(at > 0 and sentence[:at].count("(") > sentence[:at].count(")"))
            lead = near[:cut] if cut > 0 and r.kind != "table" else ""
            self.near_scopes.append({k for k, _, _ in reader.entities.scope_mentions(fold(clean_markup(near)))})
            self.lead_ops.append({k for k, _, _ in reader.entities.operator_mentions(fold(clean_markup(lead)))})
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
        self.ops = [set(f.operators) for f in facts]
        self.scopes = [set(f.scopes) for f in facts]
        self.years = [set(f.years) for f in facts]
        # years named around a fact: its year may be one of them though extraction gave it another
        self.nearby_years = [set(years_in(f"{self.around[i]} {r.context}")) for i, r in enumerate(self.rows)]
        self.metrics = [reader.metrics_in(str(r.near)) for r in self.rows]
        self.sent_metrics = [reader.metrics_in(f"{r.sentence} {self.around[i]}") for i, r in enumerate(self.rows)]
        # a caption's first line is the table's title; the paragraph above may name others (« et non les … »)
        self.caption_metrics = [
            reader.metrics_in(str(r.caption).split(" / ")[0]) if r.kind == "table" else frozenset() for r in self.rows
        ]
        known = [f.year for f in facts if f.year is not None and f.unit not in DATE_UNITS]  # not « dès 2024 »
        self.newest_year = max(known) if known else None
        self.by_line: dict[tuple[str, int], list[int]] = {}
        for i, r in enumerate(self.rows):
            self.by_line.setdefault((str(r.document), int(r.line)), []).append(i)
        self.vectors = vectors  # (n_facts, 3, dim): clause, sentence, headings; None without a model
        self._town_facts: dict[str, frozenset[int]] = {}  # "city:…" -> the facts whose text names it
        self._index_words()

    def _index_words(self) -> None:
        """Word sets as sparse fact × word matrices, and per-fact columns as arrays: features are computed for
        all candidates at once (a figure question scores about a thousand facts)."""
        fields = (self.before, self.near, self.sent, self.line, self.ctx, self.own)
        vocab: dict[str, int] = {}
        for sets in fields:
            for words in sets:
                for w in words:
                    vocab.setdefault(w, len(vocab))
        self.vocab = vocab
        n = len(self.rows)

        def matrix(sets: list[set[str]]) -> sparse.csc_matrix:
            rows = [i for i, ws in enumerate(sets) for _ in ws]
            cols = [vocab[w] for ws in sets for w in ws]
            return sparse.csc_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(n, len(vocab)))

        self.words_in = [matrix(sets) for sets in fields]  # before, near, sentence, line, headings, own
        facts = self.rows
        self.a_operator = np.array([f.operator for f in facts], dtype=object)
        self.a_op_own = np.array([f.operator_source in ("sentence", "table") for f in facts], dtype=bool)
        self.a_scope_own = np.array([f.scope_source in ("sentence", "table", "caption") for f in facts], dtype=bool)
        self.stated_dates = [fold(r.number_text) if r.unit in DATE_UNITS else "\x00" for r in self.rows]
        self.a_year = np.array([np.nan if f.year is None else f.year for f in facts], dtype=np.float64)
        self.a_table = np.array([f.kind == "table" for f in facts], dtype=bool)
        self.a_percent = np.array([f.unit == "percent" for f in facts], dtype=bool)
        self.a_unit = np.array([f.unit for f in facts], dtype=object)
        self.a_counted = np.array(self.counted, dtype=object)
        self.a_decimal = np.array([bool(re.search(r"\d[.,]\d", str(r.number_text))) for r in self.rows], dtype=float)
        self.a_subset = np.array(
            [bool(re.match(r"\W*(?:dont|parmi)\b", fold(str(r.near)))) and r.kind != "table" for r in self.rows],
            dtype=float,
        )
        self.own_number = [set(tokens(str(r.number_text))) for r in self.rows]
        self.a_n_numbers = np.log1p(np.array(self.n_numbers, dtype=np.float64))
        self.a_first = np.array(self.first, dtype=np.float64)
        self.a_paren = np.array(self.paren, dtype=np.float64)
        self.a_no_ops = np.array([not ops for ops in self.ops])
        self.a_other_region = np.array([any(x.startswith("other:") for x in sc) for sc in self.scopes])
        self.a_line_key = [(str(r.document), int(r.line)) for r in self.rows]
        lex = self.reader.lexicon
        own_words = [
            fold(clean_markup(f"{r.row_label} {r.column}" if r.kind == "table" else str(r.near))) for r in self.rows
        ]
        self.a_total = np.array([any(has(t, w) for w in lex.totals) for t in own_words])
        # a figure stated over several years ("450 M€ sur 4 ans", "budget pluriannuel") answers no single year
        self.a_years_span = np.array([bool(_SPAN.search(fold(clean_markup(str(r.sentence))))) for r in self.rows])
        # a change is stated before its number or right after it ("une baisse de 3,78 %", "3,78 % de hausse"),
        # not by a clause that goes on past it ("162 517 sont entrés en CEP, soit une baisse de …")
        self.a_change = np.array(
            [
                bool(r.value) and (_signed(r) or any(has(t, w) for w in lex.changes))
                for r, t in zip(self.rows, map(_change_window, self.rows, own_words), strict=True)
            ]
        )

    def member(self, sets: list[set[Any]], wanted: set[Any], rows: list[int]) -> np.ndarray:
        """For each of `rows`: whether its set in `sets` meets `wanted`."""
        return np.array([bool(sets[i] & wanted) for i in rows], dtype=bool)

    # --- hard filters ------------------------------------------------------------------------------

    def unit_rows(self, q: FigureAsk) -> list[int]:
        """The facts of the unit family asked, all at once; no unit asked: any but an age or a date."""
        units = UNIT_FAMILIES.get(q.unit or "")
        fits = np.isin(self.a_unit, list(units)) if units is not None else ~np.isin(self.a_unit, ["years", *DATE_UNITS])
        return np.flatnonzero(fits).tolist()

    def violations(self, q: FigureAsk, i: int) -> list[str] | None:
        """What a fact of the unit asked (unit_rows) breaks in the question (None: it is no candidate)."""
        r = self.rows[i]
        if r.unit in DATE_UNITS and self.stated_dates[i] in q.folded:
            return None  # a date the question states is not the one it asks (« depuis quand l'arrêté du 29 mars… »)
        evidence = self.reader.lexicon.unit_evidence.get(q.unit or "")
        if evidence and not any(has(self.around[i], w) for w in evidence):
            return None
        out: list[str] = []
        if q.operators and not set(q.operators) & self.ops[i] and self.ops[i]:
            out.append("operator")
        wanted_regions = [s for s in q.scopes if s.startswith(PLACES)]
        if wanted_regions:
            if not set(wanted_regions) & self.scopes[i] and not any(self._names_town(i, s) for s in wanted_regions):
                out.append("region")
        elif q.scopes and not set(q.scopes) & self.scopes[i] and any(s.startswith("other:") for s in self.scopes[i]):
            out.append("region")
        if q.unit != "date" and q.years and self.years[i] and not (self.years[i] | self.nearby_years[i]) & set(q.years):
            out.append("year")  # a year named around the number (caption, line before, headings) may be its own
        if q.metrics:
            fm, from_caption = self.metrics[i], False
            if not fm and r.kind == "table":
                fm, from_caption = self.caption_metrics[i], True
            if (fm and not fm & q.metrics) or (from_caption and fm - q.metrics):
                out.append("metric")
        return out

    def _names_town(self, i: int, scope: str) -> bool:
        """Whether fact i's text (its sentence, lines, caption or headings) names the town of a "city:" scope."""
        if not scope.startswith("city:"):
            return False
        if scope not in self._town_facts:  # one pass over the facts per town, then kept (24 ms a question)
            self._town_facts[scope] = facts_naming(self.rows, self.around, scope.removeprefix("city:"))
        return i in self._town_facts[scope]

    # --- features ----------------------------------------------------------------------------------

    def candidates(self, q: FigureAsk, hits: list[Hit], qvec: np.ndarray | None) -> Candidates:
        """Every fact that passes the hard filters, with its feature vector."""
        hit_rank = hit_ranks(hits)
        rows: list[int] = []
        broken: list[tuple[int, list[str]]] = []
        for i in self.unit_rows(q):
            v = self.violations(q, i)
            if v is None:
                continue
            if v:
                broken.append((i, v))
            else:
                rows.append(i)
        rows = self.of_kind_asked(q, rows)
        sims = None
        if qvec is not None and self.vectors is not None and rows:
            sims = self.vectors[rows] @ qvec  # (n, 3): cosines on normalized vectors
        X = feature_matrix(self, q, rows, hit_rank, sims)
        cover = self._coverage(q, [i for i, _ in broken])
        blocked = sorted(((i, v, float(c)) for (i, v), c in zip(broken, cover, strict=True)), key=lambda b: -b[2])[:20]
        return Candidates(rows, X, question_features(X, blocked[0][2] if blocked else 0.0), blocked)

    def of_kind_asked(self, q: FigureAsk, rows: list[int]) -> list[int]:
        """A total asked with no operator named is answered by the totals among the candidates (those of no single
        operator first), a change asked by the numbers stating a change; the others are no candidates. When no
        candidate is of that kind, the question gets the candidates as they are (and the ranker decides)."""
        if q.change:  # "évolution … tous opérateurs confondus": the change of the total, not the total
            rows = [i for i in rows if self.a_change[i]] or rows
        if q.total and not q.operators:
            totals = [i for i in rows if self.a_total[i]]
            # "tous opérateurs confondus": the total of no single operator first
            rows = ([i for i in totals if not self.ops[i]] if q.all_operators else []) or totals or rows
        if len(q.years) == 1 and q.unit != "date":  # a year asked is not one the question states
            year = q.years[0]
            rows = [i for i in rows if not self.a_years_span[i]]
            if any(self.a_year[i] == year for i in rows):
                # a figure of another year is no answer when the documents give the one asked (a fact of no known
                # year, or whose sentence also names the year asked, may still be of it)
                rows = [i for i in rows if self.a_year[i] == year or np.isnan(self.a_year[i]) or year in self.years[i]]
        return rows

    def _coverage(self, q: FigureAsk, rows: list[int]) -> np.ndarray:
        """Graded share of the question's words around each fact, without synonyms (the first feature alone)."""
        if not q.weights:
            return np.full(len(rows), 0.3)
        terms = list(q.weights)
        w = np.array([q.weights[t] for t in terms], dtype=np.float64)
        grades = (1.0, 0.9, 0.75, 0.6, 0.3)  # before the number, its clause, sentence, line, headings
        graded = np.max([g * self.terms(f, terms, rows) for f, g in enumerate(grades)], axis=0)
        return graded @ w / (float(w.sum()) or 1.0)

    def terms(self, field: int, terms: list[str], rows: list[int]) -> np.ndarray:
        """len(rows) × len(terms): 1 where the term is among the field's words of the fact."""
        out = np.zeros((len(rows), len(terms)), dtype=np.float64)
        if not rows:
            return out
        m = self.words_in[field]  # csc: the facts holding word c are indices[indptr[c]:indptr[c + 1]]
        asked = np.asarray(rows)
        holds = np.zeros(m.shape[0], dtype=bool)
        # (a column slice of the sparse matrix cost 0.3 ms a call; 80 dev questions make 581 calls)
        for k, t in enumerate(terms):
            c = self.vocab.get(t, -1)
            if c >= 0:
                facts = m.indices[m.indptr[c] : m.indptr[c + 1]]
                holds[facts] = True
                out[:, k] = holds[asked]
                holds[facts] = False
        return out


def hit_ranks(hits: list[Hit]) -> dict[tuple[str, int], int]:
    """The rank of the first of the 8 best passages holding each (document, line)."""
    out: dict[tuple[str, int], int] = {}
    for rank, h in enumerate(hits[:8]):
        span = h.chunk.lines or h.chunk.span  # a PDF's passage is cited by page: its lines are in span
        if span:
            for n in range(span[0], span[1] + 1):
                out.setdefault((h.chunk.document, n), rank)
    return out


def facts_naming(facts: list[Fact], around: list[str], town: str) -> frozenset[int]:
    """The facts whose text (folded sentence and lines in `around`, and headings) names a town key."""
    forms = {town, town.replace("-", " ")}
    return frozenset(
        i for i, f in enumerate(facts) if any(has(f"{around[i]} {fold(clean_markup(f.context))}", t) for t in forms)
    )


def fact_texts(facts: list[Fact]) -> list[str]:
    """The texts embedded per fact, in order: clause, sentence, headings."""
    out = []
    for r in facts:
        if r.kind == "table":  # a cell reads as its table's caption, its row and its column (with their note)
            clause = " — ".join(x for x in (str(r.caption), str(r.near)) if x and x != "nan")
        else:
            clause = str(r.near)
        out += [clean_markup(clause), clean_markup(str(r.sentence)), clean_markup(str(r.context))]
    return out


def same_statement_other_year(rows: list[Any], i: int, among: list[int]) -> list[int]:
    """Facts among `among` that say the same thing as fact i about another year (same words, other numbers):
    the same indicator in the reports of two years."""
    year = rows[i].year
    if pd.isna(year):  # a fact of no known year (a leaflet, a note) has no other year to stand beside
        return []
    key = statement_key(rows[i])
    return [
        j
        for j in among
        if j != i and not pd.isna(rows[j].year) and rows[j].year != year and statement_key(rows[j]) == key
    ]


def statement_key(r: Any) -> str:
    """A fact's sentence or table row without its numbers, years and spacing."""
    text = f"{r.row_label} {r.column}" if r.kind == "table" else str(r.near)
    return re.sub(r"[\d\s.,%]+", " ", fold(clean_markup(text))).strip()


def feature_matrix(
    view: FactView, q: FigureAsk, rows: list[int], hit_rank: dict, sims: np.ndarray | None
) -> np.ndarray:
    """The FEATURES of the facts `rows` for a question: len(rows) x len(FEATURES), list-relative ones filled."""
    n = len(rows)
    X = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if not n:
        return X
    terms = list(q.weights)
    w = np.array([q.weights[t] for t in terms], dtype=np.float64)
    total = float(w.sum()) or 1.0
    grades = (1.0, 0.9, 0.75, 0.6, 0.3)  # before the number, its clause, sentence, line, headings
    inside = [view.terms(f, terms, rows) for f in range(5)]
    graded = np.max([g * m for g, m in zip(grades, inside, strict=True)], axis=0)
    # a word missing from the sentence may stand there as a synonym of the lexicon
    via = np.zeros_like(graded)
    for k, t in enumerate(terms):
        alts = [a for a, src in q.expansions.items() if src == t]
        if alts:
            near = view.terms(1, alts, rows).max(axis=1)
            sent = view.terms(2, alts, rows).max(axis=1)
            via[:, k] = np.maximum(0.8 * near, 0.6 * sent)
    use_syn = (graded < 0.75) & (via > graded)
    graded = np.where(use_syn, via, graded)
    f = _AT
    X[:, f["coverage"]] = graded @ w / total if terms else 0.3
    for name, m in zip(("cov_clause", "cov_sentence", "cov_line", "cov_heading"), inside[1:], strict=True):
        X[:, f[name]] = m @ w / total
    X[:, f["cov_own"]] = view.terms(5, terms, rows) @ w / total
    X[:, f["cov_synonym"]] = use_syn @ w / total
    if terms:  # a word every candidate has near its number separates none of them
        near_any = np.maximum(inside[0], inside[1])
        sharp = w * (1.0 - near_any.mean(axis=0))
        X[:, f["cov_contrast"]] = graded @ sharp / (float(sharp.sum()) or 1.0)
    counted = view.a_counted[rows]
    if q.asked_object:
        X[:, f["counted_agrees"]] = counted == q.asked_object
        X[:, f["counted_differs"]] = (counted != "") & (counted != q.asked_object)
    at = [hit_rank.get(view.a_line_key[i]) for i in rows]
    X[:, f["retrieved"]] = [0.0 if a is None else 1.0 / (1 + a) for a in at]
    if q.operators:
        asked = set(q.operators)
        explicit = np.isin(view.a_operator[rows], list(asked)) & view.a_op_own[rows]
        any_op = view.member(view.ops, asked, rows)
        X[:, f["operator_explicit"]] = explicit
        X[:, f["operator_inherited"]] = any_op & ~explicit
        X[:, f["operator_unstated"]] = view.a_no_ops[rows]
        lead = [view.lead_ops[i] for i in rows]
        X[:, f["operator_clause"]] = [bool(ops & asked) for ops in lead]
        X[:, f["operator_clause_other"]] = [bool(ops) and not ops & asked for ops in lead]
    scope_own = view.a_scope_own[rows]
    has_scope = np.array([bool(view.scopes[i]) for i in rows])
    if q.scopes:
        match = view.member(view.scopes, set(q.scopes), rows)
        X[:, f["scope_explicit"]] = match & scope_own
        X[:, f["scope_inherited"]] = match & ~scope_own
        X[:, f["scope_other"]] = ~match & scope_own & has_scope
        asked_scopes = set(q.scopes)
        named = [view.near_scopes[i] for i in rows]
        X[:, f["scope_clause"]] = [bool(sc & asked_scopes) for sc in named]
        X[:, f["scope_clause_other"]] = [bool(sc) and not sc & asked_scopes for sc in named]
    else:
        X[:, f["region_unasked"]] = view.a_other_region[rows]
    year = view.a_year[rows]
    if q.years:
        asked_years = set(q.years)
        primary = np.isin(year, list(asked_years))
        stated = view.member(view.years, asked_years, rows)
        has_years = np.array([bool(view.years[i]) for i in rows])
        X[:, f["year_primary"]] = primary
        X[:, f["year_secondary"]] = ~primary & stated
        X[:, f["year_inherited_other"]] = has_years & ~stated
    elif view.newest_year is not None:
        X[:, f["year_unasked_old"]] = ~np.isnan(year) & (year < view.newest_year)
    units = UNIT_FAMILIES.get(q.unit or "")
    X[:, f["unit_asked"]] = float(bool(q.unit) and units is not None)
    X[:, f["unit_rare"]] = float(q.unit in ("money", "km2", "score"))
    if q.unit is None:
        X[:, f["percent_unasked"]] = view.a_percent[rows]
    if q.metrics and q.unit in (None, "count"):  # a share's "des bénéficiaires" is its base, not its metric
        for k, i in enumerate(rows):
            fm = view.metrics[i] or (view.caption_metrics[i] if view.a_table[i] else frozenset())
            if fm & q.metrics:
                X[k, f["metric_agrees"]] = 1.0
            elif not view.sent_metrics[i] & q.metrics:
                X[k, f["metric_silent"]] = 1.0
    if q.numbers:  # the fact's own number is not one the question states about it
        own = np.array([[t in view.own_number[i] for t in q.numbers] for i in rows], dtype=bool)
        near = np.maximum(view.terms(0, list(q.numbers), rows), view.terms(1, list(q.numbers), rows))
        line = np.maximum(view.terms(2, list(q.numbers), rows), view.terms(3, list(q.numbers), rows))
        X[:, f["numbers_near"]] = np.where(own, 0.0, near).mean(axis=1)
        X[:, f["numbers_line"]] = np.where(own, 0.0, np.maximum(near, line)).mean(axis=1)
    X[:, f["subset"]] = view.a_subset[rows]
    X[:, f["decimal"]] = view.a_decimal[rows]
    X[:, f["is_table"]] = view.a_table[rows]
    X[:, f["numbers_in_sentence"]] = view.a_n_numbers[rows]
    X[:, f["first_in_sentence"]] = view.a_first[rows]
    X[:, f["in_parentheses"]] = view.a_paren[rows]
    if sims is not None:
        X[:, f["sim_clause"] : f["sim_heading"] + 1] = sims
    return with_relative(X)


def question_features(X: np.ndarray, blocked_coverage: float) -> np.ndarray:
    """QUESTION_FEATURES of a list of candidates (X as computed by FactView.candidates)."""
    return np.array(
        [
            blocked_coverage,
            float(X[:, _AT["coverage"]].max()) if len(X) else 0.0,
            float(np.log1p(len(X))),
            float(X[:, _AT["sim_clause"]].max()) if len(X) else 0.0,
        ]
    )


def without(c: Candidates, keep: np.ndarray) -> Candidates:
    """The candidates of a question over a corpus that lacks some of them (the list-relative features and the
    question features computed again, as they would be)."""
    X = with_relative(c.X[keep].copy())
    return Candidates([r for r, k in zip(c.rows, keep, strict=True) if k], X, question_features(X, c.G[0]), c.blocked)


def with_relative(X: np.ndarray) -> np.ndarray:
    """Fill the list-relative features of a question's candidates from their own features."""
    f = _AT
    if len(X):
        for name in RELATIVE:
            X[:, f["rel_" + name]] = X[:, f[name]] - X[:, f[name]].max()
        X[:, f["coverage_retrieved"]] = X[:, f["coverage"]] * X[:, f["retrieved"]]
    return X


_SPAN = re.compile(r"\b(?:sur|pendant)\s+(?:deux|trois|quatre|cinq|six|sept|huit|dix|[2-9]|1\d)\s+ans\b|\bpluriannuel")


def _signed(r: Any) -> bool:
    """A number written with its sign ("+ 21.33 %", "- 0,23 %") states a change."""
    return float(r.value) < 0 or str(r.number_text).lstrip().startswith(("+", "-", "−"))


def _change_window(r: Any, own: str) -> str:
    """The words of a fact that may state a change: a table cell's row and column, or a clause up to three words
    after its number."""
    if r.kind == "table":
        return own
    number = fold(clean_markup(str(r.number_text)))
    at = own.find(number)
    return own if at < 0 else " ".join([own[:at], *own[at:].split()[:4]])


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
