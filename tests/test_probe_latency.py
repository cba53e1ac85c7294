"""The per-uplink latency probe, against loopback sources and a namespace lab."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from latency_servers import (
    closed_port,
    full_listener,
    listening_port,
    name_responder,
    openssl_unavailable_reason,
    self_signed_cert,
    source_tls_server,
    tls_server,
)
from netcase.cli import main
from netcase.errors import ConfigError
from netcase.probes.findings import Severity
from netcase.probes.handshake import HandshakeTiming
from netcase.probes.latency import (
    IcmpNotPermitted,
    LatencyParams,
    LatencyProgress,
    measure_latency,
)
from netcase.probes.latency_report import UplinkLatency, latency_findings
from netcase.probes.latency_series import Sample
from netcase.probes.latency_target import TargetError, split_target
from netcase.probes.result import ProbeResult
from netcase.site import ResolverAddress, Thresholds, Uplink
from netns import TwoUplinkLab, netns_unavailable_reason, run, two_uplink_lab

LOOPBACK_UPLINKS = (Uplink("a", source="127.0.0.2"), Uplink("b", source="127.0.0.3"))
NOT_ROOT = "raw ICMP sockets need root" if os.geteuid() != 0 else None
needs_root = pytest.mark.skipif(NOT_ROOT is not None, reason=NOT_ROOT or "")
NETNS_REASON = netns_unavailable_reason()
needs_netns = pytest.mark.skipif(NETNS_REASON is not None, reason=NETNS_REASON or "")


def _ping_group_range_open() -> bool:
    low, high = Path("/proc/sys/net/ipv4/ping_group_range").read_text().split()
    return int(low) <= os.getgid() <= int(high)


def by_name(result: ProbeResult) -> dict[str, dict[str, Any]]:
    return {uplink["name"]: uplink for uplink in result.measurements["uplinks"]}


def named(result: ProbeResult | dict[str, Any], code: str) -> list[str]:
    """Return the uplinks the findings with ``code`` name."""
    findings = (
        result["findings"] if isinstance(result, dict) else result.to_json()["findings"]
    )
    return [f["data"]["uplink"] for f in findings if f["code"] == code]


def measure(**changes: Any) -> ProbeResult:
    params = {"target": "127.0.0.1", "uplinks": LOOPBACK_UPLINKS, "count": 5}
    params.update(interval_s=0.01, timeout_s=1.0)
    params.update(changes)
    return asyncio.run(measure_latency(LatencyParams(**params)))


# Findings from measured samples (no network).


def outcome(
    name: str, rtts_ms: list[float | None], method: str = "icmp"
) -> UplinkLatency:
    samples = [
        Sample(seq, rtt, "timeout" if rtt is None else "reply")
        for seq, rtt in enumerate(rtts_ms)
    ]
    return UplinkLatency(
        Uplink(name, source=f"10.0.{len(name)}.2"), method, samples=samples
    )


def codes_by_uplink(findings: list[Any]) -> dict[str, list[str]]:
    named_codes: dict[str, list[str]] = {}
    for finding in findings:
        key = finding.data.get("uplink", "*")
        named_codes.setdefault(key, []).append(finding.code)
    return named_codes


def test_statistics_cover_the_answered_samples_only() -> None:
    measured = outcome("a", [10.0, 20.0, None, 30.0, 40.0])

    stats = measured.stats

    assert (measured.sent, measured.received, measured.loss_pct) == (5, 4, 20.0)
    assert stats is not None
    assert (stats.min_ms, stats.median_ms, stats.mean_ms, stats.max_ms) == (
        10,
        25,
        25,
        40,
    )
    assert stats.p95_ms == pytest.approx(38.5)
    assert stats.stdev_ms == pytest.approx(11.1803, abs=1e-4)


def test_loss_over_the_threshold_is_named_with_numbers() -> None:
    lossy = outcome("telecom", [310.0] * 41 + [None] * 9)
    clean = outcome("unicom", [30.0] * 50)

    findings = latency_findings([lossy, clean], Thresholds(), "10.9.9.9")

    loss = [f for f in findings if f.code == "uplink.loss"]
    assert [f.data["uplink"] for f in loss] == ["telecom"]
    assert loss[0].summary.startswith("telecom: 18% loss, median 310 ms")
    best = [f for f in findings if f.code == "uplink.best"]
    assert best[0].data == {
        "uplink": "unicom",
        "source": "10.0.6.2",
        "loss_pct": 0.0,
        "median_ms": 30.0,
    }


def test_slow_by_ratio_needs_the_margin_as_well() -> None:
    thresholds = Thresholds(rtt_ratio=2.0, rtt_margin_ms=10.0)
    jittery = [outcome("a", [0.05] * 10), outcome("b", [0.2] * 10)]
    far = [outcome("a", [20.0] * 10), outcome("b", [90.0] * 10)]

    assert "uplink.slow" not in codes_by_uplink(
        latency_findings(jittery, thresholds, "t")
    ).get("b", [])
    slow = codes_by_uplink(latency_findings(far, thresholds, "t"))
    assert slow["b"] == ["uplink.slow"]
    assert "uplink.slow" not in slow.get("a", [])


def test_slow_over_the_absolute_limit_even_alone() -> None:
    findings = latency_findings(
        [outcome("a", [250.0] * 5)], Thresholds(rtt_ms=200), "t"
    )

    slow = [f for f in findings if f.code == "uplink.slow"]
    assert slow[0].summary == "a: median 250 ms, over the 200 ms limit"


def test_no_reply_is_down_and_never_best() -> None:
    findings = latency_findings(
        [outcome("a", [None] * 5), outcome("b", [5.0] * 5)], Thresholds(), "t"
    )

    assert codes_by_uplink(findings)["a"] == ["uplink.down"]
    assert [f.data["uplink"] for f in findings if f.code == "uplink.best"] == ["b"]
    assert "uplink.all_degraded" not in {f.code for f in findings}


def test_every_uplink_degraded_is_all_degraded() -> None:
    findings = latency_findings(
        [outcome("a", [None] * 5), outcome("b", [5.0, None, None, 5.0])],
        Thresholds(),
        "t",
    )

    degraded = [f for f in findings if f.code == "uplink.all_degraded"]
    assert degraded[0].data == {"uplinks": ["a", "b"]}
    assert "a: 100% loss, no reply" in degraded[0].summary


def test_an_uplink_that_could_not_be_measured_is_left_out() -> None:
    broken = UplinkLatency(Uplink("x", source="192.0.2.1"), "icmp", error="no address")

    findings = latency_findings([broken, outcome("a", [5.0] * 3)], Thresholds(), "t")

    assert [f.code for f in findings] == ["uplink.best"]


def refused(name: str, replies: int, unsent: int) -> UplinkLatency:
    """An uplink whose first ``unsent`` pings the host refused to send."""
    samples = [
        Sample(seq, None, "send_failed", "Operation not permitted")
        for seq in range(unsent)
    ]
    samples += [Sample(unsent + seq, 5.0, "reply") for seq in range(replies)]
    return UplinkLatency(Uplink(name, source="10.0.1.2"), "icmp", samples=samples)


def test_a_ping_the_host_refused_to_send_counts_as_sent_and_lost() -> None:
    measured = refused("a", replies=6, unsent=4)

    assert (measured.sent, measured.received, measured.send_failed) == (10, 6, 4)
    assert measured.loss_pct == 40.0
    assert measured.to_json()["send_failed"] == 4


def test_pings_the_host_refused_to_send_are_loss_and_named_in_the_summary() -> None:
    findings = latency_findings([refused("a", 6, 4)], Thresholds(), "t")

    loss = [f for f in findings if f.code == "uplink.loss"]
    assert loss[0].summary == (
        "a: 40% loss, median 5.0 ms (4 of 10 pings lost, 4 of them refused by this "
        "host before sending: Operation not permitted; limit 5%)"
    )
    assert loss[0].data["send_failed"] == 4


def test_an_uplink_whose_every_ping_was_refused_is_down() -> None:
    findings = latency_findings([refused("a", 0, 5)], Thresholds(), "t")

    down = [f for f in findings if f.code == "uplink.down"]
    assert down[0].summary == (
        "a: down, this host refused to send any of the 5 pings to t "
        "(Operation not permitted)"
    )
    assert down[0].data["sent"] == 5


# Parameters and targets.


@pytest.mark.parametrize(
    "changes",
    [
        {"count": 0},
        {"count": 65537},
        {"interval_s": 0},
        {"timeout_s": -1},
        {"method": "udp"},
        {"tcp_port": 0},
        {"uplinks": ()},
    ],
)
def test_bad_parameters_are_refused(changes: dict[str, Any]) -> None:
    params = {"target": "127.0.0.1", "uplinks": LOOPBACK_UPLINKS, **changes}

    with pytest.raises(ConfigError):
        LatencyParams(**params)


def test_targets_split_into_host_and_https_port() -> None:
    assert split_target("10.0.0.1") == ("10.0.0.1", None)
    assert split_target("[::1]") == ("::1", None)
    assert split_target("https://www.example.test/path") == ("www.example.test", 443)
    assert split_target("https://web.test:8443/") == ("web.test", 8443)
    assert split_target("http://web.test/") == ("web.test", None)
    with pytest.raises(TargetError):
        split_target("https:///nohost")


# ICMP and TCP on loopback.


@needs_root
def test_icmp_through_two_loopback_sources() -> None:
    events: list[LatencyProgress] = []
    params = LatencyParams("127.0.0.1", LOOPBACK_UPLINKS, count=5, interval_s=0.01)

    result = asyncio.run(measure_latency(params, events.append))

    assert result.measurements["method"] == "icmp"
    uplinks = by_name(result)
    for name, source in (("a", "127.0.0.2"), ("b", "127.0.0.3")):
        assert uplinks[name]["source_used"] == source
        assert (uplinks[name]["sent"], uplinks[name]["received"]) == (5, 5)
        assert [s["seq"] for s in uplinks[name]["samples"]] == [0, 1, 2, 3, 4]
        assert all(
            s["status"] == "reply" and s["rtt_ms"] > 0 for s in uplinks[name]["samples"]
        )
        assert uplinks[name]["rtt"]["min_ms"] <= uplinks[name]["rtt"]["median_ms"]
    assert sorted((e.uplink, e.sample.seq) for e in events if e.sample) == sorted(
        (name, seq) for name in "ab" for seq in range(5)
    )
    assert len(named(result, "uplink.best")) == 1


def _ipv6_loopback_reason() -> str | None:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return "needs the IPv6 loopback address ::1"
    return NOT_ROOT


@pytest.mark.skipif(
    _ipv6_loopback_reason() is not None, reason=str(_ipv6_loopback_reason())
)
def test_icmpv6_to_the_ipv6_loopback() -> None:
    result = measure(target="::1", uplinks=(Uplink("v6", source="::1"),))

    assert result.measurements["method"] == "icmp"
    assert by_name(result)["v6"]["received"] == 5


@needs_root
def test_a_source_the_host_lacks_is_a_per_uplink_error() -> None:
    uplinks = (*LOOPBACK_UPLINKS, Uplink("ghost", source="192.0.2.55"))

    result = measure(uplinks=uplinks)

    ghost = by_name(result)["ghost"]
    assert "no address '192.0.2.55'" in ghost["error"]
    assert ghost["samples"] == []
    assert by_name(result)["a"]["received"] == 5
    assert "ghost" not in named(result, "uplink.down")


def test_tcp_connect_time_to_a_listening_port() -> None:
    with listening_port() as port:
        result = measure(method="tcp", tcp_port=port)

    assert result.measurements["method"] == "tcp"
    assert result.measurements["tcp_port"] == port
    for uplink in by_name(result).values():
        assert uplink["received"] == 5
        assert {s["status"] for s in uplink["samples"]} == {"reply"}
    assert by_name(result)["b"]["source_used"] == "127.0.0.3"


def test_a_refused_tcp_connect_is_a_reply_with_an_rtt() -> None:
    with closed_port() as port:
        result = measure(method="tcp", tcp_port=port)

    for uplink in by_name(result).values():
        assert (uplink["sent"], uplink["received"], uplink["loss_pct"]) == (5, 5, 0)
        assert all(
            s["status"] == "refused" and s["rtt_ms"] > 0 for s in uplink["samples"]
        )
    assert not named(result, "uplink.down")


def test_tcp_with_a_source_the_host_lacks_is_a_per_uplink_error() -> None:
    uplinks = (Uplink("a", source="127.0.0.2"), Uplink("ghost", source="192.0.2.55"))

    with closed_port() as port:
        result = measure(method="tcp", tcp_port=port, uplinks=uplinks)

    assert "no address '192.0.2.55'" in by_name(result)["ghost"]["error"]
    assert by_name(result)["a"]["received"] == 5


@pytest.mark.skipif(
    _ping_group_range_open(), reason="net.ipv4.ping_group_range is open here"
)
def test_without_icmp_permission_it_falls_back_to_tcp_and_says_how_to_grant() -> None:
    with closed_port() as port:
        result = measure(privileged=False, tcp_port=port)

    assert result.measurements["method"] == "tcp"
    assert "ping_group_range" in result.measurements["note"]
    assert "root" in result.measurements["note"]
    assert all(u["received"] == 5 for u in by_name(result).values())


@pytest.mark.skipif(
    _ping_group_range_open(), reason="net.ipv4.ping_group_range is open here"
)
def test_icmp_required_without_permission_cannot_run() -> None:
    with pytest.raises(IcmpNotPermitted, match="ping_group_range"):
        measure(privileged=False, method="icmp")


async def test_cancelling_stops_at_once_and_leaves_nothing_behind() -> None:
    fds_before = set(os.listdir("/proc/self/fd"))
    first_sample = asyncio.Event()
    params = LatencyParams("127.0.0.1", LOOPBACK_UPLINKS, count=10_000, interval_s=0.01)

    with closed_port():
        probe = asyncio.create_task(
            measure_latency(params, lambda _event: first_sample.set())
        )
        await first_sample.wait()
        probe.cancel()
        with pytest.raises(asyncio.CancelledError):
            await probe

    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert set(os.listdir("/proc/self/fd")) <= fds_before


# Names and TLS.


def test_a_host_name_is_resolved_through_the_given_resolver() -> None:
    with name_responder({"web.lab.test": "127.0.0.1"}) as dns, closed_port() as port:
        resolver = ResolverAddress("127.0.0.1", dns.port)
        result = measure(
            target="web.lab.test", resolvers=(resolver,), method="tcp", tcp_port=port
        )

    assert result.measurements["host"] == "web.lab.test"
    assert result.measurements["address"] == "127.0.0.1"


def test_a_name_that_does_not_exist_is_a_target_error() -> None:
    with name_responder({}) as dns:
        resolver = ResolverAddress("127.0.0.1", dns.port)
        with pytest.raises(TargetError, match="does not exist"):
            measure(target="nowhere.lab.test", resolvers=(resolver,))


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    reason = openssl_unavailable_reason()
    if reason:
        pytest.skip(reason)
    return self_signed_cert(tmp_path, "web.lab.test")


async def test_https_target_times_tcp_and_tls_with_sni(
    certificate: tuple[Path, Path],
) -> None:
    with name_responder({"web.lab.test": "127.0.0.1"}) as dns:
        async with tls_server(*certificate) as server:
            params = LatencyParams(
                f"https://web.lab.test:{server.port}/checkout",
                LOOPBACK_UPLINKS,
                count=2,
                interval_s=0.01,
                tls_verify=False,
                resolvers=(ResolverAddress("127.0.0.1", dns.port),),
            )
            result = await measure_latency(params)

    assert server.server_names == ["web.lab.test", "web.lab.test"]
    for uplink in by_name(result).values():
        timing = uplink["handshake"]
        assert timing["port"] == server.port
        assert timing["server_name"] == "web.lab.test"
        assert timing["error"] is None
        assert timing["connect_ms"] > 0 and timing["tls_ms"] > 0
        assert timing["verified"] is False


async def test_an_untrusted_certificate_is_a_handshake_error(
    certificate: tuple[Path, Path],
) -> None:
    async with tls_server(*certificate) as server:
        params = LatencyParams(
            "127.0.0.1",
            LOOPBACK_UPLINKS[:1],
            count=1,
            tls=True,
            tcp_port=server.port,
            method="tcp",
        )
        result = await measure_latency(params)

    timing = by_name(result)["a"]["handshake"]
    assert timing["connect_ms"] > 0
    assert timing["tls_ms"] is None
    assert "certificate not trusted" in timing["error"]


# The command line.


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["probe", "latency", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_prints_json_in_the_probe_shape(capsys: pytest.CaptureFixture[str]) -> None:
    with closed_port() as port:
        code, out, _ = run_cli(
            capsys, "127.0.0.1", "--uplink", "a=127.0.0.2", "--uplink", "b=127.0.0.3",
            "--count", "3", "--interval", "0.01", "--tcp", str(port), "--json",
        )  # fmt: skip

    report = json.loads(out)
    assert code == 0
    assert set(report) == {
        "probe",
        "started",
        "duration_s",
        "params",
        "measurements",
        "findings",
    }
    assert report["probe"] == "latency"
    assert report["params"]["count"] == 3
    assert [u["name"] for u in report["measurements"]["uplinks"]] == ["a", "b"]
    assert report["measurements"]["method"] == "tcp"


def test_cli_table_shows_each_uplink_and_the_findings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with closed_port() as port:
        code, out, _ = run_cli(
            capsys, "127.0.0.1", "--uplink", "a=127.0.0.2", "--uplink", "ghost=192.0.2.55",
            "--count", "2", "--interval", "0.01", "--tcp", str(port),
        )  # fmt: skip

    assert code == 0
    assert "by TCP connect to port" in out
    assert any(
        line.startswith("a ") and "127.0.0.2" in line for line in out.splitlines()
    )
    assert "error: This host has no address '192.0.2.55'" in out
    assert "uplink.best: Best uplink a" in out


@pytest.mark.parametrize(
    "args",
    [["127.0.0.1", "--uplink", "a=not-an-ip"], ["127.0.0.1", "--count", "0"], []],
)
def test_cli_bad_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, _, err = run_cli(capsys, *args)

    assert code == 2
    assert err.startswith("netcase: ")


def test_cli_exits_3_when_no_uplink_can_be_probed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(
        capsys, "127.0.0.1", "--uplink", "ghost=192.0.2.55", "--tcp", "9"
    )

    assert code == 3
    assert "No uplink could be probed" in err


def test_cli_exits_3_when_the_name_does_not_resolve(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with name_responder({}) as dns:
        code, _, err = run_cli(
            capsys, "nowhere.lab.test", "--uplink", "a=127.0.0.2",
            "--resolver", f"127.0.0.1:{dns.port}",
        )  # fmt: skip

    assert code == 3
    assert "does not exist" in err


# The two-uplink namespace lab (root).


@pytest.fixture
def lab() -> Iterator[TwoUplinkLab]:
    if NETNS_REASON:
        pytest.skip(NETNS_REASON)
    with two_uplink_lab() as created:
        yield created


def probe_in_lab(lab: TwoUplinkLab, *options: str) -> dict[str, Any]:
    command = lab.in_client(
        sys.executable, "-m", "netcase", "probe", "latency", lab.address("target"),
        "--uplink", f"a={lab.address('up1')}", "--uplink", f"b={lab.address('up2')}",
        "--json", *options,
    )  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


# 200 probes at 30% drop: 5% loss or less has a chance under 1e-18.
LOSSY = ("--count", "200", "--interval", "0.005", "--timeout", "0.5")


@needs_netns
def test_lab_names_the_lossy_uplink_and_the_best_one(lab: TwoUplinkLab) -> None:
    lab.drop_percent(2, 30)

    report = probe_in_lab(lab, *LOSSY)

    assert report["measurements"]["method"] == "icmp"
    assert named(report, "uplink.loss") == ["b"]
    assert named(report, "uplink.best") == ["a"]
    uplinks = {u["name"]: u for u in report["measurements"]["uplinks"]}
    assert uplinks["a"]["source_used"] == lab.address("up1")
    assert uplinks["b"]["source_used"] == lab.address("up2")
    assert 10 < uplinks["b"]["loss_pct"] < 60


@needs_netns
def test_lab_with_both_uplinks_dropping_is_all_degraded(lab: TwoUplinkLab) -> None:
    lab.drop_percent(1, 50)
    lab.drop_percent(2, 50)

    report = probe_in_lab(lab, *LOSSY)

    assert sorted(named(report, "uplink.loss")) == ["a", "b"]
    degraded = [f for f in report["findings"] if f["code"] == "uplink.all_degraded"]
    assert degraded[0]["data"] == {"uplinks": ["a", "b"]}


@needs_netns
def test_lab_uplink_dropping_everything_is_down(lab: TwoUplinkLab) -> None:
    lab.drop_percent(2, 100)

    report = probe_in_lab(
        lab, "--count", "10", "--interval", "0.01", "--timeout", "0.3"
    )

    assert named(report, "uplink.down") == ["b"]
    assert named(report, "uplink.best") == ["a"]
    b = next(u for u in report["measurements"]["uplinks"] if u["name"] == "b")
    assert {s["status"] for s in b["samples"]} == {"timeout"}


@needs_netns
def test_lab_tcp_timeouts_are_loss_and_resets_are_replies(lab: TwoUplinkLab) -> None:
    lab.drop_percent(2, 100)

    report = probe_in_lab(
        lab, "--tcp", "9", "--count", "5", "--interval", "0.01", "--timeout", "0.3"
    )

    uplinks = {u["name"]: u for u in report["measurements"]["uplinks"]}
    assert {s["status"] for s in uplinks["a"]["samples"]} == {"refused"}
    assert {s["status"] for s in uplinks["b"]["samples"]} == {"timeout"}
    assert named(report, "uplink.down") == ["b"]


def drop_on_output(lab: TwoUplinkLab, source: str, *match: str) -> None:
    """Drop, in the client's own output hook, the packets from ``source``.

    The kernel then fails the send itself (EPERM), as a local firewall does.
    """
    run(*lab.in_client("nft", "add", "table", "inet", "local"))
    run(*lab.in_client("nft", "add", "chain", "inet", "local", "out",
                       "{ type filter hook output priority 0 ; }"))  # fmt: skip
    run(*lab.in_client("nft", "add", "rule", "inet", "local", "out",
                       "ip", "saddr", source, *match, "drop"))  # fmt: skip


@needs_netns
def test_lab_pings_a_local_firewall_drops_count_as_sent_and_lost(
    lab: TwoUplinkLab,
) -> None:
    drop_on_output(lab, lab.address("up2"), "icmp", "sequence", "0-3")

    report = probe_in_lab(
        lab, "--count", "10", "--interval", "0.01", "--timeout", "0.3"
    )

    b = next(u for u in report["measurements"]["uplinks"] if u["name"] == "b")
    assert (b["sent"], b["received"], b["send_failed"], b["loss_pct"]) == (
        10, 6, 4, 40.0
    )  # fmt: skip
    refused = [s for s in b["samples"] if s["status"] == "send_failed"]
    assert [s["seq"] for s in refused] == [0, 1, 2, 3]
    assert "Operation not permitted" in refused[0]["detail"]
    assert named(report, "uplink.loss") == ["b"]
    assert named(report, "uplink.best") == ["a"]


@needs_netns
def test_lab_uplink_whose_every_ping_a_local_firewall_drops_is_down(
    lab: TwoUplinkLab,
) -> None:
    drop_on_output(lab, lab.address("up2"))

    report = probe_in_lab(lab, "--count", "5", "--interval", "0.01", "--timeout", "0.3")

    assert named(report, "uplink.down") == ["b"]
    down = next(f for f in report["findings"] if f["code"] == "uplink.down")
    assert down["data"]["sent"] == 5
    assert "refused to send any of the 5 pings" in down["summary"]


@needs_netns
def test_lab_table_says_why_pings_were_not_sent(lab: TwoUplinkLab) -> None:
    drop_on_output(lab, lab.address("up2"), "icmp", "sequence", "0-1")
    command = lab.in_client(
        sys.executable, "-m", "netcase", "probe", "latency", lab.address("target"),
        "--uplink", f"a={lab.address('up1')}", "--uplink", f"b={lab.address('up2')}",
        "--count", "4", "--interval", "0.01", "--timeout", "0.3",
    )  # fmt: skip

    done = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=60
    )

    note = done.stdout.split("Note: ", 1)[1]
    assert note.startswith(
        "This host refused to send some probes, counted as lost "
        "(b: 2 of 4 (Operation not permitted)). A firewall rule on this host"
    )


UNPRIVILEGED_RUN = """
import asyncio, json, sys
from netcase.probes.latency import LatencyParams, measure_latency
from netcase.site import Uplink
target, source = sys.argv[1:]
params = LatencyParams(target, (Uplink("a", source=source),), count=5,
                       interval_s=0.01, timeout_s=0.5, privileged=False)
