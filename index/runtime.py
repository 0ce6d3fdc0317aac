"""How a sentence-transformers model runs here: lean in memory, bf16 matrix products where the CPU has them.

Imported when the model is first needed (it imports torch), never by ``import index``.

- Word embeddings stored in float16 (the converted e5: 250 037 x 384) stay float16 in memory and are cast to
  float32 row by row on lookup; the other weights run in float32 as before. Loading reads each tensor from the
  file with plain reads, so neither a float32 copy of the 96 M-weight table nor a mapping of the whole file is
  ever resident. The vectors are bit-identical to a float32 load (tests/test_e5.py): the float32 values were
  the float16 ones, cast.
- Batches of passages run their matrix products in bfloat16 (float32 accumulation, torch autocast) on CPUs
  that compute bf16 natively (avx512_bf16 or amx_bf16); elsewhere bf16 would be emulated, slower than float32.
- Threads (:func:`configure_threads`): one question is embedded on the thread that asks it, alone; only batches
  (an index build, a bank of questions) spread over the inference pool. On 2 cores with a busy process beside
  it, a question embedded with 2 OpenMP threads took 400-2 000 ms (every operation waits at a barrier for a
  thread the system has descheduled) against 27-44 ms on one thread; concurrent askers each run on their own
  thread instead, without oversubscribing.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import logging
import os
import struct
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS = "model.safetensors"
# CEP_THREADS: threads of the inference pool for batches (default: the cores this process may use, at most 2).
THREADS_ENV = "CEP_THREADS"
_NUMPY = {"F16": np.float16, "F32": np.float32}
# CEP_ENCODER_BF16: "auto" (bf16 batches where native), "0" (always float32), "1" (bf16 even if emulated).
BF16_ENV = "CEP_ENCODER_BF16"


@dataclass(frozen=True)
class Stored:
    """Where one tensor sits in a safetensors file."""

    dtype: str
    shape: tuple[int, ...]
    offset: int  # from the start of the file
    nbytes: int


def safetensors_layout(path: Path) -> dict[str, Stored]:
    """The tensor directory of a safetensors file (8-byte header length, JSON header, then the data)."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    header.pop("__metadata__", None)
    start = 8 + size
    out = {}
    for name, h in header.items():
        begin, end = h["data_offsets"]
        out[name] = Stored(h["dtype"], tuple(h["shape"]), start + begin, end - begin)
    return out


def read_tensor(path: Path, entry: Stored) -> np.ndarray:
    """One tensor, read (not memory-mapped) from the file, in its stored dtype."""
    dtype = _NUMPY[entry.dtype]
    count = entry.nbytes // np.dtype(dtype).itemsize
    return np.fromfile(path, dtype=dtype, count=count, offset=entry.offset).reshape(entry.shape)


class Float16Rows(nn.Module):
    """An embedding table kept in float16; the rows looked up come out in float32 (exact: a widening cast).

    The table is a buffer, not a parameter, so the model's dtype (its parameters') stays float32."""

    def __init__(self, weight: torch.Tensor, padding_idx: int | None = None) -> None:
        super().__init__()
        self.weight: torch.Tensor
        self.register_buffer("weight", weight, persistent=False)
        self.padding_idx = padding_idx

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.weight, self.padding_idx).float()


