"""`netcase probe clock`: compare this machine's clock with a reference."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from netcase.errors import ConfigError
from netcase.probes.clock import DEFAULT_TIMEOUT_S, check_clock, span_text
from netcase.probes.limits import MAX_TIMEOUT_S, check_seconds
from netcase.probes.result import ProbeResult
from netcase.site import Site

COLUMNS = ("SOURCE", "REFERENCE", "OFFSET", "CLOCK IS", "RTT MS", "NOTE")


def add_parser(probes: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Declare the probe's options."""
    parser = probes.add_parser(
        "clock",
        parents=parents,
        help="compare this machine's clock with an NTP server, an HTTP Date or an apt error",
        description=(
            "Measure how far this machine's clock (and so its containers' clock) "
            "is from an NTP server (SNTP) or the Date header of a web server, "
            "and read the skew a pasted apt 'Release file ... is not valid yet' "
            "error states. Give at least one."
        ),
    )
    parser.add_argument("--ntp", metavar="HOST[:PORT]", help="an NTP server to ask")
    parser.add_argument(
        "--http", metavar="URL", help="an http(s) URL whose Date header is read"
    )
    parser.add_argument(
        "--proxy",
        metavar="URL",
        help="an http://host:port proxy for --http (default: the site's "
        "targets.http_proxy)",
    )
    apt = parser.add_mutually_exclusive_group()
    apt.add_argument("--apt-error", metavar="TEXT", help="pasted apt error output")
    apt.add_argument(
        "--apt-error-file",
        metavar="FILE",
        help="a file holding apt error output ('-' reads standard input)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds each live reference gets (default: {DEFAULT_TIMEOUT_S:g})",
    )


def run(args: argparse.Namespace, site: Site) -> ProbeResult:
    """Run the probe from parsed arguments.

    Raises:
        ConfigError: For no reference, a bad server, URL, timeout or apt text.
    """
    apt_error = args.apt_error
    if args.apt_error_file is not None:
        apt_error = _read_text(args.apt_error_file)
    probe = check_clock(
        ntp=args.ntp,
        http_url=args.http,
        http_proxy=args.proxy or site.targets.http_proxy,
        apt_error=apt_error,
        timeout_s=check_seconds(args.timeout, "--timeout", MAX_TIMEOUT_S),
        skew_threshold_s=site.thresholds.clock_skew_s,
    )
    return asyncio.run(probe)


def _read_text(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the apt error file {name!r}: {exc.strerror}."
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"The apt error file {name!r} is not UTF-8 text.") from exc


def render(result: ProbeResult) -> str:
    """Return the readable table: one row per reference."""
    rows = [_row(reading) for reading in result.measurements["readings"]]
    widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in [COLUMNS, *rows]
    ]
    lines.append(f"\nThreshold: {result.measurements['threshold_s']:g} s.")
    return "\n".join(lines)


def _row(reading: dict[str, Any]) -> tuple[str, ...]:
    offset_s, rtt_s = reading["offset_s"], reading["rtt_s"]
    return (
        reading["source"],
        reading["reference"],
        "-" if offset_s is None else f"{offset_s:+.3f} s",
        _clock_is(reading),
        "-" if rtt_s is None else f"{rtt_s * 1000:.1f}",
        reading["error"] or _note(reading),
    )


def _clock_is(reading: dict[str, Any]) -> str:
    if reading["offset_s"] is None:
        return "-"
    span = span_text(abs(reading["offset_s"]))
    bound = "at least " if reading["detail"].get("lower_bound") else ""
    return f"{bound}{span} {reading['direction']}"


def _note(reading: dict[str, Any]) -> str:
    detail = reading["detail"]
    if reading["source"] == "http":
        return f"Date: {detail['date']} (one-second resolution)"
    if reading["source"] == "apt":
        stated = detail["stated"]
        if detail["kind"] == "expired":
            return f"expired {stated} ago (or the mirror is stale)"
        return f"not valid yet for {stated}"
    return f"stratum {detail.get('stratum')}"
