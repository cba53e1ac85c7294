"""One lookup at one resolver: the query, its CNAME chain, its outcome.

The resolver is asked directly (UDP, then TCP when the answer is truncated),
never through a caching stub resolver, so that each answer is that
resolver's own. ``asyncio.wait_for`` bounds each lookup: dnspython's own
timeouts can overshoot by a retry, a silent resolver must not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from netcase.site import ResolverAddress

logger = logging.getLogger(__name__)

Role = Literal["internal", "external"]
Status = Literal[
    "answer", "nodata", "nxdomain", "servfail", "refused", "rcode", "timeout", "error"
]
MAX_CNAME_HOPS = 8
"""A chain longer than this is reported as an error (a loop, most likely)."""


@dataclass(frozen=True)
class Resolver:
    """One resolver to ask, and which view of the site it stands for."""

    address: ResolverAddress
    role: Role

    @property
    def label(self) -> str:
        """The resolver as ``address[:port]``."""
        return str(self.address)


@dataclass(frozen=True)
class Record:
    """One address in an answer, with its TTL."""

    value: str
    ttl_s: int


@dataclass(frozen=True)
class Alias:
    """One CNAME step: ``name`` is an alias of ``target``."""

    name: str
    target: str
    ttl_s: int


@dataclass(frozen=True)
class Lookup:
    """What one resolver said about one name and record type.

    Attributes:
        name: The name asked, without the final dot.
        rdtype: ``A`` or ``AAAA``.
        resolver: Who was asked.
        status: ``answer`` (addresses), ``nodata`` (the name exists without
            this type), ``nxdomain``, ``servfail``, ``refused``, ``rcode``
            (another error rcode), ``timeout`` or ``error``.
        rcode: The response code's name, None without a response.
        records: The addresses at the end of the CNAME chain.
        cname_chain: The aliases followed from ``name``.
        rtt_ms: Time from the first query to the last answer.
        error: What went wrong, for the failure statuses.
        used_tcp: True when a truncated UDP answer was re-asked over TCP.
    """

    name: str
    rdtype: str
    resolver: Resolver
    status: Status
    rcode: str | None = None
    records: tuple[Record, ...] = ()
    cname_chain: tuple[Alias, ...] = ()
    rtt_ms: float | None = None
    error: str | None = None
    used_tcp: bool = False

    @property
    def addresses(self) -> frozenset[str]:
        """The answer's addresses."""
        return frozenset(record.value for record in self.records)

    @property
    def message(self) -> str:
        """One sentence a person reads for this lookup."""
        return describe(self)

    def to_json(self) -> dict[str, Any]:
        """Return the lookup as plain JSON values."""
        return {
            "name": self.name,
            "type": self.rdtype,
            "resolver": self.resolver.label,
            "role": self.resolver.role,
            "status": self.status,
            "rcode": self.rcode,
            "answers": [{"address": r.value, "ttl_s": r.ttl_s} for r in self.records],
            "cname_chain": [
                {"name": a.name, "target": a.target, "ttl_s": a.ttl_s}
                for a in self.cname_chain
            ],
            "rtt_ms": None if self.rtt_ms is None else round(self.rtt_ms, 2),
            "error": self.error,
            "tcp": self.used_tcp,
        }


def describe(lookup: Lookup) -> str:
    """Return the sentence for a lookup's outcome, one per kind of outcome."""
    who, what = lookup.resolver.label, f"{lookup.name} {lookup.rdtype}"
    if lookup.status == "answer":
        return f"{who} answers {what} with {', '.join(sorted(lookup.addresses))}."
    if lookup.status == "nodata":
        return (
            f"{who}: {lookup.name} exists but has no {lookup.rdtype} record (NoAnswer)."
        )
    if lookup.status == "nxdomain":
        return f"{who}: {lookup.name} does not exist (NXDOMAIN)."
    if lookup.status == "timeout":
        return f"{who} did not answer {what} (Timeout): {lookup.error}"
    if lookup.rcode is not None:
        return f"{who} answered {lookup.rcode} for {what}: {lookup.error}"
    return f"{who} failed on {what} (no response): {lookup.error}"


async def lookup_one(
    resolver: Resolver, qname: dns.name.Name, rdtype: str, timeout_s: float
) -> Lookup:
    """Look up one name at one resolver within ``timeout_s``, whatever happens."""
    begin = time.monotonic()
    try:
        lookup = await asyncio.wait_for(
            _follow_chain(resolver, qname, rdtype, begin + timeout_s), timeout_s
        )
    except (TimeoutError, dns.exception.Timeout):
        silent = f"no answer within {timeout_s:g} s; a silent resolver and a closed UDP port look alike."
        lookup = Lookup(name_text(qname), rdtype, resolver, "timeout", error=silent)
    except (dns.exception.DNSException, OSError) as exc:
        failure = _explain_failure(exc)
        lookup = Lookup(name_text(qname), rdtype, resolver, "error", error=failure)
    else:
        lookup = replace(lookup, rtt_ms=(time.monotonic() - begin) * 1000)
    return lookup


