"""Copies across the corpus: syndicated articles and repeated paragraphs.

Two passes, at article and at paragraph level:

1. **Exact** (fast path): texts whose word sequence is equal after
   :func:`~narrative.schema.normalize_for_matching` (quotes, dashes, case, whitespace folded;
   punctuation dropped) are copies.
2. **Near** (datasketch MinHash, banded LSH): a text is a copy of an earlier one when the smaller
   of their word-shingle sets is at least ``threshold`` contained in the other (estimated from
   MinHash Jaccard and the set sizes) and their Jaccard similarity is at least
   :data:`MIN_JACCARD`: a syndicated op-ed with different punctuation, an extra sentence, or
   bios and footers the rules missed still matches.

Items are visited in order (articles by date, then id; paragraphs by their article's order, then
position); a copy links with ``duplicate_of`` to the *first occurrence* (a copy of a copy links to
the original) and keeps its own outlet and date, so later stages can count a syndicated story
once or once per outlet. For articles, the first occurrence only groups the copies: which one is
the original is then decided on evidence (a copy's "first published in X" beats the dates,
:mod:`narrative.syndication`), and every copy links to it.

:class:`CopyIndex` does the work incrementally, batch by batch, so the streaming ingest can link a
copy to an original read many batches earlier. It keeps no text: per original it holds a 64-bit
hash of its word sequence, its MinHash signature (8 bits per permutation, enough to estimate
Jaccard similarity once chance agreement is corrected for) and its LSH band keys (8 bytes per
band), in sorted numpy runs: about 0.2 KB per original paragraph, 0.4 KB per original
article. Deterministic: words are hashed with CRC-32, shingles by combining them, and the
MinHash seed is fixed.

What the index keeps of a text is its :class:`Sketches` row (:meth:`CopyIndex.sketch`), plain
arrays that a caller may persist and feed back with :meth:`CopyIndex.add_sketches` instead of the
text: the store keeps them beside the articles and paragraphs, so an ingest that adds a few
articles does not sketch every stored one again. :attr:`CopyIndex.sketch_params` names what a
sketch depends on; sketches made under other parameters must be made again, not reused.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import hashlib
import re
import unicodedata
import zlib
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from .schema import Article, Paragraph

__all__ = ["ARTICLE_SHINGLE", "PARAGRAPH_SHINGLE", "SKETCH_FORMAT", "CopyIndex", "Sketches",
           "article_index", "find_copies", "link_batch", "mark_duplicate_articles",
           "mark_duplicate_paragraphs", "order_key", "paragraph_index", "shingles", "word_key"]

ARTICLE_SHINGLE = 5
PARAGRAPH_SHINGLE = 3
_WORDS = re.compile(r"\w+")
_SEED = 1
#: Version of what a sketch is made of (word split, word, shingle and exact-key hashing, MinHash
#: scheme, 8-bit truncation, band keys and their byte layout). Change it with any of them, so
#: that sketches persisted by an older version are made again rather than misread.
SKETCH_FORMAT = 1
#: Near copies must also share this estimated Jaccard similarity (sizes within about 2x), so a
#: short text quoted whole inside a long one is not its copy.
MIN_JACCARD = 0.5
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def _words(text: str) -> list[str]:
    """The words of :func:`~narrative.schema.normalize_for_matching` ``(text)``, faster.

    That function also folds quotes, dashes, ellipses and spaces, none of which is a word
    character, so NFKC and lower case give the same words (checked in the tests).
    """
    return _WORDS.findall(unicodedata.normalize("NFKC", text).lower())


def word_key(text: str) -> str:
    """The text's words, folded and joined: equal for copies differing only in punctuation."""
    return " ".join(_words(text))


def shingles(words: Sequence[str], k: int) -> set[bytes]:
    """The set of ``k``-word shingles (the whole text when it has fewer than ``k`` words)."""
    if len(words) < k:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i:i + k]).encode() for i in range(len(words) - k + 1)}


