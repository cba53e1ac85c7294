"""Findings of the throughput probe: a slow run, and a before/after comparison."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netcase.probes.findings import Finding, Severity
from netcase.site import Thresholds

if TYPE_CHECKING:
    from netcase.probes.throughput import ThroughputRun

SMALL_RUN_BYTES = 64 * 1024
"""Under this many bytes, connection set-up and TCP slow start dominate the rate."""
SHORT_EOF_S = 0.5
"""A file that ends this soon may end before its rate has settled."""
SETTLED_BYTES = 10_000_000
"""A file this big ends well after TCP slow start, however soon it ends.

Slow start moves about twice the path's bandwidth-delay product before the
rate settles: some 5 MB at 1 Gbit/s with a 20 ms round trip.
"""
_BIGGER = f"use a file of {SETTLED_BYTES // 1_000_000} MB or more."


def small_run_reason(run: ThroughputRun) -> str | None:
    """Say why a run moved too little, or ended too soon, to judge; else None."""
    if not run.ok:
        return None
    size = f"{run.bytes_received:,} bytes"
    if run.bytes_received < SMALL_RUN_BYTES and run.ended == "eof":
        return f"Too small to judge the link: the whole file is {size}; {_BIGGER}"
    if run.bytes_received < SMALL_RUN_BYTES:
        longer = "; run it for longer" if run.ended == "deadline" else ""
        return (
            f"Too little to judge the link: only {size} arrived in "
            f"{run.seconds:.2f} s{longer}."
        )
    short = run.ended == "eof" and run.seconds < SHORT_EOF_S
    if short and run.bytes_received < SETTLED_BYTES:
        return (
            f"Too short to judge the link: the whole file ({size}) arrived in "
            f"{run.seconds:.2f} s, before the rate could settle; {_BIGGER}"
        )
    return None


def too_small_to_judge(run: ThroughputRun) -> bool:
    """True when a run moved too little, or ended too soon, for its rate to count."""
    return small_run_reason(run) is not None


def note_small_runs(runs: list[ThroughputRun]) -> None:
    """Add to each run too small to judge a note saying why its rate says little."""
    for run in runs:
        reason = small_run_reason(run)
        if reason is not None:
            run.note = f"{run.note} {reason}" if run.note else reason


def throughput_findings(
    runs: list[ThroughputRun], thresholds: Thresholds, expect_mbps: float
) -> list[Finding]:
    """State ``throughput.low`` per slow run and compare a before/after pair.

    A run too small to judge (see :func:`too_small_to_judge`) is never low.
    """
    findings = [
        Finding(
            "throughput.low",
            Severity.WARNING,
            f"{run.label}: {run.mbps:.2f} Mbit/s, under the expected "
            f"{expect_mbps:g} Mbit/s.",
            {"run": run.label, "mbps": round(run.mbps, 3), "expect_mbps": expect_mbps},
        )
        for run in runs
        if run.ok and run.mbps < expect_mbps and not too_small_to_judge(run)
    ]
    pair = {run.label: run for run in runs}
    before, after = pair.get("before"), pair.get("after")
    if before and after and before.ok and after.ok:
        findings.append(_comparison(before, after, thresholds.throughput_ratio))
    return findings


def _comparison(
    before: ThroughputRun, after: ThroughputRun, ratio_needed: float
) -> Finding:
    ratio = after.mbps / before.mbps
    data = {
        "before_mbps": round(before.mbps, 3),
        "after_mbps": round(after.mbps, 3),
        "ratio": round(ratio, 3),
    }
    rates = f"{before.mbps:.2f} -> {after.mbps:.2f} Mbit/s (x{ratio:.2f})"
    if ratio >= ratio_needed:
        return Finding(
            "throughput.recovered_after_reconnect",
            Severity.WARNING,
            f"The re-test after the action is much faster: {rates}.",
            data,
        )
    return Finding(
        "throughput.unchanged",
        Severity.INFO,
        f"The re-test after the action is no faster: {rates}, under x{ratio_needed:g}.",
        data,
    )
