"""The dialog of a manual step: what to ask the person, then Continue or Skip."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

if TYPE_CHECKING:
    from netcase.diagnose.playbook import Step


class ManualStepDialog(ModalScreen[bool | None]):
    """Shows a manual step's instruction in both languages until it is answered.

    Dismisses with True when the step was done, False when it was skipped, and
    None when the engineer stops the whole diagnosis.

    Args:
        step: The manual step of the playbook.
    """

    DEFAULT_CSS = """
    ManualStepDialog {
        align: center middle;
        background: $background 60%;
    }
    ManualStepDialog > #manual-box {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    ManualStepDialog #manual-title {
        text-style: bold;
        color: $text-accent;
    }
    ManualStepDialog #manual-text {
        margin: 1 0;
    }
    ManualStepDialog #manual-buttons {
        height: auto;
        align-horizontal: center;
    }
    ManualStepDialog #manual-buttons > Button {
        margin: 0 1;
    }
    ManualStepDialog #manual-keys {
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "answer(False)", "Skip", show=False),
        Binding("escape", "stop", "Stop the diagnosis", show=False),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | s | Skip the step: it was not done. |
    | escape | Stop the whole diagnosis; what was measured is kept. |
    """

    def __init__(self, step: Step) -> None:
        super().__init__()
        self.step = step

    def compose(self) -> ComposeResult:
        with Vertical(id="manual-box"):
            yield Static(
                Text(f"Manual step {self.step.id} / 人工步骤"), id="manual-title"
            )
            yield Static(
                Text(f"{self.step.text}\n\n{self.step.text_zh}"), id="manual-text"
            )
            with Horizontal(id="manual-buttons"):
                yield Button("Continue / 继续", variant="primary", id="continue")
                yield Button("Skip / 跳过", id="skip")
            yield Static(
                "Enter: continue (done) · s: skip · Esc: stop the diagnosis",
                id="manual-keys",
                markup=False,
            )

    def on_mount(self) -> None:
        """Put the keys on Continue, so Enter answers that the step was done."""
        self.query_one("#continue", Button).focus()

    @on(Button.Pressed, "#continue")
    def _continue(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#skip")
    def _skip(self) -> None:
        self.dismiss(False)

    def action_answer(self, done: bool) -> None:
        """Answer the step: True when it was done, False when skipped."""
        self.dismiss(done)

    def action_stop(self) -> None:
        """Close the dialog and stop the diagnosis."""
        self.dismiss(None)
