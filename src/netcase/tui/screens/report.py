"""One diagnosis session as its Markdown report, with keys to note and to draft a case."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Markdown, Static, TextArea
from textual.worker import Worker, WorkerState

from netcase.tui.widgets.diag_service import diagnosis_service, notify_failure

if TYPE_CHECKING:
    from pathlib import Path

    from netcase.diagnose.session import SessionStore
    from netcase.kb.service import KnowledgeBase


class NotesDialog(ModalScreen[str | None]):
    """Edits the notes of a session; dismisses with the text, or None to keep them.

    Args:
        session_id: The session whose notes these are.
        notes: The notes as saved.
    """

    DEFAULT_CSS = """
    NotesDialog {
        align: center middle;
        background: $background 60%;
    }
    NotesDialog > #notes-box {
        width: 76;
        max-width: 100%;
        height: 16;
        max-height: 100%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    NotesDialog #notes-text {
        height: 1fr;
    }
    NotesDialog #notes-buttons {
        height: auto;
        align-horizontal: center;
    }
    NotesDialog #notes-buttons > Button {
        margin: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | ctrl+s | Save the notes and close. |
    | escape | Close without saving. |
    """

    def __init__(self, session_id: int, notes: str) -> None:
        super().__init__()
        self.session_id = session_id
        self.notes = notes

    def compose(self) -> ComposeResult:
        with Vertical(id="notes-box"):
            yield Static(f"Notes of session {self.session_id} / 备注", markup=False)
            yield TextArea(self.notes, id="notes-text")
            with Horizontal(id="notes-buttons"):
                yield Button("Save  (ctrl+s)", variant="primary", id="notes-save")
                yield Button("Cancel  (esc)", id="notes-cancel")

    def on_mount(self) -> None:
        """Put the cursor at the end of the notes, ready to add a line."""
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    @on(Button.Pressed, "#notes-save")
    def action_save(self) -> None:
        """Close with the edited notes."""
        self.dismiss(self.query_one(TextArea).text)

    @on(Button.Pressed, "#notes-cancel")
    def action_cancel(self) -> None:
        """Close, keeping the notes as they were."""
        self.dismiss(None)


class ReportScreen(Screen[None]):
    """Shows a session as the Markdown report that `netcase report` prints.

    Args:
        kb: The open knowledge base, whose database holds the session.
        session_id: The session to show.
    """

    DEFAULT_CSS = """
    ReportScreen #report-scroll {
        height: 1fr;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("c", "copy_report", "Copy report"),
        Binding("d", "draft_case", "Draft case"),
        Binding("e", "edit_notes", "Notes"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | escape | Go back to the history. |
    | c | Copy the Markdown report to the clipboard, for a ticket. |
    | d | Write a new case file into the knowledge base from this session. |
    | e | Edit the engineer's notes of the session. |
    """

    def __init__(self, kb: KnowledgeBase, session_id: int) -> None:
        super().__init__()
        self.kb = kb
        self.session_id = session_id
        self.markdown_text = ""
        """The report as Markdown, once read."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="report-scroll"):
            yield Markdown(f"*Reading session {self.session_id}…*", id="report")
        yield Footer()

    def on_mount(self) -> None:
        """Read the session off the event loop, then show it."""
        self.query_one("#report-scroll").focus()
        self.run_worker(self._load(), name="read report", exit_on_error=False)

    async def _load(self) -> None:
        self.markdown_text = await asyncio.to_thread(self._read_report)
        await self.query_one(Markdown).update(self.markdown_text)

    def _read_report(self) -> str:
        from netcase.diagnose.report import markdown_report

        service = diagnosis_service(self.app, self.kb)
        row, steps = service.sessions.load(self.session_id)
        return markdown_report(row, steps, service.site.router)

    def action_copy_report(self) -> None:
        """Copy the report's Markdown to the clipboard."""
        if self.markdown_text:
            self.app.copy_to_clipboard(self.markdown_text)
            self.notify(f"Copied the report of session {self.session_id}.")

    def action_edit_notes(self) -> None:
        """Open the session's notes in a dialog; save them when the engineer does."""
        self.run_worker(
            self._edit_notes(), name="edit notes", exclusive=True, exit_on_error=False
        )

    async def _edit_notes(self) -> None:
        store = await asyncio.to_thread(self._sessions)
        row, _steps = await asyncio.to_thread(store.load, self.session_id)
        edited = await self.app.push_screen(
            NotesDialog(self.session_id, row.notes), wait_for_dismiss=True
        )
        if edited is None or edited == row.notes:
            return
        await asyncio.to_thread(store.set_notes, self.session_id, edited)
        await self._load()
        self.notify(f"Saved the notes of session {self.session_id}.")

    def _sessions(self) -> SessionStore:
        return diagnosis_service(self.app, self.kb).sessions

    def action_draft_case(self) -> None:
        """Draft a case file from the session, off the event loop."""
        self.run_worker(
            self._draft(), name="draft case", exclusive=True, exit_on_error=False
        )

    async def _draft(self) -> None:
        path = await asyncio.to_thread(self._write_draft)
        self.notify(
            f"Wrote {path}; edit it, then run `netcase kb check`. "
            "It is searchable once netcase starts again.",
            title="Case drafted",
            timeout=15,
            markup=False,
        )

    def _write_draft(self) -> Path:
        from netcase.diagnose.report import draft_case

        row, _steps = diagnosis_service(self.app, self.kb).sessions.load(
            self.session_id
        )
        return draft_case(row, self.kb.paths.kb_dir)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn a failed read or draft into an error notification."""
        if event.state == WorkerState.ERROR:
            notify_failure(self, event.worker.error)
