"""Durations no probe can wait for are refused: by the probe, by a playbook step, on the CLI."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest

from netcase.cli import main
from netcase.errors import ConfigError
from netcase.probes.containers import docker_inspect
from netcase.probes.latency import LatencyParams
from netcase.probes.limits import (
    MAX_INTERVAL_S,
    MAX_SERIES_S,
    MAX_TIMEOUT_S,
    MAX_TRANSFER_S,
    check_seconds,
)
from netcase.probes.registry import PROBES
from netcase.probes.throughput import probe_throughput
from netcase.probes.wifilive import read_wifi
from netcase.site import Site, Uplink

SAFETY_S = 10.0
"""Before the fix some of these waited for ever; this stops such a run early."""

UNUSABLE = [math.inf, -math.inf, math.nan, 0.0, -1.0]
STEPS: list[tuple[str, dict[str, Any], str]] = [
    ("dns", {"names": ["a.test"], "internal": ["127.0.0.1:9"]}, "timeout"),
    ("latency", {"target": "127.0.0.1", "uplinks": ["lo=127.0.0.1"]}, "timeout"),
    ("latency", {"target": "127.0.0.1", "uplinks": ["lo=127.0.0.1"]}, "interval"),
    ("throughput", {"url": "http://127.0.0.1:9/x"}, "timeout"),
    ("throughput", {"url": "http://127.0.0.1:9/x"}, "seconds"),
    ("clock", {"ntp": "127.0.0.1:9"}, "timeout"),
]
MAXIMA = {"timeout": MAX_TIMEOUT_S, "interval": MAX_INTERVAL_S, "seconds": 600.0}


@pytest.fixture
async def bounded() -> AsyncIterator[None]:
    async with asyncio.timeout(SAFETY_S):
        yield


@pytest.mark.parametrize("value", [*UNUSABLE, 1e9])
@pytest.mark.parametrize(("probe", "params", "key"), STEPS)
async def test_playbook_step_with_an_unusable_duration_is_a_config_error(
    bounded: None, probe: str, params: dict[str, Any], key: str, value: float
) -> None:
    with pytest.raises(ConfigError) as caught:
        await PROBES[probe].run({**params, key: value}, Site(), None)

    assert f"{key} {value!r} is " in caught.value.message
    assert f"at most {MAXIMA[key]:g}." in caught.value.message


@pytest.mark.parametrize(("probe", "params", "key"), STEPS)
async def test_playbook_step_with_text_for_a_duration_is_a_config_error(
    probe: str, params: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError, match=f"{key} 'soon' is not a finite number"):
        await PROBES[probe].run({**params, key: "soon"}, Site(), None)


@pytest.mark.parametrize("count", ["ten", 2.5, None])
async def test_playbook_latency_count_that_is_no_whole_number_is_a_config_error(
    count: object,
) -> None:
    params = {"target": "127.0.0.1", "uplinks": ["lo=127.0.0.1"], "count": count}

    with pytest.raises(ConfigError, match=f"count {count!r} is not a whole number"):
        await PROBES["latency"].run(params, Site(), None)


@pytest.mark.parametrize("value", UNUSABLE)
def test_latency_params_refuse_an_unusable_timeout_or_interval(value: float) -> None:
    uplinks = (Uplink("lo", source="127.0.0.1"),)

    for changes in ({"timeout_s": value}, {"interval_s": value}):
        with pytest.raises(ConfigError):
            LatencyParams("127.0.0.1", uplinks, **changes)  # type: ignore[arg-type]


def test_latency_series_longer_than_the_bound_is_refused() -> None:
    uplinks = (Uplink("lo", source="127.0.0.1"),)

    with pytest.raises(ConfigError, match=f"over the {MAX_SERIES_S:g} s a series"):
        LatencyParams("127.0.0.1", uplinks, count=1000, interval_s=60.0)


@pytest.mark.parametrize("changes", [{"seconds": math.inf}, {"timeout_s": math.nan}])
async def test_throughput_api_refuses_an_unusable_duration(
    bounded: None, changes: dict[str, float]
) -> None:
    with pytest.raises(ConfigError, match="is not a finite number"):
        await probe_throughput("http://127.0.0.1:9/x", **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [math.inf, math.nan, -1.0])
async def test_throughput_api_refuses_an_unusable_expected_rate(rate: float) -> None:
    with pytest.raises(ConfigError, match=f"expected rate {rate!r}"):
        await probe_throughput("http://127.0.0.1:9/x", expect_mbps=rate)


async def test_live_wifi_read_refuses_an_infinite_timeout() -> None:
    with pytest.raises(ConfigError, match="timeout inf is not a finite number"):
        await read_wifi(platform="linux", timeout_s=math.inf)


async def test_docker_inspect_refuses_an_infinite_timeout() -> None:
    with pytest.raises(ConfigError, match="timeout inf is not a finite number"):
        await docker_inspect("web", timeout_s=math.inf)


def test_check_seconds_names_the_value_and_the_bound() -> None:
    with pytest.raises(ConfigError) as caught:
        check_seconds(1e9, "The timeout", MAX_TIMEOUT_S)

    assert caught.value.message == (
        "The timeout 1000000000.0 is out of range; give a number of seconds "
        "above 0 and at most 60."
    )
    assert check_seconds("2.5", "The timeout", MAX_TIMEOUT_S) == 2.5
    assert check_seconds(0, "--again-after", 600.0, zero_ok=True) == 0.0
    assert MAX_TRANSFER_S == 600.0


CLI_CASES = [
    (["dns", "a.test", "--internal", "127.0.0.1:9"], "--timeout", MAX_TIMEOUT_S),
    (["latency", "127.0.0.1", "--uplink", "lo=127.0.0.1"], "--timeout", 60.0),
    (["latency", "127.0.0.1", "--uplink", "lo=127.0.0.1"], "--interval", 60.0),
    (["clock", "--ntp", "127.0.0.1:9"], "--timeout", MAX_TIMEOUT_S),
    (["throughput", "http://127.0.0.1:9/x"], "--seconds", MAX_TRANSFER_S),
    (["wifi"], "--timeout", MAX_TIMEOUT_S),
    (["wifi"], "--again-after", 600.0),
    (["localtime_mount", "--container", "web"], "--timeout", MAX_TIMEOUT_S),
]


@pytest.mark.parametrize("text", ["inf", "nan", "-inf", "1e9"])
@pytest.mark.parametrize(("words", "option", "maximum"), CLI_CASES)
def test_cli_refuses_an_unusable_duration_with_exit_2(
    capsys: pytest.CaptureFixture[str],
    words: list[str],
    option: str,
    maximum: float,
    text: str,
) -> None:
    # The = form, since argparse reads a lone "-inf" as an option.
    code = main(["probe", *words, f"{option}={text}"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"netcase: {option} {float(text)!r} is ")
    assert f"at most {maximum:g}.\n" in err


@pytest.mark.parametrize("text", ["inf", "nan", "-2"])
def test_cli_refuses_an_unusable_expected_rate_with_exit_2(
    capsys: pytest.CaptureFixture[str], text: str
) -> None:
    code = main(
        ["probe", "throughput", "http://127.0.0.1:9/x", f"--expect-mbps={text}"]
    )

    assert code == 2
    assert capsys.readouterr().err.startswith(
        f"netcase: --expect-mbps {float(text)!r} is not a finite rate"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["latency", "127.0.0.1", "--uplink", "a=127.0.0.2", "--interval", "1e-9"],
            "--interval 1e-09 is out of range; give a number of seconds of at "
            "least 0.002 and at most 60.",
        ),
        (
            ["throughput", "http://127.0.0.1:9/x", "--seconds", "0.001"],
            "--seconds 0.001 is out of range; give a number of seconds of at "
            "least 1 and at most 600.",
        ),
    ],
)
def test_a_flood_of_pings_or_a_transfer_too_short_to_measure_is_refused(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["probe", *argv]) == 2

    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("probe", "params", "key", "value"),
    [
        (
            "latency",
            {"target": "127.0.0.1", "uplinks": ["lo=127.0.0.1"]},
            "interval",
            1e-9,
        ),
        ("throughput", {"url": "http://127.0.0.1:9/x"}, "seconds", 0.5),
    ],
)
async def test_playbook_steps_get_the_same_floors(
    bounded: None, probe: str, params: dict[str, Any], key: str, value: float
) -> None:
    with pytest.raises(ConfigError, match="of at least"):
        await PROBES[probe].run({**params, key: value}, Site(), None)
