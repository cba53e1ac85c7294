"""Benchmark: a playbook's wall time against its slowest independent probe step.

Goal (issue 4): a playbook takes at most 1.15 x its slowest independent probe
step, plus the time its manual steps wait for a person. The playbook here is
the PayPal shape: a DNS comparison (6 loopback resolvers with 50..300 ms
delays) and per-uplink latency (2 loopback sources x 10 pings at 0.1 s) in
parallel, then a manual step that waits 0.5 s. Each probe step is also timed
alone. Needs root for ICMP from 127.0.0.2 and 127.0.0.3. Traffic goes to
127.0.0.x only.

    python bench/diagnose.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from netcase.diagnose.engine import DiagnosisEngine  # noqa: E402
from netcase.diagnose.playbook import Playbook, Step  # noqa: E402
from netcase.diagnose.session import SessionStore  # noqa: E402
from netcase.probes.registry import PROBES  # noqa: E402
from netcase.site import ResolverAddress, Site, Uplink  # noqa: E402
from netcase.store import make_engine  # noqa: E402
from probes_dns import DELAYS_S, NAMES, ZONE, responders  # noqa: E402

RUNS = 5
MANUAL_WAIT_S = 0.5


def lab_site(resolvers: list[ResolverAddress]) -> Site:
    uplinks = (Uplink("a", "A", "127.0.0.2"), Uplink("b", "B", "127.0.0.3"))
    return Site(
        name="bench",
        internal=tuple(resolvers[:3]),
        external=tuple(resolvers[3:]),
        uplinks=uplinks,
    )


STEPS = (
    Step("dns", "dns", {"names": list(NAMES)}),
    Step("lines", "latency", {"target": "127.0.0.1", "count": 10, "interval": 0.1}),
)


async def wait_for_person(step: Step) -> bool:
    await asyncio.sleep(MANUAL_WAIT_S)
    return True


async def timed_playbook(engine: DiagnosisEngine, steps: tuple[Step, ...]) -> float:
    started = time.perf_counter()
    await engine.run(Playbook("bench", steps=steps), {}, wait_for_person)
    return time.perf_counter() - started


async def measure(site: Site, folder: Path) -> dict[str, float]:
    engine = DiagnosisEngine(
        site,
        {},
        {},
        SessionStore(make_engine(f"sqlite:///{folder / 'bench.db'}")),
        PROBES,
    )
    manual = Step("ask", text="Reconnect", text_zh="重连")
    alone = {step.id: [] for step in STEPS}
    whole: list[float] = []
    await timed_playbook(engine, STEPS)
    for _ in range(RUNS):
        for step in STEPS:
            alone[step.id].append(await timed_playbook(engine, (step,)))
        whole.append(await timed_playbook(engine, (*STEPS, manual)) - MANUAL_WAIT_S)
    return {
        "dns_s": statistics.median(alone["dns"]),
        "lines_s": statistics.median(alone["lines"]),
        "whole_s": statistics.median(whole),
        "worst_whole_s": max(whole),
    }


def main() -> None:
    views = [{"zone": ZONE, "delay_s": delay} for delay in DELAYS_S]
    with responders(views) as resolvers, tempfile.TemporaryDirectory() as folder:
        figures = asyncio.run(measure(lab_site(resolvers), Path(folder)))
    slowest = max(figures["dns_s"], figures["lines_s"])
    ratio = figures["whole_s"] / slowest
    print("| step or playbook | median s |")
    print("| --- | --- |")
    print(f"| DNS comparison alone (6 resolvers x 3 names) | {figures['dns_s']:.3f} |")
    print(f"| latency alone (2 uplinks x 10 pings, 0.1 s) | {figures['lines_s']:.3f} |")
    print(
        f"| playbook: both in parallel + manual step, minus its {MANUAL_WAIT_S} s wait | {figures['whole_s']:.3f} (worst {figures['worst_whole_s']:.3f}) |"
    )
    print(
        f"\nPlaybook / slowest step: {ratio:.3f} (goal <= 1.15): {'met' if ratio <= 1.15 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