_WORD_HASHES: dict[str, int] = {}
_MAX_CACHED_WORDS = 500_000


def _word_hash(word: str) -> int:
    """CRC-32 of a word, cached (news vocabulary repeats; the cache is capped)."""
    value = _WORD_HASHES.get(word)
    if value is None:
        if len(_WORD_HASHES) >= _MAX_CACHED_WORDS:
            _WORD_HASHES.clear()
        value = _WORD_HASHES[word] = zlib.crc32(word.encode())
    return value


def _shingle_hashes(words: Sequence[str], k: int) -> np.ndarray:
    """32-bit hashes of the distinct ``k``-word shingles (one for a text under ``k`` words).

    Each word is hashed once (CRC-32) and the hashes of ``k`` consecutive words are combined
    with numpy, which is several times faster than hashing every joined shingle string.
    """
    if not words:
        return np.zeros(0, dtype=np.uint32)
    word_hashes = np.fromiter(map(_word_hash, words), np.uint64, len(words))
    width = max(len(words) - k + 1, 1)
    combined = np.zeros(width, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(min(k, len(words))):
            combined = combined * np.uint64(0x100000001B3) + word_hashes[j:j + width]
        combined ^= combined >> np.uint64(32)
        combined *= np.uint64(0xFF51AFD7ED558CCD)
        combined ^= combined >> np.uint64(29)
    return np.unique((combined & np.uint64(0xFFFFFFFF)).astype(np.uint32))


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


class _SortedRuns:
    """A multimap from integer keys to integer values, as a few sorted numpy runs.

    Runs are merged when a new one is at least half the size of the one before (as in a
    log-structured merge tree), so there are O(log n) runs and each entry is copied O(log n)
    times in all.
    """

    def __init__(self, key_dtype: type) -> None:
        self.key_dtype = key_dtype
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self.runs)

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        if not len(keys):
            return
        order = np.argsort(keys, kind="stable")
        self.runs.append((keys[order].astype(self.key_dtype), values[order].astype(np.int32)))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0]):
            (k2, v2), (k1, v1) = self.runs.pop(), self.runs.pop()
            keys, values = np.concatenate([k1, k2]), np.concatenate([v1, v2])
            order = np.argsort(keys, kind="stable")
            self.runs.append((keys[order], values[order]))

    def lookup(self, queries: np.ndarray) -> dict[int, list[int]]:
        """``{query position: values}`` for the queries that have any."""
        found: dict[int, list[int]] = {}
        queries = queries.astype(self.key_dtype)
        for keys, values in self.runs:
            left = np.searchsorted(keys, queries, "left")
            right = np.searchsorted(keys, queries, "right")
            for pos in np.flatnonzero(right > left):
                found.setdefault(int(pos), []).extend(values[left[pos]:right[pos]].tolist())
        return found


class _PackedRuns:
    """A multimap from 32-bit keys to 31-bit values, packed ``key << 32 | value`` in sorted
    uint64 runs (as :class:`_SortedRuns`): 8 bytes an entry, sorted in place when merged."""

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        if not len(keys):
            return
        packed = (keys.astype(np.uint64) << np.uint64(32)) | values.astype(np.uint64)
        packed.sort()
        self.runs.append(packed)
        while len(self.runs) > 1 and len(self.runs[-2]) <= 2 * len(self.runs[-1]):
            newer, older = self.runs.pop(), self.runs.pop()
            merged = np.concatenate([older, newer])
            del older, newer
            merged.sort()
            self.runs.append(merged)

    def lookup(self, queries: np.ndarray) -> dict[int, list[int]]:
        """``{query position: values}`` for the queries that have any."""
        found: dict[int, list[int]] = {}
        low = queries.astype(np.uint64) << np.uint64(32)
        high = low | np.uint64(0xFFFFFFFF)
        for packed in self.runs:
            left = np.searchsorted(packed, low, "left")
            right = np.searchsorted(packed, high, "right")
            for pos in np.flatnonzero(right > left):
                values = packed[left[pos]:right[pos]] & np.uint64(0xFFFFFFFF)
                found.setdefault(int(pos), []).extend(values.astype(np.int64).tolist())
        return found

    def nbytes(self) -> int:
        return sum(run.nbytes for run in self.runs)


