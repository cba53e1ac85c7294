"""The SQL catalog: tables and the engine that holds them."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import JSON, Column, event
from sqlalchemy.engine import Engine
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
    case_id: str | None = Field(default=None, index=True)
    """The case's id, or None when the file did not parse."""
    updated: str = ""
    """The case's ``updated`` date (ISO), for listing newest first."""
    document: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    """The parsed case (front matter and sections)."""
    problems: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    """What is wrong with the file: ``{"line": int, "message": str}`` each."""


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


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
        SQLModel.metadata.create_all(engine)
    except Exception as exc:
        raise ConfigError(
            f"Cannot open the database {engine.url.render_as_string()!r}: {exc}. "
            "Check NETCASE_DATABASE_URL or NETCASE_HOME."
        ) from exc
    log.debug("catalog opened at %s", engine.url.render_as_string())
    return engine
