"""Copy links of the streaming ingest, fed with the stored articles' persisted sketches.

An ingest visits every article it reads, stored ones included, in first-occurrence order (date,
then id), through one :class:`~narrative.dedup.CopyIndex` per level: that is how a new article
links to a stored original, with the links reading everything at once would give. The index needs
each text's :class:`~narrative.dedup.Sketches` (word split, shingle hashes, MinHash), and making
them is most of the work. The store keeps them (``article_sketches``, ``paragraph_sketches``),
written in the transaction that writes the article and its paragraphs, so an article already
stored with its sketches is not parsed from the spool, sketched, segmented or written again: its
sketches and its paragraphs' are read back and fed to the indexes in its place, and the links come
out the same (the tests compare them with sketching every text).

Every other article (new ones, and stored ones whose sketches are missing: a store written before
the sketch tables, by another path, or under other parameters) goes the full way and its sketches
are written with it, so the next ingest finds them. The parameters are the indexes'
``sketch_params`` and the segmentation settings (a stored article's paragraphs are those its
sketches describe); when the store's differ, its sketches are deleted and made again. A stored
article's paragraphs are taken as stored, not segmented again: after a change to the segmenter's
rules, new paragraphs link to the paragraphs the store holds.

Which copy of a group is the original is decided on evidence, not on the visiting order
(:mod:`narrative.syndication`), over the whole group: members stored by earlier batches or
earlier ingests are read back, and their links and copy meta are updated when a new member
changes the decision (a copy that says "first published in" the new article's outlet, or a new
copy dated earlier). Paragraph links keep the first occurrence: they only say which texts repeat.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from narrative.dedup import CopyIndex, Sketches, article_index, paragraph_index
from narrative.schema import Article, Paragraph
from narrative.segment import segment_article
from narrative.syndication import (
    Member, claim_of, copy_groups, decide_original, member_of, with_copy_meta,
)

__all__ = ["BatchLinker"]


def _sketch_frame(ids: dict[str, list], sketches: Sketches) -> pd.DataFrame:
    return pd.DataFrame({**ids, **sketches.to_columns()})


def _stored(index: CopyIndex, frame: pd.DataFrame) -> Sketches:
    return Sketches.from_columns(frame["exact_key"].to_numpy(), frame["n_shingles"].to_numpy(),
                                 frame["signature"].tolist(), frame["bands"].tolist(),
                                 num_perm=index.num_perm, n_bands=index.bands)


def _originals(index: CopyIndex, ids: Sequence[str], sketches: Sketches) -> list[str | None]:
    """Each item's original (never itself: the same article read twice is not its own copy)."""
    return [None if dup == own else dup for own, dup in zip(ids, index.add_sketches(ids, sketches))]


@dataclasses.dataclass
class LinkedArticles:
    """One batch's articles linked: ``fresh`` (the articles to write, ``duplicate_of`` set) and
    the whole batch's ids and copy count, stored articles included."""

    ids: list[str]
    fresh: dict[int, Article]  # batch row -> article
    n_copies: int
    sketches: pd.DataFrame  # the fresh articles' rows of ``article_sketches``


@dataclasses.dataclass
class LinkedParagraphs:
    """One batch's paragraphs linked: ``fresh`` (those of fresh articles, to write) and counts
    over the whole batch."""

    fresh: list[Paragraph]
    n_paragraphs: int
    n_copies: int
    sketches: pd.DataFrame  # the fresh paragraphs' rows of ``paragraph_sketches``


