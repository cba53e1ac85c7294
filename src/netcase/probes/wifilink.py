"""What a Wi-Fi read yields: each interface's link, the visible APs, and unit helpers.

The tools disagree on units. ``iw`` and macOS report the signal in dBm;
Windows and NetworkManager report a percentage computed from it. Each value
keeps a flag saying whether it was reported or converted, since a converted
dBm figure is only approximate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, TypeVar

BAND_24, BAND_5, BAND_6 = "2.4 GHz", "5 GHz", "6 GHz"
REDACTED = "<redacted>"


@dataclass(frozen=True)
class SignalScale:
    """A linear map between signal percent and dBm, as one tool defines it.

    Attributes:
        name: Who defines it.
        floor_dbm: The dBm that maps to 0 %.
        ceiling_dbm: The dBm that maps to 100 %.
    """

    name: str
    floor_dbm: float
    ceiling_dbm: float

    def to_dbm(self, percent: float) -> float:
        """Return the approximate dBm of a percentage."""
        span_db = self.ceiling_dbm - self.floor_dbm
        return round(self.floor_dbm + min(max(percent, 0), 100) * span_db / 100, 1)

    def to_percent(self, dbm: float) -> int:
        """Return the percentage this scale gives a dBm value."""
        span_db = self.ceiling_dbm - self.floor_dbm
        return int(min(max(round((dbm - self.floor_dbm) * 100 / span_db), 0), 100))


WINDOWS_SCALE = SignalScale("windows", -100.0, -50.0)
"""Windows' signal quality: 0 % is -100 dBm, 100 % is -50 dBm, linear between.

Microsoft documents it for ``WLAN_ASSOCIATION_ATTRIBUTES.wlanSignalQuality``
(wlanapi.h), so ``dBm = percent / 2 - 100``. netcase also uses it to give a
percentage to tools that report only dBm.
"""

NETWORKMANAGER_SCALE = SignalScale("networkmanager", -100.0, -40.0)
"""NetworkManager's signal strength: -100 dBm is 0 %, -40 dBm is 100 %, linear.

So ``dBm = 0.6 * percent - 100`` for what ``nmcli`` shows as SIGNAL.
"""


@dataclass(frozen=True, kw_only=True)
class Radio:
    """What a link and a visible AP have in common.

    Attributes:
        interface: The local interface (``wlan0``, ``Wi-Fi``, ``en0``).
        ssid: The network name, decoded to text.
        bssid: The AP radio's MAC address, lower case with colons.
        signal_dbm: The signal in dBm.
        signal_pct: The signal in percent.
        signal_dbm_approx: True when ``signal_dbm`` was converted from percent.
        signal_pct_approx: True when ``signal_pct`` was converted from dBm.
        channel: The primary channel number.
        frequency_mhz: The primary channel's centre frequency.
        band: ``2.4 GHz``, ``5 GHz`` or ``6 GHz``.
        security: The authentication as the tool names it.
    """

    interface: str | None = None
    ssid: str | None = None
    bssid: str | None = None
    signal_dbm: float | None = None
    signal_pct: int | None = None
    signal_dbm_approx: bool = False
    signal_pct_approx: bool = False
    channel: int | None = None
    frequency_mhz: int | None = None
    band: str | None = None
    security: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the fields as plain JSON values."""
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class WifiLink(Radio):
    """One Wi-Fi interface and the AP it is associated with, if any.

    Attributes:
        connected: True when associated with an AP.
        state: The state as the tool words it (``connected``, ``已连接``).
        rx_rate_mbps: The last receive bit rate.
        tx_rate_mbps: The last transmit bit rate.
        radio_type: The PHY (``802.11ax``, ``11ac``, ``HE-MCS 11``).
    """

    connected: bool = False
    state: str = ""
    rx_rate_mbps: float | None = None
    tx_rate_mbps: float | None = None
    radio_type: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WifiLink:
        """Rebuild a link from :meth:`to_json` output, ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True, kw_only=True)
class VisibleAp(Radio):
    """One BSS a scan saw.

    Attributes:
        in_use: True for the BSS the interface is associated with.
        max_rate_mbps: The highest rate the BSS advertises.
    """

    in_use: bool = False
    max_rate_mbps: float | None = None


R = TypeVar("R", bound=Radio)


@dataclass(frozen=True)
class WifiReading:
    """Everything one read (live or from a capture) found.

    Attributes:
        source: The format read: ``nmcli``, ``iw``, ``netsh``, ``wdutil`` or
            ``system_profiler``.
        links: One per Wi-Fi interface.
        scan: The visible APs, when the tool lists them.
        origin: ``live`` or the capture file it came from.
        commands: The commands run (live reads).
        notes: Caveats a person should read (redacted values, a failed scan).
    """

    source: str
    links: tuple[WifiLink, ...] = ()
    scan: tuple[VisibleAp, ...] = ()
    origin: str = "live"
    commands: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def link(self, interface: str | None = None) -> WifiLink | None:
        """Return the named interface's link, else the first connected one, else the first."""
        if interface is not None:
            return next((x for x in self.links if x.interface == interface), None)
        connected = [x for x in self.links if x.connected]
        return next(iter(connected or self.links), None)