def load_sentence_transformer(folder: str) -> Any:
    """A SentenceTransformer on CPU; float16-stored word embeddings stay float16 (see the module docstring).
    The library's "Loading weights" bars are off unless logging is verbose (the CLI's -v)."""
    from sentence_transformers import SentenceTransformer

    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:  # an older transformers: the bars stay
            pass

    weights = Path(folder) / WEIGHTS
    layout = safetensors_layout(weights) if weights.is_file() else {}
    word = next((name for name in layout if name.endswith("word_embeddings.weight")), None)
    if word is None or layout[word].dtype != "F16" or any(e.dtype not in _NUMPY for e in layout.values()):
        return SentenceTransformer(folder, device="cpu")
    # Built in float16 (the file is mapped, not copied), then every tensor is replaced by a plain read.
    model = SentenceTransformer(folder, device="cpu", model_kwargs={"dtype": torch.float16})
    transformer: Any = model[0].auto_model
    params = dict(transformer.named_parameters())
    prefix = f"{transformer.base_model_prefix}."
    names = {name: name if name in layout else prefix + name for name in params}
    if any(stored not in layout for stored in names.values()):  # an unexpected layout: the ordinary load
        del model, transformer, params
        gc.collect()
        return SentenceTransformer(folder, device="cpu")
    embeddings = transformer.get_input_embeddings()
    for name, param in params.items():
        if param is embeddings.weight:
            continue
        param.data = torch.from_numpy(read_tensor(weights, layout[names[name]]).astype(np.float32))
    table = torch.from_numpy(read_tensor(weights, layout[names[_param_name(params, embeddings.weight)]]))
    transformer.set_input_embeddings(Float16Rows(table, embeddings.padding_idx))
    transformer.config.dtype = torch.float32
    del params, embeddings
    gc.collect()  # the float16 tensors built by from_pretrained, and with them the file mapping, go now
    return model


def _param_name(params: dict[str, torch.Tensor], tensor: torch.Tensor) -> str:
    return next(name for name, p in params.items() if p is tensor)


def release_heap() -> None:
    """Hand freed heap memory back to the system (glibc's malloc_trim; nothing elsewhere).

    Forward passes of varying shapes leave freed activation buffers scattered in the heap: embedding the
    built-in corpus grew the process by 460 MB that it no longer used, trimmed after each call by 190 MB
    (measured with /proc/self/status)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def pool_threads() -> int:
    """Threads for batched inference: CEP_THREADS, else the cores this process may run on, at most 2."""
    setting = os.environ.get(THREADS_ENV, "").strip()
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


_configured = False


def configure_threads() -> None:
    """Once per process: one intra-op thread by default (every thread inherits it), BLAS single-threaded.

    Batches raise the count on their own thread for their duration (:func:`threads`)."""
    global _configured
    if _configured:
        return
    _configured = True
    torch.set_num_threads(1)
    with contextlib.suppress(Exception):  # threadpoolctl missing or a BLAS it cannot drive: left as it is
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")


@contextlib.contextmanager
def threads(count: int) -> Any:
    """Run the block with `count` intra-op threads on this thread, then restore the previous count."""
    before = torch.get_num_threads()
    if before != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if before != count:
            torch.set_num_threads(before)


def native_bf16() -> bool:
    """True when this CPU computes bf16 products natively (flags avx512_bf16 or amx_bf16)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def use_bf16() -> bool:
    """Whether batches of passages run in bf16 (CEP_ENCODER_BF16, default: where the CPU has it natively)."""
    setting = os.environ.get(BF16_ENV, "auto").strip().lower()
    if setting in ("0", "false", "no", "non", "off"):
        return False
    if setting in ("1", "true", "yes", "oui", "on"):
        return True
    return native_bf16()


def precision(bf16: bool) -> contextlib.AbstractContextManager[Any]:
    """The context a forward pass runs in: bf16 autocast, or plain float32."""
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


# -- a lean BERT for the e5 folder: torch only, without transformers or sentence-transformers ----------------
# Importing sentence-transformers (and through it transformers and scikit-learn) cost 7.5 s of CPU on this
# machine before any question was read; torch alone costs 1.8 s. The lean model runs the same torch
# operations in the same order as transformers' BertModel (sdpa attention) and sentence-transformers' mean
# pooling and normalizations, so its vectors are bit-identical (tests/test_e5.py); any other folder layout
# (another architecture, pooling or an unknown file) takes the ordinary sentence-transformers load.
LEAN_ENV = "CEP_LEAN_ENCODER"  # "0": always load through sentence-transformers


def _linear(inputs: int, outputs: int) -> nn.Linear:
    """A Linear left uninitialized: its weights are read from the file right after."""
    return torch.nn.utils.skip_init(nn.Linear, inputs, outputs)


