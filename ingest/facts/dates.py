"""Facts of dates: what « en quelle année… ? », « quel jour… ? » ask (a part of extract._Extractor)."""

from __future__ import annotations

from ingest.facts.entities import Context, Entities
from ingest.facts.prose import IN_PROSE, _label, _own_after, _own_before, line_place
from ingest.numbers import Quantity, find_dates
from ingest.text import fold


class DateFactsMixin:
    """A fact per date of a sentence: its year (unit « date »), and its day (unit « day ») when written."""

    entities: Entities

    def add(self, *, q: Quantity, operators: list[str], scopes: list[str], years: list[int], **cols) -> None:
        raise NotImplementedError  # _Extractor keeps the rows

    def date_facts(self, name: str, doc, li, sent: str, sect: Context, kind: str, last_line: int | None) -> None:
        """A fact per date of a sentence, unit « date » (its value: the year), and one more, unit « day » (its value:
        the day of the month) when the day is written: what « en quelle année… », « quel jour… » ask."""
        dates = find_dates(sent)
        if not dates:
            return
        f_sent = fold(sent)
        ops = list(dict.fromkeys([k for k, _, _ in self.entities.operator_mentions(f_sent)] + sect.operators))
        for i, d in enumerate(dates):
            before = sent[dates[i - 1].end if i else 0 : d.start]
            after = sent[d.end : dates[i + 1].start if i + 1 < len(dates) else len(sent)]
            near = f"{_own_before(before, bool(i))[-160:]}{d.text}{_own_after(after, before)[:160]}"
            values = [("date", d.year)] + ([("day", d.day)] if d.day is not None else [])
            for unit, value in values:
                self.add(
                    **line_place(name, li, kind, last_line),
                    q=Quantity(float(value), unit, d.text, d.start, d.end, str(value)),
                    sentence=sent,
                    near=near.strip(),
                    label=_label(before, after),
                    operator=ops[0] if ops else "",
                    operators=ops,
                    operator_source="sentence" if ops else "",
                    scope=sect.scope or "",
                    scopes=[sect.scope] if sect.scope else [],
                    scope_source="section" if sect.scope else "",
                    years=[d.year],
                    year_source="date",
                    **IN_PROSE,
                )
