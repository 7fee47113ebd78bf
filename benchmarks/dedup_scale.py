"""Dedup at scale: synthetic articles with planted syndicated copies; time, precision, recall.

Usage: ``python benchmarks/dedup_scale.py [--articles 100000] [--copy-rate 0.05] [--seed 0]``.

Articles are paragraphs of random sentences over a Zipf-like vocabulary (so unrelated articles
share common words but rarely a 5-word run). A share of them are planted copies of an earlier
article, each changed the way syndication changes text: curly vs straight quotes, em dashes vs
``--``, doubled spaces and extra line breaks, and a republication footer; half also gain an
extra sentence. A planted *quote* paragraph is shared by otherwise different articles: those are
paragraph copies but must not link at article level. Prints time for article- and paragraph-level
dedup (via :func:`narrative.dedup.mark_duplicate_articles` / ``mark_duplicate_paragraphs``) and the
precision and recall of the planted links; wall and CPU time (CPU time is the fair figure
on a shared machine: dedup runs on one core); peak RSS comes from ``getrusage``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import resource
import time

from narrative.dedup import mark_duplicate_articles, mark_duplicate_paragraphs
from narrative.schema import Article, Paragraph

FOOTERS = ["This article was first published by {o} and is republished under a Creative Commons "
           "licence.", "Republished with permission of {o}. All rights reserved.",
           "Read the original at {o}. Share this story:"]


def _vocabulary(rng: random.Random, n: int = 20000) -> tuple[list[str], list[float]]:
    """Words and their cumulative Zipf weights."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = sorted({"".join(rng.choice(letters) for _ in range(rng.randint(2, 9)))
                    for _ in range(n)})
    cumulative = list(itertools.accumulate(1 / (rank + 1) ** 1.05 for rank in range(len(words))))
    return words, cumulative


def _sentence(rng: random.Random, words: list[str], weights: list[float]) -> str:
    chosen = rng.choices(words, cum_weights=weights, k=rng.randint(8, 22))
    text = " ".join(chosen)
    if rng.random() < 0.3:
        text = text.replace(" ", " 'quote' ", 1)
    if rng.random() < 0.3:
        text = text.replace(" ", " - ", 1)
    return text[0].upper() + text[1:] + "."


def _syndicate(rng: random.Random, paragraphs: list[str], outlet: str) -> list[str]:
    out = []
    for p in paragraphs:
        p = p.replace(" 'quote' ", " \u2018quote\u2019 ").replace(" - ", " \u2014 ")
        if rng.random() < 0.5:
            p = p.replace(" ", "  ", 3)
        out.append(p)
    if rng.random() < 0.5:
        out[-1] = out[-1] + " " + "An extra closing line was added by the editors here."
    out.append(rng.choice(FOOTERS).format(o=outlet))
    return out


