"""Set each named narrative's acceptance threshold on the labelled dev set, and say how well
thresholds set that way do on paragraphs they were not set on.

Usage:
    python benchmarks/calibrate_acceptance.py STORE.duckdb [--codebook YAML] [--folds 2]

``STORE`` is a store holding the embeddings of ukraine_media_2022 (e.g. the one
``benchmarks/narrative_devset.py --fit`` builds); nothing is re-embedded but the codebook's own
sentences. For each named narrative the script picks the threshold (0.20-0.80 by 0.005) that
maximises F1 of its acceptance (:func:`narrative.model.acceptance.accept`, the rule of
``NarrativeModel``) on the dev set, with the codebook's other settings as they are. Held-out
scores: the dev articles are split into ``--folds`` folds (seeded); the thresholds are set on all
folds but one and scored on that one, in turn. Prints the thresholds set on the whole set (what
the shipped codebook uses) and the held-out precision and recall per narrative.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

GRID = np.round(np.arange(0.20, 0.8001, 0.005), 3)


def dev_matrix(store_path: str, names: list[str]):
    """Dev rows matched to the store: (vectors, texts, gold (n, K), article ids)."""
    import narrative_devset as nd

    from narrative.store import Store

    labels = nd.read_labels(nd.LABELS)
    texts = nd.read_texts(nd.CORPUS, labels["record_id"])
    with Store(store_path, read_only=True) as store:
        paragraphs = nd.store_paragraphs(store, texts)
        matched = nd.match_paragraphs(labels, paragraphs)
        stored = store.paragraphs()
        model_id = store.one("SELECT min(model_id) FROM embeddings")[0]
        rows = matched.merge(stored[["paragraph_id", "text_hash", "article_id", "text"]],
                             on="paragraph_id", how="inner")
        vectors = store.get_embeddings(rows["text_hash"].tolist(), model_id)
    gold = np.array([[n in g for n in names] for g in rows["gold"]])
    return vectors, rows["text"].tolist(), gold, rows["article_id"].to_numpy()


def best_threshold(typical: np.ndarray, eligible: np.ndarray, gold: np.ndarray) -> float:
    """The grid threshold that maximises F1 of ``eligible & typical >= t`` against ``gold``."""
    best, best_t = -1.0, GRID[0]
    for t in GRID:
        pred = eligible & (typical >= t)
        tp = int((pred & gold).sum())
        f1 = 2 * tp / max(int(pred.sum()) + int(gold.sum()), 1)
        if f1 > best:
            best, best_t = f1, t
    return float(best_t)


def calibrate(rule, vectors, texts, gold, rows) -> np.ndarray:
    """Per narrative threshold, set on ``rows`` of the dev set."""
    from narrative.model.acceptance import accept, requires_gates

    free = replace(rule, thresholds=np.full(len(rule), -1.0, dtype=np.float32))
    gates = requires_gates([texts[i] for i in rows], rule.patterns) if rule.has_gates else None
    eligible, typical = accept(vectors[rows], free, gates)
    return np.array([best_threshold(typical[:, k], eligible[:, k], gold[rows, k])
                     for k in range(len(rule))])


def main(argv=None) -> int:
    from narrative.codebook import load_codebook
    from narrative.embed import load_embedder
    from narrative.model.acceptance import accept, build_rule, requires_gates

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--codebook", default=None)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=27)
    args = parser.parse_args(argv)
    codebook = load_codebook(args.codebook)
    names = codebook.names
    vectors, texts, gold, articles = dev_matrix(args.store, names)
    rule = build_rule(codebook, list(range(len(names))), load_embedder().encode)
    everything = np.arange(len(texts))
    print("thresholds set on the whole dev set:")
    for name, t in zip(names, calibrate(rule, vectors, texts, gold, everything)):
        print(f"  {name}: {t:.3f}")
    unique = np.unique(articles)
    fold_of = dict(zip(unique, np.random.default_rng(args.seed).integers(0, args.folds, len(unique))))
    fold = np.array([fold_of[a] for a in articles])
    predicted = np.zeros_like(gold)
    for f in range(args.folds):
        train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        fitted = replace(rule, thresholds=calibrate(rule, vectors, texts, gold, train).astype(np.float32))
        gates = requires_gates([texts[i] for i in test], rule.patterns) if rule.has_gates else None
        predicted[test] = accept(vectors[test], fitted, gates)[0]
    print(f"\nheld out ({args.folds}-fold by article, seed {args.seed}): multi-label acceptance")
    print("| narrative | precision | recall | F1 | labelled none |\n|---|---:|---:|---:|---:|")
    for name, p, r, f1, none in table(names, predicted, gold):
        print(f"| {name} | {p:.2f} | {r:.2f} | {f1:.2f} | {none:.2f} |")
    return 0


def table(names, predicted, gold) -> list[tuple]:
    """Per narrative, then ``micro``: (name, precision, recall, F1, share of the accepted
    labelled none of the codebook)."""
    tp, fp, fn = (predicted & gold).sum(0), (predicted & ~gold).sum(0), (~predicted & gold).sum(0)
    none = (predicted & ~gold.any(axis=1, keepdims=True)).sum(0)
    lines = []
    for k, name in enumerate([*names, "micro"]):
        if name == "micro":
            t, p_, n_, z = tp.sum(), fp.sum(), fn.sum(), none.sum()
        else:
            t, p_, n_, z = tp[k], fp[k], fn[k], none[k]
        p, r = t / max(t + p_, 1), t / max(t + n_, 1)
        lines.append((name, p, r, 2 * p * r / max(p + r, 1e-9), z / max(t + p_, 1)))
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