print(json.dumps(asyncio.run(measure_latency(params)).to_json()))
"""


@needs_netns
def test_lab_datagram_icmp_where_ping_group_range_is_open(lab: TwoUplinkLab) -> None:
    command = lab.in_client(
        sys.executable,
        "-c",
        UNPRIVILEGED_RUN,
        lab.address("target"),
        lab.address("up1"),
    )

    done = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=60
    )

    report = json.loads(done.stdout)
    assert report["measurements"]["method"] == "icmp"
    assert report["measurements"]["uplinks"][0]["received"] == 5


# Targets written as addresses are never looked up.


@pytest.fixture
def no_name_lookup(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every name the latency probe would ask a resolver for."""
    asked: list[str] = []

    async def refuse(host: str, *_: Any) -> str:
        asked.append(host)
        raise AssertionError(f"{host!r} was sent to a resolver")

    monkeypatch.setattr("netcase.probes.latency_target._resolve", refuse)
    return asked


@pytest.mark.parametrize(
    "target", ["999.1.1.1", "10.0.0", "1:2:3:4:5:6:7:8:9", "https://300.0.0.1/"]
)
def test_a_target_written_as_a_bad_address_is_a_config_error_not_a_name(
    target: str, no_name_lookup: list[str]
) -> None:
    with pytest.raises(ConfigError, match="is not an IP address"):
        measure(target=target, resolvers=(ResolverAddress("127.0.0.1", 9),))

    assert no_name_lookup == []


