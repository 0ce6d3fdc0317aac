"""French number parsing: "175 837", "62,59 %", "2,66 jours", "2h", "72 700 km²", "1 cadre sur 3" -> value + unit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.text import fold

# Any space a French text may put between digit groups (space, no-break, narrow no-break, thin).
SPACES = " \u00a0\u202f\u2009"
_SP = f"[{SPACES}]"

# A number: grouped thousands ("1 809 087"), dotted thousands ("1.809.087") or plain, with decimals.
_NUM = (
    rf"\d{{1,3}}(?:{_SP}\d{{3}})+(?:,\d+)?"
    r"|\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?"
    r"|\d+(?:[.,]\d+)?"
)

# Units that may follow a number; the first group that matches names the unit.
_UNITS: list[tuple[str, str]] = [
    ("percent", r"%|pour\s?cents?\b|points?\s+de\s+pourcentage"),
    ("meur", r"M€|M\s?d'euros|millions?\s+d['’]euros|millions?\s+€"),
    ("beur", r"Md€|milliards?\s+d['’]euros"),
    ("keur", r"k€|K€"),
    ("eur", r"€|euros?\b"),
    ("km2", r"km²|km2\b|kilomètres?\s+carrés"),
    ("km", r"km\b"),
    ("days", r"jours?\b|j\b"),
    ("minutes", r"min\b|minutes?\b|mn\b"),
    ("hours", r"heures?\b|h\b"),
    ("weeks", r"semaines?\b"),
    ("months", r"mois\b"),
    ("years", r"ans\b|années?\b"),
    ("score", r"/\s?(?:10|20|5|100)\b"),
]
UNIT_RE = {name: re.compile(pattern) for name, pattern in _UNITS}
_UNIT_ALT = "|".join(f"(?P<u_{name}>{pattern})" for name, pattern in _UNITS)

QUANTITY = re.compile(
    rf"(?<![\w.,/])(?P<sign>[+\-−]{_SP}?)?(?P<num>{_NUM})"
    rf"(?:(?P<ratio>{_SP}(?:[a-zA-ZÀ-ÿ'’()-]+{_SP})?sur{_SP}(?P<den>\d{{1,3}}))(?![\d.,]))?"
    rf"(?:{_SP}?(?:{_UNIT_ALT}))?"
)

UNIT_SUFFIX = {
    "count": "",
    "percent": " %",
    "meur": " M€",
    "beur": " Md€",
    "keur": " k€",
    "eur": " €",
    "km2": " km²",
    "km": " km",
    "days": " jours",
    "minutes": " min",
    "hours": " h",
    "weeks": " semaines",
    "months": " mois",
    "years": " ans",
    "score": "",
    "ratio": "",
}


DATE_UNITS = ("date", "day")  # a date's year, its day of the month (find_dates)


@dataclass(frozen=True)
class Quantity:
    """A number found in a text: its value, unit, and where it stands."""

    value: float
    unit: str  # count, percent, days, minutes, hours, km2, eur, meur, score, ratio...
    text: str  # the matched source text, e.g. "175 837", "62,59 %"
    start: int
    end: int
    number: str  # the digits as written, e.g. "62,59"
    signed: bool = False
    denominator: int | None = None  # "1 cadre sur 3", "8,5/10"

    @property
    def display(self) -> str:
        """French display of the number as written: '175 837', '9,76 %', '8,5/10', '1 sur 3'."""
        if self.unit in DATE_UNITS:
            return self.text  # « 1er janvier 2020 », « 15/09/21 »: as written
        text = display_number(self.number, self.unit, self.denominator, self.signed and self.value >= 0)
        return "- " + text if self.value < 0 else text


def parse_number(text: str) -> float | None:
    """The value of a French-written number ('175 837', '62,59', '9.76', '1.809.087'), else None."""
    t = text.strip().replace("−", "-")
    for c in SPACES:
        t = t.replace(c, "")
    if not t:
        return None
    sign = 1.0
    if t[0] in "+-":
        sign = -1.0 if t[0] == "-" else 1.0
        t = t[1:]
    if re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?", t):
        t = t.replace(".", "")
    t = t.replace(",", ".")
    if not re.fullmatch(r"\d+(?:\.\d+)?", t):
        return None
    return sign * float(t)


# "148.849 actifs": one dotted group of three digits in a count is a thousands separator (a count of
# people or files is not stated to the thousandth); "9.72 %", "2.5 points" keep their decimal point.
_DOTTED_COUNT = re.compile(r"[1-9]\d{0,2}\.\d{3}")


def _unit_of(m: re.Match[str]) -> str:
    for name, _ in _UNITS:
        if m.group(f"u_{name}"):
            return name
    return "count"


# Digits that name rather than count: "Covid-19", "SPH-3" (a word, a hyphen, digits), a date or a time
# ("13/02/2019", "09:00", "07.04.22"), a phone number or a code written with a leading zero ("01", "05 61").
_NAMING_BEFORE = re.compile(r"[^\W\d_]-$")
_NAMING_AFTER = re.compile(rf"/\d{{1,2}}/\d|:\d{{2}}|\.\d{{2}}\.\d|{_SP}?h{_SP}?\d{{2}}\b")  # "12 h 30": a time
_CLOCK_BEFORE = re.compile(rf"\d{_SP}?h{_SP}?$")  # the minutes of "12 h 30"
_LEADING_ZERO = re.compile(r"0\d")
_PHONE = re.compile(rf"(?<!\d)0\d(?:[{SPACES}.-]?\d{{2}}){{4}}(?!\d)")


def _names_something(text: str, m: re.Match[str]) -> bool:
    start = m.start("sign") if m.group("sign") else m.start("num")
    if _NAMING_BEFORE.search(text[max(0, start - 2) : start + (1 if m.group("sign") else 0)]):
        return True
    if _NAMING_AFTER.match(text, m.end("num")) or text[max(0, start - 1) : start] == ":":
        return True
    if _CLOCK_BEFORE.search(text[max(0, start - 6) : start]):
        return True
    return bool(_LEADING_ZERO.match(m.group("num")))


def find_quantities(text: str) -> list[Quantity]:
    """Every number of a text with its unit, in order (years and ordinals included; callers filter)."""
    out: list[Quantity] = []
    phones = [p.span() for p in _PHONE.finditer(text)]
    for m in QUANTITY.finditer(text):
        number = m.group("num")
        end = m.end()
        if _names_something(text, m) or any(a <= m.start("num") < b for a, b in phones):
            continue
        # "1er", "3e trimestre", "2ème": an ordinal, not a quantity.
        after = text[m.end("num") : m.end("num") + 4]
        if not m.group("ratio") and _unit_of(m) == "count" and re.match(r"(?:er|ère|re|e|ème|eme|nd|nde)\b", after):
            continue
        value = parse_number(number)
        if value is None:
            continue
        sign = (m.group("sign") or "").strip().replace("−", "-")
        if sign and not text[: m.start("sign")].strip(" \t*•✓❖-"):
            sign = ""  # a list bullet ("- 94% des bénéficiaires"), not a sign
        unit = _unit_of(m)
        if unit == "count" and not m.group("ratio") and _DOTTED_COUNT.fullmatch(number.strip()):
            value = float(number.strip().replace(".", ""))
        if sign == "-":
            value = -value
        denominator = None
        if m.group("ratio"):
            denominator = int(m.group("den"))
            if denominator == 0 or unit not in ("count",) or re.fullmatch(r"(?:19|20)\d\d", number.strip()):
                # "Données 2015 obtenues sur 64 retours": a year, not "2015 out of 64"
                # "4 étoiles sur 5 %"-like oddities: keep the plain number only.
                end = m.end("num")
                denominator = None
            else:
                unit = "ratio"
        elif unit == "score":
            denominator = int(re.sub(r"\D", "", m.group("u_score")))
        start = m.start("sign") if sign else m.start("num")
        out.append(Quantity(value, unit, text[start:end].strip(), start, end, number, bool(sign), denominator))
    return out


def group_thousands(digits: str) -> str:
    """'175837' -> '175 837' (a plain space between groups of three)."""
    out: list[str] = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return " ".join(out)


def display_number(
    number: str, unit: str = "count", denominator: int | None = None, plus: bool = False, written: bool = True
) -> str:
    """French display of a written number: thousands by spaces, decimal comma, unit suffix."""
    t = number
    for c in SPACES:
        t = t.replace(c, "")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?", t) or (
        written and unit == "count" and _DOTTED_COUNT.fullmatch(t)
    ):
        t = t.replace(".", "")
    t = t.replace(",", ".")
    whole, _, decimals = t.partition(".")
    text = group_thousands(whole) + ("," + decimals if decimals else "")
    if plus:
        text = "+ " + text
    if unit == "ratio" and denominator:
        return f"{text} sur {denominator}"
    if unit == "score" and denominator:
        return f"{text}/{denominator}"
    return text + UNIT_SUFFIX.get(unit, "")


def format_value(value: float, unit: str = "count") -> str:
    """French display of a value (no source text): 175837 -> '175 837', 62.59 -> '62,59 %'."""
    text = f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return (
        display_number(text.replace("-", ""), unit, None, written=False)
        if value >= 0
        else "-" + display_number(text.replace("-", ""), unit, written=False)
    )


MONTHS = ("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre", "novembre",
          "decembre")
_MONTH = r"(janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[ûu]t|septembre|octobre|novembre|d[ée]cembre)"
_YEAR = r"(19[5-9]\d|20[0-4]\d)"
# « 5 mars 2014 », « 1er janvier 2020 », « mars 2021 », « 15/09/21 », « 01/01/2020 », and a year alone
_DATE = re.compile(
    rf"(?<![\d/])(?:(?P<day>[0-3]?\d|1er)\s+)?(?P<month>{_MONTH})\s+{_YEAR.replace('(', '(?P<year>', 1)}(?![\d])"
    r"|(?<![\d/.,])(?P<dd>[0-3]?\d)/(?P<mm>[01]?\d)/(?P<yy>\d{4}|\d{2})(?![\d/])"
    rf"|(?<![\d/.,°-])(?<!n°\s)(?<!n°)(?P<alone>{_YEAR[1:-1]})(?![\d]|\s?[-–/]\s?\d|[.,]\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateMention:
    """A date written in a text: its year, and its month and day when written."""

    text: str
    start: int
    end: int
    year: int
    month: int | None
    day: int | None


def find_dates(text: str) -> list[DateMention]:
    """Dates of a text, in order: a day and month with their year, a month with its year, a numeric date, or a
    year alone (not a decree number « 2019-1439 », not a range « 2021-2022 »)."""
    out: list[DateMention] = []
    for m in _DATE.finditer(text):
        if m.group("month"):
            month = MONTHS.index(fold(m.group("month"))) + 1
            day = m.group("day")
            year, d = int(m.group("year")), (1 if day and day.lower() == "1er" else int(day) if day else None)
        elif m.group("dd"):
            d, month, yy = int(m.group("dd")), int(m.group("mm")), m.group("yy")
            year = int(yy) if len(yy) == 4 else 2000 + int(yy)
            if not (1 <= month <= 12 and 1950 <= year <= 2049):
                continue
        else:
            year, month, d = int(m.group("alone")), None, None
        if d is not None and not 1 <= d <= 31:
            continue
        out.append(DateMention(m.group(0), m.start(), m.end(), year, month, d))
    return out
