"""Benchmark of the throughput probe over a veth shaped with tbf to 8 Mbit/s.

Goal (issue 3): a throughput figure over a link shaped to 8 Mbit/s is within
10% of 8 Mbit/s, for the HTTP, FTP and speedtest backends. Needs root: the
servers run in a network namespace and the probe (the CLI) in a client
namespace bound to uplink 1, so traffic stays inside namespaces this script
creates. Run alone with ``python bench/probes_throughput.py``; it prints a
Markdown table.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from netns import TwoUplinkLab, netns_unavailable_reason, two_uplink_lab  # noqa: E402

SHAPED_MBPS = 8.0
TOLERANCE = 0.10
SECONDS = 5
RUNS = 3


@contextmanager
def lab_server(lab: TwoUplinkLab, kind: str) -> Iterator[int]:
    """Serve HTTP or FTP on the lab's target address; yield the port."""
    command = [sys.executable, str(TESTS / "servers_throughput.py"), kind]
    process = subprocess.Popen(
        lab.in_net(*command, "--host", lab.address("target"), "--size-mb", "50"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        yield int(process.stdout.readline().split()[1])
    finally:
        process.stdin.close()
        process.wait(timeout=30)
        process.stdout.close()


def measure_mbps(lab: TwoUplinkLab, *target: str) -> float:
    """Run the CLI in the client namespace through uplink 1; return its Mbit/s."""
    command = lab.in_client(
        sys.executable, "-m", "netcase", "probe", "throughput", *target,
        "--uplink", f"up1={lab.address('up1')}", "--seconds", str(SECONDS), "--json",
    )  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    mbps: float = json.loads(done.stdout)["measurements"]["runs"][0]["mbps"]
    return mbps


def targets(lab: TwoUplinkLab, http_port: int, ftp_port: int) -> dict[str, list[str]]:
    host = lab.address("target")
    return {
        "HTTP": [f"http://{host}:{http_port}/bytes/10000000000"],
        "FTP": [f"ftp://{host}:{ftp_port}/payload.bin"],
        "speedtest (mini server)": [
            "speedtest",
            "--server",
            f"http://{host}:{http_port}/",
        ],
    }


def row(backend: str, rates: list[float]) -> str:
    median = statistics.median(rates)
    error = median / SHAPED_MBPS - 1
    verdict = "yes" if abs(error) <= TOLERANCE else "NO"
    spread = f"{min(rates):.2f} - {max(rates):.2f}"
    return f"| {backend} | {len(rates)} | {median:.2f} | {spread} | {error:+.1%} | {verdict} |"


def main() -> None:
    """Measure each backend RUNS times and print the Markdown table."""
    reason = netns_unavailable_reason()
    if reason:
        sys.exit(f"probes_throughput: cannot run: {reason}")
    lines = [
        f"Throughput over a veth shaped with tbf to {SHAPED_MBPS:g} Mbit/s "
        f"({SECONDS} s per run, median of {RUNS}; goal: within {TOLERANCE:.0%})",
        "",
        "| backend | runs | median Mbit/s | min - max | vs 8 Mbit/s | within 10% |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    with two_uplink_lab() as lab:
        lab.shape_rate(1, f"{SHAPED_MBPS:g}mbit")
        with lab_server(lab, "http") as http_port, lab_server(lab, "ftp") as ftp_port:
            for backend, target in targets(lab, http_port, ftp_port).items():
                rates = [measure_mbps(lab, *target) for _ in range(RUNS)]
                lines.append(row(backend, rates))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
