"""A resident ``narrative`` process: imports paid once, each command run in a fork of it.

A fresh ``narrative build`` spends most of a small job importing torch, transformers, BERTopic,
UMAP and matplotlib (docs/performance.md has the figures).
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

Clients are checked, and none can take the server down: a connection from a process of another
user is refused (its uid is read with SO_PEERCRED; the socket's file mode is not trusted alone);
each request is read without blocking, so that a slow client holds up no other, and one not
complete within :data:`REQUEST_TIMEOUT` is refused; a malformed request is refused with an
answer, and the server goes on serving.

The client side (:mod:`.client`, imported on every ``narrative`` invocation) and what both sides
share (:mod:`.protocol`) use the standard library only.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence

from ..errors import ServeError
from .client import forward, stop  # noqa: F401 (the client side, for callers of this module)
from .protocol import (  # noqa: F401 (socket_path: for callers of this module)
    ENV, HEADER, fingerprint, import_time_env, peer_uid, send_message, socket_path,
)

PRELOAD = (
    "narrative.cli", "narrative.pipeline", "narrative.runs", "narrative.report",
    "narrative.figures", "narrative.drift", "narrative.store", "narrative.ingest",
    "narrative.dedup", "narrative.model", "narrative.embed",
    "numpy", "pandas", "pyarrow", "duckdb", "scipy.sparse", "sklearn.feature_extraction.text",
    "torch", "transformers", "sentence_transformers", "bertopic", "umap", "hdbscan",
    "matplotlib.pyplot", "datasketch",
)
"""Modules imported before the first fork (a missing optional one is skipped)."""

REQUEST_TIMEOUT = 10.0
"""Seconds a client has, from connecting, to send its whole request; a slower one is refused."""

MAX_REQUEST = 16 << 20
"""Largest request taken, in bytes (its arguments and environment are far smaller)."""

_SET_BY_IMPORTS: Dict[str, str] = {}
"""Environment variables the server's imports set (torch sets KMP_INIT_AT_FORK, for one); kept
in each child under the client's environment."""


class _Identity(NamedTuple):
    """What a client must share with the server to be served by it."""

    fingerprint: str  # of the package files (:func:`fingerprint`)
    env: Dict[str, str]  # import-time variables (:data:`IMPORT_TIME_ENV`) as the server started


