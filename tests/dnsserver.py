"""Loopback DNS responders for the DNS probe's tests and benchmark.

Each responder listens on UDP and TCP at its own 127.0.0.x address and port
and answers from a small zone of its own, after a fixed delay, in one of a
few modes: ``answer`` (from the zone; NXDOMAIN outside it), ``nxdomain``,
``servfail``, ``refused``, ``silent`` (reads queries, never answers) and
``hijack`` (answers names outside the zone with a fixed address, as an ISP
resolver that rewrites NXDOMAIN does). All responders of a lab share one
event loop in a background thread, so a delayed answer never holds up
another query.

Zones map a name to its records::

    {"www.example.com": {"A": ["203.0.113.10"], "AAAA": ["2001:db8::10"]},
     "alias.example.com": {"CNAME": "www.example.com"}}
"""

from __future__ import annotations

import asyncio
import itertools
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

Mode = Literal["answer", "nxdomain", "servfail", "refused", "silent", "hijack"]
Zone = dict[str, dict[str, Any]]
HIJACK_V4 = "198.51.100.250"
HIJACK_V6 = "2001:db8::250"


@dataclass
class View:
    """How one responder behaves.

    Attributes:
        zone: The names it knows.
        mode: See the module docstring.
        delay_s: Wait this long before each answer.
        ttl_s: TTL of every record it gives.
        chase_cnames: Put the CNAME target's records in the same answer, as
            a recursive resolver does; False stops the answer at the CNAME.
        truncate_udp: Answer UDP with the TC bit and no records, so that the
            client must ask again over TCP.
    """

    zone: Zone = field(default_factory=dict)
    mode: Mode = "answer"
    delay_s: float = 0.0
    ttl_s: int = 300
    chase_cnames: bool = True
    truncate_udp: bool = False


@dataclass
class Responder:
    """A running responder: where it listens and what it was asked."""

    host: str
    port: int
    view: View
    queries: list[tuple[str, str, str]] = field(default_factory=list)
    """(name, type, "udp" or "tcp") of every query received, in order."""

    @property
    def address(self) -> str:
        """``host:port``, as the CLI takes it."""
        return f"{self.host}:{self.port}"

    def answer(self, query: dns.message.Message, transport: str) -> bytes | None:
        """Return the wire answer to ``query``, or None to stay silent."""
        question = query.question[0]
        qtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((question.name.to_text(True), qtype, transport))
        if self.view.mode == "silent":
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        if self.view.mode in ("nxdomain", "servfail", "refused"):
            response.set_rcode(dns.rcode.from_text(self.view.mode.upper()))
        elif transport == "udp" and self.view.truncate_udp:
            response.flags |= dns.flags.TC
        else:
            self._fill(response, question.name, question.rdtype)
        return response.to_wire()

    def _fill(
        self, response: dns.message.Message, qname: dns.name.Name, rdtype: int
    ) -> None:
        """Add the CNAME chain and records for ``qname``, or set NXDOMAIN."""
        name = qname
        for _ in range(16):
            records = self.view.zone.get(name.to_text(True))
            if records is None:
                if name == qname:
                    self._unknown(response, qname, rdtype)
                return
            target = records.get("CNAME")
            if target is None or rdtype == dns.rdatatype.CNAME:
                break
            self._add(response, name, "CNAME", [dns.name.from_text(target).to_text()])
            if not self.view.chase_cnames:
                return
            name = dns.name.from_text(target)
        wanted = dns.rdatatype.to_text(rdtype)
        if records.get(wanted):
            self._add(response, name, wanted, list(records[wanted]))

    def _unknown(
        self, response: dns.message.Message, qname: dns.name.Name, rdtype: int
    ) -> None:
        if self.view.mode != "hijack":
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif rdtype == dns.rdatatype.A:
            self._add(response, qname, "A", [HIJACK_V4])
        elif rdtype == dns.rdatatype.AAAA:
            self._add(response, qname, "AAAA", [HIJACK_V6])

    def _add(
        self,
        response: dns.message.Message,
        name: dns.name.Name,
        rdtype: str,
        values: list[str],
    ) -> None:
        rrset = dns.rrset.from_text_list(
            name, self.view.ttl_s, dns.rdataclass.IN, rdtype, values
        )
        response.answer.append(rrset)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, responder: Responder, lab: DnsLab) -> None:
        self.responder, self.lab = responder, lab
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.lab.spawn(self._reply(data, addr))

    async def _reply(self, data: bytes, addr: tuple[str, int]) -> None:
        wire = self.responder.answer(dns.message.from_wire(data), "udp")
        if wire is None:
            return
        await asyncio.sleep(self.responder.view.delay_s)
        self.transport.sendto(wire, addr)


class DnsLab:
    """Loopback responders on 127.0.0.x, served by one background event loop."""

    def __init__(self, first_host: int = 10) -> None:
        self._hosts = itertools.count(first_host)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="dnslab", daemon=True
        )
        self._closers: list[Any] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.responders: list[Responder] = []
        self.errors: list[BaseException] = []
        """Exceptions raised while answering: a test should find none."""

    def start(self) -> None:
        """Start the background loop."""
        self._thread.start()

    def add(self, view: View | None = None, **options: Any) -> Responder:
        """Start one responder with ``view`` (or a View built from ``options``)."""
        chosen = view or View(**options)
        host = f"127.0.0.{next(self._hosts)}"
        future = asyncio.run_coroutine_threadsafe(self._open(host, chosen), self._loop)
        responder = future.result(timeout=10)
        self.responders.append(responder)
        return responder

    def spawn(self, work: Any) -> None:
        """Run a reply on the loop, keeping a reference until it is done."""
        task = self._loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        error = None if task.cancelled() else task.exception()
        if error is not None:
            self.errors.append(error)

    def close(self) -> None:
        """Stop every responder and the loop."""
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        future.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _open(self, host: str, view: View) -> Responder:
        """Bind UDP on a free port, then TCP on the same port."""
        loop = asyncio.get_running_loop()
        for _ in range(20):
            responder = Responder(host, 0, view)
            transport, _ = await loop.create_datagram_endpoint(
                lambda r=responder: _Udp(r, self), local_addr=(host, 0)
            )
            responder.port = transport.get_extra_info("sockname")[1]
            try:
                server = await asyncio.start_server(
                    lambda r, w, resp=responder: self._tcp(resp, r, w),
                    host,
                    responder.port,
                )
            except OSError:
                transport.close()
                continue
            self._closers += [transport, server]
            return responder
        raise RuntimeError(f"No free port for both UDP and TCP on {host}.")

    async def _tcp(
        self,
        responder: Responder,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        """Answer length-prefixed queries on one connection (RFC 1035 4.2.2)."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while header := await reader.readexactly(2):
                data = await reader.readexactly(struct.unpack("!H", header)[0])
                wire = responder.answer(dns.message.from_wire(data), "tcp")
                if wire is None:
                    continue
                await asyncio.sleep(responder.view.delay_s)
                writer.write(struct.pack("!H", len(wire)) + wire)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception as exc:
            self.errors.append(exc)
        finally:
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for closer in self._closers:
            closer.close()
        for closer in self._closers:
            if isinstance(closer, asyncio.Server):
                await closer.wait_closed()


@contextmanager
def dns_lab(first_host: int = 10) -> Iterator[DnsLab]:
    """Run a :class:`DnsLab` for the duration of a ``with`` block."""
    lab = DnsLab(first_host)
    lab.start()
    try:
        yield lab
    finally:
        lab.close()
