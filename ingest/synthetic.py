"""Synthetic corpus for scale tests: the built-in documents rewritten for other regions, years and figures.

Variant 0 is the built-in corpus itself (same file names, so the routing sources and the development
questions still hold); every other variant rewrites each document for one (region, year): region names
with their French articles, years shifted, the regional market operator renamed, and the figures of
body lines (never headings nor the table of contents) scaled by a random factor. Same seed, same corpus.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.corpus import MANIFEST, document_files, load_manifest
from ingest.readers import read_file
from ingest.sections import annotate


@dataclass(frozen=True)
class Region:
    """A region and the forms French needs around its name."""

    name: str
    en: str  # "en Bretagne", "dans le Grand Est"
    de: str  # "de Bretagne", "du Grand Est"
    le: str  # "la Bretagne", "le Grand Est"

    @property
    def slug(self) -> str:
        folded = self.name.lower().translate(str.maketrans("éèêôîç'", "eeeoic-"))
        return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


BASE_REGION = Region("Occitanie", "en Occitanie", "d'Occitanie", "l'Occitanie")
BASE_YEAR = 2021  # year of the built-in annual report; other documents shift by the same delta
BASE_OPERATOR = "Réseau EVA"

REGIONS = (
    BASE_REGION,
    Region("Bretagne", "en Bretagne", "de Bretagne", "la Bretagne"),
    Region("Normandie", "en Normandie", "de Normandie", "la Normandie"),
    Region("Grand Est", "dans le Grand Est", "du Grand Est", "le Grand Est"),
    Region("Hauts-de-France", "dans les Hauts-de-France", "des Hauts-de-France", "les Hauts-de-France"),
    Region("Île-de-France", "en Île-de-France", "d'Île-de-France", "l'Île-de-France"),
    Region("Nouvelle-Aquitaine", "en Nouvelle-Aquitaine", "de Nouvelle-Aquitaine", "la Nouvelle-Aquitaine"),
    Region("Auvergne-Rhône-Alpes", "en Auvergne-Rhône-Alpes", "d'Auvergne-Rhône-Alpes", "l'Auvergne-Rhône-Alpes"),
    Region(
        "Bourgogne-Franche-Comté",
        "en Bourgogne-Franche-Comté",
        "de Bourgogne-Franche-Comté",
        "la Bourgogne-Franche-Comté",
    ),
    Region("Centre-Val de Loire", "en Centre-Val de Loire", "du Centre-Val de Loire", "le Centre-Val de Loire"),
    Region("Pays de la Loire", "dans les Pays de la Loire", "des Pays de la Loire", "les Pays de la Loire"),
    Region(
        "Provence-Alpes-Côte d'Azur",
        "en Provence-Alpes-Côte d'Azur",
        "de Provence-Alpes-Côte d'Azur",
        "la Provence-Alpes-Côte d'Azur",
    ),
    Region("Corse", "en Corse", "de Corse", "la Corse"),
)
YEARS = tuple(range(2019, 2027))
# Invented names for the regional market operator (the role Réseau EVA holds in Occitanie).
OPERATORS = (BASE_OPERATOR, "Évolution Pro", "Avenir Actifs", "Cap Transitions", "Parcours Conseil", "Trajectoires")

_OPERATOR_RE = re.compile(r"\b[Rr]éseau (?:EVA|Eva)\b")
_REGION_FORMS = (
    (re.compile(r"\b[Ee]n Occitanie\b"), "en"),
    (re.compile(r"\b[Dd]'Occitanie\b"), "de"),
    (re.compile(r"\b[Ll]'Occitanie\b"), "le"),
    (re.compile(r"\bOccitanie\b"), "name"),
)
_YEAR_RE = re.compile(r"(?<![\d,.])(?:19[89]\d|20[0-3]\d)(?!\d|,\d)")
# A figure: grouped thousands ("175 837"), a decimal ("62,59") or an integer; not an ordinal ("1er", "2^{ème}").
_NUMBER_RE = re.compile(r"(?<![\w.,/-])(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+(?:,\d+)?)(?![\w^/-]|[.,]\d)(\s?%)?")
# Ages, dates and legal references are rules, not figures: kept as written.
_KEPT_AFTER = re.compile(
    r"\s?(?:ans\b|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)"
)


@dataclass(frozen=True)
class Variant:
    """One rewriting of the corpus: the region, year and market operator it speaks of."""

    index: int
    region: Region
    year: int
    operator: str
    scale: float  # how much larger or smaller its figures are

    @property
    def is_base(self) -> bool:
        return self.index == 0


def variants(count: int, seed: int = 0) -> list[Variant]:
    """count variants; the first is the built-in corpus, the others distinct (region, year) pairs."""
    pairs = [(r, y) for y in YEARS for r in REGIONS if (r, y) != (BASE_REGION, BASE_YEAR)]
    if count - 1 > len(pairs):
        raise ValueError(f"Au plus {len(pairs) + 1} variantes ({len(REGIONS)} régions × {len(YEARS)} années).")
    rng = random.Random(seed)
    rng.shuffle(pairs)
    out = [Variant(0, BASE_REGION, BASE_YEAR, BASE_OPERATOR, 1.0)]
    for i, (region, year) in enumerate(pairs[: count - 1], start=1):
        out.append(Variant(i, region, year, rng.choice(OPERATORS), round(rng.uniform(0.4, 2.5), 3)))
    return out


def _region_text(text: str, region: Region) -> str:
    for pattern, form in _REGION_FORMS:
        text = pattern.sub(lambda m, f=form: _capitalized(m.group(0), str(getattr(region, f))), text)  # type: ignore[misc]
    return text


def _capitalized(original: str, replacement: str) -> str:
    return replacement[0].upper() + replacement[1:] if original[0].isupper() else replacement


def _format_like(original: str, value: float) -> str:
    """Write value as the original figure was written (grouping, decimal places)."""
    if "," in original:
        places = len(original.split(",")[1])
        return f"{value:.{places}f}".replace(".", ",")
    n = round(value)
    grouped = re.search(r"\d([ \u00a0\u202f])\d{3}", original)
    if grouped or n >= 10_000:
        return f"{n:,}".replace(",", grouped.group(1) if grouped else " ")
    return str(n)


def _figures(line: str, variant: Variant, rng: random.Random) -> str:
    def repl(m: re.Match[str]) -> str:
        text, percent = m.group(1), m.group(2) or ""
        value = float(re.sub(r"[ \u00a0\u202f]", "", text).replace(",", "."))
        kept = _KEPT_AFTER.match(m.string, m.end(1)) or line[max(0, m.start() - 3) : m.start()].endswith("n° ")
        if kept or _YEAR_RE.fullmatch(text) or value < 10:  # years are shifted elsewhere; small counts kept
            return m.group(0)
        new = value * variant.scale * rng.uniform(0.9, 1.1)
        if percent:
            new = min(new, 100.0 if value <= 100 else new)
        return _format_like(text, max(new, 10.0)) + percent

    return _NUMBER_RE.sub(repl, line)


def rewrite(lines: list[tuple[str, bool]], variant: Variant, delta: int, rng: random.Random) -> str:
    """A document's lines (text, is body) rewritten for a variant; headings and contents keep their figures."""
    out = []
    for text, body in lines:
        if body:
            text = _figures(text, variant, rng)
        text = _YEAR_RE.sub(lambda m: _shift_year(m.group(0), delta), text)
        text = _region_text(text, variant.region)
        text = _OPERATOR_RE.sub(variant.operator, text)
        out.append(text)
    return "\n".join(out) + "\n"


