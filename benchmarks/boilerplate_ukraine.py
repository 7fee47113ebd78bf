"""Boilerplate left inside paragraphs of ukraine_media_2022, with and without some rules.

Usage: ``python benchmarks/boilerplate_ukraine.py [--slice guardian|stride|all] [--n 300]
[--disable RULE ...]``.

Reads ``../shared/corpora/ukraine_media_2022`` (the corpus is not part of the repository),
ingests a slice of it twice (the shipped rules without the ``--disable`` ones, by default the
rules that cut inside paragraphs, then all shipped rules), segments the articles as
``narrative build`` does, and prints for each kind of boilerplate how many paragraphs still
carry it, then the cuts per rule and the ingest time. It prints counts and pattern names only,
never article text.

Slices: ``guardian`` (default) is ``--n`` consecutive records from the first Guardian article
on (the file is sorted by date and outlet, so the slice also holds the BBC, HuffPost and RT
articles of those weeks); ``stride`` takes every k-th record of the whole file; ``all`` is
every record.

The detectors are wider than the rules (a promotion or credit the rules leave stays visible
here); ``wire caption (dated sentence)`` is a proxy for a wire photo's caption, which the text
does not mark: a sentence ending "Tuesday, Aug. 9, 2022." that prose rarely writes.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

CORPUS = (Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
          / "ukraine_media_2022" / "ukraine_media_2022.jsonl")

#: The rules this comparison leaves out of the first pass by default (they cut inside
#: paragraphs).
INSIDE_RULES = ("newsletter_promo", "follow_promo", "photo_caption", "wire_photo_caption",
                "wire_photo_credit", "donation_form", "donation_link")

_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
DETECTORS = {
    "newsletter promotion": re.compile(
        r"\b[Ss]ign up\b[^.!?]{0,120}?\b(?:newsletter|e-?mail|roundup|briefing|bulletin)s?\b"),
    "follow promotion": re.compile(
        r"\b(?:Follow|Find) (?:BBC|the|us|our)\b[^.!?]{0,80}? on (?:Facebook|Twitter|Instagram)"
        r"|\bSend your story ideas to\b|\bFollow AP[´'’]s\b"),
    "photo credit (Photograph:)": re.compile(r"\b(?:Photograph|Composite|Illustration): "),
    "wire photo credit": re.compile(r"\((?:AP|AFP|Reuters|EPA|Xinhua) Photos?\b"),
    "wire caption (dated sentence)": re.compile(
        rf", (?:on )?{_DAY}, [A-Z][a-z]{{2,4}}\.? \d{{1,2}}, \d{{4}}\."),
    "donation form": re.compile(r"TO MAKE A DONATION|\bTo donate\b[^.!?]{0,80}\bclick here\b"
                                r"|trouble accessing the form|\bDonate (?:at|now|here)\b"),
}


def read_slice(kind: str, n: int) -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    if kind == "all":
        return lines
    if kind == "stride":
        return [lines[i * len(lines) // n] for i in range(n)]
    first = next(i for i, line in enumerate(lines) if json.loads(line)["outlet"] == "The Guardian")
    return lines[first:first + n]


def measure(path: Path, rules) -> tuple[dict[str, int], Counter, int, int, float]:
    """Paragraphs carrying each kind, cuts per rule, articles, paragraphs, seconds."""
    from narrative.config import Settings
    from narrative.ingest import ingest_sources
    from narrative.segment import segment_articles

    settings = Settings()
    start = time.perf_counter()
    result = ingest_sources([path], boilerplate=rules)
    seconds = time.perf_counter() - start
    paragraphs = segment_articles(result.articles, min_words=settings.min_paragraph_words,
                                  window_sentences=settings.window_sentences,
                                  max_words=settings.max_paragraph_words)
    carrying = {kind: sum(1 for p in paragraphs if pattern.search(p.text))
                for kind, pattern in DETECTORS.items()}
    cuts = Counter(row["rule"] for row in result.removed)
    return carrying, cuts, len(result.articles), len(paragraphs), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice", choices=("guardian", "stride", "all"), default="guardian")
    parser.add_argument("--n", type=int, default=300, help="records in the slice")
    parser.add_argument("--disable", nargs="*", default=list(INSIDE_RULES),
                        help="rules left out of the first pass")
    args = parser.parse_args()
    if not CORPUS.exists():
        print(f"{CORPUS} not found: nothing to measure")
        return
    from narrative.ingest import load_rules

    shipped = load_rules()
    without = [rule for rule in shipped if rule.name not in set(args.disable)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "slice.jsonl"
        path.write_text("\n".join(read_slice(args.slice, args.n)) + "\n", encoding="utf-8")
        before = measure(path, without)
        after = measure(path, shipped)
    print(f"slice {args.slice}: {after[2]} articles, paragraphs {before[3]} -> {after[3]}")
    print(f"{'paragraphs still carrying':32} {'without':>8} {'with':>8}")
    for kind in DETECTORS:
        print(f"  {kind:30} {before[0][kind]:8d} {after[0][kind]:8d}")
    print("cuts per rule (without -> with):")
    for rule in sorted(set(before[1]) | set(after[1])):
        print(f"  {rule:30} {before[1][rule]:8d} {after[1][rule]:8d}")
    print(f"ingest seconds: {before[4]:.1f} -> {after[4]:.1f} (without: {', '.join(args.disable)})")


if __name__ == "__main__":
    main()
