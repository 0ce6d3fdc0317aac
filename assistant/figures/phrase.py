"""Phrasing a figure decision in short French, every number standing in a cited quote."""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.figures.decide import Choice, Decision
from assistant.figures.parse import FigureAsk
from assistant.records import Answer, Citation, Figure, FigureCandidate
from ingest.facts import DATE_ASKED, Fact
from ingest.numbers import DATE_UNITS
from ingest.operators import Operator
from ingest.text import clean_markup

SCOPE_NAMES = {"occitanie": "Occitanie", "national": "niveau national"}
_SMALL_WORDS = {"et", "de", "du", "des", "la", "le", "les", "sur", "d'"}


def place_name(scope: str) -> str:
    """A region or département key as a name: "dep:tarn-et-garonne" -> "Tarn-et-Garonne"."""
    key = scope.split(":", 1)[-1]
    if scope.startswith("other:"):
        return key.replace("-", " ").title()
    return "-".join(w if w in _SMALL_WORDS else w.capitalize() for w in key.split("-"))


MISSING = {
    "region": "pour ce territoire",
    "year": "pour cette année",
    "operator": "pour cet opérateur",
    "metric": "pour cette mesure précise",
}


class Phraser:
    """Turns decisions into answers, with citations from the corpus."""

    def __init__(
        self, facts: list[Fact], corpus, operator_names: dict[str, str], place_names: dict[str, str] | None = None
    ) -> None:
        """place_names: scope key -> the place's name with its article (« le Gard »), for sentences."""
        self.facts = facts
        self.corpus = corpus
        self.operator_names = operator_names
        self.place_names = place_names or {}

    def citation(self, i: int) -> Citation:
        r = self.facts[i]
        highlight = r.sentence if r.kind != "table" else r.number_text
        return self.corpus.citation(r.document, r.first_line, r.last_line, highlight=highlight)

    def figure(self, i: int) -> Figure:
        r = self.facts[i]
        return Figure(
            value=value_of(r), display=r.display, unit=r.unit, label=r.label, scope=r.scope or None, year=r.year
        )

    def answer(self, q: FigureAsk, d: Decision) -> Answer:
        d = replace(d, choices=[self.readable(c) for c in d.choices])
        if d.kind == "answer":
            return self._one(q, d.choices[0])
        if d.kind == "candidates":
            return self._several(q, d.choices)
        return self._absent(q, d)

    def readable(self, c: Choice) -> Choice:
        """A value stated both in a table cell and in a sentence of the same section (the text commenting its
        table) is quoted from the sentence, which reads on its own; the cell stays among the corroborating
        citations. A sentence elsewhere (a summary in an annex) is another statement: the cell stays first."""
        facts = self.facts
        if facts[c.fact].kind != "table":
            return c
        home = (facts[c.fact].document, facts[c.fact].section)
        prose = next(
            (i for i in c.corroborating if facts[i].kind != "table" and (facts[i].document, facts[i].section) == home),
            None,
        )
        if prose is None:
            return c
        rest = tuple(i for i in c.corroborating if i != prose)
        return replace(c, fact=prose, corroborating=(c.fact, *rest))

    def _one(self, q: FigureAsk, c: Choice) -> Answer:
        r = self.facts[c.fact]
        fig = self.figure(c.fact)
        citations = [self.citation(c.fact)] + [self.citation(i) for i in c.corroborating]
        citations[1:1] = self._cell(r, citations[0])  # before the check: a row's cells run together for it
        quotes = [x.quote for x in citations]
        text = next(
            (t for t in (restate(r, with_year=True), restate(r)) if faithful(t, quotes, q.text)),
            fig.display + "." if faithful(fig.display, quotes, q.text) else r.number_text + ".",
        )
        fig = Figure(**{**fig.__dict__, "probability": round(c.probability, 3)})
        return Answer(question=q.text, intent="figure", text=text, citations=citations, figure=fig)

    def _cell(self, r: Fact, cit: Citation) -> list[Citation]:
        """The cell itself as a second citation, when digits of its row run together for a strict reader."""
        if numbers_in(r.display) <= numbers_in(cit.quote):
            return []
        cell = r.number_text
        return [Citation(**{**cit.to_dict(), "quote": cell, "highlight": cell})]

    def _candidates(
        self, q: FigureAsk, choices: list[Choice]
    ) -> tuple[list[FigureCandidate], list[Citation], list[str]]:
        """One line per candidate. A passage is cited once, whatever the number of candidates it states. Order:
        the likeliest value's passage and one other passage stating it (a table cell and a summary elsewhere
        often say the same number), then the other candidates' passages, the remaining confirmations of the
        first value, and cell quotes last."""
        rows = [self.facts[c.fact] for c in choices]
        citations: list[Citation] = []
        seen: dict[tuple[str, int, int], int] = {}

        def cite(i: int) -> int:
            f = self.facts[i]
            key = (f.document, f.first_line, f.last_line)
            if key not in seen:
                seen[key] = len(citations)
                citations.append(self.citation(i))
            return seen[key]

        if choices:  # the likeliest value first, with a second passage stating it when there is one
            cite(choices[0].fact)
            for i in choices[0].corroborating[:1]:
                cite(i)
        marks = [cite(c.fact) for c in choices]
        for i in choices[0].corroborating if choices else ():
            cite(i)
        mains = [citations[k] for k in marks]
        citations += [cell for r, cit in zip(rows, mains, strict=True) for cell in self._cell(r, cit)]
        quotes = [c.quote for c in citations]
        cands: list[FigureCandidate] = []
        lines: list[str] = []
        for c, r, cit, k in zip(choices, rows, mains, marks, strict=True):
            clause = clause_of(r)
            cands.append(
                FigureCandidate(
                    value=value_of(r),
                    display=r.display,
                    unit=r.unit,
                    label=clause,
                    scope=r.scope or None,
                    year=r.year,
                    probability=round(c.probability, 3),
                    citation=k,
                )
            )
            mark = k + 1  # the [n] of this candidate's citation
            line = f"• {r.display} — « {clause} »{self._where(r, cit.quote)} [{mark}]"
            written = r.number_text  # as the source writes it ("140.113"), when a reader cannot match 140 113
            for fallback in (
                f"• {r.display} — « {clause} » [{mark}]",
                f"• {r.display} [{mark}]",
                f"• {written} — « {clause} » [{mark}]",
                f"• {written} [{mark}]",
            ):
                if faithful(line, quotes, q.text):
                    break
                line = fallback
            lines.append(line)
        return cands, citations, lines

    def _several(self, q: FigureAsk, choices: list[Choice]) -> Answer:
        cands, citations, lines = self._candidates(q, choices)
        several = "dates correspondent, vérifiez laquelle" if _date(q) else "chiffres correspondent, vérifiez lequel"
        text = f"Plusieurs {several} répond à votre question :\n" + "\n".join(lines)
        fig = Figure(value=None, display="", unit=cands[0].unit, label="", candidates=cands)
        return Answer(
            question=q.text,
            intent="figure",
            text=text,
            citations=citations,
            figure=fig,
            message="Pas de chiffre unique assez sûr : voici les plus proches, avec leur contexte.",
        )

    def _absent(self, q: FigureAsk, d: Decision) -> Answer:
        what = self._what_missing(q, d.missing)
        text = f"Les documents ne donnent pas {'cette date' if _date(q) else 'ce chiffre'}{what}."
        citations: list[Citation] = []
        fig = None
        if d.choices:
            cands, citations, lines = self._candidates(q, d.choices)
            near = f"{'Dates' if _date(q) else 'Chiffres'} les plus proches"
            lead = "Pour comparaison, ailleurs" if d.elsewhere else near
            text += f" {lead}, à titre de piste :\n" + "\n".join(lines)
            fig = Figure(value=None, display="", unit=cands[0].unit, label="", candidates=cands)
        return Answer(question=q.text, intent="abstain", text=text, citations=citations, figure=fig)

    def _what_missing(self, q: FigureAsk, missing: list[str]) -> str:
        parts = []
        for m in missing:
            if m == "year" and q.years:
                parts.append("pour " + ", ".join(map(str, q.years)))
            elif m == "region" and q.scopes:
                places = [s for s in q.scopes if s.startswith(("other:", "dep:", "city:"))]
                towns = [place_name(s) for s in places if s.startswith("city:")]
                named = [self.place_names.get(s, place_name(s)) for s in places if not s.startswith("city:")]
                if towns:
                    parts.append("à " + ", ".join(towns))
                if named or not towns:
                    parts.append("pour " + ", ".join(named or [SCOPE_NAMES.get(s, s) for s in q.scopes]))
            elif m == "operator" and q.operators:
                parts.append("pour " + ", ".join(self.operator_names.get(o, o) for o in q.operators))
            elif m in MISSING:
                parts.append(MISSING[m])
        return (" " + " ; ".join(dict.fromkeys(parts))) if parts else ""

    def _where(self, r: Fact, quote: str) -> str:
        bits = []
        if r.year is not None:
            bits.append(str(r.year))
        scope = r.scope
        if scope in SCOPE_NAMES:
            bits.append(SCOPE_NAMES[scope])
        elif scope.startswith(("other:", "dep:")):
            bits.append(place_name(scope))
        section = re.sub(r"^[\dIVXA-Ha-h]+\s*[.)]\s*", "", r.section.split(" › ")[-1]).strip()
        if section:
            bits.append(f"section « {section[:70]} »")
        return f" ({', '.join(bits)})" if bits else ""


