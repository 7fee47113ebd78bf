"""A resident ``narrative`` process: imports paid once, each command run in a fork of it.

A fresh ``narrative build`` spends most of a small job importing torch, transformers, BERTopic,
UMAP and matplotlib (about 8 s on 2 cores, against 7 s for the whole job on the five seed files).
``narrative serve`` imports them once and listens on a Unix socket. The ``narrative`` command,
when a server answers there, sends it its arguments, working folder, environment and its three
standard streams (passed as file descriptors, so progress bars and colours reach the terminal);
the server forks a child that runs the command exactly as the CLI would and reports its exit
status back. Ctrl-C and SIGTERM on the client are passed on to the child; a client that goes away
interrupts its child. ``narrative serve --stop`` (:func:`stop`) asks the server to stop listening
and to exit once the commands it runs have finished; Ctrl-C or SIGTERM on the server stops it at
once, interrupting them.

The server only imports: nothing runs torch, numba or OpenMP before a fork, so every child starts
with fresh thread pools (a pool used before ``fork`` can hang the child). Each child still loads
the model weights (under a second) and numba's cached machine code.

A server runs the code it imported. The client sends a fingerprint of the installed package (file
sizes and modification times, interpreter, version) and its environment; a server whose code, or
whose variables read at import (:data:`IMPORT_TIME_ENV`), differ declines and the command runs in
the client's own process, with a note to restart the server.

This module is imported on every ``narrative`` invocation, so it uses the standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import stat
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence
from narrative.errors import ServeError  # noqa: F401 (defined in errors, raised here)

ENV = "NARRATIVE_SERVER"
"""Socket path of the server; ``off`` makes ``narrative`` never use one."""

PRELOAD = (
    "narrative.cli", "narrative.pipeline", "narrative.runs", "narrative.report",
    "narrative.figures", "narrative.drift", "narrative.store", "narrative.ingest",
    "narrative.dedup", "narrative.model", "narrative.embed",
    "numpy", "pandas", "pyarrow", "duckdb", "scipy.sparse", "sklearn.feature_extraction.text",
    "torch", "transformers", "sentence_transformers", "bertopic", "umap", "hdbscan",
    "matplotlib.pyplot", "datasketch",
)
"""Modules imported before the first fork (a missing optional one is skipped)."""

_HEADER = struct.Struct("!I")

IMPORT_TIME_ENV = ("PYTHON", "NUMBA_", "OMP_", "MKL_", "OPENBLAS_", "TORCH", "PYTORCH_", "CUDA_",
                   "HF_", "TRANSFORMERS_", "SENTENCE_TRANSFORMERS_", "TOKENIZERS_", "MPL",
                   "NARRATIVE_NUMBA_CACHE")
"""Prefixes of environment variables that libraries read when imported (or at interpreter start):
a client whose values differ from the server's runs its command itself, as a fresh process would
read them."""


_SET_BY_IMPORTS: Dict[str, str] = {}
"""Environment variables the server's imports set (torch sets KMP_INIT_AT_FORK, for one); kept
in each child under the client's environment."""


class _Identity(NamedTuple):
    """What a client must share with the server to be served by it."""

    fingerprint: str  # of the package files (:func:`fingerprint`)
    env: Dict[str, str]  # import-time variables (:data:`IMPORT_TIME_ENV`) as the server started



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


def _ours(path: Path, sock: socket.socket) -> bool:
    """Whether the socket file and the process behind it belong to this user (the request
    carries the environment, which may hold secrets)."""
    if path.stat().st_uid != os.getuid():
        return False
    if hasattr(socket, "SO_PEERCRED"):  # Linux: pid, uid, gid of the listening process
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", creds)[1] == os.getuid()
    return True


def fingerprint() -> str:
    """Identity of the code this process runs: interpreter, version, every package file's size and mtime."""
    from . import __version__

    package = Path(__file__).resolve().parent
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


# --------------------------------------------------------------------------- client


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
        if not _ours(path, sock):
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
        socket.send_fds(sock, [_HEADER.pack(len(request))], [0, 1, 2])
        sock.sendall(request)
        reader = sock.makefile("rb")
        first = _read_message(reader)
    except OSError:
        return None
    if first is None:
        return None
    if "stale" in first:
        print(f"narrative: not using the server at {path}: {first['stale']}; "
              "running here (restart `narrative serve` to use it)", file=err)
        return None
    while True:  # the command runs; wait for its exit status
        message = _read_message(reader)
        if message is None:
            print("narrative: error: the server went away before the command finished", file=err)
            return 1
        if "exit" in message:
            return int(message["exit"])


def _read_message(reader) -> Optional[dict]:
    line = reader.readline()
    return json.loads(line) if line else None


def _import_time_env(env) -> Dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(IMPORT_TIME_ENV)}


