"""Timed downloads for the throughput probe: the byte meter, HTTP(S) and FTP.

Each transfer is blocking code meant for a worker thread: it counts what it
receives into a :class:`TransferMeter`, stops at its deadline or at the end of
the file, and can be stopped from another thread.
"""

from __future__ import annotations

import errno
import ftplib
import http.client
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from netcase.errors import NetcaseError
from netcase.probes.urls import redact, url_problem

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 5
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
USER_AGENT = "netcase-throughput/0.1"


class ThroughputError(NetcaseError):
    """A transfer that could not start or was refused; the message says why."""

    title = "Throughput not measured"


class TransferMeter:
    """Counts received bytes into one-second buckets; any thread may feed it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: float | None = None
        self._ended: float | None = None
        self._buckets: list[int] = []
        self.bytes_total = 0

    def begin(self) -> None:
        """Start the clock: bytes count from now on."""
        with self._lock:
            if self._started is None:
                self._started = time.monotonic()

    def end(self) -> None:
        """Stop the clock: later bytes are ignored."""
        with self._lock:
            if self._started is not None and self._ended is None:
                self._ended = time.monotonic()

    def add(self, count: int) -> None:
        """Count ``count`` bytes received now."""
        now = time.monotonic()
        with self._lock:
            if self._started is None or self._ended is not None:
                return
            second = int(now - self._started)
            self._buckets.extend([0] * (second + 1 - len(self._buckets)))
            self._buckets[second] += count
            self.bytes_total += count

    def elapsed_s(self) -> float:
        """Seconds between the start and the end (or now, while running)."""
        with self._lock:
            if self._started is None:
                return 0.0
            return (self._ended or time.monotonic()) - self._started

    def completed_seconds(self) -> list[int]:
        """Bytes of each whole second that is over, stalled seconds included."""
        whole = int(self.elapsed_s())
        with self._lock:
            counts = self._buckets[:whole]
        return counts + [0] * (whole - len(counts))

    def series_mbps(self) -> list[float]:
        """Mbit/s of each second; the last, partial second over its own length."""
        elapsed_s = self.elapsed_s()
        with self._lock:
            counts = list(self._buckets)
        counts += [0] * (int(elapsed_s) - len(counts))
        series = []
        for second, count in enumerate(counts):
            length_s = min(1.0, elapsed_s - second)
            if length_s > 0:
                series.append(round(count * 8 / length_s / 1e6, 3))
        return series


class Transfer:
    """Shared parts of a timed download run in a worker thread.

    Attributes:
        ended: How the measurement ended: ``deadline``, ``eof`` (the whole
            file arrived), ``stalled`` (nothing came for the timeout),
            ``broken`` (the connection failed midway) or ``stopped``.
        local_address: The source address the connection really used.
        note: Why a transfer ended early, when it did.
        extra: Backend-specific facts for the result.
    """

    def __init__(
        self,
        target: str,
        source: str | None,
        seconds: float,
        timeout_s: float,
        meter: TransferMeter,
    ) -> None:
        self.target = target
        self.source = source
        self.seconds = seconds
        self.timeout_s = timeout_s
        self.meter = meter
        self.ended = "error"
        self.local_address: str | None = None
        self.note: str | None = None
        self.extra: dict[str, Any] = {}
        self._stopping = threading.Event()
        self._sockets: list[socket.socket] = []

    def run(self) -> None:
        """Measure; blocking. Raises ThroughputError when nothing could start."""
        raise NotImplementedError

    def stop(self) -> None:
        """Ask a running transfer to end now; safe from any thread."""
        self._stopping.set()
        for sock in list(self._sockets):
            _shut(sock)

    def _open_socket(self, host: str, port: int) -> socket.socket:
        """Connect from the source address; a stop() interrupts the connect."""
        try:
            addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ThroughputError(
                describe_connect_error(exc, host, port, self.source, self.timeout_s)
            ) from exc
        failure: OSError = OSError(f"no address for {host!r}")
        for family, kind, protocol, _, address in addresses:
            sock = socket.socket(family, kind, protocol)
            self._register(sock)
            try:
                sock.settimeout(self.timeout_s)
                if self.source:
                    sock.bind((self.source, 0))
                if self._stopping.is_set():
                    raise InterruptedError("the measurement was stopped")
                sock.connect(address)
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            self.local_address = sock.getsockname()[0]
            return sock
        raise ThroughputError(
            describe_connect_error(failure, host, port, self.source, self.timeout_s)
        ) from failure

    def _bind(self) -> tuple[str, int] | None:
        return (self.source, 0) if self.source else None

    def _register(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        self._sockets.append(sock)
        if self._stopping.is_set():
            _shut(sock)

    def _pump(self, read: Callable[[int], bytes], sock: socket.socket) -> None:
        """Read until the deadline or the end, counting every chunk."""
        self.meter.begin()
        while not self._stopping.is_set():
            remaining_s = self.seconds - self.meter.elapsed_s()
            if remaining_s <= 0:
                self.ended = "deadline"
                break
            sock.settimeout(min(self.timeout_s, remaining_s))
            try:
                chunk = read(CHUNK_BYTES)
            except TimeoutError:
                if remaining_s > self.timeout_s:
                    self.ended = "stalled"
                    self.note = f"Nothing arrived for {self.timeout_s:g} s."
                else:
                    self.ended = "deadline"
                break
            except (OSError, http.client.HTTPException) as exc:
                self.ended = "stopped" if self._stopping.is_set() else "broken"
                self.note = f"The connection failed after the transfer began: {exc}."
                break
            if not chunk:
                self.ended = "stopped" if self._stopping.is_set() else "eof"
                break
            self.meter.add(len(chunk))
        else:
            self.ended = "stopped"
        self.meter.end()


class HttpDownload(Transfer):
    """A GET of an ``http://`` or ``https://`` URL, following redirects."""

    def run(self) -> None:
        """Download until the deadline or the end of the body."""
        url = self.target
        for _ in range(MAX_REDIRECTS + 1):
            connection, sock = self._connect(url)
            try:
                response = self._get(connection, url)
                with response:
                    location = self._redirect_of(response, url)
                    if location is None:
                        self._pump(response.read1, sock)
                        self._check_complete(response)
                        return
            finally:
                connection.close()
            url = _redirect_target(url, location)
        raise ThroughputError(
            f"The URL {self.target!r} redirected more than {MAX_REDIRECTS} times; "
            "give the final URL."
        )

    def _connect(self, url: str) -> tuple[http.client.HTTPConnection, socket.socket]:
        """Connect; the socket is returned too, as the response may take it."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "https":
            sock = self._open_socket(host, parts.port or 80)
            connection = http.client.HTTPConnection(
                host, parts.port, timeout=self.timeout_s
            )
            connection.sock = sock
            return connection, sock
        context = ssl.create_default_context()
        plain = self._open_socket(host, parts.port or 443)
        try:
            sock = context.wrap_socket(plain, server_hostname=host)
        except OSError as exc:
            plain.close()
            raise ThroughputError(
                f"The TLS handshake with {host}:{parts.port or 443} failed: {exc}."
            ) from exc
        self._register(sock)
        secure = http.client.HTTPSConnection(
            host, parts.port, timeout=self.timeout_s, context=context
        )
        secure.sock = sock
        return secure, sock

    def _check_complete(self, response: http.client.HTTPResponse) -> None:
        """Call an end short of the announced Content-Length a broken transfer."""
        missing = response.length
        if self.ended == "eof" and missing:
            self.ended = "broken"
            self.note = f"The server closed the connection {missing} bytes early."

    def _get(
        self, connection: http.client.HTTPConnection, url: str
    ) -> http.client.HTTPResponse:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "identity",
            "Cache-Control": "no-cache",
        }
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
        except TimeoutError as exc:
            raise ThroughputError(
                f"{url!r} accepted the connection but sent no answer within "
                f"{self.timeout_s:g} s."
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise ThroughputError(f"{url!r} gave no HTTP answer: {exc}.") from exc
        log.debug("HTTP %s %s from %s", response.status, response.reason, url)
        return response

    def _redirect_of(self, response: http.client.HTTPResponse, url: str) -> str | None:
        """Return where a redirect points (RFC 9110 section 15.4), else None."""
        location = response.getheader("Location")
        if response.status in REDIRECT_STATUSES and location:
            return location
        if response.status != 200:
            raise ThroughputError(
                f"The server refused the download of {url!r}: "
                f"HTTP {response.status} {response.reason}."
            )
        return None


class FtpDownload(Transfer):
    """A binary RETR of an ``ftp://`` URL, logged in from the URL or anonymously."""

    def run(self) -> None:
        """Download until the deadline or the end of the file."""
        parts = urlsplit(self.target)
        host, port = parts.hostname or "", parts.port or 21
        client = ftplib.FTP(timeout=self.timeout_s, source_address=self._bind())
        try:
            self._open(client, host, port, parts.username, parts.password)
            self._retrieve(client, parts.path)
        except ftplib.Error as exc:
            raise ThroughputError(
                f"The FTP server {host}:{port} refused: {str(exc).strip().rstrip('.')}."
            ) from exc
        except OSError as exc:
            raise ThroughputError(
                f"The FTP session with {host}:{port} failed: {exc}."
            ) from exc
        finally:
            client.close()

    def _open(
        self,
        client: ftplib.FTP,
        host: str,
        port: int,
        user: str | None,
        password: str | None,
    ) -> None:
        # The control connection is opened here, not by FTP.connect(), so that
        # stop() can interrupt a connect to a server that does not answer.
        sock = self._open_socket(host, port)
        client.host, client.port = host, port
        client.sock, client.af = sock, sock.family
        client.file = sock.makefile("r", encoding=client.encoding)
        log.debug("FTP %s", client.getresp())
        client.login(unquote(user or "anonymous"), unquote(password or "anonymous@"))

    def _retrieve(self, client: ftplib.FTP, path: str) -> None:
        """Change into the URL's folders, then RETR its file (RFC 1738 3.2.2)."""
        *folders, name = [unquote(part) for part in path.split(";")[0].split("/")]
        if not name:
            raise ThroughputError(
                f"The FTP URL {self.target!r} names no file; end it with the file "
                "to download."
            )
        for folder in folders:
            if folder:
                client.cwd(folder)
        client.voidcmd("TYPE I")
        data = client.transfercmd(f"RETR {name}")
        self._register(data)
        with data:
            self._pump(data.recv, data)
        if self.ended == "eof":
            with suppress(*ftplib.all_errors):
                log.debug("FTP %s", client.voidresp())
                client.quit()


