"""The query box: Textual's Input, so an input method composes at the caret."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input


class QueryInput(Input):
    """Takes the symptom as typed; Enter opens the highlighted case.

    Textual's own Input keeps the terminal cursor at its caret, so a Chinese
    input method shows its composition there rather than in a corner.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Open"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | enter | Submit the query, which opens the highlighted case. |
    """