def _send_message(sock: socket.socket, message: dict) -> None:
    try:
        sock.sendall(json.dumps(message).encode() + b"\n")
    except OSError:
        pass  # the client is gone; its child is interrupted by the server loop


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
        if not _ours(path, sock):
            return None
        request = json.dumps({"stop": True}).encode()
        try:
            socket.send_fds(sock, [_HEADER.pack(len(request))], [0, 1, 2])
            sock.sendall(request)
            return _read_message(sock.makefile("rb"))
        except (OSError, ValueError):
            return None


# --------------------------------------------------------------------------- server


def serve(path: Path, *, preload: Sequence[str] = PRELOAD, log: Callable[[str], None] = print,
          run: Optional[Callable[[List[str]], int]] = None) -> None:
    """Import ``preload``, listen on ``path`` and fork one child per request until SIGINT/SIGTERM.

    ``run`` executes a command's argv in the child and returns its exit status (default: the
    ``narrative`` CLI).
    """
    if not hasattr(os, "fork") or not hasattr(socket, "recv_fds"):
        raise ServeError("narrative serve needs a POSIX system (fork and Unix sockets)")
    listener = _listen(path)
    bound = path.stat().st_ino
    try:
        started = time.perf_counter()
        before = dict(os.environ)  # before the imports set any
        imported = _preload(preload)
        _SET_BY_IMPORTS.update({k: v for k, v in os.environ.items() if before.get(k) != v})
        own = _Identity(fingerprint(), _import_time_env(before))
        log(f"narrative serve: listening on {path} ({imported} modules imported in "
            f"{time.perf_counter() - started:.1f} s); Ctrl-C stops")
        _loop(listener, own, run or _run_cli, log, lambda: _unlink_if(path, bound))
    finally:
        listener.close()
        _unlink_if(path, bound)


def _unlink_if(path: Path, inode: int) -> None:
    """Remove the socket file if it is still the one this server bound (after ``--stop`` a new
    server may listen there while this one waits for its commands)."""
    try:
        if path.stat().st_ino == inode:
            path.unlink()
    except FileNotFoundError:
        pass


def _listen(path: Path) -> socket.socket:
    """Bind the socket, readable by this user only; refuse a socket another server holds."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if folder.stat().st_uid != os.getuid():
        raise ServeError(f"{folder} belongs to another user: set {ENV} to a socket path of yours")
    if path.exists() and not stat.S_ISSOCK(path.stat().st_mode):
        raise ServeError(f"{path} exists and is not a socket: choose another path")
    if path.exists():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # left by a server that was killed
        else:
            raise ServeError(f"a server already listens on {path}")
        finally:
            probe.close()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    umask = os.umask(0o177)  # the socket is created 0600: no moment where others could connect
    try:
        listener.bind(str(path))
    finally:
        os.umask(umask)
    listener.listen(16)
    return listener


def _preload(modules: Sequence[str]) -> int:
    import importlib

    count = 0
    for name in modules:
        try:
            importlib.import_module(name)
            count += 1
        except ImportError:
            pass
    return count


def _loop(listener: socket.socket, own: "_Identity", run, log,
          on_stop: Callable[[], None] = lambda: None) -> None:
    """Serve until SIGINT/SIGTERM (running commands are interrupted) or a stop request (they
    finish first); ``on_stop`` runs when the server stops listening."""
    import selectors

    wake_read, wake_write = socket.socketpair()
    wake_read.setblocking(False)
    wake_write.setblocking(False)
    stopping: List[int] = []
    previous_wake = signal.set_wakeup_fd(wake_write.fileno())
    handlers = {
        signal.SIGCHLD: signal.signal(signal.SIGCHLD, lambda s, f: None),
        signal.SIGINT: signal.signal(signal.SIGINT, lambda s, f: stopping.append(s)),
        signal.SIGTERM: signal.signal(signal.SIGTERM, lambda s, f: stopping.append(s)),
    }
    children: Dict[int, tuple] = {}  # pid -> (client connection, start time)
    draining = False  # a stop request came: no new commands, running ones finish
    interrupted: set = set()  # children sent SIGINT
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_read, selectors.EVENT_READ, "wake")
    try:
        while not ((stopping or draining) and not children):
            if (stopping or draining) and listener.fileno() >= 0:
                selector.unregister(listener)
                listener.close()
                on_stop()
            if stopping:  # Ctrl-C or SIGTERM, also while draining: interrupt each child once
                for pid in children.keys() - interrupted:
                    _signal(pid, signal.SIGINT)
                    interrupted.add(pid)
            for key, _ in selector.select(timeout=1.0):
                if key.data == "accept":
                    conn, _ = listener.accept()
                    request = _receive(conn, own)
                    if request is None:
                        conn.close()
                        continue
                    if request.get("stop"):
                        _send_message(conn, {"stopping": os.getpid(), "running": len(children)})
                        conn.close()
                        log(f"narrative serve: stop requested; {len(children)} running "
                            "command(s) finish first" if children else
                            "narrative serve: stop requested")
                        draining = True
                        continue
                    pid = _fork_child(conn, request, listener, wake_read, wake_write, children, run)
                    for fd in request["fds"]:
                        os.close(fd)  # the child has them now
                    children[pid] = (conn, time.perf_counter())
                    selector.register(conn, selectors.EVENT_READ, pid)  # the client's signals
                elif key.data == "wake":
                    try:
                        while wake_read.recv(512):
                            pass
                    except BlockingIOError:
                        pass
                else:
                    _relay(key.fileobj, key.data, selector, children)
            _reap(children, selector, log)
    finally:
        selector.close()
        signal.set_wakeup_fd(previous_wake)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        wake_read.close()
        wake_write.close()


def _relay(conn: socket.socket, pid: int, selector, children) -> None:
    """A client sent a signal name or hung up: pass SIGINT/SIGTERM on to its child."""
    try:
        data = conn.recv(64)
    except OSError:
        data = b""
    if not data:  # the client is gone: interrupt its command, as Ctrl-C would
        selector.unregister(conn)
        _signal(pid, signal.SIGINT)
        return
    for word in data.split():
        _signal(pid, signal.SIGTERM if word == b"TERM" else signal.SIGINT)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _reap(children, selector, log) -> None:
    """Collect finished children and send each client its command's exit status."""
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        entry = children.pop(pid, None)
        if entry is None:
            continue
        conn, started = entry
        exit_code = os.waitstatus_to_exitcode(status)
        exit_code = 128 - exit_code if exit_code < 0 else exit_code  # killed by a signal: 128 + N
        _send_message(conn, {"exit": exit_code})
        log(f"narrative serve: child {pid} exited {exit_code} after {time.perf_counter() - started:.1f} s")
        try:
            selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()


