"""What the CPU offers the embedding step, read from the OS without importing torch.

bf16 autocast pays only where torch's CPU kernels have fast bf16 paths. Measured with
``benchmarks/embedding_speed.py`` (all-MiniLM-L6-v2, torch 2.13 CPU, 2 threads), bf16 against fp32:

====================================================  ==========
CPU (flags in /proc/cpuinfo)                          bf16/fp32
====================================================  ==========
Intel Xeon with ``amx_bf16`` (Sapphire Rapids class)  2.56x
AMD EPYC with ``avx512_bf16``                         about 2x
Intel Xeon listing ``avx512_bf16`` but no AMX          0.64x
Intel Xeon (Ice Lake class), no bf16 flag             0.31x
====================================================  ==========

So the flag alone is not enough: on Intel only AMX makes bf16 faster; an Intel CPU (or a VM
that hides AMX) with ``avx512_bf16`` alone runs it slower than fp32. On ARM, bf16 has not been
measured here, so ``auto`` stays with fp32, which is right everywhere.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

#: /proc/cpuinfo flags that mean native bf16 arithmetic (x86) or the bf16 feature (aarch64).
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def _fields(cpuinfo: str) -> tuple[set[str], str]:
    """The flags/features of the first CPU listed and its vendor id."""
    flags: set[str] = set()
    vendor = ""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in {"flags", "features"} and not flags:
            flags = set(value.split())
        elif key == "vendor_id" and not vendor:
            vendor = value.strip()
    return flags, vendor


def has_native_bf16(cpuinfo: str) -> bool:
    """True if a /proc/cpuinfo text lists a bf16 flag on its ``flags``/``Features`` line."""
    return bool(BF16_FLAGS & _fields(cpuinfo)[0])


def bf16_is_faster(cpuinfo: str) -> bool:
    """True where bf16 embedding was measured faster than fp32 (see the table above): an x86 CPU
    with ``amx_bf16``, or an AMD CPU with ``avx512_bf16``."""
    flags, vendor = _fields(cpuinfo)
    return "amx_bf16" in flags or (vendor == "AuthenticAMD" and "avx512_bf16" in flags)


@lru_cache(maxsize=1)
def _this_cpu_bf16_is_faster() -> bool:
    try:
        return bf16_is_faster(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:  # not Linux: stay with fp32, which is right everywhere
        return False


def resolve_precision(precision: str, cpuinfo: str | None = None) -> str:
    """``auto`` becomes ``bf16`` where :func:`bf16_is_faster` and ``fp32`` elsewhere; other values
    pass through unchanged. ``cpuinfo`` replaces this machine's /proc/cpuinfo (for tests)."""
    if precision != "auto":
        return precision
    faster = _this_cpu_bf16_is_faster() if cpuinfo is None else bf16_is_faster(cpuinfo)
    return "bf16" if faster else "fp32"