def _explain_failure(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused (nothing listens on that port over TCP)."
    if isinstance(exc, OSError):
        return f"cannot reach it: {exc.strerror or exc}."
    if isinstance(exc, dns.exception.FormError):
        return f"its answer is not a valid DNS message: {str(exc).rstrip('.')}."
    return f"{type(exc).__name__}: {exc}"


async def _follow_chain(
    resolver: Resolver, qname: dns.name.Name, rdtype: str, deadline: float
) -> Lookup:
    """Ask for ``qname``; where the answer stops at a CNAME, ask for its target."""
    chain: list[Alias] = []
    current, used_tcp = qname, False
    for _ in range(MAX_CNAME_HOPS):
        query = dns.message.make_query(current, rdtype)
        response, tcp = await dns.asyncquery.udp_with_fallback(
            query,
            resolver.address.host,
            timeout=max(deadline - time.monotonic(), 0.001),
            port=resolver.address.port,
        )
        used_tcp = used_tcp or tcp
        logger.debug(
            "%s answered %s %s:\n%s", resolver.label, current, rdtype, response
        )
        hops, end, records = _read_answer(response, current, rdtype)
        chain += hops
        status = _status(response.rcode(), records)
        if status != "nodata" or not hops:
            rcode = dns.rcode.to_text(response.rcode())
            failed = status in ("servfail", "refused", "rcode")
            return Lookup(
                name_text(qname),
                rdtype,
                resolver,
                status,
                rcode,
                tuple(records),
                tuple(chain),
                error=rcode_error(rcode) if failed else None,
                used_tcp=used_tcp,
            )
        current = end
    loop = f"the CNAME chain is longer than {MAX_CNAME_HOPS} steps (a loop?)."
    return Lookup(
        name_text(qname),
        rdtype,
        resolver,
        "error",
        cname_chain=tuple(chain),
        error=loop,
    )


def rcode_error(rcode: str) -> str:
    """Say what a failure rcode means for the person reading the lookup.

    SERVFAIL is also what a validating resolver answers when DNSSEC
    validation fails (RFC 4035 section 5.5); REFUSED is a policy decision of
    the server (RFC 1035 section 4.1.1).
    """
    if rcode == "SERVFAIL":
        return (
            "it could not get an answer (an upstream server failed, or DNSSEC "
            "validation did)."
        )
    if rcode == "REFUSED":
        return "its policy refuses the query (it may not serve this client or name)."
    return "that is an error code, not an answer."


def _status(rcode: dns.rcode.Rcode, records: list[Record]) -> Status:
    """Classify a response by its rcode (RFC 1035 section 4.1.1).

    NXDOMAIN is an answer, not a failure: the name and everything beneath it
    does not exist (RFC 8020). An empty NOERROR answer is NODATA (RFC 2308
    section 2.2): the name exists, without records of the asked type.
    """
    if rcode == dns.rcode.NOERROR:
        return "answer" if records else "nodata"
    if rcode == dns.rcode.NXDOMAIN:
        return "nxdomain"
    if rcode == dns.rcode.SERVFAIL:
        return "servfail"
    if rcode == dns.rcode.REFUSED:
        return "refused"
    return "rcode"


def _read_answer(
    response: dns.message.Message, qname: dns.name.Name, rdtype: str
) -> tuple[list[Alias], dns.name.Name, list[Record]]:
    """Walk the answer section from ``qname`` through CNAMEs to the records.

    Returns the aliases walked, the name the walk ended on and its records
    of ``rdtype`` (empty when the chain stops before them).
    """
    wanted = dns.rdatatype.from_text(rdtype)
    by_key = {(rrset.name, rrset.rdtype): rrset for rrset in response.answer}
    hops: list[Alias] = []
    current = qname
    while (cname := by_key.get((current, dns.rdatatype.CNAME))) is not None:
        target = next(iter(cname)).target
        if any(hop.target == name_text(target) for hop in hops):
            break
        hops.append(Alias(name_text(current), name_text(target), cname.ttl))
        current = target
    rrset = by_key.get((current, wanted))
    records = [Record(r.to_text(), rrset.ttl) for r in rrset] if rrset else []
    return hops, current, records


def name_text(name: dns.name.Name) -> str:
    """Return a name as people write it: Unicode, without the final dot."""
    return name.to_unicode(omit_final_dot=True)
