"""`narrative serve`: commands run in a fork of a resident process, as they would run alone.

One server (a real `python -m narrative serve`, with its usual imports) is shared by the module;
clients are real `narrative` processes talking to it over its Unix socket.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from narrative.runtime import serve

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and hasattr(socket, "send_fds")),
    reason="narrative serve needs fork and Unix sockets with descriptor passing (Linux here)",
)

CLIENT = [sys.executable, "-c", "import sys; from narrative.cli import main; sys.argv[0] = 'narrative'; main()"]


class Server:
    def __init__(self, folder: Path):
        self.socket = folder / "serve.sock"
        self.log = folder / "serve.log"
        self._log_file = open(self.log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "narrative", "serve", "--socket", str(self.socket)],
            stdout=subprocess.DEVNULL, stderr=self._log_file, env={**os.environ, "NARRATIVE_SERVER": "off"},
        )
        deadline = time.monotonic() + 120
        while "listening on" not in self.log.read_text():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)

    def env(self, **extra) -> dict:
        return {**os.environ, "NARRATIVE_SERVER": str(self.socket), **extra}

    def children(self) -> list[tuple[int, int]]:
        """(pid, exit status) of every command the server has finished, in order."""
        return [(int(p), int(c)) for p, c in re.findall(r"child (\d+) exited (-?\d+)", self.log.read_text())]

    def wait_children(self, count: int) -> list[tuple[int, int]]:
        deadline = time.monotonic() + 60
        while len(self.children()) < count:
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.1)
        return self.children()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=60)
        self._log_file.close()
        return status


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("serve"))
    yield running
    assert running.stop() == 0
    assert not running.socket.exists(), "the socket file outlives the server"


def _articles(folder: Path) -> Path:
    folder.mkdir()
    (folder / "one.txt").write_text(
        "Title: Grain corridor talks resume\nOutlet: Test Wire\nDate: 2025-03-01\n\n"
        "Negotiators met again on Tuesday to discuss the grain corridor.\n\n"
        "Shipping insurers said premiums would fall if the corridor held.\n"
    )
    return folder


def test_a_command_runs_in_the_server_in_the_clients_folder_and_streams(server, tmp_path):
    _articles(tmp_path / "in")
    before = len(server.children())
    done = subprocess.run(
        CLIENT + ["ingest", "in", "--store", "mine.duckdb"], cwd=tmp_path,
        env=server.env(), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    served = server.wait_children(before + 1)[before]
    assert served[1] == 0  # a child of the server ran it
    assert "ingested 1 (1 new)" in done.stderr  # the child's output reached the client's pipes
    assert (tmp_path / "mine.duckdb").exists()  # relative paths resolved in the client's folder


ECHO_SERVER = """
import json, os, sys
from pathlib import Path
from narrative.runtime import serve

def run(argv):
    line = sys.stdin.readline().strip()
    print(json.dumps({"argv": argv, "cwd": os.getcwd(), "seed": os.environ.get("NARRATIVE_SEED"),
                      "stdin": line, "pid": os.getpid()}))
    print("to stderr", file=sys.stderr)
    return int(argv[-1])

serve.serve(Path(sys.argv[1]), preload=(), run=run, log=lambda m: print(m, file=sys.stderr, flush=True))
"""


def test_the_child_gets_the_clients_argv_folder_environment_and_three_streams(tmp_path):
    sock = tmp_path / "echo.sock"
    log = open(tmp_path / "echo.log", "w")
    echo = subprocess.Popen([sys.executable, "-c", ECHO_SERVER, str(sock)], stderr=log)
    try:
        deadline = time.monotonic() + 60
        while "listening" not in (tmp_path / "echo.log").read_text():
            assert echo.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        (tmp_path / "work").mkdir()
        done = subprocess.run(
            CLIENT + ["report", "--anything", "3"], cwd=tmp_path / "work", input="hello from stdin\n",
            env={**os.environ, "NARRATIVE_SERVER": str(sock), "NARRATIVE_SEED": "7"},
            capture_output=True, text=True, timeout=60,
        )
        import json

        seen = json.loads(done.stdout)
        assert done.returncode == 3 and done.stderr == "to stderr\n"
        assert seen["argv"] == ["report", "--anything", "3"]
        assert seen["cwd"] == str(tmp_path / "work") and seen["seed"] == "7"
        assert seen["stdin"] == "hello from stdin"
        assert seen["pid"] not in (echo.pid, os.getpid())
    finally:
        echo.send_signal(signal.SIGTERM)
        assert echo.wait(timeout=30) == 0
        log.close()
    assert not sock.exists()


WAITING_SERVER = """
import sys
from pathlib import Path
from narrative.runtime import serve

