"""Diagnosis sessions in the catalog database, written step by step."""

from __future__ import annotations

import os
import re
import socket
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from netcase.errors import NetcaseError
from netcase.store import SessionRow, StepRow

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""C0 and C1 control characters, but tab (09) and line feed (0a)."""


class SessionNotFoundError(NetcaseError):
    """A session number that is not in the database."""

    title = "No such session"


def now() -> datetime:
    """Return the current time, time-zone aware as the tables require."""
    return datetime.now(UTC)


def printable(text: str) -> str:
    """Drop control characters but line breaks and tabs from text to be shown.

    Notes end up in terminals and tickets: an escape sequence pasted in
    (colours, a bell, a title change) would act there instead of reading.
    """
    return CONTROL_CHARS.sub("", text.replace("\r\n", "\n"))


def process_owner(pid: int | None = None) -> str:
    """Return ``host:pid:start`` naming a process, by default this one."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_process_start(pid)}"


def owner_alive(owner: str) -> bool | None:
    """Tell whether the process an owner string names still runs.

    Returns:
        True or False for a process of this machine; None when it cannot be
        told (another machine sharing the database, an older session, or a
        system without a safe way to ask).
    """
    host, _, rest = owner.partition(":")
    pid_text, _, start = rest.partition(":")
    # TODO: only processes of this machine, outside Windows, are checked - a
    # diagnosis killed elsewhere stays "running" in the history.
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    if sys.platform == "win32":
        # os.kill(pid, 0) sends Ctrl+C there instead of asking.
        return None
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # It runs, as another user.
    # A recycled process number has another start time.
    return not start or _process_start(pid) == start


def _process_start(pid: int) -> str:
    """Return the process's start time in clock ticks since boot, or "" if unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return ""
    # proc(5): starttime is field 22; the split begins at field 3.
    return fields[19] if len(fields) > 19 else ""


class SessionStore:
    """Reads and writes diagnosis sessions; every call commits at once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(
        self,
        site: str,
        case_id: str | None,
        symptom: str,
        inputs: dict[str, Any],
        verifies: int | None = None,
    ) -> int:
        """Create a running session and return its number.

        ``verifies`` names the session whose applied action this one checks.
        """
        row = SessionRow(
            started=now(),
            site=site,
            case_id=case_id,
            symptom=symptom,
            inputs=inputs,
            owner=process_owner(),
            verifies=verifies,
        )
        with Session(self.engine) as db:
            db.add(row)
            db.commit()
            db.refresh(row)
            assert row.id is not None
            return row.id

    def record_step(self, session_id: int, step: StepRow) -> None:
        """Save one finished step and append its findings to the session."""
        findings = list((step.result or {}).get("findings", []))
        with Session(self.engine) as db:
            step.session_id = session_id
            db.add(step)
            row = self._row(db, session_id)
            row.findings = [*row.findings, *findings]
            db.add(row)
            db.commit()

    def finish(
        self,
        session_id: int,
        findings: list[dict[str, Any]],
        causes: list[dict[str, Any]],
        ruled_out: list[str],
        actions: list[dict[str, Any]],
    ) -> None:
        """Save the conclusions and mark the session finished."""
        with Session(self.engine) as db:
            row = self._row(db, session_id)
            row.findings, row.causes, row.ruled_out, row.actions = (
                findings,
                causes,
                ruled_out,
                actions,
            )
            row.status, row.finished = "finished", now()
            db.add(row)
            db.commit()

    def interrupt(self, session_id: int) -> None:
        """Mark a session that stopped before its end."""
        with Session(self.engine) as db:
            row = self._row(db, session_id)
            row.status, row.finished = "interrupted", now()
            db.add(row)
            db.commit()

    def update_action(
        self, session_id: int, action_id: str, **changes: Any
    ) -> dict[str, Any]:
        """Change one action card (status, verification) and return it.

        Raises:
            SessionNotFoundError: When the session or the action is unknown.
        """
        with Session(self.engine) as db:
            row = self._row(db, session_id)
            cards = [dict(card) for card in row.actions]
            card = next((c for c in cards if c["id"] == action_id), None)
            if card is None:
                raise SessionNotFoundError(
                    f"Session {session_id} has no action {action_id!r}."
                )
            card.update(changes)
            row.actions = cards
            db.add(row)
            db.commit()
            return card

    def set_notes(self, session_id: int, notes: str) -> None:
        """Replace the engineer's notes of a session."""
        with Session(self.engine) as db:
            row = self._row(db, session_id)
            row.notes = printable(notes)
            db.add(row)
            db.commit()

    def append_notes(self, session_id: int, line: str) -> str:
        """Add a line after a session's notes and return them all."""
        with Session(self.engine) as db:
            row = self._row(db, session_id)
            line = printable(line)
            row.notes = f"{row.notes}\n{line}" if row.notes else line
            db.add(row)
            db.commit()
            return row.notes

    def history(self, limit: int = 50) -> list[SessionRow]:
        """Return the newest diagnoses first; verifications are in their cards.

        A session still marked running whose process is gone (killed, or the
        machine restarted) is marked interrupted on the way.
        """
        with Session(self.engine) as db:
            query = (
                select(SessionRow)
                .where(col(SessionRow.verifies).is_(None))
                .order_by(col(SessionRow.id).desc())
                .limit(limit)
            )
            rows = list(db.exec(query))
            for row in rows:
                self._settle_orphan(db, row)
            return rows

    def load(self, session_id: int) -> tuple[SessionRow, list[StepRow]]:
        """Return a session and its steps in order.

        Raises:
            SessionNotFoundError: When there is no such session.
        """
        with Session(self.engine) as db:
            row = self._row(db, session_id)
            self._settle_orphan(db, row)
            steps = db.exec(
                select(StepRow)
                .where(StepRow.session_id == session_id)
                .order_by(col(StepRow.position))
            )
            return row, list(steps)

    def _settle_orphan(self, db: Session, row: SessionRow) -> None:
        """Mark interrupted a running session whose process no longer runs.

        It ends when its last recorded step did, or when it began.
        """
        if row.status != "running" or owner_alive(row.owner) is not False:
            return
        last = db.exec(
            select(StepRow)
            .where(StepRow.session_id == row.id)
            .order_by(col(StepRow.started).desc())
        ).first()
        ended = row.started
        if last is not None:
            ended = last.started + timedelta(seconds=last.duration_s)
        row.status, row.finished = "interrupted", ended
        db.add(row)
        db.commit()
        db.refresh(row)

    def _row(self, db: Session, session_id: int) -> SessionRow:
        row = db.get(SessionRow, session_id)
        if row is None:
            raise SessionNotFoundError(
                f"No session {session_id}; `netcase history` lists them."
            )
        return row
