"""Pilot tests of the history table's layout at narrow and wide terminals."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from kbfiles import copy_repo_kb
from netcase.config import resolve_paths
from netcase.diagnose.session import SessionStore
from netcase.kb.service import KnowledgeBase
from netcase.site import Site
from netcase.tui.app import NetcaseApp
from netcase.tui.screens.history import HistoryScreen

CASE = "wifi-roaming-ftp-slowdown"
TOP = "tcp-low-throughput-cached-ssthresh"


@pytest.fixture
def app(tmp_path: Path) -> NetcaseApp:
    kb = KnowledgeBase(resolve_paths(copy_repo_kb(tmp_path / "kb")))
    kb.open()
    store = SessionStore(kb.engine)
    session_id = store.start("lab", CASE, "FTP 速度慢", {})
    causes = [
        {"case": "paypal-telecom-uplink", "score": 5.0, "ruled_out": True},
        {"case": TOP, "score": 3.0},
    ]
    store.finish(session_id, [], causes, [], [])
    return NetcaseApp(kb, Site())


async def shown_rows(app: NetcaseApp, pilot: Pilot[None]) -> list[list[str]]:
    await app.workers.wait_for_complete()
    await pilot.press("f5")
    for _ in range(2):
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert isinstance(app.screen, HistoryScreen)
    table = app.screen.query_one(DataTable)
    header = [str(column.label) for column in table.columns.values()]
    return [header, *([str(c) for c in table.get_row_at(i)] for i in range(1))]


async def test_80_columns_show_the_whole_case_id_and_leave_the_top_cause_out(
    app: NetcaseApp,
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        header, row = await shown_rows(app, pilot)

        assert header[-1] == "Actions" and "Top cause" not in header
        assert row[3] == CASE
        assert app.screen.query_one(DataTable).virtual_size.width <= 80


async def test_wide_terminals_show_the_case_and_its_top_cause_not_ruled_out(
    app: NetcaseApp,
) -> None:
    async with app.run_test(size=(140, 30)) as pilot:
        header, row = await shown_rows(app, pilot)

        assert header[-1] == "Top cause"
        assert (row[3], row[-1]) == (CASE, TOP)
