"""Citations: from retrieved chunks to quoted passages, with the sentence that answers highlighted."""

from __future__ import annotations

from dataclasses import replace

from assistant.records import Citation, Hit
from assistant.text import clean_markup, sentences, stem, words


def sentence_scores(text: str, query_stems: set[str]) -> list[tuple[float, str]]:
    """Sentences of a passage with the share of query stems each contains."""
    out = []
    for sentence in sentences(clean_markup(text)):
        stems = {stem(w) for w in words(sentence)}
        if not stems:
            continue
        hit = len(stems & query_stems)
        out.append((hit / (len(query_stems) or 1) + 0.01 * min(hit, 3), sentence))
    return out


def best_sentence(text: str, query: str) -> str:
    """The sentence of a passage that shares most with the query ("" when none does)."""
    q = {stem(w) for w in words(query)}
    scored = sentence_scores(text, q)
    if not scored:
        return ""
    score, sentence = max(scored, key=lambda x: x[0])
    return sentence if score > 0 else ""


def cite(hits: list[Hit], query: str, k: int = 3) -> list[Citation]:
    """Citations of the k best hits, best first, each with its answering sentence highlighted."""
    return [replace(hit.chunk.citation(), highlight=best_sentence(hit.chunk.quote, query)) for hit in hits[:k]]


def locator(citation: Citation) -> str:
    """A short French locator: section, page or lines."""
    parts = [citation.section] if citation.section else []
    if citation.page:
        parts.append(f"p. {citation.page}")
    if citation.lines:
        a, b = citation.lines
        parts.append(f"l. {a}" if a == b else f"l. {a}-{b}")
    return ", ".join(parts)
