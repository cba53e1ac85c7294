"""The latency probe's target: an address, a host name or an https:// URL.

icmplib would resolve a host name with the system resolver; the probe
resolves it here, through the site's resolvers, and hands icmplib an address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver

from netcase.errors import ConfigError, NetcaseError
from netcase.site import ResolverAddress

log = logging.getLogger(__name__)

_IPV4_FORM = re.compile(r"[0-9.]+")
_IPV6_FORM = re.compile(r"[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(%\S+)?")


class TargetError(NetcaseError):
    """The target cannot be turned into an address to probe."""

    title = "Bad latency target"


@dataclass(frozen=True)
class Target:
    """Where the probe sends its pings.

    Attributes:
        text: The target as given.
        host: The host name, or the address when none was given.
        address: The IP address probed.
        https_port: The port of an ``https://`` target, else None.
    """

    text: str
    host: str
    address: str
    https_port: int | None = None

    @property
    def label(self) -> str:
        """``host (address)``, or the address alone."""
        return (
            self.address
            if self.host == self.address
            else f"{self.host} ({self.address})"
        )


def split_target(text: str) -> tuple[str, int | None]:
    """Return the host of ``text`` and, for an ``https://`` URL, its port.

    Raises:
        TargetError: When the text is empty or a URL without a host.
        ConfigError: When the host is written as an IP address but is not one.
    """
    text = text.strip()
    if "://" not in text:
        host = text[1:-1] if text.startswith("[") and text.endswith("]") else text
        if not host:
            raise TargetError("The latency target is empty; give an address or a name.")
        _check_address_form(host)
        return host, None
    host, port = _split_url(text)
    _check_address_form(host)
    return host, port


def _split_url(text: str) -> tuple[str, int | None]:
    url = urlsplit(text)
    try:
        port = url.port
    except ValueError as exc:
        raise TargetError(f"The target URL {text!r} has a bad port.") from exc
    if not url.hostname:
        raise TargetError(f"The target URL {text!r} has no host name.")
    if url.scheme == "https":
        return url.hostname, port or 443
    return url.hostname, None


def written_as_address(text: str) -> bool:
    """True when ``text`` has the form of an IP address, valid or not.

    A host name is never all digits and dots, nor holds a colon (RFC 1123
    section 2.1), so such a text is an address, perhaps mistyped, and never a
    name to look up.
    """
    return bool(_IPV4_FORM.fullmatch(text) or _IPV6_FORM.fullmatch(text))


def address_form_problem(text: str) -> str | None:
    """Return why ``text``, written as an IP address, is not one; else None."""
    if not written_as_address(text):
        return None
    kind = ipaddress.IPv6Address if ":" in text else ipaddress.IPv4Address
    try:
        kind(text)
    except ValueError as exc:
        return str(exc)
    return None


def _check_address_form(host: str) -> None:
    problem = address_form_problem(host)
    if problem:
        raise ConfigError(
            f"The target {host!r} is not an IP address ({problem}); "
            "give a valid address, or a host name to resolve."
        )


async def resolve_target(
    text: str, resolvers: tuple[ResolverAddress, ...], timeout_s: float
) -> Target:
    """Return the target with its address, resolving a name if needed.

    A name is asked for A, then AAAA, of the given resolvers (the OS's list
    when every entry is ``system``), each query bounded by ``timeout_s``.

    Raises:
        TargetError: When the name has no address or no resolver answers.
        ConfigError: When the target is written as an IP address but is not
            one; it is never sent to a resolver.
    """
    host, https_port = split_target(text)
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        address = await _resolve(host, resolvers, timeout_s)
    return Target(text, host, address, https_port)


def _resolver(resolvers: tuple[ResolverAddress, ...]) -> dns.asyncresolver.Resolver:
    explicit = [r for r in resolvers if not r.is_system]
    if not explicit:
        return dns.asyncresolver.Resolver()
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [
        dns.nameserver.Do53Nameserver(r.host, port=r.port) for r in explicit
    ]
    return resolver


async def _resolve(
    host: str, resolvers: tuple[ResolverAddress, ...], timeout_s: float
) -> str:
    resolver = _resolver(resolvers)
    resolver.lifetime = timeout_s
    asked = ", ".join(str(r) for r in resolvers) or "system"
    for rdtype in ("A", "AAAA"):
        try:
            # dnspython may overshoot its lifetime by a retry; wait_for is the bound.
            answer = await asyncio.wait_for(resolver.resolve(host, rdtype), timeout_s)
        except dns.resolver.NoAnswer:
            continue
        except dns.resolver.NXDOMAIN as exc:
            raise TargetError(
                f"The name {host!r} does not exist (NXDOMAIN from {asked}); "
                "check the spelling or give an address."
            ) from exc
        except (TimeoutError, dns.exception.Timeout) as exc:
            raise TargetError(
                f"No resolver answered for {host!r} within {timeout_s:g} s ({asked}); "
                "give an address or check the site's resolvers."
            ) from exc
        except dns.resolver.NoNameservers as exc:
            raise TargetError(
                f"Every resolver failed to answer for {host!r} ({asked}); "
                "give an address or check the site's resolvers."
            ) from exc
        address = str(answer[0].address)
        log.debug("%s %s -> %s via %s", host, rdtype, address, asked)
        return address
    raise TargetError(
        f"The name {host!r} has no A or AAAA record ({asked}); give an address."
    )
