"""What the ``narrative`` client and a resident ``narrative serve`` share: where the socket is,
how messages are framed, who may talk to whom, and the identity of the code a process runs.

Imported on every ``narrative`` invocation (through :mod:`narrative.runtime.client`), so it uses
the standard library only. See :mod:`narrative.runtime.serve` for the server.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import sys
import tempfile
from pathlib import Path
from typing import Dict, Optional

__all__ = ["ENV", "HEADER", "IMPORT_TIME_ENV", "fingerprint", "import_time_env", "is_ours",
           "peer_uid", "read_message", "send_message", "socket_path"]

ENV = "NARRATIVE_SERVER"
"""Socket path of the server; ``off`` makes ``narrative`` never use one."""

HEADER = struct.Struct("!I")

IMPORT_TIME_ENV = ("PYTHON", "NUMBA_", "OMP_", "MKL_", "OPENBLAS_", "TORCH", "PYTORCH_", "CUDA_",
                   "HF_", "TRANSFORMERS_", "SENTENCE_TRANSFORMERS_", "TOKENIZERS_", "MPL",
                   "NARRATIVE_NUMBA_CACHE")
"""Prefixes of environment variables that libraries read when imported (or at interpreter start):
a client whose values differ from the server's runs its command itself, as a fresh process would
read them."""


def socket_path() -> Optional[Path]:
    """Where the server listens: ``$NARRATIVE_SERVER``, else a per-user folder; None when off."""
    configured = os.environ.get(ENV, "").strip()
    if configured.lower() in ("off", "0", "no", "false"):
        return None
    if configured:
        return Path(configured).expanduser()
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "narrative" if runtime else Path(tempfile.gettempdir()) / f"narrative-{os.getuid()}"
    return base / "serve.sock"


def peer_uid(sock: socket.socket) -> Optional[int]:
    """The user id of the process at the other end of a connected Unix socket (Linux's
    SO_PEERCRED: pid, uid, gid); None where the system does not tell."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def is_ours(path: Path, sock: socket.socket) -> bool:
    """Whether the socket file and the process behind it belong to this user (the request
    carries the environment, which may hold secrets)."""
    return path.stat().st_uid == os.getuid() and peer_uid(sock) in (None, os.getuid())


def fingerprint() -> str:
    """Identity of the code this process runs: interpreter, version, every package file's size and mtime."""
    from .._version import __version__

    package = Path(__file__).resolve().parent.parent  # the whole narrative package
    digest = hashlib.sha256(f"{sys.executable}\0{__version__}".encode())
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(folder, name)
            info = os.stat(path)
            digest.update(f"{os.path.relpath(path, package)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def read_message(reader) -> Optional[dict]:
    line = reader.readline()
    return json.loads(line) if line else None


def import_time_env(env) -> Dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(IMPORT_TIME_ENV)}


def send_message(sock: socket.socket, message: dict) -> None:
    try:
        sock.sendall(json.dumps(message).encode() + b"\n")
    except OSError:
        pass  # the client is gone; its child is interrupted by the server loop
