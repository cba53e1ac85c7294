"""The Wi-Fi link probe: read the link (live or from a capture), compare reads, state findings.

A diagnosis reads the link, asks the person to reconnect, and reads it again:

    first = await read_link()
    ...  # the person reconnects
    second = await read_link(previous=first)   # adds wifi.roamed if the AP changed

Findings: ``wifi.weak_signal`` (the link's signal under the site's
``weak_signal_dbm``), ``wifi.stronger_ap_visible`` (a scan shows the same SSID
on another BSSID ``stronger_ap_db`` stronger), ``wifi.roamed`` (the BSSID
changed between two reads of the same SSID; a change of SSID is another
network, reported in the measurements, not a roam).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from netcase.errors import ConfigError
from netcase.probes.findings import Finding, Severity
from netcase.probes.result import ProbeResult
from netcase.probes.wifilink import VisibleAp, WifiLink, WifiReading
from netcase.probes.wifilive import (
    DEFAULT_TIMEOUT_S,
    ProgressCallback,
    WifiCannotRead,
    WifiProgress,
    read_wifi,
)
from netcase.probes.wifiparse import decode_capture, detect_format, parse_capture
from netcase.site import Thresholds

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "PROBE",
    "LinkSource",
    "WifiCannotRead",
    "WifiLink",
    "WifiProgress",
    "WifiReading",
    "VisibleAp",
    "compare_links",
    "decode_capture",
    "detect_format",
    "link_findings",
    "parse_capture",
    "read_link",
    "read_wifi",
]

logger = logging.getLogger(__name__)

PROBE = "wifi"

LinkSource = WifiLink | WifiReading | ProbeResult | Mapping[str, Any]
"""Anything a link can be taken from: a link, a reading, a wifi probe result or its JSON."""


async def read_link(
    reading: WifiReading | None = None,
    *,
    interface: str | None = None,
    scan: WifiReading | None = None,
    previous: LinkSource | None = None,
    thresholds: Thresholds | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    on_progress: ProgressCallback | None = None,
    platform: str | None = None,
) -> ProbeResult:
    """Read one Wi-Fi link and state what is wrong with it.

    Args:
        reading: A parsed capture; None reads this machine's Wi-Fi live.
        interface: The interface to judge; default the first connected one.
        scan: Another reading whose visible APs join the link's own scan.
        previous: An earlier read of the same link, to tell a roam.
        thresholds: The site's limits (``weak_signal_dbm``, ``stronger_ap_db``).
        timeout_s: The longest one live command may take.
        on_progress: Called as each live command starts and ends.
        platform: A ``sys.platform`` value for the live read.

    Raises:
        WifiCannotRead: Live, when no tool or no Wi-Fi interface is there.
        ConfigError: When ``interface`` is not in a captured reading.
    """
    thresholds = thresholds or Thresholds()
    started, clock = datetime.now(UTC), time.monotonic()
    if reading is None:
        reading = await read_wifi(
            interface, platform=platform, timeout_s=timeout_s, on_progress=on_progress
        )
    link = _select(reading, interface)
    visible = (*reading.scan, *(scan.scan if scan else ()))
    findings = link_findings(link, visible, thresholds) if link else []
    before = as_link(previous, link.interface if link else None) if previous else None
    if before is not None and link is not None:
        findings.extend(compare_links(before, link, thresholds))
    result = ProbeResult(
        PROBE,
        started,
        time.monotonic() - clock,
        params=_params(reading, interface, scan, previous, thresholds, timeout_s),
        measurements=_measurements(reading, link, visible, before),
        findings=findings,
    )
    _log(result, link)
    return result


def _select(reading: WifiReading, interface: str | None) -> WifiLink | None:
    link = reading.link(interface)
    if link is not None or interface is None:
        return link
    known = ", ".join(x.interface or "(unnamed)" for x in reading.links) or "none"
    message = (
        f"No Wi-Fi interface named {interface!r} in {reading.origin}; found: {known}."
    )
    if reading.origin == "live":
        raise WifiCannotRead(message)
    raise ConfigError(message)


def as_link(source: LinkSource, interface: str | None = None) -> WifiLink | None:
    """Return the link held by a link, a reading, a wifi result or its JSON."""
    if isinstance(source, WifiLink):
        return source
    if isinstance(source, WifiReading):
        return source.link(interface) or source.link()
    data = source.to_json() if isinstance(source, ProbeResult) else source
    if "measurements" in data:
        data = data["measurements"].get("link") or {}
    return WifiLink.from_json(data) if data else None


def link_findings(
    link: WifiLink, scan: Iterable[VisibleAp], thresholds: Thresholds
) -> list[Finding]:
    """Return ``wifi.weak_signal`` and ``wifi.stronger_ap_visible`` for one link."""
    findings: list[Finding] = []
    scan = tuple(scan)
    if not link.connected:
        return findings
    if link.signal_dbm is not None and link.signal_dbm < thresholds.weak_signal_dbm:
        findings.append(_weak(link, thresholds))
    stronger = stronger_aps(link, scan, thresholds)
    if stronger:
        findings.append(_stronger(link, stronger, _reference_dbm(link, scan)))
    return findings


def _weak(link: WifiLink, thresholds: Thresholds) -> Finding:
    return Finding(
        "wifi.weak_signal",
        Severity.WARNING,
        f"{_where(link)}: signal {_dbm(link.signal_dbm, link.signal_dbm_approx)}, "
        f"under {thresholds.weak_signal_dbm:g} dBm.",
        {
            "interface": link.interface,
            "ssid": link.ssid,
            "bssid": link.bssid,
            "signal_dbm": link.signal_dbm,
            "signal_pct": link.signal_pct,
            "approximate": link.signal_dbm_approx,
            "threshold_dbm": thresholds.weak_signal_dbm,
        },
    )


def _reference_dbm(link: WifiLink, scan: Iterable[VisibleAp]) -> float | None:
    """Return the current BSS's signal as the scan saw it, else the link's.

    Comparing scan entries with each other keeps both sides in the same unit
    and from the same moment.
    """
    for ap in scan:
        if (
            ap.bssid is not None
            and ap.bssid == link.bssid
            and ap.signal_dbm is not None
        ):
            return ap.signal_dbm
    return link.signal_dbm


def stronger_aps(
    link: WifiLink, scan: Iterable[VisibleAp], thresholds: Thresholds
) -> list[VisibleAp]:
    """Return the other BSSes of the link's SSID that are much stronger, strongest first.

    An entry without a BSSID (macOS' system_profiler) counts only when its
    channel differs from the link's, since otherwise it may be the link itself.
    """
    scan = list(scan)
    reference_dbm = _reference_dbm(link, scan)
    if not link.ssid or reference_dbm is None:
        return []
    stronger = [
        ap
        for ap in scan
        if ap.ssid == link.ssid
        and _other_bss(link, ap)
        and ap.signal_dbm is not None
        and ap.signal_dbm - reference_dbm >= thresholds.stronger_ap_db
    ]
    return sorted(stronger, key=lambda ap: -(ap.signal_dbm or 0))


def _other_bss(link: WifiLink, ap: VisibleAp) -> bool:
    if ap.interface and link.interface and ap.interface != link.interface:
        return False
    if ap.bssid is not None and link.bssid is not None:
        return ap.bssid != link.bssid
    return not ap.in_use and ap.channel is not None and ap.channel != link.channel


def _stronger(
    link: WifiLink, stronger: list[VisibleAp], current_dbm: float | None
) -> Finding:
    best = stronger[0]
    difference_db = round((best.signal_dbm or 0) - (current_dbm or 0), 1)
    return Finding(
        "wifi.stronger_ap_visible",
        Severity.WARNING,
        f"{_where(link)} at {_dbm(current_dbm, link.signal_dbm_approx)}; "
        f"{best.bssid or 'another AP'} (channel {best.channel}) shows the same SSID "
        f"at {_dbm(best.signal_dbm, best.signal_dbm_approx)}, {difference_db:g} dB stronger.",
        {
            "interface": link.interface,
            "ssid": link.ssid,
            "current_bssid": link.bssid,
            "current_dbm": current_dbm,
            "stronger_bssid": best.bssid,
            "stronger_dbm": best.signal_dbm,
            "stronger_channel": best.channel,
            "difference_db": difference_db,
            "approximate": best.signal_dbm_approx,
            "candidates": [ap.bssid for ap in stronger],
        },
    )


def compare_links(
    before: LinkSource, after: LinkSource, thresholds: Thresholds | None = None
) -> list[Finding]:
    """Return ``wifi.roamed`` when the BSSID changed between two reads of one interface.

    Nothing is said when either read is disconnected or lacks a BSSID: a roam
    cannot be told then. Nor when the SSID changed: joining another network is
    not a roam. The finding's data says whether each signal was weak, which
    tells a move from a weak AP to a strong one.
    """
    thresholds = thresholds or Thresholds()
    first, second = as_link(before), as_link(after)
    if first and second and network_changed(first, second):
        logger.info(
            "Wi-Fi %s joined another network (%s -> %s): not a roam",
            second.interface or "-",
            first.ssid,
            second.ssid,
        )
    if not (first and second and _roamed(first, second)):
        return []
    ssid_note = (
        "" if first.ssid == second.ssid else f" (SSID {first.ssid} -> {second.ssid})"
    )
    return [
        Finding(
            "wifi.roamed",
            Severity.INFO,
            f"{_where(second, bssid=False)}: BSSID {first.bssid} -> {second.bssid}{ssid_note}, "
            f"signal {_dbm(first.signal_dbm, first.signal_dbm_approx)} -> "
            f"{_dbm(second.signal_dbm, second.signal_dbm_approx)}.",
            {
                "interface": second.interface,
                "ssid": second.ssid,
                "ssid_before": first.ssid,
                "bssid_before": first.bssid,
                "bssid_after": second.bssid,
                "signal_dbm_before": first.signal_dbm,
                "signal_dbm_after": second.signal_dbm,
                "weak_before": _is_weak(first, thresholds),
                "weak_after": _is_weak(second, thresholds),
            },
        )
    ]


def _roamed(first: WifiLink, second: WifiLink) -> bool | None:
    """True or False when the two reads tell, None when they cannot.

    A roam is a move between APs of one network, so reads of two SSIDs cannot
    tell one.
    """
    if not (first.connected and second.connected and first.bssid and second.bssid):
        return None
    if first.interface and second.interface and first.interface != second.interface:
        return None
    if network_changed(first, second):
        return None
    return first.bssid != second.bssid


def network_changed(first: WifiLink, second: WifiLink) -> bool:
    """True when both reads are connected and name different SSIDs."""
    return bool(
        first.connected
        and second.connected
        and first.ssid
        and second.ssid
        and first.ssid != second.ssid
    )


def _is_weak(link: WifiLink, thresholds: Thresholds) -> bool | None:
    if link.signal_dbm is None:
        return None
    return link.signal_dbm < thresholds.weak_signal_dbm


def _where(link: WifiLink, bssid: bool = True) -> str:
    name = f"{link.interface or 'Wi-Fi'} on {link.ssid or 'an unnamed network'}"
    return f"{name} ({link.bssid})" if bssid and link.bssid else name


def _dbm(value: float | None, approximate: bool) -> str:
    if value is None:
        return "unknown"
    return f"{'~' if approximate else ''}{value:g} dBm"


def _params(
    reading: WifiReading,
    interface: str | None,
    scan: WifiReading | None,
    previous: LinkSource | None,
    thresholds: Thresholds,
    timeout_s: float,
) -> dict[str, Any]:
    return {
        "interface": interface,
        "origin": reading.origin,
        "scan_origin": scan.origin if scan else None,
        "previous": _describe(previous),
        "timeout_s": timeout_s if reading.origin == "live" else None,
        "weak_signal_dbm": thresholds.weak_signal_dbm,
        "stronger_ap_db": thresholds.stronger_ap_db,
    }


def _describe(previous: LinkSource | None) -> str | None:
    if previous is None:
        return None
    if isinstance(previous, WifiReading):
        return previous.origin
    if isinstance(previous, ProbeResult):
        return f"wifi result of {previous.started.isoformat()}"
    if isinstance(previous, WifiLink):
        return "a link"
    return str(previous.get("origin") or previous.get("started") or "a link")


def _measurements(
    reading: WifiReading,
    link: WifiLink | None,
    visible: tuple[VisibleAp, ...],
    before: WifiLink | None,
) -> dict[str, Any]:
    return {
        "source": reading.source,
        "commands": list(reading.commands),
        "interface": link.interface if link else None,
        "link": link.to_json() if link else None,
        "interfaces": [x.to_json() for x in reading.links],
        "scan": [ap.to_json() for ap in visible],
        "previous": before.to_json() if before else None,
        "roamed": _roamed(before, link) if before and link else None,
        "network_changed": network_changed(before, link) if before and link else None,
        "notes": [*reading.notes, *_network_note(before, link)],
    }


def _network_note(before: WifiLink | None, link: WifiLink | None) -> list[str]:
    if not (before and link and network_changed(before, link)):
        return []
    return [
        f"The SSID changed from {before.ssid} to {link.ssid}: the link joined "
        "another network, which is not a roam."
    ]


def _log(result: ProbeResult, link: WifiLink | None) -> None:
    if link is None:
        outcome = "no Wi-Fi interface"
    elif link.connected:
        outcome = f"connected to {link.ssid} {link.bssid} at {link.signal_dbm} dBm"
    else:
        outcome = f"not connected ({link.state})"
    codes = ", ".join(sorted(result.codes())) or "none"
    logger.info(
        "Wi-Fi link %s via %s (%s) in %.3f s: %s; findings: %s",
        link.interface if link else "-",
        result.measurements["source"],
        result.params["origin"],
        result.duration_s,
        outcome,
        codes,
    )
