"""How far do frozen all-MiniLM-L6-v2 vectors go with labels? A supervised linear probe on the dev set.

Usage:
    python benchmarks/probe_acceptance.py STORE.duckdb [--seeds 27,1,2,3]

The codebook's acceptance rule (``narrative.model.acceptance``) uses no dev labels but its
thresholds. This script asks what the same vectors give when the labels themselves train the
decision: per named narrative a logistic regression (class-balanced; C and the probability cut
picked by F1 on the training fold) on

- ``probe``: the paragraph's vector alone;
- ``probe+rule``: the vector, the rule's typicality and its eligibility (gates and margins);

against the shipped rule with thresholds set on the same training fold
(``calibrate_acceptance.py``). Two folds by article per seed; held-out micro P/R/F1 and P/R of the
three narratives the issue sets targets for. Training folds hold about 385 labelled paragraphs:
far more in-domain supervision than a codebook gives, so this is a generous bound for any
decision made on these vectors. ``STORE`` holds the embeddings of ukraine_media_2022 (as for
``calibrate_acceptance.py``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

CUTS = np.arange(0.30, 0.951, 0.05)
TARGETS = ["Russia–China axis", "Security guarantees", "Sanctions leverage"]


def fit_probe(X: np.ndarray, y: np.ndarray):
    """(model, cut) maximising F1 on the training rows themselves (C in a small grid)."""
    from sklearn.linear_model import LogisticRegression

    best = None
    for C in (0.3, 1.0, 3.0, 10.0):
        model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced").fit(X, y)
        score = model.predict_proba(X)[:, 1]
        for cut in CUTS:
            pred = score >= cut
            f1 = 2 * int((pred & y).sum()) / max(int(pred.sum()) + int(y.sum()), 1)
            if best is None or f1 > best[0]:
                best = (f1, model, cut)
    return best[1], best[2]


def summary(pred: np.ndarray, gold: np.ndarray, names: list[str]) -> str:
    tp, fp, fn = (pred & gold).sum(0), (pred & ~gold).sum(0), (~pred & gold).sum(0)
    P, R = tp / np.maximum(tp + fp, 1), tp / np.maximum(tp + fn, 1)
    mp, mr = tp.sum() / max(tp.sum() + fp.sum(), 1), tp.sum() / max(tp.sum() + fn.sum(), 1)
    cells = [f"{mp:.2f} / {mr:.2f} / {2 * mp * mr / max(mp + mr, 1e-9):.3f}"]
    cells += [f"{P[names.index(n)]:.2f} / {R[names.index(n)]:.2f}" for n in TARGETS]
    return " | ".join(cells)


def main(argv=None) -> int:
    from calibrate_acceptance import calibrate, dev_matrix

    from narrative.codebook import load_codebook
    from narrative.embed import load_embedder
    from narrative.model.acceptance import accept, build_rule, requires_gates

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--seeds", default="27,1,2,3")
    args = parser.parse_args(argv)
    codebook = load_codebook(None)
    names = codebook.names
    vectors, texts, gold, articles = dev_matrix(args.store, names)
    vectors = np.asarray(vectors, dtype=np.float32)
    rule = build_rule(codebook, list(range(len(names))), load_embedder().encode)
    gates = requires_gates(texts, rule.patterns) if rule.has_gates else None
    free = replace(rule, thresholds=np.full(len(rule), -1.0, dtype=np.float32))
    eligible, typical = accept(vectors, free, gates)
    features = {"probe": vectors,
                "probe+rule": np.column_stack([vectors, typical, eligible.astype(np.float32)])}
    print(f"{len(texts)} dev paragraphs; held out, 2 folds by article\n")
    print("| fold seed | decision | micro P / R / F1 | " + " | ".join(f"{n} P / R" for n in TARGETS)
          + " |\n|---|---|---|" + "---|" * len(TARGETS))
    unique = np.unique(articles)
    for seed in [int(s) for s in args.seeds.split(",")]:
        fold_of = dict(zip(unique, np.random.default_rng(seed).integers(0, 2, len(unique))))
        fold = np.array([fold_of[a] for a in articles])
        for variant in ("rule", "probe", "probe+rule"):
            pred = np.zeros_like(gold)
            for f in range(2):
                train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
                if variant == "rule":
                    fitted = replace(rule, thresholds=calibrate(rule, vectors, texts, gold, train)
                                     .astype(np.float32))
                    pred[test] = accept(vectors[test], fitted,
                                        gates[test] if gates is not None else None)[0]
                    continue
                X = features[variant]
                for k in range(len(names)):
                    model, cut = fit_probe(X[train], gold[train, k])
                    pred[test, k] = model.predict_proba(X[test])[:, 1] >= cut
            print(f"| {seed} | {variant} | {summary(pred, gold, names)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
