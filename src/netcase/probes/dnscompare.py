"""The DNS comparison probe: ask internal and external resolvers at once.

For each name and record type, every internal and every external resolver
is asked at the same moment, plus one random name per resolver to catch
NXDOMAIN rewriting. Each lookup is bounded (see
:mod:`netcase.probes.dnscompare_query`), so a silent resolver costs at most
the timeout and the others' answers are reported regardless. What the
answers mean is decided in :mod:`netcase.probes.dnscompare_findings`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dns.exception
import dns.name
import dns.nameserver
import dns.resolver

from netcase.errors import ConfigError, NetcaseError
from netcase.probes.dnscompare_findings import (
    BadName,
    bad_name_findings,
    build_findings,
)
from netcase.probes.dnscompare_query import (
    Alias,
    Lookup,
    Record,
    Resolver,
    Role,
    Status,
    describe,
    lookup_one,
    name_text,
)
from netcase.probes.latency_target import written_as_address
from netcase.probes.limits import MAX_TIMEOUT_S, check_seconds
from netcase.probes.result import ProbeResult
from netcase.site import ResolverAddress

__all__ = [
    "Alias",
    "BadName",
    "Lookup",
    "LookupFinished",
    "Record",
    "Resolver",
    "ResolversUnavailable",
    "Role",
    "Status",
    "compare_dns",
    "describe",
    "expand_system",
    "system_resolvers",
]

logger = logging.getLogger(__name__)

RECORD_TYPES = ("A", "AAAA")
DEFAULT_TIMEOUT_S = 2.0


class ResolversUnavailable(NetcaseError):
    """No resolver to ask: the OS list is empty or unreadable."""

    title = "No resolvers"


@dataclass(frozen=True)
class LookupFinished:
    """Progress: one lookup has its outcome (``done`` of ``total`` so far)."""

    lookup: Lookup
    canary: bool
    done: int
    total: int


ProgressCallback = Callable[[LookupFinished], None]


@dataclass
class _Progress:
    total: int
    callback: ProgressCallback | None
    done: int = field(default=0)

    def report(self, lookup: Lookup, canary: bool) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(LookupFinished(lookup, canary, self.done, self.total))


def parse_names(names: Iterable[str]) -> tuple[dns.name.Name, ...]:
    """Turn text into absolute DNS names, refusing the lot for one bad text.

    Raises:
        ConfigError: When a text is not a DNS name (see :func:`name_problem`).
    """
    parsed, bad = split_names(names)
    if bad:
        raise _bad_names_error(bad)
    return parsed


def split_names(
    names: Iterable[str],
) -> tuple[tuple[dns.name.Name, ...], list[BadName]]:
    """Return the texts that are DNS names, parsed, and the others with why."""
    parsed, bad = [], []
    for text in names:
        problem = name_problem(text)
        if problem is None:
            parsed.append(dns.name.from_text(text.strip()))
        else:
            bad.append(BadName(text, problem))
    return tuple(parsed), bad


def _bad_names_error(bad: Sequence[BadName]) -> ConfigError:
    if len(bad) == 1:
        return ConfigError(f"{bad[0]}; give a name such as www.example.com.")
    listed = "; ".join(str(name) for name in bad)
    return ConfigError(f"{listed}; give names such as www.example.com.")


def name_problem(text: str) -> str | None:
    """Say why ``text`` is not a DNS name to look up, as a predicate; else None.

    A text written as an IP address, valid or not, is no name: a host name
    never has that form (RFC 1123 section 2.1). Labels are at most 63 octets
    and names at most 255 (RFC 1035 section 2.3.4).
    """
    text = text.strip()
    if not text:
        return "is empty"
    if written_as_address(text.rstrip(".")):
        return "is written as an IP address, not a DNS name"
    try:
        dns.name.from_text(text)
    except dns.name.EmptyLabel:
        return "has an empty label (two dots in a row, or a dot at the start)"
    except dns.name.LabelTooLong:
        return "has a label (the text between two dots) longer than 63 characters"
    except dns.name.NameTooLong:
        return "is longer than a DNS name may be (255 octets)"
    except dns.exception.DNSException as exc:
        return f"is not a DNS name ({str(exc).rstrip('.')})"
    return None


def system_resolvers() -> tuple[ResolverAddress, ...]:
    """Read the OS's resolver list (on Unix, /etc/resolv.conf); sends nothing.

    Raises:
        ResolversUnavailable: When the OS names no plain DNS resolver.
    """
    try:
        stub = dns.resolver.Resolver(configure=True)
    except dns.exception.DNSException as exc:
        raise ResolversUnavailable(
            f"Cannot read the system resolvers: {str(exc).rstrip('.')}. Name them "
            "with --internal ADDR."
        ) from exc
    found = []
    for entry in stub.nameservers:
        if isinstance(entry, str):
            found.append(ResolverAddress(entry, stub.port))
        elif isinstance(entry, dns.nameserver.Do53Nameserver):
            found.append(ResolverAddress(entry.address, entry.port))
    if not found:
        raise ResolversUnavailable(
            "The system names no plain DNS resolver; name one with --internal ADDR."
        )
    return tuple(found)


def expand_system(
    addresses: Sequence[ResolverAddress],
    read: Callable[[], tuple[ResolverAddress, ...]] | None = None,
) -> tuple[ResolverAddress, ...]:
    """Replace each ``system`` placeholder by the OS resolvers, keeping order.

    Args:
        addresses: Resolvers as the site or command line names them.
        read: Returns the OS resolvers; :func:`system_resolvers` by default.
    """
    reader = read or system_resolvers
    expanded: list[ResolverAddress] = []
    for address in addresses:
        for found in reader() if address.is_system else (address,):
            if found not in expanded:
                expanded.append(found)
    return tuple(expanded)


def make_canary(name: dns.name.Name) -> dns.name.Name:
    """Return a random name beside ``name`` that cannot exist (hijack check).

    The label sits under the queried name's parent domain so that it follows
    the same path through resolvers and forwarders as the real name.
    """
    parent = name.parent() if len(name) > 2 else dns.name.from_text("invalid.")
    return dns.name.Name((f"nc-{secrets.token_hex(6)}".encode(),)).concatenate(parent)


async def compare_dns(
    names: Sequence[str],
    internal: Sequence[ResolverAddress],
    external: Sequence[ResolverAddress] = (),
    *,
    rdtypes: Sequence[str] = RECORD_TYPES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    on_progress: ProgressCallback | None = None,
) -> ProbeResult:
    """Ask every resolver for every name and type at once, then compare.

    Args:
        names: The names to look up.
        internal: The site's own resolvers; ``system`` means the OS list.
        external: Public resolvers to compare with.
        rdtypes: Record types, ``A`` and/or ``AAAA``.
        timeout_s: Hard bound on each lookup, CNAME follow-ups included.
        on_progress: Called as each lookup gets its outcome.

    Raises:
        ConfigError: For a bad record type or timeout, no resolver, or when
            no name is a DNS name. A bad name among good ones is not looked
            up and is stated as ``dns.bad_name`` instead.
        ResolversUnavailable: When ``system`` is asked and the OS names none.
    """
    types = _check_inputs(names, rdtypes, timeout_s)
    qnames, bad = split_names(names)
    if not qnames:
        raise _bad_names_error(bad)
    resolvers = _resolvers(internal, external)
    canary = make_canary(qnames[0])
    started, clock = datetime.now(UTC), time.monotonic()

    pairs = [(q, t) for q in qnames for t in types]
    progress = _Progress(len(resolvers) * (len(pairs) + 1), on_progress)
    lookups, canaries = await _run_all(
        resolvers, pairs, (canary, types[0]), timeout_s, progress
    )

    findings = bad_name_findings(bad, len(qnames))
    findings += build_findings(lookups, canaries, timeout_s)
    duration_s = time.monotonic() - clock
    logger.info(
        "dns probe: %d names x %s over %d resolvers in %.3f s: %s",
        len(qnames),
        "/".join(types),
        len(resolvers),
        duration_s,
        ", ".join(f.code for f in findings) or "no findings",
    )
    params = {
        "names": [name_text(q) for q in qnames],
        "bad_names": [name.to_json() for name in bad],
        "types": list(types),
        "internal": [r.label for r in resolvers if r.role == "internal"],
        "external": [r.label for r in resolvers if r.role == "external"],
        "timeout_s": timeout_s,
        "canary": name_text(canary),
    }
    measurements = {
        "lookups": [lookup.to_json() for lookup in lookups],
        "canaries": [lookup.to_json() for lookup in canaries],
    }
    return ProbeResult("dns", started, duration_s, params, measurements, findings)


def _check_inputs(
    names: Sequence[str], rdtypes: Sequence[str], timeout_s: float
) -> tuple[str, ...]:
    if not names:
        raise ConfigError("No name to look up; give at least one, such as example.com.")
    types = tuple(dict.fromkeys(t.upper() for t in rdtypes))
    unknown = [t for t in types if t not in RECORD_TYPES]
    if unknown or not types:
        raise ConfigError(f"Record type {unknown!r} is not supported; use A or AAAA.")
    check_seconds(timeout_s, "The timeout", MAX_TIMEOUT_S)
    return types


def _resolvers(
    internal: Sequence[ResolverAddress], external: Sequence[ResolverAddress]
) -> list[Resolver]:
    chosen = [Resolver(a, "internal") for a in expand_system(internal)]
    chosen += [Resolver(a, "external") for a in expand_system(external)]
    if not chosen:
        raise ConfigError("No resolver to ask; name one with --internal or --external.")
    return chosen


async def _run_all(
    resolvers: list[Resolver],
    pairs: list[tuple[dns.name.Name, str]],
    canary: tuple[dns.name.Name, str],
    timeout_s: float,
    progress: _Progress,
) -> tuple[list[Lookup], list[Lookup]]:
    """Run every lookup and canary concurrently; a cancel stops them all."""

    async def reported(lookup: Coroutine[Any, Any, Lookup], canary: bool) -> Lookup:
        done = await lookup
        progress.report(done, canary)
        return done

    async with asyncio.TaskGroup() as group:
        lookups = [
            group.create_task(reported(lookup_one(r, q, t, timeout_s), False))
            for q, t in pairs
            for r in resolvers
        ]
        canaries = [
            group.create_task(reported(lookup_one(r, *canary, timeout_s), True))
            for r in resolvers
        ]
    return [task.result() for task in lookups], [task.result() for task in canaries]
