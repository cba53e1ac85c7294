"""`netcase probe wifi`: options and readable output of the Wi-Fi link probe."""

from __future__ import annotations

import argparse
import asyncio
import json
import unicodedata
from pathlib import Path
from typing import Any

from netcase.cli.probecmd import ProbeCannotRun
from netcase.errors import ConfigError
from netcase.probes.limits import MAX_PAUSE_S, MAX_TIMEOUT_S, check_seconds
from netcase.probes.result import ProbeResult
from netcase.probes.wifi import (
    DEFAULT_TIMEOUT_S,
    LinkSource,
    WifiCannotRead,
    WifiReading,
    decode_capture,
    parse_capture,
    read_link,
    read_wifi,
)
from netcase.site import Site

SCAN_ROWS = 12


def add_parser(probes: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Declare the probe's options."""
    parser = probes.add_parser(
        "wifi",
        parents=parents,
        help="read the Wi-Fi link: SSID, BSSID, signal, channel, rates",
        description=(
            "Read the Wi-Fi link of this machine (nmcli or iw, netsh, wdutil or "
            "system_profiler), or of a saved output of one of them. Read-only."
        ),
    )
    parser.add_argument(
        "--from-file",
        metavar="FILE",
        help="a saved output of nmcli -t, iw dev IF link, netsh wlan show interfaces, "
        "wdutil info or system_profiler SPAirPortDataType, instead of a live read",
    )
    parser.add_argument(
        "--scan-file",
        metavar="FILE",
        help="a saved scan (nmcli dev wifi list, iw dev IF scan, "
        "netsh wlan show networks mode=bssid) to look for a stronger AP",
    )
    parser.add_argument(
        "--previous",
        metavar="FILE",
        help="an earlier read (a saved output, or this probe's --json) to tell a roam",
    )
    parser.add_argument(
        "--again-after",
        metavar="S",
        type=float,
        help="read live twice, S seconds apart, and compare the two (roaming)",
    )
    parser.add_argument("--interface", metavar="IF", help="the interface to judge")
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"longest a live command may take (default {DEFAULT_TIMEOUT_S:g})",
    )


def run(args: argparse.Namespace, site: Site) -> ProbeResult:
    """Run the probe from parsed arguments."""
    _check(args)
    reading = _capture(args.from_file, args.interface) if args.from_file else None
    scan = _capture(args.scan_file, args.interface) if args.scan_file else None
    previous = _previous(args.previous, args.interface) if args.previous else None
    try:
        return asyncio.run(_probe(args, site, reading, scan, previous))
    except WifiCannotRead as exc:
        raise ProbeCannotRun(exc.message) from exc


def _check(args: argparse.Namespace) -> None:
    check_seconds(args.timeout, "--timeout", MAX_TIMEOUT_S)
    if args.again_after is not None:
        check_seconds(args.again_after, "--again-after", MAX_PAUSE_S, zero_ok=True)
    if args.again_after is not None and (args.from_file or args.previous):
        raise ConfigError(
            "--again-after reads live twice; it cannot be combined with "
            "--from-file or --previous."
        )


async def _probe(
    args: argparse.Namespace,
    site: Site,
    reading: WifiReading | None,
    scan: WifiReading | None,
    previous: LinkSource | None,
) -> ProbeResult:
    if args.again_after is not None:
        previous = await read_wifi(args.interface, timeout_s=args.timeout)
        await asyncio.sleep(args.again_after)
    return await read_link(
        reading,
        interface=args.interface,
        scan=scan,
        previous=previous,
        thresholds=site.thresholds,
        timeout_s=args.timeout,
    )


def _read_text(path: str) -> str:
    try:
        return decode_capture(Path(path).read_bytes())
    except OSError as exc:
        raise ConfigError(f"Cannot read {path!r}: {exc.strerror}.") from exc


def _capture(path: str, interface: str | None) -> WifiReading:
    return parse_capture(_read_text(path), origin=path, interface=interface)


def _previous(path: str, interface: str | None) -> LinkSource:
    """Return an earlier read: this probe's JSON output, or a saved tool output."""
    text = _read_text(path)
    if not text.lstrip().startswith("{"):
        return parse_capture(text, origin=path, interface=interface)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}.") from exc
    if not isinstance(data, dict) or data.get("probe") != "wifi":
        raise ConfigError(
            f"{path!r} is JSON but not the output of 'netcase probe wifi --json'."
        )
    return {**data, "origin": path}


def render(result: ProbeResult) -> str:
    """Return the readable table of a result."""
    measured = result.measurements
    lines = [f"Wi-Fi link, read with {measured['source']} ({result.params['origin']})"]
    lines.extend(
        _table(_LINK_HEADER, [_link_row(x, measured) for x in measured["interfaces"]])
    )
    if not measured["interfaces"]:
        lines.append("  No Wi-Fi interface in this read.")
    if measured["previous"]:
        lines.append("")
        lines.append(_previous_line(measured))
    if measured["scan"]:
        lines.append("")
        lines.append("Visible APs (strongest first; * in use):")
        lines.extend(_table(_SCAN_HEADER, _scan_rows(measured["scan"])))
    lines.extend(f"Note: {note}" for note in measured["notes"])
    return "\n".join(lines)


_LINK_HEADER = (
    "",
    "interface",
    "state",
    "SSID",
    "BSSID",
    "signal",
    "ch",
    "band",
    "rx/tx Mbit/s",
)
_SCAN_HEADER = ("", "SSID", "BSSID", "signal", "ch", "band", "security")


def _link_row(link: dict[str, Any], measured: dict[str, Any]) -> tuple[str, ...]:
    chosen = ">" if link["interface"] == measured["interface"] else ""
    rates = f"{_number(link['rx_rate_mbps'])}/{_number(link['tx_rate_mbps'])}"
    return (
        chosen,
        link["interface"] or "-",
        link["state"] or ("connected" if link["connected"] else "disconnected"),
        link["ssid"] or "-",
        link["bssid"] or "-",
        _signal(link),
        _number(link["channel"]),
        link["band"] or "-",
        rates if link["connected"] else "-",
    )


def _scan_rows(scan: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    strongest = sorted(scan, key=lambda ap: -(ap["signal_dbm"] or -200))[:SCAN_ROWS]
    return [
        (
            "*" if ap["in_use"] else "",
            ap["ssid"] or "(hidden)",
            ap["bssid"] or "-",
            _signal(ap),
            _number(ap["channel"]),
            ap["band"] or "-",
            ap["security"] or "-",
        )
        for ap in strongest
    ]


def _previous_line(measured: dict[str, Any]) -> str:
    before = measured["previous"]
    verdict = {True: "roamed", False: "same AP", None: "cannot tell"}[
        measured["roamed"]
    ]
    return (
        f"Previous read: {before['ssid'] or '-'} {before['bssid'] or '-'} "
        f"{_signal(before)}: {verdict}."
    )


def _signal(radio: dict[str, Any]) -> str:
    if radio["signal_dbm"] is None:
        return "-"
    dbm = f"{'~' if radio['signal_dbm_approx'] else ''}{radio['signal_dbm']:g} dBm"
    pct = f"{'~' if radio['signal_pct_approx'] else ''}{radio['signal_pct']}%"
    return f"{dbm} {pct}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _width(text: str) -> int:
    """Return the terminal columns of ``text``: CJK and emoji take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [
        max(_width(row[i]) for row in (header, *rows)) for i in range(len(header))
    ]
    return [
        "  ".join(
            cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)
        ).rstrip()
        for row in (header, *rows)
    ]
