"""Acceptance with an encoder fine-tuned on the codebook's own sentences, held out on the dev set.

Usage:
    python benchmarks/finetune_acceptance.py STORE.duckdb --work DIR [--codebook YAML]
        [--configs setfit-1,setfit-3,setfit-mix] [--folds 2] [--seed 27] [--check-seeds 1,2,3]

The frozen all-MiniLM-L6-v2 vectors blur a narrative's claim with its topic (see
``RESULTS-narratives.md``). This experiment fine-tunes the packaged encoder SetFit-style on the
codebook's sentences alone: a narrative's description and examples are pulled together, and pushed
away from its counter-examples, the background sentences and the other narratives' sentences
(cosine-similarity loss: target 1 for a pair of the same narrative, 0 otherwise). The dev labels
are never trained on. Each fine-tuned encoder is saved under ``--work`` (``model.safetensors``, with
the packaged model's configs) and loaded back through :func:`narrative.embed.load_embedder`;
the dev paragraphs and the codebook's sentences are embedded with it, the acceptance rule is built
with it (:func:`narrative.model.acceptance.build_rule`: typicality and margins in its space) and the
thresholds are set per fold on the training articles (F1-optimal over a grid wide enough for a
space whose cosines have moved), then scored on the held-out articles. The frozen encoder (the
store's vectors) is scored the same way in the same run.

Training configurations (``--configs``), fixed before any held-out score was seen:

- ``setfit-1``: SetFit's defaults: 20 positive and 20 negative pairs per anchor sentence,
  1 epoch, learning rate 2e-5, 16 pairs a batch;
- ``setfit-3``: the same pairs for 3 epochs;
- ``setfit-mix``: as ``setfit-1``, and each anchor and each counter-example also appears joined to
  a background sentence (before or after it), so the encoder sees multi-sentence texts that carry
  a claim among other news, as paragraphs do.

The configuration to keep is the one with the best *training* micro F1 (mean of the folds).
Also printed: the ROC AUC of each narrative's typicality among the rows its ``requires`` gate
passes, held-out micro F1 on other fold seeds, training time, and the time to embed 1,000 store
paragraphs with the frozen and the fine-tuned encoder.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: Threshold grid: wider than calibrate_acceptance.py's 0.20-0.80, since fine-tuning moves cosines.
GRID = np.round(np.arange(-0.20, 0.9951, 0.005), 3)


@dataclass(frozen=True)
class Config:
    pairs: int = 20  # positive pairs, and as many negative pairs, per anchor and epoch
    epochs: int = 1
    lr: float = 2e-5
    batch: int = 16
    mix: bool = False  # also train on sentences joined to a background sentence


CONFIGS = {
    "setfit-1": Config(),
    "setfit-3": Config(epochs=3),
    "setfit-mix": Config(mix=True),
}


def groups(codebook, mix: bool, rng: np.random.Generator):
    """Per named narrative: (members, non-members) as lists of texts."""
    named = codebook.named
    background = list(codebook.background)

    def joined(text: str) -> str:
        other = background[rng.integers(len(background))]
        return f"{text} {other}" if rng.random() < 0.5 else f"{other} {text}"

    members = [list(spec.prototypes) for spec in named]
    counters = [list(spec.counter_examples) for spec in named]
    if mix:
        members = [m + [joined(t) for t in m] for m in members]
        counters = [c + [joined(t) for t in c] for c in counters]
    out = []
    for k in range(len(named)):
        others = [t for j, m in enumerate(members) if j != k for t in m]
        out.append((members[k], counters[k] + background + others))
    return out


def make_pairs(codebook, config: Config, seed: int) -> list[tuple[str, str, float]]:
    """One epoch's training pairs (text, text, target cosine), shuffled."""
    rng = np.random.default_rng(seed)
    pairs = []
    for members, non_members in groups(codebook, config.mix, rng):
        for i, anchor in enumerate(members):
            mates = members[:i] + members[i + 1:]
            for _ in range(config.pairs):
                pairs.append((anchor, mates[rng.integers(len(mates))], 1.0))
                pairs.append((anchor, non_members[rng.integers(len(non_members))], 0.0))
    return [pairs[i] for i in rng.permutation(len(pairs))]


