"""Diagnoses against a lab of real local servers: the issue's done-when flows.

The PayPal flows run ``netcase diagnose`` inside the client namespace of a
two-uplink lab (one uplink dropping packets), with dnsmasq resolvers on the
namespace's own loopback. The Wi-Fi flow runs in-process against a loopback
HTTP server whose rate rises when the person "reconnects".
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kbfiles import copy_repo_kb
from netcase.config import resolve_paths
from netcase.diagnose.playbook import Step
from netcase.diagnose.service import DiagnosisService
from netcase.kb.service import KnowledgeBase
from netcase.site import load_site
from netns import TwoUplinkLab, netns_unavailable_reason, run, two_uplink_lab
from servers_throughput import serve_http

SAMPLES = Path(__file__).parent / "samples" / "wifi"
INTERNAL_PORT, EXTERNAL_PORT = 5301, 5302
NAMES = ("www.paypal.com", "www.paypalobjects.com")
needs_lab = pytest.mark.skipif(
    netns_unavailable_reason() is not None or shutil.which("dnsmasq") is None,
    reason=f"the lab {netns_unavailable_reason() or 'needs dnsmasq (Debian dnsmasq-base)'}",
)


def start_resolver(
    lab: TwoUplinkLab, port: int, address: str
) -> subprocess.Popen[bytes]:
    """Run dnsmasq on the client namespace's loopback, answering only NAMES."""
    records = [f"--host-record={name},{address}" for name in NAMES]
    command = lab.in_client(
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
        "--no-hosts", "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={port}",
        "--local=/paypal.com/", "--local=/paypalobjects.com/", *records,
    )  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    wanted = f":{port:04X} "
    for _ in range(200):
        if wanted in run(*lab.in_client("cat", "/proc/net/udp")):
            return process
        if process.poll() is not None:
            raise RuntimeError(
                f"dnsmasq failed: {process.stderr.read() if process.stderr else ''!r}"
            )
        time.sleep(0.02)
    raise RuntimeError(f"dnsmasq did not listen on port {port}")


@contextmanager
def resolvers(lab: TwoUplinkLab, external_address: str | None = None) -> Iterator[None]:
    """Run the internal and external resolvers; the external one may answer otherwise."""
    target = lab.address("target")
    processes = [
        start_resolver(lab, INTERNAL_PORT, target),
        start_resolver(lab, EXTERNAL_PORT, external_address or target),
    ]
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
            process.wait()


@pytest.fixture
def paypal_lab(tmp_path: Path) -> Iterator[tuple[TwoUplinkLab, Path]]:
    with two_uplink_lab() as lab:
        site = tmp_path / "lab.toml"
        site.write_text(
            f'name = "lab"\nrouter = "linux"\n\n[resolvers]\n'
            f'internal = ["127.0.0.1:{INTERNAL_PORT}"]\nexternal = ["127.0.0.1:{EXTERNAL_PORT}"]\n\n'
            f'[[uplinks]]\nname = "telecom"\nlabel = "China Telecom"\nsource = "{lab.address("up1")}"\n\n'
            f'[[uplinks]]\nname = "unicom"\nlabel = "China Unicom"\nsource = "{lab.address("up2")}"\n'
            'interface = "up2"\n',
            encoding="utf-8",
        )
        yield lab, site


