"""Small, safe file-system helpers: atomic writes and file names derived from untrusted text.

Reports, figures and models are written next to the user's other files, so a crash or a Ctrl-C must
never leave a half-written file under the final name, and a narrative or outlet name (which comes from
article text or a codebook) must never become a path that escapes the output folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "safe_filename"]

# Names Windows reserves for devices, with or without an extension ("con.png" is still CON).
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin", "conout"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_HASH_LEN = 8
_MIN_LEN = _HASH_LEN + 2


def _default_mode() -> int:
    """Permissions a plain ``open(path, "w")`` would give a new file (0o666 minus the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one.

    The bytes go to a hidden temporary file in the same folder (``.<name>.<random>.tmp``), are flushed
    and fsynced, then renamed over ``path`` with :func:`os.replace` (atomic on POSIX and Windows). On
    any exception, ``KeyboardInterrupt`` included, the temporary file is removed and the exception
    re-raised; ``path`` is left untouched. Missing parent folders are created.

    Returns
    -------
    Path
        The path written.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes; got {type(data).__name__} (use atomic_write_text for str)")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o7777  # keep the permissions of the file we replace
    except FileNotFoundError:
        mode = _default_mode()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(target.parent)
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` atomically (see :func:`atomic_write_bytes`); newlines are written as given."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str; got {type(text).__name__}")
    return atomic_write_bytes(path, text.encode(encoding))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it (POSIX); ignore elsewhere."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def safe_filename(name: str, max_len: int = 80) -> str:
    """A deterministic file-name stem (and HTML id) made of ``[a-z0-9-]`` only.

    Accents are folded (``"Épée"`` -> ``"epee"``), every other run of characters becomes ``-``.
    When the slug differs from ``name`` (anything was folded, dropped or truncated) or would be a
    Windows device name, an 8-hex-digit hash of the original name is appended, so two different names
    never share a slug by accident and the same name always gets the same one. The result is never
    empty and never contains ``.``, ``/``, ``\\`` or NUL.

    Parameters
    ----------
    name : str
        Any text, possibly hostile (``"../../etc/passwd"``, ``"CON"``, NUL bytes, 10 kB of text).
    max_len : int, default=80
        Longest result allowed; must be at least 10 (room for the hash).
    """
    if max_len < _MIN_LEN:
        raise ValueError(f"max_len must be >= {_MIN_LEN} to leave room for the hash; got {max_len}")
    name = str(name)
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = _NOT_SLUG.sub("-", folded).strip("-")
    if slug and slug == name and len(slug) <= max_len and slug not in _WINDOWS_RESERVED:
        return slug
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LEN]
    base = slug[: max_len - _HASH_LEN - 1].rstrip("-") or "x"
    return f"{base}-{digest}"
