"""The embedding model loaded in a forked process gives the in-process model's vectors.

Each case runs in a fresh interpreter: the background embedder is only used before torch is
imported (see BackgroundEmbedder.available), and the test session has imported it.
"""

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the background embedder forks (Linux only)")


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_vectors_progress_and_shutdown_match_the_in_process_model():
    out = _run("""
        import sys
        import numpy as np
        from narrative.embed.background import BackgroundEmbedder
        assert BackgroundEmbedder.available()
        texts = ["Sanctions on oil exports tightened again.", "", "Grain ships left the port.",
                 "word " * 400] * 9
        class Bar:
            n = 0
            def advance(self, k): Bar.n += k
        bg = BackgroundEmbedder(batch_size=8, precision="fp32")
        child = bg._process
        vectors = bg.encode(texts, progress=Bar())
        assert "torch" not in sys.modules  # the model ran in the child
        bg.close(); bg.close()
        assert not child.is_alive()
        from narrative.embed.sentence import SentenceEmbedder
        here = SentenceEmbedder(batch_size=8, precision="fp32")
        assert (bg.model_id, bg.dim) == (here.model_id, here.dim) == ("all-MiniLM-L6-v2", 384)
        assert vectors.dtype == np.float32 and np.array_equal(vectors, here.encode(texts))
        assert Bar.n == len(texts)
        print("ok")
    """)
    assert out.strip() == "ok"


def test_a_load_error_is_raised_here_and_a_dead_child_is_replaced_here():
    out = _run("""
        import numpy as np
        from narrative.embed.background import BackgroundEmbedder
        bad = BackgroundEmbedder("no-such-model")
        try:
            bad.model_id
        except ValueError as exc:
            assert "no-such-model" in str(exc)
        else:
            raise AssertionError("no error")
        assert bad._process is None
        texts = ["Talks on security guarantees resumed.", "Drones hit the power grid."]
        bg = BackgroundEmbedder(precision="fp32")
        bg.wait_ready()
        bg._process.kill(); bg._process.join()  # the child dies before the batch
        vectors = bg.encode(texts)
        from narrative.embed.sentence import SentenceEmbedder
        assert np.array_equal(vectors, SentenceEmbedder(precision="fp32").encode(texts))
        assert bg._local is not None  # loaded here
        print("ok")
    """)
    assert out.strip() == "ok"


def test_not_used_once_torch_is_loaded_here():
    out = _run("""
        import torch
        from narrative.embed.background import BackgroundEmbedder
        from narrative.pipeline import _start_embedder
        from narrative.config import Settings
        assert not BackgroundEmbedder.available()
        assert _start_embedder(Settings(processes=4)) is None
        print("ok")
    """)
    assert out.strip() == "ok"


def test_not_started_with_one_worker():
    out = _run("""
        from narrative.pipeline import _start_embedder
        from narrative.config import Settings
        assert _start_embedder(Settings(processes=1)) is None
        bg = _start_embedder(Settings(processes=2))
        assert bg is not None
        child = bg._process
        bg.close()  # before the model is loaded (nothing to embed): killed, not waited for
        assert not child.is_alive() and child.exitcode == -9
        print("ok")
    """)
    assert out.strip() == "ok"


def test_the_child_exits_when_its_parent_is_killed(tmp_path):
    """A build killed mid-run (SIGKILL: no clean-up) must not leave the model process behind."""
    import os
    import signal
    import time

    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, time
        from narrative.embed.background import BackgroundEmbedder
        bg = BackgroundEmbedder()
        open({str(pid_file)!r}, "w").write(str(bg._process.pid))
        time.sleep(600)
    """)])
    try:
        for _ in range(600):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.1)
        child = int(pid_file.read_text())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        for _ in range(600):  # it may finish loading the model first
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            try:  # reap it if it became our zombie (it is the grandchild: init reaps it)
                os.waitpid(child, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.1)
        else:
            os.kill(child, signal.SIGKILL)
            raise AssertionError("the model process outlived its killed parent by a minute")
    finally:
        if parent.poll() is None:
            parent.kill()
