"""Parsers for Windows' ``netsh wlan show interfaces`` and ``show networks mode=bssid``.

netsh words its labels in the display language. Labels are matched after
removing spaces and lower-casing, against English, Simplified Chinese and
Traditional Chinese names; the values (``92%``, ``866.7``, a MAC address) read
the same in every language.
"""

from __future__ import annotations

import re

from netcase.probes.wifilink import (
    WINDOWS_SCALE,
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

# TODO: only English and Chinese netsh labels are known - a capture from a
# Windows in another display language (German, Russian...) reads as no interface.
LABELS: dict[str, str] = {
    "name": "name",
    "名称": "name",
    "名稱": "name",
    "interfacename": "name",
    "接口名称": "name",
    "介面名稱": "name",
    "state": "state",
    "状态": "state",
    "狀態": "state",
    "ssid": "ssid",
    "bssid": "bssid",
    "apbssid": "bssid",
    "band": "band",
    "频带": "band",
    "頻帶": "band",
    "channel": "channel",
    "信道": "channel",
    "频道": "channel",
    "頻道": "channel",
    "radiotype": "radio_type",
    "无线电类型": "radio_type",
    "無線電類型": "radio_type",
    "authentication": "security",
    "身份验证": "security",
    "驗證": "security",
    "receiverate(mbps)": "rx",
    "接收速率(mbps)": "rx",
    "transmitrate(mbps)": "tx",
    "传输速率(mbps)": "tx",
    "傳輸速率(mbps)": "tx",
    "signal": "signal",
    "信号": "signal",
    "訊號": "signal",
    "rssi": "rssi",
}
"""netsh labels, without spaces and lower-cased, to netcase's names."""

CONNECTED_STATES = {"connected", "已连接", "已連線"}
NO_INTERFACE = (
    "there is no wireless interface",
    "系统上没有无线接口",
    "系統上沒有無線介面",
)
_LINE = re.compile(r"^\s*([^:]+?)\s*:\s?(.*)$")
_NUMBERED = re.compile(r"^(ssid|bssid)\d+$")


def label(text: str) -> str | None:
    """Return netcase's name for a netsh label in any supported language."""
    key = re.sub(r"\s+", "", text).lower()
    numbered = _NUMBERED.match(key)
    if numbered:
        return f"{numbered.group(1)}#"
    return LABELS.get(key)


def pairs(text: str) -> list[tuple[str, str]]:
    """Return each ``label : value`` line as (netcase name, value), in order."""
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match and (name := label(match.group(1))):
            found.append((name, match.group(2).strip()))
    return found


def parse_netsh(text: str, origin: str = "live") -> WifiReading:
    """Parse ``netsh wlan show interfaces`` or ``netsh wlan show networks mode=bssid``."""
    found = pairs(text)
    if any(name in ("ssid#", "bssid#") for name, _ in found):
        return WifiReading("netsh", scan=tuple(_networks(found)), origin=origin)
    return WifiReading("netsh", links=tuple(_interfaces(found)), origin=origin)


def _interfaces(found: list[tuple[str, str]]) -> list[WifiLink]:
    blocks: list[dict[str, str]] = []
    for name, value in found:
        if name == "name" or not blocks:
            blocks.append({})
        blocks[-1].setdefault(name, value)
    return [_link(block) for block in blocks if "state" in block or "ssid" in block]


def _link(block: dict[str, str]) -> WifiLink:
    state = block.get("state", "")
    connected = state.lower() in CONNECTED_STATES
    link = WifiLink(
        interface=clean(block.get("name")),
        connected=connected,
        state=state,
        ssid=clean(block.get("ssid")) if connected else None,
        bssid=parse_mac(block.get("bssid")) if connected else None,
        security=clean(block.get("security")),
        radio_type=clean(block.get("radio_type")),
        rx_rate_mbps=parse_float(block.get("rx")),
        tx_rate_mbps=parse_float(block.get("tx")),
    )
    if not connected:
        return link
    link = with_channel(
        link,
        channel=parse_int(block.get("channel")),
        band=band_from_text(block.get("band")),
    )
    return with_signal(
        link,
        dbm=parse_float(block.get("rssi")),
        percent=parse_float(block.get("signal")),
        scale=WINDOWS_SCALE,
    )


def _networks(found: list[tuple[str, str]]) -> list[VisibleAp]:
    interface: str | None = None
    ssid: str | None = None
    security: str | None = None
    bsses: list[dict[str, str]] = []
    for name, value in found:
        if name == "name":
            interface = clean(value)
        elif name == "ssid#":
            ssid, security = clean(value), None
        elif name == "security":
            security = clean(value)
        elif name == "bssid#":
            bsses.append(
                {"bssid": value, "ssid": ssid or "", "security": security or ""}
            )
        elif bsses:
            bsses[-1].setdefault(name, value)
    return [_visible(bss, interface) for bss in bsses]


def _visible(bss: dict[str, str], interface: str | None) -> VisibleAp:
    ap = VisibleAp(
        interface=interface,
        ssid=clean(bss["ssid"]),
        bssid=parse_mac(bss["bssid"]),
        security=clean(bss["security"]),
    )
    ap = with_channel(
        ap, channel=parse_int(bss.get("channel")), band=band_from_text(bss.get("band"))
    )
    return with_signal(
        ap,
        dbm=parse_float(bss.get("rssi")),
        percent=parse_float(bss.get("signal")),
        scale=WINDOWS_SCALE,
    )


def says_no_interface(text: str) -> bool:
    """True when netsh says the machine has no wireless interface."""
    lowered = text.lower()
    return any(phrase in lowered for phrase in NO_INTERFACE)
