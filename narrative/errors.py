"""Every user-facing error of the package, under one base.

:class:`NarrativeError` means "the job cannot be done as asked" (bad input, bad settings, an
unusable file, an unknown run): the CLI prints its first line as ``narrative: error: ...`` and
exits 1. Anything else that escapes is a bug and keeps its traceback. Each class also derives
from the builtin it used to be (``ValueError``, ``RuntimeError``, ...) so that existing
``except`` clauses keep working.
"""

from __future__ import annotations

__all__ = [
    "BoilerplateError", "CodebookError", "ConfigError", "CorpusError", "InputError",
    "ManifestError", "ModelFileError", "NarrativeError", "NotFittedError", "OutputError",
    "SchedulerUnreachable", "ServeError", "StoreError", "StoreLockedError",
]


class NarrativeError(Exception):
    """Base of every error that means bad input or usage, not a bug; its message says what to do."""


class InputError(NarrativeError, ValueError):
    """The input holds nothing that can be used (no readable article, a missing source)."""


class ConfigError(NarrativeError, ValueError):
    """A settings file, environment variable or flag that cannot be used."""


class OutputError(NarrativeError, OSError):
    """An output path that cannot be written (a file where a folder is needed, read-only, full)."""


class CodebookError(NarrativeError, ValueError):
    """A codebook file that cannot be used; the message names the file, entry and field."""


class BoilerplateError(NarrativeError, ValueError):
    """A rules file that cannot be used; the message names the file and the rule."""


class ManifestError(NarrativeError, ValueError):
    """The manifest cannot be used at all (unreadable, bad header, no ``file`` column)."""


class CorpusError(NarrativeError, ValueError):
    """A JSONL corpus that cannot be evaluated; the message names the file, line and field."""


class StoreError(NarrativeError, RuntimeError):
    """The store cannot be opened or used; the message says why and what to do."""


class StoreLockedError(StoreError):
    """Another process holds the store open for writing."""


class ModelFileError(NarrativeError, RuntimeError):
    """A model directory that is missing, tampered with, unsafe or from another format."""


class NotFittedError(NarrativeError, RuntimeError):
    """A method that needs a fitted model was called before ``fit``."""


class SchedulerUnreachable(NarrativeError, ConnectionError):
    """No Dask scheduler answered at the address given."""


class ServeError(NarrativeError, RuntimeError):
    """The server cannot start (socket in use, unsafe folder, platform without fork)."""
