"""`narrative build` in a fresh process against the same command served by `narrative serve`.

Usage: python benchmarks/resident.py [SOURCES...] [--manifest CSV] [--rounds 3]

Defaults to the five seed files of ../shared/corpora/seeds (issue 7's target: <= 10 s on a warm
machine). Starts one `narrative serve` on a private socket, then alternates, each round: a build in
a fresh process (`NARRATIVE_SERVER=off`: every import, the model load and numba's cache loads
paid) and the same build sent to the server (each into a fresh store and report folder). Prints
wall times, the builds' own stage timings, the server's start-up, and the ratio of medians.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "seeds"
NARRATIVE = [sys.executable, "-c", "import sys; from narrative.cli import main; sys.argv[0] = 'narrative'; main()"]


def build(sources: list[Path], manifest: Path | None, out: Path, env: dict) -> tuple[float, str]:
    """Wall seconds of one `narrative build` into ``out`` and its stage line."""
    command = NARRATIVE + ["build", *map(str, sources), "--out", str(out), "-q"]
    if manifest:
        command += ["--manifest", str(manifest)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"build failed ({done.returncode}):\n{done.stderr}")
    stages = next((l for l in done.stderr.splitlines() if l.startswith("stages:")), "")
    return wall, stages.removeprefix("stages: ")


def start_server(work: Path) -> tuple[subprocess.Popen, Path, float]:
    """A `narrative serve` on a socket in ``work``, once it listens: process, socket, seconds to ready."""
    sock, log_path = work / "serve.sock", work / "serve.log"
    started = time.perf_counter()
    with open(log_path, "w") as log:
        server = subprocess.Popen(NARRATIVE + ["serve", "--socket", str(sock)], stderr=log,
                                  env={**os.environ, "NARRATIVE_SERVER": "off"})
    while "listening" not in log_path.read_text():
        if server.poll() is not None:
            sys.exit(log_path.read_text())
        time.sleep(0.1)
    return server, sock, time.perf_counter() - started


def machine() -> str:
    """CPU model and cores, as /proc/cpuinfo names them (else the platform's word)."""
    cpuinfo = Path("/proc/cpuinfo")
    names = [l.split(":", 1)[1].strip() for l in cpuinfo.read_text().splitlines()
             if l.startswith("model name")] if cpuinfo.exists() else []
    return f"{names[0] if names else platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="*", type=Path)
    parser.add_argument("--manifest", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sources, manifest = args.sources, args.manifest
    if not sources:
        if not SEEDS.exists():
            sys.exit(f"no sources given and {SEEDS} is absent")
        sources, manifest = [SEEDS / "raw"], SEEDS / "manifest.csv"

    work = Path(tempfile.mkdtemp(prefix="narrative-resident-"))
    server, sock, ready = start_server(work)
    print(f"machine: {machine()}")
    print(f"server ready after {ready:.1f} s (imports, once)\n")
    print("| round | mode | wall s | stages s |\n|---|---|---|---|")
    walls: dict[str, list[float]] = {"fresh process": [], "served": []}
    try:
        for round_ in range(1, args.rounds + 1):
            for mode, env in (("fresh process", {**os.environ, "NARRATIVE_SERVER": "off"}),
                              ("served", {**os.environ, "NARRATIVE_SERVER": str(sock)})):
                out = work / f"{mode.split()[0]}-{round_}"
                wall, stages = build(sources, manifest, out, env)
                walls[mode].append(wall)
                print(f"| {round_} | {mode} | {wall:.1f} | {stages} |", flush=True)
    finally:
        server.terminate()
        server.wait()
    served_count = (work / "serve.log").read_text().count(" exited 0 ")
    fresh, served = statistics.median(walls["fresh process"]), statistics.median(walls["served"])
    print(f"\nmedian: fresh process {fresh:.1f} s, served {served:.1f} s ({fresh / served:.2f}x); "
          f"{served_count} of {args.rounds} served builds ran in the server")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
