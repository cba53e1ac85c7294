"""The diagnosis commands: diagnose, history, report, action, note, and kb draft."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from netcase.cli.kbcmd import warn_skipped
from netcase.config import resolve_paths
from netcase.diagnose.engine import Diagnosis, StepEvent
from netcase.diagnose.playbook import Step
from netcase.diagnose.report import (
    draft_case,
    markdown_report,
    session_json,
    top_cause,
    verification_text,
)
from netcase.diagnose.service import DiagnosisService
from netcase.errors import ConfigError
from netcase.kb.service import KnowledgeBase
from netcase.site import load_site
from netcase.wording import counted

EXIT_OK = 0
HISTORY_MIN_WIDTH = 60
"""Narrower terminals get lines this wide, wrapped: the columns stay readable."""
HISTORY_CASE_WIDTH = 32
"""The case column's width when the terminal has room for it."""
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""Signals that end a diagnosis as Ctrl+C does: its session is kept as interrupted."""

T = TypeVar("T")


class Stopped(Exception):
    """A diagnosis ended by a signal other than Ctrl+C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Declare the diagnosis commands."""
    site = argparse.ArgumentParser(add_help=False)
    site.add_argument(
        "--site", metavar="FILE", help="site profile (default: $NETCASE_SITE)"
    )

    diagnose = commands.add_parser(
        "diagnose", parents=[common, site], help="run a case's playbook and rank causes"
    )
    diagnose.add_argument(
        "--case",
        metavar="ID",
        help="the case whose playbook runs (default: the standard probes)",
    )
    diagnose.add_argument(
        "--symptom",
        default="",
        metavar="TEXT",
        help="what the user reports; ranks cases too",
    )
    diagnose.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fill a playbook input",
    )
    diagnose.add_argument(
        "--yes",
        action="store_true",
        help="answer every manual step 'done' after printing it",
    )
    diagnose.add_argument("--json", action="store_true", help="print JSON")

    history = commands.add_parser(
        "history", parents=[common], help="list past diagnoses"
    )
    history.add_argument("--limit", type=int, default=20, metavar="N")
    history.add_argument("--json", action="store_true", help="print JSON")

    report = commands.add_parser(
        "report", parents=[common, site], help="print a diagnosis for a ticket"
    )
    report.add_argument("session", type=int, metavar="SESSION")
    report.add_argument("--format", choices=("md", "json"), default="md")

    action = commands.add_parser(
        "action",
        parents=[common, site],
        help="mark an action applied or rejected, or verify it",
    )
    action.add_argument("session", type=int, metavar="SESSION")
    action.add_argument("action_id", metavar="ACTION")
    action.add_argument("state", choices=("applied", "rejected", "verify"))
    action.add_argument("--yes", action="store_true", help="answer manual steps 'done'")
    action.add_argument("--json", action="store_true", help="print the action as JSON")

    note = commands.add_parser(
        "note", parents=[common], help="write the engineer's notes of a diagnosis"
    )
    note.add_argument("session", type=int, metavar="SESSION")
    note.add_argument("text", nargs="?", default="", metavar="TEXT")
    note.add_argument(
        "--append", action="store_true", help="add TEXT as a line after the notes"
    )
    note.add_argument(
        "--clear", action="store_true", help="remove the notes (TEXT left out)"
    )
    # The command dispatcher sends only the commands it lists to this module;


def run(args: argparse.Namespace) -> int:
    """Run one diagnosis command."""
    kb = KnowledgeBase(resolve_paths(args.kb))
    kb.open()
    service = DiagnosisService(kb, load_site(getattr(args, "site", None)))
    if args.command == "diagnose":
        return _diagnose(service, args)
    if args.command == "history":
        return _history(service, args.limit, args.json)
    if args.command == "note":
        return _note(service, args.session, args.text, args.append, args.clear)
    if args.command == "report":
        row, steps = service.sessions.load(args.session)
        if args.format == "json":
            print(json.dumps(session_json(row, steps), ensure_ascii=False, indent=2))
        else:
            print(markdown_report(row, steps, service.site.router), end="")
        return EXIT_OK
    if args.command == "action":
        return _action(service, args)
    row, _steps = service.sessions.load(args.session)
    print(
        f"Wrote {draft_case(row, kb.paths.kb_dir)}; edit it, then run `netcase kb check`."
    )
    return EXIT_OK


def _note(
    service: DiagnosisService, session_id: int, text: str, append: bool, clear: bool
) -> int:
    """Replace a session's notes, add a line to them, or clear them.

    Raises:
        ConfigError: For an empty text without --clear, or a text with it.
    """
    if clear and (text or append):
        raise ConfigError(
            "--clear removes the notes; give it without TEXT or --append."
        )
    if not clear and not text.strip():
        raise ConfigError(
            f"The note {text!r} is empty; write the text, or pass --clear to "
            "remove the notes."
        )
    if append:
        notes = service.sessions.append_notes(session_id, text)
    else:
        notes = text
        service.sessions.set_notes(session_id, notes)
    lines = counted(len(notes.splitlines()), "line")
    print(f"Session {session_id} has {lines} of notes.")
    return EXIT_OK


def _diagnose(service: DiagnosisService, args: argparse.Namespace) -> int:
    given = dict(_key_value(item) for item in args.set)
    warn_skipped(service.prepare(), "playbook ")
    ask = _ask_yes if args.yes else _ask_terminal
    listener = None if args.json else _print_event
    started: list[int] = []
    try:
        diagnosis = _run_stoppable(
            service.diagnose(
                args.case, args.symptom, given, ask, listener, started.append
            )
        )
    except (KeyboardInterrupt, Stopped) as exc:
        return _stopped(started, exc)
    if args.json:
        print(json.dumps(diagnosis.to_json(), ensure_ascii=False, indent=2))
    else:
        print(_diagnosis_text(diagnosis, service.site.router))
    return EXIT_OK


def _run_stoppable(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to its end, or until Ctrl+C, SIGTERM or SIGHUP cancels it.

    Raises:
        KeyboardInterrupt: On Ctrl+C.
        Stopped: On SIGTERM or SIGHUP.
    """
    return asyncio.run(_stoppable(work))


