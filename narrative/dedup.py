"""Exact duplicate detection after normalisation (first cut).

Two articles whose normalised texts are equal are copies: the later one (by date, then id) links
to the first with ``duplicate_of`` and keeps its own outlet and date. A paragraph whose normalised
text appeared earlier links to that paragraph. Near-duplicates (MinHash) are a later refinement.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Sequence

from .schema import Article, Paragraph, normalize_for_matching


def _order_key(article: Article) -> tuple:
    return (article.date or dt.date.max, article.article_id)


def mark_duplicate_articles(articles: Sequence[Article]) -> list[Article]:
    """Copies of ``articles`` with ``duplicate_of`` set on later copies of the same text."""
    first: dict[str, str] = {}
    out: list[Article] = []
    for article in sorted(articles, key=_order_key):
        key = normalize_for_matching(article.text)
        original = first.setdefault(key, article.article_id)
        dup = None if original == article.article_id else original
        out.append(dataclasses.replace(article, duplicate_of=dup))
    return out


def mark_duplicate_paragraphs(
    paragraphs: Sequence[Paragraph], article_order: Sequence[str]
) -> list[Paragraph]:
    """Set ``duplicate_of`` on paragraphs whose text repeats an earlier one (articles in order)."""
    rank = {aid: i for i, aid in enumerate(article_order)}
    ordered = sorted(paragraphs, key=lambda p: (rank.get(p.article_id, len(rank)), p.article_id, p.position))
    first: dict[str, str] = {}
    out = []
    for p in ordered:
        original = first.setdefault(p.text_hash, p.paragraph_id)
        out.append(dataclasses.replace(p, duplicate_of=None if original == p.paragraph_id else original))
    return out
