"""Command palette cost per key at 10,000 cases: every title scored, or candidates first.

Usage::

    python bench/palette.py [--size 10000] [--out bench/results/palette.md]

The palette's work for one typed prefix is timed without a screen: for each
prefix of a fixed set of queries (English, Chinese, an id, a typo with the
letters in order), "all" scores the English title, the Chinese title and the
id of every case with Textual's fuzzy matcher, as netcase first did; "kept"
asks ``TitleIndex`` for its candidates and scores only those. Both count
the matching cases they would show; the best ten of each are compared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from textual.fuzzy import Matcher

from corpus import build_corpus
from netcase.kb.search import SearchHit
from netcase.tui.titles import TitleIndex

BENCH_DIR = Path(__file__).resolve().parent
QUERIES = ("vpn disconnect", "打印机", "dns-timeout", "wifi slw", "paypal")
SHOWN = 10
T = TypeVar("T")


def main() -> int:
    """Time both ways over every prefix of the queries and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--out", default=str(BENCH_DIR / "results" / "palette.md"))
    args = parser.parse_args()

    cases = _cases(args.size)
    titles = TitleIndex(cases)
    prefixes = [q[:n] for q in QUERIES for n in range(1, len(q) + 1)]
    all_ms, kept_ms, same_top = [], [], 0
    for prefix in prefixes:
        matcher = Matcher(prefix)
        every_s, every = _timed(_scored, matcher, cases)
        some_s, some = _timed(_scored_candidates, matcher, titles, prefix)
        all_ms.append(every_s * 1000)
        kept_ms.append(some_s * 1000)
        same_top += _top(every) == _top(some)

    report = "\n".join(
        [
            f"Command palette, {args.size:,} cases, {len(prefixes)} typed prefixes",
            "",
            "| scoring | median ms per key | p95 ms | max ms |",
            "| --- | ---: | ---: | ---: |",
            _row("every case", all_ms),
            _row("candidates first", kept_ms),
            "",
            f"Same best {SHOWN} shown for {same_top} of {len(prefixes)} prefixes.",
        ]
    )
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n", encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)
    return 0


def _cases(size: int) -> list[SearchHit]:
    docs = sorted(build_corpus(size).docs, key=lambda d: d.updated, reverse=True)
    return [
        SearchHit(
            id=d.case_id,
            title=d.title,
            title_zh=d.title_zh,
            tags=tuple(d.tags),
            score=0.0,
            snippet="",
            updated=date.isoformat(d.updated),
        )
        for d in docs
    ]


def _scored(matcher: Matcher, cases: list[SearchHit]) -> list[tuple[float, str]]:
    scored = []
    for case in cases:
        score = max(matcher.match(n) for n in (case.title, case.title_zh, case.id))
        if score > 0:
            scored.append((score, case.id))
    return scored


def _scored_candidates(
    matcher: Matcher, titles: TitleIndex, prefix: str
) -> list[tuple[float, str]]:
    return _scored(matcher, titles.candidates(prefix))


def _top(scored: list[tuple[float, str]]) -> list[float]:
    return sorted((score for score, _id in scored), reverse=True)[:SHOWN]


def _timed(work: Callable[..., T], *args: Any) -> tuple[float, T]:
    started = time.perf_counter()
    result = work(*args)
    return time.perf_counter() - started, result


def _row(name: str, samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (
        f"| {name} | {statistics.median(ordered):.1f} | {p95:.1f} | {ordered[-1]:.1f} |"
    )


if __name__ == "__main__":
    sys.exit(main())
