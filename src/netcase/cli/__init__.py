"""The command line: the same services as the TUI, for people and scripts."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from netcase.config import resolve_kb_dir, resolve_paths
from netcase.errors import CaseNotFoundError, NetcaseError
from netcase.kb.catalog import check_folder
from netcase.kb.search import SearchHit
from netcase.kb.service import KnowledgeBase

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_CANNOT_RUN = 0, 1, 2, 3


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

    search = commands.add_parser(
        "search", parents=[common], help="rank cases for a symptom"
    )
    search.add_argument(
        "query", nargs="+", help="symptom words, Chinese or English; tag:T filters"
    )
    search.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="T",
        help="only cases with this tag",
    )
    search.add_argument(
        "--limit", type=_positive_int, default=10, metavar="N", help="at most N results"
    )
    search.add_argument("--json", action="store_true", help="print JSON")

    show = commands.add_parser("show", parents=[common], help="print one case")
    show.add_argument("case_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="print JSON")

    kb = commands.add_parser(
        "kb", parents=[common], help="check or reindex the case folder"
    )
    kb_commands = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    check = kb_commands.add_parser(
        "check", parents=[common], help="report problems as path:line: message"
    )
    check.add_argument(
        "dir",
        nargs="?",
        metavar="DIR",
        help="folder to check (default: the case folder)",
    )
    kb_commands.add_parser(
        "reindex", parents=[common], help="rebuild the search index from the cases"
    )
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
    if args.command == "kb" and args.kb_command == "check":
        return _kb_check(Path(args.dir) if args.dir else resolve_kb_dir(args.kb))

    kb = KnowledgeBase(resolve_paths(args.kb))
    report = kb.open()
    for problem in report.problems:
        print(f"netcase: skipped {problem}", file=sys.stderr)
    if args.command == "search":
        return _search(kb, " ".join(args.query), args.tag, args.limit, args.json)
    if args.command == "show":
        return _show(kb, args.case_id, args.json)
    kb.reindex()
    print(f"Reindexed {len(report.active)} cases from {kb.paths.kb_dir}.")
    return EXIT_OK


def _search(
    kb: KnowledgeBase, query: str, tags: list[str], limit: int, as_json: bool
) -> int:
    hits = kb.search(query, tags, limit)
    if as_json:
        print(json.dumps([hit.to_json() for hit in hits], ensure_ascii=False, indent=2))
    elif not hits:
        print("No case matches.")
    else:
        print("\n".join(_hit_lines(rank, hit) for rank, hit in enumerate(hits, 1)))
    return EXIT_OK


def _hit_lines(rank: int, hit: SearchHit) -> str:
    return (
        f"{rank:>2}. {hit.id}  ({hit.score:.2f})  [{', '.join(hit.tags)}]\n"
        f"    {hit.title}\n    {hit.title_zh}\n    {hit.snippet}\n"
    )


def _show(kb: KnowledgeBase, case_id: str, as_json: bool) -> int:
    case = kb.get(case_id)
    if as_json:
        document = case.to_document()
        document.pop("id_line", None)
        document["path"] = str(kb.paths.kb_dir / f"{case.id}.md")
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        print(case.markdown)
    return EXIT_OK


def _kb_check(folder: Path) -> int:
    if not folder.is_dir():
        print(f"netcase: {str(folder)!r} is not a folder.", file=sys.stderr)
        return EXIT_USAGE
    cases, problems = check_folder(folder)
    for problem in problems:
        print(problem)
    summary = f"{len(cases)} cases ok, {len(problems)} problems in {folder}."
    print(summary, file=sys.stderr)
    return EXIT_PROBLEMS if problems else EXIT_OK


def _positive_int(value: str) -> int:
    number = int(value) if value.isdigit() else 0
    if number < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number above 0, not {value!r}"
        )
    return number
