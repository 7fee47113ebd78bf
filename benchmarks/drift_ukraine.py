"""Drift on a built store: RT against the Western outlets over their overlapping window.

Usage: python benchmarks/drift_ukraine.py STORE.duckdb [--run ID] [--period week] [--outlet RT]

Opens the store read-only (retrying while another process holds it), computes every drift table
with :func:`narrative.drift.drift_tables` (embeddings and texts from the store, for framing), and
prints, briefly: the collection windows, the named narratives' shares with 95% intervals for the
outlet and for all other outlets pooled over the periods both have articles, the change points
found, and the framing drift of the outlet's named narratives.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def open_store(path: str, tries: int = 30):
    from narrative.store import Store, StoreLockedError

    for attempt in range(tries):
        try:
            return Store(path, read_only=True)
        except StoreLockedError:
            if attempt == tries - 1:
                raise
            time.sleep(10)


def load(path: str, run_id: str | None, period: str):
    from narrative.config import DEFAULT_EMBEDDING_MODEL
    from narrative.drift import labelled_paragraphs
    from narrative.drift import _narrative_order
    from narrative.saved_runs import narrative_table

    with open_store(path) as store:
        run_id = run_id or store.latest_run_id()
        narratives = narrative_table(store, run_id)
        paragraphs = store.paragraphs()
        labelled = labelled_paragraphs(
            store.articles(), paragraphs, store.assignments(run_id), narratives, period=period
        )
        distinct = paragraphs.drop_duplicates("text_hash")
        vectors = store.get_embeddings(distinct["text_hash"].tolist(), DEFAULT_EMBEDDING_MODEL)
    embeddings = dict(zip(distinct["text_hash"], vectors))
    texts = dict(zip(distinct["text_hash"], distinct["text"]))
    kinds = dict(zip(narratives["label"], narratives["kind"]))
    return labelled, _narrative_order(narratives), kinds, embeddings, texts


def pct(x: float) -> str:
    return "  n/a" if not np.isfinite(x) else f"{100 * x:5.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--run", default=None)
    parser.add_argument("--period", default="week", choices=["day", "week", "month"])
    parser.add_argument("--outlet", default="RT")
    parser.add_argument("--bootstrap", type=int, default=200)
    args = parser.parse_args()

    from narrative.drift import drift_tables
    from narrative.drift.compare import compare_groups, overlap_periods
    from narrative.drift.shares import article_matrix, bootstrap_shares

    t0 = time.perf_counter()
    labelled, order, kinds, embeddings, texts = load(args.store, args.run, args.period)
    t1 = time.perf_counter()
    tables = drift_tables(
        labelled, narratives=order, period=args.period, n_bootstrap=args.bootstrap,
        min_articles=3, seed=42, embeddings=embeddings, texts=texts, kinds=kinds,
    )
    t2 = time.perf_counter()
    named = [n for n in order if kinds.get(n) == "named"]
    focus = args.outlet
    print(f"loaded {labelled['article_id'].nunique()} articles, {len(labelled)} paragraphs "
          f"in {t1 - t0:.1f}s; drift tables in {t2 - t1:.1f}s")

    cov = tables["coverage"]
    print("\ncollection windows (dated articles):")
    for r in cov.itertuples():
        print(f"  {r.outlet:42s} {r.first_date} .. {r.last_date}  {r.n_dated:5d} articles")
    print("  " + cov.attrs["note"])

    # RT against the rest, over the periods both have articles
    kept = labelled
    meta, matrix = article_matrix(kept, order)
    others = sorted(set(meta["outlet"]) - {focus})
    periods = overlap_periods(meta, [focus], others)
    in_window = meta["period"].isin(periods).to_numpy()
    rng = np.random.default_rng(42)
    groups = {}
    for name, members in ((focus, [focus]), ("Western", others)):
        rows = matrix[in_window & meta["outlet"].isin(members).to_numpy()]
        groups[name] = (len(rows), bootstrap_shares(rows, n_bootstrap=args.bootstrap, rng=rng))
    diff = compare_groups(kept, [focus], others, narratives=order, n_bootstrap=args.bootstrap,
                          seed=42, meta_matrix=(meta, matrix)).set_index("narrative")
    n_f, n_w = groups[focus][0], groups["Western"][0]
    print(f"\n{focus} vs Western outlets over {len(periods)} common {args.period}s "
          f"({periods[0]} .. {periods[-1]}; {n_f} vs {n_w} articles), paragraph shares in %:")
    print(f"  {'narrative':30s} {focus:>19s} {'Western':>19s} {'difference':>22s}")
    for n in named + ["unassigned"]:
        j = order.index(n)
        cells = []
        for g in (focus, "Western"):
            s, lo, hi = groups[g][1]
            cells.append(f"{pct(s[j])} [{pct(lo[j])},{pct(hi[j])}]")
        d = diff.loc[n]
        cells.append(f"{pct(d.difference)} [{pct(d.ci_low)},{pct(d.ci_high)}]")
        print(f"  {n[:30]:30s} " + " ".join(f"{c:>19s}" for c in cells))

    cps = tables["changepoints"]
    print(f"\nchange points: {len(cps)} over {cps.attrs.get('n_series')} series "
          f"(BH p cutoff {cps.attrs.get('p_cutoff', 0):.4f}); for {focus} and all outlets:")
    shown = cps[cps["outlet"].isin([focus, "all"])].sort_values(
        ["outlet", "magnitude"], key=lambda c: c.ne(focus) if c.name == "outlet" else -c.abs()
    )
    for r in shown.head(14).itertuples():
        print(f"  {r.outlet:4s} {r.narrative[:34]:34s} {r.period} {r.direction:4s} "
              f"{pct(r.before)} -> {pct(r.after)}  z={r.z:.1f}")
    print(f"  ({len(shown)} in all; on named narratives: "
          f"{int(shown['narrative'].isin(named).sum())})")

    em = tables["emerging"]
    sub = em[em["outlet"] == focus]
    print(f"\nemerging/fading/new at {focus}: " + "; ".join(
        f"{r.status} {r.narrative[:30]} from {r.period} ({pct(r.baseline_share).strip()}% -> "
        f"{pct(r.share).strip()}%)" for r in sub.head(8).itertuples()) if len(sub) else "none")

    fr = tables["framing"]
    print(f"\nframing drift at {focus} (named narratives; shift = cosine distance of the "
          f"{args.period}'s centroid from the narrative's, minus the shift of a random sample "
          "of the same size):")
    for n in named:
        cells = fr[(fr["narrative"] == n) & (fr["outlet"] == focus) & ~fr["insufficient"]]
        if cells.empty:
            continue
        top = cells.sort_values("shift_excess", ascending=False).iloc[0]
        print(f"  {n[:30]:30s} {len(cells):2d} {args.period}s, median excess "
              f"{cells['shift_excess'].median():+.3f}; largest {top.shift_excess:+.3f} in "
              f"{top.period} (n={top.n_paragraphs}): {top.new_terms or top.top_terms}")
    ll = tables["lead_lag"]
    print(f"\nlead-lag pairs supported by the data: {len(ll)}")
    for r in ll.head(5).itertuples():
        print(f"  {r.narrative[:30]}: {r.leader} leads {r.follower} by {r.lag_periods} "
              f"(r={r.correlation:.2f}, n={r.n_periods})")


if __name__ == "__main__":
    main()
