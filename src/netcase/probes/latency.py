"""Per-uplink latency and loss: ping one target through every uplink at once.

Each uplink's probes leave from its own source address, so that the router's
policy routing sends them out of that line. ICMP echo is used where the host
permits it (raw sockets as root, datagram sockets where
``net.ipv4.ping_group_range`` allows); elsewhere the probe times TCP connects
to a port instead and says so in the result.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from icmplib import (
    ICMPLibError,
    SocketAddressError,
    SocketPermissionError,
)

from netcase.errors import ConfigError, NetcaseError
from netcase.probes.handshake import HandshakeTiming, time_handshake
from netcase.probes.latency_report import UplinkLatency, latency_findings
from netcase.probes.latency_series import (
    MAX_COUNT,
    IcmpSeries,
    Sample,
    source_towards,
    tcp_series,
)
from netcase.probes.latency_target import Target, resolve_target
from netcase.probes.limits import (
    DEFAULT_INTERVAL_S,
    MAX_INTERVAL_S,
    MAX_SERIES_S,
    MAX_TIMEOUT_S,
    MIN_INTERVAL_S,
    check_seconds,
)
from netcase.probes.result import ProbeResult
from netcase.site import ResolverAddress, Thresholds, Uplink

log = logging.getLogger(__name__)

METHODS = ("auto", "icmp", "tcp")
GRANT_ICMP = 'To ping instead, run as root or allow unprivileged ICMP with: sysctl -w net.ipv4.ping_group_range="0 2147483647".'


class IcmpNotPermitted(NetcaseError):
    """ICMP was required but the host does not permit it."""

    title = "ICMP not permitted"


@dataclass(frozen=True)
class LatencyParams:
    """What to measure and how.

    Attributes:
        target: An IP address, a host name or an ``https://`` URL.
        uplinks: The uplinks to compare; each binds to its ``source``.
        count: Probes per uplink.
        interval_s: Time between two probes of one uplink.
        timeout_s: How long each probe waits for its reply.
        method: ``auto`` (ICMP, else TCP), ``icmp`` (fail without ICMP) or
            ``tcp`` (TCP connect time only).
        tcp_port: The TCP port for the TCP method and the TLS timing.
        tls: Time a TCP + TLS handshake per uplink; None means only for an
            ``https://`` target.
        tls_verify: Check the certificate; off times the handshake only.
        privileged: Raw ICMP sockets (True) or datagram ones (False); None
            means raw when running as root.
        resolvers: Where a host name is resolved (the site's internal ones).
        thresholds: The limits that turn measurements into findings.
    """

    target: str
    uplinks: tuple[Uplink, ...]
    count: int = 10
    interval_s: float = DEFAULT_INTERVAL_S
    timeout_s: float = 1.0
    method: str = "auto"
    tcp_port: int = 443
    tls: bool | None = None
    tls_verify: bool = True
    privileged: bool | None = None
    resolvers: tuple[ResolverAddress, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        _require(
            1 <= self.count <= MAX_COUNT,
            f"The count must be between 1 and {MAX_COUNT}, not {self.count!r}.",
        )
        check_seconds(
            self.interval_s, "The interval", MAX_INTERVAL_S, minimum_s=MIN_INTERVAL_S
        )
        check_seconds(self.timeout_s, "The timeout", MAX_TIMEOUT_S)
        _require(
            self.count * self.interval_s <= MAX_SERIES_S,
            f"{self.count} probes every {self.interval_s:g} s would take "
            f"{self.count * self.interval_s:g} s, over the {MAX_SERIES_S:g} s a "
            "series may last; give fewer probes or a shorter interval.",
        )
        _require(
            self.method in METHODS,
            f"The method {self.method!r} is not one of {', '.join(METHODS)}.",
        )
        _require(
            0 < self.tcp_port < 65536,
            f"The TCP port {self.tcp_port!r} is not between 1 and 65535.",
        )
        names = [uplink.name for uplink in self.uplinks]
        _require(bool(names), "Give at least one uplink to measure.")
        _require(
            len(set(names)) == len(names), f"Uplink names must be unique: {names!r}."
        )

    def to_json(self) -> dict[str, Any]:
        """Return the parameters as plain JSON values."""
        return {
            "target": self.target,
            "uplinks": [{"name": u.name, "source": u.source} for u in self.uplinks],
            "count": self.count,
            "interval_s": self.interval_s,
            "timeout_s": self.timeout_s,
            "method": self.method,
            "tcp_port": self.tcp_port,
            "tls": self.tls,
            "tls_verify": self.tls_verify,
            "resolvers": [str(resolver) for resolver in self.resolvers],
        }


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


@dataclass(frozen=True)
class LatencyProgress:
    """One step of a running probe: a sample or a handshake of one uplink.

    ``method`` is ``icmp`` or ``tcp`` with a sample, ``tls`` with a handshake.
    """

    uplink: str
    method: str
    sample: Sample | None = None
    handshake: HandshakeTiming | None = None


ProgressCallback = Callable[[LatencyProgress], None]


@dataclass
class _Plan:
    """How the uplinks will be probed, with their ICMP sockets already open."""

    method: str
    note: str | None = None
    icmp: dict[str, IcmpSeries] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        for series in self.icmp.values():
            series.close()


async def measure_latency(
    params: LatencyParams, on_progress: ProgressCallback | None = None
) -> ProbeResult:
    """Probe the target through every uplink at once and state the findings.

    Args:
        params: What to measure.
        on_progress: Called with each sample and handshake as it arrives.

    Raises:
        TargetError: The target name cannot be resolved.
        IcmpNotPermitted: ``method="icmp"`` where ICMP is not permitted.
    """
    started = datetime.now(UTC)
    clock = time.perf_counter()
    target = await resolve_target(params.target, params.resolvers, params.timeout_s)

    plan = _plan(params, target)
    try:
        outcomes = await _measure_all(params, plan, target, on_progress)
    finally:
        plan.close()

    measurements = {
        "target": target.text,
        "host": target.host,
        "address": target.address,
        "method": plan.method,
        "tcp_port": params.tcp_port if plan.method == "tcp" else None,
        "note": _joined(plan.note, _refusal_note(outcomes)),
        "uplinks": [outcome.to_json() for outcome in outcomes],
    }
    findings = latency_findings(outcomes, params.thresholds, target.label)
    duration_s = time.perf_counter() - clock
    return ProbeResult(
        "latency", started, duration_s, params.to_json(), measurements, findings
    )


def _refusal_note(outcomes: list[UplinkLatency]) -> str | None:
    """Say which uplinks' probes this host refused to send, and the likely cause."""
    refused = [outcome for outcome in outcomes if outcome.send_failed]
    if not refused:
        return None
    counts = "; ".join(
        f"{o.name}: {o.send_failed} of {o.sent} ({o.send_error})" for o in refused
    )
    return (
        f"This host refused to send some probes, counted as lost ({counts}). "
        "A firewall rule on this host, such as an nftables or iptables output "
        "rule, may drop them."
    )


def _joined(*notes: str | None) -> str | None:
    return " ".join(note for note in notes if note) or None


def _plan(params: LatencyParams, target: Target) -> _Plan:
    if params.method == "tcp":
        note = (
            f"TCP connect time to port {params.tcp_port} was asked for instead of ICMP."
        )
        return _Plan("tcp", note)
    plan = _open_icmp(params, target)
    if plan is not None:
        return plan
    if params.method == "icmp":
        raise IcmpNotPermitted(f"This host does not permit ICMP echo. {GRANT_ICMP}")
    note = (
        f"ICMP is not permitted here, so TCP connect time to port "
        f"{params.tcp_port} was measured instead. {GRANT_ICMP}"
    )
    return _Plan("tcp", note)


def _open_icmp(params: LatencyParams, target: Target) -> _Plan | None:
    privileged = params.privileged
    if privileged is None:
        privileged = not hasattr(os, "geteuid") or os.geteuid() == 0
    plan = _Plan("icmp")
    for uplink in params.uplinks:
        try:
            series = IcmpSeries(target.address, uplink.source, privileged)
        except SocketPermissionError:
            plan.close()
            log.info("ICMP not permitted (privileged=%s); falling back", privileged)
            return None
        except SocketAddressError:
            plan.errors[uplink.name] = _bad_source(uplink)
        except ICMPLibError as exc:
            plan.errors[uplink.name] = f"Cannot open an ICMP socket: {exc}."
        else:
            plan.icmp[uplink.name] = series
    return plan


def _bad_source(uplink: Uplink) -> str:
    return (
        f"This host has no address {uplink.source!r} to send from; "
        f"fix the source of uplink {uplink.name!r}."
    )


async def _measure_all(
    params: LatencyParams,
    plan: _Plan,
    target: Target,
    on_progress: ProgressCallback | None,
) -> list[UplinkLatency]:
    runs = [
        _measure_uplink(params, plan, target, uplink, on_progress)
        for uplink in params.uplinks
    ]
    # Every uplink's outcome is collected before any failure is raised, so
    # none is left unretrieved (icmplib's multiping raises the first alone).
    outcomes = await asyncio.gather(*runs, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return [outcome for outcome in outcomes if isinstance(outcome, UplinkLatency)]


async def _measure_uplink(
    params: LatencyParams,
    plan: _Plan,
    target: Target,
    uplink: Uplink,
    on_progress: ProgressCallback | None,
) -> UplinkLatency:
    clock = time.perf_counter()
    outcome = UplinkLatency(uplink, plan.method, error=plan.errors.get(uplink.name))
    if outcome.error is None:
        outcome.source_used = source_towards(target.address, uplink.source)
        try:
            outcome.samples = await _series(params, plan, target, uplink, on_progress)
        except* (ICMPLibError, OSError) as failures:
            outcome.error = _failure(uplink, failures.exceptions[0])
    if outcome.error is None and _wants_tls(params, target):
        outcome.handshake = await _handshake(params, target, uplink, on_progress)
    _log_outcome(target, outcome, time.perf_counter() - clock)
    return outcome


async def _series(
    params: LatencyParams,
    plan: _Plan,
    target: Target,
    uplink: Uplink,
    on_progress: ProgressCallback | None,
) -> list[Sample]:
    def on_sample(sample: Sample) -> None:
        if on_progress is not None:
            on_progress(LatencyProgress(uplink.name, plan.method, sample=sample))

    timing = (params.count, params.interval_s, params.timeout_s, on_sample)
    if plan.method == "icmp":
        return await plan.icmp[uplink.name].run(*timing)
    address, port = target.address, params.tcp_port
    return await tcp_series(address, port, uplink.source, *timing)


def _failure(uplink: Uplink, exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.EADDRNOTAVAIL:
        return _bad_source(uplink)
    return f"Probing through uplink {uplink.name!r} failed: {exc}."


def _wants_tls(params: LatencyParams, target: Target) -> bool:
    return target.https_port is not None if params.tls is None else params.tls


async def _handshake(
    params: LatencyParams,
    target: Target,
    uplink: Uplink,
    on_progress: ProgressCallback | None,
) -> HandshakeTiming:
    port = target.https_port or params.tcp_port
    timing = await time_handshake(
        target.address,
        port,
        uplink.source,
        target.host,
        params.timeout_s,
        verify=params.tls_verify,
    )
    if on_progress is not None:
        on_progress(LatencyProgress(uplink.name, "tls", handshake=timing))
    return timing


def _log_outcome(target: Target, outcome: UplinkLatency, duration_s: float) -> None:
    if outcome.error is not None:
        result = outcome.error
    else:
        stats = outcome.stats
        median = f"median {stats.median_ms:.3f} ms" if stats else "no reply"
        result = f"{outcome.received}/{outcome.sent} replies, {median}"
    log.info(
        "latency to %s via %s (%s, %s): %s in %.2f s",
        target.label,
        outcome.name,
        outcome.source,
        outcome.method,
        result,
        duration_s,
    )
