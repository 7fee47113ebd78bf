"""Calibration of change points and lead-lag on generated corpora: false alarms and hits.

Usage: python benchmarks/drift_detection.py [--quick] [--flat N] [--seeds N] [--full SEED ...] [--work DIR]

Labels (the default, seconds a corpus): the generator's planted narrative of every paragraph is
its assignment (``DemoCorpus.labelled``), so only the drift measures are scored, on
- flat corpora (nothing planted), 20 seeds (``--flat``) at 3 and at 12 articles per outlet and
  week: corpora with any change point (the false discovery rate under the global null), and all
  change points;
- the default design (``narrative demo``: 3 articles per outlet and week) and the same design at
  6 and 12, 10 seeds (``--seeds``): planted steps found within a week in the right direction (recall), false alarms (on
  series where nothing was planted), and how clearly each step shows in its own articles (the
  z a detector that knew the date would test; ``sample.scoring.step_visibility``);
- hard corpora (``hard_scenario``: a step on any weekday, a five-week trend, a one-week pulse,
  a lead of 2-5 days between two outlets, a thin outlet): hits per kind, pulses reported as
  sustained changes, false alarms, and the lead (right sign, within two days, significant);
- four weeks with a planted lead of 3 or 6 days (five articles a day for the two outlets).
--full SEED ... also runs ``python -m narrative demo --seed SEED`` (real embeddings and a
BERTopic fit, about a minute each) into --work and scores its change points the same way.
Prints markdown tables (see benchmarks/RESULTS-drift.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from narrative.sample.design import PlantedEvent, Scenario, flat_scenario, hard_scenario
from narrative.sample.scoring import false_alarms, lead_recovery, match_changes, step_visibility
from narrative.drift import select_copies
from narrative.drift.change import detect_changes
from narrative.drift.diffusion import lead_lag, uptake
from narrative.sample import PLANTED_LABELS, generate_demo_corpus

NL, CR = "Northern Ledger", "Continental Review"
TALKS = "Peace talks and summits"


def run(corpus, seed: int, *, leads: bool = False):
    """Change points (and, with ``leads``, the lead-lag table) on the corpus's planted labels."""
    labelled = corpus.labelled()
    kept = select_copies(labelled, "per_outlet")
    changes = detect_changes(kept, narratives=list(PLANTED_LABELS), seed=seed).changes
    pairs = None
    if leads:
        found = uptake(kept, narratives=list(PLANTED_LABELS), seed=seed)
        pairs = lead_lag(kept, copies_from=labelled, found=found)
    return kept, changes, pairs


def markdown(frame: pd.DataFrame) -> str:
    """A pipe table (floats to two decimals)."""
    def cell(v) -> str:
        return f"{v:.2f}" if isinstance(v, (float, np.floating)) else str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def table(rows: list[dict], title: str) -> None:
    print(f"\n### {title}\n")
    print(markdown(pd.DataFrame(rows)))


def flat_corpora(seeds: range) -> None:
    rows = []
    for per_week in (3, 12):
        alarms, tests = [], []
        for seed in seeds:
            corpus = generate_demo_corpus(1000 + seed, articles_per_outlet_week=per_week,
                                          scenario=flat_scenario())
            changes = run(corpus, seed)[1]
            alarms.append(len(changes))
            tests.append(changes.attrs.get("n_tests", changes.attrs.get("n_series")))
        alarms = np.array(alarms)
        rows.append({"articles/outlet/week": per_week, "corpora": len(seeds),
                     "corpora with an alarm": int((alarms > 0).sum()),
                     "rate": (alarms > 0).mean(), "alarms": int(alarms.sum()),
                     "tests/corpus": float(np.mean(tests))})
    table(rows, "Flat corpora (nothing planted): false alarms at FDR 0.05")


def default_design(seeds: range, densities: tuple[int, ...]) -> None:
    rows, visible = [], []
    for per_week in densities:
        for seed in seeds:
            corpus = generate_demo_corpus(seed, articles_per_outlet_week=per_week)
            kept, changes, _ = run(corpus, seed)
            steps = corpus.events[corpus.events["outlet"] != "all"]
            hits = match_changes(changes, steps)
            seen = step_visibility(kept, steps)
            corpus_wide = match_changes(changes, corpus.events[(corpus.events["outlet"] == "all")
                                                               & (corpus.events["magnitude"].abs() >= 0.05)])
            rows.append({"articles/outlet/week": per_week, "seed": seed,
                         "steps found": f"{int(hits['found'].sum())}/{len(hits)}",
                         "recall": hits["found"].mean(),
                         "as step": (hits.loc[hits["found"], "found_kind"] == "step").mean()
                         if hits["found"].any() else np.nan,
                         "corpus-wide found": f"{int(corpus_wide['found'].sum())}/{len(corpus_wide)}",
                         "false alarms": len(false_alarms(changes, corpus.events)),
                         "steps with visible z>=3": int((seen["z"].abs() >= 3).sum()),
                         "visible z>=1.96 (ceiling)": (seen["z"] * np.sign(seen["magnitude"]) >= 1.96).mean(),
                         "median visible |z|": float(seen["z"].abs().median())})
            visible.append(hits.assign(z=seen["z"].to_numpy(), per_week=per_week))
    table(rows, "Default design: planted steps (8 per corpus) found within a week, right direction")
    summary_of_seeds(pd.DataFrame(rows))
    both = pd.concat(visible)
    both["visible |z|"] = pd.cut(both["z"].abs(), [0, 2, 3, 4, 5, 99], right=False)
    summary = both.groupby(["per_week", "visible |z|"], observed=True)["found"].agg(["size", "mean"])
    print("\nRecall by how clearly the step shows in its own articles (z at the planted week):\n")
    print(markdown(summary.rename(columns={"size": "steps", "mean": "recall"}).reset_index()))


