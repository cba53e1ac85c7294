"""Sessions whose process died are told apart from the ones still running."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from netcase.diagnose.session import SessionStore, process_owner
from netcase.store import SessionRow, make_engine

# A child that starts a diagnosis, records one step, says so, and waits to be killed.
DIAGNOSING_CHILD = """
import sys, time
from datetime import datetime, UTC
from netcase.diagnose.session import SessionStore
from netcase.store import StepRow, make_engine

store = SessionStore(make_engine(sys.argv[1]))
session_id = store.start("lab", "paypal-telecom-uplink", "paypal", {})
step = StepRow(position=0, step_id="dns", kind="probe", status="done",
               started=datetime.now(UTC), duration_s=1.5)
store.record_step(session_id, step)
print(session_id, flush=True)
time.sleep(120)
"""


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'netcase.db'}"


def test_session_of_a_killed_process_is_listed_as_interrupted(url: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", DIAGNOSING_CHILD, url], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    session_id = int(child.stdout.readline())
    store = SessionStore(make_engine(url))
    assert store.history()[0].status == "running"

    child.kill()
    child.wait(timeout=30)
    row = store.history()[0]
    _same_row, steps = store.load(session_id)

    assert (row.id, row.status) == (session_id, "interrupted")
    assert row.finished == steps[0].started + timedelta(seconds=1.5)
    assert store.load(session_id)[0].status == "interrupted"


def test_session_of_this_live_process_stays_running(url: str) -> None:
    store = SessionStore(make_engine(url))
    session_id = store.start("lab", None, "", {})

    assert store.history()[0].status == "running"
    assert store.load(session_id)[0].finished is None


def test_session_owned_on_another_machine_is_left_running(url: str) -> None:
    store = SessionStore(make_engine(url))
    session_id = store.start("lab", None, "", {})
    _set_owner(url, session_id, f"not-{socket.gethostname()}:1:1")

    assert store.history()[0].status == "running"


def test_recycled_process_number_is_not_taken_for_the_owner(url: str) -> None:
    if not Path(f"/proc/{os.getpid()}/stat").exists():
        pytest.skip("process start times are read from /proc, absent here")
    store = SessionStore(make_engine(url))
    session_id = store.start("lab", None, "", {})
    hostname, pid, _start = process_owner().split(":")
    _set_owner(url, session_id, f"{hostname}:{pid}:1")

    assert store.history()[0].status == "interrupted"


def test_older_database_gains_the_owner_column_and_keeps_its_sessions(
    url: str,
) -> None:
    engine = make_engine(url)
    session_id = SessionStore(engine).start("lab", "old-case", "old symptom", {})
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE diagnosis_session DROP COLUMN owner"))
    engine.dispose()

    rows = SessionStore(make_engine(url)).history()

    assert [(r.id, r.case_id, r.symptom) for r in rows] == [
        (session_id, "old-case", "old symptom")
    ]
    assert (rows[0].owner, rows[0].status) == ("", "running")


def _set_owner(url: str, session_id: int, owner: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(f"UPDATE {SessionRow.__tablename__} SET owner = :o WHERE id = :i"),
            {"o": owner, "i": session_id},
        )
    engine.dispose()
