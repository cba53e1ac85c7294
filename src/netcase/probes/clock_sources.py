"""Live clock references: an SNTP query and the ``Date`` header of an HTTP server.

Every offset here follows RFC 5905 section 8: the reference's time minus this
machine's, so a positive offset means the local clock is behind.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from netcase.errors import ConfigError, NetcaseError
from netcase.probes.urls import url_problem
from netcase.site import check_proxy

logger = logging.getLogger(__name__)

NTP_PORT = 123
NTP_PACKET = struct.Struct("!BBbbII4sQQQQ")
NTP_UNIX_DELTA_S = 2_208_988_800
"""Seconds from the NTP prime epoch (1900-01-01) to the Unix epoch."""
ERA_SPAN_S = 2**32
OPENSSL_NO_CHECK_TIME = 0x200000
"""OpenSSL's X509_V_FLAG_NO_CHECK_TIME: verify a chain without the local clock."""
HEADER_LIMIT_BYTES = 64 * 1024


@dataclass(frozen=True)
class ClockReading:
    """One comparison of this machine's clock with one reference.

    Attributes:
        source: ``ntp``, ``http`` or ``apt``.
        method: ``sntp``, ``http-date`` or ``apt-error``.
        reference: The server (``host:port``), the URL, or the Release file's URL.
        offset_s: Reference time minus local time; positive: the local clock
            is behind. None when the reference gave no usable answer.
        rtt_s: Round-trip time of the exchange, for live references.
        uncertainty_s: How far off the offset may be from the method alone.
        error: Why there is no offset, as a sentence.
        detail: Method-specific values (stratum, the apt message's kind).
    """

    source: str
    method: str
    reference: str
    offset_s: float | None = None
    rtt_s: float | None = None
    uncertainty_s: float | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the reference gave an offset."""
        return self.offset_s is not None

    def to_json(self) -> dict[str, Any]:
        """Return the reading as plain JSON values."""
        return {
            "source": self.source,
            "method": self.method,
            "reference": self.reference,
            "offset_s": _rounded(self.offset_s),
            "direction": direction(self.offset_s),
            "rtt_s": _rounded(self.rtt_s),
            "uncertainty_s": _rounded(self.uncertainty_s),
            "error": self.error,
            "detail": self.detail,
        }


def direction(offset_s: float | None) -> str | None:
    """Say which way the local clock is off: ``behind``, ``ahead`` or ``in_step``."""
    if offset_s is None:
        return None
    if offset_s > 0:
        return "behind"
    return "ahead" if offset_s < 0 else "in_step"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def parse_server(text: str) -> tuple[str, int]:
    """Parse an NTP server as ``host``, ``host:port``, ``v6addr`` or ``[v6addr]:port``.

    Raises:
        ConfigError: When the host is empty or the port is not a port number.
    """
    text = text.strip()
    host, port_text = text, str(NTP_PORT)
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":") or str(NTP_PORT)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(
            f"The NTP server {text!r} is not 'host' or 'host:port' "
            "(such as 127.0.0.1:1123, ntp.example.org, [::1]:123)."
        )
    return host, int(port_text)


def check_url(url: str) -> None:
    """Check that ``url`` is an http(s) URL with a host and a usable port.

    Raises:
        ConfigError: Naming the URL and what is wrong with it.
    """
    problem = url_problem(url, ("http", "https"))
    if problem is not None:
        raise ConfigError(f"The URL {url!r} cannot be used: {problem}.")


async def sntp_reading(server: str, timeout_s: float) -> ClockReading:
    """Ask an NTP server for the time with one SNTP exchange (RFC 4330).

    Never raises for network trouble: a silent, refusing or misbehaving
    server gives a reading with ``error`` set. The whole exchange, name
    lookup included, is bounded by ``timeout_s``.
    """
    host, port = parse_server(server)
    reference = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        async with asyncio.timeout(timeout_s):
            exchange = await _sntp_exchange(host, port)
    except TimeoutError:
        return ClockReading("ntp", "sntp", reference, error=_timed_out(timeout_s))
    except OSError as exc:
        return ClockReading("ntp", "sntp", reference, error=_os_error(exc))
    return _sntp_result(reference, *exchange)


def _timed_out(timeout_s: float, via: str = "") -> str:
    return f"No answer within {timeout_s:g} s{via}."


def _os_error(exc: OSError) -> str:
    reason = _reason(exc)
    return f"{reason[:1].upper()}{reason[1:]}."


def _reason(exc: OSError) -> str:
    """Return why a socket call failed, in lower case: ``connection refused``.

    asyncio words a refused connect as "Connect call failed ('127.0.0.1', 1)",
    which hides the reason; the errno says it. A name lookup error's errno is
    a getaddrinfo code, not an errno, so its own text is kept.
    """
    if exc.errno and not isinstance(exc, socket.gaierror):
        reason = os.strerror(exc.errno)
    else:
        reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{reason[:1].lower()}{reason[1:]}"


class ProxyFailure(NetcaseError):
    """The proxy could not be reached, or refused or failed the request itself."""

    title = "Proxy failure"


class _SntpAnswer(asyncio.DatagramProtocol):
    """Keeps the first datagram a server sends back, with its arrival time."""

    def __init__(self) -> None:
        self.answer: asyncio.Future[tuple[bytes, float]] = (
            asyncio.get_running_loop().create_future()
        )

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not self.answer.done():
            self.answer.set_result((data, time.monotonic()))

    def error_received(self, exc: Exception) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)


async def _sntp_exchange(host: str, port: int) -> tuple[bytes, bytes, float, float]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        _SntpAnswer, remote_addr=(host, port)
    )
    try:
        # T1 is read from the wall clock under test; T4 is T1 plus the
        # monotonic time elapsed, so a clock step mid-exchange cannot skew it.
        t1_s, sent_mono = time.time(), time.monotonic()
        request = _sntp_request(t1_s)
        transport.sendto(request)
        data, received_mono = await protocol.answer
    finally:
        transport.close()
    logger.debug("SNTP answer from %s:%s: %s", host, port, data.hex())
    return request, data, t1_s, t1_s + (received_mono - sent_mono)


def _sntp_request(t1_s: float) -> bytes:
    # LI 0, version 4, mode 3 (client); the transmit timestamp is T1, which
    # the server must copy into its originate field (RFC 4330 section 5).
    first_byte = (0 << 6) | (4 << 3) | 3
    return NTP_PACKET.pack(first_byte, 0, 0, 0, 0, 0, b"\0" * 4, 0, 0, 0, _ntp(t1_s))


def _ntp(unix_s: float) -> int:
    seconds = unix_s + NTP_UNIX_DELTA_S
    return (int(seconds) % ERA_SPAN_S) << 32 | int((seconds % 1) * ERA_SPAN_S)


def _unix(ntp_value: int) -> float:
    seconds, fraction = ntp_value >> 32, ntp_value & 0xFFFFFFFF
    # RFC 4330 section 3: with the top bit clear, the time is in era 1
    # (from 2036-02-07), so it counts from 2**32 s after 1900.
    if not seconds & 0x80000000:
        seconds += ERA_SPAN_S
    return seconds + fraction / ERA_SPAN_S - NTP_UNIX_DELTA_S


def _sntp_result(
    reference: str, request: bytes, data: bytes, t1_s: float, t4_s: float
) -> ClockReading:
    problem = _sntp_problem(request, data)
    if problem:
        return ClockReading("ntp", "sntp", reference, error=problem)
    fields = NTP_PACKET.unpack_from(data)
    stratum, t2_s, t3_s = fields[1], _unix(fields[9]), _unix(fields[10])
    # RFC 5905 section 8: offset and round-trip delay from the four timestamps.
    offset_s = ((t2_s - t1_s) + (t3_s - t4_s)) / 2
    delay_s = max((t4_s - t1_s) - (t3_s - t2_s), 0.0)
    return ClockReading(
        "ntp",
        "sntp",
        reference,
        offset_s=offset_s,
        rtt_s=delay_s,
        uncertainty_s=delay_s / 2,
        detail={"stratum": stratum, "version": (fields[0] >> 3) & 0x7},
    )


def _sntp_problem(request: bytes, data: bytes) -> str | None:
    if len(data) < NTP_PACKET.size:
        return f"The answer is {len(data)} bytes, shorter than an NTP packet (48)."
    fields = NTP_PACKET.unpack_from(data)
    leap, version, mode = fields[0] >> 6, (fields[0] >> 3) & 0x7, fields[0] & 0x7
    if mode != 4 or version not in (3, 4):
        return (
            f"The answer is not an NTP server reply (mode {mode}, version {version})."
        )
    if data[24:32] != request[40:48]:
        return "The answer does not echo this request (originate timestamp differs)."
    if fields[1] == 0:
        code = fields[6].decode("ascii", "replace").strip("\0")
        return f"The server sent a kiss-o'-death {code!r} (RFC 5905 section 7.4)."
    if leap == 3 or fields[1] > 15:
        return "The server says its own clock is not synchronised."
    if fields[10] == 0:
        return "The answer has no transmit timestamp."
    return None


async def http_date_reading(
    url: str,
    timeout_s: float,
    ssl_context: ssl.SSLContext | None = None,
    proxy: str | None = None,
) -> ClockReading:
    """Read the ``Date`` header of a HEAD request (RFC 9110 section 6.6.1).

    The header has one-second resolution and is truncated, so the offset is
    taken against the middle of the request and has an uncertainty of half a
    second plus half the round trip. Never raises for network trouble; the
    whole request, connection included, is bounded by ``timeout_s``.

    Args:
        url: The http(s) URL to ask.
        timeout_s: The bound on the whole request.
        ssl_context: TLS settings for an https URL.
        proxy: An ``http://host:port`` proxy to go through: an https URL is
            reached through a CONNECT tunnel, so its Date is the server's
            own; an http URL is asked of the proxy, which passes the
            server's Date on (or its cache's, for a cached answer). Through
            a proxy, only a 2xx or 3xx answer to an http URL is read as the
            server's: see :func:`_proxy_refusal`.
    """
    check_url(url)
    if proxy is not None:
        check_proxy(proxy)
    try:
        async with asyncio.timeout(timeout_s):
            header, sent_s, rtt_s = await _head_date(url, ssl_context, proxy)
    except TimeoutError:
        error = _timed_out(timeout_s, f" through the proxy {proxy}" if proxy else "")
        return ClockReading("http", "http-date", url, error=error)
    except ProxyFailure as exc:
        return ClockReading("http", "http-date", url, error=exc.message)
    except ssl.SSLError as exc:
        return ClockReading("http", "http-date", url, error=f"TLS failed: {exc}.")
    except (
        OSError,
        ValueError,
        asyncio.IncompleteReadError,
        asyncio.LimitOverrunError,
    ) as exc:
        return ClockReading("http", "http-date", url, error=_http_error(exc))
    reading = _date_result(url, header, sent_s, rtt_s)
    if proxy is not None:
        reading.detail["proxy"] = proxy
    return reading


def _http_error(exc: Exception) -> str:
    if isinstance(exc, asyncio.IncompleteReadError):
        return "The server closed the connection before the end of its headers."
    if isinstance(exc, asyncio.LimitOverrunError):
        return f"The server's headers are longer than {HEADER_LIMIT_BYTES} bytes."
    if isinstance(exc, OSError):
        return _os_error(exc)
    return f"{exc}"


def tls_context(cafile: str | None = None) -> ssl.SSLContext:
    """Return a verifying TLS context that does not trust the local clock.

    The clock is what is being checked: a certificate must not look expired
    or not yet valid because of it, so validity dates are not checked while
    the chain and the host name still are.

    Args:
        cafile: Trust only the certificates in this file (default: the
            system's trust store).
    """
    context = ssl.create_default_context(cafile=cafile)
    context.verify_flags |= OPENSSL_NO_CHECK_TIME
    return context


async def _head_date(
    url: str, ssl_context: ssl.SSLContext | None, proxy: str | None
) -> tuple[str | None, float, float]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    context = (ssl_context or tls_context()) if secure else None
    target = _request_target(parts.path, parts.query)
    if proxy is None:
        reader, writer = await asyncio.open_connection(
            host, port, ssl=context, limit=HEADER_LIMIT_BYTES
        )
    else:
        reader, writer = await _through_proxy(proxy, host, port, context)
        if not secure:
            # A proxy takes the absolute form of the target (RFC 9112 section 3.2.2).
            target = f"http://{parts.netloc.rpartition('@')[2]}{target}"
    try:
        sent_s, sent_mono = time.time(), time.monotonic()
        writer.write(_head_request(parts.netloc, target))
        await writer.drain()
        raw = await reader.readuntil(b"\r\n\r\n")
        rtt_s = time.monotonic() - sent_mono
    finally:
        writer.close()
    logger.debug("HTTP headers from %s: %r", url, raw)
    header = _date_header(raw)
    if proxy is not None and not secure:
        _proxy_refusal(proxy, url, raw)
    return header, sent_s, rtt_s


async def _through_proxy(
    proxy: str, host: str, port: int, context: ssl.SSLContext | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the proxy; for TLS, open a tunnel and start TLS inside it."""
    parts = urlsplit(proxy)
    try:
        reader, writer = await asyncio.open_connection(
            parts.hostname, parts.port or 80, limit=HEADER_LIMIT_BYTES
        )
    except OSError as exc:
        raise ProxyFailure(f"Cannot reach the proxy {proxy}: {_reason(exc)}.") from exc
    if context is None:
        return reader, writer
    try:
        # RFC 9110 section 9.3.6: CONNECT names the server as host:port.
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        writer.write(
            f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode("ascii")
        )
        await writer.drain()
        status = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n", 1)[0]
        fields = status.decode("latin-1").split(" ", 2)
        if len(fields) < 2 or not fields[1].startswith("2"):
            raise ProxyFailure(
                f"The proxy {proxy} refused the tunnel to {authority}: "
                f"{status.decode('latin-1')[:80]!r}."
            )
        try:
            await writer.start_tls(context, server_hostname=host)
        except ConnectionError as exc:
            why = _reason(exc) if exc.errno else "the connection was closed"
            raise ProxyFailure(
                f"The proxy {proxy} accepted the tunnel to {authority} but no TLS "
                f"server answered through it ({why})."
            ) from exc
    except BaseException:
        writer.close()
        raise
    return reader, writer


def _request_target(path: str, query: str) -> str:
    return (path or "/") + (f"?{query}" if query else "")


def _head_request(netloc: str, target: str) -> bytes:
    host = netloc.rpartition("@")[2]
    lines = [
        f"HEAD {target} HTTP/1.1",
        f"Host: {host}",
        "User-Agent: netcase-clock",
        "Accept: */*",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _proxy_refusal(proxy: str, url: str, raw: bytes) -> None:
    """Raise when a proxy's answer to a plain-HTTP request is not the server's.

    A proxy answers in the server's place when it refuses or fails: 403 for
    its policy, 407 for its own authentication (RFC 9110 section 15.5.8),
    502, 503 or 504 when it cannot reach the server (sections 15.6.3 to
    15.6.5). The answer carries no reliable mark of who wrote it, so any
    status outside 2xx and 3xx is taken as the proxy's: its Date may be the
    proxy's clock, and a URL chosen as a clock reference answers 2xx or 3xx.
    A server's own 4xx or 5xx, passed on, is reported the same way; the
    status in the message lets a person tell.
    """
    status = raw.split(b"\r\n", 1)[0].decode("latin-1")
    fields = status.split(" ", 2)
    code = fields[1] if len(fields) > 1 else ""
    if code[:1] in ("2", "3") and len(code) == 3:
        return
    reason = f" {fields[2].strip()}" if len(fields) > 2 else ""
    raise ProxyFailure(
        f"The proxy {proxy} answered HTTP {code}{reason} to the request for "
        f"{url}, a refusal or failure in the server's place; only a 2xx or 3xx "
        "answer is read as the server's."
    )


def _date_header(raw: bytes) -> str | None:
    lines = raw.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/"):
        raise ValueError(f"The server did not answer in HTTP: {lines[0][:60]!r}.")
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "date":
            return value.strip()
    return None


def _date_result(
    url: str, header: str | None, sent_s: float, rtt_s: float
) -> ClockReading:
    if header is None:
        return ClockReading(
            "http",
            "http-date",
            url,
            rtt_s=rtt_s,
            error="The answer has no Date header.",
        )
    try:
        stamp = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return ClockReading(
            "http",
            "http-date",
            url,
            rtt_s=rtt_s,
            error=f"The Date header {header!r} is not an HTTP date.",
        )
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    # The server truncates to whole seconds: add half a second on average.
    offset_s = stamp.timestamp() + 0.5 - (sent_s + rtt_s / 2)
    return ClockReading(
        "http",
        "http-date",
        url,
        offset_s=offset_s,
        rtt_s=rtt_s,
        uncertainty_s=0.5 + rtt_s / 2,
        detail={"date": header, "resolution_s": 1.0},
    )
