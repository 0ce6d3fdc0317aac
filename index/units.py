"""What the indexes see of chunks: each chunk's search text and its dense units (the chunk, its sentences)."""

from __future__ import annotations

import numpy as np

from ingest.chunks import passage_sentences
from ingest.records import Chunk
from ingest.text import clean_markup

WHOLE = -1  # the sentence index of a unit that is the whole chunk
# Chunks shorter than this get no sentence vectors: their own vector already stands for each sentence
# (tune_retrieval.py --sentence-min-chars 0,400: 0.865 with every chunk's sentences, 0.871 with 400,
# for 2 133 vectors instead of 2 318).
SENTENCE_MIN_CHUNK_CHARS = 400


def search_text(chunk: Chunk) -> str:
    """What the indexes see of a chunk: its section titles, then its text."""
    return f"{chunk.context}\n{chunk.text}" if chunk.context else chunk.text


# A sentence vector reads the sentence alone: with its section titles it did no better (0.865 against
# 0.871, tune_retrieval.py --bare-sentences) for longer texts to embed.
SENTENCE_CONTEXT = False


def sentence_text(chunk: Chunk, sentence: str) -> str:
    """What the dense index sees of one sentence of a chunk: its section titles, then the sentence."""
    text = clean_markup(sentence)
    return f"{chunk.context}\n{text}" if chunk.context and SENTENCE_CONTEXT else text


def unit_table(
    chunks: list[Chunk], sentences: bool = True, min_chars: int | None = None
) -> tuple[np.ndarray, list[str]]:
    """The dense units of chunks: each chunk, then each of its sentences (and list items, each apart) when
    it is long and has several."""
    min_chars = SENTENCE_MIN_CHUNK_CHARS if min_chars is None else min_chars
    rows: list[tuple[int, int]] = []
    texts: list[str] = []
    for i, chunk in enumerate(chunks):
        rows.append((i, WHOLE))
        texts.append(search_text(chunk))
        parts = passage_sentences(chunk.quote, lists=False) if sentences and len(chunk.quote) >= min_chars else []
        if len(parts) > 1:
            for j, part in enumerate(parts):
                rows.append((i, j))
                texts.append(sentence_text(chunk, part))
    return np.array(rows, dtype=np.int64).reshape(-1, 2), texts


def fine_rows(units: np.ndarray) -> np.ndarray:
    """Chunk row of each text of the sentence-level lexical index (see fine_texts)."""
    has_sentences = np.zeros(int(units[:, 0].max()) + 1 if len(units) else 0, dtype=bool)
    has_sentences[units[units[:, 1] != WHOLE, 0]] = True
    keep = (units[:, 1] != WHOLE) | ~has_sentences[units[:, 0]]
    return units[keep, 0]


def fine_texts(chunks: list[Chunk], units: np.ndarray, texts: list[str]) -> list[str]:
    """Texts of the sentence-level lexical index: the sentences of chunks that have sentence units, the
    whole search text of the others, in unit order (the order of fine_rows)."""
    has_sentences = {int(r) for r in units[units[:, 1] != WHOLE, 0]}
    out = []
    for (row, j), text in zip(units.tolist(), texts, strict=True):
        if j == WHOLE and row in has_sentences:
            continue
        context = chunks[row].context
        out.append(f"{context}\n{text}" if FINE_CONTEXT and j != WHOLE and context else text)
    return out


# The lexical sentence units read their section titles too, as short chunks do (their unit is the whole
# search text): tune_retrieval.py at lexical sentence weight 0.5, 0.882-0.888 with, 0.853-0.876 without.
FINE_CONTEXT = True


def unit_texts_of(chunks: list[Chunk], units: np.ndarray) -> list[str]:
    """The embedded text of each unit."""
    cache: dict[int, list[str]] = {}
    out = []
    for row, j in units.tolist():
        chunk = chunks[row]
        if j == WHOLE:
            out.append(search_text(chunk))
        else:
            parts = cache.setdefault(row, passage_sentences(chunk.quote, lists=False))
            out.append(sentence_text(chunk, parts[j]))
    return out