def serve(path: Path, *, run: Callable[[List[str]], int], preload: Sequence[str] = PRELOAD,
          log: Callable[[str], None] = print) -> None:
    """Import ``preload``, listen on ``path`` and fork one child per request until SIGINT/SIGTERM.

    ``run`` executes a command's argv in the child and returns its exit status (the CLI passes
    its own entry point: this module imports nothing above it).
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
        own = _Identity(fingerprint(), import_time_env(before))
        log(f"narrative serve: listening on {path} ({imported} modules imported in "
            f"{time.perf_counter() - started:.1f} s); Ctrl-C stops")
        _loop(listener, own, run, log, lambda: _unlink_if(path, bound))
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
    incoming: Dict[socket.socket, _Incoming] = {}  # requests still arriving
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
                for waiting in list(incoming.values()):
                    _turn_away(waiting, "the server is stopping", selector, incoming)
            if stopping:  # Ctrl-C or SIGTERM, also while draining: interrupt each child once
                for pid in children.keys() - interrupted:
                    _signal(pid, signal.SIGINT)
                    interrupted.add(pid)
            for key, _ in selector.select(timeout=_until_deadline(incoming)):
                if isinstance(key.data, _Incoming):
                    request = _take_request(key.data, own, selector, incoming, log)
                    if request == "stop":
                        send_message(key.fileobj, {"stopping": os.getpid(),
                                                    "running": len(children)})
                        key.data.close()
                        log(f"narrative serve: stop requested; {len(children)} running "
                            "command(s) finish first" if children else
                            "narrative serve: stop requested")
                        draining = True
                    elif isinstance(request, _Request):
                        conn = key.fileobj
                        inherited = [listener, wake_read, wake_write, *incoming,
                                     *(c for c, _ in children.values())]
                        inherited_fds = [fd for w in incoming.values() for fd in w.fds]
                        pid = _fork_child(conn, request, run, inherited, inherited_fds)
                        for fd in request.fds:
                            os.close(fd)  # the child has them now
                        children[pid] = (conn, time.perf_counter())
                        selector.register(conn, selectors.EVENT_READ, pid)  # the client's signals
                elif key.data == "accept":
                    _accept(listener, selector, incoming, log)
                elif key.data == "wake":
                    try:
                        while wake_read.recv(512):
                            pass
                    except BlockingIOError:
                        pass
                else:
                    _relay(key.fileobj, key.data, selector, children)
            _expire(incoming, selector, log)
            _reap(children, selector, log)
    finally:
        for waiting in list(incoming.values()):
            _turn_away(waiting, None, selector, incoming)
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
        send_message(conn, {"exit": exit_code})
        log(f"narrative serve: child {pid} exited {exit_code} after {time.perf_counter() - started:.1f} s")
        try:
            selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()


class _Request(NamedTuple):
    """A command request, checked: what the child needs to run it."""

    argv: List[str]
    cwd: str
    env: Dict[str, str]
    fds: List[int]  # the client's standard input, output and error


class _Declined(Exception):
    """A request the server answers without running it; ``answer`` tells the client why
    (``refused``: malformed or not allowed; ``stale``: meant for other code)."""

    def __init__(self, reason: str, kind: str = "refused") -> None:
        super().__init__(reason)
        self.answer = {kind: reason}


class _Incoming:
    """A connection whose request is still arriving: a 4-byte size, the payload (JSON) and the
    client's three standard streams as file descriptors.

    Read as it comes, without blocking, so that a slow or stalled client holds up no other; it
    must be complete by ``deadline``. Only the request is read: what the client sends after it
    is a signal to relay.
    """

    def __init__(self, conn: socket.socket, deadline: float) -> None:
        self.conn, self.deadline = conn, deadline
        self.data = bytearray()
        self.size: Optional[int] = None  # of the payload, once the header is in
        self.fds: List[int] = []

    def read(self) -> bool:
        """Take what has arrived; True once the request is complete. Raises BlockingIOError
        when nothing has, ConnectionError when the client hung up, :class:`_Declined` when
        the request is too large or brings too many descriptors."""
        expected = HEADER.size + (self.size or 0)
        data, fds, _, _ = socket.recv_fds(self.conn, expected - len(self.data), 3)
        self.fds += fds
        if len(self.fds) > 3:
            raise _Declined("a request brings three file descriptors, no more")
        if not data:
            raise ConnectionError("the client closed the connection mid-request")
        self.data += data
        if self.size is None and len(self.data) == HEADER.size:
            (self.size,) = HEADER.unpack(self.data)
            if self.size > MAX_REQUEST:
                raise _Declined(f"a request of {self.size} bytes; at most {MAX_REQUEST}")
        return self.size is not None and len(self.data) == HEADER.size + self.size

    def payload(self) -> bytes:
        return bytes(self.data[HEADER.size:])

    def close(self) -> None:
        """Close the connection and the descriptors received on it."""
        for fd in self.fds:
            os.close(fd)
        self.fds = []
        self.conn.close()


def _accept(listener: socket.socket, selector, incoming: Dict[socket.socket, _Incoming],
            log) -> None:
    """Take a new connection, from a process of this user only (the socket's file mode is not
    trusted alone), and wait for its request without blocking."""
    import selectors

    conn, _ = listener.accept()
    uid = peer_uid(conn)
    if uid is not None and uid != os.getuid():
        send_message(conn, {"refused": "this server runs its own user's commands only"})
        conn.close()
        log(f"narrative serve: refused a client of user {uid}")
        return
    conn.setblocking(False)
    waiting = _Incoming(conn, time.monotonic() + REQUEST_TIMEOUT)
    incoming[conn] = waiting
    selector.register(conn, selectors.EVENT_READ, waiting)


def _take_request(waiting: _Incoming, own: "_Identity", selector, incoming, log):
    """Read what a client sent; once its request is complete: ``"stop"``, or the
    :class:`_Request` to run (its connection blocking again, for the signals to relay).
    None while it is incomplete, or when the client was answered and its connection closed."""
    try:
        if not waiting.read():
            return None
        selector.unregister(waiting.conn)
        del incoming[waiting.conn]
        request = _decode(waiting.payload(), waiting.fds, own)
    except BlockingIOError:
        return None
    except _Declined as exc:
        _turn_away(waiting, exc.answer, selector, incoming)
        if "refused" in exc.answer:
            log(f"narrative serve: refused a request: {exc}")
        return None
    except OSError:  # the client went away
        _turn_away(waiting, None, selector, incoming)
        return None
    if isinstance(request, _Request):
        waiting.conn.setblocking(True)
    return request


def _turn_away(waiting: _Incoming, answer, selector, incoming) -> None:
    """Stop waiting for a request: tell the client why (a reason, an answer, or None: nothing)
    and close its connection and descriptors."""
    if incoming.pop(waiting.conn, None) is not None:
        selector.unregister(waiting.conn)
    if answer is not None:
        send_message(waiting.conn, answer if isinstance(answer, dict) else {"refused": answer})
    waiting.close()


def _expire(incoming: Dict[socket.socket, _Incoming], selector, log) -> None:
    """Turn away each client whose request is not complete by its deadline."""
    now = time.monotonic()
    for waiting in [w for w in incoming.values() if w.deadline <= now]:
        _turn_away(waiting, f"no complete request within {REQUEST_TIMEOUT:g} s", selector,
                   incoming)
        log("narrative serve: refused a request that did not arrive in time")


def _until_deadline(incoming: Dict[socket.socket, _Incoming]) -> float:
    """How long the loop may wait for events: at most a second, and no later than the first
    deadline of a request still arriving."""
    if not incoming:
        return 1.0
    return min(1.0, max(0.0, min(w.deadline for w in incoming.values()) - time.monotonic()))


def _decode(payload: bytes, fds: List[int], own: "_Identity"):
    """The request in ``payload``: ``"stop"``, or the :class:`_Request` to run. Raises
    :class:`_Declined` with the client's answer when it is malformed or meant for other code."""
    try:
        request = json.loads(payload)
    except (ValueError, RecursionError):
        raise _Declined("the request is not JSON") from None
    if not isinstance(request, dict):
        raise _Declined("the request is not a JSON object")
    if "stop" in request:  # from any version of narrative: no fingerprint check
        if request["stop"] is not True:
            raise _Declined('"stop" must be true')
        return "stop"
    problem = _problem(request)
    if problem:
        raise _Declined(problem)
    if len(fds) != 3:
        raise _Declined("the request came without the client's three standard streams")
    mismatch = _mismatch(request, own)
    if mismatch:
        raise _Declined(mismatch, "stale")
    return _Request(request["argv"], request["cwd"], request["env"], list(fds))


