"""A planted corpus small enough to fit in seconds: three tight clusters of paragraph vectors and a
few paragraphs far from every cluster, which BERTopic's clustering leaves at -1 although each is
above the assignment floor (cosine ~0.7) to one centroid. Under 30 paragraphs, so UMAP is skipped
and HDBSCAN sees the vectors themselves. Plus a stand-in embedder that returns the planted vector
of each text, and a store holding the corpus as articles (one paragraph each).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

DIM = 16
WORDS = (
    ("grain", "port", "ship", "export", "harbour", "cargo"),
    ("drone", "strike", "refinery", "fire", "missile", "attack"),
    ("vote", "ballot", "election", "poll", "candidate", "turnout"),
)
OUTLETS = ("Harbour Echo", "Valley Courier")


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _tag(i: int) -> str:
    """A unique letters-only word per paragraph, so no two texts are equal."""
    return "tag" + "".join(chr(97 + (i // 26**p) % 26) for p in (2, 1, 0))


def planted(seed: int = 0, *, n_per: int = 8, n_far: int = 5, start: int = 0):
    """``(texts, vectors, far)``: ``n_per`` paragraphs per cluster, then ``n_far`` far ones
    (``far`` marks them). Clusters sit at cosine 0.8 from each other; a far paragraph is at cosine
    ~0.7 from one cluster centre and further from the others."""
    rng = np.random.default_rng(seed)
    base = np.zeros(DIM)
    base[-1] = 1.0
    centres = _unit(base + 0.5 * np.eye(DIM)[: len(WORDS)])
    texts, vectors = [], []
    for k, words in enumerate(WORDS):
        for _ in range(n_per):
            vectors.append(centres[k] + rng.normal(0, 0.02, DIM))
            texts.append(" ".join(rng.choice(words, 6)))
    everything = [w for words in WORDS for w in words]
    for i in range(n_far):
        noise = rng.normal(0, 1, DIM)
        noise[: len(WORDS)] = 0.0
        noise[-1] = 0.0
        vectors.append(centres[i % len(WORDS)] + 1.2 * _unit(noise))
        texts.append(" ".join(rng.choice(everything, 6)))
    texts = [f"{t} {_tag(start + i)}" for i, t in enumerate(texts)]
    far = np.array([False] * (len(WORDS) * n_per) + [True] * n_far)
    return texts, _unit(np.asarray(vectors)).astype(np.float32), far


class PlantedEmbedder:
    """The planted vector of each known text; no BERTopic backend (labels stay c-TF-IDF terms)."""

    model_id = "planted-test"
    dim = DIM

    def __init__(self, texts, vectors):
        self.vectors = dict(zip(texts, np.asarray(vectors, dtype=np.float32)))

    def add(self, texts, vectors) -> None:
        self.vectors.update(zip(texts, np.asarray(vectors, dtype=np.float32)))

    def encode(self, texts, *, progress=None) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts]) if len(texts) else np.zeros((0, DIM))

    def as_bertopic_backend(self):
        return None


def add_articles(store, texts, *, first_day: int = 0) -> None:
    """Each text as a one-paragraph article, outlets alternating, one day apart."""
    from narrative.schema import Article, Paragraph

    articles, paragraphs = [], []
    for i, text in enumerate(texts):
        day = dt.date(2025, 1, 6) + dt.timedelta(days=(first_day + i) % 21)
        article = Article(text=text, source=f"planted.jsonl:{first_day + i}",
                          outlet=OUTLETS[(first_day + i) % 2], date=day)
        articles.append(article)
        paragraphs.append(Paragraph(article.article_id, 0, 0, len(text), text))
    store.add_articles(articles)
    store.add_paragraphs(paragraphs)


def settings(**changes):
    """Settings for the planted embedder (its model id, fp32: drift finds the stored vectors)."""
    from narrative.config import Settings

    return Settings(embedding_model=PlantedEmbedder.model_id, precision="fp32", n_bootstrap=20,
                    min_articles=1, **changes)