def _redirect_target(url: str, location: str) -> str:
    """Return the URL a redirect points to, if it is one this download can follow.

    Raises:
        ThroughputError: When it is not an http:// or https:// URL with a host
            and a valid port.
    """
    try:
        target = urljoin(url, location)
    except ValueError:
        target = location
    problem = url_problem(target)
    if target.partition(":")[0].lower() not in ("http", "https"):
        problem = (
            "only http:// and https:// redirects are followed; give that URL itself"
        )
    if problem is not None:
        raise ThroughputError(
            f"{redact(url)!r} redirects to {redact(target)!r}, which cannot be "
            f"fetched: {problem}."
        )
    return target


def describe_connect_error(
    exc: OSError, host: str, port: int, source: str | None, timeout_s: float
) -> str:
    """Turn a failed connect into a sentence naming the target and the source."""
    where = f"{host}:{port}"
    via = f" from {source}" if source else ""
    if isinstance(exc, socket.gaierror):
        return f"Cannot resolve {host!r}: {exc.strerror}; give an address instead."
    if isinstance(exc, TimeoutError):
        return f"No answer from {where}{via} within {timeout_s:g} s."
    if exc.errno == errno.EADDRNOTAVAIL and source:
        return (
            f"The source address {source!r} is not on this machine; fix the "
            "uplink's source address."
        )
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"No route to {where}{via} ({exc.strerror})."
    if exc.errno == errno.ECONNREFUSED:
        return f"{where} refused the connection{via}: nothing listens on that port."
    return f"Cannot connect to {where}{via}: {exc.strerror or exc}."


def _shut(sock: socket.socket) -> None:
    """Wake a thread blocked reading ``sock`` by shutting it down."""
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
