"""Adapt multilingual-e5-small to the CEP documents with LoRA, on the question bank's train split.

Usage:
  python scripts/fit_encoder.py [--epochs 2] [--lr 2e-4] [--targets query,value,dense] [--max-pairs 0]
      [--select] [--probe 5] [--out knowledge/models/e5-cep-lora]

Pairs: each train item of kind passage or figure (tools.bank, split "train" only) gives ("query: " + question,
"passage: " + the dense unit of its evidence chunk that holds the quote: the sentence when the chunk has
sentence units (index.units.unit_table), else the chunk's own text; 128 tokens at most), plus one hard negative:
the best BM25 unit (index.lexical.LexicalIndex over the units' texts) of a chunk that does not hold the evidence.
Chunks touching a sealed section are never seen (neither as positive nor as negative).
Loss: multiple negatives ranking (cosine x 20, cross-entropy over the batch's positives and hard negatives;
a column holding the question's own evidence chunk, other than its positive, is masked).
LoRA (peft) on the e5 transformer's chosen Linear modules, r=8, alpha=16, dropout 0.1; everything else frozen.
AdamW, linear warm-up (10 %) and decay, batch 32, fixed seed, data order drawn from that seed.

--select: hold out 15 % of the train sections (by hash), fit on the rest, report dense top-3 on the held-out
ones, base against adapted; nothing is written. This is where hyper-parameters are chosen.
Without it: fit on every train section and write adapter.safetensors (A and B of each target module, float32)
and manifest.json into --out. scripts/eval_retrieval_bank.py --record then adds the sealed and 2023 figures.
--probe N: time N steps and exit (to size epochs and pairs on one thread).

Chosen with --select (held-out train sections: 77 passage and 112 figure questions, dense top-3; one thread,
about 8 s a step for query/value, 10 s with dense, on a shared machine): see SELECTION. A 4-epoch query/value
run was stopped from outside at step 170 of 220 (loss 1.3, where query/value/dense reached 1.4 at step 60).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import eval_retrieval_bank as ev  # noqa: E402

from index.encoders import ADAPTER_FILE, fingerprint, resolve_model_path  # noqa: E402
from index.lexical import LexicalIndex  # noqa: E402
from index.store import file_sha256  # noqa: E402
from index.units import WHOLE, unit_table  # noqa: E402
from ingest.corpus import Corpus, load_corpus  # noqa: E402
from ingest.locate import flat  # noqa: E402
from ingest.records import Chunk  # noqa: E402
from ingest.text import words  # noqa: E402
from tools import bank  # noqa: E402

BASE = "multilingual-e5-small"
OUT = ROOT / "knowledge" / "models" / "e5-cep-lora"
SEED = 20240611
HOLDOUT_SHARE = 0.15
MAX_TOKENS = 128
SCALE = 20.0  # cosine -> logit, as sentence-transformers' MultipleNegativesRankingLoss
R, ALPHA, DROPOUT = 8, 16, 0.1
# held-out dense top-3, base -> adapted (passage, figure, all); the base gives 36/77, 56/112, 92/189
SELECTION = {
    "query,value; lr 2e-4; 2 epochs": "passage 50/77, figure 66/112, all 116/189 (14.5 min)",
    "query,value,dense; lr 2e-4; 2 epochs (kept)": "passage 50/77, figure 73/112, all 123/189 (17.9 min)",
}


@dataclass(frozen=True)
class Pair:
    question: str
    positive: str
    negative: str
    chunks: frozenset[int]  # rows of the chunks holding the evidence (masked as in-batch negatives)
    positive_row: int
    negative_row: int


def holdout(section: str) -> bool:
    """About 15 % of the sections, by hash (another salt than the bank's sealed split)."""
    digest = int(hashlib.sha256(f"encoder-holdout:{section}".encode()).hexdigest()[:8], 16)
    return digest % 1000 < HOLDOUT_SHARE * 1000


def chunk_sections(corpus: Corpus, chunk: Chunk) -> set[str]:
    if chunk.lines is None:
        return set()
    return {bank.section_of(corpus, chunk.document, line) for line in range(chunk.lines[0], chunk.lines[1] + 1)}


def best_unit(texts: list[str], quote: str) -> int:
    """The unit holding the flattened quote; else the one holding most of its words (first on ties)."""
    wanted = flat(quote)
    for i, text in enumerate(texts):
        if wanted and wanted in flat(text):
            return i
    quote_words = set(words(quote))
    shares = [len(quote_words & set(words(t))) for t in texts]
    return int(np.argmax(shares))


def make_pairs(corpus: Corpus, items: list[bank.Item], allowed: list[bool]) -> list[Pair]:
    """One pair per item whose evidence sits in an allowed chunk; negatives among allowed chunks only."""
    chunks = corpus.chunks
    units, texts = unit_table(chunks)
    unit_rows = [i for i, (row, _) in enumerate(units.tolist()) if allowed[row]]
    lexical = LexicalIndex.build([texts[i] for i in unit_rows])
    by_chunk: dict[int, list[int]] = {}
    for u, (row, _) in enumerate(units.tolist()):
        by_chunk.setdefault(row, []).append(u)
    out = []
    for it in items:
        q = ev.Question(it.question, it.kind, it.document, it.line, it.quote)
        good = frozenset(r for r, c in enumerate(chunks) if ev.answers(c, q))
        if not good or not all(allowed[r] for r in good):
            continue
        row = min(good)
        own = by_chunk[row]
        sentences = [u for u in own if units[u, 1] != WHOLE]
        candidates = sentences or own
        positive = candidates[best_unit([texts[u] for u in candidates], it.quote)]
        wanted = flat(it.quote)
        scores = lexical.scores(it.question)
        negative = -1
        for j in np.argsort(-scores, kind="stable"):
            u = unit_rows[int(j)]
            chunk_row = int(units[u, 0])
            c = chunks[chunk_row]
            same_place = c.document == it.document and c.lines is not None and c.lines[0] <= it.line <= c.lines[1]
            if chunk_row in good or same_place or (wanted and wanted in flat(texts[u])):
                continue
            negative = u
            break
        if negative < 0:
            continue
        out.append(Pair(it.question, texts[positive], texts[negative], good, row, int(units[negative, 0])))
    return out


def load_model(targets: list[str]):
    """The base e5 sentence-transformers model with LoRA layers (peft) on the target modules; the rest frozen."""
    import torch
    from peft import LoraConfig, get_peft_model

    from index import runtime

    model = runtime.load_sentence_transformer(resolve_model_path(BASE))
    model.max_seq_length = MAX_TOKENS
    transformer = model[0].auto_model
    for p in transformer.parameters():
        p.requires_grad_(False)
    # the Linear modules of the encoder layers whose last name is a target (never the unused pooler)
    pattern = rf"encoder\.layer\.\d+\..*\.({'|'.join(targets)})"
    config = LoraConfig(r=R, lora_alpha=ALPHA, lora_dropout=DROPOUT, target_modules=pattern, bias="none")
    peft_model = get_peft_model(transformer, config)  # injects the LoRA layers in place: model[0] uses them
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    print(f"LoRA on {targets}: {sum(p.numel() for p in trainable):,} trainable weights")
    torch.manual_seed(SEED)
    return model, peft_model, trainable


def embed(model, texts: list[str], bucket: int = 16):
    """Normalized embeddings with gradients; texts go through in groups of about the same length (by
    characters), each padded to its own longest: one long unit no longer pads the whole batch to 128 tokens."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    parts = []
    for start in range(0, len(order), bucket):
        features = model.tokenize([texts[i] for i in order[start : start + bucket]])
        parts.append(model(features)["sentence_embedding"])  # the model's last module normalizes
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return torch.cat(parts)[inverse]


def batches(n: int, batch: int, epochs: int, seed: int) -> list[list[int]]:
    """Every epoch a permutation drawn from the seed, cut in batches (the last, short one kept if >= 4)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(epochs):
        order = rng.permutation(n).tolist()
        out.extend(order[i : i + batch] for i in range(0, n, batch) if len(order[i : i + batch]) >= 4)
    return out


def train(
    model,
    trainable,
    pairs: list[Pair],
    epochs: int,
    lr: float,
    batch: int,
    probe: int = 0,
    checkpoint: Path | None = None,
) -> float:
    """The fit; with `checkpoint`, its state (LoRA weights, optimizer, schedule, random state) is saved every
    10 steps and a run started again resumes from it: the same steps, the same result as one run."""
    import torch

    steps = batches(len(pairs), batch, epochs, SEED)
    if probe:
        steps = steps[:probe]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    warmup = max(1, len(steps) // 10)

    def schedule(step: int) -> float:
        return (step + 1) / warmup if step < warmup else max(0.0, (len(steps) - step) / max(1, len(steps) - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    start, spent_before, running = 0, 0.0, 0.0
    run = {"steps": len(steps), "pairs": len(pairs), "lr": lr, "weights": [tuple(p.shape) for p in trainable]}
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        if state.get("run") != run:
            raise SystemExit(f"{checkpoint}: the state of another fit ({state.get('run')}); remove it first")
        for p, saved in zip(trainable, state["weights"], strict=True):
            p.data.copy_(saved)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        start, spent_before, running = state["step"], state["seconds"], state["running"]
        print(f"  resumed at step {start} ({spent_before / 60:.1f} min already spent)")
    model.train()
    t0 = time.time() - spent_before
    for step in range(start, len(steps)):
        group = [pairs[i] for i in steps[step]]
        q = embed(model, ["query: " + p.question for p in group])
        docs = embed(model, ["passage: " + p.positive for p in group] + ["passage: " + p.negative for p in group])
        logits = SCALE * q @ docs.T
        columns = [p.positive_row for p in group] + [p.negative_row for p in group]
        mask = torch.tensor(
            [[j != i and columns[j] in p.chunks for j in range(len(columns))] for i, p in enumerate(group)]
        )
        logits = logits.masked_fill(mask, float("-inf"))
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(group)))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        scheduler.step()
        running = loss.item() if step == 0 else 0.9 * running + 0.1 * loss.item()
        if step < 3 or (step + 1) % 10 == 0 or step + 1 == len(steps):
            spent = time.time() - t0
            pace = spent / (step + 1)
            eta = pace * (len(steps) - step - 1)
            print(
                f"  step {step + 1}/{len(steps)} loss {running:.3f} {pace:.1f} s/step, eta {eta / 60:.1f} min",
                flush=True,
            )
        if checkpoint is not None and (step + 1) % 10 == 0 and step + 1 < len(steps):
            state = {
                "run": run,
                "step": step + 1,
                "seconds": time.time() - t0,
                "running": running,
                "weights": [p.detach().clone() for p in trainable],
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": torch.get_rng_state(),
            }
            torch.save(state, checkpoint.with_suffix(".tmp"))
            checkpoint.with_suffix(".tmp").replace(checkpoint)
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)  # done: a next run starts afresh
    model.eval()
    return time.time() - t0


class InMemoryEncoder:
    """The model being fitted, as an index encoder (for the held-out measure)."""

    def __init__(self, model, name: str) -> None:
        self.model = model
        self.name = name
        self.prompts = {"query": "query: ", "passage": "passage: "}
        self.fingerprint = fingerprint(name, self.prompts)
        self.dim = 384

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        return self.model.encode(texts, prompt_name=prompt, batch_size=32, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)  # fmt: skip

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "passage")

    def encode_query(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query")


def lora_tensors(peft_model) -> dict[str, np.ndarray]:
    """A (r x in) and B (out x r) of each LoRA layer, by the base model's module name."""
    from peft.tuners.lora import LoraLayer

    out = {}
    for name, module in peft_model.named_modules():
        if isinstance(module, LoraLayer):
            base = name.removeprefix("base_model.model.")
            out[f"{base}.lora_A"] = module.lora_A["default"].weight.detach().float().numpy().copy()
            out[f"{base}.lora_B"] = module.lora_B["default"].weight.detach().float().numpy().copy()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--targets", default="query,value,dense")
    parser.add_argument("--max-pairs", type=int, default=0, help="0: all")
    parser.add_argument("--select", action="store_true", help="fit on 85 %% of the train sections, measure the rest")
    parser.add_argument("--probe", type=int, default=0)
    parser.add_argument("--checkpoint", type=Path, help="save the fit's state here every 10 steps, resume from it")
    parser.add_argument("--skip-before", action="store_true", help="--select: do not measure the base model")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    targets = [t for t in args.targets.split(",") if t]

    corpus = load_corpus(ROOT / "knowledge" / "documents")
    items = [it for it in bank.load(ROOT, corpus) if it.split == "train" and it.kind in ev.KINDS]
    fit_items = [it for it in items if not (args.select and holdout(it.section))]
    held_items = [it for it in items if args.select and holdout(it.section)]
    allowed = []
    for c in corpus.chunks:
        sections = chunk_sections(corpus, c)
        allowed.append(
            bool(sections) and all(bank.split_of(s) == "train" and not (args.select and holdout(s)) for s in sections)
        )
    pairs = make_pairs(corpus, fit_items, allowed)
    if args.max_pairs:
        pairs = [pairs[i] for i in sorted(np.random.default_rng(SEED).permutation(len(pairs))[: args.max_pairs])]
    print(f"{len(items)} train items, {len(fit_items)} to fit ({len(pairs)} pairs), {len(held_items)} held out; "
          f"{sum(allowed)} of {len(allowed)} chunks usable")  # fmt: skip
    for p in pairs[:2]:
        print(f"  Q {p.question}\n  + {p.positive[:100]}\n  - {p.negative[:100]}")

    model, peft_model, trainable = load_model(targets)
    seconds = train(model, trainable, pairs, args.epochs, args.lr, args.batch, args.probe, args.checkpoint)
    print(f"training: {seconds / 60:.1f} min")
    if args.probe:
        return

    if args.select:
        questions = [ev.Question(it.question, it.kind, it.document, it.line, it.quote) for it in held_items]
        sets = {"held-out": (corpus, questions)}
        after = ev.evaluate(InMemoryEncoder(model, "adapted"), sets)["held-out"]["dense"]
        before = {}
        if not args.skip_before:
            with peft_model.disable_adapter():
                before = ev.evaluate(InMemoryEncoder(model, BASE), sets)["held-out"]["dense"]
        print(f"held-out dense top-3 ({args.targets}, lr {args.lr}, {args.epochs} epochs):")
        for kind in ("passage", "figure", "all"):
            print(f"  {kind:8} {ev.rate(before[kind]) if before else '-'} -> {ev.rate(after[kind])}")
        return

    args.out.mkdir(parents=True, exist_ok=True)
    from safetensors.numpy import save_file

    tensors = lora_tensors(peft_model)
    adapter = args.out / ADAPTER_FILE
    save_file(tensors, str(adapter), metadata={"r": str(R), "alpha": str(ALPHA), "base": BASE})
    adapter.chmod(0o644)
    base_folder = Path(resolve_model_path(BASE))
    manifest = {
        "base_model": BASE,
        "base_fingerprint": {"model.safetensors": file_sha256(base_folder / "model.safetensors")},
        "adapter_sha256": file_sha256(adapter),
        "data": {str(p.relative_to(ROOT)): file_sha256(p) for p in sorted((ROOT / bank.BANK).glob("*.jsonl"))},
        "corpus": corpus.fingerprint,
        "seed": SEED,
        "r": R,
        "alpha": ALPHA,
        "dropout": DROPOUT,
        "targets": targets,
        "epochs": args.epochs,
        "lr": args.lr,
        "batch": args.batch,
        "max_tokens": MAX_TOKENS,
        "pairs": len(pairs),
        "training_minutes": round(seconds / 60, 1),
        "selection": SELECTION,
        "threads": 1,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {adapter.relative_to(ROOT)} ({adapter.stat().st_size / 1e6:.1f} MB, {len(tensors)} tensors)")


if __name__ == "__main__":
    main()
