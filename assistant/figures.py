"""The figure engine: answers "combien / quelle part / quel taux" questions from the fact tables, cited."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from scipy import sparse

from assistant.operators import load_operators
from assistant.records import Answer, Citation, Figure, Hit
from assistant.text import STOP_WORDS, clean_markup, fold, sentences, stem, tokens
from ingest.facts import Entities, FactTables, load_lexicon, years_in
from ingest.numbers import find_quantities

# Units a question may ask for, and the fact units that answer each.
UNIT_FAMILIES: dict[str, set[str]] = {
    "percent": {"percent"},
    "years": {"years"},  # an age ("moyenne d'âge : 38 ans")
    "money": {"eur", "keur", "meur", "beur"},
    "km2": {"km2"},
    "score": {"score", "ratio"},
    "days": {"days"},
    "minutes": {"minutes"},
    "hours": {"hours"},
    "months": {"months"},
    "duration": {"days", "minutes", "hours", "weeks", "months", "years"},
    "count": {"count"},
}
# Specific kinds first: "combien de jours" asks days, not a count.
_UNIT_ORDER = ("years", "money", "km2", "score", "days", "minutes", "hours", "months", "duration", "percent", "count")
_RARE_UNITS = {"money", "km2", "score"}  # asked for and absent: the documents do not give it
_QUESTION_WORDS = {"combien", "quel", "quell", "nombr", "chiffr", "valeur", "etai", "etait", "etaient"}
SCOPE_NAMES = {"occitanie": "en Occitanie", "national": "au niveau national"}

ACCEPT = 0.50  # least score of an answered figure (coverage of the question + entity agreement)
EXHAUSTIVE_FACTS = 5000  # up to this many facts every one is scored; beyond, candidates first
CANDIDATE_FACTS = 600  # facts kept by the sparse word-overlap pre-selection in a large corpus
COUNTED_AGREE = 0.2  # what a count question counts against the word after the number
TIE_MARGIN = 0.01  # measured: below it, the best and the next different value are a coin toss
MIN_COVERAGE = 0.30  # least share of the question's content words found around the number
CONFLICT_MARGIN = 0.1
METRIC_AGREE = 0.08  # the fact's own words name the metric asked (entrées, bénéficiaires, femmes...)
METRIC_SILENT = 0.2  # the question names a metric, the fact's clause and sentence name none
UNASKED_PERCENT = 0.1  # no unit asked ("combien", "entrées ?"): a share is a weaker answer than a count
# "entre 25 et 44 ans", "entre les opérateurs": the preposition, not "entrés" (same stem)
_ENTRE = re.compile(r"\bentre(?=\s+(?:\d|les?\b|la\b|l'|l’|deux\b|eux\b|autres?\b))", re.I)


@dataclass
class Query:
    """What a figure question asks: operators, scopes, years, unit and content words."""

    text: str
    folded: str
    operators: list[str]
    scopes: list[str]
    years: list[int]
    unit: str | None
    weights: dict[str, float] = field(default_factory=dict)  # content stem -> idf weight
    expansions: dict[str, str] = field(default_factory=dict)  # synonym stem -> question stem
    metrics: frozenset[int] = frozenset()  # metric groups the question names (lexicon, metric = true)


@dataclass
class Scored:
    """A fact and how well it answers the query; violations name the constraint it breaks."""

    index: int
    score: float
    coverage: float
    violations: list[str]


class FigureEngine:
    """Finds the fact that answers a figure question, or says honestly that the documents do not."""

    def __init__(self, facts: FactTables, corpus, knowledge_dir: Path) -> None:
        self.tables = facts
        self.corpus = corpus
        self.lexicon = load_lexicon(knowledge_dir)
        self.operators = load_operators(knowledge_dir)
        self.entities = Entities(self.operators, self.lexicon)
        self.entities.home = self.entities.home_region(
            li.text for doc in corpus.documents.values() for li in doc.lines
        )
        self.df = facts.facts.reset_index(drop=True)
        self._prepare()

    # --- preparation -------------------------------------------------------------------------------

    def _prepare(self) -> None:
        df = self.df
        line_text: dict[tuple[str, int], str] = {}
        previous: dict[tuple[str, int], str] = {}
        df_counts: Counter[str] = Counter()
        n_lines = 0
        for name, doc in self.corpus.documents.items():
            last = ""
            for li in doc.lines:
                if li.text.strip():
                    line_text[(name, li.number)] = li.text
                    # a short line, or one after "...:", reads with the line before it
                    if len(li.text) < 100 or last.rstrip().endswith(":"):
                        previous[(name, li.number)] = last
                    last = li.text
                    n_lines += 1
                    df_counts.update(set(tokens(li.text)))
        self.idf = {t: math.log(1 + n_lines / c) for t, c in df_counts.items()}
        self.default_idf = math.log(1 + n_lines)
        self.vocab = list(df_counts)
        self.near: list[set[str]] = []
        self.before: list[set[str]] = []
        self.sent: list[set[str]] = []
        self.line: list[set[str]] = []
        self.ctx: list[set[str]] = []
        self.around: list[str] = []  # folded sentence, line and line before: where unit evidence is looked for
        self.counted: list[str] = []  # stem of the word right after the number: what it counts ("77 agences")
        for r in df.itertuples(index=False):
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
            self.counted.append(_counted_after(str(r.sentence), str(r.number_text)))
            self.ctx.append(set(tokens(str(r.context))))
        # Plain Python rows, read once: iterating Arrow-backed columns per question cost most of a figure answer.
        self.rows = list(df.astype(object).itertuples(index=False))
        self.fact_ops = [set(filter(None, str(x).split(","))) for x in df["operators"]]
        self.fact_scopes = [set(filter(None, str(x).split(","))) for x in df["scopes"]]
        self.fact_years = [{int(y) for y in str(x).split(",") if y.strip().isdigit()} for x in df["years"]]
        self._candidate_index()
        self.synonyms: list[set[str]] = []
        for group in self.lexicon.synonyms:
            stems = {t for w in group for t in tokens(w)}
            self.synonyms.append(stems)
        # Metric groups: single words only ("entrée en CEP" would make "cep" a metric word).
        self.metric_groups: dict[int, set[str]] = {
            i: {t for w in self.lexicon.synonyms[i] if " " not in w for t in tokens(w)} for i in self.lexicon.metrics
        }
        self.fact_metrics: list[frozenset[int]] = []
        self.caption_metrics: list[frozenset[int]] = []
        self.sent_metrics: list[frozenset[int]] = []
        for i, r in enumerate(df.itertuples(index=False)):
            self.fact_metrics.append(self.metrics_in(str(r.near)))
            self.sent_metrics.append(self.metrics_in(f"{r.sentence} {self.around[i]}"))
            self.caption_metrics.append(self.metrics_in(str(r.caption)) if r.kind == "table" else frozenset())
        self._cue_words = {w for w in self.lexicon.cues if " " not in w}
        # Words that only say "a number, please": not what the number is about.
        self._ask_stems = set(_QUESTION_WORDS)
        for w in [*self.lexicon.phrases, *[x for ws in self.lexicon.units.values() for x in ws]]:
            self._ask_stems.update(tokens(w))
        self._cue_phrases = [w for w in self.lexicon.cues if " " in w] + list(self.lexicon.phrases)

    def metrics_in(self, text: str) -> frozenset[int]:
        """The metric groups a text names (entrées, sortants, bénéficiaires, femmes...)."""
        stems = set(tokens(_ENTRE.sub(" ", clean_markup(text))))
        return frozenset(i for i, group in self.metric_groups.items() if stems & group)

    # --- questions ---------------------------------------------------------------------------------

    def is_figure_question(self, text: str) -> bool:
        """True for questions asking a number: combien, nombre, taux, part, moyenne, budget, "en %"..."""
        f = fold(clean_markup(text))
        words = set(re.findall(r"[a-z0-9%€²]+", f)) | ({"%"} if "%" in f else set())
        if words & self._cue_words or any(_has(f, p) for p in self._cue_phrases):
            return True
        if any(_has(f, w) for w in self.lexicon.open_words):
            return False
        # Terse advisor style: "Entrées CEP Pôle Emploi Occitanie 2021 ?" names a metric and a year,
        # with no question word ("Quel lien…", "Que fait…" are open questions).
        if re.match(r"^\W*(?:quel|quelle|quels|quelles|que|qui|quoi|ou|est-ce|est ce)\b", f):
            return False
        q = self.parse(text)
        metric_words = any(t in s for s in self.synonyms[:3] for t in q.weights)
        return len(f.split()) <= 14 and (bool(q.years) or metric_words) and bool(q.operators or q.scopes or q.years)

    def parse(self, text: str) -> Query:
        """Operators (typos allowed), scopes, years, the unit asked and the weighted content words."""
        f = fold(clean_markup(text))
        ops = [k for k, _, _ in self.entities.operator_mentions(f)]
        ops += self._fuzzy_operators(f, set(ops))
        scopes = [k for k, _, _ in self.entities.scope_mentions(f)]
        years = years_in(text)
        unit = None
        asked = f
        for qty in reversed(find_quantities(asked)):  # "2016 (6 mois)" states a period, it does not ask one
            asked = asked[: qty.start] + " " + asked[qty.end :]
        for name in _UNIT_ORDER:
            if any(_has(asked, w) for w in self.lexicon.units.get(name, ())):
                unit = name
                break
        if "%" in asked:
            unit = "percent"
        skip: set[str] = set(self._ask_stems)
        for op in ops:
            for a in self.operators[op].aliases:
                if _has(f, a):
                    skip.update(tokens(a))
        for k, s, e in self.entities.scope_mentions(f):
            if not k.startswith("other:"):
                skip.update(tokens(f[s:e]))
        weights: dict[str, float] = {}
        for t in tokens(text):
            if t in skip or re.fullmatch(r"\d+(\.\d+)?", t):
                continue
            t = self._spell(t)
            weights[t] = self.idf.get(t, self.default_idf)
        expansions: dict[str, str] = {}
        for group in self.synonyms:
            hit = next((t for t in weights if t in group), None)
            if hit:
                for g in group:
                    if g not in weights:
                        expansions[g] = hit
        return Query(
            text,
            f,
            list(dict.fromkeys(ops)),
            list(dict.fromkeys(scopes)),
            years,
            unit,
            weights,
            expansions,
            self.metrics_in(text),
        )

    def _fuzzy_operators(self, folded: str, found: set[str]) -> list[str]:
        words = re.findall(r"[a-z0-9]+", folded)
        out = []
        for op in self.operators.values():
            if op.id in found:
                continue
            for alias in op.aliases:
                aw = re.findall(r"[a-z0-9]+", alias)
                if len(alias) < 6 or not aw:
                    continue
                grams = [" ".join(words[i : i + len(aw)]) for i in range(len(words) - len(aw) + 1)]
                if grams and process.extractOne(" ".join(aw), grams, scorer=fuzz.ratio, score_cutoff=86):
                    out.append(op.id)
                    break
        return out

    def _spell(self, t: str) -> str:
        if t in self.idf or len(t) < 5 or t[0].isdigit():
            return t
        best = process.extractOne(t, self.vocab, scorer=fuzz.ratio, score_cutoff=85)
        return str(best[0]) if best else t

    def _candidate_index(self) -> None:
        """A facts x stems matrix and facts by line, to pick candidates when there are many facts."""
        self.by_line: dict[tuple[str, int], list[int]] = {}
        for i, r in enumerate(self.rows):
            self.by_line.setdefault((str(r.document), int(r.line)), []).append(i)
        self.stem_col: dict[str, int] = {}
        rows, cols = [], []
        for i in range(len(self.rows)):
            for t in self.near[i] | self.sent[i] | self.line[i]:
                rows.append(i)
                cols.append(self.stem_col.setdefault(t, len(self.stem_col)))
        shape = (len(self.rows), max(len(self.stem_col), 1))
        self.stem_matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)

    def candidates(self, q: Query, hits: list[Hit]) -> range | list[int]:
        """Facts worth scoring: all of them in a small corpus; else the facts of the hit lines and
        those sharing the most (idf-weighted) question words."""
        n = len(self.rows)
        if n <= EXHAUSTIVE_FACTS:
            return range(n)
        picked: set[int] = set()
        for h in hits[:8]:
            if h.chunk.lines:
                for line in range(h.chunk.lines[0], h.chunk.lines[1] + 1):
                    picked.update(self.by_line.get((h.chunk.document, line), ()))
        weights = np.zeros(self.stem_matrix.shape[1], dtype=np.float32)
        for t, w in q.weights.items():
            col = self.stem_col.get(t)
            if col is not None:
                weights[col] = w
        proxy = self.stem_matrix @ weights
        k = min(CANDIDATE_FACTS, n)
        top = np.argpartition(-proxy, k - 1)[:k]
        picked.update(int(i) for i in top if proxy[i] > 0)
        return sorted(picked)

    # --- scoring -----------------------------------------------------------------------------------

    def score(self, q: Query, hits: list[Hit]) -> list[Scored]:
        """Every fact of a compatible unit, scored against the query."""
        total = sum(q.weights.values()) or 1.0
        hit_rank: dict[tuple[str, int], int] = {}
        for rank, h in enumerate(hits[:8]):
            if h.chunk.lines:
                for n in range(h.chunk.lines[0], h.chunk.lines[1] + 1):
                    hit_rank.setdefault((h.chunk.document, n), rank)
        units = UNIT_FAMILIES.get(q.unit or "")
        asked_object = _asked_object(q.text) if q.unit in (None, "count") else ""
        out: list[Scored] = []
        rows = self.rows
        for i in self.candidates(q, hits):
            r = rows[i]
            if units is not None and r.unit not in units:
                continue
            if units is None and r.unit == "years":
                continue
            evidence = self.lexicon.unit_evidence.get(q.unit or "")
            if evidence and not any(_has(self.around[i], w) for w in evidence):
                continue
            near, sent, line, ctx = self.near[i], self.sent[i], self.line[i], self.ctx[i]
            before = self.before[i]
            got = 0.0
            for t, w in q.weights.items():
                m = (
                    1.0
                    if t in before
                    else 0.9
                    if t in near
                    else 0.75
                    if t in sent
                    else 0.6
                    if t in line
                    else 0.3
                    if t in ctx
                    else 0.0
                )
                if m < 0.75:
                    alts = [a for a, src in q.expansions.items() if src == t]
                    m = max(
                        [m] + [0.8 if a in near else 0.6 if a in sent else 0.4 if a in line else 0.0 for a in alts]
                    )
                got += w * m
            coverage = got / total if q.weights else 0.3
            score = coverage
            violations: list[str] = []
            if asked_object and self.counted[i]:
                # "combien d'agences ?": "77 agences" counts them, "8 Directions" counts something else
                score += COUNTED_AGREE if self.counted[i] == asked_object else -COUNTED_AGREE
            hit_at = hit_rank.get((str(r.document), int(r.line)))
            if hit_at is not None:
                score += 0.15 / (1 + hit_at)
            # operators
            fops = self.fact_ops[i]
            if q.operators:
                overlap = len(set(q.operators) & fops) / len(q.operators)
                if overlap == 0:
                    if fops:
                        violations.append("operator")
                    else:
                        score -= 0.2
                else:
                    # an operator named by the row, column or sentence says more than one inherited from the section
                    explicit = r.operator in q.operators and r.operator_source in ("sentence", "table")
                    score += 0.1 * overlap + (0.05 if explicit else 0.0)
            # scope
            fscopes = self.fact_scopes[i]
            explicit_scope = r.scope_source in ("sentence", "table", "caption")
            wanted_regions = [s for s in q.scopes if s.startswith("other:")]
            if wanted_regions:
                if not set(wanted_regions) & fscopes:
                    violations.append("region")
            elif q.scopes:
                if set(q.scopes) & fscopes:
                    score += 0.12 if explicit_scope else 0.04
                elif any(s.startswith("other:") for s in fscopes):
                    violations.append("region")
                elif explicit_scope and fscopes:
                    score -= 0.25
            elif any(s.startswith("other:") for s in fscopes):
                score -= 0.1
            # years
            if q.years:
                fy = self.fact_years[i]
                if not pd.isna(r.year) and int(r.year) in q.years:
                    score += 0.08
                elif fy & set(q.years):
                    score += 0.02
                elif fy:
                    violations.append("year")
            if q.unit and units is not None:
                score += 0.15 if q.unit in _RARE_UNITS else 0.05
            elif q.unit is None and r.unit == "percent":
                score -= UNASKED_PERCENT
            # metric: what the fact counts must be what is asked
            if q.metrics:
                fm, from_caption = self.fact_metrics[i], False
                if not fm and r.kind == "table":
                    fm, from_caption = self.caption_metrics[i], True  # only the caption says what is counted
                if fm and not fm & q.metrics:
                    violations.append("metric")
                elif from_caption and fm - q.metrics:
                    violations.append("metric")  # the table counts a narrower population than asked
                elif q.unit in (None, "count"):  # a share's "des bénéficiaires" is its base, not its metric
                    if fm:
                        score += METRIC_AGREE
                    elif not self.sent_metrics[i] & q.metrics:
                        score -= METRIC_SILENT
            out.append(Scored(i, score, coverage, violations))
        out.sort(key=lambda s: -s.score)
        return out

    # --- answers -----------------------------------------------------------------------------------

    def answer(self, question: str, hits: list[Hit]) -> Answer | None:
        """A cited figure, an honest abstention, or None when no fact fits (passage fallback)."""
        q = self.parse(question)
        if not (q.weights or q.operators or q.unit or q.scopes):
            return None
        scored = self.score(q, hits)
        ok = [s for s in scored if not s.violations]
        best = ok[0] if ok else None
        rare = q.unit in _RARE_UNITS  # few numbers of this kind: the unit itself is strong evidence
        good = best is not None and best.score >= ACCEPT and best.coverage >= (0.2 if rare else MIN_COVERAGE)
        blocked = [
            s for s in scored if s.violations and set(s.violations) <= {"year", "region", "operator", "metric"}
        ]
        top_blocked = blocked[0] if blocked else None
        strong_block = (
            top_blocked is not None and top_blocked.coverage >= MIN_COVERAGE and top_blocked.score >= ACCEPT
        )
        # covered elsewhere (another year, region, operator) and not here: say so, do not substitute
        if (
            strong_block
            and top_blocked is not None
            and (not good or (best is not None and top_blocked.score - best.score >= 0.2))
        ):
            return self._abstain(q, [s for s in blocked[:3]], top_blocked.violations)
        if not good and rare and self.is_figure_question(question):
            # a budget, an area, a score is asked and none fits: the documents do not give it
            return self._abstain(q, scored[:3], ["unit"])
        if not good or best is None:
            return None
        answer = self._answer(q, best, ok)
        if self._tied(best, ok):
            # Two different numbers fit equally well: never pick one. Same thing → both values with
            # their sources and no single figure; different things → passages (None).
            if not answer.alternatives or answer.figure is None:
                return None
            answer.alternatives.insert(0, answer.figure)
            answer.figure = None
        return answer

    def _tied(self, best: Scored, ok: list[Scored]) -> bool:
        """True when another fact, with a different value, scores as well as the best one."""
        value = float(self.df.iloc[best.index]["value"])
        for s in ok[1:]:
            if float(self.df.iloc[s.index]["value"]) != value:
                return best.score - s.score < TIE_MARGIN
        return False

    def _row(self, s: Scored) -> pd.Series:
        return self.df.iloc[s.index]

    def _citation(self, r: pd.Series) -> Citation:
        highlight = str(r["sentence"]) if r["kind"] != "table" else str(r["number_text"])
        return self.corpus.citation(
            str(r["document"]), int(r["first_line"]), int(r["last_line"]), highlight=highlight
        )

    def _figure(self, r: pd.Series) -> Figure:
        value = float(r["value"])
        if r["unit"] == "ratio" and not pd.isna(r["denominator"]) and r["denominator"]:
            value = round(value / float(r["denominator"]), 4)
        year = None if pd.isna(r["year"]) else int(r["year"])
        return Figure(
            value=int(value) if value.is_integer() and r["unit"] == "count" else value,
            display=str(r["display"]),
            unit=str(r["unit"]),
            label=str(r["label"]),
            scope=str(r["scope"]) or None,
            year=year,
        )

    def _answer(self, q: Query, best: Scored, ok: list[Scored]) -> Answer:
        r = self._row(best)
        figure = self._figure(r)
        citations = [self._citation(r)]
        alternatives: list[Figure] = []
        alt_rows: list[pd.Series] = []
        seen_lines = {(str(r["document"]), int(r["line"]))}
        for s in ok[1:12]:
            o = self._row(s)
            key = (str(o["document"]), int(o["line"]))
            if key in seen_lines:
                continue
            if float(o["value"]) == float(r["value"]) and o["unit"] == r["unit"]:
                seen_lines.add(key)
                if len(citations) < 3:
                    citations.append(self._citation(o))  # the same number stated elsewhere corroborates it
                continue
            if (
                best.score - s.score > CONFLICT_MARGIN
                or s.coverage < 0.9 * best.coverage
                or o["unit"] != r["unit"]
                or not self._same_thing(best.index, s.index)
                or not self._same_measure(q, best.index, s.index)
            ):
                continue
            seen_lines.add(key)
            if len(alternatives) < 2:
                alternatives.append(self._figure(o))
                alt_rows.append(o)
                citations.append(self._citation(o))
        text = self._text(r)
        if alternatives:
            parts = [f"{figure.display} ({self._where(r)})"] + [
                f"{a.display} ({self._where(o)})" for a, o in zip(alternatives, alt_rows, strict=True)
            ]
            text = "Les documents donnent plusieurs valeurs : " + " ; ".join(parts) + ". " + text
        quotes = [c.quote for c in citations]
        if not faithful(text, quotes, q.text):
            text = self._text(r, bare=True)
            if not faithful(text, quotes, q.text):
                text = figure.display + "."
        if r["kind"] == "table" and not numbers_in(figure.display) <= numbers_in(" ".join(quotes)):
            # Readers that join digits across a tab would miss the cell: cite the cell itself too.
            cell = str(r["number_text"])
            citations.insert(1, replace(citations[0], quote=cell, highlight=cell))
        return Answer(
            question=q.text,
            intent="figure",
            text=text,
            citations=citations,
            figure=figure,
            alternatives=alternatives,
            message="Valeurs différentes selon les passages : vérifiez les sources." if alternatives else "",
        )

    def _same_measure(self, q: Query, a: int, b: int) -> bool:
        """Two facts measure the same thing: same metric groups, and the question's words stand around both."""
        if self.fact_metrics[a] != self.fact_metrics[b]:
            return False
        found = [{t for t in q.weights if t in self.near[i] or t in self.line[i]} for i in (a, b)]
        return found[0] == found[1]

    def _same_thing(self, a: int, b: int) -> bool:
        """Two facts that may speak of the same thing: same operator, scope and year (scores decide the rest)."""
        ra, rb = self.df.iloc[a], self.df.iloc[b]
        same_year = str(ra["year"]) == str(rb["year"])
        return ra["operator"] == rb["operator"] and ra["scope"] == rb["scope"] and same_year

    def _where(self, r: pd.Series) -> str:
        section = str(r["section"]).split(" › ")[-1]
        section = re.sub(r"^[\dIVXA-Ha-h]+\s*[.)]\s*", "", section)
        return f"« {section} »" if section else str(r["document"])

    def _text(self, r: pd.Series, bare: bool = False) -> str:
        """The number in context, restating the source: its sentence (trimmed) or its table row."""
        if r["kind"] == "table":
            where = [SCOPE_NAMES.get(str(r["scope"]), "")] if not bare else []
            label = " — ".join(x for x in (str(r["row_label"]), str(r["column"])) if x and x != "nan")
            tail = f" ({', '.join(w for w in where if w)})" if any(where) else ""
            return f"{label} : {r['display']}{tail}.".strip()
        sentence = clean_markup(str(r["sentence"])).strip(" -•✓*")
        text = sentence if bare or len(sentence) <= 260 else _clause(sentence, str(r["number_text"]))
        text = text[0].upper() + text[1:] if text else text
        return text if text.endswith((".", "!", "?", "»")) else text + "."

    def _abstain(self, q: Query, closest: list[Scored], why: list[str]) -> Answer:
        rows = [self._row(s) for s in closest]
        asked = []
        if "year" in why and q.years:
            covered = sorted({int(y) for s in closest for y in self.fact_years[s.index]})
            asked.append(
                f"pour {', '.join(map(str, q.years))} (les passages les plus proches portent sur "
                f"{', '.join(map(str, covered)) or 'd’autres années'})"
            )
        if "region" in why and q.scopes:
            asked.append("pour " + ", ".join(s.split(":", 1)[-1].replace("-", " ").title() for s in q.scopes))
        if "operator" in why and q.operators:
            asked.append("pour " + ", ".join(self.operators[o].name for o in q.operators))
        if "metric" in why and not asked:
            asked.append("(les passages chiffrés les plus proches ne mesurent pas la même chose)")
        if "unit" in why:
            asked.append("(aucun passage ne donne ce montant ou cette valeur pour ce sujet)")
        detail = " ".join(asked)
        text = (
            f"Les documents ne donnent pas ce chiffre {detail}. "
            "Voici les passages chiffrés les plus proches, à titre indicatif."
        ).replace("  ", " ")
        citations = []
        for r in rows:
            try:
                citations.append(self._citation(r))
            except Exception:  # a stale fact row never breaks an answer
                continue
        return Answer(question=q.text, intent="abstain", text=text, citations=citations)


