"""Topic quality: NPMI (c_npmi), diversity, ARI/NMI, the JSONL corpus reader, the JSON output."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from narrative.errors import CorpusError
from narrative.evaluate import (
    evaluate_topics,
    npmi_coherence,
    npmi_per_topic,
    tokenize_for_npmi,
    topic_diversity,
)
from narrative.labelled import read_jsonl_corpus, write_json

EPS = 1e-12


def npmi_by_hand(n_windows: int, n_a: int, n_b: int, n_ab: int) -> float:
    """c_npmi of one word pair from window counts, as gensim defines it (epsilon 1e-12)."""
    p_a, p_b, p_ab = n_a / n_windows, n_b / n_windows, n_ab / n_windows
    return math.log((p_ab + EPS) / (p_a * p_b)) / -math.log(p_ab + EPS)


#: Four one-window documents: "prime minister" in 1-2, cabinet in 2-3, minister in 1, 2 and 4.
MINISTER_DOCS = [
    "the prime minister spoke", "prime minister and cabinet", "the cabinet met", "minister of sport"
]


# -- NPMI --------------------------------------------------------------------------------------
def test_tokenizer_keeps_stop_words_and_lowercases():
    assert tokenize_for_npmi(["The cat and THE hat, a 2nd time."]) == [
        ["the", "cat", "and", "the", "hat", "2nd", "time"]
    ]


def test_cooccurring_words_score_higher_than_words_that_never_meet():
    docs = tokenize_for_npmi(["apple banana", "apple banana", "cherry date", "cherry date"])
    together, apart = npmi_per_topic([["apple", "banana"], ["apple", "cherry"]], docs)
    # Short documents are one window each: 4 windows; apple and banana always together.
    assert together == pytest.approx(npmi_by_hand(4, 2, 2, 2), abs=1e-9)
    assert together == pytest.approx(1.0, abs=1e-9)
    assert apart == pytest.approx(npmi_by_hand(4, 2, 2, 0), abs=1e-9)
    assert apart < -0.9
    assert npmi_coherence([["apple", "banana"], ["apple", "cherry"]], docs) == pytest.approx(
        (together + apart) / 2
    )


def test_npmi_of_a_three_word_topic_is_the_mean_over_its_pairs():
    docs = tokenize_for_npmi(["aa bb", "aa bb cc", "cc dd", "aa dd", "bb cc dd"])
    # windows = 5 documents; counts: aa 3, bb 3, cc 3; aa&bb 2, aa&cc 1, bb&cc 2
    pairs = [npmi_by_hand(5, 3, 3, 2), npmi_by_hand(5, 3, 3, 1), npmi_by_hand(5, 3, 3, 2)]
    expected = np.mean(pairs)
    assert npmi_coherence([["aa", "bb", "cc"]], docs) == pytest.approx(expected, abs=1e-9)


def test_sliding_window_of_ten_tokens_separates_distant_words():
    docs = [["aa"] + ["zz"] * 9 + ["bb"], ["yy"] * 10]
    # Window 10: the 11-token document gives two windows, aa only in the first, bb only in the
    # second; the 10-token one gives one window: 3 windows, no co-occurrence.
    assert npmi_coherence([["aa", "bb"]], docs) == pytest.approx(npmi_by_hand(3, 1, 1, 0), abs=1e-9)
    # Window 11: each document is one window and aa, bb share the first.
    assert npmi_coherence([["aa", "bb"]], docs, window=11) == pytest.approx(1.0, abs=1e-9)


def test_multiword_terms_are_scored_as_phrases_without_hiding_words_from_other_topics():
    docs = tokenize_for_npmi(MINISTER_DOCS)
    phrase, word = npmi_per_topic([["prime minister", "cabinet"], ["minister", "cabinet"]], docs)
    # "prime minister" in docs 1-2, cabinet in 2-3, together in 2: independent, NPMI 0.
    assert phrase == pytest.approx(npmi_by_hand(4, 2, 2, 1), abs=1e-9)
    assert phrase == pytest.approx(0.0, abs=1e-9)
    # "minister" still counts inside "prime minister" for the other topic: docs 1, 2, 4.
    assert word == pytest.approx(npmi_by_hand(4, 3, 2, 1), abs=1e-9)
    assert word == pytest.approx(npmi_per_topic([["minister", "cabinet"]], docs)[0])


def test_terms_missing_from_the_corpus_are_skipped_and_tiny_topics_are_unscored():
    docs = tokenize_for_npmi(["apple banana", "apple banana", "cherry date"])
    topics = [["apple", "banana", "unseen"], ["apple", "unseen"], ["Apple", "apple"]]
    scores = npmi_per_topic(topics, docs)
    assert scores[0] == pytest.approx(npmi_by_hand(3, 2, 2, 2), abs=1e-9)
    assert scores[1] is None and scores[2] is None  # one scorable term: nothing to pair
    assert math.isnan(npmi_coherence([["apple", "unseen"]], docs))


def test_only_the_first_ten_terms_count():
    ten = " ".join(f"w{i}" for i in range(10))
    docs = tokenize_for_npmi([ten, ten, "xx"])
    topic = [f"w{i}" for i in range(10)] + ["xx"]  # xx never meets the others; it is 11th
    assert npmi_coherence([topic], docs) == pytest.approx(npmi_by_hand(3, 2, 2, 2), abs=1e-9)


def test_exact_engine_counts_words_repeated_inside_a_window():
    docs = [["aa", "xx", "aa", "xx", "xx"], ["yy", "zz", "yy"]]
    # Window 3: the first document gives 3 windows, each holding aa and xx; the second gives one
    # window without them. 4 windows: aa 3, xx 3, together 3 -> NPMI 1.
    exact = npmi_per_topic([["aa", "xx"]], docs, window=3, engine="exact")[0]
    assert exact == pytest.approx(npmi_by_hand(4, 3, 3, 3), abs=1e-9)
    assert exact == pytest.approx(1.0, abs=1e-9)
    # gensim 4.4 drops aa once its first occurrence leaves the window: counted in 1 window of 3.
    assert npmi_per_topic([["aa", "xx"]], docs, window=3)[0] == pytest.approx(
        npmi_by_hand(4, 1, 3, 1), abs=1e-9
    )


def test_exact_engine_agrees_with_gensim_when_no_word_repeats():
    rng = random.Random(0)
    vocab = [f"w{i}" for i in range(60)]
    docs = [rng.sample(vocab, rng.randint(0, 25)) for _ in range(200)]  # no repeats in a document
    topics = [rng.sample(vocab, 10) for _ in range(8)]
    gensim_scores = npmi_per_topic(topics, docs)
    exact_scores = npmi_per_topic(topics, docs, engine="exact")
    assert exact_scores == pytest.approx(gensim_scores, abs=1e-12)
    with pytest.raises(ValueError, match="engine must be"):
        npmi_per_topic(topics, docs, engine="octis")


def test_exact_engine_counts_a_phrase_and_its_own_words_together():
    docs = tokenize_for_npmi(MINISTER_DOCS)
    topic = [["prime", "prime minister", "minister"]]
    # prime: docs 1-2, "prime minister": 1-2, minister: 1, 2, 4 (4 windows).
    pairs = [npmi_by_hand(4, 2, 2, 2), npmi_by_hand(4, 2, 3, 2), npmi_by_hand(4, 2, 3, 2)]
    expected = np.mean(pairs)
    assert npmi_per_topic(topic, docs, engine="exact")[0] == pytest.approx(expected, abs=1e-9)
    # gensim cannot score phrases: such a topic goes to the exact counter under either engine.
    assert npmi_per_topic(topic, docs)[0] == pytest.approx(expected, abs=1e-9)


# -- diversity ---------------------------------------------------------------------------------
def test_diversity_is_the_unique_share_of_top_terms():
    assert topic_diversity([["a", "b", "c"], ["a", "d", "e"]]) == pytest.approx(5 / 6)
    assert topic_diversity([["a", "b"], ["c", "d"]]) == 1.0
    assert topic_diversity([["a", "b"], ["a", "b"]]) == 0.5
    assert topic_diversity([["Vote", "tax"], ["vote", "poll"]]) == pytest.approx(3 / 4)
    # Terms past the tenth are ignored: the repeated "a" at position 11 does not count.
    assert topic_diversity([[f"t{i}" for i in range(10)] + ["a"], ["a", "z"]]) == 1.0


# -- evaluate_topics ---------------------------------------------------------------------------
TEXTS = [
    "goal match striker goal", "match striker league", "striker goal league",
    "oven flour bake", "flour bake bread", "oven bread flour", "the of and",
]


def test_evaluate_topics_leaves_unassigned_out_of_topic_scores():
    topics = {
        -1: ["the", "of", "and", "goal"],
        0: ["goal", "match", "striker"],
        1: ["oven", "flour", "bake"],
    }
    assigned = [0, 0, 0, 1, 1, 1, -1]
    result = evaluate_topics(TEXTS, topics, assigned)
    assert result["n_topics"] == 2
    assert set(result["topics"]) == {"0", "1"}
    assert result["topics"]["0"] == ["goal", "match", "striker"]
    assert result["diversity"] == 1.0  # "goal" of topic -1 would repeat if it were counted
    assert set(result["npmi_per_topic"]) == {"0", "1"} == set(result["npmi_exact_per_topic"])
    assert result["npmi"] == pytest.approx(np.mean(list(result["npmi_per_topic"].values())))
    assert result["npmi"] > 0 and result["npmi_exact"] > 0
    assert result["topic_sizes"] == {"-1": 1, "0": 3, "1": 3}
    assert result["n_unassigned"] == 1
    assert result["unassigned_share"] == pytest.approx(1 / 7)
    assert "ari" not in result


def test_evaluate_topics_drops_bertopic_padding_and_accepts_a_list():
    words = [["goal", "", "match"], ["oven", "bake", ""]]
    result = evaluate_topics(TEXTS, words, [0, 0, 0, 1, 1, 1, 1])
    assert result["topics"] == {"0": ["goal", "match"], "1": ["oven", "bake"]}


def test_label_agreement_counts_unassigned_as_its_own_cluster():
    labels = ["x", "x", "y", "y"]
    words = {0: ["aa", "bb"], 1: ["aa", "bb"]}
    result = evaluate_topics(["aa bb"] * 4, words, [0, -1, 1, 1], labels)
    # Contingency by hand: cells (x,0)=1 (x,-1)=1 (y,1)=2 -> sum C(n,2) = 1; rows 2,2 -> 2;
    # columns 1,1,2 -> 1; expected 2*1/6; ARI = (1 - 1/3) / ((2+1)/2 - 1/3) = 4/7.
    assert result["ari"] == pytest.approx(4 / 7)
    assert result["ari_assigned"] == pytest.approx(1.0)  # x->0, y->1 once -1 is dropped
    assert result["nmi"] < 1.0
    assert result["nmi_assigned"] == pytest.approx(1.0)
    assert result["n_labels"] == 2


def test_label_agreement_ignores_topic_ids_and_punishes_mixing():
    labels = ["a", "a", "b", "b", "c", "c"]
    same = evaluate_topics(["aa bb"] * 6, {5: ["aa", "bb"]}, [7, 7, 3, 3, 5, 5], labels)
    assert same["ari"] == pytest.approx(1.0) and same["nmi"] == pytest.approx(1.0)
    mixed = evaluate_topics(["aa bb"] * 6, {5: ["aa", "bb"]}, [0, 1, 0, 1, 0, 1], labels)
    assert mixed["ari"] < 0.1 and mixed["nmi"] < same["nmi"]
    with pytest.raises(ValueError, match="differ in length"):
        evaluate_topics(["aa bb"] * 6, {}, [0, 1, 0], labels)


# -- corpus and JSON -----------------------------------------------------------------------------
def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_read_jsonl_corpus_reads_texts_labels_and_skips_blank_lines(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": "one", "label": "x"}) + "\n\n"
        + json.dumps({"id": "b", "text": "two", "label": 3}) + "\n",
        encoding="utf-8",
    )
    corpus = read_jsonl_corpus(path)
    assert corpus.ids == ["a", "b"] and corpus.texts == ["one", "two"]
    assert corpus.labels == ["x", "3"]
    assert corpus.name == "c.jsonl" and len(corpus.sha256) == 64
    assert read_jsonl_corpus(path, label_field=None).labels is None
    assert read_jsonl_corpus(path, label_field="topic").labels is None  # no record has it


def test_read_jsonl_corpus_names_the_bad_line(tmp_path):
    partial = _write_jsonl(tmp_path / "p.jsonl", [{"text": "a", "label": "x"}, {"text": "b"}])
    with pytest.raises(CorpusError, match=r"p\.jsonl:2: field 'label' is missing here"):
        read_jsonl_corpus(partial)
    broken = tmp_path / "b.jsonl"
    broken.write_text('{"text": "a"}\n{not json\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"b\.jsonl:2: not a JSON object"):
        read_jsonl_corpus(broken)
    empty = _write_jsonl(tmp_path / "e.jsonl", [{"text": "  "}])
    with pytest.raises(CorpusError, match=r"e\.jsonl:1: field 'text' is missing or empty"):
        read_jsonl_corpus(empty)
    with pytest.raises(CorpusError, match="cannot read corpus"):
        read_jsonl_corpus(tmp_path / "absent.jsonl")


def test_paragraph_unit_splits_records_and_inherits_labels(tmp_path):
    from narrative.config import Settings
    from narrative.labelled import _units

    long_para = " ".join(["word"] * 20)
    path = _write_jsonl(tmp_path / "u.jsonl", [
        {"text": f"{long_para} one.\n\n{long_para} two.", "label": "x"},
        {"text": f"{long_para} three.", "label": "y"},
    ])
    corpus = read_jsonl_corpus(path)
    texts, labels = _units(corpus, "paragraph", Settings())
    assert [t.split()[-1] for t in texts] == ["one.", "two.", "three."]
    assert labels == ["x", "x", "y"]
    assert _units(corpus, "article", Settings()) == (corpus.texts, corpus.labels)
    with pytest.raises(ValueError, match="unit must be"):
        _units(corpus, "sentence", Settings())


def test_write_json_round_trip_sorted_and_plain(tmp_path):
    result = {
        "npmi": np.float64(0.25), "n_topics": np.int64(2), "diversity": float("nan"),
        "topics": {"1": ["b"], "0": ["a"]}, "sizes": np.array([3, 4]),
    }
    path = write_json(result, tmp_path / "out" / "eval.json")
    text = path.read_text(encoding="utf-8")
    loaded = json.loads(text)
    assert loaded == {
        "npmi": 0.25, "n_topics": 2, "diversity": None, "topics": {"0": ["a"], "1": ["b"]},
        "sizes": [3, 4],
    }
    assert list(loaded) == sorted(loaded)  # keys written sorted
    assert [p.name for p in path.parent.iterdir()] == ["eval.json"]  # no temporary file left


# -- the real model ------------------------------------------------------------------------------
_TOPICS = {
    "football": (
        [
            "The striker scored a late goal",
            "The goalkeeper saved a penalty in the final minute",
            "The league leaders won the derby at home",
            "The coach praised the midfield after the match",
            "Fans cheered as the team lifted the cup",
            "The referee showed a red card to the defender",
        ],
        ["United", "City", "Rovers", "the champions", "the visitors"],
    ),
    "baking": (
        [
            "Knead the dough and let it rise for an hour",
            "Preheat the oven and grease the cake tin",
            "Whisk the eggs with sugar until pale",
            "Fold the flour gently into the butter mixture",
            "Bake the loaf until the crust is golden",
            "Dust the pastry with icing sugar before serving",
        ],
        ["sourdough", "sponge cake", "croissants", "rye bread", "shortbread"],
    ),
    "astronomy": (
        [
            "The telescope captured light from a distant galaxy",
            "Astronomers found a new exoplanet orbiting the star",
            "The probe sent images of the planet's rings",
            "A comet will pass close to the sun next month",
            "The rocket carried a satellite into orbit",
            "Scientists measured the radiation of a black hole",
        ],
        ["NASA", "the observatory", "the space agency", "the mission team", "researchers"],
    ),
}


@pytest.mark.slow
def test_evaluate_corpus_recovers_three_clear_topics(tmp_path, embedder):
    from narrative.labelled import evaluate_corpus

    rng = random.Random(7)
    records = []
    for label, (sentences, names) in _TOPICS.items():
        for i in range(20):
            picked = rng.sample(sentences, 3)
            text = f"{rng.choice(names).capitalize()} report: " + ". ".join(picked) + "."
            records.append({"id": f"{label}-{i}", "text": text, "label": label})
    rng.shuffle(records)
    path = _write_jsonl(tmp_path / "three.jsonl", records)

    store = tmp_path / "cache.duckdb"
    result = evaluate_corpus(path, embedder=embedder, store_path=store)
    out = write_json(result, tmp_path / "eval.json")
    loaded = json.loads(out.read_text(encoding="utf-8"))

    for key in ("npmi", "diversity", "n_topics", "topics", "ari", "nmi", "timing_s", "settings",
                "versions", "corpus"):
        assert key in loaded, key
    assert loaded["ari"] > 0.5, loaded
    assert loaded["n_topics"] >= 2
    assert "-1" not in loaded["topics"]
    assert all(1 <= len(words) <= 10 for words in loaded["topics"].values())
    assert loaded["corpus"]["n_records"] == 60
    assert loaded["codebook"] is None
    assert loaded["versions"]["gensim"]
    from narrative.store import Store

    with Store(store) as cached:  # the embeddings were cached for the next run
        assert cached.count("embeddings") == loaded["corpus"]["n_distinct_texts"] > 50
