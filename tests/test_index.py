"""Index: exact search on a tiny corpus, manifest checks, atomic builds, damaged files detected."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import IndexUnavailable
from assistant.pipeline import Assistant, build_index
from assistant.settings import Settings
from index.encoders import HashEncoder
from index.store import Fusion, HybridIndex, current_build, is_fresh, read_manifest
from ingest.corpus import load_corpus


def test_lexical_search_finds_numbers_written_any_way(corpus_dir: Path, fake_encoder: HashEncoder) -> None:
    corpus = load_corpus(corpus_dir)
    index = HybridIndex.build(corpus.chunks, fake_encoder)
    for query in ("12 345 entrées", "12345 entrées", "12\u202f345 entrées"):
        top = index.search(query, k=1, mode="lexical")[0]
        assert "12 345" in top.chunk.quote


def test_words_a_lexicon_adds_weigh_less_than_the_question_own() -> None:
    from index.lexical import LexicalIndex

    lexical = LexicalIndex.build(["le PTP est financé", "un projet de transition professionnelle", "autre chose"])
    terms = lexical.query_terms("PTP", added="PTP projet de transition professionnelle", added_weight=0.5)
    own = lexical.query_terms("PTP")
    assert set(own.values()) == {1.0} and set(own) < set(terms)
    assert sorted(set(terms.values())) == [0.5, 1.0]  # the acronym as asked keeps its full weight
    half = lexical.scores("PTP", added="PTP projet de transition professionnelle", added_weight=0.5)
    full = lexical.scores("PTP", added="PTP projet de transition professionnelle", added_weight=1.0)
    assert half[0] == full[0] and half[1] == pytest.approx(full[1] / 2) and half[2] == full[2] == 0


def test_typos_and_missing_accents_still_match(corpus_dir: Path, fake_encoder: HashEncoder) -> None:
    index = HybridIndex.build(load_corpus(corpus_dir).chunks, fake_encoder)
    top = index.search("jardinniers arossent tomattes", k=1, mode="lexical")[0]
    assert top.chunk.document == "enquete-jardins.txt"


def test_hybrid_scores_are_exact_with_the_fake_encoder(corpus_dir: Path, fake_encoder: HashEncoder) -> None:
    chunks = load_corpus(corpus_dir).chunks
    index = HybridIndex.build(chunks, fake_encoder, dense_weight=0.3)
    hits = index.search("compost terre potagers", k=2)
    assert hits[0].chunk.quote.startswith("Les jardiniers") or "compost" in hits[0].chunk.quote
    # Fused scores recomputed from their parts: BM25 and cosines, each min-max scaled over the chunks. The test
    # corpus has fewer chunks than the fusion depth (its lowest score maps to 0) and only short chunks (no
    # sentence units: a chunk's best sentence is itself, on both sides).
    assert len(chunks) < Fusion().depth and len(index.units) == len(chunks)

    def minmax(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return (x - x.min()) / (x.max() - x.min())

    vectors = fake_encoder.encode([f"{c.context}\n{c.text}" if c.context else c.text for c in chunks])
    # the second query's hits mix both sides: 1.0, about 0.50 and about 0.15 (a chunk only the dense side finds)
    for query in ("compost terre potagers", "jardins partagés Occitanie"):
        cosines = np.maximum(vectors.astype(np.float64) @ fake_encoder.encode_query([query])[0], 0.0)
        expected = 0.7 * minmax(index.lexical.scores(query)) + 0.3 * minmax(cosines)
        best = [i for i in np.argsort(-expected, kind="stable")[:3] if expected[i] > 0]  # no evidence, no hit
        hits = index.search(query, k=3)
        assert [h.chunk.id for h in hits] == [chunks[i].id for i in best]
        assert [h.score for h in hits] == pytest.approx([expected[i] for i in best], abs=1e-6)
        assert [h.score for h in hits] == [h.score for h in index.search(query, k=3)]  # deterministic
    assert len(hits) == 3 and 0 < hits[2].score < hits[1].score < 1


def test_manifest_records_model_dimension_corpus_and_chunks(settings: Settings, fake_encoder: HashEncoder) -> None:
    corpus = load_corpus(settings.corpus_dir)
    folder = build_index(settings, corpus, fake_encoder)
    manifest = read_manifest(folder)
    assert manifest.model == "hash-fake"
    assert manifest.dim == fake_encoder.dim
    assert manifest.corpus == corpus.fingerprint
    assert manifest.chunk_ids == [c.id for c in corpus.chunks]
    assert is_fresh(settings.index_dir, "hash-fake", corpus.fingerprint)
    assert not is_fresh(settings.index_dir, "another-model", corpus.fingerprint)


def test_rebuild_when_documents_change(settings: Settings, fake_encoder: HashEncoder) -> None:
    Assistant.load(settings, encoder=fake_encoder)
    first = current_build(settings.index_dir)
    (settings.corpus_dir / "nouveau.txt").write_text("Les abeilles font du miel en été.", encoding="utf-8")
    assistant = Assistant.load(settings, encoder=fake_encoder)
    assert current_build(settings.index_dir) != first
    assert assistant.search("abeilles miel", k=1)[0].chunk.document == "nouveau.txt"


def test_same_documents_do_not_rebuild(settings: Settings, fake_encoder: HashEncoder) -> None:
    Assistant.load(settings, encoder=fake_encoder)
    first = current_build(settings.index_dir)
    Assistant.load(settings, encoder=fake_encoder)
    assert current_build(settings.index_dir) == first


@pytest.mark.parametrize("victim", ["dense.faiss", "chunks.jsonl", "lexical.npz"])
def test_damaged_index_is_detected_and_rebuilt(settings: Settings, fake_encoder: HashEncoder, victim: str) -> None:
    Assistant.load(settings, encoder=fake_encoder)
    folder = current_build(settings.index_dir)
    assert folder is not None
    path = folder / victim
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # truncated
    with pytest.raises(IndexUnavailable):
        HybridIndex.load(folder, fake_encoder, 0.3)
    assistant = Assistant.load(settings, encoder=fake_encoder)  # rebuilds instead of answering wrong
    assert assistant.search("compost", k=1)[0].chunk.document == "enquete-jardins.txt"


def test_manifest_of_another_model_triggers_rebuild(settings: Settings, fake_encoder: HashEncoder) -> None:
    Assistant.load(settings, encoder=fake_encoder)
    folder = current_build(settings.index_dir)
    assert folder is not None
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["model"] = "autre-modele"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    Assistant.load(settings, encoder=fake_encoder)
    assert current_build(settings.index_dir) != folder


def test_interrupted_build_leaves_the_previous_index_usable(
    settings: Settings, fake_encoder: HashEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    Assistant.load(settings, encoder=fake_encoder)
    before = current_build(settings.index_dir)

    class Boom(HashEncoder):
        def encode(self, texts: list[str]):
            raise KeyboardInterrupt

    (settings.corpus_dir / "nouveau.txt").write_text("Texte ajouté.", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        build_index(settings, load_corpus(settings.corpus_dir), Boom())
    assert current_build(settings.index_dir) == before
    assert before is not None
    HybridIndex.load(before, fake_encoder, 0.3)  # still loads and verifies
    assert not any(p.name.startswith(".tmp-") for p in (settings.index_dir / "builds").iterdir())


def test_missing_index_message_is_french(tmp_path: Path, fake_encoder: HashEncoder) -> None:
    with pytest.raises(IndexUnavailable, match="Aucun index"):
        HybridIndex.load(tmp_path, fake_encoder, 0.3)


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CEP_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("CEP_MODEL", "hash-fake")
    s = Settings.from_env()
    assert s.index_dir == tmp_path / "idx"
    assert replace(s, kiosk=True).kiosk


class PromptedEncoder(HashEncoder):
    """The fake encoder with e5-like prompts: queries and passages are embedded differently."""

    def __init__(self, query_prompt: str = "query: ") -> None:
        super().__init__()
        self.query_prompt = query_prompt
        self.queries: list[str] = []

    @property
    def prompts(self) -> dict[str, str]:
        return {"query": self.query_prompt, "passage": "passage: "}

    @property
    def fingerprint(self) -> str:
        return f"{self.name} {self.prompts}"

    def encode_query(self, texts: list[str]):
        self.queries.extend(texts)
        return self.encode(texts)


def test_manifest_records_the_encoder_fingerprint_and_a_new_prompt_rebuilds(settings: Settings) -> None:
    Assistant.load(settings, encoder=PromptedEncoder())
    first = current_build(settings.index_dir)
    assert first is not None
    assert read_manifest(first).encoder == PromptedEncoder().fingerprint
    Assistant.load(settings, encoder=PromptedEncoder())
    assert current_build(settings.index_dir) == first  # same model, same prompts: kept
    Assistant.load(settings, encoder=PromptedEncoder(query_prompt="question: "))
    second = current_build(settings.index_dir)
    assert second is not None and second != first  # same name, other prompts: rebuilt
    with pytest.raises(IndexUnavailable, match="autre modèle"):
        HybridIndex.load(second, HashEncoder(), 0.5)  # vectors of another encoder are never searched


def test_questions_are_embedded_with_the_query_side(corpus_dir: Path) -> None:
    encoder = PromptedEncoder()
    index = HybridIndex.build(load_corpus(corpus_dir).chunks, encoder)
    index.search("compost terre", k=1, dense_query="le compost améliore-t-il la terre ?")
    assert encoder.queries == ["le compost améliore-t-il la terre ?"]


def test_long_chunks_get_sentence_vectors_scored_up_to_their_chunk(corpus_dir: Path, fake_encoder: HashEncoder) -> None:
    chunks = load_corpus(corpus_dir).chunks
    index = HybridIndex.build(chunks, fake_encoder, sentence_min_chars=0)
    multi = [i for i, c in enumerate(chunks) if (index.units[:, 0] == i).sum() > 1]
    assert multi  # a chunk of several sentences has one vector per sentence besides its own
    assert index.dense.size == len(index.units) > len(chunks)
    short = HybridIndex.build(chunks, fake_encoder)  # the test corpus has only short chunks
    assert short.dense.size == len(chunks)
    # the dense score of a chunk reaches its best sentence: a question matching one sentence finds it
    hit = index.search("délivré cinq opérateurs APEC cadres", k=1, mode="dense")[0]
    assert "cinq opérateurs" in hit.chunk.quote
    sims = index.sentence_similarities("délivré cinq opérateurs APEC cadres", hit.chunk.id)
    assert max(sims, key=sims.get) == 1  # the second sentence of "Le conseil … gratuit. Il est délivré …"


def test_fusion_scales_each_side_per_query(corpus_dir: Path, fake_encoder: HashEncoder) -> None:
    index = HybridIndex.build(load_corpus(corpus_dir).chunks, fake_encoder)
    hits = index.search("compost terre potagers", k=3, fusion=Fusion(dense_weight=0.5, depth=3))
    assert hits[0].score == pytest.approx(1.0)  # best on both sides: 0.5 * 1 + 0.5 * 1
    assert all(0 < h.score <= 1 for h in hits)


def test_index_of_an_older_format_is_rebuilt(settings: Settings, fake_encoder: HashEncoder) -> None:
    Assistant.load(settings, encoder=fake_encoder)
    folder = current_build(settings.index_dir)
    assert folder is not None
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format"] = 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    Assistant.load(settings, encoder=fake_encoder)
    assert current_build(settings.index_dir) != folder


def test_sentence_level_bm25_is_saved_and_scored_up_to_the_chunk(settings: Settings, fake_encoder: HashEncoder) -> None:
    corpus = load_corpus(settings.corpus_dir)
    index = HybridIndex.build(corpus.chunks, fake_encoder, sentence_min_chars=0)
    assert index.fine is not None and index.fine.matrix is not None
    assert index.fine.matrix.shape[0] == len(index.fine_rows) > len(corpus.chunks)  # sentences of long chunks
    only_sentences = Fusion(lexical_sentence_weight=1.0)
    scores = index.lexical_scores("délivré cinq opérateurs", only_sentences)
    assert "cinq opérateurs" in corpus.chunks[int(scores.argmax())].quote
    folder = build_index(settings, corpus, fake_encoder)
    loaded = HybridIndex.load(folder, fake_encoder, 0.35)
    fresh = HybridIndex.build(corpus.chunks, fake_encoder).fine
    assert loaded.fine is not None and fresh is not None
    assert loaded.fine.matrix.shape == fresh.matrix.shape


def test_encoder_calls_are_bounded_in_texts_and_characters() -> None:
    from index.encoders import CALL_CHARS, calls

    sizes = [CALL_CHARS + 5, 3000, 3000, 3000, 10, 10, 10]
    groups = calls(list(range(len(sizes))), sizes, batch=2)
    assert groups == [[0], [1, 2], [3, 4], [5, 6]]  # a text longer than the cap goes alone
    assert all(len(g) == 1 or sum(sizes[i] for i in g) <= CALL_CHARS for g in groups)


def test_a_text_met_twice_is_embedded_once(corpus_dir: Path, fake_encoder: HashEncoder) -> None:
    chunks = load_corpus(corpus_dir).chunks
    seen: list[str] = []

    class Counting(HashEncoder):
        def encode(self, texts: list[str]):  # type: ignore[no-untyped-def]
            seen.extend(texts)
            return super().encode(texts)

    twice = [*chunks, replace(chunks[0], id=chunks[0].id + "-bis")]
    index = HybridIndex.build(twice, Counting(), sentence_min_chars=0)
    assert len(seen) == len(set(seen)) < index.dense.size
    vectors = index.dense.vectors()
    assert (vectors[index.units_of(len(chunks))[0]] == vectors[index.units_of(0)[0]]).all()
    # ... and held once by FAISS: a search finds both copies, with the same score
    assert index.dense.distinct == len(set(seen)) == index.dense.size - len(index.units_of(0))
    copy, original = index.units_of(len(chunks))[0], index.units_of(0)[0]
    scores, units = index.dense.search(vectors[original], 3)
    assert {copy, original} <= set(units[:2].tolist()) and scores[0] == scores[1]


def test_the_dense_index_answers_in_units_and_keeps_them_on_disk(tmp_path: Path) -> None:
    from index.dense import DenseIndex

    rng = np.random.default_rng(0)
    distinct = rng.standard_normal((5, 8)).astype(np.float32)
    distinct /= np.linalg.norm(distinct, axis=1, keepdims=True)
    vectors = distinct[[0, 1, 0, 2, 3, 1, 4]]  # units 0 and 2, 1 and 5 are copies
    dense = DenseIndex.build(vectors)
    assert (dense.size, dense.distinct) == (7, 5)
    assert dense.rows.tolist() == [0, 1, 0, 2, 3, 1, 4]
    scores, units = dense.search(distinct[1], 2)  # the two nearest distinct vectors, with their copies
    assert units[:2].tolist() == [1, 5] and len(units) == len(scores) >= 3
    assert np.allclose(dense.vectors(), vectors) and np.allclose(dense.vectors(np.array([5])), vectors[[5]])
    dense.save(tmp_path / "dense.faiss")
    again = DenseIndex.load(tmp_path / "dense.faiss")
    assert again.rows.tolist() == dense.rows.tolist() and again.search(distinct[1], 2)[1].tolist() == units.tolist()


def test_a_previous_index_from_other_code_is_embedded_again_not_a_failure(tmp_path, corpus_dir, fake_encoder) -> None:
    """An update that cuts sentences differently leaves an index whose units no longer match: rebuild from scratch."""
    from index.store import HybridIndex, _reusable_vectors
    from ingest.corpus import load_corpus

    chunks = load_corpus(corpus_dir).chunks
    previous = HybridIndex.build(chunks, fake_encoder)
    previous.vectors_by_text = lambda: (_ for _ in ()).throw(IndexError("list index out of range"))  # type: ignore[method-assign]
    assert _reusable_vectors(previous) == {}
    rebuilt = HybridIndex.build(chunks, fake_encoder, previous=previous)
    assert rebuilt.dense.size == previous.dense.size


def test_past_the_flat_limit_the_dense_index_is_an_hnsw_graph_of_distinct_vectors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import faiss

    import index.dense as dense_module

    monkeypatch.setattr(dense_module, "HNSW_MIN_VECTORS", 100)
    rng = np.random.default_rng(1)
    distinct = rng.standard_normal((300, 16)).astype(np.float32)
    distinct /= np.linalg.norm(distinct, axis=1, keepdims=True)
    vectors = np.concatenate([distinct, distinct[:50]])  # 50 copies
    dense = dense_module.DenseIndex.build(vectors)
    assert isinstance(dense.index, faiss.IndexHNSWFlat) and (dense.size, dense.distinct) == (350, 300)
    assert dense.index.hnsw.efSearch == dense_module.HNSW_EF_SEARCH
    scores, units = dense.search(distinct[7], 5)
    assert units[:2].tolist() == [7, 307] and scores[0] == scores[1]
    dense.save(tmp_path / "dense.faiss")
    assert dense_module.DenseIndex.load(tmp_path / "dense.faiss").search(distinct[7], 5)[1].tolist() == units.tolist()
