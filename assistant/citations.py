"""Citations: from retrieved chunks to quoted passages, with the sentences that answer highlighted.

A passage is cut into whole sentences (`ingest.chunks.passage_sentences`: lines wrapped mid-sentence
joined, a sentence ending with ":" kept with its list), each scored against the question by the share
of the question's words it holds (idf-weighted) and, when the index has sentence vectors, by its
cosine with the question. Quotes stay verbatim: a sentence is a slice of the document's text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from assistant.records import Citation, Hit
from ingest.chunks import sentence_spans
from ingest.records import plain_quote, row_cells
from ingest.text import stem, words

MIN_WORDS = 4  # a shorter "sentence" is a label or a table cell ("bilan"): quoted only when nothing else is
# Weight of the dense side in a sentence's score (lexical share gets 1 - w); chosen with
# scripts/tune_retrieval.py --answers --quote-dense 0,0.25,0.5,0.75,1: share of passage answers whose text
# holds the evidence, dev / dev2: 0.55/0.575, 0.55/0.625, 0.55/0.60, 0.50/0.575, 0.45/0.55.
SENTENCE_DENSE_WEIGHT = 0.25
SECOND_SENTENCE_RATIO = 0.8  # a second sentence of the same passage is quoted when it scores this close


@dataclass(frozen=True)
class Scored:
    """A sentence of a passage, its position and its score against the question."""

    index: int
    text: str
    score: float


Weights = Mapping[str, float]  # query stem -> weight (idf); missing stems weigh 1


def sentence_scores(
    text: str,
    query_stems: set[str] | Weights,
    dense: Mapping[int, float] | None = None,
    dense_weight: float | None = None,
) -> list[Scored]:
    """Every sentence of a passage, scored: share of the query's weight it holds, mixed with its cosine
    (scaled within the passage) when `dense` gives one by index of the finer sentences (list items apart,
    as the index embeds them): a sentence that brings a list gets the best cosine of its parts."""
    weights = query_stems if isinstance(query_stems, Mapping) else dict.fromkeys(query_stems, 1.0)
    dense_weight = SENTENCE_DENSE_WEIGHT if dense_weight is None else dense_weight
    total = sum(weights.values()) or 1.0
    cosines = [v for v in (dense or {}).values()]
    low, high = (min(cosines), max(cosines)) if cosines else (0.0, 0.0)
    fine = sentence_spans(text, lists=False) if dense else []
    out = []
    for i, (a, b) in enumerate(sentence_spans(text)):
        sentence = text[a:b].strip()
        stems = {stem(w) for w in words(sentence)}
        if not stems:
            continue
        lexical = sum(w for s, w in weights.items() if s in stems) / total
        score = lexical
        parts = [dense[j] for j, (x, y) in enumerate(fine) if a <= x and y <= b and j in dense] if dense else []
        if parts and high > low:
            score = (1.0 - dense_weight) * lexical + dense_weight * (max(parts) - low) / (high - low)
        if len(sentence.split()) < MIN_WORDS:
            score *= 0.25
        out.append(Scored(i, sentence, score))
    return out


def best_sentence(text: str, query: str) -> str:
    """The sentence of a passage that shares most with the query ("" when none does)."""
    scored = sentence_scores(text, {stem(w) for w in words(query)})
    best = max(scored, key=lambda s: s.score, default=None)
    return best.text if best is not None and best.score > 0 else ""


def answer_sentences(scored: list[Scored], ratio: float | None = None) -> list[Scored]:
    """The best sentence, and the second best when it scores close, in the passage's order."""
    ratio = SECOND_SENTENCE_RATIO if ratio is None else ratio
    ranked = sorted(scored, key=lambda s: -s.score)
    if not ranked or ranked[0].score <= 0:
        return []
    picked = [ranked[0]]
    if len(ranked) > 1 and ranked[1].score >= ratio * ranked[0].score:
        picked.append(ranked[1])
    return sorted(picked, key=lambda s: s.index)


def quote_text(picked: list[Scored]) -> str:
    """Sentences of one passage as one quote: adjacent ones follow each other, a gap is marked […]."""
    out = ""
    for prev, cur in zip([None, *picked], picked, strict=False):
        if prev is None:
            out = cur.text
        else:
            out += (" " if cur.index == prev.index + 1 else " […] ") + cur.text
    return readable(out)


def readable(text: str) -> str:
    """A quote on one line as a reader reads it: no Markdown markers (the conversion's, not the text), each
    table row as cells « a | b | c » (never digits of neighbouring cells run together), rows apart by « ; »."""
    out = ""
    was_row = False
    for line in plain_quote(text).split("\n"):
        is_row = "\t" in line
        piece = " | ".join(row_cells(line)) if is_row else " ".join(line.split())
        if not piece:
            continue
        out += ("" if not out else " ; " if is_row or was_row else " ") + piece
        was_row = is_row
    return out


def cite(
    hits: list[Hit],
    query: str,
    k: int = 3,
    highlights: Mapping[str, str] | None = None,
    scorer: Callable[[Hit], list[Scored]] | None = None,
) -> list[Citation]:
    """Citations of the k best hits, in order, each quoting its whole passage with the answering sentence
    highlighted (from `highlights` by chunk id, else the best sentence by `scorer` or by shared words)."""
    out = []
    for hit in hits[:k]:
        highlight = (highlights or {}).get(hit.chunk.id)
        if highlight is None:
            if scorer is not None:
                best = max(scorer(hit), key=lambda s: s.score, default=None)
                highlight = best.text if best is not None and best.score > 0 else ""
            else:
                highlight = best_sentence(hit.chunk.quote, query)
        out.append(replace(hit.chunk.citation(), highlight=highlight))
    return out


def locator(citation: Citation) -> str:
    """A short French locator: section, page or lines."""
    parts = [citation.section] if citation.section else []
    if citation.page:
        parts.append(f"p. {citation.page}")
    if citation.lines:
        a, b = citation.lines
        parts.append(f"l. {a}" if a == b else f"l. {a}-{b}")
    return ", ".join(parts)
