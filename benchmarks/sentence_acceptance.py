"""Acceptance by sentences against acceptance by paragraphs, held out on the labelled dev set.

Usage:
    python benchmarks/sentence_acceptance.py STORE.duckdb --cache FILE.npz [--codebook YAML]
        [--folds 2] [--seed 27]

A narrative is a claim that often sits in one sentence of a longer paragraph, where the
paragraph's vector dilutes it. Each variant scores a dev paragraph by *units* of its text and
accepts it for a narrative when one of its units passes that narrative's acceptance (typicality
against the threshold, the background and counter-example margin, the competitor margin; the
``requires`` gate reads the whole paragraph, as today):

- ``paragraph``: the paragraph's own vector (today's rule, :mod:`narrative.model.acceptance`);
- ``sentence``: each sentence (:func:`narrative.segment.split_sentences`);
- ``sentence+paragraph``: each sentence and the paragraph (the max of the two scores);
- ``window2``: each window of two adjacent sentences (a one-sentence paragraph is its own);
- ``mean``: the mean of the paragraph's scores and its sentences' best scores (typicality and
  negative similarity alike), one unit per paragraph.

The paragraph vectors come from ``STORE`` (see ``calibrate_acceptance.py``); the sentences and
windows are embedded with the project's encoder and cached in ``--cache`` by text hash. Thresholds
are set per fold on the training articles (F1-optimal, as ``calibrate_acceptance.py``), scored on
the held-out ones; the variant to keep is the one with the best *training* micro F1 (averaged over
the folds), printed with every variant's held-out table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

VARIANTS = ("paragraph", "sentence", "sentence+paragraph", "window2", "mean")


def units_of(text: str, variant: str) -> list[str]:
    """The texts a paragraph is scored by (the paragraph itself is added by the caller)."""
    from narrative.segment import split_sentences

    sentences = [text[s:e] for s, e in split_sentences(text)] or [text]
    if variant == "window2":
        if len(sentences) < 2:
            return sentences
        return [sentences[i] + " " + sentences[i + 1] for i in range(len(sentences) - 1)]
    return sentences


def encode_cached(texts: list[str], cache: Path) -> dict[str, np.ndarray]:
    """Vectors of ``texts`` by text hash, embedding only those ``cache`` lacks."""
    from narrative.schema import text_hash

    known: dict[str, np.ndarray] = {}
    if cache.exists():
        with np.load(cache) as saved:
            known = dict(zip(saved["keys"].tolist(), saved["vectors"]))
    wanted = {text_hash(t): t for t in texts}
    missing = [h for h in wanted if h not in known]
    if missing:
        from narrative.embed import load_embedder

        vectors = load_embedder().encode([wanted[h] for h in missing])
        known.update(zip(missing, np.asarray(vectors, dtype=np.float32)))
        keys = sorted(known)
        np.savez(cache, keys=np.array(keys), vectors=np.stack([known[k] for k in keys]))
    return {h: known[h] for h in wanted}


def scores(vectors: np.ndarray, rule) -> tuple[np.ndarray, np.ndarray]:
    """``(typicality, negative)``, both ``(n, K)``: the terms of acceptance for unit vectors."""
    from narrative.model.acceptance import BACKGROUND, _best_by_owner, typicality
    from narrative.model.neighbours import unit_rows

    unit = unit_rows(np.asarray(vectors, dtype=np.float64))
    typical = typicality(unit, rule)
    k = len(rule)
    sims = unit @ rule.negatives.astype(np.float64).T
    negative = _best_by_owner(sims, rule.negative_owner, k)
    background = rule.negative_owner == BACKGROUND
    if background.any():
        negative = np.maximum(negative, sims[:, background].max(axis=1, keepdims=True))
    return typical, negative


def eligible(typical: np.ndarray, negative: np.ndarray, rule) -> np.ndarray:
    """Acceptance without the threshold: background and competitor margins (as ``accept``)."""
    order = np.sort(typical, axis=1)
    best, second = order[:, -1:], order[:, -2:-1]
    competitor = np.where(typical >= best, second, best)
    return ((typical - negative >= -rule.background_margin)
            & (typical >= competitor - rule.competitor_margin))


class Scored:
    """Per paragraph and narrative: whether some unit is eligible and the best eligible unit's
    typicality; acceptance at threshold t is ``eligible & (typical >= t)``."""

    def __init__(self, variant: str, paragraph_vectors, texts, rule, cache: Path):
        from narrative.schema import text_hash

        self.units = None
        p_typ, p_neg = scores(paragraph_vectors, rule)
        if variant == "paragraph":
            self.eligible, self.typical = eligible(p_typ, p_neg, rule), p_typ
            return
        unit_texts = [units_of(t, "window2" if variant == "window2" else "sentence") for t in texts]
        table = encode_cached([u for us in unit_texts for u in us], cache)
        owner = np.repeat(np.arange(len(texts)), [len(us) for us in unit_texts])
        u_typ, u_neg = scores(np.stack([table[text_hash(u)] for us in unit_texts for u in us]),
                              rule)
        n, k = p_typ.shape
        self.units = np.bincount(owner, minlength=n)
        if variant == "mean":
            s_typ = np.full((n, k), -np.inf)
            s_neg = np.full((n, k), -np.inf)
            np.maximum.at(s_typ, owner, u_typ)
            np.maximum.at(s_neg, owner, u_neg)
            typ, neg = (p_typ + s_typ) / 2, (p_neg + s_neg) / 2
            self.eligible, self.typical = eligible(typ, neg, rule), typ
            return
        ok = eligible(u_typ, u_neg, rule)
        if variant == "sentence+paragraph":
            owner = np.concatenate([owner, np.arange(n)])
            u_typ = np.vstack([u_typ, p_typ])
            ok = np.vstack([ok, eligible(p_typ, p_neg, rule)])
        best = np.full((n, k), -np.inf)
        np.maximum.at(best, owner, np.where(ok, u_typ, -np.inf))
        self.eligible = np.isfinite(best)
        self.typical = best

    def predict(self, rows: np.ndarray, thresholds: np.ndarray, gates) -> np.ndarray:
        pred = self.eligible[rows] & (self.typical[rows] >= thresholds[None, :])
        return pred & gates[rows] if gates is not None else pred


def fit_thresholds(scored: Scored, gold, rows, gates) -> np.ndarray:
    from calibrate_acceptance import best_threshold

    ok = scored.eligible[rows] & (gates[rows] if gates is not None else True)
    return np.array([best_threshold(scored.typical[rows, k], ok[:, k], gold[rows, k])
                     for k in range(gold.shape[1])])


def micro_f1(pred, gold) -> float:
    tp = int((pred & gold).sum())
    return 2 * tp / max(int(pred.sum()) + int(gold.sum()), 1)


def table(names, predicted, gold) -> list[tuple]:
    """:func:`calibrate_acceptance.table` (kept importable from here)."""
    from calibrate_acceptance import table as scored

    return scored(names, predicted, gold)


def print_variants(names, variants, results, training) -> None:
    """The held-out table of several variants side by side (``results[v]``: :func:`table`'s
    rows; ``training[v]``: the training folds' micro F1 that picks a variant)."""
    print("| narrative | " + " | ".join(variants) + " |")
    print("|---|" + "---:|" * len(variants))
    for i, name in enumerate([*names, "micro"]):
        cells = [f"{results[v][i][1]:.2f} / {results[v][i][2]:.2f} / {results[v][i][3]:.2f}"
                 for v in variants]
        print(f"| {'**micro**' if name == 'micro' else name} | " + " | ".join(cells) + " |")
    print("| labelled none (micro) | "
          + " | ".join(f"{results[v][-1][4]:.2f}" for v in variants) + " |")
    print("| micro F1, three decimals | "
          + " | ".join(f"{results[v][-1][3]:.3f}" for v in variants) + " |")
    print("| training micro F1 (mean of folds) | "
          + " | ".join(f"{training[v]:.3f}" for v in variants) + " |")


def main(argv=None) -> int:
    from calibrate_acceptance import dev_matrix

    from narrative.codebook import load_codebook
    from narrative.embed import load_embedder
    from narrative.model.acceptance import build_rule, requires_gates

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--cache", required=True, help="npz file caching sentence vectors")
    parser.add_argument("--codebook", default=None)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args(argv)
    codebook = load_codebook(args.codebook)
    names = codebook.names
    vectors, texts, gold, articles = dev_matrix(args.store, names)
    rule = build_rule(codebook, list(range(len(names))), load_embedder().encode)
    gates = requires_gates(texts, rule.patterns) if rule.has_gates else None
    unique = np.unique(articles)
    fold_of = dict(zip(unique, np.random.default_rng(args.seed).integers(0, args.folds,
                                                                         len(unique))))
    fold = np.array([fold_of[a] for a in articles])
    variants = args.variants.split(",")
    results, training, whole = {}, {}, {}
    for variant in variants:
        scored = Scored(variant, vectors, texts, rule, Path(args.cache))
        predicted = np.zeros_like(gold)
        train_f1 = []
        for f in range(args.folds):
            train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
            t = fit_thresholds(scored, gold, train, gates)
            train_f1.append(micro_f1(scored.predict(train, t, gates), gold[train]))
            predicted[test] = scored.predict(test, t, gates)
        results[variant] = table(names, predicted, gold)
        training[variant] = float(np.mean(train_f1))
        whole[variant] = fit_thresholds(scored, gold, np.arange(len(texts)), gates)
        if scored.units is not None:
            print(f"{variant}: {scored.units.sum()} units for {len(texts)} paragraphs "
                  f"({scored.units.mean():.2f} a paragraph)")
    print(f"\n{len(texts)} dev paragraphs; held out ({args.folds}-fold by article, seed "
          f"{args.seed}), multi-label acceptance; P / R / F1 per variant")
    print_variants(names, variants, results, training)
    print(f"\npicked on training F1: {max(variants, key=training.get)}")
    print("\nthresholds set on the whole dev set:")
    for v in variants:
        print(f"  {v}: " + ", ".join(f"{t:.3f}" for t in whole[v]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