def test_cli_exits_2_for_a_bad_address_without_resolving_it(
    capsys: pytest.CaptureFixture[str], no_name_lookup: list[str]
) -> None:
    code, _, err = run_cli(capsys, "999.1.1.1", "--uplink", "a=127.0.0.2")

    assert code == 2
    assert "netcase: The target '999.1.1.1' is not an IP address" in err
    assert "Octet 999 (> 255)" in err
    assert no_name_lookup == []


@pytest.mark.parametrize("port", ["0", "65536", "-1"])
def test_cli_tcp_port_outside_1_to_65535_exits_2(
    capsys: pytest.CaptureFixture[str], port: str
) -> None:
    code, out, err = run_cli(
        capsys, "127.0.0.1", "--uplink", "a=127.0.0.2", "--tcp", port
    )

    assert code == 2
    assert out == ""
    assert (
        err == f"netcase: --tcp {port} is not a TCP port; give one from 1 to 65535.\n"
    )


async def test_tcp_connect_answered_only_after_a_resent_syn_counts_as_a_loss() -> None:
    with full_listener() as listener:
        fillers = listener.syn_sent()
        params = LatencyParams(
            target="127.0.0.1",
            uplinks=(Uplink("a", source="127.0.0.2"),),
            count=1,
            timeout_s=10.0,
            method="tcp",
            tcp_port=listener.port,
        )
        probing = asyncio.create_task(measure_latency(params))
        await listener.wait_for_one_more_syn_than(fillers)  # The first SYN is out.

        listener.make_room()  # The SYN sent again after the 1 s RTO is answered.
        result = await probing

    uplink = by_name(result)["a"]
    (sample,) = uplink["samples"]
    assert (sample["status"], sample["rtt_ms"]) == ("retransmitted", None)
    assert sample["detail"].startswith("SYN sent 2 times; answered after")
    assert (uplink["sent"], uplink["received"]) == (1, 0)


