"""Every probe a playbook may name, with its parameters and how to run it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from netcase.probes.findings import Finding
from netcase.probes.result import ProbeResult
from netcase.site import Site

Progress = Callable[[Any], None]
Runner = Callable[[dict[str, Any], Site, Progress | None], Awaitable[ProbeResult]]
Compare = Callable[[ProbeResult, ProbeResult, Site], list[Finding]]


@dataclass(frozen=True)
class ProbeSpec:
    """A probe as playbooks see it.

    Attributes:
        name: The name a step uses (``probe: dns``).
        params: The parameter names a step may give.
        run: Runs the probe with filled-in parameters.
        compare: Findings from a re-test against its original, if the probe
            has any (a throughput re-test after a reconnect).
    """

    name: str
    params: frozenset[str]
    run: Runner
    compare: Compare | None = None


PROBES: dict[str, ProbeSpec] = {}
"""Filled by :func:`register`; the probe modules' adapters call it on import."""


def register(spec: ProbeSpec) -> ProbeSpec:
    """Add a probe to :data:`PROBES`."""
    PROBES[spec.name] = spec
    return spec


def probe_params() -> dict[str, frozenset[str]]:
    """Return each probe's accepted parameters, for checking playbooks."""
    return {name: spec.params for name, spec in PROBES.items()}
