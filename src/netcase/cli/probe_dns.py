"""`netcase probe dns`: compare what internal and external resolvers answer."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from netcase.cli.probecmd import ProbeCannotRun
from netcase.errors import ConfigError
from netcase.probes.dnscompare import (
    DEFAULT_TIMEOUT_S,
    RECORD_TYPES,
    ResolversUnavailable,
    compare_dns,
)
from netcase.probes.limits import MAX_TIMEOUT_S, check_seconds
from netcase.probes.result import ProbeResult
from netcase.site import ResolverAddress, Site, parse_resolver

COLUMNS = ("NAME", "TYPE", "RESOLVER", "VIEW", "OUTCOME", "RTT MS", "ANSWER")


def add_parser(probes: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Declare the probe's options."""
    parser = probes.add_parser(
        "dns",
        parents=parents,
        help="compare internal and external DNS answers",
        description=(
            "Ask every internal and external resolver for each name at once "
            "(A and AAAA, CNAME chains followed) and say whether they agree, "
            "show a split horizon, differ, fail or rewrite unknown names."
        ),
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="names to look up (default: targets.dns_names of the site profile)",
    )
    for view in ("internal", "external"):
        parser.add_argument(
            f"--{view}",
            action="append",
            metavar="ADDR[:PORT]",
            help=f"an {view} resolver; repeat for more (replaces the site's list)",
        )
    parser.add_argument(
        "--type",
        type=str.upper,
        choices=RECORD_TYPES,
        help="ask only for this record type (default: A and AAAA)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds each resolver gets per lookup (default: {DEFAULT_TIMEOUT_S:g})",
    )


def run(args: argparse.Namespace, site: Site) -> ProbeResult:
    """Run the probe from parsed arguments; the command line overrides the site.

    Raises:
        ConfigError: For a bad resolver address, name, type or timeout.
        ProbeCannotRun: When the system resolvers are asked for but unknown.
    """
    timeout_s = check_seconds(args.timeout, "--timeout", MAX_TIMEOUT_S)
    names = args.names or list(site.targets.dns_names)
    if not names:
        raise ConfigError(
            "No name to look up; give NAME or set targets.dns_names in the site profile."
        )
    internal = _addresses(args.internal, "internal") or site.internal
    external = _addresses(args.external, "external") or site.external
    types = (args.type,) if args.type else RECORD_TYPES
    probe = compare_dns(names, internal, external, rdtypes=types, timeout_s=timeout_s)
    try:
        return asyncio.run(probe)
    except ResolversUnavailable as exc:
        raise ProbeCannotRun(exc.message) from exc


def _addresses(texts: list[str] | None, view: str) -> tuple[ResolverAddress, ...]:
    return tuple(parse_resolver(text, f"--{view} resolver") for text in texts or ())


def render(result: ProbeResult) -> str:
    """Return the readable table: one row per lookup, then the canaries."""
    rows = [_row(lookup) for lookup in result.measurements["lookups"]]
    lines = _table([COLUMNS, *rows])
    for bad in result.params.get("bad_names", []):
        lines.append(f"{bad['name']!r} not looked up: it {bad['problem']}.")
    canary = result.params["canary"]
    lines += ["", f"Random name {canary} (should not exist anywhere):"]
    lines += _table([_row(c)[2:] for c in result.measurements["canaries"]], "  ")
    return "\n".join(lines)


def _row(lookup: dict[str, Any]) -> tuple[str, ...]:
    rtt_ms = lookup["rtt_ms"]
    return (
        lookup["name"],
        lookup["type"],
        lookup["resolver"],
        lookup["role"],
        lookup["status"] + (" (tcp)" if lookup["tcp"] else ""),
        "-" if rtt_ms is None else f"{rtt_ms:.1f}",
        _answer(lookup),
    )


def _answer(lookup: dict[str, Any]) -> str:
    chain = "".join(f"{hop['name']} -> " for hop in lookup["cname_chain"])
    if chain:
        chain += f"{lookup['cname_chain'][-1]['target']}: "
    if lookup["status"] == "answer":
        answers = lookup["answers"]
        return chain + ", ".join(f"{a['address']} ({a['ttl_s']} s)" for a in answers)
    if lookup["status"] == "nodata":
        return chain + f"no {lookup['type']} record (NoAnswer)"
    if lookup["status"] == "nxdomain":
        return chain + "does not exist (NXDOMAIN)"
    return chain + str(lookup["error"])


def _table(rows: list[tuple[str, ...]], indent: str = "") -> list[str]:
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        indent
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    ]