def run(argv):
    print("started", flush=True)
    sys.stdin.readline()  # the command runs until the test writes a line
    print("finished", flush=True)
    return 0

serve.serve(Path(sys.argv[1]), preload=(), run=run, log=lambda m: print(m, file=sys.stderr, flush=True))
"""


def test_serve_stop_lets_running_commands_finish_then_the_server_exits(tmp_path):
    sock = tmp_path / "wait.sock"
    log_path = tmp_path / "wait.log"
    log = open(log_path, "w")
    server = subprocess.Popen([sys.executable, "-c", WAITING_SERVER, str(sock)], stderr=log)
    stop_command = CLIENT + ["serve", "--stop", "--socket", str(sock)]
    try:
        deadline = time.monotonic() + 60
        while "listening" not in log_path.read_text():
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        running = subprocess.Popen(
            CLIENT + ["report", "x"], env={**os.environ, "NARRATIVE_SERVER": str(sock)},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert running.stdout.readline() == "started\n"  # served, and now waiting

        stopped = subprocess.run(stop_command, capture_output=True, text=True, timeout=60)
        assert stopped.returncode == 0, stopped.stderr
        assert f"server {server.pid} on {sock} stopped listening" in stopped.stderr
        assert "1 running command(s) finish" in stopped.stderr
        assert not sock.exists()  # no new command is taken: they run in their own process
        time.sleep(0.5)
        assert server.poll() is None  # ... but the running one is not interrupted

        running.stdin.write("go on\n")
        running.stdin.flush()
        assert running.stdout.readline() == "finished\n"
        assert running.wait(timeout=30) == 0
        assert server.wait(timeout=30) == 0  # and then the server exits by itself
    finally:
        if server.poll() is None:
            server.kill()
        log.close()
    again = subprocess.run(stop_command, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and f"no server of yours listens on {sock}" in again.stderr


def test_the_exit_status_and_error_message_come_back(server, tmp_path):
    before = len(server.children())
    done = subprocess.run(
        CLIENT + ["build", "missing-folder", "--out", "out"], cwd=tmp_path,
        env=server.env(), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert "no such file or folder: missing-folder" in done.stderr
    assert server.wait_children(before + 1)[before][1] == 1


def _start_build(server, tmp_path) -> subprocess.Popen:
    """The demo build: long enough (a minute) to be interrupted while it works."""
    return subprocess.Popen(
        CLIENT + ["demo", "--out", "out"], cwd=tmp_path, env=server.env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for_ingest(client: subprocess.Popen) -> None:
    """Block until the served build has printed its ingest line (it is then working)."""
    for line in client.stderr:
        if line.startswith("ingest:"):
            return
    raise AssertionError(f"the build ended before ingesting: {client.stderr.read()}")


def test_ctrl_c_on_the_client_interrupts_the_command_in_the_server(server, tmp_path):
    before = len(server.children())
    client = _start_build(server, tmp_path)
    _wait_for_ingest(client)
    client.send_signal(signal.SIGINT)
    rest = client.stderr.read()
    assert client.wait(timeout=60) == 130, rest
    assert "interrupted; finished work is kept in the store" in rest
    assert server.wait_children(before + 1)[before][1] == 130


def test_a_client_that_dies_interrupts_its_command(server, tmp_path):
    before = len(server.children())
    client = _start_build(server, tmp_path)
    _wait_for_ingest(client)
    client.kill()
    client.wait(timeout=10)
    assert server.wait_children(before + 1)[before][1] == 130


def test_a_server_running_other_code_is_not_used(server, monkeypatch, tmp_path):
    monkeypatch.setenv(serve.ENV, str(server.socket))
    monkeypatch.setattr("narrative.runtime.client.fingerprint", lambda: "some other version")
    before = len(server.children())
    err = io.StringIO()
    assert serve.forward(["build", "x", "--out", str(tmp_path)], err=err) is None
    assert "its package files differ" in err.getvalue()
    time.sleep(0.5)
    assert len(server.children()) == before  # nothing was forked


def test_a_client_with_other_import_time_settings_runs_its_command_itself(server, tmp_path):
    """Variables read when libraries are imported (threads, caches, backends) are the server's in
    its children, so a client that sets them otherwise must not be served."""
    before = len(server.children())
    done = subprocess.run(
        CLIENT + ["build", "missing-folder", "--out", "out"], cwd=tmp_path,
        env=server.env(OMP_NUM_THREADS="3"), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1 and "no such file or folder" in done.stderr  # ran here instead
    assert "it was started with other OMP_NUM_THREADS" in done.stderr
    time.sleep(0.5)
    assert len(server.children()) == before


def test_a_second_server_on_the_same_socket_is_refused(server):
    with pytest.raises(serve.ServeError, match="already listens"):
        serve._listen(server.socket)
    assert server.process.poll() is None


def test_without_a_listening_server_commands_run_here(monkeypatch, tmp_path):
    monkeypatch.setenv(serve.ENV, "off")
    assert serve.socket_path() is None and serve.forward(["build", "x"]) is None
    missing = tmp_path / "none.sock"
    monkeypatch.setenv(serve.ENV, str(missing))
    assert serve.forward(["build", "x"]) is None
    left_over = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # a killed server's socket file
    left_over.bind(str(missing))
    left_over.close()
    assert missing.exists() and serve.forward(["build", "x"]) is None
    monkeypatch.setenv(serve.ENV, str(missing))
    assert serve.forward(["serve"]) is None and serve.forward(["build", "--help"]) is None


def test_a_file_at_the_socket_path_is_left_alone(tmp_path):
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    with pytest.raises(serve.ServeError, match="not a socket"):
        serve._listen(precious)
    assert precious.read_text() == "keep me"


def test_the_socket_is_private_to_its_user(tmp_path):
    listener = serve._listen(tmp_path / "sub" / "serve.sock")
    try:
        assert (tmp_path / "sub" / "serve.sock").stat().st_mode & 0o777 == 0o600
        assert (tmp_path / "sub").stat().st_mode & 0o777 == 0o700
    finally:
        listener.close()


def test_the_fingerprint_changes_with_the_package_files(tmp_path, monkeypatch):
    first = serve.fingerprint()
    assert first == serve.fingerprint()
    module = Path(serve.__file__)
    stat = module.stat()
    try:
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert serve.fingerprint() != first
    finally:
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert serve.fingerprint() == first


# --------------------------------------------------------------------------- hostile clients


def _start_script_server(tmp_path: Path, patch: str = "") -> tuple[subprocess.Popen, Path, Path]:
    """The echo server, with ``patch`` run before it serves; (process, socket, log)."""
    sock, log_path = tmp_path / "echo.sock", tmp_path / "echo.log"
    script = ECHO_SERVER.replace("serve.serve(", patch + "\nserve.serve(")
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-c", script, str(sock)], stderr=log)
    deadline = time.monotonic() + 60
    while "listening" not in log_path.read_text():
        assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.1)
    return process, sock, log_path


def _stop_script_server(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


def _served(sock: Path, tmp_path: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """A real client's command (the echo server's ``run`` exits with its last argument)."""
    return subprocess.run(CLIENT + ["report", "--anything", "3"], cwd=tmp_path,
                          env={**os.environ, "NARRATIVE_SERVER": str(sock)},
                          capture_output=True, text=True, timeout=timeout)


def _connect_raw(sock: Path, header_size: int) -> socket.socket:
    """A client connection that has sent a request header for ``header_size`` bytes and three
    standard streams (/dev/null), but no payload yet."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(20)
    conn.connect(str(sock))
    with open(os.devnull, "r+b") as null:
        socket.send_fds(conn, [struct.pack("!I", header_size)], [null.fileno()] * 3)
    return conn


