"""From an Answer to safe markdown: escaped text, highlighted quotes, operator cards, a routing summary.

Everything a user or a document typed is escaped here, so the page never renders it as HTML, a link
or an image; the app never passes user text to ``unsafe_allow_html``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime
from typing import Any

from assistant.citations import locator
from assistant.records import Answer, Citation, Figure, OperatorChoice
from ingest.numbers import DATE_UNITS, format_value
from ingest.text import clean_markup

# Any ASCII punctuation mark may be backslash-escaped in CommonMark; escaping those that build markup
# also breaks bare-URL autolinks ("http\:\/\/…", "www\.…"), Streamlit's "$…$" math and ":color[…]".
# Commas, apostrophes, quotes, "?", ";" and "%" never build markup and stay as typed.
_PUNCT = re.compile(r"([!#$&()*+\-./:<=>@\[\\\]^_`{|}~])")
# Escapes do not stop GFM's bare-URL autolinks (www., scheme://, e-mail), which Streamlit applies to the
# text; an invisible word joiner before "www." dot, "://" and "@" does.
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?<=\bwww)(?=\\\.)|(?<=[a-z0-9])(?=\\:\\/)|(?=\\@)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ANGLE_LINK = re.compile(r"<((?:https?://|www\.|mailto:)[^<>\s]+)>", re.IGNORECASE)

INTENT_LABELS = {
    "routing": "Orientation",
    "figure": "Chiffre",
    "passage": "Passage des documents",
    "clarify": "Précision demandée",
    "abstain": "Pas de réponse sûre",
}
ROLE_LABELS = {"primary": "Opérateur à contacter", "alternative": "Autre possibilité"}
# When the rules still need a fact (a "clarify" answer) no operator is the one to contact yet.
UNDECIDED_LABEL = "Possible selon votre situation"
# Kinds of operator facts (knowledge/operators.toml) and their labels. Who they serve and how to reach
# them show on the card; services and the rest fold under "Services et plus d'informations".
KIND_LABELS = {
    "public": "Public",
    "canal": "Comment le joindre",
    "offre": "Offre de service",
    "service": "Services",
    "engagement": "Engagements",
    "statut": "Statut",
}
MAIN_LABELS = ("Public", "Comment le joindre", "Contact")
EXTRA_LABELS = {"serves": "Public", "services": "Services", "channels": "Comment le joindre", "contact": "Contact"}
_SKIP_EXTRA = {"source", "sources", "quote", "lines", "document", "call", "kind", "fact", "facts"}


def escape(text: str, max_chars: int | None = None) -> str:
    """Text shown literally in Streamlit markdown: no HTML, link, image, emphasis, math or heading."""
    text = _CONTROL.sub(" ", str(text))
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars].rstrip() + " …"
    text = _PUNCT.sub(r"\\\1", text)
    text = _AUTOLINK.sub(WORD_JOINER, text)
    text = re.sub(r"[ \t]+", " ", text)  # four spaces would start a code block
    return re.sub(r" ?\n ?", "  \n", text)  # hard line breaks keep the lines of a quote


def plain(text: str) -> str:
    """A document's text without its Markdown or conversion markup (« **gras** », « <https://…> », « 1^{er} »).

    Lines are kept; what a reader would see as raw markers is removed, never shown.
    """
    text = _ANGLE_LINK.sub(r"\1", str(text))  # an autolink keeps its address (clean_markup drops tags)
    return clean_markup(text)


def inline(text: str, max_chars: int | None = None) -> str:
    """Escaped text on one line (for a heading, a table cell or a label)."""
    return escape(re.sub(r"\s+", " ", str(text)).strip(), max_chars)


def _highlight_span(text: str, highlight: str) -> tuple[int, int] | None:
    words = highlight.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    m = re.search(pattern, text)
    return m.span() if m else None


def answer_markdown(text: str) -> str:
    """An answer's text (or message) as shown: document markup removed, then escaped."""
    return escape(plain(text))


def quote_markdown(citation: Citation) -> str:
    """The quoted passage, escaped, with the answering sentence (Citation.highlight) highlighted."""
    text = plain(citation.quote)
    span = _highlight_span(text, plain(citation.highlight)) if citation.highlight else None
    if span is None:
        return escape(text)
    a, b = span
    marked = inline(text[a:b])
    return f"{escape(text[:a])}:orange-background[**{marked}**]{escape(text[b:])}"


def citation_heading(citation: Citation) -> str:
    """« Title » — section, page or lines (escaped markdown)."""
    where = locator(citation)
    title = inline(citation.title or citation.document)
    return f"**{title}**" + (f" — {inline(where)}" if where else "")


