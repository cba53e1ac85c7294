"""The case files that could not be loaded, one ``path:line: message`` each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from netcase.kb.catalog import FileProblem


class ProblemsScreen(Screen[None]):
    """Lists every problem the last sync found, as ``netcase kb check`` prints them.

    Args:
        problems: The problems to list.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | escape | Go back to the search. |
    """

    def __init__(self, problems: Sequence[FileProblem]) -> None:
        super().__init__()
        self.problems = list(problems)

    def compose(self) -> ComposeResult:
        count = len(self.problems)
        heading = (
            f"{count} problem{'s' if count != 1 else ''} in the case files; "
            "fix them and start netcase again. Every other case is loaded."
            if count
            else "Every case file loaded without a problem."
        )
        lines = "\n".join(str(problem) for problem in self.problems)
        yield Static(Text(heading, style="bold"), id="problems-heading")
        with VerticalScroll(id="problems"):
            yield Static(Text(lines))
        yield Footer()

    def on_mount(self) -> None:
        """Give the list the keys, so arrows scroll it."""
        self.query_one("#problems").focus()
