"""URLs that probes fetch: which forms they accept, and how they are shown."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

from netcase.errors import ConfigError

THROUGHPUT_SCHEMES = ("http", "https", "ftp")
_PASSWORD = re.compile(r"(//[^/@:]*:)[^/@]*@")


def url_problem(
    url: str, schemes: tuple[str, ...] = THROUGHPUT_SCHEMES, nor: str = ""
) -> str | None:
    """Return what stops ``url`` from being fetched and the fix; None when nothing.

    Only the form is checked: the scheme, a host, and a port from 1 to 65535
    (RFC 3986 section 3.2.3 allows port 0 in the syntax, but nothing can be
    fetched from it, and an empty port means the scheme's default).

    Args:
        url: The URL as given.
        schemes: The schemes the caller can fetch.
        nor: What else the caller accepts instead of a URL, for the message.
    """
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return _split_problem(str(exc))
    if parts.scheme not in schemes:
        listed = [f"{scheme}://" for scheme in schemes]
        named = " or ".join(
            [", ".join(listed[:-1]), listed[-1]] if listed[:-1] else listed
        )
        return f"it is not an {named} URL" + (f", nor {nor}" if nor else "")
    if not parts.hostname:
        return "it names no host; give one, as in http://10.0.0.5/file"
    authority = _authority_problem(parts)
    if authority is not None:
        return authority
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        return (
            f"its port {_port_text(parts)!r} is not a TCP port from 1 to 65535; "
            "give one, or none for the scheme's default"
        )
    return None


def check_url(url: str) -> SplitResult:
    """Return the parts of a URL the throughput probe can fetch.

    Raises:
        ConfigError: Naming the URL (password hidden) and what is wrong with it.
    """
    problem = url_problem(url, nor="'speedtest'")
    if problem is not None:
        raise ConfigError(
            f"The throughput target {redact(url)!r} cannot be used: {problem}."
        )
    return urlsplit(url)


def redact(url: str) -> str:
    """Return ``url`` with any password in it replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _PASSWORD.sub(r"\1***@", url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _authority_problem(parts: SplitResult) -> str | None:
    """Say what is wrong when more than one ``:`` follows the host.

    RFC 3986 section 3.2 allows one optional ``:port`` after the host, and
    an IPv6 address only between brackets (section 3.2.2), so a second colon
    means two ports or an unbracketed IPv6 address.
    """
    host_port = parts.netloc.rpartition("@")[2]
    if host_port.startswith("["):
        after_host = host_port.partition("]")[2]
    else:
        after_host = host_port[host_port.find(":") :] if ":" in host_port else ""
    if after_host.count(":") < 2:
        return None
    if all(piece.isdigit() for piece in after_host.split(":")[1:]):
        return (
            f"its host and port {host_port!r} give more than one port "
            f"({after_host!r}); give the host and at most one :port, as in "
            "http://10.0.0.5:8080/file"
        )
    return (
        f"its host and port {host_port!r} are malformed: more than one ':' follows "
        "the host, where only one :port may; an IPv6 address goes between '[' "
        "and ']', as in http://[::1]:8080/file"
    )


def _port_text(parts: SplitResult) -> str:
    """Return the port as written in the URL: the text after the host's last colon."""
    return parts.netloc.rpartition("@")[2].rpartition("]")[2].rpartition(":")[2]


def _split_problem(reason: str) -> str:
    if "IPv4 or IPv6" in reason:
        return "the host between '[' and ']' is not an IPv6 address"
    if "IPv6" in reason:
        return (
            "an IPv6 address in it must sit between '[' and ']', "
            "as in http://[::1]:8080/file"
        )
    return f"it cannot be read as a URL ({reason})"
