"""Scale points: a synthetic corpus × factor, measured in a new process that reports its own peak memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.bench.measure import (
    DEFAULT_QUESTIONS,
    SCALE_LATENCY_BUDGET_S,
    Step,
    dense_index_types,
    measure_corpus,
    peak_rss_mb,
)
from assistant.bench.vectors import VectorCache
from assistant.evaluation import read_jsonl
from assistant.settings import PROJECT_ROOT, Settings
from index.encoders import make_encoder
from index.queries import encode_queries

# -- scale -------------------------------------------------------------------------------------
STEP_PREFIX = "[étape] "  # a worker's progress line on its stderr


def _silent(message: str) -> None:
    pass


def _tell_parent(message: str) -> None:
    sys.stderr.write(f"{STEP_PREFIX}{message}\n")
    sys.stderr.flush()


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
    say: Step | None = None,
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
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.bench", str(job_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    tail: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:  # the worker's steps, passed on as they come; the end kept for an error
        line = line.rstrip("\n")
        if line.startswith(STEP_PREFIX):
            (say or _silent)(f"×{factor} {line[len(STEP_PREFIX) :]}")
        tail = [*tail[-4:], line]
    returncode = proc.wait()
    wall_s = time.perf_counter() - started
    if returncode != 0:
        return {"factor": factor, "error": tail, "wall_s": round(wall_s, 1)}
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
        settings, gold, inner, cache, Path(job["vectors_out"]), SCALE_LATENCY_BUDGET_S, _tell_parent
    )
    questions = [g["question"] for g in gold] or list(DEFAULT_QUESTIONS)
    result["dense_types"] = dense_index_types(assistant.index, encode_queries(inner, questions))
    result["peak_rss_mb"] = peak_rss_mb()
    Path(job["result"]).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
