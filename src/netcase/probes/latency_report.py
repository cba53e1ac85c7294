"""Per-uplink latency outcomes, their RTT statistics, and the findings they support."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from netcase.probes.findings import Finding, Severity
from netcase.probes.handshake import HandshakeTiming
from netcase.probes.latency_handshake import (
    format_duration,
    handshake_findings,
    handshake_total_ms,
)
from netcase.probes.latency_series import SEND_FAILED, Sample
from netcase.site import Thresholds, Uplink


@dataclass(frozen=True)
class RttStats:
    """Summary of the answered probes' round-trip times, in milliseconds.

    ``stdev_ms`` is the population standard deviation, as ping's ``mdev``
    is; ``p95_ms`` interpolates between the samples around the 95th
    percentile.
    """

    min_ms: float
    median_ms: float
    mean_ms: float
    p95_ms: float
    max_ms: float
    stdev_ms: float

    @classmethod
    def of(cls, rtts_ms: list[float]) -> RttStats:
        """Summarise at least one RTT."""
        p95_ms = rtts_ms[0]
        if len(rtts_ms) > 1:
            p95_ms = statistics.quantiles(rtts_ms, n=20, method="inclusive")[-1]
        return cls(
            min_ms=min(rtts_ms),
            median_ms=statistics.median(rtts_ms),
            mean_ms=statistics.fmean(rtts_ms),
            p95_ms=p95_ms,
            max_ms=max(rtts_ms),
            stdev_ms=statistics.pstdev(rtts_ms),
        )

    def to_json(self) -> dict[str, float]:
        """Return the statistics rounded to microseconds."""
        return {key: round(value, 3) for key, value in vars(self).items()}


@dataclass
class UplinkLatency:
    """What one uplink measured: its samples, or the error that stopped it.

    Attributes:
        uplink: The uplink measured.
        method: ``icmp`` or ``tcp``.
        source_used: The source address the kernel used towards the target.
        samples: One per sequence number.
        error: Why the uplink could not be measured at all (a bad source).
        handshake: The TCP and TLS timing, when asked for.
    """

    uplink: Uplink
    method: str
    source_used: str | None = None
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None
    handshake: HandshakeTiming | None = None

    @property
    def name(self) -> str:
        """The uplink's name."""
        return self.uplink.name

    @property
    def sent(self) -> int:
        """Probes sent, counting those this host refused to send: they are lost."""
        return len(self.samples)

    @property
    def send_failed(self) -> int:
        """Probes this host refused to send (a local firewall, say)."""
        return sum(1 for sample in self.samples if sample.status == SEND_FAILED)

    @property
    def send_error(self) -> str | None:
        """Why the first refused probe was not sent, or None."""
        refused = (s for s in self.samples if s.status == SEND_FAILED)
        return next((sample.detail or "unknown error" for sample in refused), None)

    @property
    def received(self) -> int:
        """Probes that got a reply."""
        return sum(1 for sample in self.samples if sample.answered)

    @property
    def loss_pct(self) -> float:
        """Lost probes, refused sends included, in percent of those sent; 100 for none."""
        if self.sent == 0:
            return 100.0
        return 100.0 * (self.sent - self.received) / self.sent

    @property
    def stats(self) -> RttStats | None:
        """RTT statistics, or None without any reply."""
        rtts_ms = [s.rtt_ms for s in self.samples if s.rtt_ms is not None]
        return RttStats.of(rtts_ms) if rtts_ms else None

    @property
    def source(self) -> str | None:
        """The source actually used, else the configured one."""
        return self.source_used or self.uplink.source

    def to_json(self) -> dict[str, Any]:
        """Return the outcome as plain JSON values."""
        stats = self.stats
        return {
            "name": self.name,
            "label": self.uplink.label,
            "source": self.uplink.source,
            "source_used": self.source_used,
            "method": self.method,
            "error": self.error,
            "sent": self.sent,
            "send_failed": self.send_failed,
            "received": self.received,
            "loss_pct": round(self.loss_pct, 2),
            "rtt": stats.to_json() if stats else None,
            "samples": [sample.to_json() for sample in self.samples],
            "handshake": self.handshake.to_json() if self.handshake else None,
        }