# Handshake findings: the TCP + TLS times of the uplinks compared.


def shaken(
    measured: UplinkLatency,
    connect_ms: float | None,
    tls_ms: float | None,
    error: str | None = None,
) -> UplinkLatency:
    """Give an outcome a made-up TCP + TLS handshake to port 443."""
    measured.handshake = HandshakeTiming(443, "t", True, connect_ms, tls_ms, error)
    return measured


def of_code(findings: list[Any], code: str) -> list[Any]:
    return [finding for finding in findings if finding.code == code]


def test_a_handshake_far_slower_than_the_fastest_is_slow_with_numbers() -> None:
    telecom = shaken(outcome("telecom", [40.0] * 10), 320.0, 1480.0)
    unicom = shaken(outcome("unicom", [35.0] * 10), 60.0, 150.0)

    findings = latency_findings(
        [telecom, unicom], Thresholds(), "www.paypalobjects.com"
    )

    (slow,) = of_code(findings, "uplink.handshake_slow")
    assert slow.summary == (
        "telecom: TCP + TLS handshake 1.8 s (connect 0.32 s, TLS 1.5 s) to "
        "www.paypalobjects.com, 8.6x unicom's 0.21 s"
    )
    assert slow.severity == Severity.WARNING
    assert slow.data == {
        "uplink": "telecom",
        "source": "10.0.7.2",
        "port": 443,
        "best_uplink": "unicom",
        "best_handshake_ms": 210.0,
        "handshake_ms": 1800.0,
        "connect_ms": 320.0,
        "tls_ms": 1480.0,
        "ratio": 8.57,
    }
    (best,) = of_code(findings, "uplink.best")
    assert best.summary.endswith(", TCP + TLS handshake 0.21 s")


