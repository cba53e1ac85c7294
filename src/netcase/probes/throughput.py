"""The throughput probe: a timed download, optionally re-tested after a person acts.

Backends: ``http://`` and ``https://`` (a streamed GET), ``ftp://`` (a binary
RETR) and ``speedtest`` (speedtest-cli, against speedtest.net or a mini
server). Each run reports bytes, seconds, Mbit/s and a per-second series. In
re-test mode the probe measures, waits for the person's action (such as
reconnecting Wi-Fi), measures again and compares the two rates.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from netcase.errors import ConfigError
from netcase.probes.limits import (
    MAX_TIMEOUT_S,
    MAX_TRANSFER_S,
    MIN_TRANSFER_S,
    check_seconds,
)
from netcase.probes.result import ProbeResult
from netcase.probes.throughput_findings import note_small_runs, throughput_findings
from netcase.probes.throughput_transfers import (
    FtpDownload,
    HttpDownload,
    ThroughputError,
    Transfer,
    TransferMeter,
)
from netcase.probes.urls import check_url, redact, url_problem
from netcase.site import Thresholds, Uplink

log = logging.getLogger(__name__)

SPEEDTEST = "speedtest"
RETEST_PROMPT = "Reconnect Wi-Fi where you stand"
PROGRESS_POLL_S = 0.2

__all__ = [
    "RETEST_PROMPT",
    "ThroughputError",
    "ThroughputProgress",
    "ThroughputRun",
    "backend_of",
    "is_speedtest_server",
    "measure",
    "probe_throughput",
    "redact",
    "throughput_findings",
]


@dataclass(frozen=True)
class ThroughputProgress:
    """One finished second of a transfer, for a live display.

    Attributes:
        run: Which run: ``run``, or ``before`` / ``after`` in re-test mode.
        second: The 1-based number of the second that just finished.
        mbps: The rate during that second, in Mbit/s.
        bytes_total: Bytes received so far in this run.
    """

    run: str
    second: int
    mbps: float
    bytes_total: int


ProgressCallback = Callable[[ThroughputProgress], None]
ActionCallback = Callable[[str], Awaitable[None]]


@dataclass
class ThroughputRun:
    """One measured transfer.

    Attributes:
        label: ``run``, or ``before`` / ``after`` in re-test mode.
        backend: ``http``, ``https``, ``ftp`` or ``speedtest``.
        target: The URL (password hidden) or the speedtest server.
        source: The local address the transfer used, when known.
        bytes_received: Payload bytes counted between start and end.
        seconds: How long the counting lasted.
        mbps: bytes_received over seconds, in Mbit/s (10^6 bits per second).
        per_second_mbps: The rate of each second; the last may be partial.
        ended: ``deadline``, ``eof``, ``stalled``, ``broken``, ``stopped`` or
            ``error``.
        error: Why nothing could be measured, or None.
        note: Why a transfer that measured something ended early.
        extra: Backend facts (the speedtest server, its upload rate).
    """

    label: str
    backend: str
    target: str
    source: str | None
    bytes_received: int = 0
    seconds: float = 0.0
    mbps: float = 0.0
    per_second_mbps: list[float] = field(default_factory=list)
    ended: str = "error"
    error: str | None = None
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the run measured a rate."""
        return self.error is None and self.bytes_received > 0

    def to_json(self) -> dict[str, Any]:
        """Return the run as plain JSON values."""
        return {
            "label": self.label,
            "backend": self.backend,
            "target": self.target,
            "source": self.source,
            "bytes": self.bytes_received,
            "seconds": round(self.seconds, 3),
            "mbps": round(self.mbps, 3),
            "per_second_mbps": self.per_second_mbps,
            "ended": self.ended,
            "error": self.error,
            "note": self.note,
            **self.extra,
        }


def backend_of(target: str) -> str:
    """Return the backend for ``target``: a URL scheme or ``speedtest``.

    Raises:
        ConfigError: When the target is neither a URL netcase can fetch (see
            :func:`~netcase.probes.urls.url_problem`) nor
            ``speedtest``.
    """
    if target == SPEEDTEST:
        return SPEEDTEST
    return check_url(target).scheme


def is_speedtest_server(server: str) -> bool:
    """True for a speedtest.net server id or a mini server's http(s):// URL."""
    if server.isascii() and server.isdigit():
        return True
    return url_problem(server) is None and server.startswith(("http://", "https://"))


