"""Timed series of probes through one uplink: ICMP echo, or TCP connect timing.

Both series send on a fixed schedule (one probe every ``interval_s``, never
waiting for the previous answer) and give each probe ``timeout_s`` to be
answered, so a series takes at most ``(count - 1) * interval_s + timeout_s``
whatever the loss.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from icmplib import (
    AsyncSocket,
    ICMPLibError,
    ICMPRequest,
    ICMPv4Socket,
    ICMPv6Socket,
    TimeoutExceeded,
)

log = logging.getLogger(__name__)

REPLY, REFUSED, TIMEOUT, UNREACHABLE, SEND_FAILED, RETRANSMITTED = (
    "reply",
    "refused",
    "timeout",
    "unreachable",
    "send_failed",
    "retransmitted",
)
ANSWERED = frozenset({REPLY, REFUSED})
"""Statuses that carry an RTT: an echo reply, or a TCP SYN/ACK or RST."""

# RFC 792 (echo, echo reply) and RFC 4443 section 4.1/4.2 (ICMPv6 echo).
_ECHO_REPLY = {4: 0, 6: 129}
_ECHO_REQUEST = {4: 8, 6: 128}
_IDLE_RECEIVE_S = 60.0
_identifiers = itertools.count(random.randrange(0x10000))
# struct tcp_info (linux/tcp.h): eight one-byte fields, then 32-bit counters;
# tcpi_total_retrans is the 24th counter.
_TOTAL_RETRANS_AT = 8 + 23 * 4
_TCP_INFO_BYTES = 104
MAX_COUNT = 0x10000
"""ICMP sequence numbers are 16 bits (RFC 792), so a series has at most this many."""


@dataclass(frozen=True)
class Sample:
    """One probe of a series and what came back.

    Attributes:
        seq: The sequence number, from 0.
        rtt_ms: The round-trip time, or None when nothing usable came back.
        status: ``reply``, ``refused`` (TCP RST: still a reply), ``timeout``,
            ``unreachable`` (an ICMP error or a connect error),
            ``send_failed`` (this host refused to send it, as a local
            firewall's output rule does; it counts as sent and lost) or
            ``retransmitted`` (a TCP connect answered only after its SYN was
            sent again: the first SYN or its answer was lost, and the time
            includes the retransmission timeout, so no RTT is kept).
        detail: The error text, or what was retransmitted.
    """

    seq: int
    rtt_ms: float | None
    status: str
    detail: str = ""

    @property
    def answered(self) -> bool:
        """True when the probe got a reply that measures the RTT."""
        return self.status in ANSWERED

    def to_json(self) -> dict[str, Any]:
        """Return the sample as plain JSON values."""
        rtt_ms = None if self.rtt_ms is None else round(self.rtt_ms, 3)
        sample: dict[str, Any] = {"seq": self.seq, "rtt_ms": rtt_ms}
        sample["status"] = self.status
        if self.detail:
            sample["detail"] = self.detail
        return sample


SampleCallback = Callable[[Sample], None]


class _Book:
    """The series' bookkeeping: probes in flight, their timers, their samples."""

    def __init__(self, count: int, timeout_s: float, on_sample: SampleCallback) -> None:
        self.count = count
        self.timeout_s = timeout_s
        self.on_sample = on_sample
        self.requests: dict[int, Any] = {}
        self.timers: dict[int, asyncio.TimerHandle] = {}
        self.samples: dict[int, Sample] = {}
        self.finished = asyncio.Event()

    def sent(self, seq: int, request: Any) -> None:
        loop = asyncio.get_running_loop()
        self.requests[seq] = request
        self.timers[seq] = loop.call_later(self.timeout_s, self.expire, seq)

    def expire(self, seq: int) -> None:
        self.record(Sample(seq, None, TIMEOUT))

    def waiting_for(self, seq: int) -> bool:
        return seq in self.timers

    def record(self, sample: Sample) -> None:
        if sample.seq in self.samples:
            return
        self.samples[sample.seq] = sample
        timer = self.timers.pop(sample.seq, None)
        if timer is not None:
            timer.cancel()
        log.debug(
            "seq %d: %s %s %s", sample.seq, sample.status, sample.rtt_ms, sample.detail
        )
        self.on_sample(sample)
        if len(self.samples) == self.count:
            self.finished.set()

    def stop(self) -> None:
        for timer in self.timers.values():
            timer.cancel()

    def ordered(self) -> list[Sample]:
        return [self.samples[seq] for seq in range(self.count)]


class IcmpSeries:
    """An ICMP echo series through one uplink, on a socket bound to its source.

    The socket opens in the constructor so that a missing permission or a
    source address the host does not have shows before any uplink starts.

    Raises:
        icmplib.SocketPermissionError: Raw ICMP is not permitted.
        icmplib.SocketAddressError: The host does not have ``source``.
    """

    def __init__(self, address: str, source: str | None, privileged: bool) -> None:
        self.version = 6 if ":" in address else 4
        family = ICMPv6Socket if self.version == 6 else ICMPv4Socket
        self.address = address
        self.socket = AsyncSocket(family(source, privileged))
        # RFC 792: the identifier tells this series' replies from any other's.
        self.ident = next(_identifiers) % 0x10000

    def close(self) -> None:
        """Close the socket; safe to call twice."""
        self.socket.close()

    async def run(
        self, count: int, interval_s: float, timeout_s: float, on_sample: SampleCallback
    ) -> list[Sample]:
        """Send ``count`` echo requests and return one sample per sequence."""
        book = _Book(count, timeout_s, on_sample)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._send_all(book, interval_s))
                receiver = group.create_task(self._receive_all(book))
                await book.finished.wait()
                receiver.cancel()
        finally:
            book.stop()
            self.close()
        return book.ordered()

    async def _send_all(self, book: _Book, interval_s: float) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for seq in range(book.count):
            await asyncio.sleep(max(0.0, start + seq * interval_s - loop.time()))
            request = ICMPRequest(self.address, self.ident, seq)
            try:
                self.socket.send(request)
            except ICMPLibError as exc:
                book.record(Sample(seq, None, SEND_FAILED, _send_error(exc)))
                continue
            # An unprivileged (datagram) socket gets its identifier from the kernel.
            self.ident = request.id
            book.sent(seq, request)

    async def _receive_all(self, book: _Book) -> None:
        # Timers expire the probes; a receive timeout would make icmplib drop
        # a reply read just after it, so the wait is long and merely repeats.
        while True:
            try:
                reply = await self.socket.receive(None, _IDLE_RECEIVE_S)
            except TimeoutExceeded:
                continue
            self._take(book, reply)

    def _take(self, book: _Book, reply: Any) -> None:
        if reply.type == _ECHO_REQUEST[self.version] or reply.id != self.ident:
            return
        request = book.requests.get(reply.sequence)
        if request is None or not book.waiting_for(reply.sequence):
            return
        rtt_ms = (reply.time - request.time) * 1000.0
        if rtt_ms > book.timeout_s * 1000.0:
            return
        if reply.type == _ECHO_REPLY[self.version]:
            book.record(Sample(reply.sequence, rtt_ms, REPLY))
            return
        try:
            reply.raise_for_status()
        except ICMPLibError as exc:
            book.record(Sample(reply.sequence, None, UNREACHABLE, str(exc)))


