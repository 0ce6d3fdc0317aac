"""Latency under load: several askers in one process (threads, as Streamlit serves its sessions), with and
without a busy process beside them (a CPU-bound loop in a subprocess)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from assistant.bench.measure import percentiles

ASKERS = 4
# per condition. With 80, the p95 is the 4th slowest answer: three runs back to back on a quiet machine read the
# busy ratio 2.29 and 3.48 (8 Dec); with dev + dev2's 245 it is the 13th (2.47 / 2.92 / 3.90), about 40 s in all.
MAX_QUESTIONS = 250
BUSY_LOOP = "while True:\n    pass\n"


@contextlib.contextmanager
def busy_process(count: int = 1) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` processes spinning a CPU-bound loop for the duration of the block (stopped after it)."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(count)]
    try:
        time.sleep(0.5)  # let them reach the loop
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


def _forget_questions(assistant: Any) -> None:
    """Empty the index's cache of question vectors: every condition embeds its questions anew."""
    queries = getattr(assistant.index, "queries", None)
    if queries is not None:
        queries.clear()


def ask_concurrently(assistant: Any, questions: list[str], askers: int) -> list[float]:
    """Each question asked once, the list shared out among `askers` threads started together; the latency
    of every answer in milliseconds (from its own start, as a user waits)."""
    _forget_questions(assistant)
    shares = [questions[i::askers] for i in range(askers)]
    out: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(askers)

    def asker(share: list[str]) -> None:
        start.wait()
        for question in share:
            began = time.perf_counter()
            assistant.ask(question)
            ms = (time.perf_counter() - began) * 1000
            with lock:
                out.append(ms)

    threads = [threading.Thread(target=asker, args=(share,), name=f"asker-{i}") for i, share in enumerate(shares)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def under_load(assistant: Any, questions: list[str], askers: int = ASKERS, busy: int = 1) -> dict[str, Any]:
    """p50/p95 of one asker, of `askers` concurrent ones, and of both with `busy` CPU-bound processes beside;
    each p95 over the single asker's (target: at most 3)."""
    questions = questions[:MAX_QUESTIONS]
    assistant.ask(questions[0])  # warm
    started = time.perf_counter()
    single = percentiles(ask_concurrently(assistant, questions, 1))
    concurrent = percentiles(ask_concurrently(assistant, questions, askers))
    with busy_process(busy):
        busy_single = percentiles(ask_concurrently(assistant, questions, 1))
        busy_concurrent = percentiles(ask_concurrently(assistant, questions, askers))
    floor = single["p95"] or 1.0
    return {
        "askers": askers,
        "busy_processes": busy,
        "questions": len(questions),
        "single_ms": single,
        "concurrent_ms": concurrent,
        "busy_single_ms": busy_single,
        "busy_concurrent_ms": busy_concurrent,
        "concurrent_p95_over_single": round(concurrent["p95"] / floor, 2),
        "busy_concurrent_p95_over_single": round(busy_concurrent["p95"] / floor, 2),
        "seconds": round(time.perf_counter() - started, 1),
    }