def generate(n: int, copy_rate: float, seed: int):
    """Articles, planted article links {copy index: original index}, planted paragraph links."""
    rng = random.Random(seed)
    words, weights = _vocabulary(rng)
    bodies: list[list[str]] = []
    articles: list[Article] = []
    truth_art: dict[int, int] = {}
    truth_par: dict[tuple[int, int], tuple[int, int]] = {}
    footers: set[tuple[int, int]] = set()  # republication lines: repeated, but not planted
    quotes: list[tuple[int, str]] = []
    start = dt.date(2022, 1, 1)
    for i in range(n):
        outlet = f"Outlet {rng.randrange(40)}"
        date = start + dt.timedelta(days=i * 365 // n)
        if i > 10 and rng.random() < copy_rate:
            j = rng.randrange(max(0, i - 2000), i)
            while j in truth_art:
                j = truth_art[j]
            body = _syndicate(rng, bodies[j], outlet)
            truth_art[i] = j
            truth_par.update({(i, k): (j, k) for k in range(len(bodies[j]))})
            footers.add((i, len(body) - 1))
        else:
            body = [" ".join(_sentence(rng, words, weights) for _ in range(rng.randint(2, 5)))
                    for _ in range(rng.randint(3, 10))]
            if quotes and rng.random() < 0.03:  # a shared quote paragraph, not a copy
                q_article, q_text = rng.choice(quotes)
                body.insert(1, q_text)
                truth_par[(i, 1)] = (q_article, bodies[q_article].index(q_text))
            elif rng.random() < 0.01:
                quotes.append((i, body[0]))
        bodies.append(body)
        articles.append(Article(text="\n\n".join(body), source=f"synthetic:{i}",
                                outlet=outlet, date=date))
    return articles, truth_art, truth_par, footers


def _scores(predicted: set, planted: set) -> tuple[float, float]:
    """Precision and recall of copy links, judged by planted groups (an original and its copies).

    Which of two same-day copies comes "first" depends on their ids, so a link is right when
    both ends are in one planted group, whichever way it points; a group of ``n`` needs
    ``n - 1`` links.
    """
    group: dict = {}

    def find(item):
        while group.get(item, item) != item:
            item = group[item]
        return item

    for copy, original in planted:
        group.setdefault(copy, copy)
        group.setdefault(original, original)
        group[find(copy)] = find(original)
    right = sum(1 for a, b in predicted if a in group and b in group and find(a) == find(b))
    return right / max(len(predicted), 1), right / max(len(planted), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--copy-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    t = time.perf_counter()
    articles, truth_art, truth_par, footers = generate(args.articles, args.copy_rate, args.seed)
    ids = [a.article_id for a in articles]
    # Paragraphs straight from the planted bodies (segmentation is timed elsewhere).
    paragraphs = [Paragraph(ids[i], k, 0, 0, p) for i, a in enumerate(articles)
                  for k, p in enumerate(a.text.split("\n\n"))]
    print(f"generated {len(articles):,} articles, {len(paragraphs):,} paragraphs, "
          f"{sum(len(a.text) for a in articles) / 1e6:.0f} M chars in "
          f"{time.perf_counter() - t:.1f} s; planted {len(truth_art):,} article copies, "
          f"{len(truth_par):,} paragraph copies")

    t, cpu = time.perf_counter(), time.process_time()
    linked = mark_duplicate_articles(articles)
    art_s, art_cpu = time.perf_counter() - t, time.process_time() - cpu
    pos = {a: i for i, a in enumerate(ids)}
    predicted = {(pos[a.article_id], pos[a.duplicate_of]) for a in linked if a.duplicate_of}
    precision, recall = _scores(predicted, set(truth_art.items()))
    print(f"article dedup: {art_s:.1f} s wall, {art_cpu:.1f} s CPU "
          f"({len(articles) / art_cpu:,.0f} articles per CPU-second); "
          f"{len(predicted):,} links; precision {precision:.4f}, recall {recall:.4f}")

    t, cpu = time.perf_counter(), time.process_time()
    plinked = mark_duplicate_paragraphs(paragraphs, [a.article_id for a in linked])
    par_s, par_cpu = time.perf_counter() - t, time.process_time() - cpu
    ppos = {p.paragraph_id: (pos[p.article_id], p.position) for p in paragraphs}
    ppred = {(ppos[p.paragraph_id], ppos[p.duplicate_of]) for p in plinked
             if p.duplicate_of and ppos[p.paragraph_id] not in footers}
    precision, recall = _scores(ppred, set(truth_par.items()))
    print(f"paragraph dedup: {par_s:.1f} s wall, {par_cpu:.1f} s CPU "
          f"({len(paragraphs) / par_cpu:,.0f} paragraphs per CPU-second); "
          f"{len(ppred):,} links; precision {precision:.4f}, recall {recall:.4f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"total dedup {art_s + par_s:.1f} s wall, {art_cpu + par_cpu:.1f} s CPU (one core); "
          f"peak RSS {peak:,.0f} MiB (includes the corpus)")


if __name__ == "__main__":
    main()
