"""Network namespaces for tests: a client with two uplinks to a small network.

Everything lives in namespaces this module creates and deletes; nothing in
the host's own namespace changes. Needs root, ``ip`` (iproute2), ``tc`` and,
for loss, ``nft`` (nftables).

Topology (``prefix`` keeps parallel labs apart)::

    client ns                         net ns
    up1  10.X.1.2/24  <--veth-->  10.X.1.1/24
    up2  10.X.2.2/24  <--veth-->  10.X.2.1/24
                                   lo: 10.X.9.9/32 (the target)

Policy routing in the client sends traffic from 10.X.1.2 out of up1 and from
10.X.2.2 out of up2, as a multi-WAN router does per source address.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

_counter = itertools.count(1)


def netns_unavailable_reason() -> str | None:
    """Say why namespaces cannot be used here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in ("ip", "tc", "nft"):
        if shutil.which(tool) is None:
            return f"needs the {tool!r} command (iproute2 / nftables)"
    return None


def run(*command: str) -> str:
    """Run a command, failing loudly with its stderr."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done.stdout


@dataclass
class TwoUplinkLab:
    """Addresses and helpers of one lab."""

    client: str
    net: str
    octet: int

    def address(self, host: str) -> str:
        """Return a lab address: ``up1``, ``up2``, ``gw1``, ``gw2`` or ``target``."""
        last = {"up1": "1.2", "up2": "2.2", "gw1": "1.1", "gw2": "2.1", "target": "9.9"}
        return f"10.{self.octet}.{last[host]}"

    @property
    def cidr(self) -> str:
        """The lab's whole range, for the test guard's allow-list."""
        return f"10.{self.octet}.0.0/16"

    def in_client(self, *command: str) -> list[str]:
        """Return ``command`` wrapped to run inside the client namespace."""
        return ["ip", "netns", "exec", self.client, *command]

    def in_net(self, *command: str) -> list[str]:
        """Return ``command`` wrapped to run inside the network namespace."""
        return ["ip", "netns", "exec", self.net, *command]

    def drop_percent(self, uplink: int, percent: int) -> None:
        """Drop ``percent`` of packets arriving in the network from uplink 1 or 2."""
        device = f"n{uplink}"
        chain = f"drop{uplink}"
        run(*self.in_net("nft", "add", "table", "inet", "lab"))
        run(*self.in_net("nft", "add", "chain", "inet", "lab", chain,
                         "{ type filter hook prerouting priority 0 ; }"))  # fmt: skip
        # nft refuses "mod 100 < 100" (the value must be 0-99): drop all outright.
        chance = (
            ["numgen", "random", "mod", "100", "<", str(percent)]
            if percent < 100
            else []
        )
        run(*self.in_net("nft", "add", "rule", "inet", "lab", chain, "iifname", device,
                         *chance, "drop"))  # fmt: skip

    def shape_rate(self, uplink: int, rate: str, side: str = "net") -> None:
        """Limit the rate leaving the network (towards the client) on one uplink."""
        namespace, device = (
            (self.net, f"n{uplink}") if side == "net" else (self.client, f"up{uplink}")
        )
        run(
            "ip", "netns", "exec", namespace, "tc", "qdisc", "add", "dev", device, "root",
            "tbf", "rate", rate, "burst", "32kbit", "latency", "50ms",
        )  # fmt: skip


@contextmanager
def two_uplink_lab(octet: int | None = None) -> Iterator[TwoUplinkLab]:
    """Create the lab, yield it, and delete both namespaces afterwards."""
    tag = f"{os.getpid() % 10000}x{next(_counter)}"
    octet = octet if octet is not None else 100 + (os.getpid() + next(_counter)) % 100
    lab = TwoUplinkLab(client=f"nccl{tag}", net=f"ncnet{tag}", octet=octet)
    run("ip", "netns", "add", lab.client)
    run("ip", "netns", "add", lab.net)
    try:
        _wire(lab)
        yield lab
    finally:
        for namespace in (lab.client, lab.net):
            subprocess.run(["ip", "netns", "delete", namespace], check=False)


def _wire(lab: TwoUplinkLab) -> None:
    for namespace in (lab.client, lab.net):
        run("ip", "-n", namespace, "link", "set", "lo", "up")
    run("ip", "-n", lab.net, "addr", "add", f"{lab.address('target')}/32", "dev", "lo")
    for uplink in (1, 2):
        _veth(lab, uplink)
    run("ip", "netns", "exec", lab.net, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    run(
        "ip",
        "netns",
        "exec",
        lab.client,
        "sysctl",
        "-qw",
        "net.ipv4.ping_group_range=0 2147483647",
    )


def _veth(lab: TwoUplinkLab, uplink: int) -> None:
    client_dev, net_dev = f"up{uplink}", f"n{uplink}"
    run("ip", "link", "add", client_dev, "netns", lab.client, "type", "veth",
        "peer", "name", net_dev, "netns", lab.net)  # fmt: skip
    client_addr, gateway = lab.address(f"up{uplink}"), lab.address(f"gw{uplink}")
    run("ip", "-n", lab.client, "addr", "add", f"{client_addr}/24", "dev", client_dev)
    run("ip", "-n", lab.net, "addr", "add", f"{gateway}/24", "dev", net_dev)
    for namespace, device in ((lab.client, client_dev), (lab.net, net_dev)):
        run("ip", "-n", namespace, "link", "set", device, "up")
    table = str(100 + uplink)
    run(
        "ip",
        "-n",
        lab.client,
        "route",
        "add",
        "default",
        "via",
        gateway,
        "table",
        table,
    )
    run("ip", "-n", lab.client, "rule", "add", "from", client_addr, "table", table)


def lab_commands(lab: TwoUplinkLab, command: Sequence[str]) -> list[str]:
    """Return ``command`` run inside the lab's client namespace."""
    return lab.in_client(*command)
