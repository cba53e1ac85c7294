"""Past diagnosis sessions in a table; Enter opens one as a report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

from netcase.diagnose.report import top_cause
from netcase.tui.screens.report import ReportScreen
from netcase.tui.widgets.diag_service import diagnosis_service, notify_failure

if TYPE_CHECKING:
    from netcase.kb.service import KnowledgeBase
    from netcase.store import SessionRow

HISTORY_LIMIT = 200
READ_WORKER = "read history"
COLUMNS = ("#", "When (UTC)", "Status", "Case", "Actions", "Top cause")
ACTION_STATES = ("applied", "rejected", "proposed")
WIDE_FROM = 110
"""From this many columns the top cause has a column of its own."""
OTHER_COLUMNS_WIDTH = 53
"""What the number, time, status and actions take, padding included."""
MIN_NAME_WIDTH = 12


def name_width(screen_width: int) -> int:
    """Return how wide a case id may be: one name column, or two when wide."""
    names = 2 if screen_width >= WIDE_FROM else 1
    return max(MIN_NAME_WIDTH, (screen_width - OTHER_COLUMNS_WIDTH) // names)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def actions_cell(actions: list[dict[str, Any]]) -> str:
    """Count the session's actions by status, such as ``1 applied, 1 proposed``."""
    states = [action.get("status", "proposed") for action in actions]
    counts = [
        f"{states.count(state)} {state}" for state in ACTION_STATES if state in states
    ]
    return ", ".join(counts) or "-"


def history_cells(row: SessionRow, screen_width: int) -> tuple[str, ...]:
    """Return one session as the table's cells; narrow screens drop the top cause."""
    width = name_width(screen_width)
    cells = (
        str(row.id),
        f"{row.started:%m-%d %H:%M}",
        row.status,
        _short(row.case_id or "standard probes", width),
        actions_cell(row.actions),
        _short(top_cause(row) or "-", width),
    )
    return cells if screen_width >= WIDE_FROM else cells[:-1]


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
        self._rows: list[SessionRow] | None = None

    def compose(self) -> ComposeResult:
        yield Static("Reading the sessions…", id="history-heading", markup=False)
        table: DataTable[str] = DataTable(
            id="history", cursor_type="row", zebra_stripes=True
        )
        yield table
        yield Footer()

    @property
    def table(self) -> DataTable[str]:
        """The table of sessions."""
        return self.query_one(DataTable)

    def on_resize(self) -> None:
        """Lay the table out again for the new width."""
        if self._rows is not None:
            self._lay_out(self._rows)

    def on_screen_resume(self) -> None:
        """Read the sessions each time the screen shows, so new marks appear."""
        self.action_reload()

    def action_reload(self) -> None:
        """Read the sessions again off the event loop."""
        self.run_worker(
            self._read_rows,
            name=READ_WORKER,
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _lay_out(self, rows: list[SessionRow]) -> None:
        table = self.table
        selected = table.cursor_row
        width = self.size.width
        table.clear(columns=True)
        table.add_columns(*(COLUMNS if width >= WIDE_FROM else COLUMNS[:-1]))
        for row in rows:
            table.add_row(*history_cells(row, width), key=str(row.id))
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
        """Show the sessions read, or turn a failed read into a notification."""
        if event.state == WorkerState.ERROR:
            notify_failure(self, event.worker.error)
        elif event.state == WorkerState.SUCCESS and event.worker.name == READ_WORKER:
            rows: list[SessionRow] = event.worker.result or []
            self._rows = rows
            self._lay_out(rows)
