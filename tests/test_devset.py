"""The labelled development set (benchmarks/devset) and its scoring script.

The label file is checked for its schema (references and labels only, codebook names only, sane
offsets) always, and against the corpus in ../shared when it is present. The scoring is checked on
a small synthetic store whose right answers are worked out by hand.
"""

from __future__ import annotations

import importlib.util
import sys

import pandas as pd
import pytest

from narrative.errors import InputError
from narrative.schema import Article, Paragraph, text_hash
from narrative.store import RunRecord, Store

from .conftest import REPO, shared_path

SCRIPT = REPO / "benchmarks" / "narrative_devset.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("narrative_devset", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


devset = _load_script()
SANCTIONS, GUARANTEES, AXIS = "Sanctions leverage", "Security guarantees", "Russia–China axis"


# -- the shipped label file ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return devset.read_labels(devset.LABELS)


def test_label_file_holds_references_and_labels_only():
    header = devset.LABELS.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == devset.LABEL_COLUMNS
    assert not {"text", "paragraph", "title", "excerpt"} & set(header.split(","))


def test_label_file_uses_codebook_names_and_sane_offsets(labels):
    names = set(devset.codebook_names())
    assert set().union(*labels["gold"]) <= names
    assert (labels["start"] >= 0).all() and (labels["start"] < labels["end"]).all()
    assert not labels.duplicated(["record_id", "start"]).any()


def test_label_file_is_big_enough_and_has_positives_and_negatives(labels):
    assert len(labels) >= 450
    counts = pd.Series([n for gold in labels["gold"] for n in gold]).value_counts()
    for name in (AXIS, GUARANTEES, SANCTIONS):
        assert counts.get(name, 0) >= 40, name
    assert (labels["gold"].map(len) == 0).sum() >= 150  # hard negatives: war news of no narrative


def test_labeller_notes_are_short(labels):
    assert labels["labeller_note"].str.len().max() <= 100


def test_second_pass_covers_a_fifth_of_the_set(labels):
    second = pd.read_csv(devset.DEVSET / "second_pass.csv", dtype=str, keep_default_na=False)
    assert list(second.columns) == ["record_id", "start", "labels"]
    keys = set(zip(labels["record_id"], labels["start"].astype(str)))
    assert set(zip(second["record_id"], second["start"])) <= keys
    assert len(second) >= 0.2 * len(labels)


def test_every_reference_resolves_in_the_corpus(labels):
    corpus = shared_path("ukraine_media_2022", "ukraine_media_2022.jsonl")
    texts = devset.read_texts(corpus, labels["record_id"])
    problems = devset.check_references(labels, texts)
    assert problems.empty, problems.head().to_dict(orient="records")
    assert all(row.end <= len(texts[row.record_id]) for row in labels.itertuples())


# -- validation of a label file ------------------------------------------------------------------
HEADER = ",".join(devset.LABEL_COLUMNS)
GOOD = f"ukm_1,0,10,{'a' * 16},{SANCTIONS}|{GUARANTEES},"


def _write(tmp_path, *lines: str):
    path = tmp_path / "labels.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_labels_splits_multi_label_and_empty(tmp_path):
    frame = devset.read_labels(_write(tmp_path, HEADER, GOOD, f"ukm_2,5,9,{'b' * 16},,"))
    assert frame["gold"].tolist() == [frozenset({SANCTIONS, GUARANTEES}), frozenset()]


@pytest.mark.parametrize("line, message", [
    (f"ukm_1,0,10,{'a' * 16},Sanctions,", "unknown narrative 'Sanctions'"),
    (f"ukm_1,10,10,{'a' * 16},,", "0 <= start < end"),
    (f"ukm_1,-1,10,{'a' * 16},,", "0 <= start < end"),
    ("ukm_1,0,10,ABC,,", "16 lower-case hex"),
    (f",0,10,{'a' * 16},,", "record_id is empty"),
])
def test_read_labels_rejects_bad_rows_naming_the_line(tmp_path, line, message):
    with pytest.raises(InputError, match=rf"labels.csv:3: .*{message}"):
        devset.read_labels(_write(tmp_path, HEADER, GOOD.replace("ukm_1", "ukm_0"), line))


