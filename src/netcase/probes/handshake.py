"""TCP connect and TLS handshake timing through one uplink, for HTTPS targets."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandshakeTiming:
    """How long one uplink took to open a TCP connection and then TLS on it.

    Attributes:
        port: The TCP port.
        server_name: The name sent as SNI, or None when the target is an
            address (RFC 6066 section 3 forbids literal addresses in SNI).
        verified: Whether the server's certificate was checked.
        connect_ms: SYN to SYN/ACK, or None when the connection failed.
        tls_ms: ClientHello to the finished handshake, or None.
        error: Why the connection or the handshake failed, or None.
    """

    port: int
    server_name: str | None
    verified: bool
    connect_ms: float | None = None
    tls_ms: float | None = None
    error: str | None = None

    @property
    def total_ms(self) -> float | None:
        """The TCP connect and the TLS handshake together, or None unless both ended well."""
        if self.error is not None or self.connect_ms is None or self.tls_ms is None:
            return None
        return self.connect_ms + self.tls_ms

    def to_json(self) -> dict[str, Any]:
        """Return the timing as plain JSON values."""
        return {
            "port": self.port,
            "server_name": self.server_name,
            "verified": self.verified,
            "connect_ms": _round(self.connect_ms),
            "tls_ms": _round(self.tls_ms),
            "error": self.error,
        }


def _round(value_ms: float | None) -> float | None:
    return None if value_ms is None else round(value_ms, 3)


def tls_context(verify: bool) -> ssl.SSLContext:
    """Return a client context; without ``verify`` it only times the handshake."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def time_handshake(
    address: str,
    port: int,
    source: str | None,
    server_name: str | None,
    timeout_s: float,
    verify: bool = True,
) -> HandshakeTiming:
    """Connect to ``address:port`` from ``source``, then time a TLS handshake.

    Args:
        address: The server's IP address.
        port: The TCP port (443 for HTTPS).
        source: The uplink's source address, or None for the default route.
        server_name: The host name for SNI and certificate checks.
        timeout_s: The bound on the connect and, separately, the handshake.
        verify: Check the certificate chain and name; a failed check is
            reported as the error. Off only times the handshake.
    """
    sni = _sni(server_name)
    timing = HandshakeTiming(port, sni, verify)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        connect_ms = await _connect(sock, address, port, source, timeout_s)
        timing = HandshakeTiming(port, sni, verify, connect_ms)
        tls_ms = await _tls(sock, server_name or address, timeout_s, verify)
        timing = HandshakeTiming(port, sni, verify, connect_ms, tls_ms)
    except TimeoutError:
        timing = _failed(timing, f"{_step(timing)} timed out after {timeout_s:g} s")
    except ssl.SSLCertVerificationError as exc:
        timing = _failed(timing, f"TLS certificate not trusted: {exc.verify_message}")
    except ssl.SSLError as exc:
        timing = _failed(timing, f"TLS handshake failed: {exc.reason or exc}")
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        # A reset after the connect stopped the handshake, not the connect.
        timing = _failed(timing, f"{_step(timing)} failed: {reason}")
    finally:
        sock.close()
    log.debug("handshake %s:%d from %s: %s", address, port, source, timing)
    return timing


def _sni(server_name: str | None) -> str | None:
    if server_name is None:
        return None
    try:
        ipaddress.ip_address(server_name)
    except ValueError:
        return server_name
    return None


def _step(timing: HandshakeTiming) -> str:
    """Name the step that was under way: the TLS handshake once connected."""
    return "TLS handshake" if timing.connect_ms is not None else "TCP connect"


def _failed(timing: HandshakeTiming, error: str) -> HandshakeTiming:
    return HandshakeTiming(
        timing.port, timing.server_name, timing.verified, timing.connect_ms, None, error
    )


async def _connect(
    sock: socket.socket, address: str, port: int, source: str | None, timeout_s: float
) -> float:
    if source is not None:
        sock.bind((source, 0))
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    await asyncio.wait_for(loop.sock_connect(sock, (address, port)), timeout_s)
    return (time.perf_counter() - started) * 1000.0


async def _tls(
    sock: socket.socket, server_name: str, timeout_s: float, verify: bool
) -> float:
    started = time.perf_counter()
    opening = asyncio.open_connection(
        sock=sock, ssl=tls_context(verify), server_hostname=server_name
    )
    _, writer = await asyncio.wait_for(opening, timeout_s)
    tls_ms = (time.perf_counter() - started) * 1000.0
    # Abort instead of a polite close_notify: a silent server would hold
    # close() for asyncio's 30 s shutdown timeout.
    writer.transport.abort()
    return tls_ms