def _send_error(exc: ICMPLibError) -> str:
    """Say why the kernel would not send an echo request.

    icmplib turns every PermissionError from ``sendto`` into a broadcast
    error; the errno it replaced tells a firewall's EPERM (a local output
    rule dropped the packet) from a broadcast's EACCES.
    """
    cause = exc.__context__
    if isinstance(cause, OSError) and cause.errno:
        return os.strerror(cause.errno)
    return str(exc)


async def tcp_series(
    address: str,
    port: int,
    source: str | None,
    count: int,
    interval_s: float,
    timeout_s: float,
    on_sample: SampleCallback,
) -> list[Sample]:
    """Time ``count`` TCP connects to ``address:port`` from ``source``.

    A connect measures one round trip: SYN to SYN/ACK, or SYN to RST when the
    port is closed (RFC 9293 section 3.5.2), which is a reply all the same.

    Raises:
        OSError: The host does not have ``source`` (checked before sending).
    """
    _check_bind(address, source)
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks: list[asyncio.Task[Sample]] = []
    async with asyncio.TaskGroup() as group:
        for seq in range(count):
            await asyncio.sleep(max(0.0, start + seq * interval_s - loop.time()))
            probe = _tcp_sample(seq, address, port, source, timeout_s, on_sample)
            tasks.append(group.create_task(probe))
    return [task.result() for task in tasks]


