"""One case on a screen of its own, for reading it whole."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer

from netcase.tui.screens.diagnose import DiagnoseScreen
from netcase.tui.widgets.case_view import CaseView

if TYPE_CHECKING:
    from netcase.kb.service import KnowledgeBase


class CaseScreen(Screen[None]):
    """Shows one case as Markdown until Escape goes back.

    Args:
        kb: The knowledge base holding the case.
        case_id: The case to show.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("d", "diagnose", "Diagnose"),
        Binding("f3", "app.probes", "Probes"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | escape | Go back to the screen this case was opened from. |
    | d | Run this case's playbook on a diagnosis screen. |
    | f3 | Open the probe screen (the App's key, shown in this footer). |
    """

    def __init__(self, kb: KnowledgeBase, case_id: str, symptom: str = "") -> None:
        super().__init__()
        self.kb = kb
        self.case_id = case_id
        self.symptom = symptom
        """What was typed on the search screen, handed on to a diagnosis."""

    def compose(self) -> ComposeResult:
        yield CaseView(self.kb, placeholder=f"Reading `{self.case_id}`…", id="case")
        yield Footer()

    def on_mount(self) -> None:
        """Read the case and give its view the keys, so arrows scroll it."""
        view = self.query_one(CaseView)
        view.show(self.case_id)
        view.focus()

    def action_diagnose(self) -> None:
        """Open the diagnosis screen for this case, with the typed symptom."""
        self.app.push_screen(DiagnoseScreen(self.kb, self.case_id, self.symptom))
