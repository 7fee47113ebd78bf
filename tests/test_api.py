"""The library's top-level names: what the README shows, lazily resolved, with no name clash."""

import subprocess
import sys

import pytest


def test_every_exported_name_resolves_and_importing_the_package_loads_nothing_heavy():
    code = (
        "import sys\n"
        "import narrative as nv\n"
        "heavy = {'torch', 'bertopic', 'umap', 'hdbscan', 'matplotlib', 'duckdb', 'pandas'}\n"
        "assert not heavy & set(sys.modules), heavy & set(sys.modules)\n"
        "missing = [n for n in nv.__all__ if getattr(nv, n, None) is None]\n"
        "assert not missing, missing\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_ingest_subpackage_and_the_ingest_call_have_different_names():
    import narrative as nv
    import narrative.ingest

    assert nv.ingest is narrative.ingest  # the subpackage, whatever was imported first
    assert callable(nv.ingest_articles) and nv.ingest_articles.__module__ == "narrative.pipeline"


def test_an_old_name_says_what_it_is_now():
    import narrative as nv

    with pytest.raises(AttributeError, match="ingest_articles"):
        nv.__getattr__("ingest")
