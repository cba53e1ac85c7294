"""Loopback servers for the latency probe's tests: DNS names, TCP ports, TLS.

Everything listens on 127.0.0.1 and is started and stopped by the tests.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import struct
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class NameResponder:
    """A tiny authoritative DNS responder answering A queries from a table.

    Names not in the table get NXDOMAIN (RFC 1035 section 4.1.1, RCODE 3).
    """

    def __init__(self, addresses: dict[str, str]) -> None:
        self.addresses = {
            name.rstrip(".") + ".": addr for name, addr in addresses.items()
        }
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            wire, client = self.sock.recvfrom(4096)
            if self.stopping.is_set():
                return
            self.sock.sendto(self._answer(wire), client)

    def stop(self) -> None:
        """Wake the serving thread with an empty datagram and wait for it."""
        self.stopping.set()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as waker:
            waker.sendto(b"", ("127.0.0.1", self.port))
        self.thread.join()
        self.sock.close()

    def _answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        address = self.addresses.get(question.name.to_text())
        if address is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.A:
            answer = dns.rrset.from_text(question.name, 60, "IN", "A", address)
            response.answer.append(answer)
        return response.to_wire()


@contextmanager
def name_responder(addresses: dict[str, str]) -> Iterator[NameResponder]:
    """Run a :class:`NameResponder` for the duration of the block."""
    responder = NameResponder(addresses)
    responder.thread.start()
    try:
        yield responder
    finally:
        responder.stop()


@contextmanager
def listening_port() -> Iterator[int]:
    """Yield a loopback TCP port that accepts connections (in the kernel)."""
    with socket.create_server(("127.0.0.1", 0), backlog=512) as server:
        yield server.getsockname()[1]


@contextmanager
def closed_port() -> Iterator[int]:
    """Yield a loopback TCP port that answers every SYN with a RST.

    The port stays bound (so nothing else takes it) but never listens.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


class FullListener:
    """A loopback listener whose accept queue is full: a new SYN gets no answer.

    Linux drops a SYN for a listener whose accept queue is full, so a connect
    to it hangs as towards a silent server, resending its SYN, until
    :meth:`make_room` lets the next resent SYN through.
    """

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port: int = self.listener.getsockname()[1]
        self._fillers = []
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", self.port))
            self._fillers.append(filler)

    def syn_sent(self) -> int:
        """Count this machine's sockets in SYN_SENT towards the port."""
        remote = f":{self.port:04X} 02 "  # proc(5): remote port, state 02
        return Path("/proc/net/tcp").read_text().count(remote)

    async def wait_for_one_more_syn_than(self, count: int) -> None:
        """Return once more than ``count`` sockets are connecting to the port."""
        while self.syn_sent() <= count:
            await asyncio.sleep(0.01)

    def make_room(self) -> None:
        """Drop the fillers and accept the queued one, so the next SYN is answered."""
        for filler in self._fillers:
            filler.close()
        self._fillers = []
        accepted, _peer = self.listener.accept()
        accepted.close()

    def close(self) -> None:
        for sock in (*self._fillers, self.listener):
            sock.close()


@contextmanager
def full_listener() -> Iterator[FullListener]:
    listener = FullListener()
    try:
        yield listener
    finally:
        listener.close()


def openssl_unavailable_reason() -> str | None:
    """Say why a test certificate cannot be made here, or None when it can."""
    if shutil.which("openssl") is None:
        return "needs the 'openssl' command to make a self-signed certificate"
    return None


def self_signed_cert(folder: Path, name: str) -> tuple[Path, Path]:
    """Make a one-day self-signed certificate for ``name``; return (cert, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class TlsServer:
    """A loopback TLS server that records the SNI names it was sent."""

    port: int
    server_names: list[str | None] = field(default_factory=list)


@asynccontextmanager
async def tls_server(cert: Path, key: Path) -> AsyncIterator[TlsServer]:
    """Serve TLS on 127.0.0.1 in the running loop for the duration of the block."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    record = TlsServer(0)

    def on_sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        record.server_names.append(name)

    context.sni_callback = on_sni  # type: ignore[assignment]
    handlers: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await reader.read()
        except OSError:
            pass
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    record.port = server.sockets[0].getsockname()[1]
    try:
        yield record
    finally:
        server.close()
        await server.wait_closed()
        await asyncio.gather(*handlers, return_exceptions=True)


class SourceTlsServer:
    """A loopback TLS server that treats clients by their source address.

    Each connection is served in its own thread with blocking sockets, so the
    client's ClientHello waits in the kernel until the server reads it: a
    delay before the handshake lengthens the client's TLS time only, not its
    TCP connect (the kernel completes that before ``accept``).

    Attributes:
        port: The port on 127.0.0.1.
        delay_s: Seconds to wait before the handshake, by client address.
        reset: Client addresses whose connection is reset on the ClientHello.
    """

    def __init__(
        self, cert: Path, key: Path, delay_s: dict[str, float], reset: set[str]
    ) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.delay_s = delay_s
        self.reset = reset
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port: int = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            conn, (peer, _port) = self.listener.accept()
            if self.stopping.is_set():
                conn.close()
                return
            handler = threading.Thread(target=self._serve, args=(conn, peer))
            handler.start()
            self.threads.append(handler)

    def _serve(self, conn: socket.socket, peer: str) -> None:
        with conn:
            if peer in self.reset:
                # Reset on the ClientHello, as a middlebox reading the SNI does;
                # the client has its connect by then, so only TLS is cut short.
                conn.recv(1)
                # socket(7): with linger on and a zero time, close() sends a RST.
                linger = struct.pack("ii", 1, 0)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                return
            if self.stopping.wait(self.delay_s.get(peer, 0.0)):
                return
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)  # Until the client hangs up.
            except OSError:
                pass

    def stop(self) -> None:
        """Wake the accepting thread with one last connection and wait for all."""
        self.stopping.set()
        with socket.create_connection(("127.0.0.1", self.port)):
            self.acceptor.join()
        for handler in self.threads:
            handler.join()
        self.listener.close()


@contextmanager
def source_tls_server(
    cert: Path,
    key: Path,
    delay_s: dict[str, float] | None = None,
    reset: set[str] | None = None,
) -> Iterator[SourceTlsServer]:
    """Run a :class:`SourceTlsServer` on 127.0.0.1 for the duration of the block."""
    server = SourceTlsServer(cert, key, delay_s or {}, reset or set())
    server.acceptor.start()
    try:
        yield server
    finally:
        server.stop()
