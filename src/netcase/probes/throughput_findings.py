"""Findings of the throughput probe: a slow run, and a before/after comparison."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netcase.probes.findings import Finding, Severity
from netcase.site import Thresholds

if TYPE_CHECKING:
    from netcase.probes.throughput import ThroughputRun


def throughput_findings(
    runs: list[ThroughputRun], thresholds: Thresholds, expect_mbps: float
) -> list[Finding]:
    """State ``throughput.low`` per slow run and compare a before/after pair."""
    findings = [
        Finding(
            "throughput.low",
            Severity.WARNING,
            f"{run.label}: {run.mbps:.2f} Mbit/s, under the expected "
            f"{expect_mbps:g} Mbit/s.",
            {"run": run.label, "mbps": round(run.mbps, 3), "expect_mbps": expect_mbps},
        )
        for run in runs
        if run.ok and run.mbps < expect_mbps
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
