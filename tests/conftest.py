"""Shared fixtures, and the guard that keeps every test's traffic on this machine.

Tests may reach loopback (127.0.0.0/8, ::1) and networks inside namespaces the
test created (registered with ``allow_network``). Anything else fails the test
at the socket call, before a packet leaves, so that a mistake is loud.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
_allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = list(LOOPBACK)
_real_getaddrinfo = socket.getaddrinfo


class ForbiddenDestination(AssertionError):
    """A test tried to send traffic off this machine."""


def check_host(host: Any) -> None:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str) or host == "":
        return
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError as exc:
        raise ForbiddenDestination(f"Tests may not resolve the name {host!r}.") from exc
    if not any(address in network for network in _allowed):
        raise ForbiddenDestination(f"Tests may not send traffic to {host!r}.")


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        check_host(address[0])


def _guard(method_name: str, address_index: int) -> Callable[..., Any]:
    original = getattr(socket.socket, method_name)

    def guarded(self: socket.socket, *args: Any) -> Any:
        if len(args) > address_index:
            _check_address(self, args[address_index])
        return original(self, *args)

    guarded.__name__ = method_name
    return guarded


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    check_host(host)
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guard("connect", 0)  # type: ignore[method-assign]
socket.socket.connect_ex = _guard("connect_ex", 0)  # type: ignore[method-assign]
socket.socket.sendto = _guard("sendto", -1)  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture
def allow_network() -> Iterator[Callable[[str], None]]:
    """Let a test reach a network it created inside its own namespaces."""
    added: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []

    def allow(cidr: str) -> None:
        network = ipaddress.ip_network(cidr, strict=False)
        if network.is_global:
            raise ForbiddenDestination(
                f"{cidr!r} is a public network, not a namespace."
            )
        added.append(network)
        _allowed.append(network)

    yield allow
    for network in added:
        _allowed.remove(network)


@pytest.fixture(autouse=True)
def netcase_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give every test its own data folder and no inherited case folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("NETCASE_HOME", str(home))
    monkeypatch.delenv("NETCASE_KB", raising=False)
    monkeypatch.delenv("NETCASE_DATABASE_URL", raising=False)
    monkeypatch.delenv("NETCASE_SITE", raising=False)
    return home


REPO_KB = Path(__file__).resolve().parent.parent / "kb"
