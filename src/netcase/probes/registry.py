"""Every probe a playbook may name, with its parameters and how to run it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netcase.errors import ConfigError
from netcase.probes.findings import Finding
from netcase.probes.limits import (
    DEFAULT_INTERVAL_S,
    MAX_INTERVAL_S,
    MAX_TIMEOUT_S,
    MAX_TRANSFER_S,
    MIN_INTERVAL_S,
    MIN_TRANSFER_S,
    check_seconds,
)
from netcase.probes.result import ProbeResult
from netcase.site import Site, Uplink, parse_resolver, parse_uplink

Progress = Callable[[Any], None]
Runner = Callable[[dict[str, Any], Site, Progress | None], Awaitable[ProbeResult]]
Compare = Callable[[ProbeResult, ProbeResult, Site], list[Finding]]

MAX_THROUGHPUT_SECONDS = MAX_TRANSFER_S
"""The longest a throughput run may last, from a playbook or the command line."""


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
        timeout_s=_timeout(params, "dns", DEFAULT_TIMEOUT_S),
        on_progress=progress,
    )


def _uplinks(value: Any, site: Site) -> tuple[Uplink, ...]:
    """Read ``name=source`` texts (or site uplink names); default the site's uplinks."""
    return tuple(parse_uplink(text, site) for text in _texts(value)) or site.uplinks


async def _run_latency(
    params: dict[str, Any], site: Site, progress: Progress | None
) -> ProbeResult:
    from netcase.probes.latency import LatencyParams, measure_latency

    settings = LatencyParams(
        target=str(params["target"]),
        uplinks=_uplinks(params.get("uplinks"), site),
        count=_whole(params.get("count", 10), "The latency count"),
        interval_s=check_seconds(
            params.get("interval", DEFAULT_INTERVAL_S),
            "The latency interval",
            MAX_INTERVAL_S,
            minimum_s=MIN_INTERVAL_S,
        ),
        timeout_s=_timeout(params, "latency", 1.0),
        method=str(params.get("method", "auto")),
        tcp_port=int(params.get("tcp_port", site.targets.tcp_port)),
        tls=params.get("tls"),
        tls_verify=bool(params.get("tls_verify", True)),
        resolvers=tuple(parse_resolver(a) for a in _texts(params.get("resolvers")))
        or site.internal,
        thresholds=site.thresholds,
    )
    return await measure_latency(settings, progress)


async def _run_throughput(
    params: dict[str, Any], site: Site, progress: Progress | None
) -> ProbeResult:
    from netcase.probes.throughput import probe_throughput

    uplinks = _uplinks(params.get("uplink"), site) if params.get("uplink") else ()
    return await probe_throughput(
        str(params.get("url") or site.targets.throughput or ""),
        uplink=uplinks[0] if uplinks else None,
        seconds=_throughput_seconds(params.get("seconds", 10.0)),
        thresholds=site.thresholds,
        expect_mbps=_rate(params.get("expect_mbps")),
        server=str(params["server"]) if params.get("server") else None,
        timeout_s=_timeout(params, "throughput", 10.0),
        on_progress=progress,
    )


def _throughput_seconds(value: Any) -> float:
    return check_seconds(
        value,
        "The throughput seconds",
        MAX_THROUGHPUT_SECONDS,
        minimum_s=MIN_TRANSFER_S,
    )


def _timeout(params: dict[str, Any], probe: str, default_s: float) -> float:
    """Read a step's ``timeout``, refusing what would never end."""
    return check_seconds(
        params.get("timeout", default_s), f"The {probe} timeout", MAX_TIMEOUT_S
    )


def _whole(value: Any, label: str) -> int:
    """Read a whole number from a step, refusing 2.5 rather than cutting it to 2."""
    whole = value if isinstance(value, int | str) and value is not True else None
    try:
        return int(whole)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(
            f"{label} {value!r} is not a whole number; give one such as 10."
        ) from None