def detectable_calibration(seeds: range, densities: tuple[int, ...]) -> None:
    """Whether "a move is found 4 times in 5 from the detectable step on" holds: each planted
    move of the default design (0.16 from one narrative to another in one outlet) against its
    outlet's detectable step (``narrative.drift.power``, computed on the same articles), and
    how often such moves were found (either of the move's two series, within a week)."""
    from narrative.drift.power import detectable_steps

    rows = []
    for per_week in densities:
        for seed in seeds:
            corpus = generate_demo_corpus(seed, articles_per_outlet_week=per_week)
            kept, changes, _ = run(corpus, seed)
            detectable = detectable_steps(kept, alpha=0.05, n_tests=changes.attrs["n_tests"],
                                          narratives=list(PLANTED_LABELS), seed=seed)
            step = dict(zip(detectable["outlet"], detectable["detectable_step"]))
            steps = corpus.events[corpus.events["outlet"] != "all"].reset_index(drop=True)
            hits = match_changes(changes, steps).assign(event=steps["event"].to_numpy())
            for (outlet, _), move in hits.groupby(["outlet", "event"]):
                rows.append({"per_week": per_week, "ratio": 0.16 / step[outlet],
                             "found": bool(move["found"].any())})
    frame = pd.DataFrame(rows)
    frame["planted / detectable"] = pd.cut(frame["ratio"], [0, 0.7, 0.85, 1.0, 1.15, 1.3, 99],
                                           right=False)
    summary = frame.groupby("planted / detectable", observed=True)["found"].agg(["size", "mean"])
    print(f"\nPlanted moves of 0.16 against the outlet's detectable step (densities {densities}, "
          f"seeds {seeds.start}-{seeds.stop - 1}):\n")
    print(markdown(summary.rename(columns={"size": "moves", "mean": "found"}).reset_index()))
    by_density = frame.groupby("per_week").agg(moves=("found", "size"), found=("found", "mean"),
                                               median_ratio=("ratio", "median"))
    print("\n" + markdown(by_density.reset_index()))


def summary_of_seeds(rows: pd.DataFrame) -> None:
    """Per density: recall over all seeds and over seeds 0-3 (the issue's target: the default demo
    and three other seeds), false alarms per corpus, and the visible-z ceiling."""
    def count(column: pd.Series) -> tuple[int, int]:
        parts = column.str.split("/", expand=True).astype(int)
        return int(parts[0].sum()), int(parts[1].sum())

    out = []
    for per_week, part in rows.groupby("articles/outlet/week"):
        found, total = count(part["steps found"])
        first, first_total = count(part[part["seed"] < 4]["steps found"])
        wide, wide_total = count(part["corpus-wide found"])
        out.append({"articles/outlet/week": per_week, "corpora": len(part),
                    "recall": f"{found}/{total} = {found / total:.2f}",
                    "recall, seeds 0-3": f"{first}/{first_total} = {first / first_total:.2f}",
                    "corpus-wide": f"{wide}/{wide_total}",
                    "false alarms per corpus": part["false alarms"].mean(),
                    "most in one corpus": int(part["false alarms"].max()),
                    "corpora with > 1": f"{int((part['false alarms'] > 1).sum())}/{len(part)}",
                    "ceiling (visible z >= 1.96)": part["visible z>=1.96 (ceiling)"].mean()})
    table(out, "Default design, summary")


def hard_corpora(seeds: range) -> None:
    rows, leads = [], []
    for seed in seeds:
        corpus = generate_demo_corpus(seed, scenario=hard_scenario(seed))
        _, changes, pairs = run(corpus, seed, leads=True)
        moves = corpus.events[corpus.events["outlet"] != "all"]
        big = moves[moves["magnitude"].abs() >= 0.1]
        hits = match_changes(changes, big)
        pulses = moves[moves["kind"] == "pulse"]
        at_pulse = changes.merge(pulses[["narrative", "outlet"]].drop_duplicates(), on=["narrative", "outlet"])
        thin = [o for o, (_, high) in corpus.scenario.per_week.items() if high <= 2]
        alarms = false_alarms(changes, corpus.events)
        row = {"seed": seed}
        for kind in ("step", "trend"):
            part = hits[hits["kind"] == kind]
            row[f"{kind}s found"] = f"{int(part['found'].sum())}/{len(part)}"
            if kind == "trend":
                row["trend as trend"] = f"{int((part['found_kind'] == 'trend').sum())}/{len(part)}"
        row["pulse read as step/trend"] = int(at_pulse["kind"].isin(["step", "trend"]).sum())
        row["false alarms"] = len(alarms)
        row["in thin outlet"] = int(alarms["outlet"].isin(thin).sum())
        rows.append(row)
        leads.append(lead_recovery(pairs, corpus.events).assign(seed=seed))
    table(rows, "Hard corpora: moves of 0.1 or more found (a step: within a week; a trend: overlapping it)")
    lead_table(pd.concat(leads), "Hard corpora: planted lead (10 articles a week at both outlets), 14 weeks")


