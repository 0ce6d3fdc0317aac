"""The lean BERT (index.runtime.load_lean_model) embeds bit for bit as sentence-transformers does."""

from __future__ import annotations

import numpy as np
import pytest

from index import runtime
from index.encoders import SentenceTransformerEncoder, resolve_model_path

TEXTS = [
    "Le conseil en évolution professionnelle (CEP) est gratuit et confidentiel.",
    "Qu’est-ce que l'APEC propose aux cadres ?",
    "En 2021, Pôle emploi a enregistré 12\u202f345 entrées en CEP en Occitanie, soit 3,5\u00a0% de plus.",
    "si je perds mon boulot pendant mon CEP je garde mon conseiller ?",
    "",
    "  des espaces devant",
    "mot " * 700,  # truncated at 512 tokens
]


def _encoder(model: object) -> SentenceTransformerEncoder:
    encoder = SentenceTransformerEncoder("multilingual-e5-small")
    encoder._model = model  # type: ignore[assignment]
    encoder._bf16 = runtime.use_bf16()
    return encoder


@pytest.mark.real
def test_lean_model_is_bit_identical_to_sentence_transformers() -> None:
    folder = resolve_model_path("multilingual-e5-small")
    lean = runtime.load_lean_model(folder)
    assert lean is not None
    runtime.configure_threads()  # both under the same thread policy: sums may differ in the last bit across counts
    reference, ours = _encoder(runtime.Pooled(runtime.load_sentence_transformer(folder))), _encoder(lean)
    for text in TEXTS + TEXTS:  # past runtime.TRACE_AFTER: the traced forward
        assert np.array_equal(ours.encode_query([text]), reference.encode_query([text])), text
    assert np.array_equal(ours.encode_query(TEXTS), reference.encode_query(TEXTS))
    assert np.array_equal(ours.encode(TEXTS), reference.encode(TEXTS))  # passages: bf16 where native, padded
    assert lean._traced not in (None, False)  # the later single texts above ran traced, bit-identical too


def test_other_layouts_take_the_ordinary_load(tmp_path) -> None:
    (tmp_path / "modules.json").write_text("[]", encoding="utf-8")
    assert runtime.load_lean_model(str(tmp_path)) is None
