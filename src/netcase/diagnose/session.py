"""Diagnosis sessions in the catalog database, written step by step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from netcase.errors import NetcaseError
from netcase.store import SessionRow, StepRow


class SessionNotFoundError(NetcaseError):
    """A session number that is not in the database."""

    title = "No such session"


def now() -> datetime:
    """Return the current time, time-zone aware as the tables require."""
    return datetime.now(UTC)


class SessionStore:
    """Reads and writes diagnosis sessions; every call commits at once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(
        self, site: str, case_id: str | None, symptom: str, inputs: dict[str, Any]
    ) -> int:
        """Create a running session and return its number."""
        row = SessionRow(
            started=now(), site=site, case_id=case_id, symptom=symptom, inputs=inputs
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
            row.notes = notes
            db.add(row)
            db.commit()

    def history(self, limit: int = 50) -> list[SessionRow]:
        """Return the newest sessions first."""
        # TODO: no owner process is recorded - a session whose process was killed
        # stays "running" in the history for good.
        with Session(self.engine) as db:
            query = select(SessionRow).order_by(col(SessionRow.id).desc()).limit(limit)
            return list(db.exec(query))

    def load(self, session_id: int) -> tuple[SessionRow, list[StepRow]]:
        """Return a session and its steps in order.

        Raises:
            SessionNotFoundError: When there is no such session.
        """
        with Session(self.engine) as db:
            row = self._row(db, session_id)
            steps = db.exec(
                select(StepRow)
                .where(StepRow.session_id == session_id)
                .order_by(col(StepRow.position))
            )
            return row, list(steps)

    def _row(self, db: Session, session_id: int) -> SessionRow:
        row = db.get(SessionRow, session_id)
        if row is None:
            raise SessionNotFoundError(
                f"No session {session_id}; `netcase history` lists them."
            )
        return row