def fine_tune(codebook, config: Config, out: Path, seed: int) -> tuple[float, int]:
    """Fine-tune the packaged encoder on ``codebook``; save it to ``out`` (safetensors).
    Returns (seconds, steps)."""
    import os
    import random
    import shutil

    import torch
    from sentence_transformers import SentenceTransformer

    from narrative.embed.sentence import packaged_model_path

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    model = SentenceTransformer(str(packaged_model_path()), device="cpu", local_files_only=True)
    epochs = [make_pairs(codebook, config, seed + e) for e in range(config.epochs)]
    steps = sum((len(p) + config.batch - 1) // config.batch for p in epochs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
    model.train()
    start = time.perf_counter()
    for pairs in epochs:
        for b in range(0, len(pairs), config.batch):
            batch = pairs[b:b + config.batch]
            left = model(model.tokenize([p[0] for p in batch]))["sentence_embedding"]
            right = model(model.tokenize([p[1] for p in batch]))["sentence_embedding"]
            target = torch.tensor([p[2] for p in batch], dtype=left.dtype)
            loss = torch.nn.functional.mse_loss(
                torch.nn.functional.cosine_similarity(left, right), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    seconds = time.perf_counter() - start
    model.eval()
    model.save(str(out))
    # The packaged model's module configs (same architecture), so that narrative's own encoder
    # (narrative.embed.bert) runs the fine-tuned weights as it runs the packaged ones.
    for name in ("modules.json", "1_Pooling/config.json"):
        shutil.copyfile(packaged_model_path() / name, out / name)
    (out.parent / f"{out.name}.training.json").write_text(
        json.dumps({"seconds": round(seconds, 1), "steps": steps, "config": asdict(config)}))
    return seconds, steps


def fit_threshold(typical: np.ndarray, ok: np.ndarray, gold: np.ndarray) -> float:
    """The ``GRID`` threshold that maximises F1 of ``ok & typical >= t`` against ``gold``."""
    pred = ok[:, None] & (typical[:, None] >= GRID[None, :])
    tp = (pred & gold[:, None]).sum(0)
    f1 = 2 * tp / np.maximum(pred.sum(0) + gold.sum(), 1)
    return float(GRID[int(np.argmax(f1))])


class Encoded:
    """One encoder's view of the dev set: per paragraph and narrative, whether the margins and
    the ``requires`` gate pass, and the typicality."""

    def __init__(self, vectors: np.ndarray, texts, rule):
        from narrative.model.acceptance import accept, requires_gates

        free = replace(rule, thresholds=np.full(len(rule), -np.inf, dtype=np.float32))
        gates = requires_gates(texts, rule.patterns) if rule.has_gates else None
        self.ok, self.typical = accept(vectors, free, gates)
        self.gates = np.ones_like(self.ok) if gates is None else gates

    def thresholds(self, gold, rows) -> np.ndarray:
        return np.array([fit_threshold(self.typical[rows, k], self.ok[rows, k], gold[rows, k])
                         for k in range(gold.shape[1])])

    def predict(self, rows, thresholds) -> np.ndarray:
        return self.ok[rows] & (self.typical[rows] >= thresholds[None, :])

    def held_out(self, gold, fold, folds) -> tuple[np.ndarray, float, list]:
        from sentence_acceptance import micro_f1

        predicted, train_f1, chosen = np.zeros_like(gold), [], []
        for f in range(folds):
            train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
            t = self.thresholds(gold, train)
            chosen.append(t)
            train_f1.append(micro_f1(self.predict(train, t), gold[train]))
            predicted[test] = self.predict(test, t)
        return predicted, float(np.mean(train_f1)), chosen

    def auc(self, gold) -> list[float]:
        """ROC AUC of typicality, gold against not, among the rows each gate passes."""
        out = []
        for k in range(gold.shape[1]):
            rows = self.gates[:, k]
            score, label = self.typical[rows, k], gold[rows, k]
            pos, neg = score[label], score[~label]
            if not len(pos) or not len(neg):
                out.append(float("nan"))
                continue
            out.append(float(((pos[:, None] > neg[None, :]).sum()
                              + 0.5 * (pos[:, None] == neg[None, :]).sum())
                             / (len(pos) * len(neg))))
        return out


def folds_of(articles: np.ndarray, folds: int, seed: int) -> np.ndarray:
    unique = np.unique(articles)
    fold_of = dict(zip(unique, np.random.default_rng(seed).integers(0, folds, len(unique))))
    return np.array([fold_of[a] for a in articles])


def embed_timed(embedder, texts) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    vectors = embedder.encode(texts)
    return vectors, time.perf_counter() - start


def sample_paragraphs(store_path: str, n: int, seed: int) -> list[str]:
    from narrative.store import Store

    with Store(store_path, read_only=True) as store:
        texts = store.paragraphs()["text"].drop_duplicates().tolist()
    pick = np.random.default_rng(seed).choice(len(texts), size=min(n, len(texts)), replace=False)
    return [texts[i] for i in sorted(pick)]


def main(argv=None) -> int:
    from calibrate_acceptance import dev_matrix
    from sentence_acceptance import print_variants, table

    from narrative.codebook import load_codebook
    from narrative.embed import load_embedder
    from narrative.model.acceptance import build_rule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--work", required=True,
                        help="folder for the fine-tuned encoders and their dev vectors")
    parser.add_argument("--codebook", default=None)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--check-seeds", default="1,2,3")
    parser.add_argument("--train-seed", type=int, default=42)
    parser.add_argument("--speed", type=int, default=1000, help="paragraphs to time (0: skip)")
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    codebook = load_codebook(args.codebook)
    names = codebook.names
    ids = list(range(len(names)))
    vectors, texts, gold, articles = dev_matrix(args.store, names)
    frozen = load_embedder(precision="fp32")
    print(f"{len(texts)} dev paragraphs, {gold.sum()} gold labels; "
          f"{sum(len(s.prototypes) for s in codebook.named)} prototypes, "
          f"{sum(len(s.counter_examples) for s in codebook.named)} counter-examples, "
          f"{len(codebook.background)} background sentences")
    again = frozen.encode(texts[:20])
    print(f"frozen encoder re-embeds 20 dev paragraphs at cosine >= "
          f"{float((again * vectors[:20]).sum(1).min()):.5f} to the store's vectors")
    encoded = {"frozen": Encoded(vectors, texts, build_rule(codebook, ids, frozen.encode))}
    costs = {}
    for name in args.configs.split(","):
        config, folder = CONFIGS[name], work / name
        record = work / f"{name}.training.json"
        if not record.is_file():
            fine_tune(codebook, config, folder, args.train_seed)
        trained = json.loads(record.read_text())
        costs[name] = f"{trained['steps']} steps in {trained['seconds']:.0f} s"
        print(f"{name}: {config}, {costs[name]}", flush=True)
        embedder = load_embedder(str(folder), precision="fp32")
        cached = work / f"{name}.dev.npy"  # not in the model folder: it holds safetensors only
        if cached.is_file():
            dev = np.load(cached)
        else:
            dev, seconds = embed_timed(embedder, texts)
            np.save(cached, dev)
            print(f"{name}: {len(texts)} dev paragraphs embedded in {seconds:.0f} s "
                  f"(backend {embedder.backend})", flush=True)
        encoded[name] = Encoded(dev, texts, build_rule(codebook, ids, embedder.encode))
    variants = list(encoded)
    fold = folds_of(articles, args.folds, args.seed)
    results, training, chosen = {}, {}, {}
    for v in variants:
        predicted, training[v], chosen[v] = encoded[v].held_out(gold, fold, args.folds)
        results[v] = table(names, predicted, gold)
    print(f"\nheld out ({args.folds}-fold by article, seed {args.seed}), multi-label acceptance; "
          "P / R / F1 per encoder")
    print_variants(names, variants, results, training)
    print("| training | – | " + " | ".join(costs[v] for v in variants[1:]) + " |")
    tuned = variants[1:]
    if tuned:
        print(f"\npicked on training F1 among the fine-tuned: {max(tuned, key=training.get)}")
    print("\nthresholds per fold:")
    for v in variants:
        print(f"  {v}: " + " | ".join(", ".join(f"{t:.3f}" for t in c) for c in chosen[v]))
    print("\nROC AUC of typicality among the rows each gate passes (gold against not):")
    print("| narrative | " + " | ".join(variants) + " |")
    print("|---|" + "---:|" * len(variants))
    aucs = {v: encoded[v].auc(gold) for v in variants}
    for k, name in enumerate(names):
        print(f"| {name} | " + " | ".join(f"{aucs[v][k]:.3f}" for v in variants) + " |")
    seeds = [int(s) for s in args.check_seeds.split(",") if s]
    if seeds:
        print("\nheld-out micro P / R / F1 on other fold seeds:")
        for seed in seeds:
            fold = folds_of(articles, args.folds, seed)
            cells = []
            for v in variants:
                row = table(names, encoded[v].held_out(gold, fold, args.folds)[0], gold)[-1]
                cells.append(f"{v} {row[1]:.2f} / {row[2]:.2f} / {row[3]:.3f}")
            print(f"  seed {seed}: " + "; ".join(cells))
    if args.speed and tuned:
        sample = sample_paragraphs(args.store, args.speed, args.seed)
        for label, embedder in (("frozen", frozen),
                                (tuned[0], load_embedder(str(work / tuned[0]), precision="fp32"))):
            _, seconds = embed_timed(embedder, sample)
            print(f"embed {len(sample)} store paragraphs, {label}: {seconds:.1f} s "
                  f"({len(sample) / seconds:.0f} paragraphs/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
