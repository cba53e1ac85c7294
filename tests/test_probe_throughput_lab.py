"""Throughput probe over veth links shaped with tbf, in network namespaces (root).

The servers run in the lab's network namespace and the probe runs as the CLI
in its client namespace, bound to an uplink's source address. The rate asserted
is the measured quantity, with a wide tolerance: tbf at 8 Mbit/s gives about
7.7 Mbit/s of TCP payload.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from netns import TwoUplinkLab, netns_unavailable_reason, run, two_uplink_lab

pytestmark = pytest.mark.skipif(
    netns_unavailable_reason() is not None,
    reason=f"namespace lab: {netns_unavailable_reason()}",
)

SERVERS = Path(__file__).with_name("servers_throughput.py")
SHAPED_RATE = "8mbit"
NEAR_8_MBPS = (5.5, 9.0)


@pytest.fixture
def lab() -> Iterator[TwoUplinkLab]:
    with two_uplink_lab() as made:
        yield made


@contextmanager
def lab_server(lab: TwoUplinkLab, kind: str, *options: str) -> Iterator[int]:
    """Serve HTTP or FTP on the lab's target address; yield the port."""
    command = [sys.executable, str(SERVERS), kind, "--host", lab.address("target")]
    process = subprocess.Popen(
        lab.in_net(*command, *options),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        ready = process.stdout.readline()
        assert ready.startswith("ready "), f"server did not start: {ready!r}"
        yield int(ready.split()[1])
    finally:
        process.stdin.close()
        process.wait(timeout=30)
        process.stdout.close()


def probe_command(lab: TwoUplinkLab, *args: str) -> list[str]:
    return lab.in_client(
        sys.executable, "-m", "netcase", "probe", "throughput", *args, "--json"
    )


def probe_json(lab: TwoUplinkLab, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        probe_command(lab, *args), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def test_http_rate_over_a_link_shaped_to_8_mbits(lab: TwoUplinkLab) -> None:
    lab.shape_rate(1, SHAPED_RATE)
    with lab_server(lab, "http") as port:
        url = f"http://{lab.address('target')}:{port}/bytes/10000000000"
        uplink = f"up1={lab.address('up1')}"

        document = probe_json(lab, url, "--uplink", uplink, "--seconds", "3")

    run_json = document["measurements"]["runs"][0]
    assert run_json["source"] == lab.address("up1")
    assert NEAR_8_MBPS[0] <= run_json["mbps"] <= NEAR_8_MBPS[1]


def test_ftp_rate_over_a_link_shaped_to_8_mbits(lab: TwoUplinkLab) -> None:
    lab.shape_rate(1, SHAPED_RATE)
    with lab_server(lab, "ftp", "--size-mb", "20") as port:
        url = f"ftp://{lab.address('target')}:{port}/payload.bin"
        uplink = f"up1={lab.address('up1')}"

        document = probe_json(lab, url, "--uplink", uplink, "--seconds", "3")

    run_json = document["measurements"]["runs"][0]
    assert run_json["backend"] == "ftp"
    assert NEAR_8_MBPS[0] <= run_json["mbps"] <= NEAR_8_MBPS[1]


def test_no_route_exits_3_naming_the_target(lab: TwoUplinkLab) -> None:
    url = f"http://{lab.address('target')}:8080/bytes/1000"

    done = subprocess.run(
        probe_command(lab, url), capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 3
    assert done.stdout == ""
    assert f"No route to {lab.address('target')}:8080" in done.stderr


def test_cli_retest_sees_the_recovery_once_shaping_is_lifted(
    lab: TwoUplinkLab,
) -> None:
    lab.shape_rate(1, "2mbit")
    with lab_server(lab, "http") as port:
        url = f"http://{lab.address('target')}:{port}/bytes/10000000000"
        uplink = f"up1={lab.address('up1')}"
        process = subprocess.Popen(
            probe_command(lab, url, "--uplink", uplink, "--seconds", "2", "--retest"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdin is not None and process.stderr is not None
        prompt = process.stderr.readline()
        assert "press Enter" in prompt

        run(*lab.in_net("tc", "qdisc", "del", "dev", "n1", "root"))
        process.stdin.write("\n")
        process.stdin.flush()
        out, err = process.communicate(timeout=120)

    assert process.returncode == 0, err
    document = json.loads(out)
    codes = {finding["code"] for finding in document["findings"]}
    assert "throughput.recovered_after_reconnect" in codes
    assert "throughput.low" in codes