def run_in_client(
    lab: TwoUplinkLab, home: Path, *command: str, timeout: int = 120
) -> dict[str, Any]:
    """Run a command in the lab's client namespace and read the JSON it prints."""
    env = dict(os.environ, NETCASE_HOME=str(home))
    done = subprocess.run(
        lab.in_client(*command),
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def diagnose_in_lab(
    lab: TwoUplinkLab, site: Path, kb: Path, home: Path, *extra: str
) -> dict[str, Any]:
    return run_in_client(
        lab, home,
        sys.executable, "-m", "netcase", "diagnose", "--case", "paypal-telecom-uplink",
        "--site", str(site), "--kb", str(kb), "--set", "domain=www.paypalobjects.com",
        "--yes", "--json", *extra,
    )  # fmt: skip


def codes(result: dict[str, Any]) -> set[str]:
    return {finding["code"] for finding in result["findings"]}


@needs_lab
def test_lossy_telecom_line_proposes_switching_the_user_to_unicom(
    paypal_lab: tuple[TwoUplinkLab, Path], tmp_path: Path
) -> None:
    lab, site = paypal_lab
    lab.drop_percent(1, 50)
    with resolvers(lab):
        result = diagnose_in_lab(
            lab, site, copy_repo_kb(tmp_path / "kb"), tmp_path / "home"
        )

    assert {"uplink.loss", "uplink.best", "dns.consistent"} <= codes(result)
    assert result["causes"][0]["case"] == "paypal-telecom-uplink"
    switch = next(a for a in result["actions"] if a["kind"] == "switch_line")
    assert switch["params"]["to_uplink"] == "unicom"
    assert "telecom:" in switch["reason"] and "% loss" in switch["reason"]
    assert "unicom" in switch["reason"] and "median" in switch["reason"]
    assert "lookup wan_unicom" in switch["snippets"]["linux"]
    assert any(
        s.startswith("DNS (a split-horizon answer) is not the cause:")
        for s in result["ruled_out"]
    )
    connect = next(s for s in result["steps"] if s["id"] == "connect")
    measured = connect["result"]["measurements"]
    assert (measured["method"], measured["tcp_port"]) == ("tcp", 443)
    uplinks = {u["name"]: u for u in measured["uplinks"]}
    assert set(uplinks) == {"telecom", "unicom"}
    # The lab's target has no TLS server: each uplink tried, and its RST timed.
    assert all(u["handshake"]["port"] == 443 for u in uplinks.values())
    assert uplinks["unicom"]["rtt"] is not None


@needs_lab
def test_split_horizon_answers_name_dns_and_do_not_switch_the_line(
    paypal_lab: tuple[TwoUplinkLab, Path], tmp_path: Path
) -> None:
    lab, site = paypal_lab
    lab.drop_percent(1, 50)
    with resolvers(lab, external_address="203.0.113.80"):
        result = diagnose_in_lab(
            lab, site, copy_repo_kb(tmp_path / "kb"), tmp_path / "home"
        )

    assert "dns.split_horizon" in codes(result)
    top = result["causes"][0]
    assert top["case"] == "split-horizon-dns-cache-offsite" and not top["ruled_out"]
    paypal = next(c for c in result["causes"] if c["case"] == "paypal-telecom-uplink")
    assert paypal["ruled_out"]
    assert all(a["kind"] != "switch_line" for a in result["actions"])


@needs_lab
def test_both_lines_lossy_proposes_escalating_to_the_isp(
    paypal_lab: tuple[TwoUplinkLab, Path], tmp_path: Path
) -> None:
    lab, site = paypal_lab
    lab.drop_percent(1, 50)
    lab.drop_percent(2, 50)
    with resolvers(lab):
        result = diagnose_in_lab(
            lab, site, copy_repo_kb(tmp_path / "kb"), tmp_path / "home"
        )

    assert "uplink.all_degraded" in codes(result)
    kinds = [a["kind"] for a in result["actions"]]
    assert "escalate_to_isp" in kinds and "switch_line" not in kinds
    ticket = next(a for a in result["actions"] if a["kind"] == "escalate_to_isp")[
        "snippets"
    ]["ticket"]
    assert "loss" in ticket


@pytest.fixture
def service(tmp_path: Path) -> DiagnosisService:
    kb = KnowledgeBase(resolve_paths(copy_repo_kb(tmp_path / "kb")))
    kb.open()
    diagnosis = DiagnosisService(kb, load_site(None))
    assert diagnosis.prepare() == []
    return diagnosis


async def test_wifi_playbook_with_faster_transfer_after_reconnect_proposes_reconnect_then_retry(
    service: DiagnosisService,
) -> None:
    with serve_http(rate_bps=2_000_000) as server:

        async def reconnect(step: Step) -> bool:
            server.rate_bps = None
            return True

        result = await service.diagnose(
            "wifi-roaming-ftp-slowdown",
            "FTP 速度慢",
            {
                "ftp_url": server.url("/bytes/400000000"),
                "seconds": "1",
                "wifi_before": str(SAMPLES / "iw_link_weak.txt"),
                "wifi_after": str(SAMPLES / "iw_link_after_roam.txt"),
            },
            reconnect,
        )

    found = {f.code for f in result.findings}
    assert {
        "throughput.recovered_after_reconnect",
        "wifi.roamed",
        "wifi.weak_signal",
    } <= found
    assert result.causes[0].case_id == "wifi-roaming-ftp-slowdown"
    card = result.actions[0]
    assert card.kind == "reconnect_wifi_then_retry"
    assert "->" in card.reason
    assert card.verify == ["transfer-again"]


async def test_wifi_playbook_with_no_change_after_reconnect_rules_the_case_out(
    service: DiagnosisService,
) -> None:
    with serve_http(rate_bps=2_000_000) as server:

        async def reconnect(step: Step) -> bool:
            return True

        result = await service.diagnose(
            "wifi-roaming-ftp-slowdown",
            "",
            {
                "ftp_url": server.url("/bytes/400000000"),
                "seconds": "1",
                "wifi_before": str(SAMPLES / "iw_link.txt"),
                "wifi_after": str(SAMPLES / "iw_link.txt"),
            },
            reconnect,
        )

    assert "throughput.unchanged" in {f.code for f in result.findings}
    assert all(card.kind != "reconnect_wifi_then_retry" for card in result.actions)
    assert any(
        statement.startswith("A transfer slowed") for statement in result.ruled_out
    )


def test_killed_session_keeps_every_step_already_measured(tmp_path: Path) -> None:
    kb = copy_repo_kb(tmp_path / "kb")
    home = tmp_path / "home"
    env = dict(os.environ, NETCASE_HOME=str(home))
    with serve_http(rate_bps=8_000_000) as server:
        command = [
            sys.executable, "-m", "netcase", "diagnose", "--case", "wifi-roaming-ftp-slowdown",
            "--kb", str(kb), "--set", f"ftp_url={server.url('/bytes/400000000')}", "--set", "seconds=1",
            "--set", f"wifi_before={SAMPLES / 'iw_link_weak.txt'}", "--set", f"wifi_after={SAMPLES / 'iw_link.txt'}",
        ]  # fmt: skip
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert process.stderr is not None
        prompt = b""
        while b"Manual step reconnect" not in prompt:
            line = process.stderr.readline()
            assert line, f"no manual prompt; stderr so far: {prompt!r}"
            prompt += line
        process.send_signal(signal.SIGKILL)
        process.wait()

    knowledge = KnowledgeBase(resolve_paths(kb))
    knowledge.open()
    store = DiagnosisService(knowledge, load_site(None)).sessions
    row = store.history(1)[0]
    assert row.id is not None and row.status == "interrupted"
    steps = store.load(row.id)[1]
    assert row.finished == max(
        s.started + timedelta(seconds=s.duration_s) for s in steps
    )
    assert sorted(step.step_id for step in steps) == ["link", "transfer"]
    assert all(step.status == "done" and step.result for step in steps)
    assert {"throughput", "wifi"} == {
        step.result["probe"] for step in steps if step.result
    }


def tui_in_lab(lab: TwoUplinkLab, site: Path, kb: Path, home: Path) -> dict[str, Any]:
    """Run the TUI flow of tests/tui_lab_flow.py inside the lab's client namespace."""
    script = Path(__file__).parent / "tui_lab_flow.py"
    return run_in_client(
        lab, home, sys.executable, str(script), str(kb), str(site), timeout=180
    )


@needs_lab
def test_tui_proposes_switching_a_user_off_a_lossy_line(
    paypal_lab: tuple[TwoUplinkLab, Path], tmp_path: Path
) -> None:
    lab, site = paypal_lab
    lab.drop_percent(1, 50)
    with resolvers(lab):
        result = tui_in_lab(lab, site, copy_repo_kb(tmp_path / "kb"), tmp_path / "home")

    switch = next(a for a in result["actions"] if a["kind"] == "switch_line")
    assert switch["params"] == {
        "user_ip": "10.0.3.27",
        "to_uplink": "unicom",
        "why": switch["params"]["why"],
        "why_zh": switch["params"]["why_zh"],
    }
    assert "% loss" in switch["reason"]
    assert (
        "ip rule add from 10.0.3.27/32 lookup wan_unicom" in switch["snippets"]["linux"]
    )


@needs_lab
def test_tui_proposes_escalating_when_both_lines_are_lossy(
    paypal_lab: tuple[TwoUplinkLab, Path], tmp_path: Path
) -> None:
    lab, site = paypal_lab
    lab.drop_percent(1, 50)
    lab.drop_percent(2, 50)
    with resolvers(lab):
        result = tui_in_lab(lab, site, copy_repo_kb(tmp_path / "kb"), tmp_path / "home")

    kinds = [a["kind"] for a in result["actions"]]
    assert "escalate_to_isp" in kinds and "switch_line" not in kinds
