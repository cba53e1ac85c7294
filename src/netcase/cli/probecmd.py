"""The probe commands: ``netcase probe dns|latency|throughput|wifi``.

Each probe's options and table live in its own module beside this one; this
module only gathers them and turns a probe that cannot run into exit code 3.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from types import ModuleType
from typing import Any

from netcase.errors import NetcaseError
from netcase.site import load_site

EXIT_OK, EXIT_USAGE, EXIT_CANNOT_RUN = 0, 2, 3
PROBES = ("dns", "latency", "throughput", "wifi", "clock", "localtime_mount")


class ProbeCannotRun(NetcaseError):
    """The probe could not run at all (no permission and no fallback, no route)."""

    title = "Probe cannot run"


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"netcase.cli.probe_{name}")


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Declare ``netcase probe`` and one sub-command per probe."""
    probe = commands.add_parser("probe", parents=[common], help="run one live probe")
    probes = probe.add_subparsers(dest="probe", metavar="PROBE", required=True)
    site = argparse.ArgumentParser(add_help=False)
    site.add_argument(
        "--site", metavar="FILE", help="site profile (default: $NETCASE_SITE)"
    )
    site.add_argument("--json", action="store_true", help="print JSON")
    for name in PROBES:
        _module(name).add_parser(probes, [common, site])


def run(args: argparse.Namespace) -> int:
    """Run the chosen probe; exit 0 when it ran, 3 when it could not run."""
    site = load_site(args.site)
    try:
        result = _module(args.probe).run(args, site)
    except ProbeCannotRun as exc:
        print(f"netcase: {exc.message}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    print_result(result, args.json, _module(args.probe).render)
    return EXIT_OK


def print_result(result: Any, as_json: bool, render: Any) -> None:
    """Print a probe result as JSON or as the probe's readable table."""
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    print(render(result))
    if result.findings:
        print("\nFindings:")
        for finding in result.findings:
            print(f"  [{finding.severity}] {finding.code}: {finding.summary}")
