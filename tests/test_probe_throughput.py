"""Throughput probe against local HTTP, FTP and speedtest mini servers."""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import speedtest

from latency_servers import full_listener
from netcase.cli import main
from netcase.errors import ConfigError
from netcase.probes.registry import PROBES
from netcase.probes.throughput import (
    RETEST_PROMPT,
    ThroughputProgress,
    ThroughputRun,
    measure,
    probe_throughput,
)
from netcase.probes.throughput_findings import (
    note_small_runs,
    throughput_findings,
    too_small_to_judge,
)
from netcase.site import Site, Thresholds
from servers_throughput import (
    FTP_PASSWORD,
    FTP_USER,
    FtpServer,
    PayloadServer,
    serve_ftp,
    serve_http,
    write_payload,
)

PAYLOAD_BYTES = 3_000_000
ENDLESS = "/bytes/10000000000"
"""More bytes than any timed run here can fetch."""


@pytest.fixture
def http_server() -> Iterator[PayloadServer]:
    with serve_http() as server:
        yield server


@pytest.fixture
def ftp_server(tmp_path: Path) -> Iterator[FtpServer]:
    root = tmp_path / "ftp"
    write_payload(root / "pub" / "payload.bin", PAYLOAD_BYTES)
    with serve_ftp(root) as server:
        yield server


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["probe", "throughput", *args])
    out, err = capsys.readouterr()
    return code, out, err


# HTTP


async def test_http_download_counts_every_byte_of_the_file(
    http_server: PayloadServer,
) -> None:
    run = await measure(http_server.url(f"/bytes/{PAYLOAD_BYTES}"), seconds=30)

    assert run.ok
    assert (run.bytes_received, run.ended) == (PAYLOAD_BYTES, "eof")
    assert run.mbps == pytest.approx(PAYLOAD_BYTES * 8 / run.seconds / 1e6)
    assert run.per_second_mbps


async def test_http_redirect_is_followed(http_server: PayloadServer) -> None:
    run = await measure(http_server.url(f"/redirect/{PAYLOAD_BYTES}"), seconds=30)

    assert run.bytes_received == PAYLOAD_BYTES
    assert http_server.paths == [
        f"/redirect/{PAYLOAD_BYTES}",
        f"/bytes/{PAYLOAD_BYTES}",
    ]


async def test_timed_run_stops_at_the_deadline_with_one_rate_per_second(
    http_server: PayloadServer,
) -> None:
    http_server.rate_bps = 8e6
    events: list[ThroughputProgress] = []

    run = await measure(
        http_server.url(ENDLESS), seconds=2.5, on_progress=events.append
    )

    assert run.ended == "deadline"
    assert len(run.per_second_mbps) == 3
    assert all(mbps > 0 for mbps in run.per_second_mbps)
    assert [event.second for event in events] == [1, 2]
    assert events[0].bytes_total < events[1].bytes_total <= run.bytes_received


