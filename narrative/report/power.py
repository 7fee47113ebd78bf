"""What the data can show: the sentences that keep "no change found" from reading as "no change".

Pure text from the drift tables (``detectable``, ``coverage``); the sections and the findings
both use them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .text import plural

__all__ = ["detectable_sentence", "windows_overlap"]


def windows_overlap(coverage: pd.DataFrame | None) -> bool:
    """Whether every outlet's collection window (``drift.tables["coverage"]``) overlaps every
    other's: the latest start is no later than the earliest end."""
    if coverage is None or coverage.empty:
        return True
    outlets = coverage[coverage["outlet"] != "all"].dropna(subset=["first_date"])
    return len(outlets) < 2 or outlets["first_date"].max() <= outlets["last_date"].min()


def detectable_sentence(detectable: pd.DataFrame | None, period: str, *,
                        pooled: bool = True) -> str | None:
    """How large a move the change detection would see (``drift.tables["detectable"]``), so that
    a change not found is not read as no change; None where no outlet could be judged. The
    figure over all outlets is said only with ``pooled`` (leave it out where the outlets'
    collection windows differ: the pooled mix then moves with the collection)."""
    if detectable is None or "detectable_step" not in detectable:
        return None
    rows = detectable[np.isfinite(pd.to_numeric(detectable["detectable_step"], errors="coerce"))]
    outlets = rows[rows["outlet"] != "all"]
    if outlets.empty:
        return None
    points = sorted({int(round(100 * float(x))) for x in (outlets["detectable_step"].min(),
                                                           outlets["detectable_step"].max())})
    size = "\u2013".join(str(p) for p in points)
    power = float(outlets["power"].iloc[0])
    often = "4 times in 5" if abs(power - 0.8) < 1e-9 else f"{power:.0%} of the time"
    per = float(outlets["articles_per_period"].median())
    together = rows[rows["outlet"] == "all"]
    over_all = (f", over all outlets together from about "
                f"{int(round(100 * float(together['detectable_step'].iloc[0])))}"
                if pooled and len(together) else "")
    return (f"Smaller moves can pass unseen: with a median of {per:.0f} {plural(round(per), 'article')} "
            f"per outlet a {period}, a move of share from one narrative to another within one "
            f"outlet is found {often} only from about {size} percentage points{over_all}; "
            "detectable.csv has each outlet's figure.")
