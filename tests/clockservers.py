"""Loopback clock references for the clock probe's tests.

An SNTP responder whose clock is shifted by a chosen number of seconds, and
an HTTP server that answers HEAD with a chosen (or shifted) ``Date`` header,
optionally over TLS with an expired self-signed certificate. Both run in a
thread so that code calling ``asyncio.run`` (the CLI) can reach them. And
an HTTP proxy, run in the test's own event loop.
"""

from __future__ import annotations

import asyncio
import email.utils
import shutil
import socketserver
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

NTP_DELTA_S = 2_208_988_800
PACKET = struct.Struct("!BBbbII4sQQQQ")
POLL_S = 0.05


def to_ntp(unix_s: float) -> int:
    """Return a 64-bit NTP timestamp for a Unix time (era 0)."""
    seconds = unix_s + NTP_DELTA_S
    return int(seconds) << 32 | int((seconds % 1) * 2**32)


@dataclass
class SntpBehaviour:
    """How the responder answers."""

    shift_s: float = 0.0
    stratum: int = 2
    leap: int = 0
    mode: int = 4
    echo_originate: bool = True
    requests: list[bytes] = field(default_factory=list)


class _SntpHandler(socketserver.BaseRequestHandler):
    server: _SntpServer

    def handle(self) -> None:
        data, sock = self.request
        behaviour = self.server.behaviour
        behaviour.requests.append(data)
        received = to_ntp(time.time() + behaviour.shift_s)
        originate = data[40:48] if behaviour.echo_originate else b"\x01" * 8
        reply = PACKET.pack(
            behaviour.leap << 6 | 4 << 3 | behaviour.mode,
            behaviour.stratum,
            6,
            -20,
            0,
            0,
            b"RATE" if behaviour.stratum == 0 else b"LOCL",
            received,
            0,
            received,
            to_ntp(time.time() + behaviour.shift_s),
        )
        reply = reply[:24] + originate + reply[32:]
        sock.sendto(reply, self.client_address)


class _SntpServer(socketserver.ThreadingUDPServer):
    daemon_threads = True

    def __init__(self, behaviour: SntpBehaviour) -> None:
        super().__init__(("127.0.0.1", 0), _SntpHandler)
        self.behaviour = behaviour


@contextmanager
def sntp_responder(behaviour: SntpBehaviour) -> Iterator[str]:
    """Serve SNTP on 127.0.0.1; yield ``127.0.0.1:PORT``."""
    with _SntpServer(behaviour) as server:
        thread = threading.Thread(target=server.serve_forever, args=(POLL_S,))
        thread.start()
        try:
            yield f"127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join()


DateSource = Callable[[], str | None]


def shifted_date(shift_s: float) -> DateSource:
    """Return a Date header maker for a clock shifted by ``shift_s``."""
    return lambda: email.utils.formatdate(time.time() + shift_s, usegmt=True)


class _DateHandler(BaseHTTPRequestHandler):
    server: _DateServer

    def do_HEAD(self) -> None:
        self.send_response_only(200)
        date = self.server.date_source()
        if date is not None:
            self.send_header("Date", date)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.server.paths.append(self.path)

    def log_message(self, format: str, *args: object) -> None:
        return


class _DateServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, date_source: DateSource) -> None:
        super().__init__(("127.0.0.1", 0), _DateHandler)
        self.date_source = date_source
        self.paths: list[str] = []


@contextmanager
def date_server(
    date_source: DateSource, tls: ssl.SSLContext | None = None
) -> Iterator[_DateServer]:
    """Serve HEAD with a Date header on 127.0.0.1 (TLS when ``tls`` is given)."""
    with _DateServer(date_source) as server:
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, args=(POLL_S,))
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            thread.join()


def expired_certificate(folder: Path) -> tuple[Path, Path]:
    """Make a self-signed certificate for 127.0.0.1 valid only in January 2020.

    Returns the certificate and key files. Needs the openssl command.
    """
    ca = folder / "ca"
    ca.mkdir()
    (ca / "index.txt").write_text("")
    (ca / "serial").write_text("01\n")
    config = folder / "ca.cnf"
    config.write_text(
        "[ca]\ndefault_ca = d\n[d]\n"
        f"database = {ca / 'index.txt'}\nserial = {ca / 'serial'}\n"
        f"new_certs_dir = {ca}\ndefault_md = sha256\npolicy = p\n"
        "copy_extensions = copy\nunique_subject = no\n[p]\ncommonName = supplied\n"
    )
    key, request, cert = folder / "key.pem", folder / "req.csr", folder / "cert.pem"
    openssl = shutil.which("openssl") or "openssl"
    subprocess.run(
        [openssl, "req", "-new", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-out", str(request)],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [openssl, "ca", "-batch", "-config", str(config), "-selfsign",
         "-keyfile", str(key), "-in", str(request), "-out", str(cert),
         "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-notext"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class ForwardProxy:
    """A loopback HTTP proxy: absolute-form requests and CONNECT tunnels.

    It forwards only to 127.0.0.1 and records each request line it gets.
    With ``refuse_tunnels`` it answers every CONNECT with 403; with
    ``refuse_requests`` set to a status line such as ``"403 Forbidden"`` it
    answers every plain request with it, and a Date of its own, itself.
    """

    def __init__(
        self,
        refuse_tunnels: bool = False,
        refuse_requests: str | None = None,
        hollow_tunnels: bool = False,
    ) -> None:
        self.refuse_tunnels = refuse_tunnels
        self.refuse_requests = refuse_requests
        self.hollow_tunnels = hollow_tunnels
        """Answer CONNECT with 200, then close instead of relaying."""
        self.requests: list[str] = []
        self.url = ""

    async def handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            first, _, rest = head.partition(b"\r\n")
            method, target, version = first.decode("ascii").split(" ")
            self.requests.append(f"{method} {target}")
            if method == "CONNECT":
                await self._tunnel(target, reader, writer)
            elif self.refuse_requests is not None:
                await self._refuse(writer, self.refuse_requests)
            else:
                await self._forward(method, target, version, rest, reader, writer)
        finally:
            writer.close()

    async def _tunnel(
        self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        host, _, port = target.rpartition(":")
        if self.refuse_tunnels or host != "127.0.0.1":
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        if self.hollow_tunnels:
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            return
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await _pipe_both(reader, writer, up_reader, up_writer)

    async def _refuse(self, writer: asyncio.StreamWriter, status: str) -> None:
        date = email.utils.formatdate(usegmt=True)
        writer.write(
            f"HTTP/1.1 {status}\r\nDate: {date}\r\nContent-Length: 0\r\n\r\n".encode(
                "ascii"
            )
        )
        await writer.drain()

    async def _forward(
        self,
        method: str,
        target: str,
        version: str,
        rest: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        parts = urlsplit(target)
        assert parts.hostname == "127.0.0.1", target
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port)
        up_writer.write(f"{method} {path} {version}\r\n".encode("ascii") + rest)
        await _pipe_both(reader, writer, up_reader, up_writer)


async def _pipe_both(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
        sink.close()

    try:
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    except (ConnectionError, OSError):
        pass
    finally:
        up_writer.close()


@asynccontextmanager
async def forward_proxy(
    refuse_tunnels: bool = False,
    refuse_requests: str | None = None,
    hollow_tunnels: bool = False,
) -> AsyncIterator[ForwardProxy]:
    """Run a :class:`ForwardProxy` on 127.0.0.1 in this event loop."""
    proxy = ForwardProxy(refuse_tunnels, refuse_requests, hollow_tunnels)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    proxy.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield proxy