def lead_table(recovered: pd.DataFrame, title: str) -> None:
    recovered = recovered.assign(found_lag=recovered["found_lag"].map(lambda x: "-" if np.isnan(x) else f"{x:.0f}"))
    table(recovered[["seed", "leader", "follower", "lead_days", "found_lag", "right_sign", "within",
                     "significant"]].to_dict("records"), title)
    print(f"\nright sign {recovered['right_sign'].mean():.2f}, within 2 days {recovered['within'].mean():.2f}, "
          f"significant {recovered['significant'].mean():.2f} (of {len(recovered)})")


def month_of_leads(seeds: range) -> None:
    rows = []
    for lag in (3, 6):
        for seed in seeds:
            scenario = Scenario("lead", events=(
                PlantedEvent("lead", "step", NL, TALKS, "Sanctions leverage", 10, 0.18),
                PlantedEvent("lead", "step", NL, TALKS, "Security guarantees", 10, 0.10),
                PlantedEvent("lead", "step", CR, TALKS, "Sanctions leverage", 10 + lag, 0.16),
                PlantedEvent("lead", "step", CR, TALKS, "European unity and division", 10 + lag, 0.12),
            ), per_week={NL: (25, 25), CR: (25, 25)})
            corpus = generate_demo_corpus(seed, n_weeks=4, scenario=scenario)
            rows.append(lead_recovery(run(corpus, seed, leads=True)[2], corpus.events).assign(seed=seed))
    lead_table(pd.concat(rows), "Four weeks, lead of 3 or 6 days (25 articles a week at both outlets)")


def full_demo(seeds: list[int], work: Path) -> None:
    from narrative.config import Settings
    from narrative.pipeline import compute_drift
    from narrative.store import Store

    rows = []
    for seed in seeds:
        out = work / f"demo-{seed}"
        start = time.perf_counter()
        if not (out / "narrative.duckdb").exists():
            subprocess.run([sys.executable, "-m", "narrative", "demo", "--out", str(out), "--seed", str(seed),
                            "--quiet"], check=True, env={**os.environ})
        corpus = generate_demo_corpus(seed)
        with Store(out / "narrative.duckdb", read_only=True) as store:
            drift = compute_drift(store, store.latest_run_id(), settings=Settings(seed=seed))
        changes = drift.changepoints
        steps = corpus.events[corpus.events["outlet"] != "all"]
        hits = match_changes(changes, steps)
        alarms = false_alarms(changes, corpus.events)
        rows.append({"seed": seed, "steps found": f"{int(hits['found'].sum())}/{len(hits)}",
                     "recall": hits["found"].mean(), "false alarms": len(alarms),
                     "change points": len(changes), "emerging rows": len(drift.tables["emerging"]),
                     "diffusion rows": len(drift.tables["diffusion"]),
                     "minutes": (time.perf_counter() - start) / 60})
        print(f"seed {seed}: found {changes[['narrative', 'outlet', 'period', 'direction', 'kind']].values.tolist()}",
              file=sys.stderr)
    table(rows, "Full `narrative demo` runs (embeddings + BERTopic; default design, 3 articles/outlet/week)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer seeds (a smoke run)")
    parser.add_argument("--flat", type=int, default=20, metavar="N", help="flat corpora per density")
    parser.add_argument("--seeds", type=int, default=10, metavar="N",
                        help="corpora per density of the default design")
    parser.add_argument("--full", type=int, nargs="*", default=[], metavar="SEED",
                        help="also score `narrative demo` runs with these seeds")
    parser.add_argument("--work", type=Path, default=Path("out/drift_detection"))
    parser.add_argument("--detectable", action="store_true",
                        help="only the calibration of the detectable step (densities 2, 3, 4, 6)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.detectable:
        detectable_calibration(range(4 if args.quick else args.seeds), (2, 3, 4, 6))
        print(f"\n({time.perf_counter() - start:.0f} s)")
        return 0
    n = 3 if args.quick else 20
    flat_corpora(range(3 if args.quick else args.flat))
    default_design(range(4 if args.quick else args.seeds), (3, 6, 12))
    hard_corpora(range(n))
    month_of_leads(range(2 if args.quick else 5))
    if args.full:
        full_demo(args.full, args.work)
    print(f"\n({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
