"""How far each outlet's mix of narratives moved: Jensen–Shannon divergence of each period's mix
from the previous usable period and from the outlet's baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["divergence", "js_divergence"]


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon divergence in bits (0 = same mix, 1 = no narrative in common).

    Both vectors are scaled to sum to one first; 0·log 0 counts as 0.
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return max(0.0, (kl(p) + kl(q)) / 2)


def _usable(shares: pd.DataFrame) -> pd.DataFrame:
    if "insufficient" in shares:
        return shares[~shares["insufficient"].astype(bool)]
    return shares


def divergence(shares: pd.DataFrame, *, baseline_periods: int = 4) -> pd.DataFrame:
    """JS divergence of each (outlet, period) mix from the previous usable period and from a baseline.

    The baseline is the mean mix over the outlet's first ``baseline_periods`` usable periods
    (partial periods skipped when enough others exist). Columns: period, outlet, js_previous,
    js_baseline, previous_period, baseline_last, n_articles, partial.
    """
    cols = ["period", "outlet", "js_previous", "js_baseline", "previous_period", "baseline_last",
            "n_articles", "partial"]
    usable = _usable(shares)
    rows = []
    for outlet, frame in usable.groupby("outlet", sort=True):
        wide = frame.pivot_table(index="period", columns="narrative", values="share", fill_value=0.0)
        wide = wide.sort_index()
        info = frame.drop_duplicates("period").set_index("period").reindex(wide.index)
        partial = info["partial"].astype(bool) if "partial" in info else pd.Series(False, wide.index)
        full = wide.index[~partial.to_numpy()]
        base_idx = (full if len(full) >= baseline_periods else wide.index)[:baseline_periods]
        baseline = wide.loc[base_idx].mean(axis=0).to_numpy()
        values = wide.to_numpy()
        for i, per in enumerate(wide.index):
            rows.append(
                {
                    "period": per,
                    "outlet": outlet,
                    "js_previous": js_divergence(values[i], values[i - 1]) if i else np.nan,
                    "js_baseline": js_divergence(values[i], baseline),
                    "previous_period": wide.index[i - 1] if i else None,
                    "baseline_last": base_idx[-1] if len(base_idx) else None,
                    "n_articles": int(info["n_articles"].iloc[i]),
                    "partial": bool(partial.iloc[i]),
                }
            )
    return pd.DataFrame(rows, columns=cols)