def _answer(conn: socket.socket) -> dict | None:
    line = conn.makefile("rb").readline()
    return json.loads(line) if line else None


BAD_REQUESTS = {
    "a JSON list": b'["report", "x"]',
    "not JSON": b"{not json",
    "env a list": json.dumps({"argv": ["report"], "cwd": "/", "env": ["A=1"],
                              "fingerprint": "f"}).encode(),
    "env with a number": json.dumps({"argv": ["report"], "cwd": "/", "env": {"A": 1},
                                     "fingerprint": "f"}).encode(),
    "argv a string": json.dumps({"argv": "report", "cwd": "/", "env": {},
                                 "fingerprint": "f"}).encode(),
    "stop not true": json.dumps({"stop": "yes"}).encode(),
}


def test_a_malformed_request_is_refused_with_an_answer_and_the_server_goes_on(tmp_path):
    process, sock, log = _start_script_server(tmp_path)
    try:
        for name, payload in BAD_REQUESTS.items():
            with _connect_raw(sock, len(payload)) as conn:
                conn.sendall(payload)
                answer = _answer(conn)
            assert answer is not None and "refused" in answer, (name, log.read_text())
        done = _served(sock, tmp_path)
        assert done.returncode == 3, done.stderr  # served by the same server, after all of them
        assert process.poll() is None
    finally:
        assert _stop_script_server(process) == 0, log.read_text()


