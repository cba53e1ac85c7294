"""`netcase probe dns`: options and readable output of the dns probe."""

from __future__ import annotations

import argparse
from typing import Any

from netcase.cli.probecmd import ProbeCannotRun
from netcase.site import Site


def add_parser(probes: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Declare the probe's options."""
    probes.add_parser("dns", parents=parents, help="dns probe (not built yet)")


def run(args: argparse.Namespace, site: Site) -> Any:
    """Run the probe from parsed arguments."""
    raise ProbeCannotRun("The dns probe is not built yet.")


def render(result: Any) -> str:
    """Return the readable table of a result."""
    return str(result)