async def _stoppable(work: Coroutine[Any, Any, T]) -> T:
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    received: list[int] = []

    def stop(signum: int) -> None:
        received.append(signum)
        if task is not None:
            task.cancel()

    installed = []
    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, stop, signum)
        except (NotImplementedError, RuntimeError):
            continue  # Windows has no loop signal handlers.
        installed.append(signum)
    try:
        return await work
    except asyncio.CancelledError:
        if received:
            raise Stopped(received[0]) from None
        raise
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _stopped(started: list[int], reason: BaseException) -> int:
    """Say which session a stopped diagnosis left; return the shell's exit code."""
    signum = reason.signum if isinstance(reason, Stopped) else signal.SIGINT
    kept = (
        f"; session {started[0]} is kept as interrupted with the steps measured"
        if started
        else ""
    )
    print(
        f"\nnetcase: stopped by {signal.Signals(signum).name}{kept}.", file=sys.stderr
    )
    return 128 + int(signum)


def _key_value(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set takes KEY=VALUE, not {item!r}.")
    return key.strip(), value


def _manual_text(step: Step) -> str:
    return f"\n>>> Manual step {step.id}:\n    {step.text}\n    {step.text_zh}\n"


async def _ask_yes(step: Step) -> bool:
    print(_manual_text(step) + "    (--yes: answered done)", file=sys.stderr)
    return True


async def _ask_terminal(step: Step) -> bool:
    print(
        _manual_text(step) + "    Press Enter when done, or type s and Enter to skip: ",
        end="",
        file=sys.stderr,
    )
    line = await _stdin_line()
    if not line:
        print("\n    (no input: skipped)", file=sys.stderr)
        return False
    return line.strip().lower() not in ("s", "skip")


def _stdin_line() -> asyncio.Future[str]:
    """Read one line of stdin in a daemon thread ("" at its end).

    The thread is not waited for: Ctrl+C at the prompt cancels the future and
    the process exits, leaving the blocked read behind.
    """
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def deliver(text: str) -> None:
        if not line.done():
            line.set_result(text)

    def read() -> None:
        text = sys.stdin.readline()
        try:
            loop.call_soon_threadsafe(deliver, text)
        except RuntimeError:
            pass  # The diagnosis ended and its loop closed before the line came.

    threading.Thread(target=read, name="netcase-stdin", daemon=True).start()
    return line


def _print_event(event: StepEvent) -> None:
    if event.step.is_manual or event.kind == "progress":
        return
    if event.kind == "started":
        print(f"... {event.step.id} ({event.step.probe})", file=sys.stderr)
    else:
        outcome = event.payload
        detail = f": {outcome.error}" if outcome.error else ""
        print(
            f"    {event.step.id}: {outcome.status} in {outcome.duration_s:.2f} s{detail}",
            file=sys.stderr,
        )


def _diagnosis_text(diagnosis: Diagnosis, router: str) -> str:
    lines = [
        f"Session {diagnosis.session_id} ({diagnosis.case_id or 'standard probes'})",
        "",
        "Findings:",
    ]
    lines += [
        f"  [{f.severity}] {f.code}: {f.summary}" for f in diagnosis.findings
    ] or ["  none"]
    lines += ["", "Likely causes:"]
    for rank, cause in enumerate(diagnosis.causes, 1):
        mark = " (ruled out)" if cause.ruled_out else ""
        lines.append(
            f"  {rank}. {cause.case_id}{mark}  score {cause.score:.2f}  {cause.title}"
        )
        lines += [f"       for: {f.code}: {f.summary}" for f in cause.supports]
        lines += [f"       against: {f.code}: {f.summary}" for f in cause.against]
    if diagnosis.ruled_out:
        lines += ["", "Ruled out:"] + [
            f"  {statement}" for statement in diagnosis.ruled_out
        ]
    lines += ["", "Actions:"]
    for card in diagnosis.actions:
        snippet = card.snippets.get(router) or next(iter(card.snippets.values()), "")
        verify = ", ".join(card.verify) or "the diagnosis"
        lines += [
            f"  [{card.id}] {card.summary}",
            f"    why: {card.reason or '-'}",
            f"    scope: {card.scope or '-'}",
            f"    risk: {card.risk or '-'}",
            f"    rollback: {card.rollback or '-'}",
            f"    verify: re-run {verify} (netcase action {diagnosis.session_id} "
            f"{card.id} verify, once applied)",
        ]
        if card.missing:
            lines.append(f"    fill in: {', '.join(card.missing)} (a placeholder)")
        lines += ["    " + line for line in snippet.splitlines()]
        lines += [
            f"    notice: {card.notice.get('en', '')}",
            f"    通知: {card.notice.get('zh', '')}",
        ]
    if not diagnosis.actions:
        lines.append("  none proposed")
    return "\n".join(lines)


def _history(service: DiagnosisService, limit: int, as_json: bool) -> int:
    rows = service.sessions.history(limit)
    if as_json:
        print(
            json.dumps(
                [_history_item(row) for row in rows], ensure_ascii=False, indent=2
            )
        )
        return EXIT_OK
    width = shutil.get_terminal_size().columns
    for row in rows:
        print(_history_line(row, width))
    if not rows:
        print("No diagnosis yet.")
    return EXIT_OK


def _history_line(row: Any, width: int) -> str:
    """Return one past diagnosis in at most ``width`` columns (at least 60).

    The case and the top cause share what the number, time and status leave;
    a longer one is cut and ends in "…".
    """
    fixed = f"{row.id:>4}  {row.started:%Y-%m-%d %H:%M}  {row.status:<11} "
    room = max(width, HISTORY_MIN_WIDTH) - len(fixed) - len(" top: ") - 1
    case_width = min(HISTORY_CASE_WIDTH, room // 2)
    case = _cut(row.case_id or "standard", case_width)
    top = _cut(top_cause(row) or "-", room - case_width)
    return f"{fixed}{case:<{case_width}} top: {top}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _history_item(row: Any) -> dict[str, Any]:
    return {
        "session": row.id,
        "started": row.started.isoformat(),
        "status": row.status,
        "site": row.site,
        "case": row.case_id,
        "symptom": row.symptom,
        "top_cause": top_cause(row),
        "actions": [
            {"id": a["id"], "status": a.get("status", "proposed")} for a in row.actions
        ],
    }


def _action(service: DiagnosisService, args: argparse.Namespace) -> int:
    if args.state == "verify":
        ask = _ask_yes if args.yes else _ask_terminal
        try:
            card = _run_stoppable(service.verify(args.session, args.action_id, ask))
        except (KeyboardInterrupt, Stopped) as exc:
            return _stopped([], exc)
    else:
        card = service.mark_action(args.session, args.action_id, args.state)
    if args.json:
        print(json.dumps(card, ensure_ascii=False, indent=2))
    else:
        print(_action_text(args.session, card, args.state))
    return EXIT_OK


def _action_text(session_id: int, card: dict[str, Any], state: str) -> str:
    """Return one readable line about the action just marked or verified."""
    name = f"Action {card['id']} of session {session_id}"
    if state == "verify":
        return f"{name} was verified in {verification_text(card['verification'])}."
    return f"{name} is now {card.get('status', state)}."