def test_read_labels_rejects_a_text_column(tmp_path):
    with pytest.raises(InputError, match="columns must be"):
        devset.read_labels(_write(tmp_path, HEADER + ",text", GOOD + ",some words"))


def test_read_labels_rejects_a_span_labelled_twice(tmp_path):
    with pytest.raises(InputError, match="labels.csv:3: .*labelled twice"):
        devset.read_labels(_write(tmp_path, HEADER, GOOD, GOOD))


def test_check_references_reports_moved_spans():
    raw = "Alpha beta gamma. Delta epsilon zeta."
    frame = pd.DataFrame({"record_id": ["r", "r", "x"], "start": [0, 0, 0], "end": [17, 17, 5],
                          "text_sha": [text_hash(raw[:17]), text_hash(raw[18:]), "0" * 16]})
    problems = devset.check_references(frame, {"r": raw})
    assert problems["problem"].str.slice(0, 9).tolist() == ["text hash", "record no"]


def test_locate_tolerates_whitespace_the_cleaner_collapsed():
    raw = "Intro.  Two  spaces\there and\nthere. End."
    assert devset.locate("Intro.", raw) == (0, 6)
    start, end = devset.locate("Two spaces here and there.", raw)
    assert raw[start:end] == "Two  spaces\there and\nthere."
    assert devset.locate("not in it", raw) is None


# -- scoring -------------------------------------------------------------------------------------
def test_score_counts_multi_label_gold_and_none_share():
    gold = [frozenset({SANCTIONS}), frozenset({SANCTIONS, GUARANTEES}), frozenset(), frozenset()]
    pred = [frozenset({SANCTIONS}), frozenset({GUARANTEES}), frozenset({SANCTIONS}), frozenset()]
    scores = devset.score(gold, pred, [SANCTIONS, GUARANTEES]).set_index("narrative")
    s, g, micro = scores.loc[SANCTIONS], scores.loc[GUARANTEES], scores.loc["micro"]
    assert (s.tp, s.fp, s.fn, s.support, s.assigned) == (1, 1, 1, 2, 2)
    assert (s.precision, s.recall, s.f1, s.none_share) == (0.5, 0.5, 0.5, 0.5)
    assert (g.precision, g.recall, g.none_share) == (1.0, 1.0, 0.0)
    assert (micro.tp, micro.fp, micro.fn) == (2, 1, 1)
    assert micro.precision == pytest.approx(2 / 3) and micro.recall == pytest.approx(2 / 3)


def test_score_of_a_narrative_never_assigned_is_undefined_not_zero():
    scores = devset.score([frozenset({AXIS})], [frozenset()], [AXIS]).set_index("narrative")
    assert scores.loc[AXIS, "recall"] == 0.0
    assert pd.isna(scores.loc[AXIS, "precision"]) and pd.isna(scores.loc[AXIS, "none_share"])


def test_confusion_counts_a_two_label_paragraph_in_both_rows():
    gold = [frozenset({SANCTIONS, GUARANTEES}), frozenset()]
    table = devset.confusion(gold, [devset.DISCOVERED, devset.UNASSIGNED], [SANCTIONS, GUARANTEES])
    assert table.loc[SANCTIONS, devset.DISCOVERED] == 1
    assert table.loc[GUARANTEES, devset.DISCOVERED] == 1
    assert table.loc[devset.NONE, devset.UNASSIGNED] == 1
    assert int(table.to_numpy().sum()) == 3


# -- a synthetic store, end to end ---------------------------------------------------------------
RAW = ("Brussels tightened the oil  price cap on Moscow again. "
       "Allies promised Kyiv a treaty guarantee and frozen reserves. "
       "Rain fell on the seaside town all week long.")
CLEAN = " ".join(RAW.split())  # what the store's cleaner kept: single spaces


