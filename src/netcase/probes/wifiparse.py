"""Read a captured Wi-Fi tool output: decode it, tell which tool printed it, parse it.

The parsers themselves live in ``wifiparse_linux``, ``wifiparse_windows`` and
``wifiparse_macos``; this module picks one.
"""

from __future__ import annotations

import codecs
import locale
import logging
import re
from collections.abc import Callable
from dataclasses import replace

from netcase.errors import ConfigError
from netcase.probes.wifilink import WifiReading
from netcase.probes.wifiparse_linux import parse_iw, parse_nmcli
from netcase.probes.wifiparse_macos import parse_system_profiler, parse_wdutil
from netcase.probes.wifiparse_windows import label, parse_netsh, says_no_interface

logger = logging.getLogger(__name__)

FORMATS = ("nmcli", "iw", "netsh", "wdutil", "system_profiler")
CAPTURE_COMMANDS = (
    "nmcli -t -f ACTIVE,SSID,BSSID,CHAN,FREQ,RATE,SIGNAL,SECURITY,DEVICE dev wifi list",
    "nmcli -t -f GENERAL,CAPABILITIES,WIFI-PROPERTIES dev show",
    "iw dev IF link",
    "iw dev IF scan dump",
    "netsh wlan show interfaces",
    "netsh wlan show networks mode=bssid",
    "sudo wdutil info",
    "system_profiler SPAirPortDataType",
)
"""The commands whose output netcase reads, for messages that ask for one."""

_NMCLI_MAC = re.compile(r"(?:[0-9A-F]{2}\\:){5}[0-9A-F]{2}")
_NMCLI_KEY = re.compile(
    r"^(?:GENERAL|CAPABILITIES|WIFI-PROPERTIES|AP\[\d+\])\.[A-Z-]+:", re.M
)
_IW = re.compile(
    r"^(?:Connected to [0-9a-fA-F:]{17}|Not connected\.|BSS [0-9a-fA-F:]{17})", re.M
)
_NMCLI_STATUS = re.compile(r"^[^:\s]+:(?:wifi|wifi-p2p|ethernet|loopback):", re.M)
_WDUTIL = re.compile(r"^\s*Op Mode\s+:", re.M)
_PROFILER = re.compile(
    r"^\s*(?:Current Network Information|Software Versions|Card Type):", re.M
)


def decode_capture(data: bytes) -> str:
    """Decode a capture saved on any system, and make its line endings ``\\n``.

    PowerShell 5's ``>`` writes UTF-16 with a byte-order mark; ``cmd.exe`` on
    a Chinese Windows writes the console code page (GBK); the rest is UTF-8.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16")
    elif data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    else:
        text = _decode_without_bom(data)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_without_bom(data: bytes) -> str:
    candidates = ["utf-8", locale.getpreferredencoding(False), "gb18030"]
    for encoding in dict.fromkeys(candidates):
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace")


def detect_format(text: str) -> str | None:
    """Return which tool printed ``text`` (one of :data:`FORMATS`), or None."""
    if _PROFILER.search(text):
        return "system_profiler"
    if _WDUTIL.search(text):
        return "wdutil"
    if _IW.search(text):
        return "iw"
    if any(p.search(text) for p in (_NMCLI_KEY, _NMCLI_MAC, _NMCLI_STATUS)):
        return "nmcli"
    if says_no_interface(text) or _has_netsh_labels(text):
        return "netsh"
    return None


def _has_netsh_labels(text: str) -> bool:
    names = set()
    for line in text.splitlines():
        key, sep, _ = line.partition(":")
        if sep and (name := label(key)):
            names.add(name)
    return bool(names & {"state", "ssid#"}) and bool(names & {"name", "ssid", "ssid#"})


_PARSERS: dict[str, Callable[[str, str], WifiReading]] = {
    "nmcli": parse_nmcli,
    "netsh": parse_netsh,
    "wdutil": parse_wdutil,
    "system_profiler": parse_system_profiler,
}


def parse_capture(
    text: str,
    *,
    origin: str = "live",
    interface: str | None = None,
    fmt: str | None = None,
) -> WifiReading:
    """Parse one tool's output into a :class:`WifiReading`, detecting the tool.

    Args:
        text: The output, already decoded (see :func:`decode_capture`).
        origin: Where it came from, recorded in the reading.
        interface: Names an interface the output leaves unnamed (``iw``'s
            ``Not connected.``, a pasted fragment).
        fmt: The format, when the caller knows it.

    Raises:
        ConfigError: When the text is not output of a supported command.
    """
    text = text.replace("\r\n", "\n")
    fmt = fmt or detect_format(text)
    if fmt is None:
        raise ConfigError(
            f"{origin}: not the output of a Wi-Fi command netcase reads; save one of: "
            + "; ".join(CAPTURE_COMMANDS)
            + "."
        )
    logger.debug("Parsing %s as %s output", origin, fmt)
    if fmt == "iw":
        reading = parse_iw(text, interface, origin)
    else:
        reading = _PARSERS[fmt](text, origin)
    return _name_unnamed(reading, interface)


def _name_unnamed(reading: WifiReading, interface: str | None) -> WifiReading:
    if interface is None or len(reading.links) != 1 or reading.links[0].interface:
        return reading
    return replace(reading, links=(replace(reading.links[0], interface=interface),))