def _rate(value: Any) -> float | None:
    """Read a step's ``expect_mbps``; the probe itself refuses a bad number."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"The expected rate {value!r} is not a number of Mbit/s; give one "
            "such as 8."
        ) from None


def _compare_throughput(
    before: ProbeResult, after: ProbeResult, site: Site
) -> list[Finding]:
    from netcase.probes.throughput import ThroughputRun
    from netcase.probes.throughput_findings import throughput_findings

    def run(result: ProbeResult, label: str) -> ThroughputRun:
        measured = result.measurements["runs"][-1]
        return ThroughputRun(
            label,
            measured["backend"],
            measured["target"],
            measured["source"],
            bytes_received=int(measured["bytes"]),
            seconds=float(measured["seconds"]),
            mbps=float(measured["mbps"]),
            error=measured["error"],
        )

    runs = [run(before, "before"), run(after, "after")]
    expect = float(
        after.params.get("expect_mbps") or site.thresholds.throughput_low_mbps
    )
    findings = throughput_findings(runs, site.thresholds, expect)
    return [f for f in findings if f.code != "throughput.low"]


async def _run_wifi(
    params: dict[str, Any], site: Site, progress: Progress | None
) -> ProbeResult:
    from netcase.probes.wifi import read_link
    from netcase.probes.wifiparse import decode_capture, parse_capture

    interface = str(params["interface"]) if params.get("interface") else None

    def capture(key: str) -> Any:
        path = params.get(key)
        if not path:
            return None
        text = decode_capture(Path(str(path)).read_bytes())
        return parse_capture(text, origin=str(path), interface=interface)

    return await read_link(
        capture("from_file"),
        interface=interface,
        scan=capture("scan_file"),
        thresholds=site.thresholds,
        on_progress=progress,
    )


def _compare_wifi(before: ProbeResult, after: ProbeResult, site: Site) -> list[Finding]:
    from netcase.probes.wifi import compare_links

    if any(f.code == "wifi.roamed" for f in after.findings):
        return []
    return compare_links(before, after, site.thresholds)


async def _run_clock(
    params: dict[str, Any], site: Site, progress: Progress | None
) -> ProbeResult:
    from netcase.probes.clock import check_clock

    return await check_clock(
        ntp=str(params["ntp"]) if params.get("ntp") else None,
        http_url=str(params["http"]) if params.get("http") else None,
        apt_error=str(params["apt_error"]) if params.get("apt_error") else None,
        timeout_s=_timeout(params, "clock", 3.0),
        skew_threshold_s=site.thresholds.clock_skew_s,
        http_proxy=str(params.get("proxy") or "") or site.targets.http_proxy,
        on_progress=progress,
    )


async def _run_localtime(
    params: dict[str, Any], site: Site, progress: Progress | None
) -> ProbeResult:
    from netcase.probes.containers import check_localtime_mounts, read_inspect_file

    path = params.get("inspect_file")
    text = read_inspect_file(str(path)) if path else params.get("inspect_text")
    return await check_localtime_mounts(
        inspect_text=str(text) if text else None,
        origin=str(path or "the pasted text"),
        container=str(params["container"])
        if params.get("container") and not text
        else None,
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
        ProbeSpec(
            "latency",
            frozenset(
                {
                    "target",
                    "uplinks",
                    "count",
                    "interval",
                    "timeout",
                    "method",
                    "tcp_port",
                    "tls",
                    "tls_verify",
                    "resolvers",
                }
            ),
            _run_latency,
        ),
        ProbeSpec(
            "throughput",
            frozenset({"url", "uplink", "seconds", "expect_mbps", "server", "timeout"}),
            _run_throughput,
            _compare_throughput,
        ),
        ProbeSpec(
            "wifi",
            frozenset({"from_file", "scan_file", "interface"}),
            _run_wifi,
            _compare_wifi,
        ),
        ProbeSpec(
            "clock",
            frozenset({"ntp", "http", "proxy", "apt_error", "timeout"}),
            _run_clock,
        ),
        ProbeSpec(
            "localtime_mount",
            frozenset({"inspect_file", "inspect_text", "container"}),
            _run_localtime,
        ),
    )
}
"""Every probe a playbook step may name."""


def probe_params() -> dict[str, frozenset[str]]:
    """Return each probe's accepted parameters, for checking playbooks."""
    return {name: spec.params for name, spec in PROBES.items()}