def test_a_slow_client_holds_up_no_other_client(tmp_path):
    """A client that sends its request a byte at a time must not stall the server: another
    client's command is served meanwhile."""
    import threading

    process, sock, log = _start_script_server(tmp_path)
    done_dribbling = threading.Event()
    slow = _connect_raw(sock, 1000)

    def dribble():
        while not done_dribbling.wait(0.5):
            try:
                slow.send(b" ")
            except OSError:
                return

    dribbler = threading.Thread(target=dribble, daemon=True)
    dribbler.start()
    try:
        time.sleep(1.0)  # the server is reading the slow request now
        started = time.monotonic()
        try:
            done = _served(sock, tmp_path, timeout=8)
        except subprocess.TimeoutExpired:
            raise AssertionError("a slow client stalled the server for another client") from None
        assert done.returncode == 3, done.stderr
        assert time.monotonic() - started < 8
    finally:
        done_dribbling.set()
        dribbler.join()
        slow.close()
        assert _stop_script_server(process) == 0, log.read_text()


def test_an_incomplete_request_times_out_with_an_answer(tmp_path):
    process, sock, log = _start_script_server(tmp_path, "serve.REQUEST_TIMEOUT = 1.0")
    try:
        with _connect_raw(sock, 1000) as conn:
            conn.sendall(b'{"argv": ')  # and nothing more
            conn.settimeout(8)
            started = time.monotonic()
            answer = _answer(conn)
            assert answer is not None and "refused" in answer, log.read_text()
            assert time.monotonic() - started < 5
        assert _served(sock, tmp_path).returncode == 3
    finally:
        assert _stop_script_server(process) == 0, log.read_text()


def test_the_peer_uid_is_that_of_the_process_at_the_other_end():
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        assert serve.peer_uid(left) == os.getuid()


def test_a_client_of_another_user_is_refused(tmp_path):
    """The server checks the client's uid (SO_PEERCRED), not only the socket's file mode."""
    process, sock, log = _start_script_server(
        tmp_path, "import os; serve.peer_uid = lambda conn: os.getuid() + 1")
    try:
        done = _served(sock, tmp_path)
        assert done.returncode != 3  # not served: the client ran `report --anything 3` itself
        assert "refused" in done.stderr
        assert "child" not in log.read_text()  # nothing was forked
        assert process.poll() is None
    finally:
        assert _stop_script_server(process) == 0, log.read_text()
