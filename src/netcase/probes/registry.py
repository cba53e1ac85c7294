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


def _texts(value: Any) -> list[str]:
    """Accept one text or a list of texts from a playbook parameter."""
    if value is None:
        return []
    return (
        [str(item) for item in value]
        if isinstance(value, list | tuple)
        else [str(value)]
    )


async def _run_dns(
    params: dict[str, Any], site: Site, progress: Progress | None
) -> ProbeResult:
    from netcase.probes.dnscompare import DEFAULT_TIMEOUT_S, RECORD_TYPES, compare_dns
    from netcase.site import parse_resolver

    internal = (
        tuple(parse_resolver(a) for a in _texts(params.get("internal")))
        or site.internal
    )
    external = (
        tuple(parse_resolver(a) for a in _texts(params.get("external")))
        or site.external
    )
    return await compare_dns(
        _texts(params.get("names")) or list(site.targets.dns_names),
        internal,
        external,
        rdtypes=_texts(params.get("types")) or RECORD_TYPES,
        timeout_s=float(params.get("timeout", DEFAULT_TIMEOUT_S)),
        on_progress=progress,
    )


PROBES: dict[str, ProbeSpec] = {
    spec.name: spec
    for spec in (
        ProbeSpec(
            "dns",
            frozenset({"names", "types", "timeout", "internal", "external"}),
            _run_dns,
        ),
    )
}
"""Every probe a playbook step may name."""


def probe_params() -> dict[str, frozenset[str]]:
    """Return each probe's accepted parameters, for checking playbooks."""
    return {name: spec.params for name, spec in PROBES.items()}