def _shift_year(year: str, delta: int) -> str:
    return str(int(year) + delta) if 2000 <= int(year) <= 2030 else year


def _renamed(name: str, variant: Variant, year: int) -> str:
    stem, dot, suffix = name.rpartition(".")
    base = re.sub(r"occitanie", variant.region.slug, stem)
    base = re.sub(r"(?<!\d)(?:19|20)\d\d(?!\d)", str(year), base)
    if base == stem:
        base = f"{stem}-{variant.region.slug}-{year}"
    return f"{base}{dot}{suffix}"


@dataclass(frozen=True)
class SyntheticCorpus:
    """Where a synthetic corpus was written and what it holds."""

    folder: Path
    factor: int
    files: list[str]
    chars: int


def write_corpus(source: Path, target: Path, factor: int, seed: int = 0) -> SyntheticCorpus:
    """Write factor × the corpus of `source` into `target` (created), with its manifest."""
    if factor < 1:
        raise ValueError("Le facteur d'échelle doit valoir au moins 1.")
    target.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(source)
    docs = []
    for path in document_files(source):
        if path.suffix.lower() == ".pdf":  # the synthetic corpus is text; PDF pages would need re-rendering
            continue
        infos = annotate(read_file(path))
        lines = [(li.text, not (li.in_toc or li.is_heading)) for li in infos]
        docs.append((path.name, lines, manifest.get(path.name)))
    entries, files, chars = [], [], 0
    for variant in variants(factor, seed):
        delta = variant.year - BASE_YEAR
        for name, lines, info in docs:
            year = (info.year if info and info.year else BASE_YEAR) + delta
            if variant.is_base:
                new_name, text = name, (source / name).read_text(encoding="utf-8")
            else:
                new_name = _renamed(name, variant, year)
                rng = random.Random(f"{seed}:{variant.index}:{name}")
                text = rewrite(lines, variant, delta, rng)
            (target / new_name).write_text(text, encoding="utf-8")
            files.append(new_name)
            chars += len(text)
            title = info.title if info else name
            publisher = info.publisher if info else ""
            if not variant.is_base:
                new_title = rewrite([(title, False)], variant, delta, rng).strip()
                title = new_title if new_title != title else f"{title} ({variant.region.name}, {year})"
                publisher = _region_text(publisher, variant.region)
            entries.append(
                {
                    "file": new_name,
                    "title": title,
                    "publisher": publisher,
                    "year": year,
                    "kind": (info.kind if info else "") + ("" if variant.is_base else " (synthétique)"),
                    "original_name": info.source_name if info else name,
                }
            )
    (target / MANIFEST).write_text(json.dumps({"documents": entries}, ensure_ascii=False, indent=1), encoding="utf-8")
    return SyntheticCorpus(target, factor, files, chars)


def _template_re() -> re.Pattern[str]:
    names = {"Occitan"} | {form for r in REGIONS for form in (r.en, r.de, r.le, r.name)} | set(OPERATORS)
    alternatives = sorted((re.escape(n) for n in names), key=len, reverse=True)
    return re.compile(r"\d[\d \u00a0\u202f,.]*|" + "|".join(alternatives) + r"|[Rr]éseau (?:EVA|Eva)", re.IGNORECASE)


_TEMPLATE = _template_re()


def template_key(text: str) -> str:
    """The text with what variants change (region, market operator, figures, years) masked.

    Two synthetic chunks with the same key differ only by those words; the benchmark may reuse the
    embedding of one for the other at the largest scales, and says so in its report.
    """
    return _TEMPLATE.sub("#", text)