@pytest.mark.parametrize(
    ("fast_ms", "slow_ms", "flagged"),
    [
        ((0.5, 1.0), (2.0, 4.0), False),  # 4x, but only 4.5 ms more.
        ((40.0, 60.0), (80.0, 100.0), False),  # 80 ms more, but only 1.8x.
        ((10.0, 10.0), (20.0, 25.0), True),  # 2.25x and 25 ms more.
    ],
)
def test_handshake_slow_needs_both_the_ratio_and_the_margin(
    fast_ms: tuple[float, float], slow_ms: tuple[float, float], flagged: bool
) -> None:
    thresholds = Thresholds(rtt_ratio=2.0, rtt_margin_ms=10.0)
    fast = shaken(outcome("a", [5.0] * 5), *fast_ms)
    slow = shaken(outcome("b", [5.0] * 5), *slow_ms)

    findings = latency_findings([fast, slow], thresholds, "t")

    assert named_in(findings, "uplink.handshake_slow") == (["b"] if flagged else [])


def named_in(findings: list[Any], code: str) -> list[str]:
    return [finding.data["uplink"] for finding in of_code(findings, code)]


def test_a_failed_handshake_while_another_finished_is_handshake_failed() -> None:
    timed_out = "TLS handshake timed out after 1 s"
    telecom = shaken(outcome("telecom", [40.0] * 10), 300.0, None, timed_out)
    unicom = shaken(outcome("unicom", [35.0] * 10), 60.0, 150.0)

    findings = latency_findings([telecom, unicom], Thresholds(), "pay.test")

    (failed,) = of_code(findings, "uplink.handshake_failed")
    assert failed.summary == (
        "telecom: TCP + TLS handshake failed to pay.test: TLS handshake timed out "
        "after 1 s (connect 0.30 s); unicom: 0.21 s"
    )
    assert failed.severity == Severity.ERROR
    assert failed.data["error"] == timed_out
    assert (failed.data["connect_ms"], failed.data["best_uplink"]) == (300.0, "unicom")


