"""How a sentence-transformers model runs here: lean in memory, bf16 matrix products where the CPU has them.

Imported when the model is first needed (it imports torch), never by ``import index``.

- Word embeddings stored in float16 (the converted e5: 250 037 x 384) stay float16 in memory and are cast to
  float32 row by row on lookup; the other weights run in float32 as before. Loading reads each tensor from the
  file with plain reads, so neither a float32 copy of the 96 M-weight table nor a mapping of the whole file is
  ever resident. The vectors are bit-identical to a float32 load (tests/test_e5.py): the float32 values were
  the float16 ones, cast.
- Batches of passages run their matrix products in bfloat16 (float32 accumulation, torch autocast) on CPUs
  that compute bf16 natively (avx512_bf16 or amx_bf16); elsewhere bf16 would be emulated, slower than float32.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS = "model.safetensors"
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
