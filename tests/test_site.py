"""The site profile: thresholds a measurement can be compared with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netcase.diagnose.actions import ActionParamError, render_action
from netcase.errors import ConfigError
from netcase.site import (
    ResolverAddress,
    Site,
    Thresholds,
    check_proxy,
    is_plain_name,
    load_site,
    parse_resolver,
)

REPO = Path(__file__).resolve().parent.parent


def site_with(tmp_path: Path, thresholds: str) -> Path:
    profile = tmp_path / "site.toml"
    profile.write_text(f'name = "lab"\n\n[thresholds]\n{thresholds}\n', "utf-8")
    return profile


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("loss_pct = -5", "key 'thresholds.loss_pct': must be 0 or more, not -5."),
        ("rtt_ms = -0.5", "key 'thresholds.rtt_ms': must be 0 or more, not -0.5."),
        (
            "throughput_low_mbps = -1",
            "key 'thresholds.throughput_low_mbps': must be 0 or more, not -1.",
        ),
        ("clock_skew_s = nan", "key 'thresholds.clock_skew_s': must be a finite"),
        ("stronger_ap_db = inf", "key 'thresholds.stronger_ap_db': must be a finite"),
    ],
)
def test_negative_or_endless_thresholds_are_refused_naming_the_key(
    tmp_path: Path, line: str, reason: str
) -> None:
    profile = site_with(tmp_path, line)

    with pytest.raises(ConfigError) as raised:
        load_site(profile)

    assert raised.value.message.startswith(f"{profile}: {reason}")


@pytest.mark.parametrize("value", ["0", "5", "-0.0"])
def test_weak_signal_dbm_must_be_a_negative_dbm_value(
    tmp_path: Path, value: str
) -> None:
    profile = site_with(tmp_path, f"weak_signal_dbm = {value}")

    with pytest.raises(
        ConfigError, match="'thresholds.weak_signal_dbm': must be under 0"
    ):
        load_site(profile)


def test_zero_thresholds_and_a_negative_weak_signal_are_accepted(
    tmp_path: Path,
) -> None:
    profile = site_with(
        tmp_path, "loss_pct = 0\nrtt_margin_ms = 0\nweak_signal_dbm = -75"
    )

    thresholds = load_site(profile).thresholds

    assert (thresholds.loss_pct, thresholds.rtt_margin_ms) == (0, 0)
    assert thresholds.weak_signal_dbm == -75


def test_the_shipped_example_profile_still_loads() -> None:
    site = load_site(REPO / "data" / "site.example.toml")

    assert isinstance(site.thresholds, Thresholds)
    assert site.thresholds.weak_signal_dbm < 0


def test_a_proxy_that_is_not_an_http_url_is_refused_naming_the_key(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "site.toml"
    profile.write_text('[targets]\nhttp_proxy = "10.0.0.3:3128"\n', "utf-8")

    with pytest.raises(ConfigError) as raised:
        load_site(profile)

    assert raised.value.message == (
        f"{profile}: key 'targets.http_proxy': must be an http://host:port proxy "
        "URL without a user name or password, not '10.0.0.3:3128'."
    )


@pytest.mark.parametrize("text", ["[::1", "[::1]53", "[::1]x:53", "[]:53"])
def test_a_malformed_bracketed_resolver_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"The resolver {text!r} is not")):
        parse_resolver(text)


def test_bracketed_resolvers_with_and_without_a_port_are_read() -> None:
    assert parse_resolver("[::1]:5353") == ResolverAddress("::1", 5353)
    assert parse_resolver("[::1]") == ResolverAddress("::1", 53)


@pytest.mark.parametrize("text", ["http://[::1", "http://127.0.0.1:99999"])
def test_a_proxy_url_that_cannot_be_split_is_refused_not_a_traceback(
    text: str,
) -> None:
    with pytest.raises(ConfigError, match="is not an http://host:port proxy URL"):
        check_proxy(text)


UPLINKS = """\
name = "lab"

[[uplinks]]
name = "telecom"
source = "10.0.1.2"

[[uplinks]]
name = "{second}"
source = "10.0.2.2"
"""


def test_an_uplink_name_unsafe_for_a_snippet_is_refused_naming_the_key(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "site.toml"
    profile.write_text(UPLINKS.format(second="uni; reboot"), "utf-8")

    with pytest.raises(ConfigError) as raised:
        load_site(profile)

    assert raised.value.message == (
        f"{profile}: key 'uplinks[1].name': must be a plain name "
        "(letters, digits, - _ .), not 'uni; reboot'."
    )


@pytest.mark.parametrize("name", ["unicom", "wan2.backup", "cn_unicom-2"])
def test_an_uplink_name_the_switch_snippet_accepts_loads(
    tmp_path: Path, name: str
) -> None:
    profile = tmp_path / "site.toml"
    profile.write_text(UPLINKS.format(second=name), "utf-8")

    site = load_site(profile)

    assert render_action("switch_line", {"to_uplink": name}, site).snippets
    assert [uplink.name for uplink in site.uplinks] == ["telecom", name]


@pytest.mark.parametrize("name", ["uni; reboot", "-x", "a b", "x" * 64])
def test_the_site_and_the_switch_snippet_refuse_the_same_names(name: str) -> None:
    assert not is_plain_name(name)
    with pytest.raises(ActionParamError):
        render_action("switch_line", {"to_uplink": name}, Site())


def test_proxy_credentials_are_refused_and_never_echoed(tmp_path: Path) -> None:
    profile = tmp_path / "site.toml"
    profile.write_text(
        '[targets]\nhttp_proxy = "http://ops:s3cret@10.0.0.3:3128"\n', "utf-8"
    )

    with pytest.raises(ConfigError) as from_profile:
        load_site(profile)
    with pytest.raises(ConfigError) as from_option:
        check_proxy("http://ops:s3cret@10.0.0.3:3128")

    assert from_profile.value.message.endswith("not a URL with credentials.")
    assert "user name or password" in from_option.value.message
    assert "s3cret" not in from_profile.value.message + from_option.value.message
