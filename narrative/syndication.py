"""Which copy of a syndicated article is the original, and on what evidence.

Copy detection (:mod:`narrative.dedup`) finds the copies of one text; this module decides, per
group of copies, which one is the *original* (the first publication) and records why. The
evidence, strongest first:

1. **text**: a copy's *claim* (``meta["first_published_in"]``: "first published in X", "courtesy
   of X", "republished with permission of x.com"..., read by the ingest before boilerplate is
   cut, see :func:`narrative.ingest.metadata.infer_metadata`) names the outlet of another copy,
   under any spelling (a name, a domain: :func:`~narrative.ingest.metadata.same_outlet`): that
   copy is the original, whatever the dates say. A copy whose claim names an outlet other than
   its own, when no copy is of that outlet, is still known not to be the original: the original
   is then chosen among the others.
2. **date**: the earliest dated copy is the original of every later dated one.
3. **order**: copies of the same date: the original is the first by article id (a tie broken,
   not a fact).
4. **unknown**: no claim decides and a date is missing: the link keeps a direction (the dated
   copy first, then by id) but says it is not known.

The contract of the ``articles`` table: ``duplicate_of`` of a copy is the article id of its
group's original, None for the original and for articles without copies. Every member of a
group (the original too) has in its ``meta``: ``copy_evidence`` (``"text"``, ``"date"``,
``"order"`` or ``"unknown"``: for a copy, what places its original first; for the original, the
weakest of its copies'), and for ``"text"`` also ``copy_phrase`` (the claim's kind, e.g.
``"first_published"``), ``copy_source`` (the outlet it names, as written) and
``copy_evidence_from`` (the article id of the copy that says it).

The decision depends only on the group's members (outlet, date, claim, id), never on the order
they were read in, so every path (in memory, streaming in batches, Dask) gives the same links.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from narrative.schema import Article

__all__ = ["COPY_KEYS", "Claim", "CopyEvidence", "Member", "claim_of", "copy_groups",
           "decide_original", "member_of", "resolve_copies", "with_copy_meta"]

CopyEvidence = Literal["text", "date", "order", "unknown"]
#: The meta keys this module writes (and clears on articles it finds in no group).
COPY_KEYS = ("copy_evidence", "copy_phrase", "copy_source", "copy_evidence_from")
_STRENGTH: dict[str, int] = {"unknown": 0, "order": 1, "date": 2, "text": 3}


@dataclasses.dataclass(frozen=True)
class Claim:
    """A text's statement that it was published elsewhere first."""

    phrase: str  # its kind: first_published, courtesy_of, republished_from, ...
    outlet: str  # the outlet it names, as written


@dataclasses.dataclass(frozen=True)
class Member:
    """What the decision needs of one copy."""

    article_id: str
    outlet: str | None
    date: dt.date | None
    claim: Claim | None = None


def claim_of(meta: Mapping[str, Any] | None) -> Claim | None:
    """The copy claim in an article's meta (stores from before claims had a kind hold the
    outlet's name alone: a "first published in")."""
    value = (meta or {}).get("first_published_in")
    if isinstance(value, str) and value.strip():
        return Claim("first_published", value)
    if isinstance(value, Mapping) and value.get("outlet"):
        return Claim(str(value.get("phrase") or "first_published"), str(value["outlet"]))
    return None


def member_of(article: Article) -> Member:
    return Member(article.article_id, article.outlet, article.date, claim_of(article.meta))


def _first(member: Member) -> tuple:
    """First-publication order: dated before undated, then by date, then by id."""
    return (member.date is None, member.date or dt.date.min, member.article_id)


def _names(claimant: Member, other: Member) -> bool:
    from narrative.outlets import same_outlet

    return claimant.claim is not None and same_outlet(claimant.claim.outlet, other.outlet)


def _declares_copy(member: Member) -> bool:
    """Its claim names another outlet than its own: this copy is not the first publication."""
    from narrative.outlets import same_outlet

    return member.claim is not None and not same_outlet(member.claim.outlet, member.outlet)


def _text(claimant: Member) -> dict[str, str]:
    assert claimant.claim is not None
    return {"copy_evidence": "text", "copy_phrase": claimant.claim.phrase,
            "copy_source": claimant.claim.outlet, "copy_evidence_from": claimant.article_id}


def _by_date(copy: Member, original: Member) -> dict[str, str]:
    if copy.date is None or original.date is None:
        return {"copy_evidence": "unknown"}
    return {"copy_evidence": "date" if original.date < copy.date else "order"}


def decide_original(members: Iterable[Member]) -> dict[str, tuple[str | None, dict[str, str]]]:
    """Each member's ``(duplicate_of, copy meta)`` for one group of copies (see the module
    docstring); empty for fewer than two distinct articles."""
    group = sorted({m.article_id: m for m in members}.values(), key=_first)
    if len(group) < 2:
        return {}
    named = [(n, c) for n in group for c in group if c is not n and _names(c, n)]
    out: dict[str, tuple[str | None, dict[str, str]]] = {}
    if named:
        original, claimant = named[0]  # the first named member, by the first claimant
        for copy in group:
            if copy is not original:
                out[copy.article_id] = (original.article_id,
                                        _text(copy if _names(copy, original) else claimant))
        out[original.article_id] = (None, _text(claimant))
        return out
    original = next((m for m in group if not _declares_copy(m)), group[0])
    for copy in group:
        if copy is original:
            continue
        if _declares_copy(copy) and not _declares_copy(original):
            out[copy.article_id] = (original.article_id, _text(copy))
        else:
            out[copy.article_id] = (original.article_id, _by_date(copy, original))
    weakest = min((meta for _, meta in out.values()),
                  key=lambda meta: (_STRENGTH[meta["copy_evidence"]],
                                    meta.get("copy_evidence_from", "")))
    out[original.article_id] = (None, dict(weakest))
    return out


def copy_groups(links: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The connected groups of ``(copy, original)`` links, each sorted, in sorted order."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for x in sorted(parent):
        groups.setdefault(root(x), []).append(x)
    return sorted(groups.values())


def with_copy_meta(meta: Mapping[str, Any] | None, copy_meta: Mapping[str, str]) -> dict:
    """``meta`` with the :data:`COPY_KEYS` replaced by ``copy_meta``'s."""
    kept = {k: v for k, v in (meta or {}).items() if k not in COPY_KEYS}
    return {**kept, **copy_meta}


def resolve_copies(articles: Sequence[Article]) -> list[Article]:
    """``articles`` (``duplicate_of`` set by copy detection) with each group's links pointing at
    its original and the copy meta written, in the same order.

    A group linking to an article outside ``articles`` (an index holding earlier batches) is left
    as given: its other members are not here to decide with.
    """
    present = {a.article_id for a in articles}
    members = {}
    for article in articles:
        members.setdefault(article.article_id, member_of(article))
    links = [(a.article_id, a.duplicate_of) for a in articles
             if a.duplicate_of is not None and a.duplicate_of != a.article_id]
    decided: dict[str, tuple[str | None, dict[str, str]]] = {}
    for group in copy_groups(links):
        if all(x in present for x in group):
            decided.update(decide_original(members[x] for x in group))
    out = []
    for article in articles:
        if article.article_id in decided:
            dup, copy_meta = decided[article.article_id]
            out.append(dataclasses.replace(article, duplicate_of=dup,
                                           meta=with_copy_meta(article.meta, copy_meta)))
        elif article.duplicate_of is None and any(k in article.meta for k in COPY_KEYS):
            out.append(dataclasses.replace(article, meta=with_copy_meta(article.meta, {})))
        else:
            out.append(article)
    return out
