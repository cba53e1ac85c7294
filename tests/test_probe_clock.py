"""The clock probe against loopback SNTP and HTTP servers, and pasted apt errors."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from clockservers import (
    SntpBehaviour,
    date_server,
    expired_certificate,
    forward_proxy,
    shifted_date,
    sntp_responder,
)
from latency_servers import closed_port, listening_port
from netcase.cli import main
from netcase.errors import ConfigError
from netcase.probes.clock import ReadingTaken, check_clock, span_text
from netcase.probes.clock_apt import apt_readings, parse_span
from netcase.probes.clock_sources import parse_server, tls_context

SIX_DAYS_S = 6 * 86_400
SEED_APT_ERROR = (
    "E: Release file for http://mirrors.ustc.edu.cn/ubuntu/dists/noble/InRelease "
    "is not valid yet (invalid for another 1d 20h 3min 15s). Updates for this "
    "repository will not be applied."
)
EXPIRED_APT_ERROR = (
    "E: Release file for http://mirrors.example.cn/debian-security/dists/"
    "bookworm-security/InRelease is expired (invalid since 2d 4h). Updates for "
    "this repository will not be applied."
)


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A bound UDP port on 127.0.0.1 that never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        yield sock


def codes(result: object) -> list[str]:
    return [finding.code for finding in result.findings]  # type: ignore[attr-defined]


def finding(result: object, code: str) -> dict[str, object]:
    for item in result.findings:  # type: ignore[attr-defined]
        if item.code == code:
            return {"summary": item.summary, **item.data}
    raise AssertionError(f"no {code} in {codes(result)}")


# SNTP


async def test_sntp_server_six_days_ahead_means_the_clock_is_behind() -> None:
    behaviour = SntpBehaviour(shift_s=SIX_DAYS_S)
    with sntp_responder(behaviour) as server:
        result = await check_clock(ntp=server, timeout_s=2.0)

    reading = result.measurements["readings"][0]
    assert reading["method"] == "sntp"
    assert reading["offset_s"] == pytest.approx(SIX_DAYS_S, abs=1.0)
    assert reading["direction"] == "behind"
    assert reading["rtt_s"] >= 0
    assert reading["detail"]["stratum"] == 2
    assert codes(result) == ["clock.skewed"]
    skewed = finding(result, "clock.skewed")
    assert skewed["direction"] == "behind"
    assert skewed["source"] == "ntp"
    assert skewed["lower_bound"] is False
    assert "6d" in str(skewed["summary"])


async def test_sntp_request_is_a_version_4_client_packet() -> None:
    behaviour = SntpBehaviour()
    with sntp_responder(behaviour) as server:
        await check_clock(ntp=server, timeout_s=2.0)

    (request,) = behaviour.requests
    assert len(request) == 48
    assert request[0] == 0x23
    assert request[40:48] != b"\0" * 8


async def test_sntp_server_six_days_behind_means_the_clock_is_ahead() -> None:
    with sntp_responder(SntpBehaviour(shift_s=-SIX_DAYS_S)) as server:
        result = await check_clock(ntp=server, timeout_s=2.0)

    skewed = finding(result, "clock.skewed")
    assert skewed["offset_s"] == pytest.approx(-SIX_DAYS_S, abs=1.0)
    assert skewed["direction"] == "ahead"


async def test_sntp_server_in_step_is_clock_ok() -> None:
    with sntp_responder(SntpBehaviour(shift_s=0.0)) as server:
        result = await check_clock(ntp=server, timeout_s=2.0)

    assert codes(result) == ["clock.ok"]
    assert abs(finding(result, "clock.ok")["offset_s"]) < 1.0  # type: ignore[arg-type]


async def test_silent_sntp_server_is_clock_unreachable(
    silent_server: socket.socket,
) -> None:
    port = silent_server.getsockname()[1]

    result = await check_clock(ntp=f"127.0.0.1:{port}", timeout_s=0.2)

    reading = result.measurements["readings"][0]
    assert reading["offset_s"] is None
    assert reading["error"] == "No answer within 0.2 s."
    assert codes(result) == ["clock.unreachable"]
    assert finding(result, "clock.unreachable")["references"] == [f"127.0.0.1:{port}"]


async def test_closed_sntp_port_is_reported_as_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    result = await check_clock(ntp=f"127.0.0.1:{port}", timeout_s=2.0)

    assert "refused" in result.measurements["readings"][0]["error"].lower()
    assert codes(result) == ["clock.unreachable"]


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (SntpBehaviour(stratum=0), "kiss-o'-death 'RATE'"),
        (SntpBehaviour(leap=3), "not synchronised"),
        (SntpBehaviour(mode=3), "not an NTP server reply"),
        (SntpBehaviour(echo_originate=False), "does not echo this request"),
    ],
)
async def test_unusable_sntp_answers_are_rejected(
    behaviour: SntpBehaviour, message: str
) -> None:
    with sntp_responder(behaviour) as server:
        result = await check_clock(ntp=server, timeout_s=2.0)

    assert message in result.measurements["readings"][0]["error"]
    assert codes(result) == ["clock.unreachable"]


async def test_cancelling_a_probe_leaves_no_task_or_socket(
    silent_server: socket.socket,
) -> None:
    port = silent_server.getsockname()[1]
    fds_before = len(os.listdir("/proc/self/fd"))

    task = asyncio.create_task(check_clock(ntp=f"127.0.0.1:{port}", timeout_s=30.0))
    await asyncio.get_running_loop().sock_recv(silent_server, 100)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert len(os.listdir("/proc/self/fd")) == fds_before


# HTTP Date


async def test_http_date_six_days_ahead_means_the_clock_is_behind() -> None:
    with date_server(shifted_date(SIX_DAYS_S)) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/probe?x=1"
        result = await check_clock(http_url=url, timeout_s=2.0)

    reading = result.measurements["readings"][0]
    assert server.paths == ["/probe?x=1"]
    assert reading["method"] == "http-date"
    assert reading["offset_s"] == pytest.approx(SIX_DAYS_S, abs=1.5)
    assert reading["uncertainty_s"] >= 0.5
    assert reading["detail"]["resolution_s"] == 1.0
    skewed = finding(result, "clock.skewed")
    assert skewed["source"] == "http"
    assert "one-second resolution" in str(skewed["summary"])


async def test_http_date_far_in_the_past_means_the_clock_is_ahead() -> None:
    with date_server(lambda: "Sun, 06 Nov 1994 08:49:37 GMT") as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        result = await check_clock(http_url=url, timeout_s=2.0)

    assert finding(result, "clock.skewed")["direction"] == "ahead"


async def test_http_answer_without_date_is_clock_unreachable() -> None:
    with date_server(lambda: None) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        result = await check_clock(http_url=url, timeout_s=2.0)

    assert (
        result.measurements["readings"][0]["error"] == "The answer has no Date header."
    )
    assert codes(result) == ["clock.unreachable"]


@pytest.fixture
def expired_tls(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = expired_certificate(tmp_path)
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    return cert, server_side


async def test_https_date_is_read_even_when_the_certificate_looks_expired(
    expired_tls: tuple[Path, ssl.SSLContext],
) -> None:
    cert, server_side = expired_tls
    with date_server(shifted_date(SIX_DAYS_S), tls=server_side) as server:
        url = f"https://127.0.0.1:{server.server_address[1]}/"
        result = await check_clock(
            http_url=url, timeout_s=2.0, ssl_context=tls_context(cafile=str(cert))
        )

    assert finding(result, "clock.skewed")["offset_s"] == pytest.approx(
        SIX_DAYS_S, abs=1.5
    )


async def test_https_with_a_date_checking_context_fails_on_the_expired_certificate(
    expired_tls: tuple[Path, ssl.SSLContext],
) -> None:
    cert, server_side = expired_tls
    with date_server(shifted_date(0), tls=server_side) as server:
        url = f"https://127.0.0.1:{server.server_address[1]}/"
        context = ssl.create_default_context(cafile=str(cert))
        result = await check_clock(http_url=url, timeout_s=2.0, ssl_context=context)

    assert "expired" in result.measurements["readings"][0]["error"]
    assert codes(result) == ["clock.unreachable"]


async def test_http_date_through_a_proxy_asks_it_in_absolute_form() -> None:
    with date_server(shifted_date(SIX_DAYS_S)) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/probe?x=1"
        async with forward_proxy() as proxy:
            result = await check_clock(
                http_url=url, http_proxy=proxy.url, timeout_s=2.0
            )

    assert proxy.requests == [f"HEAD {url}"]
    assert server.paths == ["/probe?x=1"]
    assert result.measurements["readings"][0]["detail"]["proxy"] == proxy.url
    assert finding(result, "clock.skewed")["offset_s"] == pytest.approx(
        SIX_DAYS_S, abs=1.5
    )


async def test_https_date_through_a_proxy_goes_through_a_connect_tunnel(
    expired_tls: tuple[Path, ssl.SSLContext],
) -> None:
    cert, server_side = expired_tls
    with date_server(shifted_date(SIX_DAYS_S), tls=server_side) as server:
        port = server.server_address[1]
        async with forward_proxy() as proxy:
            result = await check_clock(
                http_url=f"https://127.0.0.1:{port}/",
                http_proxy=proxy.url,
                timeout_s=2.0,
                ssl_context=tls_context(cafile=str(cert)),
            )

    assert proxy.requests == [f"CONNECT 127.0.0.1:{port}"]
    assert server.paths == ["/"]
    assert finding(result, "clock.skewed")["offset_s"] == pytest.approx(
        SIX_DAYS_S, abs=1.5
    )


async def test_proxy_refusing_the_tunnel_is_named_in_the_reading() -> None:
    async with forward_proxy(refuse_tunnels=True) as proxy:
        result = await check_clock(
            http_url="https://127.0.0.1:9/", http_proxy=proxy.url, timeout_s=2.0
        )

    error = result.measurements["readings"][0]["error"]
    assert f"The proxy {proxy.url} refused the tunnel to 127.0.0.1:9" in error
    assert "403 Forbidden" in error
    assert codes(result) == ["clock.unreachable"]


@pytest.mark.parametrize(
    "status", ["403 Forbidden", "407 Proxy Authentication Required", "502 Bad Gateway"]
)
async def test_proxy_refusing_a_plain_request_is_named_with_its_status(
    status: str,
) -> None:
    url = "http://127.0.0.1:9/"
    async with forward_proxy(refuse_requests=status) as proxy:
        result = await check_clock(http_url=url, http_proxy=proxy.url, timeout_s=2.0)

    reading = result.measurements["readings"][0]
    assert reading["error"].startswith(
        f"The proxy {proxy.url} answered HTTP {status} to the request for {url}"
    )
    assert reading["offset_s"] is None
    assert codes(result) == ["clock.unreachable"]


async def test_closed_proxy_port_is_named_as_the_proxy() -> None:
    with closed_port() as port:
        proxy = f"http://127.0.0.1:{port}"
        result = await check_clock(
            http_url="http://127.0.0.1:9/", http_proxy=proxy, timeout_s=2.0
        )

    error = result.measurements["readings"][0]["error"]
    assert error == f"Cannot reach the proxy {proxy}: connection refused."
    assert codes(result) == ["clock.unreachable"]


async def test_closed_http_port_says_connection_refused() -> None:
    with closed_port() as port:
        result = await check_clock(http_url=f"http://127.0.0.1:{port}/", timeout_s=2.0)

    assert result.measurements["readings"][0]["error"] == "Connection refused."


async def test_silent_proxy_is_named_in_the_timeout() -> None:
    with listening_port() as port:
        proxy = f"http://127.0.0.1:{port}"
        result = await check_clock(
            http_url="http://127.0.0.1:9/", http_proxy=proxy, timeout_s=0.3
        )

    error = result.measurements["readings"][0]["error"]
    assert error == f"No answer within 0.3 s through the proxy {proxy}."


async def test_a_tunnel_the_proxy_accepts_but_closes_is_named_as_the_proxys() -> None:
    async with forward_proxy(hollow_tunnels=True) as proxy:
        result = await check_clock(
            http_url="https://127.0.0.1:9/", http_proxy=proxy.url, timeout_s=2.0
        )

    error = result.measurements["readings"][0]["error"]
    assert error.startswith(
        f"The proxy {proxy.url} accepted the tunnel to 127.0.0.1:9 but no TLS "
        "server answered through it"
    )
    assert codes(result) == ["clock.unreachable"]


# Both live references


async def test_ntp_wins_over_http_and_progress_reports_each_reading() -> None:
    seen: list[ReadingTaken] = []
    with (
        sntp_responder(SntpBehaviour()) as ntp,
        date_server(shifted_date(SIX_DAYS_S)) as http,
    ):
        result = await check_clock(
            ntp=ntp,
            http_url=f"http://127.0.0.1:{http.server_address[1]}/",
            timeout_s=2.0,
            on_progress=seen.append,
        )

    assert codes(result) == ["clock.ok"]
    assert finding(result, "clock.ok")["source"] == "ntp"
    assert sorted(event.reading.source for event in seen) == ["http", "ntp"]
    assert [(event.done, event.total) for event in seen] == [(1, 2), (2, 2)]


async def test_one_silent_reference_does_not_hide_the_other(
    silent_server: socket.socket,
) -> None:
    port = silent_server.getsockname()[1]
    with date_server(shifted_date(SIX_DAYS_S)) as http:
        result = await check_clock(
            ntp=f"127.0.0.1:{port}",
            http_url=f"http://127.0.0.1:{http.server_address[1]}/",
            timeout_s=0.3,
        )

    assert codes(result) == ["clock.skewed"]
    assert finding(result, "clock.skewed")["source"] == "http"


# apt errors


@pytest.mark.parametrize(
    ("span", "seconds"),
    [
        ("6d 2h 3min 4s", 6 * 86_400 + 2 * 3_600 + 3 * 60 + 4),
        ("6d 2h", 6 * 86_400 + 2 * 3_600),
        ("1h 0min 5s", 3_605),
        ("3min 4s", 184),
        ("45s", 45),
    ],
)
def test_apt_spans_with_and_without_seconds(span: str, seconds: int) -> None:
    assert parse_span(span) == seconds


def test_not_valid_yet_means_behind_by_at_least_the_span() -> None:
    (reading,) = apt_readings(SEED_APT_ERROR)

    assert reading.reference == (
        "http://mirrors.ustc.edu.cn/ubuntu/dists/noble/InRelease"
    )
    assert reading.offset_s == 86_400 + 20 * 3_600 + 3 * 60 + 15
    assert reading.detail == {
        "kind": "not_valid_yet",
        "stated": "1d 20h 3min 15s",
        "lower_bound": True,
    }


def test_expired_means_ahead_by_at_least_the_span() -> None:
    (reading,) = apt_readings(EXPIRED_APT_ERROR)

    assert reading.offset_s == -(2 * 86_400 + 4 * 3_600)
    assert reading.detail["kind"] == "expired"


def test_apt_output_wrapped_by_a_terminal_and_repeated_is_read_once() -> None:
    wrapped = SEED_APT_ERROR.replace(" is not valid", "\n  is not valid")
    text = "Hit:1 http://mirrors.ustc.edu.cn/ubuntu noble InRelease\n"
    text += f"{wrapped}\n{SEED_APT_ERROR}\n"
    text += SEED_APT_ERROR.replace("noble/", "noble-updates/").replace(
        "1d 20h", "2d 1h"
    )

    readings = apt_readings(text)

    assert [r.reference.split("/")[-2] for r in readings] == ["noble", "noble-updates"]


async def test_apt_error_alone_gives_clock_skewed_as_a_lower_bound() -> None:
    text = SEED_APT_ERROR + "\n" + SEED_APT_ERROR.replace("noble/", "noble-security/")
    text = text.replace("1d 20h 3min 15s). Updates", "6d 2h 3min 4s). Updates", 1)

    result = await check_clock(apt_error=text)

    skewed = finding(result, "clock.skewed")
    assert skewed["lower_bound"] is True
    assert skewed["direction"] == "behind"
    assert skewed["offset_s"] == 6 * 86_400 + 2 * 3_600 + 3 * 60 + 4
    assert "at least 6d 2h 3min 4s behind" in str(skewed["summary"])


async def test_expired_apt_error_mentions_a_stale_mirror() -> None:
    result = await check_clock(apt_error=EXPIRED_APT_ERROR)

    skewed = finding(result, "clock.skewed")
    assert skewed["direction"] == "ahead"
    assert "mirror is stale" in str(skewed["summary"])


async def test_apt_span_under_the_threshold_gives_no_verdict() -> None:
    text = SEED_APT_ERROR.replace("1d 20h 3min 15s", "30s")

    result = await check_clock(apt_error=text, skew_threshold_s=60.0)

    assert codes(result) == []
    assert result.measurements["readings"][0]["offset_s"] == 30.0


async def test_clock_in_step_says_the_pasted_apt_error_no_longer_holds() -> None:
    with sntp_responder(SntpBehaviour()) as server:
        result = await check_clock(ntp=server, apt_error=SEED_APT_ERROR, timeout_s=2.0)

    ok = finding(result, "clock.ok")
    assert ok["source"] == "ntp"
    assert ok["apt_disagrees"] is True
    assert "no longer holds" in str(ok["summary"])


def test_garbage_apt_text_is_a_clear_config_error() -> None:
    with pytest.raises(ConfigError, match="Found no apt 'Release file for"):
        apt_readings("Reading package lists... Done\nE: Unable to locate package vim")


def test_chinese_apt_output_asks_for_the_english_lines() -> None:
    text = "E: http://mirrors.ustc.edu.cn/ubuntu/dists/noble/InRelease 的 Release 文件已经过期"
    with pytest.raises(ConfigError, match="LC_ALL=C apt update"):
        apt_readings(text)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs a reference"),
        ({"ntp": "127.0.0.1:99999"}, "'127.0.0.1:99999' is not 'host'"),
        ({"ntp": ""}, "is not 'host'"),
        ({"http_url": "ftp://127.0.0.1/"}, "not an http:// or https:// URL"),
        (
            {"http_url": "http://127.0.0.1:99999/"},
            "its port '99999' is not a TCP port from 1 to 65535",
        ),
        ({"http_url": "http://127.0.0.1:0/"}, "its port '0' is not a TCP port"),
        (
            {"http_url": "http://[::1/"},
            "an IPv6 address in it must sit between '\\[' and '\\]'",
        ),
        ({"ntp": "127.0.0.1", "timeout_s": 0}, "timeout 0 is out of range"),
        (
            {"ntp": "127.0.0.1", "timeout_s": float("inf")},
            "timeout inf is not a finite",
        ),
        (
            {"http_url": "http://127.0.0.1/", "http_proxy": "socks5://127.0.0.1:1080"},
            "'socks5://127.0.0.1:1080' is not an http://host:port proxy URL",
        ),
    ],
)
async def test_bad_arguments_are_config_errors(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        await check_clock(**kwargs)  # type: ignore[arg-type]


def test_span_text_writes_like_apt() -> None:
    assert span_text(6 * 86_400 + 2 * 3_600 + 3 * 60 + 4) == "6d 2h 3min 4s"
    assert span_text(3_605) == "1h 0min 5s"
    assert span_text(1.5) == "1.500 s"


# The command line


def test_cli_json_for_a_skewed_ntp_server(capsys: pytest.CaptureFixture[str]) -> None:
    with sntp_responder(SntpBehaviour(shift_s=-SIX_DAYS_S)) as server:
        code = main(["probe", "clock", "--ntp", server, "--timeout", "2", "--json"])

    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["probe"] == "clock"
    assert out["params"]["ntp"] == server
    assert [f["code"] for f in out["findings"]] == ["clock.skewed"]
    assert out["findings"][0]["data"]["direction"] == "ahead"


def test_cli_table_for_an_apt_error_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pasted = tmp_path / "apt.txt"
    pasted.write_text(SEED_APT_ERROR + "\n", encoding="utf-8")

    code = main(["probe", "clock", "--apt-error-file", str(pasted)])

    out = capsys.readouterr().out
    assert code == 0
    assert "at least 1d 20h 3min 15s behind" in out
    assert "[error] clock.skewed" in out


def test_cli_threshold_comes_from_the_site_profile(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site = tmp_path / "site.toml"
    site.write_text("[thresholds]\nclock_skew_s = 1000000.0\n", encoding="utf-8")

    code = main(["probe", "clock", "--apt-error", SEED_APT_ERROR, "--site", str(site)])

    assert code == 0
    assert "clock.skewed" not in capsys.readouterr().out


def test_cli_without_a_reference_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "clock"]) == 2
    assert "needs a reference" in capsys.readouterr().err


def test_cli_with_garbage_apt_text_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "clock", "--apt-error", "all fine here"]) == 2
    assert "Found no apt" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 123)),
        ("127.0.0.1:1123", ("127.0.0.1", 1123)),
        ("::1", ("::1", 123)),
        ("[::1]:1123", ("::1", 1123)),
        ("ntp.example.org", ("ntp.example.org", 123)),
    ],
)
def test_ntp_server_forms(text: str, expected: tuple[str, int]) -> None:
    assert parse_server(text) == expected