def _date(q: FigureAsk) -> bool:
    """A date is asked (« en quelle année… ? », « quel jour… ? »): the answer speaks of dates, not figures."""
    return q.unit in DATE_ASKED


def operator_in_sentence(op: Operator) -> str:
    """An operator as a sentence names it after « pour » (operators.toml `call`): « l'APEC », « le Réseau EVA »,
    « Pôle emploi »; one of a network (« une Mission Locale ») as the network (« les Missions Locales »)."""
    return f"les {op.name}" if op.call.startswith(("une ", "un ")) else op.call


def value_of(r: Fact) -> float | int:
    value = r.value
    if r.unit == "ratio" and r.denominator:
        value = round(value / float(r.denominator), 4)
    return int(value) if value.is_integer() and r.unit in ("count", *DATE_UNITS) else value


def clause_of(r: Fact) -> str:
    """The words that say what a number counts: its clause in prose, its row and column in a table."""
    if r.kind == "table":
        return " — ".join(x for x in (r.row_label, r.column) if x and x != "nan") or r.label
    near = clean_markup(r.near).strip(" -•✓*,;:")
    return near if len(near) <= 200 else clip(clean_markup(r.sentence), r.number_text)


def restate(r: Fact, with_year: bool = False) -> str:
    """The number in context, restating the source: its sentence (trimmed) or its table row (with its territory,
    and its year when asked: a row of a table by year does not say it)."""
    if r.kind == "table":
        label = clause_of(r)
        year = str(r.year) if with_year and r.year is not None and str(r.year) not in label else ""
        where = ", ".join(x for x in (SCOPE_NAMES.get(r.scope, ""), year) if x)
        return f"{label} : {r.display}{f' ({where})' if where else ''}.".strip()
    sentence = clean_markup(r.sentence).strip(" -•✓*")
    text = sentence if len(sentence) <= 260 else clip(sentence, r.number_text)
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?", "»")) else text + "."


def clip(sentence: str, number: str) -> str:
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
    """True when every number of the text stands in a cited quote (or in the question); [n] markers aside."""
    # Read as a strict reader would: digits across a tab or a comma join (a table row, "en 2021, 89 %"),
    # markup stays. Where that reading misses a number, the caller rephrases or cites the cell itself.
    allowed = numbers_in(question)
    for quote in quotes:
        allowed |= numbers_in(quote)
    return numbers_in(re.sub(r"\[\d+\]", " ", text)) <= allowed
