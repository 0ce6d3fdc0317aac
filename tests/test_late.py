"""Late interaction (index/late.py): MaxSim of token vectors, the rescoring of the first fused passages, the
packed vectors on disk; on the real model, the index carries them and a question reads them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.late import LateInteraction, PackedTokens, load_late


def unit(*rows: list[float]) -> np.ndarray:
    a = np.array(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def late(weight: float = 0.5, depth: int = 3) -> LateInteraction:
    return LateInteraction(np.eye(2, dtype=np.float32), weight, depth, "fake")


def test_maxsim_takes_each_question_token_best_match() -> None:
    li = late()
    tokens = PackedTokens.pack([unit([1, 0], [0, 1]), unit([1, 0])], li)
    question = li.project(unit([1, 0], [0, 1]))
    sims = li.maxsim(question, tokens, [0, 1])
    assert sims[0] == pytest.approx(1.0, abs=1e-3)  # both tokens matched exactly
    assert sims[1] == pytest.approx(0.5, abs=1e-3)  # one matched (1), the other orthogonal (0)


def test_maxsim_reads_rows_in_any_order_and_skips_empty_passages() -> None:
    li = late()
    tokens = PackedTokens.pack([unit([1, 0]), np.zeros((0, 2), dtype=np.float32), unit([0, 1], [1, 1])], li)
    question = li.project(unit([0, 1]))
    sims = li.maxsim(question, tokens, [2, 1, 0])
    assert sims[0] == pytest.approx(1.0, abs=1e-3)
    assert sims[1] == 0.0  # no token: no score
    assert sims[2] == pytest.approx(0.0, abs=1e-3)


def test_rescoring_reorders_the_first_passages_within_their_range_only() -> None:
    li = late(weight=0.8, depth=2)
    tokens = PackedTokens.pack([unit([0, 1]), unit([1, 0]), unit([1, 0])], li)
    question = li.project(unit([1, 0]))
    fused = np.array([0.9, 0.8, 0.1], dtype=np.float32)
    out = li.rescore(question, tokens, fused)
    assert out[1] > out[0]  # the second says what is asked: it comes first
    assert out[0] >= 0.8 - 1e-6 and out[1] <= 0.9 + 1e-6  # mapped onto the fused range of the two
    assert out[2] == pytest.approx(0.1)  # beyond the depth: unchanged, even though it matches too


def test_packed_tokens_round_trip_and_projection_digest(tmp_path: Path) -> None:
    li = late()
    tokens = PackedTokens.pack([unit([1, 0], [0, 1]), unit([0, 1])], li)
    tokens.save(tmp_path)
    back = PackedTokens.load(tmp_path)
    assert back is not None and len(back) == 2 and back.digest == li.digest()
    assert np.array_equal(back.of(0), tokens.of(0))
    other = LateInteraction(np.array([[0, 1], [1, 0]], dtype=np.float32), 0.5, 3, "fake")
    assert other.digest() != li.digest()  # a refitted projection: the index's token vectors are stale


def test_a_projection_fitted_for_another_encoder_is_not_used(tmp_path: Path) -> None:
    late(0.4).save(tmp_path, {"how": "test"})
    assert load_late("fake", tmp_path) is not None
    assert load_late("another model", tmp_path) is None
    assert load_late("fake", tmp_path / "absent") is None


@pytest.mark.real
def test_the_real_index_rescores_with_token_vectors(real_assistant) -> None:
    index = real_assistant.index
    assert index.late is not None and index.late_tokens is not None
    assert len(index.late_tokens) == len(index.chunks)
    hits = real_assistant.search("Le CEP est-il payant pour la personne accompagnée ?", k=3)
    assert any("gratuit" in h.chunk.text for h in hits)


class TokenEncoder:
    """The fake encoder, with token vectors: one per word, its hash vector."""

    def __init__(self) -> None:
        from index.encoders import HashEncoder

        self.inner = HashEncoder(dim=8)
        self.name = self.fingerprint = "token-fake"
        self.dim = 8
        self.gives_tokens = True

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode(texts)

    def encode_with_tokens(self, texts: list[str], query: bool) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.inner.encode(texts), [self.inner.encode(t.split() or [""]) for t in texts]


def test_tokens_come_with_the_chunks_embeddings_and_a_large_corpus_goes_without(
    monkeypatch: pytest.MonkeyPatch, corpus_dir: Path
) -> None:
    from index import store
    from ingest.corpus import load_corpus

    chunks = load_corpus(corpus_dir).chunks
    projection = LateInteraction(np.eye(8, 4, dtype=np.float32), 0.4, 30, "token-fake")
    vectors: dict[str, np.ndarray] = {}
    tokens = store.late_tokens_of(chunks, TokenEncoder(), projection, vectors=vectors)  # type: ignore[arg-type]
    assert tokens is not None and len(tokens) == len(chunks) and tokens.vectors.shape[1] == 4
    assert len(vectors) == len({store.search_text(c) for c in chunks})  # embedded once, with their tokens
    monkeypatch.setattr(store, "LATE_MAX_PASSAGES", len(chunks) - 1)
    assert store.late_tokens_of(chunks, TokenEncoder(), projection) is None  # type: ignore[arg-type]


def test_an_index_past_the_late_limit_loads_without_token_vectors(
    monkeypatch: pytest.MonkeyPatch, corpus_dir: Path, tmp_path: Path
) -> None:
    """A corpus of more passages than LATE_MAX_PASSAGES is built without token vectors; loading it must not ask
    for them again (it did: the load asked for a rebuild, which made none either, then failed)."""
    from index import store
    from ingest.corpus import load_corpus

    chunks = load_corpus(corpus_dir).chunks
    projection = LateInteraction(np.eye(8, 4, dtype=np.float32), 0.4, 30, "token-fake")
    monkeypatch.setattr(store, "load_late", lambda key: projection)
    monkeypatch.setattr(store, "LATE_MAX_PASSAGES", len(chunks) - 1)
    folder = store.build_atomically(tmp_path / "index", chunks, TokenEncoder(), "fp", 0.35)  # type: ignore[arg-type]
    index = store.HybridIndex.load(folder, TokenEncoder(), 0.35)  # type: ignore[arg-type]
    assert index.late is None and index.late_tokens is None
    assert len(index.chunks) == len(chunks)
