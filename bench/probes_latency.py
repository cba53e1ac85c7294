"""Benchmark of the per-uplink latency probe: two uplinks x 10 pings at 0.1 s.

Goal (issue 3): the whole run takes at most 1.3 s. Measured on loopback
sources (127.0.0.2 and 127.0.0.3 to 127.0.0.1) and, as root, through the
two-uplink namespace lab, from inside its client namespace. Run alone with
``python bench/probes_latency.py``; it prints a Markdown table. Traffic goes
to 127.0.0.1 and to the lab's own namespaces only.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from latency_servers import closed_port  # noqa: E402
from netcase.probes.latency import LatencyParams, measure_latency  # noqa: E402
from netcase.site import Uplink  # noqa: E402
from netns import netns_unavailable_reason, two_uplink_lab  # noqa: E402

GOAL_S = 1.3
COUNT, INTERVAL_S, TIMEOUT_S = 10, 0.1, 1.0
RUNS = 5


def loopback_run(method: str = "auto", port: int = 443) -> tuple[str, float]:
    """Return the method and wall time of one probe on loopback sources."""
    uplinks = (Uplink("a", source="127.0.0.2"), Uplink("b", source="127.0.0.3"))
    params = LatencyParams(
        "127.0.0.1",
        uplinks,
        count=COUNT,
        interval_s=INTERVAL_S,
        timeout_s=TIMEOUT_S,
        method=method,
        tcp_port=port,
    )
    result = asyncio.run(measure_latency(params))
    return result.measurements["method"], result.duration_s


def lab_runs() -> list[tuple[str, float]]:
    """Return the method and wall time of each probe run inside the lab."""
    runs = []
    with two_uplink_lab() as lab:
        command = lab.in_client(
            sys.executable, "-m", "netcase", "probe", "latency", lab.address("target"),
            "--uplink", f"a={lab.address('up1')}", "--uplink", f"b={lab.address('up2')}",
            "--count", str(COUNT), "--interval", str(INTERVAL_S),
            "--timeout", str(TIMEOUT_S), "--json",
        )  # fmt: skip
        for _ in range(RUNS):
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            report = json.loads(done.stdout)
            runs.append((report["measurements"]["method"], report["duration_s"]))
    return runs


def row(setup: str, runs: list[tuple[str, float]]) -> str:
    """Return one Markdown table row for a set of runs."""
    times_s = [duration_s for _, duration_s in runs]
    worst_s = max(times_s)
    verdict = "yes" if worst_s <= GOAL_S else "NO"
    return (
        f"| {setup} | {runs[0][0]} | {statistics.median(times_s):.3f} | "
        f"{worst_s:.3f} | {GOAL_S:g} | {verdict} |"
    )


def main() -> None:
    """Measure and print the table."""
    print(f"Latency probe: 2 uplinks x {COUNT} pings at {INTERVAL_S:g} s, {RUNS} runs")
    print()
    print("| setup | method | median s | worst s | goal s | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(row("loopback sources", [loopback_run() for _ in range(RUNS)]))
    with closed_port() as port:
        tcp_runs = [loopback_run("tcp", port) for _ in range(RUNS)]
    print(row("loopback sources, TCP to a closed port", tcp_runs))
    reason = netns_unavailable_reason()
    if reason is None:
        print(row("namespace lab", lab_runs()))
    else:
        print(f"| namespace lab | skipped: {reason} | | | | |")


if __name__ == "__main__":
    main()
