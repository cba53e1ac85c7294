"""The Wi-Fi link parsers on captured outputs, and the findings drawn from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from netcase.errors import ConfigError
from netcase.probes.wifi import compare_links, link_findings, read_link
from netcase.probes.wifilink import (
    NETWORKMANAGER_SCALE,
    WINDOWS_SCALE,
    WifiLink,
    WifiReading,
    channel_from_mhz,
)
from netcase.probes.wifiparse import decode_capture, detect_format, parse_capture
from netcase.probes.wifiparse_linux import parse_iw_dev, split_terse
from netcase.site import Thresholds

SAMPLES = Path(__file__).parent / "samples" / "wifi"


def sample(name: str, interface: str | None = None) -> WifiReading:
    """Parse one committed capture the way ``--from-file`` does."""
    text = decode_capture((SAMPLES / name).read_bytes())
    return parse_capture(text, origin=name, interface=interface)


def only_link(name: str) -> WifiLink:
    reading = sample(name)
    assert len(reading.links) == 1
    return reading.links[0]


# Units and channels -----------------------------------------------------------


def test_windows_scale_maps_0_to_100_percent_onto_minus_100_to_minus_50_dbm() -> None:
    assert WINDOWS_SCALE.to_dbm(0) == -100
    assert WINDOWS_SCALE.to_dbm(50) == -75
    assert WINDOWS_SCALE.to_dbm(100) == -50
    assert WINDOWS_SCALE.to_percent(-40) == 100
    assert WINDOWS_SCALE.to_percent(-120) == 0


def test_networkmanager_scale_maps_0_to_100_percent_onto_minus_100_to_minus_40_dbm() -> (
    None
):
    assert NETWORKMANAGER_SCALE.to_dbm(0) == -100
    assert NETWORKMANAGER_SCALE.to_dbm(50) == -70
    assert NETWORKMANAGER_SCALE.to_dbm(100) == -40


@pytest.mark.parametrize(
    ("frequency_mhz", "channel"),
    [
        (2412, 1),
        (2484, 14),
        (5180, 36),
        (5745, 149),
        (5955, 1),
        (6135, 37),
        (900, None),
    ],
)
def test_channel_from_frequency(frequency_mhz: int, channel: int | None) -> None:
    assert channel_from_mhz(frequency_mhz) == channel


# Format detection ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("nmcli_wifi_list.txt", "nmcli"),
        ("nmcli_dev_show.txt", "nmcli"),
        ("nmcli_dev_status.txt", "nmcli"),
        ("nmcli_default_fields.txt", "nmcli"),
        ("iw_link.txt", "iw"),
        ("iw_not_connected.txt", "iw"),
        ("iw_scan.txt", "iw"),
        ("netsh_en.txt", "netsh"),
        ("netsh_zh.txt", "netsh"),
        ("netsh_zh_gbk.txt", "netsh"),
        ("netsh_en_utf16.txt", "netsh"),
        ("netsh_networks_en.txt", "netsh"),
        ("netsh_no_interface.txt", "netsh"),
        ("netsh_zh_disconnected.txt", "netsh"),
        ("wdutil_info.txt", "wdutil"),
        ("wdutil_info_disconnected.txt", "wdutil"),
        ("system_profiler.txt", "system_profiler"),
        ("system_profiler_disconnected.txt", "system_profiler"),
    ],
)
def test_detect_format_tells_each_tool(name: str, fmt: str) -> None:
    assert detect_format(decode_capture((SAMPLES / name).read_bytes())) == fmt


def test_text_of_no_known_tool_is_refused_with_the_commands_to_save() -> None:
    with pytest.raises(ConfigError, match="netsh wlan show interfaces"):
        parse_capture("hello\nworld\n", origin="notes.txt")


# nmcli ---------------------------------------------------------------------------


def test_split_terse_undoes_escaped_colons_and_backslashes() -> None:
    assert split_terse(r"yes:Cafe\:Guest:AA\:BB:Lab\\Net:") == [
        "yes",
        "Cafe:Guest",
        "AA:BB",
        "Lab\\Net",
        "",
    ]


def test_nmcli_wifi_list_reads_escaped_ssid_and_bssid() -> None:
    link = only_link("nmcli_wifi_list.txt")
    assert link.interface == "wlan0"
    assert link.connected
    assert link.ssid == "Cafe:Guest"
    assert link.bssid == "aa:bb:cc:dd:ee:01"
    assert (link.channel, link.frequency_mhz, link.band) == (36, 5180, "5 GHz")


def test_nmcli_signal_percent_becomes_approximate_dbm_on_networkmanager_scale() -> None:
    link = only_link("nmcli_wifi_list.txt")
    assert link.signal_pct == 74 and not link.signal_pct_approx
    assert link.signal_dbm == pytest.approx(-55.6) and link.signal_dbm_approx


def test_nmcli_scan_keeps_non_ascii_emoji_backslash_and_hidden_ssids() -> None:
    ssids = [ap.ssid for ap in sample("nmcli_wifi_list.txt").scan]
    assert ssids == [
        "Cafe:Guest",
        "Cafe:Guest",
        "会议室-5G",
        "☕ Coffee Bar",
        "Lab\\Net",
        None,
    ]


def test_nmcli_dev_show_keeps_wifi_and_leaves_out_p2p_ethernet_loopback() -> None:
    reading = sample("nmcli_show_and_list.txt")
    assert [link.interface for link in reading.links] == ["wlan0"]
    link = reading.links[0]
    assert link.tx_rate_mbps == 866
    assert link.bssid == "aa:bb:cc:dd:ee:01"


def test_nmcli_dev_show_alone_names_the_connection_without_a_bssid() -> None:
    link = only_link("nmcli_dev_show.txt")
    assert link.connected and link.state == "connected"
    assert link.ssid == "Cafe:Guest"
    assert link.bssid is None and link.signal_dbm is None


def test_nmcli_dev_status_lists_wifi_but_not_wifi_p2p() -> None:
    reading = sample("nmcli_dev_status.txt")
    assert [(x.interface, x.connected) for x in reading.links] == [("wlan0", False)]


def test_nmcli_disconnected_keeps_the_scan_and_no_ssid() -> None:
    reading = sample("nmcli_disconnected.txt")
    link = reading.links[0]
    assert not link.connected and link.state == "disconnected"
    assert link.ssid is None and link.bssid is None
    assert len(reading.scan) == 2


def test_nmcli_default_columns_are_read_too() -> None:
    reading = sample("nmcli_default_fields.txt")
    link = reading.links[0]
    assert link.ssid == "Office" and link.bssid == "70:3a:0e:12:34:56"
    assert link.signal_pct == 79
    assert [ap.in_use for ap in reading.scan] == [True, False, False]


# iw ------------------------------------------------------------------------------


def test_iw_link_reads_signal_frequency_and_bit_rates() -> None:
    link = only_link("iw_link.txt")
    assert link.interface == "wlp2s0"
    assert link.ssid == "Office" and link.bssid == "70:3a:0e:12:34:56"
    assert link.signal_dbm == -67 and not link.signal_dbm_approx
    assert link.signal_pct == 66 and link.signal_pct_approx
    assert (link.frequency_mhz, link.channel, link.band) == (5180, 36, "5 GHz")
    assert (link.rx_rate_mbps, link.tx_rate_mbps) == (433.3, 390.0)
    assert link.radio_type == "802.11ac"


def test_iw_link_decodes_hex_escaped_utf8_ssid_and_decimal_frequency() -> None:
    link = only_link("iw_link_weak.txt")
    assert link.ssid == "会议室-5G"
    assert (link.frequency_mhz, link.channel, link.band) == (2412, 1, "2.4 GHz")
    assert link.radio_type == "802.11ax"


def test_iw_link_decodes_an_emoji_ssid() -> None:
    assert only_link("iw_link_emoji.txt").ssid == "☕ Lounge"


def test_iw_not_connected_takes_the_interface_from_the_caller() -> None:
    link = sample("iw_not_connected.txt", interface="wlan0").links[0]
    assert link.interface == "wlan0"
    assert not link.connected and link.ssid is None


def test_iw_scan_marks_the_associated_bss_and_reads_channels() -> None:
    reading = sample("iw_scan.txt")
    assert [(ap.bssid, ap.in_use, ap.channel) for ap in reading.scan] == [
        ("70:3a:0e:00:00:01", True, 1),
        ("70:3a:0e:00:00:05", False, 149),
        ("9c:a2:f4:5e:11:22", False, 6),
    ]
    assert reading.scan[1].ssid == "会议室-5G"
    assert reading.scan[1].security == "RSN"
    assert reading.links[0].bssid == "70:3a:0e:00:00:01"


def test_iw_dev_lists_station_interfaces_only() -> None:
    assert parse_iw_dev((SAMPLES / "iw_dev.txt").read_text()) == ["wlp2s0"]


# netsh ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["netsh_en.txt", "netsh_en_two.txt", "netsh_zh.txt", "netsh_zh_disconnected.txt"],
)
def test_windows_samples_really_have_crlf_line_endings(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n") > 10


def test_netsh_english_reads_ssid_with_colon_and_converts_percent() -> None:
    link = only_link("netsh_en.txt")
    assert (link.interface, link.state, link.connected) == ("Wi-Fi", "connected", True)
    assert link.ssid == "Cafe:Guest"
    assert link.bssid == "aa:bb:cc:dd:ee:01"
    assert link.signal_pct == 84
    assert link.signal_dbm == -58 and link.signal_dbm_approx
    assert (link.channel, link.band) == (44, "5 GHz")
    assert (link.rx_rate_mbps, link.tx_rate_mbps) == (866.7, 866.7)
    assert link.radio_type == "802.11ac"


def test_netsh_two_interfaces_give_two_links_and_rssi_beats_percent() -> None:
    reading = sample("netsh_en_two.txt")
    assert [(x.interface, x.connected) for x in reading.links] == [
        ("Wi-Fi", True),
        ("Wi-Fi 2", False),
    ]
    first = reading.links[0]
    assert first.signal_dbm == -48 and not first.signal_dbm_approx
    assert (first.band, first.channel, first.frequency_mhz) == ("6 GHz", 37, 6135)
    assert reading.link("Wi-Fi 2") == reading.links[1]


def test_netsh_chinese_labels_are_read() -> None:
    link = only_link("netsh_zh.txt")
    assert (link.interface, link.state, link.connected) == ("WLAN", "已连接", True)
    assert link.ssid == "会议室-5G"
    assert link.bssid == "70:3a:0e:00:00:01"
    assert (link.channel, link.band) == (149, "5 GHz")
    assert (link.rx_rate_mbps, link.tx_rate_mbps) == (58.5, 65)
    assert link.signal_pct == 30 and link.signal_dbm == -85
    assert link.radio_type == "802.11ac"


@pytest.mark.parametrize(
    ("name", "state"),
    [
        ("netsh_en_disconnected.txt", "disconnected"),
        ("netsh_zh_disconnected.txt", "已断开连接"),
    ],
)
def test_netsh_disconnected_in_both_languages(name: str, state: str) -> None:
    link = only_link(name)
    assert (link.connected, link.state) == (False, state)
    assert link.ssid is None and link.signal_dbm is None


def test_netsh_saved_as_gbk_by_cmd_reads_like_utf8() -> None:
    assert sample("netsh_zh_gbk.txt").links == sample("netsh_zh.txt").links


def test_netsh_saved_as_utf16_by_powershell_reads_like_utf8() -> None:
    assert sample("netsh_en_utf16.txt").links == sample("netsh_en.txt").links


def test_netsh_no_interface_gives_no_link() -> None:
    assert sample("netsh_no_interface.txt").links == ()


def test_netsh_networks_lists_each_bssid_under_its_ssid() -> None:
    scan = sample("netsh_networks_en.txt").scan
    assert [(ap.ssid, ap.bssid, ap.signal_pct, ap.channel) for ap in scan] == [
        ("会议室-5G", "70:3a:0e:00:00:05", 88, 36),
        ("会议室-5G", "70:3a:0e:00:00:01", 30, 149),
        ("Cafe:Guest", "aa:bb:cc:dd:ee:01", 61, 6),
        (None, "5a:9c:fc:01:02:03", 20, 11),
    ]
    assert {ap.interface for ap in scan} == {"WLAN"}


# macOS ---------------------------------------------------------------------------


def test_wdutil_info_reads_the_wifi_section() -> None:
    link = only_link("wdutil_info.txt")
    assert (link.interface, link.connected) == ("en0", True)
    assert link.ssid == "Office" and link.bssid == "70:3a:0e:12:34:56"
    assert link.signal_dbm == -58 and not link.signal_dbm_approx
    assert (link.channel, link.band, link.frequency_mhz) == (36, "5 GHz", 5180)
    assert link.tx_rate_mbps == 866
    assert link.security == "WPA2 Enterprise"


def test_wdutil_disconnected() -> None:
    link = only_link("wdutil_info_disconnected.txt")
    assert not link.connected
    assert link.ssid is None and link.signal_dbm is None


def test_wdutil_redacted_values_are_unknown_and_explained() -> None:
    reading = sample("wdutil_info_redacted.txt")
    link = reading.links[0]
    assert link.connected and link.signal_dbm == -74
    assert link.ssid is None and link.bssid is None
    assert "redacted" in reading.notes[0]


def test_system_profiler_reads_the_card_and_its_neighbours() -> None:
    reading = sample("system_profiler.txt")
    assert [x.interface for x in reading.links] == ["en0"]
    link = reading.links[0]
    assert link.connected and link.ssid == "会议室-5G"
    assert (link.channel, link.band, link.signal_dbm) == (149, "5 GHz", -61)
    assert link.tx_rate_mbps == 585
    assert [ap.ssid for ap in reading.scan] == [
        "会议室-5G",
        "Cafe:Guest",
        "会议室-5G",
        "🐼 Panda Lab",
    ]


def test_system_profiler_disconnected() -> None:
    reading = sample("system_profiler_disconnected.txt")
    link = reading.links[0]
    assert (link.connected, link.state, link.ssid) == (False, "Not Associated", None)
    assert len(reading.scan) == 2


# Findings --------------------------------------------------------------------------


def codes(reading: WifiReading, thresholds: Thresholds | None = None) -> list[str]:
    link = reading.link()
    assert link is not None
    findings = link_findings(link, reading.scan, thresholds or Thresholds())
    return [finding.code for finding in findings]


@pytest.mark.parametrize(
    "name",
    [
        "nmcli_wifi_list.txt",
        "nmcli_show_and_list.txt",
        "iw_link.txt",
        "netsh_en.txt",
        "netsh_en_two.txt",
        "wdutil_info.txt",
        "system_profiler.txt",
    ],
)
def test_no_finding_when_all_is_fine(name: str) -> None:
    assert codes(sample(name)) == []


@pytest.mark.parametrize(
    "name",
    [
        "nmcli_disconnected.txt",
        "iw_not_connected.txt",
        "netsh_en_disconnected.txt",
        "netsh_zh_disconnected.txt",
        "wdutil_info_disconnected.txt",
        "system_profiler_disconnected.txt",
    ],
)
def test_no_finding_on_a_disconnected_link(name: str) -> None:
    assert codes(sample(name)) == []


def test_weak_signal_is_found_under_the_threshold() -> None:
    link = only_link("iw_link_weak.txt")
    (finding,) = link_findings(link, (), Thresholds())
    assert finding.code == "wifi.weak_signal"
    assert finding.data["signal_dbm"] == -78
    assert finding.data["threshold_dbm"] == -70
    assert finding.data["approximate"] is False
    assert "-78 dBm" in finding.summary


def test_weak_signal_follows_the_site_threshold() -> None:
    link = only_link("iw_link.txt")
    assert link_findings(link, (), Thresholds(weak_signal_dbm=-60))[0].code == (
        "wifi.weak_signal"
    )
    assert link_findings(link, (), Thresholds(weak_signal_dbm=-67)) == []


def test_weak_signal_from_windows_percent_says_it_is_approximate() -> None:
    (finding,) = link_findings(only_link("netsh_zh.txt"), (), Thresholds())
    assert finding.data["approximate"] is True
    assert "~-85 dBm" in finding.summary


def test_stronger_ap_of_the_same_ssid_is_found_in_nmcli_list() -> None:
    reading = sample("nmcli_sticky.txt")
    link = reading.link()
    assert link is not None
    findings = {f.code: f for f in link_findings(link, reading.scan, Thresholds())}
    assert set(findings) == {"wifi.weak_signal", "wifi.stronger_ap_visible"}
    data = findings["wifi.stronger_ap_visible"].data
    assert data["stronger_bssid"] == "70:3a:0e:00:00:02"
    assert data["difference_db"] == pytest.approx(29.4)
    assert data["candidates"] == ["70:3a:0e:00:00:02"]


def test_stronger_ap_is_found_in_a_separate_iw_scan() -> None:
    link = only_link("iw_link_weak.txt")
    scan = sample("iw_scan.txt").scan
    (stronger,) = [
        f for f in link_findings(link, scan, Thresholds()) if f.code.endswith("visible")
    ]
    assert stronger.data["stronger_bssid"] == "70:3a:0e:00:00:05"
    assert stronger.data["current_dbm"] == -77
    assert stronger.data["difference_db"] == 25


def test_stronger_ap_is_found_in_a_netsh_networks_list() -> None:
    link = only_link("netsh_zh.txt")
    scan = sample("netsh_networks_en.txt").scan
    found = {f.code: f for f in link_findings(link, scan, Thresholds())}
    assert (
        found["wifi.stronger_ap_visible"].data["stronger_bssid"] == "70:3a:0e:00:00:05"
    )


def test_stronger_ap_needs_the_configured_margin() -> None:
    reading = sample("nmcli_sticky.txt")
    assert "wifi.stronger_ap_visible" not in codes(
        reading, Thresholds(stronger_ap_db=30)
    )


def test_stronger_ap_without_bssid_counts_on_another_channel() -> None:
    reading = sample("system_profiler.txt")
    assert codes(reading) == []
    assert codes(reading, Thresholds(stronger_ap_db=5)) == ["wifi.stronger_ap_visible"]


def test_roam_is_found_when_the_bssid_changes() -> None:
    before, after = only_link("iw_link_weak.txt"), only_link("iw_link_after_roam.txt")
    (finding,) = compare_links(before, after, Thresholds())
    assert finding.code == "wifi.roamed"
    assert finding.data["bssid_before"] == "70:3a:0e:00:00:01"
    assert finding.data["bssid_after"] == "70:3a:0e:00:00:05"
    assert (finding.data["weak_before"], finding.data["weak_after"]) == (True, False)


def test_no_roam_when_the_bssid_stays() -> None:
    link = only_link("iw_link.txt")
    assert compare_links(link, link, Thresholds()) == []


def test_no_roam_can_be_told_from_a_disconnected_read() -> None:
    before = sample("iw_not_connected.txt", interface="wlp2s0").links[0]
    assert compare_links(before, only_link("iw_link.txt")) == []


async def test_read_link_with_previous_result_finds_the_roam() -> None:
    first = await read_link(sample("iw_link_weak.txt"))
    second = await read_link(sample("iw_link_after_roam.txt"), previous=first)
    assert first.codes() == {"wifi.weak_signal"}
    assert second.codes() == {"wifi.roamed"}
    assert second.measurements["roamed"] is True
    assert second.measurements["previous"]["bssid"] == "70:3a:0e:00:00:01"


async def test_read_link_takes_the_previous_read_as_json() -> None:
    first = await read_link(sample("iw_link_weak.txt"))
    second = await read_link(sample("iw_link_after_roam.txt"), previous=first.to_json())
    assert "wifi.roamed" in second.codes()


async def test_read_link_says_same_ap_when_nothing_moved() -> None:
    first = await read_link(sample("iw_link.txt"))
    second = await read_link(sample("iw_link.txt"), previous=first)
    assert second.measurements["roamed"] is False
    assert second.findings == []


async def test_read_link_result_has_the_cli_json_shape() -> None:
    result = await read_link(sample("nmcli_sticky.txt"))
    shape = result.to_json()
    assert set(shape) == {
        "probe",
        "started",
        "duration_s",
        "params",
        "measurements",
        "findings",
    }
    assert shape["probe"] == "wifi"
    assert shape["params"]["origin"] == "nmcli_sticky.txt"
    assert shape["measurements"]["link"]["bssid"] == "70:3a:0e:00:00:01"
    assert len(shape["measurements"]["scan"]) == 4
    assert result.started.tzinfo is not None


async def test_read_link_refuses_an_interface_the_capture_lacks() -> None:
    with pytest.raises(ConfigError, match="'wlan9'"):
        await read_link(sample("netsh_en_two.txt"), interface="wlan9")


async def test_read_link_judges_the_named_interface() -> None:
    result = await read_link(sample("netsh_en_two.txt"), interface="Wi-Fi 2")
    assert result.measurements["interface"] == "Wi-Fi 2"
    assert result.measurements["link"]["connected"] is False


def test_a_bssid_change_to_another_ssid_is_not_a_roam() -> None:
    before, after = only_link("iw_link.txt"), only_link("iw_link_after_roam.txt")
    assert (before.ssid, after.ssid) == ("Office", "会议室-5G")

    assert compare_links(before, after, Thresholds()) == []


async def test_read_link_says_the_network_changed_instead_of_a_roam() -> None:
    first = await read_link(sample("iw_link.txt"))
    second = await read_link(sample("iw_link_after_roam.txt"), previous=first)

    assert "wifi.roamed" not in second.codes()
    assert second.measurements["network_changed"] is True
    assert second.measurements["roamed"] is None
    assert (
        "The SSID changed from Office to 会议室-5G: the link joined another network, "
        "which is not a roam." in second.measurements["notes"]
    )


async def test_a_roam_within_one_ssid_keeps_network_changed_false() -> None:
    first = await read_link(sample("iw_link_weak.txt"))
    second = await read_link(sample("iw_link_after_roam.txt"), previous=first)

    assert second.measurements["network_changed"] is False
    assert second.measurements["notes"] == []
