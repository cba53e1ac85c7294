"""The knowledge-base commands: search, show, kb check, kb reindex, kb draft."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from netcase.config import resolve_kb_dir, resolve_paths
from netcase.diagnose.checks import load_playbooks
from netcase.kb.catalog import FileProblem, check_folder
from netcase.kb.search import SearchHit
from netcase.kb.service import KnowledgeBase
from netcase.wording import counted

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
SKIPPED_SHOWN = 3
"""Skipped case files named on stderr before the rest are only counted."""


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Declare the knowledge-base commands."""
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
        "--limit", type=positive_int, default=10, metavar="N", help="at most N results"
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
    draft = kb_commands.add_parser(
        "draft", parents=[common], help="write a new case file from a session"
    )
    draft.add_argument("session", type=int, metavar="SESSION")


def run(args: argparse.Namespace) -> int:
    """Run one knowledge-base command."""
    if args.command == "kb" and args.kb_command == "check":
        return _kb_check(Path(args.dir) if args.dir else resolve_kb_dir(args.kb))

    kb = KnowledgeBase(resolve_paths(args.kb))
    report = kb.open()
    warn_skipped(report.problems)
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


def warn_skipped(problems: Sequence[FileProblem], what: str = "") -> None:
    """Tell on stderr which case files were skipped: a few, then how many more."""
    ordered = sorted(problems, key=_by_place)
    for problem in ordered[:SKIPPED_SHOWN]:
        print(f"netcase: skipped {what}{problem}", file=sys.stderr)
    if len(ordered) > SKIPPED_SHOWN:
        files = len({problem.path for problem in ordered})
        print(
            f"netcase: … and {counted(len(ordered) - SKIPPED_SHOWN, 'more problem')} "
            f"({counted(files, 'file')} in all); `netcase kb check` lists them.",
            file=sys.stderr,
        )


def _kb_check(folder: Path) -> int:
    if not folder.is_dir():
        print(f"netcase: {str(folder)!r} is not a folder.", file=sys.stderr)
        return EXIT_USAGE
    cases, problems = check_folder(folder)
    _playbooks, playbook_problems = load_playbooks(cases)
    problems = sorted([*problems, *playbook_problems], key=_by_place)
    for problem in problems:
        print(problem)
    files = len({problem.path for problem in problems})
    summary = (
        f"{counted(len(cases), 'case')} read, {counted(len(problems), 'problem')} "
        f"in {counted(files, 'file')} of {folder}."
    )
    print(summary, file=sys.stderr)
    return EXIT_PROBLEMS if problems else EXIT_OK


def _by_place(problem: FileProblem) -> tuple[str, int]:
    return str(problem.path), problem.line


def positive_int(value: str) -> int:
    """Parse a whole number above zero for argparse."""
    number = int(value) if value.isdigit() else 0
    if number < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number above 0, not {value!r}"
        )
    return number
