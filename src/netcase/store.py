"""The SQL catalog: tables and the engine that holds them."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Field, SQLModel, create_engine

from netcase.errors import ConfigError

log = logging.getLogger(__name__)


class CaseFileRow(SQLModel, table=True):
    """One case file of one case folder, as last read.

    A file that failed to parse keeps its row, with ``problems`` filled and
    ``case_id`` empty, so that an unchanged broken file is not read again.
    """

    __tablename__ = "case_file"

    root: str = Field(primary_key=True)
    """The case folder, as an absolute path."""
    path: str = Field(primary_key=True)
    """The file, relative to ``root``."""
    sha256: str
    """The hex digest of the file's bytes when it was read."""
    size: int = 0
    """The file's size in bytes when it was last looked at."""
    mtime_ns: int = 0
    """The file's modification time when it was last looked at."""
    id_line: int = 1
    """The line of the case's ``id`` key, for pointing at a duplicate."""
    case_id: str | None = Field(default=None, index=True)
    """The case's id, or None when the file did not parse."""
    updated: str = ""
    """The case's ``updated`` date (ISO), for listing newest first."""
    document: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    """The parsed case (front matter and sections)."""
    problems: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    """What is wrong with the file: ``{"line": int, "message": str}`` each."""


SESSION_COLUMNS_ADDED = {
    "owner": "VARCHAR NOT NULL DEFAULT ''",
    "verifies": "INTEGER",
}
"""Columns added to the session table since its first layout, with their SQL type."""


class SessionRow(SQLModel, table=True):
    """One diagnosis, written as it goes so that a crash loses nothing measured."""

    __tablename__ = "diagnosis_session"

    id: int | None = Field(default=None, primary_key=True)
    started: datetime
    """When the diagnosis began (time-zone aware)."""
    finished: datetime | None = None
    """When it ended; None while it runs or if it was killed."""
    status: str = "running"
    """``running``, ``finished`` or ``interrupted``."""
    site: str = ""
    """The site profile's name."""
    case_id: str | None = None
    """The case whose playbook ran, or None for the standard probes."""
    symptom: str = ""
    """What the engineer typed."""
    inputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    """The playbook inputs, as filled in."""
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    """Every finding of every step."""
    causes: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    """The ranked causes with their evidence."""
    ruled_out: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    """Statements of what was ruled out and why."""
    actions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    """The action cards, with their status and verification."""
    notes: str = ""
    """The engineer's notes."""
    owner: str = ""
    """``host:pid:start`` of the process running the diagnosis, to tell one killed."""
    verifies: int | None = None
    """For a re-run of an applied action's checks: the session it verifies."""


class StepRow(SQLModel, table=True):
    """One finished step of a diagnosis, with the probe's raw result."""

    __tablename__ = "session_step"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="diagnosis_session.id", index=True)
    position: int
    """The step's place in the playbook (0-based)."""
    step_id: str
    kind: str
    """``probe`` or ``manual``."""
    status: str
    """``done``, ``skipped`` or ``failed``."""
    started: datetime
    duration_s: float = 0.0
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    """The probe's JSON result, as ``netcase probe ... --json`` prints it."""
    error: str = ""


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # The wait comes first: switching to WAL needs a moment of sole access,
    # which another netcase opening the same file may hold.
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _drop_outdated_catalog(engine: Engine) -> None:
    """Drop a case-file table of an older layout; it is rebuilt from the case files.

    Only the catalog is dropped: sessions are records and are never thrown away.
    """
    table = CaseFileRow.__tablename__
    if not inspect(engine).has_table(table):
        return
    if set(CaseFileRow.model_fields) - _columns(engine, table):
        log.info("catalog table of an older layout; rebuilding it from the case files")
        CaseFileRow.__table__.drop(engine)  # type: ignore[attr-defined]


def _add_session_columns(engine: Engine) -> None:
    """Add the session columns an older netcase did not have, keeping every row."""
    table = SessionRow.__tablename__
    if not inspect(engine).has_table(table):
        return
    for name in SESSION_COLUMNS_ADDED.keys() - _columns(engine, table):
        log.info("adding column %s to the session table", name)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    f"ALTER TABLE {table} "
                    f"ADD COLUMN {name} {SESSION_COLUMNS_ADDED[name]}"
                )
        except OperationalError:
            # Another netcase added it between the look and the change.
            if name not in _columns(engine, table):
                raise


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def _create_tables(engine: Engine) -> None:
    """Create missing tables; a second netcase creating them at once is no error."""
    _drop_outdated_catalog(engine)
    try:
        SQLModel.metadata.create_all(engine)
    except OperationalError:
        # Both processes saw no table, and the other one created it first.
        SQLModel.metadata.create_all(engine)
    _add_session_columns(engine)


def make_engine(url: str) -> Engine:
    """Create the catalog's engine and its tables.

    Raises:
        ConfigError: When the URL cannot be used or the database not reached.
    """
    is_sqlite = url.startswith("sqlite")
    connect_args = {"check_same_thread": False} if is_sqlite else {}
    try:
        engine = create_engine(url, connect_args=connect_args)
    except Exception as exc:  # SQLAlchemy raises several unrelated types here.
        raise ConfigError(f"Cannot use the database URL {url!r}: {exc}.") from exc

    if is_sqlite:
        event.listen(engine, "connect", _enable_sqlite_pragmas)
    try:
        _create_tables(engine)
    except Exception as exc:
        raise ConfigError(
            f"Cannot open the database {engine.url.render_as_string()!r}: {exc}. "
            "Check NETCASE_DATABASE_URL or NETCASE_HOME."
        ) from exc
    log.debug("catalog opened at %s", engine.url.render_as_string())
    return engine