def _receive(conn: socket.socket, own: "_Identity") -> Optional[dict]:
    """Read a client's request and its three file descriptors; None (client told) if unusable.

    Read here, before the fork, so that afterwards everything the client sends on the connection
    is a signal to relay.
    """
    conn.settimeout(10)
    fds: List[int] = []
    try:
        header, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 3)
        (size,) = _HEADER.unpack(header)
        payload = b""
        while len(payload) < size:
            chunk = conn.recv(size - len(payload))
            if not chunk:
                raise ConnectionError("client closed the connection mid-request")
            payload += chunk
        request = json.loads(payload)
        if len(fds) != 3:
            raise ConnectionError("the client sent no standard streams")
    except (OSError, ValueError, struct.error):
        for fd in fds:
            os.close(fd)
        return None
    conn.settimeout(None)
    if request.get("stop") is True:  # from any version of narrative: no fingerprint check
        for fd in fds:
            os.close(fd)
        return {"stop": True}
    mismatch = None
    theirs = _import_time_env(request.get("env", {}))
    if request.get("fingerprint") != own.fingerprint:
        mismatch = "its package files differ from yours"
    elif theirs != own.env:
        differ = {k for k in theirs.keys() | own.env.keys() if theirs.get(k) != own.env.get(k)}
        mismatch = "it was started with other " + ", ".join(sorted(differ))
    if mismatch:
        _send_message(conn, {"stale": mismatch})
        for fd in fds:
            os.close(fd)
        return None
    request["fds"] = fds
    return request


def _fork_child(conn, request, listener, wake_read, wake_write, children, run) -> int:
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for other in [listener, wake_read, wake_write] + [c for c, _ in children.values()]:
            other.close()
        status = _child(conn, request, run)
    except KeyboardInterrupt:  # Ctrl-C relayed before the command started
        status = 130
    except BaseException:  # pragma: no cover - reported on the client's stderr when it can be
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def _child(conn: socket.socket, request: dict, run) -> int:
    """Take over the client's streams, folder and environment, then run its command."""
    import fcntl

    # Above 2 first: a received descriptor may itself be 0-2 when the server runs without them.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 3) for fd in request["fds"]]
    for fd in request["fds"]:
        os.close(fd)
    for target, fd in enumerate(high):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(_SET_BY_IMPORTS)  # as a fresh process importing them would have (KMP_*, ...)
    os.environ.update(request["env"])
    _reopen_standard_streams()
    _send_message(conn, {"pid": os.getpid()})
    conn.close()
    return run(list(request["argv"]))


def _reopen_standard_streams() -> None:
    """New sys.stdin/stdout/stderr over fds 0-2, buffered as for a fresh process on them."""
    sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1 if os.isatty(1) else -1)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)


def _run_cli(argv: List[str]) -> int:
    """Run the ``narrative`` CLI on ``argv`` as the console script would; its exit status."""
    from .cli import app

    try:
        app(args=argv, prog_name="narrative")
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return 1
    return 0
