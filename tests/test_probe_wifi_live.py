"""Live Wi-Fi reads against stand-in tools: shell scripts on PATH that print captures.

No real Wi-Fi tool runs and nothing touches the network: each stand-in logs its
arguments and prints a committed sample, so the subprocess handling (commands,
timeouts, cancellation, fallbacks) is exercised for real.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from netcase.probes import wifilive
from netcase.probes.wifi import WifiCannotRead, WifiProgress, read_link

SAMPLES = Path(__file__).parent / "samples" / "wifi"
NM_DEVICES = "nmcli -t -f GENERAL,CAPABILITIES dev show"
NM_LIST = (
    "nmcli -t -f ACTIVE,SSID,BSSID,CHAN,FREQ,RATE,SIGNAL,SECURITY,DEVICE "
    "dev wifi list --rescan no"
)


@dataclass
class FakeBin:
    """A PATH folder of stand-in tools that log their calls."""

    folder: Path
    log: Path

    def tool(self, name: str, cases: dict[str, str]) -> None:
        """Write a tool answering each ``case`` pattern (on its arguments) with a shell body."""
        lines = [
            "#!/bin/sh",
            f'echo "{name} $*" >> {shlex.quote(str(self.log))}',
            'case "$*" in',
        ]
        lines += [f"  {pattern}) {body} ;;" for pattern, body in cases.items()]
        lines += ['  *) echo "unexpected arguments: $*" >&2; exit 2 ;;', "esac", ""]
        path = self.folder / name
        path.write_text("\n".join(lines))
        path.chmod(0o755)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


def cat(name: str | Path) -> str:
    path = name if isinstance(name, Path) else SAMPLES / name
    return f"exec /bin/cat {shlex.quote(str(path))}"


def fail(message: str, status: int) -> str:
    return f"echo {shlex.quote(message)} >&2; exit {status}"


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeBin:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return FakeBin(folder, tmp_path / "calls.log")


def nmcli_serving(fake_bin: FakeBin, devices: str, wifi_list: str) -> None:
    fake_bin.tool(
        "nmcli", {'*"dev show"*': cat(devices), '*"wifi list"*': cat(wifi_list)}
    )


async def test_nmcli_live_read_runs_only_read_only_commands(fake_bin: FakeBin) -> None:
    nmcli_serving(fake_bin, "nmcli_dev_show.txt", "nmcli_wifi_list.txt")

    result = await read_link()

    assert result.measurements["source"] == "nmcli"
    assert result.measurements["commands"] == [NM_DEVICES, NM_LIST]
    assert fake_bin.calls() == [NM_DEVICES, NM_LIST]
    link = result.measurements["link"]
    assert (link["interface"], link["ssid"], link["bssid"]) == (
        "wlan0",
        "Cafe:Guest",
        "aa:bb:cc:dd:ee:01",
    )
    assert link["tx_rate_mbps"] == 866
    assert result.params["origin"] == "live"


async def test_iw_refines_nmcli_with_the_measured_dbm(
    fake_bin: FakeBin, tmp_path: Path
) -> None:
    nmcli_serving(fake_bin, "nmcli_dev_show.txt", "nmcli_wifi_list.txt")
    iw_link = tmp_path / "iw_link_wlan0.txt"
    iw_link.write_text(
        "Connected to aa:bb:cc:dd:ee:01 (on wlan0)\n\tSSID: Cafe:Guest\n\tfreq: 5180\n"
        "\tsignal: -57 dBm\n\trx bitrate: 780.0 MBit/s VHT-MCS 8 80MHz VHT-NSS 2\n"
        "\ttx bitrate: 866.7 MBit/s VHT-MCS 9 80MHz short GI VHT-NSS 2\n"
    )
    fake_bin.tool("iw", {'"dev wlan0 link"': cat(iw_link)})

    result = await read_link()

    link = result.measurements["link"]
    assert (link["signal_dbm"], link["signal_dbm_approx"]) == (-57, False)
    assert (link["signal_pct"], link["signal_pct_approx"]) == (74, False)
    assert (link["rx_rate_mbps"], link["tx_rate_mbps"]) == (780, 866.7)
    assert fake_bin.calls()[-1] == "iw dev wlan0 link"


async def test_iw_alone_reads_link_and_cached_scan(fake_bin: FakeBin) -> None:
    fake_bin.tool(
        "iw",
        {
            "dev": cat("iw_dev.txt"),
            '"dev wlp2s0 link"': cat("iw_link_weak.txt"),
            '"dev wlp2s0 scan dump"': cat("iw_scan.txt"),
        },
    )

    result = await read_link()

    assert result.measurements["source"] == "iw"
    assert fake_bin.calls() == [
        "iw dev",
        "iw dev wlp2s0 link",
        "iw dev wlp2s0 scan dump",
    ]
    assert result.codes() == {"wifi.weak_signal", "wifi.stronger_ap_visible"}


async def test_nmcli_without_networkmanager_cannot_run_and_says_why(
    fake_bin: FakeBin,
) -> None:
    fake_bin.tool("nmcli", {"*": fail("Error: NetworkManager is not running.", 8)})

    with pytest.raises(WifiCannotRead, match="NetworkManager is not running"):
        await read_link()


async def test_nmcli_failure_falls_back_to_iw(fake_bin: FakeBin) -> None:
    fake_bin.tool("nmcli", {"*": fail("Error: NetworkManager is not running.", 8)})
    fake_bin.tool(
        "iw", {"dev": cat("iw_dev.txt"), '"dev wlp2s0 link"': cat("iw_link.txt")}
    )

    result = await read_link()

    assert result.measurements["source"] == "iw"
    assert result.measurements["link"]["ssid"] == "Office"


async def test_no_wifi_tool_cannot_run(fake_bin: FakeBin) -> None:
    with pytest.raises(WifiCannotRead, match="Neither nmcli .* nor iw is in PATH"):
        await read_link()


async def test_no_wifi_interface_cannot_run(fake_bin: FakeBin, tmp_path: Path) -> None:
    wired_only = tmp_path / "wired.txt"
    wired_only.write_text(
        "GENERAL.DEVICE:enp0s31f6\nGENERAL.TYPE:ethernet\nGENERAL.STATE:100 (connected)\n"
    )
    fake_bin.tool("nmcli", {'*"dev show"*': cat(wired_only), '*"wifi list"*': "exit 0"})

    with pytest.raises(WifiCannotRead, match="No Wi-Fi interface"):
        await read_link()


async def test_a_named_interface_that_is_not_there_cannot_run(
    fake_bin: FakeBin,
) -> None:
    nmcli_serving(fake_bin, "nmcli_dev_show.txt", "nmcli_wifi_list.txt")

    with pytest.raises(WifiCannotRead, match="'wlan9'.*found: wlan0"):
        await read_link(interface="wlan9")


async def test_windows_live_read_decodes_the_console_code_page(
    fake_bin: FakeBin,
) -> None:
    fake_bin.tool(
        "netsh",
        {
            '"wlan show interfaces"': cat("netsh_zh_gbk.txt"),
            '"wlan show networks mode=bssid"': cat("netsh_networks_en.txt"),
        },
    )

    result = await read_link(platform="win32")

    assert result.measurements["link"]["ssid"] == "会议室-5G"
    assert result.codes() == {"wifi.weak_signal", "wifi.stronger_ap_visible"}


async def test_windows_without_a_wireless_interface_cannot_run(
    fake_bin: FakeBin,
) -> None:
    fake_bin.tool("netsh", {"*": cat("netsh_no_interface.txt")})

    with pytest.raises(WifiCannotRead, match="No Wi-Fi interface"):
        await read_link(platform="win32")


async def test_windows_refused_scan_leaves_a_note(fake_bin: FakeBin) -> None:
    refusal = (
        "Network shell commands need location permission to access WLAN information."
    )
    fake_bin.tool(
        "netsh",
        {
            '"wlan show interfaces"': cat("netsh_en.txt"),
            "*": f"echo {shlex.quote(refusal)}; exit 1",
        },
    )

    result = await read_link(platform="win32")

    assert result.measurements["link"]["ssid"] == "Cafe:Guest"
    assert result.measurements["notes"] == [f"netsh listed no networks: {refusal}"]


async def test_macos_without_root_uses_system_profiler(
    fake_bin: FakeBin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wifilive.os, "geteuid", lambda: 501)
    fake_bin.tool("wdutil", {"*": fail("wdutil: must be run as root", 1)})
    fake_bin.tool("system_profiler", {"SPAirPortDataType": cat("system_profiler.txt")})

    result = await read_link(platform="darwin")

    assert fake_bin.calls() == ["system_profiler SPAirPortDataType"]
    assert result.measurements["link"]["ssid"] == "会议室-5G"


async def test_macos_as_root_uses_wdutil(
    fake_bin: FakeBin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wifilive.os, "geteuid", lambda: 0)
    fake_bin.tool("wdutil", {"info": cat("wdutil_info.txt")})

    result = await read_link(platform="darwin")

    assert result.measurements["source"] == "wdutil"
    assert result.measurements["link"]["bssid"] == "70:3a:0e:12:34:56"


async def test_an_unsupported_platform_cannot_run() -> None:
    with pytest.raises(WifiCannotRead, match="'sunos5' is not supported"):
        await read_link(platform="sunos5")


async def test_progress_reports_each_command_start_and_end(fake_bin: FakeBin) -> None:
    nmcli_serving(fake_bin, "nmcli_dev_show.txt", "nmcli_wifi_list.txt")
    events: list[WifiProgress] = []

    await read_link(on_progress=events.append)

    assert [(e.event, e.command) for e in events] == [
        ("started", NM_DEVICES),
        ("finished", NM_DEVICES),
        ("started", NM_LIST),
        ("finished", NM_LIST),
    ]
    assert all(e.pid for e in events)


def assert_gone(pid: int | None) -> None:
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_a_hung_tool_times_out_and_is_killed(fake_bin: FakeBin) -> None:
    fake_bin.tool("nmcli", {"*": "exec /bin/sleep 30"})
    events: list[WifiProgress] = []

    with pytest.raises(WifiCannotRead, match="did not finish within 0.3 s"):
        await read_link(timeout_s=0.3, on_progress=events.append)

    assert [e.event for e in events] == ["started", "failed"]
    assert_gone(events[0].pid)


async def test_cancelling_a_read_kills_the_tool_and_leaves_no_task(
    fake_bin: FakeBin,
) -> None:
    fake_bin.tool("nmcli", {"*": "exec /bin/sleep 30"})
    started = asyncio.Event()
    events: list[WifiProgress] = []

    def on_progress(event: WifiProgress) -> None:
        events.append(event)
        started.set()

    task = asyncio.create_task(read_link(timeout_s=30, on_progress=on_progress))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert_gone(events[0].pid)
    assert asyncio.all_tasks() == {asyncio.current_task()}