def test_a_connect_reset_names_no_connect_time() -> None:
    reset = "TCP connect failed: Connection refused"
    telecom = shaken(outcome("telecom", [40.0] * 10), None, None, reset)
    unicom = shaken(outcome("unicom", [35.0] * 10), 8.0, 12.0)

    findings = latency_findings([telecom, unicom], Thresholds(), "t")

    (failed,) = of_code(findings, "uplink.handshake_failed")
    assert failed.summary == (
        "telecom: TCP + TLS handshake failed to t: TCP connect failed: Connection "
        "refused; unicom: 20.0 ms"
    )
    assert failed.data["connect_ms"] is None


def test_handshakes_failing_on_every_uplink_are_no_finding() -> None:
    refused_reason = "TCP connect failed: Connection refused"
    both = [
        shaken(outcome("a", [5.0] * 5), None, None, refused_reason),
        shaken(outcome("b", [6.0] * 5), None, None, "TCP connect timed out after 1 s"),
    ]

    codes = {finding.code for finding in latency_findings(both, Thresholds(), "t")}

    assert codes == {"uplink.best"}


def test_without_handshakes_nothing_about_them_is_said() -> None:
    plain = [outcome("a", [5.0] * 5), outcome("b", [500.0] * 5)]

    findings = latency_findings(plain, Thresholds(), "t")

    assert not of_code(findings, "uplink.handshake_slow")
    assert "handshake_ms" not in of_code(findings, "uplink.best")[0].data


