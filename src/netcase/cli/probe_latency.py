"""`netcase probe latency`: ping a target through every uplink and compare them."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import Any

from netcase.cli.probecmd import ProbeCannotRun
from netcase.errors import ConfigError
from netcase.probes.latency import (
    IcmpNotPermitted,
    LatencyParams,
    measure_latency,
)
from netcase.probes.latency_target import TargetError, split_target
from netcase.probes.limits import (
    MAX_INTERVAL_S,
    MAX_TIMEOUT_S,
    MIN_INTERVAL_S,
    check_seconds,
)
from netcase.probes.result import ProbeResult
from netcase.site import Site, Uplink, parse_resolver, parse_uplink

DEFAULT_COUNT, DEFAULT_INTERVAL_S, DEFAULT_TIMEOUT_S = 10, 0.2, 1.0
COLUMNS = ("UPLINK", "SOURCE", "SENT", "RECV", "LOSS")
RTT_COLUMNS = ("MIN", "MEDIAN", "MEAN", "P95", "MAX", "STDEV")
RTT_KEYS = ("min_ms", "median_ms", "mean_ms", "p95_ms", "max_ms", "stdev_ms")


def add_parser(probes: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Declare the probe's options."""
    parser = probes.add_parser(
        "latency",
        parents=parents,
        help="compare latency and loss through each uplink",
        description=(
            "Ping one target through every uplink at once, each from its own "
            "source address, and name the lossy, slow, down and best uplinks. "
            "Without permission for ICMP, TCP connect time is measured instead."
        ),
    )
    parser.add_argument(
        "target",
        nargs="?",
        metavar="TARGET",
        help="an address, a host name or an https:// URL "
        "(default: targets.latency of the site profile)",
    )
    parser.add_argument(
        "--uplink",
        action="append",
        metavar="NAME=SOURCE",
        help="an uplink and the source address to send from, or the NAME of "
        "one in the site profile; repeat for more (default: the site's uplinks)",
    )
    _add_timing_options(parser)
    _add_method_options(parser)


def _add_timing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--count",
        type=int,
        default=DEFAULT_COUNT,
        metavar="N",
        help=f"probes per uplink (default: {DEFAULT_COUNT})",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL_S,
        metavar="S",
        help=f"seconds between probes (default: {DEFAULT_INTERVAL_S:g})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds each probe waits for its reply (default: {DEFAULT_TIMEOUT_S:g})",
    )


def _add_method_options(parser: argparse.ArgumentParser) -> None:
    method = parser.add_mutually_exclusive_group()
    method.add_argument(
        "--tcp",
        type=int,
        metavar="PORT",
        help="time TCP connects to PORT instead of pinging",
    )
    method.add_argument(
        "--icmp",
        action="store_true",
        help="ICMP only: fail instead of falling back to TCP connect time",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="also time a TCP + TLS handshake per uplink (on for https:// targets)",
    )
    parser.add_argument(
        "--tls-no-verify",
        action="store_true",
        help="time the TLS handshake without checking the server's certificate",
    )
    parser.add_argument(
        "--resolver",
        action="append",
        metavar="ADDR[:PORT]",
        help="resolve a host name TARGET here (default: the site's internal resolvers)",
    )


def run(args: argparse.Namespace, site: Site) -> ProbeResult:
    """Run the probe from parsed arguments; the command line overrides the site.

    Raises:
        ConfigError: For a bad target, uplink, count, interval or timeout.
        ProbeCannotRun: When the target cannot be resolved, ICMP was required
            and is not permitted, or no uplink could be probed at all.
    """
    params = _params(args, site)
    try:
        result = asyncio.run(measure_latency(params))
    except (TargetError, IcmpNotPermitted) as exc:
        raise ProbeCannotRun(exc.message) from exc
    uplinks = result.measurements["uplinks"]
    if all(uplink["error"] for uplink in uplinks):
        reasons = " ".join(uplink["error"] for uplink in uplinks)
        raise ProbeCannotRun(f"No uplink could be probed. {reasons}")
    return result


