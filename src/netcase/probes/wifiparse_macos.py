"""Parsers for macOS: ``wdutil info`` and ``system_profiler SPAirPortDataType``.

Since macOS 14.4 both may print ``<redacted>`` for the SSID and BSSID unless
the caller may use Location Services; such values are read as unknown and a
note says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from netcase.probes.wifilink import (
    REDACTED,
    R,
    VisibleAp,
    WifiLink,
    WifiReading,
    band_from_text,
    clean,
    parse_float,
    parse_int,
    parse_mac,
    with_channel,
    with_signal,
)

# TODO: wdutil and system_profiler labels are read in English only - on a Mac
# whose system_profiler prints localized labels the link reads as unknown.
REDACTED_NOTE = (
    "macOS printed <redacted> for the SSID or BSSID: since macOS 14.4 it shows "
    "them only to programs allowed to use Location Services."
)
_SECTION_RULE = re.compile(r"^\s*[—\-_=]{8,}\s*$")
_WDUTIL_CHANNEL = re.compile(r"^\s*(\d)g(\d+)(?:/(\d+))?", re.IGNORECASE)


def parse_wdutil(text: str, origin: str = "live") -> WifiReading:
    """Parse ``sudo wdutil info``: the key/value lines of its WIFI section."""
    props = _wdutil_wifi_section(text)
    link = _wdutil_link(props)
    notes = (
        (REDACTED_NOTE,) if REDACTED in (props.get("SSID"), props.get("BSSID")) else ()
    )
    return WifiReading("wdutil", links=(link,), origin=origin, notes=notes)


def _wdutil_wifi_section(text: str) -> dict[str, str]:
    sections: dict[str, dict[str, str]] = {}
    title = ""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if _SECTION_RULE.match(line):
            continue
        key, sep, value = line.partition(":")
        if not sep and line.strip() and _is_title(lines, index):
            title = line.strip().upper()
        elif sep:
            sections.setdefault(title, {}).setdefault(key.strip(), value.strip())
    return sections.get("WIFI") or sections.get("") or {}


def _is_title(lines: list[str], index: int) -> bool:
    before = lines[index - 1] if index > 0 else ""
    return bool(_SECTION_RULE.match(before)) or lines[index].strip().isupper()


def _wdutil_link(props: dict[str, str]) -> WifiLink:
    rssi_dbm = parse_float(props.get("RSSI"))
    powered = not props.get("Power", "On").lower().startswith("off")
    associated = props.get("Op Mode", "").upper() == "STA" or bool(rssi_dbm)
    connected = powered and associated
    link = WifiLink(
        interface=clean(props.get("Interface Name")),
        connected=connected,
        state="connected" if connected else "off" if not powered else "not associated",
        ssid=clean(props.get("SSID")) if connected else None,
        bssid=parse_mac(props.get("BSSID")) if connected else None,
        security=clean(props.get("Security")),
        radio_type=clean(props.get("PHY Mode")),
        tx_rate_mbps=parse_float(props.get("Tx Rate")) if connected else None,
    )
    if not connected:
        return link
    channel = _WDUTIL_CHANNEL.match(props.get("Channel", ""))
    if channel:
        link = with_channel(
            link,
            channel=int(channel.group(2)),
            band=band_from_text(f"{channel.group(1)}g"),
        )
    return with_signal(link, dbm=rssi_dbm)


@dataclass
class _Node:
    """One line of system_profiler's indented outline."""

    key: str
    value: str = ""
    children: list[_Node] = field(default_factory=list)

    def child(self, key: str) -> _Node | None:
        return next((c for c in self.children if c.key == key), None)

    def props(self) -> dict[str, str]:
        return {c.key: c.value for c in self.children if c.value}


def outline(text: str) -> _Node:
    """Return system_profiler's indented ``key: value`` lines as a tree.

    A line ending in ``:`` opens a node; its name is everything before that
    last colon, so an SSID such as ``Cafe:Guest`` stays whole.
    """
    root = _Node("")
    stack: list[tuple[int, _Node]] = [(-1, root)]
    for line in text.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if stripped.endswith(":"):
            node = _Node(stripped[:-1])
        else:
            key, _, value = stripped.partition(": ")
            node = _Node(key, value.strip())
        while stack[-1][0] >= indent:
            stack.pop()
        stack[-1][1].children.append(node)
        stack.append((indent, node))
    return root


def parse_system_profiler(text: str, origin: str = "live") -> WifiReading:
    """Parse ``system_profiler SPAirPortDataType``: each Wi-Fi card and what it sees.

    It gives no BSSIDs, so roaming between APs of one SSID cannot be seen here.
    """
    interfaces = _find(outline(text), "Interfaces")
    cards = [
        card for card in (interfaces.children if interfaces else []) if _is_card(card)
    ]
    links = tuple(_profiler_link(card) for card in cards)
    scan = tuple(ap for card in cards for ap in _profiler_scan(card))
    redacted = any(node.key == REDACTED for card in cards for node in _walk(card))
    return WifiReading(
        "system_profiler",
        links=links,
        scan=scan,
        origin=origin,
        notes=(REDACTED_NOTE,) if redacted else (),
    )


def _is_card(node: _Node) -> bool:
    return "Card Type" in node.props() or node.child(_CURRENT) is not None


_CURRENT = "Current Network Information"
_OTHERS = "Other Local Wi-Fi Networks"


def _find(node: _Node, key: str) -> _Node | None:
    return next((child for child in _walk(node) if child.key == key), None)


def _walk(node: _Node) -> list[_Node]:
    nodes: list[_Node] = []
    for child in node.children:
        nodes.append(child)
        nodes.extend(_walk(child))
    return nodes


def _profiler_link(card: _Node) -> WifiLink:
    status = card.props().get("Status", "")
    current = card.child(_CURRENT)
    network = current.children[0] if current and current.children else None
    connected = network is not None and status.lower() != "off"
    link = WifiLink(
        interface=card.key,
        connected=connected,
        state=status or ("Connected" if connected else "Not Associated"),
    )
    if network is None or not connected:
        return link
    props = network.props()
    link = replace(
        link,
        ssid=clean(network.key),
        security=clean(props.get("Security")),
        radio_type=clean(props.get("PHY Mode")),
        tx_rate_mbps=parse_float(props.get("Transmit Rate")),
    )
    return _profiler_radio(link, props)


def _profiler_scan(card: _Node) -> list[VisibleAp]:
    aps: list[VisibleAp] = []
    for title, in_use in ((_CURRENT, True), (_OTHERS, False)):
        section = card.child(title)
        for network in section.children if section else []:
            props = network.props()
            ap = VisibleAp(
                interface=card.key,
                ssid=clean(network.key),
                security=clean(props.get("Security")),
                in_use=in_use,
            )
            aps.append(_profiler_radio(ap, props))
    return aps


def _profiler_radio(radio: R, props: dict[str, str]) -> R:
    """Fill channel, band and signal from ``Channel: 36 (5GHz, 80MHz)`` and ``Signal / Noise``."""
    channel_text = props.get("Channel", "")
    band_text = channel_text.partition("(")[2]
    radio = with_channel(
        radio, channel=parse_int(channel_text), band=band_from_text(band_text)
    )
    signal_text = props.get("Signal / Noise", "").partition("/")[0]
    return with_signal(radio, dbm=parse_float(signal_text))