def test_best_passes_over_an_uplink_whose_handshake_failed() -> None:
    reset = "TLS handshake failed: Connection reset by peer"
    telecom = shaken(outcome("telecom", [20.0] * 10), 20.0, None, reset)
    unicom = shaken(outcome("unicom", [25.0] * 10), 25.0, 30.0)

    findings = latency_findings([telecom, unicom], Thresholds(), "t")

    assert named_in(findings, "uplink.best") == ["unicom"]
    assert named_in(findings, "uplink.handshake_failed") == ["telecom"]
    assert not of_code(findings, "uplink.all_degraded")


def test_a_lossy_line_and_a_line_with_a_slow_handshake_are_all_degraded() -> None:
    lossy = shaken(outcome("telecom", [30.0] * 8 + [None] * 2), 30.0, 40.0)
    slow_tls = shaken(outcome("unicom", [35.0] * 10), 40.0, 400.0)

    findings = latency_findings([lossy, slow_tls], Thresholds(), "t")

    assert codes_by_uplink(findings)["unicom"] == [
        "uplink.handshake_slow",
        "uplink.best",
    ]
    (degraded,) = of_code(findings, "uplink.all_degraded")
    assert "unicom: 0% loss, median 35.0 ms, TCP + TLS handshake 0.44 s" in (
        degraded.summary
    )


