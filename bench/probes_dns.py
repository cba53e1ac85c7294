"""Benchmark of the DNS comparison probe on loopback responders with fixed delays.

Goals (issue 3): 6 resolvers x 3 names take at most 1.15 x the slowest single
answer; with one silent resolver and timeout T, at most T + 0.15 s. Run alone
with ``python bench/probes_dns.py``; it prints a Markdown table. Traffic goes
to 127.0.0.x only.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.message

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from dnsserver import dns_lab  # noqa: E402
from netcase.probes.dnscompare import compare_dns  # noqa: E402
from netcase.site import ResolverAddress  # noqa: E402

NAMES = ("www.example.com", "api.example.com", "cdn.example.com")
DELAYS_S = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30)
SILENT_TIMEOUT_S = 1.0
RUNS = 9
ZONE = {
    name: {"A": [f"203.0.113.{i}"], "AAAA": [f"2001:db8::{i}"]}
    for i, name in enumerate(NAMES, start=10)
}


def serve(views: list[dict[str, Any]], pipe: Connection) -> None:
    """In a child process: run responders, send their addresses, wait for stop."""
    with dns_lab() as lab:
        pipe.send([(r.host, r.port) for r in (lab.add(**view) for view in views)])
        pipe.recv()


@contextmanager
def responders(views: list[dict[str, Any]]) -> Iterator[list[ResolverAddress]]:
    """Run responders in their own process, so they take no time from the probe."""
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.Process(target=serve, args=(views, theirs), daemon=True)
    child.start()
    try:
        yield [ResolverAddress(host, port) for host, port in ours.recv()]
    finally:
        ours.send("stop")
        child.join(timeout=10)


async def single_answer_s(resolver: ResolverAddress) -> float:
    """Time one query, alone, to one responder."""
    query = dns.message.make_query(NAMES[0], "A")
    begin = time.monotonic()
    await dns.asyncquery.udp(query, resolver.host, timeout=5, port=resolver.port)
    return time.monotonic() - begin


async def probe_s(resolvers: list[ResolverAddress], timeout_s: float) -> float:
    """Time one whole comparison: three internal resolvers, the rest external."""
    begin = time.monotonic()
    await compare_dns(NAMES, resolvers[:3], resolvers[3:], timeout_s=timeout_s)
    return time.monotonic() - begin


def runs_s(resolvers: list[ResolverAddress], timeout_s: float) -> list[float]:
    """Time RUNS comparisons after one warm-up run (first imports, caches)."""
    asyncio.run(probe_s(resolvers, timeout_s))
    return [asyncio.run(probe_s(resolvers, timeout_s)) for _ in range(RUNS)]


def measure() -> list[tuple[str, str, str]]:
    """Run both scenarios; return (figure, goal, measured) rows."""
    delayed = [{"zone": ZONE, "delay_s": delay_s} for delay_s in DELAYS_S]
    with responders(delayed) as resolvers:
        slowest_s = max(
            asyncio.run(single_answer_s(resolvers[-1])) for _ in range(RUNS)
        )
        walls_s = runs_s(resolvers, 2.0)
    with responders([*delayed[:5], {"mode": "silent"}]) as resolvers:
        silent_s = runs_s(resolvers, SILENT_TIMEOUT_S)

    median_s = statistics.median(walls_s)
    return [
        (
            "6 resolvers x 3 names (A+AAAA), delays 50..300 ms: wall / slowest single answer",
            "<= 1.15",
            f"{median_s / slowest_s:.3f} median, {max(walls_s) / slowest_s:.3f} worst "
            f"of {RUNS} ({median_s:.3f} s, {max(walls_s):.3f} s; "
            f"single answer {slowest_s:.3f} s)",
        ),
        (
            f"one silent resolver, T = {SILENT_TIMEOUT_S:g} s: wall",
            f"<= {SILENT_TIMEOUT_S + 0.15:.2f} s",
            f"{statistics.median(silent_s):.3f} s median, {max(silent_s):.3f} s "
            f"worst of {RUNS}",
        ),
    ]


def main() -> None:
    """Print the DNS probe's figures as a Markdown table."""
    rows = measure()
    print("| DNS comparison | goal | measured |")
    print("| --- | --- | --- |")
    for figure, goal, measured in rows:
        print(f"| {figure} | {goal} | {measured} |")


if __name__ == "__main__":
    main()
