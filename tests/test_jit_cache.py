"""umap's numba functions are compiled once and then loaded from the on-disk cache."""

import json
import os
import subprocess
import sys

import pytest

# Runs one umap function in a fresh process and reports numba's cache statistics for it.
_PROBE = """
import json, sys
import numpy as np
from narrative.runtime.jit_cache import enable_umap_cache
switched = enable_umap_cache()
import umap.umap_ as u
dists = np.sort(np.random.default_rng(0).random((20, 5)).astype(np.float32), axis=1)
u.smooth_knn_dist(dists, 5.0)
stats = u.smooth_knn_dist.stats
print(json.dumps({"switched": switched, "hits": len(stats.cache_hits), "misses": len(stats.cache_misses)}))
"""


def _probe(**env):
    # numba's default cache location (as in real runs): a fresh NUMBA_CACHE_DIR would make
    # pynndescent recompile its own cached functions too, which takes minutes.
    run_env = {**os.environ, **env}
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         env=run_env, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_second_process_loads_umap_code_from_the_cache():
    first = _probe()  # compiles and writes the cache, unless an earlier run already did
    assert first["switched"] > 10
    assert first["hits"] + first["misses"] == 1
    second = _probe()
    assert second["hits"] == 1 and second["misses"] == 0


@pytest.mark.slow
def test_cache_can_be_switched_off():
    _probe()  # make sure a cache entry exists
    off = _probe(NARRATIVE_NUMBA_CACHE="0")
    assert off["switched"] == 0
    assert off["hits"] == 0


def test_narrative_map_switches_the_cache_on_before_its_umap(monkeypatch):
    """A re-run that reuses its fit draws the map in a process that fitted nothing: the map must
    turn the cache on itself, else umap compiles afresh (about a minute) on every re-run."""
    import numpy as np
    import umap

    from narrative.runtime import jit_cache
    from narrative.figures.narrative_map import map_points

    order = []
    monkeypatch.setattr(jit_cache, "enable_umap_cache", lambda: order.append("cache") or 0)

    class FakeUMAP:
        def __init__(self, **kwargs):
            pass

        def fit_transform(self, x):
            order.append("umap")
            return np.zeros((len(x), 2))

    monkeypatch.setattr(umap, "UMAP", FakeUMAP)
    points = map_points(np.random.default_rng(0).normal(size=(12, 4)), ["a"] * 12, seed=0)
    assert order == ["cache", "umap"] and len(points) == 12
