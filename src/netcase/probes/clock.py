"""The clock probe: how far this machine's clock is from a reference.

References are an NTP server (one SNTP exchange), the ``Date`` header of an
HTTP server, and the skew a pasted apt error states; any of them, at least
one. The live references are asked at once. The verdict comes from the most
precise reference that answered: NTP, then HTTP, then apt. A container has no
clock of its own, so on a Docker host this is the containers' clock too.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from netcase.errors import ConfigError
from netcase.probes.clock_apt import EXPIRED, NOT_VALID_YET, apt_readings
from netcase.probes.clock_sources import (
    ClockReading,
    check_url,
    direction,
    http_date_reading,
    parse_server,
    sntp_reading,
)
from netcase.probes.findings import Finding, Severity
from netcase.probes.limits import MAX_TIMEOUT_S, check_seconds
from netcase.probes.result import ProbeResult
from netcase.site import check_proxy

__all__ = [
    "ClockReading",
    "ReadingTaken",
    "check_clock",
    "clock_findings",
    "span_text",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 3.0
DEFAULT_SKEW_S = 60.0
PREFERENCE = ("ntp", "http", "apt")
"""Sources from the most precise to the least."""


@dataclass(frozen=True)
class ReadingTaken:
    """Progress: one reference has been read (``done`` of ``total`` so far)."""

    reading: ClockReading
    done: int
    total: int


ProgressCallback = Callable[[ReadingTaken], None]


class _Progress:
    """Counts readings and tells the caller about each one."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self.callback = callback

    def taken(self, reading: ClockReading) -> ClockReading:
        self.done += 1
        if self.callback is not None:
            self.callback(ReadingTaken(reading, self.done, self.total))
        return reading