def _problem(request: dict) -> Optional[str]:
    """What is wrong with the fields of a command request, or None."""
    argv, cwd, env = request.get("argv"), request.get("cwd"), request.get("env")
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        return '"argv" must be a non-empty list of strings'
    if not (isinstance(cwd, str) and cwd and "\0" not in cwd):
        return '"cwd" must be a folder name'
    if not (isinstance(env, dict) and all(_is_variable(k, v) for k, v in env.items())):
        return '"env" must be an object of variable names (without "=") and string values'
    if not isinstance(request.get("fingerprint"), str):
        return '"fingerprint" must be a string'
    return None


def _is_variable(name: object, value: object) -> bool:
    """Whether ``name=value`` can be set in a process's environment."""
    return (isinstance(name, str) and isinstance(value, str) and bool(name) and "=" not in name
            and "\0" not in name and "\0" not in value)


def _mismatch(request: dict, own: "_Identity") -> Optional[str]:
    """Why a client runs other code than the server (its package files or import-time
    settings differ), or None."""
    theirs = import_time_env(request["env"])
    if request["fingerprint"] != own.fingerprint:
        return "its package files differ from yours"
    if theirs != own.env:
        differ = {k for k in theirs.keys() | own.env.keys() if theirs.get(k) != own.env.get(k)}
        return "it was started with other " + ", ".join(sorted(differ))
    return None


def _fork_child(conn: socket.socket, request: _Request, run, inherited: Sequence[socket.socket],
                inherited_fds: Sequence[int]) -> int:
    """Fork the child that runs ``request``; it first closes the server's other sockets and
    descriptors (``inherited``, ``inherited_fds``)."""
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for other in inherited:
            other.close()
        for fd in inherited_fds:
            os.close(fd)
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


def _child(conn: socket.socket, request: _Request, run) -> int:
    """Take over the client's streams, folder and environment, then run its command."""
    import fcntl

    # Above 2 first: a received descriptor may itself be 0-2 when the server runs without them.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 3) for fd in request.fds]
    for fd in request.fds:
        os.close(fd)
    for target, fd in enumerate(high):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(_SET_BY_IMPORTS)  # as a fresh process importing them would have (KMP_*, ...)
    os.environ.update(request.env)
    _reopen_standard_streams()
    send_message(conn, {"pid": os.getpid()})
    conn.close()
    return run(list(request.argv))


def _reopen_standard_streams() -> None:
    """New sys.stdin/stdout/stderr over fds 0-2, buffered as for a fresh process on them."""
    sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1 if os.isatty(1) else -1)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)