class BatchLinker:
    """The two copy indexes of one ingest, fed batch by batch in first-occurrence order.

    Parameters
    ----------
    store : narrative.store.Store
        Where the stored articles' sketches are read; when its sketches were made under other
        parameters they are deleted here (made again as their articles come by).
    segment : dict
        Keyword arguments of :func:`~narrative.segment.segment_article` (``min_words``,
        ``window_sentences``, ``max_words``).
    """

    def __init__(self, store: Any, segment: dict[str, int]) -> None:
        self.store, self.segment_kw = store, dict(segment)
        self.articles, self.paragraphs = article_index(), paragraph_index()
        self.params = {"article": self.articles.sketch_params,
                       "paragraph": self.paragraphs.sketch_params, "segment": self.segment_kw}
        if store.sketch_params() != self.params:
            store.reset_sketches(self.params)

    def sketched(self, article_ids: Sequence[str]) -> np.ndarray:
        """Which of these articles (bool, in order) are stored with their sketches."""
        return self.store.sketched_articles(article_ids)

    def link_articles(self, ids: Sequence[str], articles: Sequence[Article | None]
                      ) -> LinkedArticles:
        """Link a batch: ``ids`` in first-occurrence order, ``articles`` the same rows with None
        for an article stored with its sketches (its text is not needed)."""
        fresh_rows = [i for i, a in enumerate(articles) if a is not None]
        made = self.articles.sketch([articles[i].text for i in fresh_rows])
        frame = self.store.article_sketches([aid for aid, a in zip(ids, articles) if a is None])
        rows = {row: j for j, row in enumerate(fresh_rows)}
        stored_rows = {aid: len(made) + j for j, aid in enumerate(frame["article_id"])}
        take = [rows[i] if a is not None else _row(stored_rows, ids[i])
                for i, a in enumerate(articles)]
        merged = Sketches.concat([made, _stored(self.articles, frame)]).take(take)
        originals = _originals(self.articles, list(ids), merged)
        fresh = {i: dataclasses.replace(articles[i], duplicate_of=originals[i])
                 for i in fresh_rows}
        fresh = self._direct(list(zip(ids, originals)), fresh)
        sketches = _sketch_frame({"article_id": [ids[i] for i in fresh_rows]}, made)
        return LinkedArticles(list(ids), fresh, sum(o is not None for o in originals), sketches)

    def _direct(self, links: list[tuple[str, str | None]], fresh: dict[int, Article]
                ) -> dict[int, Article]:
        """Point every group of copies this batch touches at its original, stored members
        included (:func:`~narrative.syndication.decide_original`).

        A group may span batches and ingests, so its stored members are read back (outlet, date,
        meta, link) and those whose link or copy meta changes are updated in the store: the
        links come out as one pass over all the articles would give them, whatever the batches.
        The update is committed before the caller writes this batch's articles: a crash in
        between leaves a stored copy linked to an article not yet stored, which the next ingest
        of the same sources writes (and links again).
        """
        edges = [(aid, dup) for aid, dup in links if dup is not None and dup != aid]
        if not edges:
            return fresh
        stored = _stored_members(self.store, {x for edge in edges for x in edge})
        members = {row["article_id"]: Member(row["article_id"], row["outlet"], row["date"],
                                             claim_of(row["meta"])) for row in stored}
        for article in fresh.values():
            members.setdefault(article.article_id, member_of(article))
        edges += [(row["article_id"], row["duplicate_of"]) for row in stored
                  if row["duplicate_of"] is not None]
        decided: dict[str, tuple[str | None, dict[str, str]]] = {}
        for group in copy_groups(edges):
            decided.update(decide_original(members[x] for x in group if x in members))
        changed = []
        for row in stored:
            if row["article_id"] in decided:
                dup, copy_meta = decided[row["article_id"]]
                meta = with_copy_meta(row["meta"], copy_meta)
                if dup != row["duplicate_of"] or meta != row["meta"]:
                    changed.append((row["article_id"], dup, meta))
        _relink_stored(self.store, changed)
        out = {}
        for i, article in fresh.items():
            dup, copy_meta = decided.get(article.article_id, (article.duplicate_of, {}))
            out[i] = dataclasses.replace(article, duplicate_of=dup,
                                         meta=with_copy_meta(article.meta, copy_meta))
        return out

    def segment(self, batch: LinkedArticles) -> list[Paragraph]:
        """The paragraphs of the batch's fresh articles, in batch order."""
        return [p for i in sorted(batch.fresh)
                for p in segment_article(batch.ids[i], batch.fresh[i].text,
                                         title=batch.fresh[i].title, **self.segment_kw)]

    def link_paragraphs(self, batch: LinkedArticles, fresh: list[Paragraph]) -> LinkedParagraphs:
        """Link every paragraph of the batch, ``fresh`` (:meth:`segment`) and those of stored
        articles (read back), in the order of :func:`~narrative.dedup.mark_duplicate_paragraphs`."""
        ids = batch.ids
        frame = self.store.paragraph_sketches(
            [aid for i, aid in enumerate(ids) if i not in batch.fresh])
        stored_ids, positions = frame["paragraph_id"].tolist(), frame["position"].tolist()
        spans: dict[str, list[int]] = {}
        for row, aid in enumerate(frame["article_id"].tolist()):
            spans.setdefault(aid, []).append(row)  # rows come by article id, then position
        stored = [(aid, row) for i, aid in enumerate(ids) if i not in batch.fresh
                  for row in spans.get(aid, ())]
        made = self.paragraphs.sketch([p.text for p in fresh])
        # (article rank, article id, position, row of the sketches: fresh ones, then stored),
        # sorted (stably) as mark_duplicate_paragraphs orders paragraphs
        rank = {aid: i for i, aid in enumerate(ids)}
        entries = [(rank[p.article_id], p.article_id, p.position, row)
                   for row, p in enumerate(fresh)]
        entries += [(rank[aid], aid, positions[row], len(fresh) + row) for aid, row in stored]
        entries.sort(key=lambda e: e[:3])
        merged = Sketches.concat([made, _stored(self.paragraphs, frame)])
        merged = merged.take([e[3] for e in entries])
        pids = [fresh[row].paragraph_id if row < len(fresh) else stored_ids[row - len(fresh)]
                for *_, row in entries]
        originals = _originals(self.paragraphs, pids, merged)
        dup_of = {row: dup for (*_, row), dup in zip(entries, originals) if row < len(fresh)}
        linked = [dataclasses.replace(p, duplicate_of=dup_of[row]) for row, p in enumerate(fresh)]
        sketches = _sketch_frame({"paragraph_id": [p.paragraph_id for p in fresh],
                                  "article_id": [p.article_id for p in fresh],
                                  "position": [p.position for p in fresh]}, made)
        return LinkedParagraphs(linked, len(entries), sum(o is not None for o in originals),
                                sketches)


