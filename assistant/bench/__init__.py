"""Benchmark: build time, cold start, warm latency, latency under load, memory and quality beside plain baselines,
and scale.

Everything is measured in one run, into temporary folders (the project's index and documents are never
touched). The scale points run in new processes, so each reports its own peak memory. Targets are
reported, never asserted: timings on a shared 2-core machine are noisy. Tooling, never imported by the
assistant itself: ``measure`` (one corpus), ``load`` (concurrent askers, a busy process beside them),
``scale`` (synthetic corpora), ``vectors`` (the vector cache of the largest) and ``report`` (the run, its
JSON report and table).
"""

from __future__ import annotations

from assistant.bench.measure import percentiles
from assistant.bench.report import default_out, run_bench
from assistant.bench.scale import parse_scale
from assistant.bench.vectors import MeteredEncoder, VectorCache

__all__ = ["MeteredEncoder", "VectorCache", "default_out", "parse_scale", "percentiles", "run_bench"]
