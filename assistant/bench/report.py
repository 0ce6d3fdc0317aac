"""The run: every measurement into one JSON report (and a scale plot beside it), and the table printed."""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from assistant.bench.load import ASKERS, under_load
from assistant.bench.measure import (
    DEFAULT_QUESTIONS,
    EMBED_BUDGET_S,
    TARGETS,
    Step,
    cold_start,
    measure_corpus,
    model_prepare_s,
    peak_rss_mb,
)
from assistant.bench.scale import _scale_point, parse_scale
from assistant.evaluation import read_jsonl
from assistant.settings import Settings
from index.encoders import make_encoder

# -- the run -----------------------------------------------------------------------------------
BENCH_DIR_ENV = "CEP_BENCH_DIR"


def default_out() -> Path:
    """Where a run writes its report unless told: $CEP_BENCH_DIR, else $XDG_CACHE_HOME/cep-assistant/bench (or
    ~/.cache/…), outside the source tree; ``--out docs/bench.json`` updates the tracked report on purpose."""
    if os.environ.get(BENCH_DIR_ENV):
        return Path(os.environ[BENCH_DIR_ENV]).expanduser() / "bench.json"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "cep-assistant" / "bench" / "bench.json"


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
        x1, assistant = measure_corpus(base, gold, inner, vectors_out=vectors, step=lambda m: say(f"×1 {m}"))
        x1["factor"] = 1
        x1["build_builtin_s"] = round(x1["model_load_s"] + x1["read_s"] + x1["build_s"], 2)
        report["builtin"] = x1
        say(f"Sous charge : {ASKERS} personnes en même temps, puis avec un processus occupé à côté")
        report["load"] = under_load(assistant, [g["question"] for g in gold] or list(DEFAULT_QUESTIONS))
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
            point = _scale_point(settings, factor, work, questions, seed, exact[0], out_vectors, reuse, say)
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
    load = report.get("load") or {}
    for name in ("concurrent_p95_over_single", "busy_concurrent_p95_over_single"):
        out[name] = _target(load.get(name), TARGETS[name])
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
    lines.append(
        f"  cep-assistant ask → 1re réponse {cs['first_answer_s']:.1f} s "
        f"(premier lancement après construction : {cs['without_snapshot']['first_answer_s']:.1f} s)"
        + ("" if cs.get("stderr_quiet", True) else " ; messages sur stderr")
    )
    load = report.get("load")
    if load:
        lines.append(
            f"  sous charge ({load['questions']} questions) p95 : 1 personne {load['single_ms']['p95']:.0f} ms, "
            f"{load['askers']} en même temps {load['concurrent_ms']['p95']:.0f} ms "
            f"(×{load['concurrent_p95_over_single']}), avec un processus occupé à côté : 1 personne "
            f"{load['busy_single_ms']['p95']:.0f} ms, {load['askers']} {load['busy_concurrent_ms']['p95']:.0f} ms "
            f"(×{load['busy_concurrent_p95_over_single']})"
        )
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
                    f"{v['near_duplicate_reused']} quasi-doublons tournés de l'angle mesuré sur "
                    f"{v.get('calibration_texts', 0)} (cosinus moyen {v.get('calibration_mean_cos')}) ; "
                    "construction complète estimée "
                    f"{p['projected_full_build_s']:.0f} s ({p['projected_full_build_s_per_document']:.2f} s/doc)"
                )
            d = p.get("dense_types")
            if d:
                lines.append(
                    f"    FAISS plat {d['flat']['search_ms']['p50']:.2f} ms vs "
                    f"HNSW {d['hnsw']['search_ms']['p50']:.2f} ms (rappel@10 {d['hnsw_recall@k']}, "
                    f"construction HNSW {d['hnsw']['build_s']:.1f} s)"
                )
                for g in d.get("grid", []):
                    lines.append(
                        f"      HNSW M={g['M']} efConstruction={g['efConstruction']} efSearch={g['efSearch']} : "
                        f"rappel@10 {g['recall']} (au score : {g.get('recall_by_score')}), "
                        f"{g['search_ms']['p50']:.2f} ms, construction {g['build_s']:.1f} s"
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