def _stored_members(store: Any, ids: set[str]) -> list[dict[str, Any]]:
    """The stored articles linked to ``ids``, directly or through other stored links (outlet,
    date, meta as a dict, duplicate_of), each once.

    Reads the store's connection: a ``Store`` method would be the better home for it.
    """
    rows: dict[str, dict[str, Any]] = {}
    seen, query = set(ids), set(ids)
    while query:
        store.con.register("_group_ids", pd.DataFrame({"id": sorted(query)}, dtype=object))
        try:
            found = store.con.execute(
                "SELECT article_id, outlet, date, meta, duplicate_of FROM articles "
                "WHERE article_id IN (SELECT id FROM _group_ids) "
                "OR duplicate_of IN (SELECT id FROM _group_ids)").fetchall()
        finally:
            store.con.unregister("_group_ids")
        query = set()
        for article_id, outlet, date, meta, dup in found:
            if article_id in rows:
                continue
            rows[article_id] = {"article_id": article_id, "outlet": outlet, "date": date,
                                "meta": json.loads(meta) if meta else {}, "duplicate_of": dup}
            query |= {x for x in (article_id, dup) if x is not None} - seen
        seen |= query
    return [rows[k] for k in sorted(rows)]


def _relink_stored(store: Any, changed: list[tuple[str, str | None, dict]]) -> None:
    """Write new links and copy meta of stored articles (``(article_id, duplicate_of, meta)``).

    Writes through the store's connection: a ``Store`` method would be the better home for it.
    """
    if not changed:
        return
    frame = pd.DataFrame({"article_id": [c[0] for c in changed],
                          "duplicate_of": [c[1] for c in changed],
                          "meta": [json.dumps(c[2], sort_keys=True, default=str)
                                   for c in changed]}, dtype=object)
    with store.transaction():
        store.con.register("_relinked", frame)
        try:
            store.con.execute(
                "UPDATE articles SET duplicate_of = r.duplicate_of, meta = CAST(r.meta AS JSON) "
                "FROM _relinked r WHERE articles.article_id = r.article_id").fetchall()
        finally:
            store.con.unregister("_relinked")


def _row(rows: dict[str, int], article_id: str) -> int:
    try:
        return rows[article_id]
    except KeyError:
        raise RuntimeError(f"article {article_id} has no stored sketch although the store "
                           "listed it as sketched; was the store changed during the ingest?"
                           ) from None