async def measure(
    target: str,
    *,
    label: str = "run",
    source: str | None = None,
    seconds: float = 10.0,
    server: str | None = None,
    timeout_s: float = 10.0,
    on_progress: ProgressCallback | None = None,
) -> ThroughputRun:
    """Measure one transfer; a refusal or no route is an error in the run.

    Args:
        target: An http(s):// or ftp:// URL, or ``speedtest``.
        label: The run's name in the result and the progress events.
        source: The local address to bind (an uplink's source), or None.
        seconds: How long to transfer at most.
        server: For ``speedtest``: a mini server URL or a speedtest.net
            server id; None lets speedtest.net pick (contacting it).
        timeout_s: How long to wait to connect, and for data before calling
            the link stalled.
        on_progress: Called on the event loop after each second.

    Raises:
        ConfigError: For a target or a speedtest server that cannot be used,
            or seconds or a timeout that is not finite, above 0 and within
            its bound (MAX_TRANSFER_S, MAX_TIMEOUT_S).
    """
    backend = backend_of(target)
    if server is not None and not is_speedtest_server(server):
        raise ConfigError(
            f"The speedtest server {server!r} is neither an http(s):// URL of a "
            "speedtest mini server nor a speedtest.net server id (a number)."
        )
    check_seconds(
        seconds, "The throughput seconds", MAX_TRANSFER_S, minimum_s=MIN_TRANSFER_S
    )
    check_seconds(timeout_s, "The timeout", MAX_TIMEOUT_S)
    meter = TransferMeter()
    transfer = _transfer(backend, target, server, source, seconds, timeout_s, meter)
    run = ThroughputRun(label, backend, _shown_target(target, server), source)
    try:
        await _drive(transfer, meter, label, on_progress)
    except ThroughputError as exc:
        run.error = exc.message
    _fill(run, transfer, meter)
    _log_run(run)
    return run


async def probe_throughput(
    target: str,
    *,
    uplink: Uplink | None = None,
    seconds: float = 10.0,
    retest: bool = False,
    await_action: ActionCallback | None = None,
    action_prompt: str = RETEST_PROMPT,
    thresholds: Thresholds | None = None,
    expect_mbps: float | None = None,
    server: str | None = None,
    timeout_s: float = 10.0,
    on_progress: ProgressCallback | None = None,
) -> ProbeResult:
    """Measure once, or before and after a person's action, and state findings.

    Args:
        target: An http(s):// or ftp:// URL, or ``speedtest``.
        uplink: The uplink whose source address to bind; None for the OS's
            choice.
        seconds: How long each transfer lasts at most.
        retest: Measure, await the action, measure again and compare.
        await_action: Awaited between the two runs with ``action_prompt``;
            it returns once the person has acted. Required with ``retest``.
        action_prompt: What the person is asked to do.
        thresholds: The site's thresholds (throughput_low_mbps,
            throughput_ratio).
        expect_mbps: The rate under which ``throughput.low`` is stated;
            defaults to thresholds.throughput_low_mbps.
        server: For ``speedtest``: a mini server URL or a server id.
        timeout_s: Connect and stall timeout of each transfer.
        on_progress: Called on the event loop after each second of a run.

    Raises:
        ConfigError: For a target that cannot be used, seconds or a timeout
            that is not finite, above 0 and within its bound, or an expected
            rate that is negative or not finite.
    """
    if retest and await_action is None:
        raise ValueError("Re-test mode needs await_action to wait for the person.")
    check_seconds(
        seconds, "The throughput seconds", MAX_TRANSFER_S, minimum_s=MIN_TRANSFER_S
    )
    check_seconds(timeout_s, "The timeout", MAX_TIMEOUT_S)
    _check_rate(expect_mbps)
    thresholds = thresholds or Thresholds()
    expected = thresholds.throughput_low_mbps if expect_mbps is None else expect_mbps
    source = uplink.source if uplink else None
    started, clock = datetime.now(UTC), time.monotonic()

    async def one(label: str) -> ThroughputRun:
        return await measure(
            target,
            label=label,
            source=source,
            seconds=seconds,
            server=server,
            timeout_s=timeout_s,
            on_progress=on_progress,
        )

    if retest:
        assert await_action is not None
        before = await one("before")
        await await_action(action_prompt)
        runs = [before, await one("after")]
    else:
        runs = [await one("run")]

    note_small_runs(runs)
    return ProbeResult(
        probe="throughput",
        started=started,
        duration_s=time.monotonic() - clock,
        params={
            "target": _shown_target(target, server),
            "backend": backend_of(target),
            "uplink": uplink.name if uplink else None,
            "source": source,
            "seconds": seconds,
            "retest": retest,
            "expect_mbps": expected,
            "server": server,
        },
        measurements=_measurements(runs),
        findings=throughput_findings(runs, thresholds, expected),
    )