def _params(args: argparse.Namespace, site: Site) -> LatencyParams:
    target = args.target or site.targets.latency
    if not target:
        raise ConfigError(
            "No target to probe; give TARGET or set targets.latency in the site profile."
        )
    _, https_port = split_target(target)
    tcp_port = _tcp_port(args.tcp)
    resolvers = tuple(parse_resolver(r, "--resolver") for r in args.resolver or ())
    return LatencyParams(
        target=target,
        uplinks=_uplinks(args.uplink, site),
        count=args.count,
        interval_s=check_seconds(
            args.interval, "--interval", MAX_INTERVAL_S, minimum_s=MIN_INTERVAL_S
        ),
        timeout_s=check_seconds(args.timeout, "--timeout", MAX_TIMEOUT_S),
        method="tcp" if tcp_port else "icmp" if args.icmp else "auto",
        tcp_port=tcp_port or https_port or site.targets.tcp_port,
        tls=True if args.tls else None,
        tls_verify=not args.tls_no_verify,
        resolvers=resolvers or site.internal,
        thresholds=site.thresholds,
    )


def _tcp_port(port: int | None) -> int | None:
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"--tcp {port} is not a TCP port; give one from 1 to 65535.")
    return port


def _uplinks(given: Sequence[str] | None, site: Site) -> tuple[Uplink, ...]:
    if not given:
        return site.uplinks
    return tuple(parse_uplink(text, site) for text in given)


def render(result: ProbeResult) -> str:
    """Return the readable table of a result."""
    measured = result.measurements
    lines = [_heading(result), ""]
    lines.extend(_table(_rows(measured["uplinks"])))
    handshakes = [u for u in measured["uplinks"] if u["handshake"]]
    if handshakes:
        lines.extend(["", "TCP + TLS handshake:"])
        lines.extend(_table(_handshake_rows(handshakes)))
    if measured["note"]:
        lines.extend(["", f"Note: {measured['note']}"])
    return "\n".join(lines)


def _heading(result: ProbeResult) -> str:
    measured = result.measurements
    where = measured["address"]
    if measured["host"] != where:
        where = f"{measured['host']} ({where})"
    how = "ICMP echo"
    if measured["method"] == "tcp":
        how = f"TCP connect to port {measured['tcp_port']}"
    count = result.params["count"]
    return f"Latency to {where} by {how}, {count} probes per uplink (RTT in ms)"


def _rows(uplinks: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [COLUMNS + RTT_COLUMNS]
    for uplink in uplinks:
        source = uplink["source_used"] or uplink["source"] or "-"
        if uplink["error"]:
            rows.append((uplink["name"], source, "error: " + uplink["error"]))
            continue
        counts = (str(uplink["sent"]), str(uplink["received"]))
        loss = f"{uplink['loss_pct']:g}%"
        rtt = uplink["rtt"] or {}
        times = tuple(_ms(rtt.get(key)) for key in RTT_KEYS)
        rows.append((uplink["name"], source, *counts, loss, *times))
    return rows


def _handshake_rows(uplinks: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [("UPLINK", "PORT", "SNI", "CONNECT", "TLS", "")]
    for uplink in uplinks:
        timing = uplink["handshake"]
        rows.append(
            (
                uplink["name"],
                str(timing["port"]),
                timing["server_name"] or "-",
                _ms(timing["connect_ms"]),
                _ms(timing["tls_ms"]),
                timing["error"] or ("" if timing["verified"] else "(not verified)"),
            )
        )
    return rows


def _ms(value_ms: float | None) -> str:
    return "-" if value_ms is None else f"{value_ms:.2f}"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    full = [row for row in rows if len(row) == len(rows[0])]
    widths = [max(len(row[i]) for row in full) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        if len(row) < len(widths):
            lines.append("  ".join((*_pad(row[:-1], widths), row[-1])))
            continue
        lines.append("  ".join(_pad(row, widths)).rstrip())
    return lines


def _pad(cells: Sequence[str], widths: list[int]) -> list[str]:
    return [cell.ljust(width) for cell, width in zip(cells, widths, strict=False)]
