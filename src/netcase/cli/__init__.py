"""The command line: the same services as the TUI, for people and scripts."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from netcase.cli import diagcmd, kbcmd, probecmd
from netcase.config import resolve_paths
from netcase.errors import CaseNotFoundError, NetcaseError
from netcase.probes.findings import FINDING_CODES

EXIT_PROBLEMS, EXIT_USAGE = 1, 2


def build_parser() -> argparse.ArgumentParser:
    """Declare every command and option."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--kb",
        metavar="DIR",
        help="case folder (default: $NETCASE_KB, ./kb, shipped cases)",
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", help="log what happens to stderr"
    )

    parser = argparse.ArgumentParser(
        prog="netcase",
        description=(
            "Find past network incidents and diagnose new ones. "
            "Without a command, opens the TUI."
        ),
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    kbcmd.add_parsers(commands, common)
    probecmd.add_parsers(commands, common)
    diagcmd.add_parsers(commands, common)
    findings = commands.add_parser(
        "findings", parents=[common], help="list the finding codes"
    )
    findings.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return _dispatch(args)
    except NetcaseError as exc:
        print(f"netcase: {exc.message}", file=sys.stderr)
        return EXIT_PROBLEMS if isinstance(exc, CaseNotFoundError) else EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command is None:
        from netcase.tui.app import run_tui

        return run_tui(resolve_paths(args.kb))
    if args.command == "probe":
        return probecmd.run(args)
    if args.command == "findings":
        return _findings(args.json)
    if args.command in ("diagnose", "history", "report", "action") or (
        args.command == "kb" and args.kb_command == "draft"
    ):
        return diagcmd.run(args)
    return kbcmd.run(args)


def _findings(as_json: bool) -> int:
    """Print every finding code with its meaning."""
    if as_json:
        print(json.dumps(FINDING_CODES, indent=2))
        return 0
    width = max(map(len, FINDING_CODES))
    for code, meaning in FINDING_CODES.items():
        print(f"{code:<{width}}  {meaning}")
    return 0
