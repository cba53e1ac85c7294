"""The speedtest backend of the throughput probe, driving speedtest-cli's module.

speedtest-cli 2.1.3 fetches www.speedtest.net's configuration as soon as it is
built. With a mini server (a URL) this module supplies the configuration
itself, so the only host contacted is that server: ``latency.txt``,
``random{N}x{N}.jpg`` and ``upload.php`` under its ``speedtest/`` folder.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import warnings
from typing import Any
from urllib.parse import urlsplit

import speedtest

from netcase.probes.throughput_transfers import (
    ThroughputError,
    Transfer,
    TransferMeter,
    describe_connect_error,
)

log = logging.getLogger(__name__)

DOWNLOAD_SIZES = [350, 500, 750, 1000, 1500, 2000, 2500, 3000, 3500, 4000]
"""The ``random{N}x{N}.jpg`` images a mini server offers."""
UPLOAD_SIZES = [262144, 524288, 1048576]
REQUESTS_PER_SIZE = {"download": 4, "upload": 10}
THREADS = {"download": 4, "upload": 4}


class _ShutdownEvent(threading.Event):
    """A stop flag speedtest-cli can poll without a deprecation warning.

    speedtest-cli calls ``Event.isSet()``, deprecated since Python 3.10. Under
    warnings-as-errors that call raises inside its download threads, which
    die quietly and leave a result of 0; this spelling warns about nothing.
    """

    def isSet(self) -> bool:
        return self.is_set()


class _MiniSpeedtest(speedtest.Speedtest):  # type: ignore[misc]
    """speedtest-cli with a built-in configuration instead of speedtest.net's."""

    def __init__(self, seconds: float, **kwargs: Any) -> None:
        self._seconds = seconds
        super().__init__(**kwargs)

    def get_config(self) -> dict[str, Any]:
        """Fill the configuration speedtest.net would send, without asking it."""
        upload_max = REQUESTS_PER_SIZE["upload"] * len(UPLOAD_SIZES)
        self.config.update(
            {
                "client": {"ip": "", "isp": "", "lat": "0", "lon": "0"},
                "ignore_servers": [],
                "sizes": {"download": DOWNLOAD_SIZES, "upload": UPLOAD_SIZES},
                "counts": dict(REQUESTS_PER_SIZE),
                "threads": dict(THREADS),
                "length": {"download": self._seconds, "upload": self._seconds},
                "upload_max": upload_max,
            }
        )
        self.lat_lon = (0.0, 0.0)
        config: dict[str, Any] = self.config
        return config


class _CountingResponse:
    """A response whose reads feed the meter."""

    def __init__(self, response: Any, meter: TransferMeter) -> None:
        self._response = response
        self._meter = meter

    def read(self, *args: Any) -> bytes:
        data: bytes = self._response.read(*args)
        self._meter.add(len(data))
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._response, name)


class _CountingOpener:
    """Wraps speedtest-cli's opener: counts bytes, records refusals, obeys stop."""

    def __init__(
        self, opener: Any, meter: TransferMeter, shutdown: threading.Event
    ) -> None:
        self._opener = opener
        self._meter = meter
        self._shutdown = shutdown
        self.failures: list[OSError] = []

    def open(self, request: Any, *args: Any, **kwargs: Any) -> _CountingResponse:
        if self._shutdown.is_set():
            raise urllib.error.URLError("the measurement was stopped")
        try:
            response = self._opener.open(request, *args, **kwargs)
        except OSError as exc:
            if isinstance(exc, urllib.error.HTTPError):
                exc.close()
            self.failures.append(exc)
            raise
        return _CountingResponse(response, self._meter)


class SpeedtestTransfer(Transfer):
    """A speedtest-cli download (counted and timed) followed by an upload.

    ``target`` is a mini server's base URL, a speedtest.net server id, or
    empty for speedtest.net's pick.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shutdown = _ShutdownEvent()
        self._opener: _CountingOpener | None = None

    def stop(self) -> None:
        """Stop the download threads after their current read."""
        self._shutdown.set()
        super().stop()

    def run(self) -> None:
        """Pick the server, download for the set time, then upload."""
        client = self._client()
        self._choose_server(client)
        self.meter.begin()
        download_bps = float(client.download())
        self.meter.end()
        if download_bps <= 0 or self.meter.bytes_total == 0:
            raise ThroughputError(self._why_nothing_came())
        self.ended = "stopped" if self._shutdown.is_set() else "deadline"
        if self.meter.elapsed_s() < self.seconds and self.ended == "deadline":
            self.ended = "eof"
        self.extra["speedtest_download_mbps"] = round(download_bps / 1e6, 3)
        if not self._shutdown.is_set():
            upload_bps = float(client.upload(pre_allocate=False))
            self.extra["upload_mbps"] = round(upload_bps / 1e6, 3)

    def _client(self) -> Any:
        options = {
            "source_address": self.source,
            "timeout": self.timeout_s,
            "shutdown_event": self._shutdown,
        }
        try:
            with warnings.catch_warnings():
                # datetime.utcnow() in its results object warns from Python 3.12.
                warnings.filterwarnings(
                    "ignore", r".*utcnow", DeprecationWarning, "speedtest"
                )
                if self._is_mini():
                    client = _MiniSpeedtest(self.seconds, **options)
                else:
                    client = speedtest.Speedtest(**options)
        except speedtest.SpeedtestException as exc:
            raise ThroughputError(
                f"speedtest.net did not give its configuration: {exc}. Name a "
                "speedtest mini server with --server URL instead."
            ) from exc
        client.config["length"] = {"download": self.seconds, "upload": self.seconds}
        self._opener = _CountingOpener(client._opener, self.meter, self._shutdown)
        client._opener = self._opener
        return client

    def _is_mini(self) -> bool:
        return self.target.startswith(("http://", "https://"))

    def _choose_server(self, client: Any) -> None:
        try:
            if self._is_mini():
                servers = client.set_mini_server(self.target)
                best = client.get_best_server(servers)
            elif self.target:
                client.get_servers([int(self.target)])
                best = client.get_best_server()
            else:
                best = client.get_best_server()
        except speedtest.SpeedtestException as exc:
            raise ThroughputError(self._why_no_server(exc)) from exc
        log.debug("speedtest server %r", best)
        self.extra["server"] = best.get("url") or self.target
        self.local_address = self.source

    def _why_no_server(self, exc: Exception) -> str:
        refusal = self._first_failure()
        if refusal:
            return f"The speedtest server {self.target or 'speedtest.net'!r} {refusal}"
        return f"No speedtest server could be used: {exc or type(exc).__name__}."

    def _why_nothing_came(self) -> str:
        refusal = self._first_failure()
        if refusal:
            return f"The speedtest download got 0 bytes: the server {refusal}"
        return (
            "The speedtest download got 0 bytes: its download threads ended "
            "without data."
        )

    def _host_port(self) -> tuple[str, int]:
        if not self._is_mini():
            return "www.speedtest.net", 80
        parts = urlsplit(self.target)
        default_port = 443 if parts.scheme == "https" else 80
        return parts.hostname or "", parts.port or default_port

    def _first_failure(self) -> str | None:
        """Describe the first refusal or connect failure the opener saw."""
        failures = self._opener.failures if self._opener else []
        for exc in failures:
            if isinstance(exc, urllib.error.HTTPError):
                return f"refused: HTTP {exc.code} {exc.reason}."
        for exc in failures:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, OSError):
                host, port = self._host_port()
                text = describe_connect_error(
                    reason, host, port, self.source, self.timeout_s
                )
                return f"could not be reached: {text}"
        return None