def test_the_findings_command_lists_the_handshake_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["findings"]) == 0

    lines = capsys.readouterr().out.splitlines()
    meanings = {line.split()[0]: line for line in lines if line.strip()}
    assert "TLS handshake takes far longer" in meanings["uplink.handshake_slow"]
    assert "while another uplink's succeeded" in meanings["uplink.handshake_failed"]


# Handshakes through two loopback sources to a server that treats them apart.


async def test_a_tls_server_slow_for_one_source_makes_that_uplink_handshake_slow(
    certificate: tuple[Path, Path],
) -> None:
    with source_tls_server(*certificate, delay_s={"127.0.0.3": 0.3}) as server:
        params = LatencyParams(
            "127.0.0.1",
            LOOPBACK_UPLINKS,
            count=2,
            interval_s=0.01,
            timeout_s=5.0,
            method="tcp",
            tcp_port=server.port,
            tls=True,
            tls_verify=False,
        )
        result = await measure_latency(params)

    findings = result.to_json()["findings"]
    (slow,) = [f for f in findings if f["code"] == "uplink.handshake_slow"]
    handshakes = {name: u["handshake"] for name, u in by_name(result).items()}
    assert (slow["data"]["uplink"], slow["data"]["best_uplink"]) == ("b", "a")
    assert slow["data"]["source"] == "127.0.0.3"
    assert slow["data"]["tls_ms"] == handshakes["b"]["tls_ms"]
    best_ms = handshakes["a"]["connect_ms"] + handshakes["a"]["tls_ms"]
    assert slow["data"]["best_handshake_ms"] == pytest.approx(best_ms, abs=0.002)
    assert slow["summary"].startswith("b: TCP + TLS handshake 0.")
    assert f"to 127.0.0.1, {slow['data']['ratio']:.1f}x a's " in slow["summary"]
    assert named(result, "uplink.best") == ["a"]


async def test_a_tls_server_resetting_one_source_makes_that_uplink_handshake_failed(
    certificate: tuple[Path, Path],
) -> None:
    with source_tls_server(*certificate, reset={"127.0.0.3"}) as server:
        params = LatencyParams(
            "127.0.0.1",
            LOOPBACK_UPLINKS,
            count=2,
            interval_s=0.01,
            method="tcp",
            tcp_port=server.port,
            tls=True,
            tls_verify=False,
        )
        result = await measure_latency(params)

    findings = result.to_json()["findings"]
    (failed,) = [f for f in findings if f["code"] == "uplink.handshake_failed"]
    assert failed["data"]["uplink"] == "b"
    assert failed["data"]["error"] == "TLS handshake failed: Connection reset by peer"
    assert failed["summary"].startswith(
        "b: TCP + TLS handshake failed to 127.0.0.1: TLS handshake failed: "
        "Connection reset by peer (connect "
    )
    assert named(result, "uplink.best") == ["a"]
