"""`netcase probe localtime_mount`: find /etc/localtime mounts in containers."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from netcase.cli.probecmd import ProbeCannotRun
from netcase.probes.containers import (
    DEFAULT_TIMEOUT_S,
    DockerUnavailable,
    check_localtime_mounts,
    read_inspect_file,
)
from netcase.probes.limits import MAX_TIMEOUT_S, check_seconds
from netcase.probes.result import ProbeResult
from netcase.site import Site

COLUMNS = ("CONTAINER", "PATH", "MOUNT", "SOURCE", "ACCESS")


def add_parser(probes: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Declare the probe's options."""
    parser = probes.add_parser(
        "localtime_mount",
        parents=parents,
        help="find /etc/localtime bind mounts in docker inspect output",
        description=(
            "Read 'docker inspect' output and report containers whose "
            "/etc/localtime or /etc/timezone is mounted from the host: tzdata "
            "cannot replace such a file, read-only or not."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--inspect-file",
        metavar="FILE",
        help="saved 'docker inspect' output ('-' reads pasted text from standard input)",
    )
    source.add_argument(
        "--container", metavar="NAME", help="inspect this container on the local docker"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds the local docker inspect may take (default: {DEFAULT_TIMEOUT_S:g})",
    )


def run(args: argparse.Namespace, site: Site) -> ProbeResult:
    """Run the probe from parsed arguments.

    Raises:
        ConfigError: For an unreadable or malformed file, or an unknown container.
        ProbeCannotRun: When docker is missing or its engine does not answer.
    """
    check_seconds(args.timeout, "--timeout", MAX_TIMEOUT_S)
    if args.inspect_file == "-":
        probe = check_localtime_mounts(inspect_text=sys.stdin.read())
    elif args.inspect_file is not None:
        text = read_inspect_file(args.inspect_file)
        probe = check_localtime_mounts(inspect_text=text, origin=args.inspect_file)
    else:
        probe = check_localtime_mounts(container=args.container, timeout_s=args.timeout)
    try:
        return asyncio.run(probe)
    except DockerUnavailable as exc:
        raise ProbeCannotRun(exc.message) from exc


def render(result: ProbeResult) -> str:
    """Return the readable table: one row per container and time-file mount."""
    rows = [row for item in result.measurements["containers"] for row in _rows(item)]
    table = [COLUMNS, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in table
    )


def _rows(item: dict[str, Any]) -> list[tuple[str, ...]]:
    if not item["mounts"]:
        return [(item["container"], "/etc/localtime", "none (own file)", "-", "-")]
    return [
        (
            item["container"],
            mount["destination"],
            mount["type"],
            mount["source"],
            "read-only" if mount["read_only"] else "read-write",
        )
        for mount in item["mounts"]
    ]
