"""What the DNS comparison's answers mean: agreement, views, failures, hijack.

Two answers agree when they hold the same addresses or addresses in the same
networks (a /24 for IPv4, a /48 for IPv6), because load balancers and CDNs
rotate addresses inside one network. The internal view differs from the
external one (``dns.split_horizon``) when it gives private addresses, names
that exist only inside, or public addresses no external resolver gives;
public answers that differ between any two resolvers are ``dns.mismatch``,
naming which resolver gave which addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netcase.probes.dnscompare_query import rcode_error
from netcase.probes.findings import Finding, Severity
from netcase.wording import counted

if TYPE_CHECKING:
    from netcase.probes.dnscompare import Lookup, Resolver

ANSWERED = ("answer", "nodata", "nxdomain")
"""Statuses that are answers: NXDOMAIN says something about the name (RFC 8020)."""
FAILED = ("refused", "rcode", "error")
SAME_NETWORK_PREFIX = {4: 24, 6: 48}
"""Prefix lengths inside which two addresses count as the same network."""
INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "10.0.0.0/8",  # RFC 1918 private
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",  # RFC 6598 carrier-grade NAT
        "127.0.0.0/8",  # RFC 1122 loopback
        "169.254.0.0/16",  # RFC 3927 link-local
        "0.0.0.0/8",  # RFC 1122 "this network"
        "::1/128",
        "::/128",
        "fc00::/7",  # RFC 4193 unique local
        "fe80::/10",  # RFC 4291 link-local
    )
)
"""Addresses only a site's own network can use. Documentation ranges (RFC
5737, RFC 3849) are deliberately absent: examples and tests use them as
stand-ins for public addresses."""


@dataclass(frozen=True)
class BadName:
    """A text given as a name to compare that is not a DNS name.

    Attributes:
        text: The text as given.
        problem: Why it is no name, as a predicate ("is empty").
    """

    text: str
    problem: str

    def __str__(self) -> str:
        return f"{self.text!r} {self.problem}"

    def to_json(self) -> dict[str, str]:
        """Return the name and its problem as plain JSON values."""
        return {"name": self.text, "problem": self.problem}


def bad_name_findings(bad: list[BadName], asked: int) -> list[Finding]:
    """State each text that was not looked up because it is not a DNS name.

    Args:
        bad: The texts that are no names.
        asked: How many names were looked up all the same.
    """
    others = "the other name was" if asked == 1 else f"the other {asked} names were"
    return [
        Finding(
            "dns.bad_name",
            Severity.WARNING,
            f"{name.text!r} was not looked up: it {name.problem}; {others}.",
            name.to_json(),
        )
        for name in bad
    ]


def is_internal_address(text: str) -> bool:
    """True for an address that only makes sense inside a site."""
    address = ipaddress.ip_address(text)
    return any(address in network for network in INTERNAL_NETWORKS)


def network_of(text: str) -> str:
    """Return the network an address is compared by (``203.0.113.0/24``)."""
    address = ipaddress.ip_address(text)
    prefix = SAME_NETWORK_PREFIX[address.version]
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def build_findings(
    lookups: list[Lookup], canaries: list[Lookup], timeout_s: float
) -> list[Finding]:
    """Return the findings for the lookups and the hijack canaries."""
    findings: list[Finding] = []
    for group in _by_name_and_type(lookups):
        findings += _agreement(group)
    findings += _nxdomain(lookups)
    findings += _servfail(lookups)
    findings += _failures(lookups)
    findings += _timeouts(lookups, timeout_s)
    findings += _hijack(canaries)
    return findings


def _by_name_and_type(lookups: list[Lookup]) -> Iterator[list[Lookup]]:
    groups: dict[tuple[str, str], list[Lookup]] = {}
    for lookup in lookups:
        groups.setdefault((lookup.name, lookup.rdtype), []).append(lookup)
    yield from groups.values()


def _by_resolver(lookups: Iterable[Lookup]) -> dict[Resolver, list[Lookup]]:
    groups: dict[Resolver, list[Lookup]] = {}
    for lookup in lookups:
        groups.setdefault(lookup.resolver, []).append(lookup)
    return groups


def _who(resolvers: Iterable[Resolver]) -> str:
    return ", ".join(f"{r.label} ({r.role})" for r in resolvers)


def _shown(addresses: Iterable[str]) -> str:
    return ", ".join(sorted(addresses)) or "no address"


def _view(lookups: list[Lookup]) -> list[dict[str, Any]]:
    return [
        {
            "resolver": lookup.resolver.label,
            "status": lookup.status,
            "addresses": sorted(lookup.addresses),
        }
        for lookup in lookups
    ]


def _public(lookup: Lookup) -> frozenset[str]:
    return frozenset(a for a in lookup.addresses if not is_internal_address(a))


def _networks(addresses: Iterable[str]) -> frozenset[str]:
    return frozenset(network_of(a) for a in addresses)


def _agreement(group: list[Lookup]) -> list[Finding]:
    """Compare the answers to one name and type across resolvers."""
    answered = [lookup for lookup in group if lookup.status in ANSWERED]
    keys = {
        "NXDOMAIN" if lookup.status == "nxdomain" else _networks(lookup.addresses)
        for lookup in answered
    }
    if len(answered) >= 2 and len(keys) == 1:
        # Agreeing that a name has no record of one type says nothing about
        # the answers that matter (the A records of a v4-only site, say).
        empty = keys == {frozenset()}
        return [] if empty else [_consistent(answered)]
    return _split_horizon(answered) + _mismatch(answered)


def _consistent(answered: list[Lookup]) -> Finding:
    first = answered[0]
    addresses = sorted({a for lookup in answered for a in lookup.addresses})
    if first.status == "nxdomain":
        said = "say it does not exist"
    else:
        said = f"answer {', '.join(addresses)}"
    return Finding(
        "dns.consistent",
        Severity.INFO,
        f"{len(answered)} resolvers agree on {first.name} {first.rdtype}: they {said}.",
        {
            "name": first.name,
            "type": first.rdtype,
            "status": first.status,
            "resolvers": [lookup.resolver.label for lookup in answered],
            "addresses": addresses,
            "networks": sorted(_networks(addresses)),
        },
    )


def _split_horizon(answered: list[Lookup]) -> list[Finding]:
    """The internal view differs: private addresses, inside-only names, other IPs."""
    inside = [lookup for lookup in answered if lookup.resolver.role == "internal"]
    outside = [lookup for lookup in answered if lookup.resolver.role == "external"]
    if not inside or not outside:
        return []
    outside_addresses = {a for lookup in outside for a in lookup.addresses}
    outside_keys = {_networks(_public(lookup)) for lookup in outside}
    private = {a for lookup in inside for a in lookup.addresses}
    private = {a for a in private if is_internal_address(a)} - outside_addresses
    other_public = {
        a
        for lookup in inside
        if _public(lookup) and _networks(_public(lookup)) not in outside_keys
        for a in _public(lookup)
    }
    inside_only = not outside_addresses and any(lookup.addresses for lookup in inside)
    if not (private or other_public or inside_only):
        return []
    first = inside[0]
    why = [f"private {_shown(private)}"] if private else []
    why += [f"public {_shown(other_public)} unlike outside"] if other_public else []
    why += ["a name unknown outside"] if inside_only else []
    return [
        Finding(
            "dns.split_horizon",
            Severity.INFO,
            f"The internal view of {first.name} {first.rdtype} differs: "
            f"{'; '.join(why)} (inside {_shown(a for i in inside for a in i.addresses)},"
            f" outside {_shown(outside_addresses)}).",
            {
                "name": first.name,
                "type": first.rdtype,
                "internal": _view(inside),
                "external": _view(outside),
                "private_addresses": sorted(private),
                "internal_public_addresses": sorted(other_public),
                "internal_only": inside_only,
            },
        )
    ]


def _mismatch(answered: list[Lookup]) -> list[Finding]:
    """Public answers in different networks, grouped by what each resolver said."""
    groups: dict[frozenset[str], list[Lookup]] = {}
    for lookup in answered:
        if _public(lookup):
            groups.setdefault(_networks(_public(lookup)), []).append(lookup)
    if len(groups) < 2:
        return []
    first = answered[0]
    described, said = [], []
    for members in groups.values():
        addresses = {a for lookup in members for a in _public(lookup)}
        described.append(
            {
                "addresses": sorted(addresses),
                "networks": sorted(_networks(addresses)),
                "resolvers": [
                    {"resolver": m.resolver.label, "role": m.resolver.role}
                    for m in members
                ],
            }
        )
        said.append(f"{_shown(addresses)} from {_who(m.resolver for m in members)}")
    return [
        Finding(
            "dns.mismatch",
            Severity.WARNING,
            f"Public answers for {first.name} {first.rdtype} differ: {'; '.join(said)}. "
            "A CDN may explain it.",
            {"name": first.name, "type": first.rdtype, "groups": described},
        )
    ]


def _nxdomain(lookups: list[Lookup]) -> list[Finding]:
    """One finding per name some resolver says does not exist (RFC 8020)."""
    findings = []
    for name, group in _by_name(lookups).items():
        saying = _unique(
            lookup.resolver for lookup in group if lookup.status == "nxdomain"
        )
        if not saying:
            continue
        others = {a for lookup in group for a in lookup.addresses}
        answering = _unique(lookup.resolver for lookup in group if lookup.addresses)
        tail = ""
        if answering:
            answer = _verb(answering, "answers", "answer")
            tail = f"; {_who(answering)} {answer} {_shown(others)}"
        say = _verb(saying, "says", "say")
        findings.append(
            Finding(
                "dns.nxdomain",
                Severity.WARNING if answering else Severity.INFO,
                f"{_who(saying)} {say} {name} does not exist (NXDOMAIN){tail}.",
                {
                    "name": name,
                    "resolvers": [r.label for r in saying],
                    "answering": [r.label for r in answering],
                    "addresses": sorted(others),
                },
            )
        )
    return findings


def _servfail(lookups: list[Lookup]) -> list[Finding]:
    """One finding per name some resolver failed on with SERVFAIL."""
    findings = []
    for name, group in _by_name(lookups).items():
        failing = _unique(
            lookup.resolver for lookup in group if lookup.status == "servfail"
        )
        if failing:
            answer = _verb(failing, "answers", "answer")
            they = _verb(failing, "it", "they")
            findings.append(
                Finding(
                    "dns.servfail",
                    Severity.ERROR,
                    f"{_who(failing)} {answer} SERVFAIL for {name}: {they} "
                    f"{rcode_error('SERVFAIL').removeprefix('it ')}",
                    {"name": name, "resolvers": [r.label for r in failing]},
                )
            )
    return findings


def _failures(lookups: list[Lookup]) -> list[Finding]:
    """One finding per resolver that refused or gave an unusable answer."""
    failed = _by_resolver(lookup for lookup in lookups if lookup.status in FAILED)
    return [
        Finding(
            "dns.error",
            Severity.ERROR,
            f"{_who([resolver])} gave no usable answer to {_lookups(len(group))}: "
            f"{group[0].error}",
            {
                "resolver": resolver.label,
                "role": resolver.role,
                "failures": [
                    {
                        "name": f.name,
                        "type": f.rdtype,
                        "rcode": f.rcode,
                        "error": f.error,
                    }
                    for f in group
                ],
            },
        )
        for resolver, group in failed.items()
    ]


def _timeouts(lookups: list[Lookup], timeout_s: float) -> list[Finding]:
    """One finding per resolver that left lookups unanswered."""
    silent = _by_resolver(lookup for lookup in lookups if lookup.status == "timeout")
    total = len({(lookup.name, lookup.rdtype) for lookup in lookups})
    return [
        Finding(
            "dns.timeout",
            Severity.ERROR,
            f"{_who([resolver])} did not answer {len(group)} of {total} lookups "
            f"within {timeout_s:g} s.",
            {
                "resolver": resolver.label,
                "role": resolver.role,
                "timeout_s": timeout_s,
                "lookups": [{"name": t.name, "type": t.rdtype} for t in group],
            },
        )
        for resolver, group in silent.items()
    ]


def _hijack(canaries: list[Lookup]) -> list[Finding]:
    """A resolver gives an address for the random name: it rewrites NXDOMAIN.

    When every resolver that answered gives one, a wildcard record in the
    zone explains it as well, so the finding is only informative then.
    """
    answered = [c for c in canaries if c.status in ANSWERED]
    lying = [c for c in answered if c.addresses]
    everyone = len(lying) >= 2 and len(lying) == len(answered)
    denying = [c.resolver.label for c in answered if c.status == "nxdomain"]
    tail = (
        " Every resolver does, so a wildcard record in the zone may explain it."
        if everyone
        else ""
    )
    return [
        Finding(
            "dns.hijack_suspected",
            Severity.INFO if everyone else Severity.WARNING,
            f"{_who([c.resolver])} gives {_shown(c.addresses)} for {c.name}, a random "
            f"name that should not exist: it may rewrite NXDOMAIN answers.{tail}",
            {
                "resolver": c.resolver.label,
                "role": c.resolver.role,
                "name": c.name,
                "addresses": sorted(c.addresses),
                "nxdomain_from": denying,
                "wildcard_possible": everyone,
            },
        )
        for c in lying
    ]


def _verb(resolvers: list[Resolver], one: str, several: str) -> str:
    """Return the word that agrees with the number of resolvers named."""
    return one if len(resolvers) == 1 else several


def _lookups(count: int) -> str:
    return counted(count, "lookup")


def _by_name(lookups: list[Lookup]) -> dict[str, list[Lookup]]:
    groups: dict[str, list[Lookup]] = {}
    for lookup in lookups:
        groups.setdefault(lookup.name, []).append(lookup)
    return groups


def _unique(resolvers: Iterable[Resolver]) -> list[Resolver]:
    return list(dict.fromkeys(resolvers))
