"""Bytes -> text with a recorded decision: UTF-8, UTF-8 with BOM, UTF-16 with BOM, then a guess.

Order: a UTF-16 BOM means UTF-16; a UTF-8 BOM is stripped; valid UTF-8 is UTF-8. Anything else
is guessed: among charset-normalizer's candidates that are common news encodings
(:data:`GUESSABLE`) with a low mess ratio, the least messy wins, Windows-1252 on a tie (short
texts fit several code pages equally); failing that, Windows-1252 when every byte is defined in
it and the text is mostly letters. The guess is recorded (``encoding_guessed``) so a reader can audit
it. NUL bytes mean binary data and are never guessed at.

Streams (CSV, UTF-16 JSONL) are decoded with the error handler named by :func:`keep_bytes`, which
turns each undecodable byte into the lone surrogate U+DC00 + byte instead of failing: decoding goes
on, and :func:`undecodable_byte` finds the damage in the one record that holds it (a lone surrogate
never comes out of a successful decode), so a bad byte costs its record, not the rest of the file.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["DecodeError", "GUESSABLE", "UTF16_BOMS", "decode_bytes", "guess_encoding",
           "keep_bytes", "undecodable_byte"]

UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: Encodings a guess may return (codec names as charset-normalizer spells them).
GUESSABLE = ("cp1252", "latin_1", "iso8859_15", "cp1250", "iso8859_2", "cp1251", "koi8_r",
             "iso8859_5", "cp1253", "cp1254", "iso8859_9", "cp1257", "mac_roman")
_MAX_CHAOS = 0.1
_KEEP_BYTES = "narrative-keep-bytes"
_KEPT_BYTE = re.compile("[\udc00-\udcff]")


def _keep_bytes(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return "".join(chr(0xDC00 + b) for b in err.object[err.start:err.end]), err.end


def keep_bytes() -> str:
    """The name of a codec error handler (``errors=``) that keeps each undecodable byte as the
    lone surrogate U+DC00 + byte; registered on first use."""
    codecs.register_error(_KEEP_BYTES, _keep_bytes)
    return _KEEP_BYTES


def undecodable_byte(text: str) -> tuple[int, int] | None:
    """``(index, byte)`` of the first byte kept by :func:`keep_bytes` in ``text``, or None."""
    try:
        text.encode("utf-8")  # fails at the first surrogate; far quicker than a search
        return None
    except UnicodeEncodeError as err:
        match = _KEPT_BYTE.search(text, err.start)
    return (match.start(), ord(match.group()) - 0xDC00) if match else None


class DecodeError(ValueError):
    """Bytes that are not text this reader accepts; ``position`` is ``"byte N"``."""

    def __init__(self, reason: str, position: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.position = position


def guess_encoding(data: bytes) -> str | None:
    """A likely 8-bit encoding for ``data`` (not UTF-8), or None when nothing fits well."""
    from charset_normalizer import from_bytes

    candidates = []
    for match in from_bytes(data[:200_000]):
        name = match.encoding.lower()
        if name in GUESSABLE and match.chaos <= _MAX_CHAOS:
            try:
                data.decode(name)
            except UnicodeDecodeError:
                continue
            candidates.append((match.chaos, name))
    if candidates:
        best = min(chaos for chaos, _ in candidates)
        tied = [name for chaos, name in candidates if chaos <= best + 0.01]
        # Short texts fit several code pages equally well; Windows-1252 is the commonest.
        return "cp1252" if "cp1252" in tied else tied[0]
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    letters = sum(ch.isalpha() or ch.isspace() for ch in text)
    return "cp1252" if letters >= 0.7 * len(text) else None


def decode_bytes(data: bytes, *, guess: bool = True) -> tuple[str, str, bool]:
    """Decode a whole file; returns ``(text, encoding, guessed)``.

    ``encoding`` is ``"utf-8"``, ``"utf-8-sig"`` (BOM stripped), ``"utf-16"`` (BOM present) or a
    guessed codec name (``guessed`` True). ``guess=False`` rejects what is not UTF-8/16.

    Raises
    ------
    DecodeError
        NUL bytes (a binary file), bad UTF-16, or bytes that fit no encoding well.
    """
    if data.startswith(UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise DecodeError(f"undecodable text: invalid UTF-16 ({err.reason}) at byte "
                              f"{err.start}", f"byte {err.start}") from err
        encoding, guessed = "utf-16", False
    else:
        nul = data.find(b"\x00")
        if nul >= 0:
            raise DecodeError(f"binary file (NUL byte at byte {nul})", f"byte {nul}")
        encoding, offset = ("utf-8-sig", 3) if data.startswith(codecs.BOM_UTF8) else ("utf-8", 0)
        guessed = False
        try:
            text = data[offset:].decode("utf-8")
        except UnicodeDecodeError as err:
            at = err.start + offset
            name = guess_encoding(data[offset:]) if guess else None
            if name is None:
                raise DecodeError(
                    f"undecodable text: not UTF-8 (byte 0x{data[at]:02x} at byte {at}), no "
                    "UTF-16 BOM, and no 8-bit encoding fits; re-save the file as UTF-8",
                    f"byte {at}") from err
            text, encoding, guessed = data[offset:].decode(name), name, True
    nul = text.find("\x00")
    if nul >= 0:
        raise DecodeError(f"binary file (NUL character at character {nul})", f"byte {nul}")
    return text, encoding, guessed