def format_ms(value_ms: float) -> str:
    """Return a round-trip time with the precision a person reads."""
    if value_ms >= 100:
        return f"{value_ms:.0f} ms"
    if value_ms >= 1:
        return f"{value_ms:.1f} ms"
    return f"{value_ms:.2f} ms"


def format_pct(value_pct: float) -> str:
    """Return a percentage without needless decimals."""
    return f"{value_pct:.0f}%" if value_pct == round(value_pct) else f"{value_pct:.1f}%"


def describe(outcome: UplinkLatency) -> str:
    """Return ``name: loss, median`` for a summary line."""
    stats = outcome.stats
    median = f", median {format_ms(stats.median_ms)}" if stats else ", no reply"
    return f"{outcome.name}: {format_pct(outcome.loss_pct)} loss{median}"


def _probe_word(outcome: UplinkLatency) -> str:
    return "pings" if outcome.method == "icmp" else "TCP connects"


def _rank(
    outcome: UplinkLatency, thresholds: Thresholds, shaky: set[str]
) -> tuple[bool, bool, float, float]:
    stats = outcome.stats
    median_ms = stats.median_ms if stats else float("inf")
    lossy = outcome.loss_pct > thresholds.loss_pct
    return (lossy, outcome.name in shaky, median_ms, outcome.loss_pct)


def best_uplink(
    outcomes: list[UplinkLatency],
    thresholds: Thresholds,
    shaky: set[str] | None = None,
) -> UplinkLatency | None:
    """Return the uplink with acceptable loss and the lowest median RTT.

    When every uplink is lossy, the lowest median of them wins; an uplink
    without a single reply never does.

    Args:
        outcomes: The uplinks measured.
        thresholds: The loss limit.
        shaky: The uplinks whose handshake was slow or failed: of those with
            acceptable loss, they come after every other one.
    """
    answering = [o for o in outcomes if o.error is None and o.received > 0]
    if not answering:
        return None
    return min(answering, key=lambda o: _rank(o, thresholds, shaky or set()))


def latency_findings(
    outcomes: list[UplinkLatency], thresholds: Thresholds, target: str
) -> list[Finding]:
    """Return the uplink findings of one run towards ``target``."""
    measured = [outcome for outcome in outcomes if outcome.error is None]
    handshakes = handshake_findings(measured, thresholds, target)
    shaky = {finding.data["uplink"] for finding in handshakes}
    best = best_uplink(measured, thresholds, shaky)
    findings: list[Finding] = []
    degraded: list[UplinkLatency] = []
    for outcome in measured:
        problems = _problems(outcome, best, thresholds, target)
        problems += [f for f in handshakes if f.data["uplink"] == outcome.name]
        findings.extend(problems)
        if problems:
            degraded.append(outcome)
    if best is not None:
        findings.append(_best_finding(best))
    if len(measured) >= 2 and len(degraded) == len(measured):
        findings.append(_all_degraded_finding(measured, target))
    return findings


def _problems(
    outcome: UplinkLatency,
    best: UplinkLatency | None,
    thresholds: Thresholds,
    target: str,
) -> list[Finding]:
    if outcome.received == 0:
        return [_down_finding(outcome, target)]
    problems = []
    if outcome.loss_pct > thresholds.loss_pct:
        problems.append(_loss_finding(outcome, thresholds))
    slow = _slow_finding(outcome, best, thresholds)
    if slow is not None:
        problems.append(slow)
    return problems


def _down_finding(outcome: UplinkLatency, target: str) -> Finding:
    probes = f"{outcome.sent} {_probe_word(outcome)}"
    summary = f"{outcome.name}: down, no reply to any of {probes} to {target}"
    if outcome.send_failed:
        summary += f" ({_refused(outcome)})"
    if outcome.send_failed == outcome.sent:
        summary = (
            f"{outcome.name}: down, this host refused to send any of the {probes} "
            f"to {target} ({outcome.send_error})"
        )
    if outcome.sent == 0:
        summary = f"{outcome.name}: down, no probe could be sent to {target}"
    data = {
        "uplink": outcome.name,
        "source": outcome.source,
        "sent": outcome.sent,
        "send_failed": outcome.send_failed,
    }
    return Finding("uplink.down", Severity.ERROR, summary, data)