def plain_source(citation: Citation) -> str:
    """Where a passage is, in words a visitor reads: document title and page (or part), no line numbers."""
    title = citation.title or citation.document
    if citation.page:
        return f"{title}, page {citation.page}"
    part = citation.section.split("›")[-1].strip() if citation.section else ""
    return f"{title}, partie « {part} »" if part and part != title else title


def citation_text(citation: Citation) -> str:
    """A plain-text reference, for summaries."""
    where = locator(citation)
    return f"{citation.title or citation.document}" + (f", {where}" if where else "")


@dataclass(frozen=True)
class OperatorCard:
    """What the app shows of a proposed operator: role, reason, and what the documents say of it."""

    id: str
    name: str
    role: str
    why: str  # escaped markdown
    details: list[tuple[str, list[str]]] = field(default_factory=list)  # (label, escaped lines)
    more: list[tuple[str, list[str]]] = field(default_factory=list)  # secondary facts, folded away
    why_text: str = ""  # the reason as written, to tell whether the answer already says it


def _item_text(item: Any, default_document: str = "") -> str:
    """One value of operators.toml as a line: a string, or a table with a text and its source."""
    if is_dataclass(item) and not isinstance(item, type):
        item = asdict(item)
    if isinstance(item, Mapping):
        main = next((str(item[k]) for k in ("text", "name", "label", "value", "what") if item.get(k)), "")
        if not main:
            main = ", ".join(
                f"{k} : {v}" for k, v in item.items() if k not in _SKIP_EXTRA and not isinstance(v, Mapping | list)
            )
        src = item.get("source") or item.get("sources") or ({"lines": item["lines"]} if item.get("lines") else None)
        where = _source_text(src)
        document = str(item.get("document") or "")
        if where and document and document != default_document:
            where = where.replace("source : ", f"source : {document}, ", 1)
        return f"{main} ({where})" if main and where else main
    if isinstance(item, list | tuple):
        return ", ".join(_item_text(x) for x in item)
    return str(item)


def _source_text(src: Any) -> str:
    if not src:
        return ""
    if isinstance(src, list | tuple):
        return "; ".join(filter(None, (_source_text(s) for s in src)))
    if isinstance(src, Mapping):
        lines = src.get("lines")
        if isinstance(lines, list | tuple) and lines and all(isinstance(n, int) for n in lines):
            a, b = lines[0], lines[-1]
            return f"source : l. {a}" if a == b else f"source : l. {a}-{b}"
        if src.get("page"):
            return f"source : p. {src['page']}"
        return ""
    return f"source : {src}"


def operator_details(
    extra: Mapping[str, Any], facts: Iterable[Any] = (), default_document: str = ""
) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    """The operator's data from knowledge/operators.toml, defensively, as (main, more) groups of lines.

    Facts (``[[operator.fact]]`` tables with a kind) are grouped by kind, known kinds first; any
    other key is shown whatever its shape (text, list, table).
    """
    groups: dict[str, list[str]] = {}
    listed = extra.get("fact") or extra.get("facts") or []
    for item in [*facts, *(listed if isinstance(listed, list | tuple) else [listed])]:
        kind = str(item.get("kind", "") if isinstance(item, Mapping) else getattr(item, "kind", "") or "")
        label = KIND_LABELS.get(kind) or (kind.capitalize() if kind else "Informations")
        text = _item_text(item, default_document)
        if text.strip():
            groups.setdefault(label, []).append(inline(text, 400))
    for key, value in extra.items():
        if key in _SKIP_EXTRA or key.startswith("_"):
            continue
        items = value if isinstance(value, list | tuple) else [value]
        lines = [inline(t, 400) for t in (_item_text(i) for i in items) if t and t.strip()]
        if lines:
            groups.setdefault(EXTRA_LABELS.get(key, key.replace("_", " ").capitalize()), []).extend(lines)
    main = [(label, groups[label]) for label in MAIN_LABELS if label in groups]
    order = [*KIND_LABELS.values(), *groups]
    more = [(label, groups[label]) for label in dict.fromkeys(order) if label in groups and label not in MAIN_LABELS]
    return main, more


def operator_cards(choices: Iterable[OperatorChoice], operators: Mapping[str, Any]) -> list[OperatorCard]:
    """Cards for a routing answer's operators; `operators` maps id -> Operator (may lack some ids)."""
    docs = Counter(
        str(getattr(f, "document", "")) for op in operators.values() for f in (getattr(op, "facts", None) or ())
    )
    default_document = docs.most_common(1)[0][0] if docs else ""
    cards = []
    for choice in choices:
        op = operators.get(choice.id)
        extra = getattr(op, "extra", None) or {}
        facts = getattr(op, "facts", None) or ()
        details, more = operator_details(extra if isinstance(extra, Mapping) else {}, facts, default_document)
        cards.append(
            OperatorCard(
                id=choice.id,
                name=inline(choice.name or getattr(op, "name", choice.id)),
                role=ROLE_LABELS.get(choice.role, choice.role),
                why=answer_markdown(choice.why),
                details=details,
                more=more,
                why_text=choice.why,
            )
        )
    return cards


