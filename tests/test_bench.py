"""Benchmark: the report's shape on a tiny corpus with the fake encoder; the synthetic corpus generator."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from assistant.bench import MeteredEncoder, VectorCache, parse_scale, percentiles, run_bench
from assistant.settings import Settings
from index.encoders import HashEncoder
from ingest.corpus import load_corpus
from ingest.synthetic import template_key, variants, write_corpus

GOLD = [
    {
        "id": "F1",
        "kind": "figure",
        "question": "Combien d'entrées en CEP Pôle Emploi en Occitanie en 2021 ?",
        "number": 12345,
        "evidence": "**12 345** entrées en CEP",
    },
    {
        "id": "P1",
        "kind": "passage",
        "question": "Le conseil en évolution professionnelle est-il gratuit ?",
        "evidence": "est un service **gratuit** et confidentiel",
    },
    {"id": "O1", "kind": "out_of_scope", "question": "Quel temps fera-t-il à Toulouse demain ?"},
]


@pytest.fixture()
def questions(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(json.dumps(g, ensure_ascii=False) for g in GOLD) + "\n", encoding="utf-8")
    return path


def test_report_has_every_measure_and_leaves_the_project_alone(
    settings: Settings, questions: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bench" / "bench.json"
    table = io.StringIO()
    steps: list[str] = []
    report = run_bench(settings, questions, out, scale="3", step=steps.append, stream=table)

    assert json.loads(out.read_text(encoding="utf-8")) == report
    x1 = report["builtin"]
    for key in (
        "build_builtin_s",
        "model_load_s",
        "build_s",
        "embed_s",
        "build_s_per_document",
        "index_mb",
        "floor_ms",
        "warm_ms",
        "peak_rss_mb",
        "quality",
        "baselines",
        "documents",
        "chunks",
    ):
        assert key in x1, key
    assert x1["documents"] == 2
    assert x1["embedded_texts"] == x1["chunks"]
    assert x1["warm_ms"]["all"]["n"] == len(GOLD)
    assert x1["quality"]["n"] == len(GOLD)
    assert set(x1["baselines"]["cited@3"]) == {"hybrid", "lexical", "dense"}
    assert x1["baselines"]["n"] == 2
    assert report["cold_start"]["answered"] and not report["cold_start"]["rebuilt_index"]
    assert set(report["targets"]) >= {
        "build_builtin_s",
        "cold_start_s",
        "warm_p95_over_floor",
        "peak_rss_mb",
        "warm_p95_ms_at_x100",
        "build_s_per_document_x100_vs_x1",
    }
    assert report["targets"]["warm_p95_ms_at_x100"]["holds"] is None  # ×100 not run
    cold = report["cold_start"]
    assert cold["stderr_quiet"], cold["stderr_tail"]  # no progress bars nor messages on a plain question
    assert cold["without_snapshot"]["answered"]
    load = report["load"]
    assert load["askers"] == 4 and load["questions"] == len(GOLD)
    for key in ("single_ms", "concurrent_ms", "busy_single_ms", "busy_concurrent_ms"):
        assert load[key]["n"] == len(GOLD), key
    assert report["targets"]["busy_concurrent_p95_over_single"]["value"] == load["busy_concurrent_p95_over_single"]
    assert any(step.startswith("×3 ") for step in steps)  # the scale worker's progress reaches the parent

    x3 = report["scale"][1]
    assert "error" not in x3, x3
    assert (x3["factor"], x3["documents"]) == (3, 6)
    assert x3["chunks"] == pytest.approx(3 * x1["chunks"], rel=0.2)
    assert x3["vector_reuse"] is False
    assert x3["dense_types"]["hnsw_recall@k"] is not None
    assert Path(report["plot"]).read_bytes().startswith(b"\x89PNG")
    assert "Cibles" in table.getvalue()
    assert not (settings.index_dir).exists()  # everything was built in a temporary folder


def test_largest_scales_reuse_vectors_and_say_so(settings: Settings, questions: Path, tmp_path: Path) -> None:
    report = run_bench(
        settings,
        questions,
        tmp_path / "b.json",
        scale="2",
        embed_budget_s=0.0,
        step=lambda _: None,
        stream=io.StringIO(),
    )
    x2 = report["scale"][1]
    assert "error" not in x2, x2
    assert x2["vector_reuse"] is True
    v = x2["vectors"]
    assert v["exact_cache_hits"] + v["near_duplicate_reused"] + v["embedded"] == x2["distinct_texts"] <= x2["chunks"]
    assert v["exact_cache_hits"] + v["near_duplicate_reused"] > 0
    assert "projected_full_build_s" in x2


def test_synthetic_corpus_is_deterministic_and_scales(corpus_dir: Path, tmp_path: Path) -> None:
    a = write_corpus(corpus_dir, tmp_path / "a", 4, seed=7)
    b = write_corpus(corpus_dir, tmp_path / "b", 4, seed=7)
    c = write_corpus(corpus_dir, tmp_path / "c", 4, seed=8)
    assert a.files == b.files and len(a.files) == 8
    for name in a.files:
        assert (a.folder / name).read_bytes() == (b.folder / name).read_bytes()
    assert [(a.folder / n).read_text() for n in a.files] != [(c.folder / n).read_text() for n in c.files]
    # variant 0 is the built-in corpus itself
    assert (a.folder / "rapport-test.txt").read_bytes() == (corpus_dir / "rapport-test.txt").read_bytes()

    corpus = load_corpus(a.folder)
    assert len(corpus.documents) == 8 and not corpus.errors
    base = load_corpus(corpus_dir)
    assert len(corpus.chunks) == 4 * len(base.chunks)
    other = next(n for n in a.files if n.startswith("rapport-test-"))
    text = (a.folder / other).read_text(encoding="utf-8")
    assert "Occitanie" not in text and "12 345" not in text
    assert "I. Présentation" in text  # headings and structure kept
    sections = {li.section for li in base.documents["rapport-test.txt"].lines}
    assert {li.section for li in corpus.documents[other].lines} == sections


def test_variants_are_distinct_regions_and_years() -> None:
    vs = variants(100, seed=0)
    assert len({(v.region.name, v.year) for v in vs}) == 100
    assert vs[0].is_base and vs[0].region.name == "Occitanie"
    assert variants(100, seed=0) == vs
    with pytest.raises(ValueError):
        variants(10_000)


def test_template_key_masks_what_variants_change() -> None:
    a = "En Occitanie, le Réseau EVA a reçu **12 345** personnes en 2021."
    b = "En Bretagne, le Cap Transitions a reçu **9 876** personnes en 2023."
    assert template_key(a) == template_key(b)
    assert template_key(a) != template_key("En Bretagne, la Mission Locale a reçu 3 jeunes.")


def test_metered_encoder_counts_and_cache_returns_the_same_vectors() -> None:
    inner = HashEncoder()
    plain = MeteredEncoder(inner)
    texts = ["Les jardiniers arrosent", "Le compost", "Les jardiniers arrosent"]
    expected = inner.encode(texts)
    assert np.array_equal(plain.encode(texts), expected) and plain.texts == 3
    cached = MeteredEncoder(inner, VectorCache())
    assert np.array_equal(cached.encode(texts), expected)
    assert cached.texts == 3  # duplicates inside one batch are embedded, later ones hit the cache
    assert np.array_equal(cached.encode(texts[:1]), expected[:1]) and cached.texts == 3


def test_helpers() -> None:
    assert parse_scale("10,100") == [10, 100]
    assert parse_scale("×100, 10, 1, 10") == [10, 100]
    assert parse_scale("") == []
    assert percentiles([1, 2, 3, 4])["p50"] == 2.5
    assert percentiles([])["n"] == 0


def test_reports_go_outside_the_source_tree_unless_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from assistant.bench import default_out
    from assistant.settings import PROJECT_ROOT

    monkeypatch.delenv("CEP_BENCH_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_out() == tmp_path / "cep-assistant" / "bench" / "bench.json"
    monkeypatch.setenv("CEP_BENCH_DIR", str(tmp_path / "b"))
    assert default_out() == tmp_path / "b" / "bench.json"
    assert PROJECT_ROOT not in default_out().parents


def test_reused_variants_are_turned_from_their_template_by_a_measured_angle() -> None:
    """A synthetic variant never copies its template's vector: the run measures how far real variants move and
    turns the others by such an angle, the same for the same text."""
    from assistant.bench.vectors import VectorCache

    inner = HashEncoder()
    base = "En Occitanie, la Mission Locale a reçu 3 jeunes en 2021."
    template = inner.encode([base])[0]
    cache = VectorCache(use_near=True)
    cache.add(base, template)
    variants = [f"En Bretagne, la Mission Locale a reçu {n} jeunes en {y}." for n in range(4, 40) for y in (2021, 2022)]
    encoder = MeteredEncoder(inner, cache)
    first = encoder.encode(variants[:4])  # nothing measured yet: these are embedded, and measured
    assert np.allclose(first, inner.encode(variants[:4])) and len(cache.calibration) == 4
    vectors = encoder.encode(variants[4:])
    assert encoder.texts == len(cache.calibration) < len(variants) and cache.near_hits == len(variants) - encoder.texts
    measured = {round(c, 4) for _, c in cache.calibration}
    turned = [v for v, t in zip(vectors, variants[4:], strict=True) if not np.allclose(v, inner.encode([t])[0])]
    assert len(turned) == cache.near_hits and all(round(float(v @ template), 4) in measured for v in turned)
    assert all(abs(float(np.linalg.norm(v)) - 1) < 1e-5 for v in vectors)
    assert not any(np.allclose(v, template) for v in turned)
    assert np.array_equal(encoder.encode(variants[4:]), vectors)  # a text met again keeps its vector
    again = VectorCache(use_near=True)
    again.add(base, template)
    rerun = MeteredEncoder(inner, again)
    rerun.encode(variants[:4])
    assert np.array_equal(rerun.encode(variants[4:]), vectors)  # the same run, the same vectors
