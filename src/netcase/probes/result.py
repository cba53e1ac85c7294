"""What every probe returns: its parameters, measurements and findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from netcase.probes.findings import Finding


@dataclass
class ProbeResult:
    """One probe run, ready to serialise.

    Attributes:
        probe: The probe's name (``dns``, ``latency``, ``throughput``, ``wifi``).
        started: When it started (time-zone aware).
        duration_s: Wall time of the run.
        params: The inputs it ran with.
        measurements: What it measured, as plain JSON values.
        findings: What it concluded.
    """

    probe: str
    started: datetime
    duration_s: float
    params: dict[str, Any]
    measurements: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the result in the CLI's JSON shape."""
        return {
            "probe": self.probe,
            "started": self.started.isoformat(),
            "duration_s": round(self.duration_s, 4),
            "params": self.params,
            "measurements": self.measurements,
            "findings": [finding.to_json() for finding in self.findings],
        }

    def codes(self) -> set[str]:
        """Return the finding codes of this run."""
        return {finding.code for finding in self.findings}
