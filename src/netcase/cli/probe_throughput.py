"""`netcase probe throughput`: options and readable output of the throughput probe."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import threading
from contextlib import suppress
from typing import Any

from netcase.cli.probecmd import ProbeCannotRun
from netcase.errors import ConfigError
from netcase.probes.limits import MIN_TRANSFER_S, check_seconds
from netcase.probes.registry import MAX_THROUGHPUT_SECONDS
from netcase.probes.result import ProbeResult
from netcase.probes.throughput import (
    SPEEDTEST,
    backend_of,
    is_speedtest_server,
    probe_throughput,
)
from netcase.site import Site, Uplink, parse_uplink

MAX_SECONDS = MAX_THROUGHPUT_SECONDS


def add_parser(probes: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Declare the probe's options."""
    parser = probes.add_parser(
        "throughput",
        parents=parents,
        help="measure a download rate (HTTP, FTP or speedtest), optionally "
        "before and after reconnecting Wi-Fi",
    )
    parser.add_argument(
        "target",
        nargs="?",
        metavar="URL|speedtest",
        help="http(s):// or ftp:// URL to download, or 'speedtest' "
        "(default: the site's targets.throughput)",
    )
    parser.add_argument(
        "--uplink",
        metavar="NAME[=SOURCE]",
        help="bind to this uplink's source address (a site uplink, or NAME=ADDRESS)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        metavar="S",
        help="transfer for at most S seconds per run (speedtest: each way; default 10)",
    )
    parser.add_argument(
        "--retest",
        action="store_true",
        help="measure, wait for Enter while Wi-Fi is reconnected, measure again",
    )
    parser.add_argument(
        "--server",
        metavar="URL|ID",
        help="speedtest: a speedtest mini server's URL or a speedtest.net server id",
    )
    parser.add_argument(
        "--expect-mbps",
        type=float,
        metavar="RATE",
        help="state throughput.low under this rate (default: the site threshold)",
    )


def run(args: argparse.Namespace, site: Site) -> ProbeResult:
    """Run the probe from parsed arguments."""
    target = _target(args, site)
    result = asyncio.run(
        probe_throughput(
            target,
            uplink=_uplink(args.uplink, site),
            seconds=_seconds(args.seconds),
            retest=args.retest,
            await_action=wait_for_enter,
            thresholds=site.thresholds,
            expect_mbps=_expect(args.expect_mbps),
            server=args.server,
        )
    )

    errors = [run["error"] for run in result.measurements["runs"] if run["error"]]
    if len(errors) == len(result.measurements["runs"]):
        raise ProbeCannotRun(" ".join(dict.fromkeys(errors)))
    return result


def render(result: ProbeResult) -> str:
    """Return the readable table of a result."""
    params = result.params
    via = f" from uplink {params['uplink']}" if params["uplink"] else ""
    lines = [
        f"Throughput of {params['target']}{via}, at most {params['seconds']:g} s "
        "per run",
        "",
        f"{'run':<8} {'Mbit/s':>9} {'bytes':>13} {'seconds':>8}  {'source':<15} ended",
    ]
    for run in result.measurements["runs"]:
        lines.extend(_run_lines(run))
    if "ratio" in result.measurements:
        lines.append(f"\nafter / before: x{result.measurements['ratio']:.2f}")
    return "\n".join(lines)


def _run_lines(run: dict[str, Any]) -> list[str]:
    if run["error"]:
        return [f"{run['label']:<8} error: {run['error']}"]
    lines = [
        f"{run['label']:<8} {run['mbps']:>9.2f} {run['bytes']:>13,} "
        f"{run['seconds']:>8.2f}  {run['source'] or '-':<15} {run['ended']}"
    ]
    series = " ".join(f"{mbps:.1f}" for mbps in run["per_second_mbps"])
    lines.append(f"{'':<8} per second: {series}")
    if "upload_mbps" in run:
        lines.append(f"{'':<8} upload: {run['upload_mbps']:.2f} Mbit/s")
    if run["note"]:
        lines.append(f"{'':<8} {run['note']}")
    return lines


async def wait_for_enter(prompt: str) -> None:
    """Ask on stderr and wait for Enter; go on at once when stdin is at its end."""
    print(f"{prompt}, then press Enter", file=sys.stderr, flush=True)
    if sys.stdin is None or sys.stdin.closed:
        return
    loop = asyncio.get_running_loop()
    entered = loop.create_future()

    def settle() -> None:
        if not entered.done():
            entered.set_result(None)

    def read_line() -> None:
        with suppress(OSError, ValueError):
            sys.stdin.readline()
        with suppress(RuntimeError):
            loop.call_soon_threadsafe(settle)

    # A daemon thread, so that Ctrl-C is not held up by a pending read.
    threading.Thread(target=read_line, name="wait-for-enter", daemon=True).start()
    await entered


def _target(args: argparse.Namespace, site: Site) -> str:
    target: str | None = args.target or site.targets.throughput
    if not target:
        raise ConfigError(
            "No throughput target: give a URL or 'speedtest', or set "
            "targets.throughput in the site profile."
        )
    backend = backend_of(target)
    if args.server is not None and backend != SPEEDTEST:
        raise ConfigError(
            f"--server {args.server!r} applies to 'speedtest' only, not {target!r}."
        )
    if args.server is not None and not is_speedtest_server(args.server):
        raise ConfigError(
            f"--server {args.server!r} is neither an http(s):// URL of a speedtest "
            "mini server nor a speedtest.net server id (a number)."
        )
    return target


def _uplink(text: str | None, site: Site) -> Uplink | None:
    return None if text is None else parse_uplink(text, site)


def _expect(mbps: float | None) -> float | None:
    # 0 is allowed: it turns throughput.low off.
    if mbps is not None and not 0 <= mbps < math.inf:
        raise ConfigError(
            f"--expect-mbps {mbps!r} is not a finite rate of 0 or more; give one "
            "in Mbit/s, such as 8."
        )
    return mbps


def _seconds(seconds: float) -> float:
    return check_seconds(seconds, "--seconds", MAX_SECONDS, minimum_s=MIN_TRANSFER_S)