def with_signal(
    radio: R,
    *,
    dbm: float | None = None,
    percent: float | None = None,
    scale: SignalScale = WINDOWS_SCALE,
) -> R:
    """Return ``radio`` with both signal units filled, flagging the converted one.

    Args:
        radio: A :class:`WifiLink` or :class:`VisibleAp`.
        dbm: The dBm the tool reported, if any.
        percent: The percentage the tool reported, if any.
        scale: How the tool maps one unit to the other.
    """
    if dbm is None and percent is None:
        return radio
    return replace(
        radio,
        signal_dbm=dbm if dbm is not None else scale.to_dbm(float(percent or 0)),
        signal_pct=int(percent)
        if percent is not None
        else WINDOWS_SCALE.to_percent(dbm or 0),
        signal_dbm_approx=dbm is None,
        signal_pct_approx=percent is None,
    )


def channel_from_mhz(frequency_mhz: int) -> int | None:
    """Return the channel of a centre frequency.

    Channels count 5 MHz steps from each band's starting frequency (2407, 5000
    and 5950 MHz; IEEE 802.11-2020 Annex E, global operating classes), except
    channel 14 at 2484 MHz and 6 GHz channel 2 at 5935 MHz.
    """
    if frequency_mhz == 2484:
        return 14
    if 2412 <= frequency_mhz <= 2472:
        return (frequency_mhz - 2407) // 5
    if frequency_mhz == 5935:
        return 2
    if 5955 <= frequency_mhz <= 7115:
        return (frequency_mhz - 5950) // 5
    if 5150 <= frequency_mhz <= 5895:
        return (frequency_mhz - 5000) // 5
    return None


def band_from_mhz(frequency_mhz: int) -> str | None:
    """Return the band a frequency is in."""
    if 2400 <= frequency_mhz < 2500:
        return BAND_24
    if 4900 <= frequency_mhz < 5925:
        return BAND_5
    if 5925 <= frequency_mhz <= 7125:
        return BAND_6
    return None


def mhz_from_channel(channel: int, band: str | None) -> int | None:
    """Return the centre frequency of a channel in a band."""
    if band == BAND_24:
        return 2484 if channel == 14 else 2407 + 5 * channel
    if band == BAND_5:
        return 5000 + 5 * channel
    if band == BAND_6:
        return 5935 if channel == 2 else 5950 + 5 * channel
    return None


def band_from_text(text: str | None) -> str | None:
    """Return the canonical band of ``5 GHz``, ``2GHz``, ``2.4 GHz`` or wdutil's ``5g``."""
    if not text:
        return None
    match = re.match(r"\s*(2(?:\.4)?|5|6)\s*(?:ghz|g)\b", text, re.IGNORECASE)
    if not match:
        return None
    return {"2": BAND_24, "2.4": BAND_24, "5": BAND_5, "6": BAND_6}[match.group(1)]


def with_channel(
    radio: R,
    *,
    channel: int | None = None,
    frequency_mhz: int | None = None,
    band: str | None = None,
) -> R:
    """Return ``radio`` with channel, frequency and band, each derived where missing.

    A channel alone names its band only on 2.4 GHz (1 to 14) or, assumed, on
    5 GHz (32 and up): 6 GHz reuses the numbers, so a 6 GHz link reported by
    channel only needs the band from the tool.
    """
    if frequency_mhz is not None:
        channel = channel if channel is not None else channel_from_mhz(frequency_mhz)
        band = band or band_from_mhz(frequency_mhz)
    if channel is not None and band is None:
        band = BAND_24 if channel <= 14 else BAND_5 if channel >= 32 else None
    if channel is not None and frequency_mhz is None:
        frequency_mhz = mhz_from_channel(channel, band)
    return replace(radio, channel=channel, frequency_mhz=frequency_mhz, band=band)


_MAC = re.compile(
    r"^([0-9a-f]{2})([:-])(?:[0-9a-f]{2}\2){4}[0-9a-f]{2}$", re.IGNORECASE
)


def parse_mac(text: str | None) -> str | None:
    """Return a MAC address as ``aa:bb:cc:dd:ee:ff``, or None when it is not one."""
    if not text:
        return None
    text = text.strip()
    if not _MAC.match(text):
        return None
    return text.lower().replace("-", ":")


def is_mac(text: str) -> bool:
    """True when ``text`` is a MAC address with colons or dashes."""
    return parse_mac(text) is not None


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def parse_float(text: str | None) -> float | None:
    """Return the first number in ``text`` (``-67 dBm``, ``866.7``), or None."""
    if not text:
        return None
    match = _NUMBER.search(text)
    return float(match.group()) if match else None


def parse_int(text: str | None) -> int | None:
    """Return the first number in ``text`` as an integer, or None."""
    number = parse_float(text)
    return None if number is None else int(number)


def clean(text: str | None) -> str | None:
    """Return stripped text, or None for empty, ``--``, ``None`` and redacted values."""
    if text is None:
        return None
    text = text.strip()
    if text in ("", "--", "None", "none", REDACTED):
        return None
    return text
