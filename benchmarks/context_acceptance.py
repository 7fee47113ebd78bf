"""Acceptance with the paragraph's article as context against acceptance by the paragraph alone,
held out on the labelled dev set.

Usage:
    python benchmarks/context_acceptance.py STORE.duckdb [--codebook YAML] [--folds 2]
        [--seed 27] [--check-seeds 1,2,3] [--lambdas 0.1,0.2,0.3,0.4,0.5]

A narrative is carried by an article, not by a paragraph alone: a China paragraph inside an
article whose other paragraphs argue Russia-China alignment is likelier to carry that claim than
one in a trade story. Each variant scores a dev paragraph by its own terms of acceptance
(typicality and negative similarity, :mod:`narrative.model.acceptance`) and those of the *other*
paragraphs of its article in ``STORE`` (all of them, labelled or not; a paragraph with the same
text is not "other"), then applies the rest of the rule (background / counter-example margin,
competitor margin, the ``requires`` gate on the paragraph's own text) as today:

- ``paragraph``: the paragraph alone (today's rule);
- ``mean``: score = (1 - lambda) * own + lambda * the mean of the other paragraphs' scores, for
  the typicality and the negative similarity alike;
- ``max``: likewise with the other paragraphs' largest typicality and largest negative;
- ``centroid``: likewise with the scores of the mean vector of the other paragraphs;
- ``gate``: today's rule, and the article's best other paragraph reaches the threshold too
  (acceptance at t is ``eligible & min(own, best other) >= t``).

An article with no other paragraph leaves the paragraph's own scores. lambda is picked from
:data:`LAMBDAS` with the thresholds, on each fold's training articles (best training micro F1);
thresholds are F1-optimal per narrative as in ``calibrate_acceptance.py``. Nothing is embedded but
the codebook's sentences: every paragraph vector comes from ``STORE``. The variant to keep is the
one with the best *training* micro F1 (mean of the folds); ``--check-seeds`` repeats the held-out
micro scores of every variant on other fold seeds. Also printed: how well the paragraph's own
typicality and its article's rank each narrative's gold paragraphs among its candidates (ROC AUC).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

VARIANTS = ("paragraph", "mean", "max", "centroid", "gate")
LAMBDAS = (0.1, 0.2, 0.3, 0.4, 0.5)


def article_others(store_path: str, articles: np.ndarray, texts: list[str]):
    """The other paragraphs of each dev row's article: ``(owner, vectors)``, one row per other
    paragraph, ``owner`` the dev row it belongs to."""
    from narrative.store import Store

    with Store(store_path, read_only=True) as store:
        stored = store.paragraphs()
        model_id = store.one("SELECT min(model_id) FROM embeddings")[0]
        stored = stored[stored["article_id"].isin(set(articles.tolist()))]
        hashes = stored["text_hash"].drop_duplicates().tolist()
        table = dict(zip(hashes, store.get_embeddings(hashes, model_id)))
    by_article = {a: g for a, g in stored.groupby("article_id")}
    owner, rows = [], []
    for i, (article, text) in enumerate(zip(articles, texts)):
        group = by_article.get(article)
        if group is None:
            continue
        for h, other in zip(group["text_hash"], group["text"]):
            if other != text:
                owner.append(i)
                rows.append(table[h])
    return np.asarray(owner, dtype=int), np.asarray(rows, dtype=np.float32)


class Scores:
    """Per paragraph and narrative: ``eligible`` (margins and gate, no threshold) and ``typical``
    (the score the threshold reads); acceptance at t is ``eligible & (typical >= t)``."""

    def __init__(self, eligible, typical):
        self.eligible, self.typical = eligible, typical

    def predict(self, rows: np.ndarray, thresholds: np.ndarray, gates) -> np.ndarray:
        pred = self.eligible[rows] & (self.typical[rows] >= thresholds[None, :])
        return pred & gates[rows] if gates is not None else pred


class Context:
    """The own and article terms of every dev row, and the scores of each variant from them."""

    def __init__(self, vectors, owner, others, rule):
        from sentence_acceptance import scores

        self.rule = rule
        self.own = scores(vectors, rule)
        n, k = self.own[0].shape
        has = np.bincount(owner, minlength=n) > 0
        self.units = np.bincount(owner, minlength=n)
        o_typ, o_neg = scores(others, rule)
        mean = [np.zeros((n, k)), np.zeros((n, k))]
        np.add.at(mean[0], owner, o_typ)
        np.add.at(mean[1], owner, o_neg)
        count = np.maximum(self.units, 1)[:, None]
        mean = [m / count for m in mean]
        top = [np.full((n, k), -np.inf), np.full((n, k), -np.inf)]
        np.maximum.at(top[0], owner, o_typ)
        np.maximum.at(top[1], owner, o_neg)
        centre = np.zeros((n, others.shape[1]))
        np.add.at(centre, owner, others.astype(np.float64))
        centre[~has] = 1.0  # placeholder, replaced by the own scores below
        c_typ, c_neg = scores(centre, rule)
        self.article = {}
        for name, (typ, neg) in (("mean", mean), ("max", top), ("centroid", (c_typ, c_neg))):
            typ = np.where(has[:, None], typ, self.own[0])
            neg = np.where(has[:, None], neg, self.own[1])
            self.article[name] = (typ, neg)

    def variant(self, name: str, lam: float | None) -> Scores:
        from sentence_acceptance import eligible

        typ, neg = self.own
        if name == "paragraph":
            return Scores(eligible(typ, neg, self.rule), typ)
        if name == "gate":
            return Scores(eligible(typ, neg, self.rule),
                          np.minimum(typ, self.article["max"][0]))
        a_typ, a_neg = self.article[name]
        typ, neg = (1 - lam) * typ + lam * a_typ, (1 - lam) * neg + lam * a_neg
        return Scores(eligible(typ, neg, self.rule), typ)


def lambdas_of(variant: str, lambdas: tuple = LAMBDAS) -> tuple:
    return lambdas if variant in ("mean", "max", "centroid") else (None,)


def held_out(context: Context, variant: str, gold, fold, folds: int, gates,
             lambdas: tuple = LAMBDAS):
    """Held-out predictions, mean training micro F1 and each fold's lambda."""
    from sentence_acceptance import fit_thresholds, micro_f1

    predicted = np.zeros_like(gold)
    train_f1, picked = [], []
    by_lambda = {lam: context.variant(variant, lam) for lam in lambdas_of(variant, lambdas)}
    for f in range(folds):
        train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        best = None
        for lam, scored in by_lambda.items():
            t = fit_thresholds(scored, gold, train, gates)
            f1 = micro_f1(scored.predict(train, t, gates), gold[train])
            if best is None or f1 > best[0]:
                best = (f1, lam, scored, t)
        f1, lam, scored, t = best
        train_f1.append(f1)
        picked.append(lam)
        predicted[test] = scored.predict(test, t, gates)
    return predicted, float(np.mean(train_f1)), picked


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for ``positive`` (ties by order)."""
    rank = np.argsort(np.argsort(score)) + 1
    pos, neg = int(positive.sum()), int((~positive).sum())
    return float((rank[positive].sum() - pos * (pos + 1) / 2) / max(pos * neg, 1))


def ranking(context: Context, names, gold, gates, lam: float = 0.3) -> list[str]:
    """How well each score ranks a narrative's gold paragraphs among its candidates (the
    ``requires`` gate passed, own typicality >= 0.3): ROC AUC of own, article and combined; and
    of the paragraphs at or above the codebook's threshold (gate passed), the share of gold and
    other ones whose article has another paragraph at or above it too."""
    typ = context.own[0]
    head = ("| narrative | candidates (gold) | own | article mean | article max | article "
            f"centroid | (1 - {lam}) own + {lam} mean | article reaches t: gold / other |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for k, name in enumerate(names):
        rows = typ[:, k] >= 0.3
        if gates is not None:
            rows &= gates[:, k]
        y = gold[rows, k]
        scores = [typ, *(context.article[a][0] for a in ("mean", "max", "centroid")),
                  (1 - lam) * typ + lam * context.article["mean"][0]]
        over = typ[:, k] >= context.rule.thresholds[k]
        if gates is not None:
            over &= gates[:, k]
        reach = context.article["max"][0][:, k] >= context.rule.thresholds[k]
        shares = [reach[over & g].mean() if (over & g).any() else float("nan")
                  for g in (gold[:, k], ~gold[:, k])]
        lines.append(f"| {name} | {rows.sum()} ({y.sum()}) | "
                     + " | ".join(f"{auc(s[rows, k], y):.2f}" for s in scores)
                     + f" | {shares[0]:.2f} / {shares[1]:.2f} |")
    return lines


def folds_of(articles: np.ndarray, folds: int, seed: int) -> np.ndarray:
    unique = np.unique(articles)
    fold_of = dict(zip(unique, np.random.default_rng(seed).integers(0, folds, len(unique))))
    return np.array([fold_of[a] for a in articles])


def main(argv=None) -> int:
    from calibrate_acceptance import dev_matrix
    from sentence_acceptance import micro_f1, print_variants, table

    from narrative.codebook import load_codebook
    from narrative.embed import load_embedder
    from narrative.model.acceptance import build_rule, requires_gates

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--codebook", default=None)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--check-seeds", default="1,2,3")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--lambdas", default=",".join(map(str, LAMBDAS)),
                        help="the lambdas to pick from (one: a fixed lambda)")
    args = parser.parse_args(argv)
    lambdas_given = tuple(float(x) for x in args.lambdas.split(","))
    codebook = load_codebook(args.codebook)
    names = codebook.names
    vectors, texts, gold, articles = dev_matrix(args.store, names)
    rule = build_rule(codebook, list(range(len(names))), load_embedder().encode)
    gates = requires_gates(texts, rule.patterns) if rule.has_gates else None
    owner, others = article_others(args.store, articles, texts)
    context = Context(vectors, owner, others, rule)
    print(f"{len(texts)} dev paragraphs in {len(np.unique(articles))} articles; "
          f"{len(others)} other paragraphs of theirs ({np.median(context.units):.0f} a paragraph, "
          f"median; {(context.units == 0).sum()} paragraphs alone in their article)")
    variants = args.variants.split(",")
    fold = folds_of(articles, args.folds, args.seed)
    results, training, lambdas = {}, {}, {}
    for variant in variants:
        predicted, training[variant], lambdas[variant] = held_out(
            context, variant, gold, fold, args.folds, gates, lambdas_given)
        results[variant] = table(names, predicted, gold)
    print(f"\nheld out ({args.folds}-fold by article, seed {args.seed}), multi-label acceptance; "
          "P / R / F1 per variant")
    print_variants(names, variants, results, training)
    print("| lambda per fold | " + " | ".join(
        "-" if lambdas[v][0] is None else ", ".join(f"{x:.1f}" for x in lambdas[v])
        for v in variants) + " |")
    pick = max(variants, key=training.get)
    print(f"\npicked on training F1: {pick}")
    print("\nranking of the gold paragraphs among each narrative's candidates (ROC AUC):")
    print("\n".join(ranking(context, names, gold, gates)))
    seeds = [int(s) for s in args.check_seeds.split(",") if s]
    if seeds:
        print("\nheld-out micro F1 (P / R) on other fold seeds:")
        for seed in seeds:
            fold = folds_of(articles, args.folds, seed)
            cells, best = [], {}
            for variant in variants:
                predicted, best[variant], _ = held_out(context, variant, gold, fold, args.folds,
                                                       gates, lambdas_given)
                tp = int((predicted & gold).sum())
                cells.append(f"{variant} {micro_f1(predicted, gold):.3f} "
                             f"({tp / max(predicted.sum(), 1):.2f} / {tp / gold.sum():.2f})")
            print(f"  seed {seed}: " + "; ".join(cells)
                  + f"; picked on training F1: {max(variants, key=best.get)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
