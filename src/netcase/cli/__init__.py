"""The command line: the same services as the TUI, for people and scripts."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

from netcase.config import resolve_paths
from netcase.errors import CaseNotFoundError, NetcaseError

EXIT_PROBLEMS, EXIT_USAGE = 1, 2
EXIT_BROKEN_PIPE = 141
"""What a shell reports for a command ended by SIGPIPE (128 + 13)."""


def _common_options() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name.

    Their defaults are suppressed so that a value given before the command is
    not reset by the sub-command's parser; :func:`main` fills them in after.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--kb",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="case folder (default: $NETCASE_KB, ./kb, shipped cases)",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log what happens to stderr",
    )
    return common


def _top_parser(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netcase",
        description=(
            "Find past network incidents and diagnose new ones. "
            "Without a command, opens the TUI."
        ),
        parents=[common],
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """Declare every command and option."""
    from netcase.cli import diagcmd, kbcmd, probecmd

    common = _common_options()
    parser = _top_parser(common)
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
    words = list(sys.argv[1:] if argv is None else argv)
    # Opening the TUI needs no command parsers (and none of their imports).
    parser = _top_parser(_common_options()) if _opens_tui(words) else build_parser()
    args = parser.parse_args(words)
    for name, default in (("kb", None), ("verbose", False), ("command", None)):
        if not hasattr(args, name):
            setattr(args, name, default)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        code = _dispatch(args)
        # Flushed here, so that a reader gone early is met inside this try.
        sys.stdout.flush()
        return code
    except NetcaseError as exc:
        print(f"netcase: {exc.message}", file=sys.stderr)
        return EXIT_PROBLEMS if isinstance(exc, CaseNotFoundError) else EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (`| head`) has all it wanted. Point stdout at nothing so
        # that Python's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _opens_tui(words: list[str]) -> bool:
    """True when the words hold no command and no request for help."""
    after_kb = False
    for word in words:
        if word in ("-h", "--help") or (not word.startswith("-") and not after_kb):
            return False
        after_kb = word == "--kb"
    return True


def _dispatch(args: argparse.Namespace) -> int:
    if args.command is None:
        from netcase.tui.app import run_tui

        return run_tui(resolve_paths(args.kb))

    from netcase.cli import diagcmd, kbcmd, probecmd

    if args.command == "probe":
        return probecmd.run(args)
    if args.command == "findings":
        return _findings(args.json)
    if args.command in ("diagnose", "history", "report", "action", "note") or (
        args.command == "kb" and args.kb_command == "draft"
    ):
        return diagcmd.run(args)
    return kbcmd.run(args)


def _findings(as_json: bool) -> int:
    """Print every finding code with its meaning."""
    from netcase.probes.findings import FINDING_CODES

    if as_json:
        print(json.dumps(FINDING_CODES, indent=2))
        return 0
    width = max(map(len, FINDING_CODES))
    for code, meaning in FINDING_CODES.items():
        print(f"{code:<{width}}  {meaning}")
    return 0