async def check_clock(
    *,
    ntp: str | None = None,
    http_url: str | None = None,
    apt_error: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    skew_threshold_s: float = DEFAULT_SKEW_S,
    ssl_context: ssl.SSLContext | None = None,
    http_proxy: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> ProbeResult:
    """Compare this machine's clock with the references given.

    Args:
        ntp: An NTP server as ``host[:port]``.
        http_url: An http(s) URL whose ``Date`` header is read (HEAD).
        apt_error: Pasted apt output with "Release file ... is not valid yet"
            or "... is expired" lines.
        timeout_s: Hard bound on each live reference, name lookup included.
        skew_threshold_s: An offset over this is ``clock.skewed``.
        ssl_context: TLS settings for https URLs (default: verify the chain
            and host name, not the validity dates).
        http_proxy: An ``http://host:port`` proxy for the http(s) reference,
            on networks that only let a proxy out.
        on_progress: Called as each reference is read.

    Raises:
        ConfigError: When no reference is given or one is malformed; nothing
            is sent in that case.
    """
    _check_inputs(ntp, http_url, apt_error, timeout_s)
    if http_proxy is not None:
        check_proxy(http_proxy)
    started, start_mono = datetime.now(UTC), time.monotonic()
    apt = apt_readings(apt_error) if apt_error is not None else []

    progress = _Progress(
        len(apt) + (ntp is not None) + (http_url is not None), on_progress
    )
    for reading in apt:
        progress.taken(reading)
    http_ask = (
        http_date_reading(http_url, timeout_s, ssl_context, http_proxy)
        if http_url is not None
        else None
    )
    live = await _live_readings(ntp, http_ask, timeout_s, progress)

    readings = live + apt
    findings = clock_findings(readings, skew_threshold_s)
    duration_s = time.monotonic() - start_mono
    logger.info(
        "clock probe: ntp=%s http=%s apt_messages=%d duration=%.3f s outcome=%s",
        ntp,
        http_url,
        len(apt),
        duration_s,
        ",".join(finding.code for finding in findings) or "no verdict",
    )
    return ProbeResult(
        probe="clock",
        started=started,
        duration_s=duration_s,
        params={
            "ntp": ntp,
            "http": http_url,
            "apt_error": apt_error,
            "timeout_s": timeout_s,
        },
        measurements={
            "readings": [reading.to_json() for reading in readings],
            "threshold_s": skew_threshold_s,
        },
        findings=findings,
    )


def _check_inputs(
    ntp: str | None, http_url: str | None, apt_error: str | None, timeout_s: float
) -> None:
    if ntp is None and http_url is None and apt_error is None:
        raise ConfigError(
            "The clock probe needs a reference: an NTP server, an http(s) URL, "
            "or a pasted apt error."
        )
    check_seconds(timeout_s, "The timeout", MAX_TIMEOUT_S)
    if ntp is not None:
        parse_server(ntp)
    if http_url is not None:
        check_url(http_url)


async def _live_readings(
    ntp: str | None,
    http_ask: Coroutine[Any, Any, ClockReading] | None,
    timeout_s: float,
    progress: _Progress,
) -> list[ClockReading]:
    asks: list[Coroutine[Any, Any, ClockReading]] = []
    if ntp is not None:
        asks.append(sntp_reading(ntp, timeout_s))
    if http_ask is not None:
        asks.append(http_ask)

    async def read(ask: Coroutine[Any, Any, ClockReading]) -> ClockReading:
        return progress.taken(await ask)

    return list(await asyncio.gather(*(read(ask) for ask in asks)))


def clock_findings(readings: list[ClockReading], threshold_s: float) -> list[Finding]:
    """State what the readings say about the clock.

    ``clock.unreachable`` when live references were asked and none answered;
    then ``clock.skewed`` or ``clock.ok`` from the most precise reading. An
    apt span is only a lower bound: under the threshold it proves nothing
    either way and gives no verdict.
    """
    findings: list[Finding] = []
    live = [reading for reading in readings if reading.source != "apt"]
    if live and not any(reading.ok for reading in live):
        findings.append(_unreachable(live))

    best = _best(readings)
    if best is None or best.offset_s is None:
        return findings
    apt = [reading for reading in readings if reading.source == "apt"]
    if abs(best.offset_s) > threshold_s:
        findings.append(_skewed(best, threshold_s))
    elif best.source != "apt":
        findings.append(_in_step(best, threshold_s, apt))
    return findings


def _best(readings: list[ClockReading]) -> ClockReading | None:
    for source in PREFERENCE:
        usable = [r for r in readings if r.source == source and r.offset_s is not None]
        if usable:
            return max(usable, key=lambda r: abs(r.offset_s or 0.0))
    return None


def _unreachable(live: list[ClockReading]) -> Finding:
    errors = {reading.reference: reading.error or "no offset" for reading in live}
    listed = "; ".join(f"{where}: {error}" for where, error in errors.items())
    return Finding(
        "clock.unreachable",
        Severity.WARNING,
        f"No clock reference answered ({listed})",
        {"references": list(errors), "errors": errors},
    )


def _skewed(best: ClockReading, threshold_s: float) -> Finding:
    offset_s = best.offset_s or 0.0
    return Finding(
        "clock.skewed",
        Severity.ERROR,
        _skew_summary(best, threshold_s),
        _data(best, threshold_s) | {"offset_text": span_text(abs(offset_s))},
    )


def _skew_summary(best: ClockReading, threshold_s: float) -> str:
    offset_s = best.offset_s or 0.0
    span = span_text(abs(offset_s))
    if best.detail.get("kind") == NOT_VALID_YET:
        return (
            f"apt says this machine's clock is at least {span} behind: the Release "
            f"file of {best.reference} is not valid yet."
        )
    if best.detail.get("kind") == EXPIRED:
        return (
            f"apt says the Release file of {best.reference} expired {span} ago: the "
            "clock is at least that far ahead, or the mirror is stale."
        )
    way = "ahead of" if direction(offset_s) == "ahead" else direction(offset_s)
    return (
        f"This machine's clock is {span} {way} {_against(best)} "
        f"(offset {offset_s:+.3f} s; threshold {threshold_s:g} s)."
    )


def _in_step(
    best: ClockReading, threshold_s: float, apt: list[ClockReading]
) -> Finding:
    offset_s = best.offset_s or 0.0
    summary = (
        f"This machine's clock is within {threshold_s:g} s of {_against(best)} "
        f"(offset {offset_s:+.3f} s)."
    )
    stale = [r for r in apt if abs(r.offset_s or 0.0) > threshold_s]
    if stale:
        summary += " " + _apt_mismatch(stale[0])
    return Finding(
        "clock.ok",
        Severity.INFO,
        summary,
        _data(best, threshold_s) | {"apt_disagrees": bool(stale)},
    )


def _apt_mismatch(reading: ClockReading) -> str:
    span = span_text(abs(reading.offset_s or 0.0))
    if reading.detail.get("kind") == EXPIRED:
        return (
            f"The pasted apt error says a Release file expired {span} ago: with "
            "this clock right, the mirror is stale."
        )
    return (
        f"The pasted apt error (clock behind by at least {span}) no longer holds: "
        "the clock was corrected since, or the error came from another machine."
    )


def _against(reading: ClockReading) -> str:
    if reading.source == "ntp":
        return f"the NTP server {reading.reference}"
    return f"the Date header of {reading.reference} (one-second resolution)"


def _data(best: ClockReading, threshold_s: float) -> dict[str, Any]:
    return {
        "offset_s": round(best.offset_s or 0.0, 3),
        "direction": direction(best.offset_s),
        "source": best.source,
        "method": best.method,
        "reference": best.reference,
        "lower_bound": best.source == "apt",
        "threshold_s": threshold_s,
    }


def span_text(seconds: float) -> str:
    """Write a span the way apt does (``6d 2h 3min 4s``), or in seconds under a minute."""
    if seconds < 60:
        return f"{seconds:.3f} s"
    whole = round(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    while parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{value}{unit}" for value, unit in parts)
