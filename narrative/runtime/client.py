"""The client side of ``narrative serve``: send a command to a resident server, or stop it.

:func:`forward` is called on every ``narrative`` invocation before the CLI parses anything, so
this module (and :mod:`.protocol`) use the standard library only.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from .protocol import HEADER, fingerprint, is_ours, read_message, socket_path

__all__ = ["forward", "stop"]

def forward(argv: Sequence[str], *, err=None) -> Optional[int]:
    """Run ``narrative ARGV`` in a running server; its exit status, or None to run it here.

    None when no server is configured or listening, when the command is ``serve`` or help, or
    when the server runs other code than this process.
    """
    err = err or sys.stderr
    if not argv or argv[0] == "serve" or any(a in ("--help", "-h") for a in argv):
        return None
    if not hasattr(socket, "send_fds"):
        return None
    path = socket_path()
    if path is None or not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:  # a socket file left by a server that is gone
        sock.close()
        return None
    with sock:
        if not is_ours(path, sock):
            print(f"narrative: {path} is not your server's socket; running here", file=err)
            return None
        # Relay Ctrl-C and SIGTERM from the moment the request leaves: the server passes them on
        # to the command's process once it is forked.
        signals: List[int] = []

        def relay(signum, frame):
            signals.append(signum)
            try:
                sock.sendall(b"TERM\n" if signum == signal.SIGTERM else b"INT\n")
            except OSError:
                pass

        previous = {s: signal.signal(s, relay) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            status = _exchange(sock, argv, path, err)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        if status is None and signals:  # not served, and interrupted meanwhile
            raise KeyboardInterrupt
        return status


def _exchange(sock: socket.socket, argv: Sequence[str], path: Path, err) -> Optional[int]:
    """Send the request; the command's exit status, or None when the server declines it."""
    request = json.dumps({
        "argv": list(argv), "cwd": os.getcwd(), "env": dict(os.environ),
        "fingerprint": fingerprint(),
    }).encode()
    try:
        socket.send_fds(sock, [HEADER.pack(len(request))], [0, 1, 2])
        sock.sendall(request)
    except OSError:
        pass  # a server that refuses a client answers and hangs up at once: read why
    try:
        reader = sock.makefile("rb")
        first = read_message(reader)
    except (OSError, ValueError):
        return None
    if first is None:
        return None
    if "stale" in first:
        print(f"narrative: not using the server at {path}: {first['stale']}; "
              "running here (restart `narrative serve` to use it)", file=err)
        return None
    if "refused" in first:
        print(f"narrative: the server at {path} refused the command: {first['refused']}; "
              "running here", file=err)
        return None
    while True:  # the command runs; wait for its exit status
        message = read_message(reader)
        if message is None:
            print("narrative: error: the server went away before the command finished", file=err)
            return 1
        if "exit" in message:
            return int(message["exit"])


def stop(path: Path) -> Optional[dict]:
    """Ask the server on ``path`` to stop: it stops listening at once and exits when the commands
    it runs have finished. Its answer (``{"stopping": pid, "running": n}``), or None when no
    server of this user listens there. A server running other code is stopped too (that is the
    usual reason to stop one)."""
    if not hasattr(socket, "send_fds") or not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None
    with sock:
        if not is_ours(path, sock):
            return None
        request = json.dumps({"stop": True}).encode()
        try:
            socket.send_fds(sock, [HEADER.pack(len(request))], [0, 1, 2])
            sock.sendall(request)
            answer = read_message(sock.makefile("rb"))
        except (OSError, ValueError):
            return None
        return answer if answer and "stopping" in answer else None
