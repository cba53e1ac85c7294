"""Parsers for Linux Wi-Fi tools: ``nmcli -t`` (NetworkManager) and ``iw``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from netcase.probes.wifilink import (
    NETWORKMANAGER_SCALE,
    VisibleAp,
    WifiLink,
    WifiReading,
    clean,
    is_mac,
    parse_float,
    parse_int,
    parse_mac,
    with_channel,
    with_signal,
)

NMCLI_FIELDS = (
    "ACTIVE",
    "SSID",
    "BSSID",
    "CHAN",
    "FREQ",
    "RATE",
    "SIGNAL",
    "SECURITY",
    "DEVICE",
)
"""The columns netcase asks ``nmcli -t -f ... dev wifi list`` for, in order."""

NMCLI_DEFAULT_FIELDS = (
    "IN-USE",
    "BSSID",
    "SSID",
    "MODE",
    "CHAN",
    "RATE",
    "SIGNAL",
    "BARS",
    "SECURITY",
)
"""The columns of a plain ``nmcli -t dev wifi list``, in order."""

NMCLI_YES = {"yes", "*", "是"}
_NM_KEY = re.compile(r"^[A-Z0-9-]+\.[A-Z0-9-]+(?:\[\d+\])?$")
_NM_STATE = re.compile(r"^(\d+)\s*\((.*)\)$")


def split_terse(line: str) -> list[str]:
    """Split one line of ``nmcli -t`` output on ``:``, undoing ``\\:`` and ``\\\\``."""
    values: list[str] = []
    current: list[str] = []
    escaped = False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    values.append("".join(current))
    return values


@dataclass
class _NmDevice:
    """What ``nmcli dev show`` or ``nmcli dev`` says about one device."""

    name: str
    type: str = ""
    state: str = ""
    connected: bool | None = None
    connection: str | None = None
    speed_mbps: float | None = None


@dataclass
class _NmText:
    """The lines of an nmcli capture, sorted by the command that printed them."""

    devices: dict[str, _NmDevice] = field(default_factory=dict)
    rows: list[VisibleAp] = field(default_factory=list)


def parse_nmcli(text: str, origin: str = "live") -> WifiReading:
    """Parse ``nmcli -t`` output: ``dev wifi list``, ``dev show`` and ``dev``, alone or together.

    ``dev wifi list`` must use :data:`NMCLI_FIELDS` or nmcli's default columns.
    Wi-Fi P2P devices (``wifi-p2p``) are not links and are left out.
    """
    capture = _NmText()
    current: _NmDevice | None = None
    for line in text.splitlines():
        values = split_terse(line)
        if len(values) == 2 and _NM_KEY.match(values[0]):
            current = _device_property(capture, current, values[0], values[1])
        elif not line.strip():
            current = None
        else:
            _row_or_status(capture, values)
    return WifiReading(
        "nmcli",
        links=tuple(_nm_links(capture)),
        scan=tuple(capture.rows),
        origin=origin,
    )


def _device_property(
    capture: _NmText, current: _NmDevice | None, key: str, value: str
) -> _NmDevice | None:
    if key == "GENERAL.DEVICE":
        current = capture.devices.setdefault(value, _NmDevice(value))
    if current is None:
        return None
    if key == "GENERAL.TYPE":
        current.type = value
    elif key == "GENERAL.STATE":
        _set_state(current, value)
    elif key == "GENERAL.CONNECTION":
        current.connection = clean(value)
    elif key == "CAPABILITIES.SPEED":
        current.speed_mbps = parse_float(value)
    return current


def _set_state(device: _NmDevice, value: str) -> None:
    match = _NM_STATE.match(value.strip())
    if match:
        # NM_DEVICE_STATE_ACTIVATED is 100; 110 and up are on the way down.
        device.connected = int(match.group(1)) == 100
        device.state = match.group(2)
    else:
        device.connected = value.strip() == "connected"
        device.state = value.strip()


def _row_or_status(capture: _NmText, values: list[str]) -> None:
    if len(values) == 9 and is_mac(values[2]):
        capture.rows.append(_row(dict(zip(NMCLI_FIELDS, values, strict=True))))
    elif len(values) == 9 and is_mac(values[1]):
        capture.rows.append(_row(dict(zip(NMCLI_DEFAULT_FIELDS, values, strict=True))))
    elif len(values) == 4 and re.fullmatch(r"[a-z0-9-]+", values[1]):
        device = capture.devices.setdefault(values[0], _NmDevice(values[0]))
        device.type, device.state = values[1], values[2]
        device.connected = values[2] == "connected"
        device.connection = clean(values[3])


def _row(columns: dict[str, str]) -> VisibleAp:
    in_use = (
        columns.get("ACTIVE", columns.get("IN-USE", "")).strip().lower() in NMCLI_YES
    )
    ap = VisibleAp(
        interface=clean(columns.get("DEVICE")),
        ssid=clean(columns["SSID"]),
        bssid=parse_mac(columns["BSSID"]),
        security=clean(columns["SECURITY"]),
        in_use=in_use,
        max_rate_mbps=parse_float(columns["RATE"]),
    )
    ap = with_channel(
        ap,
        channel=parse_int(columns["CHAN"]),
        frequency_mhz=parse_int(columns.get("FREQ")),
    )
    return with_signal(
        ap, percent=parse_float(columns["SIGNAL"]), scale=NETWORKMANAGER_SCALE
    )


def _nm_links(capture: _NmText) -> Iterable[WifiLink]:
    if capture.devices:
        names = [name for name, dev in capture.devices.items() if dev.type == "wifi"]
    else:
        named = dict.fromkeys(r.interface or "" for r in capture.rows)
        names = list(named)
    for name in names:
        device = capture.devices.get(name, _NmDevice(name))
        active = next(
            (r for r in capture.rows if r.in_use and r.interface in (name, None)), None
        )
        yield _nm_link(device, active)


def _nm_link(device: _NmDevice, active: VisibleAp | None) -> WifiLink:
    connected = device.connected if device.connected is not None else bool(active)
    link = WifiLink(
        interface=device.name or None,
        connected=connected,
        state=device.state or ("connected" if connected else "disconnected"),
        ssid=device.connection if connected else None,
        tx_rate_mbps=device.speed_mbps if connected else None,
    )
    if not (connected and active):
        return link
    return replace(
        link,
        **{key: getattr(active, key) for key in _RADIO_KEYS},
        interface=link.interface or active.interface,
    )


_RADIO_KEYS = (
    "ssid",
    "bssid",
    "signal_dbm",
    "signal_pct",
    "signal_dbm_approx",
    "signal_pct_approx",
    "channel",
    "frequency_mhz",
    "band",
    "security",
)

# iw ------------------------------------------------------------------------

_IW_CONNECTED = re.compile(r"^Connected to ([0-9a-fA-F:]{17})(?: \(on (\S+)\))?")
_IW_BSS = re.compile(r"^BSS ([0-9a-fA-F:]{17})\s*(?:\(on (\S+)\))?(.*)$")
_IW_HEX = re.compile(rb"\\x([0-9a-fA-F]{2})")


def unescape_iw_ssid(text: str) -> str:
    """Decode an SSID as ``iw`` prints it: bytes outside printable ASCII as ``\\xNN``."""
    raw = _IW_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))
    return raw.decode("utf-8", errors="replace")


def parse_iw(
    text: str, interface: str | None = None, origin: str = "live"
) -> WifiReading:
    """Parse ``iw dev IF link`` and ``iw dev IF scan`` (or ``scan dump``) output.

    Args:
        text: One or more of those outputs, concatenated.
        interface: The interface, for ``Not connected.`` which does not name it.
        origin: Where the text came from.
    """
    links: list[WifiLink] = []
    scan: list[VisibleAp] = []
    for block in _iw_blocks(text):
        _read_iw_block(block, interface, links, scan)
    if not links and any(ap.in_use for ap in scan):
        links = [_link_from_bss(ap) for ap in scan if ap.in_use]
    return WifiReading("iw", links=tuple(links), scan=tuple(scan), origin=origin)


def _iw_blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if (
            line.startswith(("Connected to ", "BSS "))
            or line.strip() == "Not connected."
        ):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    return blocks


def _read_iw_block(
    block: list[str],
    interface: str | None,
    links: list[WifiLink],
    scan: list[VisibleAp],
) -> None:
    head, props = block[0], _iw_properties(block[1:])
    if head.strip() == "Not connected.":
        links.append(WifiLink(interface=interface, state="not connected"))
    elif match := _IW_CONNECTED.match(head):
        links.append(_iw_link(match.group(1), match.group(2) or interface, props))
    elif match := _IW_BSS.match(head):
        scan.append(_iw_bss(match, interface, props))


def _iw_properties(lines: list[str]) -> dict[str, str]:
    props: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.strip().lstrip("* ").partition(":")
        if sep and key and key not in props:
            props[key.strip()] = value.strip()
    return props


def _iw_link(bssid: str, interface: str | None, props: dict[str, str]) -> WifiLink:
    link = WifiLink(
        interface=interface,
        connected=True,
        state="connected",
        bssid=parse_mac(bssid),
        ssid=unescape_iw_ssid(props["SSID"]) if "SSID" in props else None,
        rx_rate_mbps=parse_float(props.get("rx bitrate")),
        tx_rate_mbps=parse_float(props.get("tx bitrate")),
        radio_type=_iw_phy(props.get("tx bitrate") or props.get("rx bitrate")),
    )
    link = with_channel(link, frequency_mhz=parse_int(props.get("freq")))
    return with_signal(link, dbm=parse_float(props.get("signal")))


def _iw_phy(bitrate: str | None) -> str | None:
    match = re.search(r"\b(EHT|HE|VHT)-MCS|\bMCS\b", bitrate or "")
    if not match:
        return None
    return {"EHT": "802.11be", "HE": "802.11ax", "VHT": "802.11ac"}.get(
        match.group(1) or "", "802.11n"
    )


def _iw_bss(
    match: re.Match[str], interface: str | None, props: dict[str, str]
) -> VisibleAp:
    ap = VisibleAp(
        interface=match.group(2) or interface,
        bssid=parse_mac(match.group(1)),
        ssid=unescape_iw_ssid(props["SSID"]) if props.get("SSID") else None,
        in_use="associated" in match.group(3),
        security="RSN" if "RSN" in props else "WPA" if "WPA" in props else None,
    )
    channel = parse_int(props.get("primary channel")) or parse_int(
        props.get("DS Parameter set")
    )
    ap = with_channel(ap, channel=channel, frequency_mhz=parse_int(props.get("freq")))
    return with_signal(ap, dbm=parse_float(props.get("signal")))


def _link_from_bss(ap: VisibleAp) -> WifiLink:
    radio = {key: getattr(ap, key) for key in ("interface", *_RADIO_KEYS)}
    return WifiLink(**radio, connected=True, state="associated")


def parse_iw_dev(text: str) -> list[str]:
    """Return the station (``type managed``) interfaces that ``iw dev`` lists."""
    names: list[str] = []
    current: str | None = None
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["Interface"] and len(words) > 1:
            current = words[1]
        elif words[:2] == ["type", "managed"] and current:
            names.append(current)
    return names