@dataclass(frozen=True)
class KioskCard:
    """An operator as a kiosk visitor sees it: who, why, how to reach them, and where the documents say so."""

    name: str
    role: str
    why: str  # escaped markdown
    contacts: list[str]  # escaped lines, no source references
    sources: list[str]  # escaped plain sources: "document, page N"


def kiosk_cards(answer: Answer, operators: Mapping[str, Any], corpus: Any = None) -> list[KioskCard]:
    """Cards for a kiosk: contact channels the documents give, their sources one tap away in plain words.

    Until the rules have decided (a "clarify" answer) every operator is shown as a possibility, never as
    the operator to contact.
    """
    decided = answer.intent == "routing"
    cards = []
    for choice in answer.operators:
        op = operators.get(choice.id)
        contacts: list[str] = []
        sources: list[str] = []
        for fact in getattr(op, "facts", None) or ():
            if getattr(fact, "kind", "") != "canal":
                continue
            contacts.append(inline(str(fact.text), 300))
            where = _plain_fact_source(fact, corpus)
            if where and inline(where) not in sources:
                sources.append(inline(where))
        cards.append(
            KioskCard(
                name=inline(choice.name or getattr(op, "name", choice.id)),
                role=ROLE_LABELS.get(choice.role, choice.role) if decided else UNDECIDED_LABEL,
                why=escape(choice.why),
                contacts=contacts,
                sources=sources,
            )
        )
    return cards


def _plain_fact_source(fact: Any, corpus: Any) -> str:
    document = str(getattr(fact, "document", "") or "")
    lines = getattr(fact, "lines", None)
    if corpus is not None and document and lines:
        try:
            return plain_source(corpus.citation(document, lines[0], lines[-1]))
        except Exception:  # the document may have been removed from this corpus
            return ""
    return ""


def figure_caption(answer: Answer) -> str:
    """Scope and year of a figure answer, in words."""
    f = answer.figure
    if f is None:
        return ""
    parts = [scope_label(f.scope) if f.scope else "", str(f.year) if f.year else ""]
    return " · ".join(p for p in parts if p)


def scope_label(scope: str | None) -> str:
    """occitanie -> Occitanie, national -> France, other:bretagne -> Autre région (bretagne)."""
    if not scope:
        return "Non précisé"
    if scope.startswith("other:"):
        return f"Autre région ({scope.split(':', 1)[1].replace('_', ' ')})"
    return {"occitanie": "Occitanie", "national": "France", "regional": "Régional"}.get(scope, scope)


# --- figures and counts in French -------------------------------------------------------------------

NARROW_NBSP = "\u202f"  # between groups of thousands: « 1 742 »
NBSP = "\u00a0"  # between a number and its unit: « 62,59 % »
_SINGULAR_UNITS = {"jours": "jour", "semaines": "semaine", "ans": "an"}
# A unit's word when a figure's own label is a fragment of its sentence (« sur », « ), . »).
UNIT_NOUNS = {
    "percent": "Part",
    "count": "Nombre",
    "days": "Durée",
    "hours": "Durée",
    "minutes": "Durée",
    "weeks": "Durée",
    "months": "Durée",
    "years": "Durée",
    "eur": "Montant",
    "keur": "Montant",
    "meur": "Montant",
    "beur": "Montant",
    "score": "Note",
    "ratio": "Proportion",
    "km2": "Superficie",
}
# Words a clause cut out of its sentence starts or ends with; a headline label drops them.
_LEADING = frozenset(
    "et ou avec de des du d' sur au aux à par pour en que qui dont soit respectivement sont est".split()
)
_TRAILING = _LEADING | frozenset(
    "le la les l' un une ces ce cette leur leurs se ne sa son ses a ont été était étaient plus moins entre chez "
    "vers sous selon comme dans".split()
)
_EDGE = " \t-–—•,;:.!?/|*_"
_PAIRS = (("(", ")"), ("«", "»"), ("[", "]"), ('"', '"'))
HEADLINE_LABEL_CHARS = 110


