"""Past diagnosis sessions in a table; Enter opens one as a report."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

from netcase.tui.screens.report import ReportScreen
from netcase.tui.widgets.diag_service import diagnosis_service, notify_failure

if TYPE_CHECKING:
    from netcase.kb.service import KnowledgeBase
    from netcase.store import SessionRow

HISTORY_LIMIT = 200
COLUMNS = ("#", "When (UTC)", "Status", "Case", "Actions", "Top cause")
CASE_WIDTH = 22
ACTION_STATES = ("applied", "rejected", "proposed")


def _short(text: str, width: int = CASE_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def actions_cell(actions: list[dict[str, Any]]) -> str:
    """Count the session's actions by status, such as ``1 applied, 1 proposed``."""
    states = [action.get("status", "proposed") for action in actions]
    counts = [
        f"{states.count(state)} {state}" for state in ACTION_STATES if state in states
    ]
    return ", ".join(counts) or "-"


def history_cells(row: SessionRow) -> tuple[str, ...]:
    """Return one session as the table's cells."""
    top = row.causes[0]["case"] if row.causes else "-"
    return (
        str(row.id),
        f"{row.started:%m-%d %H:%M}",
        row.status,
        _short(row.case_id or "standard probes"),
        actions_cell(row.actions),
        _short(top),
    )


class HistoryScreen(Screen[None]):
    """Lists the diagnosis sessions, newest first.

    Args:
        kb: The open knowledge base, whose database holds the sessions.
    """

    DEFAULT_CSS = """
    HistoryScreen #history-heading {
        padding: 0 1;
        background: $boost;
        text-style: bold;
    }
    HistoryScreen #history {
        height: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f5", "reload", "Reload"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | escape | Go back to the search. |
    | f5 | Read the sessions again. |
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        super().__init__()
        self.kb = kb

    def compose(self) -> ComposeResult:
        yield Static("Reading the sessions…", id="history-heading", markup=False)
        table: DataTable[str] = DataTable(
            id="history", cursor_type="row", zebra_stripes=True
        )
        table.add_columns(*COLUMNS)
        yield table
        yield Footer()

    @property
    def table(self) -> DataTable[str]:
        """The table of sessions."""
        return self.query_one(DataTable)

    def on_screen_resume(self) -> None:
        """Read the sessions each time the screen shows, so new marks appear."""
        self.action_reload()

    def action_reload(self) -> None:
        """Read the sessions again off the event loop."""
        self.run_worker(
            self._load(), name="read history", exclusive=True, exit_on_error=False
        )

    async def _load(self) -> None:
        rows = await asyncio.to_thread(self._read_rows)
        table = self.table
        selected = table.cursor_row
        table.clear()
        for row in rows:
            table.add_row(*history_cells(row), key=str(row.id))
        table.move_cursor(row=min(selected, max(0, len(rows) - 1)))
        heading = (
            f"{len(rows)} diagnosis sessions, newest first. Enter opens the report."
            if rows
            else "No diagnosis yet: F4 on the search screen starts one."
        )
        self.query_one("#history-heading", Static).update(heading)
        table.focus()

    def _read_rows(self) -> list[SessionRow]:
        return diagnosis_service(self.app, self.kb).sessions.history(HISTORY_LIMIT)

    @on(DataTable.RowSelected, "#history")
    def _open_report(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.push_screen(ReportScreen(self.kb, int(event.row_key.value)))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn a failed read into an error notification."""
        if event.state == WorkerState.ERROR:
            notify_failure(self, event.worker.error)
