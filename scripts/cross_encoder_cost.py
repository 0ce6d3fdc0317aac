"""What a cross-encoder reranker would cost here: one forward of e5-small's transformer over K (question, passage)
pairs of L tokens (what a cross-encoder built on the same weights computes, its head aside), against one question
embedding, both on one thread as the product embeds a question.

Usage: python scripts/cross_encoder_cost.py  (the built-in corpus and a few questions of the project)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.settings import Settings
from index.encoders import SentenceTransformerEncoder
from ingest.corpus import load_corpus

QUESTIONS = [
    "Combien d'entrées en CEP pour l'APEC en Occitanie en 2021 ?",
    "le cep c gratuit ?",
    "Je suis demandeur d'emploi, j'ai 40 ans et une RQTH, à qui m'adresser ?",
    "Quel est le délai moyen pour un premier rendez-vous au Réseau EVA ?",
    "Qu'est-ce que le PTP ?",
]
PAIRS = ((5, 128), (10, 128), (10, 256), (20, 256), (30, 256))


def timed(run: Callable[[], None], n: int) -> tuple[float, float]:
    """p50 and p95 in ms of n calls, after three to warm up (the question forward is traced after two)."""
    for _ in range(3):
        run()
    spent = []
    for _ in range(n):
        started = time.perf_counter()
        run()
        spent.append(time.perf_counter() - started)
    return round(float(np.percentile(spent, 50)) * 1000, 1), round(float(np.percentile(spent, 95)) * 1000, 1)


def main() -> None:
    settings = Settings.from_env()
    torch.set_num_threads(1)
    encoder = SentenceTransformerEncoder(settings.model_name)
    model = encoder._load()
    passages = [c.text for c in load_corpus(settings.corpus_dir).chunks]
    turn = [0]

    def question() -> str:
        turn[0] += 1
        return QUESTIONS[turn[0] % len(QUESTIONS)]

    base = timed(lambda: encoder.encode_query([question()]), 60)
    print(f"une question embeddée : p50 {base[0]} ms, p95 {base[1]} ms")
    for k, length in PAIRS:

        def cross(k: int = k, length: int = length) -> None:
            q, start = question(), turn[0] % max(len(passages) - k, 1)
            pairs = model.tokenizer.encode_batch([f"query: {q} passage: {p}" for p in passages[start : start + k]])
            ids = torch.tensor([e.ids[:length] + [1] * max(0, length - len(e.ids)) for e in pairs], dtype=torch.long)
            mask = torch.tensor([[1] * min(length, len(e.ids)) + [0] * max(0, length - len(e.ids)) for e in pairs])
            with torch.inference_mode():
                model.bert(ids, mask)

        p50, p95 = timed(cross, 8)
        print(f"{k} paires × {length} jetons : p50 {p50} ms, p95 {p95} ms, soit {p50 / base[0]:.0f} × une question")


if __name__ == "__main__":
    main()