def _check_bind(address: str, source: str | None) -> None:
    if source is None:
        return
    with socket.socket(_family(address), socket.SOCK_STREAM) as probe:
        probe.bind((source, 0))


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


async def _tcp_sample(
    seq: int,
    address: str,
    port: int,
    source: str | None,
    timeout_s: float,
    on_sample: SampleCallback,
) -> Sample:
    sample = await _tcp_connect(seq, address, port, source, timeout_s)
    log.debug(
        "seq %d: %s %s %s", sample.seq, sample.status, sample.rtt_ms, sample.detail
    )
    on_sample(sample)
    return sample


async def _tcp_connect(
    seq: int, address: str, port: int, source: str | None, timeout_s: float
) -> Sample:
    loop = asyncio.get_running_loop()
    with socket.socket(_family(address), socket.SOCK_STREAM) as sock:
        sock.setblocking(False)
        if source is not None:
            sock.bind((source, 0))
        started = time.perf_counter()
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (address, port)), timeout_s)
            status = REPLY
        except ConnectionRefusedError:
            status = REFUSED
        except TimeoutError:
            return Sample(seq, None, TIMEOUT)
        except OSError as exc:
            detail = os.strerror(exc.errno) if exc.errno else str(exc)
            return Sample(seq, None, UNREACHABLE, detail)
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        resent = syn_retransmissions(sock)
        if resent:
            # A lost SYN is sent again after the 1 s initial RTO (RFC 6298
            # section 2.1): the connect time then measures the timer, not the path.
            return Sample(
                seq,
                None,
                RETRANSMITTED,
                f"SYN sent {resent + 1} times; answered after {elapsed_ms:.0f} ms",
            )
        return Sample(seq, elapsed_ms, status)


def syn_retransmissions(sock: socket.socket) -> int:
    """Return how many times the kernel resent this socket's segments, if it says.

    Right after a connect the only segment sent is the SYN. Linux reports it
    in ``tcp_info.tcpi_total_retrans``; elsewhere 0 is returned.
    """
    tcp_info = getattr(socket, "TCP_INFO", None)
    if tcp_info is None:
        # TODO: only Linux reports a resent SYN - elsewhere a connect answered
        # after a lost SYN shows as a sample of about 1 s, not as a loss.
        return 0
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, tcp_info, _TCP_INFO_BYTES)
    except OSError:
        return 0
    if len(info) < _TOTAL_RETRANS_AT + 4:
        return 0
    (total,) = struct.unpack_from("I", info, _TOTAL_RETRANS_AT)
    return int(total)


def source_towards(address: str, source: str | None) -> str | None:
    """Return the source address the kernel uses to reach ``address``.

    Connecting a UDP socket only picks a route; no packet is sent.
    """
    with socket.socket(_family(address), socket.SOCK_DGRAM) as sock:
        try:
            if source is not None:
                sock.bind((source, 0))
            sock.connect((address, 9))
        except OSError:
            return source
        return str(sock.getsockname()[0])
