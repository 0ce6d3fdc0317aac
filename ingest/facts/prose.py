"""Facts of numbers in sentences: each with its clause, label, operators, territory and years."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ingest.facts.entities import YEAR, Context, Entities, years_in
from ingest.facts.lexicon import Lexicon
from ingest.numbers import Quantity, find_dates, find_quantities
from ingest.text import clean_markup, fold, sentences

# How far after a number its clause may name its territory ("… des entrées en CEP tout opérateur confondu en
# Occitanie"): the longest such clause of the built-in report runs 75 characters; 40 missed it.
CLAUSE_SPAN = 120

# Words before a year that make it the reference of a comparison, not the year the number is about.
_COMPARED_YEAR = re.compile(
    r"(?:comme en|qu'en|qu en|par rapport a(?: l'annee)?|rapport a|contre|vs\.?|depuis|idem en|meme qu'en)\s*$"
)


IN_PROSE = {"table": "", "row_label": "", "column": "", "caption": ""}  # a fact of prose has no table cell


def line_place(name: str, li, kind: str, last_line: int | None) -> dict:
    """Where a fact of one line stands: its document, line (and where its text ends), page, kind and headings."""
    return {
        "document": name,
        "line": li.number,
        "first_line": li.number,
        "last_line": last_line or li.number,
        "page": li.page,
        "kind": kind,
        "section": li.section,
        "context": li.context,
    }


class ProseFactsMixin:
    """Facts of numbers in sentences: clause, operators, territory and years (a part of extract._Extractor)."""

    entities: Entities
    lexicon: Lexicon

    def add(self, *, q: Quantity, operators: list[str], scopes: list[str], years: list[int], **cols) -> None:
        raise NotImplementedError  # _Extractor keeps the rows

    def section_ctx(self, context: str, doc_year: int | None) -> Context:
        raise NotImplementedError  # _Extractor caches what each section says

    def prose_facts(self, name: str, doc, li, last_line: int | None = None) -> None:
        """Facts of the numbers of one line (last_line: where its text ends, when it was joined to the next)."""
        text = clean_markup(li.text)
        if not any(ch.isdigit() for ch in text):
            return
        kind = "list" if re.match(r"^\s*([-*•✓❖➤⇒]|\d+[.)]\s)", li.text.strip()) else "prose"
        sect = self.section_ctx(li.context, doc.info.year)
        for sent in sentences(text):
            for row in date_rows(name, li, sent, sect, kind, last_line, self.entities):
                self.add(**row)
            qs = find_quantities(sent)
            if not qs:
                continue
            kept = [q for q in qs if self._is_figure(sent, q)]
            if not kept:
                continue
            f_sent = fold(sent)
            sent_ops = self.entities.operator_mentions(f_sent)
            sent_years = years_in(sent)
            resp = self._respectively(sent, kept)
            spans = [
                (kept[i - 1].end if i else 0, q.start, q.end, kept[i + 1].start if i + 1 < len(kept) else len(sent))
                for i, q in enumerate(kept)
            ]
            named_after = [self._scope_after(sent[e:n]) for _, _, e, n in spans]  # each number's own territory
            own_after = [Counter(k for k, _, _ in m) for m in named_after]
            for i, q in enumerate(kept):
                prev_end, _, _, next_start = spans[i]
                before, after = sent[prev_end : q.start], sent[q.end : next_start]
                # a number in parentheses ("(sur 149 625 entrées)") reads with the clause it stands in
                aside = sent[: q.start].count("(") > sent[: q.start].count(")")
                claimed = None if aside else sum((own_after[j] for j in range(len(kept)) if j != i), Counter())
                scope, scopes = self._scope(sent, before, named_after[i], resp.get(i), bool(i), claimed)
                scope_src = "sentence" if scope else ""
                if not scope:
                    scope, scope_src = (sect.scope, "section") if sect.scope else ("", "")
                ops = self._nearest_ops(f_sent, sent_ops, q, len(sent))
                op_src = "sentence" if ops else ""
                if not ops and sect.operators:
                    ops, op_src = sect.operators[:1], "section"
                years = sent_years
                year_src = "sentence" if years else ""
                if not years:
                    years, year_src = (sect.years, "section") if sect.years else ([], "")
                if not years and doc.info.year:
                    years, year_src = [doc.info.year], "document"
                default_years = sect.years or ([doc.info.year] if doc.info.year else [])
                own = _own_before(before, bool(i), len(kept) > 1, after)[-160:]
                near = f"{own}{q.text}{_own_after(after, before)[:160]}"
                self.add(
                    **line_place(name, li, kind, last_line),
                    q=q,
                    sentence=sent,
                    near=near.strip(),
                    label=_label(before, after),
                    operator=ops[0] if ops else "",
                    operators=list(dict.fromkeys([k for k, _, _ in sent_ops] + sect.operators)),
                    operator_source=op_src,
                    scope=scope,
                    scopes=scopes or ([scope] if scope else []),
                    scope_source=scope_src,
                    years=list(
                        dict.fromkeys([*self._nearest_years(sent, q, years, default_years, qs), *default_years])
                    ),
                    year_source=year_src,
                    **IN_PROSE,
                )

    def _is_figure(self, sent: str, q: Quantity) -> bool:
        """False for years, dates, ordinals, ranges and numbers that name things ('niveau 6')."""
        if q.unit == "count" and not q.signed and YEAR.fullmatch(q.number):
            return False
        before = fold(sent[max(0, q.start - 30) : q.start])
        after = fold(sent[q.end : q.end + 20])
        last = re.search(r"([a-z0-9°.+]+)\s*$", before)  # the word right before, no punctuation between
        if last and last.group(1).rstrip(".") in {w.rstrip(".") for w in self.lexicon.qualifiers_before}:
            return False
        if re.search(r"(?:n\s?°|l\.|r\.|d\.)\s*$", before):
            return False
        window = fold(clean_markup(sent[max(0, q.start - 30) : q.end + 30]))
        if any(name in window for name in self.lexicon.named if q.number in name):
            return False  # a number of a name: « 1 jeune 1 solution »
        glued_before = q.start > 0 and (sent[q.start - 1].isalpha() or sent[q.start - 1] == "#")
        if glued_before and sent[q.end : q.end + 1].isalpha():
            return False  # a digit inside a code or a tag: « J1S », « #1J1S »
        first_after = re.findall(r"[a-z]+", after[:15])
        if q.unit == "count" and first_after and first_after[0] in self.lexicon.qualifiers_after:
            return False
        if re.search(r"\d\s?[-–/]\s?$", sent[max(0, q.start - 3) : q.start]) or re.match(
            r"^\s?[-–/]\s?\d", sent[q.end : q.end + 3]
        ):
            return False  # a range "25-44 ans", a date "01/02"
        if re.search(r"\bentre\s*$", before) and re.match(r"^\s*(?:et|a)\s+\d", after):
            return False
        if re.search(r"\b(?:du|de|des)\s*$", before) and re.match(r"^\s*(?:au|aux|a)\s+\d", after):
            return False  # the first bound of a range: "du 6 au 26 mars", "de 9 à 12 mois"
        if re.match(r"^\s*(?:a|et)\s+\d+\s*ans\b", after):
            return False  # the lower bound of an age range: "jeunes de 16 à 25 ans" counts no one
        if re.search(r"\bentre\s+\d+\s+(?:et|a)\s*$", before) or re.search(r"\bde\s+\d+\s+a\s*$", before):
            return False
        if q.unit == "count" and re.match(r"^[.)]\s", sent[q.end : q.end + 2]) and not sent[: q.start].strip(" -*•✓"):
            return False  # "1. SI Parcours H": a list number
        return not (q.unit == "count" and re.match(r"^\s*(?:etoiles?|etoile)\b", after))

    def _respectively(self, sent: str, kept: list[Quantity]) -> dict[int, str]:
        """'En Occitanie et au national ... respectivement 24 % et 26 %': scopes in order."""
        f = fold(sent)
        pos = f.find("respectivement")
        if pos < 0:
            return {}
        scopes = [k for k, s, _ in self.entities.scope_mentions(f[:pos])]
        scopes = list(dict.fromkeys(scopes))
        after = [i for i, q in enumerate(kept) if q.start > pos]
        if len(scopes) < 2 or len(after) < 2:
            return {}
        return {i: scopes[k] for k, i in enumerate(after[: len(scopes)])}

    def _scope(
        self,
        sent: str,
        before: str,
        named_after: list[tuple[str, int, int]],
        forced: str | None,
        multi: bool,
        claimed: Counter[str] | None = None,
    ) -> tuple[str, list[str]]:
        """A number's territory and all those it is about. named_after: the territories right after the number, in
        its clause (_scope_after); claimed: those named right after the other numbers of the sentence."""
        e = self.entities
        mentioned = Counter(k for k, _, _ in e.scope_mentions(fold(sent)))
        all_found = list(mentioned)
        if forced:
            return forced, [forced]
        # right after the number, in the same clause: "19.22 % sur l'Occitanie", "41 % au niveau national"
        m = named_after
        if m:
            return m[0][0], [m[0][0]]
        # before the number, only its own clause: "… au niveau national et 68.86 % …" is not about the national
        fb = re.split(r"[,;:(]|\bcontre\b|\bet\b|\bvs\b", fold(before))[-1] if multi else fold(before)
        found = e.scope_mentions(fb)
        main = [
            k
            for k, s, _ in found
            if not re.search(r"(?:comme|ainsi qu|tout comme)\s+(?:au|en|a|le|la|l')?\s*(?:niveau\s+)?$", fb[:s])
        ]
        also = [k for k, _, _ in found if k not in main]
        if main:
            chosen = main[-1] if len(main) == 1 or not fb.strip().startswith(("en ", "au ", "a ", "sur ")) else main[0]
            # "La moyenne d'âge en Occitanie et au national est de 21 ans": every territory of its clause
            return chosen, list(dict.fromkeys([chosen, *main, *also]))
        # a territory named right after another number of the sentence is that number's ("9 731 membres …
        # dont 3 810 en Occitanie"): the sentence lends the others only the territories no number claims
        free = [k for k in all_found if mentioned[k] > (claimed or Counter())[k]]
        if free:
            return free[0], free
        return "", []

    def _scope_after(self, after: str) -> list[tuple[str, int, int]]:
        """Territories named right after a number, in its clause ("19.22 % sur l'Occitanie")."""
        clause = re.split(r"[,;:(]|\bcontre\b|\bet\b|\bvs\b", fold(after), maxsplit=1)[0]
        return self.entities.scope_mentions(clause[:CLAUSE_SPAN])

    def _nearest_ops(self, f_sent: str, mentions: list[tuple[str, int, int]], q: Quantity, n: int) -> list[str]:
        if not mentions:
            return []
        scale = len(f_sent) / max(n, 1)
        pos = q.start * scale
        ordered = sorted(mentions, key=lambda m: min(abs(m[1] - pos), abs(m[2] - pos)))
        return list(dict.fromkeys(k for k, _, _ in ordered))

    def _nearest_years(
        self, sent: str, q: Quantity, years: list[int], default: Sequence[int] = (), quantities: Sequence[Quantity] = ()
    ) -> list[int]:
        """Years of the sentence, nearest first; a year of comparison ("comme en 2020", "idem en 2020") or of another
        number ("13 jours contre 16 en 2020") comes after the section's or document's (`default`)."""
        found = [(int(m.group()), m.start()) for m in YEAR.finditer(sent)]
        if not found:
            return years

        def compared(start: int) -> bool:
            return bool(_COMPARED_YEAR.search(fold(sent[max(0, start - 25) : start])))

        # "En 2023, … 17 315 entrées, contre 15 842 en 2022": a year after another number is that number's; a year
        # that opens the sentence is every number's
        others = [x.start for x in quantities if x.start != q.start and not YEAR.fullmatch(x.number)]

        def claimed(start: int) -> bool:  # a year after this number, another number between: that one's year
            return start > q.start and any(q.start < o < start for o in others)

        found.sort(key=lambda ym: (compared(ym[1]), abs(ym[1] - q.start)))
        own = [y for y, at in found if not compared(at) and not claimed(at)]
        return list(dict.fromkeys([*own, *default, *(y for y, at in found if not claimed(at))]))


def _own_before(before: str, has_previous: bool, has_siblings: bool = False, after: str = "") -> str:
    """The words before a number that speak of it: after the last ')' or ';' (or 'et', ',', 'dont' after another).

    When a sentence states several numbers, its opening words are everyone's subject: the first
    number keeps only the few words right before it ("au recours fort (13%)").
    """
    cut = max(before.rfind(")"), before.rfind(";"), before.rfind(" – "))
    opened = before.rfind("(")
    aside = after.split(")", 1)[0] if opened >= 0 else ""
    if opened > cut and re.search(r"[^\W\d_]", before[opened:]) and re.search(r"[^\W\d_]{2,}", aside):
        cut = opened  # "(les 4 % restants estiment …)": an aside with its own subject, not "(à hauteur de 9 %)"
    if has_previous:
        # "84 % … en recherche d'emploi dont 61 % inscrits": "dont" and "soit" open the next number's clause
        cut = max(cut, before.rfind(" et "), before.rfind(","), before.rfind(" contre "))
        cut = max(cut, before.rfind(" dont "), before.rfind(" soit "))
    own = before[cut + 1 :] if cut >= 0 else before
    if has_siblings and not has_previous:
        own = " ".join(own.split()[-4:]) + (" " if own.endswith(" ") else "")
    return own


def _own_after(after: str, before: str) -> str:
    """The words after a number that speak of it: up to '(' or ';' (or ')' when the number is in parentheses)."""
    stops = [";", " – "] + ([")"] if before.rstrip().endswith("(") else [])
    cuts = [after.find(c) for c in stops if after.find(c) >= 0]
    paren = re.search(r"\((?=[^)]{0,30}\d)", after)  # "(92 sites": another number's parenthesis
    if paren:
        cuts.append(paren.start())
    return after[: min(cuts)] if cuts else after


def _label(before: str, after: str) -> str:
    """A short name of what a number counts: the words after it, else the words before it."""
    a = re.split(r"[.;:,(]", clean_markup(after), maxsplit=1)[0].strip()
    words_after = a.split()
    if len(words_after) >= 2 and not re.match(r"^(soit|contre|et|ou|par|en|au|sur|pour)\b", a):
        return " ".join(words_after[:8])
    b = re.split(r"[.;:(]", clean_markup(before))[-1].strip()
    return " ".join(b.split()[-8:]) or a


def label_lines(lines: list, k: int, table_lines: set[int], most: int = 3) -> list:
    """The label of a number standing alone on its line, as infographics converted from PDF lay them out:
    the lines right below it (one blank line may sit between) when they start in lower case, up to a blank."""
    qs = find_quantities(clean_markup(lines[k].text))
    bare = len(qs) == 1 and not re.search(r"[^\W\d_]", clean_markup(lines[k].text).replace(qs[0].text, ""))
    if not bare:
        return []
    j = k + 1
    if j < len(lines) and not lines[j].text.strip():
        j += 1
    out: list = []
    while j < len(lines) and len(out) < most and lines[j].text.strip() and lines[j].number not in table_lines:
        if not out and not lines[j].text.strip()[0].islower():
            return []
        if lines[j].is_heading or lines[j].in_toc:
            break
        out.append(lines[j])
        j += 1
    return out


def date_rows(
    name: str, li, sent: str, sect: Context, kind: str, last_line: int | None, entities: Entities
) -> list[dict[str, Any]]:
    """A fact per date of a sentence, unit « date » (its value: the year), and one more, unit « day » (its value:
    the day of the month) when the day is written."""
    dates = find_dates(sent)
    if not dates:
        return []
    ops = list(dict.fromkeys([k for k, _, _ in entities.operator_mentions(fold(sent))] + sect.operators))
    rows: list[dict[str, Any]] = []
    for i, d in enumerate(dates):
        before = sent[dates[i - 1].end if i else 0 : d.start]
        after = sent[d.end : dates[i + 1].start if i + 1 < len(dates) else len(sent)]
        near = f"{_own_before(before, bool(i))[-160:]}{d.text}{_own_after(after, before)[:160]}"
        values = [("date", d.year)] + ([("day", d.day)] if d.day is not None else [])
        for unit, value in values:
            rows.append(
                {
                    **line_place(name, li, kind, last_line),
                    "q": Quantity(float(value), unit, d.text, d.start, d.end, str(value)),
                    "sentence": sent,
                    "near": near.strip(),
                    "label": _label(before, after),
                    "operator": ops[0] if ops else "",
                    "operators": ops,
                    "operator_source": "sentence" if ops else "",
                    "scope": sect.scope or "",
                    "scopes": [sect.scope] if sect.scope else [],
                    "scope_source": "section" if sect.scope else "",
                    "years": [d.year],
                    "year_source": "date",
                    **IN_PROSE,
                }
            )
    return rows
