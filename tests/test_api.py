"""The library's top-level names resolve to what the README shows, whatever was imported first."""

import subprocess
import sys


def test_nv_ingest_is_the_function_even_after_the_ingest_subpackage_is_imported():
    # A fresh interpreter: the order of imports is what made nv.ingest a module once.
    code = (
        "import narrative.ingest.stream, narrative.pipeline\n"
        "import narrative as nv\n"
        "assert callable(nv.ingest), nv.ingest\n"
        "from narrative.ingest import ingest_sources\n"
        "assert callable(ingest_sources)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