class _SelfAttention(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.query = _linear(hidden, hidden)
        self.key = _linear(hidden, hidden)
        self.value = _linear(hidden, hidden)


class _Output(nn.Module):
    def __init__(self, inner: int, hidden: int, eps: float) -> None:
        super().__init__()
        self.dense = _linear(inner, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _Attention(nn.Module):
    def __init__(self, hidden: int, eps: float) -> None:
        super().__init__()
        self.self = _SelfAttention(hidden)
        self.output = _Output(hidden, hidden, eps)


class _Intermediate(nn.Module):
    def __init__(self, hidden: int, inner: int) -> None:
        super().__init__()
        self.dense = _linear(hidden, inner)


class _Layer(nn.Module):
    def __init__(self, hidden: int, inner: int, heads: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.attention = _Attention(hidden, eps)
        self.intermediate = _Intermediate(hidden, inner)
        self.output = _Output(inner, hidden, eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        batch, length = x.shape[:2]
        shape = (batch, length, -1, x.shape[-1] // self.heads)
        att = self.attention.self
        q = att.query(x).view(*shape).transpose(1, 2)
        k = att.key(x).view(*shape).transpose(1, 2)
        v = att.value(x).view(*shape).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.0, scale=shape[-1] ** -0.5)
        a = a.reshape(a.shape[0], -1, length, v.shape[-1]).transpose(1, 2).contiguous()
        a = a.reshape(batch, length, -1).contiguous()
        h = self.attention.output(a, x)
        return self.output(F.gelu(self.intermediate.dense(h)), h)


class _Embeddings(nn.Module):
    def __init__(self, config: dict[str, Any], table: torch.Tensor) -> None:
        super().__init__()
        hidden = config["hidden_size"]
        self.word_embeddings = Float16Rows(table, config.get("pad_token_id"))
        self.position_embeddings = nn.Embedding(config["max_position_embeddings"], hidden)
        self.token_type_embeddings = nn.Embedding(config["type_vocab_size"], hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=config["layer_norm_eps"])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        types = torch.zeros_like(ids)
        x = self.word_embeddings(ids) + self.token_type_embeddings(types)
        return self.LayerNorm(x + self.position_embeddings(positions))


class _Encoder(nn.Module):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        args = (config["hidden_size"], config["intermediate_size"], config["num_attention_heads"])
        self.layer = nn.ModuleList(
            [_Layer(*args, config["layer_norm_eps"]) for _ in range(config["num_hidden_layers"])]
        )


class LeanBert(nn.Module):
    """BertModel's encoder path (no pooler head), with its parameter names (adapters merge by name)."""

    def __init__(self, config: dict[str, Any], table: torch.Tensor) -> None:
        super().__init__()
        self.embeddings = _Embeddings(config, table)
        self.encoder = _Encoder(config)

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings.word_embeddings

    def forward(self, ids: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        batch, length = ids.shape
        mask = None  # transformers passes no mask to sdpa when nothing is padded
        if not bool(attention.all()):
            mask = attention.bool()[:, None, None, :].expand(batch, 1, length, length)
        x = self.embeddings(ids)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x


class _First:
    """What model[0] gives in sentence-transformers: the transformer module (auto_model)."""

    def __init__(self, bert: LeanBert) -> None:
        self.auto_model = bert


class _Unpadded(nn.Module):
    """One text, nothing padded: what is traced for the single-question path."""

    def __init__(self, bert: LeanBert) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.bert(ids, torch.ones_like(ids))


# Single questions embedded eagerly before the forward is traced: a one-question CLI never pays the 0.5 s trace.
TRACE_AFTER = 2


class LeanSentenceModel:
    """The part of SentenceTransformer the encoders use: encode (mean pooling, normalized), prompts, dimension.

    Once a process has embedded a few single questions (an app, a batch), their forward runs traced (TorchScript,
    without graph optimizations: the same operations, bit-identical vectors, tests/test_lean_encoder.py). Eager,
    the forward gives the GIL back at each of its ~150 operations and waits for it each time: with three other
    threads of the process running Python, a 44 ms question took 370-530 ms; traced, 106 ms."""

    def __init__(self, bert: LeanBert, tokenizer: Any, prompts: dict[str, str], max_length: int, dim: int) -> None:
        self.bert = bert.eval()
        self.tokenizer = tokenizer
        self.prompts = prompts
        self.max_length = max_length
        self.dim = dim
        self._singles = 0
        self._traced: Any = None  # the traced single-text forward; False when tracing failed
        self._trace_lock = threading.Lock()
        self._prompt_skip: dict[str, int] = {}

    def _single_forward(self) -> Any:
        """The traced forward for one unpadded text, traced on the TRACE_AFTER-th call; None meanwhile."""
        if self._traced is False:
            return None
        self._singles += 1
        if self._traced is None and self._singles > TRACE_AFTER:
            with self._trace_lock:
                if self._traced is None:
                    try:
                        example = torch.tensor([self.tokenizer.encode("query: exemple").ids], dtype=torch.long)
                        with warnings.catch_warnings(), torch.inference_mode():
                            warnings.simplefilter("ignore")
                            self._traced = torch.jit.trace(_Unpadded(self.bert), (example,), check_trace=False)
                    except Exception as exc:  # a torch without TorchScript: eager forever
                        logging.getLogger(__name__).info("Forward non tracé (%s) : exécution directe.", exc)
                        self._traced = False
        return self._traced or None

    def _forward(self, ids: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        if ids.shape[0] == 1 and not torch.is_autocast_enabled("cpu"):
            traced = self._single_forward()
            if traced is not None:
                with torch.jit.optimized_execution(False):
                    return traced(ids)  # type: ignore[no-any-return]
        return self.bert(ids, attention)

    def __getitem__(self, i: int) -> _First:
        if i != 0:
            raise IndexError(i)
        return _First(self.bert)

    def _prompt_tokens(self, prompt: str) -> int:
        """Tokens before a text's own: the start token and the prompt's ("query:" is "▁query", ":"); once per prompt."""
        if prompt not in self._prompt_skip:
            self._prompt_skip[prompt] = len(self.tokenizer.encode(prompt.rstrip()).ids) - 1 if prompt.strip() else 1
        return self._prompt_skip[prompt]

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def encode(
        self,
        texts: list[str],
        prompt_name: str | None = None,
        batch_size: int = 32,
        normalize_embeddings: bool = False,
        convert_to_numpy: bool = True,
        show_progress_bar: bool = False,
        states: list[np.ndarray] | None = None,
    ) -> np.ndarray:
        """Embeddings of texts, in batches ordered longest first as sentence-transformers orders them.

        `states`: a list that receives, per text in order, its token vectors from the same forward pass
        (float32, without the start token, the prompt and the end token), for late interaction."""
        prompt = self.prompts.get(prompt_name, "") if prompt_name else ""
        order = np.argsort([-len(t) for t in texts])
        out: list[torch.Tensor] = []
        skip = self._prompt_tokens(prompt) if states is not None else 0
        by_text: dict[int, np.ndarray] = {}
        with torch.inference_mode(), threads(pool_threads() if len(texts) > 1 else 1):
            for start in range(0, len(texts), batch_size):
                batch = [prompt + texts[i] for i in order[start : start + batch_size]]
                encodings = self.tokenizer.encode_batch(batch)
                ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
                attention = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
                tokens = self._forward(ids, attention)
                if states is not None:
                    lengths = attention.sum(dim=1).tolist()
                    for k, i in enumerate(order[start : start + batch_size]):
                        by_text[int(i)] = tokens[k, skip : int(lengths[k]) - 1].float().numpy().copy()
                mask = attention.unsqueeze(-1).to(tokens.dtype)
                accumulate = torch.float32 if tokens.dtype in (torch.float16, torch.bfloat16) else tokens.dtype
                total = (tokens * mask).sum(dim=1, dtype=accumulate)
                count = torch.clamp(mask.sum(dim=1, dtype=accumulate), min=1e-9)
                vectors = F.normalize((total / count).to(tokens.dtype), p=2, dim=-1)
                if normalize_embeddings:
                    vectors = F.normalize(vectors, p=2, dim=1)
                out.extend(vectors)
        if states is not None:
            states.extend(by_text[i] for i in range(len(texts)))
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        stacked = torch.stack([out[i] for i in np.argsort(order)])
        return stacked.float().numpy() if stacked.dtype == torch.bfloat16 else stacked.numpy()


_ST_MODULES = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


def _lean_layout(folder: Path) -> dict[str, Any] | None:
    """The folder's configuration when the lean model reproduces it (BERT, mean pooling, normalize), else None."""
    try:
        modules = [m["type"] for m in json.loads((folder / "modules.json").read_text(encoding="utf-8"))]
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        st_config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        st_extra = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    plain = (
        modules == _ST_MODULES
        and config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and not config.get("is_decoder")
        and modes == {"pooling_mode_mean_tokens"}
        and pooling.get("include_prompt") is not False
        and not st_config.get("do_lower_case")
        and (folder / "tokenizer.json").is_file()
        and (folder / WEIGHTS).is_file()
    )
    if not plain:
        return None
    return {"config": config, "max_length": int(st_config.get("max_seq_length") or 512), "extra": st_extra}


def load_lean_model(folder: str) -> LeanSentenceModel | None:
    """The lean model of a plain BERT folder (float16 word table kept float16); None for any other layout."""
    from tokenizers import Tokenizer

    path = Path(folder)
    layout = _lean_layout(path)
    if layout is None:
        return None
    config = layout["config"]
    weights = path / WEIGHTS
    stored = safetensors_layout(weights)
    prefix = next((p for p in ("", "bert.") if f"{p}embeddings.word_embeddings.weight" in stored), None)
    if prefix is None or any(e.dtype not in _NUMPY for e in stored.values()):
        return None
    word = stored[f"{prefix}embeddings.word_embeddings.weight"]
    # The word table is mapped copy-on-write, never written: a question reads a few rows of it, not 190 MB.
    table = np.memmap(weights, dtype=_NUMPY[word.dtype], mode="c", offset=word.offset, shape=word.shape)
    bert = LeanBert(config, torch.from_numpy(table))
    for name, param in bert.named_parameters():
        entry = stored.get(prefix + name)
        if entry is None or tuple(entry.shape) != tuple(param.shape):
            return None
        param.data = torch.from_numpy(read_tensor(weights, entry).astype(np.float32))
    bert.requires_grad_(False)
    max_length = min(layout["max_length"], int(config["max_position_embeddings"]))
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
    pad_id = int(config.get("pad_token_id", 0))
    tokenizer.enable_padding(pad_id=pad_id, pad_token=tokenizer.id_to_token(pad_id) or "[PAD]")
    prompts = dict(layout["extra"].get("prompts") or {})
    return LeanSentenceModel(bert, tokenizer, prompts, max_length, int(config["hidden_size"]))


def load_encoder_model(folder: str) -> Any:
    """The model an encoder runs: the lean BERT when the folder allows it (CEP_LEAN_ENCODER, default on), else
    sentence-transformers (load_sentence_transformer)."""
    configure_threads()
    if os.environ.get(LEAN_ENV, "1").strip().lower() not in ("0", "false", "no", "non", "off"):
        model = load_lean_model(folder)
        if model is not None:
            return model
    return Pooled(load_sentence_transformer(folder))


class Pooled:
    """A sentence-transformers model whose batches use the inference pool and single texts one thread."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def __getitem__(self, i: int) -> Any:
        return self.model[i]

    def encode(self, texts: list[str], **kwargs: Any) -> Any:
        with threads(pool_threads() if len(texts) > 1 else 1):
            return self.model.encode(texts, **kwargs)
