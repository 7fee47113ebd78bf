"""Shared fixtures: no network for any test, paths to ../shared, a session-wide embedder."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPORA = SHARED / "corpora"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["NARRATIVE_SERVER"] = "off"  # a developer's `narrative serve` must not run the tests' commands


class NetworkAttempt(AssertionError):
    """A test tried to open a network connection."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail any test that tries to reach the network (loopback and Unix sockets are allowed)."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            attempts.append(address)
            raise NetworkAttempt(f"network connection attempted to {address!r}")
        return real_connect(sock, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host not in (None, "127.0.0.1", "::1", "localhost"):
            attempts.append(host)
            raise NetworkAttempt(f"DNS lookup attempted for {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield attempts
    assert not attempts, f"network was attempted: {attempts}"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/corpora, or skip the test with the reason."""
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path.relative_to(REPO.parent)} is not present beside the repo")
    return path


@pytest.fixture(scope="session")
def embedder():
    """The real packaged all-MiniLM-L6-v2 (loaded once per test session)."""
    from narrative.embed import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory, embedder):
    """The demo corpus built once for the whole session (real model, seed 0): ``(out, result)``."""
    from narrative.config import Settings
    from narrative.pipeline import demo

    out = tmp_path_factory.mktemp("demo")
    return out, demo(out, seed=0, settings=Settings(seed=0))
