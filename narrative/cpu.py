"""What the CPU offers the embedding step, read from the OS without importing torch.

bf16 autocast is only fast on CPUs with native bf16 arithmetic. Measured with
``benchmarks/embedding_speed.py`` (all-MiniLM-L6-v2, torch 2.13 CPU, 2 threads): about 2x fp32 on
an AMD EPYC with ``avx512_bf16`` and 2.6x on an Intel Xeon with ``amx_bf16``, but 0.31x (three
times *slower*) on an Intel Xeon with AVX-512 and no bf16 instructions, where torch emulates it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

#: /proc/cpuinfo flags (x86) or features (aarch64) that mean native bf16 arithmetic.
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def has_native_bf16(cpuinfo: str) -> bool:
    """True if a /proc/cpuinfo text lists a native bf16 flag on its ``flags``/``Features`` line."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in {"flags", "features"} and BF16_FLAGS & set(value.split()):
            return True
    return False


@lru_cache(maxsize=1)
def _this_cpu_has_native_bf16() -> bool:
    try:
        return has_native_bf16(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:  # not Linux: stay with fp32, which is right everywhere
        return False


def resolve_precision(precision: str, cpuinfo: str | None = None) -> str:
    """``auto`` becomes ``bf16`` on a CPU with native bf16 and ``fp32`` elsewhere; other values
    pass through unchanged. ``cpuinfo`` replaces this machine's /proc/cpuinfo (for tests)."""
    if precision != "auto":
        return precision
    native = _this_cpu_has_native_bf16() if cpuinfo is None else has_native_bf16(cpuinfo)
    return "bf16" if native else "fp32"
