"""Input files, gzip-compressed or not, opened so that a decompression bomb cannot fill memory.

A ``NAME.gz`` file is inflated as a stream, never whole. Two guards bound it:

- a ratio guard: once :data:`RATIO_AFTER` bytes have come out, a file that has expanded more
  than :data:`MAX_RATIO` times its compressed size so far stops with :class:`ExpansionError`
  (text compresses a few times over; only a file built to expand gets near gzip's limit of
  about 1,000 times);
- an absolute cap for whole-file reads (:func:`read_limited`), which the callers derive from
  their ``max_chars`` limit, so a document is never inflated past what could be an article.

Readers of records (JSONL lines, CSV rows) bound each record themselves and let the ratio guard
bound the file; :class:`ExpansionError` is an :class:`OSError`, so a reader that stops on it
rejects the rest of the file with its message as the reason.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import BinaryIO

__all__ = ["MAX_RATIO", "RATIO_AFTER", "ExpansionError", "is_compressed", "open_input",
           "read_limited"]

#: A compressed file may expand to at most this many times the compressed bytes read so far...
MAX_RATIO = 100
#: ... once this many bytes have come out of it (small files may expand more: they are small).
RATIO_AFTER = 2**20
_BUFFER = 64 * 1024


class ExpansionError(OSError):
    """A compressed input that expands past a bound (a decompression bomb, or a file too big)."""


def is_compressed(path: Path) -> bool:
    """True for a gzip-compressed input (``NAME.gz``)."""
    return path.name.lower().endswith(".gz")


class _CountingReader(io.RawIOBase):
    """A raw file that counts the bytes read from it (the compressed side of a gzip stream)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.n_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.n_read += n or 0
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


class _BoundedGzip(io.RawIOBase):
    """The inflated bytes of a gzip file; raises :class:`ExpansionError` past the ratio guard."""

    def __init__(self, path: Path, *, max_ratio: float, ratio_after: int) -> None:
        self._compressed = _CountingReader(open(path, "rb", buffering=0))
        self._gzip = gzip.GzipFile(fileobj=self._compressed, mode="rb")
        self._max_ratio = max_ratio
        self._ratio_after = ratio_after
        self.n_out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._gzip.readinto1(buffer)  # what one read gives: a file that breaks off later
        self.n_out += n                   # still yields the bytes before the break
        n_in = max(self._compressed.n_read, 1)
        if self.n_out > self._ratio_after and self.n_out > self._max_ratio * n_in:
            raise ExpansionError(
                f"compressed file expands over {self._max_ratio:g} times its size ({n_in:,} "
                f"bytes gave over {self.n_out:,}): a decompression bomb? If the data is genuine, "
                "decompress it and read the plain file")
        return n

    def close(self) -> None:
        self._gzip.close()
        self._compressed.close()
        super().close()


def open_input(path: Path) -> io.BufferedReader:
    """A buffered binary stream of the file's content, inflated (with the ratio guard) when
    the name ends in ``.gz``; ``peek`` sees at least the first 64 KiB of a plain file."""
    if is_compressed(path):
        raw = _BoundedGzip(path, max_ratio=MAX_RATIO, ratio_after=RATIO_AFTER)
        return io.BufferedReader(raw, buffer_size=_BUFFER)
    return open(path, "rb", buffering=_BUFFER)


def read_limited(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of the file's content: more than ``limit`` means too big,
    and nothing past that is read (or inflated)."""
    with open_input(path) as handle:
        return handle.read(limit + 1)