def french_figure(value: float | int | None, display: str = "", unit: str = "count") -> str:
    """A figure written the French way: « 62,59 % », « 1 742 » (narrow no-break spaces), « 1 jour »."""
    text = str(display or "").strip()
    if unit in DATE_UNITS and text:
        return text  # « 1er janvier 2020 », not « 2 020 »
    if not re.search(r"\d", text) and value is not None:
        text = format_value(float(value), unit)
    text = re.sub(r"(?<![\d.,])\d{1,3}(?:\.\d{3}){2,}(?![\d.,])", lambda m: m.group().replace(".", " "), text)
    text = re.sub(r"(?<![\d.,])(\d+)\.(\d{1,2})(?![\d.,])", r"\1,\2", text)  # 62.59 -> 62,59
    text = re.sub(r"(?<![\d,])\d{5,}|(?<![\d,])\d{4}(?=\D|$)", lambda m: _grouped(m.group()), text)
    text = re.sub(r"(?<=\d)[ \u00a0\u2009](?=\d{3}(?!\d))", NARROW_NBSP, text)
    text = re.sub(r"(?<=\d)[ \u202f\u2009](?=[^\d\s])", NBSP, text)  # « 62,59 % », « 450 M€ »
    if value is not None and abs(float(value)) < 2:
        text = re.sub(r"(?<=\u00a0)(jours|semaines|ans)\b", lambda m: _SINGULAR_UNITS[m.group(1)], text)
    return text


def french_int(n: int) -> str:
    """A whole number with French thousands: 1742 -> « 1 742 » (narrow no-break space)."""
    return ("-" if n < 0 else "") + _grouped(str(abs(int(n))))


def _grouped(digits: str) -> str:
    out: list[str] = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    return NARROW_NBSP.join([digits, *out])


def figure_label(figure: Figure) -> str:
    """The words a figure counts, for a headline: its clause without the connectors it was cut with,
    or the unit's noun (« Part », « Nombre »…) when the clause holds no word of its own."""
    words = plain(figure.label).split()
    changed = True
    while words and changed:
        changed = False
        first = words[0].strip(_EDGE).lower()
        last = words[-1].strip(_EDGE).lower()
        if not first or first in _LEADING:
            words, changed = words[1:], True
        elif not last or last in _TRAILING:
            words, changed = words[:-1], True
    text = " ".join(words).strip(_EDGE)
    for left, right in _PAIRS:  # a bracket or quote whose other half was cut off
        if text.count(left) != text.count(right) or (left == right and text.count(left) % 2):
            text = " ".join(text.replace(left, " ").replace(right, " ").split()).strip(_EDGE)
    if not any(len(w) >= 3 and w.lower() not in _TRAILING for w in re.findall(r"[^\W\d_]+", text)):
        return UNIT_NOUNS.get(figure.unit, "Valeur")
    if len(text) > HEADLINE_LABEL_CHARS:
        text = text[:HEADLINE_LABEL_CHARS].rsplit(" ", 1)[0].rstrip(_EDGE) + " …"
    return text[:1].upper() + text[1:]


def figure_headline(figure: Figure) -> str:
    """« label — value », the value in French: « Entrées en CEP — 6 158 »."""
    return f"{figure_label(figure)} — {french_figure(figure.value, figure.display, figure.unit)}"


def count_label(n: int, singular: str, plural: str | None = None) -> str:
    """« 1 passage », « 2 passages », « 1 742 documents » (French plural from 2)."""
    word = singular if abs(n) < 2 else (plural or singular + "s")
    return f"{french_int(n)} {word}"


# --- the routing summary for the caller's file ---------------------------------------------------


def routing_summary(
    answer: Answer, situation: list[tuple[str, str]], when: datetime | None = None, markdown: bool = True
) -> str:
    """A short summary of a routing (situation, operator, reason, follow-up, sources) to copy or download."""
    when = when or datetime.now()
    h1, h2, bullet = ("# ", "## ", "- ") if markdown else ("", "", "- ")
    out = [f"{h1}Orientation CEP — {when:%d/%m/%Y %H:%M}", ""]
    out += [f"{h2}Situation de l'appelant", ""]
    out += [f"{bullet}{label} : {value}" for label, value in situation] or [f"{bullet}(non renseignée)"]
    out += ["", f"{h2}Orientation", ""]
    if answer.operators:
        for op in answer.operators:
            role = ROLE_LABELS.get(op.role, op.role)
            name = f"**{op.name}**" if markdown else op.name
            out.append(f"{bullet}{role} : {name} — {op.why}")
    else:
        out.append(answer.text)
    if answer.follow_up:
        out += ["", f"Orientation provisoire. Question à poser : {answer.follow_up}"]
    if answer.message and answer.message != answer.text:
        out += ["", answer.message]
    if answer.citations:
        out += ["", f"{h2}Sources", ""]
        for c in answer.citations:
            snippet = plain(c.highlight or c.quote)[:300]
            out.append(f"{bullet}{citation_text(c)} : « {snippet} »")
    return "\n".join(out).strip() + "\n"
