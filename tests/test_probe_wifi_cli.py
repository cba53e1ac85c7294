"""`netcase probe wifi`: captures from files, JSON shape, exit codes."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from netcase.cli import main

SAMPLES = Path(__file__).parent / "samples" / "wifi"


def sample(name: str) -> str:
    return str(SAMPLES / name)


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["probe", "wifi", "--json", *args]) == 0
    output: dict[str, Any] = json.loads(capsys.readouterr().out)
    return output


def test_json_has_the_probe_shape(capsys: pytest.CaptureFixture[str]) -> None:
    output = run_json(capsys, "--from-file", sample("nmcli_sticky.txt"))

    assert set(output) == {
        "probe",
        "started",
        "duration_s",
        "params",
        "measurements",
        "findings",
    }
    assert output["probe"] == "wifi"
    assert output["params"]["origin"] == sample("nmcli_sticky.txt")
    assert output["measurements"]["link"]["ssid"] == "Office"
    assert [f["code"] for f in output["findings"]] == [
        "wifi.weak_signal",
        "wifi.stronger_ap_visible",
    ]
    for finding in output["findings"]:
        assert set(finding) == {"code", "severity", "summary", "data"}
        assert finding["severity"] == "warning"


def test_readable_table_names_the_link_and_the_findings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["probe", "wifi", "--from-file", sample("netsh_zh.txt")]) == 0
    output = capsys.readouterr().out

    assert "会议室-5G" in output
    assert "70:3a:0e:00:00:01" in output
    assert "~-85 dBm 30%" in output
    assert "wifi.weak_signal" in output


def test_a_fine_link_exits_0_without_findings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = run_json(capsys, "--from-file", sample("wdutil_info.txt"))
    assert output["findings"] == []


def test_scan_file_adds_the_stronger_ap(capsys: pytest.CaptureFixture[str]) -> None:
    output = run_json(
        capsys,
        "--from-file",
        sample("iw_link_weak.txt"),
        "--scan-file",
        sample("iw_scan.txt"),
    )
    assert "wifi.stronger_ap_visible" in [f["code"] for f in output["findings"]]
    assert output["params"]["scan_origin"] == sample("iw_scan.txt")


def test_previous_capture_tells_a_roam(capsys: pytest.CaptureFixture[str]) -> None:
    output = run_json(
        capsys,
        "--from-file",
        sample("iw_link_after_roam.txt"),
        "--previous",
        sample("iw_link_weak.txt"),
    )
    assert [f["code"] for f in output["findings"]] == ["wifi.roamed"]
    assert output["measurements"]["roamed"] is True


def test_previous_json_output_tells_a_roam(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = tmp_path / "before.json"
    before.write_text(
        json.dumps(run_json(capsys, "--from-file", sample("iw_link_weak.txt")))
    )

    output = run_json(
        capsys,
        "--from-file",
        sample("iw_link_after_roam.txt"),
        "--previous",
        str(before),
    )

    roam = output["findings"][0]
    assert roam["code"] == "wifi.roamed"
    assert roam["data"]["weak_before"] is True
    assert output["params"]["previous"] == str(before)


def test_site_threshold_decides_weak_signal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site = tmp_path / "site.toml"
    site.write_text("[thresholds]\nweak_signal_dbm = -60.0\n")

    output = run_json(capsys, "--site", str(site), "--from-file", sample("iw_link.txt"))

    assert [f["code"] for f in output["findings"]] == ["wifi.weak_signal"]
    assert output["params"]["weak_signal_dbm"] == -60


def test_interface_picks_one_of_several(capsys: pytest.CaptureFixture[str]) -> None:
    output = run_json(
        capsys, "--from-file", sample("netsh_en_two.txt"), "--interface", "Wi-Fi 2"
    )
    assert output["measurements"]["interface"] == "Wi-Fi 2"
    assert len(output["measurements"]["interfaces"]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-file", "no/such/file.txt"], "Cannot read 'no/such/file.txt'"),
        (["--from-file", sample("iw_dev.txt")], "not the output of a Wi-Fi command"),
        (["--from-file", sample("netsh_en.txt"), "--interface", "wlan9"], "'wlan9'"),
        (["--timeout", "0"], "--timeout 0.0 is out of range"),
        (
            ["--from-file", sample("iw_link.txt"), "--again-after", "1"],
            "--again-after reads live",
        ),
    ],
)
def test_bad_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["probe", "wifi", *args]) == 2
    assert message in capsys.readouterr().err


def test_previous_json_of_another_probe_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    other = tmp_path / "dns.json"
    other.write_text('{"probe": "dns", "measurements": {}}')

    assert (
        main(
            [
                "probe",
                "wifi",
                "--from-file",
                sample("iw_link.txt"),
                "--previous",
                str(other),
            ]
        )
        == 2
    )
    assert "not the output of 'netcase probe wifi --json'" in capsys.readouterr().err


def test_live_read_without_any_wifi_tool_exits_3(tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()

    finished = subprocess.run(
        [sys.executable, "-m", "netcase", "probe", "wifi"],
        env={**os.environ, "PATH": str(empty)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 3
    assert "Neither nmcli (NetworkManager) nor iw is in PATH" in finished.stderr
    assert finished.stdout == ""


def test_again_after_reads_twice_and_compares(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "bin"
    folder.mkdir()
    marker = tmp_path / "read-once"
    first, second = sample("iw_link_weak.txt"), sample("iw_link_after_roam.txt")
    script = folder / "iw"
    script.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f"  dev) exec /bin/cat {shlex.quote(sample('iw_dev.txt'))} ;;\n"
        f'  "dev wlp2s0 link") if [ -e {marker} ]; then exec /bin/cat {shlex.quote(second)};'
        f" else : > {marker}; exec /bin/cat {shlex.quote(first)}; fi ;;\n"
        "  *) exit 1 ;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))

    output = run_json(capsys, "--again-after", "0")

    assert [f["code"] for f in output["findings"]] == ["wifi.roamed"]
    assert output["measurements"]["previous"]["bssid"] == "70:3a:0e:00:00:01"
    assert output["measurements"]["link"]["bssid"] == "70:3a:0e:00:00:05"


def test_a_capture_without_wifi_interface_still_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["probe", "wifi", "--from-file", sample("netsh_no_interface.txt")]) == 0
    assert "No Wi-Fi interface in this read." in capsys.readouterr().out
