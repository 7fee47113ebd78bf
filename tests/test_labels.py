"""Labels a reader would use: noun phrases only, and off-topic clusters told apart."""

import numpy as np

from narrative.model.labels import noun_like_words, noun_phrases, off_topic_ids

CORPUS = [
    "The offensive stalled near the river. What happens next is unclear.",
    "A ceasefire was proposed. The temperatures did not fall and the heat happens every summer.",
    "Officials dismissed the report. Russia said the exports of grain would resume.",
    "The grain exports rose. The report was late. Russia chooses to wait; so far nothing moved.",
    "An offensive began in the east, and Russia and Ukraine traded fire. The temperatures rose.",
]


def test_verbs_and_fragments_are_dropped_from_terms():
    words = {"offensive", "happens", "russia", "temperatures", "did", "far", "dismissed", "grain",
             "exports", "chooses", "report"}
    nouns = noun_like_words(CORPUS, words)
    assert {"offensive", "russia", "temperatures", "grain", "exports", "report"} <= nouns
    assert not nouns & {"happens", "did", "far", "dismissed", "chooses"}
    terms = ["happens", "happens russia", "temperatures did", "grain exports", "offensive", "far"]
    assert noun_phrases(terms, nouns) == ["grain exports", "offensive"]


def test_a_cluster_most_of_whose_paragraphs_are_closer_to_sport_than_to_the_codebook_is_off_topic():
    on_topic = np.eye(4)[[0, 1]]
    off_topic = np.eye(4)[[3]]
    # Cluster 7: two sport paragraphs and one about the war; cluster 8: war paragraphs only.
    vectors = np.array([[0.1, 0, 0, 1], [0, 0.2, 0, 1], [1, 0, 0, 0.3], [1, 0.1, 0, 0], [0, 1, 0, 0.2]])
    topics = np.array([7, 7, 7, 8, 8])
    assert off_topic_ids(vectors, topics, [7, 8], on_topic, off_topic) == {7}
    assert off_topic_ids(vectors, topics, [7, 8], np.zeros((0, 4)), off_topic) == set()


def test_a_plural_counts_when_its_singular_is_used_as_a_noun():
    texts = ["The price of oil rose. Energy prices rose again, and allies met; the ally agreed."]
    assert noun_like_words(texts, {"prices", "allies", "rose"}) == {"prices", "allies"}


def test_multi_word_terms_join_only_words_that_stand_together():
    from narrative.model.labels import PhraseAnalyzer

    analyze = PhraseAnalyzer({"to", "in", "of", "the"}, ngram_max=2)
    terms = analyze("Trump's chance to meet Zelensky in Moscow. The coalition of the willing; "
                    "grain exports rose 5 percent")
    assert "meet zelensky" in terms and "grain exports" in terms
    for across in ("zelensky moscow", "coalition willing", "moscow coalition", "chance meet",
                   "trump chance", "willing grain", "rose percent"):
        assert across not in terms, across
    assert {"trump", "moscow", "willing", "percent"} <= set(terms)
