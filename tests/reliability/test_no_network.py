"""No network: a full build runs with sockets blocked, and the guards that say so really guard.

The shared build (conftest.py) runs ``python -m narrative build`` with every socket connect, DNS
lookup and UDP send refused and logged, and with HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE unset, so
the packaged model must load offline on its own.
"""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from ..conftest import NetworkAttempt
from .conftest import NETWORK_GUARD, REPO, clean_env


@pytest.mark.slow
def test_full_build_makes_no_connection_attempt(clean_build):
    run = clean_build.run
    assert run.returncode == 0
    assert run.encoded > 0, "the embedding model was loaded and used"
    assert run.network == [], f"the build tried the network: {run.network}"


def test_network_guard_of_the_build_harness_refuses_and_records(tmp_path):
    """The guard the build runs behind: a download attempt fails and is written to the log."""
    log = tmp_path / "guard.log"
    log.write_text("", encoding="utf-8")
    attempt = "import urllib.request\nurllib.request.urlopen('http://example.org/', timeout=5)\n"
    raw = "import socket\nsocket.socket().connect(('192.0.2.1', 80))\n"
    for code, kind in ((attempt, "create_connection"), (raw, "connect")):
        proc = subprocess.run([sys.executable, "-c", NETWORK_GUARD + code], env=clean_env(RELIABILITY_LOG=str(log)),
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0 and "network blocked by the reliability harness" in proc.stderr
        assert any(line.startswith(f"network {kind}") for line in log.read_text().splitlines())


def test_autouse_fixture_refuses_a_connection_and_records_it(no_network):
    with socket.socket() as sock, pytest.raises(NetworkAttempt, match="192.0.2.1"):
        sock.connect(("192.0.2.1", 80))
    with pytest.raises(NetworkAttempt, match="example.org"):
        socket.getaddrinfo("example.org", 443)
    assert no_network == [("192.0.2.1", 80), "example.org"]
    no_network.clear()  # handled here; left in, the fixture would fail this test at teardown


def test_autouse_fixture_fails_a_test_even_when_it_swallows_the_error(tmp_path):
    """Run the project's tests/conftest.py on two tests that catch the refusal: both still fail."""
    (tmp_path / "conftest.py").write_text((REPO / "tests" / "conftest.py").read_text(encoding="utf-8"),
                                          encoding="utf-8")
    (tmp_path / "test_sneaky.py").write_text(
        "import socket, urllib.request\n"
        "def test_raw_connect():\n"
        "    try:\n"
        "        socket.create_connection(('192.0.2.1', 80), timeout=1)\n"
        "    except BaseException:\n"
        "        pass\n"
        "def test_download():\n"
        "    try:\n"
        "        urllib.request.urlopen('https://example.org/', timeout=1)\n"
        "    except BaseException:\n"
        "        pass\n"
        "def test_loopback_is_allowed():\n"
        "    server = socket.create_server(('127.0.0.1', 0))\n"
        "    socket.create_connection(server.getsockname(), timeout=1).close()\n"
        "    server.close()\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)], cwd=tmp_path,
        env=clean_env(), capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stdout[-3000:]
    errors = sorted(line.split()[1] for line in proc.stdout.splitlines() if line.startswith("ERROR "))
    assert errors == ["test_sneaky.py::test_download", "test_sneaky.py::test_raw_connect"], proc.stdout[-3000:]
    assert "network was attempted" in proc.stdout
