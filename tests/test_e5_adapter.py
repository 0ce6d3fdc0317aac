"""The CEP-adapted e5 (LoRA merged at load, index/encoders.py): other vectors than the base, still normalized."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import encoders
from index.encoders import ADAPTED, make_encoder
from ingest.errors import ModelUnavailable

TEXTS = [
    "Combien de bénéficiaires ont été accompagnés par l'APEC en Occitanie ?",
    "Le conseil en évolution professionnelle est un service gratuit et confidentiel.",
]


def test_missing_adapter_is_reported_in_french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoders, "MODELS_DIR", tmp_path)
    with pytest.raises(ModelUnavailable, match="introuvable"):
        encoders.adapter_path("multilingual-e5-small-cep")


@pytest.mark.real
@pytest.mark.skipif(
    not (encoders.MODELS_DIR / "e5-cep-lora" / encoders.ADAPTER_FILE).is_file(),
    reason="pas d'adaptation ajustée (python scripts/fit_encoder.py)",
)
def test_adapted_e5_differs_from_the_base_and_is_normalized() -> None:
    adapted, base = make_encoder("multilingual-e5-small-cep"), make_encoder(ADAPTED["multilingual-e5-small-cep"][0])
    assert adapted.fingerprint != base.fingerprint
    assert adapted.prompts == base.prompts
    for side in ("encode", "encode_query"):
        ours, theirs = getattr(adapted, side)(TEXTS), getattr(base, side)(TEXTS)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5), side
        cosines = np.sum(ours * theirs, axis=1)
        assert cosines.max() < 0.9999, (side, cosines)  # the adapter moved every vector