@dataclasses.dataclass
class _Sketch:
    signature: np.ndarray  # uint32, num_perm values
    size: int  # number of distinct shingles


@dataclasses.dataclass
class Sketches:
    """What a :class:`CopyIndex` needs of ``n`` texts, in place of the texts themselves.

    Made by :meth:`CopyIndex.sketch`; rows of one index's sketches can be persisted
    (:meth:`to_columns`), read back (:meth:`from_columns`) and fed to
    :meth:`CopyIndex.add_sketches`, with the same links as the texts would give.

    Attributes
    ----------
    exact : ndarray of uint64, shape (n,)
        Hash of each text's folded word sequence: equal for exact copies.
    sizes : ndarray of int32, shape (n,)
        Distinct shingles; 0 for a text without a signature (too short for near matching).
    signatures : ndarray of uint8, shape (n, num_perm)
        The low 8 bits of each MinHash value, as the index keeps them (zeros without one).
    bands : ndarray of uint32, shape (n, n_bands)
        LSH band keys, hashed from the full 32-bit MinHash values (which the 8 bits kept cannot
        give back; hence kept too).
    """

    exact: np.ndarray
    sizes: np.ndarray
    signatures: np.ndarray
    bands: np.ndarray

    def __len__(self) -> int:
        return len(self.exact)

    def take(self, rows: Sequence[int] | np.ndarray) -> Sketches:
        """The given rows, in the given order."""
        rows = np.asarray(rows, dtype=np.int64)
        return Sketches(self.exact[rows], self.sizes[rows], self.signatures[rows],
                        self.bands[rows])

    @classmethod
    def concat(cls, parts: Sequence[Sketches]) -> Sketches:
        """The rows of ``parts`` one after another (at least one part)."""
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts])
                     for f in dataclasses.fields(cls)))

    def to_columns(self) -> dict[str, Any]:
        """Columns to persist: ``exact_key`` (uint64 array), ``n_shingles`` (int32 array), and
        ``signature`` (``num_perm`` bytes) and ``bands`` (little-endian uint32 per band), lists
        with None for a text without a signature."""
        has = (self.sizes > 0).tolist()
        bands = self.bands.astype("<u4")
        return {
            "exact_key": self.exact.astype(np.uint64),
            "n_shingles": self.sizes.astype(np.int32),
            "signature": [row.tobytes() if ok else None for row, ok in zip(self.signatures, has)],
            "bands": [row.tobytes() if ok else None for row, ok in zip(bands, has)],
        }

    @classmethod
    def from_columns(cls, exact_key: Sequence[int], n_shingles: Sequence[int],
                     signature: Sequence[bytes | None], bands: Sequence[bytes | None], *,
                     num_perm: int, n_bands: int) -> Sketches:
        """Sketches back from :meth:`to_columns`'s columns, for an index with ``num_perm``
        permutations and ``n_bands`` bands.

        Raises
        ------
        ValueError
            A signature or band field of another length (sketches of other parameters).
        """
        sizes = np.asarray(n_shingles, dtype=np.int32)
        n = len(sizes)
        signatures = np.zeros((n, num_perm), dtype=np.uint8)
        band_keys = np.zeros((n, n_bands), dtype=np.uint32)
        rows = np.flatnonzero(sizes > 0)
        if len(rows):
            sigs = [signature[i] for i in rows]
            keys = [bands[i] for i in rows]
            bad = next((b for b in sigs if b is None or len(b) != num_perm), None)
            if bad is not None or any(b is None or len(b) != 4 * n_bands for b in keys):
                raise ValueError(f"persisted sketches do not fit an index of {num_perm} "
                                 f"permutations and {n_bands} bands; sketch the texts again")
            signatures[rows] = np.frombuffer(b"".join(sigs), np.uint8).reshape(len(rows), -1)
            band_keys[rows] = np.frombuffer(b"".join(keys), "<u4").reshape(len(rows), -1)
        return cls(np.asarray(exact_key, dtype=np.uint64).reshape(n), sizes, signatures,
                   band_keys)


