"""Named narratives against a hand-labelled development set: precision, recall, F1, confusion.

Usage:
    python benchmarks/narrative_devset.py STORE.duckdb [--run ID] [--soft-threshold W]
        [--by-discovered] [--json OUT] [--rows CSV]
    python benchmarks/narrative_devset.py --fit [--work DIR] [--codebook YAML] [...]

The development set (``benchmarks/devset/ukraine_labels.csv``, see its README) holds references
only: a ukraine_media_2022 record id, character offsets into that record's raw ``text`` and the
hash of the paragraph's normalised text, with the codebook narratives a reader found in it. The
script reads the texts from ``../shared`` (it exits 0 with a message when they are absent), checks
every reference, and maps each dev paragraph to a paragraph of the store: by text hash within the
same record, else by the largest overlap of character offsets (the store's cleaning or segmentation
may have moved the boundaries).

With ``STORE`` it scores a run of ``narrative build`` (the latest run unless ``--run``); with
``--fit`` it ingests the corpus into ``--work`` and fits the current code's model first. A dev
paragraph carries a named narrative when that is its hard assignment; with ``--soft-threshold W``
also when its stored soft weight (table ``distributions``) for it is at least W. Gold labels may
hold several narratives. A reference with no store paragraph (``unmatched``, counted in the header
and in its own confusion column) carries nothing: it costs recall rather than leaving the set. Printed as Markdown: per named narrative precision, recall, F1, support,
how many dev paragraphs the run put there and the share of those a reader labelled "none"; the
micro-average; and a confusion table of gold labels against the hard assignment (named
narratives, discovered ones pooled or, with ``--by-discovered``, one column each, ``unassigned``).
``--rows CSV`` writes each dev row's match and assignment (ids and labels only) for a closer look.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEVSET = Path(__file__).resolve().parent / "devset"
LABELS = DEVSET / "ukraine_labels.csv"
CORPUS = REPO.parent / "shared" / "corpora" / "ukraine_media_2022" / "ukraine_media_2022.jsonl"

LABEL_COLUMNS = ["record_id", "start", "end", "text_sha", "labels", "labeller_note"]
LABEL_SEPARATOR = "|"
NONE = "none"  # gold: the paragraph carries no codebook narrative
DISCOVERED = "discovered"  # assigned: any narrative the codebook does not name
UNASSIGNED = "unassigned"  # assigned: topic -1
UNMATCHED = "unmatched"  # no store paragraph found for the reference
MIN_OVERLAP = 0.5  # share of a dev span an offset match must cover
_HEX16 = re.compile(r"[0-9a-f]{16}")


# -- the label file ------------------------------------------------------------------------------
def codebook_names(path: str | Path | None = None) -> list[str]:
    """The narrative names of a codebook (the shipped one by default): the only valid labels."""
    from narrative.codebook import load_codebook

    return load_codebook(path).names


def split_labels(cell: str) -> frozenset[str]:
    """``"A|B"`` -> {"A", "B"}; an empty cell -> the empty set (no codebook narrative)."""
    return frozenset(part.strip() for part in cell.split(LABEL_SEPARATOR) if part.strip())


def read_labels(path: str | Path = LABELS, names: Sequence[str] | None = None) -> pd.DataFrame:
    """The label file, checked: exact columns, integer offsets with ``0 <= start < end``, 16-hex
    text hashes, labels among ``names`` (the shipped codebook's by default), one row per span.

    Adds a ``gold`` column (frozenset of narrative names). Raises
    :class:`narrative.errors.InputError` naming the file and line of the first problem.
    """
    from narrative.errors import InputError

    names = set(names if names is not None else codebook_names())
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    if list(frame.columns) != LABEL_COLUMNS:
        raise InputError(f"{path}: columns must be {','.join(LABEL_COLUMNS)}; got "
                         f"{','.join(frame.columns)}")
    for row, rec in enumerate(frame.itertuples(index=False), start=2):  # line 1 is the header
        where = f"{path}:{row}"
        if not rec.record_id.strip():
            raise InputError(f"{where}: record_id is empty")
        if not (rec.start.isdigit() and rec.end.isdigit()) or int(rec.start) >= int(rec.end):
            raise InputError(f"{where}: start and end must be integers with 0 <= start < end; "
                             f"got {rec.start!r}, {rec.end!r}")
        if not _HEX16.fullmatch(rec.text_sha):
            raise InputError(f"{where}: text_sha must be 16 lower-case hex digits "
                             "(narrative.schema.text_hash of the paragraph)")
        unknown = split_labels(rec.labels) - names
        if unknown:
            raise InputError(f"{where}: unknown narrative {sorted(unknown)[0]!r}; labels must be "
                             f"codebook names joined by {LABEL_SEPARATOR!r}")
    frame["start"] = frame["start"].astype(int)
    frame["end"] = frame["end"].astype(int)
    duplicated = frame.duplicated(["record_id", "start"])
    if duplicated.any():
        row = int(duplicated.to_numpy().nonzero()[0][0]) + 2
        raise InputError(f"{path}:{row}: span {frame.record_id[row - 2]}@{frame.start[row - 2]} "
                         "is labelled twice")
    frame["gold"] = [split_labels(cell) for cell in frame["labels"]]
    return frame


# -- the corpus ----------------------------------------------------------------------------------
def read_texts(path: str | Path, record_ids: Iterable[str]) -> dict[str, str]:
    """The raw ``text`` of the wanted records of a JSONL corpus, by record ``id``."""
    wanted = set(record_ids)
    texts: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("id") in wanted:
                texts[record["id"]] = record["text"]
    return texts


def check_references(labels: pd.DataFrame, texts: dict[str, str]) -> pd.DataFrame:
    """One row per label row that does not resolve: ``record_id, start, problem``."""
    from narrative.schema import text_hash

    problems = []
    for rec in labels.itertuples(index=False):
        text = texts.get(rec.record_id)
        if text is None:
            problem = "record not in the corpus"
        elif rec.end > len(text):
            problem = f"end {rec.end} past the text's {len(text)} characters"
        elif text_hash(text[rec.start:rec.end]) != rec.text_sha:
            problem = "text hash differs: the span no longer holds the labelled paragraph"
        else:
            continue
        problems.append({"record_id": rec.record_id, "start": rec.start, "problem": problem})
    return pd.DataFrame(problems, columns=["record_id", "start", "problem"])


def locate(paragraph: str, raw: str) -> tuple[int, int] | None:
    """Where a (cleaned) store paragraph lies in the raw record text: an exact find, else a
    match that lets every run of whitespace differ; None when cleaning changed more than that."""
    at = raw.find(paragraph)
    if at >= 0:
        return at, at + len(paragraph)
    words = paragraph.split()
    if not words:
        return None
    found = re.search(r"\s+".join(map(re.escape, words)), raw)
    return (found.start(), found.end()) if found else None


# -- the store -----------------------------------------------------------------------------------
def store_paragraphs(store, texts: dict[str, str]) -> pd.DataFrame:
    """The store's paragraphs of the dev records, with their span in the raw record text.

    Columns: paragraph_id, record_id, text_hash, duplicate_of, raw_start, raw_end (-1 when the
    paragraph could not be located in the raw text).
    """
    ids = pd.DataFrame({"source_id": sorted(texts)})
    store.con.register("_dev_records", ids)
    try:
        frame = store.con.execute(
            "SELECT p.paragraph_id, a.source_id AS record_id, p.text, p.text_hash, p.duplicate_of "
            "FROM paragraphs p JOIN articles a USING (article_id) "
            "JOIN _dev_records r ON a.source_id = r.source_id ORDER BY a.source_id, p.position"
        ).df()
    finally:
        store.con.unregister("_dev_records")
    spans = [locate(text, texts[rid]) or (-1, -1)
             for text, rid in zip(frame["text"], frame["record_id"])]
    frame["raw_start"] = [s for s, _ in spans]
    frame["raw_end"] = [e for _, e in spans]
    return frame.drop(columns="text")


def match_paragraphs(labels: pd.DataFrame, paragraphs: pd.DataFrame) -> pd.DataFrame:
    """Each dev row's store paragraph: ``paragraph_id`` and ``match`` (``hash``, ``offsets`` or
    ``unmatched``). A text-hash match within the record wins; otherwise the store paragraph whose
    raw span covers most of the dev span, if it covers at least :data:`MIN_OVERLAP` of it."""
    by_hash = {(r, h): p for p, r, h in
               zip(paragraphs["paragraph_id"], paragraphs["record_id"], paragraphs["text_hash"])}
    by_record = {rid: group for rid, group in paragraphs.groupby("record_id")}
    ids, kinds = [], []
    for rec in labels.itertuples(index=False):
        hit = by_hash.get((rec.record_id, rec.text_sha))
        kind = "hash"
        if hit is None:
            hit, kind = _best_overlap(rec.start, rec.end, by_record.get(rec.record_id)), "offsets"
        ids.append(hit)
        kinds.append(kind if hit is not None else UNMATCHED)
    return labels.assign(paragraph_id=ids, match=kinds)


def _best_overlap(start: int, end: int, group: pd.DataFrame | None) -> str | None:
    if group is None or group.empty:
        return None
    lo = group["raw_start"].clip(lower=start)
    hi = group["raw_end"].clip(upper=end)
    overlap = (hi - lo).clip(lower=0) * (group["raw_start"] >= 0)
    best = int(overlap.to_numpy().argmax())
    if overlap.iloc[best] < MIN_OVERLAP * (end - start):
        return None
    return str(group["paragraph_id"].iloc[best])


def follow_copies(paragraph_ids: pd.Series, paragraphs: pd.DataFrame,
                  assigned: set[str]) -> pd.Series:
    """Replace a paragraph the run did not assign by the paragraph it repeats (``duplicate_of``)."""
    original = {p: d for p, d in zip(paragraphs["paragraph_id"], paragraphs["duplicate_of"])
                if isinstance(d, str)}
    return pd.Series([p if not isinstance(p, str) or p in assigned else original.get(p, p)
                      for p in paragraph_ids], index=paragraph_ids.index, dtype=object)


def run_predictions(store, run_id: str, matched: pd.DataFrame, paragraphs: pd.DataFrame,
                    soft_threshold: float | None = None) -> pd.DataFrame:
    """Each dev row's hard assignment (``assigned``: a codebook name, ``discovered``,
    ``unassigned`` or ``unmatched``; ``assigned_detail`` names the discovered narrative) and the
    named narratives it carries (``predicted``)."""
    narratives = store.narratives(run_id)
    named = {int(i): str(n) for i, n in zip(narratives["narrative_id"], narratives["codebook_name"])
             if isinstance(n, str) and n.strip()}  # blank names may arrive as None or NaN
    assignments = store.assignments(run_id)
    hard = dict(zip(assignments["paragraph_id"], assignments["narrative_id"].astype(int)))
    pid = follow_copies(matched["paragraph_id"], paragraphs, set(hard))
    soft: dict[str, set[str]] = {}
    if soft_threshold is not None:
        dist = store.distributions(run_id)
        dist = dist[(dist["weight"] >= soft_threshold) & dist["narrative_id"].isin(list(named))]
        for p, n in zip(dist["paragraph_id"], dist["narrative_id"]):
            soft.setdefault(p, set()).add(named[int(n)])
    labels = dict(zip(narratives["narrative_id"].astype(int), narratives["label"]))
    assigned, detail, predicted = [], [], []
    for p in pid:
        if not isinstance(p, str) or p not in hard:  # a missing id may arrive as None or NaN
            assigned.append(UNASSIGNED if isinstance(p, str) else UNMATCHED)
            detail.append(assigned[-1])
            predicted.append(frozenset())
            continue
        n = hard[p]
        label = named.get(n, UNASSIGNED if n == -1 else DISCOVERED)
        assigned.append(label)
        detail.append(f"{DISCOVERED}: {labels.get(n, n)}" if label == DISCOVERED else label)
        predicted.append(frozenset(({label} if n in named else set()) | soft.get(p, set())))
    return matched.assign(store_paragraph=pid, assigned=assigned, assigned_detail=detail,
                          predicted=predicted)


# -- scores --------------------------------------------------------------------------------------
def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


def _f1(p: float, r: float) -> float:
    if p != p or r != r:  # NaN: nothing assigned or nothing to find
        return float("nan")
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def score(gold: Sequence[frozenset], predicted: Sequence[frozenset],
          names: Sequence[str]) -> pd.DataFrame:
    """Per named narrative: tp, fp, fn, precision, recall, f1, support (gold count), assigned
    (predicted count) and none_share (of the predicted, the share with no gold narrative at all);
    a last row ``micro`` pools the counts of every named narrative."""
    rows = []
    for name in names:
        tp = sum(name in g and name in p for g, p in zip(gold, predicted))
        fp = sum(name not in g and name in p for g, p in zip(gold, predicted))
        fn = sum(name in g and name not in p for g, p in zip(gold, predicted))
        nones = sum(not g and name in p for g, p in zip(gold, predicted))
        rows.append({"narrative": name, "tp": tp, "fp": fp, "fn": fn, "support": tp + fn,
                     "assigned": tp + fp, "nones": nones})
    frame = pd.DataFrame(rows)
    micro = frame[["tp", "fp", "fn", "support", "assigned", "nones"]].sum()
    frame = pd.concat([frame, pd.DataFrame([{"narrative": "micro", **micro.to_dict()}])],
                      ignore_index=True)
    frame["precision"] = [_ratio(t, a) for t, a in zip(frame["tp"], frame["assigned"])]
    frame["recall"] = [_ratio(t, s) for t, s in zip(frame["tp"], frame["support"])]
    frame["f1"] = [_f1(p, r) for p, r in zip(frame["precision"], frame["recall"])]
    frame["none_share"] = [_ratio(n, a) for n, a in zip(frame["nones"], frame["assigned"])]
    return frame


def confusion(gold: Sequence[frozenset], assigned: Sequence[str],
              names: Sequence[str]) -> pd.DataFrame:
    """Counts of gold label (rows: each named narrative, then ``none``) against the hard
    assignment (columns: each named narrative, then the other values of ``assigned`` by
    frequency (``discovered``, or one column per discovered narrative), ``unassigned``, and
    ``unmatched`` when any). A paragraph with two gold labels counts in both rows."""
    tail = [UNASSIGNED] + ([UNMATCHED] if UNMATCHED in assigned else [])
    others = [v for v in pd.Series(list(assigned)).value_counts().index
              if v not in names and v not in tail]
    columns = [*names, *(others or [DISCOVERED]), *tail]
    table = pd.DataFrame(0, index=[*names, NONE], columns=columns)
    for labels, column in zip(gold, assigned):
        for row in labels or {NONE}:
            table.loc[row, column] += 1
    return table


# -- output --------------------------------------------------------------------------------------
def _cell(value: float) -> str:
    return "–" if value != value else f"{value:.2f}"


def markdown(scores: pd.DataFrame, table: pd.DataFrame, header: str) -> str:
    """The scores and the confusion table as Markdown, after a one-line ``header``."""
    lines = [header, "",
             "| narrative | precision | recall | F1 | support | assigned | labelled none |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in scores.itertuples(index=False):
        name = "**micro (named)**" if row.narrative == "micro" else row.narrative
        lines.append(f"| {name} | {_cell(row.precision)} | {_cell(row.recall)} | {_cell(row.f1)} "
                     f"| {row.support} | {row.assigned} | {_cell(row.none_share)} |")
    lines += ["", "Gold label (rows) against the hard assignment (columns):", "",
              "| gold \\ assigned | " + " | ".join(table.columns) + " |",
              "|---|" + "---:|" * len(table.columns)]
    for gold, counts in table.iterrows():
        lines.append(f"| {gold} | " + " | ".join(str(int(c)) for c in counts) + " |")
    return "\n".join(lines)


def as_json(scores: pd.DataFrame, table: pd.DataFrame, meta: dict) -> dict:
    clean = scores.astype(object).where(scores.notna(), None)
    return {**meta, "scores": clean.to_dict(orient="records"),
            "confusion": {row: {c: int(v) for c, v in counts.items()}
                          for row, counts in table.iterrows()}}


# -- main ----------------------------------------------------------------------------------------
def fit_store(corpus: Path, work: Path, codebook: str | None) -> tuple[Path, str]:
    """Ingest ``corpus`` into ``work/narrative.duckdb`` and fit the current model: (store, run)."""
    from narrative.codebook import load_codebook
    from narrative.pipeline import fit_run, ingest
    from narrative.store import Store

    path = work / "narrative.duckdb"
    with Store(path) as store:
        ingest([corpus], store)
        run_id = fit_run(store, codebook=load_codebook(codebook)).run_id
    return path, run_id


def evaluate(store_path: Path, run_id: str | None, labels: pd.DataFrame, texts: dict[str, str],
             soft_threshold: float | None, *, by_discovered: bool = False,
             ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """Scores, confusion table and per-row predictions of a stored run on the dev set
    (``by_discovered``: one confusion column per discovered narrative instead of one pooled)."""
    from narrative.store import Store, StoreError

    with Store(store_path, read_only=True) as store:
        run_id = run_id or store.latest_run_id()
        if run_id is None:
            raise StoreError(f"{store_path}: no run in the store; run `narrative build` first")
        paragraphs = store_paragraphs(store, texts)
        matched = match_paragraphs(labels, paragraphs)
        rows = run_predictions(store, run_id, matched, paragraphs, soft_threshold)
    names = codebook_names()
    return (score(rows["gold"].tolist(), rows["predicted"].tolist(), names),
            confusion(rows["gold"].tolist(),
                      rows["assigned_detail" if by_discovered else "assigned"].tolist(), names),
            rows, run_id)


def main(argv: Sequence[str] | None = None) -> int:
    from narrative.errors import NarrativeError

    try:
        return _main(argv)
    except NarrativeError as exc:  # a bad label file, a locked or empty store: say so, no traceback
        print(f"narrative_devset: error: {exc}", file=sys.stderr)
        return 1


def _main(argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", nargs="?", help="a store written by `narrative build`")
    parser.add_argument("--run", default=None, help="run id (default: the store's latest run)")
    parser.add_argument("--fit", action="store_true",
                        help="ingest the corpus and fit the current model instead of reading STORE")
    parser.add_argument("--work", default=None,
                        help="folder for --fit's store (default: a new temp dir)")
    parser.add_argument("--codebook", default=None, help="codebook for --fit (default: shipped)")
    parser.add_argument("--corpus", default=str(CORPUS), help="ukraine_media_2022.jsonl")
    parser.add_argument("--labels", default=str(LABELS), help="the label file")
    parser.add_argument("--soft-threshold", type=float, default=None, metavar="W",
                        help="also count a named narrative whose soft weight is >= W")
    parser.add_argument("--by-discovered", action="store_true",
                        help="one confusion column per discovered narrative")
    parser.add_argument("--json", default=None, metavar="OUT", help="also write the scores as JSON")
    parser.add_argument("--rows", default=None, metavar="CSV",
                        help="also write each dev row's match and assignment (ids only)")
    args = parser.parse_args(argv)
    if bool(args.store) == args.fit:
        parser.error("give a STORE or --fit (not both)")
    corpus = Path(args.corpus)
    if not corpus.is_file():
        print(f"{corpus} is not present: the dev set's texts live in ../shared; nothing to score")
        return 0
    labels = read_labels(args.labels)
    texts = read_texts(corpus, labels["record_id"])
    problems = check_references(labels, texts)
    if len(problems):
        print(f"warning: {len(problems)} of {len(labels)} references do not resolve "
              f"(first: {problems.iloc[0].to_dict()}); they match by offsets where they can, "
              "else count as unmatched", file=sys.stderr)
    if args.fit:
        work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="devset-"))
        store_path, run_id = fit_store(corpus, work, args.codebook)
    else:
        store_path, run_id = Path(args.store), args.run
    scores, table, rows, run_id = evaluate(store_path, run_id, labels, texts, args.soft_threshold,
                                           by_discovered=args.by_discovered)
    counts = rows["match"].value_counts().to_dict()
    rule = "hard assignment" + (f" or soft weight >= {args.soft_threshold}"
                                if args.soft_threshold is not None else "")
    header = (f"Dev set: {len(rows)} paragraphs ({counts.get('hash', 0)} matched by text hash, "
              f"{counts.get('offsets', 0)} by offsets, {counts.get(UNMATCHED, 0)} unmatched); "
              f"run {run_id} of {store_path}; a paragraph carries a narrative by its {rule}.")
    print(markdown(scores, table, header))
    if args.json:
        meta = {"store": str(store_path), "run_id": run_id, "n_paragraphs": len(rows),
                "matches": {k: int(v) for k, v in counts.items()},
                "soft_threshold": args.soft_threshold}
        Path(args.json).write_text(json.dumps(as_json(scores, table, meta), indent=2,
                                              ensure_ascii=False), encoding="utf-8")
    if args.rows:
        out = rows[["record_id", "start", "end", "labels", "match", "store_paragraph",
                    "assigned_detail"]].rename(columns={"assigned_detail": "assigned"})
        out.assign(predicted=[LABEL_SEPARATOR.join(sorted(p)) for p in rows["predicted"]]).to_csv(
            args.rows, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