def _has(folded: str, phrase: str) -> bool:
    if not phrase:
        return False
    if not phrase[0].isalnum() or not phrase[-1].isalnum():
        return phrase in folded
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", folded) is not None


def _clause(sentence: str, number: str) -> str:
    """The part of a long sentence around its number, cut at commas or semicolons."""
    pos = sentence.find(number)
    if pos < 0:
        return sentence
    parts = re.split(r"(?<=[,;:])\s+", sentence)
    out, start = [], 0
    for p in parts:
        end = start + len(p)
        if end >= pos - 120 and start <= pos + len(number) + 120:
            out.append(p)
        start = end + 1
    text = " ".join(out).strip(" ,;:")
    return text if number in text else sentence


_NUM = re.compile(r"\d[\d\s\u202f\u00a0.,]*\d|\d")


_ASKED_OBJECT = re.compile(r"\b(?:combien|nombre|nb)\s+(?:de|d')\s*(?:la |les |l')?([a-z]+)")


def _asked_object(question: str) -> str:
    """Stem of what a count question counts: "Combien d'agences…" -> stem("agences")."""
    m = _ASKED_OBJECT.search(fold(question).replace("\u2019", "'"))
    word = m.group(1) if m else ""
    return stem(word) if len(word) > 3 and word not in STOP_WORDS else ""