class CopyIndex(Generic[K]):
    """Links each text to the first earlier text it copies, over any number of batches.

    Feed texts in first-occurrence order with :meth:`add_batch`; each gets the key of its
    original (the first occurrence, never a copy) or None. Only originals are indexed.

    Parameters
    ----------
    threshold : float, default 0.8
        Minimum estimated containment of the smaller shingle set in the other for a near
        copy; ``threshold >= 1`` keeps the exact pass only.
    num_perm : int, default 128
        MinHash permutations (accuracy of the estimate against time and memory).
    shingle : int, default 5
        Words per shingle.
    min_words : int, default 0
        Texts with fewer words are matched exactly only (short lines are too easily "similar").
    """

    def __init__(self, *, threshold: float = 0.8, num_perm: int = 128, shingle: int = 5,
                 min_words: int = 0) -> None:
        from datasketch import MinHash, MinHashLSH

        self.threshold, self.num_perm = threshold, num_perm
        self.shingle, self.min_words = shingle, min_words
        self.near = 0 < threshold < 1
        # Candidates come from LSH bands tuned for Jaccard >= MIN_JACCARD with few misses
        # (datasketch's choice; 128 permutations: 30 bands of 4), then each is verified. A looser
        # setting finds the same copies but, in a big corpus, many more chance candidates
        # sharing common phrases: verification cost then grows with the corpus.
        lsh = MinHashLSH(threshold=min(threshold, MIN_JACCARD), num_perm=num_perm,
                         weights=(0.2, 0.8))
        self.bands, self.rows = lsh.b, lsh.r
        self._minhash = MinHash
        self._permutations = MinHash(num_perm, seed=_SEED).permutations
        self._exact = _SortedRuns(np.uint64)  # word-sequence hash -> root slot
        self._band_index = _PackedRuns()  # band key -> root slot
        self._n_roots = 0
        self._batch_keys: list[K] = []  # this batch's originals, by slot - first slot
        self._starts: list[int] = []  # first slot of each chunk below
        # per batch: (keys as a numpy array, uint8 signatures, shingle-set sizes)
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.n_seen = 0

    @property
    def n_originals(self) -> int:
        return self._n_roots

    def nbytes(self) -> int:
        """Memory held by the index's arrays (about all it holds)."""
        return (sum(k.nbytes + v.nbytes for k, v in self._exact.runs)
                + self._band_index.nbytes() + sum(a.nbytes for c in self._chunks for a in c))

    def _key(self, slot: int, first_slot: int) -> K:
        if slot >= first_slot:
            return self._batch_keys[slot - first_slot]
        chunk = bisect.bisect_right(self._starts, slot) - 1
        key = self._chunks[chunk][0][slot - self._starts[chunk]]
        return key.decode("ascii") if isinstance(key, bytes) else key.item()

    def _sketch(self, words: list[str]) -> _Sketch:
        grams = _shingle_hashes(words, self.shingle)
        sketch = self._minhash(self.num_perm, seed=_SEED, hashfunc=int,
                               permutations=self._permutations, scheme="affine32")
        sketch.update_batch(grams.tolist())
        return _Sketch(sketch.hashvalues.astype(np.uint32), len(grams))

    def _band_keys(self, signatures: np.ndarray) -> np.ndarray:
        """(n, bands) uint32 keys: each band's ``rows`` values hashed with the band number."""
        used = signatures[:, : self.bands * self.rows].astype(np.uint64)
        bands = used.reshape(len(signatures), self.bands, self.rows)
        with np.errstate(over="ignore"):
            key = np.zeros(bands.shape[:2], dtype=np.uint64)
            for r in range(self.rows):
                key = (key * np.uint64(0x100000001B3)) ^ bands[:, :, r]
            key ^= (np.arange(self.bands, dtype=np.uint64) + np.uint64(1)) * np.uint64(
                0x9E3779B97F4A7C15)
            key ^= key >> np.uint64(29)
        return (key & np.uint64(0xFFFFFFFF)).astype(np.uint32)

    def _signature(self, slot: int) -> tuple[np.ndarray, int]:
        chunk = bisect.bisect_right(self._starts, slot) - 1
        _, sigs, sizes = self._chunks[chunk]
        row = slot - self._starts[chunk]
        return sigs[row], int(sizes[row])

    @property
    def sketch_params(self) -> dict[str, int | bool]:
        """Everything a :meth:`sketch` depends on: sketches are interchangeable between indexes
        with equal ``sketch_params`` (the threshold only matters through the band layout)."""
        return {"format": SKETCH_FORMAT, "num_perm": self.num_perm, "shingle": self.shingle,
                "seed": _SEED, "min_words": self.min_words, "near": self.near,
                "bands": self.bands, "rows": self.rows}

    def sketch(self, texts: Sequence[str]) -> Sketches:
        """What the index needs of each text (:class:`Sketches`), in order."""
        words = [_words(t) for t in texts]
        n = len(words)
        exact = np.array([_digest(" ".join(w)) for w in words], dtype=np.uint64).reshape(n)
        sizes = np.zeros(n, dtype=np.int32)
        full = np.zeros((n, self.num_perm), dtype=np.uint32)
        for i, w in enumerate(words):
            if self.near and len(w) >= max(self.min_words, 1):
                sketch = self._sketch(w)
                full[i], sizes[i] = sketch.signature, sketch.size
        bands = np.zeros((n, self.bands), dtype=np.uint32)
        rows = np.flatnonzero(sizes > 0)
        if len(rows):
            bands[rows] = self._band_keys(full[rows])
        return Sketches(exact, sizes, full.astype(np.uint8), bands)

    def add_batch(self, keys: Sequence[K], texts: Sequence[str]) -> list[K | None]:
        """The original's key for each text (None: the text is an original), in order."""
        return self.add_sketches(keys, self.sketch(texts))

    def add_sketches(self, keys: Sequence[K], sketches: Sketches) -> list[K | None]:
        """As :meth:`add_batch`, from the texts' :meth:`sketch` (made now or persisted)."""
        if len(keys) != len(sketches):
            raise ValueError(f"{len(keys)} keys for {len(sketches)} sketches")
        if sketches.signatures.shape[1:] != (self.num_perm,) or sketches.bands.shape[1:] != (
                self.bands,):
            raise ValueError(f"sketches of shape {sketches.signatures.shape[1:]} and "
                             f"{sketches.bands.shape[1:]} bands do not fit an index of "
                             f"{self.num_perm} permutations and {self.bands} bands")
        digests, band_keys = sketches.exact, sketches.bands
        sizes = sketches.sizes.tolist()
        sig_rows = [i for i, size in enumerate(sizes) if size > 0]
        old_exact = self._exact.lookup(digests)
        old_bands = self._band_index.lookup(band_keys[sig_rows].ravel()) if sig_rows else {}
        old_candidates: dict[int, set[int]] = {}
        for pos, slots in old_bands.items():
            old_candidates.setdefault(sig_rows[pos // self.bands], set()).update(slots)

        first_slot = self._n_roots
        self._batch_keys = []
        new_exact: dict[int, int] = {}
        new_bands: dict[int, list[int]] = {}
        new_sigs: dict[int, int] = {}  # slot -> row of ``sketches``
        result: list[K | None] = []
        for i, key in enumerate(keys):
            self.n_seen += 1
            digest = int(digests[i])
            slot = old_exact[i][0] if i in old_exact else new_exact.get(digest)
            if slot is not None:
                result.append(self._key(slot, first_slot))
                continue
            best = None
            if sizes[i]:
                candidates = set(old_candidates.get(i, ()))
                for band in band_keys[i].tolist():
                    candidates.update(new_bands.get(band, ()))
                best = self._best(i, sketches, candidates, new_sigs, first_slot)
            if best is not None:
                new_exact[digest] = best
                result.append(self._key(best, first_slot))
                continue
            slot = first_slot + len(self._batch_keys)
            self._batch_keys.append(key)
            new_exact[digest] = slot
            result.append(None)
            if sizes[i]:
                new_sigs[slot] = i
                for band in band_keys[i].tolist():
                    new_bands.setdefault(band, []).append(slot)
        self._freeze(first_slot, new_exact, new_sigs, sketches)
        return result

    def _best(self, row: int, sketches: Sketches, candidates: set[int],
              new_sigs: dict[int, int], first_slot: int) -> int | None:
        best, best_score = None, 0.0
        low, own_size = sketches.signatures[row], int(sketches.sizes[row])
        for candidate in sorted(candidates):
            if candidate >= first_slot:
                other = new_sigs[candidate]
                signature, size = sketches.signatures[other], int(sketches.sizes[other])
            else:
                signature, size = self._signature(candidate)
            # Signatures keep 8 bits per value: unequal values agree by chance 1 time in 256,
            # which this undoes (unbiased Jaccard estimate).
            agree = float(np.count_nonzero(low == signature)) / self.num_perm
            jaccard = max(0.0, (agree - 1 / 256) / (1 - 1 / 256))
            if jaccard < MIN_JACCARD:
                continue
            shared = jaccard * (own_size + size) / (1 + jaccard)
            score = min(1.0, shared / min(own_size, size))
            if score >= self.threshold and score > best_score:
                best, best_score = candidate, score
        return best

    def _freeze(self, first_slot: int, new_exact: dict[int, int], new_sigs: dict[int, int],
                sketches: Sketches) -> None:
        """Move this batch's originals into the sorted runs and the signature store."""
        if new_exact:
            self._exact.add(np.fromiter(new_exact.keys(), np.uint64, len(new_exact)),
                            np.fromiter(new_exact.values(), np.int32, len(new_exact)))
        n_new = len(self._batch_keys)
        if n_new == 0:
            return
        sigs = np.zeros((n_new, self.num_perm), dtype=np.uint8)
        sizes = np.zeros(n_new, dtype=np.int32)
        slots = np.fromiter(new_sigs.keys(), np.int64, len(new_sigs))
        rows = np.fromiter(new_sigs.values(), np.int64, len(new_sigs))
        sigs[slots - first_slot] = sketches.signatures[rows]
        sizes[slots - first_slot] = sketches.sizes[rows]
        keys = self._batch_keys
        if all(isinstance(k, str) and k.isascii() for k in keys):
            stored = np.array([k.encode("ascii") for k in keys])  # 16 bytes per content hash
        else:
            stored = np.array(keys)
        self._starts.append(first_slot)
        self._chunks.append((stored, sigs, sizes))
        self._n_roots += n_new
        self._batch_keys = []
        if len(rows):
            self._band_index.add(sketches.bands[rows].ravel(), np.repeat(slots, self.bands))


def find_copies(
    texts: Sequence[str], *, threshold: float = 0.8, num_perm: int = 128, shingle: int = 5,
    min_words: int = 0,
) -> list[int | None]:
    """For each text (in the given order), the index of the earlier text it copies, or None.

    Parameters as for :class:`CopyIndex`; ``texts`` in first-occurrence order.
    """
    index: CopyIndex[int] = CopyIndex(threshold=threshold, num_perm=num_perm, shingle=shingle,
                                      min_words=min_words)
    return index.add_batch(range(len(texts)), texts)


def article_index(*, threshold: float = 0.8, num_perm: int = 128,
                  shingle: int = ARTICLE_SHINGLE) -> CopyIndex[str]:
    """The index :func:`mark_duplicate_articles` uses (near copies need ``4 * shingle`` words)."""
    return CopyIndex(threshold=threshold, num_perm=num_perm, shingle=shingle,
                     min_words=shingle * 4)


def paragraph_index(*, threshold: float = 0.8, num_perm: int = 64,
                    shingle: int = PARAGRAPH_SHINGLE, min_words: int = 8) -> CopyIndex[str]:
    """The index :func:`mark_duplicate_paragraphs` uses."""
    return CopyIndex(threshold=threshold, num_perm=num_perm, shingle=shingle,
                     min_words=min_words)


def link_batch(index: CopyIndex[str], items: Sequence[T], ids: Sequence[str],
               texts: Sequence[str], replace: Callable[[T, str | None], T]) -> list[T]:
    """``items`` with ``duplicate_of`` set from ``index`` (an item never links to its own id)."""
    originals = index.add_batch(ids, texts)
    return [replace(item, None if dup == own else dup)
            for item, own, dup in zip(items, ids, originals)]


def order_key(article: Article) -> tuple:
    """First-occurrence order of articles: by date (undated last), then id."""
    return (article.date or dt.date.max, article.article_id)


def _set_article_copy(article: Article, dup: str | None) -> Article:
    return dataclasses.replace(article, duplicate_of=dup)


def _set_paragraph_copy(paragraph: Paragraph, dup: str | None) -> Paragraph:
    return dataclasses.replace(paragraph, duplicate_of=dup)


def mark_duplicate_articles(
    articles: Sequence[Article], *, threshold: float = 0.8, num_perm: int = 128,
    shingle: int = ARTICLE_SHINGLE, index: CopyIndex[str] | None = None,
) -> list[Article]:
    """Copies of ``articles`` (sorted by date, then id) with ``duplicate_of`` set on copies.

    Exact copies after normalisation, and near copies whose 5-word shingles are contained
    ``>= threshold`` in an earlier article's (``threshold=1`` for exact only), are one group;
    each copy links to the group's *original*, chosen on the evidence of the texts' own claims,
    then dates (:func:`narrative.syndication.resolve_copies`, which also writes the evidence in
    each member's meta). Articles with the same id (the same outlet, date and text read twice)
    are not linked to each other. ``index``: an :func:`article_index` holding earlier batches
    (the other parameters are then ignored; a group reaching into them keeps the index's link).
    """
    from .syndication import resolve_copies

    ordered = sorted(articles, key=order_key)
    index = index or article_index(threshold=threshold, num_perm=num_perm, shingle=shingle)
    return resolve_copies(link_batch(index, ordered, [a.article_id for a in ordered],
                                     [a.text for a in ordered], _set_article_copy))


def mark_duplicate_paragraphs(
    paragraphs: Sequence[Paragraph], article_order: Sequence[str], *, threshold: float = 0.8,
    num_perm: int = 64, shingle: int = PARAGRAPH_SHINGLE, min_words: int = 8,
    index: CopyIndex[str] | None = None,
) -> list[Paragraph]:
    """Set ``duplicate_of`` on paragraphs repeating an earlier one (articles in ``article_order``).

    Exact repeats (same words after normalisation) link at any length; near repeats need
    ``min_words`` words and 3-word shingles contained ``>= threshold`` in an earlier paragraph's.
    ``index``: a :func:`paragraph_index` holding earlier batches.
    """
    rank = {aid: i for i, aid in enumerate(article_order)}
    ordered = sorted(paragraphs,
                     key=lambda p: (rank.get(p.article_id, len(rank)), p.article_id, p.position))
    index = index or paragraph_index(threshold=threshold, num_perm=num_perm, shingle=shingle,
                                     min_words=min_words)
    return link_batch(index, ordered, [p.paragraph_id for p in ordered],
                      [p.text for p in ordered], _set_paragraph_copy)
