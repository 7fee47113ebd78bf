"""Small, safe file-system helpers: atomic writes, output folders, CSV files, and file names derived
from untrusted text.

Reports, figures and models are written next to the user's other files, so a crash or a Ctrl-C must
never leave a half-written file under the final name, a narrative or outlet name (which comes from
article text or a codebook) must never become a path that escapes the output folder nor a formula a
spreadsheet runs, and an output that cannot be written (a file where a folder should be, a read-only
or full disk) is an :class:`~narrative.errors.OutputError` naming the path, not a traceback.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import OutputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CODE_SUFFIXES", "FORMULA_STARTS", "atomic_write_bytes", "atomic_write_text",
           "check_output_file", "csv_safe", "from_the_os", "fsync_dir", "output_error",
           "prepare_output_dir", "remove_stale_temporaries", "safe_filename", "temp_prefix",
           "write_csv"]

#: Suffixes of file formats that can run code when loaded (pickle and its relatives: joblib,
#: torch ``.bin``/``.pt``, numpy object arrays): model folders holding one are refused.
CODE_SUFFIXES = frozenset({".pkl", ".pickle", ".bin", ".joblib", ".pt", ".pth", ".ckpt", ".npy",
                           ".npz", ".dill", ".sav", ".cloudpickle"})

#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: What to do about an output that cannot be written, by errno.
_ADVICE = {
    errno.ENOSPC: "free some disk space or choose another output folder",
    errno.EDQUOT: "free some disk space or choose another output folder",
    errno.EROFS: "choose an output folder on a writable disk",
    errno.EACCES: "choose an output folder you may write to",
    errno.EPERM: "choose an output folder you may write to",
    errno.EISDIR: "it is a folder: give a file name",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
    errno.EEXIST: "a file is in the way of a folder: choose another path",
}

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

    The bytes go to a hidden temporary file in the same folder (``.<name>.<pid>.<random>.tmp``), are
    flushed and fsynced, then renamed over ``path`` with :func:`os.replace` (atomic on POSIX and
    Windows). On any exception, ``KeyboardInterrupt`` included, the temporary file is removed and the
    exception re-raised; ``path`` is left untouched. Missing parent folders are created. A process
    killed outright (SIGKILL, power loss) cannot clean up, so temporaries of ``path`` left by a dead
    process are removed first (see :func:`remove_stale_temporaries`).

    Returns
    -------
    Path
        The path written.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes; got {type(data).__name__} (use atomic_write_text for str)")
    target = Path(path)
    try:
        return _atomic_write(target, data)
    except OSError as exc:
        if not from_the_os(exc):
            raise
        raise output_error(target, exc) from exc


def _atomic_write(target: Path, data: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir():  # os.replace would report the temporary file's name, not this one
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    try:
        mode = target.stat().st_mode & 0o7777  # keep the permissions of the file we replace
    except FileNotFoundError:
        mode = _default_mode()
    remove_stale_temporaries(target)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=temp_prefix(target), suffix=".tmp")
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
    fsync_dir(target.parent)
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` atomically (see :func:`atomic_write_bytes`); newlines are written as given."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str; got {type(text).__name__}")
    return atomic_write_bytes(path, text.encode(encoding))


def from_the_os(exc: OSError) -> bool:
    """Whether ``exc`` is the file system refusing (it carries an errno: full, read-only, a file in
    the way), which an :class:`OutputError` reports in one line; an OSError without one was raised
    by code, not by the OS, and keeps its traceback."""
    return exc.errno is not None and not isinstance(exc, OutputError)


def output_error(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    """``exc`` (raised while writing ``path``) as a one-line :class:`OutputError` that names the
    path, the reason and what to do."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    advice = _ADVICE.get(exc.errno or 0, "check the path and the disk")
    return OutputError(f"cannot write {path}: {reason}; {advice}")


def prepare_output_dir(path: str | os.PathLike[str]) -> Path:
    """Create the output folder ``path`` if needed and check that files can be written in it.

    Called before any long work, so that a file in the way, a read-only disk or a missing
    permission is an :class:`OutputError` naming the folder at once, not after the ingest.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write to {folder}: it is a file, not a folder; "
                          "give --out a folder (new or existing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=temp_prefix(folder / "probe"), suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if not from_the_os(exc):
            raise
        raise output_error(folder, exc) from exc
    return folder


def check_output_file(path: str | os.PathLike[str]) -> Path:
    """Check, before any work, that ``path`` can be written as a file: not a folder, and its
    folder can be created and written in (:func:`prepare_output_dir`)."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a folder; give a file name, "
                          f"e.g. {target / 'suggested.yaml'}")
    prepare_output_dir(target.parent)
    return target


def csv_safe(value: Any) -> Any:
    """``value`` with a ``'`` in front when it is text a spreadsheet would run as a formula
    (starting with ``= + - @``, a tab or a carriage return: OWASP's guidance); anything else,
    numbers included, unchanged. The text stays readable: ``'=HYPERLINK(...)``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(path: str | os.PathLike[str], frame: "pd.DataFrame", *,
              float_format: str | None = None) -> Path:
    """Write ``frame`` (no index) as CSV to ``path`` atomically, every text cell and column name
    passed through :func:`csv_safe`: the one way the package writes a CSV file.

    Number columns are written as numbers (a negative share or magnitude stays ``-0.25``); only
    text can be read as a formula.
    """
    import pandas as pd

    types = pd.api.types
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if not (types.is_numeric_dtype(values) or types.is_datetime64_any_dtype(values)
                or types.is_timedelta64_dtype(values)):  # these keep their own formatting
            safe[column] = values.map(csv_safe)
    safe.columns = [csv_safe(c) for c in safe.columns]
    text = safe.to_csv(index=False, float_format=float_format, lineterminator="\n")
    return atomic_write_text(path, text)


def temp_prefix(target: str | os.PathLike[str]) -> str:
    """Name prefix of this process's temporaries for ``target``: ``.<name>.<pid>.``."""
    return f".{Path(target).name}.{os.getpid()}."


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (always assumed alive where we cannot tell)."""
    if os.name != "posix":  # os.kill(pid, 0) is no probe on Windows: it would stop the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists but belongs to someone else
        return True
    return True


def remove_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporaries of ``target`` (``.<name>.<pid>.*.tmp`` beside it) whose process is dead.

    A writer killed between writing its temporary file (or folder) and renaming it leaves it behind;
    the next writer of the same target removes it. Temporaries of live processes (a concurrent
    writer) and names without a pid are left alone. Returns what was removed.
    """
    import shutil

    target = Path(target)
    head = f".{target.name}."
    removed = []
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return removed
    for path in siblings:
        name = path.name
        if not (name.startswith(head) and name.endswith(".tmp")):
            continue
        pid = name[len(head):].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _pid_alive(int(pid)):
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:  # another process cleaned it first
            continue
        removed.append(path)
    return removed


def fsync_dir(folder: Path) -> None:
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