def _check_rate(expect_mbps: float | None) -> None:
    # 0 is a usable expectation: it turns throughput.low off.
    if expect_mbps is not None and not 0 <= expect_mbps < math.inf:
        raise ConfigError(
            f"The expected rate {expect_mbps!r} is not a finite number of Mbit/s "
            "of 0 or more; give one such as 8."
        )


def _measurements(runs: list[ThroughputRun]) -> dict[str, Any]:
    measured: dict[str, Any] = {"runs": [run.to_json() for run in runs]}
    if len(runs) == 2 and all(run.ok for run in runs):
        measured["ratio"] = round(runs[1].mbps / runs[0].mbps, 3)
    return measured


def _transfer(
    backend: str,
    target: str,
    server: str | None,
    source: str | None,
    seconds: float,
    timeout_s: float,
    meter: TransferMeter,
) -> Transfer:
    if source is not None:
        _check_source(source)
    if backend == SPEEDTEST:
        from netcase.probes.throughput_speedtest import SpeedtestTransfer

        return SpeedtestTransfer(server or "", source, seconds, timeout_s, meter)
    kind = FtpDownload if backend == "ftp" else HttpDownload
    return kind(target, source, seconds, timeout_s, meter)


def _check_source(source: str) -> None:
    try:
        ipaddress.ip_address(source)
    except ValueError as exc:
        raise ConfigError(
            f"The source address {source!r} is not an IP address; give the "
            "uplink's local address, such as 10.0.1.2."
        ) from exc


def _shown_target(target: str, server: str | None) -> str:
    if target == SPEEDTEST:
        return f"speedtest {server}" if server else "speedtest (speedtest.net's pick)"
    return redact(target)


async def _drive(
    transfer: Transfer,
    meter: TransferMeter,
    label: str,
    on_progress: ProgressCallback | None,
) -> None:
    """Run the transfer in a thread, report each second, stop it if cancelled."""
    worker = asyncio.ensure_future(asyncio.to_thread(transfer.run))
    reported = 0
    try:
        while not worker.done():
            await asyncio.wait({worker}, timeout=PROGRESS_POLL_S)
            reported = _report(meter, label, reported, on_progress)
    except asyncio.CancelledError:
        transfer.stop()
        await asyncio.wait({worker})
        if not worker.cancelled():
            worker.exception()
        raise
    worker.result()


def _report(
    meter: TransferMeter,
    label: str,
    reported: int,
    on_progress: ProgressCallback | None,
) -> int:
    """Call ``on_progress`` for each second finished since the last call."""
    seconds = meter.completed_seconds()
    if on_progress is not None:
        total = sum(seconds[:reported])
        for number, count in enumerate(seconds[reported:], start=reported + 1):
            total += count
            on_progress(ThroughputProgress(label, number, count * 8 / 1e6, total))
    return len(seconds)


def _fill(run: ThroughputRun, transfer: Transfer, meter: TransferMeter) -> None:
    """Copy what the transfer measured into the run."""
    run.bytes_received = meter.bytes_total
    run.seconds = meter.elapsed_s()
    run.mbps = run.bytes_received * 8 / run.seconds / 1e6 if run.seconds else 0.0
    run.per_second_mbps = meter.series_mbps()
    run.source = transfer.local_address or run.source
    run.ended = "error" if run.error else transfer.ended
    run.note = transfer.note
    run.extra = dict(transfer.extra)
    if run.error is None and run.bytes_received == 0:
        run.error = "Nothing was received: the transfer ended before any data came."
        if transfer.note:
            run.error = transfer.note


def _log_run(run: ThroughputRun) -> None:
    if run.ok:
        log.info(
            "throughput %s %s from %s: %.2f Mbit/s, %d bytes in %.2f s (%s)",
            run.label,
            run.target,
            run.source or "default route",
            run.mbps,
            run.bytes_received,
            run.seconds,
            run.ended,
        )
    else:
        log.info(
            "throughput %s %s from %s failed: %s",
            run.label,
            run.target,
            run.source or "default route",
            run.error,
        )
