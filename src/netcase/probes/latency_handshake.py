"""Findings from the uplinks' TCP + TLS handshake times: slow or failed lines.

A handshake is one TCP connect and one TLS handshake on it. An uplink's is
judged only against the other uplinks', with the ratio and margin that make
``uplink.slow``: a web page from abroad may take a whole second to open on
every line, so no absolute limit applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netcase.probes.findings import Finding, Severity
from netcase.site import Thresholds

if TYPE_CHECKING:
    from netcase.probes.latency_report import UplinkLatency


def format_duration(value_ms: float) -> str:
    """Return a handshake time: seconds from 100 ms up, milliseconds below."""
    if value_ms >= 1000:
        return f"{value_ms / 1000:.1f} s"
    if value_ms >= 100:
        return f"{value_ms / 1000:.2f} s"
    if value_ms >= 1:
        return f"{value_ms:.1f} ms"
    return f"{value_ms:.2f} ms"


def handshake_total_ms(outcome: UplinkLatency) -> float | None:
    """The uplink's connect plus TLS time, or None without a finished handshake."""
    return outcome.handshake.total_ms if outcome.handshake else None


def fastest_handshake(outcomes: list[UplinkLatency]) -> UplinkLatency | None:
    """Return the uplink whose handshake finished soonest, or None when none did."""
    fastest: tuple[float, UplinkLatency] | None = None
    for outcome in outcomes:
        total_ms = handshake_total_ms(outcome)
        if total_ms is not None and (fastest is None or total_ms < fastest[0]):
            fastest = (total_ms, outcome)
    return fastest[1] if fastest else None


def handshake_findings(
    outcomes: list[UplinkLatency], thresholds: Thresholds, target: str
) -> list[Finding]:
    """Return the handshake findings of the measured uplinks towards ``target``.

    Nothing is said unless at least one uplink finished its handshake: a
    target that refuses or ignores every line is not a fault of one line.
    """
    fastest = fastest_handshake(outcomes)
    if fastest is None:
        return []
    findings = []
    for outcome in outcomes:
        if outcome is fastest or outcome.handshake is None:
            continue
        finding = (
            _failed_finding(outcome, fastest, target)
            if outcome.handshake.error is not None
            else _slow_finding(outcome, fastest, thresholds, target)
        )
        if finding is not None:
            findings.append(finding)
    return findings


def _slow_finding(
    outcome: UplinkLatency,
    fastest: UplinkLatency,
    thresholds: Thresholds,
    target: str,
) -> Finding | None:
    total_ms, best_ms = handshake_total_ms(outcome), handshake_total_ms(fastest)
    if outcome.handshake is None or total_ms is None or not best_ms:
        return None
    ratio = total_ms / best_ms
    if ratio <= thresholds.rtt_ratio or total_ms - best_ms <= thresholds.rtt_margin_ms:
        return None

    timing = outcome.handshake
    parts = f"connect {_ms(timing.connect_ms)}, TLS {_ms(timing.tls_ms)}"
    summary = (
        f"{outcome.name}: TCP + TLS handshake {format_duration(total_ms)} ({parts}) "
        f"to {target}, {ratio:.1f}x {fastest.name}'s {format_duration(best_ms)}"
    )
    data = _data(outcome, fastest)
    data.update(
        handshake_ms=round(total_ms, 3),
        connect_ms=_rounded(timing.connect_ms),
        tls_ms=_rounded(timing.tls_ms),
        ratio=round(ratio, 2),
    )
    return Finding("uplink.handshake_slow", Severity.WARNING, summary, data)


def _failed_finding(
    outcome: UplinkLatency, fastest: UplinkLatency, target: str
) -> Finding | None:
    timing, best_ms = outcome.handshake, handshake_total_ms(fastest)
    if timing is None or timing.error is None or best_ms is None:
        return None

    connected = ""
    if timing.connect_ms is not None:
        connected = f" (connect {_ms(timing.connect_ms)})"
    summary = (
        f"{outcome.name}: TCP + TLS handshake failed to {target}: {timing.error}"
        f"{connected}; {fastest.name}: {format_duration(best_ms)}"
    )
    data = _data(outcome, fastest)
    data.update(error=timing.error, connect_ms=_rounded(timing.connect_ms))
    return Finding("uplink.handshake_failed", Severity.ERROR, summary, data)


def _data(outcome: UplinkLatency, fastest: UplinkLatency) -> dict[str, Any]:
    """Return what both findings carry: the uplink, the port and the fastest one."""
    best_ms = handshake_total_ms(fastest)
    return {
        "uplink": outcome.name,
        "source": outcome.source,
        "port": outcome.handshake.port if outcome.handshake else None,
        "best_uplink": fastest.name,
        "best_handshake_ms": _rounded(best_ms),
    }


def _ms(value_ms: float | None) -> str:
    return "-" if value_ms is None else format_duration(value_ms)


def _rounded(value_ms: float | None) -> float | None:
    return None if value_ms is None else round(value_ms, 3)