def _synthetic_store(path):
    """Three paragraphs of one record: the first named (sanctions), the second discovered with a
    soft weight on sanctions, the third unassigned; the dev spans are cut from the raw text."""
    article = Article(text=CLEAN, source="synthetic.jsonl:1", outlet="Wire", source_id="rec-1")
    cuts = [0, CLEAN.index("Allies"), CLEAN.index("Rain"), len(CLEAN)]
    paragraphs = [Paragraph(article.article_id, i, a, b, CLEAN[a:b].strip())
                  for i, (a, b) in enumerate(zip(cuts, cuts[1:]))]
    ids = [p.paragraph_id for p in paragraphs]
    with Store(path) as store:
        store.add_articles([article])
        store.add_paragraphs(paragraphs)
        names = devset.codebook_names()
        narratives = pd.DataFrame({
            "narrative_id": [-1, 0, 1], "label": ["unassigned", "sanctions", "weather"],
            "codebook_name": [None, SANCTIONS, None], "top_terms": [[], [], []], "size": [1, 1, 1]})
        assignments = pd.DataFrame({"paragraph_id": ids, "narrative_id": [0, 1, -1],
                                    "probability": [0.9, 0.6, 0.0]})
        distributions = pd.DataFrame({"paragraph_id": [ids[0], ids[1], ids[1]],
                                      "narrative_id": [0, 1, 0], "weight": [1.0, 0.6, 0.4]})
        run = RunRecord("run-1", {}, "x", {}, 0, "fp", {})
        store.save_run(run, narratives, assignments, distributions=distributions)
    assert SANCTIONS in names
    return ids


def _dev_labels(tmp_path):
    """Dev spans on the raw text: the first exactly as stored, the second a sentence shorter than
    the stored paragraph (an offset match), the third exactly as stored."""
    first = (0, RAW.index(" Allies"))
    second = (RAW.index("Allies"), RAW.index(" and frozen"))
    third = (RAW.index("Rain"), len(RAW))
    rows = [(first, SANCTIONS), (second, f"{SANCTIONS}|{GUARANTEES}"), (third, "")]
    lines = [HEADER] + [f"rec-1,{a},{b},{text_hash(RAW[a:b])},{lab}," for (a, b), lab in rows]
    return devset.read_labels(_write(tmp_path, *lines))


def test_evaluate_maps_by_hash_then_offsets_and_scores_hard_assignments(tmp_path):
    ids = _synthetic_store(tmp_path / "s.duckdb")
    labels = _dev_labels(tmp_path)
    scores, table, rows, run_id = devset.evaluate(tmp_path / "s.duckdb", None, labels,
                                                  {"rec-1": RAW}, None)
    assert run_id == "run-1"
    assert rows["match"].tolist() == ["hash", "offsets", "hash"]
    assert rows["store_paragraph"].tolist() == ids
    assert rows["assigned"].tolist() == [SANCTIONS, devset.DISCOVERED, devset.UNASSIGNED]
    s = scores.set_index("narrative").loc[SANCTIONS]
    assert (s.tp, s.fn, s.precision, s.recall) == (1, 1, 1.0, 0.5)
    assert table.loc[GUARANTEES, devset.DISCOVERED] == 1
    assert table.loc[devset.NONE, devset.UNASSIGNED] == 1


def test_evaluate_can_name_each_discovered_narrative(tmp_path):
    _synthetic_store(tmp_path / "s.duckdb")
    _, table, *_ = devset.evaluate(tmp_path / "s.duckdb", None, _dev_labels(tmp_path),
                                   {"rec-1": RAW}, None, by_discovered=True)
    assert table.loc[SANCTIONS, "discovered: weather"] == 1
    assert devset.DISCOVERED not in table.columns


def test_evaluate_counts_soft_weights_over_the_threshold(tmp_path):
    _synthetic_store(tmp_path / "s.duckdb")
    labels = _dev_labels(tmp_path)
    for threshold, recall in ((0.3, 1.0), (0.5, 0.5)):
        scores, *_ = devset.evaluate(tmp_path / "s.duckdb", None, labels, {"rec-1": RAW}, threshold)
        assert scores.set_index("narrative").loc[SANCTIONS, "recall"] == recall


def test_unassigned_copy_takes_its_originals_assignment():
    paragraphs = pd.DataFrame({"paragraph_id": ["copy", "orig", "lone"],
                               "duplicate_of": ["orig", None, None]})
    ids = pd.Series(["copy", "lone", None], dtype=object)
    out = devset.follow_copies(ids, paragraphs, {"orig"})
    assert out.tolist() == ["orig", "lone", None]


def test_main_without_the_corpus_says_so_and_succeeds(tmp_path, capsys):
    assert devset.main(["--fit", "--corpus", str(tmp_path / "absent.jsonl")]) == 0
    assert "is not present" in capsys.readouterr().out
