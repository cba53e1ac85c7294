"""The conftest guard refuses traffic that would leave this machine."""

from __future__ import annotations

import socket

import pytest

from conftest import ForbiddenDestination, check_host


def test_guard_refuses_udp_to_a_public_resolver() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(ForbiddenDestination):
            sock.sendto(b"x", ("192.0.2.53", 53))


def test_guard_refuses_tcp_connect_to_a_private_address() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(ForbiddenDestination):
            sock.connect(("10.1.2.3", 443))


def test_guard_refuses_resolving_a_hostname() -> None:
    with pytest.raises(ForbiddenDestination):
        socket.getaddrinfo("example.com", 443)


def test_guard_allows_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.sendto(b"ping", ("127.0.0.1", port))
        assert sock.recv(16) == b"ping"


def test_allow_network_opens_only_the_registered_range(allow_network) -> None:  # type: ignore[no-untyped-def]
    allow_network("10.77.0.0/24")
    check_host("10.77.0.2")
    with pytest.raises(ForbiddenDestination):
        check_host("10.78.0.2")


def test_allow_network_refuses_a_public_range(allow_network) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ForbiddenDestination):
        allow_network("9.9.0.0/16")