def _refused(outcome: UplinkLatency) -> str:
    return (
        f"{outcome.send_failed} of them refused by this host before sending: "
        f"{outcome.send_error}"
    )


def _loss_finding(outcome: UplinkLatency, thresholds: Thresholds) -> Finding:
    lost = outcome.sent - outcome.received
    refused = f", {_refused(outcome)}" if outcome.send_failed else ""
    summary = (
        f"{describe(outcome)} ({lost} of {outcome.sent} {_probe_word(outcome)} "
        f"lost{refused}; limit {format_pct(thresholds.loss_pct)})"
    )
    data = {
        "uplink": outcome.name,
        "source": outcome.source,
        "loss_pct": round(outcome.loss_pct, 2),
        "sent": outcome.sent,
        "received": outcome.received,
        "send_failed": outcome.send_failed,
    }
    return Finding("uplink.loss", Severity.WARNING, summary, data)


def _slow_finding(
    outcome: UplinkLatency, best: UplinkLatency | None, thresholds: Thresholds
) -> Finding | None:
    stats, best_stats = outcome.stats, best.stats if best else None
    if stats is None:
        return None
    data: dict[str, Any] = {
        "uplink": outcome.name,
        "source": outcome.source,
        "median_ms": round(stats.median_ms, 3),
    }
    median = format_ms(stats.median_ms)
    if stats.median_ms > thresholds.rtt_ms:
        summary = f"{outcome.name}: median {median}, over the {format_ms(thresholds.rtt_ms)} limit"
        return Finding("uplink.slow", Severity.WARNING, summary, data)
    if best is None or best_stats is None or best is outcome:
        return None
    ratio = stats.median_ms / best_stats.median_ms if best_stats.median_ms else 0.0
    margin_ms = stats.median_ms - best_stats.median_ms
    if ratio <= thresholds.rtt_ratio or margin_ms <= thresholds.rtt_margin_ms:
        return None
    data.update(best_uplink=best.name, best_median_ms=round(best_stats.median_ms, 3))
    data["ratio"] = round(ratio, 2)
    summary = (
        f"{outcome.name}: median {median}, {ratio:.1f}x {best.name}'s "
        f"{format_ms(best_stats.median_ms)}"
    )
    return Finding("uplink.slow", Severity.WARNING, summary, data)


def _best_finding(best: UplinkLatency) -> Finding:
    stats = best.stats
    median_ms = round(stats.median_ms, 3) if stats else None
    data = {
        "uplink": best.name,
        "source": best.source,
        "loss_pct": round(best.loss_pct, 2),
        "median_ms": median_ms,
    }
    summary = f"Best uplink {describe(best)}"
    handshake_ms = handshake_total_ms(best)
    if handshake_ms is not None:
        data["handshake_ms"] = round(handshake_ms, 3)
        summary += f", TCP + TLS handshake {format_duration(handshake_ms)}"
    return Finding("uplink.best", Severity.INFO, summary, data)


def _all_degraded_finding(measured: list[UplinkLatency], target: str) -> Finding:
    details = "; ".join(_with_handshake(outcome) for outcome in measured)
    summary = f"Every uplink is degraded towards {target} ({details})"
    data = {"uplinks": [outcome.name for outcome in measured]}
    return Finding("uplink.all_degraded", Severity.ERROR, summary, data)


def _with_handshake(outcome: UplinkLatency) -> str:
    """Return :func:`describe`'s text and, where one was timed, the handshake's."""
    timing = outcome.handshake
    if timing is None:
        return describe(outcome)
    total_ms = timing.total_ms
    handshake = "failed" if total_ms is None else format_duration(total_ms)
    return f"{describe(outcome)}, TCP + TLS handshake {handshake}"
