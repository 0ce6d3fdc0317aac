"""Score answers against a gold question set, as the shared scorer does (same metrics, same matching)."""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

NUM_RE = re.compile(r"\d[\d\s\u202f\u00a0.,]*\d|\d")


def norm(s: str) -> str:
    """Accents, case, markdown and spacing ignored."""
    s = re.sub(r"<[^>]+>", " ", s or "")
    s = re.sub(r"\^\{([^}]*)\}", r"\1", s)
    s = s.replace("**", "").replace("__", "")
    s = s.replace("\u2019", "'").replace("\u00a0", " ").replace("\u202f", " ")
    s = unicodedata.normalize("NFKD", s.lower())
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = re.sub(r"[*_`]", "", s)
    return re.sub(r"\s+", " ", s).strip()


def supports(quote: str, evidence: str) -> bool:
    """True when a quote contains the evidence span (fuzzy at 90 for conversion noise)."""
    q, e = norm(quote), norm(evidence)
    if not q or not e:
        return False
    if e in q:
        return True
    return len(q) >= len(e) and fuzz.partial_ratio(e, q) >= 90


def numbers_in(text: str) -> set[float]:
    """Every number written in a text, French or English formats."""
    out: set[float] = set()
    for m in NUM_RE.findall(text or ""):
        t = re.sub(r"[\s\u202f\u00a0]", "", m).replace(",", ".")
        if t.count(".") > 1:
            t = t.replace(".", "")
        with contextlib.suppress(ValueError):
            out.add(round(float(t), 4))
    return out


def unfaithful_numbers(answer: dict[str, Any]) -> set[float]:
    """Numbers in the answer text found in no cited quote nor in the question."""
    known: set[float] = set(numbers_in(answer.get("question", "")))
    for c in answer.get("citations") or []:
        known |= numbers_in(c.get("quote", ""))
    extra = {x for x in numbers_in(answer.get("text", "")) if x not in known and x not in (2021.0, 2020.0)}
    return {x for x in extra if not re.search(rf"\[{x:g}\]", answer.get("text", ""))}


def _num_close(a: Any, b: Any) -> bool:
    try:
        fa, fb = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return abs(fa - fb) <= max(1e-6, 1e-4 * abs(fb))


def score(gold: Iterable[dict[str, Any]], answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Metrics per kind (strict, lenient, wrong, abstain, cited@3), faithfulness and misses."""
    res: dict[str, dict[str, int]] = {}
    misses: list[tuple[str, str, str]] = []
    faith_viol = faith_n = 0
    for g in gold:
        a = answers.get(g["id"])
        k = g["kind"]
        r = res.setdefault(k, {"n": 0, "ok": 0, "lenient": 0, "wrong": 0, "abstain": 0, "cited": 0})
        r["n"] += 1
        if a is None:
            misses.append((g["id"], k, "MISSING"))
            continue
        quotes = [c.get("quote", "") for c in a.get("citations") or []]
        intent = a.get("intent")
        r["abstain"] += intent == "abstain"
        cited = any(supports(q, g.get("evidence", "")) for q in quotes[:3]) if g.get("evidence") else False
        if k == "routing":
            ops = [o.get("id") for o in a.get("operators") or []]
            top = ops[0] if ops else None
            ok = top == g["primary"]
            r["lenient"] += top in g["acceptable"]
            r["wrong"] += bool(top) and top not in g["acceptable"]
            detail = f"got {top} want {g['primary']}"
        elif k == "figure":
            val = (a.get("figure") or {}).get("value")
            ok = _num_close(val, g["number"])
            r["lenient"] += ok and cited
            r["wrong"] += val is not None and not ok
            detail = f"got {val} want {g['number']}"
        elif k == "passage":
            ok = cited
            r["lenient"] += any(supports(q, g["evidence"]) for q in quotes)
            detail = "miss"
        else:
            ok = intent == "abstain"
            r["lenient"] += ok
            r["wrong"] += (a.get("figure") or {}).get("value") is not None
            detail = f"answered intent={intent}"
        r["ok"] += ok
        r["cited"] += cited
        if not ok:
            misses.append((g["id"], k, detail))
        if intent in ("figure", "passage", "routing") and a.get("text"):
            faith_n += 1
            faith_viol += bool(unfaithful_numbers(a))
    total = sum(r["n"] for r in res.values())
    return {
        "kinds": res,
        "faithfulness_violations": faith_viol,
        "faithfulness_n": faith_n,
        "overall_strict": sum(r["ok"] for r in res.values()) / max(total, 1),
        "n": total,
        "misses": misses,
    }


def format_report(report: dict[str, Any], verbose: bool = False) -> str:
    """The score table, as the shared scorer prints it."""
    lines = []
    if verbose:
        lines += ["   " + " ".join(m) for m in report["misses"]]
    for k, r in sorted(report["kinds"].items()):
        n = r["n"] or 1
        lines.append(
            f"{k:13s} n={r['n']:3d} strict={r['ok'] / n:.3f} lenient={r['lenient'] / n:.3f} "
            f"wrong={r['wrong'] / n:.3f} abstain={r['abstain'] / n:.3f} cited@3={r['cited'] / n:.3f}"
        )
    lines.append(f"faithfulness_violations={report['faithfulness_violations']}/{report['faithfulness_n']}")
    lines.append(f"OVERALL strict={report['overall_strict']:.3f} n={report['n']}")
    return "\n".join(lines)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Objects of a JSONL file (blank lines skipped)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