def _counted_after(sentence: str, number_text: str) -> str:
    """Stem of the word right after the number in its sentence ("77 agences" -> stem("agences"))."""
    text = fold(clean_markup(sentence))
    at = text.find(fold(clean_markup(number_text)))
    if at < 0:
        return ""
    m = re.match(r"\W*([a-z]{4,})", text[at + len(fold(clean_markup(number_text))) :])
    word = m.group(1) if m else ""
    return stem(word) if word and word not in STOP_WORDS else ""


def numbers_in(text: str) -> set[float]:
    """Numbers of a text as the faithfulness check reads them ('175 837' -> 175837.0)."""
    out = set()
    for m in _NUM.findall(text or ""):
        t = re.sub(r"[\s\u202f\u00a0]", "", m).replace(",", ".")
        if t.count(".") > 1:
            t = t.replace(".", "")
        try:
            out.add(round(float(t), 4))
        except ValueError:
            continue
    return out


def faithful(text: str, quotes: list[str], question: str = "") -> bool:
    """True when every number of the text stands in a cited quote (or in the question)."""
    allowed = numbers_in(question)
    for quote in quotes:
        cells = quote.replace("\t", " | ")  # a tab separates two cells, not two digit groups
        allowed |= numbers_in(cells)
        allowed |= numbers_in(clean_markup(cells))
    return numbers_in(text) <= allowed


__all__ = ["FigureEngine", "faithful", "numbers_in", "sentences"]