async def test_server_closing_before_the_end_is_a_broken_transfer(
    http_server: PayloadServer,
) -> None:
    run = await measure(http_server.url(f"/short/{PAYLOAD_BYTES}"), seconds=30)

    assert run.ok
    assert (run.bytes_received, run.ended) == (PAYLOAD_BYTES // 2, "broken")
    assert run.note is not None and f"{PAYLOAD_BYTES // 2} bytes early" in run.note


async def test_http_403_is_an_error_in_the_run_not_a_crash(
    http_server: PayloadServer,
) -> None:
    result = await probe_throughput(http_server.url("/forbidden"), seconds=5)

    run = result.measurements["runs"][0]
    assert "HTTP 403 Forbidden" in run["error"]
    assert (run["bytes"], run["ended"]) == (0, "error")
    assert result.findings == []


async def test_closed_port_is_an_error_naming_the_refusal() -> None:
    run = await measure("http://127.0.0.1:9/payload", seconds=5)

    assert not run.ok
    assert run.error is not None and "refused the connection" in run.error


async def test_source_address_not_on_this_machine_is_named() -> None:
    run = await measure("http://127.0.0.1:9/payload", source="10.254.0.1")

    assert run.error is not None and "'10.254.0.1' is not on this machine" in run.error


async def test_http_binds_the_uplink_source_address(http_server: PayloadServer) -> None:
    run = await measure(
        http_server.url(f"/bytes/{PAYLOAD_BYTES}"), source="127.0.0.2", seconds=30
    )

    assert run.ok
    assert run.source == "127.0.0.2"
    assert http_server.clients == {"127.0.0.2"}


async def test_cancelling_a_transfer_stops_it_and_closes_its_connection(
    http_server: PayloadServer,
) -> None:
    http_server.rate_bps = 4e6
    first_second = asyncio.Event()
    task = asyncio.create_task(
        measure(
            http_server.url(ENDLESS),
            seconds=300,
            on_progress=lambda event: first_second.set(),
        )
    )
    await first_second.wait()

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    assert await asyncio.to_thread(http_server.closed.acquire, timeout=30)


# FTP


async def test_ftp_anonymous_download_from_a_folder_bound_to_a_source(
    ftp_server: FtpServer,
) -> None:
    run = await measure(
        ftp_server.url("/pub/payload.bin"), source="127.0.0.3", seconds=30
    )

    assert run.ok
    assert (run.backend, run.bytes_received, run.ended) == ("ftp", PAYLOAD_BYTES, "eof")
    assert ftp_server.logins == [("anonymous", "127.0.0.3")]


async def test_ftp_logs_in_with_the_url_user_and_hides_the_password(
    ftp_server: FtpServer,
) -> None:
    url = ftp_server.url("/pub/payload.bin", FTP_USER, FTP_PASSWORD)

    result = await probe_throughput(url, seconds=30)

    assert ftp_server.logins[0][0] == FTP_USER
    assert result.measurements["runs"][0]["bytes"] == PAYLOAD_BYTES
    assert FTP_PASSWORD not in json.dumps(result.to_json())
    assert f"{FTP_USER}:***@" in result.params["target"]


async def test_ftp_wrong_password_is_a_refusal(ftp_server: FtpServer) -> None:
    run = await measure(ftp_server.url("/pub/payload.bin", FTP_USER, "wrong"))

    assert run.error is not None and "530" in run.error


async def test_ftp_missing_file_is_a_refusal(ftp_server: FtpServer) -> None:
    run = await measure(ftp_server.url("/pub/missing.bin"))

    assert run.error is not None and "550" in run.error


# speedtest


async def test_speedtest_runs_the_mini_protocol_on_the_local_server(
    http_server: PayloadServer,
) -> None:
    run = await measure(
        "speedtest", server=http_server.url("/"), source="127.0.0.2", seconds=5
    )

    assert run.ok, run.error
    assert run.backend == "speedtest"
    assert run.extra["upload_mbps"] > 0
    assert http_server.uploaded_bytes > 0
    assert http_server.clients == {"127.0.0.2"}
    assert "/speedtest/latency.txt" in http_server.paths
    assert "/speedtest/random350x350.jpg" in http_server.paths
    assert "POST /speedtest/upload.php" in http_server.paths


async def test_speedtest_measures_a_rate_under_warnings_as_errors(
    http_server: PayloadServer,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = await measure("speedtest", server=http_server.url("/"), seconds=5)

    assert run.ok, run.error
    assert run.bytes_received > 0


async def test_speedtest_server_answering_403_is_a_clear_error(
    http_server: PayloadServer,
) -> None:
    http_server.refuse_all = True

    run = await measure("speedtest", server=http_server.url("/"), seconds=5)

    assert not run.ok
    assert run.error is not None and "HTTP 403 Forbidden" in run.error


async def test_cancelling_a_speedtest_stops_its_download_threads(
    http_server: PayloadServer,
) -> None:
    http_server.rate_bps = 2e6
    first_second = asyncio.Event()
    task = asyncio.create_task(
        measure(
            "speedtest",
            server=http_server.url("/"),
            seconds=300,
            on_progress=lambda event: first_second.set(),
        )
    )
    await first_second.wait()

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    downloaders = [
        thread
        for thread in threading.enumerate()
        if isinstance(thread, speedtest.HTTPDownloader)
    ]
    assert downloaders == []


# Findings


async def test_slow_run_is_throughput_low(http_server: PayloadServer) -> None:
    http_server.rate_bps = 2e6

    result = await probe_throughput(http_server.url(ENDLESS), seconds=1.5)

    assert result.codes() == {"throughput.low"}
    assert result.findings[0].data["expect_mbps"] == 5.0


async def test_rate_over_the_expected_rate_is_not_low(
    http_server: PayloadServer,
) -> None:
    http_server.rate_bps = 2e6

    result = await probe_throughput(
        http_server.url(ENDLESS), seconds=1.5, expect_mbps=1.0
    )

    assert result.findings == []


async def test_faster_retest_after_the_action_is_recovered_after_reconnect(
    http_server: PayloadServer,
) -> None:
    http_server.rate_bps = 2e6
    prompts: list[str] = []

    async def reconnect(prompt: str) -> None:
        prompts.append(prompt)
        http_server.rate_bps = 20e6

    result = await probe_throughput(
        http_server.url(ENDLESS), seconds=1.5, retest=True, await_action=reconnect
    )

    assert prompts == [RETEST_PROMPT]
    assert "throughput.recovered_after_reconnect" in result.codes()
    assert "throughput.unchanged" not in result.codes()
    recovered = next(
        f for f in result.findings if f.code == "throughput.recovered_after_reconnect"
    )
    before, after = recovered.data["before_mbps"], recovered.data["after_mbps"]
    assert recovered.data["ratio"] == pytest.approx(after / before, rel=0.01)
    assert recovered.data["ratio"] >= 2.0
    assert [run["label"] for run in result.measurements["runs"]] == ["before", "after"]


async def test_retest_at_the_same_rate_is_unchanged(
    http_server: PayloadServer,
) -> None:
    http_server.rate_bps = 8e6

    async def nothing_changes(prompt: str) -> None:
        return None

    result = await probe_throughput(
        http_server.url(ENDLESS),
        seconds=1.5,
        retest=True,
        await_action=nothing_changes,
    )

    assert result.codes() == {"throughput.unchanged"}
    assert result.findings[0].data["ratio"] < 2.0


# CLI


def test_cli_json_has_the_probe_shape(
    http_server: PayloadServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, http_server.url(f"/bytes/{PAYLOAD_BYTES}"), "--json")

    document = json.loads(out)
    assert code == 0
    assert set(document) == {
        "probe", "started", "duration_s", "params", "measurements", "findings"
    }  # fmt: skip
    assert document["probe"] == "throughput"
    assert document["measurements"]["runs"][0]["bytes"] == PAYLOAD_BYTES


def test_cli_table_shows_the_rate_and_the_findings(
    http_server: PayloadServer, capsys: pytest.CaptureFixture[str]
) -> None:
    http_server.rate_bps = 2e6

    code, out, _ = cli(capsys, http_server.url(ENDLESS), "--seconds", "1.2")

    assert code == 0
    assert "Mbit/s" in out and "per second:" in out
    assert "throughput.low" in out


def test_cli_refusal_exits_3_with_the_reason_on_stderr(
    http_server: PayloadServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, http_server.url("/forbidden"), "--json")

    assert code == 3
    assert out == ""
    assert "HTTP 403 Forbidden" in err


def test_cli_speedtest_403_exits_3(
    http_server: PayloadServer, capsys: pytest.CaptureFixture[str]
) -> None:
    http_server.refuse_all = True

    code, _, err = cli(capsys, "speedtest", "--server", http_server.url("/"))

    assert code == 3
    assert "403" in err


def test_cli_retest_proceeds_when_stdin_is_at_its_end(
    http_server: PayloadServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    code, out, err = cli(
        capsys, http_server.url(f"/bytes/{PAYLOAD_BYTES}"), "--retest", "--json"
    )

    assert code == 0
    assert "Reconnect Wi-Fi where you stand, then press Enter" in err
    runs = json.loads(out)["measurements"]["runs"]
    assert [run["label"] for run in runs] == ["before", "after"]


def test_cli_uplink_from_the_site_profile_binds_its_source(
    http_server: PayloadServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site = tmp_path / "site.toml"
    site.write_text('[[uplinks]]\nname = "telecom"\nsource = "127.0.0.2"\n')

    code, out, _ = cli(
        capsys,
        http_server.url(f"/bytes/{PAYLOAD_BYTES}"),
        "--site",
        str(site),
        "--uplink",
        "telecom",
        "--json",
    )

    assert code == 0
    assert json.loads(out)["params"]["uplink"] == "telecom"
    assert http_server.clients == {"127.0.0.2"}


def test_cli_site_target_is_used_when_none_is_given(
    http_server: PayloadServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site = tmp_path / "site.toml"
    url = http_server.url(f"/bytes/{PAYLOAD_BYTES}")
    site.write_text(f'[targets]\nthroughput = "{url}"\n')

    code, out, _ = cli(capsys, "--site", str(site), "--json")

    assert code == 0
    assert json.loads(out)["params"]["target"] == url


@pytest.mark.parametrize(
    "args",
    [
        ["gopher://127.0.0.1/x"],
        ["http://127.0.0.1/x", "--seconds", "0"],
        ["http://127.0.0.1/x", "--uplink", "up1=not-an-address"],
        ["http://127.0.0.1/x", "--uplink", "nosuchuplink"],
        ["http://127.0.0.1/x", "--server", "http://127.0.0.1/"],
        ["speedtest", "--server", "ftp://127.0.0.1/"],
        ["http://127.0.0.1/x", "--expect-mbps", "-1"],
        [],
    ],
)
def test_cli_bad_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, _, err = cli(capsys, *args)

    assert code == 2
    assert err.startswith("netcase: ")


async def test_a_tiny_file_is_too_small_to_judge_and_not_low(
    http_server: PayloadServer,
) -> None:
    result = await probe_throughput(
        http_server.url("/bytes/6"), seconds=5, expect_mbps=1e6
    )

    (run,) = result.measurements["runs"]
    assert (run["bytes"], run["ended"]) == (6, "eof")
    assert result.findings == []
    assert run["note"] == (
        "Too small to judge the link: the whole file is 6 bytes; use a file of 10 MB "
        "or more."
    )


@pytest.mark.parametrize(
    ("bytes_received", "seconds", "ended", "judged"),
    [
        (60_000, 3.0, "deadline", False),
        (3_000_000, 0.2, "eof", False),
        (3_000_000, 0.2, "broken", True),
        (3_000_000, 2.0, "eof", True),
        (65_536, 2.0, "deadline", True),
        (50_000_000, 0.3, "eof", True),
        (9_000_000, 0.3, "eof", False),
    ],
)
def test_only_runs_big_enough_to_judge_can_be_throughput_low(
    bytes_received: int, seconds: float, ended: str, judged: bool
) -> None:
    run = ThroughputRun(
        "run", "http", "http://127.0.0.1/x", None, bytes_received, seconds,
        mbps=bytes_received * 8 / seconds / 1e6, ended=ended, error=None,
    )  # fmt: skip

    findings = throughput_findings([run], Thresholds(), expect_mbps=1e6)

    assert too_small_to_judge(run) is not judged
    assert [f.code for f in findings] == (["throughput.low"] if judged else [])


def small_run(bytes_received: int, seconds: float, ended: str) -> ThroughputRun:
    return ThroughputRun(
        "run", "http", "http://127.0.0.1/x", None, bytes_received, seconds,
        mbps=bytes_received * 8 / seconds / 1e6, ended=ended,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("bytes_received", "seconds", "ended", "note"),
    [
        (
            3_000_000, 0.2, "eof",
            "Too short to judge the link: the whole file (3,000,000 bytes) arrived "
            "in 0.20 s, before the rate could settle; use a file of 10 MB or more.",
        ),
        (
            60_000, 3.0, "deadline",
            "Too little to judge the link: only 60,000 bytes arrived in 3.00 s; run "
            "it for longer.",
        ),
        (
            20_000, 2.0, "stalled",
            "Too little to judge the link: only 20,000 bytes arrived in 2.00 s.",
        ),
        (50_000_000, 0.3, "eof", None),
    ],
)  # fmt: skip
def test_the_note_on_a_small_run_names_what_was_too_small(
    bytes_received: int, seconds: float, ended: str, note: str | None
) -> None:
    run = small_run(bytes_received, seconds, ended)

    note_small_runs([run])

    assert run.note == note


async def test_cancelling_while_an_ftp_server_is_still_being_reached_ends_at_once() -> (
    None
):
    with full_listener() as silent:
        fillers = silent.syn_sent()
        connecting = asyncio.create_task(
            measure(f"ftp://127.0.0.1:{silent.port}/x.bin", seconds=5, timeout_s=60)
        )
        await silent.wait_for_one_more_syn_than(fillers)  # Inside connect() now.
        assert not connecting.done()

        connecting.cancel()

        # Far below the 60 s connect timeout: the connect itself was interrupted.
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(connecting, 20)


# URLs that cannot be fetched are refused before anything is sent.

BAD_URLS = [
    ("http://127.0.0.1:99999/x", "its port '99999' is not a TCP port from 1 to 65535"),
    ("ftp://127.0.0.1:0/x", "its port '0' is not a TCP port from 1 to 65535"),
    ("https://127.0.0.1:8o/x", "its port '8o' is not a TCP port"),
    ("http://[::1/x", "an IPv6 address in it must sit between '[' and ']'"),
    ("http://[nothost]/x", "the host between '[' and ']' is not an IPv6 address"),
    (
        "http://user@127.0.0.1:8081:22/x",
        "its host and port '127.0.0.1:8081:22' give more than one port (':8081:22')",
    ),
    ("http://[::1]:80:90/x", "its host and port '[::1]:80:90' give more than one"),
    ("http://fe80::1:80/x", "an IPv6 address goes between '[' and ']'"),
]


@contextmanager
def redirecting_server(location: str) -> Iterator[str]:
    """Serve a 302 to ``location`` on loopback; yield the URL that redirects."""

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet."""

    with ThreadingHTTPServer(("127.0.0.1", 0), Redirect) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/moved"
        finally:
            server.shutdown()
            thread.join()


@pytest.mark.parametrize(("url", "problem"), BAD_URLS)
def test_cli_bad_url_exits_2_naming_the_url_and_the_problem(
    capsys: pytest.CaptureFixture[str], url: str, problem: str
) -> None:
    code, out, err = cli(capsys, url)

    assert (code, out) == (2, "")
    assert err.startswith(f"netcase: The throughput target {url!r} cannot be used: ")
    assert problem in err


def test_cli_bad_url_hides_its_password(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "ftp://alice:s3cret@127.0.0.1:70000/x")

    assert code == 2
    assert "'ftp://alice:***@127.0.0.1:70000/x'" in err
    assert "s3cret" not in err


@pytest.mark.parametrize(("url", "problem"), BAD_URLS)
async def test_playbook_step_with_a_bad_url_is_a_config_error(
    url: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(problem)):
        await PROBES["throughput"].run({"url": url, "seconds": 1}, Site(), None)


def test_speedtest_server_with_a_bad_port_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = cli(capsys, "speedtest", "--server", "http://127.0.0.1:99999/")

    assert code == 2
    assert "--server 'http://127.0.0.1:99999/'" in err


async def test_redirect_to_a_bad_port_is_an_error_in_the_run() -> None:
    with redirecting_server("http://127.0.0.1:99999/elsewhere") as url:
        run = await measure(url, seconds=5)

    assert not run.ok
    assert run.error == (
        f"{url!r} redirects to 'http://127.0.0.1:99999/elsewhere', which cannot be "
        "fetched: its port '99999' is not a TCP port from 1 to 65535; give one, or "
        "none for the scheme's default."
    )


async def test_redirect_to_an_ftp_url_is_an_error_in_the_run() -> None:
    with redirecting_server("ftp://127.0.0.1/file.bin") as url:
        run = await measure(url, seconds=5)

    assert run.error is not None
    assert "only http:// and https:// redirects are followed" in run.error


async def test_playbook_step_with_a_bad_speedtest_server_is_a_config_error() -> None:
    params = {"url": "speedtest", "server": "http://127.0.0.1:99999/", "seconds": 1}

    with pytest.raises(
        ConfigError, match=r"speedtest server 'http://127\.0\.0\.1:99999/'"
    ):
        await PROBES["throughput"].run(params, Site(), None)
